//! Crash test (issue 5, item 9): "no record, no data" survives `kill -9`.
//!
//! `sluis serve` runs as a child process in front of the dataset fixture, with a hash-chained
//! audit store (SQLite; PostgreSQL when `SLUIS_TEST_PG` is set), a subject key and a checkpoint
//! key, on a BRP dataset API whose responses name data subjects, so every forwarded request
//! commits an access record plus one processing record per person in the response. Eight client
//! threads send requests continuously over keep-alive connections and note the trace id (from
//! the `traceparent` response header) of every 2xx response whose head they received. After
//! about 1.5 s the server is killed with SIGKILL in the middle of that load. Then, three times:
//!
//! - `sluis audit --config .. verify` passes with the checkpoint key (exit 0, no problem: no
//!   entry altered, removed or reordered, every checkpoint signature valid), and the store opens
//!   cleanly in this process (`sluis_proxy::auditing::open_store`) for the checks below;
//! - every 2xx trace id the clients saw has its access record (with the status the client got)
//!   and its processing records: one per person in the response, with the pseudonym of that
//!   person's BSN (computed here with the configured subject key), role `geraadpleegd` for a
//!   detail and `gevonden-in-zoekresultaat` for a list;
//! - no transaction is torn: every access record of a forwarded BRP request is followed,
//!   contiguously, by exactly as many processing records as the response had records (or one
//!   without subject for an empty result), whether or not a client ever saw that response;
//! - no BSN appears in clear anywhere in the log;
//! - `sluis serve` restarts on the same configuration and store, and answers.
//!
//! After the third kill the server is started once more, answers, and stops cleanly on SIGTERM,
//! and the store is checked a last time.
//!
//! PostgreSQL: needs `SLUIS_TEST_PG` (`export SLUIS_TEST_PG="$(scripts/pg-test-server)"`); the
//! test fails with that instruction when it is missing, unless `SLUIS_SKIP_PG=1`. The log goes
//! to a schema of its own (`crash_<pid>_<ms>`), dropped when the test passes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails the test on unexpected errors"
)]

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sluis_audit::{Decision, Entry, SubjectKeys, SubjectRole, export_each};
use sluis_proxy::Config;
use sluis_proxy::auditing::subject_keys;
use sluis_stores::open_store;
use sluis_testkit::{DatasetFixture, FixtureConfig, FixtureHandle};

/// Client threads sending requests during each cycle.
const CLIENTS: usize = 8;
/// Kill cycles per store.
const CYCLES: usize = 3;
/// Load before the first SIGKILL of a cycle.
const LOAD_BEFORE_KILL: Duration = Duration::from_millis(1500);
/// The processing activity the API records by default.
const ACTIVITY: &str = "crash-test";
/// Environment variable that carries the PostgreSQL connection string to the child.
const PG_ENV: &str = "SLUIS_CRASH_TEST_PG";

