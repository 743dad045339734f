//! The subject and trace index beside the log: whatever the runs, merges, purges and the tail,
//! a query finds exactly what a scan of the whole log finds; an index that does not belong to
//! the log is dropped, one that was tampered with is reported by `verify` and rebuilt.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use sluis_audit::testing::{self, request, subject, trace_id};
use sluis_audit::{AuditStore, Entry, ProblemKind, QueryFilter};
use sluis_audit_sqlite::{IndexBuild, IndexConfig, SqliteConfig, SqliteStore, index_path};

fn open(path: &Path, run_records: u64, merge_fanout: u64, build: IndexBuild) -> SqliteStore {
    let mut config = SqliteConfig::new(path, testing::chain_config());
    config.index = IndexConfig {
        run_records,
        merge_fanout,
        build,
    };
    SqliteStore::open_with(config).unwrap()
}

/// Request `i` with `n` processing records, its subjects drawn from `people` citizens (so
/// subjects repeat across requests), and trace `i % traces` (so traces repeat too).
fn shaped(i: u64, n: u64, people: u64, traces: u64) -> Vec<Entry> {
    let mut entries = request(i, n);
    for (j, e) in entries.iter_mut().enumerate() {
        match e {
            Entry::Access(a) => a.trace_id = trace_id(i % traces),
            Entry::Processing(p) => {
                p.trace_id = trace_id(i % traces);
                p.data_subject_id = Some(subject((i * 7 + j as u64) % people));
            }
            _ => {}
        }
    }
    entries
}

/// A row's kind, trace id and subject, as the log's columns hold them.
fn columns(e: &Entry) -> (bool, Option<&str>, Option<&str>) {
    match e {
        Entry::Access(a) => (true, Some(a.trace_id.as_str()), None),
        Entry::Processing(p) => (
            false,
            Some(p.trace_id.as_str()),
            p.data_subject_id.as_deref(),
        ),
        _ => (false, None, None),
    }
}

/// What a query must find: the rows of the whole log that match, by brute force.
fn expected(store: &mut SqliteStore, filter: &QueryFilter) -> Vec<u64> {
    let all = store.export(0, usize::MAX).unwrap();
    if let Some(trace) = &filter.trace_id {
        // A request is its access record and the rows after it up to the next access record
        // or another trace.
        let mut out = Vec::new();
        let mut inside = false;
        for e in &all {
            let (access, t, _) = columns(&e.entry);
            if access {
                inside = t == Some(trace.as_str());
            } else if t != Some(trace.as_str()) {
                inside = false;
            }
            if inside && filter.after_seq.is_none_or(|a| e.seq > a) {
                out.push(e.seq);
            }
        }
        return out;
    }
    all.iter()
        .filter(|e| {
            filter
                .subject
                .as_deref()
                .is_none_or(|s| columns(&e.entry).2 == Some(s))
                && filter.after_seq.is_none_or(|a| e.seq > a)
        })
        .map(|e| e.seq)
        .collect()
}

fn found(store: &mut SqliteStore, filter: &QueryFilter) -> Vec<u64> {
    store
        .query(filter, usize::MAX)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect()
}

/// Every subject's and every trace's query, whole and from a page boundary, against brute force.
fn check_all(store: &mut SqliteStore, people: u64, traces: u64, at: &str) {
    for p in 0..people {
        for after in [None, Some(7)] {
            let f = QueryFilter {
                subject: Some(subject(p)),
                after_seq: after,
                ..QueryFilter::default()
            };
            assert_eq!(found(store, &f), expected(store, &f), "subject {p} {at}");
        }
    }
    for t in 0..traces {
        let f = QueryFilter {
            trace_id: Some(trace_id(t)),
            ..QueryFilter::default()
        };
        assert_eq!(found(store, &f), expected(store, &f), "trace {t} {at}");
    }
}

