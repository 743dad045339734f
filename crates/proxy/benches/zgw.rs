//! The ZGW adapter's cost, in one process over loopback, against the ZGW fixture with 100,000
//! zaken over 200 zaaktypen and sluis recording into its SQLite audit store (as shipped):
//!
//! - **list**: a client authorized for 170 zaaktypen (three different maxima, so three groups)
//!   asks `GET /zaken` through sluis; directly, the same client would have to send
//!   `POST /zaken/_zoek` with the 170 zaaktypen (one search; no confidentiality cap at all);
//! - **detail + involvement**: a behandelaar reads a zaak of a zaaktype whose rule requires
//!   their rol; sluis reads the zaak and (cache cold, or every time with the cache off) the
//!   user's rollen; directly it is one `GET /zaken/{uuid}`.
//!
//! Each case: sequential latency (mean over `ITER` requests, after a warm-up) and throughput
//! with 16 concurrent requests for `SECS` seconds; then the sluis/direct ratios, and how many
//! upstream requests sluis sent per request (counted at the fixture).
//!
//! `cargo bench -p sluis-proxy --bench zgw` (ITER=200 SECS=3 by default; both settable).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark"
)]

#[path = "../tests/zgw_support/mod.rs"]
mod zgw_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hyper::Method;
use serde_json::{Value, json};
use sluis_testkit::zgw::{Betrokkene, ZgwFixtureConfig};
use zgw_support::*;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone)]
struct Call {
    method: Method,
    url: String,
    token: String,
    body: Option<Value>,
}

struct Figures {
    mean_ms: f64,
    rps: f64,
    p99_ms: f64,
}

async fn measure(h: &Arc<ZgwHarness>, call: &Call, iter: u64, secs: u64) -> Figures {
    // Warm-up and a check that the case answers 200.
    for _ in 0..20 {
        let r = h
            .send(
                call.method.clone(),
                &call.url,
                Some(&call.token),
                call.body.as_ref(),
                &[],
            )
            .await;
        assert_eq!(r.status, 200, "{} {}: {}", call.method, call.url, r.text());
    }
    let start = Instant::now();
    for _ in 0..iter {
        h.send(
            call.method.clone(),
            &call.url,
            Some(&call.token),
            call.body.as_ref(),
            &[],
        )
        .await;
    }
    let mean_ms = start.elapsed().as_secs_f64() * 1000.0 / iter as f64;
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (h, call, done, stop) = (
            Arc::clone(h),
            call.clone(),
            Arc::clone(&done),
            Arc::clone(&stop),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                h.send(
                    call.method.clone(),
                    &call.url,
                    Some(&call.token),
                    call.body.as_ref(),
                    &[],
                )
                .await;
                lat.push(t.elapsed());
                done.fetch_add(1, Ordering::Relaxed);
            }
            lat
        }));
    }
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rps = done.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64();
    all.sort();
    let p99 = all
        .get(all.len().saturating_mul(99) / 100)
        .copied()
        .unwrap_or_default();
    Figures {
        mean_ms,
        rps,
        p99_ms: p99.as_secs_f64() * 1000.0,
    }
}

async fn upstream_calls_per_request(h: &ZgwHarness, call: &Call) -> f64 {
    h.fixture.clear_requests();
    let n = 10;
    for _ in 0..n {
        h.send(
            call.method.clone(),
            &call.url,
            Some(&call.token),
            call.body.as_ref(),
            &[],
        )
        .await;
    }
    h.fixture.requests().len() as f64 / f64::from(n)
}

async fn harness(cache_secs: u64) -> ZgwHarness {
    ZgwHarness::start(ZgwOpts {
        fixture: ZgwFixtureConfig {
            client_id: SLUIS_CLIENT.into(),
            secret: SLUIS_SECRET.into(),
            zaken: 100_000,
            zaaktypen: 200,
            documents: 100,
            ..ZgwFixtureConfig::default()
        },
        rules: Some(String::new()),
        involvement_cache_secs: cache_secs,
        sqlite_audit: true,
        ..ZgwOpts::default()
    })
    .await
}

