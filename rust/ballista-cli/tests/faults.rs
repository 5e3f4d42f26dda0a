//! Faults and errors on a real cluster of `ballista` processes on loopback.
//!
//! - An executor killed with SIGKILL in the middle of a multi-stage TPC-H
//!   query: the scheduler recomputes the shuffle output it held and the
//!   query still returns DataFusion's rows.
//! - Errors (no executor left, scheduler unreachable, bad SQL, unknown
//!   table or column, missing files, malformed Flight calls) come back
//!   within seconds with a message naming the cause, and the same cluster
//!   then runs the next query correctly.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use ballista_client::BallistaContext;
use ballista_proto::v1 as pb;
use support::{
    ProcessCluster, ballista_rows, is_query, query, reference_rows, register_tpch, same_rows,
    tpch_reference,
};

const SF: f64 = 0.1;
const PARTS: usize = 2;

/// Completed shuffle files (not result partitions, not temporary files) of
/// job `job_id` in an executor's work directory:
/// `<work_dir>/<job>/<stage>/<reduce>/<map>.arrow`.
fn shuffle_files(work_dir: &Path, job_id: &str) -> usize {
    let entries = |p: &Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(p)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    };
    let mut n = 0;
    for stage in entries(&work_dir.join(job_id)) {
        for reduce in entries(&stage) {
            if reduce.file_name().is_some_and(|n| n == "result") {
                continue;
            }
            n += entries(&reduce)
                .iter()
                .filter(|f| {
                    f.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| !n.starts_with('.') && n.ends_with(".arrow"))
                })
                .count();
        }
    }
    n
}

/// Tasks of a job whose latest attempt is not the first.
fn reruns(status: &pb::JobStatus) -> usize {
    status
        .tasks
        .iter()
        .filter(|t| t.task_id.as_ref().is_some_and(|id| id.attempt > 0))
        .count()
}

