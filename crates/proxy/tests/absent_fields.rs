//! Property: for random field-level `auth` and profile policies on `afvalwegingen`, no field the
//! engine plans as absent (the plan `sluis explain` shows, from `Policy::decide` on the same
//! files) appears in any response body or embedded object; visible fields come in their planned
//! representation; relations are linked and embedded only when expandable.
//!
//! One sluis and one fixture serve every case; each case writes its policy files and reloads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests: a failed expectation must abort the test loudly"
)]

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use sluis_policy::{Level, Policy, Request, TablePlan};

const CONTAINER_FIELDS: &[&str] = &[
    "serienummer",
    "fractieOmschrijving",
    "eigenaarNaam",
    "datumCreatie",
    "clusterId",
    "cluster",
];
const CLUSTER_FIELDS: &[&str] = &["status", "adres", "adres.straatnaam", "adres.postcode"];
const LEVELS: &[&str] = &["read", "encoded", "random", "letters:2", "none"];
const SCOPES: &[&str] = &["A", "B", "C", "P", "Q"];

#[derive(Debug, Clone)]
struct ProfileCase {
    scopes: Option<Vec<&'static str>>,
    containers: Option<(Option<&'static str>, BTreeMap<&'static str, &'static str>)>,
    clusters: Option<(Option<&'static str>, BTreeMap<&'static str, &'static str>)>,
}

#[derive(Debug, Clone)]
struct Case {
    containers_auth: Option<&'static str>,
    clusters_auth: Option<&'static str>,
    field_auth: BTreeMap<&'static str, &'static str>,
    profiles: Vec<ProfileCase>,
    scopes: Vec<&'static str>,
}

fn auth() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some("A")),
        1 => Just(Some("B")),
        1 => Just(Some("C"))
    ]
}

fn subset(of: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    proptest::sample::subsequence(of, 0..=of.len())
}

fn field_auths() -> impl Strategy<Value = BTreeMap<&'static str, &'static str>> {
    let names: Vec<&'static str> = CONTAINER_FIELDS
        .iter()
        .copied()
        .chain(CLUSTER_FIELDS.iter().map(|f| match *f {
            "status" => "clusters.status",
            "adres" => "clusters.adres",
            "adres.straatnaam" => "clusters.adres.straatnaam",
            _ => "clusters.adres.postcode",
        }))
        .collect();
    proptest::collection::vec(auth(), names.len()).prop_map(move |a| {
        names
            .iter()
            .zip(a)
            .filter_map(|(n, a)| a.map(|a| (*n, a)))
            .collect()
    })
}

fn profile_table(
    fields: &'static [&'static str],
) -> impl Strategy<Value = Option<(Option<&'static str>, BTreeMap<&'static str, &'static str>)>> {
    let entry = (
        proptest::option::of(proptest::sample::select(LEVELS)),
        proptest::collection::btree_map(
            proptest::sample::select(fields),
            proptest::sample::select(LEVELS),
            0..4,
        ),
    )
        .prop_map(|(perm, fields)| {
            // A profile table needs permissions or fields.
            let perm = if fields.is_empty() && perm.is_none() {
                Some("read")
            } else {
                perm
            };
            (perm, fields)
        });
    proptest::option::of(entry)
}

fn profile_case() -> impl Strategy<Value = ProfileCase> {
    (
        proptest::option::of(subset(&["P", "Q"])),
        profile_table(CONTAINER_FIELDS),
        profile_table(CLUSTER_FIELDS),
    )
        .prop_map(|(scopes, containers, clusters)| ProfileCase {
            scopes,
            containers,
            clusters,
        })
}

fn case() -> impl Strategy<Value = Case> {
    (
        auth(),
        auth(),
        field_auths(),
        proptest::collection::vec(profile_case(), 1..3),
        subset(SCOPES),
    )
        .prop_map(
            |(containers_auth, clusters_auth, field_auth, profiles, scopes)| Case {
                containers_auth,
                clusters_auth,
                field_auth,
                profiles,
                scopes,
            },
        )
}

