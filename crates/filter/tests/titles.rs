//! Link titles never carry a value the caller sees below `read`: for random scope sets over a
//! dataset whose display fields profiles lower to `letters:N` or `encoded`, and for honest and
//! lying upstreams alike, no `title` in any `_links` of the output equals the raw value of a
//! field the caller does not see at `read`.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail the test on unexpected errors"
)]

use proptest::prelude::*;
use serde_json::{Value, json};
use sluis_filter::{HalFilter, LinkRewriter};
use sluis_policy::{EncodingKey, Level, Policy, Projector, Sources, TablePlan, load};

const SCOPES: &[&str] = &[
    "P/R", "P/BSN", "S/A", "S/B", "S/C", "G/R", "G/CODE", "S/E", "S/F",
];
const PERSON_FIELDS: &[&str] = &["id", "naam", "bsn", "woonplaats", "gemeente"];
const GEMEENTE_FIELDS: &[&str] = &["id", "naam", "code"];

fn policy() -> Policy {
    let ds = json!({"type": "dataset", "id": "d", "tables": [
        {"id": "personen", "type": "table", "auth": "P/R", "schema": {
            "identifier": ["id"], "display": "naam", "properties": {
                "id": {"type": "string"},
                "naam": {"type": "string"},
                "bsn": {"type": "string", "auth": "P/BSN"},
                "woonplaats": {"type": "string"},
                "gemeente": {"type": "string", "relation": "d:gemeenten"}}}},
        {"id": "gemeenten", "type": "table", "auth": "G/R", "schema": {
            "identifier": ["id"], "display": "naam", "properties": {
                "id": {"type": "string"},
                "naam": {"type": "string"},
                "code": {"type": "string", "auth": "G/CODE"}}}}]});
    let profiles = [
        json!({"id": "a", "scopes": ["S/A"], "datasets": {"d": {"tables": {"personen": {
            "permissions": "read", "fields": {"naam": "letters:2", "bsn": "encoded"}}}}}}),
        json!({"id": "b", "scopes": ["S/B"], "datasets": {"d": {"tables": {"personen": {
            "fields": {"naam": "encoded", "woonplaats": "read"}}}}}}),
        json!({"id": "c", "scopes": ["S/C"], "datasets": {"d": {"tables": {"personen": {
            "permissions": "encoded"}}}}}),
        json!({"id": "e", "scopes": ["S/E"], "datasets": {"d": {"tables": {"gemeenten": {
            "permissions": "read", "fields": {"naam": "letters:1"}}}}}}),
        json!({"id": "f", "scopes": ["S/F"], "datasets": {"d": {"permissions": "read"}}}),
    ];
    let mut s = Sources::new();
    s.insert("datasets/d.json", serde_json::to_vec(&ds).unwrap());
    let mut p = Sources::new();
    for (i, pr) in profiles.iter().enumerate() {
        p.insert(
            format!("profiles/{i}.json"),
            serde_json::to_vec(pr).unwrap(),
        );
    }
    Policy::new(load(&s, &p).unwrap_or_else(|e| panic!("{e}")), "test")
}

/// One upstream record: distinct values per field, and which field each title claims to show.
#[derive(Debug, Clone)]
struct Rec {
    tag: u32,
    /// Index into the table's fields the upstream puts in the `self` title (honest: `naam`).
    self_title: usize,
    /// Index into the gemeente fields the upstream puts in the relation link title.
    rel_title: usize,
}

fn rec() -> impl Strategy<Value = Rec> {
    (
        any::<u32>(),
        prop_oneof![3 => Just(1usize), 1 => 0..PERSON_FIELDS.len()],
        prop_oneof![3 => Just(1usize), 1 => 0..GEMEENTE_FIELDS.len()],
    )
        .prop_map(|(tag, self_title, rel_title)| Rec {
            tag,
            self_title,
            rel_title,
        })
}

