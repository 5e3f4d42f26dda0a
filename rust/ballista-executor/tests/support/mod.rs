//! Shared test helpers: temporary directories, test data, plain Arrow IPC
//! reading, and a stand-in scheduler.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use arrow::ipc::reader::StreamReader;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaResult, Ticket,
};
use ballista_flight::actions::{HEARTBEAT, REGISTER_EXECUTOR, decode};
use ballista_flight::server::{ServerHandle, serve};
use ballista_proto::v1 as pb;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::physical_plan::ExecutionPlan;
use futures::StreamExt;
use futures::stream::BoxStream;
use prost::Message;
use tokio::sync::Notify;
use tonic::{Request, Response, Status, Streaming};

/// This package's directory as cargo gives it at run time. `env!` would
/// name the checkout that compiled the binary: CI clones share one target
/// directory, and cargo reuses a test binary built in another checkout
/// (`ballista-proto`'s build script reads it at run time for this reason).
pub fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// A directory under the system temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh, canonical directory.
    pub fn new(tag: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("ballista-test-{tag}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(std::fs::canonicalize(&dir).unwrap())
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An endpoint with `id` on loopback (port irrelevant to local use).
pub fn endpoint(id: &str, port: u16) -> pb::ExecutorEndpoint {
    pb::ExecutorEndpoint {
        id: id.to_string(),
        host: "127.0.0.1".to_string(),
        port: u32::from(port),
    }
}

/// A port nothing listens on (bound, then released).
pub fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `(id: Int64, name: Utf8)`, both nullable.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
    ]))
}

/// A batch of ids `from..to`; every 7th id and every 5th name are null.
pub fn batch(from: i64, to: i64) -> RecordBatch {
    let ids: Int64Array = (from..to).map(|i| (i % 7 != 3).then_some(i)).collect();
    let names: StringArray = (from..to)
        .map(|i| (i % 5 != 1).then(|| format!("name-{i}")))
        .collect();
    RecordBatch::try_new(schema(), vec![Arc::new(ids), Arc::new(names)]).unwrap()
}

/// `batches` batches of `rows` rows each, ids consecutive from `start`.
pub fn batches(start: i64, batches: usize, rows: i64) -> Vec<RecordBatch> {
    (0..batches as i64)
        .map(|b| batch(start + b * rows, start + (b + 1) * rows))
        .collect()
}

/// An in-memory plan with one partition per entry of `partitions`.
pub fn memory_plan(partitions: Vec<Vec<RecordBatch>>) -> Arc<dyn ExecutionPlan> {
    MemorySourceConfig::try_new_exec(&partitions, schema(), None).unwrap()
}

/// Reads an IPC stream file with nothing but arrow's `StreamReader`.
pub fn read_ipc(path: impl AsRef<Path>) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path.as_ref())
        .unwrap_or_else(|e| panic!("open {}: {e}", path.as_ref().display()));
    StreamReader::try_new(file, None)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// The `(id, name)` rows of batches, sorted, for order-free comparison.
pub fn rows(batches: &[RecordBatch]) -> Vec<(Option<i64>, Option<String>)> {
    let mut rows = Vec::new();
    for b in batches {
        let ids = b.column(0).as_primitive::<Int64Type>();
        // Parquet scans read strings as Utf8View.
        let names = arrow::compute::cast(b.column(1), &DataType::Utf8).unwrap();
        let names = names.as_string::<i32>();
        for i in 0..b.num_rows() {
            rows.push((
                ids.is_valid(i).then(|| ids.value(i)),
                names.is_valid(i).then(|| names.value(i).to_string()),
            ));
        }
    }
    rows.sort();
    rows
}

/// The id column of a batch.
pub fn ids(b: &RecordBatch) -> ArrayRef {
    Arc::clone(b.column(0))
}

/// Files (not directories) under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Polls `check` every 20 ms until it returns `Some`, failing after
/// `timeout`.
pub async fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What the stand-in scheduler saw and how it behaves.
#[derive(Debug, Default)]
pub struct SchedulerLog {
    /// Registrations received.
    pub registrations: Mutex<Vec<pb::ExecutorRegistration>>,
    /// Heartbeats accepted.
    pub heartbeats: Mutex<Vec<pb::Heartbeat>>,
    /// While true, heartbeats fail with UNAVAILABLE (as when the scheduler
    /// is unreachable).
    pub refuse_heartbeats: AtomicBool,
    /// When true, the next heartbeat is answered with `reregister`.
    pub reregister_next: AtomicBool,
    /// Heartbeat interval sent in registration replies.
    pub heartbeat_interval_ms: AtomicU64,
    /// Released to let a stalled `DoGet` end.
    pub gate: Notify,
    /// How many `DoGet`s have started waiting on `gate` (a release only
    /// reaches those already waiting).
    pub stalled: AtomicUsize,
}

impl SchedulerLog {
    /// Every task status received, in order.
    pub fn statuses(&self) -> Vec<pb::TaskStatus> {
        self.heartbeats
            .lock()
            .unwrap()
            .iter()
            .flat_map(|h| h.task_statuses.clone())
            .collect()
    }

