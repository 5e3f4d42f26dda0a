//! The Kubernetes API requests of `ballista k8s` create-cluster, status,
//! scale, run and delete-cluster, and their error paths.
//!
//! MOCK: these tests talk to a mock Kubernetes API server, because none can
//! run on the machines that build Ballista (no container runtime, no
//! kubelet, no etcd). The mock is a `tower::service_fn` behind a real
//! `kube::Client`: kube-rs builds, sends and decodes every request as it
//! would against a real API server; the mock only records each request
//! (method, path and query, content type, JSON body) and answers the next
//! canned reply of the test's script. Each test then asserts the exact
//! sequence of requests. Request bodies are compared with the golden
//! manifests of `tests/golden/` (checked by tests/render.rs), so what
//! create sends is what render prints, plus namespace and owner references.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ballista_k8s::K8sError;
use ballista_k8s::cli::{K8sCli, execute};
use ballista_k8s::client::{K8s, Waiting};
use bytes::Bytes;
use clap::Parser;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

/// One request as the mock saw it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: String,
    /// Path and query.
    uri: String,
    /// Content type of a request with a body.
    content_type: Option<String>,
    /// The JSON body, if any.
    body: Option<Value>,
}

/// A canned reply: status code and body (JSON, or text for logs).
#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    body: String,
}

fn ok(value: Value) -> Reply {
    reply(200, value)
}

fn reply(status: u16, value: Value) -> Reply {
    Reply {
        status,
        body: value.to_string(),
    }
}

fn text(status: u16, body: &str) -> Reply {
    Reply {
        status,
        body: body.to_string(),
    }
}

/// A Kubernetes `Status` failure, as the API server sends with 4xx codes.
fn failure(code: u16, reason: &str, message: &str) -> Reply {
    reply(
        code,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason, "code": code
        }),
    )
}

/// The mock API server: answers `replies` in order, records requests.
struct MockApi {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl MockApi {
    /// A `K8s` in namespace `ns` whose client talks to the mock.
    fn start(replies: Vec<Reply>) -> (Self, K8s) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let replies = Arc::new(Mutex::new(VecDeque::from(replies)));
        let record = Arc::clone(&seen);
        let service = tower::service_fn(move |request: Request<kube::client::Body>| {
            let record = Arc::clone(&record);
            let replies = Arc::clone(&replies);
            async move {
                let (parts, body) = request.into_parts();
                let bytes = body
                    .collect()
                    .await
                    .map_err(tower::BoxError::from)?
                    .to_bytes();
                let body = (!bytes.is_empty()).then(|| {
                    serde_json::from_slice::<Value>(&bytes)
                        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
                });
                record.lock().unwrap().push(Seen {
                    method: parts.method.to_string(),
                    uri: parts.uri.path_and_query().unwrap().to_string(),
                    content_type: body.as_ref().and_then(|_| {
                        parts
                            .headers
                            .get(http::header::CONTENT_TYPE)
                            .map(|v| v.to_str().unwrap().to_string())
                    }),
                    body,
                });
                let next = replies.lock().unwrap().pop_front();
                let Reply { status, body } = next.unwrap_or_else(|| Reply {
                    status: 500,
                    body: json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                        "message": "the mock has no reply left: unexpected request", "code": 500})
                    .to_string(),
                });
                Ok::<_, tower::BoxError>(
                    Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(body)))
                        .unwrap(),
                )
            }
        });
        let client = kube::Client::new(service, "default");
        (Self { seen }, K8s::new(client, Some("ns".into())))
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn get(uri: &str) -> Seen {
    Seen {
        method: "GET".into(),
        uri: uri.into(),
        content_type: None,
        body: None,
    }
}

fn with_body(method: &str, uri: &str, content_type: &str, body: Value) -> Seen {
    Seen {
        method: method.into(),
        uri: uri.into(),
        content_type: Some(content_type.into()),
        body: Some(body),
    }
}

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/ns/deployments";
const SCHEDULER: &str = "/apis/apps/v1/namespaces/ns/deployments/nyctaxi-scheduler";
const UID: &str = "2a7e8d5c-0000-4000-8000-000000000001";

