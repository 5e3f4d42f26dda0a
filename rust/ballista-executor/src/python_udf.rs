//! Python UDFs: a bounded pool of worker processes per executor, started
//! on demand and reused, each running `python/ballista/_worker.py` with the
//! configured interpreter and exchanging Arrow IPC frames over its stdin and
//! stdout (the protocol is in `docs/udf-workers.md`).
//!
//! Why pipes rather than Flight `DoExchange` or a Unix socket: a worker is
//! a child of one executor, so pipes need no port, no socket file and no
//! gRPC/HTTP2 framing; the child's end of file is the crash signal; and
//! every byte is Arrow IPC, which a JVM worker can speak as easily.
//!
//! Failure isolation: an exception in user code comes back as an error
//! frame carrying the traceback (an execution error, not retried); a worker
//! that dies (segfault, `os._exit`) fails the task with an `Unavailable`
//! error, which the scheduler retries, and the pool replaces the worker.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use ballista_core::BallistaError;
use ballista_core::udf::UdfRuntime;
use ballista_proto::v1 as pb;
use datafusion::common::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;

/// The worker program, embedded so that the interpreter needs only
/// `pyarrow` and `cloudpickle`, not this package.
const WORKER_SOURCE: &str = include_str!("../../../python/ballista/_worker.py");

/// The protocol version this executor speaks (`PROTOCOL` in the worker).
const PROTOCOL: u64 = 1;

/// Bytes of a worker's stderr kept for error messages.
const STDERR_TAIL: usize = 4096;

type DfResult<T> = Result<T, DataFusionError>;

fn ext(e: BallistaError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// A pool of Python worker processes: at most `max_workers` alive, idle
/// ones reused. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PythonWorkerPool {
    inner: Arc<PoolInner>,
}

#[derive(Debug)]
struct PoolInner {
    python: PathBuf,
    max_workers: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct PoolState {
    idle: Vec<Worker>,
    live: usize,
    spawned: usize,
}

impl PythonWorkerPool {
    /// A pool running workers with interpreter `python`, at most
    /// `max_workers` (at least 1) at a time. Nothing starts until needed.
    pub fn new(python: impl Into<PathBuf>, max_workers: usize) -> Self {
        Self {
            inner: Arc::new(PoolInner {
                python: python.into(),
                max_workers: max_workers.max(1),
                state: Mutex::default(),
                freed: Condvar::new(),
            }),
        }
    }

    /// The interpreter the workers run.
    pub fn python(&self) -> &std::path::Path {
        &self.inner.python
    }

    /// Workers started so far (for tests and metrics).
    pub fn spawned(&self) -> usize {
        self.lock().spawned
    }

