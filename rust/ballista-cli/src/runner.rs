//! [`SqlRunner`]: what the shell needs from a cluster connection.
//!
//! The shell only knows this trait, so the same shell serves the embedded
//! cluster, a remote scheduler, and (in tests) a plain DataFusion session.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use crate::Result;

/// What the shell needs from a cluster connection.
#[async_trait::async_trait]
pub trait SqlRunner: Send + Sync {
    /// Runs one SQL statement and returns its schema and every result batch.
    ///
    /// `progress(done, total)` is called as tasks finish (`total` 0 while
    /// unknown). Errors from the cluster are wrapped with
    /// [`crate::CliError::query`].
    async fn run(
        &self,
        sql: &str,
        progress: &(dyn Fn(u32, u32) + Send + Sync),
    ) -> Result<(SchemaRef, Vec<RecordBatch>)>;
}
