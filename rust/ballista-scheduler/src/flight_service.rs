//! The scheduler's Arrow Flight service (the surface documented at the top
//! of `proto/ballista/v1/flight.proto`).

use std::pin::Pin;
use std::time::Duration;

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaResult, Ticket,
};
use ballista_core::{BallistaError, Result};
use ballista_flight::FlightConn;
use ballista_flight::actions::{self, decode, job_descriptor, job_of_descriptor};
use ballista_flight::status::to_status;
use ballista_proto::v1 as pb;
use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt, TryStreamExt};
use prost::Message;
use tonic::{Request, Response, Status, Streaming};

use crate::scheduler::{Scheduler, Submitted};

/// How long one `PollFlightInfo` call waits for a job to end before
/// answering with progress.
const POLL_WAIT: Duration = Duration::from_millis(500);

type BoxedFlightStream<T> =
    Pin<Box<dyn Stream<Item = std::result::Result<T, Status>> + Send + 'static>>;

/// The Flight service in front of a [`Scheduler`].
#[derive(Debug, Clone)]
pub struct SchedulerFlightService {
    scheduler: Scheduler,
}

impl SchedulerFlightService {
    /// A service for `scheduler`.
    pub fn new(scheduler: Scheduler) -> Self {
        Self { scheduler }
    }

    async fn execute(&self, descriptor: &FlightDescriptor) -> Result<FlightInfo> {
        let query: pb::ExecuteQuery = decode(&descriptor.cmd, "ExecuteQuery command")?;
        match self.scheduler.submit(query).await? {
            Submitted::CatalogChanged => Ok(FlightInfo::new()
                .try_with_schema(&arrow::datatypes::Schema::empty())?
                .with_descriptor(descriptor.clone())
                .with_total_records(0)),
            Submitted::Job(job_id) => {
                self.scheduler.wait(&job_id, None).await?;
                Ok(self
                    .scheduler
                    .flight_info(&job_id)?
                    .with_descriptor(descriptor.clone()))
            }
        }
    }

    async fn poll(&self, descriptor: &FlightDescriptor) -> Result<PollInfo> {
        let job_id = match job_of_descriptor(descriptor) {
            Some(id) => id.to_string(),
            None => {
                let query: pb::ExecuteQuery = decode(&descriptor.cmd, "ExecuteQuery command")?;
                match self.scheduler.submit(query).await? {
                    Submitted::Job(id) => id,
                    Submitted::CatalogChanged => {
                        return Ok(PollInfo::new()
                            .with_info(
                                FlightInfo::new()
                                    .try_with_schema(&arrow::datatypes::Schema::empty())?
                                    .with_descriptor(descriptor.clone()),
                            )
                            .try_with_progress(1.0)?);
                    }
                }
            }
        };
        let status = self.scheduler.wait(&job_id, Some(POLL_WAIT)).await?;
        let state = pb::JobState::try_from(status.state).unwrap_or(pb::JobState::Unspecified);
        if matches!(
            state,
            pb::JobState::Succeeded | pb::JobState::Failed | pb::JobState::Cancelled
        ) {
            // The FlightInfo names the job, as GetFlightInfo's does: Arrow
            // Java cannot decode a FlightInfo without a descriptor.
            let info = self
                .scheduler
                .flight_info(&job_id)?
                .with_descriptor(job_descriptor(&job_id));
            return Ok(PollInfo::new().with_info(info).try_with_progress(1.0)?);
        }
        let progress = status.progress.clone().unwrap_or_default();
        let fraction = if progress.tasks_total == 0 {
            0.0
        } else {
            f64::from(progress.tasks_done) / f64::from(progress.tasks_total)
        };
        // The running job's status travels in the (schema-less) FlightInfo's
        // app_metadata so progress bars can show stages and tasks.
        let info = FlightInfo::new().with_app_metadata(status.encode_to_vec());
        Ok(PollInfo::new()
            .with_info(info)
            .with_descriptor(job_descriptor(&job_id))
            .try_with_progress(fraction.min(0.999))?)
    }

