//! The privacy officer's pages end to end, in a real browser: `sluis demo` signs reviewers in at
//! a real OpenID provider (`tests/oidc/provider.mjs`, the npm package `oidc-provider`, with the
//! authorization code flow and PKCE), and Debian's chromium, driven by `playwright-core`
//! (`tests/browser/ui.mjs`), signs in, finds the demo's planted watch-list alert, acknowledges
//! it, searches the log by subject, prints the citizen's overview to PDF, opens the monthly
//! report and checks integrity; a security officer sees no identities, an employee is refused.
//! Screenshots and the PDF are kept in `target/ui-artifacts/`.
//!
//! Needs node, npm and chromium: `scripts/oidc-setup` and `scripts/browser-setup` install them
//! (the test runs both). It fails, never skips, when they cannot be installed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails the test on unexpected errors"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn setup(script: &str) {
    let path = repo_root().join("scripts").join(script);
    let status = Command::new("bash").arg(&path).status().unwrap();
    assert!(
        status.success(),
        "{} failed ({status}); the browser tests need node, npm and chromium (see its message)",
        path.display()
    );
}

/// Kills the child when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads the child's stdout lines on a thread, echoing them to stderr.
fn lines(name: &'static str, out: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            eprintln!("[{name}] {line}");
            let _ = tx.send(line);
        }
    });
    rx
}

fn wait_for(rx: &mpsc::Receiver<String>, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(l) if pred(&l) => return l,
            Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    panic!("no {what} line (see the output above)");
}

/// A GET on loopback with a bearer token: (status, body).
fn get(addr: &str, path: &str, token: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (_, body) = text.split_once("\r\n\r\n").unwrap_or(("", ""));
    (status, body.to_owned())
}

fn audit_entries(admin: &str, token: &str, kind: &str) -> Vec<Value> {
    let (status, body) = get(
        admin,
        &format!("/audit/entries?kind={kind}&limit=1000"),
        token,
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["entries"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_privacy_officer_works_the_pages_in_a_browser() {
    setup("oidc-setup");
    setup("browser-setup");
    let (api, admin) = (free_port(), free_port());
    let admin_addr = format!("127.0.0.1:{admin}");

    // The OpenID provider, with the pages' client redirecting to sluis's admin listener.
    let mut provider = Command::new("node")
        .arg("provider.mjs")
        .args(["--port", "0", "--admin-port", "0", "--exit-with-stdin"])
        .args(["--ui-redirect", &format!("http://{admin_addr}/ui/callback")])
        .current_dir(repo_root().join("tests/oidc"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node provider.mjs");
    let provider_out = lines("provider", provider.stdout.take().unwrap());
    let _provider = Proc(provider);
    let start: Value = serde_json::from_str(&wait_for(&provider_out, "provider start", |l| {
        l.starts_with('{')
    }))
    .unwrap();
    let issuer = start["issuer"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("ui-client.secret");
    std::fs::write(&secret, start["ui_client_secret"].as_str().unwrap()).unwrap();

    let mut demo = Command::new(env!("CARGO_BIN_EXE_sluis"))
        .args(["demo", "--listen", &format!("127.0.0.1:{api}")])
        .args(["--admin-listen", &admin_addr])
        .arg("--data-dir")
        .arg(dir.path().join("demo"))
        .args(["--oidc-issuer", &issuer, "--oidc-client-id", "sluis-ui"])
        .arg("--oidc-client-secret-file")
        .arg(&secret)
        .env("SLUIS_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("sluis demo");
    let demo_out = lines("demo", demo.stdout.take().unwrap());
    let _demo = Proc(demo);
    let planted = wait_for(&demo_out, "planted", |l| l.contains("planted:"));
    let planted_at = Instant::now();
    assert!(planted.contains("answered 200"), "{planted}");
    let bsn: String = planted
        .split("BSN ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(bsn.len(), 9, "{planted}");

    // The alert is in the store within seconds of the lookup.
    let reader = String::from_utf8(
        Command::new(env!("CARGO_BIN_EXE_sluis"))
            .args([
                "demo",
                "token",
                "--scopes",
                "SLUIS/AUDIT",
                "--user",
                "fg@demo.sluis.invalid",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let alert = loop {
        let found = audit_entries(&admin_addr, &reader, "alert")
            .into_iter()
            .find(|e| e["entry"]["rule"] == "D5");
        if let Some(a) = found {
            break a;
        }
        assert!(
            planted_at.elapsed() < Duration::from_secs(10),
            "no D5 alert 10 s after the planted lookup"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!(
        "D5 alert in the store {} ms after the planted lookup was answered",
        planted_at.elapsed().as_millis()
    );
    assert_eq!(alert["entry"]["user"], "mdw-nieuwsgierig");
    assert_eq!(alert["entry"]["severity"], "high");

    // The browser.
    let artifacts = repo_root().join("target/ui-artifacts");
    let _ = std::fs::remove_dir_all(&artifacts);
    let status = Command::new("node")
        .arg("ui.mjs")
        .args(["--base", &format!("http://{admin_addr}"), "--bsn", &bsn])
        .arg("--out")
        .arg(&artifacts)
        .current_dir(repo_root().join("tests/browser"))
        .status()
        .expect("node ui.mjs");
    assert!(
        status.success(),
        "the browser run failed ({status}); see ui.mjs's message above"
    );
    for f in [
        "01-overzicht.png",
        "03-melding-in-behandeling.png",
        "04-zoeken-op-betrokkene.png",
        "overzicht.pdf",
    ] {
        let len = std::fs::metadata(artifacts.join(f))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 1000, "artifact {f}: {len} bytes");
    }

    // What the browser did is in the log: the acknowledgement and the FG's looks, chained.
    let handling = audit_entries(&admin_addr, &reader, "handling");
    let id = alert["entry"]["id"].as_str().unwrap();
    let of_alert: Vec<&Value> = handling
        .iter()
        .map(|e| &e["entry"])
        .filter(|h| h["alert_id"] == id)
        .collect();
    assert!(
        of_alert.iter().any(|h| h["action"] == "acknowledge"
            && h["by"] == "fg-anna"
            && h["reason"] == "Navragen bij de leidinggevende"),
        "{of_alert:?}"
    );
    assert!(
        of_alert
            .iter()
            .any(|h| h["action"] == "view" && h["by"] == "fg-anna"),
        "the FG's look at the identities is recorded: {of_alert:?}"
    );
    assert!(
        !of_alert
            .iter()
            .any(|h| h["by"] == "security-sam" && h["action"] == "view"),
        "the security officer saw no identities, so no view is recorded for them"
    );
    let access = audit_entries(&admin_addr, &reader, "access");
    let ui: Vec<&Value> = access
        .iter()
        .map(|e| &e["entry"])
        .filter(|a| a["api"] == "ui")
        .collect();
    for op in ["ui.search", "ui.overview", "ui.alert.handle", "ui.report"] {
        assert!(
            ui.iter()
                .any(|a| a["operation"] == op && a["user"] == "fg-anna"),
            "{op} by fg-anna is recorded"
        );
    }
    assert!(
        ui.iter()
            .any(|a| a["operation"] == "ui.callback" && a["code"] == "notAReviewer"),
        "the employee's refused sign-in is recorded"
    );
    let text = serde_json::to_string(&access).unwrap();
    assert!(!text.contains(&bsn), "no BSN in any access record");
}
