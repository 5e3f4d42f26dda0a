package dev.ballista.spark.plan;

import static dev.ballista.client.expr.Functions.call;
import static dev.ballista.client.expr.Functions.col;
import static dev.ballista.client.expr.Functions.lit;
import static dev.ballista.client.expr.Functions.litDecimal;
import static dev.ballista.client.expr.Functions.litNull;
import static dev.ballista.client.expr.Functions.litTimestamp;

import dev.ballista.client.expr.Expr;
import dev.ballista.client.expr.Functions;
import dev.ballista.proto.v1.AggregateFunction;
import dev.ballista.spark.arrow.SparkTypes;
import dev.ballista.spark.shaded.org.apache.arrow.vector.types.TimeUnit;
import dev.ballista.spark.shaded.org.apache.arrow.vector.types.pojo.ArrowType;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.sql.connector.expressions.Cast;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.Literal;
import org.apache.spark.sql.connector.expressions.NamedReference;
import org.apache.spark.sql.connector.expressions.aggregate.AggregateFunc;
import org.apache.spark.sql.connector.expressions.aggregate.Avg;
import org.apache.spark.sql.connector.expressions.aggregate.Count;
import org.apache.spark.sql.connector.expressions.aggregate.CountStar;
import org.apache.spark.sql.connector.expressions.aggregate.GeneralAggregateFunc;
import org.apache.spark.sql.connector.expressions.aggregate.Max;
import org.apache.spark.sql.connector.expressions.aggregate.Min;
import org.apache.spark.sql.connector.expressions.aggregate.Sum;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Spark's V2 predicates and aggregates as canonical-plan expressions, built with the Java client's
 * {@link Functions} (never SQL text).
 *
 * <p>What is pushed is what Ballista (DataFusion) computes exactly as Spark does: comparisons
 * ({@code = <> < <= > >= <=>}), {@code AND OR NOT}, {@code IS [NOT] NULL}, {@code IN}, {@code
 * STARTS_WITH / ENDS_WITH / CONTAINS}, over columns, literals and casts that only widen a number
 * (as Spark inserts them to compare an INT with a BIGINT, or DECIMAL(15,2) with DECIMAL(16,2)).
 * Arithmetic and other functions are not pushed: Spark and DataFusion differ in corner cases
 * (overflow, ANSI errors, string functions' edge cases), and a filter that stays in Spark is
 * always right. Anything that does not translate returns {@code Optional.empty()}; the caller
 * gives it back to Spark.
 */
public final class Translator {
  private final StructType schema;

  /** @param schema the source's columns (names and Spark types) that expressions may name */
  public Translator(StructType schema) {
    this.schema = schema;
  }

  /**
   * @param p a Spark predicate
   * @return the expression, or empty when Spark must evaluate it
   */
  public Optional<Expr> predicate(Predicate p) {
    Expression[] c = p.children();
    switch (p.name()) {
      case "ALWAYS_TRUE":
        return Optional.of(lit(true));
      case "ALWAYS_FALSE":
        return Optional.of(lit(false));
      case "AND":
      case "OR":
        {
          Optional<Expr> l = bool(c[0]);
          Optional<Expr> r = bool(c[1]);
          if (l.isEmpty() || r.isEmpty()) {
            return Optional.empty();
          }
          return Optional.of(p.name().equals("AND") ? l.get().and(r.get()) : l.get().or(r.get()));
        }
      case "NOT":
        return bool(c[0]).map(Expr::not);
      case "IS_NULL":
        return value(c[0]).map(Expr::isNull);
      case "IS_NOT_NULL":
        return value(c[0]).map(Expr::isNotNull);
      case "=":
      case "<>":
      case "<":
      case "<=":
      case ">":
      case ">=":
      case "<=>":
        {
          Optional<Expr> l = value(c[0]);
          Optional<Expr> r = value(c[1]);
          if (l.isEmpty() || r.isEmpty()) {
            return Optional.empty();
          }
          return Optional.of(compare(p.name(), l.get(), r.get()));
        }
      case "IN":
        {
          Optional<Expr> v = value(c[0]);
          List<Expr> list = new ArrayList<>();
          for (int i = 1; i < c.length; i++) {
            if (!(c[i] instanceof Literal)) {
              return Optional.empty();
            }
            Optional<Expr> item = value(c[i]);
            if (item.isEmpty()) {
              return Optional.empty();
            }
            list.add(item.get());
          }
          return v.map(e -> e.inList(list, false));
        }
      case "STARTS_WITH":
      case "ENDS_WITH":
      case "CONTAINS":
        {
          if (!(c[1] instanceof Literal) || !isString(c[0])) {
            return Optional.empty();
          }
          Optional<Expr> s = value(c[0]);
          Optional<Expr> pattern = value(c[1]);
          if (s.isEmpty() || pattern.isEmpty()) {
            return Optional.empty();
          }
          String fn =
              p.name().equals("STARTS_WITH")
                  ? "starts_with"
                  : p.name().equals("ENDS_WITH") ? "ends_with" : "contains";
          return Optional.of(call(fn, s.get(), pattern.get()));
        }
      default:
        return Optional.empty();
    }
  }

  private static Expr compare(String op, Expr l, Expr r) {
    switch (op) {
      case "=":
        return l.eq(r);
      case "<>":
        return l.notEq(r);
      case "<":
        return l.lt(r);
      case "<=":
        return l.ltEq(r);
      case ">":
        return l.gt(r);
      case ">=":
        return l.gtEq(r);
      default:
        return l.isNotDistinctFrom(r);
    }
  }

  private Optional<Expr> bool(Expression e) {
    if (e instanceof Predicate) {
      return predicate((Predicate) e);
    }
    return value(e);
  }

  private boolean isString(Expression e) {
    return DataTypes.StringType.equals(typeOf(e));
  }

  /** The Spark type of a column reference or literal, or null. */
  private DataType typeOf(Expression e) {
    if (e instanceof NamedReference) {
      String[] names = ((NamedReference) e).fieldNames();
      if (names.length != 1) {
        return null;
      }
      for (StructField f : schema.fields()) {
        if (f.name().equals(names[0])) {
          return f.dataType();
        }
      }
      return null;
    } else if (e instanceof Literal) {
      return ((Literal<?>) e).dataType();
    } else if (e instanceof Cast) {
      return ((Cast) e).dataType();
    }
    return null;
  }

  /**
   * @param e a Spark value expression
   * @return the expression, or empty
   */
  public Optional<Expr> value(Expression e) {
    if (e instanceof Predicate) {
      return predicate((Predicate) e);
    } else if (e instanceof NamedReference) {
      // Only top-level columns of the source (nested fields are not pushed).
      return typeOf(e) == null
          ? Optional.empty()
          : Optional.of(col(((NamedReference) e).fieldNames()[0]));
    } else if (e instanceof Literal) {
      return literal((Literal<?>) e);
    } else if (e instanceof Cast) {
      Cast cast = (Cast) e;
      DataType from = typeOf(cast.expression());
      ArrowType to = SparkTypes.arrowType(cast.dataType());
      if (from == null || to == null || !widens(from, cast.dataType())) {
        return Optional.empty();
      }
      return value(cast.expression()).map(v -> v.cast(to));
    }
    return Optional.empty();
  }

  private static final List<DataType> INTEGRAL =
      List.of(DataTypes.ByteType, DataTypes.ShortType, DataTypes.IntegerType, DataTypes.LongType);
  private static final int[] INTEGRAL_DIGITS = {3, 5, 10, 19};

  /** Whether casting {@code from} to {@code to} is exact in Spark and in DataFusion alike. */
  static boolean widens(DataType from, DataType to) {
    if (from.equals(to)) {
      return true;
    }
    int fi = INTEGRAL.indexOf(from);
    if (fi >= 0) {
      int ti = INTEGRAL.indexOf(to);
      if (ti >= 0) {
        return ti >= fi;
      }
      if (to instanceof DecimalType) {
        DecimalType d = (DecimalType) to;
        return d.precision() - d.scale() >= INTEGRAL_DIGITS[fi];
      }
      // int -> double is exact; long -> double rounds the same way (IEEE) in both engines.
      return to.equals(DataTypes.DoubleType);
    }
    if (from.equals(DataTypes.FloatType)) {
      return to.equals(DataTypes.DoubleType);
    }
    if (from instanceof DecimalType && to instanceof DecimalType) {
      DecimalType f = (DecimalType) from;
      DecimalType t = (DecimalType) to;
      return t.scale() >= f.scale() && t.precision() - t.scale() >= f.precision() - f.scale();
    }
    return false;
  }

  /**
   * @param l a Spark literal
   * @return the same value as a spec literal, or empty for a type the connector does not push
   */
  static Optional<Expr> literal(Literal<?> l) {
    Object v = l.value();
    DataType t = l.dataType();
    if (v == null) {
      ArrowType arrow = SparkTypes.arrowType(t);
      return arrow == null ? Optional.empty() : Optional.of(litNull(arrow));
    }
    if (t.equals(DataTypes.BooleanType)) {
      return Optional.of(lit((Boolean) v));
    } else if (t.equals(DataTypes.ByteType)) {
      return Optional.of(lit((Byte) v));
    } else if (t.equals(DataTypes.ShortType)) {
      return Optional.of(lit((Short) v));
    } else if (t.equals(DataTypes.IntegerType)) {
      return Optional.of(lit((Integer) v));
    } else if (t.equals(DataTypes.LongType)) {
      return Optional.of(lit((Long) v));
    } else if (t.equals(DataTypes.FloatType)) {
      return Optional.of(lit((Float) v));
    } else if (t.equals(DataTypes.DoubleType)) {
      return Optional.of(lit((Double) v));
    } else if (t.equals(DataTypes.StringType)) {
      return Optional.of(lit(v.toString()));
    } else if (t.equals(DataTypes.BinaryType)) {
      return Optional.of(lit((byte[]) v));
    } else if (t instanceof DecimalType) {
      DecimalType d = (DecimalType) t;
      java.math.BigDecimal b = ((Decimal) v).toJavaBigDecimal().setScale(d.scale());
      return Optional.of(litDecimal(b.unscaledValue(), d.precision(), d.scale()));
    } else if (t.equals(DataTypes.DateType)) {
      return Optional.of(lit(LocalDate.ofEpochDay((Integer) v)));
    } else if (t.equals(DataTypes.TimestampType)) {
      // Spark's TIMESTAMP is an instant (microseconds since the epoch, UTC).
      return Optional.of(litTimestamp((Long) v, TimeUnit.MICROSECOND, "UTC"));
    } else if (t.equals(DataTypes.TimestampNTZType)) {
      return Optional.of(litTimestamp((Long) v, TimeUnit.MICROSECOND, null));
    }
    return Optional.empty();
  }

  /** Aggregate functions pushed by name (Spark's name -> DataFusion's). */
  private static final Set<String> GENERAL_AGGREGATES =
      Set.of("VAR_POP", "VAR_SAMP", "STDDEV_POP", "STDDEV_SAMP");

  /**
   * @param f a Spark aggregate
   * @return the aggregate call, or empty when Ballista should not compute it
   */
  public Optional<Expr> aggregate(AggregateFunc f) {
    if (f instanceof CountStar) {
      return Optional.of(Functions.countAll());
    } else if (f instanceof Count) {
      Count c = (Count) f;
      return value(c.column()).map(v -> c.isDistinct() ? Functions.countDistinct(v) : Functions.count(v));
    } else if (f instanceof Sum) {
      Sum s = (Sum) f;
      return value(s.column()).map(v -> aggregateCall("sum", s.isDistinct(), v));
    } else if (f instanceof Avg) {
      Avg a = (Avg) f;
      return value(a.column()).map(v -> aggregateCall("avg", a.isDistinct(), v));
    } else if (f instanceof Min) {
      return value(((Min) f).column()).map(Functions::min);
    } else if (f instanceof Max) {
      return value(((Max) f).column()).map(Functions::max);
    } else if (f instanceof GeneralAggregateFunc) {
      GeneralAggregateFunc g = (GeneralAggregateFunc) f;
      if (!GENERAL_AGGREGATES.contains(g.name()) || g.children().length != 1) {
        return Optional.empty();
      }
      String name = g.name().toLowerCase(java.util.Locale.ROOT);
      return value(g.children()[0]).map(v -> aggregateCall(name, g.isDistinct(), v));
    }
    return Optional.empty();
  }

  /**
   * Whether Ballista's answer for {@code f} is Spark's to the last digit. AVG of a DECIMAL is not:
   * Spark rounds the quotient half-up, DataFusion truncates it. For such an aggregation the
   * connector declines complete pushdown, and Spark pushes SUM and COUNT instead and divides
   * itself.
   *
   * @param f an aggregate
   * @return false for AVG over a decimal
   */
  public boolean exact(AggregateFunc f) {
    return !(f instanceof Avg && typeOf(((Avg) f).column()) instanceof DecimalType);
  }

  private static Expr aggregateCall(String name, boolean distinct, Expr argument) {
    return Expr.fromProto(
        dev.ballista.proto.v1.Expression.newBuilder()
            .setAggregateFunction(
                AggregateFunction.newBuilder()
                    .setName(name)
                    .addArguments(argument.toProto())
                    .setDistinct(distinct))
            .build());
  }
}
