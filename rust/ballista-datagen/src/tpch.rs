//! The eight TPC-H tables as Parquet, generated with `tpchgen-arrow`.
//!
//! Layout: `<dir>/<table>/part-<i>.parquet` (i from 1), plus `<dir>/_SUCCESS`.
//! Large tables are split into `parts` files so that scans have several file
//! groups; `nation` and `region` (25 and 5 rows) are always one file.

use std::path::{Path, PathBuf};

use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator,
    PartSuppGenerator, RegionGenerator, SupplierGenerator,
};
use tpchgen_arrow::{
    CustomerArrow, LineItemArrow, NationArrow, OrderArrow, PartArrow, PartSuppArrow,
    RecordBatchIterator, RegionArrow, SupplierArrow,
};

use crate::output::{publish, write_parquet};
use crate::{DatagenError, Outcome, Result};

/// The eight TPC-H tables, in alphabetical order.
pub const TABLES: [&str; 8] = [
    "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier",
];

/// Writes the TPC-H tables at scale factor `sf` into `dir`, each large table
/// split into `parts` Parquet files; does nothing if `dir` already holds them.
pub fn generate(dir: &Path, sf: f64, parts: usize) -> Result<Outcome> {
    if !(sf.is_finite() && sf > 0.0) {
        return Err(DatagenError::InvalidArgument(format!(
            "TPC-H scale factor must be a positive number, got {sf}"
        )));
    }
    let parts = i32::try_from(parts)
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| {
            DatagenError::InvalidArgument(format!(
                "TPC-H parts must be between 1 and {}, got {parts}",
                i32::MAX
            ))
        })?;
    publish(dir, &format!("tpch sf={sf} parts={parts}"), |tmp| {
        for table in TABLES {
            write_table(tmp, table, sf, parts)?;
        }
        Ok(())
    })
}

fn write_table(dir: &Path, table: &str, sf: f64, parts: i32) -> Result<()> {
    let table_dir = dir.join(table);
    std::fs::create_dir_all(&table_dir)
        .map_err(|e| DatagenError::io(format!("cannot create {}", table_dir.display()), e))?;
    // Tiny tables come from a single generator part.
    let table_parts = if matches!(table, "nation" | "region") {
        1
    } else {
        parts
    };
    for part in 1..=table_parts {
        let batches = batches(table, sf, part, table_parts)?;
        let schema = batches.schema().clone();
        let path = table_dir.join(format!("part-{part}.parquet"));
        write_parquet(&path, schema, batches.map(Ok), None)?;
    }
    Ok(())
}

/// The batches of one part (1-based) of `table`.
fn batches(table: &str, sf: f64, part: i32, parts: i32) -> Result<Box<dyn RecordBatchIterator>> {
    Ok(match table {
        "customer" => Box::new(CustomerArrow::new(CustomerGenerator::new(sf, part, parts))),
        "lineitem" => Box::new(LineItemArrow::new(LineItemGenerator::new(sf, part, parts))),
        "nation" => Box::new(NationArrow::new(NationGenerator::new(sf, part, parts))),
        "orders" => Box::new(OrderArrow::new(OrderGenerator::new(sf, part, parts))),
        "part" => Box::new(PartArrow::new(PartGenerator::new(sf, part, parts))),
        "partsupp" => Box::new(PartSuppArrow::new(PartSuppGenerator::new(sf, part, parts))),
        "region" => Box::new(RegionArrow::new(RegionGenerator::new(sf, part, parts))),
        "supplier" => Box::new(SupplierArrow::new(SupplierGenerator::new(sf, part, parts))),
        other => {
            return Err(DatagenError::Internal(format!(
                "no generator for TPC-H table {other}"
            )));
        }
    })
}

/// Splits a TPC-H query file into its statements (Q15 has three: create
/// view, select, drop view), dropping `--` comment lines.
pub fn statements(text: &str) -> Vec<String> {
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

/// Where tests and benchmarks find the 22 reference query files:
/// `BALLISTA_TPCH_QUERIES`, or `shared/tpch/queries` in the nearest
/// directory above the working directory that has one (cargo runs tests
/// and benchmarks in their package's directory, inside the repository),
/// or beside the repository this crate was built from.
///
/// The working directory comes first because a path fixed at compile time
/// names whichever checkout built this crate: clones sharing one cargo
/// target directory reuse each other's build of it.
pub fn reference_queries_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BALLISTA_TPCH_QUERIES") {
        return PathBuf::from(dir);
    }
    let beside_cwd =
        dir_above_cwd_with("shared/tpch/queries").map(|d| d.join("shared/tpch/queries"));
    beside_cwd.unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tpch/queries")
    })
}

/// The nearest directory at or above the working directory that has the
/// directory `relative` inside it. Tests and benchmarks find their data
/// this way rather than through a path fixed at compile time, which names
/// whichever checkout built the crate (clones can share a target directory).
pub fn dir_above_cwd_with(relative: &str) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .find(|dir| dir.join(relative).is_dir())
        .map(Path::to_path_buf)
}

/// The Q11 `FRACTION` at SF 1, as written in `q11.sql`.
const Q11_FRACTION_SF1: &str = "0.0001";

