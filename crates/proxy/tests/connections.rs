//! Connection hardening against the full server: a trickled body is cut off and recorded, and a
//! flood of half-open connections leaves the admin and API listeners answering.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails the test on unexpected errors"
)]

mod common;

use std::time::Duration;

use common::*;
use hyper::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr(url: &str) -> String {
    url.trim_start_matches("http://").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_gets_408_and_is_recorded() {
    let h = Harness::start(Opts {
        limits_toml: "body_read_timeout_ms = 300\n".into(),
        ..Opts::default()
    })
    .await;
    let s = TcpStream::connect(addr(&h.api)).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let head = format!(
        "POST /api/afval/containers HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n",
        token(&["BASE"])
    );
    wr.write_all(head.as_bytes()).await.unwrap();
    // One byte every 100 ms: the whole body would take 100 s.
    let trickle = tokio::spawn(async move {
        for _ in 0..1000 {
            if wr.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains("bodyTimeout") {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("no answer to a trickled body");
    trickle.abort();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("bodyTimeout"), "{text}");
    let rec = h.audit_lines().pop().unwrap();
    assert_eq!(rec["status"], json!(408), "{rec}");
    assert_eq!(rec["code"], json!("bodyTimeout"), "{rec}");
    assert_eq!(rec["api"], json!("afval"), "{rec}");
    assert_eq!(rec["method"], json!("POST"), "{rec}");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_on_the_api_listener_leave_both_listeners_answering() {
    let h = Harness::start(Opts {
        limits_toml: "header_read_timeout_ms = 30000\n".into(),
        ..Opts::default()
    })
    .await;
    let api = addr(&h.api);
    let mut flood = Vec::new();
    for i in 0..300 {
        let mut s = TcpStream::connect(&api).await.unwrap();
        if i % 2 == 0 {
            s.write_all(b"GET /api/afval/clusters HTTP/1.1\r\nhost: x\r\n")
                .await
                .unwrap();
        }
        flood.push(s);
    }
    let health = tokio::time::timeout(Duration::from_secs(10), h.admin_get("/healthz"))
        .await
        .expect("/healthz did not answer");
    assert_eq!(health.status, 200, "{}", health.text());
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        h.get_as("/api/afval/clusters", &[]),
    )
    .await
    .expect("the API did not answer");
    r.ok();
    let metrics = h.admin_get("/metrics").await.text();
    assert!(
        metric(&metrics, "sluis_open_connections", &[("listener", "api")]) >= 300.0,
        "{metrics}"
    );
    drop(flood);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_api_listener_leaves_the_admin_listener_answering() {
    let h = Harness::start(Opts {
        limits_toml: "max_connections = 10\nheader_read_timeout_ms = 30000\n".into(),
        ..Opts::default()
    })
    .await;
    let api = addr(&h.api);
    // More than the cap: the rest are held as connections being shed (`shed_connections`).
    let mut flood = Vec::new();
    for _ in 0..30 {
        flood.push(TcpStream::connect(&api).await.unwrap());
    }
    let health = tokio::time::timeout(Duration::from_secs(10), h.admin_get("/healthz"))
        .await
        .expect("/healthz did not answer while the API listener was full");
    assert_eq!(health.status, 200, "{}", health.text());
    // An API request meanwhile is told at once that sluis is full, and when to try again.
    let full = tokio::time::timeout(Duration::from_secs(5), h.get_as("/api/afval/clusters", &[]))
        .await
        .expect("a request past the cap was not answered at once");
    assert_eq!(full.status, 503, "{}", full.text());
    assert_eq!(full.json()["code"], "overloaded");
    assert_eq!(full.header("retry-after"), Some("1"));
    // Closing the flood frees the API listener again: a client that retries as told is served.
    drop(flood);
    let served = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let r = h.get_as("/api/afval/clusters", &[]).await;
            if r.status != 503 {
                return r;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
    .await
    .expect("the API did not answer after the flood closed");
    served.ok();
    let metrics = h.admin_get("/metrics").await.text();
    assert!(
        metric(
            &metrics,
            "sluis_connections_shed_total",
            &[("listener", "api")]
        ) >= 1.0,
        "{metrics}"
    );
    h.shutdown().await;
}

/// A burst of concurrent requests opens as many upstream connections as it needs; once it is
/// over they stay pooled, so the next burst reuses them instead of opening (and closing) one per
/// request — which would cost the most exactly when sluis is busiest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_connections_opened_by_a_burst_are_reused_by_the_next() {
    const BURST: usize = 200;
    let h = Harness::start(Opts::default()).await;
    let faults = h.fixture().faults().clone();
    // Slow enough that the whole burst is in flight at the upstream at once.
    faults.set_delay(Duration::from_millis(1_000));
    let auth = format!("Bearer {}", token(&[]));
    let burst = || {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..BURST {
            // A client connection of its own per request, as many independent callers would.
            let client = common::client();
            let url = format!("{}/api/afval/clusters", h.api);
            let auth = auth.clone();
            set.spawn(async move {
                try_send(
                    &client,
                    Method::GET,
                    &url,
                    &[("authorization", auth.as_str())],
                )
                .await
                .map(|r| {
                    if r.status == 200 {
                        (200, String::new())
                    } else {
                        (r.status, String::from_utf8_lossy(&r.body).into_owned())
                    }
                })
            });
        }
        set.join_all()
    };
    let first = burst().await;
    let failed: Vec<_> = first
        .iter()
        .filter(|s| !matches!(s, Ok((200, _))))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    let opened = faults.connections();
    assert!(
        opened >= (BURST / 2) as u64,
        "a burst of {BURST} slow requests used only {opened} upstream connections"
    );
    faults.clear_recorded();
    let second = burst().await;
    let failed: Vec<_> = second
        .iter()
        .filter(|s| !matches!(s, Ok((200, _))))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    let reopened = faults.connections();
    assert_eq!(faults.requests(), BURST as u64);
    // The first burst's connections were kept: the second opens only what it has in flight
    // beyond them (none when both bursts are wholly concurrent), give or take a few. With the
    // pool kept at a few dozen, it would open all but those again.
    let allowed = BURST as u64 - opened.min(BURST as u64) + (BURST / 10) as u64;
    assert!(
        reopened <= allowed,
        "the second burst opened {reopened} new upstream connections; the first opened {opened} \
         (pool not kept)"
    );
    h.shutdown().await;
}
