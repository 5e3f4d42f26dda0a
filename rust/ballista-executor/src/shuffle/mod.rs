//! Shuffle data: the spec's runtime operators as DataFusion plans, and where
//! their files live on disk (`docs/spec/shuffle.md`).
//!
//! - [`ShuffleWriterExec`] (`ShuffleWriteExec` in the spec) runs one map
//!   task and writes its rows as one Arrow IPC stream file per non-empty
//!   reduce partition;
//! - [`ResultSinkExec`] keeps a final-stage partition as one file for
//!   clients to fetch;
//! - [`ShuffleReaderExec`] (`ShuffleReadExec`) streams the files of one
//!   reduce partition, from local disk for the files of executors on this
//!   host and over Flight `DoGet` for everyone else's.
//!
//! # Layout
//!
//! Everything lives under the executor's work directory:
//!
//! ```text
//! <work_dir>/<job_id>/<stage_id>/<reduce>/<map>.arrow   shuffle output
//! <work_dir>/<job_id>/<stage_id>/result/<partition>.arrow  result partitions
//! ```
//!
//! One file per (map, reduce) pair: a reader of reduce partition r opens
//! `<r>/` and nothing else, a failed map task leaves no partial file (files
//! are renamed into place when complete), and deleting a job is removing one
//! directory. The cost — many small files when both sides have many
//! partitions — is bounded by writing only non-empty partitions and by
//! coalescing rows into full batches. This module must not know about
//! tasks, the scheduler or Flight services beyond fetching with a client.

use std::path::{Component, Path, PathBuf};

use ballista_core::{BallistaError, Result};

mod ipc;
mod reader;
mod result_sink;
mod writer;

pub use reader::{ConnectionCache, ShuffleReaderExec};
pub use result_sink::ResultSinkExec;
pub use writer::{MAX_OUTPUT_PARTITIONS, ShuffleWriterExec, summary_schema};

pub(crate) use ipc::{RawIpcMessage, open_ipc_file, open_ipc_messages};

/// File name extension of shuffle and result files (Arrow IPC stream).
pub const FILE_EXTENSION: &str = "arrow";

/// Name of the directory holding a stage's result partitions, beside its
/// numbered reduce-partition directories.
pub const RESULT_DIR: &str = "result";

/// Shuffle partitions a [`ShuffleReaderExec`] fetches at the same time
/// unless told otherwise.
pub const DEFAULT_FETCH_CONCURRENCY: usize = 4;

/// The directory of job `job_id`'s data.
pub fn job_dir(work_dir: &Path, job_id: &str) -> PathBuf {
    work_dir.join(job_id)
}

/// Where map task `map` of stage `stage_id` keeps its rows of reduce
/// partition `reduce`.
pub fn shuffle_file_path(
    work_dir: &Path,
    job_id: &str,
    stage_id: u32,
    reduce: usize,
    map: usize,
) -> PathBuf {
    job_dir(work_dir, job_id)
        .join(stage_id.to_string())
        .join(reduce.to_string())
        .join(format!("{map}.{FILE_EXTENSION}"))
}

/// Where the final stage `stage_id` keeps result partition `partition`.
pub fn result_file_path(work_dir: &Path, job_id: &str, stage_id: u32, partition: usize) -> PathBuf {
    job_dir(work_dir, job_id)
        .join(stage_id.to_string())
        .join(RESULT_DIR)
        .join(format!("{partition}.{FILE_EXTENSION}"))
}

/// Checks that a job id can name a directory: it comes from the network and
/// becomes a path component, so `..`, separators or an empty id would let a
/// plan write (or a cleanup delete) outside the work directory. Names
/// starting with `.` are reserved for the executor's own entries (spill
/// files, files being written).
pub fn validate_job_id(job_id: &str, field: &str) -> Result<()> {
    let bad = job_id.is_empty()
        || job_id.starts_with('.')
        || job_id.len() > 255
        || job_id
            .chars()
            .any(|c| c == '/' || c == '\\' || c == '\0' || c.is_control());
    if bad {
        Err(BallistaError::invalid(
            field,
            format!(
                "job id {job_id:?} cannot name a directory: it must be 1 to 255 \
                 characters with no `/`, `\\` or control characters, not starting with `.`"
            ),
        ))
    } else {
        Ok(())
    }
}

/// The file of a shuffle location held by *another* executor on this host,
/// when it can be read directly instead of over `DoGet`
/// (`docs/spec/shuffle.md`, "Reads").
///
/// The holder must advertise a loopback address: only a process on this
/// host (and in this network namespace) can be reached there, so its files
/// are on this machine. The path must have the shape the layout gives a
/// shuffle file of this very location — absolute, no `..`, ending in
/// `<job_id>/<stage_id>/<reduce>/<map>.arrow` — so that a crafted plan
/// cannot make an executor read arbitrary files; and it must exist.
/// `None` means: fetch it with `DoGet`.
pub fn same_host_file(location: &ballista_proto::v1::PartitionLocation) -> Option<PathBuf> {
    let holder = location.executor.as_ref()?;
    let loopback = holder.host == "localhost"
        || holder
            .host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback || validate_job_id(&location.job_id, "PartitionLocation.job_id").is_err() {
        return None;
    }
    let path = Path::new(&location.path);
    let expected = Path::new(&location.job_id)
        .join(location.stage_id.to_string())
        .join(location.output_partition.to_string())
        .join(format!("{}.{FILE_EXTENSION}", location.map_partition));
    let shaped = path.is_absolute()
        && !path.components().any(|c| matches!(c, Component::ParentDir))
        && path.ends_with(&expected);
    (shaped && path.is_file()).then(|| path.to_path_buf())
}