fn gemeente(i: usize, r: &Rec, title: usize) -> Value {
    let v = |f: &str| json!(format!("g{i}-{f}-{}", r.tag));
    let mut g = json!({"id": v("id"), "naam": v("naam"), "code": v("code")});
    g["_links"] = json!({"self": {"href": format!("http://up/v1/d/gemeenten/{i}"),
        "title": g[GEMEENTE_FIELDS[title]].clone()}});
    g
}

fn person(i: usize, r: &Rec) -> Value {
    let v = |f: &str| json!(format!("p{i}-{f}-{}", r.tag));
    let g = gemeente(i, r, 1);
    let mut p = json!({"id": v("id"), "naam": v("naam"), "bsn": v("bsn"),
        "woonplaats": v("woonplaats"), "gemeente": g["id"].clone()});
    p["_links"] = json!({
        "self": {"href": format!("http://up/v1/d/personen/{i}"),
                 "title": p[PERSON_FIELDS[r.self_title]].clone()},
        "schema": {"href": "https://schemas/d/personen", "title": v("bsn")},
        "gemeente": {"href": format!("http://up/v1/d/gemeenten/{i}"),
                     "title": g[GEMEENTE_FIELDS[r.rel_title]].clone()}});
    p["_embedded"] = json!({"gemeente": gemeente(i, r, r.rel_title)});
    p
}

/// Raw values of the fields a plan delivers below `read` (hidden ones included).
fn below_read(plan: &TablePlan, raw: &Value, fields: &[&str], out: &mut Vec<String>) {
    for f in fields {
        let level = plan.field(f).map_or(Level::None, |fp| fp.level);
        if level != Level::Read
            && let Some(s) = raw.get(*f).and_then(Value::as_str)
        {
            out.push(s.to_owned());
        }
    }
}

fn titles(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "_links" {
                    link_titles(x, out);
                } else {
                    titles(x, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| titles(x, out)),
        _ => {}
    }
}

fn link_titles(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(t) = m.get("title").and_then(Value::as_str) {
                out.push(t.to_owned());
            }
            m.values().for_each(|x| link_titles(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| link_titles(x, out)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_link_title_shows_a_value_below_read(
        scopes in prop::sample::subsequence(SCOPES, 0..=SCOPES.len()),
        recs in prop::collection::vec(rec(), 1..4),
        detail in any::<bool>(),
    ) {
        let p = policy();
        let set = p.scope_set(&scopes);
        let plan = p.plan("d.personen", &set).unwrap();
        let gplan = p.plan("d.gemeenten", &set).unwrap();
        let people: Vec<Value> = recs.iter().enumerate().map(|(i, r)| person(i, r)).collect();
        let mut secret = Vec::new();
        for (i, (person, r)) in people.iter().zip(&recs).enumerate() {
            below_read(&plan, person, PERSON_FIELDS, &mut secret);
            below_read(&gplan, &gemeente(i, r, 1), GEMEENTE_FIELDS, &mut secret);
        }
        let links = LinkRewriter {
            upstream_base: "http://up/v1/d".into(),
            public_base: "https://sluis/d".into(),
        };
        let key = EncodingKey::new(vec![7u8; 32]).unwrap();
        let filter = HalFilter::new(&p, &set, &links, Projector::new(&key, [3; 32]), None);
        let mut body = if detail {
            people[0].clone()
        } else {
            let gs: Vec<Value> =
                recs.iter().enumerate().map(|(i, r)| gemeente(i, r, r.rel_title)).collect();
            json!({"_links": {"self": {"href": "http://up/v1/d/personen",
                                       "title": people[0]["bsn"].clone()}},
                   "_embedded": {"personen": people, "gemeente": gs}})
        };
        let result = if detail {
            filter.detail(&plan, &mut body)
        } else {
            filter.list(&plan, "personen", &mut body)
        };
        if !plan.access {
            return Ok(());
        }
        result.unwrap();
        let mut seen = Vec::new();
        titles(&body, &mut seen);
        for t in &seen {
            prop_assert!(!secret.contains(t), "title {t:?} shows a value below read\n{body:#}");
        }
    }
}
