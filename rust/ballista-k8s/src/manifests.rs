//! The Kubernetes objects of a Ballista cluster and of a query job, built
//! with k8s-openapi types. Pure functions: no API calls here (see
//! [`crate::client`]), so `render` and the tests see exactly what `create`
//! sends.
//!
//! A cluster named `N` is:
//! - Deployment `N-scheduler` (1 replica, `Recreate`: the scheduler keeps
//!   its jobs in memory, and two schedulers would split the executors);
//! - Service `N-scheduler` (ClusterIP, port 50050) in front of it;
//! - Deployment `N-executor` (K replicas) whose pods register with
//!   `grpc://N-scheduler:50050` and advertise their pod IP;
//! - per `ballista k8s run`, a Job `N-run-xxxxx` running a client.
//!
//! Everything carries the labels of [`labels`]. The Service, the executors
//! and the Jobs get an owner reference to the scheduler Deployment when they
//! are created ([`set_owner`]): it needs the scheduler's UID, which only
//! exists once it is created, so rendered manifests carry none.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource, GRPCAction,
    ObjectFieldSelector, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
    SeccompProfile, SecurityContext, Service, ServicePort, ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::error::{K8sError, Result};

/// The image when `--image` is not given: the `Dockerfile` of this
/// repository, tagged with this version.
pub const DEFAULT_IMAGE: &str = concat!("ballista:", env!("CARGO_PKG_VERSION"));
/// The scheduler's Flight port (also its gRPC health port).
pub const SCHEDULER_PORT: i32 = 50050;
/// The executors' Flight port (also their gRPC health port).
pub const EXECUTOR_PORT: i32 = 50051;
/// Where executors keep shuffle, result and spill files (an `emptyDir`).
pub const WORK_DIR: &str = "/var/lib/ballista/work";
/// The unprivileged user and group of the image (`Dockerfile`).
pub const USER_ID: i64 = 10001;
/// Label keys (the recommended `app.kubernetes.io/*` labels).
pub mod label {
    /// Always `ballista`.
    pub const NAME: &str = "app.kubernetes.io/name";
    /// The cluster's name: selects every object of one cluster.
    pub const INSTANCE: &str = "app.kubernetes.io/instance";
    /// `scheduler`, `executor` or `client`.
    pub const COMPONENT: &str = "app.kubernetes.io/component";
    /// Always `ballista-k8s`.
    pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
}

/// The parts of a cluster, as the `app.kubernetes.io/component` label says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// The scheduler Deployment and Service.
    Scheduler,
    /// The executor Deployment.
    Executor,
    /// A query Job.
    Client,
}

impl Component {
    /// The label value, also the name of the Ballista container.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduler => "scheduler",
            Self::Executor => "executor",
            Self::Client => "client",
        }
    }
}

/// The labels of every object of cluster `cluster`; with a component, those
/// of that part (its selector).
pub fn labels(cluster: &str, component: Option<Component>) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (label::NAME.to_string(), "ballista".to_string()),
        (label::INSTANCE.to_string(), cluster.to_string()),
    ]);
    if let Some(component) = component {
        labels.insert(label::COMPONENT.to_string(), component.as_str().into());
    }
    labels
}

/// A label selector string (`k=v,k=v`) matching these labels.
pub fn selector(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Name of the scheduler Deployment and Service of cluster `cluster`.
pub fn scheduler_name(cluster: &str) -> String {
    format!("{cluster}-scheduler")
}

/// Name of the executor Deployment of cluster `cluster`.
pub fn executor_name(cluster: &str) -> String {
    format!("{cluster}-executor")
}

/// The scheduler URL inside the namespace: the Service's short DNS name, so
/// the manifests work in whichever namespace they are applied.
pub fn scheduler_url(cluster: &str) -> String {
    format!("grpc://{}:{SCHEDULER_PORT}", scheduler_name(cluster))
}

/// Checks a cluster name: a DNS-1035 label (lowercase letters, digits and
/// `-`, starting with a letter) short enough for `NAME-scheduler` and
/// generated Job names to stay within 63 characters.
pub fn validate_cluster_name(name: &str) -> Result<()> {
    const MAX: usize = 63 - "-scheduler".len();
    let valid = !name.is_empty()
        && name.len() <= MAX
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(K8sError::InvalidArgument(format!(
            "`{name}` is not a valid cluster name: use at most {MAX} lowercase letters, digits \
             and `-`, starting with a letter and not ending with `-` (e.g. nyctaxi)"
        )))
    }
}

