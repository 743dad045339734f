//! Backfill speed: the rules over five months of synthetic history (about 200,000 entries, 40
//! users, planted misuse), in entries per second.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark setup")]

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluis_detect::synthetic::history;
use sluis_detect::{evaluate, parse_rules};

fn backfill(c: &mut Criterion) {
    let h = history(42);
    let rules = Arc::new(parse_rules(&h.rules_toml, "synthetic").unwrap());
    let mut g = c.benchmark_group("detect");
    g.throughput(Throughput::Elements(h.entries.len() as u64));
    g.sample_size(10);
    g.bench_function("backfill", |b| {
        b.iter(|| {
            let (alerts, _) = evaluate(
                Arc::clone(&rules),
                h.entries.iter().map(|(s, t, e)| (*s, *t, e)),
                h.end_ms,
            );
            assert!(!alerts.is_empty());
        });
    });
    g.finish();
}

criterion_group!(benches, backfill);
criterion_main!(benches);