/// Q21 (joins, among them a semi and an anti join, an aggregate and a sort:
/// nine stages at these settings) runs on three executors; once a third of
/// its tasks are done, the executor holding the most finished map output
/// is killed with SIGKILL. The scheduler learns of the loss
/// (fetch failures, or the missing heartbeat), reruns the lost map tasks
/// and the readers after them, and the query returns DataFusion's rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_killed_mid_query_costs_time_not_correctness() {
    let n = 21;
    let sql = query(n).into_iter().find(|s| is_query(s)).unwrap();
    let df = tpch_reference(SF, PARTS).await;
    let expected = reference_rows(&df, &sql).await.unwrap();

    let mut cluster = ProcessCluster::start(3, 2, &[]);
    let ctx = BallistaContext::remote(&cluster.url).await.unwrap();
    register_tpch(&ctx, SF, PARTS).await;
    // Small batches and more partitions than slots make the query last long
    // enough to be caught in the middle, with map output spread over every
    // executor.
    ctx.set("datafusion.execution.batch_size", "256");
    ctx.set("datafusion.execution.target_partitions", "12");

    // Undisturbed run: the baseline time.
    let start = Instant::now();
    same_rows(
        "q21 undisturbed",
        &expected,
        &ballista_rows(&ctx, &sql).await.unwrap(),
    )
    .unwrap();
    let baseline = start.elapsed();
    let jobs = ctx.list_jobs().await.unwrap();
    let rerun_undisturbed = reruns(&ctx.job_status(&jobs[0].job_id).await.unwrap());
    eprintln!("q{n} undisturbed: {baseline:.2?}, {rerun_undisturbed} tasks run again");

    let run = {
        let (ctx, sql) = (ctx.clone(), sql.clone());
        tokio::spawn(async move {
            let start = Instant::now();
            (ballista_rows(&ctx, &sql).await, start.elapsed())
        })
    };
    // Wait until the job runs and some executor holds finished map output.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (job_id, victim) = loop {
        assert!(
            Instant::now() < deadline,
            "the job never wrote shuffle output"
        );
        assert!(
            !run.is_finished(),
            "the query ended before it could be disturbed"
        );
        let jobs = ctx.list_jobs().await.unwrap();
        let running = jobs
            .iter()
            .find(|j| j.state == pb::JobState::Running as i32);
        // A third of the tasks done: the first stages have finished and
        // their output is being read.
        if let Some(job) = running.filter(|j| {
            let p = j.progress.clone().unwrap_or_default();
            p.tasks_done > 0 && 3 * p.tasks_done >= p.tasks_total
        }) {
            let held: Vec<usize> = cluster
                .work_dirs
                .iter()
                .map(|d| shuffle_files(d.path(), &job.job_id))
                .collect();
            if let Some((i, _)) = held
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .max_by_key(|(_, n)| **n)
            {
                eprintln!("shuffle files per executor before the kill: {held:?}");
                break (job.job_id.clone(), i);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let before = ctx.job_status(&job_id).await.unwrap();
    let progress = before.progress.clone().unwrap_or_default();
    cluster.executors[victim].child.kill().unwrap();
    let killed_at = Instant::now();
    eprintln!(
        "killed executor-{victim} (SIGKILL) with job {job_id} at {}/{} tasks, {}/{} stages",
        progress.tasks_done, progress.tasks_total, progress.stages_done, progress.stages_total
    );
    assert_eq!(before.state, pb::JobState::Running as i32, "{before:?}");

    let (rows, elapsed) = run.await.unwrap();
    let recovered = killed_at.elapsed();
    same_rows("q21 after SIGKILL", &expected, &rows.unwrap()).unwrap();
    eprintln!("q{n} with an executor killed: {elapsed:.2?} ({recovered:.2?} after the kill)");

    // The kill cost work: more tasks ran again than in the undisturbed run
    // (where only a launch refused by a busy executor makes a new attempt).
    let after = ctx.job_status(&job_id).await.unwrap();
    assert_eq!(after.state, pb::JobState::Succeeded as i32, "{after:?}");
    let rerun = reruns(&after);
    eprintln!("tasks run again: {rerun}");
    assert!(
        rerun > rerun_undisturbed,
        "{rerun} tasks run again after the kill, {rerun_undisturbed} without: {after:?}"
    );
    assert!(
        recovered < Duration::from_secs(60),
        "recovery took {recovered:?}"
    );

    // The two executors left run the next query.
    same_rows(
        "q21 on the executors left",
        &expected,
        &ballista_rows(&ctx, &sql).await.unwrap(),
    )
    .unwrap();
}

/// Longest an error may take to come back: "within seconds". Generous, so
/// a loaded machine does not fail the test; the figures measured are
/// printed.
const ERROR_BOUND: Duration = Duration::from_secs(10);

/// Awaits `f`, which must fail within [`ERROR_BOUND`]; returns the error's
/// text. A hang fails the test instead of blocking it.
async fn expect_error<T: std::fmt::Debug>(
    what: &str,
    f: impl Future<Output = ballista_client::Result<T>>,
) -> String {
    let start = Instant::now();
    let outcome = tokio::time::timeout(ERROR_BOUND, f).await;
    let elapsed = start.elapsed();
    match outcome {
        Err(_) => panic!("{what}: no answer within {ERROR_BOUND:?}"),
        Ok(Ok(v)) => panic!("{what}: succeeded, expected an error: {v:?}"),
        Ok(Err(e)) => {
            eprintln!("{what}: error in {elapsed:.2?}: {e}");
            e.to_string()
        }
    }
}

/// Asserts that `message` contains every one of `parts`.
fn assert_names(what: &str, message: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            message.contains(part),
            "{what}: the error does not name `{part}`: {message}"
        );
    }
}

/// A small multi-stage query (join, aggregate) and its reference rows: run
/// after each error to show the cluster still serves.
const GOOD_QUERY: &str = "SELECT r_name, count(*) AS nations FROM nation \
                          JOIN region ON n_regionkey = r_regionkey GROUP BY r_name";

async fn assert_serves(ctx: &BallistaContext, expected: &[String], after: &str) {
    let start = Instant::now();
    let rows = ballista_rows(ctx, GOOD_QUERY)
        .await
        .unwrap_or_else(|e| panic!("after {after}, the next query failed: {e}"));
    same_rows(&format!("the query after {after}"), expected, &rows).unwrap();
    assert!(
        start.elapsed() < ERROR_BOUND,
        "after {after}, the next query took {:?}",
        start.elapsed()
    );
}