/// CPU of each executor: a Kubernetes quantity (`2`, `1.5`, `500m`) and the
/// task slots it gives (whole cores, rounded up, at least 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Cpu {
    /// As given, e.g. `500m`.
    pub quantity: String,
    /// Task slots of the executor.
    pub slots: u32,
}

impl std::str::FromStr for Cpu {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || format!("`{text}` is not a CPU amount (e.g. 2, 1.5, 500m)");
        let cores = match text.strip_suffix('m') {
            Some(milli) => milli.parse::<u32>().map_err(|_| invalid())? as f64 / 1000.0,
            None => text.parse::<f64>().map_err(|_| invalid())?,
        };
        if !(cores.is_finite() && cores > 0.0 && cores <= 1024.0) {
            return Err(invalid());
        }
        Ok(Self {
            quantity: text.to_string(),
            slots: cores.ceil().max(1.0) as u32,
        })
    }
}

/// Memory of each executor in bytes: the container's request and limit.
/// Three quarters of it go to the executor's memory pool (`--memory-limit`),
/// past which DataFusion spills; the rest is headroom for everything the pool
/// does not count, so a big query spills or fails instead of being OOM-killed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Memory(pub u64);

impl Memory {
    /// As a Kubernetes quantity: `Gi` or `Mi` when exact, else bytes.
    pub fn quantity(self) -> String {
        match self.0 {
            b if b % (1 << 30) == 0 => format!("{}Gi", b >> 30),
            b if b % (1 << 20) == 0 => format!("{}Mi", b >> 20),
            b => b.to_string(),
        }
    }

    /// The executor's memory pool: three quarters of the container's memory.
    pub fn pool_bytes(self) -> u64 {
        self.0 / 4 * 3
    }
}

impl std::str::FromStr for Memory {
    type Err = String;

    /// A size with a unit: binary (`KiB`, `MiB`, `GiB`, `TiB`, or
    /// Kubernetes' `Ki`, `Mi`, `Gi`, `Ti`), decimal (`KB`, `MB`, `GB`, `TB`)
    /// or bytes; at least 64 MiB.
    fn from_str(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let split = trimmed
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a memory size (e.g. 512MiB, 4GiB, 4Gi)"))?;
        let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kb" | "k" => 1_000,
            "mb" | "m" => 1_000_000,
            "gb" | "g" => 1_000_000_000,
            "tb" | "t" => 1_000_000_000_000,
            "kib" | "ki" => 1 << 10,
            "mib" | "mi" => 1 << 20,
            "gib" | "gi" => 1 << 30,
            "tib" | "ti" => 1 << 40,
            _ => {
                return Err(format!(
                    "`{text}` has an unknown unit: use MiB, GiB (or Mi, Gi), MB, GB or bytes"
                ));
            }
        };
        let bytes = value * multiplier as f64;
        if !(bytes >= (64u64 << 20) as f64 && bytes < u64::MAX as f64) {
            return Err(format!(
                "`{text}` is too small for an executor: give at least 64MiB"
            ));
        }
        Ok(Self(bytes as u64))
    }
}

