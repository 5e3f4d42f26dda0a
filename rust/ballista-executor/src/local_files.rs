//! Local files read through memory maps: the `file://` object store of an
//! executor's tasks.
//!
//! Why: DataFusion reads Parquet byte ranges through `object_store`'s
//! `LocalFileSystem`, which zeroes a fresh buffer and copies the range into
//! it with `pread`. Profiled on TPC-H SF 1, that copy, the zeroing and the
//! page faults of the new buffers were about 16% of an executor's CPU time,
//! more than any operator. A range served from a memory map costs a map and
//! the minor faults of the pages touched; the bytes are the page cache's own,
//! and Arrow decodes them in place.
//!
//! What it does not change: listing, metadata, writes and whole-file reads
//! go to `LocalFileSystem` as before, and so do small ranges (a map costs
//! more than copying a few pages: footers, page indexes). A range that is
//! not within the file is refused before anything is mapped, with an error
//! naming the file, the range and the file's length.
//!
//! The one hazard of maps (README, "Decisions"; `docs/architecture.md`,
//! "Executor"): a file truncated *in place* while a task reads it makes the
//! executor fault (SIGBUS) instead of failing the task. Table files are
//! replaced by writing new files, never truncated, so maps are the default;
//! `--local-reads pread` turns them off.

use std::fmt;
use std::fs::File;
use std::ops::Range;

use async_trait::async_trait;
use bytes::Bytes;
use datafusion::object_store::local::LocalFileSystem;
use datafusion::object_store::path::Path;
use datafusion::object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};
use futures::stream::{self, BoxStream};
use memmap2::{Mmap, MmapOptions};

/// Ranges (or spans of ranges) shorter than this are read with `pread`:
/// below it a map and unmap cost more than the copy they save.
const MIN_MAPPED_BYTES: u64 = 64 * 1024;

/// The `file://` object store of executors: [`LocalFileSystem`], except that
/// byte ranges of [`MIN_MAPPED_BYTES`] or more are served from a memory map
/// of the file instead of being copied into a new buffer.
#[derive(Debug, Default)]
pub struct MappedLocalFiles {
    files: LocalFileSystem,
}

impl MappedLocalFiles {
    /// A store for absolute `file://` paths, as DataFusion's default one.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Display for MappedLocalFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MappedLocalFiles({})", self.files)
    }
}

/// Maps `span` of `file` (already checked against the file's length) and
/// returns it as bytes that keep the map alive. An empty span maps nothing.
///
/// Also how shuffle files are read (`shuffle::ipc`): those are written once
/// by this executor, renamed into place and only ever deleted, which a map
/// survives.
#[allow(unsafe_code)]
pub(crate) fn map_file_range(file: &File, span: Range<u64>) -> std::io::Result<Bytes> {
    let len = usize::try_from(span.end - span.start).map_err(std::io::Error::other)?;
    if len == 0 {
        return Ok(Bytes::new());
    }
    // SAFETY: the map is read-only and private to this process, and the
    // callers checked `span` against the file's length. What no check can
    // rule out is another process truncating the file while it is mapped
    // (module documentation): table and shuffle files are written once.
    let map: Mmap = unsafe { MmapOptions::new().offset(span.start).len(len).map(file) }?;
    Ok(Bytes::from_owner(map))
}

fn map_span(file: &File, span: Range<u64>, path: &std::path::Path) -> Result<Bytes> {
    map_file_range(file, span).map_err(|e| generic(path, e))
}

fn generic(
    path: &std::path::Path,
    e: impl std::error::Error + Send + Sync + 'static,
) -> datafusion::object_store::Error {
    datafusion::object_store::Error::Generic {
        store: "MappedLocalFiles",
        source: format!("{}: {e}", path.display()).into(),
    }
}

/// The error for a range that is not within a file of `len` bytes.
fn past_end(
    path: &std::path::Path,
    range: &Range<u64>,
    len: u64,
) -> datafusion::object_store::Error {
    datafusion::object_store::Error::Generic {
        store: "MappedLocalFiles",
        source: format!(
            "{}: requested range {}..{} is not within the file ({len} bytes)",
            path.display(),
            range.start,
            range.end
        )
        .into(),
    }
}

