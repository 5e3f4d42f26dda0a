package dev.ballista.client.expr;

/**
 * Where window specifications start, as in Spark: {@code Window.partitionBy(col("k"))
 * .orderBy(col("t").asc())}; give one to {@link Expr#over}.
 */
public final class Window {
  private Window() {}

  /** @return an empty window: the whole input is one partition */
  public static WindowSpec empty() {
    return WindowSpec.EMPTY;
  }

  /** @param exprs partition keys @return a window {@code PARTITION BY exprs} */
  public static WindowSpec partitionBy(Expr... exprs) {
    return WindowSpec.EMPTY.partitionBy(exprs);
  }

  /** @param keys sort keys @return a window {@code ORDER BY keys} */
  public static WindowSpec orderBy(SortKey... keys) {
    return WindowSpec.EMPTY.orderBy(keys);
  }
}
