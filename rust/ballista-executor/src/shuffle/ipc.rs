//! Arrow IPC stream files on local disk: writing a task's partitions on a
//! blocking thread, and reading a file back as a stream of batches.
//!
//! Writing is synchronous file I/O, so it runs on tokio's blocking pool and
//! talks to the async side through bounded channels: a slow disk slows the
//! task down instead of stalling the runtime's worker threads, and at most a
//! few batches are in flight at any time. Reading maps the file and decodes
//! it in place, which needs no I/O of its own: pages fault in as batches are
//! used.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, GenericByteViewArray, RecordBatch};
use arrow::buffer::Buffer;
use arrow::datatypes::{ByteViewType, DataType, SchemaRef};
use arrow::ipc::CompressionType;
use arrow::ipc::reader::StreamDecoder;
use arrow::ipc::writer::{IpcWriteOptions, StreamWriter};
use ballista_core::error::panic_message;
use ballista_core::{BallistaError, Result};
use ballista_proto::v1 as pb;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;

use crate::local_files::map_file_range;

/// Batches queued between the task and its file writer, and between a file
/// reader and its consumer.
const CHANNEL_CAPACITY: usize = 2;

/// The IPC write options for a shuffle compression codec.
pub(crate) fn write_options(compression: pb::ShuffleCompression) -> Result<IpcWriteOptions> {
    let codec = match compression {
        pb::ShuffleCompression::Unspecified => Some(CompressionType::LZ4_FRAME),
        pb::ShuffleCompression::Zstd => Some(CompressionType::ZSTD),
        pb::ShuffleCompression::None => None,
    };
    Ok(IpcWriteOptions::default().try_with_compression(codec)?)
}

/// One file a task wrote.
#[derive(Debug, Clone)]
pub(crate) struct WrittenFile {
    /// The output partition it holds.
    pub partition: usize,
    /// Where it is.
    pub path: PathBuf,
    /// What it holds.
    pub stats: pb::PartitionStats,
}

enum Message {
    Batch(usize, RecordBatch),
    Commit,
}

/// The async handle of a task's file writer, which runs on the blocking
/// pool and creates one IPC stream file per output partition, on the first
/// batch for that partition.
///
/// Files are written under a temporary name and renamed into place only on
/// [`commit`](Self::commit): a task that fails, or is aborted, leaves no
/// file a reader could mistake for complete output.
pub(crate) struct FileSink {
    tx: mpsc::Sender<Message>,
    writer: Option<JoinHandle<Result<Vec<WrittenFile>>>>,
}

impl FileSink {
    /// Starts a writer; `path_of(p)` is the file of partition `p`, and
    /// partition `always` (if any) gets a file even when no rows arrive.
    pub fn spawn(
        schema: SchemaRef,
        options: IpcWriteOptions,
        path_of: impl Fn(usize) -> PathBuf + Send + 'static,
        always: Option<usize>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let writer = tokio::task::spawn_blocking(move || {
            let mut files = BTreeMap::new();
            let result = write_files(rx, &schema, &options, &path_of, always, &mut files);
            if result.is_err() {
                for file in files.into_values() {
                    file.discard();
                }
            }
            result
        });
        Self {
            tx,
            writer: Some(writer),
        }
    }

    /// Queues `batch` for output partition `partition`, waiting while the
    /// writer is behind.
    pub async fn write(&mut self, partition: usize, batch: RecordBatch) -> Result<()> {
        if self
            .tx
            .send(Message::Batch(partition, batch))
            .await
            .is_err()
        {
            // The writer stopped early: its result says why.
            return Err(self.writer_error().await);
        }
        Ok(())
    }

    /// Finishes every file, renames them into place and returns them in
    /// partition order.
    pub async fn commit(mut self) -> Result<Vec<WrittenFile>> {
        if self.tx.send(Message::Commit).await.is_err() {
            return Err(self.writer_error().await);
        }
        self.join().await
    }

    /// Stops the writer without committing and waits until it has removed
    /// its files, so that a failed task leaves nothing behind when it
    /// reports the failure.
    pub async fn abort(mut self) {
        let (tx, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.tx, tx));
        let _ = self.join().await;
    }

    async fn writer_error(&mut self) -> BallistaError {
        match self.join().await {
            Err(e) => e,
            Ok(_) => BallistaError::Internal(
                "the shuffle file writer stopped before it was told to commit".into(),
            ),
        }
    }

    async fn join(&mut self) -> Result<Vec<WrittenFile>> {
        let Some(writer) = self.writer.take() else {
            return Err(BallistaError::Internal(
                "the shuffle file writer was joined twice".into(),
            ));
        };
        match writer.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => Err(BallistaError::Internal(format!(
                "the shuffle file writer panicked: {}",
                panic_message(e.into_panic().as_ref())
            ))),
            Err(e) => Err(BallistaError::Cancelled(format!(
                "the shuffle file writer was cancelled: {e}"
            ))),
        }
    }
}

