//! Shared helpers of the ZGW end-to-end tests: the ZGW fixture upstream (Open Zaak-like, on
//! loopback), sluis configured in a temp dir with Zaken, Documenten and Catalogi mounts, an
//! autorisaties file, optional rules, an HMAC issuer for ZGW clients and an OIDC issuer, and a
//! small HTTP client that sends bodies.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail the test on unexpected errors; not every binary uses every helper"
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sluis_proxy::{Config, ServerHandle};
use sluis_testkit::zgw::{ZgwFixture, ZgwFixtureConfig, ZgwFixtureHandle};
use tempfile::TempDir;

#[path = "../common/mod.rs"]
mod common;
pub use common::{ENCODING_KEY, SUBJECT_KEY, now, sign};

/// ZGW client ids and their (fictional) secrets.
pub const APP_A: &str = "app-a";
pub const SECRET_A: &str = "app-a-secret-0123456789abcdef-fictional";
pub const APP_B: &str = "app-b";
pub const SECRET_B: &str = "app-b-secret-0123456789abcdef-fictional";
/// A client trusted to assert its users' identity (`user_id`).
pub const APP_TRUSTED: &str = "zaakbehandel-app";
pub const SECRET_TRUSTED: &str = "zaakbehandel-secret-0123456789abcdef-fictional";
/// sluis's own client at the fixture (superuser there).
pub const SLUIS_CLIENT: &str = "sluis";
pub const SLUIS_SECRET: &str = "sluis-upstream-secret-0123456789abcdef-fictional";
/// The notification webhook's Authorization value.
pub const NRC_AUTH: &str = "Token nrc-callback-fictional-0001";

pub const ZAKEN: &str = "/zaken/api/v1";
pub const DOCUMENTEN: &str = "/documenten/api/v1";
pub const CATALOGI: &str = "/catalogi/api/v1";

/// What a ZGW harness starts with.
pub struct ZgwOpts {
    pub fixture: ZgwFixtureConfig,
    /// The Applicaties (Autorisaties API shape).
    pub applicaties: Value,
    /// Rules beyond the standard (TOML), if any.
    pub rules: Option<String>,
    /// Read the applicaties live from the fixture's Autorisaties API instead of a file.
    pub live: bool,
    /// Extra `[zgw]` lines.
    pub zgw_extra: String,
    /// Extra lines for every mount's `[apis.upstream]`.
    pub upstream_extra: String,
    /// `[zgw] involvement_cache_secs`.
    pub involvement_cache_secs: u64,
    /// Record into the SQLite store (as shipped) instead of JSON lines.
    pub sqlite_audit: bool,
}

impl Default for ZgwOpts {
    fn default() -> Self {
        ZgwOpts {
            fixture: ZgwFixtureConfig {
                client_id: SLUIS_CLIENT.into(),
                secret: SLUIS_SECRET.into(),
                zaken: 300,
                zaaktypen: 20,
                documents: 60,
                expand_informatieobject: true,
                ..ZgwFixtureConfig::default()
            },
            applicaties: json!([]),
            rules: None,
            live: false,
            zgw_extra: String::new(),
            upstream_extra: String::new(),
            involvement_cache_secs: 30,
            sqlite_audit: false,
        }
    }
}

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A response, body read.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    #[track_caller]
    pub fn status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.text());
        self
    }
    /// Asserts a problem with this status and code.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text()
        );
        let doc = self.json();
        assert_eq!(doc["code"], json!(code), "{doc}");
        assert_eq!(doc["status"], json!(status), "{doc}");
        doc
    }
    #[track_caller]
    pub fn ok(&self) -> Value {
        assert_eq!(self.status, 200, "body: {}", self.text());
        self.json()
    }
}

/// The fixture plus sluis.
pub struct ZgwHarness {
    pub dir: TempDir,
    pub fixture: ZgwFixtureHandle,
    pub server: Option<ServerHandle>,
    pub api: String,
    pub admin: String,
    pub client: HttpClient,
}

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(5))
        .build_http()
}

/// A ZGW HS256 token (client_id, iat now, user).
pub fn zgw_token(client: &str, secret: &str, user: Option<(&str, &str)>) -> String {
    zgw_token_at(client, secret, user, now())
}

