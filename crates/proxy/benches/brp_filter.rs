//! The BRP answer filter alone, per lookup: the answer the BRP fixture gives to the lookup
//! `bench/run` sends (`RaadpleegMetBurgerservicenummer`, twelve fields, a resident with partner,
//! children and parents), decided by `examples/policy/brp.toml` for the bench's scopes, then
//! read into a borrowed document (`sluis_brp::doc::Node`), filtered (`sluis_brp::filter_response`:
//! withholding, identifiers and flags stripped, the grant enforced, the delivered paths listed)
//! and serialised, as the BRP adapter does. Next to it, in the same process, two floors: reading
//! and writing the same answer as a `Node` without filtering, and as a `serde_json::Value` (the
//! tree the filter worked on before: every key and string allocated, every key hashed).
//!
//! `cargo bench -p sluis-proxy --bench brp_filter` prints criterion's estimates and a summary
//! with the three times and the filter's own share.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use sluis_brp::doc::Node;
use sluis_brp::{BrpPolicy, Plan, filter_response, validate};
use sluis_testkit::{BrpFixture, BrpFixtureConfig};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The scopes of `bench/run`'s token.
const SCOPES: [&str; 6] = [
    "BRP/zoek-bsn",
    "BRP/basis",
    "BRP/adres-buitenland",
    "BRP/familie",
    "BRP/nationaliteit",
    "BRP/overlijden",
];

/// The fields of `bench/run`'s lookup.
const FIELDS: [&str; 12] = [
    "burgerservicenummer",
    "naam",
    "geboorte",
    "geslacht",
    "leeftijd",
    "nationaliteiten",
    "partners",
    "verblijfplaats",
    "adressering",
    "immigratie",
    "overlijden",
    "kinderen",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The plan for the lookup, and the fixture's answer to the request it sends upstream.
fn plan_and_answer() -> (Plan, bytes::Bytes) {
    let policy = BrpPolicy::load(&root().join("examples/policy/brp.toml")).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let fixture = BrpFixture::start(BrpFixtureConfig::default())
            .await
            .unwrap();
        let bsn = fixture.data().known().family.parents[0].clone();
        let body = json!({
            "type": "RaadpleegMetBurgerservicenummer",
            "burgerservicenummer": [bsn],
            "fields": FIELDS,
        });
        let query = validate(&body).unwrap();
        let scopes: Vec<String> = SCOPES.iter().map(|s| (*s).to_owned()).collect();
        let plan = policy.decide(&query, &scopes).unwrap();
        let client: Client<_, Full<bytes::Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let req = hyper::Request::post(format!(
            "http://{}/haalcentraal/api/brp/personen",
            fixture.addr()
        ))
        .header("content-type", "application/json")
        .body(Full::new(
            serde_json::to_vec(plan.upstream_body()).unwrap().into(),
        ))
        .unwrap();
        let resp = client.request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        let answer = resp.into_body().collect().await.unwrap().to_bytes();
        drop(fixture);
        (plan, answer)
    })
}

fn bench(c: &mut Criterion) {
    let (plan, answer) = plan_and_answer();
    // What the adapter runs on a 200: parse, filter, serialise.
    let filter = |bytes: &[u8]| -> Vec<u8> {
        let mut doc = Node::parse(bytes).unwrap();
        let summary = filter_response(&plan, &mut doc);
        std::hint::black_box(&summary);
        doc.to_vec().unwrap()
    };
    let floor = |bytes: &[u8]| -> Vec<u8> { Node::parse(bytes).unwrap().to_vec().unwrap() };
    let value_floor = |bytes: &[u8]| -> Vec<u8> {
        let v: Value = serde_json::from_slice(bytes).unwrap();
        serde_json::to_vec(&v).unwrap()
    };
    {
        let mut doc = Node::parse(&answer).unwrap();
        let summary = filter_response(&plan, &mut doc);
        assert_eq!(summary.persons.len(), 1, "the lookup delivers its person");
        println!(
            "BRP answer of {} bytes: {} delivered paths, {} related persons, {} values stripped",
            answer.len(),
            summary.fields_delivered.len(),
            summary.persons[0].related.len(),
            summary.stripped,
        );
    }

    let mut g = c.benchmark_group("brp_lookup_answer");
    g.throughput(Throughput::Bytes(answer.len() as u64))
        .sample_size(50)
        .measurement_time(Duration::from_secs(3));
    g.bench_function("parse_filter_serialize", |b| b.iter(|| filter(&answer)));
    g.bench_function("floor_parse_serialize", |b| b.iter(|| floor(&answer)));
    g.bench_function("value_parse_serialize", |b| b.iter(|| value_floor(&answer)));
    g.finish();

    let per_call = |f: &dyn Fn(&[u8]) -> Vec<u8>| {
        let start = Instant::now();
        let mut n = 0u32;
        while start.elapsed() < Duration::from_secs(2) {
            std::hint::black_box(f(&answer));
            n += 1;
        }
        start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    };
    let t = per_call(&filter);
    let f = per_call(&floor);
    let v = per_call(&value_floor);
    println!(
        "\nBRP answer filter on {} bytes: parse+filter+serialise {t:.1} µs per lookup, \
         parse+serialise floor {f:.1} µs; the filter itself {:.1} µs. \
         serde_json::Value parse+serialise: {v:.1} µs",
        answer.len(),
        t - f,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
