//! Arbitrary bytes as the query string of a dataset request: `sluis_proxy::query::parse` must
//! answer pairs or `None`, never panic. Parsed pairs are decided on for every table of the
//! example policy (`examples/policy/datasets`, `examples/policy/profiles`), as a list and as a
//! detail request, for several scope sets; and every pair whose name splits into a filter is
//! evaluated against a fixed object, as the proxy does on detail responses.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use sluis_policy::{Policy, Request, ScopeSet};

struct Fixture {
    policy: Policy,
    tables: Vec<String>,
    scope_sets: Vec<ScopeSet>,
    object: Value,
}

fn example(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/policy")
        .join(dir)
}

/// The example policy, its tables, and the scope sets: none, all, and each scope on its own.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let policy =
            match sluis_policy::fs::load_policy(&[example("datasets")], &[example("profiles")]) {
                Ok(p) => p,
                Err(e) => panic!("example policy: {e}"),
            };
        let tables = policy
            .model()
            .datasets
            .iter()
            .flat_map(|d| d.tables.iter().map(|t| t.qualified.clone()))
            .collect();
        let names: Vec<String> = policy.model().scope_names().to_vec();
        let none: [&str; 0] = [];
        let mut scope_sets = vec![policy.scope_set(&none), policy.scope_set(&names)];
        scope_sets.extend(names.iter().map(|n| policy.scope_set(&[n])));
        let object = json!({
            "id": "1", "buurtcode": "A01", "type": "Fiscaal", "soort": "FISCAAL", "aantal": 2.5,
            "regimes": [{"eindtijd": "23:59", "aantal": 2}, {"aantal": 5, "eindtijd": null}],
            "verblijfplaats": {"postcode": "1011AB", "huisnummer": 1},
            "naam": "Ä🙂é", "leeg": null, "lijst": [], "vlag": true,
        });
        Fixture {
            policy,
            tables,
            scope_sets,
            object,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let Some(pairs) = sluis_proxy::query::parse(Some(query)) else {
        return;
    };
    let f = fixture();
    for table in &f.tables {
        for scopes in &f.scope_sets {
            for detail in [None, Some("1")] {
                let _ = f.policy.decide(&Request {
                    table,
                    scopes,
                    params: &pairs,
                    detail,
                });
            }
        }
    }
    for (name, value) in &pairs {
        if let Some((base, op)) = sluis_policy::params::split_filter_name(name) {
            let _ = sluis_proxy::query::matches(&f.object, base, op, value);
        }
    }
});
