//! The durable audit store behind the data plane: processing records per data subject with
//! pseudonymised ids, a verifiable chain, and the LDV read endpoint on the admin listener.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails the test on unexpected errors"
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use sluis_testkit::{DatasetFixture, FixtureConfig};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn token(scopes: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_ec_pem(include_bytes!(
        "../../cli/src/demo/demo-signing-key.pem"
    ))
    .unwrap();
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some("sluis-demo-1".into());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({"iss": "https://demo.sluis.invalid", "aud": "sluis-demo", "sub": "medewerker-7",
        "azp": "wmo-app", "scope": scopes, "iat": now, "exp": now + 600});
    jsonwebtoken::encode(&h, &claims, &key).unwrap()
}

async fn get(addr: SocketAddr, path: &str, token: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = Request::get(path)
        .header("host", addr.to_string())
        .header("authorization", format!("Bearer {token}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = sender
        .send_request(req.body(Full::new(Bytes::new())).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn write_config(dir: &Path, upstream: &str) -> PathBuf {
    std::fs::write(
        dir.join("subject.key"),
        "subject-key-0123456789abcdef0123456789",
    )
    .unwrap();
    std::fs::write(dir.join("checkpoint.key"), "11".repeat(32)).unwrap();
    std::fs::write(dir.join("enc.key"), "0123456789abcdef0123456789abcdef").unwrap();
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
[policy]
schemas = ["{schemas}"]
profiles = ["{profiles}"]
encoding_key = {{ file = "enc.key" }}
[[issuers]]
name = "demo"
issuer = "https://demo.sluis.invalid"
jwks_file = "{jwks}"
audiences = ["sluis-demo"]
algorithms = ["ES256"]
[[apis]]
name = "brp"
prefix = "/v1/brp"
kind = "dataset"
dataset = "brp"
upstream = {{ url = "{upstream}/v1/brp" }}
purpose_header = "X-Task-Description"
correlation_header = "X-Correlation-ID"
subjects = {{ ingeschrevenpersonen = {{ field = "bsn", type = "BSN" }} }}
[[processing_activities]]
id = "wmo-aanvraag"
name = "Behandelen Wmo-aanvraag"
purpose = "Vaststellen recht op maatwerkvoorziening"
legal_basis = "Wmo 2015 art. 2.3.2"
retention_days = 3650
[audit]
kind = "sqlite"
path = "audit.db"
subject_key = {{ file = "subject.key" }}
checkpoint_key = {{ file = "checkpoint.key" }}
checkpoint_every = 5
reader_scope = "SLUIS/AUDIT"
"#,
        schemas = root().join("examples/policy/datasets").display(),
        profiles = root().join("examples/policy/profiles").display(),
        jwks = root().join("crates/cli/src/demo/demo-jwks.json").display(),
    );
    let p = dir.join("sluis.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processing_records_are_pseudonymised_verifiable_and_readable() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = DatasetFixture::start(FixtureConfig::default())
        .await
        .unwrap();
    let cfg_path = write_config(dir.path(), &fixture.base_url());
    let config = sluis_proxy::Config::load(&cfg_path).unwrap_or_else(|p| panic!("{p:?}"));
    let audit_cfg = config.audit.clone();
    let server = sluis_stores::start(config).await.unwrap();
    let persons = fixture.data().table("brp", "ingeschrevenpersonen").unwrap();
    let first = persons.records()[0].clone();
    let bsn = first["bsn"].as_str().unwrap().to_owned();
    let id = first["id"].to_string();
    let why = [
        ("X-Task-Description", "wmo-aanvraag"),
        ("X-Correlation-ID", "zaak-123"),
    ];
    let t = token("BRP/R");

    // A detail (geraadpleegd), a list of 3 (gevonden in zoekresultaat), a denied request.
    let (s, body) = get(
        server.api_addr(),
        &format!("/v1/brp/ingeschrevenpersonen/{id}"),
        &t,
        &why,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = get(
        server.api_addr(),
        "/v1/brp/ingeschrevenpersonen?_pageSize=3",
        &t,
        &why,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = get(
        server.api_addr(),
        "/v1/brp/ingeschrevenpersonen?_pageSize=3",
        &token(""),
        &why,
    )
    .await;
    assert_eq!(s, 403);

    // The store: 3 access records, 1 + 3 processing records, no BSN in clear, chain intact.
    let mut store = sluis_stores::open_store(&audit_cfg).unwrap();
    let all = store.export(0, 1000).unwrap();
    let kinds: Vec<&str> = all
        .iter()
        .map(|e| sluis_audit::EntryKind::of(&e.entry).as_str())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "access").count(),
        3,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "processing").count(),
        4,
        "{kinds:?}"
    );
    let dump = serde_json::to_string(&all.iter().map(|e| &e.entry).collect::<Vec<_>>()).unwrap();
    for p in persons.records().iter().take(3) {
        assert!(
            !dump.contains(p["bsn"].as_str().unwrap()),
            "a BSN in clear in the log"
        );
    }
    let processing: Vec<&sluis_audit::ProcessingRecord> = all
        .iter()
        .filter_map(|e| match &e.entry {
            sluis_audit::Entry::Processing(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(
        processing[0].subject_role,
        Some(sluis_audit::SubjectRole::Geraadpleegd)
    );
    assert_eq!(processing[0].processing_activity_id, "wmo-aanvraag");
    assert_eq!(processing[0].case_ref.as_deref(), Some("zaak-123"));
    assert_eq!(processing[0].client_app_id.as_deref(), Some("wmo-app"));
    assert!(
        processing[1..]
            .iter()
            .all(|p| p.subject_role == Some(sluis_audit::SubjectRole::GevondenInZoekresultaat))
    );
    let keys = sluis_proxy::auditing::subject_keys(&audit_cfg)
        .unwrap()
        .unwrap();
    assert_eq!(
        processing[0].data_subject_id.as_deref(),
        Some(keys.pseudonym("BSN", &bsn).as_str())
    );
    let public = sluis_proxy::auditing::checkpoint_public_key(&audit_cfg)
        .unwrap()
        .unwrap();
    let report = store.verify(&[public]).unwrap();
    assert!(report.is_ok(), "{report:?}");
    drop(store);

    // The read endpoint: needs the reader scope; a subject query by BSN finds that subject only.
    let admin = server.admin_addr();
    let (s, _) = get(admin, "/audit/entries?kind=processing", &t, &[]).await;
    assert_eq!(s, 403);
    let reader = token("SLUIS/AUDIT");
    let (s, body) = get(admin, &format!("/audit/entries?bsn={bsn}"), &reader, &[]).await;
    assert_eq!(s, 200, "{body}");
    let entries = body["entries"].as_array().unwrap();
    // The first person was consulted (detail) and found again in the list of three.
    assert_eq!(entries.len(), 2, "{body}");
    assert!(entries.iter().all(|e| e["entry"]["kind"] == "processing"));
    assert_eq!(entries[0]["entry"]["subject_role"], "geraadpleegd");
    assert_eq!(
        entries[1]["entry"]["subject_role"],
        "gevonden-in-zoekresultaat"
    );
    let (s, body) = get(admin, "/audit/entries?bogus=1", &reader, &[]).await;
    assert_eq!(s, 400, "{body}");
    let trace = processing[0].trace_id.clone();
    let (s, body) = get(
        admin,
        &format!("/audit/entries?trace_id={trace}"),
        &reader,
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        body["entries"].as_array().unwrap().len(),
        2,
        "access + processing of one request"
    );
    // Reads are recorded too.
    let (s, body) = get(admin, "/audit/entries?kind=access&limit=1000", &reader, &[]).await;
    assert_eq!(s, 200);
    let reads = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entry"]["operation"] == "audit.read")
        .count();
    assert!(reads >= 4, "{reads} reads recorded");
    server.shutdown().await;
    fixture.shutdown().await.unwrap();
}
