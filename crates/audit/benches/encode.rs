//! The cost of encoding one request's entries for storage ([`sluis_audit::chain::encode`]: canonical
//! JSON, field lists and shapes interned by content id), on the shape of a BRP lookup by BSN:
//! the access record and five processing records (the person and four relatives) with the
//! field lists a 12-field request delivers. The request path pays this once per request before
//! it hands the entries to the writer.
//!
//! `cargo bench -p sluis-audit --features testing --bench encode`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluis_audit::chain::encode;
use sluis_audit::{Entry, FieldList, testing};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const REQUESTED: [&str; 12] = [
    "burgerservicenummer",
    "naam",
    "geboorte",
    "geslacht",
    "adressering",
    "verblijfplaats",
    "nationaliteiten",
    "partners",
    "ouders",
    "kinderen",
    "overlijden",
    "gemeenteVanInschrijving",
];

fn delivered() -> Vec<String> {
    let mut paths = Vec::new();
    for f in REQUESTED {
        for sub in ["", ".code", ".omschrijving", ".datum.type", ".datum.datum"] {
            paths.push(format!("{f}{sub}"));
        }
    }
    paths.sort();
    paths
}

/// One lookup's entries. Its processing records share the request's two lists, as the proxy's
/// records do (one `FieldList` per request, cloned by reference).
fn brp_request(i: u64) -> Vec<Entry> {
    let mut entries = testing::request(i, 5);
    let requested: FieldList = REQUESTED.iter().map(|s| (*s).to_owned()).collect();
    let delivered: FieldList = delivered().into();
    for e in &mut entries {
        if let Entry::Processing(p) = e {
            p.fields_requested = requested.clone();
            p.fields_delivered = delivered.clone();
        }
    }
    entries
}

fn bench(c: &mut Criterion) {
    let requests: Vec<Vec<Entry>> = (0..1024).map(brp_request).collect();
    let bytes: usize = encode(&requests[0])
        .unwrap()
        .iter()
        .map(|e| e.body.len())
        .sum();
    println!("one request's stored bodies: {bytes} bytes over 6 entries");
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    let mut n = 0usize;
    group.bench_function("brp_lookup_6_entries", |b| {
        b.iter(|| {
            n = (n + 1) % requests.len();
            encode(&requests[n]).unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
