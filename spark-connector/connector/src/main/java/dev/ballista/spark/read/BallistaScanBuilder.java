package dev.ballista.spark.read;

import static dev.ballista.client.expr.Functions.col;
import static dev.ballista.client.expr.Functions.lit;

import dev.ballista.client.DataFrame;
import dev.ballista.client.expr.Expr;
import dev.ballista.client.expr.SortKey;
import dev.ballista.spark.BallistaOptions;
import dev.ballista.spark.ClusterClient;
import dev.ballista.spark.plan.Source;
import dev.ballista.spark.plan.Translator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.NamedReference;
import org.apache.spark.sql.connector.expressions.NullOrdering;
import org.apache.spark.sql.connector.expressions.SortDirection;
import org.apache.spark.sql.connector.expressions.SortOrder;
import org.apache.spark.sql.connector.expressions.aggregate.AggregateFunc;
import org.apache.spark.sql.connector.expressions.aggregate.Aggregation;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.SupportsPushDownAggregates;
import org.apache.spark.sql.connector.read.SupportsPushDownLimit;
import org.apache.spark.sql.connector.read.SupportsPushDownRequiredColumns;
import org.apache.spark.sql.connector.read.SupportsPushDownTopN;
import org.apache.spark.sql.connector.read.SupportsPushDownV2Filters;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Collects what Spark pushes and turns it into one canonical plan over the source: {@code
 * Filter} (the predicates that translate; the rest go back to Spark), then a top-N ({@code
 * Sort} with fetch), then either {@code Aggregate} (group-by columns and
 * count/sum/avg/min/max/var/stddev, computed by Ballista) or {@code Project} (the columns Spark
 * reads), then {@code Limit}.
 */
