//! Rate limits end to end: a BRP lookup limit per user answers 429 problem+json with
//! `Retry-After` once a user's share is used, forwards nothing for a refused request, records
//! the refusal, leaves other users and other query types alone, and survives a reload.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails the test on unexpected errors"
)]

mod brp_support;

use brp_support::*;
use serde_json::{Value, json};
use sluis_audit::Decision;

const LIMITS: &str = r#"
[[rate_limits]]
name = "bsn-lookups-per-user"
apis = ["brp-personen"]
operations = ["brp.personen.RaadpleegMetBurgerservicenummer"]
per = "user"
requests = 3
per_seconds = 3600
"#;

fn lookup(bsn: &str) -> Value {
    json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [bsn], "fields": ["naam"]})
}

fn as_user(user: &str) -> Vec<(&'static str, String)> {
    let mut h = std_headers("corr-rl");
    h[0].1 = user.to_owned();
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_over_the_limit_gets_429_with_retry_after_and_nothing_is_forwarded() {
    let env = Env::start_with(Options {
        extra_toml: LIMITS.into(),
        ..Options::default()
    })
    .await;
    let bsn = data().known().family.parents[0].clone();
    let t = token(&[ZOEK_BSN, BASIS]);
    let ann = as_user("ann@gemeente.example");
    for _ in 0..3 {
        let r = env.post_as(Some(&t), &ann, &lookup(&bsn)).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let forwarded = env.upstream_requests();
    let r = env.post_as(Some(&t), &ann, &lookup(&bsn)).await;
    let doc = r.assert_problem(429, "tooManyRequests");
    assert!(
        doc["detail"]
            .as_str()
            .unwrap()
            .contains("bsn-lookups-per-user"),
        "{doc}"
    );
    // One lookup per 20 minutes comes back.
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1_190..=1_200).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        env.upstream_requests(),
        forwarded,
        "a refused lookup reached the BRP"
    );
    let a = env.access(&r.trace_id());
    assert_eq!((a.decision, a.status), (Decision::Deny, 429));
    assert_eq!(a.code.as_deref(), Some("tooManyRequests"));
    assert!(env.processing(&r.trace_id()).is_empty());

    // Another user of the same application has a share of their own.
    let bob = as_user("bob@gemeente.example");
    let r = env.post_as(Some(&t), &bob, &lookup(&bsn)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Another query type is not limited.
    let t2 = token(&[ZOEK_BSN, BASIS, ZOEK_POSTCODE]);
    let address = data().address_of(&bsn).unwrap().clone();
    let search = json!({
        "type": "ZoekMetPostcodeEnHuisnummer",
        "postcode": address.postcode,
        "huisnummer": address.huisnummer,
        "fields": ["naam"]
    });
    let r = env.post_as(Some(&t2), &ann, &search).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // A reload that keeps the limit keeps the count.
    env.server.reload().await.unwrap();
    let r = env.post_as(Some(&t), &ann, &lookup(&bsn)).await;
    r.assert_problem(429, "tooManyRequests");
    env.verify_chain();
}

#[test]
fn limits_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let bad = r#"
[[rate_limits]]
apis = ["nope"]
per = "user"
requests = 0
per_seconds = 0
[[rate_limits]]
name = "limit-1"
per = "client"
requests = 5
burst = 0
"#;
    let path = write_config(
        dir.path(),
        "http://127.0.0.1:9",
        &Options {
            extra_toml: bad.into(),
            ..Options::default()
        },
    );
    let problems: Vec<String> = sluis_proxy::Config::load(&path)
        .unwrap_err()
        .iter()
        .map(|p| format!("{} {}", p.at, p.message))
        .collect();
    for want in [
        "rate_limits[0].apis no API is named nope",
        "rate_limits[0].requests must be above 0",
        "rate_limits[0].per_seconds must be 1 to 86400",
        "rate_limits[1].name limit-1 is used twice",
        "rate_limits[1].burst must be above 0",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(want)),
            "{want} not in {problems:#?}"
        );
    }
}
