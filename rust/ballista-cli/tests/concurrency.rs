//! Eight clients, each with its own connection, run TPC-H SF 0.1 queries at
//! the same time on one cluster of `ballista` processes; every result
//! equals single-process DataFusion's.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ballista_client::BallistaContext;
use ballista_proto::v1 as pb;
use support::{
    ProcessCluster, ballista_rows, is_query, query, reference_rows, register_tpch, same_rows,
    tpch_reference,
};

const SF: f64 = 0.1;
const PARTS: usize = 2;
const CLIENTS: usize = 8;

/// The queries client `c` runs, in order: all 22 starting at a different
/// one for each client (rotated by 3), so that at any moment the clients
/// run different queries. Every client runs Q15, which creates and drops
/// the view `revenue0`: views belong to the client's session, so the
/// clients' views do not collide.
fn queries_of(c: usize) -> Vec<usize> {
    (0..22).map(|k| (3 * c + k) % 22 + 1).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_clients_at_once_get_datafusions_rows() {
    let covered: std::collections::BTreeSet<usize> = (0..CLIENTS).flat_map(queries_of).collect();
    assert_eq!(covered.len(), 22, "the clients must cover every query");
    let total: usize = (0..CLIENTS).map(|c| queries_of(c).len()).sum();

    // Reference rows of every query, from single-process DataFusion.
    let df = tpch_reference(SF, PARTS).await;
    let mut expected = BTreeMap::new();
    for n in 1..=22 {
        let mut rows = vec![];
        for sql in query(n) {
            let r = reference_rows(&df, &sql).await.unwrap();
            if is_query(&sql) {
                rows = r;
            }
        }
        expected.insert(n, rows);
    }
    let expected = Arc::new(expected);

    let cluster = ProcessCluster::start(3, 2, &[]);
    let setup = BallistaContext::remote(&cluster.url).await.unwrap();
    register_tpch(&setup, SF, PARTS).await;

    // How many jobs were unfinished at once, seen by polling the scheduler.
    let most_at_once = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let monitor = {
        let (ctx, most, done) = (setup.clone(), most_at_once.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Ok(jobs) = ctx.list_jobs().await {
                    let active = jobs
                        .iter()
                        .filter(|j| {
                            j.state == pb::JobState::Queued as i32
                                || j.state == pb::JobState::Running as i32
                        })
                        .count();
                    most.fetch_max(active, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let start = Instant::now();
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (url, expected) = (cluster.url.clone(), expected.clone());
        clients.push(tokio::spawn(async move {
            // Its own connection, as a separate program would have.
            let ctx = BallistaContext::remote(&url).await.unwrap();
            let mut failures = Vec::new();
            for n in queries_of(c) {
                let t = Instant::now();
                let mut rows = Ok(vec![]);
                for sql in query(n) {
                    let r = ballista_rows(&ctx, &sql).await;
                    if is_query(&sql) || r.is_err() {
                        rows = r;
                    }
                    if rows.is_err() {
                        break;
                    }
                }
                let what = format!("client {c} q{n}");
                match rows.and_then(|rows| same_rows(&what, &expected[&n], &rows)) {
                    Ok(()) => eprintln!("{what}: ok in {:.2?}", t.elapsed()),
                    Err(e) => failures.push(format!("{what}: {e}")),
                }
            }
            failures
        }));
    }
    let mut failures = Vec::new();
    for client in clients {
        failures.extend(client.await.unwrap());
    }
    let elapsed = start.elapsed();
    done.store(true, Ordering::Relaxed);
    monitor.await.unwrap();
    let most = most_at_once.load(Ordering::Relaxed);
    eprintln!(
        "{total} queries from {CLIENTS} clients in {elapsed:.2?}; at most {most} jobs unfinished \
         at once"
    );
    assert!(
        failures.is_empty(),
        "{} of {} queries failed:\n{}",
        failures.len(),
        total,
        failures.join("\n")
    );
    // The clients really overlapped (not one job after another).
    assert!(most >= CLIENTS / 2, "at most {most} jobs ran at once");
}