    /// Workers alive now, busy or idle.
    pub fn live(&self) -> usize {
        self.lock().live
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks that the interpreter starts and can run the worker: a worker
    /// is started and kept idle. Errors name what is wrong.
    pub fn check(&self) -> Result<String, BallistaError> {
        let w = self.acquire()?;
        let version = w.worker().python_version.clone();
        Ok(version)
    }

    /// An idle worker, a new one if fewer than `max_workers` live, or the
    /// first one freed.
    fn acquire(&self) -> Result<Lease, BallistaError> {
        let mut state = self.lock();
        loop {
            if let Some(w) = state.idle.pop() {
                return Ok(self.lease(w));
            }
            if state.live < self.inner.max_workers {
                state.live += 1;
                state.spawned += 1;
                drop(state);
                return match Worker::spawn(&self.inner.python) {
                    Ok(w) => Ok(self.lease(w)),
                    Err(e) => {
                        self.lock().live -= 1;
                        self.inner.freed.notify_one();
                        Err(e)
                    }
                };
            }
            state = self
                .inner
                .freed
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    fn lease(&self, worker: Worker) -> Lease {
        Lease {
            worker: Some(worker),
            pool: self.clone(),
        }
    }

    fn release(&self, worker: Worker, healthy: bool) {
        let mut state = self.lock();
        if healthy {
            state.idle.push(worker);
        } else {
            state.live -= 1;
            drop(state);
            worker.kill();
        }
        self.inner.freed.notify_one();
    }
}

impl Drop for PoolInner {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        for w in state.idle.drain(..) {
            w.kill();
        }
    }
}

/// A worker taken from the pool; dropped without [`Lease::done`] it is
/// treated as broken and killed.
struct Lease {
    worker: Option<Worker>,
    pool: PythonWorkerPool,
}

impl Lease {
    fn worker(&self) -> &Worker {
        self.worker
            .as_ref()
            .expect("a lease holds its worker until dropped")
    }

    fn worker_mut(&mut self) -> &mut Worker {
        self.worker
            .as_mut()
            .expect("a lease holds its worker until dropped")
    }

    /// Returns the worker to the pool for reuse.
    fn done(mut self) {
        if let Some(w) = self.worker.take() {
            self.pool.release(w, true);
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(w) = self.worker.take() {
            self.pool.release(w, false);
        }
    }
}

/// One worker process.
#[derive(Debug)]
struct Worker {
    child: Child,
    stdin: Option<BufWriter<ChildStdin>>,
    stdout: BufReader<ChildStdout>,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
    /// Collects `stderr_tail`; ends when the worker's stderr closes.
    stderr_thread: Option<std::thread::JoinHandle<()>>,
    loaded: HashSet<String>,
    python_version: String,
    pid: u32,
}

/// A frame read from a worker.
enum Frame {
    Hello(Vec<u8>),
    Batch(Vec<u8>),
    Loaded,
    Done,
    Error(Vec<u8>),
}

impl Worker {
    fn spawn(python: &std::path::Path) -> Result<Self, BallistaError> {
        let mut child = Command::new(python)
            .arg("-c")
            .arg(WORKER_SOURCE)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                BallistaError::Execution(format!(
                    "cannot start the Python UDF worker interpreter `{}`: {e} (set the \
                     executor's --python to a Python with pyarrow and cloudpickle)",
                    python.display()
                ))
            })?;
        let pid = child.id();
        let stderr_tail = Arc::new(Mutex::new(Vec::new()));
        let mut stderr_thread = None;
        if let Some(mut err) = child.stderr.take() {
            let tail = Arc::clone(&stderr_tail);
            stderr_thread = Some(std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
                    t.extend_from_slice(&buf[..n]);
                    let excess = t.len().saturating_sub(STDERR_TAIL);
                    t.drain(..excess);
                }
            }));
        }
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(BallistaError::Internal(
                "a worker spawned with piped stdio has no pipes".to_string(),
            ));
        };
        let mut worker = Self {
            child,
            stdin: Some(BufWriter::with_capacity(1 << 16, stdin)),
            stdout: BufReader::with_capacity(1 << 16, stdout),
            stderr_tail,
            stderr_thread,
            loaded: HashSet::new(),
            python_version: String::new(),
            pid,
        };
        match worker.read_frame("starting") {
            Ok(Frame::Hello(body)) => {
                let hello: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let protocol = hello["protocol"].as_u64().unwrap_or(0);
                if protocol != PROTOCOL {
                    worker.kill();
                    return Err(BallistaError::Execution(format!(
                        "the Python UDF worker of `{}` speaks protocol {protocol}, this \
                         executor speaks {PROTOCOL}",
                        python.display()
                    )));
                }
                worker.python_version = hello["python"].as_str().unwrap_or("").to_string();
                Ok(worker)
            }
            Ok(Frame::Error(body)) => {
                worker.kill();
                Err(BallistaError::Execution(python_error(
                    "worker start-up",
                    &body,
                )))
            }
            Ok(_) => {
                worker.kill();
                Err(BallistaError::Execution(
                    "the Python UDF worker did not say hello".to_string(),
                ))
            }
            Err(e) => {
                worker.kill();
                Err(e)
            }
        }
    }

    fn kill(mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The error for a worker that stopped answering while `doing`.
    fn died(&mut self, doing: &str) -> BallistaError {
        // Closing stdin lets a live worker exit; then its status tells why.
        drop(self.stdin.take());
        let status = match self.child.wait() {
            Ok(s) => describe_status(s),
            Err(e) => format!("unknown status ({e})"),
        };
        // The process is gone, so its stderr closes: once the collecting
        // thread ends, the tail holds the last bytes the worker wrote.
        if let Some(t) = self.stderr_thread.take() {
            let _ = t.join();
        }
        let tail = self.stderr_tail.lock().unwrap_or_else(|e| e.into_inner());
        let tail = String::from_utf8_lossy(&tail);
        let tail = tail.trim();
        let stderr = if tail.is_empty() {
            String::new()
        } else {
            format!("; its stderr ended with:\n{tail}")
        };
        BallistaError::Unavailable(format!(
            "the Python UDF worker (pid {}) died while {doing}: {status}{stderr}",
            self.pid
        ))
    }

    fn read_frame(&mut self, doing: &str) -> Result<Frame, BallistaError> {
        read_frame(&mut self.stdout).map_err(|_| self.died(doing))
    }

    fn write_frame(&mut self, kind: u8, parts: &[&[u8]], doing: &str) -> Result<(), BallistaError> {
        let ok = match self.stdin.as_mut() {
            Some(w) => write_frame(w, kind, parts).is_ok(),
            None => false,
        };
        if ok { Ok(()) } else { Err(self.died(doing)) }
    }

    /// Loads `function` into the worker unless it has it already; returns
    /// its id.
    fn load(&mut self, function: &pb::UdfDefinition) -> Result<String, BallistaError> {
        let id = function_id(function);
        if self.loaded.contains(&id) {
            return Ok(id);
        }
        let header = serde_json::json!({
            "id": id,
            "name": function.name,
            "runtime_version": function.runtime_version,
        })
        .to_string();
        let doing = format!("loading `{}`", function.name);
        let len = (header.len() as u32).to_le_bytes();
        self.write_frame(b'F', &[&len, header.as_bytes(), &function.payload], &doing)?;
        match self.read_frame(&doing)? {
            Frame::Loaded => {
                self.loaded.insert(id.clone());
                Ok(id)
            }
            Frame::Error(body) => Err(BallistaError::Execution(python_error(
                &function.name,
                &body,
            ))),
            _ => Err(self.died(&format!("{doing} (unexpected reply)"))),
        }
    }
}

