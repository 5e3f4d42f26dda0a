//! The error type of the `ballista` command.

use arrow::error::ArrowError;
use ballista_datagen::DatagenError;
use rustyline::error::ReadlineError;

/// Why a `ballista` command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A flag value or an input is not valid; the message says what would be.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Reading input or writing output failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the path or stream.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Generating a data set failed.
    #[error(transparent)]
    Datagen(#[from] DatagenError),
    /// A query failed: the cluster's (or engine's) error, passed through.
    #[error("{0}")]
    Query(Box<dyn std::error::Error + Send + Sync>),
    /// A result could not be formatted.
    #[error("cannot format the result: {0}")]
    Format(#[from] ArrowError),
    /// One statement of a script (`-c` or `-f`) failed.
    #[error("statement {number} (line {line}) failed: {source}")]
    Statement {
        /// Position of the statement in the script, from 1.
        number: usize,
        /// Line of the script where the statement starts, from 1.
        line: usize,
        /// Why it failed.
        #[source]
        source: Box<CliError>,
    },
    /// The interactive line editor failed.
    #[error("line editor: {0}")]
    Readline(#[from] ReadlineError),
}

impl CliError {
    /// Wraps a query engine's error (for [`crate::SqlRunner`] implementations).
    pub fn query(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Query(error.into())
    }

    /// An [`CliError::Io`] saying what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result of the CLI's functions.
pub type Result<T, E = CliError> = std::result::Result<T, E>;
