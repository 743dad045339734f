//! The PostgreSQL store against a real server: the shared conformance scenarios (tampering
//! through raw SQL), several independent instances appending to one log, and group commit.
//!
//! Needs `SLUIS_TEST_PG` (a connection string); start a throw-away server with
//! `export SLUIS_TEST_PG="$(scripts/pg-test-server)"`. Without it these tests fail, unless
//! `SLUIS_SKIP_PG=1` says to skip them. Each test works in its own schema, so they run in
//! parallel and can be re-run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::sync::Arc;

use postgres::{Client, NoTls};
use sluis_audit::testing::{self, Fixture};
use sluis_audit::{
    AuditSink, AuditStore, EntrySink, GroupCommitConfig, GroupCommitSink, ProblemKind, QueryFilter,
    export_each,
};
use sluis_audit_postgres::{PgConfig, PgStore};

/// The test server's connection string, or `None` when PostgreSQL tests are explicitly skipped.
fn conninfo() -> Option<String> {
    if std::env::var("SLUIS_SKIP_PG").is_ok_and(|v| v == "1") {
        eprintln!("skipping PostgreSQL test: SLUIS_SKIP_PG=1");
        return None;
    }
    match std::env::var("SLUIS_TEST_PG") {
        Ok(c) if !c.trim().is_empty() => Some(c),
        _ => panic!(
            "SLUIS_TEST_PG is not set. Start the test server with\n    \
             export SLUIS_TEST_PG=\"$(scripts/pg-test-server)\"\n\
             (stop it with `scripts/pg-test-server stop`), or set SLUIS_SKIP_PG=1 to skip the \
             PostgreSQL tests."
        ),
    }
}

/// A schema of its own for `name`, dropped first so a re-run starts clean.
fn fresh_schema(conn: &str, name: &str) -> String {
    let schema = format!("t_{name}_{}", std::process::id());
    let mut admin = Client::connect(conn, NoTls).unwrap();
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .unwrap();
    schema
}

fn config(conn: &str, schema: &str) -> PgConfig {
    PgConfig::new(conn, testing::chain_config()).with_schema(schema)
}

fn fixture(name: &str) -> Option<Fixture> {
    let conn = conninfo()?;
    let schema = fresh_schema(&conn, name);
    let store = PgStore::open(config(&conn, &schema)).unwrap();
    let mut tamper = Client::connect(&conn, NoTls).unwrap();
    tamper
        .batch_execute(&format!("SET search_path TO \"{schema}\""))
        .unwrap();
    Some(Fixture {
        store: Box::new(store),
        sql: Box::new(move |sql: &str| tamper.batch_execute(sql).unwrap()),
    })
}

macro_rules! scenario {
    ($test:ident, $scenario:ident) => {
        #[test]
        fn $test() {
            if let Some(f) = fixture(stringify!($test)) {
                testing::$scenario(f);
            }
        }
    };
}

scenario!(append_verify_query, scenario_append_verify_query);
scenario!(altered_body_is_caught, scenario_altered);
scenario!(altered_index_column_is_caught, scenario_altered_index);
scenario!(deleted_row_is_caught, scenario_removed);
scenario!(swapped_seqs_are_caught, scenario_reordered_seq);
scenario!(swapped_bodies_are_caught, scenario_reordered_body);
scenario!(truncation_is_caught_by_the_checkpoint, scenario_truncated);
scenario!(forged_checkpoint_is_caught, scenario_forged_checkpoint);
scenario!(
    changed_checkpoint_hash_is_caught,
    scenario_checkpoint_hash_changed
);
scenario!(purge_keeps_the_log_verifiable, scenario_purge);
scenario!(
    prefix_deleted_by_hand_is_caught,
    scenario_prefix_deleted_by_hand
);
scenario!(field_sets_are_stored_once_and_checked, scenario_field_sets);

