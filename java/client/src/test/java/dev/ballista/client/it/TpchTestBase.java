package dev.ballista.client.it;

import static dev.ballista.client.expr.Functions.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.ballista.client.DataFrame;
import dev.ballista.client.JoinType;
import dev.ballista.client.Session;
import dev.ballista.client.expr.Expr;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * TPC-H at SF 0.01 through the Java client: the 22 queries as SQL, and six written with the
 * builder API, each compared with single-process DataFusion's answer for the SQL text. Rows of a
 * query that orders them are compared in order, the others as sorted sets; floats to 6
 * significant digits. Subclasses provide the cluster (embedded, or real processes).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TpchTestBase {
  /** DataFusion's answers, shared by both kinds of cluster: computed once per query. */
  private static final Map<Integer, List<String>> REFERENCE = new ConcurrentHashMap<>();

  private static final RootAllocator REFERENCE_ALLOCATOR = new RootAllocator();

  /** @return the session on the cluster under test, with the TPC-H tables registered */
  abstract Session session();

  static void registerTpch(Session session) {
    Path data = TestSupport.tpchData();
    for (String t : TestSupport.TPCH_TABLES) {
      session.registerParquet(t, data.resolve(t).toString());
    }
  }

  private static boolean orders(String query) {
    // Every TPC-H query that orders does so at the end, after its last closing parenthesis.
    String q = query.toLowerCase(Locale.ROOT);
    return q.lastIndexOf("order by") > q.lastIndexOf(')');
  }

  private static String lastQuery(List<String> statements) {
    String last = null;
    for (String s : statements) {
      if (TestSupport.isQuery(s)) {
        last = s;
      }
    }
    return last;
  }

  static List<String> reference(int n) {
    return REFERENCE.computeIfAbsent(
        n,
        q -> {
          List<String> statements = TestSupport.tpchQuery(q);
          String query = lastQuery(statements);
          // Up to the query (Q15 drops its view afterwards).
          List<String> upTo = statements.subList(0, statements.indexOf(query) + 1);
          List<String> rows =
              TestSupport.referenceRows(
                  REFERENCE_ALLOCATOR, TestSupport.tpchData(), upTo, orders(query));
          assertFalse(rows.isEmpty(), "DataFusion returned no rows for Q" + q);
          return rows;
        });
  }

  static List<String> rows(DataFrame df, boolean ordered) {
    try (ArrowReader reader = df.stream()) {
      return TestSupport.canonicalRows(reader, ordered);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @TestFactory
  Stream<DynamicTest> sqlQueries() {
    return IntStream.rangeClosed(1, 22)
        .mapToObj(
            n ->
                DynamicTest.dynamicTest(
                    "Q" + n,
                    () -> {
                      List<String> expected = reference(n);
                      List<String> statements = TestSupport.tpchQuery(n);
                      String query = lastQuery(statements);
                      List<String> actual = null;
                      for (String s : statements) {
                        if (s.equals(query)) {
                          actual = rows(session().sql(s), orders(s));
                        } else {
                          session().sql(s);
                        }
                      }
                      assertEquals(expected, actual, "Q" + n);
                    }));
  }

  @TestFactory
  Stream<DynamicTest> builderQueries() {
    Map<Integer, Function<Session, DataFrame>> builders =
        Map.of(1, TpchTestBase::q1, 3, TpchTestBase::q3, 5, TpchTestBase::q5, 6, TpchTestBase::q6,
            10, TpchTestBase::q10, 12, TpchTestBase::q12);
    return builders.keySet().stream()
        .sorted()
        .map(
            n ->
                DynamicTest.dynamicTest(
                    "Q" + n + " (builder)",
                    () -> {
                      List<String> expected = reference(n);
                      boolean ordered = orders(lastQuery(TestSupport.tpchQuery(n)));
                      DataFrame df = builders.get(n).apply(session());
                      assertEquals(expected, rows(df, ordered), "Q" + n + " (builder)");
                    }));
  }

  /** {@code l_extendedprice * (1 - l_discount)}, as the SQL writes it. */
  private static Expr discounted() {
    return col("l_extendedprice").multiply(lit(1L).minus(col("l_discount")));
  }

  static DataFrame q1(Session s) {
    return s.table("lineitem")
        .filter(col("l_shipdate").ltEq(litDate(1998, 9, 2)))
        .groupBy(col("l_returnflag"), col("l_linestatus"))
        .agg(
            sum(col("l_quantity")).alias("sum_qty"),
            sum(col("l_extendedprice")).alias("sum_base_price"),
            sum(discounted()).alias("sum_disc_price"),
            sum(discounted().multiply(lit(1L).plus(col("l_tax")))).alias("sum_charge"),
            avg(col("l_quantity")).alias("avg_qty"),
            avg(col("l_extendedprice")).alias("avg_price"),
            avg(col("l_discount")).alias("avg_disc"),
            countAll().alias("count_order"))
        .sort(col("l_returnflag").asc(), col("l_linestatus").asc());
  }

  static DataFrame q3(Session s) {
    DataFrame customer = s.table("customer").filter(col("c_mktsegment").eq(lit("BUILDING")));
    DataFrame orders = s.table("orders").filter(col("o_orderdate").lt(litDate(1995, 3, 15)));
    DataFrame lineitem = s.table("lineitem").filter(col("l_shipdate").gt(litDate(1995, 3, 15)));
    return customer
        .join(orders, JoinType.INNER, List.of("c_custkey"), List.of("o_custkey"))
        .join(lineitem, JoinType.INNER, List.of("o_orderkey"), List.of("l_orderkey"))
        .groupBy(col("l_orderkey"), col("o_orderdate"), col("o_shippriority"))
        .agg(sum(discounted()).alias("revenue"))
        .select(col("l_orderkey"), col("revenue"), col("o_orderdate"), col("o_shippriority"))
        .sort(col("revenue").desc(), col("o_orderdate").asc())
        .limit(10);
  }

  static DataFrame q5(Session s) {
    DataFrame orders =
        s.table("orders")
            .filter(
                col("o_orderdate")
                    .gtEq(litDate(1994, 1, 1))
                    .and(col("o_orderdate").lt(litDate(1995, 1, 1))));
    return s.table("customer")
        .join(orders, JoinType.INNER, List.of("c_custkey"), List.of("o_custkey"))
        .join(s.table("lineitem"), JoinType.INNER, List.of("o_orderkey"), List.of("l_orderkey"))
        .join(
            s.table("supplier"),
            JoinType.INNER,
            List.of("l_suppkey", "c_nationkey"),
            List.of("s_suppkey", "s_nationkey"))
        .join(s.table("nation"), JoinType.INNER, List.of("s_nationkey"), List.of("n_nationkey"))
        .join(
            s.table("region").filter(col("r_name").eq(lit("ASIA"))),
            JoinType.INNER,
            List.of("n_regionkey"),
            List.of("r_regionkey"))
        .groupBy(col("n_name"))
        .agg(sum(discounted()).alias("revenue"))
        .sort(col("revenue").desc());
  }

  static DataFrame q6(Session s) {
    return s.table("lineitem")
        .filter(
            col("l_shipdate")
                .gtEq(litDate(1994, 1, 1))
                .and(col("l_shipdate").lt(litDate(1995, 1, 1)))
                .and(
                    col("l_discount")
                        .between(lit(0.06).minus(lit(0.01)), lit(0.06).plus(lit(0.01))))
                .and(col("l_quantity").lt(lit(24L))))
        .aggregate(
            List.of(),
            List.of(sum(col("l_extendedprice").multiply(col("l_discount"))).alias("revenue")));
  }

  static DataFrame q10(Session s) {
    DataFrame orders =
        s.table("orders")
            .filter(
                col("o_orderdate")
                    .gtEq(litDate(1993, 10, 1))
                    .and(col("o_orderdate").lt(litDate(1994, 1, 1))));
    return s.table("customer")
        .join(orders, JoinType.INNER, List.of("c_custkey"), List.of("o_custkey"))
        .join(
            s.table("lineitem").filter(col("l_returnflag").eq(lit("R"))),
            JoinType.INNER,
            List.of("o_orderkey"),
            List.of("l_orderkey"))
        .join(s.table("nation"), JoinType.INNER, List.of("c_nationkey"), List.of("n_nationkey"))
        .groupBy(
            col("c_custkey"),
            col("c_name"),
            col("c_acctbal"),
            col("c_phone"),
            col("n_name"),
            col("c_address"),
            col("c_comment"))
        .agg(sum(discounted()).alias("revenue"))
        .select(
            col("c_custkey"),
            col("c_name"),
            col("revenue"),
            col("c_acctbal"),
            col("n_name"),
            col("c_address"),
            col("c_phone"),
            col("c_comment"))
        .sort(col("revenue").desc())
        .limit(20);
  }

  static DataFrame q12(Session s) {
    Expr priority = col("o_orderpriority");
    Expr high = priority.eq(lit("1-URGENT")).or(col("o_orderpriority").eq(lit("2-HIGH")));
    Expr low = priority.notEq(lit("1-URGENT")).and(col("o_orderpriority").notEq(lit("2-HIGH")));
    return s.table("lineitem")
        .join(s.table("orders"), JoinType.INNER, List.of("l_orderkey"), List.of("o_orderkey"))
        .filter(
            col("l_shipmode")
                .isIn(lit("MAIL"), lit("SHIP"))
                .and(col("l_commitdate").lt(col("l_receiptdate")))
                .and(col("l_shipdate").lt(col("l_commitdate")))
                .and(col("l_receiptdate").gtEq(litDate(1994, 1, 1)))
                .and(col("l_receiptdate").lt(litDate(1995, 1, 1))))
        .groupBy(col("l_shipmode"))
        .agg(
            sum(when(high).then(lit(1L)).otherwise(lit(0L))).alias("high_line_count"),
            sum(when(low).then(lit(1L)).otherwise(lit(0L))).alias("low_line_count"))
        .sort(col("l_shipmode").asc());
  }
}
