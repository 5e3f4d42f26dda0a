package dev.ballista.client;

import dev.ballista.client.errors.InvalidQueryException;
import dev.ballista.client.expr.Expr;
import dev.ballista.client.expr.Functions;
import dev.ballista.client.expr.SortKey;
import dev.ballista.proto.v1.Aggregate;
import dev.ballista.proto.v1.Distinct;
import dev.ballista.proto.v1.Drop;
import dev.ballista.proto.v1.EmptyRelation;
import dev.ballista.proto.v1.Expression;
import dev.ballista.proto.v1.FileFormat;
import dev.ballista.proto.v1.Filter;
import dev.ballista.proto.v1.GroupType;
import dev.ballista.proto.v1.GroupingSet;
import dev.ballista.proto.v1.Join;
import dev.ballista.proto.v1.JoinConstraint;
import dev.ballista.proto.v1.JoinKey;
import dev.ballista.proto.v1.Limit;
import dev.ballista.proto.v1.Project;
import dev.ballista.proto.v1.ReadFiles;
import dev.ballista.proto.v1.ReadTable;
import dev.ballista.proto.v1.Relation;
import dev.ballista.proto.v1.Rename;
import dev.ballista.proto.v1.SetOperation;
import dev.ballista.proto.v1.SetOperationType;
import dev.ballista.proto.v1.Sort;
import dev.ballista.proto.v1.Sql;
import dev.ballista.proto.v1.SubqueryAlias;
import dev.ballista.proto.v1.TableReference;
import dev.ballista.proto.v1.Values;
import dev.ballista.proto.v1.ValuesRow;
import dev.ballista.proto.v1.WithColumns;
import dev.ballista.proto.v1.WithColumnsRenamed;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;

/**
 * A logical plan under construction: an immutable builder over the spec's {@code
 * ballista.v1.Relation}.
 *
 * <p>Every method wraps the current plan in one more relation and returns a new {@code
 * DataFrame}; nothing is resolved or executed while building, so building never needs a
 * connection and never fails on unknown names (the scheduler reports those when the plan runs).
 * A {@code DataFrame} made by a {@link Session} ({@code session.table(..)}, {@code
 * session.readParquet(..)}, {@code session.sql(..)}) remembers it, so {@link #collect()}, {@link
 * #stream()}, {@link #count()}, {@link #show()} and {@link #explain()} run it there; one built
 * with the static methods ({@link #readTable}) is a plan only, which {@link Session#dataframe}
 * binds. The methods mirror the Rust client's {@code DataFrame} (same names in camelCase), and
 * the conformance suite checks that both produce the same bytes.
 */
public final class DataFrame {
  private final Relation plan;
  private final Session session;

  private DataFrame(Relation plan, Session session) {
    this.plan = plan;
    this.session = session;
  }

  /**
   * Wraps an existing spec plan (not bound to a session).
   *
   * @param plan the plan
   * @return the data frame
   */
  public static DataFrame fromPlan(Relation plan) {
    return new DataFrame(plan, null);
  }

  DataFrame bind(Session s) {
    return new DataFrame(plan, s);
  }

  /**
   * The canonical plan: what is sent to the scheduler.
   *
   * @return the {@code ballista.v1.Relation}
   */
  public Relation plan() {
    return plan;
  }

  /** @return the session that runs this plan, or null for a plan built without one */
  public Session session() {
    return session;
  }

  private DataFrame wrap(Relation.Builder node) {
    return new DataFrame(node.build(), session);
  }

  private static DataFrame leaf(Relation.Builder node) {
    return new DataFrame(node.build(), null);
  }

  // ---- leaves --------------------------------------------------------------------------------

  /**
   * Scans a table of the scheduler's catalog.
   *
   * @param table the table name, taken as it is (dots are not parsed)
   * @return the plan
   */
  public static DataFrame readTable(String table) {
    return leaf(
        Relation.newBuilder()
            .setReadTable(
                ReadTable.newBuilder().setTable(TableReference.newBuilder().setTable(table))));
  }

  /**
   * Scans files of any supported format.
   *
   * @param format the format
   * @param paths files or directories, as the executors see them
   * @param options format options
   * @return the plan
   */
  public static DataFrame readFiles(FileFormat format, List<String> paths, ReadOptions options) {
    return leaf(
        Relation.newBuilder()
            .setReadFiles(
                ReadFiles.newBuilder()
                    .setFormat(format)
                    .addAllPaths(paths)
                    .addAllOptions(options.toProto())));
  }

