//! Arrow types, literals and schemas between the spec and Arrow/DataFusion.
//!
//! Every conversion is total in one direction (Arrow -> spec fails only for
//! types the spec cannot express) and checked in the other: a malformed
//! message yields an error that names the offending field.

use std::io::Cursor;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{
    DataType, Field, FieldRef, Fields, IntervalDayTime, IntervalMonthDayNano, IntervalUnit, Schema,
    SchemaRef, TimeUnit, i256,
};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::{
    DictionaryTracker, IpcDataGenerator, IpcWriteOptions, StreamWriter, write_message,
};
use ballista_proto::v1 as pb;
use datafusion::common::ScalarValue;

use crate::error::{BallistaError, Result, known_enum, required};

use pb::data_type::Kind;
use pb::literal::Value;

fn empty() -> pb::EmptyType {
    pb::EmptyType {}
}

/// Arrow time unit to the spec.
pub fn time_unit_to_proto(unit: &TimeUnit) -> pb::TimeUnit {
    match unit {
        TimeUnit::Second => pb::TimeUnit::Second,
        TimeUnit::Millisecond => pb::TimeUnit::Millisecond,
        TimeUnit::Microsecond => pb::TimeUnit::Microsecond,
        TimeUnit::Nanosecond => pb::TimeUnit::Nanosecond,
    }
}

/// Spec time unit (as its raw enum value) to Arrow; `field` names it in errors.
pub fn time_unit_from_proto(unit: i32, field: &str) -> Result<TimeUnit> {
    match known_enum::<pb::TimeUnit>(unit, field)? {
        pb::TimeUnit::Second => Ok(TimeUnit::Second),
        pb::TimeUnit::Millisecond => Ok(TimeUnit::Millisecond),
        pb::TimeUnit::Microsecond => Ok(TimeUnit::Microsecond),
        pb::TimeUnit::Nanosecond => Ok(TimeUnit::Nanosecond),
        pb::TimeUnit::Unspecified => Err(BallistaError::invalid(field, "time unit is not set")),
    }
}

