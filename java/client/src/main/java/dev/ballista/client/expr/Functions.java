package dev.ballista.client.expr;

import com.google.protobuf.ByteString;
import dev.ballista.client.DataFrame;
import dev.ballista.proto.v1.AggregateFunction;
import dev.ballista.proto.v1.ColumnRef;
import dev.ballista.proto.v1.DecimalValue;
import dev.ballista.proto.v1.DurationValue;
import dev.ballista.proto.v1.Exists;
import dev.ballista.proto.v1.Expression;
import dev.ballista.proto.v1.FunctionCall;
import dev.ballista.proto.v1.IntervalDayTime;
import dev.ballista.proto.v1.IntervalMonthDayNano;
import dev.ballista.proto.v1.Literal;
import dev.ballista.proto.v1.ScalarSubquery;
import dev.ballista.proto.v1.TimeValue;
import dev.ballista.proto.v1.TimestampValue;
import dev.ballista.proto.v1.Wildcard;
import dev.ballista.proto.v1.WindowFunction;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;

/**
 * Static builders of expressions ({@code import static dev.ballista.client.expr.Functions.*}):
 * columns, literals, CASE, subqueries, and common scalar, aggregate and window functions by name.
 *
 * <p>Literals keep the width of the Java type: {@code lit(5)} is Int32, {@code lit(5L)} Int64,
 * {@code lit(2.5)} Float64, {@code lit(2.5f)} Float32, {@code lit("a")} Utf8; unsigned and
 * temporal kinds have their own constructors ({@link #litUInt64}, {@link #litDate}, ...). Function
 * names are resolved by the scheduler (case-insensitively), so {@link #call} reaches any function
 * DataFusion knows.
 */
public final class Functions {
  private Functions() {}

  private static Expr of(Expression.Builder b) {
    return Expr.fromProto(b.build());
  }

  private static Expr lit(Literal.Builder l) {
    return of(Expression.newBuilder().setLiteral(l));
  }

  // ---- columns -----------------------------------------------------------------------------

  /**
   * A column of the input, by name; a dot is part of the name (see {@link #qualifiedCol}).
   *
   * @param name the column name
   * @return the column reference
   */
  public static Expr col(String name) {
    return of(Expression.newBuilder().setColumn(ColumnRef.newBuilder().setName(name)));
  }

  /**
   * A column qualified by a table name or alias, as {@code t.x} in SQL.
   *
   * @param qualifier the table name or alias
   * @param name the column name
   * @return the column reference
   */
  public static Expr qualifiedCol(String qualifier, String name) {
    return of(
        Expression.newBuilder()
            .setColumn(ColumnRef.newBuilder().setName(name).addQualifier(qualifier)));
  }

  /**
   * A column of the enclosing query, for correlated subqueries.
   *
   * @param qualifier the outer relation's alias
   * @param name the column name
   * @return the outer column reference
   */
  public static Expr outerCol(String qualifier, String name) {
    return of(
        Expression.newBuilder()
            .setOuterColumn(ColumnRef.newBuilder().setName(name).addQualifier(qualifier)));
  }

  /** @return {@code *}: every column of the input */
  public static Expr wildcard() {
    return of(Expression.newBuilder().setWildcard(Wildcard.getDefaultInstance()));
  }

  /** @param qualifier a relation's alias @return {@code qualifier.*} */
  public static Expr qualifiedWildcard(String qualifier) {
    return of(Expression.newBuilder().setWildcard(Wildcard.newBuilder().addQualifier(qualifier)));
  }

  /** @param id such as {@code "$1"} @return a query parameter placeholder */
  public static Expr placeholder(String id) {
    return of(Expression.newBuilder().setPlaceholder(id));
  }

  // ---- literals ----------------------------------------------------------------------------

  /** @param v value @return a Boolean literal */
  public static Expr lit(boolean v) {
    return lit(Literal.newBuilder().setBoolValue(v));
  }

  /** @param v value @return an Int8 literal */
  public static Expr lit(byte v) {
    return lit(Literal.newBuilder().setInt8Value(v));
  }

  /** @param v value @return an Int16 literal */
  public static Expr lit(short v) {
    return lit(Literal.newBuilder().setInt16Value(v));
  }

  /** @param v value @return an Int32 literal */
  public static Expr lit(int v) {
    return lit(Literal.newBuilder().setInt32Value(v));
  }

  /** @param v value @return an Int64 literal */
  public static Expr lit(long v) {
    return lit(Literal.newBuilder().setInt64Value(v));
  }