/// Fast polls for the tests (the real default is every second).
const WAITING: Waiting = Waiting {
    poll: Duration::from_millis(1),
    timeout: Duration::from_secs(10),
};

/// Runs `ballista k8s <args>` against the mock; returns what it printed.
async fn run(k8s: &K8s, args: &[&str]) -> Result<String, K8sError> {
    let cli = K8sCli::try_parse_from(std::iter::once("ballista k8s").chain(args.iter().copied()))
        .unwrap();
    let mut out = Vec::new();
    execute(cli.command, k8s, &mut out, WAITING).await?;
    Ok(String::from_utf8(out).unwrap())
}

/// The documents of a golden manifest file, as JSON.
fn golden(name: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/golden/{name}",
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into())
    );
    serde_saphyr::from_multiple(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `object` in namespace `ns`, optionally owned by the scheduler.
fn placed(mut object: Value, owned: bool) -> Value {
    object["metadata"]["namespace"] = json!("ns");
    if owned {
        object["metadata"]["ownerReferences"] = json!([{
            "apiVersion": "apps/v1", "kind": "Deployment", "name": "nyctaxi-scheduler",
            "uid": UID, "controller": false, "blockOwnerDeletion": true
        }]);
    }
    object
}

/// What the API server answers to a create: the object with a UID.
fn created(mut object: Value) -> Reply {
    object["metadata"]["uid"] = json!(UID);
    reply(201, object)
}

/// The scheduler Deployment as a GET returns it.
fn scheduler_object() -> Value {
    let mut object = placed(golden("default.yaml")[0].clone(), false);
    object["metadata"]["uid"] = json!(UID);
    object["status"] = json!({"replicas": 1, "readyReplicas": 1});
    object
}

const CREATE: [&str; 5] = ["create-cluster", "--name", "nyctaxi", "--executors", "3"];

#[tokio::test]
async fn create_cluster_posts_the_scheduler_then_the_objects_it_owns() {
    let docs = golden("default.yaml");
    let (mock, k8s) = MockApi::start(vec![
        created(placed(docs[0].clone(), false)),
        created(placed(docs[1].clone(), true)),
        created(placed(docs[2].clone(), true)),
    ]);
    let out = run(&k8s, &CREATE).await.unwrap();
    assert_eq!(
        mock.requests(),
        [
            with_body(
                "POST",
                &format!("{DEPLOYMENTS}?"),
                "application/json",
                placed(docs[0].clone(), false)
            ),
            with_body(
                "POST",
                "/api/v1/namespaces/ns/services?",
                "application/json",
                placed(docs[1].clone(), true)
            ),
            with_body(
                "POST",
                &format!("{DEPLOYMENTS}?"),
                "application/json",
                placed(docs[2].clone(), true)
            ),
        ]
    );
    assert!(
        out.starts_with(
            "created cluster nyctaxi in namespace ns: deployment nyctaxi-scheduler, service \
             nyctaxi-scheduler (grpc://nyctaxi-scheduler:50050), deployment nyctaxi-executor \
             (3 executors)"
        ),
        "{out}"
    );
}

#[tokio::test]
async fn create_cluster_that_exists_says_how_to_replace_it() {
    let (mock, k8s) = MockApi::start(vec![failure(
        409,
        "AlreadyExists",
        "deployments.apps \"nyctaxi-scheduler\" already exists",
    )]);
    let err = run(&k8s, &CREATE).await.unwrap_err().to_string();
    assert_eq!(
        err,
        "cannot create deployment `nyctaxi-scheduler` in namespace `ns`: it already exists. \
         A Ballista cluster `nyctaxi` exists in namespace `ns`: delete it with `ballista k8s \
         delete-cluster --name nyctaxi`, or choose another --name"
    );
    // Nothing else was attempted.
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn create_cluster_forbidden_names_the_rbac_needed() {
    let message = "deployments.apps is forbidden: User \"dev\" cannot create resource \
                   \"deployments\" in API group \"apps\" in the namespace \"ns\"";
    let (mock, k8s) = MockApi::start(vec![failure(403, "Forbidden", message)]);
    let err = run(&k8s, &CREATE).await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "cannot create deployment `nyctaxi-scheduler` in namespace `ns`: forbidden by the \
             API server: {message}. The Kubernetes user running `ballista k8s` needs the Role \
             listed in docs/kubernetes.md (RBAC)"
        )
    );
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn create_cluster_deletes_the_scheduler_again_when_the_rest_fails() {
    let docs = golden("default.yaml");
    let (mock, k8s) = MockApi::start(vec![
        created(placed(docs[0].clone(), false)),
        failure(
            403,
            "Forbidden",
            "services is forbidden: User \"dev\" cannot create",
        ),
        ok(scheduler_object()),
    ]);
    let err = run(&k8s, &CREATE).await.unwrap_err().to_string();
    assert!(
        err.starts_with("cannot create service `nyctaxi-scheduler` in namespace `ns`: forbidden"),
        "{err}"
    );
    assert!(
        err.ends_with("; the deployment `nyctaxi-scheduler` created before was deleted again"),
        "{err}"
    );
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(
        requests[2],
        with_body(
            "DELETE",
            &format!("{SCHEDULER}?"),
            "application/json",
            json!({"propagationPolicy": "Foreground"})
        )
    );
}

#[tokio::test]
async fn create_cluster_refuses_bad_names_before_any_request() {
    let (mock, k8s) = MockApi::start(vec![]);
    let err = run(&k8s, &["create-cluster", "--name", "NYC_taxi"])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`NYC_taxi` is not a valid cluster name"),
        "{err}"
    );
    assert!(mock.requests().is_empty());
}