#[test]
fn migrations_are_idempotent_under_concurrent_start() {
    let Some(conn) = conninfo() else { return };
    let schema = fresh_schema(&conn, "migrate");
    // Four instances start at once on a fresh database.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let cfg = config(&conn, &schema);
            std::thread::spawn(move || PgStore::open(cfg).map(|_| ()))
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let mut store = PgStore::open(config(&conn, &schema)).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        sluis_audit_postgres::PG_SCHEMA_VERSION
    );
    let mut admin = Client::connect(&conn, NoTls).unwrap();
    let n: i64 = admin
        .query_one(
            &format!("SELECT COUNT(*) FROM \"{schema}\".schema_version"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(i64::from(sluis_audit_postgres::PG_SCHEMA_VERSION), n);
}

#[test]
fn four_instances_append_concurrently_into_one_chain() {
    let Some(conn) = conninfo() else { return };
    let schema = fresh_schema(&conn, "four");
    drop(PgStore::open(config(&conn, &schema)).unwrap());
    const PER_INSTANCE: u64 = 60;
    let barrier = Arc::new(std::sync::Barrier::new(4));
    let handles: Vec<_> = (0..4u64)
        .map(|w| {
            let cfg = config(&conn, &schema);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                // An independent store, connection and "instance".
                let mut store = PgStore::open(cfg).unwrap();
                barrier.wait();
                let mut ranges = Vec::new();
                for i in 0..PER_INSTANCE {
                    let id = w * 1000 + i;
                    ranges.push(
                        store
                            .append(&testing::request(id, 2), testing::T0 + i)
                            .unwrap(),
                    );
                }
                ranges
            })
        })
        .collect();
    let mut ranges: Vec<(u64, u64)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    ranges.sort_unstable();
    // The batches tile 1..=N without gaps or overlaps: one gapless chain.
    let mut next = 1;
    for (first, last) in &ranges {
        assert_eq!(*first, next);
        assert_eq!(*last, first + 2, "a batch stays contiguous");
        next = last + 1;
    }
    let total = 4 * PER_INSTANCE * 3;
    assert_eq!(next, total + 1);
    let mut reader = PgStore::open(config(&conn, &schema)).unwrap();
    let report = reader.verify(&[testing::public_key()]).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.entries, total);
    assert_eq!(report.checkpoints_verified, total / 5);
    // Interleaving happened (the test is not trivially sequential) — informative only.
    let firsts: Vec<u64> = (0..4u64)
        .map(|w| {
            let f = QueryFilter {
                trace_id: Some(testing::trace_id(w * 1000)),
                ..QueryFilter::default()
            };
            reader.query(&f, 1).unwrap()[0].seq
        })
        .collect();
    eprintln!("first seq of each instance: {firsts:?}");
}