  /**
   * @param paths Parquet files or directories
   * @param options format options
   * @return a scan of them
   */
  public static DataFrame readParquet(List<String> paths, ReadOptions options) {
    return readFiles(FileFormat.FILE_FORMAT_PARQUET, paths, options);
  }

  /**
   * @param paths CSV files or directories
   * @param options such as {@code has_header}, {@code delimiter}
   * @return a scan of them
   */
  public static DataFrame readCsv(List<String> paths, ReadOptions options) {
    return readFiles(FileFormat.FILE_FORMAT_CSV, paths, options);
  }

  /**
   * @param paths newline-delimited JSON files or directories
   * @param options format options
   * @return a scan of them
   */
  public static DataFrame readJson(List<String> paths, ReadOptions options) {
    return readFiles(FileFormat.FILE_FORMAT_JSON, paths, options);
  }

  /**
   * A SQL query (one statement), planned by the scheduler.
   *
   * @param query the SQL text
   * @return the plan
   */
  public static DataFrame sql(String query) {
    return leaf(Relation.newBuilder().setSql(Sql.newBuilder().setQuery(query)));
  }

  /**
   * Literal rows, one expression per column in each row.
   *
   * @param rows the rows
   * @param columnNames the columns' names, or empty for {@code column1, column2, ...}
   * @return the plan
   */
  public static DataFrame values(List<List<Expr>> rows, List<String> columnNames) {
    Values.Builder v = Values.newBuilder();
    for (List<Expr> row : rows) {
      ValuesRow.Builder r = ValuesRow.newBuilder();
      for (Expr e : row) {
        r.addValues(e.toProto());
      }
      v.addRows(r);
    }
    v.addAllColumnNames(columnNames);
    return leaf(Relation.newBuilder().setValues(v));
  }

  /**
   * No input: one row without columns (as SELECT without FROM), or no rows at all.
   *
   * @param produceOneRow whether there is one row
   * @return the plan
   */
  public static DataFrame empty(boolean produceOneRow) {
    return leaf(
        Relation.newBuilder()
            .setEmpty(EmptyRelation.newBuilder().setProduceOneRow(produceOneRow)));
  }

  // ---- relations over this plan ----------------------------------------------------------------

  /**
   * Sets this node's {@code plan_id}, which columns can refer to.
   *
   * @param planId the id
   * @return the plan with its id
   */
  public DataFrame withPlanId(long planId) {
    return new DataFrame(plan.toBuilder().setPlanId(planId).build(), session);
  }

  /**
   * Keeps the rows for which {@code condition} is true.
   *
   * @param condition a Boolean expression
   * @return the filtered plan
   */
  public DataFrame filter(Expr condition) {
    return wrap(
        Relation.newBuilder()
            .setFilter(Filter.newBuilder().setInput(plan).setCondition(condition.toProto())));
  }

  /**
   * Computes {@code exprs} for each row: one output column per expression.
   *
   * @param exprs the expressions
   * @return the projection
   */
  public DataFrame select(Expr... exprs) {
    Project.Builder p = Project.newBuilder().setInput(plan);
    for (Expr e : exprs) {
      p.addExpressions(e.toProto());
    }
    return wrap(Relation.newBuilder().setProject(p));
  }

  /**
   * Keeps the named columns, in the order given.
   *
   * @param names column names
   * @return the projection
   */
  public DataFrame selectColumns(String... names) {
    return select(Arrays.stream(names).map(Functions::col).toArray(Expr[]::new));
  }

  /**
   * Adds column {@code name} computed by {@code expr}, or replaces the column of that name.
   *
   * @param name the column
   * @param expr its value
   * @return the plan with the column
   */
  public DataFrame withColumn(String name, Expr expr) {
    return withColumns(Map.of(name, expr));
  }

  /**
   * Adds or replaces several columns at once; every expression sees the input's columns, not the
   * others'. Pass a {@link java.util.LinkedHashMap} for a defined order of new columns.
   *
   * @param columns column name to value
   * @return the plan with the columns
   */
  public DataFrame withColumns(Map<String, Expr> columns) {
    WithColumns.Builder w = WithColumns.newBuilder().setInput(plan);
    for (Map.Entry<String, Expr> c : columns.entrySet()) {
      w.addColumns(c.getValue().alias(c.getKey()).toProto());
    }
    return wrap(Relation.newBuilder().setWithColumns(w));
  }

  /**
   * @param from current name
   * @param to new name
   * @return the plan with the column renamed
   */
  public DataFrame withColumnRenamed(String from, String to) {
    return withColumnsRenamed(Map.of(from, to));
  }