  /** @param v value @return a Float32 literal */
  public static Expr lit(float v) {
    return lit(Literal.newBuilder().setFloat32Value(v));
  }

  /** @param v value @return a Float64 literal */
  public static Expr lit(double v) {
    return lit(Literal.newBuilder().setFloat64Value(v));
  }

  /** @param v value (not null; see {@link #litNull}) @return a Utf8 literal */
  public static Expr lit(String v) {
    return lit(Literal.newBuilder().setUtf8Value(v));
  }

  /** @param v value @return a Binary literal */
  public static Expr lit(byte[] v) {
    return lit(Literal.newBuilder().setBinaryValue(ByteString.copyFrom(v)));
  }

  /**
   * A Decimal128 literal of the value's own scale, with the smallest precision that holds it.
   *
   * @param v value
   * @return the literal
   */
  public static Expr lit(BigDecimal v) {
    int precision = Math.max(v.precision(), Math.max(v.scale(), 0) + 1);
    return litDecimal(v.unscaledValue(), precision, v.scale());
  }

  /** @param v a calendar day @return a Date32 literal */
  public static Expr lit(LocalDate v) {
    return lit(Literal.newBuilder().setDate32Value(Math.toIntExact(v.toEpochDay())));
  }

  /**
   * Any spec literal.
   *
   * @param v the message
   * @return the literal expression
   */
  public static Expr lit(Literal v) {
    return of(Expression.newBuilder().setLiteral(v));
  }

  /** @param v value in 0..255 @return a UInt8 literal */
  public static Expr litUInt8(int v) {
    return lit(Literal.newBuilder().setUint8Value(v));
  }

  /** @param v value in 0..65535 @return a UInt16 literal */
  public static Expr litUInt16(int v) {
    return lit(Literal.newBuilder().setUint16Value(v));
  }

  /** @param v value in 0..2^32-1 @return a UInt32 literal */
  public static Expr litUInt32(long v) {
    return lit(Literal.newBuilder().setUint32Value((int) v));
  }

  /**
   * @param v the value's bits (as {@link Long#parseUnsignedLong} gives them)
   * @return a UInt64 literal
   */
  public static Expr litUInt64(long v) {
    return lit(Literal.newBuilder().setUint64Value(v));
  }

  /**
   * A typed NULL.
   *
   * @param type the Arrow type
   * @return the literal
   */
  public static Expr litNull(ArrowType type) {
    return lit(Literal.newBuilder().setNullValue(Types.toProto(type)));
  }

  /**
   * A Decimal128 literal {@code unscaled * 10^-scale}: {@code litDecimal(1250, 5, 2)} is {@code
   * 12.50} as {@code DECIMAL(5, 2)}.
   *
   * @param unscaled the unscaled value
   * @param precision total digits
   * @param scale digits after the point
   * @return the literal
   */
  public static Expr litDecimal(long unscaled, int precision, int scale) {
    return litDecimal(BigInteger.valueOf(unscaled), precision, scale);
  }

  /**
   * As {@link #litDecimal(long, int, int)}, for any unscaled value.
   *
   * @param unscaled the unscaled value
   * @param precision total digits
   * @param scale digits after the point
   * @return the literal
   */
  public static Expr litDecimal(BigInteger unscaled, int precision, int scale) {
    return lit(
        Literal.newBuilder()
            .setDecimalValue(
                DecimalValue.newBuilder()
                    .setUnscaled(unscaled.toString())
                    .setPrecision(precision)
                    .setScale(scale)
                    .setBitWidth(128)));
  }

  /**
   * @param year year
   * @param month 1..12
   * @param day 1..31
   * @return a Date32 literal of that day of the proleptic Gregorian calendar
   */
  public static Expr litDate(int year, int month, int day) {
    return lit(LocalDate.of(year, month, day));
  }

  /**
   * @param value ticks of {@code unit} since midnight
   * @param unit the unit
   * @return a time-of-day literal
   */
  public static Expr litTime(long value, TimeUnit unit) {
    return lit(
        Literal.newBuilder()
            .setTimeValue(TimeValue.newBuilder().setValue(value).setUnit(Types.toProto(unit))));
  }

  /**
   * @param value ticks of {@code unit} since the UNIX epoch
   * @param unit the unit
   * @param timezone an IANA name or offset, or null for wall-clock time
   * @return a timestamp literal
   */
  public static Expr litTimestamp(long value, TimeUnit unit, String timezone) {
    TimestampValue.Builder t = TimestampValue.newBuilder().setValue(value).setUnit(Types.toProto(unit));
    if (timezone != null) {
      t.setTimezone(timezone);
    }
    return lit(Literal.newBuilder().setTimestampValue(t));
  }

