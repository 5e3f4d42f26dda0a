//! TPC-H test data and queries for tests and examples.
//!
//! Data is generated with `tpchgen-arrow` (never committed) as Parquet, once
//! per scale factor, and cached under the cargo target directory so reruns
//! and fresh clones that share a target directory skip generation. Queries
//! are read from `../shared/tpch/queries` beside the repository (test data
//! provided with the project; override with `BALLISTA_TPCH_QUERIES`).

#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::error::Result;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator,
    PartSuppGenerator, RegionGenerator, SupplierGenerator,
};
use tpchgen_arrow::{
    CustomerArrow, LineItemArrow, NationArrow, OrderArrow, PartArrow, PartSuppArrow,
    RecordBatchIterator, RegionArrow, SupplierArrow,
};

/// The eight TPC-H tables.
pub const TABLES: [&str; 8] = [
    "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier",
];

fn batches(table: &str, sf: f64, part: i32, parts: i32) -> Box<dyn RecordBatchIterator> {
    match table {
        "customer" => Box::new(CustomerArrow::new(CustomerGenerator::new(sf, part, parts))),
        "lineitem" => Box::new(LineItemArrow::new(LineItemGenerator::new(sf, part, parts))),
        "nation" => Box::new(NationArrow::new(NationGenerator::new(sf, part, parts))),
        "orders" => Box::new(OrderArrow::new(OrderGenerator::new(sf, part, parts))),
        "part" => Box::new(PartArrow::new(PartGenerator::new(sf, part, parts))),
        "partsupp" => Box::new(PartSuppArrow::new(PartSuppGenerator::new(sf, part, parts))),
        "region" => Box::new(RegionArrow::new(RegionGenerator::new(sf, part, parts))),
        "supplier" => Box::new(SupplierArrow::new(SupplierGenerator::new(sf, part, parts))),
        other => panic!("not a TPC-H table: {other}"),
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// Directory holding `<table>/part-<i>.parquet` for scale factor `sf`,
/// generated on first use. Each large table is split into `parts` files so
/// scans have several file groups.
pub fn data_dir(sf: f64, parts: i32) -> PathBuf {
    let dir = target_dir()
        .join("tpch-data")
        .join(format!("sf{sf}-p{parts}"));
    if dir.join("_SUCCESS").exists() {
        return dir;
    }
    // Generate into a private directory and rename, so concurrent test
    // binaries never see a half-written data set.
    let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    for table in TABLES {
        let table_dir = tmp.join(table);
        std::fs::create_dir_all(&table_dir).expect("create TPC-H table directory");
        // Tiny tables come from a single generator part.
        let table_parts = if matches!(table, "nation" | "region") {
            1
        } else {
            parts
        };
        for part in 1..=table_parts {
            let mut iter = batches(table, sf, part, table_parts);
            let schema = iter.schema().clone();
            let path = table_dir.join(format!("part-{part}.parquet"));
            let file = File::create(&path).expect("create parquet file");
            let mut writer = ArrowWriter::try_new(file, schema, None).expect("parquet writer");
            for batch in iter.by_ref() {
                writer.write(&batch).expect("write parquet");
            }
            writer.close().expect("close parquet");
        }
    }
    std::fs::write(tmp.join("_SUCCESS"), b"").expect("write marker");
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => dir,
        // Another process won the race; its copy is complete.
        Err(_) if dir.join("_SUCCESS").exists() => {
            let _ = std::fs::remove_dir_all(&tmp);
            dir
        }
        Err(e) => panic!("cannot move TPC-H data into place: {e}"),
    }
}

/// Registers the eight tables of `dir` in `ctx`.
pub async fn register_tables(ctx: &SessionContext, dir: &Path) -> Result<()> {
    for table in TABLES {
        let path = dir.join(table);
        ctx.register_parquet(
            table,
            path.to_str().expect("utf-8 path"),
            ParquetReadOptions::default(),
        )
        .await?;
    }
    Ok(())
}

/// Directory of the reference query files.
pub fn queries_dir() -> PathBuf {
    std::env::var_os("BALLISTA_TPCH_QUERIES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tpch/queries")
        })
}

/// The SQL statements of query `n` (1..=22); Q15 has three (create view,
/// select, drop view).
pub fn query(n: usize) -> Vec<String> {
    let path = queries_dir().join(format!("q{n}.sql"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read TPC-H query {}: {e}", path.display()));
    text.split(';')
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| !s.trim().is_empty())
        .collect()
}

/// The statement of query `n` that produces its result (the select of Q15),
/// and the statements to run before and after it.
pub fn query_parts(n: usize) -> (Vec<String>, String, Vec<String>) {
    let mut statements = query(n);
    if statements.len() == 1 {
        return (vec![], statements.remove(0), vec![]);
    }
    assert_eq!(statements.len(), 3, "q{n}: expected 1 or 3 statements");
    let after = vec![statements.remove(2)];
    let main = statements.remove(1);
    (statements, main, after)
}

/// Rows of `batches` as strings, one per row, sorted: a canonical form for
/// comparing results whose order is not fully determined.
pub fn canonical_rows(batches: &[RecordBatch]) -> Vec<String> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter"))
            .collect();
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
    }
    rows.sort();
    rows
}