  /**
   * Renames several columns at once (a {@link java.util.LinkedHashMap} keeps the plan's order
   * stable).
   *
   * @param renames current name to new name
   * @return the plan with the columns renamed
   */
  public DataFrame withColumnsRenamed(Map<String, String> renames) {
    WithColumnsRenamed.Builder w = WithColumnsRenamed.newBuilder().setInput(plan);
    for (Map.Entry<String, String> r : renames.entrySet()) {
      w.addRenames(Rename.newBuilder().setFrom(r.getKey()).setTo(r.getValue()));
    }
    return wrap(Relation.newBuilder().setWithColumnsRenamed(w));
  }

  /**
   * @param columns names of columns to remove
   * @return the plan without them
   */
  public DataFrame drop(String... columns) {
    return wrap(
        Relation.newBuilder()
            .setDrop(Drop.newBuilder().setInput(plan).addAllColumns(Arrays.asList(columns))));
  }

  /**
   * Groups by {@code groupBy} and computes {@code aggregates}; an empty {@code groupBy} is a
   * global aggregate (one row).
   *
   * @param groupBy grouping expressions
   * @param aggregates aggregate expressions
   * @return the aggregate: grouping columns, then aggregates
   */
  public DataFrame aggregate(List<Expr> groupBy, List<Expr> aggregates) {
    return groupBy(groupBy.toArray(new Expr[0])).agg(aggregates.toArray(new Expr[0]));
  }

  private static List<Expression> protos(Expr... exprs) {
    List<Expression> out = new ArrayList<>();
    for (Expr e : exprs) {
      out.add(e.toProto());
    }
    return out;
  }

  /**
   * {@code GROUP BY exprs}; finish with {@link GroupedData#agg}.
   *
   * @param exprs grouping expressions
   * @return the grouping
   */
  public GroupedData groupBy(Expr... exprs) {
    return new GroupedData(this, protos(exprs), GroupType.GROUP_TYPE_UNSPECIFIED, List.of());
  }

  /**
   * @param exprs grouping expressions
   * @return {@code GROUP BY ROLLUP(exprs)}
   */
  public GroupedData rollup(Expr... exprs) {
    return new GroupedData(this, protos(exprs), GroupType.GROUP_TYPE_ROLLUP, List.of());
  }

  /**
   * @param exprs grouping expressions
   * @return {@code GROUP BY CUBE(exprs)}
   */
  public GroupedData cube(Expr... exprs) {
    return new GroupedData(this, protos(exprs), GroupType.GROUP_TYPE_CUBE, List.of());
  }

  /**
   * @param sets the grouping sets
   * @return {@code GROUP BY GROUPING SETS(sets)}
   */
  public GroupedData groupingSets(List<List<Expr>> sets) {
    List<GroupingSet> out = new ArrayList<>();
    for (List<Expr> set : sets) {
      out.add(GroupingSet.newBuilder().addAllExpressions(protos(set.toArray(new Expr[0]))).build());
    }
    return new GroupedData(this, List.of(), GroupType.GROUP_TYPE_GROUPING_SETS, out);
  }

  DataFrame aggregateNode(Aggregate.Builder a) {
    return wrap(Relation.newBuilder().setAggregate(a.setInput(plan)));
  }

  private DataFrame joinNode(
      DataFrame right,
      JoinType type,
      List<JoinKey> on,
      Expr condition,
      JoinConstraint constraint) {
    Join.Builder j =
        Join.newBuilder()
            .setLeft(plan)
            .setRight(right.plan)
            .setJoinType(type.toProto())
            .addAllOn(on)
            .setConstraint(constraint);
    if (condition != null) {
      j.setCondition(condition.toProto());
    }
    return new DataFrame(
        Relation.newBuilder().setJoin(j).build(), session != null ? session : right.session);
  }

  /**
   * Equi-join on columns: {@code leftKeys[i] = rightKeys[i]} for every {@code i}. When both sides
   * have a column of the same name, {@link #alias} them and use {@link Functions#qualifiedCol}
   * afterwards.
   *
   * @param right the other input
   * @param type the join type
   * @param leftKeys key columns of this side
   * @param rightKeys key columns of the other side
   * @return the join
   */
  public DataFrame join(DataFrame right, JoinType type, List<String> leftKeys, List<String> rightKeys) {
    if (leftKeys.size() != rightKeys.size()) {
      throw new InvalidQueryException(
          "join keys differ in number: " + leftKeys + " and " + rightKeys, null);
    }
    List<JoinKey> on = new ArrayList<>();
    for (int i = 0; i < leftKeys.size(); i++) {
      on.add(
          JoinKey.newBuilder()
              .setLeft(Functions.col(leftKeys.get(i)).toProto())
              .setRight(Functions.col(rightKeys.get(i)).toProto())
              .build());
    }
    return joinNode(right, type, on, null, JoinConstraint.JOIN_CONSTRAINT_UNSPECIFIED);
  }

