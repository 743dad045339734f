//! Shared helpers of the BRP end-to-end tests (and the BRP benchmark): a BRP fixture upstream
//! that requires an API key, sluis started from a `sluis.toml` in a temp dir (BRP API with the
//! example policy, SQLite audit store, subject and checkpoint keys, seal keys), tokens signed
//! with the demo key, a small HTTP client, the audit log read back, and the BRP OpenAPI
//! document from the reference folder as a contract checker (skipped when it is missing).

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail the test on unexpected errors; not every binary uses every helper"
)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::HeaderMap;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Map, Value, json};
use sluis_audit::{AccessRecord, Entry, ProcessingRecord};
use sluis_proxy::ServerHandle;
use sluis_testkit::brp::contract::Spec;
use sluis_testkit::brp::{BrpData, BrpFixture, BrpFixtureConfig, BrpFixtureHandle};
use tempfile::TempDir;
use yaml_rust2::{Yaml, YamlLoader};

/// Where sluis serves the BRP: `POST {PREFIX}/personen` (Amsterdam's path, not the BRP's own).
pub const PREFIX: &str = "/bevragingen/v1";
/// The path clients call, and the `instance` sluis writes into problem documents.
pub const PERSONEN_PATH: &str = "/bevragingen/v1/personen";
/// The API key the fixture requires and sluis sends (fictional).
pub const UPSTREAM_KEY_HEADER: &str = "X-API-Key";
pub const UPSTREAM_KEY: &str = "brp-proefomgeving-key-fictional-0001";
/// The registered processing activity, and an alias a task application sends as its
/// `X-Task-Description`.
pub const ACTIVITY: &str = "VA-12";
pub const ACTIVITY_ALIAS: &str = "Wmo-aanvraag beoordelen";
/// The default client application (`azp`) of the tokens.
pub const CLIENT: &str = "wmo-app";

// Scopes of examples/policy/brp.toml.
pub const ZOEK_BSN: &str = "BRP/zoek-bsn";
pub const ZOEK_POSTCODE: &str = "BRP/zoek-postcode";
pub const ZOEK_POSTCODE_LANDELIJK: &str = "BRP/zoek-postcode-landelijk";
pub const ZOEK_STRAAT: &str = "BRP/zoek-straat";
pub const LANDELIJK: &str = "BRP/buiten-gemeente";
pub const OVERLEDEN: &str = "BRP/in-overl";
pub const GEHEIM: &str = "BRP/in-geheim";
pub const ENCRYPT_BSN: &str = "BRP/encrypt-bsn";
pub const BASIS: &str = "BRP/basis";
pub const ADRES: &str = "BRP/adres";
pub const FAMILIE: &str = "BRP/familie";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The default BRP data set (10,000 persons), generated once per process.
pub fn data() -> Arc<BrpData> {
    static DATA: OnceLock<Arc<BrpData>> = OnceLock::new();
    Arc::clone(DATA.get_or_init(|| {
        let c = BrpFixtureConfig::default();
        Arc::new(BrpData::generate(c.seed, c.persons, &c.own_gemeente, c.peildatum).unwrap())
    }))
}

/// The fixture configuration: the API key sluis must send.
pub fn fixture_config() -> BrpFixtureConfig {
    BrpFixtureConfig {
        api_key: Some((UPSTREAM_KEY_HEADER.into(), UPSTREAM_KEY.into())),
        ..BrpFixtureConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Contract

/// The BRP Personen OpenAPI document, relative to the reference folder.
pub const OPENAPI: &str = "brp/openapi.yaml";

/// The BRP Personen OpenAPI document as a contract checker, read once per process; `None` when
/// the reference folder (see `sluis_testkit::reference`) has no such file. Then the contract
/// checks are skipped and the rest of each test still runs: the first call of each test prints
/// the skip line. An unreadable or invalid document fails the test.
pub fn spec() -> Option<&'static Spec> {
    static SPEC: OnceLock<Option<Spec>> = OnceLock::new();
    thread_local! {
        static REPORTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    let spec = SPEC.get_or_init(|| {
        let path = sluis_testkit::reference::path(OPENAPI).ok()?;
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read the BRP OpenAPI document {} ({e})",
                path.display()
            )
        });
        let docs = YamlLoader::load_from_str(&text).unwrap();
        Some(Spec::from_value(yaml_to_json(docs.first().unwrap())).unwrap())
    });
    if spec.is_none()
        && !REPORTED.replace(true)
        && let Err(skip) = sluis_testkit::reference::path(OPENAPI)
    {
        skip.report_part("BRP contract checks");
    }
    spec.as_ref()
}