fn write_files(
    mut rx: mpsc::Receiver<Message>,
    schema: &SchemaRef,
    options: &IpcWriteOptions,
    path_of: &dyn Fn(usize) -> PathBuf,
    always: Option<usize>,
    files: &mut BTreeMap<usize, OpenFile>,
) -> Result<Vec<WrittenFile>> {
    if let Some(p) = always {
        files.insert(p, OpenFile::create(path_of(p), schema, options)?);
    }
    while let Some(message) = rx.blocking_recv() {
        match message {
            Message::Batch(p, batch) => {
                let file = match files.entry(p) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        e.insert(OpenFile::create(path_of(p), schema, options)?)
                    }
                };
                file.write(&batch)?;
            }
            Message::Commit => {
                let mut written = Vec::with_capacity(files.len());
                while let Some((p, file)) = files.pop_first() {
                    match file.commit(p) {
                        Ok(w) => written.push(w),
                        Err(e) => {
                            // Committed files of a failed task are not output.
                            for w in &written {
                                let _ = std::fs::remove_file(&w.path);
                            }
                            return Err(e);
                        }
                    }
                }
                return Ok(written);
            }
        }
    }
    Err(BallistaError::Cancelled(
        "the task stopped before its output was complete; its files were removed".into(),
    ))
}

/// Data buffers below this size are written as they are: copying them
/// would cost more than the bytes it saves.
const MIN_COMPACT_BYTES: usize = 64 * 1024;

/// `batch` with every `Utf8View` / `BinaryView` column whose data buffers
/// hold more than twice the bytes its views refer to copied into compact
/// buffers (the other columns are shared, not copied).
///
/// A view array made by `take` or `filter` (a hash repartition, a hash
/// join's output) shares its input's data buffers whole, and IPC writes
/// every buffer an array holds. So each 8 Ki-row output batch of a join
/// carried the strings of the join's entire build side: TPC-H Q18 shuffled
/// 761 MiB at SF 1, and at SF 10 it filled the disk. Nested view arrays
/// (inside lists or structs) are left as they are.
fn compact_views(batch: &RecordBatch) -> Result<RecordBatch> {
    let mut columns = None;
    for (i, column) in batch.columns().iter().enumerate() {
        let compacted: Option<ArrayRef> = match column.data_type() {
            DataType::Utf8View => {
                let a = column.as_string_view();
                wasteful(a).then(|| Arc::new(a.gc()) as ArrayRef)
            }
            DataType::BinaryView => {
                let a = column.as_binary_view();
                wasteful(a).then(|| Arc::new(a.gc()) as ArrayRef)
            }
            _ => None,
        };
        if let Some(c) = compacted {
            columns.get_or_insert_with(|| batch.columns().to_vec())[i] = c;
        }
    }
    match columns {
        None => Ok(batch.clone()),
        Some(columns) => Ok(RecordBatch::try_new(batch.schema(), columns)?),
    }
}

/// Whether a view array's data buffers hold more than twice what its
/// views refer to (values of up to 12 bytes live in the view itself).
fn wasteful<T: ByteViewType + ?Sized>(array: &GenericByteViewArray<T>) -> bool {
    let held: usize = array.data_buffers().iter().map(|b| b.len()).sum();
    if held < MIN_COMPACT_BYTES {
        return false;
    }
    let referred: usize = array
        .views()
        .iter()
        .map(|view| *view as u32 as usize)
        .filter(|&len| len > 12)
        .sum();
    held > 2 * referred
}

/// A file being written under a temporary name.
struct OpenFile {
    path: PathBuf,
    tmp: PathBuf,
    writer: StreamWriter<BufWriter<File>>,
    rows: u64,
    batches: u64,
}