  /**
   * Join on an arbitrary condition (the scheduler extracts equi-join keys from it).
   *
   * @param right the other input
   * @param type the join type
   * @param condition the join condition
   * @return the join
   */
  public DataFrame joinOn(DataFrame right, JoinType type, Expr condition) {
    return joinNode(right, type, List.of(), condition, JoinConstraint.JOIN_CONSTRAINT_UNSPECIFIED);
  }

  /**
   * {@code JOIN .. USING (columns)}: equal keys of the same name, which appear once in the output.
   *
   * @param right the other input
   * @param type the join type
   * @param columns the shared key columns
   * @return the join
   */
  public DataFrame joinUsing(DataFrame right, JoinType type, String... columns) {
    List<JoinKey> on = new ArrayList<>();
    for (String c : columns) {
      on.add(
          JoinKey.newBuilder()
              .setLeft(Functions.col(c).toProto())
              .setRight(Functions.col(c).toProto())
              .build());
    }
    return joinNode(right, type, on, null, JoinConstraint.JOIN_CONSTRAINT_USING);
  }

  /**
   * Every pair of rows (an inner join without keys or condition).
   *
   * @param right the other input
   * @return the cross join
   */
  public DataFrame crossJoin(DataFrame right) {
    return joinNode(
        right, JoinType.INNER, List.of(), null, JoinConstraint.JOIN_CONSTRAINT_UNSPECIFIED);
  }

  /**
   * Orders rows by {@code keys}, most significant first.
   *
   * @param keys sort keys ({@code col("x").asc()}, ...)
   * @return the sorted plan
   */
  public DataFrame sort(SortKey... keys) {
    Sort.Builder s = Sort.newBuilder().setInput(plan);
    for (SortKey k : keys) {
      s.addOrder(k.toProto());
    }
    return wrap(Relation.newBuilder().setSort(s));
  }

  /**
   * @param fetch at most this many rows
   * @return the first {@code fetch} rows
   */
  public DataFrame limit(long fetch) {
    return wrap(Relation.newBuilder().setLimit(Limit.newBuilder().setInput(plan).setFetch(fetch)));
  }

  /**
   * @param offset rows to skip
   * @param fetch at most this many rows after them
   * @return the rows {@code offset .. offset + fetch}
   */
  public DataFrame limit(long offset, long fetch) {
    return wrap(
        Relation.newBuilder()
            .setLimit(Limit.newBuilder().setInput(plan).setOffset(offset).setFetch(fetch)));
  }

  /**
   * @param offset rows to skip
   * @return every row after the first {@code offset}
   */
  public DataFrame offset(long offset) {
    return wrap(
        Relation.newBuilder().setLimit(Limit.newBuilder().setInput(plan).setOffset(offset)));
  }

  /** @return the plan without duplicate rows */
  public DataFrame distinct() {
    return wrap(Relation.newBuilder().setDistinct(Distinct.newBuilder().setInput(plan)));
  }

  private DataFrame setOperation(DataFrame other, SetOperationType type, boolean all, boolean byName) {
    return new DataFrame(
        Relation.newBuilder()
            .setSetOperation(
                SetOperation.newBuilder()
                    .addInputs(plan)
                    .addInputs(other.plan)
                    .setType(type)
                    .setAll(all)
                    .setByName(byName))
            .build(),
        session != null ? session : other.session);
  }

  /** @param other same columns by position @return {@code UNION} (duplicates removed) */
  public DataFrame union(DataFrame other) {
    return setOperation(other, SetOperationType.SET_OPERATION_TYPE_UNION, false, false);
  }

  /** @param other same columns by position @return {@code UNION ALL} (duplicates kept) */
  public DataFrame unionAll(DataFrame other) {
    return setOperation(other, SetOperationType.SET_OPERATION_TYPE_UNION, true, false);
  }

  /** @param other columns matched by name @return {@code UNION ALL BY NAME} */
  public DataFrame unionByName(DataFrame other) {
    return setOperation(other, SetOperationType.SET_OPERATION_TYPE_UNION, true, true);
  }

