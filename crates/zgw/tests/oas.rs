//! Cross-checks the scope table of `ops` against the Zaken and Documenten OpenAPI files in the
//! reference folder (`zgw/`, read at test time, never copied; see `sluis_testkit::reference`).
//! Without the folder the test is skipped, saying so.
//!
//! How the OAS states scopes: `security` is a list of requirement objects; the list means
//! "any one of them" and, inside one requirement, every listed scope is needed (OpenAPI 3).
//! Each scope string is itself a sluis scope expression (`(a | b)`, domain B6b). An operation
//! without `security` (and no document-level default) declares no scope: denied (C3 rule 13),
//! except `HEAD`, which is answered with the `GET` operation's scope (C3 rule 14).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers read fixed reference files"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sluis_testkit::require_reference;
use sluis_zgw::ops::specs;
use sluis_zgw::{Component, RouteError, ScopeExpr, allow, route};
use yaml_rust2::{Yaml, YamlLoader};

const ID: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const PARENT: &str = "11111111-2222-4333-8444-555555555555";
const METHODS: [&str; 6] = ["get", "head", "post", "put", "patch", "delete"];

fn load(path: &Path) -> Yaml {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .next()
        .expect("one YAML document")
}

/// The expression of a `security` value; `None` when absent or empty (nothing declared).
fn security(value: &Yaml, at: &str) -> Option<ScopeExpr> {
    let list = match value {
        Yaml::BadValue | Yaml::Null => return None,
        Yaml::Array(list) => list,
        other => panic!("{at}: security is not a list: {other:?}"),
    };
    if list.is_empty() {
        return None;
    }
    let mut alternatives = Vec::new();
    for requirement in list {
        let map = requirement
            .as_hash()
            .unwrap_or_else(|| panic!("{at}: requirement not a map"));
        assert!(
            !map.is_empty(),
            "{at}: an empty requirement (anonymous access) is not expected"
        );
        let mut needed = Vec::new();
        for (scheme, scopes) in map {
            assert_eq!(scheme.as_str(), Some("JWT-Claims"), "{at}: security scheme");
            for s in scopes
                .as_vec()
                .unwrap_or_else(|| panic!("{at}: scopes not a list"))
            {
                let text = s
                    .as_str()
                    .unwrap_or_else(|| panic!("{at}: scope not a string"));
                needed
                    .push(ScopeExpr::parse(text).unwrap_or_else(|e| panic!("{at}: {text:?}: {e}")));
            }
        }
        alternatives.push(ScopeExpr::All(needed));
    }
    Some(ScopeExpr::Any(alternatives))
}

fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|s| match s {
            "{uuid}" => ID,
            s if s.starts_with('{') => PARENT,
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn the_scope_table_matches_the_oas() {
    let files = [
        ("zgw/zaken-1.7.0-openapi.yaml", Component::Zaken),
        ("zgw/documenten-1.7.1-openapi.yaml", Component::Documenten),
    ];
    for (file, component) in files {
        let doc = load(&require_reference!(file));
        let global = security(&doc["security"], &format!("{file}: security"));
        let paths = doc["paths"].as_hash().expect("paths");
        let mut in_oas: BTreeSet<(String, String)> = BTreeSet::new();
        let mut checked = 0;
        for (path, item) in paths {
            let template = path.as_str().expect("path key");
            let item = item.as_hash().expect("path item");
            let declared =
                |method: &str| -> Option<&Yaml> { item.get(&Yaml::String(method.to_owned())) };
            let mut methods: BTreeMap<&str, ()> = BTreeMap::new();
            for method in METHODS {
                let Some(op) = declared(method) else { continue };
                let at = format!("{file}: {} {template}", method.to_uppercase());
                let upper = method.to_uppercase();
                methods.insert(method, ());
                in_oas.insert((upper.clone(), template.to_owned()));
                let mut want = security(&op["security"], &at).or_else(|| global.clone());
                if want.is_none() && method == "head" {
                    let get = declared("get").unwrap_or_else(|| panic!("{at}: HEAD without GET"));
                    want = security(&get["security"], &at);
                }
                let want = want.unwrap_or_else(ScopeExpr::never);
                let op_id = op["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{at}: operationId"));

                let got = route(component, &upper, &concrete(template))
                    .unwrap_or_else(|e| panic!("{at}: {e}"));
                assert_eq!(got.operation_id, op_id, "{at}");
                assert!(
                    got.scope.equivalent(&want),
                    "{at}: table has `{}`, the OAS `{want}`",
                    got.scope
                );
                assert_eq!(got.scope.is_never(), want.is_never(), "{at}");
                let has_id = template.split('/').any(|s| s == "{uuid}");
                assert_eq!(got.id.as_deref(), has_id.then_some(ID), "{at}");
                let has_parent = template
                    .split('/')
                    .any(|s| s.starts_with('{') && s != "{uuid}");
                assert_eq!(got.parent.as_deref(), has_parent.then_some(PARENT), "{at}");
                checked += 1;
            }
            // The Allow value lists exactly the OAS methods (HEAD with GET), then OPTIONS.
            let mut expected: Vec<&str> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
                .into_iter()
                .filter(|m| {
                    let lower = m.to_lowercase();
                    methods.contains_key(lower.as_str())
                        || (*m == "HEAD" && methods.contains_key("get"))
                })
                .collect();
            expected.push("OPTIONS");
            let expected = expected.join(", ");
            let path = concrete(template);
            assert_eq!(
                allow(component, &path),
                Some(expected.as_str()),
                "{file}: {template}"
            );
            for m in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
                if !expected.split(", ").any(|x| x == m) {
                    assert_eq!(
                        route(component, m, &path),
                        Err(RouteError::MethodNotAllowed {
                            allow: allow(component, &path).unwrap()
                        }),
                        "{file}: {m} {template}"
                    );
                }
            }
        }
        // Nothing in the table that the OAS does not have.
        let ours: BTreeSet<(String, String)> = specs(component)
            .iter()
            .map(|s| (s.method.to_owned(), s.path.to_owned()))
            .collect();
        let extra: Vec<_> = ours.difference(&in_oas).collect();
        assert!(
            extra.is_empty(),
            "{file}: in the table but not in the OAS: {extra:?}"
        );
        assert_eq!(checked, in_oas.len());
        assert!(checked > 30, "{file}: only {checked} operations");
    }
}

#[test]
fn security_reading_follows_openapi() {
    // Several scopes in one requirement: all needed; several requirements: any one.
    let doc = YamlLoader::load_from_str(
        "a:\n  - JWT-Claims: [x, y]\n  - JWT-Claims: ['(p | q)']\nb: []\n",
    )
    .unwrap()
    .remove(0);
    let e = security(&doc["a"], "a").unwrap();
    assert!(e.equivalent(&ScopeExpr::parse("x & y | p | q").unwrap()));
    assert!(security(&doc["b"], "b").is_none());
    assert!(security(&doc["missing"], "c").is_none());
}
