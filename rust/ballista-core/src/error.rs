//! The one error type of `ballista-core`.
//!
//! Variants follow DataFusion's categories so that every layer above can map
//! them to a gRPC status in exactly one place without guessing.

use datafusion::error::DataFusionError;

/// Result type of this crate.
pub type Result<T, E = BallistaError> = std::result::Result<T, E>;

/// Everything that can go wrong in `ballista-core`.
#[derive(Debug, thiserror::Error)]
pub enum BallistaError {
    /// A plan (logical or physical) is well-formed protobuf but does not make
    /// sense: an unknown table, column or function, a type mismatch.
    #[error("Plan error: {0}")]
    Plan(String),
    /// A message is malformed: truncated bytes, a missing required field, an
    /// unknown enum value, an index out of range. The text names the field.
    #[error("Invalid argument: {0}")]
    InvalidArgument(String),
    /// Something valid that this implementation does not support yet.
    #[error("Not implemented: {0}")]
    NotImplemented(String),
    /// Running a plan failed.
    #[error("Execution error: {0}")]
    Execution(String),
    /// A memory or disk limit was reached.
    #[error("Resources exhausted: {0}")]
    ResourcesExhausted(String),
    /// Something named does not exist: a table, a job, a partition.
    #[error("Not found: {0}")]
    NotFound(String),
    /// A peer (scheduler or executor) cannot be reached, or no executor can
    /// take the work; retrying later may succeed.
    #[error("Unavailable: {0}")]
    Unavailable(String),
    /// Shuffle data could not be fetched from an executor: the executor is
    /// probably gone, and the data it held must be recomputed.
    #[error("Fetch failed from executor {executor_id}: {message}")]
    FetchFailed {
        /// The executor that did not serve the data.
        executor_id: String,
        /// What went wrong.
        message: String,
    },
    /// The work was cancelled.
    #[error("Cancelled: {0}")]
    Cancelled(String),
    /// A broken invariant: this is a bug in Ballista.
    #[error("Internal error (this is a bug in Ballista, please report it): {0}")]
    Internal(String),
    /// An error raised by DataFusion.
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    /// An error raised by Arrow.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
}

impl BallistaError {
    /// A malformed-message error about `field` (a dotted protobuf path such
    /// as `FilterExec.predicate`).
    pub fn invalid(field: &str, why: impl std::fmt::Display) -> Self {
        Self::InvalidArgument(format!("{field}: {why}"))
    }

    /// The error for a required field that is absent.
    pub fn missing(field: &str) -> Self {
        Self::InvalidArgument(format!("missing required field `{field}`"))
    }
}

impl From<prost::DecodeError> for BallistaError {
    fn from(e: prost::DecodeError) -> Self {
        Self::InvalidArgument(format!("malformed protobuf: {e}"))
    }
}

impl From<BallistaError> for DataFusionError {
    fn from(e: BallistaError) -> Self {
        match e {
            BallistaError::DataFusion(e) => e,
            BallistaError::Arrow(e) => DataFusionError::ArrowError(Box::new(e), None),
            BallistaError::Plan(m) | BallistaError::InvalidArgument(m) => DataFusionError::Plan(m),
            BallistaError::NotImplemented(m) => DataFusionError::NotImplemented(m),
            BallistaError::ResourcesExhausted(m) => DataFusionError::ResourcesExhausted(m),
            BallistaError::Execution(m) => DataFusionError::Execution(m),
            // Kept whole so that a layer above can still tell, for example,
            // a lost peer (worth a retry) from a bad plan.
            e @ (BallistaError::NotFound(_)
            | BallistaError::Unavailable(_)
            | BallistaError::FetchFailed { .. }
            | BallistaError::Cancelled(_)) => DataFusionError::External(Box::new(e)),
            BallistaError::Internal(m) => DataFusionError::Internal(m),
        }
    }
}

impl BallistaError {
    /// Finds the Ballista error inside a DataFusion error chain (errors
    /// raised in Ballista operators travel through DataFusion as
    /// `External`), so callers can branch on its kind.
    pub fn find_in(e: &DataFusionError) -> Option<&BallistaError> {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = source {
            if let Some(b) = err.downcast_ref::<BallistaError>() {
                return Some(b);
            }
            source = err.source();
        }
        None
    }
}

/// Returns the value of a required (message-typed) protobuf field, or an
/// error naming the field.
pub fn required<'a, T>(value: &'a Option<T>, field: &str) -> Result<&'a T> {
    value.as_ref().ok_or_else(|| BallistaError::missing(field))
}

/// Decodes a proto3 enum field, rejecting values this version does not know.
pub fn known_enum<E: TryFrom<i32>>(value: i32, field: &str) -> Result<E> {
    E::try_from(value)
        .map_err(|_| BallistaError::invalid(field, format!("unknown enum value {value}")))
}

/// The message prefix of the error [`catch_decoder_panic`] returns, so that
/// tests can tell a caught panic (a bug) from an ordinary decode error.
pub const DECODER_PANIC: &str = "the plan decoder panicked";

/// Runs a decoder, turning a panic into an [`BallistaError::Internal`] error
/// whose message starts with [`DECODER_PANIC`].
pub fn catch_decoder_panic<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        Err(BallistaError::Internal(format!(
            "{DECODER_PANIC}: {}",
            panic_message(panic.as_ref())
        )))
    })
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}