pub fn zgw_token_at(client: &str, secret: &str, user: Option<(&str, &str)>, iat: u64) -> String {
    let mut claims = json!({"iss": client, "client_id": client, "iat": iat});
    if let Some((id, name)) = user {
        claims["user_id"] = json!(id);
        claims["user_representation"] = json!(name);
    }
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// An OIDC token of the test IdP for client `azp`, naming `user`, with `scopes`.
pub fn oidc_token(azp: &str, user: &str, scopes: &[&str]) -> String {
    let claims = common::claims_with(scopes, json!({"azp": azp, "email": user, "sub": user}));
    sign(Algorithm::RS256, "rsa-1", Some("rsa-1"), &claims)
}

/// An Applicatie with one zrc autorisatie per (zaaktype, max, scopes).
pub fn applicatie(client: &str, label: &str, autorisaties: Vec<Value>) -> Value {
    json!({
        "url": format!("http://ac.invalid/autorisaties/api/v1/applicaties/{}", uuid_for(client)),
        "clientIds": [client],
        "label": label,
        "heeftAlleAutorisaties": false,
        "autorisaties": autorisaties,
    })
}

pub fn superuser(client: &str, label: &str) -> Value {
    json!({"clientIds": [client], "label": label, "heeftAlleAutorisaties": true, "autorisaties": []})
}

pub fn zrc(zaaktype: &str, max: &str, scopes: &[&str]) -> Value {
    json!({"component": "zrc", "scopes": scopes, "zaaktype": zaaktype, "maxVertrouwelijkheidaanduiding": max})
}

pub fn drc(iot: &str, max: &str, scopes: &[&str]) -> Value {
    json!({"component": "drc", "scopes": scopes, "informatieobjecttype": iot, "maxVertrouwelijkheidaanduiding": max})
}

fn uuid_for(s: &str) -> String {
    let mut h: u128 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h = (h ^ u128::from(b)).wrapping_mul(0x100000001b3);
    }
    let x = format!("{h:032x}");
    format!(
        "{}-{}-4{}-8{}-{}",
        &x[0..8],
        &x[8..12],
        &x[13..16],
        &x[17..20],
        &x[20..32]
    )
}

