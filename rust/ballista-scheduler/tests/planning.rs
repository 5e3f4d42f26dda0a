//! Stage cutting and the scheduler's task bookkeeping, on real DataFusion
//! plans over real Parquet files.

mod common;

use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use ballista_proto::v1 as pb;
use ballista_scheduler::planner::{StageOutput, encode_stage};
use ballista_scheduler::session::{Catalog, Planned, PlannedQuery};
use ballista_scheduler::state::{Job, MAX_TASK_FAILURES, SchedulerState};
use datafusion::parquet::arrow::ArrowWriter;

/// Writes two Parquet files of (k, v, s) rows and registers them as `t`.
async fn catalog_with_table(dir: &std::path::Path) -> Catalog {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("v", DataType::Int64, false),
        Field::new("s", DataType::Utf8, false),
    ]));
    for part in 0..2 {
        let n = 1000;
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from_iter_values((0..n).map(|i| i % 7))),
                Arc::new(Int64Array::from_iter_values((0..n).map(|i| i + part * n))),
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("s{}", i % 3)),
                )),
            ],
        )
        .unwrap();
        let file = std::fs::File::create(dir.join(format!("part-{part}.parquet"))).unwrap();
        let mut w = ArrowWriter::try_new(file, Arc::clone(&schema), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    common::catalog_over(dir).await
}

async fn plan(catalog: &Catalog, sql: &str) -> PlannedQuery {
    let query = pb::ExecuteQuery {
        query: Some(pb::execute_query::Query::Sql(sql.to_string())),
        settings: vec![],
        job_name: String::new(),
        session_id: String::new(),
        udfs: Vec::new(),
    };
    match catalog.plan(&query, 2).await.unwrap() {
        Planned::Query(q) => *q,
        Planned::CatalogChanged => panic!("expected a query"),
    }
}

#[tokio::test]
async fn aggregate_is_cut_at_the_hash_exchange_and_the_final_merge() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog_with_table(dir.path()).await;
    let q = plan(&catalog, "SELECT k, sum(v) FROM t GROUP BY k ORDER BY k").await;
    let stages = &q.stages.stages;
    // partial aggregate | final aggregate + sort | merge (result)
    assert_eq!(
        stages.len(),
        3,
        "{}",
        ballista_scheduler::planner::dag_text(&q.stages)
    );
    assert!(matches!(&stages[0].output, StageOutput::Shuffle(p) if p.partition_count() == 2));
    assert_eq!(stages[1].inputs, vec![1]);
    assert_eq!(stages[2].inputs, vec![2]);
    assert!(matches!(stages[2].output, StageOutput::Result));
    assert_eq!(q.stages.final_stage().partitions(), 1);
    // Every stage encodes in the spec with no engine extension.
    for stage in stages {
        let node = encode_stage(stage, "job", None).unwrap();
        assert_eq!(
            ballista_core::serde::physical::count_extension_nodes(&node),
            0
        );
    }
}

#[tokio::test]
async fn unknown_table_and_bad_sql_are_plan_errors() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog_with_table(dir.path()).await;
    let query = |sql: &str| pb::ExecuteQuery {
        query: Some(pb::execute_query::Query::Sql(sql.to_string())),
        settings: vec![],
        job_name: String::new(),
        session_id: String::new(),
        udfs: Vec::new(),
    };
    let err = catalog
        .plan(&query("SELECT * FROM nope"), 2)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    let err = catalog.plan(&query("SELEC 1"), 2).await.unwrap_err();
    assert!(err.to_string().contains("SELEC"), "{err}");
    let bad_setting = pb::ExecuteQuery {
        settings: vec![pb::KeyValue {
            key: "datafusion.no.such".into(),
            value: "1".into(),
        }],
        ..query("SELECT 1")
    };
    let err = catalog.plan(&bad_setting, 2).await.unwrap_err();
    assert!(err.to_string().contains("settings[0]"), "{err}");
}

#[tokio::test]
async fn ddl_changes_the_shared_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog_with_table(dir.path()).await;
    let create = pb::ExecuteQuery {
        query: Some(pb::execute_query::Query::Sql(format!(
            "CREATE EXTERNAL TABLE t2 STORED AS PARQUET LOCATION '{}/'",
            dir.path().display()
        ))),
        settings: vec![],
        job_name: String::new(),
        session_id: String::new(),
        udfs: Vec::new(),
    };
    assert!(matches!(
        catalog.plan(&create, 2).await.unwrap(),
        Planned::CatalogChanged
    ));
    assert!(catalog.table_names().contains(&"t2".to_string()));
}