#[async_trait]
impl ObjectStore for MappedLocalFiles {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.files.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.files.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let ranged = options.range.is_some() && !options.head;
        // LocalFileSystem opens the file, checks the preconditions and
        // resolves the range against the file's length; only the read of
        // the bytes is done differently.
        let result = self.files.get_opts(location, options).await?;
        let GetResult {
            payload,
            meta,
            range,
            attributes,
        } = result;
        let payload = match payload {
            GetResultPayload::File(file, path)
                if ranged && range.end - range.start >= MIN_MAPPED_BYTES =>
            {
                let bytes = map_span(&file, range.clone(), &path)?;
                GetResultPayload::Stream(Box::pin(stream::once(async move { Ok(bytes) })))
            }
            other => other,
        };
        Ok(GetResult {
            payload,
            meta,
            range,
            attributes,
        })
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let (Some(start), Some(end)) = (
            ranges.iter().map(|r| r.start).min(),
            ranges.iter().map(|r| r.end).max(),
        ) else {
            return Ok(vec![]);
        };
        if end.saturating_sub(start) < MIN_MAPPED_BYTES {
            return self.files.get_ranges(location, ranges).await;
        }
        let path = self.files.path_to_filesystem(location)?;
        let ranges = ranges.to_vec();
        // Opening and sizing the file are blocking calls; the map is one
        // syscall, and its pages fault in where the bytes are decoded.
        tokio::task::spawn_blocking(move || {
            let file = File::open(&path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => datafusion::object_store::Error::NotFound {
                    path: path.display().to_string(),
                    source: e.into(),
                },
                _ => generic(&path, e),
            })?;
            let len = file.metadata().map_err(|e| generic(&path, e))?.len();
            if let Some(bad) = ranges.iter().find(|r| r.end > len || r.start > r.end) {
                return Err(past_end(&path, bad, len));
            }
            let span = map_span(&file, start..end, &path)?;
            Ok(ranges
                .iter()
                .map(|r| span.slice((r.start - start) as usize..(r.end - start) as usize))
                .collect())
        })
        .await
        .map_err(|e| datafusion::object_store::Error::JoinError { source: e })?
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.files.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.files.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.files.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.files.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.files.copy_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::object_store::GetRange;
    use datafusion::object_store::ObjectStoreExt;
    use std::io::Write;

    /// A file of `len` bytes where byte i is `i % 251`, and its store path.
    fn file_of(dir: &tempfile::TempDir, len: usize) -> (Path, Vec<u8>) {
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let file = dir.path().join("data.bin");
        File::create(&file).unwrap().write_all(&bytes).unwrap();
        (Path::from_absolute_path(&file).unwrap(), bytes)
    }

    #[tokio::test]
    async fn ranges_read_the_same_bytes_as_local_file_system() {
        let dir = tempfile::tempdir().unwrap();
        let (path, bytes) = file_of(&dir, 1 << 20);
        let (mapped, local) = (MappedLocalFiles::new(), LocalFileSystem::new());
        // Large and small spans, unaligned starts, adjacent and overlapping
        // ranges, an empty one.
        let cases: Vec<Vec<Range<u64>>> = vec![
            vec![4097..300_001],
            vec![0..10, 5..20],
            vec![100..200, 900_000..1_048_576, 7..7, 65_536..70_000],
        ];
        for ranges in cases {
            let got = mapped.get_ranges(&path, &ranges).await.unwrap();
            let want = local.get_ranges(&path, &ranges).await.unwrap();
            assert_eq!(got, want);
            for (r, b) in ranges.iter().zip(&got) {
                assert_eq!(&b[..], &bytes[r.start as usize..r.end as usize]);
            }
        }
        for range in [1..200_000u64, 10..20, 1_000_000..1_048_576] {
            let got = mapped.get_range(&path, range.clone()).await.unwrap();
            assert_eq!(&got[..], &bytes[range.start as usize..range.end as usize]);
        }
        let suffix = mapped
            .get_opts(
                &path,
                GetOptions {
                    range: Some(GetRange::Suffix(100_000)),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(suffix.range, (1 << 20) - 100_000..1 << 20);
        assert_eq!(
            &suffix.bytes().await.unwrap()[..],
            &bytes[(1 << 20) - 100_000..]
        );
        let whole = mapped.get(&path).await.unwrap().bytes().await.unwrap();
        assert_eq!(&whole[..], &bytes[..]);
    }

    #[tokio::test]
    async fn ranges_past_the_end_or_of_missing_files_are_errors_that_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = file_of(&dir, 200_000);
        let mapped = MappedLocalFiles::new();
        let err = mapped
            .get_ranges(&path, &[0..100_000, 150_000..250_000])
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("data.bin") && text.contains("not within the file (200000 bytes)"),
            "{text}"
        );
        let missing = Path::from_absolute_path(dir.path().join("gone.parquet")).unwrap();
        let err = mapped
            .get_ranges(&missing, &[0..100_000, 100_000..150_000])
            .await
            .unwrap_err();
        assert!(
            matches!(err, datafusion::object_store::Error::NotFound { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("gone.parquet"), "{err}");
        let err = mapped.get_range(&missing, 0..100_000).await.unwrap_err();
        assert!(
            matches!(err, datafusion::object_store::Error::NotFound { .. }),
            "{err}"
        );
    }
}