fn pod(name: &str, component: &str, phase: &str, ready: bool, ip: &str) -> Value {
    json!({
        "metadata": {"name": name, "labels": {"app.kubernetes.io/component": component}},
        "status": {"phase": phase, "podIP": ip, "containerStatuses": [{
            "name": component, "image": "ballista:0.1.0", "imageID": "", "ready": ready,
            "restartCount": 0, "state": {"running": {}}
        }]}
    })
}

#[tokio::test]
async fn status_reads_deployments_pods_and_jobs() {
    let mut executors = placed(golden("default.yaml")[2].clone(), true);
    executors["status"] = json!({"replicas": 3, "readyReplicas": 2});
    let (mock, k8s) = MockApi::start(vec![
        ok(scheduler_object()),
        ok(executors),
        ok(
            json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [
                pod("nyctaxi-scheduler-7d9-abc", "scheduler", "Running", true, "10.0.0.5"),
                pod("nyctaxi-executor-5f8-x1", "executor", "Running", true, "10.0.0.6"),
                pod("nyctaxi-executor-5f8-x2", "executor", "Pending", false, ""),
            ]}),
        ),
        ok(
            json!({"apiVersion": "batch/v1", "kind": "JobList", "metadata": {}, "items": [
                {"metadata": {"name": "nyctaxi-run-q1"}, "status": {"succeeded": 1,
                  "conditions": [{"type": "Complete", "status": "True"}]}},
                {"metadata": {"name": "nyctaxi-run-q2"}, "status": {"failed": 1,
                  "conditions": [{"type": "Failed", "status": "True",
                    "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}}
            ]}),
        ),
    ]);
    let out = run(&k8s, &["status", "--name", "nyctaxi"]).await.unwrap();
    let selector = "labelSelector=app.kubernetes.io%2Finstance%3Dnyctaxi%2Capp.kubernetes.io%2Fname%3Dballista";
    assert_eq!(
        mock.requests(),
        [
            get(SCHEDULER),
            get("/apis/apps/v1/namespaces/ns/deployments/nyctaxi-executor"),
            get(&format!("/api/v1/namespaces/ns/pods?&{selector}")),
            get(&format!("/apis/batch/v1/namespaces/ns/jobs?&{selector}")),
        ]
    );
    assert_eq!(
        out,
        "cluster nyctaxi in namespace ns (scheduler grpc://nyctaxi-scheduler:50050)\n\
         \x20 scheduler  1/1 ready\n\
         \x20 executors  2/3 ready\n\
         pods:\n\
         \x20 nyctaxi-scheduler-7d9-abc  scheduler  Running           ready      restarts 0    10.0.0.5\n\
         \x20 nyctaxi-executor-5f8-x1    executor   Running           ready      restarts 0    10.0.0.6\n\
         \x20 nyctaxi-executor-5f8-x2    executor   Pending           not ready  restarts 0    \n\
         jobs:\n\
         \x20 nyctaxi-run-q1  succeeded\n\
         \x20 nyctaxi-run-q2  failed: BackoffLimitExceeded: Job has reached the specified backoff limit\n"
    );
}

#[tokio::test]
async fn status_of_a_missing_cluster_says_which() {
    let (mock, k8s) = MockApi::start(vec![failure(
        404,
        "NotFound",
        "deployments.apps \"nyctaxi-scheduler\" not found",
    )]);
    let err = run(&k8s, &["status", "--name", "nyctaxi"])
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "cannot read the status of cluster `nyctaxi`: Ballista cluster `nyctaxi` (deployment \
         nyctaxi-scheduler) in namespace `ns` not found"
    );
    assert_eq!(mock.requests(), [get(SCHEDULER)]);
}

const SCALE: &str = "/apis/apps/v1/namespaces/ns/deployments/nyctaxi-executor/scale?";

#[tokio::test]
async fn scale_patches_the_executors_scale_subresource() {
    let (mock, k8s) = MockApi::start(vec![ok(json!({
        "apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": "nyctaxi-executor", "namespace": "ns"},
        "spec": {"replicas": 5}, "status": {"replicas": 3}
    }))]);
    let out = run(&k8s, &["scale", "--name", "nyctaxi", "--executors", "5"])
        .await
        .unwrap();
    assert_eq!(
        mock.requests(),
        [with_body(
            "PATCH",
            SCALE,
            "application/merge-patch+json",
            json!({"spec": {"replicas": 5}})
        )]
    );
    assert_eq!(out, "cluster nyctaxi scaled to 5 executors\n");
}

