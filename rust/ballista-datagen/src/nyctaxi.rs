//! Synthetic NYC yellow-taxi trips with the TLC trip record schema.
//!
//! The columns, names and types are those of the NYC Taxi & Limousine
//! Commission's yellow trip record Parquet files, so queries written for the
//! real data run unchanged. The values are made up, with plausible shapes:
//! pickups over the twelve months of [`YEAR`] (busier in the evening), mostly
//! one passenger, log-normal distances, fares of a base plus a per-mile and
//! per-minute charge, JFK flat fares, and `total_amount` exactly the sum of its
//! parts. About 3% of trips are "unknown" records, as in the real files:
//! `passenger_count`, `RatecodeID`, `store_and_fwd_flag`,
//! `congestion_surcharge` and `Airport_fee` are null there (and count as zero
//! in `total_amount`).
//!
//! Layout: `<dir>/part-<i>.parquet` (i from 0) plus `<dir>/_SUCCESS`.
//!
//! Speed matters (millions of rows for demos): each batch of [`BATCH_ROWS`]
//! rows is generated column-wise into plain vectors that become Arrow arrays
//! without copying, with its own RNG seeded from `(seed, file, batch)`, so the
//! data depends only on the arguments and batches can be made on any thread.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;

use arrow::array::{
    ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};

use crate::output::{publish, write_parquet};
use crate::{DatagenError, Outcome, Result};

/// The calendar year in which every generated trip starts.
pub const YEAR: i32 = 2024;

/// Rows per generated record batch (and per Parquet write).
pub const BATCH_ROWS: usize = 64 * 1024;

/// 2024-01-01T00:00:00 in microseconds since the Unix epoch.
const YEAR_START_MICROS: i64 = 1_704_067_200 * 1_000_000;
/// Days in [`YEAR`] (a leap year).
const DAYS_IN_YEAR: u32 = 366;

/// JFK and LaGuardia taxi zones: airport fee on pickup.
const JFK: i32 = 132;
const LAGUARDIA: i32 = 138;
/// Busy Manhattan taxi zones (inside the congestion zone).
const MANHATTAN: [i32; 30] = [
    237, 236, 161, 162, 230, 186, 142, 170, 163, 239, 234, 238, 141, 68, 79, 48, 107, 140, 100,
    164, 249, 229, 113, 90, 263, 262, 43, 233, 246, 75,
];

/// Relative number of pickups in each hour of the day (quiet before dawn,
/// busiest in the evening rush).
const HOUR_WEIGHTS: [u32; 24] = [
    30, 20, 14, 9, 6, 6, 12, 22, 32, 36, 38, 40, 43, 45, 48, 52, 56, 62, 66, 60, 55, 52, 48, 40,
];

/// Passenger counts with their weights (per 10,000 known records).
const PASSENGERS: [(i64, u32); 7] = [
    (1, 7500),
    (2, 1450),
    (3, 350),
    (4, 200),
    (5, 250),
    (6, 150),
    (0, 100),
];

/// TLC rate codes: 1 standard, 2 JFK, 3 Newark, 4 Nassau/Westchester,
/// 5 negotiated, 99 unknown.
const RATE_CODES: [(i64, u32); 6] = [(1, 9300), (2, 350), (3, 50), (4, 30), (5, 200), (99, 70)];

/// Payment types: 1 credit card, 2 cash, 3 no charge, 4 dispute. Unknown
/// records have 0, as in the TLC files.
const PAYMENTS: [(i64, u32); 4] = [(1, 7600), (2, 2000), (3, 200), (4, 200)];

/// Share of records with unknown passenger count and rate code (per 10,000).
const UNKNOWN_PER_10K: u32 = 300;

/// The TLC yellow trip record schema.
pub fn schema() -> SchemaRef {
    let money = |name: &str| Field::new(name, DataType::Float64, false);
    let timestamp = DataType::Timestamp(TimeUnit::Microsecond, None);
    Arc::new(Schema::new(vec![
        Field::new("VendorID", DataType::Int32, false),
        Field::new("tpep_pickup_datetime", timestamp.clone(), false),
        Field::new("tpep_dropoff_datetime", timestamp, false),
        Field::new("passenger_count", DataType::Int64, true),
        Field::new("trip_distance", DataType::Float64, false),
        Field::new("RatecodeID", DataType::Int64, true),
        Field::new("store_and_fwd_flag", DataType::Utf8, true),
        Field::new("PULocationID", DataType::Int32, false),
        Field::new("DOLocationID", DataType::Int32, false),
        Field::new("payment_type", DataType::Int64, false),
        money("fare_amount"),
        money("extra"),
        money("mta_tax"),
        money("tip_amount"),
        money("tolls_amount"),
        money("improvement_surcharge"),
        money("total_amount"),
        Field::new("congestion_surcharge", DataType::Float64, true),
        Field::new("Airport_fee", DataType::Float64, true),
    ]))
}