/// Resolves `path` (from a `PartitionLocation` or a `FetchPartition`
/// ticket) to a file inside `work_dir`, which must be canonical.
///
/// Fails with `InvalidArgument` when the path is relative, has `..`
/// components or lies (also through symbolic links) outside `work_dir`:
/// another process's directory is not ours to read. Fails with `NotFound`
/// when it is inside but missing; `what` names the data for that message.
pub fn resolve_in_work_dir(work_dir: &Path, path: &str, what: &str) -> Result<PathBuf> {
    let p = Path::new(path);
    let lexically_inside = p.is_absolute()
        && !p.components().any(|c| matches!(c, Component::ParentDir))
        && p.starts_with(work_dir);
    if !lexically_inside {
        return Err(BallistaError::InvalidArgument(format!(
            "path `{path}` of {what} is not inside this executor's work directory `{}`",
            work_dir.display()
        )));
    }
    let canonical = std::fs::canonicalize(p).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            BallistaError::NotFound(format!("{what}: no file at `{path}`"))
        } else {
            BallistaError::Execution(format!("{what}: cannot open `{path}`: {e}"))
        }
    })?;
    if !canonical.starts_with(work_dir) {
        return Err(BallistaError::InvalidArgument(format!(
            "path `{path}` of {what} resolves to `{}`, outside this executor's work \
             directory `{}`",
            canonical.display(),
            work_dir.display()
        )));
    }
    Ok(canonical)
}

/// A path as the UTF-8 string protobuf carries.
pub(crate) fn path_string(path: &Path) -> Result<String> {
    path.to_str().map(str::to_string).ok_or_else(|| {
        BallistaError::Execution(format!(
            "path `{}` is not valid UTF-8 and cannot travel in a PartitionLocation; \
             use a work directory whose path is UTF-8",
            path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_that_escape_are_refused() {
        for bad in [
            "", ".", "..", ".spill", "a/b", "../x", "a\\b", "a\0b", "a\nb",
        ] {
            let err = validate_job_id(bad, "ShuffleWriteExec.job_id").unwrap_err();
            assert!(err.to_string().contains("ShuffleWriteExec.job_id"), "{err}");
        }
        for good in ["job-1", "0b6e1f2a-uuid", "a.b"] {
            validate_job_id(good, "x").unwrap();
        }
    }

    #[test]
    fn layout_is_job_stage_reduce_map() {
        let w = Path::new("/w");
        assert_eq!(
            shuffle_file_path(w, "j", 2, 3, 4),
            Path::new("/w/j/2/3/4.arrow")
        );
        assert_eq!(
            result_file_path(w, "j", 5, 1),
            Path::new("/w/j/5/result/1.arrow")
        );
    }

    #[test]
    fn only_shuffle_files_of_loopback_executors_are_read_directly() {
        use ballista_proto::v1 as pb;
        let dir = std::env::temp_dir().join(format!("ballista-same-host-{}", uuid::Uuid::new_v4()));
        let file = shuffle_file_path(&dir, "job-1", 2, 3, 4);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, b"x").unwrap();
        std::fs::write(dir.join("secret"), b"x").unwrap();
        let location = |host: &str, path: &Path| pb::PartitionLocation {
            job_id: "job-1".into(),
            stage_id: 2,
            map_partition: 4,
            output_partition: 3,
            executor: Some(pb::ExecutorEndpoint {
                id: "other".into(),
                host: host.into(),
                port: 1,
            }),
            path: path.to_str().unwrap().into(),
            stats: None,
        };
        for host in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.1.1"] {
            assert_eq!(
                same_host_file(&location(host, &file)).as_deref(),
                Some(file.as_path()),
                "{host}"
            );
        }
        // Another host's files are not ours to read, even at the same path.
        assert_eq!(same_host_file(&location("10.0.0.7", &file)), None);
        assert_eq!(same_host_file(&location("executor-0.svc", &file)), None);
        // Only a file shaped like this very location's, and only if it is there.
        let mut wrong_map = location("127.0.0.1", &file);
        wrong_map.map_partition = 5;
        assert_eq!(same_host_file(&wrong_map), None);
        for path in [
            dir.join("secret"),
            PathBuf::from("/etc/passwd"),
            PathBuf::from("job-1/2/3/4.arrow"),
            dir.join("x/../job-1/2/3/4.arrow"),
            shuffle_file_path(&dir, "job-1", 2, 3, 4).with_extension("tmp"),
            shuffle_file_path(&dir.join("gone"), "job-1", 2, 3, 4),
        ] {
            assert_eq!(
                same_host_file(&location("127.0.0.1", &path)),
                None,
                "{}",
                path.display()
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn paths_outside_the_work_dir_are_invalid() {
        let dir = std::env::temp_dir().join(format!("ballista-resolve-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let dir = std::fs::canonicalize(&dir).unwrap();
        std::fs::write(dir.join("f.arrow"), b"x").unwrap();
        let inside = dir.join("f.arrow");
        assert_eq!(
            resolve_in_work_dir(&dir, inside.to_str().unwrap(), "t").unwrap(),
            inside
        );
        for bad in [
            "/etc/passwd".to_string(),
            "relative/f.arrow".to_string(),
            format!("{}/../f.arrow", dir.display()),
        ] {
            let err = resolve_in_work_dir(&dir, &bad, "t").unwrap_err();
            assert!(
                matches!(err, BallistaError::InvalidArgument(_)),
                "{bad}: {err}"
            );
        }
        let missing = dir.join("nope.arrow");
        let err = resolve_in_work_dir(&dir, missing.to_str().unwrap(), "partition 7").unwrap_err();
        assert!(matches!(err, BallistaError::NotFound(_)), "{err}");
        assert!(err.to_string().contains("partition 7"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
