//! `sluis serve` as a process: it serves, reloads its policy on SIGHUP (keeping the old one when
//! the new one is broken), and stops gracefully on SIGTERM.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails the test on unexpected errors"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sluis_testkit::{DatasetFixture, FixtureConfig};

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn token(scopes: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sluis"))
        .args(["demo", "token", "--scopes", scopes])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

static REQUESTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A plain HTTP/1.1 GET; returns (status, body).
fn get(addr: &str, path: &str, token: &str) -> (u16, String) {
    REQUESTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn write_profile(dir: &Path, level: &str) {
    std::fs::write(
        dir.join("profiles/iedereen.json"),
        format!(
            r#"{{"type": "profile", "id": "iedereen", "datasets": {{"afvalwegingen": {{"tables": {{
                "containers": {{"fields": {{"eigenaarNaam": "{level}"}}}}}}}}}}}}"#
        ),
    )
    .unwrap();
}

#[test]
fn serve_reloads_on_sighup_and_stops_on_sigterm() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fixture = rt
        .block_on(DatasetFixture::start(FixtureConfig::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("profiles")).unwrap();
    write_profile(d, "letters:1");
    std::fs::write(d.join("enc.key"), "0123456789abcdef0123456789abcdef").unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    std::fs::write(
        d.join("sluis.toml"),
        format!(
            r#"
[server]
listen = "{addr}"
admin_listen = "127.0.0.1:0"
reload_poll_secs = 3600
[policy]
schemas = ["{schemas}"]
profiles = ["profiles"]
encoding_key = {{ file = "enc.key" }}
[[issuers]]
name = "demo"
issuer = "https://demo.sluis.invalid"
jwks_file = "{jwks}"
audiences = ["sluis-demo"]
algorithms = ["ES256"]
[[apis]]
name = "afval"
prefix = "/v1/afvalwegingen"
kind = "dataset"
dataset = "afvalwegingen"
upstream = {{ url = "{up}/v1/afvalwegingen" }}
[audit]
kind = "jsonl"
path = "audit.jsonl"
"#,
            schemas = root().join("examples/policy/datasets").display(),
            jwks = root().join("crates/cli/src/demo/demo-jwks.json").display(),
            up = fixture.base_url(),
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluis"))
        .args(["serve", "--config", d.join("sluis.toml").to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = Instant::now();
    loop {
        let line = lines
            .next()
            .expect("sluis exited before listening")
            .unwrap();
        if line.contains("sluis listening on") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no listening line"
        );
    }
    // Keep draining stderr so the child never blocks on a full pipe.
    let drain = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let t = token("");
    let path = "/v1/afvalwegingen/containers/1";
    let (status, body) = get(&addr, path, &t);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let full = fixture
        .data()
        .table("afvalwegingen", "containers")
        .unwrap()
        .get("1")
        .unwrap()["eigenaarNaam"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        v["eigenaarNaam"].as_str().unwrap(),
        full.chars().take(1).collect::<String>()
    );

    // SIGHUP: the new profile applies.
    write_profile(d, "read");
    signal(&child, "-HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = get(&addr, path, &t);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["eigenaarNaam"] == serde_json::json!(full) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the reload did not apply: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // A broken profile: the running policy stays.
    std::fs::write(d.join("profiles/iedereen.json"), "{ not json").unwrap();
    signal(&child, "-HUP");
    std::thread::sleep(Duration::from_millis(500));
    let (status, body) = get(&addr, path, &t);
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["eigenaarNaam"], serde_json::json!(full));

    // SIGTERM: a clean exit.
    signal(&child, "-TERM");
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "sluis did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    let logs = drain.join().unwrap().join("\n");
    assert!(
        logs.contains("reload failed; keeping the running configuration"),
        "{logs}"
    );
    assert!(!logs.contains("panicked"), "{logs}");
    let audit = std::fs::read_to_string(d.join("audit.jsonl")).unwrap();
    assert_eq!(
        audit.lines().count(),
        REQUESTS.load(std::sync::atomic::Ordering::SeqCst),
        "one record per request"
    );
    rt.block_on(async { fixture.shutdown().await.unwrap() });
}