/// Writes `rows` synthetic trips into `files` Parquet files under `dir`
/// (rows spread evenly, earlier files taking the remainder); the same `seed`
/// always gives the same data. Does nothing if `dir` already holds this data
/// set.
pub fn generate(dir: &Path, rows: u64, files: usize, seed: u64) -> Result<Outcome> {
    if files == 0 {
        return Err(DatagenError::InvalidArgument(
            "nyctaxi needs at least one output file, got --files 0".to_string(),
        ));
    }
    let description = format!("nyctaxi rows={rows} files={files} seed={seed}");
    publish(dir, &description, |tmp| {
        let files = files as u64;
        let write = |file: u64| {
            let file_rows = rows / files + u64::from(file < rows % files);
            let path = tmp.join(format!("part-{file}.parquet"));
            write_file(&path, file_rows, seed, file)
        };
        // Files are independent: write one per core at a time.
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        let next_file = AtomicU64::new(0);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers.min(files))
                .map(|_| {
                    scope.spawn(|| {
                        loop {
                            let file = next_file.fetch_add(1, Ordering::Relaxed);
                            if file >= files {
                                return Ok(());
                            }
                            if let Err(e) = write(file) {
                                // Stop the other workers early too.
                                next_file.store(files, Ordering::Relaxed);
                                return Err(e);
                            }
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle.join().unwrap_or_else(|_| {
                        Err(DatagenError::Internal("a generator thread panicked".into()))
                    })
                })
                .collect::<Result<Vec<()>>>()
        })?;
        Ok(())
    })
}

/// Writes one file, generating batches on a second thread while this one
/// encodes Parquet: the two take similar time, so this nearly halves it.
fn write_file(path: &Path, rows: u64, seed: u64, file: u64) -> Result<()> {
    let batch_rows = BATCH_ROWS as u64;
    let batches = rows.div_ceil(batch_rows);
    std::thread::scope(|scope| {
        // Two batches in flight bound memory to a few MiB.
        let (sender, receiver) = sync_channel(2);
        scope.spawn(move || {
            for batch in 0..batches {
                let n = (rows - batch * batch_rows).min(batch_rows) as usize;
                let mut rng = SmallRng::seed_from_u64(batch_seed(seed, file, batch));
                if sender.send(generate_batch(&mut rng, n)).is_err() {
                    // The writer failed and hung up; it reports the error.
                    return;
                }
            }
        });
        write_parquet(
            path,
            schema(),
            receiver.into_iter(),
            Some(writer_properties()),
        )
    })
}

/// Snappy, as the TLC's files; no dictionary for the timestamps, whose
/// values are nearly all distinct (building dictionaries only to drop them
/// costs time).
fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_column_dictionary_enabled(ColumnPath::from("tpep_pickup_datetime"), false)
        .set_column_dictionary_enabled(ColumnPath::from("tpep_dropoff_datetime"), false)
        .build()
}

/// An RNG seed for one batch: SplitMix64 steps mix the seed, file and batch
/// numbers so that neighbouring batches get unrelated streams.
fn batch_seed(seed: u64, file: u64, batch: u64) -> u64 {
    fn splitmix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    splitmix(splitmix(splitmix(seed) ^ file) ^ batch)
}

/// A number in `0..n`. Multiply-shift instead of rejection sampling: the
/// bias (below n / 2^32) is irrelevant here and this is much cheaper.
fn below(rng: &mut SmallRng, n: u32) -> u32 {
    ((u64::from(rng.next_u32()) * u64::from(n)) >> 32) as u32
}

/// True with probability `numerator / denominator`.
fn chance(rng: &mut SmallRng, numerator: u32, denominator: u32) -> bool {
    below(rng, denominator) < numerator
}