/// What `create-cluster` (and `render`) builds.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    /// Cluster name (checked by [`validate_cluster_name`]).
    pub name: String,
    /// Namespace written into the objects; `None` leaves it to the caller
    /// (`render` without `--namespace`, then `kubectl apply -n`).
    pub namespace: Option<String>,
    /// Container image of the scheduler and the executors.
    pub image: String,
    /// Executor replicas.
    pub executors: i32,
    /// CPU request and limit per executor, and its task slots.
    pub cpu: Option<Cpu>,
    /// Memory request and limit per executor.
    pub memory: Option<Memory>,
    /// A pod template the scheduler pod is built on (`--scheduler-template`).
    pub scheduler_template: Option<PodTemplateSpec>,
    /// A pod template the executor pods are built on (`--executor-template`).
    pub executor_template: Option<PodTemplateSpec>,
}

impl ClusterSpec {
    /// A cluster of `executors` executors with the default image and no
    /// templates or resources.
    pub fn new(name: impl Into<String>, executors: i32) -> Self {
        Self {
            name: name.into(),
            namespace: None,
            image: DEFAULT_IMAGE.to_string(),
            executors,
            cpu: None,
            memory: None,
            scheduler_template: None,
            executor_template: None,
        }
    }

    /// Builds the cluster's objects, in creation order.
    pub fn manifests(&self) -> Result<ClusterManifests> {
        validate_cluster_name(&self.name)?;
        if self.executors < 0 {
            return Err(K8sError::InvalidArgument(format!(
                "--executors must be 0 or more, not {}",
                self.executors
            )));
        }
        Ok(ClusterManifests {
            scheduler: self.scheduler_deployment()?,
            service: self.scheduler_service(),
            executors: self.executor_deployment()?,
        })
    }

    fn metadata(&self, name: String, component: Component) -> ObjectMeta {
        ObjectMeta {
            name: Some(name),
            namespace: self.namespace.clone(),
            labels: Some(all_labels(&self.name, component)),
            ..ObjectMeta::default()
        }
    }

    fn scheduler_deployment(&self) -> Result<Deployment> {
        let container = Container {
            name: Component::Scheduler.as_str().into(),
            image: Some(self.image.clone()),
            args: Some(vec!["scheduler".into()]),
            env: Some(vec![
                env("BALLISTA_BIND", "0.0.0.0"),
                env("BALLISTA_PORT", &SCHEDULER_PORT.to_string()),
            ]),
            ports: Some(vec![container_port(SCHEDULER_PORT)]),
            readiness_probe: Some(readiness_probe(SCHEDULER_PORT)),
            liveness_probe: Some(liveness_probe(SCHEDULER_PORT)),
            security_context: Some(container_security()),
            volume_mounts: Some(vec![mount("tmp", "/tmp")]),
            ..Container::default()
        };
        let pod = merge_pod(
            self.scheduler_template.clone(),
            container,
            vec![empty_dir("tmp")],
            &self.name,
            Component::Scheduler,
            "--scheduler-template",
        )?;
        Ok(Deployment {
            metadata: self.metadata(scheduler_name(&self.name), Component::Scheduler),
            spec: Some(DeploymentSpec {
                replicas: Some(1),
                selector: LabelSelector {
                    match_labels: Some(labels(&self.name, Some(Component::Scheduler))),
                    ..LabelSelector::default()
                },
                strategy: Some(DeploymentStrategy {
                    type_: Some("Recreate".into()),
                    ..DeploymentStrategy::default()
                }),
                template: pod,
                ..DeploymentSpec::default()
            }),
            ..Deployment::default()
        })
    }