impl OpenFile {
    fn create(path: PathBuf, schema: &SchemaRef, options: &IpcWriteOptions) -> Result<Self> {
        let dir = path.parent().ok_or_else(|| {
            BallistaError::Internal(format!(
                "shuffle file path `{}` has no parent",
                path.display()
            ))
        })?;
        std::fs::create_dir_all(dir).map_err(|e| io_error("create directory", dir, e))?;
        // Unique per attempt, so two attempts of one task never share a file.
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            path.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            uuid::Uuid::new_v4()
        ));
        let file = File::create(&tmp).map_err(|e| io_error("create", &tmp, e))?;
        let writer = StreamWriter::try_new_with_options(
            BufWriter::with_capacity(256 * 1024, file),
            schema,
            options.clone(),
        )?;
        Ok(Self {
            path,
            tmp,
            writer,
            rows: 0,
            batches: 0,
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer.write(&compact_views(batch)?)?;
        self.rows += batch.num_rows() as u64;
        self.batches += 1;
        Ok(())
    }

    fn commit(mut self, partition: usize) -> Result<WrittenFile> {
        let outcome = (|| {
            self.writer.finish()?;
            self.writer.flush()?;
            let bytes = std::fs::metadata(&self.tmp)
                .map_err(|e| io_error("stat", &self.tmp, e))?
                .len();
            std::fs::rename(&self.tmp, &self.path)
                .map_err(|e| io_error("rename into place", &self.path, e))?;
            Ok(bytes)
        })();
        match outcome {
            Ok(num_bytes) => Ok(WrittenFile {
                partition,
                path: self.path,
                stats: pb::PartitionStats {
                    num_rows: self.rows,
                    num_batches: self.batches,
                    num_bytes,
                },
            }),
            Err(e) => {
                let _ = std::fs::remove_file(&self.tmp);
                Err(e)
            }
        }
    }

    fn discard(self) {
        drop(self.writer);
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Opens `path` for reading; a missing file is `NotFound`.
fn open_file(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            BallistaError::NotFound(format!("no file at `{}`", path.display()))
        } else {
            io_error("open", path, e)
        }
    })
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> BallistaError {
    BallistaError::Execution(format!("cannot {what} `{}`: {e}", path.display()))
}

/// Opens the IPC stream file at `path` and returns its schema and its
/// batches.
///
/// The file is memory-mapped and decoded in place (`local_files` says why
/// maps): the batches' buffers are the file's pages, nothing is copied, and
/// the map lives as long as any batch does. A shuffle file is written once,
/// renamed into place and only ever deleted, which a map survives.
pub(crate) async fn open_ipc_file(
    path: PathBuf,
) -> Result<(SchemaRef, BoxStream<'static, Result<RecordBatch>>)> {
    let mapped = tokio::task::spawn_blocking(move || -> Result<_> {
        let file = open_file(&path)?;
        let len = file
            .metadata()
            .map_err(|e| io_error("read the size of", &path, e))?
            .len();
        let bytes = map_file_range(&file, 0..len).map_err(|e| io_error("map", &path, e))?;
        Ok((Buffer::from(bytes), path))
    })
    .await
    .map_err(|e| BallistaError::Internal(format!("opening a shuffle file failed: {e}")))?;
    let (buffer, path) = mapped?;
    let mut file = MappedIpcStream {
        decoder: StreamDecoder::new(),
        buffer,
        path,
        done: false,
    };
    let first = file.next_batch();
    let Some(schema) = file.decoder.schema() else {
        let why = first
            .err()
            .map_or_else(|| "no schema message".to_string(), |e| e.to_string());
        return Err(BallistaError::Execution(format!(
            "`{}` is not an Arrow IPC stream: {why}",
            file.path.display()
        )));
    };
    let rest = std::iter::from_fn(move || file.next_batch().transpose());
    Ok((
        schema,
        futures::stream::iter(first.transpose().into_iter().chain(rest)).boxed(),
    ))
}

/// An IPC stream file's map and the decoder walking it.
struct MappedIpcStream {
    decoder: StreamDecoder,
    /// What is left of the file.
    buffer: Buffer,
    path: PathBuf,
    done: bool,
}

impl MappedIpcStream {
    /// The next batch; `None` at the end of the stream. A file that ends in
    /// the middle of a message is an error: a truncated partition is a wrong
    /// result, never a short one.
    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.done {
            return Ok(None);
        }
        // A panic in the IPC decoder on a damaged file must end the stream
        // with an error, not the task.
        let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match self.decoder.decode(&mut self.buffer)? {
                Some(batch) => Ok(Some(batch)),
                None => self.decoder.finish().map(|()| None),
            }
        }));
        let reading = |e: String| format!("reading `{}`: {e}", self.path.display());
        match decoded {
            Ok(Ok(Some(batch))) => Ok(Some(batch)),
            Ok(Ok(None)) => {
                self.done = true;
                Ok(None)
            }
            Ok(Err(e)) => {
                self.done = true;
                Err(BallistaError::Execution(reading(e.to_string())))
            }
            Err(panic) => {
                self.done = true;
                Err(BallistaError::Internal(format!(
                    "{} panicked",
                    reading(panic_message(panic.as_ref()))
                )))
            }
        }
    }
}

