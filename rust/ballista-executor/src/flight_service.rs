//! The executor's Flight service (`flight.proto`, "Executor"):
//!
//! - `DoAction("launch_task", TaskDefinition)`: start a task in a free slot,
//!   reply at once (empty); `RESOURCE_EXHAUSTED` when every slot is busy;
//! - `DoAction("remove_job_data", RemoveJobData)`: abort the job's tasks
//!   and delete its files (or only its shuffle files);
//! - `DoGet(FetchPartition)`: stream a shuffle or result file as Flight
//!   data, read lazily;
//! - `DoExchange`: reserved for UDF workers; every other method is
//!   `UNIMPLEMENTED`.
//!
//! Errors become gRPC statuses through `ballista_flight::status` only.

use std::sync::Arc;

use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaResult, Ticket,
};
use ballista_core::BallistaError;
use ballista_flight::actions::{LAUNCH_TASK, REMOVE_JOB_DATA, decode};
use ballista_flight::status::to_status;
use ballista_proto::v1 as pb;
use futures::StreamExt;
use futures::stream::BoxStream;
use tonic::{Request, Response, Status, Streaming};

use crate::executor::ExecutorState;
use crate::shuffle::{RawIpcMessage, open_ipc_messages, resolve_in_work_dir};

/// Serves one executor's Flight surface over its shared state.
#[derive(Debug, Clone)]
pub(crate) struct ExecutorFlightService {
    state: Arc<ExecutorState>,
}

impl ExecutorFlightService {
    /// The service of the executor whose state is `state`.
    pub fn new(state: Arc<ExecutorState>) -> Self {
        Self { state }
    }
}

type Stream<T> = BoxStream<'static, Result<T, Status>>;

fn unimplemented<T>(method: &str) -> Result<T, Status> {
    Err(Status::unimplemented(format!(
        "{method} is not part of a Ballista executor's Flight surface \
         (it answers DoGet(FetchPartition), DoAction launch_task / remove_job_data)"
    )))
}

/// No result body.
fn empty_reply() -> Response<Stream<arrow_flight::Result>> {
    Response::new(futures::stream::empty().boxed())
}

#[tonic::async_trait]
impl FlightService for ExecutorFlightService {
    type HandshakeStream = Stream<HandshakeResponse>;
    type ListFlightsStream = Stream<FlightInfo>;
    type DoGetStream = Stream<FlightData>;
    type DoPutStream = Stream<PutResult>;
    type DoExchangeStream = Stream<FlightData>;
    type DoActionStream = Stream<arrow_flight::Result>;
    type ListActionsStream = Stream<ActionType>;

    async fn handshake(
        &self,
        _request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        unimplemented("Handshake")
    }

    async fn list_flights(
        &self,
        _request: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        unimplemented("ListFlights")
    }

    async fn get_flight_info(
        &self,
        _request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        unimplemented("GetFlightInfo")
    }

    async fn poll_flight_info(
        &self,
        _request: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        unimplemented("PollFlightInfo")
    }

    async fn get_schema(
        &self,
        _request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        unimplemented("GetSchema")
    }

    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        let ticket: pb::FetchPartition =
            decode(&request.into_inner().ticket, "FetchPartition ticket").map_err(to_status)?;
        let what = format!(
            "partition (job {}, stage {}, map {}, output {})",
            ticket.job_id, ticket.stage_id, ticket.map_partition, ticket.output_partition
        );
        let path =
            resolve_in_work_dir(&self.state.work_dir, &ticket.path, &what).map_err(to_status)?;
        let messages = open_ipc_messages(path).await.map_err(|e| match e {
            // Removed between the check and the open.
            BallistaError::NotFound(m) => {
                to_status(BallistaError::NotFound(format!("{what}: {m}")))
            }
            e => to_status(e),
        })?;
        // The file's messages go out as they are: a Flight message is an IPC
        // message (header and body), so there is nothing to decode, and the
        // wire carries the file's own compression (LZ4 frame unless the
        // query chose otherwise), which every Arrow reader decompresses.
        // Decoding and encoding again cost more than the copy itself.
        let stream = messages.map(|message| {
            message
                .map(|RawIpcMessage { header, body }| FlightData {
                    data_header: header,
                    data_body: body,
                    ..Default::default()
                })
                .map_err(to_status)
        });
        Ok(Response::new(stream.boxed()))
    }

    async fn do_put(
        &self,
        _request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        unimplemented("DoPut")
    }

    async fn do_exchange(
        &self,
        _request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(Status::unimplemented(
            "DoExchange is reserved for UDF workers, which this executor does not run yet",
        ))
    }

    async fn do_action(
        &self,
        request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        let action = request.into_inner();
        match action.r#type.as_str() {
            LAUNCH_TASK => {
                let definition: pb::TaskDefinition =
                    decode(&action.body, "TaskDefinition").map_err(to_status)?;
                self.state.launch(definition).map_err(to_status)?;
                Ok(empty_reply())
            }
            REMOVE_JOB_DATA => {
                let remove: pb::RemoveJobData =
                    decode(&action.body, "RemoveJobData").map_err(to_status)?;
                self.state
                    .remove_job_data(&remove.job_id, remove.shuffle_only)
                    .await
                    .map_err(to_status)?;
                Ok(empty_reply())
            }
            other => Err(Status::unimplemented(format!(
                "unknown action `{other}`: an executor answers `{LAUNCH_TASK}` and \
                 `{REMOVE_JOB_DATA}`"
            ))),
        }
    }

    async fn list_actions(
        &self,
        _request: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        let actions = [
            (LAUNCH_TASK, "Run a task (body: ballista.v1.TaskDefinition)"),
            (
                REMOVE_JOB_DATA,
                "Delete a job's shuffle and result data (body: ballista.v1.RemoveJobData)",
            ),
        ]
        .map(|(kind, description)| {
            Ok(ActionType {
                r#type: kind.to_string(),
                description: description.to_string(),
            })
        });
        Ok(Response::new(futures::stream::iter(actions).boxed()))
    }
}
