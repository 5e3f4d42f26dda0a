package dev.ballista.client.expr;

import dev.ballista.client.DataFrame;
import dev.ballista.proto.v1.AggregateFunction;
import dev.ballista.proto.v1.Alias;
import dev.ballista.proto.v1.Between;
import dev.ballista.proto.v1.BinaryExpression;
import dev.ballista.proto.v1.BinaryOperator;
import dev.ballista.proto.v1.Cast;
import dev.ballista.proto.v1.Expression;
import dev.ballista.proto.v1.InList;
import dev.ballista.proto.v1.InSubquery;
import dev.ballista.proto.v1.Like;
import dev.ballista.proto.v1.LikeKind;
import dev.ballista.proto.v1.SortOptions;
import dev.ballista.proto.v1.SortOrder;
import dev.ballista.proto.v1.UnaryPredicate;
import dev.ballista.proto.v1.UnaryPredicateKind;
import dev.ballista.proto.v1.WindowFunction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.vector.types.pojo.ArrowType;

/**
 * A logical expression: an immutable builder over the spec's {@code ballista.v1.Expression}.
 *
 * <p>Every method returns a new expression and produces exactly the message the spec describes,
 * with names left unresolved: the scheduler resolves columns and functions, so nothing here
 * validates them. The Rust, Python and Java builders use the same names ({@code snake_case} /
 * {@code camelCase}) and emit identical bytes, which {@code integration/conformance/} checks.
 * Start from the static functions of {@link Functions} ({@code col}, {@code lit}, {@code when},
 * {@code sum}, ...).
 */
public final class Expr {
  private final Expression proto;

  private Expr(Expression proto) {
    this.proto = proto;
  }

  /**
   * Wraps a spec expression as it is.
   *
   * @param proto the message
   * @return the expression
   */
  public static Expr fromProto(Expression proto) {
    return new Expr(proto);
  }

  /**
   * The spec message.
   *
   * @return the {@code ballista.v1.Expression}
   */
  public Expression toProto() {
    return proto;
  }

  static List<Expression> protos(Iterable<Expr> exprs) {
    List<Expression> out = new ArrayList<>();
    for (Expr e : exprs) {
      out.add(e.proto);
    }
    return out;
  }

  static List<Expression> protos(Expr... exprs) {
    return protos(Arrays.asList(exprs));
  }

  private Expr binary(BinaryOperator op, Expr right) {
    return new Expr(
        Expression.newBuilder()
            .setBinary(
                BinaryExpression.newBuilder()
                    .setLeft(proto)
                    .setOp(op)
                    .setRight(right.proto))
            .build());
  }

  /**
   * Any binary operator of the spec, for those without a method of their own (regular
   * expression matches, for one).
   *
   * @param op the operator
   * @param other the right operand
   * @return {@code this op other}
   */
  public Expr binaryOp(BinaryOperator op, Expr other) {
    return binary(op, other);
  }

