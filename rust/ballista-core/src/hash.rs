//! The spec's shuffle hash: Spark-compatible Murmur3 x86_32, seed 42.
//!
//! This is `HASH_FUNCTION_UNSPECIFIED` of `proto/ballista/v1/physical.proto`,
//! the one hash every executor, in every language, uses to place a row in a
//! shuffle partition. It is specified bit for bit in `docs/spec/hashing.md`
//! and pinned by the cross-language vectors in
//! `integration/conformance/hash/vectors.json`.
//!
//! It equals Spark's `hash()` SQL function (the `Murmur3Hash` expression that
//! Spark's `HashPartitioning` uses) for every type the two share, so a
//! Ballista shuffle can later be co-partitioned with a Spark one:
//!
//! - a row's hash starts at [`SEED`]; each key column in turn replaces it
//!   with the hash of its value seeded by the running hash; a null leaves it
//!   unchanged;
//! - the partition is `pmod(hash, n)` ([`pmod`]).
//!
//! **This function must never change within spec v1**: a different hash in
//! one executor silently sends rows to the wrong reducer. Fix a bug here only
//! together with the spec, the vectors and a new spec version.
//!
//! The work is vectorised: each column is downcast once and its values are
//! hashed in a loop monomorphised per Arrow type, with no per-row dynamic
//! dispatch. Nested types (list, struct, map, union, run-end encoded) are not
//! supported yet and return [`BallistaError::NotImplemented`].

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use arrow::buffer::NullBuffer;
use arrow::compute::{take, take_record_batch};
use arrow::datatypes::{
    ArrowPrimitiveType, BinaryType, BinaryViewType, DataType, Date32Type, Date64Type,
    Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type, DurationMicrosecondType,
    DurationMillisecondType, DurationNanosecondType, DurationSecondType, Float16Type, Float32Type,
    Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, IntervalDayTimeType,
    IntervalMonthDayNanoType, IntervalUnit, IntervalYearMonthType, LargeBinaryType, LargeUtf8Type,
    StringViewType, Time32MillisecondType, Time32SecondType, Time64MicrosecondType,
    Time64NanosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
    Utf8Type, i256,
};

use crate::error::{BallistaError, Result};

/// The initial hash of every row, before the first key column (Spark's
/// `Murmur3Hash` default seed).
pub const SEED: i32 = 42;

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

/// Canonical bits of every float32 NaN (Java's `Float.floatToIntBits(NaN)`).
const F32_CANONICAL_NAN: i32 = 0x7fc0_0000;
/// Canonical bits of every float64 NaN (Java's `Double.doubleToLongBits(NaN)`).
const F64_CANONICAL_NAN: i64 = 0x7ff8_0000_0000_0000;

/// Largest decimal precision hashed as a 64-bit integer (Spark's
/// `Decimal.MAX_LONG_DIGITS`); wider decimals hash their bytes.
const MAX_LONG_DIGITS: u8 = 18;

