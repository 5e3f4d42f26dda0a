package dev.ballista.client.it;

import static dev.ballista.client.expr.Functions.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ballista.client.Ballista;
import dev.ballista.client.DataFrame;
import dev.ballista.client.JoinType;
import dev.ballista.client.Row;
import dev.ballista.client.Session;
import java.io.IOException;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The session and DataFrame API on an embedded cluster: every way of getting results ({@code
 * collect}, {@code collectArrow}, {@code stream}, {@code count}, {@code show}, {@code explain}),
 * catalog calls and DDL; answers checked against DataFusion's for the same SQL.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionApiTest {
  private Session session;
  private final RootAllocator allocator = new RootAllocator();

  @BeforeAll
  void start() {
    session = Ballista.standalone(2);
    TpchTestBase.registerTpch(session);
  }

  @AfterAll
  void stop() {
    session.close();
    allocator.close();
  }

  private List<String> reference(String sql) {
    return TestSupport.referenceRows(allocator, TestSupport.tpchData(), List.of(sql), false);
  }

  private static List<String> canonical(List<Row> rows) {
    return rows.stream()
        .map(r -> r.values().stream().map(String::valueOf).collect(Collectors.joining("|")))
        .sorted()
        .collect(Collectors.toList());
  }

  @Test
  void countAndCollect() {
    assertEquals(25, session.table("nation").count());
    DataFrame asia = session.table("nation").filter(col("n_regionkey").eq(lit(2L)));
    assertEquals(5, asia.count());
    List<Row> rows = asia.selectColumns("n_nationkey", "n_name").collect();
    assertEquals(
        reference("SELECT n_nationkey, n_name FROM nation WHERE n_regionkey = 2"),
        canonical(rows));
    assertEquals(List.of("n_nationkey", "n_name"), rows.get(0).names());
  }

  @Test
  void joinGroupBySortLimitDistinctUnion() {
    DataFrame perRegion =
        session
            .table("nation")
            .join(session.table("region"), JoinType.INNER, List.of("n_regionkey"), List.of("r_regionkey"))
            .groupBy(col("r_name"))
            .agg(countAll().alias("nations"))
            .withColumn("twice", col("nations").multiply(lit(2L)))
            .sort(col("r_name").asc())
            .limit(3);
    assertEquals(
        reference(
            "SELECT r_name, count(*) AS nations, count(*) * 2 AS twice FROM nation JOIN region ON"
                + " n_regionkey = r_regionkey GROUP BY r_name ORDER BY r_name LIMIT 3"),
        canonical(perRegion.collect()));
    DataFrame keys = session.table("nation").selectColumns("n_regionkey");
    assertEquals(5, keys.distinct().count());
    assertEquals(5, keys.union(keys).count());
    assertEquals(50, keys.unionAll(keys).count());
  }

  @Test
  void streamAndCollectArrow() throws IOException {
    DataFrame df = session.table("nation").selectColumns("n_nationkey");
    long rows = 0;
    long sum = 0;
    try (ArrowReader reader = df.stream()) {
      while (reader.loadNextBatch()) {
        VectorSchemaRoot root = reader.getVectorSchemaRoot();
        BigIntVector keys = (BigIntVector) root.getVector("n_nationkey");
        for (int i = 0; i < root.getRowCount(); i++) {
          sum += keys.get(i);
        }
        rows += root.getRowCount();
      }
    }
    assertEquals(25, rows);
    assertEquals(300, sum); // 0 + 1 + ... + 24
    try (VectorSchemaRoot root = df.collectArrow()) {
      assertEquals(25, root.getRowCount());
    }
  }

  @Test
  void partitionsReadOneByOneWithoutTheSession() throws IOException {
    DataFrame df = session.table("lineitem").selectColumns("l_orderkey");
    dev.ballista.client.QueryResult result = session.execute(df);
    assertTrue(result.partitions().size() > 1, "expected several partitions: " + result.partitions());
    long rows = 0;
    for (dev.ballista.client.ResultPartition p : result.partitions()) {
      try (ArrowReader reader = p.open(allocator)) {
        while (reader.loadNextBatch()) {
          rows += reader.getVectorSchemaRoot().getRowCount();
        }
      }
    }
    assertEquals(session.table("lineitem").count(), rows);
    assertEquals(rows, result.totalRows());
  }

  @Test
  void showAndExplain() {
    String table = session.table("region").selectColumns("r_regionkey", "r_name").showString(3);
    assertTrue(table.contains("| r_regionkey | r_name"), table);
    assertEquals(7, table.split("\n").length, table); // 3 rules, a header, 3 rows
    String plan = session.table("nation").filter(col("n_regionkey").eq(lit(1L))).explain();
    assertTrue(plan.contains("== Physical plan =="), plan);
    assertTrue(plan.contains("Stage "), plan);
  }

  @Test
  void ddlAndSessionViews() {
    session.sql("CREATE VIEW europe AS SELECT n_name FROM nation WHERE n_regionkey = 3");
    assertEquals(5, session.sql("SELECT * FROM europe").count());
    session.sql("DROP VIEW europe");
    session.set("datafusion.execution.target_partitions", "3");
    assertEquals(25, session.sql("SELECT n_name FROM nation").count());
  }

  @Test
  void planIsTheCanonicalProto() {
    DataFrame df = session.table("nation").filter(col("n_nationkey").gt(lit(5)));
    assertTrue(df.plan().hasFilter());
    assertEquals("nation", df.plan().getFilter().getInput().getReadTable().getTable().getTable());
    assertEquals(19, df.count());
  }
}