fn policy_files(c: &Case) -> PolicyFiles {
    let mut p = PolicyFiles::default();
    if let Some(a) = c.containers_auth {
        set(&mut p.afval, "/tables/0/auth", json!(a));
    }
    if let Some(a) = c.clusters_auth {
        set(&mut p.afval, "/tables/1/auth", json!(a));
    }
    for (field, a) in &c.field_auth {
        let pointer = match field.strip_prefix("clusters.") {
            Some(path) => format!(
                "/tables/1/schema/properties/{}/auth",
                path.replace('.', "/properties/")
            ),
            None => format!("/tables/0/schema/properties/{field}/auth"),
        };
        set(&mut p.afval, &pointer, json!(a));
    }
    for (i, pc) in c.profiles.iter().enumerate() {
        let mut tables = Map::new();
        for (name, t) in [("containers", &pc.containers), ("clusters", &pc.clusters)] {
            if let Some((perm, fields)) = t {
                let mut e = Map::new();
                if let Some(perm) = perm {
                    e.insert("permissions".into(), json!(perm));
                }
                if !fields.is_empty() {
                    e.insert("fields".into(), json!(fields));
                }
                tables.insert(name.into(), Value::Object(e));
            }
        }
        let datasets = if tables.is_empty() {
            json!({"afvalwegingen": {"permissions": "read"}})
        } else {
            json!({"afvalwegingen": {"tables": tables}})
        };
        p.profiles.push(profile(
            &format!("random-{i}"),
            pc.scopes.as_deref(),
            datasets,
        ));
    }
    p
}

/// Checks one delivered record against its plan: every key is a visible field, in its level's
/// representation; nothing planned absent is there.
fn check_record(
    plan: &TablePlan,
    rec: &Map<String, Value>,
    prefix: &str,
    source: Option<&Map<String, Value>>,
) -> Result<(), String> {
    for (k, v) in rec {
        if prefix.is_empty() && (k == "_links" || k == "_embedded") {
            continue;
        }
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let Some(fp) = plan.field(&path) else {
            return Err(format!(
                "{}: delivered {path}, which is no field",
                plan.table
            ));
        };
        if !fp.level.is_visible() {
            return Err(format!(
                "{}: delivered {path}, planned {}",
                plan.table, fp.level
            ));
        }
        let want = source.and_then(|s| s.get(k));
        if !fp.children.is_empty() {
            if let Value::Object(m) = v {
                check_record(plan, m, &path, want.and_then(Value::as_object))?;
            }
            continue;
        }
        if v.is_null() {
            continue;
        }
        let ok = match fp.level {
            Level::Read => want.is_none_or(|w| w == v),
            Level::Encoded | Level::Random => v.as_str().is_some_and(is_hex32),
            Level::Letters(n) => v.as_str().is_some_and(|s| s.chars().count() <= n as usize),
            _ => false,
        };
        if !ok {
            return Err(format!(
                "{}: {path} = {v} does not fit level {}",
                plan.table, fp.level
            ));
        }
    }
    // And explicitly: no hidden field's key, at any depth.
    for fp in plan.walk() {
        if fp.level.is_visible() || !fp.path.starts_with(prefix) {
            continue;
        }
        let rel = fp.path.strip_prefix(prefix).unwrap_or(&fp.path);
        let rel = rel.trim_start_matches('.');
        if !rel.contains('.') && rec.contains_key(rel) {
            return Err(format!("{}: hidden {} present", plan.table, fp.path));
        }
    }
    Ok(())
}

fn decide(
    p: &Policy,
    table: &str,
    scopes: &[&str],
    query: &[(&str, &str)],
    detail: Option<&str>,
) -> sluis_policy::Decision {
    let set = p.scope_set(scopes);
    let params: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    p.decide(&Request {
        table,
        scopes: &set,
        params: &params,
        detail,
    })
    .unwrap()
}

/// A request to make: path, table, its query as pairs, detail id.
type Probe = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    Option<&'static str>,
);

