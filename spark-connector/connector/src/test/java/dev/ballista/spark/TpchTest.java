package dev.ballista.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TPC-H SF 0.01 through the connector, on a real cluster: every table read through the connector
 * equals Spark's own Parquet reader on the same files; the 22 queries run in Spark over the
 * connector's tables equal the same queries over Parquet; and the 22 queries pushed whole to
 * Ballista with the {@code query} option equal Ballista's own answers (the Java client).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TpchTest {
  private final Map<String, Dataset<Row>> viaConnector = new HashMap<>();
  private final Map<String, Dataset<Row>> viaParquet = new HashMap<>();

  @BeforeAll
  void load() {
    for (String t : Shared.TPCH_TABLES) {
      viaConnector.put(t, Shared.ballistaTable(t));
      viaParquet.put(t, Shared.parquetTable(t));
    }
  }

  static List<Integer> queries() {
    return java.util.stream.IntStream.rangeClosed(1, 22).boxed().toList();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {"customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"})
  void tableEqualsSparkParquetReader(String table) {
    Dataset<Row> ours = viaConnector.get(table);
    Dataset<Row> theirs = viaParquet.get(table);
    assertEquals(theirs.schema().simpleString(), ours.schema().simpleString(), "schema of " + table);
    List<String> expected = Shared.canonical(theirs.collectAsList());
    List<String> actual = Shared.canonical(ours.collectAsList());
    assertFalse(expected.isEmpty());
    assertEquals(expected.size(), actual.size(), "rows of " + table);
    assertEquals(expected, actual, "rows of " + table);
  }

  private List<String> runInSpark(int n, Map<String, Dataset<Row>> tables) {
    SparkSession spark = Shared.spark();
    tables.forEach((name, df) -> df.createOrReplaceTempView(name));
    List<Row> rows = null;
    for (String statement : Shared.tpchQuery(n)) {
      // Q15's view reads temporary views, which only a temporary view may do in Spark.
      String s = statement.replaceFirst("(?i)^create view", "create or replace temporary view");
      Dataset<Row> result = spark.sql(s);
      if (s.toLowerCase().startsWith("select")) {
        rows = result.collectAsList();
      }
    }
    return Shared.canonical(rows);
  }

  @ParameterizedTest(name = "q{0}")
  @MethodSource("queries")
  void queryInSparkOverConnectorEqualsSparkOverParquet(int n) {
    List<String> expected = runInSpark(n, viaParquet);
    List<String> actual = runInSpark(n, viaConnector);
    assertEquals(expected, actual, "TPC-H q" + n);
  }

  /** One statement for the `query` option: Q15's view becomes a common table expression. */
  static String singleStatement(int n) {
    List<String> statements = Shared.tpchQuery(n);
    if (statements.size() == 1) {
      return statements.get(0);
    }
    String view = statements.get(0);
    String select = statements.get(1);
    // create view NAME (cols) as SELECT...  ->  with NAME (cols) as (SELECT...) SELECT...
    String rest = view.replaceFirst("(?is)^create view\\s+", "");
    int as = rest.toLowerCase().indexOf(" as");
    return "with " + rest.substring(0, as) + " as (" + rest.substring(as + 3) + ") " + select;
  }

  @ParameterizedTest(name = "q{0}")
  @MethodSource("queries")
  void queryPushedToBallistaEqualsBallista(int n) {
    String sql = singleStatement(n);
    List<String> expected = Shared.canonicalClient(Shared.ballista().sql(sql).collect());
    Dataset<Row> df =
        Shared.spark().read().format("ballista").option("url", Shared.url()).option("query", sql).load();
    List<String> actual = Shared.canonical(df.collectAsList());
    assertFalse(expected.isEmpty(), "q" + n + " returns rows");
    assertEquals(expected, actual, "TPC-H q" + n + " through the query option");
  }
}
