//! Committed records per second through group commit on PostgreSQL, with 1, 16 and 64 concurrent
//! committers on one instance, and 64 committers spread over 4 instances (4 sinks, 4 connections,
//! one log: the advisory lock serialises their batches). Each "request" commits 1 access + 2
//! processing records and waits until they are durable.
//!
//! Then the scale-out table: 1, 2 and 4 instances with 16 committers each, once all on the shared
//! chain (one lock) and once with a chain each (`[audit] chain`), with the ratio to one
//! instance.
//!
//! Needs `SLUIS_TEST_PG` (see `scripts/pg-test-server`); without it nothing is measured.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use postgres::{Client, NoTls};
use sluis_audit::testing;
use sluis_audit::{ChainConfig, CheckpointSigner, EntrySink, GroupCommitConfig, GroupCommitSink};
use sluis_audit_postgres::{PgConfig, PgStore};

const RECORDS_PER_REQUEST: u64 = 3;
const CONCURRENCY: [u64; 3] = [1, 16, 64];

/// Commits `requests` requests from `committers` concurrent tasks spread over `sinks`.
async fn run(sinks: &[Arc<GroupCommitSink>], committers: u64, requests: u64) -> Duration {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..committers {
        let share = requests / committers + u64::from(c < requests % committers);
        let sink = Arc::clone(&sinks[(c as usize) % sinks.len()]);
        tasks.push(tokio::spawn(async move {
            for i in 0..share {
                sink.commit_entries(testing::request(c * 1_000_000 + i, 2))
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

fn sink(conn: &str, schema: &str) -> Arc<GroupCommitSink> {
    chain_sink(conn, schema, "")
}

fn chain_sink(conn: &str, schema: &str, chain: &str) -> Arc<GroupCommitSink> {
    let cfg = PgConfig::new(
        conn,
        ChainConfig {
            checkpoint_every: 10_000,
            signer: Some(CheckpointSigner::from_seed(&[1u8; 32])),
        },
    )
    .with_schema(schema)
    .with_chain(chain);
    Arc::new(
        GroupCommitSink::open_with(move || PgStore::open(cfg), GroupCommitConfig::default())
            .unwrap(),
    )
}

fn bench(c: &mut Criterion) {
    let Ok(conn) = std::env::var("SLUIS_TEST_PG") else {
        eprintln!(
            "SLUIS_TEST_PG is not set: no PostgreSQL benchmark. Start a server with \
             `export SLUIS_TEST_PG=\"$(scripts/pg-test-server)\"`."
        );
        return;
    };
    let schema = format!("bench_{}", std::process::id());
    Client::connect(&conn, NoTls)
        .unwrap()
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .unwrap();
    let one = vec![sink(&conn, &schema)];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let mut group = c.benchmark_group("postgres_group_commit");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(RECORDS_PER_REQUEST));
    for committers in CONCURRENCY {
        group.bench_function(format!("{committers}_committers"), |b| {
            b.iter_custom(|iters| rt.block_on(run(&one, committers, iters)));
        });
    }
    group.finish();

    let four: Vec<Arc<GroupCommitSink>> = (0..4).map(|_| sink(&conn, &schema)).collect();
    println!("\npostgres group commit, records/s (1 request = 1 access + 2 processing records):");
    let runs: [(&str, &[Arc<GroupCommitSink>], u64); 4] = [
        ("1 instance, 1", &one, 1),
        ("1 instance, 16", &one, 16),
        ("1 instance, 64", &one, 64),
        ("4 instances, 64", &four, 64),
    ];
    for (label, sinks, committers) in runs {
        let (records, requests, per_tx, append) = measure(&rt, sinks, committers);
        println!(
            "  {label:>15} committers: {records:>8.0} records/s, {requests:>6.0} requests/s, \
             {per_tx:.1} records per transaction, {append:.1} µs append time per record",
        );
    }
    drop(one);
    drop(four);

    println!(
        "\nscale-out: instances x 16 committers each, records/s (ratio to 1 instance of the \
         same kind)"
    );
    println!("  instances   shared chain (one lock)     a chain per instance");
    let mut base = (0.0, 0.0);
    for n in [1usize, 2, 4] {
        let shared: Vec<_> = (0..n).map(|_| chain_sink(&conn, &schema, "")).collect();
        let own: Vec<_> = (0..n)
            .map(|i| chain_sink(&conn, &schema, &format!("bench-{n}-{i}")))
            .collect();
        let a = measure(&rt, &shared, 16 * n as u64).0;
        let b = measure(&rt, &own, 16 * n as u64).0;
        if n == 1 {
            base = (a, b);
        }
        println!(
            "  {n:>9}   {a:>8.0} ({:.2})             {b:>8.0} ({:.2})",
            a / base.0,
            b / base.1
        );
    }
    let _ = Client::connect(&conn, NoTls)
        .and_then(|mut c| c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")));
}

/// About 3 s of load: records/s, requests/s, records per transaction, µs append time per record.
fn measure(
    rt: &tokio::runtime::Runtime,
    sinks: &[Arc<GroupCommitSink>],
    committers: u64,
) -> (f64, f64, f64, f64) {
    {
        let before: Vec<_> = sinks.iter().map(|s| s.stats()).collect();
        let mut requests = 0u64;
        let mut elapsed = Duration::ZERO;
        while elapsed < Duration::from_secs(3) {
            let n = committers * 20;
            elapsed += rt.block_on(run(sinks, committers, n));
            requests += n;
        }
        let after: Vec<_> = sinks.iter().map(|s| s.stats()).collect();
        let committed: u64 = after
            .iter()
            .zip(&before)
            .map(|(a, b)| a.total_committed - b.total_committed)
            .sum();
        let batches: u64 = after
            .iter()
            .zip(&before)
            .map(|(a, b)| a.total_batches - b.total_batches)
            .sum();
        let busy: u64 = after
            .iter()
            .zip(&before)
            .map(|(a, b)| a.busy_micros - b.busy_micros)
            .sum();
        (
            (requests * RECORDS_PER_REQUEST) as f64 / elapsed.as_secs_f64(),
            requests as f64 / elapsed.as_secs_f64(),
            committed as f64 / batches.max(1) as f64,
            busy as f64 / committed.max(1) as f64,
        )
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