fn in_session(session: &str, sql: &str) -> pb::ExecuteQuery {
    pb::ExecuteQuery {
        query: Some(pb::execute_query::Query::Sql(sql.to_string())),
        settings: vec![],
        job_name: String::new(),
        session_id: session.to_string(),
        udfs: Vec::new(),
    }
}

async fn plan_err(catalog: &Catalog, q: pb::ExecuteQuery) -> String {
    catalog.plan(&q, 2).await.unwrap_err().to_string()
}

#[tokio::test]
async fn views_belong_to_their_session_and_tables_to_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog_with_table(dir.path()).await;
    let view = |v: i64| format!("CREATE VIEW big AS SELECT k, v FROM t WHERE v > {v}");
    // Two sessions create a view of the same name without colliding.
    for (session, v) in [("a", 10), ("b", 1990)] {
        let planned = catalog
            .plan(&in_session(session, &view(v)), 2)
            .await
            .unwrap();
        assert!(matches!(planned, Planned::CatalogChanged));
    }
    let err = plan_err(&catalog, in_session("a", &view(5))).await;
    assert!(err.contains("`big` already exists"), "{err}");
    catalog
        .plan(
            &in_session(
                "a",
                "CREATE OR REPLACE VIEW big AS SELECT k, v FROM t WHERE v > 20",
            ),
            2,
        )
        .await
        .unwrap();
    // Each session plans against its own definition.
    for (session, bound) in [("a", "20"), ("b", "1990")] {
        let Planned::Query(q) = catalog
            .plan(&in_session(session, "SELECT count(*) FROM big"), 2)
            .await
            .unwrap()
        else {
            panic!("expected a query");
        };
        let text = q.logical.display_indent().to_string();
        assert!(text.contains(bound), "session {session}: {text}");
    }
    // Other sessions, and queries without a session, do not see it.
    let err = plan_err(&catalog, in_session("c", "SELECT * FROM big")).await;
    assert!(err.contains("big"), "{err}");
    let err = plan_err(&catalog, in_session("", "SELECT * FROM big")).await;
    assert!(err.contains("big"), "{err}");
    assert!(!catalog.table_names().contains(&"big".to_string()));
    // Without a session there is nowhere to keep a view.
    let err = plan_err(&catalog, in_session("", &view(1))).await;
    assert!(err.contains("session_id"), "{err}");

    // A table created inside a session with views is still shared.
    let create = format!(
        "CREATE EXTERNAL TABLE t3 STORED AS PARQUET LOCATION '{}/'",
        dir.path().display()
    );
    catalog.plan(&in_session("a", &create), 2).await.unwrap();
    assert!(catalog.table_names().contains(&"t3".to_string()));
    catalog
        .plan(&in_session("c", "SELECT count(*) FROM t3"), 2)
        .await
        .unwrap();

    // DROP VIEW drops the session's own view only.
    catalog
        .plan(&in_session("a", "DROP VIEW big"), 2)
        .await
        .unwrap();
    let err = plan_err(&catalog, in_session("a", "SELECT * FROM big")).await;
    assert!(err.contains("big"), "{err}");
    let err = plan_err(&catalog, in_session("a", "DROP VIEW big")).await;
    assert!(err.contains("view `big` does not exist"), "{err}");
    catalog
        .plan(&in_session("a", "DROP VIEW IF EXISTS big"), 2)
        .await
        .unwrap();
    catalog
        .plan(&in_session("b", "SELECT * FROM big"), 2)
        .await
        .unwrap();
    // Idle sessions are forgotten.
    assert_eq!(catalog.expire_sessions(std::time::Duration::ZERO), 2);
    let err = plan_err(&catalog, in_session("b", "SELECT * FROM big")).await;
    assert!(err.contains("big"), "{err}");
}

fn registration(id: &str, slots: u32) -> pb::ExecutorRegistration {
    pb::ExecutorRegistration {
        endpoint: Some(pb::ExecutorEndpoint {
            id: id.to_string(),
            host: "127.0.0.1".to_string(),
            port: 1,
        }),
        task_slots: slots,
        capabilities: None,
    }
}

fn succeeded(def: &pb::TaskDefinition, executor: &str) -> pb::TaskStatus {
    let id = def.task_id.clone().unwrap();
    pb::TaskStatus {
        outputs: vec![pb::PartitionLocation {
            job_id: id.job_id.clone(),
            stage_id: id.stage_id,
            map_partition: id.partition,
            output_partition: 0,
            executor: Some(pb::ExecutorEndpoint {
                id: executor.to_string(),
                host: "127.0.0.1".into(),
                port: 1,
            }),
            path: String::new(),
            stats: None,
        }],
        task_id: Some(id),
        state: pb::TaskState::Succeeded as i32,
        executor_id: executor.to_string(),
        ..Default::default()
    }
}