fn describe_status(s: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = s.signal() {
            return format!("killed by signal {sig}");
        }
    }
    match s.code() {
        Some(c) => format!("exit status {c}"),
        None => s.to_string(),
    }
}

/// A content id: equal definitions are loaded once per worker.
fn function_id(f: &pb::UdfDefinition) -> String {
    let mut h = DefaultHasher::new();
    (&f.name, &f.payload, &f.runtime_version).hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The message of a worker's error frame: type, message and traceback.
fn python_error(what: &str, body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let ty = v["type"].as_str().unwrap_or("Exception");
    let msg = v["message"].as_str().unwrap_or("");
    let tb = v["traceback"].as_str().unwrap_or("").trim_end();
    format!("Python UDF `{what}` raised {ty}: {msg}\nPython traceback:\n{tb}")
}

fn write_frame(w: &mut impl Write, kind: u8, parts: &[&[u8]]) -> std::io::Result<()> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let len = u32::try_from(len)
        .map_err(|_| std::io::Error::other(format!("a frame of {len} bytes exceeds 4 GiB")))?;
    w.write_all(&[kind])?;
    w.write_all(&len.to_le_bytes())?;
    for p in parts {
        w.write_all(p)?;
    }
    w.flush()
}

fn read_frame(r: &mut impl Read) -> std::io::Result<Frame> {
    let mut head = [0u8; 5];
    r.read_exact(&mut head)?;
    let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok(match head[0] {
        b'H' => Frame::Hello(body),
        b'B' => Frame::Batch(body),
        b'K' => Frame::Loaded,
        b'D' => Frame::Done,
        b'X' => Frame::Error(body),
        k => {
            return Err(std::io::Error::other(format!(
                "unknown frame kind {k} from the worker"
            )));
        }
    })
}

