//! sluis's own upstream credentials over real connections: OAuth2 client credentials (token
//! cached until expiry minus the margin) and mTLS with a configured CA bundle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails the test on unexpected errors"
)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use sluis_testkit::{DatasetFixture, FixtureConfig};
use tokio::net::TcpListener;

const JWKS: &str = include_str!("../../cli/src/demo/demo-jwks.json");

fn policy_dir(dir: &Path) {
    let ds = dir.join("policy/datasets");
    std::fs::create_dir_all(&ds).unwrap();
    std::fs::write(
        ds.join("afval.json"),
        r#"{"type": "dataset", "id": "afvalwegingen", "tables": [
            {"id": "containers", "type": "table", "schema": {"identifier": "id", "properties": {
                "id": {"type": "integer"}, "serienummer": {"type": "string"}}}}]}"#,
    )
    .unwrap();
    std::fs::write(dir.join("jwks.json"), JWKS).unwrap();
    std::fs::write(dir.join("enc.key"), "0123456789abcdef0123456789abcdef").unwrap();
}

fn config(dir: &Path, upstream: &str) -> sluis_proxy::Config {
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
[policy]
schemas = ["policy/datasets"]
encoding_key = {{ file = "enc.key" }}
[[issuers]]
name = "demo"
issuer = "https://demo.sluis.invalid"
jwks_file = "jwks.json"
audiences = ["sluis-demo"]
algorithms = ["ES256"]
[[apis]]
name = "afval"
prefix = "/v1/afvalwegingen"
kind = "dataset"
dataset = "afvalwegingen"
{upstream}
[audit]
kind = "jsonl"
path = "audit.jsonl"
"#
    );
    let path = dir.join("sluis.toml");
    std::fs::write(&path, text).unwrap();
    sluis_proxy::Config::load(&path).unwrap_or_else(|p| panic!("{p:?}"))
}

fn token() -> String {
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
    let claims = serde_json::json!({"iss": "https://demo.sluis.invalid", "aud": "sluis-demo", "sub": "t",
        "scope": "", "iat": now, "exp": now + 600});
    jsonwebtoken::encode(&h, &claims, &key).unwrap()
}

