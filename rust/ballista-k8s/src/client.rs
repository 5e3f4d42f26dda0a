//! The Kubernetes API calls of `ballista k8s`, over a [`kube::Client`].
//!
//! Each operation is a short, fixed sequence of requests (the tests in
//! `tests/client.rs` pin them): no watches, no controllers. Waiting is
//! polling at [`Waiting::poll`], bounded by [`Waiting::timeout`].

use std::fmt;
use std::io::Write;
use std::time::{Duration, Instant};

use futures::{AsyncBufReadExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{Api, DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams};

use crate::error::{K8sError, Result};
use crate::manifests::{
    self, ClusterSpec, Component, RunSpec, executor_name, label, labels, owner_reference,
    scheduler_name, selector, set_owner,
};

/// How often and how long to wait for something to happen.
#[derive(Debug, Clone, Copy)]
pub struct Waiting {
    /// Pause between two checks.
    pub poll: Duration,
    /// Give up after this long.
    pub timeout: Duration,
}

impl Default for Waiting {
    /// Check every second, for five minutes (pulling an image can be slow).
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            timeout: Duration::from_secs(300),
        }
    }
}

/// Ballista clusters in one namespace of one Kubernetes cluster.
#[derive(Clone)]
pub struct K8s {
    client: kube::Client,
    namespace: String,
}

impl fmt::Debug for K8s {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("K8s")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// What `create-cluster` created.
#[derive(Debug, Clone)]
pub struct CreatedCluster {
    /// The scheduler Deployment as the API server returned it.
    pub scheduler: Deployment,
    /// The scheduler Service.
    pub service: Service,
    /// The executor Deployment.
    pub executors: Deployment,
}

impl K8s {
    /// Connects with the local kubeconfig (or the in-cluster service
    /// account), in `namespace` or the kubeconfig's default namespace.
    pub async fn connect(namespace: Option<String>) -> Result<Self> {
        let client = kube::Client::try_default().await.map_err(|e| {
            K8sError::client(
                "load the Kubernetes configuration (KUBECONFIG, ~/.kube/config or the \
                     in-cluster service account)",
                e,
            )
        })?;
        Ok(Self::new(client, namespace))
    }

    /// Uses `client` in `namespace`, or in the client's default namespace.
    pub fn new(client: kube::Client, namespace: Option<String>) -> Self {
        let namespace = namespace.unwrap_or_else(|| client.default_namespace().to_string());
        Self { client, namespace }
    }

    /// The namespace this works in.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn missing_cluster(&self, cluster: &str) -> String {
        format!(
            "Ballista cluster `{cluster}` (deployment {}) in namespace `{}`",
            scheduler_name(cluster),
            self.namespace
        )
    }

    /// Reads the scheduler Deployment, the root of cluster `cluster`.
    async fn scheduler(&self, cluster: &str, action: &str) -> Result<Deployment> {
        self.api::<Deployment>()
            .get(&scheduler_name(cluster))
            .await
            .map_err(|e| K8sError::from_kube(action, self.missing_cluster(cluster), "", e))
    }

    /// Creates the cluster: the scheduler Deployment first, then, owned by
    /// it, its Service and the executor Deployment. If a later object
    /// cannot be created, the scheduler Deployment is deleted again (which
    /// removes whatever it owns), so a failed create leaves nothing behind.
    pub async fn create_cluster(&self, spec: &ClusterSpec) -> Result<CreatedCluster> {
        let mut spec = spec.clone();
        spec.namespace = Some(self.namespace.clone());
        let objects = spec.manifests()?;
        let name = &spec.name;
        let ns = &self.namespace;
        let exists_hint = format!(
            "A Ballista cluster `{name}` exists in namespace `{ns}`: delete it with \
             `ballista k8s delete-cluster --name {name}`, or choose another --name"
        );
        let post = PostParams::default();
        let deployments = self.api::<Deployment>();
        let scheduler = deployments
            .create(&post, &objects.scheduler)
            .await
            .map_err(|e| {
                K8sError::from_kube(
                    format!(
                        "create deployment `{}` in namespace `{ns}`",
                        scheduler_name(name)
                    ),
                    format!("namespace `{ns}`"),
                    exists_hint.clone(),
                    e,
                )
            })?;
        let rest = async {
            let owner = owner_reference(&scheduler)?;
            let mut service = objects.service;
            set_owner(&mut service.metadata, owner.clone());
            let service = self
                .api::<Service>()
                .create(&post, &service)
                .await
                .map_err(|e| {
                    K8sError::from_kube(
                        format!(
                            "create service `{}` in namespace `{ns}`",
                            scheduler_name(name)
                        ),
                        format!("namespace `{ns}`"),
                        exists_hint.clone(),
                        e,
                    )
                })?;
            let mut executors = objects.executors;
            set_owner(&mut executors.metadata, owner);
            let executors = deployments.create(&post, &executors).await.map_err(|e| {
                K8sError::from_kube(
                    format!(
                        "create deployment `{}` in namespace `{ns}`",
                        executor_name(name)
                    ),
                    format!("namespace `{ns}`"),
                    exists_hint.clone(),
                    e,
                )
            })?;
            Ok::<_, K8sError>((service, executors))
        };
        match rest.await {
            Ok((service, executors)) => Ok(CreatedCluster {
                scheduler,
                service,
                executors,
            }),
            Err(source) => {
                let cleanup = match deployments
                    .delete(&scheduler_name(name), &DeleteParams::foreground())
                    .await
                {
                    Ok(_) => format!(
                        "the deployment `{}` created before was deleted again",
                        scheduler_name(name)
                    ),
                    Err(e) => format!(
                        "deleting the deployment `{}` created before failed too ({e}): run \
                         `ballista k8s delete-cluster --name {name}`",
                        scheduler_name(name)
                    ),
                };
                Err(K8sError::PartlyCreated {
                    source: Box::new(source),
                    cleanup,
                })
            }
        }
    }

