//! A typed Flight client for Ballista's services.

use std::time::Duration;

use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::{FlightClient, FlightDescriptor, FlightInfo, PollInfo, Ticket};
use ballista_core::{BallistaError, Result};
use ballista_proto::v1 as pb;
use futures::StreamExt;
use prost::Message;
use tonic::transport::{Channel, Endpoint};

use crate::actions;
use crate::status::{from_flight_error, source_chain};
use crate::{CONNECTION_WINDOW, STREAM_WINDOW};

/// How long to wait for a TCP connection before calling a peer unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest gRPC message accepted; Flight splits record batches well below
/// this, but task plans and job listings can exceed tonic's 4 MiB default.
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;

/// A connection to one Ballista Flight service (scheduler or executor).
///
/// Cloning is cheap and clones share the underlying HTTP/2 connection.
#[derive(Debug, Clone)]
pub struct FlightConn {
    // The generated client is cheap to clone (it shares the channel);
    // `FlightClient`, which adds batch decoding on top, is made per call.
    inner: FlightServiceClient<Channel>,
    url: String,
}

impl FlightConn {
    /// Connects to `url` (`grpc://host:port`, `http://host:port` or
    /// `host:port`), failing with `Unavailable` within [`CONNECT_TIMEOUT`]
    /// when nothing answers.
    pub async fn connect(url: &str) -> Result<Self> {
        let http = http_url(url);
        let endpoint = Endpoint::from_shared(http.clone())
            .map_err(|e| BallistaError::InvalidArgument(format!("bad address `{url}`: {e}")))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(20))
            .initial_stream_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW);
        let channel: Channel = endpoint.connect().await.map_err(|e| {
            BallistaError::Unavailable(format!("cannot connect to {url}: {}", source_chain(&e)))
        })?;
        let inner = FlightServiceClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE);
        Ok(Self {
            inner,
            url: url.to_string(),
        })
    }

    fn client(&self) -> FlightClient {
        FlightClient::new_from_inner(self.inner.clone())
    }

    /// The address this connection was made to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs action `kind` with `body` and decodes its (single) result as
    /// `R`; an action with no result body decodes as `R::default()`.
    pub async fn action<R: Message + Default>(
        &mut self,
        kind: &str,
        body: &impl Message,
    ) -> Result<R> {
        let mut results = self
            .client()
            .do_action(actions::action(kind, body))
            .await
            .map_err(|e| from_flight_error(e, &self.url))?;
        let mut reply = R::default();
        if let Some(first) = results.next().await {
            let bytes = first.map_err(|e| from_flight_error(e, &self.url))?;
            reply = actions::decode(&bytes, &format!("reply to `{kind}`"))?;
        }
        // Drain so the server sees the call complete.
        while let Some(more) = results.next().await {
            more.map_err(|e| from_flight_error(e, &self.url))?;
        }
        Ok(reply)
    }

    /// `GetFlightInfo` for `query`: runs it to completion and returns the
    /// result endpoints.
    pub async fn execute(&mut self, query: &pb::ExecuteQuery) -> Result<FlightInfo> {
        let descriptor = FlightDescriptor::new_cmd(query.encode_to_vec());
        self.client()
            .get_flight_info(descriptor)
            .await
            .map_err(|e| from_flight_error(e, &self.url))
    }

    /// `PollFlightInfo` for a descriptor: an `ExecuteQuery` command to
    /// submit a job, or the descriptor a previous poll returned.
    pub async fn poll(&mut self, descriptor: FlightDescriptor) -> Result<PollInfo> {
        self.client()
            .poll_flight_info(descriptor)
            .await
            .map_err(|e| from_flight_error(e, &self.url))
    }

    /// `DoGet` for one partition: its record batches as a stream.
    pub async fn fetch(&mut self, ticket: &pb::FetchPartition) -> Result<FlightRecordBatchStream> {
        self.fetch_ticket(Ticket::new(ticket.encode_to_vec())).await
    }

    /// `DoGet` for a ticket as received in a `FlightEndpoint`.
    pub async fn fetch_ticket(&mut self, ticket: Ticket) -> Result<FlightRecordBatchStream> {
        self.client()
            .do_get(ticket)
            .await
            .map_err(|e| from_flight_error(e, &self.url))
    }
}

/// The `DoGet` ticket that fetches the partition at `location`.
pub fn partition_ticket(location: &pb::PartitionLocation) -> pb::FetchPartition {
    pb::FetchPartition {
        job_id: location.job_id.clone(),
        stage_id: location.stage_id,
        map_partition: location.map_partition,
        output_partition: location.output_partition,
        path: location.path.clone(),
    }
}

/// The Flight URL of an executor endpoint.
pub fn endpoint_url(endpoint: &pb::ExecutorEndpoint) -> String {
    format!("grpc://{}:{}", endpoint.host, endpoint.port)
}

/// tonic speaks `http://`; Flight locations say `grpc://` or
/// `grpc+tcp://`.
fn http_url(url: &str) -> String {
    for scheme in ["grpc+tcp://", "grpc://"] {
        if let Some(rest) = url.strip_prefix(scheme) {
            return format!("http://{rest}");
        }
    }
    if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flight_schemes_become_http() {
        assert_eq!(http_url("grpc://127.0.0.1:1"), "http://127.0.0.1:1");
        assert_eq!(http_url("grpc+tcp://h:2"), "http://h:2");
        assert_eq!(http_url("h:3"), "http://h:3");
        assert_eq!(http_url("http://h:4"), "http://h:4");
    }

    #[tokio::test]
    async fn nothing_listening_is_unavailable_not_a_hang() {
        // Bind then drop a listener to get a port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = FlightConn::connect(&format!("grpc://127.0.0.1:{port}"))
            .await
            .unwrap_err();
        assert!(matches!(err, BallistaError::Unavailable(_)), "{err}");
        assert!(err.to_string().contains(&port.to_string()), "{err}");
    }
}