async fn get(addr: SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::get(path)
        .header("host", addr.to_string())
        .header("authorization", format!("Bearer {}", token()))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// A token endpoint: counts calls; answers 200 with `tok-N` (or the configured failure status).
async fn token_endpoint(calls: Arc<AtomicU64>, fail: Arc<AtomicU16>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (s, _) = listener.accept().await.unwrap();
            let (calls, fail) = (Arc::clone(&calls), Arc::clone(&fail));
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let (calls, fail) = (Arc::clone(&calls), Arc::clone(&fail));
                    async move {
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let form = String::from_utf8_lossy(&body).to_string();
                        assert!(form.contains("grant_type=client_credentials"), "{form}");
                        assert!(form.contains("client_id=sluis"), "{form}");
                        assert!(form.contains("client_secret=s3cr3t%2Dvalue"), "{form}");
                        calls.fetch_add(1, Ordering::SeqCst);
                        let status = fail.load(Ordering::SeqCst);
                        let mut r = Response::new(Full::new(Bytes::from(
                            r#"{"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600}"#,
                        )));
                        if status != 0 {
                            *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                        }
                        r.headers_mut()
                            .insert("content-type", "application/json".parse().unwrap());
                        Ok::<_, Infallible>(r)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_client_credentials_token_is_fetched_once_and_sent() {
    let dir = tempfile::tempdir().unwrap();
    policy_dir(dir.path());
    std::fs::write(dir.path().join("client.secret"), "s3cr3t-value\n").unwrap();
    let fixture = DatasetFixture::start(FixtureConfig {
        api_key: Some(("authorization".into(), "Bearer tok-1".into())),
        ..FixtureConfig::default()
    })
    .await
    .unwrap();
    let calls = Arc::new(AtomicU64::new(0));
    let fail = Arc::new(AtomicU16::new(0));
    let tokens = token_endpoint(Arc::clone(&calls), Arc::clone(&fail)).await;
    let upstream = format!(
        "upstream = {{ url = \"{}/v1/afvalwegingen\", oauth2 = {{ token_url = \"http://{tokens}/token\", client_id = \"sluis\", client_secret = {{ file = \"client.secret\" }} }} }}",
        fixture.base_url()
    );
    let server = sluis_stores::start(config(dir.path(), &upstream))
        .await
        .unwrap();
    for _ in 0..5 {
        let (status, body) = get(server.api_addr(), "/v1/afvalwegingen/containers/1").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["id"], 1);
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the token is cached until expiry"
    );
    server.shutdown().await;

    // A token endpoint that refuses sluis's client credentials: 502 backendConfig.
    fail.store(401, Ordering::SeqCst);
    let server = sluis_stores::start(config(dir.path(), &upstream))
        .await
        .unwrap();
    let (status, body) = get(server.api_addr(), "/v1/afvalwegingen/containers/1").await;
    assert_eq!(status, 502);
    assert_eq!(body["code"], "backendConfig");
    assert!(!body.to_string().contains("s3cr3t"));
    server.shutdown().await;
}

struct Pki {
    ca_pem: String,
    server_cert: String,
    server_key: String,
    client_cert: String,
    client_key: String,
    ca_cert: rcgen::Certificate,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sluis test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut cp = CertificateParams::new(Vec::<String>::new()).unwrap();
    cp.distinguished_name
        .push(rcgen::DnType::CommonName, "sluis");
    let client = cp.signed_by(&client_key, &issuer).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        server_cert: server.pem(),
        server_key: server_key.serialize_pem(),
        client_cert: client.pem(),
        client_key: client_key.serialize_pem(),
        ca_cert,
    }
}

/// A TLS upstream that requires a client certificate from the test CA and answers one record.
async fn mtls_upstream(p: &Pki) -> SocketAddr {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(p.ca_cert.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .unwrap();
    let certs = rustls_pemfile::certs(&mut p.server_cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pemfile::private_key(&mut p.server_key.as_bytes())
        .unwrap()
        .unwrap();
    let cfg = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (s, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(s).await else {
                    return;
                };
                let svc = service_fn(|_req: Request<hyper::body::Incoming>| async {
                    let mut r = Response::new(Full::new(Bytes::from(
                        r#"{"id": 7, "serienummer": "MTLS-7", "geheim": "x"}"#,
                    )));
                    r.headers_mut()
                        .insert("content-type", "application/hal+json".parse().unwrap());
                    Ok::<_, Infallible>(r)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_with_ca_bundle() {
    let dir = tempfile::tempdir().unwrap();
    policy_dir(dir.path());
    let p = pki();
    for (name, pem) in [
        ("ca.pem", &p.ca_pem),
        ("client.pem", &p.client_cert),
        ("client.key", &p.client_key),
    ] {
        std::fs::write(dir.path().join(name), pem).unwrap();
    }
    let addr = mtls_upstream(&p).await;
    let with_cert = format!(
        "upstream = {{ url = \"https://localhost:{}/v1/afvalwegingen\", tls = {{ ca_file = \"ca.pem\", client_cert_file = \"client.pem\", client_key_file = \"client.key\" }} }}",
        addr.port()
    );
    let server = sluis_stores::start(config(dir.path(), &with_cert))
        .await
        .unwrap();
    let (status, body) = get(server.api_addr(), "/v1/afvalwegingen/containers/7").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"id": 7, "serienummer": "MTLS-7"}),
        "unknown keys are dropped"
    );
    server.shutdown().await;

    // Without a client certificate the handshake fails: 503, nothing of the TLS error leaks.
    let without = format!(
        "upstream = {{ url = \"https://localhost:{}/v1/afvalwegingen\", tls = {{ ca_file = \"ca.pem\" }} }}",
        addr.port()
    );
    let server = sluis_stores::start(config(dir.path(), &without))
        .await
        .unwrap();
    let (status, body) = get(server.api_addr(), "/v1/afvalwegingen/containers/7").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        !body.to_string().to_lowercase().contains("certificate"),
        "{body}"
    );
    server.shutdown().await;

    // A CA bundle that does not sign the server's certificate: the upstream is not trusted.
    let other = pki();
    std::fs::write(dir.path().join("other-ca.pem"), &other.ca_pem).unwrap();
    let wrong_ca = with_cert.replace("ca_file = \"ca.pem\"", "ca_file = \"other-ca.pem\"");
    let server = sluis_stores::start(config(dir.path(), &wrong_ca))
        .await
        .unwrap();
    let (status, _) = get(server.api_addr(), "/v1/afvalwegingen/containers/7").await;
    assert_eq!(status, 503);
    server.shutdown().await;
}
