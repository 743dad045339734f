//! The end-to-end harness: a fixture upstream (sluis-testkit) on loopback, a temp dir with a
//! `sluis.toml`, policy files, a JWKS computed from the fictional keys in `tests/keys/`, an
//! encoding key and an HMAC client secret; sluis started on `127.0.0.1:0` for both listeners;
//! and a small hyper client to talk to it over real sockets.
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::HeaderMap;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};
use sluis_audit::EntrySink;
use sluis_proxy::{Config, ServerHandle};
use sluis_testkit::{DatasetFixture, FixtureConfig, FixtureHandle};
use tempfile::TempDir;

pub const ISS: &str = "https://idp.sluis-test.invalid";
pub const AUD: &str = "sluis-test";
pub const HMAC_CLIENT: &str = "zaak-app";
/// Fictional, test-only secrets.
pub const HMAC_SECRET: &str = "zgw-test-secret-0123456789abcdef-fictional";
pub const ENCODING_KEY: &str = "6f1c0e7d2a9b4c3e8f5a6d7b1c2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e";
/// Fictional key for subject pseudonyms (`audit_extra = SUBJECT_KEY_TOML`).
pub const SUBJECT_KEY: &str = "dataset-subject-key-0123456789abcdef-fictional";
pub const SUBJECT_KEY_TOML: &str = "subject_key = { file = \"subject.key\" }";
pub const UPSTREAM_KEY: &str = "upstream-key-fictional-0001";
pub const UPSTREAM_KEY_HEADER: &str = "x-api-key";

/// Headers the `brp` mount requires.
pub const BRP_HEADERS: &[(&str, &str)] = &[
    ("X-User", "medewerker-1"),
    ("X-Correlation-ID", "corr-0001"),
    ("X-Task-Description", "bijstand-aanvraag"),
];

// ---------------------------------------------------------------------------------------------
// Keys and tokens

pub fn key_file(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn alg_of(key_name: &str) -> Algorithm {
    if key_name.starts_with("ec") {
        Algorithm::ES256
    } else {
        Algorithm::RS256
    }
}

pub fn encoding_key(key_name: &str) -> EncodingKey {
    let pem = key_file(&format!("{key_name}.key.pem"));
    if key_name.starts_with("ec") {
        EncodingKey::from_ec_pem(&pem).unwrap()
    } else {
        EncodingKey::from_rsa_pem(&pem).unwrap()
    }
}

/// The public JWK of a test key, `kid` = the key's name.
pub fn jwk(key_name: &str) -> Value {
    let alg = alg_of(key_name);
    let jwk = Jwk::from_encoding_key(&encoding_key(key_name), alg).unwrap();
    let mut v = serde_json::to_value(jwk).unwrap();
    v["kid"] = json!(key_name);
    v["use"] = json!("sig");
    v
}

pub fn jwks(key_names: &[&str]) -> String {
    let keys: Vec<Value> = key_names.iter().map(|k| jwk(k)).collect();
    serde_json::to_string(&json!({ "keys": keys })).unwrap()
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// OIDC-style access token claims for the test issuer.
pub fn claims(scopes: &[&str]) -> Value {
    let t = now();
    json!({
        "iss": ISS, "aud": AUD, "sub": "user-7f3a", "email": "medewerker@gemeente.invalid",
        "azp": "taakapplicatie", "scope": scopes.join(" "),
        "iat": t, "nbf": t, "exp": t + 300,
    })
}

/// `claims` with `patch` merged in (`null` removes a claim).
pub fn claims_with(scopes: &[&str], patch: Value) -> Value {
    let mut c = claims(scopes);
    let obj = c.as_object_mut().unwrap();
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            obj.remove(k);
        } else {
            obj.insert(k.clone(), v.clone());
        }
    }
    c
}

pub fn sign(alg: Algorithm, key_name: &str, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &encoding_key(key_name)).unwrap()
}

/// A valid RS256 token with these scopes.
pub fn token(scopes: &[&str]) -> String {
    sign(Algorithm::RS256, "rsa-1", Some("rsa-1"), &claims(scopes))
}

pub fn sign_hmac(secret: &[u8], kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token assembled by hand.
pub fn raw_token(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        b64(serde_json::to_vec(header).unwrap()),
        b64(serde_json::to_vec(payload).unwrap()),
        signature
    )
}

// ---------------------------------------------------------------------------------------------
// Policy files shaped like the fixture's tables

