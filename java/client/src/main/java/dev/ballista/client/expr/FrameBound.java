package dev.ballista.client.expr;

import dev.ballista.proto.v1.DataType;
import dev.ballista.proto.v1.EmptyType;
import dev.ballista.proto.v1.Literal;
import dev.ballista.proto.v1.WindowFrameBound;

/** One end of a window frame: {@code UNBOUNDED PRECEDING}, {@code n PRECEDING}, ... */
public final class FrameBound {
  private final WindowFrameBound proto;

  private FrameBound(WindowFrameBound proto) {
    this.proto = proto;
  }

  // The spec writes "unbounded" as a null literal; a ROWS/GROUPS offset is an unsigned integer.
  private static Literal offset(Long n) {
    if (n == null) {
      return Literal.newBuilder()
          .setNullValue(DataType.newBuilder().setUint64(EmptyType.getDefaultInstance()))
          .build();
    }
    return Literal.newBuilder().setUint64Value(n).build();
  }

  /** @return {@code UNBOUNDED PRECEDING} */
  public static FrameBound unboundedPreceding() {
    return new FrameBound(WindowFrameBound.newBuilder().setPreceding(offset(null)).build());
  }

  /** @param n rows @return {@code n PRECEDING} */
  public static FrameBound preceding(long n) {
    return new FrameBound(WindowFrameBound.newBuilder().setPreceding(offset(n)).build());
  }

  /** @return {@code CURRENT ROW} */
  public static FrameBound currentRow() {
    return new FrameBound(
        WindowFrameBound.newBuilder().setCurrentRow(EmptyType.getDefaultInstance()).build());
  }

  /** @param n rows @return {@code n FOLLOWING} */
  public static FrameBound following(long n) {
    return new FrameBound(WindowFrameBound.newBuilder().setFollowing(offset(n)).build());
  }

  /** @return {@code UNBOUNDED FOLLOWING} */
  public static FrameBound unboundedFollowing() {
    return new FrameBound(WindowFrameBound.newBuilder().setFollowing(offset(null)).build());
  }

  WindowFrameBound toProto() {
    return proto;
  }
}