/// Arrow data type to the spec.
pub fn data_type_to_proto(dt: &DataType) -> Result<pb::DataType> {
    let kind = match dt {
        DataType::Null => Kind::Null(empty()),
        DataType::Boolean => Kind::Bool(empty()),
        DataType::Int8 => Kind::Int8(empty()),
        DataType::Int16 => Kind::Int16(empty()),
        DataType::Int32 => Kind::Int32(empty()),
        DataType::Int64 => Kind::Int64(empty()),
        DataType::UInt8 => Kind::Uint8(empty()),
        DataType::UInt16 => Kind::Uint16(empty()),
        DataType::UInt32 => Kind::Uint32(empty()),
        DataType::UInt64 => Kind::Uint64(empty()),
        DataType::Float16 => Kind::Float16(empty()),
        DataType::Float32 => Kind::Float32(empty()),
        DataType::Float64 => Kind::Float64(empty()),
        DataType::Utf8 => Kind::Utf8(empty()),
        DataType::LargeUtf8 => Kind::LargeUtf8(empty()),
        DataType::Utf8View => Kind::Utf8View(empty()),
        DataType::Binary => Kind::Binary(empty()),
        DataType::LargeBinary => Kind::LargeBinary(empty()),
        DataType::BinaryView => Kind::BinaryView(empty()),
        DataType::FixedSizeBinary(n) => Kind::FixedSizeBinary(*n),
        DataType::Date32 => Kind::Date32(empty()),
        DataType::Date64 => Kind::Date64(empty()),
        DataType::Time32(u) => Kind::Time32(time_unit_to_proto(u) as i32),
        DataType::Time64(u) => Kind::Time64(time_unit_to_proto(u) as i32),
        DataType::Timestamp(u, tz) => Kind::Timestamp(pb::TimestampType {
            unit: time_unit_to_proto(u) as i32,
            timezone: tz.as_ref().map(|t| t.to_string()),
        }),
        DataType::Duration(u) => Kind::Duration(time_unit_to_proto(u) as i32),
        DataType::Interval(u) => Kind::Interval(match u {
            IntervalUnit::YearMonth => pb::IntervalUnit::YearMonth,
            IntervalUnit::DayTime => pb::IntervalUnit::DayTime,
            IntervalUnit::MonthDayNano => pb::IntervalUnit::MonthDayNano,
        } as i32),
        DataType::Decimal32(p, s) => Kind::Decimal32(decimal_type(*p, *s)),
        DataType::Decimal64(p, s) => Kind::Decimal64(decimal_type(*p, *s)),
        DataType::Decimal128(p, s) => Kind::Decimal128(decimal_type(*p, *s)),
        DataType::Decimal256(p, s) => Kind::Decimal256(decimal_type(*p, *s)),
        DataType::List(f) => Kind::List(Box::new(field_to_proto(f)?)),
        DataType::LargeList(f) => Kind::LargeList(Box::new(field_to_proto(f)?)),
        DataType::FixedSizeList(f, n) => Kind::FixedSizeList(Box::new(pb::FixedSizeListType {
            element: Some(Box::new(field_to_proto(f)?)),
            size: *n,
        })),
        DataType::Struct(fields) => Kind::Struct(pb::StructType {
            fields: fields
                .iter()
                .map(|f| field_to_proto(f))
                .collect::<Result<_>>()?,
        }),
        DataType::Map(f, sorted) => Kind::Map(Box::new(pb::MapType {
            entries: Some(Box::new(field_to_proto(f)?)),
            keys_sorted: *sorted,
        })),
        DataType::Dictionary(k, v) => Kind::Dictionary(Box::new(pb::DictionaryType {
            key: Some(Box::new(data_type_to_proto(k)?)),
            value: Some(Box::new(data_type_to_proto(v)?)),
        })),
        other => {
            return Err(BallistaError::NotImplemented(format!(
                "Arrow type {other} has no representation in the Ballista plan spec v1"
            )));
        }
    };
    Ok(pb::DataType { kind: Some(kind) })
}

fn decimal_type(precision: u8, scale: i8) -> pb::DecimalType {
    pb::DecimalType {
        precision: u32::from(precision),
        scale: i32::from(scale),
    }
}

/// Validates a decimal type for a storage width of `bits`: precision in
/// 1..=max for that width (9, 18, 38, 76, as Arrow defines them) and scale
/// at most the precision. Out-of-range values would otherwise reach
/// DataFusion's type coercion, whose precision arithmetic can overflow.
fn decimal_from_proto(d: &pb::DecimalType, bits: u32, field: &str) -> Result<(u8, i8)> {
    let max_precision: u32 = match bits {
        32 => 9,
        64 => 18,
        128 => 38,
        _ => 76,
    };
    if d.precision == 0 || d.precision > max_precision {
        return Err(BallistaError::invalid(
            field,
            format!(
                "precision {} out of range 1..={max_precision} for a {bits}-bit decimal",
                d.precision
            ),
        ));
    }
    let precision = u8::try_from(d.precision).map_err(|_| {
        BallistaError::invalid(field, format!("precision {} out of range", d.precision))
    })?;
    let scale = i8::try_from(d.scale)
        .ok()
        .filter(|s| i32::from(*s) <= i32::from(precision))
        .ok_or_else(|| {
            BallistaError::invalid(
                field,
                format!(
                    "scale {} out of range (at most the precision {precision})",
                    d.scale
                ),
            )
        })?;
    Ok((precision, scale))
}

