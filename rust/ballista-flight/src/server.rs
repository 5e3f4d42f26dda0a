//! Serving a Flight service on a TCP port.
//!
//! Every server also answers the standard gRPC health service
//! (`grpc.health.v1.Health`) on the same port: `SERVING` for the server as a
//! whole (service `""`) and for `arrow.flight.protocol.FlightService` while
//! the server runs. Kubernetes' built-in `grpc` probes call it, so liveness
//! and readiness need neither a second port nor an HTTP server
//! (`docs/kubernetes.md`). It is infrastructure, not a Ballista call: the
//! Ballista protocol stays Flight.

use std::net::SocketAddr;

use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use ballista_core::{BallistaError, Result};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;

use crate::client::MAX_MESSAGE_SIZE;
use crate::{CONNECTION_WINDOW, STREAM_WINDOW};

/// A running Flight server.
#[derive(Debug)]
pub struct ServerHandle {
    /// The address actually bound (the port is chosen when 0 was asked).
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// Stops accepting calls and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Waits until the server stops (it runs until shut down).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

/// Binds `host:port` (port 0 picks a free port) and serves `service` there
/// on a background task. The listener is bound before this returns, so the
/// returned address accepts connections at once.
pub async fn serve<S: FlightService>(service: S, host: &str, port: u16) -> Result<ServerHandle> {
    let listener = TcpListener::bind((host, port))
        .await
        .map_err(|e| BallistaError::Unavailable(format!("cannot bind {host}:{port}: {e}")))?;
    serve_listener(service, listener)
}

/// Serves `service` on an already bound `listener`, for a service that must
/// know its own address before it starts (an executor writes its port into
/// every shuffle location it produces).
pub fn serve_listener<S: FlightService>(service: S, listener: TcpListener) -> Result<ServerHandle> {
    let addr = listener
        .local_addr()
        .map_err(|e| BallistaError::Internal(format!("bound socket has no address: {e}")))?;
    let (tx, rx) = oneshot::channel::<()>();
    let svc = FlightServiceServer::new(service)
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let task = tokio::spawn(async move {
        // The server as a whole (`""`) is reported SERVING by
        // `health_reporter` itself; the Flight service by name too, so a
        // probe may ask for either.
        health_reporter
            .set_serving::<FlightServiceServer<S>>()
            .await;
        // `Server::tcp_nodelay` applies only to sockets tonic accepts
        // itself; with our own listener, `TcpIncoming` must set it. Without
        // it, Nagle's algorithm holds the last small frame of a reply (a
        // DoGet's trailers) until the peer's delayed ACK: 40 ms per fetch.
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let result = tonic::transport::Server::builder()
            .initial_stream_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .add_service(health_service)
            .add_service(svc)
            .serve_with_incoming_shutdown(incoming, async {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = result {
            tracing::error!("Flight server on {addr} stopped: {e}");
        }
    });
    Ok(ServerHandle {
        addr,
        shutdown: Some(tx),
        task,
    })
}