/// A YAML document as JSON, 1:1 (mapping keys become strings).
pub fn yaml_to_json(y: &Yaml) -> Value {
    match y {
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Yaml::Integer(i) => json!(i),
        Yaml::String(s) => json!(s),
        Yaml::Boolean(b) => json!(b),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    other => format!("{other:?}"),
                };
                m.insert(key, yaml_to_json(v));
            }
            Value::Object(m)
        }
        _ => Value::Null,
    }
}

/// A sealed burgerservicenummer (`bsn1.<kid>.<...>`)?
pub fn is_sealed(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.starts_with("bsn1."))
}

/// Every `burgerservicenummer` value at any depth.
pub fn all_bsn_values(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "burgerservicenummer"
                    && let Some(s) = x.as_str()
                {
                    out.push(s.to_owned());
                } else {
                    all_bsn_values(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| all_bsn_values(x, out)),
        _ => {}
    }
}

/// Replaces sealed burgerservicenummers with a placeholder of the BSN pattern, so that the rest
/// of a pseudonymous answer can still be checked against the contract.
fn unseal_placeholder(v: &mut Value) -> usize {
    match v {
        Value::Object(m) => {
            let mut n = 0;
            for (k, x) in m.iter_mut() {
                if k == "burgerservicenummer" && is_sealed(x) {
                    *x = json!("000000000");
                    n += 1;
                } else {
                    n += unseal_placeholder(x);
                }
            }
            n
        }
        Value::Array(a) => a.iter_mut().map(unseal_placeholder).sum(),
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

/// A token of the demo issuer for `scopes`, client [`CLIENT`].
pub fn token(scopes: &[&str]) -> String {
    token_for(CLIENT, scopes)
}

/// A token of the demo issuer for `scopes` and client application `azp`.
pub fn token_for(azp: &str, scopes: &[&str]) -> String {
    let key = jsonwebtoken::EncodingKey::from_ec_pem(include_bytes!(
        "../../../cli/src/demo/demo-signing-key.pem"
    ))
    .unwrap();
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some("sluis-demo-1".into());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"iss": "https://demo.sluis.invalid", "aud": "sluis-demo",
        "sub": "medewerker-7", "azp": azp, "scope": scopes.join(" "),
        "iat": now, "exp": now + 600});
    jsonwebtoken::encode(&h, &claims, &key).unwrap()
}

// ---------------------------------------------------------------------------------------------
// sluis in a temp dir

/// Settings of one sluis under test.
#[derive(Debug, Clone)]
pub struct Options {
    pub timeout_ms: u64,
    /// `"sqlite"` (default) or `"jsonl"`.
    pub audit_kind: &'static str,
    /// Scopes the BRP mount requires of every request (`required_scopes`).
    pub mount_scopes: Vec<&'static str>,
    /// TOML appended to the configuration (a register, a ceiling for the activity).
    pub extra_toml: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout_ms: 1000,
            audit_kind: "sqlite",
            mount_scopes: Vec::new(),
            extra_toml: String::new(),
        }
    }
}