    /// The status received for the task of `job_id`, if any.
    pub fn status_of(&self, job_id: &str) -> Option<pb::TaskStatus> {
        self.statuses()
            .into_iter()
            .find(|s| s.task_id.as_ref().is_some_and(|t| t.job_id == job_id))
    }
}

/// Stands in for the scheduler, which lives in `ballista-scheduler` and is
/// covered (with real executors) by the end-to-end tests: a real Flight
/// server on 127.0.0.1 that answers only `register_executor` and
/// `heartbeat`, recording what executors send. Its `DoGet` stalls until
/// [`SchedulerLog::gate`] is released, which gives tests a task that runs
/// for as long as they want.
pub struct StandInScheduler {
    /// `grpc://127.0.0.1:PORT`.
    pub url: String,
    /// What it saw.
    pub log: Arc<SchedulerLog>,
    /// Its port (also usable as a stalling shuffle peer).
    pub port: u16,
    server: ServerHandle,
}

impl StandInScheduler {
    /// Starts one replying `heartbeat_interval_ms` to registrations.
    pub async fn start(heartbeat_interval_ms: u64) -> Self {
        Self::start_on(0, heartbeat_interval_ms).await
    }

    /// Starts one on `port` (0: a free one).
    pub async fn start_on(port: u16, heartbeat_interval_ms: u64) -> Self {
        let log = Arc::new(SchedulerLog::default());
        log.heartbeat_interval_ms
            .store(heartbeat_interval_ms, Ordering::SeqCst);
        let server = serve(Service(Arc::clone(&log)), "127.0.0.1", port)
            .await
            .unwrap();
        let port = server.addr.port();
        Self {
            url: format!("grpc://127.0.0.1:{port}"),
            log,
            port,
            server,
        }
    }

    /// Waits for the status of the task of `job_id`.
    pub async fn status_of(&self, job_id: &str, timeout: Duration) -> pb::TaskStatus {
        eventually(&format!("a status of job {job_id}"), timeout, || {
            self.log.status_of(job_id)
        })
        .await
    }

    /// Stops the server.
    pub async fn stop(self) {
        self.server.shutdown().await;
    }
}

struct Service(Arc<SchedulerLog>);

type S<T> = BoxStream<'static, Result<T, Status>>;

fn no<T>() -> Result<T, Status> {
    Err(Status::unimplemented("not part of the stand-in scheduler"))
}

#[tonic::async_trait]
impl FlightService for Service {
    type HandshakeStream = S<HandshakeResponse>;
    type ListFlightsStream = S<FlightInfo>;
    type DoGetStream = S<FlightData>;
    type DoPutStream = S<PutResult>;
    type DoExchangeStream = S<FlightData>;
    type DoActionStream = S<arrow_flight::Result>;
    type ListActionsStream = S<ActionType>;

    async fn handshake(
        &self,
        _: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        no()
    }
    async fn list_flights(
        &self,
        _: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        no()
    }
    async fn get_flight_info(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        no()
    }
    async fn poll_flight_info(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        no()
    }
    async fn get_schema(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        no()
    }
    async fn do_get(&self, _: Request<Ticket>) -> Result<Response<Self::DoGetStream>, Status> {
        let log = Arc::clone(&self.0);
        let stream = futures::stream::once(async move {
            let released = log.gate.notified();
            tokio::pin!(released);
            // Waiting from here on: count it only once a release would
            // reach it.
            released.as_mut().enable();
            log.stalled.fetch_add(1, Ordering::SeqCst);
            released.await;
            Err(Status::unavailable("the stalling peer was released"))
        });
        Ok(Response::new(stream.boxed()))
    }
    async fn do_put(
        &self,
        _: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        no()
    }
    async fn do_exchange(
        &self,
        _: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        no()
    }
    async fn do_action(
        &self,
        request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        let action = request.into_inner();
        let body = match action.r#type.as_str() {
            REGISTER_EXECUTOR => {
                let r: pb::ExecutorRegistration = decode(&action.body, "ExecutorRegistration")
                    .map_err(|e| Status::invalid_argument(e.to_string()))?;
                self.0.registrations.lock().unwrap().push(r);
                pb::RegisterExecutorResult {
                    heartbeat_interval_ms: self.0.heartbeat_interval_ms.load(Ordering::SeqCst),
                }
                .encode_to_vec()
            }
            HEARTBEAT => {
                if self.0.refuse_heartbeats.load(Ordering::SeqCst) {
                    return Err(Status::unavailable(
                        "the stand-in scheduler is refusing heartbeats",
                    ));
                }
                let h: pb::Heartbeat = decode(&action.body, "Heartbeat")
                    .map_err(|e| Status::invalid_argument(e.to_string()))?;
                self.0.heartbeats.lock().unwrap().push(h);
                let reregister = self.0.reregister_next.swap(false, Ordering::SeqCst);
                pb::HeartbeatResult { reregister }.encode_to_vec()
            }
            other => {
                return Err(Status::unimplemented(format!(
                    "stand-in: no action {other}"
                )));
            }
        };
        Ok(reply(body))
    }
    async fn list_actions(
        &self,
        _: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        no()
    }
}

fn reply(body: Vec<u8>) -> Response<S<arrow_flight::Result>> {
    Response::new(futures::stream::iter([Ok(arrow_flight::Result { body: body.into() })]).boxed())
}
