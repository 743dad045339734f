//! Fault injection, API-key enforcement and request recording, over real HTTP.

// Integration-test helpers are test code too; this lets clippy's test allowances apply.
#![cfg(test)]

mod common;

use std::time::{Duration, Instant};

use common::{assert_problem, get, get_with};
use sluis_testkit::{DatasetFixture, FixtureConfig, FixtureHandle};

async fn fixture() -> FixtureHandle {
    DatasetFixture::start(FixtureConfig::default())
        .await
        .unwrap()
}

const PATH: &str = "/v1/afvalwegingen/clusters";

#[tokio::test]
async fn api_key_is_enforced() {
    let fx = DatasetFixture::start(FixtureConfig {
        api_key: Some(("X-Api-Key".into(), "fixture-sleutel".into())),
        ..FixtureConfig::default()
    })
    .await
    .unwrap();
    let url = format!("{}{PATH}", fx.base_url());

    let missing = get(&url).await;
    let problem = assert_problem(&missing, 401, PATH);
    assert_eq!(problem["type"], "urn:apiexception:not_authenticated");
    assert!(!String::from_utf8_lossy(&missing.body).contains("fixture-sleutel"));

    let wrong = get_with(&url, &[("x-api-key", "fixture-sleutel-x")]).await;
    assert_problem(&wrong, 401, PATH);
    let elsewhere = get_with(&url, &[("authorization", "fixture-sleutel")]).await;
    assert_problem(&elsewhere, 401, PATH);

    let ok = get_with(&url, &[("x-api-key", "fixture-sleutel")]).await;
    assert_eq!(ok.status, 200);
    assert_eq!(fx.faults().requests(), 4);
}

#[tokio::test]
async fn bad_api_key_header_name_is_a_config_error() {
    let err = DatasetFixture::start(FixtureConfig {
        api_key: Some(("bad header".into(), "v".into())),
        ..FixtureConfig::default()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(err, sluis_testkit::TestkitError::Config(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn delay() {
    let fx = fixture().await;
    let url = format!("{}{PATH}", fx.base_url());
    fx.faults().set_delay(Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(get(&url).await.status, 200);
    // A lower bound only: sleeping guarantees it, so this cannot flake.
    assert!(started.elapsed() >= Duration::from_millis(300));
    // A client with a shorter timeout gives up.
    let timed_out = tokio::time::timeout(Duration::from_millis(50), get(&url)).await;
    assert!(timed_out.is_err());
    fx.faults().reset();
    assert_eq!(fx.faults().delay(), Duration::ZERO);
    assert_eq!(get(&url).await.status, 200);
}

#[tokio::test]
async fn forced_status() {
    let fx = fixture().await;
    let url = format!("{}{PATH}", fx.base_url());
    for status in [500, 502, 503, 429, 403] {
        fx.faults().set_status(Some(status));
        let resp = get(&url).await;
        let problem = assert_problem(&resp, status, PATH);
        assert_eq!(problem["detail"], "Fault injected by the fixture.");
    }
    fx.faults().set_status(None);
    assert_eq!(get(&url).await.status, 200);
}

#[tokio::test]
async fn non_json() {
    let fx = fixture().await;
    let url = format!("{}{PATH}", fx.base_url());
    fx.faults().set_non_json(true);
    let resp = get(&url).await;
    assert_eq!(resp.status, 200);
    assert!(resp.content_type().starts_with("text/html"));
    assert!(serde_json::from_slice::<serde_json::Value>(&resp.body).is_err());
    assert!(String::from_utf8_lossy(&resp.body).contains("<html"));
    fx.faults().reset();
    assert_eq!(get(&url).await.content_type(), "application/hal+json");
}

#[tokio::test]
async fn oversized() {
    let fx = fixture().await;
    let url = format!("{}{PATH}", fx.base_url());
    fx.faults().set_oversized(Some(5_000_000));
    let resp = get(&url).await;
    assert_eq!(resp.status, 200);
    assert!(resp.body.len() >= 5_000_000, "{}", resp.body.len());
    assert_eq!(
        resp.headers["content-length"].to_str().unwrap(),
        resp.body.len().to_string()
    );
    let body = resp.json();
    assert!(body["_embedded"]["filler"].as_array().unwrap().len() > 4000);
    fx.faults().set_oversized(None);
    let normal = get(&url).await;
    assert!(normal.body.len() < 100_000);
}

#[tokio::test]
async fn faults_win_over_the_api_key_check() {
    let fx = DatasetFixture::start(FixtureConfig {
        api_key: Some(("x-api-key".into(), "k".into())),
        ..FixtureConfig::default()
    })
    .await
    .unwrap();
    fx.faults().set_status(Some(502));
    assert_eq!(get(&format!("{}{PATH}", fx.base_url())).await.status, 502);
}

#[tokio::test]
async fn records_requests_and_headers() {
    let fx = fixture().await;
    assert_eq!(fx.faults().requests(), 0);
    assert!(fx.faults().last_headers().is_empty());
    assert!(fx.faults().last_request().is_none());

    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let url = format!("{}{PATH}?status=gepland&_pageSize=5", fx.base_url());
    get_with(&url, &[("traceparent", traceparent), ("X-Api-Key", "k1")]).await;
    get(&format!("{}/v1/onbekend/tabel", fx.base_url())).await;
    assert_eq!(fx.faults().requests(), 2);
    // The last request wins.
    let last = fx.faults().last_request().unwrap();
    assert_eq!(last.uri, "/v1/onbekend/tabel");
    assert!(last.header("traceparent").is_none());

    get_with(&url, &[("traceparent", traceparent), ("X-Api-Key", "k1")]).await;
    let headers = fx.faults().last_headers();
    assert!(headers.contains(&("traceparent".to_owned(), traceparent.to_owned())));
    assert!(headers.contains(&("x-api-key".to_owned(), "k1".to_owned())));
    assert!(!headers.iter().any(|(n, _)| n == "authorization"));
    let last = fx.faults().last_request().unwrap();
    assert_eq!(last.method, "GET");
    assert_eq!(
        last.uri,
        "/v1/afvalwegingen/clusters?status=gepland&_pageSize=5"
    );
    assert_eq!(last.header("X-API-KEY"), Some("k1"));

    // Faulted requests are counted too.
    fx.faults().set_status(Some(500));
    get(&url).await;
    assert_eq!(fx.faults().requests(), 4);

    fx.faults().clear_recorded();
    assert_eq!(fx.faults().requests(), 0);
    assert!(fx.faults().last_request().is_none());
}

#[tokio::test]
async fn shutdown_is_prompt_even_with_a_long_delay_in_flight() {
    let fx = fixture().await;
    fx.faults().set_delay(Duration::from_secs(600));
    let url = format!("{}{PATH}", fx.base_url());
    let pending = tokio::spawn(async move {
        let request = hyper::Request::get(url)
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        common::client().request(request).await
    });
    // Let the request reach the server.
    while fx.faults().requests() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::timeout(Duration::from_secs(30), fx.shutdown())
        .await
        .expect("shutdown finishes after the grace period")
        .unwrap();
    // The in-flight request was cut off rather than answered.
    assert!(pending.await.unwrap().is_err());
}