/// `afvalwegingen`: `containers` (with a `cluster` relation) and `clusters`, all public.
pub fn afval_ds() -> Value {
    json!({
        "type": "dataset", "id": "afvalwegingen", "title": "Afval (test)",
        "tables": [
            {"id": "containers", "type": "table", "schema": {
                "identifier": ["id"], "display": "id",
                "properties": {
                    "schema": {"$ref": "https://schemas.data.amsterdam.nl/schema@v1.1.1#/definitions/schema"},
                    "id": {"type": "integer"},
                    "serienummer": {"type": "string"},
                    "fractieOmschrijving": {"type": "string"},
                    "eigenaarNaam": {"type": "string"},
                    "datumCreatie": {"type": "string", "format": "date"},
                    "clusterId": {"type": "string"},
                    "cluster": {"type": "string", "relation": "afvalwegingen:clusters"}
                }
            }},
            {"id": "clusters", "type": "table", "schema": {
                "identifier": "id",
                "properties": {
                    "id": {"type": "string"},
                    "status": {"type": "string"},
                    "adres": {"type": "object", "properties": {
                        "straatnaam": {"type": "string"},
                        "huisnummer": {"type": "integer"},
                        "postcode": {"type": "string"}
                    }}
                }
            }}
        ]
    })
}

/// `parkeervakken.parkeervakken`, public.
pub fn parkeer_ds() -> Value {
    json!({
        "type": "dataset", "id": "parkeervakken", "title": "Parkeervakken (test)",
        "tables": [{"id": "parkeervakken", "type": "table", "schema": {
            "identifier": ["id"],
            "properties": {
                "id": {"type": "string"},
                "buurtcode": {"type": "string"},
                "type": {"type": "string"},
                "soort": {"type": "string"},
                "aantal": {"type": "number"},
                "regimes": {"type": "array", "items": {"type": "object", "properties": {
                    "eindtijd": {"type": "string"}, "aantal": {"type": "integer"}
                }}}
            }
        }}]
    })
}

/// `brp.ingeschrevenpersonen`, dataset auth `BRP/R`.
pub fn brp_ds() -> Value {
    json!({
        "type": "dataset", "id": "brp", "title": "BRP (test)", "auth": "BRP/R",
        "tables": [{"id": "ingeschrevenpersonen", "type": "table", "schema": {
            "identifier": "id", "display": "id",
            "properties": {
                "id": {"type": "integer"},
                "bsn": {"type": "string"},
                "voornamen": {"type": "string"},
                "geslachtsnaam": {"type": "string"},
                "geboortedatum": {"type": "string", "format": "date"},
                "verblijfplaats": {"type": "object", "properties": {
                    "straat": {"type": "string"},
                    "huisnummer": {"type": "integer"},
                    "postcode": {"type": "string"},
                    "woonplaats": {"type": "string"}
                }},
                "nationaliteiten": {"type": "array", "items": {"type": "object", "properties": {
                    "code": {"type": "string"}, "omschrijving": {"type": "string"}
                }}}
            }
        }}]
    })
}

/// Sets the value at a JSON pointer, creating the last key.
pub fn set(v: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() {
        v
    } else {
        v.pointer_mut(parent)
            .unwrap_or_else(|| panic!("no {parent}"))
    };
    target
        .as_object_mut()
        .unwrap()
        .insert(key.to_owned(), value);
}

/// JSON pointers to the tables of `afval_ds()`.
pub const T_CONTAINERS: &str = "/tables/0";
pub const T_CLUSTERS: &str = "/tables/1";

/// A profile document; `scopes: None` applies to everyone.
pub fn profile(id: &str, scopes: Option<&[&str]>, datasets: Value) -> Value {
    let mut p = json!({"type": "profile", "id": id, "name": id, "datasets": datasets});
    if let Some(s) = scopes {
        p["scopes"] = json!(s);
    }
    p
}

/// The policy sources a test runs with.
#[derive(Debug, Clone)]
pub struct PolicyFiles {
    pub afval: Value,
    pub parkeren: Value,
    pub brp: Value,
    pub profiles: Vec<Value>,
}

impl Default for PolicyFiles {
    fn default() -> Self {
        PolicyFiles {
            afval: afval_ds(),
            parkeren: parkeer_ds(),
            brp: brp_ds(),
            profiles: Vec::new(),
        }
    }
}