#[tokio::test]
async fn scale_of_a_missing_cluster_says_which() {
    let (_mock, k8s) = MockApi::start(vec![failure(404, "NotFound", "not found")]);
    let err = run(&k8s, &["scale", "--name", "nyctaxi", "--executors", "0"])
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "cannot scale the executors of cluster `nyctaxi` to 0: Ballista cluster `nyctaxi` \
         (deployment nyctaxi-executor) in namespace `ns` not found"
    );
}

const JOBS: &str = "/apis/batch/v1/namespaces/ns/jobs";
const JOB: &str = "nyctaxi-run-x7k2p";

/// The Job `run --sql SQL` posts: the one `render --sql SQL` prints, in
/// namespace ns and owned by the scheduler.
fn expected_job(sql: &str) -> Value {
    let cli = K8sCli::try_parse_from(["ballista k8s", "render", "--name", "nyctaxi", "--sql", sql])
        .unwrap();
    let ballista_k8s::cli::K8sCommand::Render(render) = cli.command else {
        panic!("expected render")
    };
    let docs: Vec<Value> = serde_saphyr::from_multiple(&render.render().unwrap()).unwrap();
    placed(docs[3].clone(), true)
}

fn job_pod(phase: &str, waiting: Option<(&str, &str)>) -> Value {
    let state = match waiting {
        Some((reason, message)) => json!({"waiting": {"reason": reason, "message": message}}),
        None => json!({"running": {}}),
    };
    json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [{
        "metadata": {"name": format!("{JOB}-pq8z4")},
        "spec": {"containers": [{"name": "client"}]},
        "status": {"phase": phase, "containerStatuses": [{
            "name": "client", "image": "ballista:0.1.0", "imageID": "", "ready": false,
            "restartCount": 0, "state": state
        }]}
    }]})
}

fn job_status(status: Value) -> Reply {
    ok(
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": JOB}, "status": status}),
    )
}

fn run_requests(sql: &str) -> Vec<Seen> {
    vec![
        get(SCHEDULER),
        with_body(
            "POST",
            &format!("{JOBS}?"),
            "application/json",
            expected_job(sql),
        ),
        get(&format!(
            "/api/v1/namespaces/ns/pods?&labelSelector=batch.kubernetes.io%2Fjob-name%3D{JOB}"
        )),
    ]
}

