//! The native library of Ballista's Java client (`libballista_jni.so`).
//!
//! Two things that only Rust can do for the JVM, exposed as JNI functions:
//!
//! - [`cluster`]: the embedded cluster (`Ballista.standalone(n)` in Java):
//!   a scheduler and `n` executors started inside the JVM on loopback,
//!   exactly those of `ballista standalone`
//!   ([`ballista_client::standalone::EmbeddedCluster`]). The Java client then
//!   talks Flight to them like to any remote cluster; JNI only starts and
//!   stops them.
//! - [`reference`]: single-process DataFusion, which the Java tests use for
//!   the reference answers that cluster results are compared with. It is
//!   test support, shipped in the same library so that the JVM needs no
//!   second native artifact.
//!
//! Every entry point catches errors and panics and throws a Java exception
//! instead: nothing unwinds across the FFI boundary. The only unsafe thing
//! here is `#[unsafe(no_mangle)]` on the entry points, which the JVM needs
//! to find them by name.

mod cluster;
mod reference;
mod throw;

use std::sync::OnceLock;

use tokio::runtime::Runtime;

/// One Tokio runtime for every cluster and reference query of the process.
///
/// Clusters come and go (a test opens and closes a hundred sessions); their
/// servers and loops are tasks on this runtime, so closing a session frees
/// its tasks and sockets while the runtime's worker threads are reused, not
/// leaked.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("ballista-native")
            .build()
            // Without a runtime nothing here can work, and the JVM could
            // not be told more than this message either.
            .expect("cannot start the Tokio runtime of the Ballista native library")
    })
}