public final class BallistaScanBuilder
    implements SupportsPushDownV2Filters,
        SupportsPushDownRequiredColumns,
        SupportsPushDownLimit,
        SupportsPushDownTopN,
        SupportsPushDownAggregates {
  /** The column read when Spark needs rows but no columns (e.g. {@code count()} kept in Spark). */
  static final String NO_COLUMNS = "__ballista_no_columns";

  private final BallistaOptions options;
  private final Source source;
  private final Translator translator;
  private final List<Predicate> pushed = new ArrayList<>();
  private final List<Expr> filters = new ArrayList<>();
  private StructType required;
  private Aggregation aggregation;
  private List<Expr> groupBy;
  private List<Expr> aggregates;
  private Integer limit;
  private SortOrder[] topNOrder;
  private List<SortKey> topNKeys;

  /**
   * @param options the validated options
   * @param source the source and its Spark schema
   */
  public BallistaScanBuilder(BallistaOptions options, Source source) {
    this.options = options;
    this.source = source;
    this.translator = new Translator(source.schema());
    this.required = source.schema();
  }

  @Override
  public Predicate[] pushPredicates(Predicate[] predicates) {
    List<Predicate> rest = new ArrayList<>();
    for (Predicate p : predicates) {
      Optional<Expr> e = translator.predicate(p);
      if (e.isPresent()) {
        pushed.add(p);
        filters.add(e.get());
      } else {
        rest.add(p);
      }
    }
    return rest.toArray(new Predicate[0]);
  }

  @Override
  public Predicate[] pushedPredicates() {
    return pushed.toArray(new Predicate[0]);
  }

  @Override
  public void pruneColumns(StructType requiredSchema) {
    List<StructField> kept = new ArrayList<>();
    for (StructField f : requiredSchema.fields()) {
      // Spark names columns of the source only; keep the source's own field (its nullability).
      for (StructField s : source.schema().fields()) {
        if (s.name().equals(f.name())) {
          kept.add(s);
          break;
        }
      }
    }
    required = new StructType(kept.toArray(new StructField[0]));
  }

  @Override
  public boolean pushLimit(int n) {
    limit = n;
    return true;
  }

  /**
   * {@code ORDER BY ... LIMIT n}: Ballista sorts and keeps the first {@code n} rows; the keys
   * must be columns.
   */
  @Override
  public boolean pushTopN(SortOrder[] orders, int n) {
    if (aggregation != null) {
      // The keys would name the aggregate's output; Spark sorts those rows itself.
      return false;
    }
    List<SortKey> keys = new ArrayList<>();
    for (SortOrder o : orders) {
      Optional<Expr> e = translator.value(o.expression());
      if (e.isEmpty() || !(o.expression() instanceof NamedReference)) {
        return false;
      }
      keys.add(
          e.get()
              .sort(
                  o.direction() == SortDirection.ASCENDING,
                  o.nullOrdering() == NullOrdering.NULLS_FIRST));
    }
    topNOrder = orders;
    topNKeys = keys;
    limit = n;
    return true;
  }

  /**
   * A limit alone is pushed fully: Ballista's limit is global (over all result partitions), so
   * Spark need not limit again. A top-N is pushed partially: Spark sorts the (at most n) rows
   * again, since the order of rows across Spark partitions is not Ballista's to promise.
   */
  @Override
  public boolean isPartiallyPushed() {
    return topNKeys != null;
  }

  private Optional<List<List<Expr>>> translate(Aggregation agg) {
    List<Expr> groups = new ArrayList<>();
    for (Expression g : agg.groupByExpressions()) {
      Optional<Expr> e = translator.value(g);
      if (e.isEmpty()) {
        return Optional.empty();
      }
      groups.add(e.get());
    }
    List<Expr> aggs = new ArrayList<>();
    AggregateFunc[] funcs = agg.aggregateExpressions();
    for (int i = 0; i < funcs.length; i++) {
      Optional<Expr> e = translator.aggregate(funcs[i]);
      if (e.isEmpty()) {
        return Optional.empty();
      }
      aggs.add(e.get().alias("agg" + i));
    }
    return Optional.of(List.of(groups, aggs));
  }

  private boolean exact(Aggregation agg) {
    return Arrays.stream(agg.aggregateExpressions()).allMatch(translator::exact);
  }

  /**
   * Ballista computes the whole aggregation (all partitions), so Spark need not merge; except
   * where the answer would differ from Spark's in the last digit (see {@link Translator#exact}),
   * where Spark then pushes a partial aggregation (SUM and COUNT for AVG) and finishes it.
   */
  @Override
  public boolean supportCompletePushDown(Aggregation agg) {
    return exact(agg) && translate(agg).isPresent();
  }

  @Override
  public boolean pushAggregation(Aggregation agg) {
    Optional<List<List<Expr>>> t = translate(agg);
    if (t.isEmpty() || !exact(agg)) {
      return false;
    }
    aggregation = agg;
    List<Expr> groups = new ArrayList<>();
    for (int i = 0; i < t.get().get(0).size(); i++) {
      groups.add(t.get().get(0).get(i).alias("group" + i));
    }
    groupBy = groups;
    aggregates = t.get().get(1);
    return true;
  }

  @Override
  public Scan build() {
    DataFrame plan = source.plan();
    if (!filters.isEmpty()) {
      Expr condition = filters.get(0);
      for (int i = 1; i < filters.size(); i++) {
        condition = condition.and(filters.get(i));
      }
      plan = plan.filter(condition);
    }
    if (topNKeys != null) {
      // Sort and limit before the projection: the keys need not be read by Spark.
      plan = plan.sort(topNKeys.toArray(new SortKey[0])).limit(limit);
    }
    StructType readSchema;
    int columns;
    if (aggregation != null) {
      plan = plan.aggregate(groupBy, aggregates);
      // The aggregate's result types are the cluster's (e.g. SUM of DECIMAL(15,2) is
      // DECIMAL(25,2) in both engines; Spark casts where they differ).
      try (ClusterClient client = new ClusterClient(options)) {
        Source aggregated = Source.of(client, plan);
        plan = aggregated.plan();
        readSchema = aggregated.schema();
      }
      columns = readSchema.size();
    } else if (required.isEmpty()) {
      plan = plan.select(lit(true).alias(NO_COLUMNS));
      readSchema = required;
      columns = 0;
    } else {
      plan = plan.select(Arrays.stream(required.fieldNames()).map(n -> col(n)).toArray(Expr[]::new));
      readSchema = required;
      columns = required.size();
    }
    if (limit != null && topNKeys == null) {
      plan = plan.limit(limit);
    }
    return new BallistaScan(options, plan, readSchema, columns, describe(readSchema));
  }

  private String describe(StructType readSchema) {
    StringBuilder s = new StringBuilder("Ballista ").append(options.describeSource());
    s.append(" PushedFilters: [")
        .append(pushed.stream().map(Object::toString).collect(Collectors.joining(", ")))
        .append("]");
    if (aggregation != null) {
      s.append(", PushedAggregation: [")
          .append(
              Arrays.stream(aggregation.aggregateExpressions())
                  .map(Object::toString)
                  .collect(Collectors.joining(", ")))
          .append("], PushedGroupBy: [")
          .append(
              Arrays.stream(aggregation.groupByExpressions())
                  .map(Object::toString)
                  .collect(Collectors.joining(", ")))
          .append("]");
    }
    if (topNOrder != null) {
      s.append(", PushedTopN: ORDER BY [")
          .append(Arrays.stream(topNOrder).map(Object::toString).collect(Collectors.joining(", ")))
          .append("] LIMIT ")
          .append(limit);
    } else if (limit != null) {
      s.append(", PushedLimit: ").append(limit);
    }
    s.append(", ReadSchema: ").append(readSchema.simpleString());
    return s.toString();
  }
}
