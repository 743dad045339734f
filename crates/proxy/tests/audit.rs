//! Protocollering end to end: every request — allowed, denied or failed — leaves exactly one
//! record with its decision, status, reasons and policy version; a sink that cannot commit means
//! 503 and no data.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests: a failed expectation must abort the test loudly"
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::*;
use serde_json::json;
use sluis_audit::{
    AccessRecord, AuditError, AuditSink, CommitFuture, Entry, EntrySink, GroupCommitStats,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_leaves_exactly_one_record() {
    let mut p = PolicyFiles::default();
    set(&mut p.afval, "/tables/1/auth", json!("BAG/R"));
    let h = Harness::start(Opts {
        policy: p,
        ..Opts::default()
    })
    .await;
    let version = h
        .server()
        .shared()
        .runtime
        .load()
        .policy
        .version()
        .to_owned();
    let t = token(&["X/Y"]);
    let brp = token(&["BRP/R"]);
    struct Case<'a> {
        path: &'a str,
        token: Option<&'a str>,
        headers: &'a [(&'a str, &'a str)],
        status: u64,
        decision: &'a str,
        code: Option<&'a str>,
    }
    let cases = [
        Case {
            path: "/api/afval/containers?_pageSize=3",
            token: Some(&t),
            headers: &[],
            status: 200,
            decision: "permit",
            code: None,
        },
        Case {
            path: "/api/afval/clusters",
            token: Some(&t),
            headers: &[],
            status: 403,
            decision: "deny",
            code: Some("forbidden"),
        },
        Case {
            path: "/api/afval/containers?eigenaarNaam[like]=*",
            token: Some(&t),
            headers: &[],
            status: 200,
            decision: "permit",
            code: None,
        },
        Case {
            path: "/api/afval/containers?bestaatNiet=1",
            token: Some(&t),
            headers: &[],
            status: 400,
            decision: "deny",
            code: Some("paramsValidation"),
        },
        Case {
            path: "/api/afval/containers",
            token: None,
            headers: &[],
            status: 401,
            decision: "deny",
            code: Some("notAuthenticated"),
        },
        Case {
            path: "/api/afval/containers",
            token: Some("not.a.token"),
            headers: &[],
            status: 401,
            decision: "deny",
            code: Some("invalidToken"),
        },
        Case {
            path: "/api/brp/ingeschrevenpersonen",
            token: Some(&brp),
            headers: &[],
            status: 403,
            decision: "deny",
            code: Some("missingHeaders"),
        },
        Case {
            path: "/api/brp/ingeschrevenpersonen?_pageSize=1",
            token: Some(&brp),
            headers: BRP_HEADERS,
            status: 200,
            decision: "permit",
            code: None,
        },
        Case {
            path: "/api/afval/containers/424242",
            token: Some(&t),
            headers: &[],
            status: 404,
            decision: "error",
            code: Some("upstream"),
        },
    ];
    for c in &cases {
        let before = h.audit_lines().len();
        let r = h.get(c.path, c.token, c.headers).await;
        assert_eq!(r.status as u64, c.status, "{}: {}", c.path, r.text());
        let lines = h.audit_lines();
        assert_eq!(
            lines.len(),
            before + 1,
            "{}: one record per request",
            c.path
        );
        let rec = lines.last().unwrap();
        assert_eq!(rec["decision"], json!(c.decision), "{}: {rec}", c.path);
        assert_eq!(rec["status"], json!(c.status), "{}", c.path);
        assert_eq!(rec["code"], json!(c.code), "{}", c.path);
        assert_eq!(rec["policy_version"], json!(version), "{}", c.path);
        assert!(rec["reasons"].is_array(), "{}", c.path);
        if c.decision != "permit" {
            assert!(
                !rec["reasons"].as_array().unwrap().is_empty(),
                "{}: a refusal has reasons",
                c.path
            );
        }
        assert_eq!(rec["method"], json!("GET"));
        assert_eq!(rec["path"], json!(c.path.split('?').next().unwrap()));
        assert_eq!(rec["trace_id"].as_str().unwrap().len(), 32);
    }
    let lines = h.audit_lines();
    let ok = &lines[0];
    assert_eq!(ok["api"], json!("afval"));
    assert_eq!(
        ok["operation"],
        json!("dataset.afvalwegingen.containers.list")
    );
    assert_eq!(ok["issuer"], json!("idp"));
    assert_eq!(ok["subject"], json!("user-7f3a"));
    assert_eq!(ok["scopes"], json!(["X/Y"]));
    assert_eq!(ok["records"], json!(3));
    assert_eq!(ok["params"], json!(["_pageSize"]));
    assert_eq!(ok["upstream_status"], json!(200));
    let brp_ok = &lines[7];
    assert_eq!(brp_ok["processing_activity"], json!("bijstand-aanvraag"));
    // The X-User header is not trusted from this client: the token's user is recorded.
    assert_eq!(brp_ok["user"], json!("medewerker@gemeente.invalid"));
    assert_eq!(brp_ok["user_source"], json!("token"));
    assert!(
        brp_ok["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("user header ignored")),
        "{brp_ok}"
    );

    // Parameter values and tokens are never recorded.
    let text = std::fs::read_to_string(h.path("audit.jsonl")).unwrap();
    for secret in [t.as_str(), brp.as_str()] {
        let sig = secret.rsplit('.').next().unwrap();
        assert!(!text.contains(sig));
    }
    h.shutdown().await;
}

/// A sink that fails on demand, counting what it was asked to commit.
#[derive(Debug, Default)]
struct FlakySink {
    failing: AtomicBool,
    committed: AtomicUsize,
    refused: AtomicUsize,
}

impl AuditSink for FlakySink {
    fn commit(&self, _record: AccessRecord) -> CommitFuture<'_> {
        Box::pin(async move {
            if self.failing.load(Ordering::SeqCst) {
                self.refused.fetch_add(1, Ordering::SeqCst);
                Err(AuditError::Unavailable("disk full (simulated)".into()))
            } else {
                self.committed.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        })
    }
    fn ready(&self) -> bool {
        !self.failing.load(Ordering::SeqCst)
    }
    fn queue_depth(&self) -> usize {
        0
    }
}

impl EntrySink for FlakySink {
    fn commit_entries(&self, entries: Vec<Entry>) -> CommitFuture<'_> {
        Box::pin(async move {
            if self.failing.load(Ordering::SeqCst) {
                self.refused.fetch_add(1, Ordering::SeqCst);
                Err(AuditError::Unavailable("disk full (simulated)".into()))
            } else {
                self.committed.fetch_add(entries.len(), Ordering::SeqCst);
                Ok(())
            }
        })
    }
    fn stats(&self) -> GroupCommitStats {
        GroupCommitStats::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_record_no_data() {
    let sink = Arc::new(FlakySink::default());
    let h = Harness::start(Opts {
        audit: Some(sink.clone()),
        ..Opts::default()
    })
    .await;
    let t = token(&[]);
    let path = "/api/afval/containers?_pageSize=5";
    assert_eq!(h.get(path, Some(&t), &[]).await.status, 200);
    assert_eq!(sink.committed.load(Ordering::SeqCst), 1);
    assert_eq!(h.admin_get("/readyz").await.status, 200);

    sink.failing.store(true, Ordering::SeqCst);
    let serials: Vec<String> = h
        .records("afvalwegingen", "containers")
        .iter()
        .take(5)
        .map(|r| r["serienummer"].as_str().unwrap().to_owned())
        .collect();
    for p in [path, "/api/afval/containers/1", "/api/afval/clusters"] {
        let r = h.get(p, Some(&t), &[]).await;
        let doc = r.problem(503, "auditUnavailable");
        assert!(!has_key_anywhere(&doc, "_embedded"), "{doc}");
        let text = r.text();
        for s in &serials {
            assert!(!text.contains(s.as_str()), "data released without a record");
        }
        assert!(!text.contains("disk full"), "internal detail leaked");
    }
    // Denials without a record are refused too (the record is the point).
    h.get(path, None, &[])
        .await
        .problem(503, "auditUnavailable");
    assert_eq!(sink.refused.load(Ordering::SeqCst), 4);
    let ready = h.admin_get("/readyz").await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.json()["audit"], json!(false));

    sink.failing.store(false, Ordering::SeqCst);
    assert_eq!(h.get(path, Some(&t), &[]).await.status, 200);
    h.shutdown().await;
}
