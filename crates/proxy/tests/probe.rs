//! Regressions for what a probe of the dataset mounts found, tried as an attacker would: a
//! `_fields` list without the subject field delivering personal data with no data subject in
//! the processing log, links built from a client's `Host`, duplicate parameters, refusals that
//! left no record (a too-large body, an unauthenticated read of the audit log), unbounded
//! client strings in records, and a user header trusted from any client.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails the test on unexpected errors"
)]

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use serde_json::{Value, json};

const BRP_LIST: &str = "/api/brp/ingeschrevenpersonen";
const FIELDS: &[&str] = &[
    "id",
    "bsn",
    "voornamen",
    "geslachtsnaam",
    "geboortedatum",
    "verblijfplaats",
    "nationaliteiten",
];

fn subject_opts() -> Opts {
    Opts {
        brp_mount_extra: "subjects = { ingeschrevenpersonen = { field = \"bsn\" } }".into(),
        audit_extra: format!("{SUBJECT_KEY_TOML}\nreader_scope = \"AUDIT/R\""),
        ..Opts::default()
    }
}

fn trace_id(r: &Resp) -> String {
    r.header("traceparent")
        .and_then(|t| t.split('-').nth(1))
        .unwrap()
        .to_owned()
}

/// Processing lines of one request that name a data subject.
fn subjects_recorded(h: &Harness, trace: &str) -> Vec<String> {
    h.audit_lines()
        .into_iter()
        .filter(|l| l["kind"] == "processing" && l["trace_id"] == trace)
        .filter_map(|l| l["data_subject_id"].as_str().map(str::to_owned))
        .collect()
}

fn brp_token() -> String {
    token(&["BRP/R"])
}

#[tokio::test]
async fn fields_without_the_subject_field_still_record_every_subject() {
    let h = Harness::start(subject_opts()).await;
    let r = h
        .get(
            &format!("{BRP_LIST}?_pageSize=3&_fields=voornamen,geslachtsnaam,verblijfplaats"),
            Some(&brp_token()),
            BRP_HEADERS,
        )
        .await;
    let body = r.ok();
    let people = items(&body, "ingeschrevenpersonen");
    assert_eq!(people.len(), 3, "{body}");
    assert!(
        !has_key_anywhere(&body, "bsn"),
        "bsn was not asked for: {body}"
    );
    let subjects = subjects_recorded(&h, &trace_id(&r));
    assert_eq!(
        subjects.len(),
        3,
        "one processing record per delivered person"
    );
    let mut distinct = subjects.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{subjects:?}");
    // Pseudonyms only: no BSN of the fixture appears in the log.
    let text = std::fs::read_to_string(h.path("audit.jsonl")).unwrap();
    for p in h.records("brp", "ingeschrevenpersonen") {
        let bsn = p["bsn"].as_str().unwrap();
        assert!(!text.contains(bsn), "a BSN in clear in the audit log");
    }
}

#[test]
fn records_delivered_equal_subjects_recorded() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let h = rt.block_on(Harness::start(subject_opts()));
    let t = brp_token();
    let fields = proptest::sample::subsequence(FIELDS.to_vec(), 0..=FIELDS.len());
    let mut runner = TestRunner::new(PropConfig {
        cases: 40,
        ..PropConfig::default()
    });
    runner
        .run(
            &(fields, 1usize..12, 1usize..4, any::<bool>(), any::<bool>()),
            |(fields, size, page, expand, detail)| {
                let mut q = format!("_pageSize={size}&page={page}");
                if !fields.is_empty() {
                    q.push_str(&format!("&_fields={}", fields.join(",")));
                }
                if expand {
                    q.push_str("&_expand=true");
                }
                let path = if detail {
                    format!(
                        "{BRP_LIST}/{}?{}",
                        page,
                        q.replace(&format!("_pageSize={size}&page={page}"), "_format=json")
                    )
                } else {
                    format!("{BRP_LIST}?{q}")
                };
                let r = rt.block_on(h.get(&path, Some(&t), BRP_HEADERS));
                prop_assert_eq!(r.status, 200, "{}: {}", path, r.text());
                let body = r.json();
                let delivered = if detail {
                    1
                } else {
                    body["_embedded"]["ingeschrevenpersonen"]
                        .as_array()
                        .map_or(0, Vec::len)
                };
                let recorded = subjects_recorded(&h, &trace_id(&r)).len();
                prop_assert_eq!(delivered, recorded, "{}", path);
                if !fields.contains(&"bsn") && !fields.is_empty() {
                    prop_assert!(!has_key_anywhere(&body, "bsn"), "{}: {}", path, body);
                }
                Ok(())
            },
        )
        .unwrap();
}