/// Writes `contents` to `path` atomically (a temp file beside the watched folders, renamed).
pub fn write_atomic(dir: &Path, path: &Path, contents: &[u8]) {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".tmp-{n}"));
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Harness

/// What a harness starts with.
pub struct Opts {
    pub policy: PolicyFiles,
    pub fixture: FixtureConfig,
    /// The API key sluis sends upstream (written to a secret file), if any.
    pub upstream_key: Option<String>,
    pub timeout_ms: u64,
    pub upstream_max_body: Option<usize>,
    /// An upstream base (scheme and authority) instead of the fixture's.
    pub upstream_override: Option<String>,
    pub max_token_bytes: usize,
    pub audit: Option<Arc<dyn EntrySink>>,
    pub shutdown_grace_secs: u64,
    /// Keys in the issuer's JWKS file.
    pub jwks_keys: Vec<&'static str>,
    /// How often the file watcher looks for changed files.
    pub reload_poll_secs: u64,
    /// The issuer's scheduled JWKS refresh interval.
    pub jwks_refresh_secs: u64,
    /// Extra lines for the `idp` issuer, the `brp` dataset mount and `[audit]`.
    pub issuer_extra: String,
    pub brp_mount_extra: String,
    pub audit_extra: String,
    /// Lines of a `[limits]` table (none when empty).
    pub limits_toml: String,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            policy: PolicyFiles::default(),
            fixture: FixtureConfig {
                containers: 60,
                clusters: 8,
                persons: 60,
                parkeervakken: 40,
                ..FixtureConfig::default()
            },
            upstream_key: None,
            timeout_ms: 5_000,
            upstream_max_body: None,
            upstream_override: None,
            max_token_bytes: 4096,
            audit: None,
            shutdown_grace_secs: 5,
            jwks_keys: vec!["rsa-1", "ec-1"],
            reload_poll_secs: 1,
            jwks_refresh_secs: 300,
            issuer_extra: String::new(),
            brp_mount_extra: String::new(),
            audit_extra: String::new(),
            limits_toml: String::new(),
        }
    }
}

pub type HttpClient = Client<HttpConnector, Empty<Bytes>>;

pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(5))
        .build_http()
}

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

    /// Asserts a problem+json response with this status and `code`; returns the document.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.text()
        );
        let doc = self.json();
        assert_eq!(doc["status"], json!(status), "{doc}");
        assert_eq!(doc["code"], json!(code), "{doc}");
        for k in ["type", "title", "instance"] {
            assert!(doc.get(k).is_some(), "problem without {k}: {doc}");
        }
        doc
    }

    /// Asserts 200 and returns the JSON body.
    #[track_caller]
    pub fn ok(&self) -> Value {
        assert_eq!(self.status, 200, "body: {}", self.text());
        self.json()
    }
}