/// Picks a value from `(value, weight)` pairs.
fn pick<T: Copy, const N: usize>(rng: &mut SmallRng, table: &[(T, u32); N]) -> T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut r = below(rng, total);
    for (value, weight) in table {
        if r < *weight {
            return *value;
        }
        r -= weight;
    }
    table[N - 1].0
}

/// A standard normal sample (Box-Muller).
fn normal(rng: &mut SmallRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]: ln is finite
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The column vectors of one batch under construction. Money is kept in
/// cents so that the total is exactly the sum of its parts.
#[derive(Default)]
struct Columns {
    vendor: Vec<i32>,
    pickup: Vec<i64>,
    dropoff: Vec<i64>,
    /// False for "unknown" records, whose optional columns are null.
    known: Vec<bool>,
    passengers: Vec<i64>,
    distance: Vec<f64>,
    rate_code: Vec<i64>,
    store_and_forward: Vec<u8>,
    pickup_zone: Vec<i32>,
    dropoff_zone: Vec<i32>,
    payment: Vec<i64>,
    fare: Vec<f64>,
    extra: Vec<f64>,
    mta_tax: Vec<f64>,
    tip: Vec<f64>,
    tolls: Vec<f64>,
    improvement: Vec<f64>,
    total: Vec<f64>,
    congestion: Vec<f64>,
    airport: Vec<f64>,
}

impl Columns {
    fn with_capacity(n: usize) -> Self {
        Self {
            vendor: Vec::with_capacity(n),
            pickup: Vec::with_capacity(n),
            dropoff: Vec::with_capacity(n),
            known: Vec::with_capacity(n),
            passengers: Vec::with_capacity(n),
            distance: Vec::with_capacity(n),
            rate_code: Vec::with_capacity(n),
            store_and_forward: Vec::with_capacity(n),
            pickup_zone: Vec::with_capacity(n),
            dropoff_zone: Vec::with_capacity(n),
            payment: Vec::with_capacity(n),
            fare: Vec::with_capacity(n),
            extra: Vec::with_capacity(n),
            mta_tax: Vec::with_capacity(n),
            tip: Vec::with_capacity(n),
            tolls: Vec::with_capacity(n),
            improvement: Vec::with_capacity(n),
            total: Vec::with_capacity(n),
            congestion: Vec::with_capacity(n),
            airport: Vec::with_capacity(n),
        }
    }
}