#[inline(always)]
fn mix_k1(k1: u32) -> u32 {
    k1.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

#[inline(always)]
fn mix_h1(h1: u32, k1: u32) -> u32 {
    (h1 ^ k1)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

#[inline(always)]
fn fmix(h1: u32, length: u32) -> u32 {
    let mut h1 = h1 ^ length;
    h1 ^= h1 >> 16;
    h1 = h1.wrapping_mul(0x85eb_ca6b);
    h1 ^= h1 >> 13;
    h1 = h1.wrapping_mul(0xc2b2_ae35);
    h1 ^ (h1 >> 16)
}

/// Murmur3 x86_32 of one 32-bit integer (Spark's `Murmur3_x86_32.hashInt`).
#[inline]
pub fn hash_int(value: i32, seed: i32) -> i32 {
    let h1 = mix_h1(seed as u32, mix_k1(value as u32));
    fmix(h1, 4) as i32
}

/// Murmur3 x86_32 of one 64-bit integer, low 32 bits first (Spark's
/// `Murmur3_x86_32.hashLong`).
#[inline]
pub fn hash_long(value: i64, seed: i32) -> i32 {
    let low = value as u32;
    let high = (value as u64 >> 32) as u32;
    let h1 = mix_h1(seed as u32, mix_k1(low));
    let h1 = mix_h1(h1, mix_k1(high));
    fmix(h1, 8) as i32
}

/// Spark's `Murmur3_x86_32.hashUnsafeBytes`: Murmur3 x86_32 over the 4-byte
/// little-endian words of `bytes`, except that each of the 0 to 3 trailing
/// bytes is mixed on its own as a sign-extended 32-bit block (standard
/// Murmur3 packs them into one block). Not the standard Murmur3 of `bytes`
/// unless its length is a multiple of 4.
#[inline]
pub fn hash_bytes(bytes: &[u8], seed: i32) -> i32 {
    let mut h1 = seed as u32;
    let mut words = bytes.chunks_exact(4);
    for word in &mut words {
        let word = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        h1 = mix_h1(h1, mix_k1(word));
    }
    for &byte in words.remainder() {
        h1 = mix_h1(h1, mix_k1(byte as i8 as i32 as u32));
    }
    // Spark passes the length as a Java int: the low 32 bits of it.
    fmix(h1, bytes.len() as u32) as i32
}

/// Hashes a float32: both zeros hash as `0`, every NaN as `0x7fc00000`, any
/// other value as its IEEE 754 bits, with [`hash_int`].
#[inline]
pub fn hash_f32(value: f32, seed: i32) -> i32 {
    let bits = if value == 0.0 {
        0
    } else if value.is_nan() {
        F32_CANONICAL_NAN
    } else {
        value.to_bits() as i32
    };
    hash_int(bits, seed)
}

/// Hashes a float64: both zeros hash as `0`, every NaN as
/// `0x7ff8000000000000`, any other value as its IEEE 754 bits, with
/// [`hash_long`].
#[inline]
pub fn hash_f64(value: f64, seed: i32) -> i32 {
    let bits = if value == 0.0 {
        0
    } else if value.is_nan() {
        F64_CANONICAL_NAN
    } else {
        value.to_bits() as i64
    };
    hash_long(bits, seed)
}

/// Hashes the minimal big-endian two's-complement bytes of a signed integer
/// given as big-endian bytes (what Java's `BigInteger.toByteArray()` returns:
/// the fewest bytes that keep the sign bit, `[0x00]` for zero).
#[inline]
fn hash_big_endian_integer(be: &[u8], seed: i32) -> i32 {
    let mut start = 0;
    while start + 1 < be.len() {
        let redundant = (be[start] == 0x00 && be[start + 1] & 0x80 == 0)
            || (be[start] == 0xff && be[start + 1] & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    hash_bytes(&be[start..], seed)
}

/// Hashes a decimal's unscaled value (as an `i128`) for a decimal of
/// `precision`: [`hash_long`] of the low 64 bits when `precision <= 18`, else
/// [`hash_bytes`] of its minimal two's-complement big-endian bytes.
#[inline]
fn hash_decimal_i128(unscaled: i128, precision: u8, seed: i32) -> i32 {
    if precision <= MAX_LONG_DIGITS {
        hash_long(unscaled as i64, seed)
    } else {
        hash_big_endian_integer(&unscaled.to_be_bytes(), seed)
    }
}

/// Computes the spec hash of every row of `columns` into `hashes`.
///
/// `hashes` is overwritten: every entry starts at [`SEED`] and each column,
/// in order, chains into it (a null value leaves it unchanged). Every column
/// must have `hashes.len()` rows. With no columns every hash is [`SEED`].
///
/// Fails with [`BallistaError::InvalidArgument`] if a column's length differs
/// and with [`BallistaError::NotImplemented`] for a nested column type.
pub fn spark_murmur3_hashes(columns: &[ArrayRef], hashes: &mut [i32]) -> Result<()> {
    for (i, column) in columns.iter().enumerate() {
        if column.len() != hashes.len() {
            return Err(BallistaError::InvalidArgument(format!(
                "hash key column {i} has {} rows but {} were expected: every key \
                 column must have one value per row",
                column.len(),
                hashes.len()
            )));
        }
    }
    hashes.fill(SEED);
    for column in columns {
        hash_column(column.as_ref(), hashes)?;
    }
    Ok(())
}

/// The shuffle partition of a row hash: the non-negative remainder of `hash`
/// (a signed 32-bit integer) divided by `partition_count` (Spark's `pmod`).
#[inline]
pub fn pmod(hash: i32, partition_count: std::num::NonZeroU32) -> u32 {
    // In 64 bits, so every u32 partition count is exact; for counts up to
    // i32::MAX this is Spark's `((hash % n) + n) % n`.
    i64::from(hash).rem_euclid(i64::from(partition_count.get())) as u32
}

/// The shuffle partition, in `0..partition_count`, of every row of the key
/// `columns` ([`spark_murmur3_hashes`] then [`pmod`]).
///
/// Every column must have the same length, which is the number of rows; with
/// no columns there are no rows. Fails with
/// [`BallistaError::InvalidArgument`] if `partition_count` is 0 or the
/// lengths differ, and with [`BallistaError::NotImplemented`] for a nested
/// column type.
pub fn hash_partition_indices(columns: &[ArrayRef], partition_count: u32) -> Result<Vec<u32>> {
    let n = nonzero_partition_count(partition_count)?;
    let rows = columns.first().map_or(0, |c| c.len());
    let mut hashes = vec![SEED; rows];
    spark_murmur3_hashes(columns, &mut hashes)?;
    Ok(hashes.into_iter().map(|h| pmod(h, n)).collect())
}

fn nonzero_partition_count(partition_count: u32) -> Result<std::num::NonZeroU32> {
    std::num::NonZeroU32::new(partition_count).ok_or_else(|| {
        BallistaError::invalid(
            "HashPartitioning.partition_count",
            "must be at least 1, got 0",
        )
    })
}

/// Splits `batch` into `partition_count` batches by the spec hash of `keys`
/// (the key expressions already evaluated over `batch`, one value per row).
///
/// Output `p` holds the rows of partition `p` in their input order; a
/// partition with no rows is an empty batch. The rows are gathered with one
/// `take` and the outputs are zero-copy slices of it, so they share (and
/// keep alive) one set of buffers.
///
/// Fails like [`hash_partition_indices`], and if a key column's length is
/// not the batch's row count.
pub fn partition_batch(
    batch: &RecordBatch,
    keys: &[ArrayRef],
    partition_count: u32,
) -> Result<Vec<RecordBatch>> {
    let rows = batch.num_rows();
    if let Some((i, key)) = keys.iter().enumerate().find(|(_, k)| k.len() != rows) {
        return Err(BallistaError::InvalidArgument(format!(
            "hash key column {i} has {} rows but the batch has {rows}: every key \
             column must have one value per row",
            key.len()
        )));
    }
    let partitions = if keys.is_empty() {
        // No keys: every row hashes to SEED.
        vec![pmod(SEED, nonzero_partition_count(partition_count)?); rows]
    } else {
        hash_partition_indices(keys, partition_count)?
    };

    // A stable counting sort of the row numbers by partition, as take
    // indices.
    let row_limit = u32::try_from(rows).map_err(|_| {
        BallistaError::InvalidArgument(format!(
            "cannot hash-partition a batch of {rows} rows: at most {} are supported",
            u32::MAX
        ))
    })?;
    let n = partition_count as usize;
    let mut offsets = vec![0usize; n + 1];
    for &p in &partitions {
        offsets[p as usize + 1] += 1;
    }
    for p in 0..n {
        offsets[p + 1] += offsets[p];
    }
    let mut cursor = offsets[..n].to_vec();
    let mut order = vec![0u32; rows];
    for (row, &p) in (0..row_limit).zip(&partitions) {
        order[cursor[p as usize]] = row;
        cursor[p as usize] += 1;
    }

    let sorted = take_record_batch(batch, &UInt32Array::from(order))?;
    Ok((0..n)
        .map(|p| sorted.slice(offsets[p], offsets[p + 1] - offsets[p]))
        .collect())
}

/// Replaces `hashes[i]` with `f(i, hashes[i])` for every row `i` that is not
/// null.
#[inline(always)]
fn for_each_valid(
    nulls: Option<&NullBuffer>,
    hashes: &mut [i32],
    mut f: impl FnMut(usize, i32) -> i32,
) {
    match nulls {
        Some(nulls) if nulls.null_count() > 0 => {
            for i in nulls.valid_indices() {
                hashes[i] = f(i, hashes[i]);
            }
        }
        _ => {
            for (i, h) in hashes.iter_mut().enumerate() {
                *h = f(i, *h);
            }
        }
    }
}

/// Chains a primitive column into `hashes`, `f(value, running_hash)` per
/// non-null value.
#[inline]
fn hash_primitive<T: ArrowPrimitiveType>(
    array: &dyn Array,
    hashes: &mut [i32],
    f: impl Fn(T::Native, i32) -> i32,
) {
    let array = array.as_primitive::<T>();
    let values = array.values();
    for_each_valid(array.nulls(), hashes, |i, h| f(values[i], h));
}

/// Chains one column into `hashes` (one entry per row of `array`).
fn hash_column(array: &dyn Array, hashes: &mut [i32]) -> Result<()> {
    use DataType::*;
    match array.data_type() {
        // Every value is null: no hash changes.
        Null => {}
        Boolean => {
            let array = array.as_boolean();
            for_each_valid(array.nulls(), hashes, |i, h| {
                hash_int(i32::from(array.value(i)), h)
            });
        }
        Int8 => hash_primitive::<Int8Type>(array, hashes, |v, h| hash_int(v.into(), h)),
        Int16 => hash_primitive::<Int16Type>(array, hashes, |v, h| hash_int(v.into(), h)),
        Int32 => hash_primitive::<Int32Type>(array, hashes, hash_int),
        Int64 => hash_primitive::<Int64Type>(array, hashes, hash_long),
        // Unsigned integers hash as the Spark type Spark reads them as from
        // Parquet: uint8 -> short, uint16 -> int, uint32 -> long,
        // uint64 -> decimal(20, 0).
        UInt8 => hash_primitive::<UInt8Type>(array, hashes, |v, h| hash_int(v.into(), h)),
        UInt16 => hash_primitive::<UInt16Type>(array, hashes, |v, h| hash_int(v.into(), h)),
        UInt32 => hash_primitive::<UInt32Type>(array, hashes, |v, h| hash_long(v.into(), h)),
        UInt64 => {
            hash_primitive::<UInt64Type>(array, hashes, |v, h| hash_decimal_i128(v.into(), 20, h))
        }
        // Spark has no half float: widen (exactly) to float32.
        Float16 => hash_primitive::<Float16Type>(array, hashes, |v, h| hash_f32(v.to_f32(), h)),
        Float32 => hash_primitive::<Float32Type>(array, hashes, hash_f32),
        Float64 => hash_primitive::<Float64Type>(array, hashes, hash_f64),
        // Precision is at most 9 and 18: always the 64-bit rule.
        Decimal32(_, _) => {
            hash_primitive::<Decimal32Type>(array, hashes, |v, h| hash_long(v.into(), h))
        }
        Decimal64(_, _) => hash_primitive::<Decimal64Type>(array, hashes, hash_long),
        Decimal128(precision, _) => {
            let precision = *precision;
            hash_primitive::<Decimal128Type>(array, hashes, |v, h| {
                hash_decimal_i128(v, precision, h)
            })
        }
        Decimal256(precision, _) => {
            let precision = *precision;
            hash_primitive::<Decimal256Type>(array, hashes, |v: i256, h| {
                if precision <= MAX_LONG_DIGITS {
                    hash_long(v.as_i128() as i64, h)
                } else {
                    hash_big_endian_integer(&v.to_be_bytes(), h)
                }
            })
        }
        // Dates, times, timestamps and durations hash their raw stored value
        // (whatever the unit or time zone): 32-bit ones with hash_int, 64-bit
        // ones with hash_long.
        Date32 => hash_primitive::<Date32Type>(array, hashes, hash_int),
        Date64 => hash_primitive::<Date64Type>(array, hashes, hash_long),
        Time32(TimeUnit::Second) => hash_primitive::<Time32SecondType>(array, hashes, hash_int),
        Time32(TimeUnit::Millisecond) => {
            hash_primitive::<Time32MillisecondType>(array, hashes, hash_int)
        }
        Time64(TimeUnit::Microsecond) => {
            hash_primitive::<Time64MicrosecondType>(array, hashes, hash_long)
        }
        Time64(TimeUnit::Nanosecond) => {
            hash_primitive::<Time64NanosecondType>(array, hashes, hash_long)
        }
        Timestamp(TimeUnit::Second, _) => {
            hash_primitive::<TimestampSecondType>(array, hashes, hash_long)
        }
        Timestamp(TimeUnit::Millisecond, _) => {
            hash_primitive::<TimestampMillisecondType>(array, hashes, hash_long)
        }
        Timestamp(TimeUnit::Microsecond, _) => {
            hash_primitive::<TimestampMicrosecondType>(array, hashes, hash_long)
        }
        Timestamp(TimeUnit::Nanosecond, _) => {
            hash_primitive::<TimestampNanosecondType>(array, hashes, hash_long)
        }
        Duration(TimeUnit::Second) => {
            hash_primitive::<DurationSecondType>(array, hashes, hash_long)
        }
        Duration(TimeUnit::Millisecond) => {
            hash_primitive::<DurationMillisecondType>(array, hashes, hash_long)
        }
        Duration(TimeUnit::Microsecond) => {
            hash_primitive::<DurationMicrosecondType>(array, hashes, hash_long)
        }
        Duration(TimeUnit::Nanosecond) => {
            hash_primitive::<DurationNanosecondType>(array, hashes, hash_long)
        }
        // Intervals hash their fields in declaration order, chained.
        Interval(IntervalUnit::YearMonth) => {
            hash_primitive::<IntervalYearMonthType>(array, hashes, hash_int)
        }
        Interval(IntervalUnit::DayTime) => {
            hash_primitive::<IntervalDayTimeType>(array, hashes, |v, h| {
                hash_int(v.milliseconds, hash_int(v.days, h))
            })
        }
        Interval(IntervalUnit::MonthDayNano) => {
            hash_primitive::<IntervalMonthDayNanoType>(array, hashes, |v, h| {
                hash_long(v.nanoseconds, hash_int(v.days, hash_int(v.months, h)))
            })
        }
        Utf8 => hash_bytes_array::<Utf8Type>(array, hashes),
        LargeUtf8 => hash_bytes_array::<LargeUtf8Type>(array, hashes),
        Binary => hash_bytes_array::<BinaryType>(array, hashes),
        LargeBinary => hash_bytes_array::<LargeBinaryType>(array, hashes),
        Utf8View => {
            let array = array.as_byte_view::<StringViewType>();
            for_each_valid(array.nulls(), hashes, |i, h| {
                hash_bytes(array.value(i).as_bytes(), h)
            });
        }
        BinaryView => {
            let array = array.as_byte_view::<BinaryViewType>();
            for_each_valid(array.nulls(), hashes, |i, h| hash_bytes(array.value(i), h));
        }
        FixedSizeBinary(_) => {
            let array = array.as_fixed_size_binary();
            for_each_valid(array.nulls(), hashes, |i, h| hash_bytes(array.value(i), h));
        }
        // A dictionary hashes as its values would. The running hash differs
        // per row, so the dictionary cannot be hashed once: decode it (a null
        // key or a null value is a null) and hash that.
        Dictionary(_, _) => {
            let dictionary = array.as_any_dictionary();
            let values = take(dictionary.values().as_ref(), dictionary.keys(), None)?;
            hash_column(values.as_ref(), hashes)?;
        }
        other => {
            return Err(BallistaError::NotImplemented(format!(
                "the spec shuffle hash of {other} columns is not implemented: key columns \
                 must be boolean, integer, floating point, decimal, date, time, timestamp, \
                 duration, interval, string or binary, or a dictionary of these \
                 (docs/spec/hashing.md)"
            )));
        }
    }
    Ok(())
}

/// Chains a string or binary column (32- or 64-bit offsets) into `hashes`.
#[inline]
fn hash_bytes_array<T: arrow::datatypes::ByteArrayType>(array: &dyn Array, hashes: &mut [i32]) {
    let array = array.as_bytes::<T>();
    for_each_valid(array.nulls(), hashes, |i, h| {
        let value: &[u8] = array.value(i).as_ref();
        hash_bytes(value, h)
    });
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::num::NonZeroU32;
    use std::sync::Arc;

    use arrow::array::{
        BinaryArray, BinaryViewArray, BooleanArray, DictionaryArray, FixedSizeBinaryArray,
        Float32Array, Float64Array, Int32Array, Int64Array, LargeBinaryArray, LargeStringArray,
        ListArray, NullArray, PrimitiveArray, StringArray, StringViewArray, StructArray,
    };
    use arrow::compute::cast;
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn hashes_of(columns: &[ArrayRef]) -> Vec<i32> {
        let mut hashes = vec![0; columns[0].len()];
        spark_murmur3_hashes(columns, &mut hashes).unwrap();
        hashes
    }

    fn hash_of(column: ArrayRef) -> Vec<i32> {
        hashes_of(&[column])
    }

    /// Values printed by Spark itself (`SELECT hash(...)`).
    #[test]
    fn spark_anchors() {
        assert_eq!(hash_int(1, SEED), -559580957);
        assert_eq!(hash_of(Arc::new(Int32Array::from(vec![1]))), [-559580957]);
    }

    /// Published vectors of standard Murmur3 x86_32, which Spark's
    /// `hashUnsafeBytes` equals when the length is a multiple of 4.
    #[test]
    fn standard_murmur3_on_whole_words() {
        assert_eq!(hash_bytes(b"", 0), 0);
        assert_eq!(hash_bytes(b"", 1) as u32, 0x514e_28b7);
        assert_eq!(hash_bytes(b"", -1) as u32, 0x81f1_6f39);
        assert_eq!(hash_bytes(b"test", 0) as u32, 0xba6b_d213);
        assert_eq!(
            hash_bytes(b"aaaa", 0x9747_b28c_u32 as i32) as u32,
            0x5a97_808a
        );
    }

    /// `hashInt` and `hashLong` are `hashUnsafeBytes` of the little-endian
    /// bytes, so the three primitives agree with each other.
    #[test]
    fn int_and_long_are_little_endian_bytes() {
        for v in [0, 1, -1, 42, i32::MIN, i32::MAX, 0x1234_5678] {
            for seed in [SEED, 0, -7] {
                assert_eq!(hash_int(v, seed), hash_bytes(&v.to_le_bytes(), seed));
            }
        }
        for v in [0, 1, -1, i64::MIN, i64::MAX, 0x0102_0304_0506_0708] {
            assert_eq!(hash_long(v, SEED), hash_bytes(&v.to_le_bytes(), SEED));
        }
    }

    /// Spark mixes each trailing byte alone, sign-extended; standard Murmur3
    /// packs them into one zero-extended block. Spell the rule out.
    #[test]
    fn tail_bytes_are_mixed_one_by_one_sign_extended() {
        let expected = {
            let mut h1 = mix_h1(SEED as u32, mix_k1(u32::from_le_bytes(*b"abcd")));
            h1 = mix_h1(h1, mix_k1(0xffff_ff80)); // 0x80 as a signed byte
            h1 = mix_h1(h1, mix_k1(b'e' as u32));
            fmix(h1, 6) as i32
        };
        assert_eq!(hash_bytes(b"abcd\x80e", SEED), expected);
    }

    #[test]
    fn minimal_twos_complement_bytes() {
        let check = |v: i128, bytes: &[u8]| {
            assert_eq!(
                hash_big_endian_integer(&v.to_be_bytes(), SEED),
                hash_bytes(bytes, SEED),
                "{v}"
            );
            let wide = i256::from_i128(v).to_be_bytes();
            assert_eq!(
                hash_big_endian_integer(&wide, SEED),
                hash_bytes(bytes, SEED)
            );
        };
        check(0, &[0x00]);
        check(1, &[0x01]);
        check(-1, &[0xff]);
        check(127, &[0x7f]);
        check(128, &[0x00, 0x80]);
        check(-128, &[0x80]);
        check(-129, &[0xff, 0x7f]);
        check(i128::MAX, &i128::MAX.to_be_bytes());
        check(i128::MIN, &i128::MIN.to_be_bytes());
    }

    #[test]
    fn nulls_leave_the_hash_unchanged_and_columns_chain() {
        let a: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None, Some(3), None]));
        let b: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), Some("y"), None, None]));
        let hashes = hashes_of(&[a, b]);
        assert_eq!(
            hashes,
            [
                hash_bytes(b"x", hash_int(1, SEED)),
                hash_bytes(b"y", SEED),
                hash_int(3, SEED),
                SEED,
            ]
        );
        // Order matters: (1, "x") and ("x", 1) differ.
        let swapped = hashes_of(&[
            Arc::new(StringArray::from(vec!["x"])),
            Arc::new(Int32Array::from(vec![1])),
        ]);
        assert_ne!(swapped[0], hashes[0]);
        // A column of the null type changes nothing.
        let with_null_type = hashes_of(&[
            Arc::new(Int32Array::from(vec![1])),
            Arc::new(NullArray::new(1)),
        ]);
        assert_eq!(with_null_type, [hash_int(1, SEED)]);
    }

    #[test]
    fn the_buffer_is_overwritten_and_no_columns_give_the_seed() {
        let mut hashes = vec![7; 3];
        spark_murmur3_hashes(&[], &mut hashes).unwrap();
        assert_eq!(hashes, [SEED; 3]);
        let mut hashes = vec![7; 1];
        spark_murmur3_hashes(&[Arc::new(Int32Array::from(vec![1]))], &mut hashes).unwrap();
        assert_eq!(hashes, [-559580957]);
    }

    #[test]
    fn floats_canonicalise_zero_and_nan() {
        let f32s = hash_of(Arc::new(Float32Array::from(vec![
            0.0,
            -0.0,
            f32::NAN,
            -f32::NAN,
            f32::from_bits(0x7f80_0001),
        ])));
        assert_eq!(f32s[0], hash_int(0, SEED));
        assert_eq!(f32s[1], f32s[0]);
        assert_eq!(f32s[2], hash_int(0x7fc0_0000, SEED));
        assert_eq!(f32s[3], f32s[2]);
        assert_eq!(f32s[4], f32s[2]);
        let f64s = hash_of(Arc::new(Float64Array::from(vec![
            0.0,
            -0.0,
            f64::NAN,
            f64::from_bits(0xfff0_0000_0000_0001),
            1.5,
        ])));
        assert_eq!(f64s[0], hash_long(0, SEED));
        assert_eq!(f64s[1], f64s[0]);
        assert_eq!(f64s[2], hash_long(0x7ff8_0000_0000_0000, SEED));
        assert_eq!(f64s[3], f64s[2]);
        assert_eq!(f64s[4], hash_long(1.5f64.to_bits() as i64, SEED));
    }

    #[test]
    fn every_string_and_binary_layout_hashes_the_same_bytes() {
        let values = [
            Some(""),
            Some("a"),
            None,
            Some("short"),
            Some("a longer string, not inline"),
        ];
        let bytes: Vec<Option<&[u8]>> = values.iter().map(|v| v.map(str::as_bytes)).collect();
        let expected = hash_of(Arc::new(StringArray::from(values.to_vec())));
        let layouts: Vec<ArrayRef> = vec![
            Arc::new(LargeStringArray::from(values.to_vec())),
            Arc::new(StringViewArray::from(values.to_vec())),
            Arc::new(BinaryArray::from(bytes.clone())),
            Arc::new(LargeBinaryArray::from(bytes.clone())),
            Arc::new(BinaryViewArray::from(bytes.clone())),
        ];
        for layout in layouts {
            assert_eq!(hash_of(layout.clone()), expected, "{}", layout.data_type());
        }
        let fixed = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
            [Some(b"ab"), None, Some(b"cd")].into_iter(),
            2,
        )
        .unwrap();
        assert_eq!(
            hash_of(Arc::new(fixed)),
            [hash_bytes(b"ab", SEED), SEED, hash_bytes(b"cd", SEED)]
        );
    }

    #[test]
    fn dictionaries_hash_their_values() {
        // Key 2 points at a null value; the third key is null.
        let values: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), Some("b"), None]));
        let keys = arrow::array::Int8Array::from(vec![Some(1), Some(0), None, Some(2), Some(1)]);
        let dictionary = DictionaryArray::try_new(keys, values).unwrap();
        let expected = hash_of(Arc::new(StringArray::from(vec![
            Some("b"),
            Some("a"),
            None,
            None,
            Some("b"),
        ])));
        assert_eq!(hash_of(Arc::new(dictionary)), expected);
    }

    #[test]
    fn sliced_columns_hash_their_own_rows() {
        let full: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3), Some(4)]));
        let strings: ArrayRef = Arc::new(StringArray::from(vec![None, Some("b"), None, Some("d")]));
        let whole = hashes_of(&[full.clone(), strings.clone()]);
        let sliced = hashes_of(&[full.slice(1, 3), strings.slice(1, 3)]);
        assert_eq!(sliced, whole[1..]);
    }

    #[test]
    fn nested_types_are_not_implemented() {
        let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1)]),
        ]));
        let err = hashes_of_err(&[list]);
        assert!(matches!(err, BallistaError::NotImplemented(_)), "{err}");
        assert!(err.to_string().contains("List"), "{err}");
        let strukt: ArrayRef = Arc::new(StructArray::from(vec![(
            Arc::new(Field::new("a", DataType::Int32, true)),
            Arc::new(Int32Array::from(vec![1])) as ArrayRef,
        )]));
        let err = hashes_of_err(&[strukt]);
        assert!(matches!(err, BallistaError::NotImplemented(_)), "{err}");
    }

    fn hashes_of_err(columns: &[ArrayRef]) -> BallistaError {
        let mut hashes = vec![0; columns[0].len()];
        spark_murmur3_hashes(columns, &mut hashes).unwrap_err()
    }

    #[test]
    fn bad_arguments_are_rejected() {
        let one: ArrayRef = Arc::new(Int32Array::from(vec![1]));
        let two: ArrayRef = Arc::new(Int32Array::from(vec![1, 2]));
        let err = hash_partition_indices(&[one.clone(), two], 2).unwrap_err();
        assert!(matches!(err, BallistaError::InvalidArgument(_)), "{err}");
        let err = hash_partition_indices(&[one], 0).unwrap_err();
        assert!(err.to_string().contains("partition_count"), "{err}");
    }

    #[test]
    fn pmod_is_non_negative() {
        let n = |n| NonZeroU32::new(n).unwrap();
        assert_eq!(pmod(-559580957, n(200)), 43);
        assert_eq!(pmod(-1, n(7)), 6);
        assert_eq!(pmod(i32::MIN, n(2)), 0);
        assert_eq!(pmod(i32::MIN, n(u32::MAX)), 2_147_483_647);
        assert_eq!(pmod(5, n(1)), 0);
    }

    #[test]
    fn partition_batch_splits_rows_in_order() {
        let ids: Vec<i32> = (0..100).collect();
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("id", DataType::Int32, false),
                Field::new("s", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(Int32Array::from(ids.clone())),
                Arc::new(StringArray::from(
                    ids.iter()
                        .map(|i| (i % 3 != 0).then(|| i.to_string()))
                        .collect::<Vec<_>>(),
                )),
            ],
        )
        .unwrap();
        let keys = vec![batch.column(1).clone(), batch.column(0).clone()];
        let expected = hash_partition_indices(&keys, 7).unwrap();
        let parts = partition_batch(&batch, &keys, 7).unwrap();
        assert_eq!(parts.len(), 7);
        assert_eq!(parts.iter().map(RecordBatch::num_rows).sum::<usize>(), 100);
        for (p, part) in parts.iter().enumerate() {
            assert_eq!(part.schema(), batch.schema());
            let got: Vec<i32> = part.column(0).as_primitive::<Int32Type>().values().to_vec();
            let want: Vec<i32> = ids
                .iter()
                .copied()
                .filter(|&i| expected[i as usize] == p as u32)
                .collect();
            assert_eq!(got, want, "partition {p}");
        }
        // No keys: every row goes to pmod(SEED, n); zero rows: n empty batches.
        let parts = partition_batch(&batch, &[], 5).unwrap();
        assert_eq!(parts[2].num_rows(), 100);
        let parts = partition_batch(&batch.slice(0, 0), &[keys[0].slice(0, 0)], 3).unwrap();
        assert!(parts.iter().all(|p| p.num_rows() == 0));
        assert!(partition_batch(&batch, &[keys[0].slice(0, 5)], 3).is_err());
    }

    // ---- Cross-language vectors: integration/conformance/hash ----

    /// The vectors file, found from the package directory `cargo test`
    /// gives at run time: a test binary reused from a checkout elsewhere
    /// (CI clones share one target directory) carries that checkout's path
    /// in `env!`.
    fn vectors_path() -> String {
        let dir = std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
        format!("{dir}/../../integration/conformance/hash/vectors.json")
    }
    const PARTITION_COUNTS: [u32; 4] = [1, 2, 7, 200];

    /// One vector: its columns as `(type name, value text)` and the expected
    /// outputs (absent in a vector not yet blessed).
    struct Vector {
        name: String,
        columns: Vec<(String, Option<String>)>,
        hash: Option<i32>,
        partitions: Option<Vec<u32>>,
    }

    /// Reads `vectors.json` with arrow's own JSON reader (values are JSON
    /// strings; numbers are coerced to text).
    fn read_vectors() -> (Vec<u32>, Vec<Vector>) {
        use arrow::datatypes::Fields;
        let int_list = DataType::new_list(DataType::Int64, true);
        let column = Fields::from(vec![
            Field::new("type", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ]);
        let vector = Fields::from(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new(
                "columns",
                DataType::new_list(DataType::Struct(column), true),
                false,
            ),
            Field::new("hash", DataType::Int64, true),
            Field::new("partitions", int_list.clone(), true),
        ]);
        let schema = Schema::new(vec![
            Field::new("partition_counts", int_list, false),
            Field::new(
                "vectors",
                DataType::new_list(DataType::Struct(vector), true),
                false,
            ),
        ]);
        let vectors = vectors_path();
        let file = std::fs::File::open(&vectors).unwrap_or_else(|e| panic!("{vectors}: {e}"));
        let mut reader = arrow::json::ReaderBuilder::new(Arc::new(schema))
            .with_coerce_primitive(true)
            .build(std::io::BufReader::new(file))
            .unwrap();
        let batch = reader.next().unwrap().unwrap();
        assert_eq!(batch.num_rows(), 1, "vectors.json holds one JSON object");

        let ints = |a: ArrayRef| -> Vec<i64> { a.as_primitive::<Int64Type>().values().to_vec() };
        let counts = ints(batch.column(0).as_list::<i32>().value(0))
            .into_iter()
            .map(|n| n as u32)
            .collect();
        let vectors = batch.column(1).as_list::<i32>().value(0);
        let vectors = vectors.as_struct();
        let names = vectors.column(0).as_string::<i32>();
        let columns = vectors.column(1).as_list::<i32>();
        let hashes = vectors.column(2).as_primitive::<Int64Type>();
        let partitions = vectors.column(3).as_list::<i32>();
        let vectors = (0..vectors.len())
            .map(|i| {
                let cols = columns.value(i);
                let cols = cols.as_struct();
                let types = cols.column(0).as_string::<i32>();
                let values = cols.column(1).as_string::<i32>();
                Vector {
                    name: names.value(i).to_string(),
                    columns: (0..cols.len())
                        .map(|j| {
                            let value = values.is_valid(j).then(|| values.value(j).to_string());
                            (types.value(j).to_string(), value)
                        })
                        .collect(),
                    hash: hashes.is_valid(i).then(|| hashes.value(i) as i32),
                    partitions: partitions.is_valid(i).then(|| {
                        ints(partitions.value(i))
                            .into_iter()
                            .map(|p| p as u32)
                            .collect()
                    }),
                }
            })
            .collect();
        (counts, vectors)
    }

    /// Parses a column type name of the vectors format (see the README).
    fn parse_type(name: &str) -> DataType {
        use DataType::*;
        let unit = |u: &str| match u {
            "s" => TimeUnit::Second,
            "ms" => TimeUnit::Millisecond,
            "us" => TimeUnit::Microsecond,
            "ns" => TimeUnit::Nanosecond,
            _ => panic!("unknown time unit {u:?} in {name:?}"),
        };
        let args = |prefix: &str, open: char, close: char| -> Option<Vec<String>> {
            let rest = name
                .strip_prefix(prefix)?
                .strip_prefix(open)?
                .strip_suffix(close)?;
            Some(rest.split(',').map(|s| s.trim().to_string()).collect())
        };
        let decimal = |prefix: &str| {
            args(prefix, '(', ')')
                .map(|a| (a[0].parse::<u8>().unwrap(), a[1].parse::<i8>().unwrap()))
        };
        match name {
            "null" => return Null,
            "boolean" => return Boolean,
            "int8" => return Int8,
            "int16" => return Int16,
            "int32" => return Int32,
            "int64" => return Int64,
            "uint8" => return UInt8,
            "uint16" => return UInt16,
            "uint32" => return UInt32,
            "uint64" => return UInt64,
            "float16" => return Float16,
            "float32" => return Float32,
            "float64" => return Float64,
            "date32" => return Date32,
            "date64" => return Date64,
            "interval_year_month" => return Interval(IntervalUnit::YearMonth),
            "interval_day_time" => return Interval(IntervalUnit::DayTime),
            "interval_month_day_nano" => return Interval(IntervalUnit::MonthDayNano),
            "utf8" => return Utf8,
            "large_utf8" => return LargeUtf8,
            "utf8_view" => return Utf8View,
            "binary" => return Binary,
            "large_binary" => return LargeBinary,
            "binary_view" => return BinaryView,
            _ => {}
        }
        if let Some((p, s)) = decimal("decimal32") {
            Decimal32(p, s)
        } else if let Some((p, s)) = decimal("decimal64") {
            Decimal64(p, s)
        } else if let Some((p, s)) = decimal("decimal128") {
            Decimal128(p, s)
        } else if let Some((p, s)) = decimal("decimal256") {
            Decimal256(p, s)
        } else if let Some(a) = args("time32", '[', ']') {
            Time32(unit(&a[0]))
        } else if let Some(a) = args("time64", '[', ']') {
            Time64(unit(&a[0]))
        } else if let Some(a) = args("duration", '[', ']') {
            Duration(unit(&a[0]))
        } else if let Some(a) = args("timestamp", '[', ']') {
            let tz = a
                .get(1)
                .map(|tz| Arc::from(tz.strip_prefix("tz=").unwrap_or_else(|| panic!("{name:?}"))));
            Timestamp(unit(&a[0]), tz)
        } else if let Some(a) = args("fixed_size_binary", '[', ']') {
            FixedSizeBinary(a[0].parse().unwrap())
        } else if let Some(a) = args("dictionary", '<', '>') {
            Dictionary(Box::new(parse_type(&a[0])), Box::new(parse_type(&a[1])))
        } else {
            panic!("unknown type name {name:?}")
        }
    }

    fn unhex(text: &str) -> Vec<u8> {
        assert!(text.len().is_multiple_of(2), "odd-length hex {text:?}");
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Builds a column of `data_type` from value texts (see the README).
    fn build_column(data_type: &DataType, values: &[Option<&str>]) -> ArrayRef {
        use DataType::*;
        fn prim<T: ArrowPrimitiveType>(
            data_type: &DataType,
            values: &[Option<&str>],
            parse: impl Fn(&str) -> T::Native,
        ) -> ArrayRef {
            let array: PrimitiveArray<T> = values.iter().map(|v| v.map(&parse)).collect();
            Arc::new(array.with_data_type(data_type.clone()))
        }
        fn num<N: std::str::FromStr>(text: &str) -> N
        where
            N::Err: std::fmt::Debug,
        {
            text.parse().unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
        }
        /// A float's decimal text, or its IEEE 754 bits as `0x` hex.
        fn float_bits(text: &str) -> Option<u64> {
            text.strip_prefix("0x")
                .map(|hex| u64::from_str_radix(hex, 16).unwrap())
        }
        /// The unscaled integer of a decimal text with exactly `scale`
        /// fractional digits.
        fn unscaled(text: &str, scale: i8) -> String {
            let digits = text.split_once('.').map_or(0, |(_, frac)| frac.len());
            assert_eq!(
                digits,
                scale.max(0) as usize,
                "{text:?} needs {scale} fractional digits"
            );
            text.replace('.', "")
        }
        let parts = |text: &str| -> Vec<i64> { text.split(',').map(|p| num(p.trim())).collect() };
        let strings = || values.to_vec();
        let bytes = || values.iter().map(|v| v.map(unhex)).collect::<Vec<_>>();
        match data_type {
            Null => {
                assert!(
                    values.iter().all(Option::is_none),
                    "null columns hold only nulls"
                );
                Arc::new(NullArray::new(values.len()))
            }
            Boolean => Arc::new(
                values
                    .iter()
                    .map(|v| v.map(num::<bool>))
                    .collect::<BooleanArray>(),
            ),
            Int8 => prim::<Int8Type>(data_type, values, num),
            Int16 => prim::<Int16Type>(data_type, values, num),
            Int32 | Date32 | Time32(_) | Interval(IntervalUnit::YearMonth) => {
                prim::<Int32Type>(&Int32, values, num)
                    .to_data()
                    .into_builder()
                    .data_type(data_type.clone())
                    .build()
                    .map(arrow::array::make_array)
                    .unwrap()
            }
            Int64 | Date64 | Time64(_) | Timestamp(_, _) | Duration(_) => {
                prim::<Int64Type>(&Int64, values, num)
                    .to_data()
                    .into_builder()
                    .data_type(data_type.clone())
                    .build()
                    .map(arrow::array::make_array)
                    .unwrap()
            }
            UInt8 => prim::<UInt8Type>(data_type, values, num),
            UInt16 => prim::<UInt16Type>(data_type, values, num),
            UInt32 => prim::<UInt32Type>(data_type, values, num),
            UInt64 => prim::<UInt64Type>(data_type, values, num),
            Float16 => prim::<Float16Type>(data_type, values, |t| match float_bits(t) {
                Some(bits) => half::f16::from_bits(bits as u16),
                None => half::f16::from_f64(num(t)),
            }),
            Float32 => prim::<Float32Type>(data_type, values, |t| {
                float_bits(t).map_or_else(|| num(t), |bits| f32::from_bits(bits as u32))
            }),
            Float64 => prim::<Float64Type>(data_type, values, |t| {
                float_bits(t).map_or_else(|| num(t), f64::from_bits)
            }),
            Decimal32(_, s) => prim::<Decimal32Type>(data_type, values, |t| num(&unscaled(t, *s))),
            Decimal64(_, s) => prim::<Decimal64Type>(data_type, values, |t| num(&unscaled(t, *s))),
            Decimal128(_, s) => {
                prim::<Decimal128Type>(data_type, values, |t| num(&unscaled(t, *s)))
            }
            Decimal256(_, s) => prim::<Decimal256Type>(data_type, values, |t| {
                i256::from_string(&unscaled(t, *s)).unwrap_or_else(|| panic!("{t:?}"))
            }),
            Interval(IntervalUnit::DayTime) => {
                prim::<IntervalDayTimeType>(data_type, values, |t| {
                    let p = parts(t);
                    arrow::datatypes::IntervalDayTime::new(p[0] as i32, p[1] as i32)
                })
            }
            Interval(IntervalUnit::MonthDayNano) => {
                prim::<IntervalMonthDayNanoType>(data_type, values, |t| {
                    let p = parts(t);
                    arrow::datatypes::IntervalMonthDayNano::new(p[0] as i32, p[1] as i32, p[2])
                })
            }
            Utf8 => Arc::new(StringArray::from(strings())),
            LargeUtf8 => Arc::new(LargeStringArray::from(strings())),
            Utf8View => Arc::new(StringViewArray::from(strings())),
            Binary => Arc::new(BinaryArray::from_iter(bytes())),
            LargeBinary => Arc::new(LargeBinaryArray::from_iter(bytes())),
            BinaryView => Arc::new(BinaryViewArray::from_iter(bytes())),
            FixedSizeBinary(size) => Arc::new(
                FixedSizeBinaryArray::try_from_sparse_iter_with_size(bytes().into_iter(), *size)
                    .unwrap(),
            ),
            Dictionary(_, value_type) => {
                cast(&build_column(value_type, values), data_type).unwrap()
            }
            other => panic!("no vector builder for {other}"),
        }
    }

    /// Hashes every vector, batching the vectors of one column signature
    /// into multi-row columns so the vectorised paths (with nulls among
    /// values) are what is checked. Returns `(hash, partitions)` per vector.
    fn compute(counts: &[u32], vectors: &[Vector]) -> Vec<(i32, Vec<u32>)> {
        let mut groups: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
        for (i, v) in vectors.iter().enumerate() {
            assert!(
                !v.columns.is_empty(),
                "{}: a vector needs at least one column",
                v.name
            );
            let signature = v.columns.iter().map(|(t, _)| t.clone()).collect();
            groups.entry(signature).or_default().push(i);
        }
        let mut results = vec![(0, vec![]); vectors.len()];
        for (signature, rows) in groups {
            let columns: Vec<ArrayRef> = signature
                .iter()
                .enumerate()
                .map(|(c, type_name)| {
                    let values: Vec<Option<&str>> = rows
                        .iter()
                        .map(|&r| vectors[r].columns[c].1.as_deref())
                        .collect();
                    build_column(&parse_type(type_name), &values)
                })
                .collect();
            let hashes = hashes_of(&columns);
            let partitions: Vec<Vec<u32>> = counts
                .iter()
                .map(|&n| hash_partition_indices(&columns, n).unwrap())
                .collect();
            for (k, &r) in rows.iter().enumerate() {
                results[r] = (hashes[k], partitions.iter().map(|p| p[k]).collect());
            }
        }
        results
    }

    #[test]
    fn conformance_vectors() {
        let (counts, vectors) = read_vectors();
        assert_eq!(counts, PARTITION_COUNTS);
        assert!(vectors.len() >= 40, "only {} vectors", vectors.len());
        let results = compute(&counts, &vectors);
        let mut failures = vec![];
        for (v, (hash, partitions)) in vectors.iter().zip(results) {
            let expected = (v.hash, v.partitions.clone());
            if expected != (Some(hash), Some(partitions.clone())) {
                failures.push(format!(
                    "{}: expected hash {:?} partitions {:?}, got {hash} {partitions:?}",
                    v.name, expected.0, expected.1
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} vectors fail (after an intended spec change, rerun with \
             BALLISTA_BLESS=1 cargo test -p ballista-core --lib hash::tests::bless -- \
             --ignored):\n{}",
            failures.len(),
            vectors.len(),
            failures.join("\n")
        );
    }

    fn json_string(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    /// Rewrites the expected `hash` and `partitions` of every vector in
    /// `vectors.json` from this implementation. Inputs (names, types,
    /// values) are kept, so a new vector is added by writing its inputs and
    /// blessing. Only for an intended change: the vectors are the spec.
    #[test]
    #[ignore = "rewrites vectors.json; run with BALLISTA_BLESS=1"]
    fn bless() {
        if std::env::var("BALLISTA_BLESS").as_deref() != Ok("1") {
            eprintln!("set BALLISTA_BLESS=1 to rewrite {}", vectors_path());
            return;
        }
        let (_, vectors) = read_vectors();
        let results = compute(&PARTITION_COUNTS, &vectors);
        let list = |xs: &[u32]| xs.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
        let mut out = String::new();
        out.push_str("{\n");
        out.push_str(
            "  \"description\": \"Ballista spec shuffle hash (Spark-compatible Murmur3 x86_32, \
             seed 42) conformance vectors: see README.md and docs/spec/hashing.md. Expected \
             values are written by BALLISTA_BLESS=1; never edit them by hand.\",\n",
        );
        out.push_str("  \"spec\": \"docs/spec/hashing.md\",\n");
        out.push_str(&format!("  \"seed\": {SEED},\n"));
        out.push_str(&format!(
            "  \"partition_counts\": [{}],\n",
            list(&PARTITION_COUNTS)
        ));
        out.push_str("  \"vectors\": [\n");
        for (i, (v, (hash, partitions))) in vectors.iter().zip(&results).enumerate() {
            let columns = v
                .columns
                .iter()
                .map(|(t, value)| {
                    let value = value.as_deref().map_or("null".to_string(), json_string);
                    format!("{{\"type\": {}, \"value\": {value}}}", json_string(t))
                })
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!(
                "    {{\n      \"name\": {},\n      \"columns\": [{columns}],\n      \
                 \"hash\": {hash},\n      \"partitions\": [{}]\n    }}{}\n",
                json_string(&v.name),
                list(partitions),
                if i + 1 < vectors.len() { "," } else { "" }
            ));
        }
        out.push_str("  ]\n}\n");
        std::fs::write(vectors_path(), out).unwrap();
        eprintln!("blessed {} vectors in {}", vectors.len(), vectors_path());
    }
}
