//! sluis against a real OpenID provider: the npm package `oidc-provider` (pinned in
//! `tests/oidc/package-lock.json`, installed by `scripts/oidc-setup`, started from
//! `tests/oidc/provider.mjs`). Tokens come from its token endpoint with the client-credentials
//! grant; sluis finds the keys through OIDC discovery; the provider rotates its signing key and
//! sluis must follow without a restart (refresh on an unknown `kid`, rate limited).
//!
//! Needs Node.js (18.12 or later) and npm; the first run installs the provider from the npm
//! registry. Without node the test fails with a message saying so: it is never skipped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation is a failed test"
)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use sluis_testkit::{DatasetFixture, FixtureConfig};

/// sluis's `jwks_min_refresh_secs` in this test, and how long to wait to be past it.
const MIN_REFRESH: Duration = Duration::from_secs(1);
const PAST_MIN_REFRESH: Duration = Duration::from_millis(1150);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

// ---- the OpenID provider -----------------------------------------------------------------------

/// What `provider.mjs` prints once it listens.
#[derive(Debug, Clone)]
struct ProviderInfo {
    issuer: String,
    admin: String,
    client_id: String,
    client_secret: String,
    kid: String,
}

/// The running provider; killed when dropped. Its stdin stays open while this lives: the
/// provider runs with `--exit-with-stdin`, so it also ends if the test process dies.
struct OidcProvider {
    child: Child,
    _stdin: Option<ChildStdin>,
    info: ProviderInfo,
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `scripts/oidc-setup` (installs `oidc-provider` with `npm ci` when it is missing).
fn oidc_setup() {
    let script = repo_root().join("scripts/oidc-setup");
    let status = Command::new("bash")
        .arg(&script)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        status.success(),
        "{} failed ({status}); see its message above. These tests need Node.js (18.12 or \
         later) and npm, and the npm registry the first time; install them rather than skipping",
        script.display()
    );
}

/// Forwards a child's output to the test's stderr, line by line (shown when the test fails).
fn forward(name: &'static str, out: impl Read + Send + 'static) {
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            eprintln!("[{name}] {line}");
        }
    });
}

fn start_provider() -> OidcProvider {
    let dir = repo_root().join("tests/oidc");
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .args(["--port", "0", "--admin-port", "0", "--exit-with-stdin"])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start `node provider.mjs` in {}: {e} (is Node.js installed?)",
                dir.display()
            )
        });
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().expect("piped stdout");
    forward("provider", child.stderr.take().expect("piped stderr"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut sent = false;
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            match serde_json::from_str::<Value>(&line) {
                Ok(v) if !sent && v.get("issuer").is_some() => {
                    sent = true;
                    let _ = tx.send(v);
                }
                _ => eprintln!("[provider stdout] {line}"),
            }
        }
    });
    let mut provider = OidcProvider {
        child,
        _stdin: stdin,
        info: ProviderInfo {
            issuer: String::new(),
            admin: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            kid: String::new(),
        },
    };
    let v = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(v) => v,
        Err(_) => {
            let status = provider.child.try_wait().ok().flatten();
            panic!(
                "provider.mjs printed no start line within 20 s (exit status: {status:?}); \
                 see [provider] lines above"
            )
        }
    };
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("start line lacks {k}: {v}"))
            .to_owned()
    };
    provider.info = ProviderInfo {
        issuer: text("issuer"),
        admin: text("admin"),
        client_id: text("client_id"),
        client_secret: text("client_secret"),
        kid: text("kid"),
    };
    provider
}

// ---- HTTP --------------------------------------------------------------------------------------

type HttpClient = Client<HttpConnector, Full<Bytes>>;

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}, not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

async fn send(
    client: &HttpClient,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut b = Request::builder().method(method).uri(url);
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    let req = b.body(Full::new(Bytes::from(body.to_owned()))).unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), client.request(req))
        .await
        .unwrap_or_else(|_| panic!("{url}: no answer within 10 s"))
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        headers,
        body,
    }
}

/// `application/x-www-form-urlencoded` value encoding.
fn form_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn base64url_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => panic!("not base64url: {s}"),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap());
        }
    }
    out
}

