package dev.ballista.client;

import dev.ballista.client.expr.Expr;
import dev.ballista.proto.v1.Aggregate;
import dev.ballista.proto.v1.Expression;
import dev.ballista.proto.v1.GroupType;
import dev.ballista.proto.v1.GroupingSet;
import java.util.List;

/**
 * A grouping made by {@link DataFrame#groupBy} (or {@code rollup}, {@code cube}, {@code
 * groupingSets}); finish it with {@link #agg}.
 */
public final class GroupedData {
  private final DataFrame input;
  private final List<Expression> expressions;
  private final GroupType type;
  private final List<GroupingSet> sets;

  GroupedData(DataFrame input, List<Expression> expressions, GroupType type, List<GroupingSet> sets) {
    this.input = input;
    this.expressions = expressions;
    this.type = type;
    this.sets = sets;
  }

  /**
   * Computes {@code aggregates} for each group.
   *
   * @param aggregates aggregate expressions ({@code sum(col("x")).alias("total")}, ...)
   * @return the aggregate: the grouping columns, then the aggregates
   */
  public DataFrame agg(Expr... aggregates) {
    Aggregate.Builder a =
        Aggregate.newBuilder()
            .addAllGroupingExpressions(expressions)
            .setGroupType(type)
            .addAllGroupingSets(sets);
    for (Expr e : aggregates) {
      a.addAggregateExpressions(e.toProto());
    }
    return input.aggregateNode(a);
  }
}
