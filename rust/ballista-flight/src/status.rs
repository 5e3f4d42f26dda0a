//! The single mapping between Ballista errors and gRPC statuses, used by
//! every server (error → status) and client (status → error), so an error
//! keeps its kind across the wire.

use arrow_flight::error::FlightError;
use ballista_core::BallistaError;
use datafusion::error::DataFusionError;
use tonic::{Code, Status};

/// The gRPC status for an error raised while serving a call.
pub fn to_status(e: BallistaError) -> Status {
    Status::new(code_of(&e), e.to_string())
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
pub fn from_status(status: &Status, peer: &str) -> BallistaError {
    // A Ballista server's message is its error's display, which starts
    // with the kind; the error made here says the kind again, so it goes.
    let msg = |kind: &str| {
        let text = status.message();
        let text = text.strip_prefix(kind).unwrap_or(text);
        format!("{text} (from {peer})")
    };
    match status.code() {
        Code::InvalidArgument => BallistaError::InvalidArgument(msg("Invalid argument: ")),
        Code::NotFound => BallistaError::NotFound(msg("Not found: ")),
        Code::Unimplemented => BallistaError::NotImplemented(msg("Not implemented: ")),
        Code::ResourceExhausted => BallistaError::ResourcesExhausted(msg("Resources exhausted: ")),
        Code::Cancelled => BallistaError::Cancelled(msg("Cancelled: ")),
        Code::Unavailable | Code::DeadlineExceeded => {
            BallistaError::Unavailable(msg("Unavailable: "))
        }
        Code::Internal | Code::Unknown => BallistaError::Execution(msg("Execution error: ")),
        other => BallistaError::Execution(format!("{other:?}: {}", msg(""))),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_keeps_its_kind_and_says_it_once_across_the_wire() {
        let cases = [
            BallistaError::Execution("division by zero".into()),
            BallistaError::InvalidArgument("no column `x`".into()),
            BallistaError::NotFound("no job `j`".into()),
            BallistaError::Unavailable("executor gone".into()),
        ];
        for e in cases {
            let sent = e.to_string();
            let got = from_status(&to_status(e), "peer");
            assert_eq!(got.to_string(), format!("{sent} (from peer)"));
        }
        // DataFusion's own execution errors carry the same prefix.
        let df = BallistaError::DataFusion(DataFusionError::Execution("boom".into()));
        let got = from_status(&to_status(df), "peer").to_string();
        assert_eq!(got, "Execution error: boom (from peer)");
    }
}
