//! Errors and panics become Java exceptions.

use std::panic::{AssertUnwindSafe, catch_unwind};

use ballista_core::BallistaError;
use jni::JNIEnv;

/// The Java exception every native failure is thrown as; the Java side
/// (`dev.ballista.client.errors.Errors`) maps its message to the specific
/// class by the kind prefix of [`BallistaError`]'s message.
const EXCEPTION: &str = "dev/ballista/client/errors/NativeException";

/// A failure of a native call, thrown as a Java exception.
pub(crate) struct Failure(pub(crate) String);

impl From<BallistaError> for Failure {
    fn from(e: BallistaError) -> Self {
        Self(e.to_string())
    }
}

impl From<jni::errors::Error> for Failure {
    fn from(e: jni::errors::Error) -> Self {
        Self(format!("Internal error: JNI call failed: {e}"))
    }
}

impl From<datafusion::error::DataFusionError> for Failure {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        Self(format!("DataFusion: {e}"))
    }
}

impl From<arrow::error::ArrowError> for Failure {
    fn from(e: arrow::error::ArrowError) -> Self {
        Self(format!("Arrow: {e}"))
    }
}

/// Runs `body`; on an error or a panic throws a Java exception and returns
/// `fallback` (the JVM ignores the return value once an exception is
/// pending).
pub(crate) fn guard<T>(
    env: &mut JNIEnv<'_>,
    fallback: T,
    body: impl FnOnce(&mut JNIEnv<'_>) -> Result<T, Failure>,
) -> T {
    let outcome = catch_unwind(AssertUnwindSafe(|| body(env)));
    let message = match outcome {
        Ok(Ok(value)) => return value,
        Ok(Err(Failure(message))) => message,
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            format!("Internal error (this is a bug in Ballista, please report it): {what}")
        }
    };
    // A pending exception (from a failed JNI call) must be cleared before
    // throwing ours.
    if env.exception_check().unwrap_or(false) {
        let _ = env.exception_clear();
    }
    let _ = env.throw_new(EXCEPTION, message);
    fallback
}