/// A JWT's header and payload, decoded without verification.
fn jwt_parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let mut part = || serde_json::from_slice(&base64url_decode(it.next().unwrap())).unwrap();
    (part(), part())
}

fn kid_of(token: &str) -> String {
    jwt_parts(token).0["kid"].as_str().unwrap().to_owned()
}

struct Env {
    client: HttpClient,
    provider: ProviderInfo,
    sluis: String,
    admin: String,
}

impl Env {
    /// An access token from the provider's token endpoint (client credentials, client_secret_post).
    /// `scope: None` sends no scope parameter; `resource: None` uses the provider's default
    /// resource (audience `sluis`).
    async fn token(&self, scope: Option<&str>, resource: Option<&str>) -> String {
        let mut form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            form_value(&self.provider.client_id),
            form_value(&self.provider.client_secret)
        );
        if let Some(s) = scope {
            form.push_str(&format!("&scope={}", form_value(s)));
        }
        if let Some(r) = resource {
            form.push_str(&format!("&resource={}", form_value(r)));
        }
        let r = send(
            &self.client,
            Method::POST,
            &format!("{}/token", self.provider.issuer),
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("accept", "application/json"),
            ],
            &form,
        )
        .await;
        assert_eq!(r.status, 200, "token endpoint: {}", r.text());
        let v = r.json();
        assert_eq!(v["token_type"], "Bearer", "{v}");
        v["access_token"].as_str().unwrap().to_owned()
    }

    async fn get(&self, path: &str, token: &str) -> Resp {
        let auth = format!("Bearer {token}");
        send(
            &self.client,
            Method::GET,
            &format!("{}{path}", self.sluis),
            &[("authorization", &auth)],
            "",
        )
        .await
    }

    /// Asks the provider to rotate its signing key; returns (new kid, published kids).
    async fn rotate(&self, keep_old: bool) -> (String, Vec<String>) {
        let url = format!(
            "{}/_test/rotate?keep_old={}",
            self.provider.admin,
            u8::from(keep_old)
        );
        let r = send(&self.client, Method::POST, &url, &[], "").await;
        assert_eq!(r.status, 200, "rotate: {}", r.text());
        let v = r.json();
        let kids = v["kids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        (v["kid"].as_str().unwrap().to_owned(), kids)
    }

    /// The kids the provider publishes at the `jwks_uri` its discovery document names.
    async fn published_kids(&self) -> Vec<String> {
        let url = format!("{}/.well-known/openid-configuration", self.provider.issuer);
        let doc = send(&self.client, Method::GET, &url, &[], "").await.json();
        let jwks_uri = doc["jwks_uri"].as_str().unwrap();
        let jwks = send(&self.client, Method::GET, jwks_uri, &[], "")
            .await
            .json();
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    }

    /// sluis's count of successful JWKS fetches for the test issuer (Prometheus `/metrics`).
    async fn jwks_refreshes(&self) -> u64 {
        let r = send(
            &self.client,
            Method::GET,
            &format!("{}/metrics", self.admin),
            &[],
            "",
        )
        .await;
        assert_eq!(r.status, 200);
        r.text()
            .lines()
            .filter(|l| {
                l.starts_with("sluis_jwks_refreshes_total{")
                    && l.contains("issuer=\"oidc\"")
                    && l.contains("result=\"ok\"")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .map(|v| v as u64)
            .sum()
    }
}

/// Asserts a 401 that tells the client its token is invalid and reveals no key ids.
fn assert_invalid_token(r: &Resp, what: &str, kids: &[&str]) {
    assert_eq!(r.status, 401, "{what}: {}", r.text());
    assert!(
        r.header("www-authenticate")
            .contains("error=\"invalid_token\""),
        "{what}: WWW-Authenticate {:?}",
        r.header("www-authenticate")
    );
    assert!(
        r.header("content-type")
            .starts_with("application/problem+json"),
        "{what}: content-type {:?}",
        r.header("content-type")
    );
    let body = r.text();
    for kid in kids {
        assert!(
            !body.contains(kid),
            "{what}: the 401 names key {kid}: {body}"
        );
    }
}

fn containers(list: &Value) -> &Vec<Value> {
    list["_embedded"]["containers"]
        .as_array()
        .unwrap_or_else(|| panic!("no _embedded.containers: {list}"))
}

/// Waits until sluis may fetch the JWKS again (its minimum interval since `last` has passed).
async fn past_min_refresh(last: Instant) {
    let due = last + PAST_MIN_REFRESH;
    let now = Instant::now();
    if due > now {
        tokio::time::sleep(due - now).await;
    }
}

// ---- sluis -------------------------------------------------------------------------------------

const POLICY_FILES: &[&str] = &[
    "datasets/afvalwegingen/dataset.json",
    "datasets/afvalwegingen/containers/v1.json",
    "datasets/afvalwegingen/clusters/v1.json",
];

/// Writes sluis.toml (plus a copy of the afvalwegingen policy, no profiles) into `dir`.
fn write_config(dir: &Path, issuer: &str, upstream: &str) -> PathBuf {
    let examples = repo_root().join("examples/policy");
    for rel in POLICY_FILES {
        let to = dir.join("policy").join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(examples.join(rel), &to)
            .unwrap_or_else(|e| panic!("copy {rel} from {}: {e}", examples.display()));
    }
    std::fs::write(
        dir.join("encoding.key"),
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    let min_refresh = MIN_REFRESH.as_secs();
    let config = format!(
        r#"[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"

[policy]
schemas = ["policy/datasets"]
encoding_key = {{ file = "encoding.key" }}

[[issuers]]
name = "oidc"
issuer = "{issuer}"
discovery_url = "{issuer}"
audiences = ["sluis"]
algorithms = ["RS256"]
scopes = "scope"
# Only an unknown kid (or the start) makes sluis fetch the keys during this test.
jwks_refresh_secs = 3600
jwks_min_refresh_secs = {min_refresh}

[[apis]]
name = "afvalwegingen"
prefix = "/v1/afvalwegingen"
kind = "dataset"
dataset = "afvalwegingen"
upstream = {{ url = "{upstream}/v1/afvalwegingen", timeout_ms = 5000 }}

[audit]
kind = "jsonl"
path = "audit.jsonl"
"#
    );
    let path = dir.join("sluis.toml");
    std::fs::write(&path, config).unwrap();
    path
}

// ---- the test ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokens_and_key_rotation_from_a_real_openid_provider() {
    let started = Instant::now();
    oidc_setup();
    let provider = start_provider();
    let fixture = DatasetFixture::start(FixtureConfig::default())
        .await
        .expect("fixture upstream");
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &provider.info.issuer, &fixture.base_url());
    let config = sluis_proxy::Config::load(&path).unwrap_or_else(|problems| {
        panic!(
            "sluis.toml: {}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    });
    let server = sluis_stores::start(config).await.expect("sluis starts");
    // `start` fetched the keys once, through discovery.
    let mut last_fetch = Instant::now();
    let env = Env {
        client: Client::builder(TokioExecutor::new()).build_http(),
        provider: provider.info.clone(),
        sluis: format!("http://{}", server.api_addr()),
        admin: format!("http://{}", server.admin_addr()),
    };
    let kid1 = env.provider.kid.clone();

    // Ready: the keys came from the provider's discovery document.
    let ready = send(
        &env.client,
        Method::GET,
        &format!("{}/readyz", env.admin),
        &[],
        "",
    )
    .await;
    assert_eq!(ready.status, 200, "readyz: {}", ready.text());
    assert_eq!(ready.json()["issuerKeys"], true);
    assert_eq!(env.jwks_refreshes().await, 1);
    assert_eq!(env.published_kids().await, vec![kid1.clone()]);

    // What the upstream holds, to compare sluis's answers with.
    let direct = send(
        &env.client,
        Method::GET,
        &format!(
            "{}/v1/afvalwegingen/containers?_pageSize=5",
            fixture.base_url()
        ),
        &[],
        "",
    )
    .await
    .json();
    let owner_of = |id: &Value| -> Value {
        containers(&direct)
            .iter()
            .find(|c| &c["id"] == id)
            .map(|c| c["eigenaarNaam"].clone())
            .unwrap_or_else(|| panic!("container {id} not in the fixture's first page"))
    };
    let list = "/v1/afvalwegingen/containers?_pageSize=5";

    // --- A token with BAG/R: the BAG/R-only field is visible, as the upstream has it. ---
    let bag = env.token(Some("BAG/R"), None).await;
    let (header, claims) = jwt_parts(&bag);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["kid"], kid1.as_str());
    assert_eq!(claims["iss"], env.provider.issuer.as_str());
    assert_eq!(claims["aud"], "sluis");
    assert_eq!(claims["scope"], "BAG/R");
    assert_eq!(claims["client_id"], "sluis-test-client");
    let r = env.get(list, &bag).await;
    assert_eq!(r.status, 200, "BAG/R list: {}", r.text());
    let body = r.json();
    assert_eq!(containers(&body).len(), 5);
    for c in containers(&body) {
        assert!(
            c["eigenaarNaam"].is_string(),
            "BAG/R sees eigenaarNaam: {c}"
        );
        assert_eq!(c["eigenaarNaam"], owner_of(&c["id"]), "{c}");
        assert!(c.get("datumCreatie").is_none(), "AFVAL/BEHEER only: {c}");
    }
    let first_id = containers(&body)[0]["id"].clone();
    let detail = env
        .get(&format!("/v1/afvalwegingen/containers/{first_id}"), &bag)
        .await;
    assert_eq!(detail.status, 200, "detail: {}", detail.text());
    assert_eq!(detail.json()["eigenaarNaam"], owner_of(&first_id));
    let clusters = env.get("/v1/afvalwegingen/clusters", &bag).await;
    assert_eq!(
        clusters.status,
        200,
        "BAG/R reads clusters: {}",
        clusters.text()
    );

    // --- Two scopes: the AFVAL/BEHEER field appears as well. ---
    let beheer = env.token(Some("BAG/R AFVAL/BEHEER"), None).await;
    assert_eq!(jwt_parts(&beheer).1["scope"], "BAG/R AFVAL/BEHEER");
    let r = env.get(list, &beheer).await;
    assert_eq!(r.status, 200, "{}", r.text());
    for c in containers(&r.json()) {
        assert!(c["eigenaarNaam"].is_string(), "{c}");
        assert!(c["datumCreatie"].is_string(), "AFVAL/BEHEER: {c}");
    }

    // --- A token without BAG/R: the field is absent, the BAG/R table is forbidden. ---
    let other = env.token(Some("BRP/RNAME"), None).await;
    assert_eq!(jwt_parts(&other).1["scope"], "BRP/RNAME");
    let r = env.get(list, &other).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(containers(&body).len(), 5);
    for c in containers(&body) {
        assert!(c.get("eigenaarNaam").is_none(), "no BAG/R: {c}");
        assert!(c.get("datumCreatie").is_none(), "no AFVAL/BEHEER: {c}");
        assert!(c.get("serienummer").is_some(), "public field kept: {c}");
    }
    assert!(
        !r.text().contains(owner_of(&first_id).as_str().unwrap()),
        "an owner name leaked: {}",
        r.text()
    );
    let clusters = env.get("/v1/afvalwegingen/clusters", &other).await;
    assert_eq!(clusters.status, 403, "{}", clusters.text());

    // --- A token with no scopes at all. oidc-provider then leaves the `scope` claim out, and
    // sluis (issuer configured with `scopes = "scope"`) refuses a token that lacks its scope
    // claim: 401 (sluis-token's `MissingScopes`), not an empty scope set. ---
    let bare = env.token(None, None).await;
    let (_, bare_claims) = jwt_parts(&bare);
    assert!(bare_claims.get("scope").is_none(), "{bare_claims}");
    assert_eq!(bare_claims["aud"], "sluis");
    assert_invalid_token(&env.get(list, &bare).await, "no scope claim", &[&kid1]);

    // --- Invalid tokens: 401 invalid_token, nothing about keys in the answer. ---
    // One signature character changed (in the middle: the last one carries padding bits).
    let mut tampered = bag.clone().into_bytes();
    let at = tampered.len() - 40;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    // The AFVAL/BEHEER token's header and signature around the BAG/R token's payload.
    let b: Vec<&str> = beheer.split('.').collect();
    let spliced = format!("{}.{}.{}", b[0], bag.split('.').nth(1).unwrap(), b[2]);
    let wrong_audience = env.token(Some("BAG/R"), Some("urn:other")).await;
    assert_eq!(jwt_parts(&wrong_audience).1["aud"], "other-api");
    for (what, token) in [
        ("tampered signature", tampered.as_str()),
        ("spliced payload", spliced.as_str()),
        ("wrong audience", wrong_audience.as_str()),
        ("not a JWT", "not-a-jwt"),
    ] {
        assert_invalid_token(&env.get(list, token).await, what, &[&kid1]);
    }
    assert_eq!(env.jwks_refreshes().await, 1, "no refresh for known kids");

    // --- Rotation, old key kept: a token with the new kid is accepted without a restart. ---
    let old_a = env.token(Some("BAG/R"), None).await; // kid1; not shown to sluis yet
    let old_b = env.token(Some("BAG/R"), None).await; // kid1; not shown to sluis yet
    let (kid2, kids) = env.rotate(true).await;
    assert_eq!(kids, vec![kid2.clone(), kid1.clone()]);
    assert_eq!(env.published_kids().await, kids);
    let new2 = env.token(Some("BAG/R"), None).await;
    assert_eq!(kid_of(&new2), kid2);
    let mid = env.token(Some("BAG/R"), None).await; // kid2; not shown to sluis yet
    past_min_refresh(last_fetch).await;
    let r = env.get(list, &new2).await;
    last_fetch = Instant::now();
    assert_eq!(r.status, 200, "new kid after rotation: {}", r.text());
    assert!(containers(&r.json())[0]["eigenaarNaam"].is_string());
    assert_eq!(
        env.jwks_refreshes().await,
        2,
        "the unknown kid made sluis fetch the keys once"
    );
    let r = env.get(list, &old_a).await;
    assert_eq!(r.status, 200, "old key still published: {}", r.text());

    // --- Rotation, old keys dropped: the new kid works, tokens of dropped keys do not. ---
    let (kid3, kids) = env.rotate(false).await;
    assert_eq!(kids, vec![kid3.clone()]);
    assert_eq!(env.published_kids().await, kids);
    let new3 = env.token(Some("BAG/R"), None).await;
    assert_eq!(kid_of(&new3), kid3);
    past_min_refresh(last_fetch).await;
    let r = env.get(list, &new3).await;
    assert_eq!(r.status, 200, "newest kid: {}", r.text());
    assert!(containers(&r.json())[0]["eigenaarNaam"].is_string());
    assert_eq!(env.jwks_refreshes().await, 3);
    // A token sluis verified (and cached) before its key was retired is refused too.
    assert_invalid_token(
        &env.get(list, &old_a).await,
        "cached token of dropped kid1",
        &[&kid1],
    );
    assert_invalid_token(
        &env.get(list, &new2).await,
        "cached token of dropped kid2",
        &[&kid2],
    );
    // sluis now holds only kid3: tokens signed with kid1 or kid2 that it has not cached are
    // refused (each may trigger one rate-limited refresh, which finds the same single key).
    assert_invalid_token(&env.get(list, &old_b).await, "dropped kid1", &[&kid1]);
    assert_invalid_token(&env.get(list, &mid).await, "dropped kid2", &[&kid2]);
    past_min_refresh(Instant::now()).await;
    assert_invalid_token(
        &env.get(list, &old_b).await,
        "dropped kid1 after a refresh",
        &[&kid1],
    );
    // The new key keeps working throughout, with the same sluis.
    assert_eq!(env.get(list, &new3).await.status, 200);

    server.shutdown().await;
    fixture.shutdown().await.unwrap();
    drop(provider);
    eprintln!("oidc test took {:?}", started.elapsed());
}