/// Spec data type to Arrow; `field` names the message in errors.
pub fn data_type_from_proto(dt: &pb::DataType, field: &str) -> Result<DataType> {
    let kind = required(&dt.kind, &format!("{field}.kind"))?;
    Ok(match kind {
        Kind::Null(_) => DataType::Null,
        Kind::Bool(_) => DataType::Boolean,
        Kind::Int8(_) => DataType::Int8,
        Kind::Int16(_) => DataType::Int16,
        Kind::Int32(_) => DataType::Int32,
        Kind::Int64(_) => DataType::Int64,
        Kind::Uint8(_) => DataType::UInt8,
        Kind::Uint16(_) => DataType::UInt16,
        Kind::Uint32(_) => DataType::UInt32,
        Kind::Uint64(_) => DataType::UInt64,
        Kind::Float16(_) => DataType::Float16,
        Kind::Float32(_) => DataType::Float32,
        Kind::Float64(_) => DataType::Float64,
        Kind::Utf8(_) => DataType::Utf8,
        Kind::LargeUtf8(_) => DataType::LargeUtf8,
        Kind::Utf8View(_) => DataType::Utf8View,
        Kind::Binary(_) => DataType::Binary,
        Kind::LargeBinary(_) => DataType::LargeBinary,
        Kind::BinaryView(_) => DataType::BinaryView,
        Kind::FixedSizeBinary(n) => DataType::FixedSizeBinary(*n),
        Kind::Date32(_) => DataType::Date32,
        Kind::Date64(_) => DataType::Date64,
        Kind::Time32(u) => DataType::Time32(time_unit_from_proto(*u, &format!("{field}.time32"))?),
        Kind::Time64(u) => DataType::Time64(time_unit_from_proto(*u, &format!("{field}.time64"))?),
        Kind::Timestamp(t) => DataType::Timestamp(
            time_unit_from_proto(t.unit, &format!("{field}.timestamp.unit"))?,
            t.timezone.as_deref().map(Arc::from),
        ),
        Kind::Duration(u) => {
            DataType::Duration(time_unit_from_proto(*u, &format!("{field}.duration"))?)
        }
        Kind::Interval(u) => {
            let f = format!("{field}.interval");
            DataType::Interval(match known_enum::<pb::IntervalUnit>(*u, &f)? {
                pb::IntervalUnit::YearMonth => IntervalUnit::YearMonth,
                pb::IntervalUnit::DayTime => IntervalUnit::DayTime,
                pb::IntervalUnit::MonthDayNano => IntervalUnit::MonthDayNano,
                pb::IntervalUnit::Unspecified => {
                    return Err(BallistaError::invalid(&f, "interval unit is not set"));
                }
            })
        }
        Kind::Decimal32(d) => {
            let (p, s) = decimal_from_proto(d, 32, &format!("{field}.decimal32"))?;
            DataType::Decimal32(p, s)
        }
        Kind::Decimal64(d) => {
            let (p, s) = decimal_from_proto(d, 64, &format!("{field}.decimal64"))?;
            DataType::Decimal64(p, s)
        }
        Kind::Decimal128(d) => {
            let (p, s) = decimal_from_proto(d, 128, &format!("{field}.decimal128"))?;
            DataType::Decimal128(p, s)
        }
        Kind::Decimal256(d) => {
            let (p, s) = decimal_from_proto(d, 256, &format!("{field}.decimal256"))?;
            DataType::Decimal256(p, s)
        }
        Kind::List(f) => DataType::List(field_from_proto(f, &format!("{field}.list"))?),
        Kind::LargeList(f) => {
            DataType::LargeList(field_from_proto(f, &format!("{field}.large_list"))?)
        }
        Kind::FixedSizeList(l) => {
            let f = format!("{field}.fixed_size_list.element");
            DataType::FixedSizeList(field_from_proto(required(&l.element, &f)?, &f)?, l.size)
        }
        Kind::Struct(s) => DataType::Struct(
            s.fields
                .iter()
                .enumerate()
                .map(|(i, f)| field_from_proto(f, &format!("{field}.struct.fields[{i}]")))
                .collect::<Result<Fields>>()?,
        ),
        Kind::Map(m) => {
            let f = format!("{field}.map.entries");
            DataType::Map(
                field_from_proto(required(&m.entries, &f)?, &f)?,
                m.keys_sorted,
            )
        }
        Kind::Dictionary(d) => {
            let kf = format!("{field}.dictionary.key");
            let vf = format!("{field}.dictionary.value");
            DataType::Dictionary(
                Box::new(data_type_from_proto(required(&d.key, &kf)?, &kf)?),
                Box::new(data_type_from_proto(required(&d.value, &vf)?, &vf)?),
            )
        }
    })
}