/// The two tests take turns: each gets the machine's cores for its load.
static SERIAL: Mutex<()> = Mutex::new(());

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn token(scopes: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sluis"))
        .args(["demo", "token", "--scopes", scopes])
        .output()
        .unwrap();
    assert!(out.status.success(), "sluis demo token failed");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

// --- the server process ---------------------------------------------------------------------

/// A running `sluis serve`; killed (SIGKILL) when dropped, so a failing test leaves nothing.
struct Server {
    child: Child,
    addr: String,
    logs: Option<JoinHandle<Vec<String>>>,
}

impl Server {
    fn start(config: &Path, env: &[(String, String)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sluis"))
            .args(["serve", "--config", config.to_str().unwrap()])
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("SLUIS_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let started = Instant::now();
        let mut seen = Vec::new();
        let addr = loop {
            let Some(line) = lines.next() else {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "sluis serve exited before listening (store did not reopen?):\n{}",
                    seen.join("\n")
                );
            };
            let line = line.unwrap();
            // "sluis listening on http://ADDR (admin http://ADDR)"
            if let Some(rest) = line.split("sluis listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
            seen.push(line);
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no listening line"
            );
        };
        // Keep draining stderr so the child never blocks on a full pipe.
        let logs = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
        Server {
            child,
            addr,
            logs: Some(logs),
        }
    }

    /// SIGKILL (`kill -9`): no shutdown code runs in sluis.
    fn kill9(mut self) -> Vec<String> {
        let ok = Command::new("kill")
            .args(["-9", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success(), "kill -9 failed");
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "sluis was not killed: {status}");
        self.logs.take().unwrap().join().unwrap()
    }

    /// SIGTERM: a clean stop within 15 s.
    fn terminate(mut self) -> Vec<String> {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "sluis did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "exit status {status}");
        self.logs.take().unwrap().join().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// --- the clients ----------------------------------------------------------------------------

/// A 2xx response a client received (at least its status line and headers).
#[derive(Debug, Clone)]
struct Seen {
    trace_id: String,
    status: u16,
    path: String,
    /// The BSNs in the body, when the whole body arrived.
    bsns: Option<Vec<String>>,
}

#[derive(Debug, Default)]
struct ClientLog {
    seen: Vec<Seen>,
    /// Non-2xx answers (status, path).
    other: Vec<(u16, String)>,
    io_errors: usize,
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

enum Outcome {
    /// Status, traceparent, body (None when the connection broke in the body).
    Answer(u16, Option<String>, Option<Vec<u8>>),
    /// No status line and headers: the request may or may not have been processed.
    Failed,
}

impl Conn {
    fn open(addr: &str) -> Option<Conn> {
        let stream = TcpStream::connect(addr).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        stream.set_nodelay(true).ok()?;
        Some(Conn {
            stream,
            buf: Vec::new(),
        })
    }

    /// Sends a GET and reads the answer. `keep` false: the connection is unusable afterwards.
    fn get(&mut self, addr: &str, path: &str, token: &str) -> (Outcome, bool) {
        let req =
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n");
        if self.stream.write_all(req.as_bytes()).is_err() {
            return (Outcome::Failed, false);
        }
        // Head.
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return (Outcome::Failed, false),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut traceparent = None;
        let mut length = None;
        let mut close = false;
        for l in lines {
            let Some((k, v)) = l.split_once(':') else {
                continue;
            };
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "traceparent" => traceparent = Some(v.to_owned()),
                "content-length" => length = v.parse::<usize>().ok(),
                "connection" => close = v.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        // Body: by Content-Length, else until the connection closes.
        let Some(length) = length else {
            let mut rest = std::mem::take(&mut self.buf);
            let ok = self.stream.read_to_end(&mut rest).is_ok();
            return (
                Outcome::Answer(status, traceparent, ok.then_some(rest)),
                false,
            );
        };
        while self.buf.len() < length {
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return (Outcome::Answer(status, traceparent, None), false),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = self.buf.drain(..length).collect();
        (Outcome::Answer(status, traceparent, Some(body)), !close)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The trace id of `00-<trace>-<span>-<flags>`.
fn trace_of(traceparent: &str) -> String {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "malformed traceparent {traceparent:?}");
    assert_eq!(parts[1].len(), 32, "malformed traceparent {traceparent:?}");
    parts[1].to_owned()
}

/// The BSNs of the persons in a detail or list body.
fn bsns_in(body: &[u8]) -> Option<Vec<String>> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let records: Vec<&serde_json::Value> = match v
        .get("_embedded")
        .and_then(|e| e.get("ingeschrevenpersonen"))
    {
        Some(list) => list.as_array()?.iter().collect(),
        None => vec![&v],
    };
    records
        .iter()
        .map(|r| r.get("bsn").and_then(|b| b.as_str()).map(str::to_owned))
        .collect()
}

/// A request path for client `n`'s `i`-th request: mostly details, some pages of a list.
fn request_path(persons: usize, n: usize, i: usize) -> String {
    let k = n.wrapping_mul(7919).wrapping_add(i.wrapping_mul(104_729));
    if i % 4 == 3 {
        let page = k % 20 + 1;
        format!("/v1/brp/ingeschrevenpersonen?_pageSize=3&page={page}")
    } else {
        format!("/v1/brp/ingeschrevenpersonen/{}", k % persons + 1)
    }
}

/// Sends requests until `stop`; reconnects whenever a connection breaks or is refused.
fn client(
    addr: String,
    token: Arc<String>,
    persons: usize,
    n: usize,
    stop: Arc<AtomicBool>,
) -> ClientLog {
    let mut log = ClientLog::default();
    let mut conn: Option<Conn> = None;
    let mut i = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let Some(c) = conn.as_mut() else {
            conn = Conn::open(&addr);
            if conn.is_none() {
                log.io_errors += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
            continue;
        };
        let path = request_path(persons, n, i);
        i += 1;
        let (outcome, keep) = c.get(&addr, &path, &token);
        if !keep {
            conn = None;
        }
        match outcome {
            Outcome::Failed => log.io_errors += 1,
            Outcome::Answer(status, tp, body) if (200..300).contains(&status) => {
                let tp = tp.unwrap_or_else(|| panic!("a {status} answer without traceparent"));
                log.seen.push(Seen {
                    trace_id: trace_of(&tp),
                    status,
                    path,
                    bsns: body.as_deref().and_then(bsns_in),
                });
            }
            Outcome::Answer(status, _, _) => log.other.push((status, path)),
        }
    }
    log
}

/// One request on a fresh connection; the server must answer 2xx.
fn one_request(addr: &str, token: &str, path: &str) -> Seen {
    let mut c = Conn::open(addr).expect("cannot connect to the restarted server");
    match c.get(addr, path, token).0 {
        Outcome::Answer(status, Some(tp), body) if (200..300).contains(&status) => Seen {
            trace_id: trace_of(&tp),
            status,
            path: path.to_owned(),
            bsns: body.as_deref().and_then(bsns_in),
        },
        Outcome::Answer(status, _, body) => panic!(
            "the restarted server answered {status}: {}",
            String::from_utf8_lossy(&body.unwrap_or_default())
        ),
        Outcome::Failed => panic!("the restarted server did not answer"),
    }
}

// --- the store ------------------------------------------------------------------------------

/// What one check of the store found.
#[derive(Debug)]
struct StoreSummary {
    entries: u64,
    access: usize,
    processing: usize,
    checkpoints: u64,
}

/// `sluis audit --config .. verify --format json`: the whole chain and every checkpoint signature
/// (with the configured checkpoint key). Returns (entries, checkpoints verified).
fn cli_verify(config: &Path, env: &[(String, String)]) -> (u64, u64) {
    let out = Command::new(env!("CARGO_BIN_EXE_sluis"))
        .args(["audit", "--config", config.to_str().unwrap()])
        .args(["verify", "--format", "json"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "sluis audit verify failed after SIGKILL ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["ok"], serde_json::json!(true), "{stdout}");
    assert_eq!(v["problems_total"], serde_json::json!(0), "{stdout}");
    assert_eq!(v["signatures_checked"], serde_json::json!(true), "{stdout}");
    (
        v["entries"].as_u64().unwrap(),
        v["checkpoints_verified"].as_u64().unwrap(),
    )
}

/// Verifies the store with `sluis audit verify`, then opens it here as configured and checks its
/// entries against everything the clients saw.
fn check_store(
    config: &Path,
    env: &[(String, String)],
    cfg: &Config,
    seen: &[Seen],
    keys: &SubjectKeys,
    bsns: &HashSet<String>,
    scan_for_bsns: bool,
) -> StoreSummary {
    let (entries, checkpoints) = cli_verify(config, env);
    let mut store = open_store(&cfg.audit).expect("the store does not reopen after SIGKILL");
    let mut rows = Vec::new();
    export_each(store.as_mut(), 1, |e| {
        rows.push(e);
        Ok(())
    })
    .unwrap();
    drop(store);
    assert_eq!(rows.len() as u64, entries, "verify and export disagree");
    // With one chain per instance, a request's entries are contiguous within its chain.
    rows.sort_by(|a, b| (a.chain.as_str(), a.seq).cmp(&(b.chain.as_str(), b.seq)));

    // No BSN in clear: every run of 9 digits in the stored entries is checked against the
    // fixture's BSNs (once, at the end: the log only grows).
    if scan_for_bsns {
        let mut buf = Vec::new();
        for row in &rows {
            buf.clear();
            serde_json::to_writer(&mut buf, &row.entry).unwrap();
            for run in buf.split(|b| !b.is_ascii_digit()) {
                if run.len() == 9 {
                    assert!(
                        !bsns.contains(std::str::from_utf8(run).unwrap()),
                        "a BSN appears in clear in the audit entry at seq {}",
                        row.seq
                    );
                }
            }
        }
    }

    // Group by request: an access record and the processing records that follow it, which must
    // be contiguous (one transaction) and name its trace and span.
    struct Request {
        status: u16,
        decision: Decision,
        records: u64,
        api: String,
        upstream: bool,
        subjects: Vec<(Option<String>, Option<SubjectRole>, String)>,
    }
    let mut requests: HashMap<String, Request> = HashMap::new();
    let mut current: Option<(String, String)> = None;
    let (mut n_access, mut n_processing) = (0usize, 0usize);
    let mut chain: Option<&str> = None;
    for row in &rows {
        if chain != Some(row.chain.as_str()) {
            chain = Some(row.chain.as_str());
            current = None;
        }
        match &row.entry {
            Entry::Access(a) => {
                n_access += 1;
                let previous = requests.insert(
                    a.trace_id.clone(),
                    Request {
                        status: a.status,
                        decision: a.decision,
                        records: a.records,
                        api: a.api.clone(),
                        upstream: a.upstream_status.is_some(),
                        subjects: Vec::new(),
                    },
                );
                assert!(
                    previous.is_none(),
                    "trace {} recorded twice (seq {})",
                    a.trace_id,
                    row.seq
                );
                current = Some((a.trace_id.clone(), a.span_id.clone()));
            }
            Entry::Processing(p) => {
                n_processing += 1;
                let Some((trace, span)) = &current else {
                    panic!("processing record at seq {} before any access", row.seq)
                };
                assert_eq!(
                    (&p.trace_id, &p.parent_span_id),
                    (trace, span),
                    "processing record at seq {} does not follow its access record",
                    row.seq
                );
                assert_eq!(p.processing_activity_id, ACTIVITY);
                requests.get_mut(trace).unwrap().subjects.push((
                    p.data_subject_id.clone(),
                    p.subject_role,
                    p.data_subject_id_type.clone().unwrap_or_default(),
                ));
            }
            Entry::Purge(_) | Entry::Alert(_) | Entry::Handling(_) => current = None,
        }
    }

    // No torn transaction: every forwarded, permitted BRP request has all its processing lines.
    for (trace, r) in &requests {
        if r.api == "brp" && r.decision == Decision::Permit && r.upstream {
            let expected = r.records.max(1) as usize;
            assert_eq!(
                r.subjects.len(),
                expected,
                "trace {trace}: {} processing records for a response of {} record(s) \
                 (a torn transaction?)",
                r.subjects.len(),
                r.records
            );
        }
    }

    // Every 2xx the clients received is in the log, with its data subjects.
    let mut missing = Vec::new();
    for s in seen {
        let Some(r) = requests.get(&s.trace_id) else {
            missing.push(format!("{} {}", s.trace_id, s.path));
            continue;
        };
        assert_eq!(r.status, s.status, "trace {}: recorded status", s.trace_id);
        assert_eq!(r.decision, Decision::Permit, "trace {}", s.trace_id);
        assert!(
            !r.subjects.is_empty(),
            "trace {}: no processing",
            s.trace_id
        );
        let detail = !s.path.contains('?');
        let role = if detail {
            SubjectRole::Geraadpleegd
        } else {
            SubjectRole::GevondenInZoekresultaat
        };
        for (_, got_role, id_type) in &r.subjects {
            assert_eq!(*got_role, Some(role), "trace {}: subject role", s.trace_id);
            assert_eq!(id_type, "BSN", "trace {}", s.trace_id);
        }
        if let Some(bsns) = &s.bsns {
            let want: BTreeSet<String> = bsns.iter().map(|b| keys.pseudonym("BSN", b)).collect();
            let got: BTreeSet<String> = r.subjects.iter().filter_map(|x| x.0.clone()).collect();
            assert_eq!(
                got, want,
                "trace {} ({}): processing records name other subjects than the response",
                s.trace_id, s.path
            );
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} 2xx responses the clients received have no access record, e.g. {:?}",
        missing.len(),
        seen.len(),
        &missing[..missing.len().min(5)]
    );
    StoreSummary {
        entries,
        access: n_access,
        processing: n_processing,
        checkpoints,
    }
}

// --- the test -------------------------------------------------------------------------------

enum Store {
    Sqlite,
    Postgres { conn: String, schema: String },
}

fn write_config(dir: &Path, fixture: &FixtureHandle, store: &Store) -> PathBuf {
    std::fs::write(dir.join("enc.key"), "0123456789abcdef0123456789abcdef").unwrap();
    std::fs::write(
        dir.join("subject.key"),
        "crash-test subject key, 32+ bytes long....",
    )
    .unwrap();
    std::fs::write(
        dir.join("checkpoint.key"),
        "7a3c0f5e9b1d2a4c6e8f0a1b3c5d7e9f00112233445566778899aabbccddeeff",
    )
    .unwrap();
    let audit = match store {
        Store::Sqlite => "kind = \"sqlite\"\npath = \"audit.db\"".to_owned(),
        Store::Postgres { schema, .. } => {
            format!("kind = \"postgres\"\nurl = {{ env = \"{PG_ENV}\" }}\nschema = \"{schema}\"")
        }
    };
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
reload_poll_secs = 3600
shutdown_grace_secs = 5
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
activity = "{ACTIVITY}"
subjects = {{ ingeschrevenpersonen = {{ field = "bsn", type = "BSN" }} }}
upstream = {{ url = "{up}/v1/brp", timeout_ms = 10000 }}
[[processing_activities]]
id = "{ACTIVITY}"
name = "Crash test"
purpose = "Proving that no response leaves without its record"
legal_basis = "none: fictional test data"
retention_days = 30
[audit]
{audit}
subject_key = {{ file = "subject.key" }}
checkpoint_key = {{ file = "checkpoint.key" }}
checkpoint_every = 97
"#,
        schemas = root().join("examples/policy/datasets").display(),
        profiles = root().join("examples/policy/profiles").display(),
        jwks = root().join("crates/cli/src/demo/demo-jwks.json").display(),
        up = fixture.base_url(),
    );
    let path = dir.join("sluis.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The dataset fixture, its number of persons and all their BSNs.
fn start_fixture(rt: &tokio::runtime::Runtime) -> (FixtureHandle, usize, HashSet<String>) {
    let fixture = rt
        .block_on(DatasetFixture::start(FixtureConfig::default()))
        .unwrap();
    let persons = FixtureConfig::default().persons;
    let all_bsns: HashSet<String> = fixture
        .data()
        .table("brp", "ingeschrevenpersonen")
        .unwrap()
        .records()
        .iter()
        .map(|r| r["bsn"].as_str().unwrap().to_owned())
        .collect();
    (fixture, persons, all_bsns)
}

fn crash_cycles(store: Store) {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let test_started = Instant::now();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (fixture, persons, all_bsns) = start_fixture(&rt);
    let dir = tempfile::tempdir().unwrap();
    let config_path = write_config(dir.path(), &fixture, &store);
    let env: Vec<(String, String)> = match &store {
        Store::Sqlite => Vec::new(),
        Store::Postgres { conn, .. } => vec![(PG_ENV.to_owned(), conn.clone())],
    };
    let lookup = |name: &str| {
        env.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var(name).ok())
    };
    let text = std::fs::read_to_string(&config_path).unwrap();
    let cfg = Config::parse(&text, &config_path, &lookup).unwrap();
    let keys = subject_keys(&cfg.audit).unwrap().unwrap();
    let token = Arc::new(token("BRP/R"));
    let label = match &store {
        Store::Sqlite => "sqlite",
        Store::Postgres { .. } => "postgres",
    };

    let mut seen: Vec<Seen> = Vec::new();
    for cycle in 0..CYCLES {
        let cycle_started = Instant::now();
        let server = Server::start(&config_path, &env);
        let start_ms = cycle_started.elapsed().as_millis();
        if cycle > 0 {
            // The store reopened after the kill: the restarted server answers at once.
            seen.push(one_request(
                &server.addr,
                &token,
                "/v1/brp/ingeschrevenpersonen/1",
            ));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<JoinHandle<ClientLog>> = (0..CLIENTS)
            .map(|n| {
                let (addr, token, stop) = (server.addr.clone(), token.clone(), stop.clone());
                std::thread::spawn(move || client(addr, token, persons, n + cycle * CLIENTS, stop))
            })
            .collect();
        // Vary the moment of the kill a little from cycle to cycle.
        std::thread::sleep(LOAD_BEFORE_KILL + Duration::from_millis(cycle as u64 * 71));
        let logs = server.kill9();
        // The clients keep trying (connections refused) for a moment, then stop.
        std::thread::sleep(Duration::from_millis(50));
        stop.store(true, Ordering::Relaxed);
        let (mut ok, mut other, mut io_errors) = (0usize, Vec::new(), 0usize);
        for c in clients {
            let log = c.join().unwrap();
            ok += log.seen.len();
            other.extend(log.other);
            io_errors += log.io_errors;
            seen.extend(log.seen);
        }
        assert!(
            other.is_empty(),
            "cycle {cycle}: non-2xx answers under load, e.g. {:?}\nserver log:\n{}",
            &other[..other.len().min(5)],
            logs.join("\n")
        );
        assert!(
            ok >= 50,
            "cycle {cycle}: only {ok} 2xx responses before the kill; the load did not run\n{}",
            logs.join("\n")
        );
        assert!(
            !logs.iter().any(|l| l.contains("panicked")),
            "{}",
            logs.join("\n")
        );
        let check_started = Instant::now();
        let summary = check_store(&config_path, &env, &cfg, &seen, &keys, &all_bsns, false);
        let check_ms = check_started.elapsed().as_millis();
        eprintln!(
            "[{label}] cycle {cycle}: {ok} 2xx before SIGKILL ({io_errors} broken or refused \
             connections); store: {} entries ({} access, {} processing), {} checkpoints verified; \
             all {} 2xx responses so far recorded, {} more requests committed whose response \
             never arrived [start {start_ms} ms, check {check_ms} ms]",
            summary.entries,
            summary.access,
            summary.processing,
            summary.checkpoints,
            seen.len(),
            summary.access.saturating_sub(seen.len())
        );
    }

    // A last restart: it answers, and stops cleanly.
    let server = Server::start(&config_path, &env);
    seen.push(one_request(
        &server.addr,
        &token,
        "/v1/brp/ingeschrevenpersonen?_pageSize=3",
    ));
    let logs = server.terminate();
    assert!(
        !logs.iter().any(|l| l.contains("panicked")),
        "{}",
        logs.join("\n")
    );
    let summary = check_store(&config_path, &env, &cfg, &seen, &keys, &all_bsns, true);
    assert!(summary.checkpoints > 0, "no checkpoint was written");
    eprintln!(
        "[{label}] after {CYCLES} kills and a clean stop: {} entries, {} checkpoints, all {} 2xx \
         responses recorded, verify passes ({:.1} s)",
        summary.entries,
        summary.checkpoints,
        seen.len(),
        test_started.elapsed().as_secs_f64()
    );
    rt.block_on(async { fixture.shutdown().await.unwrap() });
}

#[test]
fn sigkill_under_load_loses_no_record_sqlite() {
    crash_cycles(Store::Sqlite);
}

/// The PostgreSQL connection string, or `None` when PostgreSQL tests are explicitly skipped.
fn pg_conninfo() -> Option<String> {
    if std::env::var("SLUIS_SKIP_PG").is_ok_and(|v| v == "1") {
        eprintln!("skipping the PostgreSQL crash test: SLUIS_SKIP_PG=1");
        return None;
    }
    match std::env::var("SLUIS_TEST_PG") {
        Ok(c) if !c.trim().is_empty() => Some(c),
        _ => panic!(
            "SLUIS_TEST_PG is not set. Start the test server with\n    \
             export SLUIS_TEST_PG=\"$(scripts/pg-test-server)\"\n\
             (stop it with `scripts/pg-test-server stop`), or set SLUIS_SKIP_PG=1 to skip the \
             PostgreSQL crash test."
        ),
    }
}

#[test]
fn sigkill_under_load_loses_no_record_postgres() {
    let Some(conn) = pg_conninfo() else {
        return;
    };
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let schema = format!("crash_{}_{millis}", std::process::id());
    crash_cycles(Store::Postgres {
        conn: conn.clone(),
        schema: schema.clone(),
    });
    // Passed: drop the test's log (a failing run keeps it for inspection).
    let mut admin = postgres::Client::connect(&conn, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .unwrap();
}

/// Scale-out: two instances on one PostgreSQL log, each with a chain of its own, under load from
/// four clients each; one is killed with SIGKILL mid-load while the other goes on and then stops
/// cleanly. Every 2xx response either instance sent has its records, `sluis audit verify`
/// passes over both chains, and the killed instance restarts on its chain.
#[test]
fn one_of_two_instances_killed_under_load_loses_no_record_postgres() {
    let Some(conn) = pg_conninfo() else {
        return;
    };
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let schema = format!("scale_{}_{millis}", std::process::id());
    let store = Store::Postgres {
        conn: conn.clone(),
        schema: schema.clone(),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (fixture, persons, all_bsns) = start_fixture(&rt);
    let env = vec![(PG_ENV.to_owned(), conn.clone())];
    let lookup = |name: &str| {
        env.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var(name).ok())
    };
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let configs: Vec<PathBuf> = dirs
        .iter()
        .zip(["a", "b"])
        .map(|(dir, chain)| {
            let path = write_config(dir.path(), &fixture, &store);
            let text = std::fs::read_to_string(&path).unwrap().replace(
                "checkpoint_every = 97",
                &format!("checkpoint_every = 97\nchain = \"{chain}\""),
            );
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
    let text = std::fs::read_to_string(&configs[1]).unwrap();
    let cfg = Config::parse(&text, &configs[1], &lookup).unwrap();
    assert_eq!(cfg.audit.chain, "b");
    let keys = subject_keys(&cfg.audit).unwrap().unwrap();
    let token = Arc::new(token("BRP/R"));

    let a = Server::start(&configs[0], &env);
    let b = Server::start(&configs[1], &env);
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<(bool, JoinHandle<ClientLog>)> = (0..CLIENTS)
        .map(|n| {
            let to_a = n % 2 == 0;
            let addr = if to_a { a.addr.clone() } else { b.addr.clone() };
            let (token, stop) = (token.clone(), stop.clone());
            (
                to_a,
                std::thread::spawn(move || client(addr, token, persons, n, stop)),
            )
        })
        .collect();
    std::thread::sleep(LOAD_BEFORE_KILL);
    let logs_a = a.kill9();
    // The surviving instance keeps serving its clients.
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let mut seen = Vec::new();
    let (mut ok_a, mut ok_b) = (0usize, 0usize);
    for (to_a, c) in clients {
        let log = c.join().unwrap();
        if to_a {
            ok_a += log.seen.len();
        } else {
            ok_b += log.seen.len();
            assert!(
                log.other.is_empty() && log.io_errors == 0,
                "the surviving instance failed requests: {:?}, {} I/O errors",
                &log.other[..log.other.len().min(5)],
                log.io_errors
            );
        }
        seen.extend(log.seen);
    }
    let logs_b = b.terminate();
    for logs in [&logs_a, &logs_b] {
        assert!(
            !logs.iter().any(|l| l.contains("panicked")),
            "{}",
            logs.join("\n")
        );
    }
    assert!(
        ok_a >= 20 && ok_b >= 20,
        "the load did not run: {ok_a} / {ok_b} 2xx"
    );
    let summary = check_store(&configs[1], &env, &cfg, &seen, &keys, &all_bsns, true);

    // Both chains are in the log, each verified on its own.
    let out = Command::new(env!("CARGO_BIN_EXE_sluis"))
        .args(["audit", "--config", configs[1].to_str().unwrap()])
        .args(["verify", "--format", "json"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let chains: Vec<(String, u64)> = v["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["chain"].as_str().unwrap().to_owned(),
                c["report"]["entries"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(chains.len(), 2, "{v:#}");
    assert_eq!((chains[0].0.as_str(), chains[1].0.as_str()), ("a", "b"));
    assert!(chains.iter().all(|(_, n)| *n > 0), "{chains:?}");
    assert_eq!(chains[0].1 + chains[1].1, summary.entries);

    // The killed instance restarts on its own chain and answers.
    let a = Server::start(&configs[0], &env);
    let after = one_request(&a.addr, &token, "/v1/brp/ingeschrevenpersonen/1");
    let _ = a.terminate();
    seen.push(after);
    let summary = check_store(&configs[0], &env, &cfg, &seen, &keys, &all_bsns, false);
    eprintln!(
        "[postgres, 2 chains] {ok_a} 2xx from the killed instance, {ok_b} from the survivor; \
         {} entries over chains {chains:?}, every 2xx recorded, verify passes",
        summary.entries
    );
    rt.block_on(async { fixture.shutdown().await.unwrap() });
    let mut admin = postgres::Client::connect(&conn, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .unwrap();
}
