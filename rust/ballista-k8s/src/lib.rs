//! Ballista clusters on Kubernetes: the `ballista k8s` commands.
//!
//! - [`manifests`]: the objects of a cluster and of a query Job, built with
//!   k8s-openapi types (pure, no I/O);
//! - [`yaml`]: templates read strictly, manifests printed as YAML;
//! - [`client`]: the API calls (kube-rs) of create, status, scale, run and
//!   delete;
//! - [`cli`]: the command line (clap) over those.
//!
//! This crate talks only to the Kubernetes API; it never speaks Flight and
//! does not depend on the runtime crates. The cluster it creates runs the
//! `ballista` image (`Dockerfile`), configured by `BALLISTA_*` variables.
//! It is a Cargo workspace of its own (see its Cargo.toml for why).

pub mod cli;
pub mod client;
mod error;
pub mod manifests;
pub mod yaml;

pub use error::{K8sError, Result};