pub async fn try_send(
    client: &HttpClient,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Resp, String> {
    let mut b = Request::builder().method(method).uri(url);
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    let resp = client
        .request(b.body(Empty::new()).map_err(|e| e.to_string())?)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// A running fixture plus sluis configured in a temp dir.
pub struct Harness {
    pub dir: TempDir,
    pub fixture: Option<FixtureHandle>,
    pub server: Option<ServerHandle>,
    /// `http://127.0.0.1:PORT` of the API listener.
    pub api: String,
    /// `http://127.0.0.1:PORT` of the admin listener.
    pub admin: String,
    pub client: HttpClient,
    pub upstream_port: u16,
}

impl Harness {
    pub async fn start(opts: Opts) -> Harness {
        let fixture = DatasetFixture::start(opts.fixture.clone()).await.unwrap();
        let upstream = opts
            .upstream_override
            .clone()
            .unwrap_or_else(|| fixture.base_url());
        let upstream_port = fixture.addr().port();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("policy/datasets")).unwrap();
        std::fs::create_dir_all(root.join("policy/profiles")).unwrap();
        write_policy(root, &opts.policy);
        std::fs::write(root.join("jwks.json"), jwks(&opts.jwks_keys)).unwrap();
        std::fs::write(root.join("encoding.key"), format!("{ENCODING_KEY}\n")).unwrap();
        std::fs::write(root.join("zgw.secret"), format!("{HMAC_SECRET}\n")).unwrap();
        std::fs::write(root.join("subject.key"), SUBJECT_KEY).unwrap();
        if let Some(k) = &opts.upstream_key {
            std::fs::write(root.join("upstream.key"), k).unwrap();
        }
        let toml = config_text(&opts, &upstream);
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
        let server = match opts.audit {
            Some(sink) => sluis_stores::start_with_sink(config, sink).await,
            None => sluis_stores::start(config).await,
        }
        .unwrap();
        Harness {
            api: format!("http://{}", server.api_addr()),
            admin: format!("http://{}", server.admin_addr()),
            dir,
            fixture: Some(fixture),
            server: Some(server),
            client: client(),
            upstream_port,
        }
    }

    pub fn fixture(&self) -> &FixtureHandle {
        self.fixture.as_ref().unwrap()
    }

    pub fn server(&self) -> &ServerHandle {
        self.server.as_ref().unwrap()
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Rewrites the policy files (atomically; a stale profile file is removed).
    pub fn write_policy(&self, p: &PolicyFiles) {
        write_policy(self.root(), p);
    }

    /// GET `path` (with query) on the API listener.
    pub async fn get(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Resp {
        self.try_get(path, token, headers)
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    pub async fn try_get(
        &self,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<Resp, String> {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut hs: Vec<(&str, &str)> = headers.to_vec();
        if let Some(a) = &auth {
            hs.push(("authorization", a.as_str()));
        }
        try_send(
            &self.client,
            Method::GET,
            &format!("{}{path}", self.api),
            &hs,
        )
        .await
    }

    /// GET with a token carrying `scopes`.
    pub async fn get_as(&self, path: &str, scopes: &[&str]) -> Resp {
        let headers: &[(&str, &str)] = if path.starts_with("/api/brp") {
            BRP_HEADERS
        } else {
            &[]
        };
        self.get(path, Some(&token(scopes)), headers).await
    }

    pub async fn admin_get(&self, path: &str) -> Resp {
        try_send(
            &self.client,
            Method::GET,
            &format!("{}{path}", self.admin),
            &[],
        )
        .await
        .unwrap()
    }

    /// The audit file's records.
    pub fn audit_lines(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.path("audit.jsonl")).unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("audit line {l}: {e}")))
            .collect()
    }

    /// A fixture record by dataset, table and id.
    pub fn record(&self, dataset: &str, table: &str, id: &str) -> Map<String, Value> {
        self.fixture()
            .data()
            .table(dataset, table)
            .and_then(|t| t.get(id))
            .cloned()
            .unwrap_or_else(|| panic!("no fixture record {dataset}.{table}/{id}"))
    }

    pub fn records(&self, dataset: &str, table: &str) -> Vec<Map<String, Value>> {
        self.fixture()
            .data()
            .table(dataset, table)
            .unwrap()
            .records()
            .to_vec()
    }

    pub async fn shutdown(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
        if let Some(f) = self.fixture.take() {
            let _ = f.shutdown().await;
        }
    }
}

fn write_policy(root: &Path, p: &PolicyFiles) {
    let ds = root.join("policy/datasets");
    for (name, v) in [
        ("afvalwegingen.json", &p.afval),
        ("parkeervakken.json", &p.parkeren),
        ("brp.json", &p.brp),
    ] {
        write_atomic(root, &ds.join(name), &serde_json::to_vec_pretty(v).unwrap());
    }
    let pd = root.join("policy/profiles");
    let wanted: Vec<String> = p
        .profiles
        .iter()
        .map(|pr| format!("{}.json", pr["id"].as_str().unwrap()))
        .collect();
    for e in std::fs::read_dir(&pd).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if !wanted.contains(&name) {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    for (pr, name) in p.profiles.iter().zip(&wanted) {
        write_atomic(
            root,
            &pd.join(name),
            &serde_json::to_vec_pretty(pr).unwrap(),
        );
    }
}

fn config_text(o: &Opts, upstream: &str) -> String {
    let mut up = format!("timeout_ms = {}, connect_timeout_ms = 1000", o.timeout_ms);
    if let Some(m) = o.upstream_max_body {
        up.push_str(&format!(", max_body_bytes = {m}"));
    }
    if o.upstream_key.is_some() {
        up.push_str(&format!(
            ", api_key = {{ header = \"{UPSTREAM_KEY_HEADER}\", value = {{ file = \"upstream.key\" }} }}"
        ));
    }
    format!(
        r#"[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
max_token_bytes = {max_token}
shutdown_grace_secs = {grace}
reload_poll_secs = {poll}

[policy]
schemas = ["policy/datasets"]
profiles = ["policy/profiles"]
encoding_key = {{ file = "encoding.key" }}

[[issuers]]
name = "idp"
issuer = "{ISS}"
jwks_file = "jwks.json"
audiences = ["{AUD}"]
algorithms = ["RS256"]
leeway_secs = 5
scopes = "scope"
jwks_min_refresh_secs = 1
jwks_refresh_secs = {jwks_refresh}
{issuer_extra}

[[issuers]]
name = "zgw"
kind = "hmac"
max_age_secs = 600
leeway_secs = 5
clients = [{{ client_id = "{HMAC_CLIENT}", secret = {{ file = "zgw.secret" }} }}]

[[apis]]
name = "afval"
prefix = "/api/afval"
kind = "dataset"
dataset = "afvalwegingen"
upstream = {{ url = "{upstream}/v1/afvalwegingen", {up} }}

[[apis]]
name = "parkeren"
prefix = "/api/parkeren"
kind = "dataset"
dataset = "parkeervakken"
upstream = {{ url = "{upstream}/v1/parkeervakken", {up} }}

[[apis]]
name = "brp"
prefix = "/api/brp"
kind = "dataset"
dataset = "brp"
upstream = {{ url = "{upstream}/v1/brp", {up} }}
required_headers = ["X-User", "X-Correlation-ID", "X-Task-Description"]
user_header = "X-User"
purpose_header = "X-Task-Description"
correlation_header = "X-Correlation-ID"
{brp_extra}

[[processing_activities]]
id = "bijstand-aanvraag"
name = "Behandelen aanvraag bijstandsuitkering"
purpose = "Vaststellen recht op bijstand"
legal_basis = "Participatiewet art. 43"
retention_days = 3650
aliases = ["bijstand"]

[[processing_activities]]
id = "parkeervergunning"
name = "Behandelen aanvraag parkeervergunning"
purpose = "Vaststellen woonadres aanvrager"
legal_basis = "Verordening parkeerbelastingen"
retention_days = 730

[audit]
kind = "jsonl"
path = "audit.jsonl"
{audit_extra}
{limits}
"#,
        issuer_extra = o.issuer_extra,
        brp_extra = o.brp_mount_extra,
        audit_extra = o.audit_extra,
        limits = if o.limits_toml.is_empty() {
            String::new()
        } else {
            format!("[limits]\n{}", o.limits_toml)
        },
        max_token = o.max_token_bytes,
        grace = o.shutdown_grace_secs,
        poll = o.reload_poll_secs,
        jwks_refresh = o.jwks_refresh_secs,
    )
}

// ---------------------------------------------------------------------------------------------
// Body helpers

/// The records of a list response (`_embedded.<table>`).
pub fn items<'a>(body: &'a Value, table: &str) -> &'a Vec<Value> {
    body["_embedded"][table]
        .as_array()
        .unwrap_or_else(|| panic!("no _embedded.{table} in {body}"))
}

/// Data keys of a record (without `_links` / `_embedded`), sorted.
pub fn data_keys(rec: &Value) -> Vec<String> {
    let mut k: Vec<String> = rec
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !k.starts_with('_'))
        .cloned()
        .collect();
    k.sort();
    k
}

/// Whether `key` appears as an object key anywhere in `v`.
pub fn has_key_anywhere(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, child)| k == key || has_key_anywhere(child, key)),
        Value::Array(items) => items.iter().any(|i| has_key_anywhere(i, key)),
        _ => false,
    }
}

/// Every `href` string in `v`.
pub fn hrefs(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn go(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    match (k.as_str(), c) {
                        ("href", Value::String(s)) => out.push(s.clone()),
                        _ => go(c, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| go(i, out)),
            _ => {}
        }
    }
    go(v, &mut out);
    out
}

pub fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Percent-encodes a query value.
pub fn q(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The value of a Prometheus sample whose line starts with `prefix` (name plus labels), summed
/// over matching lines; 0 when absent.
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The `encoded` form sluis gives `value` in `domain` (`dataset.table.field`), computed with the
/// test encoding key.
pub fn encoded(domain: &str, value: &Value) -> String {
    let key = sluis_policy::EncodingKey::new(ENCODING_KEY.as_bytes().to_vec()).unwrap();
    sluis_policy::Projector::new(&key, [0u8; 32]).encode(domain, value)
}

/// Polls `f` until it returns true or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if f().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