  /**
   * @param months months
   * @param days days
   * @param nanoseconds nanoseconds
   * @return a MonthDayNano interval literal (SQL's {@code INTERVAL '1 month 2 days'})
   */
  public static Expr litInterval(int months, int days, long nanoseconds) {
    return lit(
        Literal.newBuilder()
            .setIntervalMonthDayNanoValue(
                IntervalMonthDayNano.newBuilder()
                    .setMonths(months)
                    .setDays(days)
                    .setNanoseconds(nanoseconds)));
  }

  /** @param months whole months @return a YearMonth interval literal */
  public static Expr litIntervalYearMonth(int months) {
    return lit(Literal.newBuilder().setIntervalYearMonthValue(months));
  }

  /**
   * @param days days
   * @param milliseconds milliseconds
   * @return a DayTime interval literal
   */
  public static Expr litIntervalDayTime(int days, int milliseconds) {
    return lit(
        Literal.newBuilder()
            .setIntervalDayTimeValue(
                IntervalDayTime.newBuilder().setDays(days).setMilliseconds(milliseconds)));
  }

  /**
   * @param value ticks of {@code unit}
   * @param unit the unit
   * @return a duration literal
   */
  public static Expr litDuration(long value, TimeUnit unit) {
    return lit(
        Literal.newBuilder()
            .setDurationValue(DurationValue.newBuilder().setValue(value).setUnit(Types.toProto(unit))));
  }

  // ---- operators, CASE, subqueries ----------------------------------------------------------

  /** @param e operand @return {@code NOT e} */
  public static Expr not(Expr e) {
    return e.not();
  }

  /**
   * Starts a searched CASE: {@code when(c1).then(v1).when(c2).then(v2).otherwise(v3)}.
   *
   * @param condition the first branch's condition
   * @return the branch, waiting for its value
   */
  public static CaseBuilder.When when(Expr condition) {
    return new CaseBuilder(null, List.of()).when(condition);
  }

  /**
   * Starts a simple CASE: {@code caseOf(col("x")).when(lit(1)).then(lit("one")).end()}.
   *
   * @param operand the value compared with each branch
   * @return the CASE being built
   */
  public static CaseBuilder caseOf(Expr operand) {
    return new CaseBuilder(operand, List.of());
  }

  /** @param subquery a plan @return {@code EXISTS (subquery)} */
  public static Expr exists(DataFrame subquery) {
    return of(Expression.newBuilder().setExists(Exists.newBuilder().setSubquery(subquery.plan())));
  }

  /** @param subquery a plan @return {@code NOT EXISTS (subquery)} */
  public static Expr notExists(DataFrame subquery) {
    return of(
        Expression.newBuilder()
            .setExists(Exists.newBuilder().setSubquery(subquery.plan()).setNegated(true)));
  }

  /**
   * @param subquery a plan of one column and at most one row
   * @return {@code (subquery)} as a value
   */
  public static Expr scalarSubquery(DataFrame subquery) {
    return of(
        Expression.newBuilder()
            .setScalarSubquery(ScalarSubquery.newBuilder().setSubquery(subquery.plan())));
  }

  // ---- function calls by name ----------------------------------------------------------------

  /**
   * A scalar function call by name, e.g. {@code call("upper", col("name"))}.
   *
   * @param name the function
   * @param arguments its arguments
   * @return the call
   */
  public static Expr call(String name, Expr... arguments) {
    return of(
        Expression.newBuilder()
            .setScalarFunction(
                FunctionCall.newBuilder().setName(name).addAllArguments(Expr.protos(arguments))));
  }

  /**
   * An aggregate function call by name, e.g. {@code callAggregate("sum", col("x"))}.
   *
   * @param name the function
   * @param arguments its arguments
   * @return the call
   */
  public static Expr callAggregate(String name, Expr... arguments) {
    return aggregate(name, false, arguments);
  }

  private static Expr aggregate(String name, boolean distinct, Expr... arguments) {
    return of(
        Expression.newBuilder()
            .setAggregateFunction(
                AggregateFunction.newBuilder()
                    .setName(name)
                    .addAllArguments(Expr.protos(arguments))
                    .setDistinct(distinct)));
  }

  /**
   * A window function call by name, e.g. {@code callWindow("ntile", lit(4L))}; give it a window
   * with {@link Expr#over}.
   *
   * @param name the function
   * @param arguments its arguments
   * @return the call
   */
  public static Expr callWindow(String name, Expr... arguments) {
    return of(
        Expression.newBuilder()
            .setWindowFunction(
                WindowFunction.newBuilder().setName(name).addAllArguments(Expr.protos(arguments))));
  }

