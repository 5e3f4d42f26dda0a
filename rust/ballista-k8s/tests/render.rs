//! `ballista k8s render`: its YAML parses strictly as Kubernetes objects
//! (k8s-openapi types, and nothing the types would drop), the objects fit
//! together (selectors, ports, volumes, the scheduler URL), and the output
//! equals the golden manifests in `tests/golden/`.
//!
//! Regenerate the goldens after an intended change with
//! `BALLISTA_UPDATE_GOLDEN=1 cargo test --test render`, and review the diff.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use ballista_k8s::cli::K8sCli;
use ballista_k8s::manifests::{EXECUTOR_PORT, SCHEDULER_PORT, label};
use clap::Parser;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Container, PodTemplateSpec, Service};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// This package's directory as cargo gives it at run time. `env!` would
/// name the checkout that compiled the binary: CI clones share one target
/// directory, and cargo reuses a test binary built in another checkout
/// (`ballista-proto`'s build script reads it at run time for this reason).
fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

fn repo(path: &str) -> String {
    package_dir()
        .join("../..")
        .join(path)
        .to_str()
        .unwrap()
        .to_string()
}

fn golden_path(name: &str) -> PathBuf {
    package_dir().join("tests/golden").join(name)
}

/// Compares `text` with the golden file `name`, or rewrites the file when
/// BALLISTA_UPDATE_GOLDEN is set.
fn check_golden(name: &str, text: &str) {
    let path = golden_path(name);
    if std::env::var_os("BALLISTA_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (BALLISTA_UPDATE_GOLDEN=1 writes it)",
            path.display()
        )
    });
    assert!(
        golden == text,
        "render output differs from {} (BALLISTA_UPDATE_GOLDEN=1 rewrites it):\n{text}",
        path.display()
    );
}

fn render(args: &[&str]) -> String {
    let cli = K8sCli::try_parse_from(["ballista k8s", "render"].iter().chain(args)).unwrap();
    let ballista_k8s::cli::K8sCommand::Render(render) = cli.command else {
        panic!("expected render")
    };
    render.render().unwrap()
}

/// Deserialises `doc` as `T` and serialises it back: equal only if every
/// field is one `T` knows, with the right type (k8s-openapi would silently
/// skip an unknown one).
fn strict<T: DeserializeOwned + Serialize>(doc: &Value) -> T {
    let typed: T = serde_json::from_value(doc.clone())
        .unwrap_or_else(|e| panic!("not a valid object: {e}\n{doc:#}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(&back, doc, "fields were lost in the round trip");
    typed
}

/// The objects of a render, strictly typed.
#[derive(Default)]
struct Objects {
    deployments: Vec<Deployment>,
    services: Vec<Service>,
    jobs: Vec<Job>,
    kinds: Vec<String>,
}

fn parse(text: &str) -> Objects {
    assert!(text.starts_with("---\n"), "{text}");
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).unwrap();
    let mut objects = Objects::default();
    for doc in &docs {
        let api_version = doc["apiVersion"].as_str().unwrap_or_default();
        let kind = doc["kind"].as_str().unwrap_or_default();
        objects.kinds.push(format!("{api_version}/{kind}"));
        match (api_version, kind) {
            ("apps/v1", "Deployment") => objects.deployments.push(strict(doc)),
            ("v1", "Service") => objects.services.push(strict(doc)),
            ("batch/v1", "Job") => objects.jobs.push(strict(doc)),
            other => panic!("unexpected object {other:?}"),
        }
    }
    objects
}

fn env_of(container: &Container, name: &str) -> Option<String> {
    container
        .env
        .iter()
        .flatten()
        .find(|e| e.name == name)
        .and_then(|e| e.value.clone())
}

fn container<'a>(pod: &'a PodTemplateSpec, name: &str) -> &'a Container {
    pod.spec
        .as_ref()
        .unwrap()
        .containers
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no container {name}"))
}

fn is_subset(small: &BTreeMap<String, String>, big: &BTreeMap<String, String>) -> bool {
    small.iter().all(|(k, v)| big.get(k) == Some(v))
}

