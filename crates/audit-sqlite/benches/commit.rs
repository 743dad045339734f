//! Committed records per second through group commit on SQLite (WAL, synchronous=FULL, the WAL
//! checkpointed on a thread of its own, as `sluis serve` opens it, and its allocator), with 1, 16
//! and 64 concurrent committers. Each "request" commits 1 access + 2 processing records and
//! waits until they are durable, as the proxy does before releasing a response. As in a real log,
//! trace ids are random and each processing record names one of a million citizens, by a
//! pseudonym as sluis writes it: the indexes on them take inserts all over their pages.
//!
//! `cargo bench -p sluis-audit-sqlite` prints criterion's throughput (elem/s = records/s) and then
//! a plain summary with the average transaction size.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluis_audit::testing;
use sluis_audit::{ChainConfig, CheckpointSigner, EntrySink, GroupCommitConfig, GroupCommitSink};
use sluis_audit_sqlite::{IndexBuild, SqliteConfig, SqliteStore, index_path};

// As in the sluis binary: the committers' encoding allocates many small strings.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RECORDS_PER_REQUEST: u64 = 3;
const CONCURRENCY: [u64; 3] = [1, 16, 64];

/// A well-mixed 64-bit value of `x` (splitmix64): stands in for what is random in real records.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Request `n`: a random W3C trace id, and two processing records for citizens drawn from a
/// million, each by a pseudonym of the form sluis writes (`<key id>:<64 hex digits>`).
fn request(n: u64) -> Vec<sluis_audit::Entry> {
    let trace = format!("{:016x}{:016x}", mix(n), mix(n ^ 0x5555));
    let mut entries = testing::request(n, 2);
    for (j, e) in entries.iter_mut().enumerate() {
        match e {
            sluis_audit::Entry::Access(a) => a.trace_id.clone_from(&trace),
            sluis_audit::Entry::Processing(p) => {
                p.trace_id.clone_from(&trace);
                let person = mix(n * 4 + j as u64) % 1_000_000;
                p.data_subject_id = Some(format!(
                    "k1:{:016x}{:016x}{:016x}{:016x}",
                    mix(person),
                    mix(person + 1),
                    mix(person + 2),
                    mix(person + 3)
                ));
            }
            _ => {}
        }
    }
    entries
}

/// Commits `requests` requests from `committers` concurrent tasks; returns the wall time.
async fn run(sink: &Arc<GroupCommitSink>, committers: u64, requests: u64) -> Duration {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..committers {
        let share = requests / committers + u64::from(c < requests % committers);
        let sink = Arc::clone(sink);
        tasks.push(tokio::spawn(async move {
            for i in 0..share {
                sink.commit_entries(request(c * 1_000_000_000 + i))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let chain = ChainConfig {
        checkpoint_every: 10_000,
        signer: Some(CheckpointSigner::from_seed(&[1u8; 32])),
    };
    let path = dir.path().join("bench.db");
    let mut config = SqliteConfig::new(&path, chain);
    config.background_checkpoint = Some(Duration::from_millis(500));
    // As `sluis serve` opens it: the subject and trace index built on a thread of its own.
    config.index.build = IndexBuild::Background(Duration::from_secs(1));
    let store = SqliteStore::open_with(config).unwrap();
    let sink = Arc::new(GroupCommitSink::start(store, GroupCommitConfig::default()).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let mut group = c.benchmark_group("sqlite_group_commit");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(RECORDS_PER_REQUEST));
    for committers in CONCURRENCY {
        group.bench_function(format!("{committers}_committers"), |b| {
            b.iter_custom(|iters| rt.block_on(run(&sink, committers, iters)));
        });
    }
    group.finish();

    println!("\nsqlite group commit, records/s (1 request = 1 access + 2 processing records):");
    for committers in CONCURRENCY {
        let before = sink.stats();
        let mut requests = 0u64;
        let mut elapsed = Duration::ZERO;
        while elapsed < Duration::from_secs(3) {
            let n = committers * 20;
            elapsed += rt.block_on(run(&sink, committers, n));
            requests += n;
        }
        let after = sink.stats();
        let records = requests * RECORDS_PER_REQUEST;
        let batches = after.total_batches - before.total_batches;
        let committed = after.total_committed - before.total_committed;
        let busy = after.busy_micros - before.busy_micros;
        println!(
            "  {committers:>2} committers: {:>8.0} records/s, {:>6.0} requests/s, {:.1} records \
             per transaction, {:.1} µs append time per record, writer busy {:.0}%",
            records as f64 / elapsed.as_secs_f64(),
            requests as f64 / elapsed.as_secs_f64(),
            committed as f64 / batches.max(1) as f64,
            busy as f64 / committed.max(1) as f64,
            busy as f64 / elapsed.as_micros() as f64 * 100.0,
        );
    }
    let committed = sink.stats().total_committed;
    drop(sink);
    // What the index thread left in the tail (it builds runs once a second), then the rest.
    let mut store = SqliteStore::open(&path, ChainConfig::default()).unwrap();
    let head = sluis_audit::AuditStore::head(&mut store)
        .unwrap()
        .map_or(0, |h| h.0);
    let before = store.build_index(false).unwrap();
    let start = Instant::now();
    let after = store.build_index(false).unwrap();
    println!(
        "  index: the thread had indexed up to {} of {head} records; {} runs built after it \
         in {:.0} ms",
        head - (head - before.indexed_to).min(head),
        after.runs_built,
        start.elapsed().as_secs_f64() * 1e3
    );
    drop(store);
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let db = size(&path);
    let index = size(&index_path(&path));
    let wal = size(&dir.path().join("bench.db-wal"));
    println!(
        "  stored: {:.0} bytes per record in the log, {:.0} in its index ({committed} records; \
         log {db} bytes, index {index} bytes, WAL {wal} bytes not counted)",
        db as f64 / committed.max(1) as f64,
        index as f64 / committed.max(1) as f64,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
