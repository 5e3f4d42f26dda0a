package dev.ballista.client.expr;

import dev.ballista.proto.v1.Expression;
import dev.ballista.proto.v1.SortOrder;

/** A sort key: an expression with direction and null placement ({@link Expr#asc()}, ...). */
public final class SortKey {
  private final SortOrder proto;

  SortKey(SortOrder proto) {
    this.proto = proto;
  }

  /** @return the same key with nulls before non-null values */
  public SortKey nullsFirst() {
    return new SortKey(
        proto.toBuilder().setOptions(proto.getOptions().toBuilder().setNullsFirst(true)).build());
  }

  /** @return the same key with nulls after non-null values */
  public SortKey nullsLast() {
    return new SortKey(
        proto.toBuilder().setOptions(proto.getOptions().toBuilder().setNullsFirst(false)).build());
  }

  /**
   * The key as an expression, for function arguments that take one (such as the ordering
   * arguments of {@code first_value}).
   *
   * @return a {@code sort_order} expression
   */
  public Expr asExpr() {
    return Expr.fromProto(Expression.newBuilder().setSortOrder(proto).build());
  }

  /** @return the spec message */
  public SortOrder toProto() {
    return proto;
  }

  @Override
  public String toString() {
    return proto.toString();
  }
}