/// The objects fit together as a working cluster would need.
fn check_consistent(objects: &Objects, cluster: &str, namespace: Option<&str>) {
    assert_eq!(objects.deployments.len(), 2);
    assert_eq!(objects.services.len(), 1);
    let [scheduler, executors] = [&objects.deployments[0], &objects.deployments[1]];
    let service = &objects.services[0];
    assert_eq!(
        scheduler.metadata.name.as_deref(),
        Some(&*format!("{cluster}-scheduler"))
    );
    assert_eq!(
        executors.metadata.name.as_deref(),
        Some(&*format!("{cluster}-executor"))
    );
    // Every object: the cluster's labels and namespace, no owner yet.
    let metas = objects
        .deployments
        .iter()
        .map(|d| &d.metadata)
        .chain([&service.metadata])
        .chain(objects.jobs.iter().map(|j| &j.metadata));
    for meta in metas {
        let labels = meta.labels.as_ref().unwrap();
        assert_eq!(labels[label::INSTANCE], cluster);
        assert_eq!(labels[label::NAME], "ballista");
        assert_eq!(meta.namespace.as_deref(), namespace);
        assert_eq!(meta.owner_references, None);
    }
    // Each Deployment selects its own pods, and only those.
    for (deployment, component, port) in [
        (scheduler, "scheduler", SCHEDULER_PORT),
        (executors, "executor", EXECUTOR_PORT),
    ] {
        let spec = deployment.spec.as_ref().unwrap();
        let selector = spec.selector.match_labels.as_ref().unwrap();
        let pod_labels = spec.template.metadata.as_ref().unwrap().labels.as_ref();
        assert!(is_subset(selector, pod_labels.unwrap()));
        assert_eq!(selector[label::COMPONENT], component);
        let c = container(&spec.template, component);
        // The port it listens on is the one declared and probed.
        assert_eq!(env_of(c, "BALLISTA_PORT"), Some(port.to_string()));
        assert_eq!(c.ports.as_ref().unwrap()[0].container_port, port);
        for probe in [&c.readiness_probe, &c.liveness_probe] {
            assert_eq!(probe.as_ref().unwrap().grpc.as_ref().unwrap().port, port);
        }
        assert_eq!(c.args.as_deref(), Some(&[component.to_string()][..]));
        // Every mount names a volume of the pod.
        let pod = spec.template.spec.as_ref().unwrap();
        for mount in c.volume_mounts.iter().flatten() {
            assert!(
                pod.volumes.iter().flatten().any(|v| v.name == mount.name),
                "{component}: mount {} has no volume",
                mount.name
            );
        }
        assert_eq!(
            pod.security_context.as_ref().unwrap().run_as_non_root,
            Some(true)
        );
    }
    // The Service reaches the scheduler's named port, and the executors
    // and clients dial the Service.
    let service_spec = service.spec.as_ref().unwrap();
    let scheduler_pod = &scheduler.spec.as_ref().unwrap().template;
    assert!(is_subset(
        service_spec.selector.as_ref().unwrap(),
        scheduler_pod
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .as_ref()
            .unwrap()
    ));
    let service_port = &service_spec.ports.as_ref().unwrap()[0];
    let scheduler_container = container(scheduler_pod, "scheduler");
    let named = scheduler_container.ports.as_ref().unwrap()[0].name.clone();
    assert_eq!(
        service_port.target_port,
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(named.unwrap()))
    );
    let url = format!(
        "grpc://{}:{}",
        service.metadata.name.as_deref().unwrap(),
        service_port.port
    );
    let executor = container(&executors.spec.as_ref().unwrap().template, "executor");
    assert_eq!(
        env_of(executor, "BALLISTA_SCHEDULER_URL"),
        Some(url.clone())
    );
    for job in &objects.jobs {
        let pod = &job.spec.as_ref().unwrap().template;
        for c in &pod.spec.as_ref().unwrap().containers {
            assert_eq!(env_of(c, "BALLISTA_SCHEDULER_URL"), Some(url.clone()));
        }
        assert_eq!(
            pod.spec.as_ref().unwrap().restart_policy.as_deref(),
            Some("Never")
        );
    }
}

