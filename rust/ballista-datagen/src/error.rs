//! The error type of every generator.

use std::path::PathBuf;

/// Why generating a data set failed.
#[derive(Debug, thiserror::Error)]
pub enum DatagenError {
    /// An argument is out of range, or the output directory cannot be used.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Reading or writing the file system failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the path.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Encoding a Parquet file failed.
    #[error("cannot write Parquet file {}: {source}", path.display())]
    Parquet {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// The generator built inconsistent Arrow data: a bug in this crate.
    #[error("internal error (a bug in ballista-datagen): {0}")]
    Internal(String),
}

impl DatagenError {
    /// An [`DatagenError::Io`] saying what was being done.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result of the generators.
pub type Result<T, E = DatagenError> = std::result::Result<T, E>;