/// One encapsulated message of an Arrow IPC stream, undecoded: its
/// flatbuffer metadata and its body. A Flight `FlightData` is exactly this
/// pair, so a file can be served without decoding its batches.
#[derive(Debug, Clone)]
pub struct RawIpcMessage {
    /// The `Message` flatbuffer (schema, record batch or dictionary batch).
    pub header: bytes::Bytes,
    /// The message body (`Message.bodyLength` bytes of buffers).
    pub body: bytes::Bytes,
}

/// Opens the IPC stream file at `path` and returns its messages, schema
/// first, as they are on disk (compressed buffers stay compressed), read on
/// a blocking thread with a couple of messages buffered. The stream ends
/// with an error if the file ends before its end-of-stream marker or a
/// message is damaged: a truncated partition must never look complete.
pub(crate) async fn open_ipc_messages(
    path: PathBuf,
) -> Result<BoxStream<'static, Result<RawIpcMessage>>> {
    let file = tokio::task::spawn_blocking({
        let path = path.clone();
        move || open_file(&path)
    })
    .await
    .map_err(|e| BallistaError::Internal(format!("opening a shuffle file failed: {e}")))??;

    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    tokio::task::spawn_blocking(move || {
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        loop {
            let item = match read_raw_message(&mut reader) {
                Ok(Some(message)) => Ok(message),
                Ok(None) => return,
                Err(e) => Err(BallistaError::Execution(format!(
                    "reading `{}`: {e}",
                    path.display()
                ))),
            };
            let failed = item.is_err();
            if tx.blocking_send(item).is_err() || failed {
                return;
            }
        }
    });
    Ok(ReceiverStream::new(rx).boxed())
}

/// Reads the next encapsulated message (`docs/spec/shuffle.md`: the Arrow
/// IPC streaming format); `None` at the end-of-stream marker.
fn read_raw_message(
    reader: &mut impl std::io::Read,
) -> std::result::Result<Option<RawIpcMessage>, String> {
    let mut word = [0u8; 4];
    read_word(reader, &mut word)?;
    // Since Arrow 0.15 every message starts with a 0xFFFFFFFF continuation
    // marker; older writers wrote the length alone.
    if word == [0xFF; 4] {
        read_word(reader, &mut word)?;
    }
    let length = i32::from_le_bytes(word);
    if length == 0 {
        return Ok(None);
    }
    let length =
        usize::try_from(length).map_err(|_| format!("negative message length {length}"))?;
    let mut header = vec![0u8; length];
    reader
        .read_exact(&mut header)
        .map_err(|e| format!("a message header is cut short ({e})"))?;
    let message = arrow::ipc::root_as_message(&header)
        .map_err(|e| format!("a message header is not an Arrow IPC message: {e}"))?;
    let body_length = usize::try_from(message.bodyLength())
        .map_err(|_| format!("negative body length {}", message.bodyLength()))?;
    let mut body = vec![0u8; body_length];
    reader
        .read_exact(&mut body)
        .map_err(|e| format!("a message body is cut short ({e})"))?;
    Ok(Some(RawIpcMessage {
        header: header.into(),
        body: body.into(),
    }))
}

