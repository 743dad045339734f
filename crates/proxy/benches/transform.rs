//! The dataset list transform alone, in bytes per second of upstream body: the 100-container
//! list of the fixture (`/v1/afvalwegingen/containers?_pageSize=100`, ~98 KB) filtered by the
//! example policy for a caller without scopes (the `iedereen` profile: `eigenaarNaam` cut to one
//! letter, `datumCreatie` withheld, links rewritten). Three ways, in the same process: the single
//! pass over the bytes the dataset adapter runs (`HalFilter::list_bytes`), the tree form
//! (serde_json `Value` parsed, filtered, serialised), and the floor of the tree form, parsing and
//! serialising the same body without filtering.
//!
//! `cargo bench -p sluis-proxy --bench transform` prints criterion's throughput and then a
//! summary with both rates and their ratio.
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
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use sluis_filter::{HalFilter, LinkRewriter};
use sluis_policy::{EncodingKey, Projector};
use sluis_testkit::{DatasetFixture, FixtureConfig};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fixture's 100-container list, as the upstream sends it.
fn list_body() -> (bytes::Bytes, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let fixture = DatasetFixture::start(FixtureConfig::default())
            .await
            .unwrap();
        let base = fixture.base_url();
        let client: Client<_, Empty<bytes::Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let uri = format!("{base}/v1/afvalwegingen/containers?_pageSize=100")
            .parse()
            .unwrap();
        let resp = client.get(uri).await.unwrap();
        assert_eq!(resp.status(), 200);
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        fixture.shutdown().await.unwrap();
        (body, format!("{base}/v1/afvalwegingen"))
    })
}

fn bench(c: &mut Criterion) {
    let (body, upstream_base) = list_body();
    let policy = sluis_policy::fs::load_policy(
        &[root().join("examples/policy/datasets")],
        &[root().join("examples/policy/profiles")],
    )
    .unwrap();
    let scopes = policy.scope_set::<&str>(&[]);
    let plan = policy.plan("afvalwegingen.containers", &scopes).unwrap();
    let key = EncodingKey::new(b"an-encoding-key-for-the-benchmark-0001".to_vec()).unwrap();
    let links = LinkRewriter {
        upstream_base,
        public_base: "https://api.gemeente.example/v1/afvalwegingen".into(),
    };
    let filter = || {
        HalFilter::new(
            &policy,
            &scopes,
            &links,
            Projector::new(&key, [0; 32]),
            None,
        )
    };
    // What the dataset adapter runs: the single pass over the upstream's bytes.
    let transform = |bytes: &[u8]| -> Vec<u8> {
        let (out, summary) = filter().list_bytes(&plan, "containers", bytes).unwrap();
        assert_eq!(summary.records, 100);
        out
    };
    // The tree form: parse, filter the tree, serialise.
    let tree = |bytes: &[u8]| -> Vec<u8> {
        let mut v: Value = serde_json::from_slice(bytes).unwrap();
        let summary = filter().list(&plan, "containers", &mut v).unwrap();
        assert_eq!(summary.records, 100);
        serde_json::to_vec(&v).unwrap()
    };
    let floor = |bytes: &[u8]| -> Vec<u8> {
        let v: Value = serde_json::from_slice(bytes).unwrap();
        serde_json::to_vec(&v).unwrap()
    };
    let out = transform(&body);
    assert!(!String::from_utf8_lossy(&out).contains("datumCreatie"));
    let same: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(same, serde_json::from_slice::<Value>(&tree(&body)).unwrap());

    let mut g = c.benchmark_group("dataset_list_100");
    g.throughput(Throughput::Bytes(body.len() as u64))
        .sample_size(30)
        .measurement_time(Duration::from_secs(4));
    g.bench_function("single_pass", |b| b.iter(|| transform(&body)));
    g.bench_function("tree_parse_filter_serialize", |b| b.iter(|| tree(&body)));
    g.bench_function("floor_parse_serialize", |b| b.iter(|| floor(&body)));
    g.finish();

    let rate = |f: &dyn Fn(&[u8]) -> Vec<u8>| {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_secs(2) {
            std::hint::black_box(f(&body));
            n += 1;
        }
        (n as f64 * body.len() as f64) / start.elapsed().as_secs_f64() / 1e9
    };
    let t = rate(&transform);
    let tr = rate(&tree);
    let f = rate(&floor);
    println!(
        "\ndataset list transform on {} bytes: single pass {t:.3} GB/s ({:.0} µs per list), \
         tree form {tr:.3} GB/s ({:.0} µs), serde_json parse+serialise floor {f:.3} GB/s; \
         single pass / tree {:.2}, single pass / floor {:.2}",
        body.len(),
        body.len() as f64 / (t * 1e3),
        body.len() as f64 / (tr * 1e3),
        t / tr,
        t / f,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
