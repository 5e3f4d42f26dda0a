package dev.ballista.spark;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ballista.client.DataFrame;
import dev.ballista.client.expr.Functions;
import dev.ballista.proto.v1.Relation;
import dev.ballista.spark.read.BallistaScan;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.datasources.v2.BatchScanExec;
import org.junit.jupiter.api.Test;
import scala.collection.JavaConverters;

/**
 * What the connector pushes into the canonical plan, what it leaves to Spark, and that the answer
 * is the same as Spark's over the Parquet files either way.
 */
class PushdownTest {
  private static String plan(Dataset<Row> df) {
    return df.queryExecution().executedPlan().toString();
  }

  /** The connector's scan in Spark's physical plan. */
  private static BallistaScan scan(Dataset<Row> df) {
    SparkPlan plan = df.queryExecution().executedPlan();
    if (plan instanceof org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanExec) {
      plan = ((org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanExec) plan).initialPlan();
    }
    List<SparkPlan> found =
        JavaConverters.seqAsJavaList(
            plan.collect(
                new scala.PartialFunction<SparkPlan, SparkPlan>() {
                  @Override
                  public boolean isDefinedAt(SparkPlan p) {
                    return p instanceof BatchScanExec;
                  }

                  @Override
                  public SparkPlan apply(SparkPlan p) {
                    return p;
                  }
                }));
    assertEquals(1, found.size(), "one ballista scan in " + plan);
    return (BallistaScan) ((BatchScanExec) found.get(0)).scan();
  }

  private static void assertSameAsParquet(
      String table, Function<Dataset<Row>, Dataset<Row>> query) {
    List<String> expected = Shared.canonical(query.apply(Shared.parquetTable(table)).collectAsList());
    List<String> actual = Shared.canonical(query.apply(Shared.ballistaTable(table)).collectAsList());
    assertFalse(expected.isEmpty(), "the query returns rows");
    assertEquals(expected, actual);
  }

  @Test
  void filtersAndColumnsArePushed() {
    Function<Dataset<Row>, Dataset<Row>> q =
        df -> df.filter("l_quantity > 45 AND l_shipmode = 'AIR' AND l_shipdate >= DATE '1995-01-01'")
            .select("l_orderkey", "l_quantity");
    Dataset<Row> df = q.apply(Shared.ballistaTable("lineitem"));
    String plan = plan(df);
    assertTrue(plan.contains("PushedFilters: ["), plan);
    assertTrue(plan.contains("l_shipmode = 'AIR'"), plan);
    assertTrue(plan.contains("l_shipdate >= "), plan);
    assertTrue(plan.contains("ReadSchema: struct<l_orderkey:bigint,l_quantity:decimal(15,2)>"), plan);
    // Nothing is left for Spark to filter.
    assertFalse(plan.contains("Filter "), plan);
    Relation pushed = scan(df).pushedPlan();
    assertTrue(pushed.hasProject() && pushed.getProject().getInput().hasFilter(), pushed.toString());
    assertSameAsParquet("lineitem", q);
  }

  @Test
  void inNullAndStringPredicatesArePushed() {
    Function<Dataset<Row>, Dataset<Row>> q =
        df -> df.filter(
                col("c_mktsegment").isin("BUILDING", "MACHINERY")
                    .and(col("c_name").startsWith("Customer#0000001"))
                    .and(col("c_comment").contains("ironic").or(col("c_phone").endsWith("1")))
                    .and(col("c_acctbal").isNotNull()))
            .select("c_custkey", "c_name", "c_acctbal");
    Dataset<Row> df = q.apply(Shared.ballistaTable("customer"));
    String plan = plan(df);
    assertTrue(plan.contains("c_mktsegment IN ("), plan);
    assertTrue(plan.contains("c_name LIKE 'Customer#0000001%'"), plan);
    assertFalse(plan.contains("Filter "), plan);
    assertSameAsParquet("customer", q);
  }

  @Test
  void unsupportedFiltersStayInSpark() {
    // Arithmetic and functions are evaluated by Spark; the plain comparison is still pushed.
    Function<Dataset<Row>, Dataset<Row>> q =
        df -> df.filter("l_quantity + 1 > 40 AND length(l_comment) > 30 AND l_linenumber = 1")
            .select("l_orderkey", "l_comment");
    Dataset<Row> df = q.apply(Shared.ballistaTable("lineitem"));
    String plan = plan(df);
    assertTrue(plan.contains("Filter "), "Spark keeps a filter: " + plan);
    assertTrue(plan.contains("l_linenumber = 1"), plan);
    assertFalse(plan.contains("PushedFilters: [" + "(l_quantity + "), plan);
    assertSameAsParquet("lineitem", q);
    // An OR with a side Ballista must not compute is not pushed at all.
    Function<Dataset<Row>, Dataset<Row>> or =
        d -> d.filter("n_regionkey = 1 OR upper(n_comment) LIKE '%FURIOUS%'").select("n_name");
    String orPlan = plan(or.apply(Shared.ballistaTable("nation")));
    assertTrue(orPlan.contains("Filter "), orPlan);
    assertSameAsParquet("nation", or);
  }

  @Test
  void limitIsPushed() {
    Dataset<Row> df = Shared.ballistaTable("orders").select("o_orderkey").limit(7);
    String plan = plan(df);
    assertTrue(plan.contains("PushedLimit: 7"), plan);
    assertEquals(7, df.collectAsList().size());
    assertTrue(scan(df).pushedPlan().hasLimit());
  }

