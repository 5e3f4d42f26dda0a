//! The container entrypoint: the `ballista` program started as the
//! manifests start it, with their arguments and only their environment,
//! runs a cluster that answers the probes and runs the query Job's SQL.
//!
//! Real processes on loopback (no Kubernetes: none can run here). The
//! environment of each container is resolved as the kubelet and the
//! cluster would resolve it, and adapted as tests must:
//! - `valueFrom: fieldRef status.podIP` -> `127.0.0.1` (each "pod" is a
//!   process on loopback);
//! - the scheduler Service's DNS name and port in `BALLISTA_SCHEDULER_URL`
//!   -> the scheduler process's address;
//! - `BALLISTA_BIND=0.0.0.0` -> `127.0.0.1` and `BALLISTA_PORT` -> `0`:
//!   tests bind loopback only, on free ports (the manifests' ports are
//!   checked to be the probed ones in tests/render.rs);
//! - `BALLISTA_WORK_DIR` -> a fresh directory per executor (an `emptyDir`).
//!
//! Any other variable the manifests gain fails this test until it is
//! handled here. Needs the `ballista` binary of the main workspace in the
//! same target directory (`make test-k8s` builds it), or `BALLISTA_BIN`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ballista_k8s::manifests::{
    ClusterSpec, Component, Cpu, Memory, RunSource, RunSpec, scheduler_name,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Container;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The `ballista` program: BALLISTA_BIN, or the one beside this test's
/// target directory (`target/debug/ballista`).
fn ballista_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("BALLISTA_BIN") {
        return path.into();
    }
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("ballista");
    assert!(
        path.is_file(),
        "{} is missing: build it first with `cargo build -p ballista-cli` in the main \
         workspace (same CARGO_TARGET_DIR; `make test-k8s` does), or set BALLISTA_BIN",
        path.display()
    );
    path
}

/// A process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The environment of `container` as the kubelet would set it, adapted for
/// loopback (see the module doc). `scheduler` is the scheduler's address.
fn resolve_env(
    container: &Container,
    scheduler: Option<&str>,
    work_dir: &Path,
) -> Vec<(String, String)> {
    container
        .env
        .iter()
        .flatten()
        .map(|var| {
            let value = match &var.value_from {
                Some(from) => {
                    let field = &from
                        .field_ref
                        .as_ref()
                        .expect("only fieldRef is used")
                        .field_path;
                    assert_eq!(field, "status.podIP", "{}", var.name);
                    "127.0.0.1".to_string()
                }
                None => var.value.clone().unwrap_or_default(),
            };
            let value = match var.name.as_str() {
                "BALLISTA_BIND" => {
                    assert_eq!(value, "0.0.0.0", "pods listen on every interface");
                    "127.0.0.1".into()
                }
                "BALLISTA_PORT" => "0".into(),
                "BALLISTA_SCHEDULER_URL" => {
                    let service = format!("{}:50050", scheduler_name("nyctaxi"));
                    assert_eq!(value, format!("grpc://{service}"));
                    value.replace(&service, scheduler.expect("the scheduler runs"))
                }
                "BALLISTA_WORK_DIR" => work_dir.to_str().unwrap().into(),
                "BALLISTA_ADVERTISE_HOST" | "BALLISTA_SLOTS" | "BALLISTA_MEMORY_LIMIT" => value,
                other => panic!("the manifests set {other}: handle it in this test"),
            };
            (var.name.clone(), value)
        })
        .collect()
}

/// Starts `ballista <container args>` with only `env`, waits for
/// `listening on 127.0.0.1:PORT` and returns the process and address.
fn start(container: &Container, env: Vec<(String, String)>) -> (Proc, String) {
    let mut child = Command::new(ballista_bin())
        .args(container.args.iter().flatten())
        .env_clear()
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("listening on ") {
                let _ = tx.send(addr.trim().to_string());
            }
        }
    });
    let proc = Proc(child);
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("`ballista {:?}` did not start", container.args));
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    (proc, addr)
}

fn ballista_container(deployment: &Deployment, component: Component) -> &Container {
    let pod = deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap();
    pod.containers
        .iter()
        .find(|c| c.name == component.as_str())
        .unwrap()
}

/// What the kubelet's `grpc` probe asks: the health of `service` at `addr`.
async fn health(addr: &str, service: &str) -> i32 {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .unwrap();
    response.into_inner().status
}

#[tokio::test(flavor = "multi_thread")]
async fn the_manifests_start_a_cluster_that_runs_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nyctaxi");
    let gen_status = Command::new(ballista_bin())
        .args(["gen", "nyctaxi", "--rows", "5000", "--files", "2", "--out"])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(gen_status.success());

    let mut spec = ClusterSpec::new("nyctaxi", 2);
    spec.cpu = Some("1".parse::<Cpu>().unwrap());
    spec.memory = Some("512MiB".parse::<Memory>().unwrap());
    let manifests = spec.manifests().unwrap();

    let scheduler_container = ballista_container(&manifests.scheduler, Component::Scheduler);
    let env = resolve_env(scheduler_container, None, dir.path());
    let (_scheduler, scheduler_addr) = start(scheduler_container, env);

    let executor_container = ballista_container(&manifests.executors, Component::Executor);
    let replicas = manifests.executors.spec.as_ref().unwrap().replicas.unwrap();
    let mut executors = Vec::new();
    for i in 0..replicas {
        let work = dir.path().join(format!("executor-{i}"));
        let env = resolve_env(executor_container, Some(&scheduler_addr), &work);
        executors.push(start(executor_container, env));
    }

    // The probes: the scheduler and every executor answer SERVING, for the
    // server ("", what the manifests' probes ask) and for Flight by name.
    let serving = ServingStatus::Serving as i32;
    for addr in std::iter::once(&scheduler_addr).chain(executors.iter().map(|(_, a)| a)) {
        assert_eq!(health(addr, "").await, serving, "{addr}");
        assert_eq!(
            health(addr, "arrow.flight.protocol.FlightService").await,
            serving,
            "{addr}"
        );
    }

    // The query Job of `ballista k8s run -f create_trips.sql -f fare_stats.sql`,
    // with the table at this test's data directory.
    let sql = format!(
        "CREATE EXTERNAL TABLE trips STORED AS PARQUET LOCATION '{}/';\n{}",
        data.display(),
        include_str!("../../../examples/nyctaxi/fare_stats.sql")
    );
    let job = RunSpec {
        cluster: "nyctaxi".into(),
        namespace: None,
        image: "ballista".into(),
        source: RunSource::Sql(sql),
    }
    .job()
    .unwrap();
    let client = &job
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0];
    let env = resolve_env(client, Some(&scheduler_addr), dir.path());
    let output = tokio::task::spawn_blocking({
        let args = client.args.clone().unwrap();
        move || {
            Command::new(ballista_bin())
                .args(args)
                .env_clear()
                .envs(env)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the job failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A table: a header naming `trips`, then one row per group; the trip
    // counts add up to the rows generated.
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows[0][3], "trips", "{stdout}");
    let trips: u64 = rows[1..].iter().map(|r| r[3].parse::<u64>().unwrap()).sum();
    assert_eq!(trips, 5000, "{stdout}");
    assert!(rows.len() > 10, "{stdout}");
}
