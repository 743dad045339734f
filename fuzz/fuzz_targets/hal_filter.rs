//! Arbitrary bytes as an upstream HAL response: `HalFilter::list` and `HalFilter::detail` (the
//! tree form) and `HalFilter::list_bytes` and `HalFilter::detail_bytes` (the single pass, which
//! falls back to the tree form) must answer a summary or an error, never panic, for every table
//! of the example policy (`examples/policy/datasets`, `examples/policy/profiles`) and several
//! scope sets. A body the tree form accepts must serialise again, and the single pass must then
//! answer the same body (equal once both are parsed) and the same summary.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sluis_filter::{FilterError, HalFilter, LinkRewriter, Summary};
use sluis_policy::{EncodingKey, Policy, Projector, ScopeSet, TablePlan};

struct Case {
    /// The key of the table's records under `_embedded`.
    table_id: String,
    scopes: ScopeSet,
    plan: Arc<TablePlan>,
}

struct Fixture {
    policy: Policy,
    key: EncodingKey,
    links: LinkRewriter,
    cases: Vec<Case>,
}

fn example(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/policy")
        .join(dir)
}

/// The example policy and a plan per table for no scopes, all scopes and each scope alone
/// (where the policy grants one).
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let policy =
            match sluis_policy::fs::load_policy(&[example("datasets")], &[example("profiles")]) {
                Ok(p) => p,
                Err(e) => panic!("example policy: {e}"),
            };
        let names: Vec<String> = policy.model().scope_names().to_vec();
        let none: [&str; 0] = [];
        let mut scope_sets = vec![policy.scope_set(&none), policy.scope_set(&names)];
        scope_sets.extend(names.iter().map(|n| policy.scope_set(&[n])));
        let tables: Vec<(String, String)> = policy
            .model()
            .datasets
            .iter()
            .flat_map(|d| d.tables.iter().map(|t| (t.id.clone(), t.qualified.clone())))
            .collect();
        let mut cases = Vec::new();
        for (id, qualified) in &tables {
            for scopes in &scope_sets {
                if let Ok(plan) = policy.plan(qualified, scopes) {
                    cases.push(Case {
                        table_id: id.clone(),
                        scopes: scopes.clone(),
                        plan,
                    });
                }
            }
        }
        let key = match EncodingKey::new(vec![7u8; 32]) {
            Ok(k) => k,
            Err(e) => panic!("encoding key: {e}"),
        };
        let links = LinkRewriter {
            upstream_base: "http://upstream.internal:8000/v1/data".into(),
            public_base: "https://sluis.example/api/data".into(),
        };
        Fixture {
            policy,
            key,
            links,
            cases,
        }
    })
}

fn reserialises(body: &Value) {
    if let Err(e) = serde_json::to_vec(body) {
        panic!("filtered body does not serialise: {e}");
    }
}

fn filter<'f>(f: &'f Fixture, case: &'f Case, fields: Option<Vec<String>>) -> HalFilter<'f, 'f> {
    HalFilter::new(
        &f.policy,
        &case.scopes,
        &f.links,
        Projector::new(&f.key, [3u8; 32]),
        fields,
    )
}

/// The single pass answers what the tree form answered.
fn agrees(tree: &Value, tree_summary: &Summary, pass: Result<(Vec<u8>, Summary), FilterError>) {
    let (bytes, summary) = match pass {
        Ok(p) => p,
        Err(e) => panic!("the tree form took the body, the single pass refused it: {e}"),
    };
    let pass: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => panic!("the single pass wrote invalid JSON: {e}"),
    };
    let (t, p) = (tree.to_string(), pass.to_string());
    assert_eq!(t, p, "tree form and single pass differ");
    assert_eq!(tree_summary, &summary, "summaries differ");
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        // Not JSON to serde_json's tree (it may still be to the single pass: a number beyond
        // f64 or nesting beyond 128 inside a value the pass copies whole): no panic either way.
        for case in &f.cases {
            let _ = filter(f, case, None).list_bytes(&case.plan, &case.table_id, data);
            let _ = filter(f, case, None).detail_bytes(&case.plan, data);
        }
        return;
    };
    let fields: Option<Vec<String>> =
        Some(vec!["id".into(), "regimes.aantal".into(), "cluster".into()]);
    for case in &f.cases {
        for fields in [None, fields.clone()] {
            let filter = || filter(f, case, fields.clone());
            let mut list = body.clone();
            if let Ok(s) = filter().list(&case.plan, &case.table_id, &mut list) {
                reserialises(&list);
                agrees(&list, &s, filter().list_bytes(&case.plan, &case.table_id, data));
            }
            let mut detail = body.clone();
            if let Ok(s) = filter().detail(&case.plan, &mut detail) {
                reserialises(&detail);
                agrees(&detail, &s, filter().detail_bytes(&case.plan, data));
            }
        }
    }
});
