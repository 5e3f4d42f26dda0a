//! Compiles `proto/ballista/v1/*.proto` with `protox` (a pure-Rust protobuf
//! compiler, so no system `protoc` is needed) and generates prost types.
//! The file descriptor set is also written out so that the crate can offer
//! the canonical protobuf JSON mapping through `prost-reflect`.

use std::path::PathBuf;

use protox::prost::Message;

const FILES: &[&str] = &[
    "ballista/v1/types.proto",
    "ballista/v1/logical.proto",
    "ballista/v1/physical.proto",
    "ballista/v1/flight.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time, not with `env!`: engineers share one target
    // directory across git worktrees, where cargo reuses this compiled build
    // script, and a path baked in at compile time would point at another
    // worktree's `proto/`.
    let proto_root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", proto_root.display());

    let descriptors = protox::compile(FILES, [&proto_root])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("ballista_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;

    prost_build::Config::new()
        // `Name` impls give each message its fully-qualified protobuf name,
        // which the JSON mapping needs to find the message descriptor.
        .enable_type_names()
        .type_name_domain(["."], "type.googleapis.com")
        .compile_fds(descriptors)?;
    Ok(())
}
