//! The BRP adapter's overhead, in one process over loopback: a BSN lookup of one person and a
//! postcode search that returns 10 persons (`boundary_address`), each through sluis and directly
//! against the BRP fixture, sequentially (latency, one request at a time).
//!
//! Through sluis a request is: token verified, headers and purpose checked, the body validated
//! against the BRP contract, decided by `examples/policy/brp.toml` (municipality injected,
//! `fields` composed, identifiers added), forwarded with sluis's API key, the answer filtered
//! (identifiers stripped), and the access record plus one processing record per person
//! committed to the SQLite audit store (hash chain, fsync) before the answer leaves. "Direct"
//! sends the fixture exactly the body sluis forwards, so the upstream work is the same.
//!
//! `cargo bench -p sluis-proxy --bench brp` prints criterion's estimates (3 s measurement per
//! case) and then a summary with mean latencies, the sluis/direct ratio per case, and how much of
//! the difference the audit writer spent appending (SQLite insert, hash chain, fsync).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

#[path = "../tests/brp_support/mod.rs"]
mod brp_support;

use std::time::{Duration, Instant};

use brp_support::*;
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use serde_json::{Value, json};

/// One prepared request: URL, headers, body.
struct Call {
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
}

impl Call {
    /// Sends the request and reads the whole answer; returns the status and the body.
    async fn send(&self, client: &HttpClient) -> (u16, Bytes) {
        let mut req = Request::post(&self.url).header("content-type", "application/json");
        for (k, v) in &self.headers {
            req = req.header(*k, v.as_str());
        }
        let resp = client
            .request(req.body(Full::new(self.body.clone())).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, body)
    }

    async fn run(&self, client: &HttpClient, n: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..n {
            let (status, _) = self.send(client).await;
            assert_eq!(status, 200);
        }
        start.elapsed()
    }
}

/// The sluis call and the equivalent direct call of one case, checked once.
async fn case(env: &Env, token: &str, body: &Value, persons: usize) -> (Call, Call) {
    let mut headers = std_headers("bench-1");
    headers.push(("authorization", format!("Bearer {token}")));
    let via = Call {
        url: env.url(),
        headers,
        body: Bytes::from(serde_json::to_vec(body).unwrap()),
    };
    let (status, answer) = via.send(&env.client).await;
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["personen"].as_array().unwrap().len(), persons);
    env.check_contract(&answer);
    let forwarded = env.fixture.last_body().unwrap();
    let direct = Call {
        url: env.fixture.personen_url(),
        headers: vec![(UPSTREAM_KEY_HEADER, UPSTREAM_KEY.to_owned())],
        body: Bytes::from(forwarded),
    };
    let (status, answer) = direct.send(&env.client).await;
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["personen"].as_array().unwrap().len(), persons);
    (via, direct)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let env = rt.block_on(Env::start_with(Options {
        timeout_ms: 5000,
        ..Options::default()
    }));
    let d = data();
    let known = d.known().clone();
    let t = token(&[ZOEK_BSN, ZOEK_POSTCODE, BASIS, ADRES]);
    let p = known.family.parents[0].clone();
    let b = known.boundary_address.clone();
    let cases = rt.block_on(async {
        vec![
            (
                "bsn_1_person",
                case(
                    &env,
                    &t,
                    &json!({"type": "RaadpleegMetBurgerservicenummer",
                            "burgerservicenummer": [p]}),
                    1,
                )
                .await,
            ),
            (
                "postcode_10_persons",
                case(
                    &env,
                    &t,
                    &json!({"type": "ZoekMetPostcodeEnHuisnummer",
                            "postcode": b.postcode, "huisnummer": b.huisnummer}),
                    10,
                )
                .await,
            ),
        ]
    });

    let mut group = c.benchmark_group("brp");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (name, (via, direct)) in &cases {
        group.bench_function(format!("{name}/direct"), |bench| {
            bench.iter_custom(|n| rt.block_on(direct.run(&env.client, n)));
        });
        group.bench_function(format!("{name}/sluis"), |bench| {
            bench.iter_custom(|n| rt.block_on(via.run(&env.client, n)));
        });
    }
    group.finish();

    // The summary: alternating blocks of direct and sluis requests, 2 s per case, so both
    // modes see the same machine state.
    println!("\nBRP through sluis vs direct (sequential requests, means over interleaved blocks):");
    for (name, (via, direct)) in &cases {
        let (mut t_direct, mut t_sluis, mut n) = (Duration::ZERO, Duration::ZERO, 0u64);
        let before = env.server.shared().audit.stats();
        while t_direct + t_sluis < Duration::from_secs(2) {
            t_direct += rt.block_on(direct.run(&env.client, 25));
            t_sluis += rt.block_on(via.run(&env.client, 25));
            n += 25;
        }
        let after = env.server.shared().audit.stats();
        let us = |t: Duration| t.as_secs_f64() * 1e6 / n as f64;
        println!(
            "  {name:<20} direct {:>7.0} µs   sluis {:>7.0} µs   ratio {:>5.2}x   overhead {:>6.0} µs   \
             of which audit commit {:>6.0} µs ({:.0} entries/request)   ({n} requests each)",
            us(t_direct),
            us(t_sluis),
            us(t_sluis) / us(t_direct),
            us(t_sluis) - us(t_direct),
            (after.busy_micros - before.busy_micros) as f64 / n as f64,
            (after.total_committed - before.total_committed) as f64 / n as f64,
        );
    }
    rt.block_on(async { env.stop().await });
}

criterion_group!(benches, bench);
criterion_main!(benches);