/// Writes the 22 query files of `src` into `dst` with their substitution
/// parameters set for scale factor `sf`. Only Q11 depends
/// on the scale: its `FRACTION` is 0.0001 / SF (spec 2.4.11.3), so that
/// the few most valuable parts qualify at every scale; left at its SF 1
/// value, SF 10 returns no rows. The other files are copied unchanged.
pub fn queries_for_scale(src: &Path, dst: &Path, sf: f64) -> Result<()> {
    if !(sf.is_finite() && sf > 0.0) {
        return Err(DatagenError::InvalidArgument(format!(
            "scale factor {sf} is not a positive number"
        )));
    }
    std::fs::create_dir_all(dst)
        .map_err(|e| DatagenError::io(format!("cannot create {}", dst.display()), e))?;
    for n in 1..=22 {
        let (path, mut text) = read_query(src, n)?;
        if n == 11 {
            let literal = format!("* {Q11_FRACTION_SF1}");
            if !text.contains(&literal) {
                return Err(DatagenError::InvalidArgument(format!(
                    "{}: no `{literal}` (the SF 1 FRACTION) to scale",
                    path.display()
                )));
            }
            text = text.replace(&literal, &format!("* {}", 0.0001 / sf));
        }
        let out = dst.join(format!("q{n}.sql"));
        std::fs::write(&out, text)
            .map_err(|e| DatagenError::io(format!("cannot write {}", out.display()), e))?;
    }
    Ok(())
}

/// The statements of query `n` (1..=22) read from `<queries_dir>/q<n>.sql`.
pub fn query(queries_dir: &Path, n: usize) -> Result<Vec<String>> {
    Ok(statements(&read_query(queries_dir, n)?.1))
}

/// The path and text of `<queries_dir>/q<n>.sql`.
fn read_query(queries_dir: &Path, n: usize) -> Result<(PathBuf, String)> {
    let path = queries_dir.join(format!("q{n}.sql"));
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((path, text)),
        Err(e) => Err(DatagenError::InvalidArgument(format!(
            "cannot read TPC-H query {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use parquet::file::reader::{FileReader, SerializedFileReader};

    use super::*;

    fn rows(path: &Path) -> i64 {
        let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
        reader.metadata().file_metadata().num_rows()
    }

    #[test]
    fn writes_every_table_in_parts() {
        let dir = std::env::temp_dir().join(format!("ballista-tpch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(generate(&dir, 0.001, 2).unwrap(), Outcome::Generated);
        for table in TABLES {
            let files = std::fs::read_dir(dir.join(table)).unwrap().count();
            let expected = if matches!(table, "nation" | "region") {
                1
            } else {
                2
            };
            assert_eq!(files, expected, "{table}");
        }
        assert_eq!(rows(&dir.join("nation/part-1.parquet")), 25);
        assert_eq!(rows(&dir.join("region/part-1.parquet")), 5);
        // SF 0.001 has 150 customers, split over two files.
        let customers =
            rows(&dir.join("customer/part-1.parquet")) + rows(&dir.join("customer/part-2.parquet"));
        assert_eq!(customers, 150);
        assert_eq!(generate(&dir, 0.001, 2).unwrap(), Outcome::AlreadyPresent);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn concurrent_generators_share_one_copy() {
        let dir = std::env::temp_dir().join(format!("ballista-tpch-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let outcomes: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|_| s.spawn(|| generate(&dir, 0.001, 1).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(outcomes.contains(&Outcome::Generated), "{outcomes:?}");
        assert_eq!(rows(&dir.join("nation/part-1.parquet")), 25);
        // No temporary directory is left beside the data.
        let parent = dir.parent().unwrap();
        let prefix = format!(".{}.tmp-", dir.file_name().unwrap().to_string_lossy());
        let leftovers = std::fs::read_dir(parent)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(&prefix)
            })
            .count();
        assert_eq!(leftovers, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn q11_fraction_follows_the_scale() {
        // Unit tests run in the package directory.
        let src = Path::new("../../benchmarks/tpch/queries");
        let dst = std::env::temp_dir().join(format!("ballista-tpch-q-{}", std::process::id()));
        queries_for_scale(src, &dst, 10.0).unwrap();
        let q11 = query(&dst, 11).unwrap().join(";");
        assert!(q11.contains("* 0.00001"), "{q11}");
        assert!(!q11.contains("* 0.0001\n"), "{q11}");
        // Every other query is copied as it is.
        for n in (1..=22).filter(|&n| n != 11) {
            assert_eq!(query(&dst, n).unwrap(), query(src, n).unwrap(), "q{n}");
        }
        queries_for_scale(src, &dst, 1.0).unwrap();
        assert_eq!(query(&dst, 11).unwrap(), query(src, 11).unwrap());
        let err = queries_for_scale(src, &dst, 0.0).unwrap_err().to_string();
        assert!(err.contains("not a positive number"), "{err}");
        std::fs::remove_dir_all(&dst).unwrap();
    }

    #[test]
    fn rejects_bad_arguments() {
        let dir = std::env::temp_dir().join("ballista-tpch-never-written");
        for sf in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = generate(&dir, sf, 1).unwrap_err().to_string();
            assert!(
                err.contains("scale factor must be a positive number"),
                "{err}"
            );
        }
        let err = generate(&dir, 0.01, 0).unwrap_err().to_string();
        assert!(err.contains("parts must be between 1"), "{err}");
        assert!(!dir.exists());
    }
}