/// Writes `sluis.toml` and its secrets into `dir`; returns the configuration file.
pub fn write_config(dir: &Path, upstream: &str, opts: &Options) -> PathBuf {
    let w = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    w("subject.key", "brp-subject-key-0123456789abcdef-fictional");
    w("checkpoint.key", &"2a".repeat(32));
    w("enc.key", "0123456789abcdef0123456789abcdef");
    w("upstream.key", UPSTREAM_KEY);
    // base64 of 32 bytes each: the current key first, an older one after it.
    w(
        "seal-k2.key",
        "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
    );
    w(
        "seal-k1.key",
        "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICA=",
    );
    std::fs::write(
        dir.join("jwks.json"),
        include_str!("../../../cli/src/demo/demo-jwks.json"),
    )
    .unwrap();
    let audit = match opts.audit_kind {
        "jsonl" => "kind = \"jsonl\"\npath = \"audit.jsonl\"".to_owned(),
        _ => "kind = \"sqlite\"\npath = \"audit.db\"\ncheckpoint_key = { file = \"checkpoint.key\" }\ncheckpoint_every = 50".to_owned(),
    };
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
admin_scope = "SLUIS/ADMIN"

[policy]
schemas = ["{schemas}"]
profiles = ["{profiles}"]
encoding_key = {{ file = "enc.key" }}

[[issuers]]
name = "demo"
issuer = "https://demo.sluis.invalid"
jwks_file = "jwks.json"
audiences = ["sluis-demo"]
algorithms = ["ES256"]
# The test applications authenticate their users themselves and name them in X-User.
trust_user_header = true

[[apis]]
name = "brp-personen"
prefix = "{PREFIX}"
kind = "brp"
brp_policy = "{policy}"
required_scopes = {mount_scopes:?}
upstream = {{ url = "{upstream}", timeout_ms = {timeout}, api_key = {{ header = "{UPSTREAM_KEY_HEADER}", value = {{ file = "upstream.key" }} }}, problem_detail_safe = true }}
seal_keys = [{{ id = "k2", key = {{ file = "seal-k2.key" }} }}, {{ id = "k1", key = {{ file = "seal-k1.key" }} }}]
required_headers = ["X-User", "X-Correlation-ID", "X-Task-Description"]
user_header = "X-User"
purpose_header = "X-Task-Description"
correlation_header = "X-Correlation-ID"

[[processing_activities]]
id = "{ACTIVITY}"
name = "Behandelen Wmo-aanvraag"
purpose = "Vaststellen recht op maatwerkvoorziening"
legal_basis = "Wmo 2015 art. 2.3.2"
retention_days = 3650
aliases = ["{ACTIVITY_ALIAS}"]

[audit]
{audit}
subject_key = {{ file = "subject.key" }}
{extra}
"#,
        extra = opts.extra_toml,
        schemas = root().join("examples/policy/datasets").display(),
        profiles = root().join("examples/policy/profiles").display(),
        policy = root().join("examples/policy/brp.toml").display(),
        timeout = opts.timeout_ms,
        mount_scopes = opts.mount_scopes,
    );
    let path = dir.join("sluis.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A response from sluis (or the fixture).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The trace id sluis answered with (`traceparent`), which keys its audit records.
    pub fn trace_id(&self) -> String {
        let tp = self.header("traceparent").expect("no traceparent");
        tp.split('-').nth(1).unwrap().to_owned()
    }

    pub fn personen(&self) -> &Vec<Value> {
        assert_eq!(self.status, 200, "{}", self.body);
        self.body["personen"].as_array().unwrap()
    }

    /// `(name, code)` of each `invalidParams` entry.
    pub fn invalid_params(&self) -> Vec<(String, String)> {
        self.body["invalidParams"]
            .as_array()
            .unwrap_or_else(|| panic!("no invalidParams in {}", self.body))
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_owned(),
                    p["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// Asserts a problem+json answer with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.body
        );
        assert_eq!(self.body["status"], status, "{}", self.body);
        assert_eq!(self.body["code"], code, "{}", self.body);
        &self.body
    }
}

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// One sluis in front of one BRP fixture, with its temp dir and audit configuration.
#[derive(Debug)]
pub struct Env {
    pub fixture: BrpFixtureHandle,
    pub server: ServerHandle,
    pub audit: sluis_proxy::config::Audit,
    pub client: HttpClient,
    /// 200 answers checked against `PersonenQueryResponse`; of those, answers whose sealed
    /// BSNs were replaced by a placeholder first.
    pub checked: AtomicUsize,
    pub checked_sealed: AtomicUsize,
    _dir: TempDir,
}

/// The headers every request carries unless a test says otherwise.
pub fn std_headers(correlation: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-User", "medewerker-7@gemeente.example".to_owned()),
        ("X-Correlation-ID", correlation.to_owned()),
        ("X-Task-Description", ACTIVITY_ALIAS.to_owned()),
    ]
}

impl Env {
    pub async fn start() -> Env {
        Env::start_with(Options::default()).await
    }

    pub async fn start_with(opts: Options) -> Env {
        let fixture = BrpFixture::start_with_data(data(), fixture_config())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(dir.path(), &fixture.api_url(), &opts);
        let config = sluis_proxy::Config::load(&path).unwrap_or_else(|p| panic!("{p:?}"));
        let audit = config.audit.clone();
        let server = sluis_stores::start(config).await.unwrap();
        Env {
            fixture,
            server,
            audit,
            client: Client::builder(TokioExecutor::new()).build_http(),
            checked: AtomicUsize::new(0),
            checked_sealed: AtomicUsize::new(0),
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}{PERSONEN_PATH}", self.server.api_addr())
    }

    /// POSTs `body` with the standard headers (correlation id `corr-1`) and a bearer token.
    pub async fn post(&self, token: &str, body: &Value) -> Resp {
        self.post_as(Some(token), &std_headers("corr-1"), body)
            .await
    }

