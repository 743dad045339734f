//! `sluis explain` as a user runs it: the stable JSON shape, the text format, exit codes.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test on unexpected errors"
)]

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sluis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluis"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

fn explain_json(extra: &[&str]) -> Value {
    let mut args = vec![
        "explain",
        "--schemas",
        "examples/policy/datasets",
        "--profiles",
        "examples/policy/profiles",
    ];
    args.extend_from_slice(extra);
    let out = sluis(&args);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn json_shape_for_an_allowed_request() {
    let v = explain_json(&[
        "--scopes",
        "BRP/RNAME OTHER",
        "--table",
        "brp.ingeschrevenpersonen",
        "--param",
        "verblijfplaats.postcode=1234AB",
        "--param",
        "geslachtsnaam=Jansen",
    ]);
    assert_eq!(v["table"], "brp.ingeschrevenpersonen");
    assert_eq!(v["access"], true);
    assert_eq!(v["status"], 200);
    assert_eq!(v["via"], serde_json::json!(["profile:brp_naamzoeker"]));
    assert_eq!(v["fields"]["bsn"], "encoded");
    assert_eq!(v["fields"]["geboortedatum"], "letters:4");
    assert_eq!(v["fields"]["verblijfplaats.postcode"], "read");
    assert_eq!(v["fields"]["nationaliteiten.code"], "read");
    assert_eq!(v["filters"]["geslachtsnaam"], "allowed");
    assert!(
        v["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("active"))
    );
}

#[test]
fn denied_request_lists_every_field_as_none() {
    let v = explain_json(&[
        "--table",
        "brp.ingeschrevenpersonen",
        "--scopes",
        "BRP/RNAME",
    ]);
    assert_eq!(v["access"], false);
    assert_eq!(v["status"], 403);
    assert_eq!(v["via"], serde_json::json!([]));
    let fields = v["fields"].as_object().unwrap();
    assert_eq!(fields.len(), 13);
    assert!(fields.values().all(|l| l == "none"));
    let reasons: Vec<&str> = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("no mandatory filter set met")),
        "{reasons:?}"
    );
}

#[test]
fn filters_and_detail() {
    let v = explain_json(&[
        "--table",
        "afvalwegingen.containers",
        "--param",
        "eigenaarNaam=Jansen",
        "--param",
        "_sort=-serienummer",
    ]);
    assert_eq!(v["status"], 403);
    assert_eq!(v["filters"]["eigenaarNaam"], "denied");
    assert_eq!(v["filters"]["_sort:serienummer"], "allowed");
    assert_eq!(v["fields"]["eigenaarNaam"], "letters:1");
    let v = explain_json(&[
        "--table",
        "parkeervakken.parkeervakken",
        "--scopes",
        "HANDHAVING",
        "--detail",
        "A1",
    ]);
    assert_eq!(v["status"], 200);
    assert_eq!(v["fields"]["soort"], "letters:1");
    assert_eq!(v["fields"]["aantal"], "none");
    let v = explain_json(&[
        "--table",
        "parkeervakken.parkeervakken",
        "--scopes",
        "HANDHAVING",
    ]);
    assert_eq!(v["status"], 403);
}

#[test]
fn text_format_explains_each_field() {
    let out = sluis(&[
        "explain",
        "--schemas",
        "examples/policy/datasets",
        "--profiles",
        "examples/policy/profiles",
        "--table",
        "afvalwegingen.containers",
        "--format",
        "text",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("table afvalwegingen.containers: allowed (200) via auth"),
        "{text}"
    );
    assert!(text.contains("eigenaarNaam"));
    assert!(
        text.contains("profile iedereen: explicit field entry"),
        "{text}"
    );
    assert!(text.contains("datumCreatie"));
    assert!(
        text.contains("hidden: auth on datumCreatie needs AFVAL/BEHEER"),
        "{text}"
    );
}

#[test]
fn invalid_input_exits_2_with_a_message() {
    let cases: &[&[&str]] = &[
        &["explain", "--schemas", "does/not/exist", "--table", "a.b"],
        &[
            "explain",
            "--schemas",
            "examples/policy/datasets",
            "--table",
            "nope.nope",
        ],
        &[
            "explain",
            "--schemas",
            "examples/policy/datasets",
            "--table",
            "nodot",
        ],
        &[
            "explain",
            "--schemas",
            "examples/policy/datasets",
            "--table",
            "a.b",
            "--format",
            "xml",
        ],
        &[
            "explain",
            "--schemas",
            "examples/policy/datasets",
            "--table",
            "brp.ingeschrevenpersonen",
            "--param",
            "=x",
        ],
        // Profiles among the schemas are refused with the file named.
        &[
            "explain",
            "--schemas",
            "examples/policy",
            "--table",
            "brp.ingeschrevenpersonen",
        ],
    ];
    for args in cases {
        let out = sluis(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.trim().is_empty(), "{args:?}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let out = sluis(&[
        "explain",
        "--schemas",
        "examples/policy",
        "--table",
        "brp.ingeschrevenpersonen",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("profiles/brp_naamzoeker.json: $.type: a profile among the dataset sources"),
        "{err}"
    );
}