  @Test
  void topNIsPushed() {
    Function<Dataset<Row>, Dataset<Row>> q =
        df -> df.filter("o_orderstatus = 'F'")
            .orderBy(col("o_totalprice").desc(), col("o_orderkey").asc())
            .limit(5)
            .select("o_orderkey", "o_totalprice");
    Dataset<Row> df = q.apply(Shared.ballistaTable("orders"));
    String plan = plan(df);
    assertTrue(plan.contains("PushedTopN: ORDER BY [o_totalprice DESC NULLS LAST, o_orderkey ASC NULLS FIRST] LIMIT 5"), plan);
    List<Row> expected = q.apply(Shared.parquetTable("orders")).collectAsList();
    List<Row> actual = df.collectAsList();
    assertEquals(5, actual.size());
    // Same rows in the same order.
    assertEquals(expected.toString(), actual.toString());
  }

  @Test
  void scanOfNoColumnsStillCountsRows() {
    // Spark needs rows but no column: the plan projects a stand-in the reader drops.
    Dataset<Row> df = Shared.ballistaTable("region").select(lit(1).as("one"));
    assertTrue(plan(df).contains("ReadSchema: struct<>"), plan(df));
    assertEquals(5, df.collectAsList().size());
  }

  @Test
  void aggregatesArePushed() {
    Function<Dataset<Row>, Dataset<Row>> q =
        df -> df.filter("l_shipdate <= DATE '1998-09-02'")
            .groupBy("l_returnflag", "l_linestatus")
            .agg(
                count(lit(1)).as("n"),
                sum("l_quantity").as("sum_qty"),
                min("l_extendedprice").as("min_price"),
                max("l_discount").as("max_disc"),
                avg("l_extendedprice").as("avg_price"),
                avg("l_linenumber").as("avg_line"));
    Dataset<Row> df = q.apply(Shared.ballistaTable("lineitem"));
    String plan = plan(df);
    assertTrue(plan.contains("PushedAggregation: ["), plan);
    assertTrue(plan.contains("PushedGroupBy: [l_returnflag, l_linestatus]"), plan);
    assertTrue(scan(df).pushedPlan().hasAggregate(), scan(df).pushedPlan().toString());
    assertSameAsParquet("lineitem", q);
    // A global count.
    assertEquals(
        Shared.parquetTable("orders").count(), Shared.ballistaTable("orders").count());
  }

  @Test
  void planOptionTakesAClientPlan() {
    Relation plan =
        DataFrame.readTable("nation")
            .filter(Functions.col("n_regionkey").eq(Functions.lit(3L)))
            .select(Functions.col("n_name"), Functions.col("n_nationkey"))
            .plan();
    Dataset<Row> df =
        Shared.spark()
            .read()
            .format("ballista")
            .option("url", Shared.url())
            .option("plan", Base64.getEncoder().encodeToString(plan.toByteArray()))
            .load();
    List<String> expected =
        Shared.canonical(
            Shared.parquetTable("nation").filter("n_regionkey = 3").select("n_name", "n_nationkey")
                .collectAsList());
    assertEquals(5, expected.size());
    assertEquals(expected, Shared.canonical(df.collectAsList()));
  }

  @Test
  void typesSparkLacksAreCastOnTheCluster() {
    Dataset<Row> df =
        Shared.spark()
            .read()
            .format("ballista")
            .option("url", Shared.url())
            .option(
                "query",
                "SELECT arrow_cast(7, 'UInt32') AS u, arrow_cast('abc', 'Utf8View') AS v,"
                    + " arrow_cast(arrow_cast('2024-01-02T03:04:05.123456789', 'Timestamp(Nanosecond, None)'),"
                    + " 'Timestamp(Nanosecond, None)') AS ts")
            .load();
    assertEquals("struct<u:bigint,v:string,ts:timestamp_ntz>", df.schema().simpleString());
    Row r = df.collectAsList().get(0);
    assertEquals(7L, r.getLong(0));
    assertEquals("abc", r.getString(1));
    assertEquals("2024-01-02T03:04:05.123456", r.get(2).toString());
  }

  @Test
  void badOptionsAndUnknownNamesGiveClearErrors() {
    Exception noUrl =
        assertThrows(
            Exception.class,
            () -> Shared.spark().read().format("ballista").option("table", "nation").load());
    assertTrue(noUrl.getMessage().contains("`url`"), noUrl.getMessage());
    Exception two =
        assertThrows(
            Exception.class,
            () -> Shared.spark().read().format("ballista").option("url", Shared.url())
                .option("table", "nation").option("query", "SELECT 1").load());
    assertTrue(two.getMessage().contains("exactly one of"), two.getMessage());
    Exception unknown =
        assertThrows(
            Exception.class,
            () -> Shared.spark().read().format("ballista").option("url", Shared.url())
                .option("table", "no_such_table").load());
    assertTrue(unknown.getMessage().contains("no_such_table"), unknown.getMessage());
    Exception badSql =
        assertThrows(
            Exception.class,
            () -> Shared.spark().read().format("ballista").option("url", Shared.url())
                .option("query", "SELEC 1").load());
    assertTrue(badSql.getMessage().toLowerCase().contains("selec"), badSql.getMessage());
    Exception unreachable =
        assertThrows(
            Exception.class,
            () -> Shared.spark().read().format("ballista").option("url", "grpc://127.0.0.1:1")
                .option("table", "nation").load());
    assertTrue(unreachable.getMessage().contains("127.0.0.1:1"), unreachable.getMessage());
    Exception badPlan =
        assertThrows(
            Exception.class,
            () -> Shared.spark().read().format("ballista").option("url", Shared.url())
                .option("plan", "%%%").load());
    assertTrue(badPlan.getMessage().contains("`plan`"), badPlan.getMessage());
  }
}