#[tokio::test]
async fn links_never_follow_a_clients_host_header() {
    let h = Harness::start(Opts::default()).await;
    let r = h
        .get(
            "/api/afval/containers?_pageSize=2",
            Some(&token(&["BASE"])),
            &[("Host", "evil.example")],
        )
        .await;
    let body = r.ok();
    let links = hrefs(&body);
    assert!(!links.is_empty(), "{body}");
    for l in &links {
        assert!(!l.contains("evil.example"), "{l}");
        assert!(
            l.starts_with(&h.api),
            "{l} does not point at the listener {}",
            h.api
        );
    }
}

#[tokio::test]
async fn a_parameter_given_twice_is_refused_not_first_checked_last_used() {
    let h = Harness::start(subject_opts()).await;
    let t = brp_token();
    for q in [
        "_fields=voornamen&_fields=bsn",
        "_sort=id&_sort=-id",
        "_pageSize=1&_pageSize=50",
        "geslachtsnaam=a&geslachtsnaam=b",
    ] {
        let before = h.fixture().faults().requests();
        let r = h
            .get(&format!("{BRP_LIST}?{q}"), Some(&t), BRP_HEADERS)
            .await;
        let doc = r.problem(400, "paramsValidation");
        assert!(doc["invalidParams"].is_array(), "{q}: {doc}");
        assert_eq!(
            h.fixture().faults().requests(),
            before,
            "{q}: nothing forwarded"
        );
    }
}

#[tokio::test]
async fn a_too_large_body_is_recorded() {
    let h = Harness::start(Opts::default()).await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let req = hyper::Request::post(format!("{}/api/afval/containers", h.api))
        .header("authorization", format!("Bearer {}", token(&["BASE"])))
        .body(http_body_util::Full::new(bytes::Bytes::from(
            vec![b'x'; 2 * 1024 * 1024],
        )))
        .unwrap();
    let status = match client.request(req).await {
        Ok(resp) => resp.status().as_u16(),
        // The server may close the connection before the client finishes sending.
        Err(e) => panic!("no answer to a too-large body: {e:?}"),
    };
    assert_eq!(status, 413);
    let rec = h.audit_lines().pop().unwrap();
    assert_eq!(rec["status"], json!(413), "{rec}");
    assert_eq!(rec["code"], json!("tooLarge"), "{rec}");
    assert_eq!(rec["api"], json!("afval"), "{rec}");
    assert_eq!(rec["method"], json!("POST"), "{rec}");
}

#[tokio::test]
async fn an_unauthenticated_read_of_the_audit_log_is_recorded() {
    let h = Harness::start(subject_opts()).await;
    let r = h.admin_get("/audit/entries?kind=access").await;
    r.problem(401, "notAuthenticated");
    let rec = h.audit_lines().pop().unwrap();
    assert_eq!(rec["api"], json!("admin"), "{rec}");
    assert_eq!(rec["operation"], json!("audit.read"), "{rec}");
    assert_eq!(rec["status"], json!(401), "{rec}");
    assert_eq!(rec["decision"], json!("deny"), "{rec}");
}

#[tokio::test]
async fn client_strings_are_bounded_before_they_are_recorded() {
    let h = Harness::start(Opts::default()).await;
    let long = "x".repeat(6000);
    let r = h
        .get(&format!("/api/afval/{long}"), Some(&token(&["BASE"])), &[])
        .await;
    assert_eq!(r.status, 404);
    let rec = h.audit_lines().pop().unwrap();
    let path = rec["path"].as_str().unwrap();
    assert!(path.len() < 600, "path recorded with {} bytes", path.len());
    let params: String = (0..200).map(|i| format!("p{i}=1&")).collect();
    let r = h
        .get(
            &format!("/api/afval/containers?{params}"),
            Some(&token(&["BASE"])),
            &[],
        )
        .await;
    assert!(r.status >= 400, "{}", r.text());
    let rec = h.audit_lines().pop().unwrap();
    assert!(rec["params"].as_array().unwrap().len() <= 65, "{rec}");
}