/// Job `j1` of `q`, with its runtime filters and broadcast candidates.
fn new_job(q: PlannedQuery) -> Job {
    Job::new(
        "j1".into(),
        "test".into(),
        q.schema,
        vec![],
        q.stages.stages,
        String::new(),
    )
    .with_filters(q.stages.filters)
    .with_broadcasts(q.stages.broadcasts)
}

#[tokio::test]
async fn stages_run_in_order_and_a_lost_executor_is_recomputed() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog_with_table(dir.path()).await;
    let q = plan(&catalog, "SELECT sum(v) FROM t").await;
    let stage_count = q.stages.stages.len();
    assert_eq!(stage_count, 2, "partial sums, then merge + final sum");
    let mut state = SchedulerState::default();
    state.register_executor(registration("a", 1)).unwrap();
    state.register_executor(registration("b", 1)).unwrap();
    state.add_job(new_job(q));

    // Stage 1 has two tasks: one per executor; stage 2 must wait.
    let (first, _) = state.assign_tasks();
    assert_eq!(first.len(), 2);
    assert!(
        first
            .iter()
            .all(|a| a.task.task_id.as_ref().unwrap().stage_id == 1)
    );
    let on_a = first
        .iter()
        .find(|a| a.executor.id == "a")
        .unwrap()
        .task
        .clone();
    let on_b = first
        .iter()
        .find(|a| a.executor.id == "b")
        .unwrap()
        .task
        .clone();
    state.task_status(&succeeded(&on_a, "a"), "a");
    assert!(
        state.assign_tasks().0.is_empty(),
        "stage 2 waits for all of stage 1"
    );
    state.task_status(&succeeded(&on_b, "b"), "b");

    // Stage 2 runs; its shuffle read lists both map outputs.
    let (second, _) = state.assign_tasks();
    assert_eq!(second.len(), 1);
    let reduce = second[0].task.clone();
    let reduce_on = second[0].executor.id.clone();
    let text = format!("{:?}", reduce.plan);
    assert!(
        text.contains("id: \"a\"") && text.contains("id: \"b\""),
        "{text}"
    );

    // The executor that is *not* running the reduce task dies: its map
    // output is lost, so its map task runs again, and the running reduce
    // task (which will fail to fetch) is retried after that.
    let dead = if reduce_on == "a" { "b" } else { "a" };
    state.executor_lost(dead, "test");
    let job = state.job("j1").unwrap();
    assert_eq!(job.progress().tasks_done, 1);
    let mut fetch_failed = pb::TaskStatus {
        task_id: reduce.task_id.clone(),
        state: pb::TaskState::Failed as i32,
        error: "fetch failed".into(),
        retryable: true,
        fetch_failed_executor_id: dead.to_string(),
        ..Default::default()
    };
    state.task_status(&fetch_failed, &reduce_on);
    let (again, _) = state.assign_tasks();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].task.task_id.as_ref().unwrap().stage_id, 1);
    assert_eq!(
        again[0].executor.id, reduce_on,
        "only the live executor is used"
    );
    state.task_status(&succeeded(&again[0].task, &reduce_on), &reduce_on);
    let (retry, _) = state.assign_tasks();
    assert_eq!(retry.len(), 1);
    let retry_id = retry[0].task.task_id.clone().unwrap();
    assert_eq!((retry_id.stage_id, retry_id.attempt), (2, 1));
    // A stale report of the first attempt changes nothing.
    fetch_failed.state = pb::TaskState::Succeeded as i32;
    state.task_status(&fetch_failed, &reduce_on);
    assert_eq!(state.job("j1").unwrap().state, pb::JobState::Running);
    state.task_status(&succeeded(&retry[0].task, &reduce_on), &reduce_on);
    assert_eq!(state.job("j1").unwrap().state, pb::JobState::Succeeded);
    assert_eq!(state.job("j1").unwrap().result_locations().len(), 1);
}

#[tokio::test]
async fn a_task_that_keeps_failing_fails_its_job() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog_with_table(dir.path()).await;
    let q = plan(&catalog, "SELECT v FROM t WHERE k = 1").await;
    let mut state = SchedulerState::default();
    state.register_executor(registration("a", 4)).unwrap();
    state.add_job(new_job(q));
    for attempt in 0..MAX_TASK_FAILURES {
        let (tasks, _) = state.assign_tasks();
        let task = tasks
            .iter()
            .find(|a| a.task.task_id.as_ref().unwrap().partition == 0)
            .unwrap_or_else(|| panic!("attempt {attempt}: partition 0 not relaunched"));
        let failed = pb::TaskStatus {
            task_id: task.task.task_id.clone(),
            state: pb::TaskState::Failed as i32,
            error: "disk on fire".into(),
            retryable: true,
            ..Default::default()
        };
        state.task_status(&failed, "a");
    }
    let job = state.job("j1").unwrap();
    assert_eq!(job.state, pb::JobState::Failed);
    assert!(job.error.contains("disk on fire"), "{}", job.error);
}

