//! Fuzzes the policy loaders: arbitrary bytes become dataset, table, scope and profile files in
//! one of several layouts, and `sluis_policy::load` must answer `Ok` or `Err`, never panic.
//! When the sources do load, the compiled policy is exercised as well (plans and a decision per
//! table), so a model the loader accepts cannot crash the engine either.
//!
//! Input layout: byte 0 picks the layout; the rest is cut into up to three files at NUL bytes
//! (which valid JSON never contains unescaped). A missing part is an empty file.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluis_policy::{Model, Policy, Request, Sources};

/// A valid split-layout `dataset.json`: table `t` is read from `t/v1.json`, table `u` is listed
/// but its file is never among the sources.
const DATASET_SPLIT: &[u8] = br#"{"type":"dataset","id":"fz","auth":{"$ref":"/scopes/FZ/lezen"},
"tables":[{"id":"t","$ref":"t/v1"},{"id":"u","$ref":"u/v1"}]}"#;

/// A valid table file for `DATASET_SPLIT`.
const TABLE_T: &[u8] = br#"{"id":"t","type":"table","schema":{"type":"object",
"identifier":"id","display":"naam","properties":{"id":{"type":"integer"},
"naam":{"type":"string"},"geheim":{"type":"string","auth":"FZ/EXTRA","filterAuth":"FZ/FILTER"},
"adres":{"type":"object","properties":{"straat":{"type":"string"},"nr":{"type":"integer","auth":{"$ref":"scopes/FZ/lezen.json"}}}},
"rel":{"type":"string","relation":"fz:t"}}}}"#;

/// A valid scope file, referenced by `DATASET_SPLIT` and `TABLE_T`.
const SCOPE: &[u8] = br#"{"type":"scope","id":"FZ/LEZEN","name":"lezen"}"#;

const DATASET_PATH: &str = "datasets/fz/dataset.json";
const TABLE_PATH: &str = "datasets/fz/t/v1.json";
const SCOPE_PATH: &str = "datasets/scopes/FZ/lezen.json";
const PROFILE_PATH: &str = "profiles/fz.json";

fn sources(files: &[(&str, &[u8])]) -> Sources {
    let mut s = Sources::new();
    for (path, bytes) in files {
        s.insert(*path, *bytes);
    }
    s
}

/// Compiles a loaded model and asks for every table's plan and one decision.
fn exercise(model: Model) {
    let all: Vec<String> = model.scope_names().to_vec();
    let tables: Vec<(String, Vec<String>)> = model
        .datasets
        .iter()
        .flat_map(|d| d.tables.iter())
        .map(|t| {
            let names = t.all_fields().iter().map(|f| f.path.clone()).collect();
            (t.qualified.clone(), names)
        })
        .collect();
    let policy = Policy::new(model, "fuzz");
    let none: [&str; 0] = [];
    for scopes in [policy.scope_set(&all), policy.scope_set(&none)] {
        for (table, fields) in &tables {
            let _ = policy.plan(table, &scopes);
            let mut params: Vec<(String, String)> = fields
                .iter()
                .take(4)
                .map(|f| (f.clone(), "1".to_owned()))
                .collect();
            params.push(("_sort".into(), fields.join(",")));
            params.push(("_expandScope".into(), fields.join(",")));
            let _ = policy.decide(&Request {
                table,
                scopes: &scopes,
                params: &params,
                detail: Some("1"),
            });
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, body)) = data.split_first() else {
        return;
    };
    let mut parts = body.splitn(3, |b| *b == 0);
    let (a, b, c) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let (schemas, profiles) = match mode % 5 {
        // A single-file dataset (inline tables or versions) and a profile.
        0 => (sources(&[(DATASET_PATH, a)]), sources(&[(PROFILE_PATH, b)])),
        // The split layout with a valid dataset.json: a fuzzed table file.
        1 => (
            sources(&[
                (DATASET_PATH, DATASET_SPLIT),
                (TABLE_PATH, a),
                (SCOPE_PATH, SCOPE),
            ]),
            sources(&[(PROFILE_PATH, b)]),
        ),
        // The split layout with every file fuzzed.
        2 => (
            sources(&[(DATASET_PATH, a), (TABLE_PATH, b), (SCOPE_PATH, SCOPE)]),
            sources(&[(PROFILE_PATH, c)]),
        ),
        // A fuzzed scope file beside a valid split dataset.
        3 => (
            sources(&[
                (DATASET_PATH, DATASET_SPLIT),
                (TABLE_PATH, TABLE_T),
                (SCOPE_PATH, a),
            ]),
            sources(&[(PROFILE_PATH, b)]),
        ),
        // The same bytes as every kind of file.
        _ => (
            sources(&[(DATASET_PATH, body), (TABLE_PATH, body), (SCOPE_PATH, body)]),
            sources(&[(PROFILE_PATH, body)]),
        ),
    };
    if let Ok(model) = sluis_policy::load(&schemas, &profiles) {
        exercise(model);
    }
});