/// Arrow field to the spec.
pub fn field_to_proto(f: &Field) -> Result<pb::Field> {
    let mut metadata: Vec<_> = f
        .metadata()
        .iter()
        .map(|(k, v)| pb::KeyValue {
            key: k.clone(),
            value: v.clone(),
        })
        .collect();
    // Sorted so that the same field always encodes to the same bytes.
    metadata.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(pb::Field {
        name: f.name().clone(),
        data_type: Some(Box::new(data_type_to_proto(f.data_type())?)),
        nullable: f.is_nullable(),
        metadata,
    })
}

/// Spec field to Arrow.
pub fn field_from_proto(f: &pb::Field, field: &str) -> Result<FieldRef> {
    let dt_field = format!("{field}.data_type");
    let dt = data_type_from_proto(required(&f.data_type, &dt_field)?, &dt_field)?;
    let metadata = f
        .metadata
        .iter()
        .map(|kv| (kv.key.clone(), kv.value.clone()))
        .collect();
    Ok(Arc::new(
        Field::new(&f.name, dt, f.nullable).with_metadata(metadata),
    ))
}

/// Arrow schema to its encapsulated IPC message (as FlightInfo.schema).
pub fn schema_to_proto(schema: &Schema) -> Result<pb::Schema> {
    let options = IpcWriteOptions::default();
    let mut tracker = DictionaryTracker::new(false);
    let encoded = IpcDataGenerator::default().schema_to_bytes_with_dictionary_tracker(
        schema,
        &mut tracker,
        &options,
    );
    let mut arrow_ipc = Vec::new();
    write_message(&mut arrow_ipc, encoded, &options)?;
    Ok(pb::Schema { arrow_ipc })
}

/// Encapsulated IPC schema message to an Arrow schema.
pub fn schema_from_proto(schema: &pb::Schema, field: &str) -> Result<SchemaRef> {
    let bytes = schema.arrow_ipc.as_slice();
    let schema = without_panics(field, "Arrow IPC schema message", || {
        arrow::ipc::convert::try_schema_from_ipc_buffer(bytes)
    })?
    .map_err(|e| BallistaError::invalid(field, format!("not an Arrow IPC schema message: {e}")))?;
    for f in schema.fields() {
        validate_data_type(f.data_type(), &format!("{field}.{}", f.name()))?;
    }
    Ok(Arc::new(schema))
}

/// Checks what arrow-ipc does not: decimal precision and scale within the
/// limits of their storage width, at any nesting depth. DataFusion's type
/// rules assume valid decimals (and overflow on, say, a scale of 127).
fn validate_data_type(dt: &DataType, field: &str) -> Result<()> {
    let (p, s, bits) = match dt {
        DataType::Decimal32(p, s) => (*p, *s, 32),
        DataType::Decimal64(p, s) => (*p, *s, 64),
        DataType::Decimal128(p, s) => (*p, *s, 128),
        DataType::Decimal256(p, s) => (*p, *s, 256),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => return validate_data_type(f.data_type(), field),
        DataType::Struct(fields) => {
            return fields
                .iter()
                .try_for_each(|f| validate_data_type(f.data_type(), field));
        }
        DataType::Dictionary(k, v) => {
            validate_data_type(k, field)?;
            return validate_data_type(v, field);
        }
        _ => return Ok(()),
    };
    let d = pb::DecimalType {
        precision: u32::from(p),
        scale: i32::from(s),
    };
    decimal_from_proto(&d, bits, field).map(|_| ())
}