#[tokio::test]
async fn a_plan_of_only_sql_text_may_be_a_statement() {
    // `BallistaContext::sql` sends its text as a plan with one Sql node;
    // EXPLAIN and DDL there work as they do as plain SQL.
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog_with_table(dir.path()).await;
    let as_plan = |sql: &str| pb::ExecuteQuery {
        query: Some(pb::execute_query::Query::Plan(pb::Relation {
            plan_id: None,
            rel_type: Some(pb::relation::RelType::Sql(pb::Sql {
                query: sql.to_string(),
            })),
        })),
        settings: vec![],
        job_name: String::new(),
        session_id: "s".to_string(),
        udfs: Vec::new(),
    };
    let Planned::Query(q) = catalog
        .plan(&as_plan("EXPLAIN SELECT k, sum(v) FROM t GROUP BY k"), 2)
        .await
        .unwrap()
    else {
        panic!("EXPLAIN is a query with rows");
    };
    let names: Vec<_> = q.schema.fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["plan_type", "plan"]);
    assert!(matches!(
        catalog
            .plan(&as_plan("CREATE VIEW v AS SELECT k FROM t"), 2)
            .await
            .unwrap(),
        Planned::CatalogChanged
    ));
}

/// Runs job `j1` to the end, every task succeeding at once with outputs
/// whose statistics say 15,000 rows and `bytes_of(stage)` bytes; returns
/// the stages in the order their tasks were launched, and the launched
/// plans. Runtime filters are given up, as when a build side has too many
/// keys: few enough rows to be read for one (at most 40 k), too many
/// distinct keys to make one (more than 10 k), as TPC-H Q12's at SF 1.
fn run_job(
    state: &mut SchedulerState,
    bytes_of: impl Fn(u32) -> u64,
) -> (Vec<u32>, Vec<pb::PhysicalPlanNode>) {
    let mut launched = Vec::new();
    let mut plans = Vec::new();
    for _ in 0..100 {
        let (tasks, effects) = state.assign_tasks();
        for effect in effects {
            if let ballista_scheduler::state::Effect::FillFilter { job_id, index, .. } = effect {
                state.filter_filled(&job_id, index);
            }
        }
        if tasks.is_empty() {
            if state.job("j1").unwrap().is_terminal() {
                break;
            }
            continue;
        }
        for a in tasks {
            let stage = a.task.task_id.as_ref().unwrap().stage_id;
            if !launched.contains(&stage) {
                launched.push(stage);
                plans.push(a.task.plan.clone().unwrap());
            }
            let mut status = succeeded(&a.task, &a.executor.id);
            status.outputs[0].stats = Some(pb::PartitionStats {
                num_rows: 15_000,
                num_batches: 1,
                num_bytes: bytes_of(stage),
            });
            state.task_status(&status, &a.executor.id);
        }
    }
    assert_eq!(state.job("j1").unwrap().state, pb::JobState::Succeeded);
    (launched, plans)
}

#[tokio::test]
async fn a_partitioned_join_broadcasts_a_build_side_that_turns_out_small() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog_with_table(dir.path()).await;
    let mut query = in_session(
        "s",
        "SELECT count(*) FROM t a JOIN (SELECT k, v FROM t WHERE v % 4 = 0) b ON a.k = b.k",
    );
    for key in [
        "datafusion.optimizer.hash_join_single_partition_threshold",
        "datafusion.optimizer.hash_join_single_partition_threshold_rows",
    ] {
        query.settings.push(pb::KeyValue {
            key: key.to_string(),
            value: "0".to_string(),
        });
    }
    for (build_bytes, broadcast) in [(100, true), (100 << 20, false)] {
        let Planned::Query(q) = catalog.plan(&query, 2).await.unwrap() else {
            panic!("expected a query")
        };
        let [candidate] = q.stages.broadcasts.as_slice() else {
            panic!("one candidate expected: {:?}", q.stages.broadcasts)
        };
        let c = candidate.clone();
        let filtered = q
            .stages
            .filters
            .iter()
            .any(|f| f.build_stage == c.build_stage && f.probe_stages.contains(&c.probe_stage));
        assert!(
            filtered,
            "the join has a runtime filter: {:?}",
            q.stages.filters
        );
        let mut state = SchedulerState::default();
        state.register_executor(registration("a", 2)).unwrap();
        state.add_job(new_job(*q));
        let (launched, plans) = run_job(&mut state, |stage| {
            if stage == c.build_stage {
                build_bytes
            } else {
                1 << 30
            }
        });
        let at = |id: u32| launched.iter().position(|&s| s == id);
        // The probe stage never starts before the build stage is done.
        assert!(at(c.build_stage).is_some(), "{launched:?}");
        if broadcast {
            assert_eq!(at(c.probe_stage), None, "{c:?}: {launched:?}");
            let join = format!("{:?}", plans[at(c.join_stage).unwrap()]);
            assert!(join.contains("CollectLeft"), "{join}");
        } else {
            assert!(at(c.probe_stage) > at(c.build_stage), "{c:?}: {launched:?}");
        }
    }
}