async fn run_case(h: &Harness, c: &Case) -> Result<(), String> {
    h.write_policy(&policy_files(c));
    h.server()
        .reload()
        .await
        .map_err(|e| format!("policy did not load: {e}"))?;
    let expected =
        sluis_policy::fs::load_policy(&[h.path("policy/datasets")], &[h.path("policy/profiles")])
            .map_err(|e| e.to_string())?;
    let running = h
        .server()
        .shared()
        .runtime
        .load()
        .policy
        .version()
        .to_owned();
    if running != expected.version() {
        return Err(format!("running {running}, files {}", expected.version()));
    }
    let t = token(&c.scopes);
    let containers = by_id(&h.records("afvalwegingen", "containers"));
    let clusters = by_id(&h.records("afvalwegingen", "clusters"));

    let requests: [Probe; 3] = [
        (
            "/api/afval/containers?_pageSize=8&_expand=true",
            "afvalwegingen.containers",
            &[("_pageSize", "8"), ("_expand", "true")],
            None,
        ),
        (
            "/api/afval/containers/3?_expand=true",
            "afvalwegingen.containers",
            &[("_expand", "true")],
            Some("3"),
        ),
        (
            "/api/afval/clusters?_pageSize=8",
            "afvalwegingen.clusters",
            &[("_pageSize", "8")],
            None,
        ),
    ];
    for (path, table, query, detail) in requests {
        let d = decide(&expected, table, &c.scopes, query, detail);
        let r = h.get(path, Some(&t), &[]).await;
        if r.status != d.status() {
            return Err(format!(
                "{path}: status {} but planned {}: {}",
                r.status,
                d.status(),
                r.text()
            ));
        }
        if r.status != 200 {
            if has_key_anywhere(&r.json(), "_embedded") {
                return Err(format!("{path}: data in a refusal"));
            }
            continue;
        }
        let body = r.json();
        let short = table.rsplit('.').next().unwrap();
        let source = if short == "containers" {
            &containers
        } else {
            &clusters
        };
        let recs: Vec<&Value> = match detail {
            Some(_) => vec![&body],
            None => items(&body, short).iter().collect(),
        };
        if recs.is_empty() {
            return Err(format!("{path}: no records"));
        }
        let rel = d.plan.field("cluster").and_then(|f| f.relation.clone());
        let expandable = rel.as_ref().is_some_and(|r| r.expandable);
        for rec in recs {
            let m = rec.as_object().unwrap();
            let id = match &m["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            check_record(&d.plan, m, "", source.get(&id))?;
            if short == "containers" {
                let linked = m["_links"].get("cluster").is_some();
                if linked != expandable {
                    return Err(format!(
                        "{path}: _links.cluster {linked}, expandable {expandable}"
                    ));
                }
                if detail.is_some() {
                    let embedded = m.get("_embedded").and_then(|e| e.get("cluster"));
                    if embedded.is_some() != expandable {
                        return Err(format!(
                            "{path}: _embedded.cluster {embedded:?}, expandable {expandable}"
                        ));
                    }
                }
            }
        }
        if short == "containers" && detail.is_none() {
            let embedded = body["_embedded"].get("cluster");
            if embedded.is_some() != expandable {
                return Err(format!(
                    "{path}: _embedded.cluster present {}, expandable {expandable}",
                    embedded.is_some()
                ));
            }
        }
        // Embedded clusters follow the clusters plan (the caller's scopes, no filters).
        let cplan = expected
            .plan("afvalwegingen.clusters", &expected.scope_set(&c.scopes))
            .unwrap();
        let embedded: Vec<&Value> = match body.get("_embedded").and_then(|e| e.get("cluster")) {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v @ Value::Object(_)) => vec![v],
            _ => vec![],
        };
        for e in embedded {
            let m = e.as_object().unwrap();
            let id = m["id"].as_str().unwrap_or_default().to_owned();
            check_record(&cplan, m, "", clusters.get(&id))?;
        }
    }
    Ok(())
}

fn by_id(records: &[Map<String, Value>]) -> std::collections::HashMap<String, Map<String, Value>> {
    records
        .iter()
        .map(|r| {
            let id = match &r["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (id, r.clone())
        })
        .collect()
}

#[test]
fn no_field_planned_absent_is_ever_delivered() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let h = rt.block_on(Harness::start(Opts {
        // Only explicit reloads: the watcher must not pick up half-written case files.
        reload_poll_secs: 3600,
        ..Opts::default()
    }));
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let result = runner.run(&case(), |c| {
        rt.block_on(run_case(&h, &c))
            .map_err(|e| TestCaseError::fail(format!("{e}\ncase: {c:#?}")))
    });
    rt.block_on(h.shutdown());
    if let Err(e) = result {
        panic!("{e}");
    }
}