/// Runs an Arrow IPC decoding step, turning a panic into an error.
///
/// arrow-ipc 59 validates the flatbuffer structure but still panics on some
/// well-formed yet meaningless contents (an `Int` of bit width 40, a `List`
/// without a child, a `NONE` type), which the decoder fuzz test finds within
/// seconds. Plans arrive from the network, so a malformed schema must be an
/// error naming the field, never a crashed scheduler or executor.
pub(crate) fn without_panics<T>(field: &str, what: &str, f: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|_| BallistaError::invalid(field, format!("malformed {what}")))
}

/// A required schema field, decoded.
pub fn required_schema(schema: &Option<pb::Schema>, field: &str) -> Result<SchemaRef> {
    schema_from_proto(required(schema, field)?, field)
}

/// Record batches to an Arrow IPC stream.
pub fn batches_to_ipc(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>> {
    let mut writer = StreamWriter::try_new(Vec::new(), schema)?;
    for batch in batches {
        writer.write(batch)?;
    }
    Ok(writer.into_inner()?)
}

/// An Arrow IPC stream to record batches.
pub fn batches_from_ipc(bytes: &[u8], field: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    without_panics(field, "Arrow IPC stream", || {
        let reader = StreamReader::try_new(Cursor::new(bytes), None)
            .map_err(|e| BallistaError::invalid(field, format!("not an Arrow IPC stream: {e}")))?;
        let schema = reader.schema();
        let batches = reader
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| BallistaError::invalid(field, format!("corrupt Arrow IPC stream: {e}")))?;
        Ok((schema, batches))
    })?
}

/// Sort options to the spec.
pub fn sort_options_to_proto(o: &arrow::compute::SortOptions) -> pb::SortOptions {
    pb::SortOptions {
        descending: o.descending,
        nulls_first: o.nulls_first,
    }
}

/// Spec sort options to Arrow; absent means ascending, nulls last.
pub fn sort_options_from_proto(o: Option<&pb::SortOptions>) -> arrow::compute::SortOptions {
    let o = o.copied().unwrap_or_default();
    arrow::compute::SortOptions {
        descending: o.descending,
        nulls_first: o.nulls_first,
    }
}

fn timestamp(value: i64, unit: TimeUnit, tz: &Option<Arc<str>>) -> Value {
    Value::TimestampValue(pb::TimestampValue {
        value,
        unit: time_unit_to_proto(&unit) as i32,
        timezone: tz.as_ref().map(|t| t.to_string()),
    })
}

fn decimal(unscaled: String, precision: u8, scale: i8, bit_width: u32) -> Value {
    Value::DecimalValue(pb::DecimalValue {
        unscaled,
        precision: u32::from(precision),
        scale: i32::from(scale),
        bit_width,
    })
}

fn duration(value: i64, unit: TimeUnit) -> Value {
    Value::DurationValue(pb::DurationValue {
        value,
        unit: time_unit_to_proto(&unit) as i32,
    })
}

fn time(value: i64, unit: TimeUnit) -> Value {
    Value::TimeValue(pb::TimeValue {
        value,
        unit: time_unit_to_proto(&unit) as i32,
    })
}