/// Queries without views reuse the session state last built for the same
/// settings (`Catalog::session`): that must not freeze what belongs to one
/// statement (its clock), hide tables created since, or carry one query's
/// settings into the next.
#[tokio::test]
async fn a_reused_session_sees_new_tables_its_own_settings_and_its_own_clock() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog_with_table(dir.path()).await;
    let partitions = |q: &PlannedQuery| q.stages.stages[0].partitions();

    // Two statements in a row: `now()` is folded into a literal at
    // planning, so each must show its own time.
    let first = plan(&catalog, "SELECT now() AS t").await;
    std::thread::sleep(std::time::Duration::from_millis(5));
    let second = plan(&catalog, "SELECT now() AS t").await;
    assert_ne!(
        first.logical.display_indent().to_string(),
        second.logical.display_indent().to_string()
    );

    // A table created through the reused session, then read through it.
    let create = in_session(
        "",
        &format!(
            "CREATE EXTERNAL TABLE t3 STORED AS PARQUET LOCATION '{}/'",
            dir.path().display()
        ),
    );
    assert!(matches!(
        catalog.plan(&create, 2).await.unwrap(),
        Planned::CatalogChanged
    ));
    let q = plan(&catalog, "SELECT k, count(*) FROM t3 GROUP BY k").await;
    assert_eq!(partitions(&q), 2);

    // A setting applies to its query only.
    let mut one = in_session("", "SELECT k, count(*) FROM t3 GROUP BY k");
    one.settings.push(pb::KeyValue {
        key: "datafusion.execution.target_partitions".into(),
        value: "1".into(),
    });
    let Planned::Query(q) = catalog.plan(&one, 2).await.unwrap() else {
        panic!("expected a query")
    };
    assert!(q.stages.stages.iter().all(|s| s.partitions() == 1));
    let q = plan(&catalog, "SELECT k, count(*) FROM t3 GROUP BY k").await;
    assert_eq!(partitions(&q), 2);
}

/// How many stages of `q` scan a file.
fn scan_stages(q: &PlannedQuery) -> usize {
    q.stages
        .stages
        .iter()
        .filter(|s| {
            datafusion::physical_plan::displayable(s.plan.as_ref())
                .indent(true)
                .to_string()
                .contains("DataSourceExec")
        })
        .count()
}

#[tokio::test]
async fn a_stage_the_plan_has_twice_is_planned_once_unless_it_is_volatile() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog_with_table(dir.path()).await;
    // The same aggregation twice, as a view read twice gives (TPC-H Q15).
    let sums = "SELECT k, sum(v) AS total FROM t GROUP BY k";
    let q = plan(
        &catalog,
        &format!("SELECT a.k FROM ({sums}) a JOIN ({sums}) b ON a.k = b.k AND a.total = b.total"),
    )
    .await;
    let dag = ballista_scheduler::planner::dag_text(&q.stages);
    assert_eq!(scan_stages(&q), 1, "{dag}");
    // Both sides of the join read the one stage, and no runtime filter
    // narrows what both read.
    assert!(
        dag.matches("ShuffleReadExec: stage=1,").count() >= 2,
        "{dag}"
    );
    assert!(q.stages.filters.is_empty(), "{dag}");

    // Two copies of a random sample differ: each runs.
    let sample = "SELECT k, sum(v) AS total FROM t WHERE random() < 0.5 GROUP BY k";
    let q = plan(
        &catalog,
        &format!("SELECT a.k FROM ({sample}) a JOIN ({sample}) b ON a.k = b.k"),
    )
    .await;
    assert_eq!(
        scan_stages(&q),
        2,
        "{}",
        ballista_scheduler::planner::dag_text(&q.stages)
    );
}