#[derive(Debug, Clone)]
enum Step {
    /// Commit these requests (processing records each) in one batch.
    Append(Vec<u64>),
    /// Build the index (with a partial run of the tail, or only full runs).
    Build(bool),
    /// Purge what is past retention (every activity is kept 0 days: all but the purge record).
    Purge,
    /// Close and open the store again.
    Reopen,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => prop::collection::vec(0u64..4, 1..5).prop_map(Step::Append),
        2 => any::<bool>().prop_map(Step::Build),
        1 => Just(Step::Purge),
        1 => Just(Step::Reopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Any history of commits, builds (full and partial runs, merges at any fanout), purges and
    /// reopenings: every query by subject or trace finds what a scan of the log finds, and
    /// verification finds the index matching the log.
    #[test]
    fn queries_through_runs_and_tail_agree_with_a_scan_of_the_log(
        steps in prop::collection::vec(step(), 1..24),
        run_records in 1u64..8,
        merge_fanout in 0u64..4,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        let (people, traces) = (5, 4);
        let mut store = open(&path, run_records, merge_fanout, IndexBuild::OnDemand);
        let mut next = 0u64;
        for (n, s) in steps.iter().enumerate() {
            match s {
                Step::Append(sizes) => {
                    let batch: Vec<Entry> = sizes
                        .iter()
                        .flat_map(|&k| {
                            next += 1;
                            shaped(next, k, people, traces)
                        })
                        .collect();
                    store.append(&batch, 1_000 * (n as u64 + 1)).unwrap();
                }
                Step::Build(partial) => {
                    store.build_index(*partial).unwrap();
                }
                Step::Purge => {
                    store.purge(&|_| Some(0), 10_000_000_000).unwrap();
                }
                Step::Reopen => {
                    drop(store);
                    store = open(&path, run_records, merge_fanout, IndexBuild::OnDemand);
                }
            }
            check_all(&mut store, people, traces, &format!("after step {n} ({s:?})"));
        }
        let report = store.verify(&[testing::public_key()]).unwrap();
        prop_assert!(report.is_ok(), "{:?}", report.problems);
    }
}

/// A log restored from an older copy, or replaced by another log: the index beside it no longer
/// matches, and the store starts it over instead of answering from it.
#[test]
fn an_index_that_does_not_belong_to_the_log_is_dropped_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let backup = dir.path().join("backup.db");
    let mut store = open(&path, 4, 0, IndexBuild::OnDemand);
    for i in 1..=3 {
        store.append(&shaped(i, 2, 3, 3), 1_000).unwrap();
    }
    drop(store);
    std::fs::copy(&path, &backup).unwrap();
    let mut store = open(&path, 4, 0, IndexBuild::OnDemand);
    for i in 4..=9 {
        store.append(&shaped(i, 2, 3, 3), 2_000).unwrap();
    }
    let built = store.build_index(false).unwrap();
    assert_eq!(built.indexed_to, 24, "6 runs of 4 of the 27 rows");
    drop(store);
    // The older copy comes back (the WAL was checkpointed at close: the file is the log).
    std::fs::copy(&backup, &path).unwrap();
    let mut store = open(&path, 4, 0, IndexBuild::OnDemand);
    assert_eq!(store.reindex(false).unwrap().unwrap().indexed_to, 8);
    check_all(&mut store, 3, 3, "restored");
    assert!(store.verify(&[]).unwrap().is_ok());
}

/// Rows removed from or changed in the index database are reported by verification (the log
/// itself is intact), and a rebuild repairs the index.
#[test]
fn a_tampered_index_is_reported_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut store = open(&path, 4, 2, IndexBuild::OnDemand);
    for i in 1..=8 {
        store.append(&shaped(i, 2, 3, 3), 1_000).unwrap();
    }
    store.build_index(false).unwrap();
    assert!(store.verify(&[]).unwrap().is_ok());
    let idx = rusqlite::Connection::open(index_path(&path)).unwrap();
    // Hide one person's records from the overview.
    let hidden = idx
        .execute(
            "DELETE FROM by_subject WHERE subject = (SELECT subject FROM by_subject LIMIT 1)",
            [],
        )
        .unwrap();
    assert!(hidden > 0);
    let report = store.verify(&[]).unwrap();
    assert!(!report.is_ok());
    assert!(
        report.problems.iter().all(|p| p.kind == ProblemKind::Index),
        "{:?}",
        report.problems
    );
    assert!(
        report.problems[0].detail.contains("lacks the record"),
        "{:?}",
        report.problems
    );
    // A record moved to another subject: the counts agree, the entries do not.
    store.rebuild_index().unwrap();
    store.build_index(false).unwrap();
    idx.execute(
        "UPDATE by_trace SET trace = x'00' WHERE rowid IN (SELECT rowid FROM by_trace LIMIT 1)",
        [],
    )
    .or_else(|_| {
        idx.execute(
            "UPDATE by_trace SET trace = x'00' WHERE seq = (SELECT MIN(seq) FROM by_trace)",
            [],
        )
    })
    .unwrap();
    let report = store.verify(&[]).unwrap();
    assert_eq!(report.problems_total, 1, "{:?}", report.problems);
    assert!(
        report.problems[0].detail.contains("trace index"),
        "{:?}",
        report.problems
    );
    // A run taken away leaves a gap no query would cover.
    store.rebuild_index().unwrap();
    store.build_index(false).unwrap();
    idx.execute(
        "DELETE FROM runs WHERE first_seq = (SELECT MIN(first_seq) FROM runs)",
        [],
    )
    .unwrap();
    let report = store.verify(&[]).unwrap();
    assert!(!report.is_ok(), "{:?}", report.problems);
    // Rebuilt: everything found again, verification clean.
    let r = store.reindex(true).unwrap().unwrap();
    assert!(r.runs_built > 0);
    assert!(store.verify(&[]).unwrap().is_ok());
    check_all(&mut store, 3, 3, "rebuilt");
}

