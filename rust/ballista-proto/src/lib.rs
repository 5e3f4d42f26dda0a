//! Generated Rust types for Ballista's canonical plan spec
//! (`proto/ballista/v1`). This crate holds generated code only: the
//! conversions to and from DataFusion live in `ballista-core`.
//!
//! The types are produced at build time by `build.rs` with `protox`, so the
//! `.proto` files are the single source of truth and nothing is vendored.

use std::sync::LazyLock;

use prost_reflect::DescriptorPool;

/// Version 1 of the spec: package `ballista.v1`.
pub mod v1 {
    #![allow(missing_docs, clippy::all, clippy::pedantic, unused_qualifications)]
    include!(concat!(env!("OUT_DIR"), "/ballista.v1.rs"));
}

/// Encoded `FileDescriptorSet` of every file in `proto/`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/ballista_descriptor.bin"));

/// Descriptors of the spec's messages, used for the canonical JSON mapping.
pub static DESCRIPTOR_POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    DescriptorPool::decode(FILE_DESCRIPTOR_SET)
        .expect("the descriptor set is produced by build.rs from the same proto files")
});
