//! `sluis check` and `sluis demo token` as a user runs them.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test on unexpected errors"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn sluis(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sluis"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn write_config(dir: &Path, body: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("sluis.toml");
    std::fs::write(&p, body).unwrap();
    p
}

fn good(policy: &Path) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"

[policy]
schemas = ["{p}/datasets"]
profiles = ["{p}/profiles"]
encoding_key = {{ env = "SLUIS_TEST_KEY" }}

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
upstream = {{ url = "http://127.0.0.1:9/v1/afvalwegingen" }}

[audit]
kind = "jsonl"
path = "audit.jsonl"
"#,
        p = policy.display(),
        jwks = root().join("crates/cli/src/demo/demo-jwks.json").display()
    )
}

#[test]
fn valid_configuration_passes() {
    let dir = std::env::temp_dir().join(format!("sluis-check-ok-{}", std::process::id()));
    let cfg = write_config(&dir, &good(&root().join("examples/policy")));
    let key = "k".repeat(32);
    let out = sluis(
        &["check", "--config", cfg.to_str().unwrap()],
        &[("SLUIS_TEST_KEY", &key)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ok (1 API, 1 issuer, policy version"),
        "{stdout}"
    );
}

#[test]
fn every_problem_is_listed_and_secrets_never_printed() {
    let dir = std::env::temp_dir().join(format!("sluis-check-bad-{}", std::process::id()));
    let body = good(&root().join("examples/policy"))
        .replace(
            "admin_listen = \"127.0.0.1:0\"",
            "admin_listen = \"nowhere\"",
        )
        .replace(
            "dataset = \"afvalwegingen\"",
            "dataset = \"afvalwegingen\"\nrequired_headers = [\"bad header\"]",
        )
        .replace(
            "algorithms = [\"ES256\"]",
            "algorithms = [\"none\", \"HS256\"]",
        )
        .replace("http://127.0.0.1:9/", "ftp://x/");
    let cfg = write_config(&dir, &body);
    let out = sluis(
        &["check", "--config", cfg.to_str().unwrap()],
        &[("SLUIS_TEST_KEY", "short-secret-value")],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for want in [
        "server.admin_listen: \"nowhere\" is not an address",
        "policy.encoding_key: the encoding key must be at least 32 bytes",
        "issuers[0].algorithms: \"none\" is not an allowed algorithm",
        "issuers[0].algorithms: HS256 does not fit a Jwt issuer",
        "apis[0].upstream.url: \"ftp://x/v1/afvalwegingen\" is not an http(s) URL",
        "apis[0]: \"bad header\" is not a valid header name",
    ] {
        assert!(err.contains(want), "missing {want:?} in {err}");
    }
    assert!(
        !err.contains("short-secret-value"),
        "a secret leaked: {err}"
    );
}

#[test]
fn policy_and_toml_errors_name_file_and_place() {
    let dir = std::env::temp_dir().join(format!("sluis-check-policy-{}", std::process::id()));
    let profiles = dir.join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(
        profiles.join("p.json"),
        r#"{"id": "p", "datasets": {"nope": {}}}"#,
    )
    .unwrap();
    let body = good(&root().join("examples/policy")).replace(
        &format!(
            "profiles = [\"{}/profiles\"]",
            root().join("examples/policy").display()
        ),
        "profiles = [\"profiles\"]",
    );
    let cfg = write_config(&dir, &body);
    let key = "k".repeat(32);
    let out = sluis(
        &["check", "--config", cfg.to_str().unwrap()],
        &[("SLUIS_TEST_KEY", &key)],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("p.json: $.datasets.nope: unknown dataset \"nope\""),
        "{err}"
    );

    let cfg = write_config(&dir, "[server]\nlisten = 5\n");
    let out = sluis(&["check", "--config", cfg.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2, column 10"), "{err}");

    let out = sluis(&["check", "--config", "/nonexistent/sluis.toml"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read configuration"));
}

#[test]
fn demo_token_is_a_signed_jwt_with_the_scopes() {
    let out = sluis(
        &[
            "demo",
            "token",
            "--scopes",
            "BAG/R  BRP/RNAME",
            "--user",
            "u1",
            "--ttl",
            "60",
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    let parts: Vec<&str> = token.trim().split('.').collect();
    assert_eq!(parts.len(), 3);
    let out = sluis(&["demo", "token", "--ttl", "0"], &[]);
    assert_eq!(out.status.code(), Some(2));
}
