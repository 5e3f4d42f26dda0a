package dev.ballista.spark.arrow;

import dev.ballista.spark.shaded.org.apache.arrow.vector.types.DateUnit;
import dev.ballista.spark.shaded.org.apache.arrow.vector.types.FloatingPointPrecision;
import dev.ballista.spark.shaded.org.apache.arrow.vector.types.TimeUnit;
import dev.ballista.spark.shaded.org.apache.arrow.vector.types.pojo.ArrowType;
import dev.ballista.spark.shaded.org.apache.arrow.vector.types.pojo.Field;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Which Spark type each Arrow type of a Ballista result becomes.
 *
 * <p>Spark reads the batches through {@code ArrowColumnVector}, which knows a fixed set of Arrow
 * vectors. A column of another Arrow type is cast <em>on the cluster</em>, by a projection the
 * connector adds to the plan ({@link #sparkArrowType}): string and binary views and large
 * variants become Utf8/Binary, unsigned integers the next wider signed type (UInt64 becomes
 * DECIMAL(20,0)), half floats Float32, Date64 Date32, and timestamps of any unit microseconds
 * (Spark's unit; a time zone makes a {@code TIMESTAMP}, none a {@code TIMESTAMP_NTZ}). Types Spark
 * has nothing for (time of day, durations, intervals, Decimal256 and nested types whose children
 * would need a cast) are refused with the column's name.
 */
public final class SparkTypes {
  private SparkTypes() {}

  /**
   * The Arrow type a column must have when it reaches Spark.
   *
   * @param field the column as Ballista returns it
   * @return the type to cast it to, which is {@code field.getType()} when no cast is needed
   * @throws UnsupportedOperationException for a type Spark cannot represent
   */
  public static ArrowType sparkArrowType(Field field) {
    ArrowType t = field.getType();
    switch (t.getTypeID()) {
      case Null:
      case Bool:
      case Utf8:
      case Binary:
        return t;
      case Int:
        {
          ArrowType.Int i = (ArrowType.Int) t;
          if (i.getIsSigned()) {
            return t;
          }
          switch (i.getBitWidth()) {
            case 8:
              return new ArrowType.Int(16, true);
            case 16:
              return new ArrowType.Int(32, true);
            case 32:
              return new ArrowType.Int(64, true);
            default:
              return new ArrowType.Decimal(20, 0, 128);
          }
        }
      case FloatingPoint:
        return ((ArrowType.FloatingPoint) t).getPrecision() == FloatingPointPrecision.HALF
            ? new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)
            : t;
      case LargeUtf8:
      case Utf8View:
        return ArrowType.Utf8.INSTANCE;
      case LargeBinary:
      case BinaryView:
      case FixedSizeBinary:
        return ArrowType.Binary.INSTANCE;
      case Decimal:
        {
          ArrowType.Decimal d = (ArrowType.Decimal) t;
          if (d.getBitWidth() == 128 && d.getPrecision() <= 38) {
            return t;
          }
          throw unsupported(field, "Spark decimals have at most 38 digits");
        }
      case Date:
        return ((ArrowType.Date) t).getUnit() == DateUnit.DAY
            ? t
            : new ArrowType.Date(DateUnit.DAY);
      case Timestamp:
        {
          ArrowType.Timestamp ts = (ArrowType.Timestamp) t;
          return ts.getUnit() == TimeUnit.MICROSECOND
              ? t
              : new ArrowType.Timestamp(TimeUnit.MICROSECOND, ts.getTimezone());
        }
      case List:
      case Struct:
      case Map:
        for (Field child : field.getChildren()) {
          if (!sparkArrowType(child).equals(child.getType())) {
            throw unsupported(
                field, "its child `" + child.getName() + "` would need a cast; cast it in the query");
          }
        }
        return t;
      default:
        throw unsupported(field, "Spark has no type for it; cast it in the query");
    }
  }

  private static UnsupportedOperationException unsupported(Field field, String why) {
    return new UnsupportedOperationException(
        "column `" + field.getName() + "` has Arrow type " + field.getType() + ": " + why);
  }

  /**
   * The Spark type of a column whose Arrow type is one {@link #sparkArrowType} returns.
   *
   * @param field the column
   * @return its Spark type
   */
  public static DataType sparkType(Field field) {
    ArrowType t = field.getType();
    switch (t.getTypeID()) {
      case Null:
        return DataTypes.NullType;
      case Bool:
        return DataTypes.BooleanType;
      case Int:
        switch (((ArrowType.Int) t).getBitWidth()) {
          case 8:
            return DataTypes.ByteType;
          case 16:
            return DataTypes.ShortType;
          case 32:
            return DataTypes.IntegerType;
          default:
            return DataTypes.LongType;
        }
      case FloatingPoint:
        return ((ArrowType.FloatingPoint) t).getPrecision() == FloatingPointPrecision.DOUBLE
            ? DataTypes.DoubleType
            : DataTypes.FloatType;
      case Utf8:
        return DataTypes.StringType;
      case Binary:
        return DataTypes.BinaryType;
      case Decimal:
        {
          ArrowType.Decimal d = (ArrowType.Decimal) t;
          return DataTypes.createDecimalType(d.getPrecision(), d.getScale());
        }
      case Date:
        return DataTypes.DateType;
      case Timestamp:
        return ((ArrowType.Timestamp) t).getTimezone() == null
            ? DataTypes.TimestampNTZType
            : DataTypes.TimestampType;
      case List:
        {
          Field element = field.getChildren().get(0);
          return DataTypes.createArrayType(sparkType(element), element.isNullable());
        }
      case Struct:
        return sparkSchema(field.getChildren());
      case Map:
        {
          Field entries = field.getChildren().get(0);
          Field value = entries.getChildren().get(1);
          return DataTypes.createMapType(
              sparkType(entries.getChildren().get(0)), sparkType(value), value.isNullable());
        }
      default:
        throw unsupported(field, "Spark has no type for it");
    }
  }

  /**
   * @param fields Arrow columns (already of Spark-compatible types)
   * @return the Spark schema
   */
  public static StructType sparkSchema(List<Field> fields) {
    List<StructField> out = new ArrayList<>();
    for (Field f : fields) {
      out.add(DataTypes.createStructField(f.getName(), sparkType(f), f.isNullable()));
    }
    return DataTypes.createStructType(out);
  }

  /**
   * The Arrow type of a Spark atomic type, for casts in pushed predicates.
   *
   * @param type a Spark type
   * @return the Arrow type, or null when the connector does not cast to it
   */
  public static ArrowType arrowType(DataType type) {
    if (type.equals(DataTypes.ByteType)) {
      return new ArrowType.Int(8, true);
    } else if (type.equals(DataTypes.ShortType)) {
      return new ArrowType.Int(16, true);
    } else if (type.equals(DataTypes.IntegerType)) {
      return new ArrowType.Int(32, true);
    } else if (type.equals(DataTypes.LongType)) {
      return new ArrowType.Int(64, true);
    } else if (type.equals(DataTypes.FloatType)) {
      return new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
    } else if (type.equals(DataTypes.DoubleType)) {
      return new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
    } else if (type instanceof DecimalType) {
      DecimalType d = (DecimalType) type;
      return new ArrowType.Decimal(d.precision(), d.scale(), 128);
    } else if (type.equals(DataTypes.StringType)) {
      return ArrowType.Utf8.INSTANCE;
    } else if (type.equals(DataTypes.DateType)) {
      return new ArrowType.Date(DateUnit.DAY);
    } else if (type.equals(DataTypes.BooleanType)) {
      return ArrowType.Bool.INSTANCE;
    }
    return null;
  }
}