/// Each mistake a client can make comes back within seconds as an error
/// naming what is wrong, and the same cluster runs the next query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_are_quick_and_clear_and_the_cluster_keeps_serving() {
    let df = tpch_reference(SF, PARTS).await;
    let expected = reference_rows(&df, GOOD_QUERY).await.unwrap();
    let cluster = ProcessCluster::start(2, 2, &[]);
    let ctx = BallistaContext::remote(&cluster.url).await.unwrap();
    register_tpch(&ctx, SF, PARTS).await;
    assert_serves(&ctx, &expected, "start-up").await;

    // A scheduler that is not there: the address is named, no hang.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("grpc://127.0.0.1:{port}");
    let e = expect_error("unreachable scheduler", BallistaContext::remote(&dead)).await;
    assert_names("unreachable scheduler", &e, &["Unavailable", &dead]);
    assert_serves(&ctx, &expected, "an unreachable scheduler").await;

    let sql_errors: [(&str, &str, &[&str]); 3] = [
        // The parser's complaint, with the offending token.
        ("bad SQL", "SELEC n_name FROM nation", &["SQL", "SELEC"]),
        (
            "unknown table",
            "SELECT * FROM no_such_table",
            &["no_such_table"],
        ),
        (
            "unknown column",
            "SELECT no_such_column FROM nation",
            &["no_such_column", "n_name"],
        ),
    ];
    for (what, sql, names) in sql_errors {
        let e = expect_error(what, async { ctx.sql(sql).await?.collect().await }).await;
        assert_names(what, &e, names);
        assert_serves(&ctx, &expected, what).await;
    }

    // The same mistakes through the DataFrame API (a logical plan).
    let e = expect_error("unknown table (plan)", ctx.table("no_such_table").collect()).await;
    assert_names("unknown table (plan)", &e, &["no_such_table"]);
    let e = expect_error(
        "unknown column (plan)",
        ctx.table("nation")
            .select(vec![ballista_client::expr::col("no_such_column")])
            .collect(),
    )
    .await;
    assert_names("unknown column (plan)", &e, &["no_such_column", "n_name"]);
    assert_serves(&ctx, &expected, "plan errors").await;

    // A table over files that do not exist.
    let scratch = tempfile::tempdir().unwrap();
    let missing = scratch.path().join("no_such_dir");
    for location in [
        format!("{}/", missing.display()),
        format!("{}/t.parquet", missing.display()),
    ] {
        let what = format!("CREATE EXTERNAL TABLE on {location}");
        let e = expect_error(
            &what,
            ctx.sql(&format!(
                "CREATE EXTERNAL TABLE ghost STORED AS PARQUET LOCATION '{location}'"
            )),
        )
        .await;
        assert_names(&what, &e, &[missing.to_str().unwrap()]);
        assert_serves(&ctx, &expected, &what).await;
    }

    // A registered file deleted before the query.
    let doomed = scratch.path().join("doomed.parquet");
    let nation_file = std::fs::read_dir(support::tpch_data(SF, PARTS).join("nation"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "parquet"))
        .unwrap();
    std::fs::copy(&nation_file, &doomed).unwrap();
    ctx.register_parquet("doomed", doomed.to_str().unwrap())
        .await
        .unwrap();
    let rows = ballista_rows(&ctx, "SELECT count(*) FROM doomed").await;
    assert_eq!(rows, Ok(vec!["25".to_string()]));
    std::fs::remove_file(&doomed).unwrap();
    let e = expect_error("a deleted file", async {
        ctx.sql("SELECT n_name FROM doomed").await?.collect().await
    })
    .await;
    assert_names("a deleted file", &e, &["doomed.parquet"]);
    assert_serves(&ctx, &expected, "a deleted file").await;
}