#[test]
fn group_commit_from_two_instances_is_durable_and_batched() {
    let Some(conn) = conninfo() else { return };
    let schema = fresh_schema(&conn, "group");
    // Two "instances", each with its own sink, writer thread and connection, opened on the
    // writer thread (the synchronous client must not run inside the async runtime).
    let sinks: Vec<Arc<GroupCommitSink>> = (0..2)
        .map(|_| {
            let cfg = config(&conn, &schema);
            let sink = GroupCommitSink::open_with(
                move || PgStore::open(cfg),
                GroupCommitConfig::default(),
            )
            .unwrap();
            Arc::new(sink)
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..200u64 {
            let s = Arc::clone(&sinks[(i % 2) as usize]);
            tasks.push(tokio::spawn(async move {
                if i % 4 < 2 {
                    s.commit_entries(testing::request(i, 2)).await
                } else {
                    s.commit(testing::access(i)).await
                }
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
    });
    let max_batch = sinks
        .iter()
        .map(|s| s.stats().max_batch_size)
        .max()
        .unwrap();
    let committed: u64 = sinks.iter().map(|s| s.stats().total_committed).sum();
    assert_eq!(committed, 400);
    assert!(max_batch > 3, "no batching observed");
    assert!(sinks.iter().all(|s| s.ready() && s.queue_depth() == 0));
    drop(sinks);
    let mut reader = PgStore::open(config(&conn, &schema)).unwrap();
    for i in 0..200u64 {
        let f = QueryFilter {
            trace_id: Some(testing::trace_id(i)),
            ..QueryFilter::default()
        };
        let n = reader.query(&f, 10).unwrap().len();
        assert_eq!(n, if i % 4 < 2 { 3 } else { 1 }, "request {i}");
    }
    let report = reader.verify(&[testing::public_key()]).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.last_seq, Some(400));
}

#[test]
fn lost_connection_is_reestablished() {
    let Some(conn) = conninfo() else { return };
    let schema = fresh_schema(&conn, "reconnect");
    let app = format!("sluis_reconnect_{}", std::process::id());
    let mut store =
        PgStore::open(config(&format!("{conn} application_name={app}"), &schema)).unwrap();
    store.append(&testing::request(1, 1), testing::T0).unwrap();
    // Kill this store's backend, as a failover or restart would.
    let mut admin = Client::connect(&conn, NoTls).unwrap();
    let killed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1",
            &[&app],
        )
        .unwrap();
    assert_eq!(killed.len(), 1, "the store's backend was terminated");
    // The next call may fail (the loss is noticed), the one after reconnects.
    let second = store.append(&testing::request(2, 1), testing::T0 + 1);
    eprintln!("append right after the backend was killed: {second:?}");
    assert!(store.ready());
    store
        .append(&testing::request(3, 1), testing::T0 + 2)
        .unwrap();
    let report = store.verify(&[testing::public_key()]).unwrap();
    assert!(report.is_ok(), "{report:?}");
}

#[test]
fn instances_with_chains_of_their_own_read_as_one_log() {
    let Some(conn) = conninfo() else { return };
    let schema = fresh_schema(&conn, "chains");
    const PER_INSTANCE: u64 = 40;
    let barrier = Arc::new(std::sync::Barrier::new(3));
    // Two instances with chains of their own, one on the shared chain.
    let handles: Vec<_> = ["i1", "i2", ""]
        .into_iter()
        .enumerate()
        .map(|(w, chain)| {
            let cfg = config(&conn, &schema).with_chain(chain);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let mut store = PgStore::open(cfg).unwrap();
                barrier.wait();
                let mut ranges = Vec::new();
                for i in 0..PER_INSTANCE {
                    let id = w as u64 * 1000 + i;
                    ranges.push(
                        store
                            .append(&testing::request(id, 2), testing::T0 + i)
                            .unwrap(),
                    );
                }
                assert_eq!(store.head().unwrap().unwrap().0, PER_INSTANCE * 3);
                ranges
            })
        })
        .collect();
    for h in handles {
        // Each chain is gapless on its own, from 1.
        let ranges = h.join().unwrap();
        let mut next = 1;
        for (first, last) in ranges {
            assert_eq!((first, last), (next, next + 2));
            next = last + 1;
        }
    }
    let total = 3 * PER_INSTANCE * 3;
    let mut reader = PgStore::open(config(&conn, &schema)).unwrap();
    let report = reader.verify(&[testing::public_key()]).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.entries, total);
    let names: Vec<&str> = report.chains.iter().map(|c| c.chain.as_str()).collect();
    assert_eq!(names, vec!["", "i1", "i2"]);
    assert_eq!(report.checkpoints_verified, total / 5);
    let cps = reader.chain_checkpoints().unwrap();
    assert_eq!(cps.len() as u64, total / 5);
    assert!(cps.iter().any(|(c, _)| c == "i2"));

    // Export pages end at a whole seq: with pages of 7, every entry exactly once.
    let mut seen = std::collections::HashSet::new();
    let mut next = 1;
    loop {
        let page = reader.export(next, 7).unwrap();
        let Some(last) = page.last() else { break };
        assert!(
            page.len() >= 7 || page.len() < 7 && reader.export(last.seq + 1, 7).unwrap().is_empty()
        );
        for e in &page {
            assert!(
                seen.insert((e.chain.clone(), e.seq)),
                "{}/{} twice",
                e.chain,
                e.seq
            );
        }
        next = last.seq + 1;
    }
    assert_eq!(seen.len() as u64, total);
    let mut n = 0;
    export_each(&mut reader, 1, |_| {
        n += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(n, total);
    // Query pages likewise, and a trace is found in whichever chain holds it.
    let mut f = QueryFilter {
        kind: Some(sluis_audit::EntryKind::Access),
        ..QueryFilter::default()
    };
    let mut access = 0;
    loop {
        let page = reader.query(&f, 5).unwrap();
        if page.is_empty() {
            break;
        }
        access += page.len();
        f = f.next_page(&page).unwrap();
    }
    assert_eq!(access as u64, 3 * PER_INSTANCE);
    let hit = reader
        .query(
            &QueryFilter {
                trace_id: Some(testing::trace_id(1005)),
                ..QueryFilter::default()
            },
            10,
        )
        .unwrap();
    assert_eq!(hit.len(), 3);
    assert!(hit.iter().all(|e| e.chain == "i2"));

    // Tampering with one chain is reported with the chain's name.
    let mut admin = Client::connect(&conn, NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "UPDATE \"{schema}\".entries SET body = replace(body, '\"span_id\":\"', '\"span_id\":\"0') \
             WHERE chain = 'i1' AND seq = 4"
        ))
        .unwrap();
    let report = reader.verify(&[testing::public_key()]).unwrap();
    assert_eq!(report.problems_total, 1, "{report:#?}");
    let p = report.first_problem().unwrap();
    assert_eq!((p.kind, p.seq), (ProblemKind::Altered, 4));
    assert!(p.detail.starts_with("chain i1: "), "{}", p.detail);
    assert!(
        report
            .chains
            .iter()
            .filter(|c| c.chain != "i1")
            .all(|c| c.report.is_ok())
    );
}

