//! Writing Parquet files and publishing a generated directory atomically.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

use crate::{DatagenError, Result};

/// Name of the marker file that makes a directory a complete data set.
pub const SUCCESS_MARKER: &str = "_SUCCESS";

/// What a generator did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The data set was written.
    Generated,
    /// The directory already held a complete data set (its `_SUCCESS`
    /// marker); nothing was written.
    AlreadyPresent,
}

/// Makes `dir` a complete data set described by `description`, calling
/// `write` to fill a temporary directory unless `dir` already is one.
///
/// The description (for example `nyctaxi rows=10 files=1 seed=42`) is stored
/// in the marker so that asking for different data in the same directory is an
/// error rather than a silent reuse. An empty marker (written by older
/// versions) is accepted as matching.
pub(crate) fn publish(
    dir: &Path,
    description: &str,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<Outcome> {
    if let Some(outcome) = existing(dir, description)? {
        return Ok(outcome);
    }
    let name = dir.file_name().ok_or_else(|| {
        DatagenError::InvalidArgument(format!(
            "output directory {} has no final component",
            dir.display()
        ))
    })?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| DatagenError::io(format!("cannot create {}", parent.display()), e))?;

    // Private to this process and call: concurrent generators never share it.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let tmp = parent.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = std::fs::create_dir_all(&tmp)
        .map_err(|e| DatagenError::io(format!("cannot create {}", tmp.display()), e))
        .and_then(|()| write(&tmp))
        .and_then(|()| {
            let marker = tmp.join(SUCCESS_MARKER);
            std::fs::write(&marker, format!("{description}\n"))
                .map_err(|e| DatagenError::io(format!("cannot write {}", marker.display()), e))
        })
        .and_then(|()| move_into_place(&tmp, dir, description));
    if result.is_err() || tmp.exists() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// `Some` when `dir` needs no generation, an error when it cannot be used.
fn existing(dir: &Path, description: &str) -> Result<Option<Outcome>> {
    let marker = dir.join(SUCCESS_MARKER);
    match std::fs::read_to_string(&marker) {
        Ok(found) => {
            let found = found.trim();
            if found.is_empty() || found == description {
                Ok(Some(Outcome::AlreadyPresent))
            } else {
                Err(DatagenError::InvalidArgument(format!(
                    "{} already holds a different data set ({found}); remove it or choose \
                     another directory for {description}",
                    dir.display()
                )))
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if dir.is_file() {
                return Err(DatagenError::InvalidArgument(format!(
                    "{} is a file, not a directory",
                    dir.display()
                )));
            }
            if dir.is_dir() && !is_empty_dir(dir)? {
                return Err(DatagenError::InvalidArgument(format!(
                    "{} exists but is not a complete data set (no {SUCCESS_MARKER} marker); \
                     remove it or choose another directory",
                    dir.display()
                )));
            }
            Ok(None)
        }
        Err(e) => Err(DatagenError::io(
            format!("cannot read {}", marker.display()),
            e,
        )),
    }
}

fn is_empty_dir(dir: &Path) -> Result<bool> {
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| DatagenError::io(format!("cannot list {}", dir.display()), e))?;
    Ok(entries.next().is_none())
}

fn move_into_place(tmp: &Path, dir: &Path, description: &str) -> Result<Outcome> {
    // An empty directory (say, created by the user for the output) would
    // block the rename on some platforms.
    let _ = std::fs::remove_dir(dir);
    match std::fs::rename(tmp, dir) {
        Ok(()) => Ok(Outcome::Generated),
        Err(e) => match existing(dir, description) {
            // Another process finished the same data set first; its copy is
            // complete, and ours is removed by the caller.
            Ok(Some(outcome)) => Ok(outcome),
            Ok(None) => Err(DatagenError::io(
                format!("cannot move {} to {}", tmp.display(), dir.display()),
                e,
            )),
            Err(other) => Err(other),
        },
    }
}

/// Writes `batches` to a new Parquet file at `path`.
pub(crate) fn write_parquet(
    path: &Path,
    schema: SchemaRef,
    batches: impl Iterator<Item = Result<RecordBatch>>,
    properties: Option<WriterProperties>,
) -> Result<()> {
    let parquet_error = |source| DatagenError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = File::create(path)
        .map_err(|e| DatagenError::io(format!("cannot create {}", path.display()), e))?;
    let mut writer = ArrowWriter::try_new(file, schema, properties).map_err(parquet_error)?;
    for batch in batches {
        writer.write(&batch?).map_err(parquet_error)?;
    }
    writer.close().map_err(parquet_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_root(name: &str) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("ballista-datagen-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        root
    }

    #[test]
    fn publishes_once_and_reuses() {
        let root = temp_root("publish");
        let dir = root.join("data");
        let write = |tmp: &Path| {
            std::fs::write(tmp.join("a.txt"), "a").map_err(|e| DatagenError::io("write", e))
        };
        assert_eq!(publish(&dir, "d1", write).unwrap(), Outcome::Generated);
        assert!(dir.join("a.txt").exists());
        assert!(dir.join(SUCCESS_MARKER).exists());
        let again = publish(&dir, "d1", |_| panic!("must not regenerate")).unwrap();
        assert_eq!(again, Outcome::AlreadyPresent);
        // Only the published directory is left: no temporary directories.
        let names: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(names.len(), 1);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn refuses_a_different_data_set_or_a_foreign_directory() {
        let root = temp_root("refuse");
        let dir = root.join("data");
        publish(&dir, "d1", |_| Ok(())).unwrap();
        let err = publish(&dir, "d2", |_| Ok(())).unwrap_err().to_string();
        assert!(err.contains("different data set (d1)"), "{err}");

        let foreign = root.join("foreign");
        std::fs::create_dir_all(&foreign).unwrap();
        std::fs::write(foreign.join("x"), "x").unwrap();
        let err = publish(&foreign, "d1", |_| Ok(())).unwrap_err().to_string();
        assert!(err.contains("no _SUCCESS marker"), "{err}");

        // An empty directory is fine to fill.
        let empty = root.join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert_eq!(
            publish(&empty, "d1", |_| Ok(())).unwrap(),
            Outcome::Generated
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let root = temp_root("fail");
        let dir = root.join("data");
        let err = publish(&dir, "d1", |_| {
            Err(DatagenError::InvalidArgument("boom".to_string()))
        })
        .unwrap_err();
        assert!(err.to_string().contains("boom"));
        assert!(!dir.exists());
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