impl ZgwHarness {
    pub async fn start(opts: ZgwOpts) -> ZgwHarness {
        let fixture = ZgwFixture::start(opts.fixture.clone()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("jwks.json"), common::jwks(&["rsa-1"])).unwrap();
        std::fs::write(root.join("encoding.key"), format!("{ENCODING_KEY}\n")).unwrap();
        std::fs::write(root.join("subject.key"), SUBJECT_KEY).unwrap();
        for (name, secret) in [
            ("a.secret", SECRET_A),
            ("b.secret", SECRET_B),
            ("trusted.secret", SECRET_TRUSTED),
            ("sluis.secret", SLUIS_SECRET),
            ("nrc.auth", NRC_AUTH),
        ] {
            std::fs::write(root.join(name), secret).unwrap();
        }
        std::fs::write(
            root.join("autorisaties.json"),
            serde_json::to_vec_pretty(&opts.applicaties).unwrap(),
        )
        .unwrap();
        if opts.live {
            fixture.set_applicaties(opts.applicaties.clone()).unwrap();
        }
        let rules_line = match &opts.rules {
            Some(r) => {
                std::fs::write(root.join("zgw-rules.toml"), r).unwrap();
                "rules = \"zgw-rules.toml\"".to_owned()
            }
            None => String::new(),
        };
        let base = fixture.base_url();
        let datasets = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/policy/datasets")
            .canonicalize()
            .unwrap();
        let jwt = format!(
            "zgw_jwt = {{ client_id = \"{SLUIS_CLIENT}\", secret = {{ file = \"sluis.secret\" }} }}\n{}",
            opts.upstream_extra
        );
        let source = if opts.live {
            format!(
                "[zgw.autorisaties_api]\nrefresh_secs = 300\n[zgw.autorisaties_api.upstream]\nurl = \"{base}/autorisaties/api/v1\"\n{jwt}\n"
            )
        } else {
            String::new()
        };
        let file_line = if opts.live {
            String::new()
        } else {
            "autorisaties_file = \"autorisaties.json\"".to_owned()
        };
        let toml = format!(
            r#"[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
reload_poll_secs = 1

[policy]
schemas = ["{datasets}"]
encoding_key = {{ file = "encoding.key" }}

[[issuers]]
name = "idp"
issuer = "{iss}"
jwks_file = "jwks.json"
audiences = ["{aud}"]
algorithms = ["RS256"]
scopes = "scope"
user_claims = ["email"]

[[issuers]]
name = "zgw"
kind = "hmac"
scopes = "none"
max_age_secs = 3600
leeway_secs = 0
user_claims = ["user_id"]
trusted_user_clients = ["{APP_TRUSTED}"]
clients = [
  {{ client_id = "{APP_A}", secret = {{ file = "a.secret" }} }},
  {{ client_id = "{APP_B}", secret = {{ file = "b.secret" }} }},
  {{ client_id = "{APP_TRUSTED}", secret = {{ file = "trusted.secret" }} }},
]

[[apis]]
name = "zaken"
kind = "zgw"
component = "zaken"
prefix = "{ZAKEN}"
activity = "zaakafhandeling"
[apis.upstream]
url = "{base}{ZAKEN}"
{jwt}

[[apis]]
name = "documenten"
kind = "zgw"
component = "documenten"
prefix = "{DOCUMENTEN}"
activity = "zaakafhandeling"
[apis.upstream]
url = "{base}{DOCUMENTEN}"
{jwt}

[[apis]]
name = "catalogi"
kind = "zgw"
component = "catalogi"
prefix = "{CATALOGI}"
activity = "zaakafhandeling"
[apis.upstream]
url = "{base}{CATALOGI}"
{jwt}

[[processing_activities]]
id = "zaakafhandeling"
name = "Behandelen van zaken"
purpose = "Afhandelen van aanvragen en meldingen"
legal_basis = "Awb"
retention_days = 3650

[zgw]
{file_line}
{rules_line}
involvement_cache_secs = {cache}
max_scan_pages = 20
{zgw_extra}
[zgw.notifications]
auth = {{ file = "nrc.auth" }}
{source}
[audit]
{audit}
subject_key = {{ file = "subject.key" }}
"#,
            cache = opts.involvement_cache_secs,
            audit = if opts.sqlite_audit {
                "kind = \"sqlite\"\npath = \"audit.db\""
            } else {
                "kind = \"jsonl\"\npath = \"audit.jsonl\""
            },
            datasets = datasets.display(),
            iss = common::ISS,
            aud = common::AUD,
            zgw_extra = opts.zgw_extra,
        );
        std::fs::write(root.join("sluis.toml"), toml).unwrap();
        let config = Config::load(&root.join("sluis.toml")).unwrap_or_else(|p| {
            panic!(
                "config: {}",
                p.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
        let server = sluis_stores::start(config).await.unwrap();
        ZgwHarness {
            api: format!("http://{}", server.api_addr()),
            admin: format!("http://{}", server.admin_addr()),
            dir,
            fixture,
            server: Some(server),
            client: client(),
        }
    }

    /// Replaces the autorisaties file and reloads sluis.
    pub async fn set_applicaties(&self, applicaties: &Value) {
        std::fs::write(
            self.root().join("autorisaties.json"),
            serde_json::to_vec_pretty(applicaties).unwrap(),
        )
        .unwrap();
        self.server.as_ref().unwrap().reload().await.unwrap();
    }

    /// Replaces the rules file and reloads sluis.
    pub async fn set_rules(&self, rules: &str) {
        std::fs::write(self.root().join("zgw-rules.toml"), rules).unwrap();
        self.server.as_ref().unwrap().reload().await.unwrap();
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// sluis's public URL of an upstream URL (same path under the API listener).
    pub fn public(&self, upstream_url: &str) -> String {
        upstream_url.replace(&self.fixture.base_url(), &self.api)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.api)
        };
        let mut b = Request::builder().method(method).uri(url);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        b = b.header("accept-crs", "EPSG:4326");
        if body.is_some() {
            b = b
                .header("content-type", "application/json")
                .header("content-crs", "EPSG:4326");
        }
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        let bytes = body
            .map(|v| Bytes::from(serde_json::to_vec(v).unwrap()))
            .unwrap_or_default();
        let resp = self
            .client
            .request(b.body(Full::new(bytes)).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.send(Method::GET, path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.send(Method::POST, path, Some(token), Some(body), &[])
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.send(Method::PATCH, path, Some(token), Some(body), &[])
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.send(Method::DELETE, path, Some(token), None, &[])
            .await
    }

    /// The audit file's records (access and processing).
    pub fn audit_lines(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.root().join("audit.jsonl")).unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The access records.
    pub fn access(&self) -> Vec<Value> {
        self.audit_lines()
            .into_iter()
            .filter(|l| l["kind"] == "access")
            .collect()
    }

    /// The processing records.
    pub fn processing(&self) -> Vec<Value> {
        self.audit_lines()
            .into_iter()
            .filter(|l| l["kind"] == "processing")
            .collect()
    }

    pub async fn shutdown(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
        let _ = self.fixture.shutdown().await;
    }
}