    fn scheduler_service(&self) -> Service {
        Service {
            metadata: self.metadata(scheduler_name(&self.name), Component::Scheduler),
            spec: Some(ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(labels(&self.name, Some(Component::Scheduler))),
                ports: Some(vec![ServicePort {
                    name: Some("flight".into()),
                    port: SCHEDULER_PORT,
                    target_port: Some(IntOrString::String("flight".into())),
                    protocol: Some("TCP".into()),
                    ..ServicePort::default()
                }]),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        }
    }

    fn executor_deployment(&self) -> Result<Deployment> {
        let mut envs = vec![
            env("BALLISTA_SCHEDULER_URL", &scheduler_url(&self.name)),
            env("BALLISTA_BIND", "0.0.0.0"),
            env("BALLISTA_PORT", &EXECUTOR_PORT.to_string()),
            // Peers and clients reach an executor by its pod IP: executors
            // are not behind a Service (each one holds its own shuffle data).
            EnvVar {
                name: "BALLISTA_ADVERTISE_HOST".into(),
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector {
                        field_path: "status.podIP".into(),
                        ..ObjectFieldSelector::default()
                    }),
                    ..EnvVarSource::default()
                }),
                ..EnvVar::default()
            },
            env("BALLISTA_WORK_DIR", WORK_DIR),
        ];
        let mut resources = BTreeMap::new();
        if let Some(cpu) = &self.cpu {
            envs.push(env("BALLISTA_SLOTS", &cpu.slots.to_string()));
            resources.insert("cpu".to_string(), Quantity(cpu.quantity.clone()));
        }
        if let Some(memory) = self.memory {
            envs.push(env(
                "BALLISTA_MEMORY_LIMIT",
                &memory.pool_bytes().to_string(),
            ));
            resources.insert("memory".to_string(), Quantity(memory.quantity()));
        }
        let container = Container {
            name: Component::Executor.as_str().into(),
            image: Some(self.image.clone()),
            args: Some(vec!["executor".into()]),
            env: Some(envs),
            ports: Some(vec![container_port(EXECUTOR_PORT)]),
            readiness_probe: Some(readiness_probe(EXECUTOR_PORT)),
            liveness_probe: Some(liveness_probe(EXECUTOR_PORT)),
            // Requests equal limits: the Guaranteed QoS class, so an
            // executor is the last to be evicted under node pressure.
            resources: (!resources.is_empty()).then(|| ResourceRequirements {
                requests: Some(resources.clone()),
                limits: Some(resources),
                ..ResourceRequirements::default()
            }),
            security_context: Some(container_security()),
            volume_mounts: Some(vec![mount("work", WORK_DIR), mount("tmp", "/tmp")]),
            ..Container::default()
        };
        let pod = merge_pod(
            self.executor_template.clone(),
            container,
            vec![empty_dir("work"), empty_dir("tmp")],
            &self.name,
            Component::Executor,
            "--executor-template",
        )?;
        Ok(Deployment {
            metadata: self.metadata(executor_name(&self.name), Component::Executor),
            spec: Some(DeploymentSpec {
                replicas: Some(self.executors),
                selector: LabelSelector {
                    match_labels: Some(labels(&self.name, Some(Component::Executor))),
                    ..LabelSelector::default()
                },
                template: pod,
                ..DeploymentSpec::default()
            }),
            ..Deployment::default()
        })
    }
}

/// The objects of one cluster, in creation order.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterManifests {
    /// The scheduler Deployment: the owner of everything else.
    pub scheduler: Deployment,
    /// The scheduler's Service.
    pub service: Service,
    /// The executor Deployment.
    pub executors: Deployment,
}

/// What a query job runs.
#[derive(Debug, Clone)]
pub enum RunSource {
    /// SQL statements, run by `ballista sql -c` in the image.
    Sql(String),
    /// A user's own Job (an application built on a Ballista client); it is
    /// told the scheduler by `BALLISTA_SCHEDULER_URL`.
    Template(Box<Job>),
}

/// What `run` builds.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// The cluster to run against.
    pub cluster: String,
    /// Namespace written into the Job (as in [`ClusterSpec::namespace`]).
    pub namespace: Option<String>,
    /// Image of the `ballista sql` client, and of template containers that
    /// name none.
    pub image: String,
    /// SQL or a Job template.
    pub source: RunSource,
}

/// Finished Jobs (and their pods and logs) are kept this long, then
/// Kubernetes removes them.
pub const JOB_TTL_SECONDS: i32 = 3600;