#[tokio::test]
async fn the_user_header_names_the_user_only_for_trusted_clients() {
    let h = Harness::start(Opts {
        issuer_extra: "trusted_user_clients = [\"taakapplicatie\"]".into(),
        ..subject_opts()
    })
    .await;
    let r = h
        .get(
            &format!("{BRP_LIST}?_pageSize=1"),
            Some(&brp_token()),
            BRP_HEADERS,
        )
        .await;
    r.ok();
    let rec = h
        .audit_lines()
        .into_iter()
        .rev()
        .find(|l| l["kind"] == "access")
        .unwrap();
    assert_eq!(rec["user"], json!("medewerker-1"), "{rec}");
    assert_eq!(rec["user_source"], json!("header"), "{rec}");
    // Another client of the same issuer is recorded as its token says.
    let other = sign(
        jsonwebtoken::Algorithm::RS256,
        "rsa-1",
        Some("rsa-1"),
        &claims_with(&["BRP/R"], json!({"azp": "andere-app"})),
    );
    let r = h
        .get(
            &format!("{BRP_LIST}?_pageSize=1"),
            Some(&other),
            BRP_HEADERS,
        )
        .await;
    r.ok();
    let rec: Value = h
        .audit_lines()
        .into_iter()
        .rev()
        .find(|l| l["kind"] == "access")
        .unwrap();
    assert_eq!(rec["user"], json!("medewerker@gemeente.invalid"), "{rec}");
    assert_eq!(rec["user_source"], json!("token"), "{rec}");
}

/// A caller who sees `bsn` only `encoded` (with an exact-match allowance for its need-to-know
/// set) cannot recover BSNs by `[like]` probes, ranges or sort order.
#[tokio::test]
async fn encoded_values_are_no_filter_or_sort_oracle() {
    let mut p = PolicyFiles::default();
    p.profiles.push(profile(
        "brp-rname",
        Some(&["BRP/RNAME"]),
        json!({"brp": {"tables": {"ingeschrevenpersonen": {
            "permissions": "read",
            "fields": {"bsn": "encoded"},
            "mandatoryFilterSets": [["bsn", "geslachtsnaam"], ["verblijfplaats.postcode", "geslachtsnaam"]],
            "exactFilters": ["bsn"]
        }}}}),
    ));
    let h = Harness::start(Opts {
        policy: p,
        ..Opts::default()
    })
    .await;
    let person = h.record("brp", "ingeschrevenpersonen", "9");
    let pc = person["verblijfplaats"]["postcode"].as_str().unwrap();
    let naam = q(person["geslachtsnaam"].as_str().unwrap());
    let bsn = person["bsn"].as_str().unwrap();
    let base = format!("{BRP_LIST}?verblijfplaats.postcode={pc}&geslachtsnaam={naam}");
    let rname = &["BRP/RNAME"][..];
    let before = h.fixture().faults().requests();
    for probe in [
        format!("&bsn[like]={}*", &bsn[..2]),
        format!("&bsn[gt]={bsn}"),
        format!("&bsn[lte]={bsn}"),
        "&_sort=bsn".to_owned(),
        "&_sort=-bsn".to_owned(),
    ] {
        let r = h.get_as(&format!("{base}{probe}"), rname).await;
        r.problem(403, "filterNotAllowed");
    }
    // A detail cannot be probed either: the refusal comes before any 200/404, the same for an
    // object that exists and one that does not.
    let mut answers = Vec::new();
    for id in ["9", "987654"] {
        let r = h
            .get_as(
                &format!(
                    "{BRP_LIST}/{id}?bsn[like]={}*&geslachtsnaam={naam}",
                    &bsn[..2]
                ),
                rname,
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.text());
        let mut doc = r.json();
        doc.as_object_mut().unwrap().remove("instance");
        answers.push(doc);
    }
    assert_eq!(answers[0], answers[1], "existence must not show");
    assert_eq!(
        h.fixture().faults().requests(),
        before,
        "no probe reached the upstream"
    );
    // The need-to-know lookup with the exact value still works.
    let r = h
        .get_as(&format!("{BRP_LIST}?bsn={bsn}&geslachtsnaam={naam}"), rname)
        .await;
    r.ok();
}

/// Fields the policy hides are removed by design, not flagged as an upstream overdelivery.
#[tokio::test]
async fn policy_filtering_is_not_an_overdelivery() {
    let h = Harness::start(Opts::default()).await;
    h.get(
        "/api/afval/containers?_pageSize=3",
        Some(&token(&["BASE"])),
        &[],
    )
    .await
    .ok();
    let rec = h.audit_lines().pop().unwrap();
    assert!(rec.get("flags").is_none(), "{rec}");
}