    /// The state of cluster `cluster`: its Deployments, pods and Jobs.
    pub async fn status(&self, cluster: &str) -> Result<ClusterStatus> {
        let action = format!("read the status of cluster `{cluster}`");
        let scheduler = self.scheduler(cluster, &action).await?;
        let executors = self
            .api::<Deployment>()
            .get_opt(&executor_name(cluster))
            .await
            .map_err(|e| K8sError::from_kube(&action, "", "", e))?;
        let params = ListParams::default().labels(&selector(&labels(cluster, None)));
        let pods = self
            .api::<Pod>()
            .list(&params)
            .await
            .map_err(|e| K8sError::from_kube(&action, "", "", e))?;
        let jobs = self
            .api::<Job>()
            .list(&params)
            .await
            .map_err(|e| K8sError::from_kube(&action, "", "", e))?;
        Ok(ClusterStatus {
            name: cluster.to_string(),
            namespace: self.namespace.clone(),
            scheduler: DeploymentState::of(&scheduler),
            executors: executors.as_ref().map(DeploymentState::of),
            pods: pods.items.iter().map(PodState::of).collect(),
            jobs: jobs.items.iter().map(JobState::of).collect(),
        })
    }

    /// Sets the number of executors of cluster `cluster` (the executor
    /// Deployment's `scale` subresource).
    pub async fn scale(&self, cluster: &str, executors: i32) -> Result<()> {
        if executors < 0 {
            return Err(K8sError::InvalidArgument(format!(
                "--executors must be 0 or more, not {executors}"
            )));
        }
        let patch = serde_json::json!({ "spec": { "replicas": executors } });
        self.api::<Deployment>()
            .patch_scale(
                &executor_name(cluster),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
            .map_err(|e| {
                K8sError::from_kube(
                    format!("scale the executors of cluster `{cluster}` to {executors}"),
                    format!(
                        "Ballista cluster `{cluster}` (deployment {}) in namespace `{}`",
                        executor_name(cluster),
                        self.namespace
                    ),
                    "",
                    e,
                )
            })?;
        Ok(())
    }

    /// Creates the query Job of `run`, owned by the cluster's scheduler
    /// Deployment (so deleting the cluster removes it too). Returns the
    /// Job's name (generated by the API server).
    pub async fn submit(&self, run: &RunSpec) -> Result<String> {
        let mut run = run.clone();
        run.namespace = Some(self.namespace.clone());
        let mut job = run.job()?;
        let action = format!("run a job on cluster `{}`", run.cluster);
        let scheduler = self.scheduler(&run.cluster, &action).await?;
        set_owner(&mut job.metadata, owner_reference(&scheduler)?);
        let created = self
            .api::<Job>()
            .create(&PostParams::default(), &job)
            .await
            .map_err(|e| {
                K8sError::from_kube(
                    &action,
                    format!("namespace `{}`", self.namespace),
                    "A job of this name exists: rename it in the template, or delete it",
                    e,
                )
            })?;
        created.metadata.name.ok_or_else(|| {
            K8sError::InvalidArgument("the API server returned a job without a name".into())
        })
    }

    /// Follows Job `job`: waits for its pod to start, copies the pod's log
    /// to `out` as it is written, then waits for the Job's outcome. Fails
    /// if the Job fails, or its pod cannot start (a bad image, a missing
    /// secret) with the reason Kubernetes gives.
    pub async fn follow(&self, job: &str, out: &mut dyn Write, waiting: Waiting) -> Result<()> {
        let pods = self.api::<Pod>();
        let params = ListParams::default().labels(&format!("batch.kubernetes.io/job-name={job}"));
        let action = format!("follow job `{job}`");
        let start = Instant::now();
        let pod = loop {
            let list = pods
                .list(&params)
                .await
                .map_err(|e| K8sError::from_kube(&action, "", "", e))?;
            if let Some(pod) = list.items.into_iter().next() {
                let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
                if matches!(phase, Some("Running" | "Succeeded" | "Failed")) {
                    break pod;
                }
                if let Some(reason) = stuck_reason(&pod) {
                    return Err(K8sError::JobFailed {
                        job: job.to_string(),
                        reason,
                    });
                }
            }
            wait(start, waiting, &format!("the pod of job `{job}` to start")).await?;
        };
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let container = pod
            .spec
            .as_ref()
            .and_then(|s| s.containers.first())
            .map(|c| c.name.clone());
        let log_params = LogParams {
            follow: true,
            container,
            ..LogParams::default()
        };
        let mut lines = pods
            .log_stream(&pod_name, &log_params)
            .await
            .map_err(|e| {
                K8sError::from_kube(
                    format!("read the log of pod `{pod_name}`"),
                    format!("pod `{pod_name}`"),
                    "",
                    e,
                )
            })?
            .lines();
        while let Some(line) = lines
            .try_next()
            .await
            .map_err(|e| K8sError::io(format!("reading the log of pod `{pod_name}` failed"), e))?
        {
            writeln!(out, "{line}").map_err(|e| K8sError::io("cannot write the log", e))?;
        }
        let jobs = self.api::<Job>();
        let start = Instant::now();
        loop {
            let current = jobs
                .get(job)
                .await
                .map_err(|e| K8sError::from_kube(&action, format!("job `{job}`"), "", e))?;
            match JobState::of(&current).outcome {
                Outcome::Succeeded => return Ok(()),
                Outcome::Failed(reason) => {
                    return Err(K8sError::JobFailed {
                        job: job.to_string(),
                        reason,
                    });
                }
                Outcome::Running => {
                    wait(start, waiting, &format!("job `{job}` to finish")).await?;
                }
            }
        }
    }

    /// Deletes cluster `cluster`: its scheduler Deployment, in the
    /// foreground, so Kubernetes' garbage collector deletes everything it
    /// owns (Service, executors, Jobs, their pods) first. With `wait`, polls
    /// until the scheduler Deployment, the last to go, is gone.
    pub async fn delete_cluster(&self, cluster: &str, wait_for: Option<Waiting>) -> Result<()> {
        let deployments = self.api::<Deployment>();
        let name = scheduler_name(cluster);
        let action = format!("delete cluster `{cluster}`");
        deployments
            .delete(&name, &DeleteParams::foreground())
            .await
            .map_err(|e| K8sError::from_kube(&action, self.missing_cluster(cluster), "", e))?;
        let Some(waiting) = wait_for else {
            return Ok(());
        };
        let start = Instant::now();
        loop {
            let current = deployments
                .get_opt(&name)
                .await
                .map_err(|e| K8sError::from_kube(&action, "", "", e))?;
            if current.is_none() {
                return Ok(());
            }
            wait(
                start,
                waiting,
                &format!("cluster `{cluster}` to be deleted (its pods to stop)"),
            )
            .await?;
        }
    }
}

/// Sleeps one poll interval, or fails once `waiting.timeout` has passed
/// since `start`.
async fn wait(start: Instant, waiting: Waiting, what: &str) -> Result<()> {
    if start.elapsed() >= waiting.timeout {
        return Err(K8sError::Timeout {
            what: what.to_string(),
            after: waiting.timeout,
        });
    }
    tokio::time::sleep(waiting.poll).await;
    Ok(())
}

/// Why a pending pod will not start by itself, if it will not.
fn stuck_reason(pod: &Pod) -> Option<String> {
    const STUCK: [&str; 5] = [
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
    ];
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    statuses.iter().find_map(|status| {
        let waiting = status.state.as_ref()?.waiting.as_ref()?;
        let reason = waiting.reason.as_deref()?;
        STUCK.contains(&reason).then(|| {
            format!(
                "its pod cannot start: {reason}: {} (image `{}`)",
                waiting.message.as_deref().unwrap_or("no message"),
                status.image
            )
        })
    })
}

/// Replicas of a Deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentState {
    /// Replicas asked for.
    pub desired: i32,
    /// Replicas whose readiness probe passes.
    pub ready: i32,
}