impl RunSpec {
    /// Builds the Job. Its name is generated by the API server
    /// (`CLUSTER-run-xxxxx`) unless a template names it.
    pub fn job(&self) -> Result<Job> {
        validate_cluster_name(&self.cluster)?;
        let url = scheduler_url(&self.cluster);
        let mut job = match &self.source {
            RunSource::Sql(sql) => {
                if sql.trim().is_empty() {
                    return Err(K8sError::InvalidArgument(
                        "the SQL to run is empty: give statements with --sql or -f".into(),
                    ));
                }
                let container = Container {
                    name: Component::Client.as_str().into(),
                    image: Some(self.image.clone()),
                    args: Some(vec![
                        "sql".into(),
                        "--format".into(),
                        "table".into(),
                        "-c".into(),
                        sql.clone(),
                    ]),
                    security_context: Some(container_security()),
                    volume_mounts: Some(vec![mount("tmp", "/tmp")]),
                    ..Container::default()
                };
                Job {
                    spec: Some(JobSpec {
                        template: PodTemplateSpec {
                            metadata: None,
                            spec: Some(PodSpec {
                                containers: vec![container],
                                volumes: Some(vec![empty_dir("tmp")]),
                                security_context: Some(pod_security()),
                                ..PodSpec::default()
                            }),
                        },
                        ..JobSpec::default()
                    }),
                    ..Job::default()
                }
            }
            RunSource::Template(job) => (**job).clone(),
        };
        let meta = &mut job.metadata;
        if meta.name.is_none() && meta.generate_name.is_none() {
            meta.generate_name = Some(format!("{}-run-", self.cluster));
        }
        if self.namespace.is_some() {
            meta.namespace = self.namespace.clone();
        }
        extend_labels(
            &mut meta.labels,
            all_labels(&self.cluster, Component::Client),
        );
        let spec = job.spec.get_or_insert_with(JobSpec::default);
        // A failed query is reported, not retried: a retry would run the
        // same statements (and their DDL) again.
        spec.backoff_limit.get_or_insert(0);
        spec.ttl_seconds_after_finished
            .get_or_insert(JOB_TTL_SECONDS);
        let template = &mut spec.template;
        let pod_meta = template.metadata.get_or_insert_with(ObjectMeta::default);
        extend_labels(
            &mut pod_meta.labels,
            all_labels(&self.cluster, Component::Client),
        );
        let pod = template.spec.get_or_insert_with(PodSpec::default);
        if pod.containers.is_empty() {
            return Err(K8sError::InvalidArgument(
                "the job template has no containers (spec.template.spec.containers)".into(),
            ));
        }
        pod.restart_policy.get_or_insert_with(|| "Never".into());
        pod.automount_service_account_token.get_or_insert(false);
        for container in &mut pod.containers {
            container.image.get_or_insert_with(|| self.image.clone());
            let envs = container.env.get_or_insert_with(Vec::new);
            if !envs.iter().any(|e| e.name == "BALLISTA_SCHEDULER_URL") {
                envs.push(env("BALLISTA_SCHEDULER_URL", &url));
            }
        }
        Ok(job)
    }
}

/// The owner reference to the scheduler Deployment that the Service, the
/// executor Deployment and every Job carry: deleting the scheduler
/// Deployment lets Kubernetes' garbage collector delete them all.
/// `blockOwnerDeletion` makes a foreground delete of the scheduler wait for
/// them.
pub fn owner_reference(scheduler: &Deployment) -> Result<OwnerReference> {
    let meta = &scheduler.metadata;
    match (&meta.name, &meta.uid) {
        (Some(name), Some(uid)) => Ok(OwnerReference {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: name.clone(),
            uid: uid.clone(),
            block_owner_deletion: Some(true),
            controller: Some(false),
        }),
        _ => Err(K8sError::InvalidArgument(format!(
            "the scheduler Deployment {:?} has no name or UID (is it created?)",
            meta.name
        ))),
    }
}

