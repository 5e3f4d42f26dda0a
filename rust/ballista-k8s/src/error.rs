//! The error type of `ballista-k8s`.
//!
//! Kubernetes API failures are sorted by what the user can do about them:
//! the object exists already (409), the user may not do it (403), the object
//! or cluster is missing (404); anything else keeps the API server's message.
//! Every message names the action and the object.

use std::time::Duration;

/// Why a `ballista k8s` command failed.
#[derive(Debug, thiserror::Error)]
pub enum K8sError {
    /// A flag value or a template is not valid; the message says what would be.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The object to create exists already (HTTP 409 Conflict).
    #[error("cannot {action}: it already exists. {hint}")]
    AlreadyExists {
        /// What was being done, naming the object and namespace.
        action: String,
        /// What the user can do instead.
        hint: String,
    },
    /// The Kubernetes user may not do this (HTTP 403 Forbidden).
    #[error(
        "cannot {action}: forbidden by the API server: {message}. The Kubernetes user running \
         `ballista k8s` needs the Role listed in docs/kubernetes.md (RBAC)"
    )]
    Forbidden {
        /// What was being done.
        action: String,
        /// The API server's message (names the user, verb and resource).
        message: String,
    },
    /// The object does not exist (HTTP 404 Not Found).
    #[error("cannot {action}: {what} not found")]
    NotFound {
        /// What was being done.
        action: String,
        /// What is missing, e.g. "Ballista cluster `x` in namespace `y`".
        what: String,
    },
    /// Any other refusal of the API server, with its status and message.
    #[error("cannot {action}: the API server answered {code} {reason}: {message}")]
    Api {
        /// What was being done.
        action: String,
        /// HTTP status code.
        code: u16,
        /// Machine-readable reason, e.g. `Invalid`.
        reason: String,
        /// The API server's message.
        message: String,
    },
    /// The API server could not be reached or configured (kubeconfig,
    /// transport, TLS), or its answer could not be read.
    #[error("cannot {action}: {cause}")]
    Client {
        /// What was being done.
        action: String,
        /// kube-rs's error and its causes, e.g. `client error (Connect):
        /// tcp connect error: Connection refused (os error 111)`.
        cause: String,
        /// kube-rs's error.
        #[source]
        source: Box<kube::Error>,
    },
    /// Creating a cluster failed after its scheduler Deployment was created.
    #[error("{source}; {cleanup}")]
    PartlyCreated {
        /// Why creating the rest failed.
        #[source]
        source: Box<K8sError>,
        /// What became of the objects created before.
        cleanup: String,
    },
    /// A query job ran and failed.
    #[error("job `{job}` failed: {reason}")]
    JobFailed {
        /// The Job's name.
        job: String,
        /// Why, from the Job's conditions or the pod's state.
        reason: String,
    },
    /// Something did not happen in time.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long we waited.
        after: Duration,
    },
    /// Reading a file or writing output failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the path or stream.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl K8sError {
    /// Sorts a kube-rs error of `action` by its HTTP status. `missing` names
    /// what a 404 means (e.g. "Ballista cluster `x` in namespace `y`"), and
    /// `exists_hint` what to do on a 409.
    pub fn from_kube(
        action: impl Into<String>,
        missing: impl Into<String>,
        exists_hint: impl Into<String>,
        error: kube::Error,
    ) -> Self {
        let action = action.into();
        match error {
            kube::Error::Api(status) => match status.code {
                409 => Self::AlreadyExists {
                    action,
                    hint: exists_hint.into(),
                },
                403 => Self::Forbidden {
                    action,
                    message: status.message,
                },
                404 => Self::NotFound {
                    action,
                    what: missing.into(),
                },
                code => Self::Api {
                    action,
                    code,
                    reason: status.reason,
                    message: status.message,
                },
            },
            other => Self::client(action, other),
        }
    }

    /// A [`K8sError::Client`]: `error` and the chain of its causes (kube-rs
    /// and hyper keep the useful part, such as "Connection refused", in
    /// the causes).
    pub fn client(action: impl Into<String>, error: kube::Error) -> Self {
        let mut cause = error.to_string();
        let mut next = std::error::Error::source(&error);
        while let Some(source) = next {
            let text = source.to_string();
            if !cause.contains(&text) {
                cause.push_str(": ");
                cause.push_str(&text);
            }
            next = source.source();
        }
        Self::Client {
            action: action.into(),
            cause,
            source: Box::new(error),
        }
    }

    /// An [`K8sError::Io`] saying what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// True for a 404 from the API server.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }
}

/// Result of this crate's functions.
pub type Result<T, E = K8sError> = std::result::Result<T, E>;