#[tokio::test]
async fn run_creates_an_owned_job_and_follows_its_log() {
    let sql = "SELECT 1 AS one";
    let mut created_job = expected_job(sql);
    created_job["metadata"]["name"] = json!(JOB);
    let log = "+-----+\n| one |\n+-----+\n| 1   |\n+-----+\n";
    let (mock, k8s) = MockApi::start(vec![
        ok(scheduler_object()),
        reply(201, created_job),
        ok(job_pod("Pending", Some(("ContainerCreating", "")))),
        ok(job_pod("Running", None)),
        text(200, log),
        job_status(json!({"active": 1})),
        job_status(json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]})),
    ]);
    let out = run(&k8s, &["run", "--name", "nyctaxi", "--sql", sql])
        .await
        .unwrap();
    let mut expected = run_requests(sql);
    expected.push(expected[2].clone());
    expected.push(get(&format!(
        "/api/v1/namespaces/ns/pods/{JOB}-pq8z4/log?&container=client&follow=true"
    )));
    expected.push(get(&format!("{JOBS}/{JOB}")));
    expected.push(get(&format!("{JOBS}/{JOB}")));
    assert_eq!(mock.requests(), expected);
    // The pod's log, line by line, is the command's output.
    assert_eq!(out, log);
}

#[tokio::test]
async fn run_reports_a_failed_job_with_its_reason() {
    let sql = "SELECT * FROM nowhere";
    let mut created_job = expected_job(sql);
    created_job["metadata"]["name"] = json!(JOB);
    let (mock, k8s) = MockApi::start(vec![
        ok(scheduler_object()),
        reply(201, created_job),
        ok(job_pod("Running", None)),
        text(
            200,
            "error: statement 1 (line 1) failed: table 'nowhere' not found\n",
        ),
        job_status(
            json!({"failed": 1, "conditions": [{"type": "Failed", "status": "True",
            "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}),
        ),
    ]);
    let err = run(&k8s, &["run", "--name", "nyctaxi", "--sql", sql])
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "job `{JOB}` failed: BackoffLimitExceeded: Job has reached the specified backoff limit"
        )
    );
    assert_eq!(mock.requests().len(), 5);
}

#[tokio::test]
async fn run_stops_at_an_image_that_cannot_be_pulled() {
    let sql = "SELECT 1";
    let mut created_job = expected_job(sql);
    created_job["metadata"]["name"] = json!(JOB);
    let (mock, k8s) = MockApi::start(vec![
        ok(scheduler_object()),
        reply(201, created_job),
        ok(job_pod(
            "Pending",
            Some((
                "ImagePullBackOff",
                "Back-off pulling image \"ballista:0.1.0\"",
            )),
        )),
    ]);
    let err = run(&k8s, &["run", "--name", "nyctaxi", "--sql", sql])
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "job `{JOB}` failed: its pod cannot start: ImagePullBackOff: Back-off pulling image \
             \"ballista:0.1.0\" (image `ballista:0.1.0`)"
        )
    );
    assert_eq!(mock.requests(), run_requests(sql));
}

#[tokio::test]
async fn run_on_a_missing_cluster_creates_nothing() {
    let (mock, k8s) = MockApi::start(vec![failure(404, "NotFound", "not found")]);
    let err = run(&k8s, &["run", "--name", "nyctaxi", "--sql", "SELECT 1"])
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "cannot run a job on cluster `nyctaxi`: Ballista cluster `nyctaxi` (deployment \
         nyctaxi-scheduler) in namespace `ns` not found"
    );
    assert_eq!(mock.requests(), [get(SCHEDULER)]);
}

#[tokio::test]
async fn run_detached_prints_the_job_name() {
    let sql = "SELECT 1";
    let mut created_job = expected_job(sql);
    created_job["metadata"]["name"] = json!(JOB);
    let (mock, k8s) = MockApi::start(vec![ok(scheduler_object()), reply(201, created_job)]);
    let out = run(
        &k8s,
        &["run", "--name", "nyctaxi", "--sql", sql, "--detach"],
    )
    .await
    .unwrap();
    assert_eq!(out, format!("{JOB}\n"));
    assert_eq!(mock.requests(), run_requests(sql)[..2]);
}