/// Adds `owner` to an object's owner references.
pub fn set_owner(meta: &mut ObjectMeta, owner: OwnerReference) {
    meta.owner_references
        .get_or_insert_with(Vec::new)
        .push(owner);
}

/// Builds a component's pod from an optional user template and the
/// container Ballista needs. The rules (written down in
/// docs/kubernetes.md): the template's container named after the component
/// (`scheduler` / `executor`) is the base of the Ballista container, else
/// the Ballista container comes first; other containers stay as they are.
/// Ballista sets the base container's image, args, ports, probes and its
/// `BALLISTA_*` variables (other variables stay), adds its mounts and
/// volumes unless the template has ones of the same name, and keeps the
/// template's resources and security contexts unless it has none (then
/// Ballista's apply; `--cpu` / `--memory` always win). Labels are merged,
/// Ballista's winning.
fn merge_pod(
    template: Option<PodTemplateSpec>,
    ours: Container,
    our_volumes: Vec<Volume>,
    cluster: &str,
    component: Component,
    flag: &str,
) -> Result<PodTemplateSpec> {
    let Some(template) = template else {
        return Ok(PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(all_labels(cluster, component)),
                ..ObjectMeta::default()
            }),
            spec: Some(PodSpec {
                containers: vec![ours],
                volumes: Some(our_volumes),
                security_context: Some(pod_security()),
                automount_service_account_token: Some(false),
                ..PodSpec::default()
            }),
        });
    };
    let mut meta = template.metadata.unwrap_or_default();
    extend_labels(&mut meta.labels, all_labels(cluster, component));
    let mut pod = template.spec.unwrap_or_default();
    if let Some(policy) = &pod.restart_policy
        && policy != "Always"
    {
        return Err(K8sError::InvalidArgument(format!(
            "{flag}: restartPolicy `{policy}` is not allowed in a Deployment; remove it"
        )));
    }
    let index = match pod.containers.iter().position(|c| c.name == ours.name) {
        Some(index) => index,
        None => {
            pod.containers.insert(0, Container::default());
            0
        }
    };
    let base = &mut pod.containers[index];
    base.name = ours.name;
    base.image = ours.image;
    base.args = ours.args;
    base.command = None;
    base.ports = ours.ports;
    base.readiness_probe = ours.readiness_probe;
    base.liveness_probe = ours.liveness_probe;
    let our_env = ours.env.unwrap_or_default();
    let mut envs: Vec<EnvVar> = base
        .env
        .take()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| !our_env.iter().any(|o| o.name == e.name))
        .collect();
    envs.extend(our_env);
    base.env = Some(envs);
    match (base.resources.as_mut(), ours.resources) {
        (Some(theirs), Some(ours)) => {
            for (field, values) in [
                (&mut theirs.requests, ours.requests),
                (&mut theirs.limits, ours.limits),
            ] {
                field
                    .get_or_insert_with(BTreeMap::new)
                    .extend(values.unwrap_or_default());
            }
        }
        (None, ours) => base.resources = ours,
        (Some(_), None) => {}
    }
    if base.security_context.is_none() {
        base.security_context = ours.security_context;
    }
    let mounts = base.volume_mounts.get_or_insert_with(Vec::new);
    for mount in ours.volume_mounts.unwrap_or_default() {
        if !mounts
            .iter()
            .any(|m| m.name == mount.name || m.mount_path == mount.mount_path)
        {
            mounts.push(mount);
        }
    }
    let volumes = pod.volumes.get_or_insert_with(Vec::new);
    for volume in our_volumes {
        if !volumes.iter().any(|v| v.name == volume.name) {
            volumes.push(volume);
        }
    }
    pod.security_context.get_or_insert_with(pod_security);
    pod.automount_service_account_token.get_or_insert(false);
    Ok(PodTemplateSpec {
        metadata: Some(meta),
        spec: Some(pod),
    })
}

