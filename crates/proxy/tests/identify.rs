//! Who and why: required headers, purposes mapped to registered processing activities, W3C
//! trace context propagated upstream, and sluis's own upstream credentials (never the client's).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests: a failed expectation must abort the test loudly"
)]

mod common;

use common::*;
use serde_json::{Value, json};
use sluis_testkit::FixtureConfig;

const PERSONS: &str = "/api/brp/ingeschrevenpersonen?_pageSize=2";

fn invalid_names(doc: &Value) -> Vec<String> {
    let mut v: Vec<String> = doc["invalidParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_ascii_lowercase())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_headers_and_purpose() {
    let h = Harness::start(Opts::default()).await;
    let t = token(&["BRP/R"]);
    let before = h.fixture().faults().requests();

    let r = h.get(PERSONS, Some(&t), &[]).await;
    let doc = r.problem(403, "missingHeaders");
    assert_eq!(
        invalid_names(&doc),
        ["x-correlation-id", "x-task-description", "x-user"]
    );
    let r = h
        .get(
            PERSONS,
            Some(&t),
            &[("X-User", "medewerker-1"), ("X-Task-Description", "  ")],
        )
        .await;
    let doc = r.problem(403, "missingHeaders");
    assert_eq!(
        invalid_names(&doc),
        ["x-correlation-id", "x-task-description"],
        "a blank header counts as missing"
    );

    let r = h
        .get(
            PERSONS,
            Some(&t),
            &[
                ("X-User", "medewerker-1"),
                ("X-Correlation-ID", "c-1"),
                ("X-Task-Description", "nieuwsgierigheid"),
            ],
        )
        .await;
    r.problem(403, "unknownPurpose");
    assert_eq!(
        h.fixture().faults().requests(),
        before,
        "refused requests must not reach the upstream"
    );

    // A registered activity by id and by alias.
    for purpose in ["bijstand-aanvraag", "bijstand", "parkeervergunning"] {
        let r = h
            .get(
                PERSONS,
                Some(&t),
                &[
                    ("X-User", "medewerker-2"),
                    ("X-Correlation-ID", "c-2"),
                    ("X-Task-Description", purpose),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{purpose}: {}", r.text());
        assert_eq!(r.header("x-correlation-id"), Some("c-2"));
        let rec = h.audit_lines().pop().unwrap();
        assert_eq!(rec["purpose"], json!(purpose));
        let want = if purpose == "parkeervergunning" {
            "parkeervergunning"
        } else {
            "bijstand-aanvraag"
        };
        assert_eq!(rec["processing_activity"], json!(want));
        // The client is not trusted to assert users: the token's user is recorded.
        assert_eq!(rec["user"], json!("medewerker@gemeente.invalid"));
        assert_eq!(rec["user_source"], json!("token"));
        assert_eq!(rec["correlation_id"], json!("c-2"));
    }

    // Mounts without required headers do not ask for them.
    let r = h.get("/api/afval/containers", Some(&token(&[])), &[]).await;
    assert_eq!(r.status, 200);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_context_is_propagated_and_client_credentials_are_not() {
    let h = Harness::start(Opts::default()).await;
    let t = token(&["BRP/R"]);
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let mut headers = BRP_HEADERS.to_vec();
    headers.push(("traceparent", traceparent.as_str()));
    headers.push(("Cookie", "session=client-cookie"));
    let r = h.get(PERSONS, Some(&t), &headers).await;
    assert_eq!(r.status, 200, "{}", r.text());

    let up = h.fixture().faults().last_request().unwrap();
    let got = up.header("traceparent").expect("traceparent upstream");
    let parts: Vec<&str> = got.split('-').collect();
    assert_eq!(parts.len(), 4, "{got}");
    assert_eq!(parts[1], trace_id, "the trace id must be kept");
    assert_ne!(parts[2], "00f067aa0ba902b7", "sluis adds its own span");
    assert_eq!(up.header("x-correlation-id"), Some("corr-0001"));
    for name in ["authorization", "cookie", "x-user", "x-task-description"] {
        assert!(
            up.header(name).is_none(),
            "{name} was forwarded upstream: {:?}",
            up.headers
        );
    }
    assert!(
        !up.headers.iter().any(|(_, v)| v.contains(&t)),
        "the client's token reached the upstream"
    );
    let back = r.header("traceparent").unwrap();
    assert!(back.contains(trace_id), "{back}");
    let rec = h.audit_lines().pop().unwrap();
    assert_eq!(rec["trace_id"], json!(trace_id));

    // An invalid traceparent is replaced by a fresh trace.
    let mut headers = BRP_HEADERS.to_vec();
    headers.push((
        "traceparent",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    ));
    let r = h.get(PERSONS, Some(&t), &headers).await;
    assert_eq!(r.status, 200);
    let got = h
        .fixture()
        .faults()
        .last_request()
        .unwrap()
        .header("traceparent")
        .unwrap()
        .to_owned();
    assert!(!got.contains("00000000000000000000000000000000"), "{got}");
    assert_eq!(got.len(), 55, "{got}");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_api_key_is_sent_and_a_wrong_one_is_502() {
    let h = Harness::start(Opts {
        fixture: FixtureConfig {
            api_key: Some((UPSTREAM_KEY_HEADER.into(), UPSTREAM_KEY.into())),
            containers: 20,
            clusters: 4,
            persons: 10,
            parkeervakken: 10,
            ..FixtureConfig::default()
        },
        upstream_key: Some(UPSTREAM_KEY.into()),
        ..Opts::default()
    })
    .await;
    let t = token(&[]);
    let r = h.get("/api/afval/containers", Some(&t), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let up = h.fixture().faults().last_request().unwrap();
    assert_eq!(up.header(UPSTREAM_KEY_HEADER), Some(UPSTREAM_KEY));
    assert!(up.header("authorization").is_none());
    assert!(!r.text().contains(UPSTREAM_KEY));
    assert!(r.header(UPSTREAM_KEY_HEADER).is_none());

    // The key is rotated on the upstream side but not in sluis: the upstream refuses sluis.
    std::fs::write(h.path("upstream.key"), "an-outdated-key-fictional").unwrap();
    h.server().reload().await.unwrap();
    let r = h.get("/api/afval/containers", Some(&t), &[]).await;
    let doc = r.problem(502, "backendConfig");
    let text = r.text();
    assert!(!text.contains("an-outdated-key") && !text.contains(UPSTREAM_KEY));
    assert!(!text.contains(&h.upstream_port.to_string()), "{doc}");
    let rec = h.audit_lines().pop().unwrap();
    assert_eq!(rec["decision"], json!("error"));
    assert_eq!(rec["upstream_status"], json!(401));
    let audit = std::fs::read_to_string(h.path("audit.jsonl")).unwrap();
    assert!(!audit.contains(UPSTREAM_KEY) && !audit.contains("an-outdated-key"));
    h.shutdown().await;
}
