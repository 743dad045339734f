//! Regressions for what a probe of the BRP mount found, tried as an attacker would: metric
//! labels from client input, the correlation id not forwarded, an API-wide scope not enforced,
//! and upstream problem documents passed through verbatim.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails the test on unexpected errors"
)]

mod brp_support;

use brp_support::*;
use serde_json::json;

fn lookup(bsn: &str) -> serde_json::Value {
    json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [bsn],
           "fields": ["naam"]})
}

async fn metrics(env: &Env) -> String {
    let url: hyper::Uri = format!("http://{}/metrics", env.server.admin_addr())
        .parse()
        .unwrap();
    let resp = env
        .client
        .request(
            hyper::Request::get(url)
                .body(http_body_util::Full::new(bytes::Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test]
async fn a_query_type_that_fails_validation_is_not_a_metric_label() {
    let env = Env::start().await;
    let bogus = "Bogus_type_label_probe";
    let r = env
        .post(
            &token(&[ZOEK_BSN, BASIS]),
            &json!({"type": bogus, "burgerservicenummer": ["999993653"]}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let text = metrics(&env).await;
    assert!(text.contains("sluis_requests_total"), "{text}");
    assert!(
        !text.contains(bogus),
        "client input became a label:\n{text}"
    );
    assert!(text.contains("operation=\"brp.personen\""), "{text}");
}

#[tokio::test]
async fn the_correlation_id_is_forwarded_upstream() {
    let env = Env::start().await;
    let p = data().known().family.parents[0].clone();
    let r = env
        .post_corr(&token(&[ZOEK_BSN, BASIS]), "corr-probe-17", &lookup(&p))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let headers = env.fixture.faults().last_headers();
    assert!(
        headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("x-correlation-id") && v == "corr-probe-17"),
        "{headers:?}"
    );
    assert!(
        headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("traceparent"))
    );
}

#[tokio::test]
async fn a_mount_scope_is_required_on_top_of_the_query_type_scope() {
    let env = Env::start_with(Options {
        mount_scopes: vec!["BRP/api"],
        ..Options::default()
    })
    .await;
    let p = data().known().family.parents[0].clone();
    let before = env.upstream_requests();
    let r = env.post(&token(&[ZOEK_BSN, BASIS]), &lookup(&p)).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(env.upstream_requests(), before, "nothing forwarded");
    let r = env
        .post(&token(&["BRP/api", ZOEK_BSN, BASIS]), &lookup(&p))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn an_upstream_that_sends_more_than_asked_is_projected_and_flagged() {
    let env = Env::start().await;
    let p = data().known().family.parents[0].clone();
    env.fixture.faults().set_overdeliver(true);
    let r = env.post(&token(&[ZOEK_BSN, BASIS]), &lookup(&p)).await;
    env.fixture.faults().set_overdeliver(false);
    assert_eq!(r.status, 200, "{}", r.body);
    let person = &r.personen()[0];
    let keys: Vec<&String> = person.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["naam"], "only what was asked for leaves: {person}");
    let access = env.access(&r.trace_id());
    assert!(
        access.flags.iter().any(|f| f == "upstream-overdelivered"),
        "{access:?}"
    );
    let text = metrics(&env).await;
    assert!(
        text.contains("sluis_upstream_stripped_values_total"),
        "{text}"
    );
    // The record says what was delivered, not what the upstream sent.
    let lines = env.processing(&r.trace_id());
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0]
            .fields_delivered
            .iter()
            .all(|f| f.starts_with("naam")),
        "{:?}",
        lines[0].fields_delivered
    );
}
