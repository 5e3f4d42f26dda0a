//! Arrow Flight plumbing shared by Ballista's scheduler, executors and
//! clients. Flight is Ballista's only wire (DESIGN.md §2): every request is a
//! Flight call whose command, ticket or action body is a message from
//! `proto/ballista/v1/flight.proto`. This crate keeps the encoding of those
//! calls in one place:
//!
//! - [`actions`]: the `DoAction` types and the job-poll descriptor;
//! - [`status`]: the one mapping between [`BallistaError`] and gRPC status;
//! - [`client`]: a typed Flight client ([`FlightConn`]);
//! - [`server`]: binding a Flight service on a TCP port (port 0 picks one).
//!
//! [`BallistaError`]: ballista_core::BallistaError
//! [`FlightConn`]: client::FlightConn

pub mod actions;
pub mod client;
pub mod server;
pub mod status;

pub use client::FlightConn;

/// HTTP/2 flow-control window of one Flight stream, on both ends. h2's
/// default (64 KiB) makes a `DoGet` of a large partition wait for a
/// `WINDOW_UPDATE` every 64 KiB; with several MiB the sender keeps going
/// while the receiver decodes. Memory stays bounded: a fetch has its own
/// connection (see the executor's `ConnectionCache`), so a stream nobody
/// reads holds at most this much.
pub const STREAM_WINDOW: u32 = 4 << 20;

/// HTTP/2 flow-control window of a connection: room for two full streams.
pub const CONNECTION_WINDOW: u32 = 8 << 20;
