//! Operations on the admin listener — `/healthz`, `/readyz`, Prometheus `/metrics` — and
//! graceful shutdown letting an in-flight request finish.
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
use hyper::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics() {
    let mut p = PolicyFiles::default();
    set(&mut p.afval, "/tables/1/auth", json!("BAG/R"));
    let mut h = Harness::start(Opts {
        policy: p,
        ..Opts::default()
    })
    .await;
    let r = h.admin_get("/healthz").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], json!("ok"));
    let r = h.admin_get("/readyz").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let doc = r.json();
    assert_eq!(doc["status"], json!("ready"));
    assert_eq!(doc["audit"], json!(true));
    assert_eq!(doc["issuerKeys"], json!(true));
    assert_eq!(
        doc["upstreams"],
        json!({"afval": true, "parkeren": true, "brp": true})
    );
    assert_eq!(
        doc["policyVersion"],
        json!(h.server().shared().runtime.load().policy.version())
    );
    h.admin_get("/nope").await.problem(404, "notFound");
    // The admin listener does not serve the API, and the API listener not the admin pages.
    h.admin_get("/api/afval/containers")
        .await
        .problem(404, "notFound");
    h.get("/metrics", Some(&token(&[])), &[])
        .await
        .problem(404, "notFound");

    let t = token(&[]);
    for _ in 0..3 {
        assert_eq!(
            h.get("/api/afval/containers", Some(&t), &[]).await.status,
            200
        );
    }
    h.get("/api/afval/clusters", Some(&t), &[])
        .await
        .problem(403, "forbidden");
    h.get("/api/afval/containers", None, &[])
        .await
        .problem(401, "notAuthenticated");

    let r = h.admin_get("/metrics").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let m = r.text();
    let permitted = metric(
        &m,
        "sluis_requests_total",
        &[
            ("api", "afval"),
            ("operation", "dataset.afvalwegingen.containers.list"),
            ("status", "200"),
            ("decision", "permit"),
        ],
    );
    assert!(permitted >= 3.0, "{m}");
    let denied = metric(
        &m,
        "sluis_requests_total",
        &[
            ("api", "afval"),
            ("operation", "dataset.afvalwegingen.clusters.list"),
            ("status", "403"),
            ("decision", "deny"),
        ],
    );
    assert!(denied >= 1.0, "{m}");
    assert!(
        metric(
            &m,
            "sluis_requests_total",
            &[("api", "afval"), ("status", "401"), ("decision", "deny")]
        ) >= 1.0,
        "{m}"
    );
    for hist in [
        "sluis_request_duration_seconds",
        "sluis_upstream_duration_seconds",
    ] {
        let bucket = format!("{hist}_bucket");
        assert!(
            m.lines()
                .any(|l| l.starts_with(&format!("{bucket}{{")) && l.contains("le=\"0.005\"")),
            "no {bucket}: {m}"
        );
        assert!(
            metric(&m, &bucket, &[("api", "afval"), ("le", "+Inf")]) >= 3.0,
            "{m}"
        );
        assert!(metric(&m, &format!("{hist}_count"), &[("api", "afval")]) >= 3.0);
    }
    assert!(
        metric(
            &m,
            "sluis_jwks_refreshes_total",
            &[("issuer", "idp"), ("result", "ok")]
        ) >= 1.0,
        "{m}"
    );
    assert!(m.contains("# HELP sluis_requests_total"));

    // Upstream gone: not ready, but still alive.
    h.fixture.take().unwrap().shutdown().await.unwrap();
    let r = h.admin_get("/readyz").await;
    assert_eq!(r.status, 503, "{}", r.text());
    let doc = r.json();
    assert_eq!(doc["status"], json!("not ready"));
    assert_eq!(doc["upstreams"]["afval"], json!(false));
    assert_eq!(h.admin_get("/healthz").await.status, 200);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_lets_in_flight_requests_finish() {
    let mut h = Harness::start(Opts::default()).await;
    let faults = h.fixture().faults().clone();
    faults.clear_recorded();
    faults.set_delay(Duration::from_millis(1200));
    let url = format!("{}/api/afval/containers?_pageSize=4", h.api);
    let auth = format!("Bearer {}", token(&[]));
    let client = client();
    let in_flight = tokio::spawn(async move {
        try_send(
            &client,
            Method::GET,
            &url,
            &[("authorization", auth.as_str())],
        )
        .await
    });
    // Wait until the request is at the upstream, then stop sluis.
    assert!(
        eventually(Duration::from_secs(5), || async { faults.requests() >= 1 }).await,
        "the request never reached the upstream"
    );
    let api = h.api.clone();
    h.server.take().unwrap().shutdown().await;
    let r = in_flight
        .await
        .unwrap()
        .expect("the in-flight request was cut off");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(items(&r.json(), "containers").len(), 4);
    // The audit record was written before the response left.
    let last = h.audit_lines().pop().unwrap();
    assert_eq!(last["status"], json!(200));

    // After shutdown nothing listens any more.
    let after = try_send(
        &common::client(),
        Method::GET,
        &format!("{api}/api/afval/containers"),
        &[],
    )
    .await;
    assert!(after.is_err(), "still serving after shutdown: {after:?}");
    h.shutdown().await;
}