  /** @param other right operand @return {@code this = other} */
  public Expr eq(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_EQ, other);
  }

  /** @param other right operand @return {@code this <> other} */
  public Expr notEq(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_NOT_EQ, other);
  }

  /** @param other right operand @return {@code this < other} */
  public Expr lt(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_LT, other);
  }

  /** @param other right operand @return {@code this <= other} */
  public Expr ltEq(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_LT_EQ, other);
  }

  /** @param other right operand @return {@code this > other} */
  public Expr gt(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_GT, other);
  }

  /** @param other right operand @return {@code this >= other} */
  public Expr gtEq(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_GT_EQ, other);
  }

  /** @param other right operand @return {@code this AND other} */
  public Expr and(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_AND, other);
  }

  /** @param other right operand @return {@code this OR other} */
  public Expr or(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_OR, other);
  }

  /** @param other right operand @return {@code this IS DISTINCT FROM other} (null-safe) */
  public Expr isDistinctFrom(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_IS_DISTINCT_FROM, other);
  }

  /** @param other right operand @return {@code this IS NOT DISTINCT FROM other} (null-safe) */
  public Expr isNotDistinctFrom(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_IS_NOT_DISTINCT_FROM, other);
  }

  /** @param other right operand @return {@code this || other} (string concatenation) */
  public Expr concat(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_STRING_CONCAT, other);
  }

  /** @param other right operand @return {@code this + other} */
  public Expr plus(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_PLUS, other);
  }

  /** @param other right operand @return {@code this - other} */
  public Expr minus(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_MINUS, other);
  }

  /** @param other right operand @return {@code this * other} */
  public Expr multiply(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_MULTIPLY, other);
  }

  /** @param other right operand @return {@code this / other} (integer division truncates) */
  public Expr divide(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_DIVIDE, other);
  }

  /** @param other right operand @return {@code this % other} */
  public Expr modulo(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_MODULO, other);
  }

  /** @param other right operand @return {@code this & other} */
  public Expr bitwiseAnd(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_BITWISE_AND, other);
  }

  /** @param other right operand @return {@code this | other} */
  public Expr bitwiseOr(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_BITWISE_OR, other);
  }

  /** @param other right operand @return {@code this ^ other} */
  public Expr bitwiseXor(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_BITWISE_XOR, other);
  }

  /** @param other right operand @return {@code this << other} */
  public Expr shiftLeft(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_BITWISE_SHIFT_LEFT, other);
  }

  /** @param other right operand @return {@code this >> other} */
  public Expr shiftRight(Expr other) {
    return binary(BinaryOperator.BINARY_OPERATOR_BITWISE_SHIFT_RIGHT, other);
  }

  /** @return {@code NOT this} */
  public Expr not() {
    return new Expr(Expression.newBuilder().setNot(proto).build());
  }

  /** @return {@code -this} */
  public Expr negate() {
    return new Expr(Expression.newBuilder().setNegative(proto).build());
  }

  /**
   * Names the expression's output column.
   *
   * @param name the column name
   * @return {@code this AS name}
   */
  public Expr alias(String name) {
    return new Expr(
        Expression.newBuilder()
            .setAlias(Alias.newBuilder().setExpression(proto).setName(name))
            .build());
  }

  private Expr castTo(ArrowType to, boolean safe) {
    return new Expr(
        Expression.newBuilder()
            .setCast(
                Cast.newBuilder()
                    .setExpression(proto)
                    .setDataType(Types.toProto(to))
                    .setSafe(safe))
            .build());
  }

  /**
   * {@code CAST(this AS to)}: fails at run time on values that do not convert.
   *
   * @param to the Arrow type
   * @return the cast
   * @throws dev.ballista.client.errors.InvalidQueryException if the spec cannot express {@code to}
   */
  public Expr cast(ArrowType to) {
    return castTo(to, false);
  }

  /**
   * {@code TRY_CAST(this AS to)}: NULL for values that do not convert.
   *
   * @param to the Arrow type
   * @return the cast
   * @throws dev.ballista.client.errors.InvalidQueryException if the spec cannot express {@code to}
   */
  public Expr tryCast(ArrowType to) {
    return castTo(to, true);
  }

  private Expr unary(UnaryPredicateKind kind) {
    return new Expr(
        Expression.newBuilder()
            .setUnaryPredicate(UnaryPredicate.newBuilder().setKind(kind).setExpression(proto))
            .build());
  }

  /** @return {@code this IS NULL} */
  public Expr isNull() {
    return unary(UnaryPredicateKind.UNARY_PREDICATE_KIND_IS_NULL);
  }

  /** @return {@code this IS NOT NULL} */
  public Expr isNotNull() {
    return unary(UnaryPredicateKind.UNARY_PREDICATE_KIND_IS_NOT_NULL);
  }

  /** @return {@code this IS TRUE} */
  public Expr isTrue() {
    return unary(UnaryPredicateKind.UNARY_PREDICATE_KIND_IS_TRUE);
  }

  /** @return {@code this IS FALSE} */
  public Expr isFalse() {
    return unary(UnaryPredicateKind.UNARY_PREDICATE_KIND_IS_FALSE);
  }

  /** @return {@code this IS UNKNOWN} */
  public Expr isUnknown() {
    return unary(UnaryPredicateKind.UNARY_PREDICATE_KIND_IS_UNKNOWN);
  }

  /** @return {@code this IS NOT TRUE} */
  public Expr isNotTrue() {
    return unary(UnaryPredicateKind.UNARY_PREDICATE_KIND_IS_NOT_TRUE);
  }

  /** @return {@code this IS NOT FALSE} */
  public Expr isNotFalse() {
    return unary(UnaryPredicateKind.UNARY_PREDICATE_KIND_IS_NOT_FALSE);
  }

  /** @return {@code this IS NOT UNKNOWN} */
  public Expr isNotUnknown() {
    return unary(UnaryPredicateKind.UNARY_PREDICATE_KIND_IS_NOT_UNKNOWN);
  }

  private Expr betweenImpl(Expr low, Expr high, boolean negated) {
    return new Expr(
        Expression.newBuilder()
            .setBetween(
                Between.newBuilder()
                    .setExpression(proto)
                    .setNegated(negated)
                    .setLow(low.proto)
                    .setHigh(high.proto))
            .build());
  }

  /**
   * @param low lower bound (inclusive)
   * @param high upper bound (inclusive)
   * @return {@code this BETWEEN low AND high}
   */
  public Expr between(Expr low, Expr high) {
    return betweenImpl(low, high, false);
  }

  /**
   * @param low lower bound
   * @param high upper bound
   * @return {@code this NOT BETWEEN low AND high}
   */
  public Expr notBetween(Expr low, Expr high) {
    return betweenImpl(low, high, true);
  }

  /**
   * {@code this IN (list)}, or {@code NOT IN} when {@code negated}.
   *
   * @param list the values
   * @param negated whether it is {@code NOT IN}
   * @return the predicate
   */
  public Expr inList(List<Expr> list, boolean negated) {
    return new Expr(
        Expression.newBuilder()
            .setInList(
                InList.newBuilder()
                    .setExpression(proto)
                    .addAllList(protos(list))
                    .setNegated(negated))
            .build());
  }

  /** @param values the values @return {@code this IN (values)} */
  public Expr isIn(Expr... values) {
    return inList(Arrays.asList(values), false);
  }

  /** @param values the values @return {@code this NOT IN (values)} */
  public Expr notIn(Expr... values) {
    return inList(Arrays.asList(values), true);
  }

  private Expr likeImpl(Expr pattern, boolean negated, LikeKind kind) {
    return new Expr(
        Expression.newBuilder()
            .setLike(
                Like.newBuilder()
                    .setExpression(proto)
                    .setPattern(pattern.proto)
                    .setNegated(negated)
                    .setKind(kind))
            .build());
  }

  /** @param pattern {@code %} any string, {@code _} any character @return {@code this LIKE pattern} */
  public Expr like(Expr pattern) {
    return likeImpl(pattern, false, LikeKind.LIKE_KIND_UNSPECIFIED);
  }

  /** @param pattern the pattern @return {@code this NOT LIKE pattern} */
  public Expr notLike(Expr pattern) {
    return likeImpl(pattern, true, LikeKind.LIKE_KIND_UNSPECIFIED);
  }

  /** @param pattern the pattern @return {@code this ILIKE pattern} (case-insensitive) */
  public Expr ilike(Expr pattern) {
    return likeImpl(pattern, false, LikeKind.LIKE_KIND_ILIKE);
  }

  /** @param pattern the pattern @return {@code this NOT ILIKE pattern} */
  public Expr notIlike(Expr pattern) {
    return likeImpl(pattern, true, LikeKind.LIKE_KIND_ILIKE);
  }

  /** @param pattern a SQL regular expression @return {@code this SIMILAR TO pattern} */
  public Expr similarTo(Expr pattern) {
    return likeImpl(pattern, false, LikeKind.LIKE_KIND_SIMILAR_TO);
  }

  private Expr inSubqueryImpl(DataFrame subquery, boolean negated) {
    return new Expr(
        Expression.newBuilder()
            .setInSubquery(
                InSubquery.newBuilder()
                    .setExpression(proto)
                    .setSubquery(subquery.plan())
                    .setNegated(negated))
            .build());
  }

  /** @param subquery a one-column plan @return {@code this IN (subquery)} */
  public Expr inSubquery(DataFrame subquery) {
    return inSubqueryImpl(subquery, false);
  }

  /** @param subquery a one-column plan @return {@code this NOT IN (subquery)} */
  public Expr notInSubquery(DataFrame subquery) {
    return inSubqueryImpl(subquery, true);
  }

  /** @return a sort key on this expression: ascending, nulls last */
  public SortKey asc() {
    return sort(true, false);
  }

  /**
   * A descending sort key, nulls first (SQL's default: NULL sorts as the largest value).
   *
   * @return the sort key
   */
  public SortKey desc() {
    return sort(false, true);
  }

  /**
   * A sort key with explicit direction and null placement.
   *
   * @param ascending direction
   * @param nullsFirst null placement
   * @return the sort key
   */
  public SortKey sort(boolean ascending, boolean nullsFirst) {
    return new SortKey(
        SortOrder.newBuilder()
            .setExpression(proto)
            .setOptions(SortOptions.newBuilder().setDescending(!ascending).setNullsFirst(nullsFirst))
            .build());
  }

  private AggregateFunction aggregate(String what) {
    if (!proto.hasAggregateFunction()) {
      throw new dev.ballista.client.errors.InvalidQueryException(
          what + "() applies to an aggregate function call such as sum(..), got " + proto, null);
    }
    return proto.getAggregateFunction();
  }

  /**
   * Adds {@code FILTER (WHERE condition)} to an aggregate function call.
   *
   * @param condition the filter
   * @return the aggregate with its filter
   * @throws dev.ballista.client.errors.InvalidQueryException if this is not an aggregate call
   */
  public Expr filter(Expr condition) {
    AggregateFunction a = aggregate("filter").toBuilder().setFilter(condition.proto).build();
    return new Expr(Expression.newBuilder().setAggregateFunction(a).build());
  }

  /**
   * Adds {@code ORDER BY keys} inside an aggregate function call, for order-sensitive aggregates
   * such as {@code array_agg} or {@code first_value}.
   *
   * @param keys the sort keys
   * @return the aggregate with its ordering
   * @throws dev.ballista.client.errors.InvalidQueryException if this is not an aggregate call
   */
  public Expr orderBy(SortKey... keys) {
    AggregateFunction.Builder a = aggregate("orderBy").toBuilder().clearOrderBy();
    for (SortKey k : keys) {
      a.addOrderBy(k.toProto());
    }
    return new Expr(Expression.newBuilder().setAggregateFunction(a).build());
  }

  /**
   * Evaluates this function over a window: {@code this OVER (window)}. This must be a window
   * function ({@code rowNumber()}, {@code rank()}, ...), an aggregate ({@code sum(x)}) or a
   * function call by name.
   *
   * @param window the window specification
   * @return the window function call
   * @throws dev.ballista.client.errors.InvalidQueryException for any other expression
   */
  public Expr over(WindowSpec window) {
    WindowFunction.Builder f;
    if (proto.hasWindowFunction()) {
      f = proto.getWindowFunction().toBuilder();
    } else if (proto.hasAggregateFunction()) {
      AggregateFunction a = proto.getAggregateFunction();
      f =
          WindowFunction.newBuilder()
              .setName(a.getName())
              .addAllArguments(a.getArgumentsList())
              .setIgnoreNulls(a.getIgnoreNulls())
              .setDistinct(a.getDistinct());
    } else if (proto.hasScalarFunction()) {
      f =
          WindowFunction.newBuilder()
              .setName(proto.getScalarFunction().getName())
              .addAllArguments(proto.getScalarFunction().getArgumentsList());
    } else {
      throw new dev.ballista.client.errors.InvalidQueryException(
          "over() applies to a window, aggregate or named function call, got " + proto, null);
    }
    window.applyTo(f);
    return new Expr(Expression.newBuilder().setWindowFunction(f).build());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Expr && ((Expr) o).proto.equals(proto);
  }

  @Override
  public int hashCode() {
    return proto.hashCode();
  }

  @Override
  public String toString() {
    return proto.toString();
  }
}
