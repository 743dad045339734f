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
    write_config_with(dir, upstream, "")
}

/// The configuration with `extra` lines at the end.
fn write_config_with(dir: &Path, upstream: &str, extra: &str) -> PathBuf {
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
{extra}
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

/// One webhook delivery as the receiver saw it.
#[derive(Clone)]
struct Delivered {
    signature: String,
    alert_id: String,
    body: Bytes,
    at: std::time::Instant,
}

/// A webhook receiver on loopback: answers 503 to the first delivery of each alert (sluis must
/// retry), 200 after, and hands every delivery to the test.
async fn webhook_receiver() -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<Delivered>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (tx, seen) = (tx.clone(), std::sync::Arc::clone(&seen));
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let (tx, seen) = (tx.clone(), std::sync::Arc::clone(&seen));
                    async move {
                        let header = |n: &str| {
                            req.headers()
                                .get(n)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_owned()
                        };
                        let (signature, alert_id) =
                            (header("x-sluis-signature"), header("x-sluis-alert-id"));
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let first = seen.lock().unwrap().insert(alert_id.clone());
                        let _ = tx.send(Delivered {
                            signature,
                            alert_id,
                            body,
                            at: std::time::Instant::now(),
                        });
                        let status = if first { 503 } else { 200 };
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::new()))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_list_lookup_raises_a_recorded_alert_delivered_signed_to_the_webhook() {
    use hmac::Mac;
    let dir = tempfile::tempdir().unwrap();
    let fixture = DatasetFixture::start(FixtureConfig::default())
        .await
        .unwrap();
    let persons = fixture.data().table("brp", "ingeschrevenpersonen").unwrap();
    let vip = persons.records()[0].clone();
    let bsn = vip["bsn"].as_str().unwrap().to_owned();
    let key =
        sluis_audit::SubjectKey::new("k1", b"subject-key-0123456789abcdef0123456789").unwrap();
    std::fs::write(
        dir.path().join("detection.toml"),
        format!(
            "[[watch_lists]]\nname = \"publieke-personen\"\nsubjects = [\"{}\"]\n",
            key.pseudonym("BSN", &bsn)
        ),
    )
    .unwrap();
    let secret = "webhook-secret-0123456789";
    std::fs::write(dir.path().join("hook.secret"), secret).unwrap();
    let (hook, mut deliveries) = webhook_receiver().await;
    let cfg_path = write_config_with(
        dir.path(),
        &fixture.base_url(),
        &format!(
            "[detection]\nrules = \"detection.toml\"\n[detection.webhook]\nurl = \"http://{hook}/hook\"\nsecret = {{ file = \"hook.secret\" }}\n"
        ),
    );
    let config = sluis_proxy::Config::load(&cfg_path).unwrap_or_else(|p| panic!("{p:?}"));
    let audit_cfg = config.audit.clone();
    let server = sluis_stores::start(config).await.unwrap();
    let why = [
        ("X-Task-Description", "wmo-aanvraag"),
        ("X-Correlation-ID", "zaak-9"),
    ];
    let sent = std::time::Instant::now();
    let (s, body) = get(
        server.api_addr(),
        &format!("/v1/brp/ingeschrevenpersonen/{}", vip["id"]),
        &token("BRP/R"),
        &why,
    )
    .await;
    assert_eq!(s, 200, "{body}");

    // The first delivery of the D5 alert is refused (503), the retry accepted; every delivery
    // carries a valid signature. (The full record also raises D13, sensitive fields.)
    let mut got = Vec::new();
    let mut all = Vec::new();
    while got.len() < 2 {
        let d = tokio::time::timeout(std::time::Duration::from_secs(15), deliveries.recv())
            .await
            .expect("the D5 alert was delivered twice within 15 s")
            .unwrap();
        let v: Value = serde_json::from_slice(&d.body).unwrap();
        if v["rule"] == "D5" {
            got.push(d);
        } else {
            all.push(d);
        }
    }
    all.extend(got.iter().cloned());
    let latency = got[0].at.duration_since(sent);
    eprintln!(
        "alert latency, request sent to first webhook delivery: {} ms (retry after {} ms)",
        latency.as_millis(),
        got[1].at.duration_since(got[0].at).as_millis()
    );
    for d in &all {
        let (t, v1) = d.signature.split_once(",v1=").unwrap();
        let t = t.strip_prefix("t=").unwrap();
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(&d.body);
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(v1, expected, "the signature covers t and the body");
        let v: Value = serde_json::from_slice(&d.body).unwrap();
        assert_eq!(v["id"], d.alert_id.as_str());
        // Without include_identities the payload names nobody.
        assert!(
            v.get("user").is_none() && v.get("subjects").is_none(),
            "{v}"
        );
        assert!(!String::from_utf8_lossy(&d.body).contains(&bsn));
    }
    assert_eq!(
        got[0].alert_id, got[1].alert_id,
        "a retry repeats the alert id"
    );
    let d5: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(d5["severity"], "high");

    // The alert is in the log, chained, with its evidence.
    server.shutdown().await;
    let mut store = sluis_stores::open_store(&audit_cfg).unwrap();
    let alerts: Vec<_> = store
        .export(0, 1000)
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.entry {
            sluis_audit::Entry::Alert(a) if a.rule == "D5" => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(alerts.len(), 1, "one D5 alert, recorded once: {alerts:?}");
    assert_eq!(alerts[0].id, got[0].alert_id);
    assert_eq!(alerts[0].subjects, vec![key.pseudonym("BSN", &bsn)]);
    assert!(!alerts[0].evidence_seqs.is_empty());
    assert!(store.verify(&[]).unwrap().is_ok());
}