fn read_word(
    reader: &mut impl std::io::Read,
    word: &mut [u8; 4],
) -> std::result::Result<(), String> {
    reader
        .read_exact(word)
        .map_err(|e| format!("the file ends before its end-of-stream marker ({e})"))
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, StringViewArray, UInt32Array};
    use arrow::compute::take;
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn ipc_bytes(batch: &RecordBatch) -> usize {
        let mut out = vec![];
        let mut w = StreamWriter::try_new(&mut out, &batch.schema()).unwrap();
        w.write(batch).unwrap();
        w.finish().unwrap();
        drop(w);
        out.len()
    }

    #[test]
    fn taken_view_columns_are_compacted_before_writing() {
        // 10,000 distinct 40-byte strings: 400 KB of data buffers.
        let all = StringViewArray::from_iter_values((0..10_000).map(|i| format!("{i:040}")));
        let schema = Arc::new(Schema::new(vec![Field::new(
            "s",
            DataType::Utf8View,
            false,
        )]));
        let taken = take(&all, &UInt32Array::from(vec![3, 5_000, 9_999]), None).unwrap();
        let batch = RecordBatch::try_new(Arc::clone(&schema), vec![taken]).unwrap();

        let compacted = compact_views(&batch).unwrap();
        assert_eq!(compacted, batch);
        let (before, after) = (ipc_bytes(&batch), ipc_bytes(&compacted));
        assert!(before > 400_000, "{before}");
        assert!(after < 2_000, "{after}");

        // A column that refers to all of its buffers is shared, not copied.
        let whole = RecordBatch::try_new(schema, vec![Arc::new(all)]).unwrap();
        let kept = compact_views(&whole).unwrap();
        assert!(Arc::ptr_eq(kept.column(0), whole.column(0)));
        assert_eq!(kept.column(0).len(), 10_000);
    }

    /// Writes `batches` as an IPC stream file of `dir`, compressed or not.
    fn stream_file(
        dir: &tempfile::TempDir,
        batches: &[RecordBatch],
        compression: pb::ShuffleCompression,
    ) -> PathBuf {
        let path = dir.path().join(format!("{compression:?}.arrow"));
        let file = File::create(&path).unwrap();
        let options = write_options(compression).unwrap();
        let mut w =
            StreamWriter::try_new_with_options(file, &batches[0].schema(), options).unwrap();
        for batch in batches {
            w.write(batch).unwrap();
        }
        w.finish().unwrap();
        path
    }

    fn batches() -> Vec<RecordBatch> {
        (0..3u32)
            .map(|b| {
                let ids = UInt32Array::from_iter_values(b * 1000..(b + 1) * 1000);
                let names = StringViewArray::from_iter_values(
                    (b * 1000..(b + 1) * 1000).map(|i| format!("name number {i}")),
                );
                RecordBatch::try_from_iter([
                    ("id", Arc::new(ids) as ArrayRef),
                    ("name", Arc::new(names) as ArrayRef),
                ])
                .unwrap()
            })
            .collect()
    }

    async fn read_all(path: PathBuf) -> Result<(SchemaRef, Vec<Result<RecordBatch>>)> {
        let (schema, stream) = open_ipc_file(path).await?;
        Ok((schema, stream.collect().await))
    }

    #[tokio::test]
    async fn mapped_files_read_back_the_batches_written() {
        let dir = tempfile::tempdir().unwrap();
        let written = batches();
        for codec in [
            pb::ShuffleCompression::None,
            pb::ShuffleCompression::Zstd,
            pb::ShuffleCompression::Unspecified,
        ] {
            let (schema, read) = read_all(stream_file(&dir, &written, codec)).await.unwrap();
            assert_eq!(schema, written[0].schema());
            let read: Vec<RecordBatch> = read.into_iter().map(Result::unwrap).collect();
            assert_eq!(read, written, "{codec:?}");
        }
        // A file of a schema and no batches.
        let path = dir.path().join("empty.arrow");
        let mut w =
            StreamWriter::try_new(File::create(&path).unwrap(), &written[0].schema()).unwrap();
        w.finish().unwrap();
        let (schema, read) = read_all(path).await.unwrap();
        assert_eq!((schema, read.len()), (written[0].schema(), 0));
    }

    #[tokio::test]
    async fn damaged_files_are_errors_that_name_them() {
        let dir = tempfile::tempdir().unwrap();
        let whole =
            std::fs::read(stream_file(&dir, &batches(), pb::ShuffleCompression::None)).unwrap();

        // Cut in the middle of the second batch: the first is read, then an
        // error, never a short partition.
        let cut = dir.path().join("cut.arrow");
        std::fs::write(&cut, &whole[..whole.len() * 2 / 3]).unwrap();
        let (_, read) = read_all(cut).await.unwrap();
        assert!(read[0].is_ok());
        let err = read.last().unwrap().as_ref().unwrap_err().to_string();
        assert!(err.contains("cut.arrow"), "{err}");

        for (name, bytes) in [
            ("zero.arrow", &[][..]),
            ("junk.arrow", &b"not arrow at all"[..]),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let err = read_all(path).await.unwrap_err().to_string();
            assert!(
                err.contains(name) && err.contains("not an Arrow IPC stream"),
                "{err}"
            );
        }
        let err = read_all(dir.path().join("missing.arrow"))
            .await
            .unwrap_err();
        assert!(matches!(err, BallistaError::NotFound(_)), "{err}");
    }
}