/// DataFusion scalar value to a spec literal.
pub fn scalar_to_proto(v: &ScalarValue) -> Result<pb::Literal> {
    if v.is_null() {
        return Ok(pb::Literal {
            value: Some(Value::NullValue(data_type_to_proto(&v.data_type())?)),
        });
    }
    // Non-null from here: the Option payloads below are all Some.
    let value = match v {
        ScalarValue::Boolean(Some(b)) => Value::BoolValue(*b),
        ScalarValue::Int8(Some(x)) => Value::Int8Value(i32::from(*x)),
        ScalarValue::Int16(Some(x)) => Value::Int16Value(i32::from(*x)),
        ScalarValue::Int32(Some(x)) => Value::Int32Value(*x),
        ScalarValue::Int64(Some(x)) => Value::Int64Value(*x),
        ScalarValue::UInt8(Some(x)) => Value::Uint8Value(u32::from(*x)),
        ScalarValue::UInt16(Some(x)) => Value::Uint16Value(u32::from(*x)),
        ScalarValue::UInt32(Some(x)) => Value::Uint32Value(*x),
        ScalarValue::UInt64(Some(x)) => Value::Uint64Value(*x),
        ScalarValue::Float16(Some(x)) => Value::Float16Value(x.to_f32()),
        ScalarValue::Float32(Some(x)) => Value::Float32Value(*x),
        ScalarValue::Float64(Some(x)) => Value::Float64Value(*x),
        ScalarValue::Utf8(Some(s)) => Value::Utf8Value(s.clone()),
        ScalarValue::LargeUtf8(Some(s)) => Value::LargeUtf8Value(s.clone()),
        ScalarValue::Utf8View(Some(s)) => Value::Utf8ViewValue(s.clone()),
        ScalarValue::Binary(Some(b)) => Value::BinaryValue(b.clone()),
        ScalarValue::LargeBinary(Some(b)) => Value::LargeBinaryValue(b.clone()),
        ScalarValue::BinaryView(Some(b)) => Value::BinaryViewValue(b.clone()),
        ScalarValue::FixedSizeBinary(_, Some(b)) => Value::FixedSizeBinaryValue(b.clone()),
        ScalarValue::Date32(Some(d)) => Value::Date32Value(*d),
        ScalarValue::Date64(Some(d)) => Value::Date64Value(*d),
        ScalarValue::Time32Second(Some(t)) => time(i64::from(*t), TimeUnit::Second),
        ScalarValue::Time32Millisecond(Some(t)) => time(i64::from(*t), TimeUnit::Millisecond),
        ScalarValue::Time64Microsecond(Some(t)) => time(*t, TimeUnit::Microsecond),
        ScalarValue::Time64Nanosecond(Some(t)) => time(*t, TimeUnit::Nanosecond),
        ScalarValue::TimestampSecond(Some(t), tz) => timestamp(*t, TimeUnit::Second, tz),
        ScalarValue::TimestampMillisecond(Some(t), tz) => timestamp(*t, TimeUnit::Millisecond, tz),
        ScalarValue::TimestampMicrosecond(Some(t), tz) => timestamp(*t, TimeUnit::Microsecond, tz),
        ScalarValue::TimestampNanosecond(Some(t), tz) => timestamp(*t, TimeUnit::Nanosecond, tz),
        ScalarValue::DurationSecond(Some(d)) => duration(*d, TimeUnit::Second),
        ScalarValue::DurationMillisecond(Some(d)) => duration(*d, TimeUnit::Millisecond),
        ScalarValue::DurationMicrosecond(Some(d)) => duration(*d, TimeUnit::Microsecond),
        ScalarValue::DurationNanosecond(Some(d)) => duration(*d, TimeUnit::Nanosecond),
        ScalarValue::IntervalYearMonth(Some(m)) => Value::IntervalYearMonthValue(*m),
        ScalarValue::IntervalDayTime(Some(i)) => Value::IntervalDayTimeValue(pb::IntervalDayTime {
            days: i.days,
            milliseconds: i.milliseconds,
        }),
        ScalarValue::IntervalMonthDayNano(Some(i)) => {
            Value::IntervalMonthDayNanoValue(pb::IntervalMonthDayNano {
                months: i.months,
                days: i.days,
                nanoseconds: i.nanoseconds,
            })
        }
        ScalarValue::Decimal32(Some(x), p, s) => decimal(x.to_string(), *p, *s, 32),
        ScalarValue::Decimal64(Some(x), p, s) => decimal(x.to_string(), *p, *s, 64),
        ScalarValue::Decimal128(Some(x), p, s) => decimal(x.to_string(), *p, *s, 128),
        ScalarValue::Decimal256(Some(x), p, s) => decimal(x.to_string(), *p, *s, 256),
        // Nested and dictionary values travel as a one-row Arrow IPC stream,
        // which every Arrow implementation can read.
        other => Value::ArrowIpcValue(array_to_ipc_value(&other.to_array()?)?),
    };
    Ok(pb::Literal { value: Some(value) })
}

