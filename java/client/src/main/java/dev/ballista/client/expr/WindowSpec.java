package dev.ballista.client.expr;

import dev.ballista.proto.v1.SortOrder;
import dev.ballista.proto.v1.WindowFrame;
import dev.ballista.proto.v1.WindowFrameUnits;
import dev.ballista.proto.v1.WindowFunction;
import dev.ballista.proto.v1.Expression;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A window specification, {@code PARTITION BY .. ORDER BY .. [frame]}, as in {@code
 * sum(col("x")).over(Window.partitionBy(col("k")).orderBy(col("t").asc()))}; start from {@link
 * Window}. Immutable.
 */
public final class WindowSpec {
  private final List<Expression> partitionBy;
  private final List<SortOrder> orderBy;
  private final WindowFrame frame;

  private WindowSpec(List<Expression> partitionBy, List<SortOrder> orderBy, WindowFrame frame) {
    this.partitionBy = partitionBy;
    this.orderBy = orderBy;
    this.frame = frame;
  }

  static final WindowSpec EMPTY = new WindowSpec(List.of(), List.of(), null);

  /** @param exprs partition keys @return this window with {@code PARTITION BY exprs} */
  public WindowSpec partitionBy(Expr... exprs) {
    return new WindowSpec(Expr.protos(exprs), orderBy, frame);
  }

  /** @param keys sort keys @return this window with {@code ORDER BY keys} */
  public WindowSpec orderBy(SortKey... keys) {
    List<SortOrder> order = new ArrayList<>();
    for (SortKey k : Arrays.asList(keys)) {
      order.add(k.toProto());
    }
    return new WindowSpec(partitionBy, order, frame);
  }

  private WindowSpec frame(WindowFrameUnits units, FrameBound start, FrameBound end) {
    WindowFrame f =
        WindowFrame.newBuilder()
            .setUnits(units)
            .setStart(start.toProto())
            .setEnd(end.toProto())
            .build();
    return new WindowSpec(partitionBy, orderBy, f);
  }

  /**
   * @param start frame start
   * @param end frame end
   * @return this window with a {@code ROWS BETWEEN start AND end} frame
   */
  public WindowSpec rowsBetween(FrameBound start, FrameBound end) {
    return frame(WindowFrameUnits.WINDOW_FRAME_UNITS_UNSPECIFIED, start, end);
  }

  /**
   * @param start frame start
   * @param end frame end
   * @return this window with a {@code RANGE BETWEEN start AND end} frame
   */
  public WindowSpec rangeBetween(FrameBound start, FrameBound end) {
    return frame(WindowFrameUnits.WINDOW_FRAME_UNITS_RANGE, start, end);
  }

  void applyTo(WindowFunction.Builder f) {
    f.clearPartitionBy().addAllPartitionBy(partitionBy);
    f.clearOrderBy().addAllOrderBy(orderBy);
    if (frame != null) {
      f.setFrame(frame);
    } else {
      f.clearFrame();
    }
  }
}
