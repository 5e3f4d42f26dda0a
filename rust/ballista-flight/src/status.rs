//! The single mapping between Ballista errors and gRPC statuses, used by
//! every server (error → status) and client (status → error), so an error
//! keeps its kind across the wire.

use std::error::Error;

use arrow_flight::error::FlightError;
use ballista_core::BallistaError;
use datafusion::error::DataFusionError;
use tonic::{Code, Status};

/// The gRPC status for an error raised while serving a call.
pub fn to_status(e: BallistaError) -> Status {
    Status::new(code_of(&e), message_of(&e))
}

/// A status message: the error's text without the kind that the code
/// already carries, since [`from_status`] puts it back (otherwise a client
/// reads "Not found: Not found: ...").
fn message_of(e: &BallistaError) -> String {
    match e {
        BallistaError::InvalidArgument(m)
        | BallistaError::NotImplemented(m)
        | BallistaError::NotFound(m)
        | BallistaError::Unavailable(m)
        | BallistaError::Cancelled(m)
        | BallistaError::ResourcesExhausted(m)
        | BallistaError::Execution(m) => m.clone(),
        // DataFusion's own prefix is the one the client adds back.
        BallistaError::DataFusion(
            DataFusionError::Execution(m) | DataFusionError::ResourcesExhausted(m),
        ) => m.clone(),
        // Their kind is not the one the code maps back to: keep it.
        other => other.to_string(),
    }
}

/// The status code of an error: the caller's fault (invalid argument, not
/// found, unimplemented), the system's state (unavailable, exhausted,
/// cancelled) or a failure while running (internal).
pub fn code_of(e: &BallistaError) -> Code {
    match e {
        BallistaError::Plan(_) | BallistaError::InvalidArgument(_) => Code::InvalidArgument,
        BallistaError::NotImplemented(_) => Code::Unimplemented,
        BallistaError::NotFound(_) => Code::NotFound,
        BallistaError::Unavailable(_) | BallistaError::FetchFailed { .. } => Code::Unavailable,
        BallistaError::Cancelled(_) => Code::Cancelled,
        BallistaError::ResourcesExhausted(_) => Code::ResourceExhausted,
        BallistaError::Execution(_) | BallistaError::Arrow(_) | BallistaError::Internal(_) => {
            Code::Internal
        }
        BallistaError::DataFusion(d) => {
            if let Some(inner) = BallistaError::find_in(d) {
                return code_of(inner);
            }
            match d.find_root() {
                DataFusionError::Plan(_)
                | DataFusionError::SQL(..)
                | DataFusionError::SchemaError(..)
                | DataFusionError::Configuration(_) => Code::InvalidArgument,
                DataFusionError::NotImplemented(_) => Code::Unimplemented,
                DataFusionError::ResourcesExhausted(_) => Code::ResourceExhausted,
                _ => Code::Internal,
            }
        }
    }
}

/// The error for a status received from a peer; `peer` names who answered
/// (for example `scheduler at grpc://127.0.0.1:50050`).
///
/// A status that has a source was not sent by the peer (sources do not
/// travel): tonic made it here because the call could not complete, the
/// connection being refused, reset or closed. Whatever code tonic chose
/// for it (often `UNKNOWN`, with just "transport error" as its message),
/// that is `Unavailable`, and the message gives the causes.
pub fn from_status(status: &Status, peer: &str) -> BallistaError {
    if let Some(source) = status.source() {
        return BallistaError::Unavailable(format!(
            "cannot reach {peer}: {}",
            source_chain(source)
        ));
    }
    let msg = format!("{} (from {peer})", status.message());
    match status.code() {
        Code::InvalidArgument => BallistaError::InvalidArgument(msg),
        Code::NotFound => BallistaError::NotFound(msg),
        Code::Unimplemented => BallistaError::NotImplemented(msg),
        Code::ResourceExhausted => BallistaError::ResourcesExhausted(msg),
        Code::Cancelled => BallistaError::Cancelled(msg),
        Code::Unavailable | Code::DeadlineExceeded => BallistaError::Unavailable(msg),
        Code::Internal | Code::Unknown => BallistaError::Execution(msg),
        other => BallistaError::Execution(format!("{other:?}: {msg}")),
    }
}

/// The error for a failed Flight call to `peer`.
pub fn from_flight_error(e: FlightError, peer: &str) -> BallistaError {
    match e {
        FlightError::Tonic(status) => from_status(&status, peer),
        FlightError::Arrow(e) => BallistaError::Arrow(e),
        other => BallistaError::Execution(format!("Flight call to {peer} failed: {other}")),
    }
}

/// An error with its causes, `: `-separated (a transport error's own text is
/// often only "transport error").
pub fn source_chain(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        // Some layers repeat their cause's text in their own.
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_is_said_once() {
        let cases = [
            BallistaError::NotFound("table `t` is gone".into()),
            BallistaError::InvalidArgument("bad `x`".into()),
            BallistaError::Execution("job j failed: boom".into()),
            BallistaError::Unavailable("no executor".into()),
            BallistaError::DataFusion(DataFusionError::Execution("table exists".into())),
            BallistaError::DataFusion(DataFusionError::ResourcesExhausted("1 GiB".into())),
        ];
        for e in cases {
            let text = e.to_string();
            let back = from_status(&to_status(e), "peer");
            assert_eq!(back.to_string(), format!("{text} (from peer)"));
        }
        // A kind that the code does not carry stays in the text.
        let back = from_status(&to_status(BallistaError::Plan("no".into())), "peer");
        assert_eq!(
            back.to_string(),
            "Invalid argument: Plan error: no (from peer)"
        );
    }

    #[test]
    fn a_broken_connection_is_unavailable_with_its_cause() {
        // What tonic hands back when an established connection breaks: a
        // status made on this side, UNKNOWN, with the I/O error as source.
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset");
        let status = Status::from_error(Box::new(reset));
        assert_eq!(status.code(), Code::Unknown);
        let e = from_status(&status, "grpc://127.0.0.1:1");
        assert!(matches!(e, BallistaError::Unavailable(_)), "{e}");
        let text = e.to_string();
        assert!(text.contains("grpc://127.0.0.1:1"), "{text}");
        assert!(text.contains("connection reset"), "{text}");
        // A status the peer sent has no source and keeps its code.
        let sent = Status::unknown("boom");
        assert!(matches!(
            from_status(&sent, "p"),
            BallistaError::Execution(_)
        ));
    }
}
