package dev.ballista.conformance;

import static dev.ballista.client.expr.Functions.*;

import dev.ballista.client.DataFrame;
import dev.ballista.client.JoinType;
import dev.ballista.client.ReadOptions;
import dev.ballista.client.expr.Expr;
import dev.ballista.client.expr.FrameBound;
import dev.ballista.client.expr.Functions;
import dev.ballista.client.expr.Window;
import dev.ballista.proto.v1.BinaryOperator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;

/**
 * The conformance cases of {@code integration/conformance/}, built with the Java builder API as a
 * user would: a case-by-case translation of the reference, {@code
 * rust/ballista-client/src/bin/conformance-testee/cases.rs} (same names, in camelCase).
 */
public final class Cases {
  private Cases() {}

  /** One case: its directory name and its builder. */
  public record Case(String name, Supplier<DataFrame> build) {}

  private static final ArrowType INT64 = new ArrowType.Int(64, true);
  private static final ArrowType INT32 = new ArrowType.Int(32, true);
  private static final ArrowType UTF8 = ArrowType.Utf8.INSTANCE;
  private static final ArrowType FLOAT64 = new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);

  private static DataFrame people() {
    return DataFrame.readTable("people");
  }

  private static DataFrame depts() {
    return DataFrame.readTable("depts");
  }

  private static DataFrame orders() {
    return DataFrame.readTable("orders");
  }

  private static <K, V> Map<K, V> ordered(K k1, V v1, K k2, V v2) {
    Map<K, V> m = new LinkedHashMap<>();
    m.put(k1, v1);
    m.put(k2, v2);
    return m;
  }

  /** @return every case, in the reference's order */
  public static List<Case> all() {
    return List.of(
        new Case("read_table", Cases::people),
        new Case(
            "read_files_csv",
            () ->
                DataFrame.readCsv(
                    List.of("tables/orders.csv"), ReadOptions.of().option("has_header", "true"))),
        new Case(
            "sql",
            () -> DataFrame.sql("SELECT id, name, salary FROM people WHERE dept_id = 10 ORDER BY id")),
        new Case(
            "values",
            () ->
                DataFrame.values(
                    List.of(
                        List.of(lit(1L), lit("one"), lit(1.5), lit(true)),
                        List.of(lit(2L), litNull(UTF8), litNull(FLOAT64), lit(false))),
                    List.of("n", "word", "x", "flag"))),
        new Case(
            "literals",
            () ->
                DataFrame.empty(true)
                    .select(
                        lit((byte) -8).alias("i8"),
                        lit((short) -16).alias("i16"),
                        lit(-32).alias("i32"),
                        lit(-64L).alias("i64"),
                        litUInt8(8).alias("u8"),
                        litUInt16(16).alias("u16"),
                        litUInt32(32).alias("u32"),
                        litUInt64(64).alias("u64"),
                        lit(0.25f).alias("f32"),
                        lit(-2.5).alias("f64"),
                        lit("héllo").alias("utf8"),
                        lit(true).alias("bool"),
                        litDecimal(-12345, 7, 2).alias("dec"),
                        litDate(2024, 2, 29).alias("date"),
                        litTime(3_723, TimeUnit.SECOND).alias("time"),
                        litTimestamp(1_700_000_000_123_456L, TimeUnit.MICROSECOND, null)
                            .alias("ts"),
                        litTimestamp(1_700_000_000L, TimeUnit.SECOND, "+02:00").alias("ts_tz"),
                        litNull(INT32).alias("null_i32"))),
        new Case("empty_no_rows", () -> DataFrame.empty(false).select(lit(1L).alias("one"))),
        new Case(
            "filter_and_or",
            () ->
                people()
                    .filter(
                        col("salary")
                            .gtEq(litDecimal(420050, 10, 2))
                            .and(col("dept_id").notEq(lit(30L)))
                            .or(col("name").eq(lit("Eve"))))
                    .selectColumns("id", "name")),
        new Case(
            "comparisons",
            () -> {
              Supplier<Expr> d = () -> col("dept_id");
              return people()
                  .select(
                      col("id"),
                      d.get().eq(lit(20L)).alias("eq"),
                      d.get().notEq(lit(20L)).alias("not_eq"),
                      d.get().lt(lit(20L)).alias("lt"),
                      d.get().ltEq(lit(20L)).alias("lt_eq"),
                      d.get().gt(lit(20L)).alias("gt"),
                      d.get().gtEq(lit(20L)).alias("gt_eq"),
                      d.get().isDistinctFrom(lit(20L)).alias("distinct"),
                      d.get().isNotDistinctFrom(lit(20L)).alias("not_distinct"));
            }),
        new Case(
            "arithmetic",
            () ->
                people()
                    .select(
                        col("id"),
                        col("id").plus(lit(1L)).alias("plus"),
                        col("id").minus(lit(1L)).alias("minus"),
                        col("id").multiply(lit(2L)).plus(lit(1L)).alias("times_plus"),
                        col("id").divide(lit(2L)).alias("div"),
                        col("id").modulo(lit(4L)).alias("modulo"),
                        col("id").negate().alias("neg"),
                        col("salary").multiply(lit(2L)).alias("double_salary"))),
        new Case(
            "bitwise_and_strings_ops",
            () ->
                people()
                    .select(
                        col("id"),
                        col("id").bitwiseAnd(lit(3L)).alias("band"),
                        col("id").bitwiseOr(lit(8L)).alias("bor"),
                        col("id").bitwiseXor(lit(1L)).alias("bxor"),
                        col("id").shiftLeft(lit(2L)).alias("shl"),
                        col("id").shiftRight(lit(1L)).alias("shr"),
                        col("name").concat(lit("!")).alias("shout"),
                        col("name")
                            .binaryOp(BinaryOperator.BINARY_OPERATOR_REGEX_MATCH, lit("^[A-C]"))
                            .alias("a_to_c"),
                        col("name")
                            .binaryOp(BinaryOperator.BINARY_OPERATOR_REGEX_IMATCH, lit("^b"))
                            .alias("b_ci"))),
        new Case(
            "unary_predicates",
            () -> {
              Supplier<Expr> a = () -> col("active");
              return people()
                  .select(
                      col("id"),
                      a.get().not().alias("not_active"),
                      a.get().isNull().alias("is_null"),
                      a.get().isNotNull().alias("is_not_null"),
                      a.get().isTrue().alias("is_true"),
                      a.get().isFalse().alias("is_false"),
                      a.get().isUnknown().alias("is_unknown"),
                      a.get().isNotTrue().alias("is_not_true"),
                      a.get().isNotFalse().alias("is_not_false"),
                      a.get().isNotUnknown().alias("is_not_unknown"));
            }),
        new Case(
            "between_in_list",
            () ->
                people()
                    .select(
                        col("id"),
                        col("salary")
                            .between(litDecimal(400000, 10, 2), litDecimal(500000, 10, 2))
                            .alias("between"),
                        col("id").notBetween(lit(2L), lit(4L)).alias("not_between"),
                        col("dept_id").inList(List.of(lit(10L), lit(30L)), false).alias("in_list"),
                        col("dept_id")
                            .inList(List.of(lit(10L), lit(30L)), true)
                            .alias("not_in_list"))),
        new Case(
            "like",
            () -> {
              Supplier<Expr> n = () -> col("name");
              return people()
                  .select(
                      col("id"),
                      n.get().like(lit("A%")).alias("like"),
                      n.get().notLike(lit("%o%")).alias("not_like"),
                      n.get().ilike(lit("c%")).alias("ilike"),
                      n.get().notIlike(lit("%E")).alias("not_ilike"),
                      n.get().similarTo(lit("(A|E)[a-z]*")).alias("similar_to"));
            }),
        new Case(
            "case_when",
            () ->
                people()
                    .select(
                        col("id"),
                        when(col("salary").gtEq(litDecimal(500000, 10, 2)))
                            .then(lit("high"))
                            .when(col("salary").gtEq(litDecimal(400000, 10, 2)))
                            .then(lit("mid"))
                            .otherwise(lit("low"))
                            .alias("band"),
                        caseOf(col("dept_id"))
                            .when(lit(10L))
                            .then(lit("eng"))
                            .when(lit(20L))
                            .then(lit("sales"))
                            .end()
                            .alias("dept"))),
        new Case(
            "cast",
            () ->
                people()
                    .select(
                        col("id"),
                        col("salary").cast(FLOAT64).alias("salary_f64"),
                        col("id").cast(UTF8).alias("id_str"),
                        col("hired").cast(UTF8).alias("hired_str"),
                        col("name").tryCast(INT64).alias("name_int"),
                        lit("42").tryCast(INT32).alias("forty_two"))),
        new Case(
            "scalar_functions",
            () ->
                people()
                    .select(
                        col("id"),
                        upper(col("name")).alias("upper"),
                        lower(col("name")).alias("lower"),
                        substring(col("name"), lit(2L), lit(3L)).alias("substr"),
                        length(col("name")).alias("length"),
                        coalesce(col("name"), lit("unknown")).alias("coalesce"),
                        Functions.concat(col("name"), lit("#"), col("id").cast(UTF8)).alias("concat"),
                        round(col("salary").cast(FLOAT64).divide(lit(3.0)), 1).alias("round"),
                        abs(lit(3L).minus(col("id"))).alias("abs"),
                        datePart("year", col("hired")).alias("year"),
                        call("nullif", col("dept_id"), lit(20L)).alias("nullif"))),
        new Case(
            "date_interval_arithmetic",
            () ->
                people()
                    .select(
                        col("id"),
                        col("hired").plus(litInterval(1, 2, 0)).alias("plus_month_day_nano"),
                        col("hired").minus(litIntervalDayTime(10, 0)).alias("minus_day_time"),
                        col("hired").plus(litIntervalYearMonth(12)).alias("plus_year_month"),
                        col("hired").gt(litDate(2020, 1, 1)).alias("after_2020"))),
        new Case(
            "aggregate_group_by",
            () ->
                people()
                    .groupBy(col("dept_id"))
                    .agg(
                        sum(col("salary")).alias("total"),
                        avg(col("salary")).alias("average"),
                        count(col("id")).alias("n"),
                        min(col("name")).alias("first_name"),
                        max(col("hired")).alias("last_hired"))),
        new Case(
            "aggregate_global",
            () ->
                people()
                    .aggregate(
                        List.of(),
                        List.of(
                            countAll().alias("rows"),
                            countDistinct(col("dept_id")).alias("depts"),
                            count(col("name")).alias("named"),
                            sum(col("salary"))
                                .filter(col("active").isTrue())
                                .alias("active_salary")))),
        new Case(
            "aggregate_ordered",
            () ->
                people()
                    .groupBy(col("dept_id"))
                    .agg(
                        callAggregate(
                                "first_value",
                                col("name"),
                                col("salary").desc().asExpr(),
                                col("id").asc().asExpr())
                            .alias("best_paid"),
                        callAggregate("last_value", col("name"))
                            .orderBy(col("id").asc())
                            .alias("last_by_id"))),
        new Case(
            "aggregate_rollup",
            () ->
                orders()
                    .rollup(col("status"))
                    .agg(countAll().alias("n"), max(col("amount")).alias("max_amount"))),
        new Case(
            "aggregate_grouping_sets",
            () ->
                people()
                    .groupingSets(List.of(List.of(col("dept_id")), List.of(col("active")), List.of()))
                    .agg(countAll().alias("n"))),
        new Case(
            "join_inner_keys",
            () ->
                people()
                    .alias("p")
                    .join(depts().alias("d"), JoinType.INNER, List.of("dept_id"), List.of("dept_id"))
                    .select(
                        qualifiedCol("p", "id"),
                        qualifiedCol("p", "name"),
                        qualifiedCol("d", "dept_name"))),
        new Case(
            "join_left_condition",
            () ->
                orders()
                    .alias("o")
                    .joinOn(
                        people().alias("p"),
                        JoinType.LEFT,
                        qualifiedCol("o", "customer_id")
                            .eq(qualifiedCol("p", "id"))
                            .and(qualifiedCol("o", "amount").gt(lit(20.0))))
                    .select(qualifiedCol("o", "order_id"), qualifiedCol("p", "name"))),
        new Case(
            "join_full",
            () ->
                people()
                    .alias("p")
                    .join(depts().alias("d"), JoinType.FULL, List.of("dept_id"), List.of("dept_id"))
                    .select(qualifiedCol("p", "name"), qualifiedCol("d", "dept_name"))),
        new Case(
            "join_semi",
            () ->
                people()
                    .join(orders(), JoinType.LEFT_SEMI, List.of("id"), List.of("customer_id"))
                    .selectColumns("id", "name")),
        new Case(
            "join_anti",
            () ->
                people()
                    .join(orders(), JoinType.LEFT_ANTI, List.of("id"), List.of("customer_id"))
                    .selectColumns("id", "name")),
        new Case(
            "cross_join",
            () ->
                depts()
                    .filter(col("dept_id").ltEq(lit(20L)))
                    .selectColumns("dept_name")
                    .crossJoin(
                        DataFrame.values(List.of(List.of(lit(1L)), List.of(lit(2L))), List.of("n")))),
        new Case(
            "sort_nulls",
            () ->
                people()
                    .selectColumns("id", "dept_id", "name")
                    .sort(col("dept_id").desc(), col("name").asc().nullsFirst())),
        new Case(
            "limit_offset",
            () -> people().sort(col("id").asc()).limit(1, 2).selectColumns("id", "name")),
        new Case("distinct", () -> people().selectColumns("dept_id").distinct()),
        new Case(
            "union",
            () -> people().selectColumns("dept_id").union(depts().selectColumns("dept_id"))),
        new Case(
            "union_all",
            () -> people().selectColumns("dept_id").unionAll(depts().selectColumns("dept_id"))),
        new Case(
            "intersect",
            () -> people().selectColumns("dept_id").intersect(depts().selectColumns("dept_id"))),
        new Case(
            "except",
            () -> depts().selectColumns("dept_id").except(people().selectColumns("dept_id"))),
        new Case(
            "window_ranking",
            () ->
                people()
                    .window(
                        rowNumber()
                            .over(
                                Window.partitionBy(col("dept_id"))
                                    .orderBy(col("salary").desc(), col("id").asc()))
                            .alias("rn"))
                    .window(rank().over(Window.orderBy(col("salary").desc())).alias("rk"))
                    .selectColumns("id", "rn", "rk")),
        new Case(
            "window_frames",
            () ->
                people()
                    .window(
                        sum(col("salary"))
                            .over(
                                Window.partitionBy(col("dept_id"))
                                    .orderBy(col("id").asc())
                                    .rowsBetween(
                                        FrameBound.unboundedPreceding(), FrameBound.currentRow()))
                            .alias("running"))
                    .window(count(col("id")).over(Window.empty()).alias("everyone"))
                    .window(
                        lag(col("name"), 1).over(Window.orderBy(col("id").asc())).alias("previous"))
                    .selectColumns("id", "running", "everyone", "previous")),
        new Case(
            "subquery_alias_wildcard",
            () ->
                depts()
                    .alias("d")
                    .filter(qualifiedCol("d", "dept_id").lt(lit(30L)))
                    .select(qualifiedWildcard("d"))),
        new Case(
            "wildcard",
            () -> depts().select(wildcard(), col("dept_id").multiply(lit(10L)).alias("x10"))),
        new Case(
            "with_columns_drop",
            () ->
                people()
                    .withColumns(
                        ordered("name", upper(col("name")), "next_id", col("id").plus(lit(1L))))
                    .drop("salary", "hired", "active")),
        new Case(
            "with_columns_renamed",
            () -> depts().withColumnsRenamed(ordered("dept_id", "id", "dept_name", "name"))),
        new Case(
            "exists_correlated",
            () ->
                people()
                    .alias("p")
                    .filter(exists(orders().filter(col("customer_id").eq(outerCol("p", "id")))))
                    .select(qualifiedCol("p", "id"), qualifiedCol("p", "name"))),
        new Case(
            "in_subquery",
            () -> {
              Supplier<DataFrame> customers =
                  () ->
                      orders()
                          .filter(col("customer_id").isNotNull())
                          .selectColumns("customer_id");
              return people()
                  .filter(
                      col("id")
                          .inSubquery(customers.get())
                          .or(col("id").gt(lit(5L)))
                          .and(
                              col("id")
                                  .notInSubquery(
                                      customers.get().filter(col("customer_id").eq(lit(1L))))))
                  .selectColumns("id", "name");
            }),
        new Case(
            "scalar_subquery",
            () ->
                people()
                    .filter(
                        col("salary")
                            .gt(
                                scalarSubquery(
                                    people().aggregate(List.of(), List.of(avg(col("salary")))))))
                    .selectColumns("id", "name")),
        new Case(
            "placeholder",
            () -> people().filter(col("id").eq(placeholder("$1"))).selectColumns("id", "name")));
  }
}
