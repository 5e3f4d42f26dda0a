package dev.ballista.client.expr;

import dev.ballista.client.errors.NotImplementedException;
import dev.ballista.proto.v1.DataType;
import dev.ballista.proto.v1.DecimalType;
import dev.ballista.proto.v1.EmptyType;
import dev.ballista.proto.v1.IntervalUnit;
import dev.ballista.proto.v1.TimeUnit;
import dev.ballista.proto.v1.TimestampType;
import org.apache.arrow.vector.types.pojo.ArrowType;

/**
 * Arrow Java types to the spec's {@code ballista.v1.DataType}, as the Rust client's {@code
 * data_type_to_proto} does for the scalar types (nested types are not needed by the builders).
 */
public final class Types {
  private Types() {}

  private static final EmptyType E = EmptyType.getDefaultInstance();

  /**
   * The spec time unit of an Arrow Java time unit.
   *
   * @param unit the Arrow unit
   * @return the spec unit
   */
  public static TimeUnit toProto(org.apache.arrow.vector.types.TimeUnit unit) {
    switch (unit) {
      case SECOND:
        return TimeUnit.TIME_UNIT_SECOND;
      case MILLISECOND:
        return TimeUnit.TIME_UNIT_MILLISECOND;
      case MICROSECOND:
        return TimeUnit.TIME_UNIT_MICROSECOND;
      default:
        return TimeUnit.TIME_UNIT_NANOSECOND;
    }
  }

  /**
   * The spec data type of an Arrow Java type.
   *
   * @param type the Arrow type
   * @return the spec message
   * @throws NotImplementedException for types the builders do not express (nested types)
   */
  public static DataType toProto(ArrowType type) {
    DataType.Builder b = DataType.newBuilder();
    switch (type.getTypeID()) {
      case Null:
        return b.setNull(E).build();
      case Bool:
        return b.setBool(E).build();
      case Int:
        {
          ArrowType.Int t = (ArrowType.Int) type;
          switch (t.getBitWidth()) {
            case 8:
              return (t.getIsSigned() ? b.setInt8(E) : b.setUint8(E)).build();
            case 16:
              return (t.getIsSigned() ? b.setInt16(E) : b.setUint16(E)).build();
            case 32:
              return (t.getIsSigned() ? b.setInt32(E) : b.setUint32(E)).build();
            default:
              return (t.getIsSigned() ? b.setInt64(E) : b.setUint64(E)).build();
          }
        }
      case FloatingPoint:
        switch (((ArrowType.FloatingPoint) type).getPrecision()) {
          case HALF:
            return b.setFloat16(E).build();
          case SINGLE:
            return b.setFloat32(E).build();
          default:
            return b.setFloat64(E).build();
        }
      case Utf8:
        return b.setUtf8(E).build();
      case LargeUtf8:
        return b.setLargeUtf8(E).build();
      case Utf8View:
        return b.setUtf8View(E).build();
      case Binary:
        return b.setBinary(E).build();
      case LargeBinary:
        return b.setLargeBinary(E).build();
      case BinaryView:
        return b.setBinaryView(E).build();
      case FixedSizeBinary:
        return b.setFixedSizeBinary(((ArrowType.FixedSizeBinary) type).getByteWidth()).build();
      case Date:
        return (((ArrowType.Date) type).getUnit() == org.apache.arrow.vector.types.DateUnit.DAY
                ? b.setDate32(E)
                : b.setDate64(E))
            .build();
      case Time:
        {
          ArrowType.Time t = (ArrowType.Time) type;
          return (t.getBitWidth() == 32
                  ? b.setTime32(toProto(t.getUnit()))
                  : b.setTime64(toProto(t.getUnit())))
              .build();
        }
      case Timestamp:
        {
          ArrowType.Timestamp t = (ArrowType.Timestamp) type;
          TimestampType.Builder ts = TimestampType.newBuilder().setUnit(toProto(t.getUnit()));
          if (t.getTimezone() != null) {
            ts.setTimezone(t.getTimezone());
          }
          return b.setTimestamp(ts).build();
        }
      case Duration:
        return b.setDuration(toProto(((ArrowType.Duration) type).getUnit())).build();
      case Interval:
        switch (((ArrowType.Interval) type).getUnit()) {
          case YEAR_MONTH:
            return b.setInterval(IntervalUnit.INTERVAL_UNIT_YEAR_MONTH).build();
          case DAY_TIME:
            return b.setInterval(IntervalUnit.INTERVAL_UNIT_DAY_TIME).build();
          default:
            return b.setInterval(IntervalUnit.INTERVAL_UNIT_MONTH_DAY_NANO).build();
        }
      case Decimal:
        {
          ArrowType.Decimal d = (ArrowType.Decimal) type;
          DecimalType dt =
              DecimalType.newBuilder().setPrecision(d.getPrecision()).setScale(d.getScale()).build();
          switch (d.getBitWidth()) {
            case 32:
              return b.setDecimal32(dt).build();
            case 64:
              return b.setDecimal64(dt).build();
            case 256:
              return b.setDecimal256(dt).build();
            default:
              return b.setDecimal128(dt).build();
          }
        }
      default:
        throw new NotImplementedException(
            "Arrow type " + type + " has no representation in the Java builders of spec v1", null);
    }
  }
}