  // ---- aggregates ----------------------------------------------------------------------------

  /** @param e input @return {@code sum(e)} */
  public static Expr sum(Expr e) {
    return callAggregate("sum", e);
  }

  /** @param e input @return {@code avg(e)} */
  public static Expr avg(Expr e) {
    return callAggregate("avg", e);
  }

  /** @param e input @return {@code min(e)} */
  public static Expr min(Expr e) {
    return callAggregate("min", e);
  }

  /** @param e input @return {@code max(e)} */
  public static Expr max(Expr e) {
    return callAggregate("max", e);
  }

  /** @param e input @return {@code count(e)}: the non-null values */
  public static Expr count(Expr e) {
    return callAggregate("count", e);
  }

  /** @return {@code count(*)}: every row (written {@code count(1)}, as DataFusion does) */
  public static Expr countAll() {
    return callAggregate("count", lit(1L));
  }

  /** @param e input @return {@code count(DISTINCT e)} */
  public static Expr countDistinct(Expr e) {
    return aggregate("count", true, e);
  }

  /** @param e input @return {@code array_agg(e)} */
  public static Expr arrayAgg(Expr e) {
    return callAggregate("array_agg", e);
  }

  // ---- scalar functions ----------------------------------------------------------------------

  /** @param e string @param start 1-based start @return {@code substr(e, start)} */
  public static Expr substr(Expr e, Expr start) {
    return call("substr", e, start);
  }

  /**
   * @param e string
   * @param start 1-based start
   * @param length characters
   * @return {@code substr(e, start, length)}
   */
  public static Expr substring(Expr e, Expr start, Expr length) {
    return call("substr", e, start, length);
  }

  /** @param e string @return {@code upper(e)} */
  public static Expr upper(Expr e) {
    return call("upper", e);
  }

  /** @param e string @return {@code lower(e)} */
  public static Expr lower(Expr e) {
    return call("lower", e);
  }

  /** @param e string @return {@code btrim(e)}: spaces removed at both ends */
  public static Expr trim(Expr e) {
    return call("btrim", e);
  }

  /** @param e string @return {@code character_length(e)} */
  public static Expr length(Expr e) {
    return call("character_length", e);
  }

  /** @param args strings @return {@code concat(args...)} (NULLs are skipped) */
  public static Expr concat(Expr... args) {
    return call("concat", args);
  }

  /**
   * @param part such as {@code "year"}
   * @param e date or timestamp
   * @return {@code date_part(part, e)}
   */
  public static Expr datePart(String part, Expr e) {
    return call("date_part", lit(part), e);
  }

  /**
   * @param part such as {@code "month"}
   * @param e date or timestamp
   * @return {@code date_trunc(part, e)}
   */
  public static Expr dateTrunc(String part, Expr e) {
    return call("date_trunc", lit(part), e);
  }

  /** @param args values @return {@code coalesce(args...)}: the first non-null */
  public static Expr coalesce(Expr... args) {
    return call("coalesce", args);
  }

  /** @param a value @param b value @return {@code nullif(a, b)} */
  public static Expr nullif(Expr a, Expr b) {
    return call("nullif", a, b);
  }

  /** @param e number @param digits decimal places @return {@code round(e, digits)} */
  public static Expr round(Expr e, long digits) {
    return call("round", e, lit(digits));
  }

  /** @param e number @return {@code abs(e)} */
  public static Expr abs(Expr e) {
    return call("abs", e);
  }

  /** @param e number @return {@code sqrt(e)} */
  public static Expr sqrt(Expr e) {
    return call("sqrt", e);
  }

  // ---- window functions ----------------------------------------------------------------------

  /** @return {@code row_number()} (give it a window with {@link Expr#over}) */
  public static Expr rowNumber() {
    return callWindow("row_number");
  }

  /** @return {@code rank()} */
  public static Expr rank() {
    return callWindow("rank");
  }

  /** @return {@code dense_rank()} */
  public static Expr denseRank() {
    return callWindow("dense_rank");
  }

  /** @param e value @param offset rows back @return {@code lag(e, offset)} */
  public static Expr lag(Expr e, long offset) {
    return callWindow("lag", e, lit(offset));
  }

  /** @param e value @param offset rows ahead @return {@code lead(e, offset)} */
  public static Expr lead(Expr e, long offset) {
    return callWindow("lead", e, lit(offset));
  }

  static List<Expr> list(Expr... e) {
    return Arrays.asList(e);
  }
}