    async fn action(&self, action: &Action) -> Result<Vec<u8>> {
        let body = &action.body;
        Ok(match action.r#type.as_str() {
            actions::REGISTER_EXECUTOR => self
                .scheduler
                .register_executor(decode(body, "ExecutorRegistration")?)?
                .encode_to_vec(),
            actions::HEARTBEAT => self
                .scheduler
                .heartbeat(&decode(body, "Heartbeat")?)
                .encode_to_vec(),
            actions::CANCEL_JOB => {
                let req: pb::CancelJob = decode(body, "CancelJob")?;
                self.scheduler.cancel(&req.job_id)?.encode_to_vec()
            }
            actions::RELEASE_JOB => {
                let req: pb::ReleaseJob = decode(body, "ReleaseJob")?;
                self.scheduler.release(&req.job_id)?;
                vec![]
            }
            actions::JOB_STATUS => {
                let req: pb::GetJobStatus = decode(body, "GetJobStatus")?;
                self.scheduler
                    .job_status(&req.job_id, true)?
                    .encode_to_vec()
            }
            actions::LIST_JOBS => {
                let req: pb::ListJobs = decode(body, "ListJobs")?;
                let states = req
                    .states
                    .iter()
                    .map(|s| {
                        ballista_core::error::known_enum::<pb::JobState>(*s, "ListJobs.states")
                    })
                    .collect::<Result<Vec<_>>>()?;
                pb::ListJobsResult {
                    jobs: self.scheduler.list_jobs(&states),
                }
                .encode_to_vec()
            }
            actions::REGISTER_TABLE => {
                self.scheduler
                    .catalog()
                    .register_table(&decode(body, "RegisterTable")?)
                    .await?;
                vec![]
            }
            actions::DROP_TABLE => {
                self.scheduler
                    .catalog()
                    .drop_table(&decode(body, "DropTable")?)?;
                vec![]
            }
            actions::EXPLAIN => {
                let req: pb::ExplainQuery = decode(body, "ExplainQuery")?;
                let query = ballista_core::error::required(&req.query, "ExplainQuery.query")?;
                self.scheduler.explain(query).await?.encode_to_vec()
            }
            other => {
                return Err(BallistaError::NotImplemented(format!(
                    "unknown action `{other}`; the scheduler knows {}",
                    SCHEDULER_ACTIONS.join(", ")
                )));
            }
        })
    }

    /// Relays a result partition for clients that cannot reach executors.
    async fn relay(&self, ticket: &Ticket) -> Result<BoxedFlightStream<FlightData>> {
        let fetch: pb::FetchPartition = decode(&ticket.ticket, "FetchPartition ticket")?;
        let info = self.scheduler.flight_info(&fetch.job_id)?;
        let endpoint = info
            .endpoint
            .iter()
            .find(|e| e.ticket.as_ref().is_some_and(|t| t.ticket == ticket.ticket))
            .ok_or_else(|| {
                BallistaError::NotFound(format!(
                    "job {} has no result partition {}",
                    fetch.job_id, fetch.output_partition
                ))
            })?;
        let url = endpoint
            .location
            .first()
            .map(|l| l.uri.clone())
            .ok_or_else(|| BallistaError::Internal("result endpoint without location".into()))?;
        let mut conn = FlightConn::connect(&url).await?;
        let batches = conn.fetch(&fetch).await?;
        let stream = FlightDataEncoderBuilder::new()
            .build(batches.map_err(FlightError::from))
            .map_err(|e| Status::internal(e.to_string()));
        Ok(Box::pin(stream))
    }
}

/// Action types the scheduler serves.
pub const SCHEDULER_ACTIONS: [&str; 9] = [
    actions::REGISTER_EXECUTOR,
    actions::HEARTBEAT,
    actions::CANCEL_JOB,
    actions::RELEASE_JOB,
    actions::JOB_STATUS,
    actions::LIST_JOBS,
    actions::REGISTER_TABLE,
    actions::DROP_TABLE,
    actions::EXPLAIN,
];

fn unimplemented<T>(what: &str) -> std::result::Result<T, Status> {
    Err(Status::unimplemented(format!(
        "{what} is not part of Ballista's scheduler service (see flight.proto)"
    )))
}

#[tonic::async_trait]
impl FlightService for SchedulerFlightService {
    type HandshakeStream = BoxedFlightStream<HandshakeResponse>;
    type ListFlightsStream = BoxedFlightStream<FlightInfo>;
    type DoGetStream = BoxedFlightStream<FlightData>;
    type DoPutStream = BoxedFlightStream<PutResult>;
    type DoActionStream = BoxedFlightStream<arrow_flight::Result>;
    type ListActionsStream = BoxedFlightStream<ActionType>;
    type DoExchangeStream = BoxedFlightStream<FlightData>;

    async fn handshake(
        &self,
        _request: Request<Streaming<HandshakeRequest>>,
    ) -> std::result::Result<Response<Self::HandshakeStream>, Status> {
        unimplemented("Handshake")
    }

    async fn list_flights(
        &self,
        _request: Request<Criteria>,
    ) -> std::result::Result<Response<Self::ListFlightsStream>, Status> {
        unimplemented("ListFlights (use the list_jobs action)")
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> std::result::Result<Response<FlightInfo>, Status> {
        self.execute(request.get_ref())
            .await
            .map(Response::new)
            .map_err(to_status)
    }

    async fn poll_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> std::result::Result<Response<PollInfo>, Status> {
        self.poll(request.get_ref())
            .await
            .map(Response::new)
            .map_err(to_status)
    }

    async fn get_schema(
        &self,
        _request: Request<FlightDescriptor>,
    ) -> std::result::Result<Response<SchemaResult>, Status> {
        unimplemented("GetSchema")
    }

    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> std::result::Result<Response<Self::DoGetStream>, Status> {
        self.relay(request.get_ref())
            .await
            .map(Response::new)
            .map_err(to_status)
    }

    async fn do_put(
        &self,
        _request: Request<Streaming<FlightData>>,
    ) -> std::result::Result<Response<Self::DoPutStream>, Status> {
        unimplemented("DoPut")
    }

    async fn do_action(
        &self,
        request: Request<Action>,
    ) -> std::result::Result<Response<Self::DoActionStream>, Status> {
        let body = self.action(request.get_ref()).await.map_err(to_status)?;
        let result = arrow_flight::Result { body: body.into() };
        let stream: BoxStream<'static, std::result::Result<arrow_flight::Result, Status>> =
            stream::once(async move { Ok(result) }).boxed();
        Ok(Response::new(stream))
    }

    async fn list_actions(
        &self,
        _request: Request<Empty>,
    ) -> std::result::Result<Response<Self::ListActionsStream>, Status> {
        let types: Vec<std::result::Result<ActionType, Status>> = SCHEDULER_ACTIONS
            .iter()
            .map(|t| {
                Ok(ActionType {
                    r#type: (*t).to_string(),
                    description: String::new(),
                })
            })
            .collect();
        Ok(Response::new(stream::iter(types).boxed()))
    }

    async fn do_exchange(
        &self,
        _request: Request<Streaming<FlightData>>,
    ) -> std::result::Result<Response<Self::DoExchangeStream>, Status> {
        unimplemented("DoExchange")
    }
}