fn deleting() -> Reply {
    let mut object = scheduler_object();
    object["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    object["metadata"]["finalizers"] = json!(["foregroundDeletion"]);
    ok(object)
}

#[tokio::test]
async fn delete_cluster_deletes_the_scheduler_in_the_foreground_and_waits() {
    let (mock, k8s) = MockApi::start(vec![
        deleting(),
        deleting(),
        failure(
            404,
            "NotFound",
            "deployments.apps \"nyctaxi-scheduler\" not found",
        ),
    ]);
    let out = run(&k8s, &["delete-cluster", "--name", "nyctaxi"])
        .await
        .unwrap();
    assert_eq!(
        mock.requests(),
        [
            with_body(
                "DELETE",
                &format!("{SCHEDULER}?"),
                "application/json",
                json!({"propagationPolicy": "Foreground"})
            ),
            get(SCHEDULER),
            get(SCHEDULER),
        ]
    );
    assert_eq!(out, "deleted cluster nyctaxi\n");
}

#[tokio::test]
async fn delete_cluster_without_waiting_sends_one_request() {
    let (mock, k8s) = MockApi::start(vec![deleting()]);
    run(&k8s, &["delete-cluster", "--name", "nyctaxi", "--no-wait"])
        .await
        .unwrap();
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn delete_cluster_errors_are_clear() {
    let (_mock, k8s) = MockApi::start(vec![failure(404, "NotFound", "not found")]);
    let err = run(&k8s, &["delete-cluster", "--name", "nyctaxi"])
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "cannot delete cluster `nyctaxi`: Ballista cluster `nyctaxi` (deployment \
         nyctaxi-scheduler) in namespace `ns` not found"
    );
    let (_mock, k8s) = MockApi::start(vec![failure(
        403,
        "Forbidden",
        "deployments.apps \"nyctaxi-scheduler\" is forbidden: User \"dev\" cannot delete",
    )]);
    let err = run(&k8s, &["delete-cluster", "--name", "nyctaxi"])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "cannot delete cluster `nyctaxi`: forbidden by the API server: deployments.apps \
             \"nyctaxi-scheduler\" is forbidden: User \"dev\" cannot delete."
        ),
        "{err}"
    );
    // A cluster whose pods never stop: the wait ends with a timeout.
    let (_mock, k8s) = MockApi::start(vec![deleting(); 1000]);
    let err = run(
        &k8s,
        &["delete-cluster", "--name", "nyctaxi", "--timeout", "50ms"],
    )
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "timed out after 50ms waiting for cluster `nyctaxi` to be deleted (its pods to stop)"
    );
}

#[tokio::test]
async fn other_api_errors_keep_the_servers_message() {
    let (_mock, k8s) = MockApi::start(vec![failure(
        422,
        "Invalid",
        "Deployment.apps \"nyctaxi-scheduler\" is invalid: spec.template.spec.containers[0].image: Required value",
    )]);
    let err = run(&k8s, &CREATE).await.unwrap_err().to_string();
    assert_eq!(
        err,
        "cannot create deployment `nyctaxi-scheduler` in namespace `ns`: the API server \
         answered 422 Invalid: Deployment.apps \"nyctaxi-scheduler\" is invalid: \
         spec.template.spec.containers[0].image: Required value"
    );
}

/// Not the mock: a real kube client whose API server address has nothing
/// listening. The command fails at once, saying what it was doing.
#[tokio::test]
async fn an_unreachable_api_server_fails_clearly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().unwrap());
    let k8s = K8s::new(kube::Client::try_from(config).unwrap(), Some("ns".into()));
    let err = run(&k8s, &["status", "--name", "nyctaxi"])
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("cannot read the status of cluster `nyctaxi`: "),
        "{text}"
    );
    assert!(matches!(err, K8sError::Client { .. }), "{text}");
    // The cause is named, not just "client error (Connect)".
    assert!(text.contains("Connection refused"), "{text}");
}