impl DeploymentState {
    fn of(deployment: &Deployment) -> Self {
        Self {
            desired: deployment
                .spec
                .as_ref()
                .and_then(|s| s.replicas)
                .unwrap_or(1),
            ready: deployment
                .status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0),
        }
    }
}

/// One pod of a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct PodState {
    /// Pod name.
    pub name: String,
    /// `scheduler`, `executor` or `client`.
    pub component: String,
    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`, or why the
    /// container waits (`ImagePullBackOff`...).
    pub state: String,
    /// Whether all its containers are ready.
    pub ready: bool,
    /// Container restarts.
    pub restarts: i32,
    /// Pod IP, once it has one.
    pub ip: String,
}

impl PodState {
    fn of(pod: &Pod) -> Self {
        let status = pod.status.clone().unwrap_or_default();
        let containers = status.container_statuses.unwrap_or_default();
        let waiting = containers.iter().find_map(|c| {
            c.state
                .as_ref()?
                .waiting
                .as_ref()?
                .reason
                .clone()
                .filter(|r| r != "ContainerCreating")
        });
        Self {
            name: pod.metadata.name.clone().unwrap_or_default(),
            component: pod
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(label::COMPONENT).cloned())
                .unwrap_or_default(),
            state: waiting.unwrap_or_else(|| status.phase.unwrap_or_else(|| "Unknown".into())),
            ready: !containers.is_empty() && containers.iter().all(|c| c.ready),
            restarts: containers.iter().map(|c| c.restart_count).sum(),
            ip: status.pod_ip.unwrap_or_default(),
        }
    }
}

/// Where a Job stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not finished.
    Running,
    /// Its pod exited 0.
    Succeeded,
    /// It failed, with the reason from its conditions.
    Failed(String),
}

/// One query Job of a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct JobState {
    /// Job name.
    pub name: String,
    /// Where it stands.
    pub outcome: Outcome,
}

impl JobState {
    fn of(job: &Job) -> Self {
        let status = job.status.clone().unwrap_or_default();
        let condition = |kind: &str| {
            status
                .conditions
                .iter()
                .flatten()
                .find(|c| c.type_ == kind && c.status == "True")
                .cloned()
        };
        let outcome = if let Some(failed) = condition("Failed") {
            Outcome::Failed(format!(
                "{}: {}",
                failed.reason.unwrap_or_else(|| "Failed".into()),
                failed
                    .message
                    .unwrap_or_else(|| "the client exited with an error".into())
            ))
        } else if condition("Complete").is_some() || status.succeeded.unwrap_or(0) > 0 {
            Outcome::Succeeded
        } else if status.failed.unwrap_or(0) > 0 {
            Outcome::Failed("the client exited with an error (its log says why)".into())
        } else {
            Outcome::Running
        };
        Self {
            name: job.metadata.name.clone().unwrap_or_default(),
            outcome,
        }
    }
}

/// What `ballista k8s status` prints.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterStatus {
    /// Cluster name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// The scheduler Deployment.
    pub scheduler: DeploymentState,
    /// The executor Deployment (`None` if it is missing).
    pub executors: Option<DeploymentState>,
    /// Every pod of the cluster.
    pub pods: Vec<PodState>,
    /// Every query Job of the cluster.
    pub jobs: Vec<JobState>,
}

impl fmt::Display for ClusterStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cluster {} in namespace {} (scheduler {})",
            self.name,
            self.namespace,
            manifests::scheduler_url(&self.name)
        )?;
        let s = &self.scheduler;
        writeln!(f, "  scheduler  {}/{} ready", s.ready, s.desired)?;
        match &self.executors {
            Some(e) => writeln!(f, "  executors  {}/{} ready", e.ready, e.desired)?,
            None => writeln!(
                f,
                "  executors  missing (deployment {})",
                executor_name(&self.name)
            )?,
        }
        if !self.pods.is_empty() {
            writeln!(f, "pods:")?;
            let width = self.pods.iter().map(|p| p.name.len()).max().unwrap_or(0);
            for pod in &self.pods {
                writeln!(
                    f,
                    "  {:width$}  {:9}  {:16}  {:9}  restarts {:<3}  {}",
                    pod.name,
                    pod.component,
                    pod.state,
                    if pod.ready { "ready" } else { "not ready" },
                    pod.restarts,
                    pod.ip
                )?;
            }
        }
        if !self.jobs.is_empty() {
            writeln!(f, "jobs:")?;
            for job in &self.jobs {
                let outcome = match &job.outcome {
                    Outcome::Running => "running".to_string(),
                    Outcome::Succeeded => "succeeded".to_string(),
                    Outcome::Failed(reason) => format!("failed: {reason}"),
                };
                writeln!(f, "  {}  {outcome}", job.name)?;
            }
        }
        Ok(())
    }
}

/// Whether `component` pods of the cluster exist in a status (for tests
/// and callers that check one part).
pub fn pods_of(status: &ClusterStatus, component: Component) -> Vec<&PodState> {
    status
        .pods
        .iter()
        .filter(|p| p.component == component.as_str())
        .collect()
}