fn batch_to_ipc(batch: &RecordBatch) -> Result<Vec<u8>, BallistaError> {
    let mut buf = Vec::new();
    let mut w = StreamWriter::try_new(&mut buf, &batch.schema())?;
    w.write(batch)?;
    w.finish()?;
    drop(w);
    Ok(buf)
}

fn ipc_to_batches(bytes: &[u8]) -> Result<Vec<RecordBatch>, BallistaError> {
    let reader = StreamReader::try_new(std::io::Cursor::new(bytes), None)?;
    Ok(reader.collect::<Result<Vec<_>, _>>()?)
}

impl PythonWorkerPool {
    fn invoke_scalar(
        &self,
        function: &pb::UdfDefinition,
        args: Vec<ArrayRef>,
        return_type: &DataType,
        num_rows: usize,
    ) -> Result<ArrayRef, BallistaError> {
        let fields: Vec<Field> = args
            .iter()
            .enumerate()
            .map(|(i, a)| Field::new(format!("a{i}"), a.data_type().clone(), true))
            .collect();
        let batch = RecordBatch::try_new_with_options(
            Arc::new(Schema::new(fields)),
            args,
            &RecordBatchOptions::new().with_row_count(Some(num_rows)),
        )?;
        let ipc = batch_to_ipc(&batch)?;
        let mut lease = self.acquire()?;
        let worker = lease.worker_mut();
        let id = worker.load(function)?;
        let doing = format!("running `{}`", function.name);
        let id_len = (id.len() as u32).to_le_bytes();
        worker.write_frame(b'C', &[&id_len, id.as_bytes(), &ipc], &doing)?;
        let reply = worker.read_frame(&doing)?;
        let out = match reply {
            Frame::Batch(body) => body,
            Frame::Error(body) => {
                // The worker answered: it stays in sync and is reused.
                lease.done();
                return Err(BallistaError::Execution(python_error(
                    &function.name,
                    &body,
                )));
            }
            _ => {
                return Err(lease
                    .worker_mut()
                    .died(&format!("{doing} (unexpected reply)")));
            }
        };
        lease.done();
        let batches = ipc_to_batches(&out)?;
        let [batch] = batches.as_slice() else {
            return Err(BallistaError::Execution(format!(
                "Python UDF `{}` returned {} batches for one call",
                function.name,
                batches.len()
            )));
        };
        let column = Arc::clone(batch.column(0));
        if column.len() != num_rows {
            return Err(BallistaError::Execution(format!(
                "Python UDF `{}` returned {} values for {num_rows} rows",
                function.name,
                column.len()
            )));
        }
        if column.data_type() == return_type {
            return Ok(column);
        }
        arrow::compute::cast(&column, return_type).map_err(|e| {
            BallistaError::Execution(format!(
                "Python UDF `{}` returned {} where {return_type} was declared: {e}",
                function.name,
                column.data_type()
            ))
        })
    }