#[test]
fn purge_runs_per_chain_and_each_chain_stays_verifiable() {
    let Some(conn) = conninfo() else { return };
    let schema = fresh_schema(&conn, "chainpurge");
    for chain in ["i1", "i2"] {
        let mut store = PgStore::open(config(&conn, &schema).with_chain(chain)).unwrap();
        // Old entries (day 0) and recent ones.
        for i in 0..4 {
            store.append(&testing::request(i, 1), testing::T0).unwrap();
        }
        for i in 4..6 {
            store
                .append(
                    &testing::request(i, 1),
                    testing::T0 + 400 * sluis_audit::DAY_MS,
                )
                .unwrap();
        }
    }
    let mut store = PgStore::open(config(&conn, &schema).with_chain("i1")).unwrap();
    let now = testing::T0 + 401 * sluis_audit::DAY_MS;
    let record = store.purge(&|_| Some(30), now).unwrap();
    // Both chains lost their 4 old requests (4 access + 4 processing entries each).
    assert_eq!(record.removed_access, 8, "{record:?}");
    let report = store.verify(&[testing::public_key()]).unwrap();
    assert!(report.is_ok(), "{report:#?}");
    for c in &report.chains {
        assert_eq!(
            c.report.purged_up_to,
            Some(8),
            "{}: {:?}",
            c.chain,
            c.report
        );
        // 4 recent entries and the purge record.
        assert_eq!(c.report.entries, 5, "{}", c.chain);
    }
}

#[test]
fn a_period_is_found_in_every_chain_even_when_a_clock_steps_back() {
    let Some(conn) = conninfo() else { return };
    let schema = fresh_schema(&conn, "period");
    // Chain "a" far ahead in seq, chain "b" behind; "b"'s clock steps back once.
    let mut a = PgStore::open(config(&conn, &schema).with_chain("a")).unwrap();
    let mut b = PgStore::open(config(&conn, &schema).with_chain("b")).unwrap();
    for i in 0..30u64 {
        a.append(&testing::request(i, 1), 1_000 + i * 100).unwrap();
    }
    for i in 0..5u64 {
        b.append(&testing::request(100 + i, 1), 1_000 + i * 700)
            .unwrap();
    }
    b.append(&testing::request(200, 1), 1_050).unwrap();
    let all = b.export(0, 10_000).unwrap();
    let stamped_b: Vec<u64> = all
        .iter()
        .filter(|e| e.chain == "b")
        .map(|e| e.time_ms)
        .collect();
    assert!(stamped_b.windows(2).all(|w| w[0] <= w[1]), "{stamped_b:?}");
    for (from, to) in [
        (0, 10_000),
        (1_500, 2_500),
        (3_700, 3_900),
        (3_801, 9_000),
        (0, 1_001),
    ] {
        let mut got: Vec<(String, u64)> = b
            .query(
                &QueryFilter {
                    from_ms: Some(from),
                    to_ms: Some(to),
                    ..QueryFilter::default()
                },
                10_000,
            )
            .unwrap()
            .into_iter()
            .map(|e| (e.chain, e.seq))
            .collect();
        let mut want: Vec<(String, u64)> = all
            .iter()
            .filter(|e| (from..to).contains(&e.time_ms))
            .map(|e| (e.chain.clone(), e.seq))
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "[{from}, {to})");
    }
}
