//! Upstream faults mapped to problem+json: timeout → 504, unreachable or closing without an
//! answer → 503, upstream problem documents passed on with `instance` rewritten, non-JSON and
//! oversized bodies → 502.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests: a failed expectation must abort the test loudly"
)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const LIST: &str = "/api/afval/containers";

/// The body says nothing about the upstream's address.
#[track_caller]
fn no_upstream_details(h: &Harness, r: &Resp) {
    let text = r.text();
    assert!(
        !text.contains(&format!("127.0.0.1:{}", h.upstream_port)),
        "{text}"
    );
    assert!(!text.contains("/v1/afvalwegingen"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_faults_map_to_problems() {
    let h = Harness::start(Opts {
        timeout_ms: 400,
        upstream_max_body: Some(64 * 1024),
        ..Opts::default()
    })
    .await;
    let t = token(&[]);
    let faults = h.fixture().faults().clone();

    // Slower than the upstream timeout.
    faults.set_delay(Duration::from_millis(1500));
    let r = h.get(LIST, Some(&t), &[]).await;
    r.problem(504, "upstreamTimeout");
    no_upstream_details(&h, &r);
    faults.reset();

    // Upstream problem documents are reduced to the standard members, with sluis's instance;
    // `detail` only from upstreams configured as safe (this one is not).
    faults.set_status(Some(500));
    let r = h.get(&format!("{LIST}?_pageSize=3"), Some(&t), &[]).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let doc = r.json();
    assert_eq!(doc["instance"], json!(LIST));
    assert_eq!(doc["status"], json!(500));
    assert_eq!(doc["detail"], Value::Null, "{doc}");
    let members: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert!(
        members.iter().all(
            |k| ["type", "title", "status", "detail", "instance", "code"].contains(&k.as_str())
        ),
        "only standard members pass: {doc}"
    );
    no_upstream_details(&h, &r);
    faults.set_status(Some(404));
    let r = h.get(&format!("{LIST}/1"), Some(&t), &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["instance"], json!(format!("{LIST}/1")));
    faults.reset();

    // A real upstream 404 (no such object) too.
    let r = h.get(&format!("{LIST}/99999"), Some(&t), &[]).await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(r.json()["instance"], json!(format!("{LIST}/99999")));
    no_upstream_details(&h, &r);

    // A maintenance page instead of JSON.
    faults.set_non_json(true);
    let r = h.get(LIST, Some(&t), &[]).await;
    r.problem(502, "badUpstream");
    assert!(!r.text().contains("onderhoud"));
    faults.reset();

    // A body above the configured cap.
    faults.set_oversized(Some(256 * 1024));
    let r = h.get(LIST, Some(&t), &[]).await;
    r.problem(502, "badUpstream");
    assert!(r.body.len() < 4096);
    faults.reset();

    // Back to normal on the same pooled client.
    let r = h.get(LIST, Some(&t), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());

    // Every failure was recorded as an error.
    let decisions: Vec<(String, u64)> = h
        .audit_lines()
        .iter()
        .map(|l| {
            (
                l["decision"].as_str().unwrap().to_owned(),
                l["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, u64)> = [
        ("error", 504),
        ("error", 500),
        ("error", 404),
        ("error", 404),
        ("error", 502),
        ("error", 502),
        ("permit", 200),
    ]
    .iter()
    .map(|(d, s)| ((*d).to_owned(), *s))
    .collect();
    assert_eq!(decisions, want);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_upstream_is_503() {
    // A port held by a socket that is bound but never listens: a connection is refused, and no
    // other test running alongside can take the port meanwhile (a port merely free a moment ago
    // may by then be another test's listener).
    let holder = tokio::net::TcpSocket::new_v4().unwrap();
    holder.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = holder.local_addr().unwrap().port();
    let h = Harness::start(Opts {
        upstream_override: Some(format!("http://127.0.0.1:{port}")),
        ..Opts::default()
    })
    .await;
    let r = h.get(LIST, Some(&token(&[])), &[]).await;
    let doc = r.problem(503, "upstreamUnavailable");
    assert!(!r.text().contains(&port.to_string()), "{doc}");
    h.shutdown().await;
    drop(holder);
}

/// An upstream that reads the request and closes the connection without answering (as a TLS 1.3
/// server that refuses the client's certificate may look to the client) is unavailable, not a
/// bad answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_closing_without_an_answer_is_503() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let closer = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            drop(stream);
        }
    });
    let h = Harness::start(Opts {
        upstream_override: Some(format!("http://127.0.0.1:{port}")),
        ..Opts::default()
    })
    .await;
    let r = h.get(LIST, Some(&token(&[])), &[]).await;
    r.problem(503, "upstreamUnavailable");
    h.shutdown().await;
    closer.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_going_down_is_503() {
    let mut h = Harness::start(Opts::default()).await;
    let t = token(&[]);
    assert_eq!(h.get(LIST, Some(&t), &[]).await.status, 200);
    h.fixture.take().unwrap().shutdown().await.unwrap();
    let r = h.get(LIST, Some(&t), &[]).await;
    r.problem(503, "upstreamUnavailable");
    h.shutdown().await;
}