fn dollars(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// Generates `n` trips.
fn generate_batch(rng: &mut SmallRng, n: usize) -> Result<RecordBatch> {
    let hour_weights: [(i64, u32); 24] = std::array::from_fn(|h| (h as i64, HOUR_WEIGHTS[h]));
    let mut c = Columns::with_capacity(n);
    for _ in 0..n {
        c.vendor.push(if chance(rng, 27, 100) { 1 } else { 2 });

        let day = below(rng, DAYS_IN_YEAR);
        let hour = pick(rng, &hour_weights);
        let second_of_day = hour * 3600 + i64::from(below(rng, 3600));
        let pickup = YEAR_START_MICROS + (i64::from(day) * 86_400 + second_of_day) * 1_000_000;

        let known = !chance(rng, UNKNOWN_PER_10K, 10_000);
        let passengers = if known { pick(rng, &PASSENGERS) } else { 0 };
        let rate_code = if known { pick(rng, &RATE_CODES) } else { 1 };

        // Distances in hundredths of a mile: airport runs are long, other
        // trips log-normal (median about 1.7 miles, long tail), a few zero.
        let distance_centimiles: i64 = match rate_code {
            2 => 1500 + i64::from(below(rng, 700)),
            3 => 1600 + i64::from(below(rng, 500)),
            4 => 1200 + i64::from(below(rng, 1800)),
            _ if chance(rng, 1, 100) => 0,
            _ => ((0.55 + 0.85 * normal(rng)).exp().min(60.0) * 100.0).round() as i64,
        };
        let miles = distance_centimiles as f64 / 100.0;

        let (pickup_zone, dropoff_zone) = if rate_code == 2 {
            let city = MANHATTAN[below(rng, MANHATTAN.len() as u32) as usize];
            if chance(rng, 1, 2) {
                (JFK, city)
            } else {
                (city, JFK)
            }
        } else {
            let pickup_zone = if chance(rng, 5, 100) {
                LAGUARDIA
            } else {
                zone(rng)
            };
            (pickup_zone, zone(rng))
        };

        // 7 to 22 mph plus two minutes of getting in and out.
        let speed_mph = rng.random_range(7.0..22.0);
        let duration_s = 120 + (miles / speed_mph * 3600.0) as i64 + i64::from(below(rng, 60));
        let dropoff = pickup + duration_s * 1_000_000;

        let payment = if known { pick(rng, &PAYMENTS) } else { 0 };
        let minutes = duration_s / 60;
        let fare = match rate_code {
            2 => 7000,
            // Newark and Nassau: metered at double the in-city rate.
            3 | 4 => 2000 + 700 * distance_centimiles / 100 + 20 * minutes,
            _ => 300 + 350 * distance_centimiles / 100 + 20 * minutes,
        };
        // 2024-01-01 was a Monday: day `d` of the year is a weekday when `d % 7 < 5`.
        let weekday = day % 7 < 5;
        let extra = match hour {
            16..=19 if weekday => 250,
            20..=23 | 0..=5 => 100,
            _ => 0,
        };
        let mta_tax = 50;
        let tip = if payment == 1 && chance(rng, 80, 100) {
            fare * i64::from(10 + below(rng, 21)) / 100
        } else {
            0
        };
        let tolls = if (rate_code == 2 && chance(rng, 30, 100)) || chance(rng, 4, 100) {
            694
        } else {
            0
        };
        let improvement = 100;
        let congestion = if in_manhattan(pickup_zone) || in_manhattan(dropoff_zone) {
            250
        } else {
            0
        };
        let airport = if matches!(pickup_zone, JFK | LAGUARDIA) {
            175
        } else {
            0
        };
        // Null optional columns count as zero, as in the TLC data.
        let (congestion, airport) = if known { (congestion, airport) } else { (0, 0) };
        let total = fare + extra + mta_tax + tip + tolls + improvement + congestion + airport;

        c.pickup.push(pickup);
        c.dropoff.push(dropoff);
        c.known.push(known);
        c.passengers.push(passengers);
        c.distance.push(miles);
        c.rate_code.push(rate_code);
        c.store_and_forward
            .push(if chance(rng, 5, 1000) { b'Y' } else { b'N' });
        c.pickup_zone.push(pickup_zone);
        c.dropoff_zone.push(dropoff_zone);
        c.payment.push(payment);
        c.fare.push(dollars(fare));
        c.extra.push(dollars(extra));
        c.mta_tax.push(dollars(mta_tax));
        c.tip.push(dollars(tip));
        c.tolls.push(dollars(tolls));
        c.improvement.push(dollars(improvement));
        c.total.push(dollars(total));
        c.congestion.push(dollars(congestion));
        c.airport.push(dollars(airport));
    }
    to_batch(c)
}

/// Whether `zone` is one of [`MANHATTAN`] (a table lookup: this runs twice
/// per row).
fn in_manhattan(zone: i32) -> bool {
    const TABLE: [bool; 266] = {
        let mut table = [false; 266];
        let mut i = 0;
        while i < MANHATTAN.len() {
            table[MANHATTAN[i] as usize] = true;
            i += 1;
        }
        table
    };
    usize::try_from(zone).is_ok_and(|z| z < TABLE.len() && TABLE[z])
}

/// A taxi zone for a city trip: mostly busy Manhattan zones, otherwise any
/// zone of the city (1 to 263; 264 and 265 are "unknown" and "outside NYC").
fn zone(rng: &mut SmallRng) -> i32 {
    if chance(rng, 75, 100) {
        MANHATTAN[below(rng, MANHATTAN.len() as u32) as usize]
    } else {
        1 + below(rng, 263) as i32
    }
}

fn to_batch(c: Columns) -> Result<RecordBatch> {
    let n = c.vendor.len();
    let nulls = Some(NullBuffer::from(c.known)).filter(|nulls| nulls.null_count() > 0);
    let int32 = |v: Vec<i32>| Arc::new(Int32Array::new(ScalarBuffer::from(v), None)) as ArrayRef;
    let int64 = |v: Vec<i64>, nulls: Option<NullBuffer>| {
        Arc::new(Int64Array::new(ScalarBuffer::from(v), nulls)) as ArrayRef
    };
    let float64 = |v: Vec<f64>, nulls: Option<NullBuffer>| {
        Arc::new(Float64Array::new(ScalarBuffer::from(v), nulls)) as ArrayRef
    };
    let timestamp = |v: Vec<i64>| {
        Arc::new(TimestampMicrosecondArray::new(ScalarBuffer::from(v), None)) as ArrayRef
    };
    // Every flag is one byte: offsets 0, 1, 2, ...
    let flags = StringArray::try_new(
        OffsetBuffer::from_lengths(std::iter::repeat_n(1, n)),
        Buffer::from_vec(c.store_and_forward),
        nulls.clone(),
    )
    .map_err(|e| DatagenError::Internal(format!("store_and_fwd_flag: {e}")))?;
    let columns = vec![
        int32(c.vendor),
        timestamp(c.pickup),
        timestamp(c.dropoff),
        int64(c.passengers, nulls.clone()),
        float64(c.distance, None),
        int64(c.rate_code, nulls.clone()),
        Arc::new(flags) as ArrayRef,
        int32(c.pickup_zone),
        int32(c.dropoff_zone),
        int64(c.payment, None),
        float64(c.fare, None),
        float64(c.extra, None),
        float64(c.mta_tax, None),
        float64(c.tip, None),
        float64(c.tolls, None),
        float64(c.improvement, None),
        float64(c.total, None),
        float64(c.congestion, nulls.clone()),
        float64(c.airport, nulls),
    ];
    RecordBatch::try_new(schema(), columns)
        .map_err(|e| DatagenError::Internal(format!("taxi batch: {e}")))
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::path::PathBuf;

    use arrow::array::{Array, AsArray};
    use arrow::compute::concat_batches;
    use arrow::datatypes::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("ballista-nyctaxi-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// Every row of the data set in `dir`, file by file, as one batch.
    fn read_all(dir: &Path) -> RecordBatch {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        files.sort();
        let mut batches = Vec::new();
        for path in files {
            let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
                .unwrap()
                .build()
                .unwrap();
            batches.extend(reader.map(|b| b.unwrap()));
        }
        concat_batches(&schema(), &batches).unwrap()
    }

    #[test]
    fn schema_has_the_tlc_names_and_types() {
        let schema = schema();
        let names_and_types: Vec<_> = schema
            .fields()
            .iter()
            .map(|f| (f.name().as_str(), f.data_type().to_string()))
            .collect();
        let ts = "Timestamp(µs)";
        let expected = vec![
            ("VendorID", "Int32"),
            ("tpep_pickup_datetime", ts),
            ("tpep_dropoff_datetime", ts),
            ("passenger_count", "Int64"),
            ("trip_distance", "Float64"),
            ("RatecodeID", "Int64"),
            ("store_and_fwd_flag", "Utf8"),
            ("PULocationID", "Int32"),
            ("DOLocationID", "Int32"),
            ("payment_type", "Int64"),
            ("fare_amount", "Float64"),
            ("extra", "Float64"),
            ("mta_tax", "Float64"),
            ("tip_amount", "Float64"),
            ("tolls_amount", "Float64"),
            ("improvement_surcharge", "Float64"),
            ("total_amount", "Float64"),
            ("congestion_surcharge", "Float64"),
            ("Airport_fee", "Float64"),
        ];
        let expected: Vec<_> = expected
            .into_iter()
            .map(|(n, t)| (n, t.to_string()))
            .collect();
        assert_eq!(names_and_types, expected);
        assert!(
            schema
                .field_with_name("passenger_count")
                .unwrap()
                .is_nullable()
        );
        assert_eq!(
            schema.field(1).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, None)
        );
    }

    #[test]
    fn writes_exactly_the_rows_asked_for() {
        let dir = temp_dir("rows");
        // Not a multiple of the batch size or of the file count.
        let rows = 2 * BATCH_ROWS as u64 + 1001;
        assert_eq!(generate(&dir, rows, 3, 7).unwrap(), Outcome::Generated);
        let per_file: Vec<usize> = (0..3)
            .map(|i| {
                let file = File::open(dir.join(format!("part-{i}.parquet"))).unwrap();
                let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
                builder.metadata().file_metadata().num_rows() as usize
            })
            .collect();
        assert_eq!(per_file.iter().sum::<usize>() as u64, rows);
        assert!(per_file.iter().max().unwrap() - per_file.iter().min().unwrap() <= 1);
        assert_eq!(read_all(&dir).num_rows() as u64, rows);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn zero_rows_still_make_a_readable_file() {
        let dir = temp_dir("empty");
        generate(&dir, 0, 1, 1).unwrap();
        let batch = read_all(&dir);
        assert_eq!(batch.num_rows(), 0);
        assert_eq!(batch.schema(), schema());
        std::fs::remove_dir_all(&dir).unwrap();
        let err = generate(&dir, 10, 0, 1).unwrap_err().to_string();
        assert!(err.contains("at least one output file"), "{err}");
    }

    #[test]
    fn same_seed_same_data() {
        let (a, b, c) = (temp_dir("seed-a"), temp_dir("seed-b"), temp_dir("seed-c"));
        generate(&a, 100_000, 2, 42).unwrap();
        generate(&b, 100_000, 2, 42).unwrap();
        generate(&c, 100_000, 2, 43).unwrap();
        let (a_rows, b_rows, c_rows) = (read_all(&a), read_all(&b), read_all(&c));
        assert_eq!(a_rows, b_rows);
        assert_ne!(a_rows.column(1), c_rows.column(1));
        for dir in [a, b, c] {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    #[test]
    fn values_are_sane() {
        let dir = temp_dir("sanity");
        let rows = 200_000;
        generate(&dir, rows, 1, 3).unwrap();
        let batch = read_all(&dir);
        let f64s = |name: &str| {
            batch
                .column_by_name(name)
                .unwrap()
                .as_primitive::<Float64Type>()
                .clone()
        };
        let pickup = batch.column(1).as_primitive::<TimestampMicrosecondType>();
        let dropoff = batch.column(2).as_primitive::<TimestampMicrosecondType>();
        let passengers = batch.column(3).as_primitive::<Int64Type>();
        let zones = batch.column(7).as_primitive::<Int32Type>();
        let parts: Vec<_> = [
            "fare_amount",
            "extra",
            "mta_tax",
            "tip_amount",
            "tolls_amount",
            "improvement_surcharge",
            "congestion_surcharge",
            "Airport_fee",
        ]
        .iter()
        .map(|name| f64s(name))
        .collect();
        let total = f64s("total_amount");
        let distance = f64s("trip_distance");

        let mut months = [0u64; 12];
        let mut one_passenger = 0;
        for row in 0..batch.num_rows() {
            // total_amount is the sum of its parts (nulls count as zero).
            let sum: f64 = parts
                .iter()
                .map(|p| if p.is_null(row) { 0.0 } else { p.value(row) })
                .sum();
            assert!(
                (total.value(row) - sum).abs() < 1e-6,
                "row {row}: {} != {sum}",
                total.value(row)
            );
            assert!(dropoff.value(row) > pickup.value(row), "row {row}");
            assert!((0.0..=60.0).contains(&distance.value(row)), "row {row}");
            assert!(parts[0].value(row) >= 3.0, "fare of row {row}");
            assert!((1..=263).contains(&zones.value(row)), "row {row}");
            let day = (pickup.value(row) - YEAR_START_MICROS) / 86_400_000_000;
            assert!((0..i64::from(DAYS_IN_YEAR)).contains(&day), "row {row}");
            months[month_of_day(day as u32)] += 1;
            if passengers.is_valid(row) && passengers.value(row) == 1 {
                one_passenger += 1;
            }
        }
        // Every month has trips, roughly in proportion to its days.
        for (month, count) in months.iter().enumerate() {
            assert!(*count > rows / 14, "month {}: {count} trips", month + 1);
        }
        // Mostly one passenger, and some unknown counts.
        assert!(one_passenger > rows * 6 / 10, "{one_passenger}");
        let nulls = passengers.null_count() as u64;
        assert!(
            nulls > rows / 100 && nulls < rows / 20,
            "{nulls} null passenger counts"
        );
        // Distances are skewed: the mean is above the median.
        let mut sorted: Vec<f64> = distance.values().to_vec();
        sorted.sort_by(f64::total_cmp);
        let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
        assert!(mean > sorted[sorted.len() / 2], "mean {mean}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Month (0-based) of day `day` (0-based) of the leap year [`YEAR`].
    fn month_of_day(day: u32) -> usize {
        const DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let mut remaining = day;
        for (month, days) in DAYS.iter().enumerate() {
            if remaining < *days {
                return month;
            }
            remaining -= days;
        }
        unreachable!("day {day} is past the end of {YEAR}")
    }
}
