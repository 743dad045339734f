//! The SQLite store against the shared conformance scenarios (tampering through raw SQL), and
//! group commit under concurrency.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sluis_audit::testing::{self, Fixture};
use sluis_audit::{
    AuditError, AuditSink, AuditStore, EntrySink, GroupCommitConfig, GroupCommitSink, QueryFilter,
};
use sluis_audit_sqlite::{IndexBuild, IndexConfig, SqliteConfig, SqliteStore};

/// A fresh database in its own temporary directory; the directory lives as long as the fixture.
fn fixture() -> Fixture {
    fixture_with(IndexConfig::default())
}

/// A fresh database whose index is kept as `index` says.
fn fixture_with(index: IndexConfig) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut config = SqliteConfig::new(&path, testing::chain_config());
    config.index = index;
    let store = SqliteStore::open_with(config).unwrap();
    let conn = rusqlite_conn(&path);
    Fixture {
        store: Box::new(store),
        sql: Box::new(move |sql: &str| {
            let _keep = &dir;
            conn.execute_batch(sql).unwrap();
        }),
    }
}

/// A second, independent connection: the tamperer.
fn rusqlite_conn(path: &PathBuf) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn append_verify_query() {
    testing::scenario_append_verify_query(fixture());
}

#[test]
fn altered_body_is_caught() {
    testing::scenario_altered(fixture());
}

#[test]
fn altered_index_column_is_caught() {
    testing::scenario_altered_index(fixture());
}

#[test]
fn deleted_row_is_caught() {
    testing::scenario_removed(fixture());
}

#[test]
fn swapped_seqs_are_caught() {
    testing::scenario_reordered_seq(fixture());
}

#[test]
fn swapped_bodies_are_caught() {
    testing::scenario_reordered_body(fixture());
}

#[test]
fn truncation_is_caught_by_the_checkpoint() {
    testing::scenario_truncated(fixture());
}

#[test]
fn forged_checkpoint_is_caught() {
    testing::scenario_forged_checkpoint(fixture());
}

#[test]
fn changed_checkpoint_hash_is_caught() {
    testing::scenario_checkpoint_hash_changed(fixture());
}

#[test]
fn purge_keeps_the_log_verifiable() {
    testing::scenario_purge(fixture());
}

#[test]
fn prefix_deleted_by_hand_is_caught() {
    testing::scenario_prefix_deleted_by_hand(fixture());
}

#[test]
fn two_connections_append_to_one_chain() {
    // Two writers on one file (e.g. the proxy's writer and `sluis audit purge`): BEGIN IMMEDIATE
    // serialises them and the chain stays whole.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let handles: Vec<_> = (0..2u64)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut s = SqliteStore::open(&path, testing::chain_config()).unwrap();
                for i in 0..25 {
                    s.append(&testing::request(w * 100 + i, 1), testing::T0 + i)
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut s = SqliteStore::open(&path, testing::chain_config()).unwrap();
    let report = s.verify(&[testing::public_key()]).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.last_seq, Some(100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_200_concurrent_commits_are_durable_and_batched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let store = SqliteStore::open(&path, testing::chain_config()).unwrap();
    let sink = Arc::new(GroupCommitSink::start(store, GroupCommitConfig::default()).unwrap());
    let mut tasks = Vec::new();
    for i in 0..200u64 {
        let s = Arc::clone(&sink);
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                s.commit_entries(testing::request(i, 2)).await
            } else {
                s.commit(testing::access(i)).await
            }
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let stats = sink.stats();
    assert_eq!(stats.total_committed, 100 * 3 + 100);
    assert_eq!(stats.queue_depth, 0);
    assert!(stats.ready);
    assert!(stats.max_batch_size > 3, "no batching observed: {stats:?}");
    assert!(stats.total_batches < 200, "{stats:?}");
    eprintln!(
        "sqlite group commit: {} entries in {} transactions, largest {}",
        stats.total_committed, stats.total_batches, stats.max_batch_size
    );
    drop(sink);

    // Every acknowledged request is in the file, read by a fresh connection.
    let mut reader = SqliteStore::open(&path, testing::chain_config()).unwrap();
    for i in 0..200u64 {
        let f = QueryFilter {
            trace_id: Some(testing::trace_id(i)),
            ..QueryFilter::default()
        };
        let n = reader.query(&f, 10).unwrap().len();
        assert_eq!(n, if i % 2 == 0 { 3 } else { 1 }, "request {i}");
    }
    let report = reader.verify(&[testing::public_key()]).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.last_seq, Some(400));
    assert_eq!(report.checkpoints_verified, 80);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_commit_answers_every_waiter_and_readiness_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let store = SqliteStore::open_with(SqliteConfig {
        busy_timeout: Duration::from_millis(50),
        ..SqliteConfig::new(&path, testing::chain_config())
    })
    .unwrap();
    let cfg = GroupCommitConfig {
        recheck: Duration::from_millis(20),
        ..GroupCommitConfig::default()
    };
    let sink = Arc::new(GroupCommitSink::start(store, cfg).unwrap());
    sink.commit(testing::access(1)).await.unwrap();

    // Another process holds the write lock past the busy timeout: the batch fails, every waiter
    // hears so (the proxy answers 503) and the sink reports not ready.
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut tasks = Vec::new();
    for i in 0..10u64 {
        let s = Arc::clone(&sink);
        tasks.push(tokio::spawn(async move {
            s.commit_entries(testing::request(i, 1)).await
        }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap(), Err(AuditError::Unavailable(_))));
    }
    assert!(!sink.ready());
    assert!(sink.stats().failed_batches >= 1);

    blocker.execute_batch("ROLLBACK").unwrap();
    drop(blocker);
    sink.commit(testing::access(2)).await.unwrap();
    assert!(sink.ready());
    let mut reader = SqliteStore::open(&path, testing::chain_config()).unwrap();
    let report = reader.verify(&[testing::public_key()]).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(
        report.last_seq,
        Some(2),
        "nothing of the failed batch was stored"
    );
}

#[test]
fn field_sets_are_stored_once_and_checked() {
    testing::scenario_field_sets(fixture());
}

/// A store whose index is built after every commit, in runs of 3 records merged two at a time:
/// every scenario's queries then go through runs of both levels and the tail, across purges
/// and tampering.
fn indexed_fixture() -> Fixture {
    fixture_with(IndexConfig {
        run_records: 3,
        merge_fanout: 2,
        build: IndexBuild::AfterAppend,
    })
}

#[test]
fn the_scenarios_hold_with_the_index_in_runs() {
    testing::run_all(&mut |_| indexed_fixture());
}

/// The writer reports how far the index beside the log reaches (the `unindexed_entries` metric).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_reports_the_index_lag() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = SqliteConfig::new(dir.path().join("audit.db"), testing::chain_config());
    config.index = IndexConfig {
        run_records: 3,
        merge_fanout: 0,
        build: IndexBuild::AfterAppend,
    };
    let store = SqliteStore::open_with(config).unwrap();
    let sink = GroupCommitSink::start(store, GroupCommitConfig::default()).unwrap();
    // One commit of 10 records: three runs of 3 built after it, one record in the tail.
    sink.commit_entries(testing::request(1, 9)).await.unwrap();
    let st = sink.stats();
    assert!(st.indexed);
    assert_eq!((st.head_seq, st.indexed_seq, st.unindexed()), (10, 9, 1));
}