/// The labels of one component, plus `managed-by`.
fn all_labels(cluster: &str, component: Component) -> BTreeMap<String, String> {
    let mut all = labels(cluster, Some(component));
    all.insert(label::MANAGED_BY.into(), "ballista-k8s".into());
    all
}

fn extend_labels(labels: &mut Option<BTreeMap<String, String>>, ours: BTreeMap<String, String>) {
    labels.get_or_insert_with(BTreeMap::new).extend(ours);
}

fn env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    }
}

fn container_port(port: i32) -> ContainerPort {
    ContainerPort {
        name: Some("flight".into()),
        container_port: port,
        protocol: Some("TCP".into()),
        ..ContainerPort::default()
    }
}

/// Ready once the Flight server answers gRPC health (it binds before
/// registering, and registration retries in the background), so readiness
/// never waits on the scheduler: no executor can be stuck unready because
/// the scheduler is, or the other way round.
fn readiness_probe(port: i32) -> Probe {
    Probe {
        grpc: Some(GRPCAction {
            port,
            service: None,
        }),
        period_seconds: Some(5),
        failure_threshold: Some(3),
        ..Probe::default()
    }
}

/// Restarted after 30 s without an answer: a generous bound, since a busy
/// executor must still answer (health calls do not queue behind tasks).
fn liveness_probe(port: i32) -> Probe {
    Probe {
        grpc: Some(GRPCAction {
            port,
            service: None,
        }),
        initial_delay_seconds: Some(5),
        period_seconds: Some(10),
        timeout_seconds: Some(5),
        failure_threshold: Some(3),
        ..Probe::default()
    }
}

fn pod_security() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(USER_ID),
        run_as_group: Some(USER_ID),
        fs_group: Some(USER_ID),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    }
}

fn container_security() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Capabilities::default()
        }),
        ..SecurityContext::default()
    }
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        ..VolumeMount::default()
    }
}

fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names_are_checked() {
        for good in ["nyctaxi", "a", "ballista-1", &"a".repeat(53)] {
            assert!(validate_cluster_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Nyc", "1abc", "a_b", "abc-", &"a".repeat(54), "a.b"] {
            let err = validate_cluster_name(bad).unwrap_err().to_string();
            assert!(err.contains("not a valid cluster name"), "{bad}: {err}");
        }
    }

    #[test]
    fn cpu_and_memory_parse() {
        let cpu: Cpu = "500m".parse().unwrap();
        assert_eq!((cpu.quantity.as_str(), cpu.slots), ("500m", 1));
        assert_eq!("1.5".parse::<Cpu>().unwrap().slots, 2);
        assert_eq!("4".parse::<Cpu>().unwrap().slots, 4);
        for bad in ["0", "-1", "two", "1.5m", ""] {
            assert!(bad.parse::<Cpu>().is_err(), "{bad}");
        }
        let memory: Memory = "4GiB".parse().unwrap();
        assert_eq!(memory, Memory(4 << 30));
        assert_eq!(memory.quantity(), "4Gi");
        assert_eq!(memory.pool_bytes(), 3 << 30);
        assert_eq!("512Mi".parse::<Memory>().unwrap().quantity(), "512Mi");
        assert_eq!("1GB".parse::<Memory>().unwrap().quantity(), "1000000000");
        assert!(
            "1MiB"
                .parse::<Memory>()
                .unwrap_err()
                .contains("at least 64MiB")
        );
        assert!(
            "4 parsecs"
                .parse::<Memory>()
                .unwrap_err()
                .contains("unknown unit")
        );
    }

    #[test]
    fn a_template_container_is_the_base_of_ours() {
        let template: PodTemplateSpec = serde_json::from_value(serde_json::json!({
            "metadata": {"labels": {"team": "data", "app.kubernetes.io/instance": "other"}},
            "spec": {
                "nodeSelector": {"disk": "ssd"},
                "containers": [
                    {"name": "sidecar", "image": "busybox"},
                    {"name": "executor", "image": "ignored", "command": ["ignored"],
                     "env": [{"name": "TZ", "value": "UTC"}, {"name": "BALLISTA_PORT", "value": "1"}],
                     "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
                ],
                "volumes": [{"name": "data", "hostPath": {"path": "/data"}}]
            }
        }))
        .unwrap();
        let mut spec = ClusterSpec::new("c", 2);
        spec.executor_template = Some(template);
        spec.memory = Some(Memory(1 << 30));
        let pod = spec.manifests().unwrap().executors.spec.unwrap().template;
        let labels = pod.metadata.unwrap().labels.unwrap();
        assert_eq!(labels["team"], "data");
        assert_eq!(labels[label::INSTANCE], "c");
        let pod = pod.spec.unwrap();
        assert_eq!(pod.node_selector.unwrap()["disk"], "ssd");
        assert_eq!(pod.containers[0].name, "sidecar");
        let executor = &pod.containers[1];
        assert_eq!(executor.image.as_deref(), Some(DEFAULT_IMAGE));
        assert_eq!(executor.command, None);
        let env = executor.env.as_ref().unwrap();
        let value = |name: &str| {
            env.iter()
                .find(|e| e.name == name)
                .and_then(|e| e.value.clone())
        };
        assert_eq!(value("TZ").as_deref(), Some("UTC"));
        assert_eq!(value("BALLISTA_PORT").as_deref(), Some("50051"));
        assert_eq!(env.iter().filter(|e| e.name == "BALLISTA_PORT").count(), 1);
        assert_eq!(value("BALLISTA_MEMORY_LIMIT").as_deref(), Some("805306368"));
        let mounts: Vec<_> = executor
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| m.mount_path.as_str())
            .collect();
        assert_eq!(mounts, ["/data", WORK_DIR, "/tmp"]);
        let volumes: Vec<_> = pod.volumes.iter().flatten().map(|v| &v.name).collect();
        assert_eq!(volumes, ["data", "work", "tmp"]);
    }

    #[test]
    fn a_deployment_template_cannot_say_never_restart() {
        let template: PodTemplateSpec = serde_json::from_value(serde_json::json!({
            "spec": {"restartPolicy": "Never", "containers": []}
        }))
        .unwrap();
        let mut spec = ClusterSpec::new("c", 1);
        spec.scheduler_template = Some(template);
        let err = spec.manifests().unwrap_err().to_string();
        assert!(
            err.contains("--scheduler-template: restartPolicy `Never`"),
            "{err}"
        );
    }

    #[test]
    fn a_job_template_is_completed() {
        let job: Job = serde_json::from_value(serde_json::json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "spec": {"template": {"spec": {"containers": [
                {"name": "app", "image": "my/app:1", "args": ["--rows", "10"]},
                {"name": "other", "env": [{"name": "BALLISTA_SCHEDULER_URL", "value": "x"}]}
            ]}}}
        }))
        .unwrap();
        let run = RunSpec {
            cluster: "c".into(),
            namespace: Some("ns".into()),
            image: "ballista:9".into(),
            source: RunSource::Template(Box::new(job)),
        };
        let job = run.job().unwrap();
        assert_eq!(job.metadata.generate_name.as_deref(), Some("c-run-"));
        assert_eq!(job.metadata.namespace.as_deref(), Some("ns"));
        let spec = job.spec.unwrap();
        assert_eq!(spec.backoff_limit, Some(0));
        let pod = spec.template.spec.unwrap();
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
        assert_eq!(pod.containers[0].image.as_deref(), Some("my/app:1"));
        assert_eq!(pod.containers[1].image.as_deref(), Some("ballista:9"));
        let url = |i: usize| pod.containers[i].env.as_ref().unwrap()[0].value.clone();
        assert_eq!(url(0).as_deref(), Some("grpc://c-scheduler:50050"));
        assert_eq!(url(1).as_deref(), Some("x"));
    }
}