    /// POSTs `body` under correlation id `correlation`.
    pub async fn post_corr(&self, token: &str, correlation: &str, body: &Value) -> Resp {
        self.post_as(Some(token), &std_headers(correlation), body)
            .await
    }

    /// POSTs `body` with exactly these headers (plus the token, when given). Every 200 answer is
    /// checked against the BRP contract (`PersonenQueryResponse`).
    pub async fn post_as(
        &self,
        token: Option<&str>,
        headers: &[(&str, String)],
        body: &Value,
    ) -> Resp {
        let mut req =
            Request::post(self.url()).header("content-type", "application/json; charset=utf-8");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let resp = self
            .client
            .request(
                req.body(Full::new(Bytes::from(serde_json::to_vec(body).unwrap())))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("sluis answered {status} with non-JSON ({e}): {bytes:?}"));
        if status == 200 {
            self.check_contract(&body);
        }
        Resp {
            status,
            headers,
            body,
        }
    }

    /// Checks a 200 body against `PersonenQueryResponse`. Sealed BSNs (pseudonymous callers)
    /// cannot match the BSN pattern `^[0-9]{9}$`; they are replaced by a placeholder first, so
    /// the rest of the answer is still checked. Without the reference document nothing is
    /// checked or counted (see [`spec`]).
    pub fn check_contract(&self, body: &Value) {
        let Some(spec) = spec() else { return };
        let mut b = body.clone();
        if unseal_placeholder(&mut b) > 0 {
            self.checked_sealed.fetch_add(1, Ordering::Relaxed);
        }
        if let Err(errors) = spec.check_response(&b) {
            panic!("a sluis answer breaks the BRP contract: {errors:#?}\n{body}");
        }
        self.checked.fetch_add(1, Ordering::Relaxed);
    }

    /// The body the fixture received last.
    pub fn upstream_body(&self) -> Value {
        self.fixture.last_body_json().expect("no upstream request")
    }

    pub fn upstream_requests(&self) -> u64 {
        self.fixture.faults().requests()
    }

    // -- audit --------------------------------------------------------------------------------

    /// Every entry of the audit log.
    pub fn entries(&self) -> Vec<Entry> {
        let mut store = sluis_stores::open_store(&self.audit).unwrap();
        store
            .export(0, 1_000_000)
            .unwrap()
            .into_iter()
            .map(|e| e.entry)
            .collect()
    }

    /// The access record of one request.
    pub fn access(&self, trace: &str) -> AccessRecord {
        let mut found: Vec<AccessRecord> = self
            .entries()
            .into_iter()
            .filter_map(|e| match e {
                Entry::Access(a) if a.trace_id == trace => Some(a),
                _ => None,
            })
            .collect();
        assert_eq!(found.len(), 1, "access records of trace {trace}");
        found.pop().unwrap()
    }

    /// The processing records of one request, in log order.
    pub fn processing(&self, trace: &str) -> Vec<ProcessingRecord> {
        self.entries()
            .into_iter()
            .filter_map(|e| match e {
                Entry::Processing(p) if p.trace_id == trace => Some(p),
                _ => None,
            })
            .collect()
    }

    /// The pseudonym the processing log holds for a BSN.
    pub fn pseudonym(&self, bsn: &str) -> String {
        sluis_proxy::auditing::subject_keys(&self.audit)
            .unwrap()
            .unwrap()
            .pseudonym("BSN", bsn)
    }

    /// Verifies the audit chain and its signed checkpoints.
    pub fn verify_chain(&self) {
        let mut store = sluis_stores::open_store(&self.audit).unwrap();
        let public = sluis_proxy::auditing::checkpoint_public_key(&self.audit)
            .unwrap()
            .unwrap();
        let report = store.verify(&[public]).unwrap();
        assert!(report.is_ok(), "{report:?}");
    }

    pub async fn stop(self) -> (usize, usize) {
        let counts = (
            self.checked.load(Ordering::Relaxed),
            self.checked_sealed.load(Ordering::Relaxed),
        );
        self.server.shutdown().await;
        self.fixture.shutdown().await.unwrap();
        counts
    }
}

/// Sorted strings.
pub fn sorted<S: AsRef<str>>(v: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut out: Vec<String> = v.into_iter().map(|s| s.as_ref().to_owned()).collect();
    out.sort();
    out
}

/// The `fields` the fixture received, sorted.
pub fn upstream_fields(body: &Value) -> Vec<String> {
    sorted(
        body["fields"]
            .as_array()
            .unwrap_or_else(|| panic!("no fields in {body}"))
            .iter()
            .map(|f| f.as_str().unwrap().to_owned()),
    )
}