fn array_to_ipc_value(array: &ArrayRef) -> Result<Vec<u8>> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "value",
        array.data_type().clone(),
        true,
    )]));
    let batch = RecordBatch::try_new(schema.clone(), vec![array.clone()])?;
    batches_to_ipc(&schema, &[batch])
}

fn parse_unscaled<T: std::str::FromStr>(s: &str, field: &str) -> Result<T> {
    s.parse::<T>().map_err(|_| {
        BallistaError::invalid(
            field,
            format!("`{s}` is not a valid unscaled decimal integer"),
        )
    })
}

/// Spec literal to a DataFusion scalar value; `field` names it in errors.
pub fn scalar_from_proto(lit: &pb::Literal, field: &str) -> Result<ScalarValue> {
    let value = required(&lit.value, &format!("{field}.value"))?;
    let narrow = |what: &str| {
        BallistaError::invalid(field, format!("{what} literal out of range for its type"))
    };
    Ok(match value {
        Value::NullValue(dt) => {
            ScalarValue::try_from(&data_type_from_proto(dt, &format!("{field}.null_value"))?)?
        }
        Value::BoolValue(b) => ScalarValue::Boolean(Some(*b)),
        Value::Int8Value(x) => {
            ScalarValue::Int8(Some(i8::try_from(*x).map_err(|_| narrow("int8"))?))
        }
        Value::Int16Value(x) => {
            ScalarValue::Int16(Some(i16::try_from(*x).map_err(|_| narrow("int16"))?))
        }
        Value::Int32Value(x) => ScalarValue::Int32(Some(*x)),
        Value::Int64Value(x) => ScalarValue::Int64(Some(*x)),
        Value::Uint8Value(x) => {
            ScalarValue::UInt8(Some(u8::try_from(*x).map_err(|_| narrow("uint8"))?))
        }
        Value::Uint16Value(x) => {
            ScalarValue::UInt16(Some(u16::try_from(*x).map_err(|_| narrow("uint16"))?))
        }
        Value::Uint32Value(x) => ScalarValue::UInt32(Some(*x)),
        Value::Uint64Value(x) => ScalarValue::UInt64(Some(*x)),
        Value::Float16Value(x) => ScalarValue::Float16(Some(half::f16::from_f32(*x))),
        Value::Float32Value(x) => ScalarValue::Float32(Some(*x)),
        Value::Float64Value(x) => ScalarValue::Float64(Some(*x)),
        Value::Utf8Value(s) => ScalarValue::Utf8(Some(s.clone())),
        Value::LargeUtf8Value(s) => ScalarValue::LargeUtf8(Some(s.clone())),
        Value::Utf8ViewValue(s) => ScalarValue::Utf8View(Some(s.clone())),
        Value::BinaryValue(b) => ScalarValue::Binary(Some(b.clone())),
        Value::LargeBinaryValue(b) => ScalarValue::LargeBinary(Some(b.clone())),
        Value::BinaryViewValue(b) => ScalarValue::BinaryView(Some(b.clone())),
        Value::FixedSizeBinaryValue(b) => {
            let width = i32::try_from(b.len()).map_err(|_| narrow("fixed_size_binary"))?;
            ScalarValue::FixedSizeBinary(width, Some(b.clone()))
        }
        Value::Date32Value(d) => ScalarValue::Date32(Some(*d)),
        Value::Date64Value(d) => ScalarValue::Date64(Some(*d)),
        Value::TimeValue(t) => {
            let unit = time_unit_from_proto(t.unit, &format!("{field}.time_value.unit"))?;
            match unit {
                TimeUnit::Second => ScalarValue::Time32Second(Some(
                    i32::try_from(t.value).map_err(|_| narrow("time32"))?,
                )),
                TimeUnit::Millisecond => ScalarValue::Time32Millisecond(Some(
                    i32::try_from(t.value).map_err(|_| narrow("time32"))?,
                )),
                TimeUnit::Microsecond => ScalarValue::Time64Microsecond(Some(t.value)),
                TimeUnit::Nanosecond => ScalarValue::Time64Nanosecond(Some(t.value)),
            }
        }
        Value::TimestampValue(t) => {
            let unit = time_unit_from_proto(t.unit, &format!("{field}.timestamp_value.unit"))?;
            let tz = t.timezone.as_deref().map(Arc::from);
            match unit {
                TimeUnit::Second => ScalarValue::TimestampSecond(Some(t.value), tz),
                TimeUnit::Millisecond => ScalarValue::TimestampMillisecond(Some(t.value), tz),
                TimeUnit::Microsecond => ScalarValue::TimestampMicrosecond(Some(t.value), tz),
                TimeUnit::Nanosecond => ScalarValue::TimestampNanosecond(Some(t.value), tz),
            }
        }
        Value::DurationValue(d) => {
            let unit = time_unit_from_proto(d.unit, &format!("{field}.duration_value.unit"))?;
            match unit {
                TimeUnit::Second => ScalarValue::DurationSecond(Some(d.value)),
                TimeUnit::Millisecond => ScalarValue::DurationMillisecond(Some(d.value)),
                TimeUnit::Microsecond => ScalarValue::DurationMicrosecond(Some(d.value)),
                TimeUnit::Nanosecond => ScalarValue::DurationNanosecond(Some(d.value)),
            }
        }
        Value::IntervalYearMonthValue(m) => ScalarValue::IntervalYearMonth(Some(*m)),
        Value::IntervalDayTimeValue(i) => {
            ScalarValue::IntervalDayTime(Some(IntervalDayTime::new(i.days, i.milliseconds)))
        }
        Value::IntervalMonthDayNanoValue(i) => ScalarValue::IntervalMonthDayNano(Some(
            IntervalMonthDayNano::new(i.months, i.days, i.nanoseconds),
        )),
        Value::DecimalValue(d) => {
            let f = format!("{field}.decimal_value");
            let (p, s) = decimal_from_proto(
                &pb::DecimalType {
                    precision: d.precision,
                    scale: d.scale,
                },
                if d.bit_width == 0 { 128 } else { d.bit_width },
                &f,
            )?;
            match d.bit_width {
                32 => ScalarValue::Decimal32(Some(parse_unscaled(&d.unscaled, &f)?), p, s),
                64 => ScalarValue::Decimal64(Some(parse_unscaled(&d.unscaled, &f)?), p, s),
                0 | 128 => ScalarValue::Decimal128(Some(parse_unscaled(&d.unscaled, &f)?), p, s),
                256 => ScalarValue::Decimal256(
                    Some(i256::from_string(&d.unscaled).ok_or_else(|| {
                        BallistaError::invalid(
                            &f,
                            format!("`{}` is not a valid unscaled decimal integer", d.unscaled),
                        )
                    })?),
                    p,
                    s,
                ),
                w => {
                    return Err(BallistaError::invalid(
                        &format!("{f}.bit_width"),
                        format!("{w} is not one of 32, 64, 128, 256"),
                    ));
                }
            }
        }
        Value::ArrowIpcValue(bytes) => {
            let f = format!("{field}.arrow_ipc_value");
            let (_, batches) = batches_from_ipc(bytes, &f)?;
            let batch = batches
                .iter()
                .find(|b| b.num_rows() > 0)
                .filter(|b| b.num_columns() == 1)
                .ok_or_else(|| BallistaError::invalid(&f, "expected one row in one column"))?;
            ScalarValue::try_from_array(batch.column(0).as_ref(), 0)?
        }
    })
}