#[test]
fn the_program_renders_the_default_cluster() {
    let output = Command::new(env!("CARGO_BIN_EXE_ballista-k8s"))
        .args(["render", "--name", "nyctaxi", "--executors", "3"])
        .env_remove("BALLISTA_IMAGE")
        .env_remove("BALLISTA_K8S_CLUSTER")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let text = String::from_utf8(output.stdout).unwrap();
    let objects = parse(&text);
    assert_eq!(
        objects.kinds,
        ["apps/v1/Deployment", "v1/Service", "apps/v1/Deployment"]
    );
    check_consistent(&objects, "nyctaxi", None);
    let replicas = objects.deployments[1].spec.as_ref().unwrap().replicas;
    assert_eq!(replicas, Some(3));
    check_golden("default.yaml", &text);
}

#[test]
fn the_nyctaxi_example_renders_with_templates_resources_and_sql() {
    let text = render(&[
        "--name",
        "nyctaxi",
        "--namespace",
        "analytics",
        "--executors",
        "4",
        "--cpu",
        "2",
        "--memory",
        "4GiB",
        "--image",
        "registry.example.com/ballista:0.1.0",
        "--scheduler-template",
        &repo("examples/nyctaxi/k8s/scheduler-pod.yaml"),
        "--executor-template",
        &repo("examples/nyctaxi/k8s/executor-pod.yaml"),
        "-f",
        &repo("examples/nyctaxi/k8s/create_trips.sql"),
        "-f",
        &repo("examples/nyctaxi/fare_stats.sql"),
    ]);
    let objects = parse(&text);
    assert_eq!(
        objects.kinds,
        [
            "apps/v1/Deployment",
            "v1/Service",
            "apps/v1/Deployment",
            "batch/v1/Job"
        ]
    );
    check_consistent(&objects, "nyctaxi", Some("analytics"));
    // The templates' data volume reaches both Ballista containers.
    for (deployment, name) in [
        (&objects.deployments[0], "scheduler"),
        (&objects.deployments[1], "executor"),
    ] {
        let c = container(&deployment.spec.as_ref().unwrap().template, name);
        assert!(
            c.volume_mounts
                .iter()
                .flatten()
                .any(|m| m.mount_path == "/data" && m.read_only == Some(true))
        );
    }
    let executor = container(
        &objects.deployments[1].spec.as_ref().unwrap().template,
        "executor",
    );
    assert_eq!(env_of(executor, "BALLISTA_SLOTS").as_deref(), Some("2"));
    assert_eq!(
        env_of(executor, "BALLISTA_MEMORY_LIMIT").as_deref(),
        Some("3221225472")
    );
    // The job runs both files, in order.
    let job = &objects.jobs[0];
    let client = &job
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0];
    let sql = client.args.as_ref().unwrap().last().unwrap();
    let create = sql.find("CREATE EXTERNAL TABLE trips").unwrap();
    let select = sql.find("GROUP BY passenger_count").unwrap();
    assert!(create < select, "{sql}");
    check_golden("nyctaxi.yaml", &text);
}

#[test]
fn a_job_template_renders_completed() {
    let text = render(&[
        "--name",
        "nyctaxi",
        "--template",
        &repo("examples/nyctaxi/k8s/app-job.yaml"),
    ]);
    let objects = parse(&text);
    check_consistent(&objects, "nyctaxi", None);
    let job = &objects.jobs[0];
    assert_eq!(job.metadata.generate_name.as_deref(), Some("nyctaxi-run-"));
    let pod = job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    assert_eq!(
        pod.containers[0].image.as_deref(),
        Some("ballista-nyctaxi:0.1.0")
    );
    check_golden("app-job.yaml", &text);
}

#[test]
fn render_refuses_bad_templates_with_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("typo.yaml");
    std::fs::write(
        &bad,
        "spec:\n  containers:\n    - name: executor\n      volumeMount: []\n",
    )
    .unwrap();
    let cli = K8sCli::try_parse_from([
        "ballista k8s",
        "render",
        "--executor-template",
        bad.to_str().unwrap(),
    ])
    .unwrap();
    let ballista_k8s::cli::K8sCommand::Render(render) = cli.command else {
        panic!("expected render")
    };
    let err = render.render().unwrap_err().to_string();
    assert!(
        err.contains("typo.yaml: `spec.containers[0].volumeMount` is not a field"),
        "{err}"
    );
}