/// Raw Flight calls the scheduler cannot make sense of are refused with a
/// status that says why; the scheduler stays up and serves the next query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_flight_calls_are_refused_and_the_scheduler_stays_up() {
    use arrow_flight::error::FlightError;
    use arrow_flight::{Action, FlightClient, FlightDescriptor, Ticket};
    use futures::TryStreamExt;
    use tonic::Code;

    let df = tpch_reference(SF, PARTS).await;
    let expected = reference_rows(&df, GOOD_QUERY).await.unwrap();
    let cluster = ProcessCluster::start(1, 2, &[]);
    let ctx = BallistaContext::remote(&cluster.url).await.unwrap();
    register_tpch(&ctx, SF, PARTS).await;
    let channel =
        tonic::transport::Endpoint::from_shared(cluster.url.replace("grpc://", "http://"))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let mut flight = FlightClient::new(channel);

    /// The status of a failed raw call; a success fails the test.
    fn status<T: std::fmt::Debug>(what: &str, r: Result<T, FlightError>) -> tonic::Status {
        match r {
            Err(FlightError::Tonic(s)) => {
                eprintln!("{what}: {:?}: {}", s.code(), s.message());
                *s
            }
            other => panic!("{what}: expected a gRPC status, got {other:?}"),
        }
    }

    // Bytes that are not protobuf; then valid protobuf that holds no query
    // (field 15, unknown to `ExecuteQuery`, as varint 1).
    let garbage = vec![0xff, 0xff, 0xff, 0xff, 0x0f, 0x42];
    let cases: [(&str, Vec<u8>, &str); 2] = [
        ("garbage command", garbage.clone(), "malformed ExecuteQuery"),
        (
            "command without a query",
            vec![0x78, 0x01],
            "ExecuteQuery.query",
        ),
    ];
    for (what, cmd, names) in cases {
        let start = Instant::now();
        let s = status(
            what,
            flight
                .get_flight_info(FlightDescriptor::new_cmd(cmd.clone()))
                .await,
        );
        assert_eq!(s.code(), Code::InvalidArgument, "{what}: {s:?}");
        assert!(s.message().contains(names), "{what}: {s:?}");
        let s = status(
            what,
            flight
                .poll_flight_info(FlightDescriptor::new_cmd(cmd))
                .await,
        );
        assert_eq!(s.code(), Code::InvalidArgument, "{what} (poll): {s:?}");
        assert!(
            start.elapsed() < ERROR_BOUND,
            "{what}: {:?}",
            start.elapsed()
        );
        assert_serves(&ctx, &expected, what).await;
    }

    // A ticket that is not a FetchPartition, and one for no job.
    let s = status(
        "garbage ticket",
        flight
            .do_get(Ticket::new(garbage.clone()))
            .await
            .map(|_| ()),
    );
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert!(s.message().contains("FetchPartition"), "{s:?}");

    // An action nobody serves: UNIMPLEMENTED, naming it and the valid ones.
    let s = status(
        "unknown action",
        flight
            .do_action(Action::new("drop_everything", garbage.clone()))
            .await
            .map(|_| ()),
    );
    assert_eq!(s.code(), Code::Unimplemented, "{s:?}");
    assert!(s.message().contains("drop_everything"), "{s:?}");
    assert!(s.message().contains("list_jobs"), "{s:?}");

    // A known action with a body that is not its message.
    let s = match flight
        .do_action(Action::new("job_status", garbage.clone()))
        .await
    {
        Ok(stream) => status("garbage action body", stream.try_collect::<Vec<_>>().await),
        Err(e) => status("garbage action body", Err::<(), _>(e)),
    };
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert!(s.message().contains("GetJobStatus"), "{s:?}");

    // Still up: the next query and the executor's heartbeats go on.
    assert_serves(&ctx, &expected, "malformed Flight calls").await;
}

/// When every executor is gone, a query fails within seconds saying so,
/// and the cluster serves again as soon as an executor joins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_executor_left_queries_fail_within_seconds() {
    let df = tpch_reference(SF, PARTS).await;
    let expected = reference_rows(&df, GOOD_QUERY).await.unwrap();
    let mut cluster = ProcessCluster::start_with(
        &["--executor-timeout", "2s", "--no-executor-timeout", "3s"],
        2,
        2,
        &[],
    );
    let ctx = BallistaContext::remote(&cluster.url).await.unwrap();
    register_tpch(&ctx, SF, PARTS).await;
    assert_serves(&ctx, &expected, "start-up").await;

    for executor in &mut cluster.executors {
        executor.child.kill().unwrap();
    }
    let e = expect_error("a query with every executor killed", async {
        ctx.sql(GOOD_QUERY).await?.collect().await
    })
    .await;
    assert_names("no executor", &e, &["no executor", "ballista executor"]);
    // The next one is refused at once: the scheduler has been without
    // executors for longer than the timeout.
    let start = Instant::now();
    let e = expect_error("a query with no executor", async {
        ctx.sql(GOOD_QUERY).await?.collect().await
    })
    .await;
    assert_names("no executor", &e, &["no executor"]);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );

    cluster.add_executor(2, &[]);
    assert_serves(&ctx, &expected, "an executor joined again").await;
}

/// A scheduler that dies under a connected client: the next call fails
/// within seconds naming the scheduler's address, rather than hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_gone_mid_session_is_reported_not_waited_for() {
    let mut cluster = ProcessCluster::start(1, 2, &[]);
    let ctx = BallistaContext::remote(&cluster.url).await.unwrap();
    assert_eq!(
        ballista_rows(&ctx, "SELECT 1 AS one").await,
        Ok(vec!["1".to_string()])
    );
    cluster.scheduler.child.kill().unwrap();
    let e = expect_error("scheduler killed", async {
        ctx.sql("SELECT 1 AS one").await?.collect().await
    })
    .await;
    assert_names("scheduler killed", &e, &["Unavailable", &cluster.url]);
}