/// The writer's index thread builds the runs as records arrive; a store without the index file
/// (deleted while sluis was stopped) builds it again from the log.
#[test]
fn the_index_thread_keeps_up_and_a_deleted_index_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut store = open(
        &path,
        10,
        4,
        IndexBuild::Background(Duration::from_millis(10)),
    );
    for i in 1..=50 {
        store.append(&shaped(i, 2, 7, 5), 1_000 + i).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut reader = open(&path, 10, 4, IndexBuild::OnDemand);
    loop {
        // (reindex here builds nothing the thread has not: it reports how far the index is)
        let r = reader.reindex(false).unwrap().unwrap();
        if r.indexed_to == 150 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the index thread stopped at {}",
            r.indexed_to
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    check_all(&mut reader, 7, 5, "built by the thread");
    drop(reader);
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let mut p = index_path(&path).into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    let mut store = open(&path, 10, 4, IndexBuild::OnDemand);
    check_all(&mut store, 7, 5, "index deleted: all tail");
    assert_eq!(store.reindex(false).unwrap().unwrap().indexed_to, 150);
    check_all(&mut store, 7, 5, "index rebuilt");
    assert!(store.verify(&[]).unwrap().is_ok());
}

/// The index keys a subject by its last 8 bytes: two subjects that share them are told apart by
/// the log's rows, in the runs and in the tail alike.
#[test]
fn subjects_sharing_their_index_key_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut store = open(&path, 4, 0, IndexBuild::OnDemand);
    let named = |i: u64, who: &str| {
        let mut entries = request(i, 1);
        if let Entry::Processing(p) = &mut entries[1] {
            p.data_subject_id = Some(format!("{who}-same-end"));
        }
        entries
    };
    for i in 0..6 {
        store
            .append(&named(i, ["anna", "bert"][(i % 2) as usize]), 1_000)
            .unwrap();
    }
    let by = |who: &str| QueryFilter {
        subject: Some(format!("{who}-same-end")),
        ..QueryFilter::default()
    };
    for at in ["tail", "runs"] {
        assert_eq!(found(&mut store, &by("anna")), [2, 6, 10], "{at}");
        assert_eq!(found(&mut store, &by("bert")), [4, 8, 12], "{at}");
        assert!(found(&mut store, &by("carl")).is_empty(), "{at}");
        store.build_index(true).unwrap();
    }
}

/// A store answers queries by trace from its memo of the tail: what is committed after the memo
/// was read, what the runs take over from it, and a cleared index are all seen.
#[test]
fn queries_by_trace_see_what_came_after_the_tail_was_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut writer = open(&path, 4, 2, IndexBuild::OnDemand);
    let mut reader = open(&path, 4, 2, IndexBuild::OnDemand);
    let by = |t: u64| QueryFilter {
        trace_id: Some(trace_id(t)),
        ..QueryFilter::default()
    };
    let check = |reader: &mut SqliteStore, writer: &mut SqliteStore, at: &str| {
        for t in 0..3 {
            assert_eq!(
                found(reader, &by(t)),
                expected(writer, &by(t)),
                "trace {t} {at}"
            );
        }
    };
    writer.append(&shaped(1, 1, 3, 3), 1_000).unwrap();
    check(&mut reader, &mut writer, "first read");
    for i in 2..=9 {
        writer.append(&shaped(i, 1, 3, 3), 1_000).unwrap();
        check(&mut reader, &mut writer, &format!("after commit {i}"));
    }
    writer.build_index(false).unwrap();
    check(
        &mut reader,
        &mut writer,
        "after the runs took the tail over",
    );
    writer.append(&shaped(10, 2, 3, 3), 1_000).unwrap();
    writer.rebuild_index().unwrap();
    check(&mut reader, &mut writer, "after the index was cleared");
    writer.build_index(true).unwrap();
    check(&mut reader, &mut writer, "after it was built again");
}