fn main() {
    let iter = env_u64("ITER", 200);
    let secs = env_u64("SECS", 3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let mut rows = Vec::new();
        for cache in [30u64, 0] {
            let started = Instant::now();
            let h = harness(cache).await;
            let setup = started.elapsed();
            let zaaktypen = h.fixture.zaaktype_urls();
            let chosen: Vec<String> = zaaktypen.iter().take(170).cloned().collect();
            let maxima = ["openbaar", "vertrouwelijk", "zeer_geheim"];
            let autorisaties: Vec<Value> = chosen
                .iter()
                .enumerate()
                .map(|(i, zt)| zrc(zt, maxima[i % 3], &["zaken.lezen"]))
                .collect();
            // The involvement rule's zaaktype: the last of the 170.
            let hr = chosen.last().unwrap().clone();
            let zaak = h.fixture.zaken_where(|z| z.zaaktype == hr)[0].url.clone();
            h.fixture
                .add_rol(&zaak, "behandelaar", Betrokkene::Medewerker {
                    identificatie: "mdw-bench".into(),
                    achternaam: "Bench".into(),
                })
                .unwrap();
            h.set_rules(&format!(
                "[[involvement]]\nzaaktypen = [\"{hr}\"]\nactions = [\"retrieve\"]\nroles = [\"behandelaar\"]\n"
            ))
            .await;
            h.set_applicaties(&json!([
                applicatie(APP_A, "Bench", autorisaties.clone()),
                applicatie(APP_TRUSTED, "Zaakbehandeling", vec![zrc(&hr, "zeer_geheim", &["zaken.lezen"])]),
            ]))
            .await;
            let h = Arc::new(h);
            let base = h.fixture.base_url();
            let up = h.fixture.superuser_token();
            let a = zgw_token(APP_A, SECRET_A, None);
            let b = zgw_token(APP_TRUSTED, SECRET_TRUSTED, Some(("mdw-bench", "Bench")));
            let direct_list = Call {
                method: Method::POST,
                url: format!("{base}{ZAKEN}/zaken/_zoek"),
                token: up.clone(),
                body: Some(json!({"zaaktype__in": chosen})),
            };
            let sluis_list = Call {
                method: Method::GET,
                url: format!("{}{ZAKEN}/zaken", h.api),
                token: a,
                body: None,
            };
            let direct_detail = Call {
                method: Method::GET,
                url: zaak.clone(),
                token: up,
                body: None,
            };
            let sluis_detail = Call {
                method: Method::GET,
                url: h.public(&zaak),
                token: b,
                body: None,
            };
            if cache == 30 {
                println!(
                    "fixture: {} zaken over {} zaaktypen, sluis started in {:.1} s",
                    h.fixture.zaak_count(),
                    zaaktypen.len(),
                    setup.as_secs_f64()
                );
                let dl = measure(&h, &direct_list, iter, secs).await;
                let sl = measure(&h, &sluis_list, iter, secs).await;
                let calls = upstream_calls_per_request(&h, &sluis_list).await;
                rows.push(("GET /zaken, 170 zaaktypen (3 groups)", dl, sl, calls));
            }
            let dd = measure(&h, &direct_detail, iter, secs).await;
            let sd = measure(&h, &sluis_detail, iter, secs).await;
            let calls = upstream_calls_per_request(&h, &sluis_detail).await;
            rows.push((
                if cache == 30 {
                    "detail + involvement (rollen cached 30 s)"
                } else {
                    "detail + involvement (no cache)"
                },
                dd,
                sd,
                calls,
            ));
            Arc::try_unwrap(h).ok().unwrap().shutdown().await;
        }
        println!();
        println!("| case | direct mean ms | sluis mean ms | direct rps (c=16) | sluis rps (c=16) | sluis/direct rps | p99 direct / sluis ms | upstream calls per sluis request |");
        println!("|---|---|---|---|---|---|---|---|");
        for (name, d, s, calls) in rows {
            println!(
                "| {name} | {:.2} | {:.2} | {:.0} | {:.0} | {:.2} | {:.1} / {:.1} | {calls:.1} |",
                d.mean_ms,
                s.mean_ms,
                d.rps,
                s.rps,
                s.rps / d.rps,
                d.p99_ms,
                s.p99_ms
            );
        }
    });
}