  /** @param other same columns @return {@code INTERSECT} (distinct rows in both) */
  public DataFrame intersect(DataFrame other) {
    return setOperation(other, SetOperationType.SET_OPERATION_TYPE_INTERSECT, false, false);
  }

  /** @param other same columns @return {@code INTERSECT ALL} */
  public DataFrame intersectAll(DataFrame other) {
    return setOperation(other, SetOperationType.SET_OPERATION_TYPE_INTERSECT, true, false);
  }

  /** @param other same columns @return {@code EXCEPT} (distinct rows of this not in other) */
  public DataFrame except(DataFrame other) {
    return setOperation(other, SetOperationType.SET_OPERATION_TYPE_EXCEPT, false, false);
  }

  /** @param other same columns @return {@code EXCEPT ALL} */
  public DataFrame exceptAll(DataFrame other) {
    return setOperation(other, SetOperationType.SET_OPERATION_TYPE_EXCEPT, true, false);
  }

  /**
   * Appends window function results as columns (see {@link Expr#over}); one call per window
   * specification, as DataFusion's planner groups them.
   *
   * @param exprs window function calls
   * @return the plan with the columns
   */
  public DataFrame window(Expr... exprs) {
    return wrap(
        Relation.newBuilder()
            .setWindow(
                dev.ballista.proto.v1.Window.newBuilder()
                    .setInput(plan)
                    .addAllWindowExpressions(protos(exprs))));
  }

  /**
   * Names this relation, so that its columns are qualified by {@code alias}.
   *
   * @param alias the name
   * @return the aliased plan
   */
  public DataFrame alias(String alias) {
    return wrap(
        Relation.newBuilder()
            .setSubqueryAlias(SubqueryAlias.newBuilder().setInput(plan).setAlias(alias)));
  }

  // ---- running ---------------------------------------------------------------------------------

  private Session requireSession() {
    if (session == null) {
      throw new InvalidQueryException(
          "this DataFrame was built without a session: bind it with session.dataframe(df), or start"
              + " from session.table(..), session.readParquet(..) or session.sql(..)",
          null);
    }
    return session;
  }

  /**
   * Runs the plan and streams its rows: result partitions are fetched in parallel (a few ahead)
   * and batches come in partition order. Close the reader when done.
   *
   * <p>The job's results are deleted on the executors ({@code release_job}) once the last batch
   * has been read, or when the reader is closed before that; the other ways of getting rows
   * ({@link #collect()}, {@link #collectArrow()}, {@link #count()}, {@link #show()}) read them
   * through such a reader and so release them too. Without it they would stay on the executors'
   * disks until the job's TTL (30 minutes by default).
   *
   * @return the rows, batch by batch
   */
  public ArrowReader stream() {
    return requireSession().stream(this);
  }

  /**
   * Runs the plan and returns all its rows.
   *
   * @return the rows
   */
  public List<Row> collect() {
    return requireSession().collectRows(this);
  }

  /**
   * Runs the plan and returns all its rows in one Arrow batch, allocated from the session's
   * allocator; the caller closes it.
   *
   * @return the rows
   */
  public VectorSchemaRoot collectArrow() {
    return requireSession().collectArrow(this);
  }

  /**
   * Counts the plan's rows on the cluster (the rows themselves are not fetched).
   *
   * @return the number of rows
   */
  public long count() {
    DataFrame counted = aggregate(List.of(), List.of(Functions.countAll().alias("count")));
    List<Row> rows = requireSession().collectRows(counted);
    return ((Number) rows.get(0).get(0)).longValue();
  }

  /** Prints the first 20 rows as a table on standard output. */
  public void show() {
    show(20);
  }

  /**
   * Prints the first {@code n} rows as a table on standard output.
   *
   * @param n rows to show
   */
  public void show(int n) {
    System.out.print(showString(n));
  }

  /**
   * The first {@code n} rows as a text table, as {@link #show(int)} prints it.
   *
   * @param n rows to show
   * @return the table
   */
  public String showString(int n) {
    Session s = requireSession();
    try (VectorSchemaRoot root = s.collectArrow(limit(n))) {
      return Row.table(root);
    }
  }

  /**
   * The logical, physical and distributed plans the scheduler makes of this plan, as text; the
   * plan is not run.
   *
   * @return the plans
   */
  public String explain() {
    return requireSession().explain(this);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DataFrame && ((DataFrame) o).plan.equals(plan);
  }

  @Override
  public int hashCode() {
    return plan.hashCode();
  }

  @Override
  public String toString() {
    return "DataFrame(" + plan + ")";
  }
}
