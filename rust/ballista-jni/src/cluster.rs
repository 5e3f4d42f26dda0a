//! `dev.ballista.client.embedded.NativeCluster`: start and stop embedded
//! clusters.
//!
//! Java holds a cluster by an opaque id (a `long`), never by a pointer: the
//! clusters live in a registry here, so a wrong or repeated id is an error,
//! not undefined behaviour.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use ballista_client::standalone::{EmbeddedCluster, StandaloneConfig};
use jni::JNIEnv;
use jni::objects::JClass;
use jni::sys::{jint, jlong, jstring};

use crate::runtime;
use crate::throw::{Failure, guard};

fn clusters() -> MutexGuard<'static, HashMap<i64, EmbeddedCluster>> {
    static CLUSTERS: OnceLock<Mutex<HashMap<i64, EmbeddedCluster>>> = OnceLock::new();
    CLUSTERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

static NEXT_ID: AtomicI64 = AtomicI64::new(1);

/// `static native long start(int executors, int slotsPerExecutor)`: starts a
/// scheduler and `executors` executors on free loopback ports and waits
/// until all have registered; returns the cluster's id. A non-positive
/// `slotsPerExecutor` shares the machine's cores between the executors.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ballista_client_embedded_NativeCluster_start(
    mut env: JNIEnv<'_>,
    _class: JClass<'_>,
    executors: jint,
    slots_per_executor: jint,
) -> jlong {
    guard(&mut env, 0, |_| {
        if executors < 1 {
            return Err(Failure(format!(
                "Invalid argument: an embedded cluster needs at least one executor, got {executors}"
            )));
        }
        let mut config = StandaloneConfig {
            executors: executors as usize,
            ..StandaloneConfig::default()
        };
        if slots_per_executor > 0 {
            config.slots_per_executor = slots_per_executor as usize;
        }
        let cluster = runtime().block_on(EmbeddedCluster::start(config))?;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        clusters().insert(id, cluster);
        Ok(id)
    })
}

/// `static native String schedulerUrl(long id)`: `grpc://127.0.0.1:PORT`.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ballista_client_embedded_NativeCluster_schedulerUrl(
    mut env: JNIEnv<'_>,
    _class: JClass<'_>,
    id: jlong,
) -> jstring {
    guard(&mut env, std::ptr::null_mut(), |env| {
        let url = clusters()
            .get(&id)
            .map(EmbeddedCluster::scheduler_url)
            .ok_or_else(|| Failure(format!("Not found: no running embedded cluster {id}")))?;
        Ok(env.new_string(url)?.into_raw())
    })
}

/// `static native void stop(long id)`: stops the executors, then the
/// scheduler, and removes the executors' work directories. Stopping a
/// cluster twice is a no-op.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ballista_client_embedded_NativeCluster_stop(
    mut env: JNIEnv<'_>,
    _class: JClass<'_>,
    id: jlong,
) {
    guard(&mut env, (), |_| {
        // Take it out of the registry first, so the lock is not held while
        // the cluster shuts down.
        let cluster = clusters().remove(&id);
        if let Some(cluster) = cluster {
            runtime().block_on(cluster.shutdown());
        }
        Ok(())
    })
}