    fn stream_map(
        &self,
        function: &pb::UdfDefinition,
        mut input: SendableRecordBatchStream,
        output_schema: SchemaRef,
    ) -> Result<SendableRecordBatchStream, BallistaError> {
        let mut lease = self.acquire()?;
        let id = lease.worker_mut().load(function)?;
        let name = function.name.clone();
        let doing = format!("running `{name}`");
        lease
            .worker_mut()
            .write_frame(b'M', &[id.as_bytes()], &doing)?;
        let mut stdin = lease
            .worker_mut()
            .stdin
            .take()
            .ok_or_else(|| BallistaError::Internal("a leased worker has no stdin".into()))?;

        // Bounded channels keep at most a couple of batches in flight on
        // each side: memory stays bounded however long the input.
        let (in_tx, mut in_rx) = tokio::sync::mpsc::channel::<RecordBatch>(2);
        let (out_tx, out_rx) = tokio::sync::mpsc::channel::<DfResult<RecordBatch>>(2);

        let pump_out = out_tx.clone();
        tokio::spawn(async move {
            while let Some(next) = input.next().await {
                match next {
                    Ok(b) => {
                        if in_tx.send(b).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = pump_out.send(Err(e)).await;
                        return;
                    }
                }
            }
        });

        let writer = std::thread::spawn(move || -> Option<BufWriter<ChildStdin>> {
            while let Some(batch) = in_rx.blocking_recv() {
                let ipc = batch_to_ipc(&batch).ok()?;
                write_frame(&mut stdin, b'B', &[&ipc]).ok()?;
            }
            write_frame(&mut stdin, b'E', &[]).ok()?;
            Some(stdin)
        });

        let schema = Arc::clone(&output_schema);
        std::thread::spawn(move || {
            loop {
                let frame = lease.worker_mut().read_frame(&doing);
                let item = match frame {
                    Ok(Frame::Batch(body)) => ipc_to_batches(&body)
                        .and_then(|bs| {
                            bs.into_iter()
                                .map(|b| conform(&name, b, &schema))
                                .collect::<Result<Vec<_>, _>>()
                        })
                        .map_err(ext),
                    Ok(Frame::Done) => {
                        match writer.join() {
                            Ok(Some(stdin)) => {
                                lease.worker_mut().stdin = Some(stdin);
                                lease.done();
                            }
                            _ => drop(lease),
                        }
                        return;
                    }
                    Ok(Frame::Error(body)) => {
                        Err(ext(BallistaError::Execution(python_error(&name, &body))))
                    }
                    Ok(_) => Err(ext(lease
                        .worker_mut()
                        .died(&format!("{doing} (unexpected reply)")))),
                    Err(e) => Err(ext(e)),
                };
                match item {
                    Ok(batches) => {
                        for b in batches {
                            if out_tx.blocking_send(Ok(b)).is_err() {
                                // The consumer is gone (e.g. a LIMIT): the
                                // worker is mid-stream, so it is dropped.
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        let _ = out_tx.blocking_send(Err(e));
                        return;
                    }
                }
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            output_schema,
            tokio_stream::wrappers::ReceiverStream::new(out_rx),
        )))
    }
}

/// A batch of the declared output schema, or an error naming the mismatch.
fn conform(name: &str, b: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, BallistaError> {
    if b.num_columns() != schema.fields().len() {
        return Err(BallistaError::Execution(format!(
            "map_batches function `{name}` returned {} columns, its schema declares {}",
            b.num_columns(),
            schema.fields().len()
        )));
    }
    let columns = b
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(Arc::clone(c))
            } else {
                arrow::compute::cast(c, f.data_type()).map_err(|e| {
                    BallistaError::Execution(format!(
                        "map_batches function `{name}` returned column `{}` as {} where {} \
                         was declared: {e}",
                        f.name(),
                        c.data_type(),
                        f.data_type()
                    ))
                })
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new_with_options(
        Arc::clone(schema),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(b.num_rows())),
    )
    .map_err(|e| {
        BallistaError::Execution(format!(
            "map_batches function `{name}` returned a batch that does not fit its schema: {e}"
        ))
    })
}

impl UdfRuntime for PythonWorkerPool {
    fn invoke(
        &self,
        function: &pb::UdfDefinition,
        args: Vec<ArrayRef>,
        return_type: &DataType,
        num_rows: usize,
    ) -> DfResult<ArrayRef> {
        self.invoke_scalar(function, args, return_type, num_rows)
            .map_err(ext)
    }

    fn map_batches(
        &self,
        function: &pb::UdfDefinition,
        input: SendableRecordBatchStream,
        output_schema: SchemaRef,
    ) -> DfResult<SendableRecordBatchStream> {
        self.stream_map(function, input, output_schema).map_err(ext)
    }
}
