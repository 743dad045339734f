//! The acceptance scenarios P1–P14 of the profile model, against the compiled engine.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail the test on unexpected errors"
)]

use serde_json::{Map, Value, json};
use sluis_policy::{
    Decision, Denial, EncodingKey, Level, Policy, Projector, Request, Sources, Via, load,
};

fn policy(datasets: &[Value], profiles: &[Value]) -> Policy {
    let mut s = Sources::new();
    for (i, d) in datasets.iter().enumerate() {
        s.insert(format!("datasets/{i}.json"), serde_json::to_vec(d).unwrap());
    }
    let mut p = Sources::new();
    for (i, pr) in profiles.iter().enumerate() {
        p.insert(
            format!("profiles/{i}.json"),
            serde_json::to_vec(pr).unwrap(),
        );
    }
    Policy::new(load(&s, &p).unwrap_or_else(|e| panic!("{e}")), "test")
}

fn decide(p: &Policy, scopes: &[&str], table: &str, params: &[(&str, &str)]) -> Decision {
    decide_detail(p, scopes, table, params, None)
}

fn decide_detail(
    p: &Policy,
    scopes: &[&str],
    table: &str,
    params: &[(&str, &str)],
    detail: Option<&str>,
) -> Decision {
    let set = p.scope_set(scopes);
    let params: Vec<(String, String)> = params
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

fn status(p: &Policy, scopes: &[&str], table: &str, params: &[(&str, &str)]) -> u16 {
    decide(p, scopes, table, params).status()
}

fn level(d: &Decision, path: &str) -> Level {
    d.plan
        .field(path)
        .unwrap_or_else(|| panic!("no field {path}"))
        .level
}

fn key() -> EncodingKey {
    EncodingKey::new(vec![42u8; 32]).unwrap()
}

fn project(d: &Decision, record: Value) -> Map<String, Value> {
    let Value::Object(mut m) = record else {
        panic!("record must be an object")
    };
    let k = key();
    Projector::new(&k, [9u8; 32]).project(&d.plan, &mut m);
    m
}

fn keys(m: &Map<String, Value>) -> Vec<&str> {
    let mut k: Vec<&str> = m.keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

// ---------------------------------------------------------------------------------------------

fn afval(containers_auth: Value, eigenaar_auth: Value, clusters_auth: Value) -> Value {
    json!({
        "type": "dataset", "id": "afvalwegingen",
        "tables": [
            {"id": "containers", "type": "table", "auth": containers_auth, "schema": {
                "identifier": ["id"], "display": "id",
                "properties": {
                    "schema": {"$ref": "https://schemas.data.amsterdam.nl/schema@v1.1.1#/definitions/schema"},
                    "id": {"type": "integer"},
                    "serienummer": {"type": "string"},
                    "eigenaarNaam": {"type": "string", "auth": eigenaar_auth},
                    "datumCreatie": {"type": "string", "format": "date"},
                    "clusterId": {"type": "string"},
                    "cluster": {"type": "string", "relation": "afvalwegingen:clusters"}
                }
            }},
            {"id": "clusters", "type": "table", "auth": clusters_auth, "schema": {
                "identifier": ["id"],
                "properties": {"id": {"type": "string"}, "status": {"type": "string"}}
            }}
        ]
    })
}

/// P1: a table protected by `auth`; no scope hierarchy.
#[test]
fn p1_table_protected_by_auth() {
    let p = policy(&[afval(json!(["BAG/R"]), Value::Null, Value::Null)], &[]);
    let c = "afvalwegingen.containers";
    assert_eq!(status(&p, &[], c, &[]), 403);
    assert_eq!(decide(&p, &[], c, &[]).denial, Some(Denial::Table));
    assert_eq!(status(&p, &[], "afvalwegingen.clusters", &[]), 200);
    assert_eq!(status(&p, &["BAG/R"], c, &[]), 200);
    assert_eq!(status(&p, &["BAG/RSN"], c, &[]), 403);
}

/// P2: a field protected by `auth` is silently absent.
#[test]
fn p2_field_protected_by_auth() {
    let p = policy(&[afval(Value::Null, json!(["BAG/R"]), Value::Null)], &[]);
    let rec = json!({"id": 1, "serienummer": "s1", "eigenaarNaam": "Jansen"});
    for (scopes, present) in [
        (vec![], false),
        (vec!["BAG/NOT"], false),
        (vec!["BAG/R"], true),
    ] {
        let d = decide(&p, &scopes, "afvalwegingen.containers", &[]);
        assert_eq!(d.status(), 200);
        let out = project(&d, rec.clone());
        assert_eq!(
            out.contains_key("eigenaarNaam"),
            present,
            "scopes {scopes:?}"
        );
        assert_eq!(out.get("serienummer"), Some(&json!("s1")));
    }
}

/// P3: levels AND together; sub-fields of a protected field inherit its auth.
#[test]
fn p3_levels_and_subfields_inherit() {
    let ds = json!({
        "type": "dataset", "id": "geheim", "auth": "AUTH/DATASET",
        "tables": [{"id": "dingen", "type": "table", "auth": "AUTH/TABLE", "schema": {
            "identifier": "id",
            "properties": {
                "id": {"type": "integer"},
                "naam": {"type": "string"},
                "secretArray": {"type": "array", "auth": "AUTH/FIELD", "items": {
                    "type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}
                }}
            }
        }}]
    });
    let p = policy(&[ds], &[]);
    let t = "geheim.dingen";
    let rec = json!({"id": 1, "naam": "x", "secretArray": [{"a": "s", "b": 2}]});
    let d = decide(&p, &["AUTH/DATASET", "AUTH/TABLE"], t, &[]);
    assert_eq!(d.status(), 200);
    assert_eq!(level(&d, "secretArray.a"), Level::None);
    assert!(!project(&d, rec.clone()).contains_key("secretArray"));
    let d = decide(&p, &["AUTH/DATASET", "AUTH/TABLE", "AUTH/FIELD"], t, &[]);
    assert_eq!(level(&d, "secretArray.b"), Level::Read);
    assert_eq!(
        project(&d, rec.clone()).get("secretArray"),
        Some(&json!([{"a": "s", "b": 2}]))
    );
    assert_eq!(status(&p, &["AUTH/FIELD"], t, &[]), 403);
    assert_eq!(status(&p, &["AUTH/TABLE", "AUTH/FIELD"], t, &[]), 403);
}

/// P4: one protected field means the table is not fully readable, so relations to it are
/// neither expanded nor linked.
#[test]
fn p4_protected_field_blocks_relations() {
    let ds = json!({
        "type": "dataset", "id": "basis",
        "tables": [
            {"id": "base", "type": "table", "auth": "BASE", "schema": {
                "identifier": "code",
                "properties": {"code": {"type": "string"}, "geheim": {"type": "string", "auth": "BASE/ID"}}
            }},
            {"id": "verwijzers", "type": "table", "schema": {
                "identifier": "id",
                "properties": {"id": {"type": "integer"}, "base": {"type": "string", "relation": "basis:base"}}
            }}
        ]
    });
    let p = policy(&[ds], &[]);
    let d = decide(&p, &["BASE"], "basis.base", &[]);
    assert_eq!(d.status(), 200);
    assert_eq!(level(&d, "geheim"), Level::None);
    assert!(!d.plan.fully_readable);
    let d = decide(&p, &["BASE"], "basis.verwijzers", &[]);
    assert!(
        !d.plan
            .field("base")
            .unwrap()
            .relation
            .as_ref()
            .unwrap()
            .expandable
    );
    let d = decide(
        &p,
        &["BASE"],
        "basis.verwijzers",
        &[("_expandScope", "base")],
    );
    assert_eq!(d.denial, Some(Denial::Expand("base".into())));
    let d = decide(
        &p,
        &["BASE", "BASE/ID"],
        "basis.verwijzers",
        &[("_expandScope", "base")],
    );
    assert!(d.allowed());
    assert!(
        d.plan
            .field("base")
            .unwrap()
            .relation
            .as_ref()
            .unwrap()
            .expandable
    );
}

/// P5: a profile opens a field without the field's scope.
#[test]
fn p5_profile_opens_field() {
    let profile = json!({"id": "brk_rsn", "scopes": ["BRK/RSN"], "datasets": {"afvalwegingen": {
        "tables": {"containers": {"fields": {"eigenaarNaam": "read"}}}}}});
    let p = policy(
        &[afval(Value::Null, json!(["BAG/R"]), Value::Null)],
        &[profile],
    );
    let rec = json!({"id": 1, "eigenaarNaam": "Jansen"});
    let d = decide(&p, &["BRK/RO", "BRK/RSN"], "afvalwegingen.containers", &[]);
    assert_eq!(
        project(&d, rec.clone()).get("eigenaarNaam"),
        Some(&json!("Jansen"))
    );
    let d = decide(&p, &[], "afvalwegingen.containers", &[]);
    assert!(!project(&d, rec).contains_key("eigenaarNaam"));
}

/// P6: a profile without scopes applies to everyone; `letters:1`.
#[test]
fn p6_profile_without_scopes_letters() {
    let ds = json!({"type": "dataset", "id": "fietspaaltjes", "tables": [
        {"id": "fietspaaltjes", "type": "table", "schema": {"identifier": "id", "properties": {
            "id": {"type": "string"}, "area": {"type": "string", "auth": "FOO/BAR"}}}}]});
    let profile = json!({"id": "iedereen", "datasets": {"fietspaaltjes": {"tables": {
        "fietspaaltjes": {"fields": {"area": "letters:1"}}}}}});
    let p = policy(&[ds], &[profile]);
    let d = decide(&p, &[], "fietspaaltjes.fietspaaltjes", &[]);
    assert_eq!(level(&d, "area"), Level::Letters(1));
    for rec in [
        json!({"id": "1", "area": "Amsterdam"}),
        json!({"id": "2", "area": "Amstelveen"}),
    ] {
        assert_eq!(project(&d, rec).get("area"), Some(&json!("A")));
    }
}

fn parkeervakken(dataset_auth: Option<&str>, table_auth: Option<&str>) -> Value {
    json!({"type": "dataset", "id": "parkeervakken", "auth": dataset_auth, "tables": [
    {"id": "parkeervakken", "type": "table", "auth": table_auth, "schema": {
        "identifier": ["id"],
        "properties": {
            "id": {"type": "string"},
            "volgnummer": {"type": "integer"},
            "buurtcode": {"type": "string"},
            "type": {"type": "string"},
            "soort": {"type": "string"},
            "aantal": {"type": "number"},
            "regimes": {"type": "array", "items": {"type": "object", "properties": {
                "eindtijd": {"type": "string"}, "aantal": {"type": "integer"}}}}
        }
    }}]})
}

fn p7_profiles() -> Vec<Value> {
    vec![
        json!({"id": "A", "scopes": ["PROFIEL/SCOPE"], "datasets": {"parkeervakken": {"tables": {
            "parkeervakken": {"permissions": "read", "fields": {"type": "letters:1"},
                "mandatoryFilterSets": [["buurtcode", "type"], ["regimes.eindtijd"]],
                // sluis: the caller sees `type` as letters:1, so filtering on it needs this.
                "exactFilters": ["type"]}}}}}),
        json!({"id": "B", "scopes": ["PROFIEL2/SCOPE"], "datasets": {"parkeervakken": {"tables": {
            "parkeervakken": {"permissions": "read",
                "mandatoryFilterSets": [["regimes.aantal[gte]"]]}}}}}),
    ]
}

/// P7: mandatory filter sets: OR of ANDs, literal names, non-empty values.
#[test]
fn p7_mandatory_filter_sets() {
    let p = policy(
        &[parkeervakken(None, Some("DATASET/SCOPE"))],
        &p7_profiles(),
    );
    let t = "parkeervakken.parkeervakken";
    let a = ["PROFIEL/SCOPE"];
    let b = ["PROFIEL2/SCOPE"];
    let both = ["PROFIEL/SCOPE", "PROFIEL2/SCOPE"];
    assert_eq!(status(&p, &[], t, &[]), 403);
    assert_eq!(status(&p, &a, t, &[("buurtcode", "A05d")]), 403);
    assert_eq!(
        status(&p, &a, t, &[("buurtcode", "A05d"), ("type", "E9")]),
        200
    );
    assert_eq!(
        status(&p, &a, t, &[("buurtcode[like]", "*"), ("type[like]", "*")]),
        403
    );
    assert_eq!(status(&p, &a, t, &[("regimes.eindtijd", "20:05")]), 200);
    assert_eq!(status(&p, &a, t, &[("regimes.eindtijd", "")]), 403);
    assert_eq!(status(&p, &b, t, &[("regimes.aantal[gte]", "2")]), 200);
    assert_eq!(status(&p, &both, t, &[]), 403);
    assert_eq!(status(&p, &both, t, &[("regimes.eindtijd", "20:05")]), 200);
    assert_eq!(status(&p, &both, t, &[("regimes.aantal[gte]", "2")]), 200);
    let d = decide(&p, &a, t, &[("buurtcode", "A05d")]);
    assert!(
        d.reasons
            .iter()
            .any(|r| r.contains("no mandatory filter set met")),
        "{:?}",
        d.reasons
    );
    let d = decide(&p, &a, t, &[("regimes.eindtijd", "20:05")]);
    assert_eq!(d.plan.via, vec![Via::Profile("A".into())]);
    assert_eq!(level(&d, "type"), Level::Letters(1));
}

/// P8: `auth` beats profiles and makes filters optional; unknown filters.
#[test]
fn p8_auth_beats_profiles() {
    let p = policy(
        &[parkeervakken(None, Some("DATASET/SCOPE"))],
        &p7_profiles(),
    );
    let t = "parkeervakken.parkeervakken";
    let d = decide(&p, &["DATASET/SCOPE"], t, &[]);
    assert_eq!(d.status(), 200);
    assert!(d.plan.walk().iter().all(|f| f.level == Level::Read));
    assert_eq!(d.plan.via, vec![Via::Auth]);
    let d = decide(
        &p,
        &["DATASET/SCOPE", "PROFIEL/SCOPE"],
        t,
        &[("regimes.eindtijd", "1")],
    );
    assert_eq!(
        level(&d, "type"),
        Level::Read,
        "the profile's letters:1 must not apply"
    );
    let d = decide(&p, &["DATASET/SCOPE"], t, &[("regimes.noSuchField", "x")]);
    assert_eq!(d.status(), 400);
    assert_eq!(
        d.denial,
        Some(Denial::UnknownFilter("regimes.noSuchField".into()))
    );
    assert_eq!(
        status(
            &p,
            &["PROFIEL/SCOPE", "PROFIEL2/SCOPE"],
            t,
            &[("regimes.noSuchField", "x")]
        ),
        403
    );
}

fn p9_profile() -> Value {
    json!({"id": "P9", "scopes": ["PROFIEL/SCOPE"], "datasets": {"parkeervakken": {"tables": {
        "parkeervakken": {"mandatoryFilterSets": [["id"]],
            "fields": {"type": "read", "soort": "letters:1"}}}}}})
}

fn p9_row() -> Value {
    json!({"id": "1", "volgnummer": 1, "buurtcode": "A05d", "type": "Langs", "soort": "NIET FISCA",
        "aantal": 1.0, "regimes": []})
}

/// P9: a field-only profile delivers only the listed fields (and, in sluis, the identifier).
#[test]
fn p9_field_only_profile() {
    let p = policy(
        &[parkeervakken(Some("DATASET/SCOPE"), None)],
        &[p9_profile()],
    );
    let t = "parkeervakken.parkeervakken";
    let d = decide_detail(&p, &["PROFIEL/SCOPE"], t, &[], Some("1"));
    assert_eq!(d.status(), 200);
    let out = project(&d, p9_row());
    assert_eq!(keys(&out), vec!["id", "soort", "type"]);
    assert_eq!(out.get("type"), Some(&json!("Langs")));
    assert_eq!(out.get("soort"), Some(&json!("N")));
    assert_eq!(out.get("id"), Some(&json!("1")));
    // The list view does not satisfy the `id` filter set.
    assert_eq!(status(&p, &["PROFIEL/SCOPE"], t, &[]), 403);
}

/// P10: two field profiles; only one activated by its filter set, then both, maximum wins.
#[test]
fn p10_two_field_profiles() {
    let b = json!({"id": "P10B", "scopes": ["PROFIEL2/SCOPE"], "datasets": {"parkeervakken": {"tables": {
        "parkeervakken": {"mandatoryFilterSets": [["id", "type"]],
            "fields": {"type": "letters:1", "soort": "read"}}}}}});
    let p = policy(
        &[parkeervakken(Some("DATASET/SCOPE"), None)],
        &[p9_profile(), b],
    );
    let t = "parkeervakken.parkeervakken";
    let s = ["PROFIEL/SCOPE", "PROFIEL2/SCOPE"];
    let out = project(&decide_detail(&p, &s, t, &[], Some("1")), p9_row());
    assert_eq!(out.get("type"), Some(&json!("Langs")));
    assert_eq!(out.get("soort"), Some(&json!("N")));
    let out = project(
        &decide_detail(&p, &s, t, &[("type", "Langs")], Some("1")),
        p9_row(),
    );
    assert_eq!(out.get("type"), Some(&json!("Langs")));
    assert_eq!(out.get("soort"), Some(&json!("NIET FISCA")));
}

/// What the data plane answers for a detail request: the engine's status, or 404 when an
/// allowed equality filter excludes the object.
fn detail_status(p: &Policy, scopes: &[&str], params: &[(&str, &str)], row: &Value) -> u16 {
    let d = decide_detail(
        p,
        scopes,
        "parkeervakken.parkeervakken",
        params,
        Some("121138489047"),
    );
    if !d.allowed() {
        return d.status();
    }
    let excluded = params.iter().any(|(k, v)| {
        row.get(*k).is_some_and(|rv| match rv {
            Value::String(s) => s != v,
            other => {
                other != &Value::String((*v).to_owned())
                    && other.as_f64().map(|n| n.to_string()).as_deref() != Some(*v)
            }
        })
    });
    if excluded { 404 } else { 200 }
}

/// P11: detail view and mandatory filter sets.
#[test]
fn p11_detail_and_mandatory_filters() {
    let prof = |id: &str, scope: &str, sets: Value| {
        json!({"id": id, "scopes": [scope], "datasets": {"parkeervakken": {"tables": {
            "parkeervakken": {"permissions": "read", "mandatoryFilterSets": sets}}}}})
    };
    let p = policy(
        &[parkeervakken(None, Some("DATASET/SCOPE"))],
        &[
            prof("may_not", "MAY/NOT", json!([["buurtcode", "type"]])),
            prof(
                "may_enter",
                "MAY/ENTER",
                json!([["buurtcode", "type"], ["id"]]),
            ),
            prof(
                "only_volgnummer",
                "ONLY/VOLGNUMMER",
                json!([["id", "volgnummer"]]),
            ),
        ],
    );
    let row = json!({"id": "121138489047", "volgnummer": 1, "buurtcode": "A05d", "type": "E9"});
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16);
    let cases: &[Case] = &[
        ("MAY/NOT", &[], 403),
        ("MAY/NOT", &[("volgnummer", "1")], 403),
        ("MAY/NOT", &[("buurtcode", "1"), ("type", "1")], 404),
        ("MAY/ENTER", &[], 200),
        ("MAY/ENTER", &[("volgnummer", "3")], 404),
        ("ONLY/VOLGNUMMER", &[], 403),
        ("ONLY/VOLGNUMMER", &[("volgnummer", "1")], 200),
        ("ONLY/VOLGNUMMER", &[("volgnummer", "3")], 404),
        ("DATASET/SCOPE", &[], 200),
    ];
    for (scope, params, want) in cases {
        assert_eq!(
            detail_status(&p, &[scope], params, &row),
            *want,
            "{scope} {params:?}"
        );
    }
}

fn brk(dataset_auth: &str) -> Value {
    json!({"type": "dataset", "id": "brk", "auth": dataset_auth, "tables": [
        {"id": "kadastraleobjecten", "type": "table", "schema": {"identifier": ["id"], "properties": {
            "id": {"type": "string"}, "volgnummer": {"type": "integer"},
            "identificatie": {"type": "string"}, "registratiedatum": {"type": "string"}}}}]})
}

fn p12_profiles() -> Vec<Value> {
    vec![
        json!({"id": "rid", "scopes": ["BRK/RID"], "datasets": {"brk": {"tables": {"kadastraleobjecten":
            {"fields": {"id": "read", "volgnummer": "read"}}}}}}),
        json!({"id": "encoded", "scopes": ["BRK/ENCODED"], "datasets": {"brk": {"tables": {"kadastraleobjecten":
            {"fields": {"volgnummer": "encoded", "identificatie": "encoded"}}}}}}),
    ]
}

/// P12: merging profiles by maximum; the auth path wins over a profile's lower level.
#[test]
fn p12_merging_and_auth_path() {
    let t = "brk.kadastraleobjecten";
    let p = policy(&[brk("MAG/NIET")], &p12_profiles());
    let d = decide(&p, &["BRK/RID", "BRK/ENCODED"], t, &[]);
    assert_eq!(level(&d, "id"), Level::Read);
    assert_eq!(level(&d, "volgnummer"), Level::Read);
    assert_eq!(level(&d, "identificatie"), Level::Encoded);
    assert_eq!(level(&d, "registratiedatum"), Level::None);
    let d = decide(&p, &["BRK/RID"], t, &[]);
    assert_eq!(level(&d, "volgnummer"), Level::Read);
    assert_eq!(level(&d, "identificatie"), Level::None);
    let p = policy(&[brk("DATASET/SCOPE")], &p12_profiles());
    let d = decide(&p, &["BRK/ENCODED", "DATASET/SCOPE"], t, &[]);
    for f in ["id", "volgnummer", "identificatie", "registratiedatum"] {
        assert_eq!(level(&d, f), Level::Read, "{f}");
    }
}

/// Merging compares `letters:N` numerically (schema-tools compares strings).
#[test]
fn letters_merge_numerically() {
    let prof = |id: &str, scope: &str, l: &str| {
        json!({"id": id, "scopes": [scope], "datasets": {"brk": {"tables": {"kadastraleobjecten":
            {"fields": {"identificatie": l}}}}}})
    };
    let p = policy(
        &[brk("MAG/NIET")],
        &[
            prof("drie", "L3", "letters:3"),
            prof("tien", "L10", "letters:10"),
        ],
    );
    let d = decide(&p, &["L3", "L10"], "brk.kadastraleobjecten", &[]);
    assert_eq!(level(&d, "identificatie"), Level::Letters(10));
}

/// P13: table read plus a field downgrade within one profile, with a need-to-know query;
/// `encoded` is a keyed pseudonym, linkable within the field.
#[test]
fn p13_encoded_with_need_to_know() {
    let ds = json!({"type": "dataset", "id": "brp", "auth": "BRP/R", "tables": [
        {"id": "ingeschrevenpersonen", "type": "table", "schema": {"identifier": "id", "properties": {
            "id": {"type": "integer"}, "bsn": {"type": "string"}, "lastname": {"type": "string"},
            "postcode": {"type": "string"}}}}]});
    let prof = json!({"id": "BRP_RNAME", "scopes": ["BRP/RNAME"], "datasets": {"brp": {"tables": {
        "ingeschrevenpersonen": {"permissions": "read", "fields": {"bsn": "encoded"},
            "mandatoryFilterSets": [["bsn", "lastname"], ["postcode", "lastname"]]}}}}});
    let p = policy(&[ds], &[prof]);
    let t = "brp.ingeschrevenpersonen";
    assert_eq!(
        status(&p, &["BRP/RNAME"], t, &[("postcode", "1234AB")]),
        403
    );
    let d = decide(
        &p,
        &["BRP/RNAME"],
        t,
        &[("postcode", "1234AB"), ("lastname", "foo")],
    );
    assert_eq!(d.status(), 200);
    assert_eq!(level(&d, "bsn"), Level::Encoded);
    assert_eq!(level(&d, "lastname"), Level::Read);
    let a = project(&d, json!({"id": 1, "bsn": "999993653", "lastname": "foo"}));
    let b = project(&d, json!({"id": 2, "bsn": "999993653", "lastname": "foo"}));
    let c = project(&d, json!({"id": 3, "bsn": "999990019", "lastname": "foo"}));
    let code = a.get("bsn").and_then(Value::as_str).unwrap();
    assert_eq!(code.len(), 32);
    assert!(code.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(code, "999993653");
    assert_eq!(a.get("bsn"), b.get("bsn"), "equal values stay linkable");
    assert_ne!(a.get("bsn"), c.get("bsn"));
    let d = decide(&p, &["BRP/R"], t, &[]);
    assert_eq!(d.status(), 200);
    assert_eq!(level(&d, "bsn"), Level::Read);
}

/// P14: filtering, sorting and expanding across protection boundaries.
#[test]
fn p14_filter_sort_expand() {
    let mut ds = afval(Value::Null, Value::Null, json!(["BAG/R"]));
    let props = &mut ds["tables"][0]["schema"]["properties"];
    props["eigenaarNaam"]["filterAuth"] = json!(["SEE/CREATION"]);
    props["datumCreatie"]["auth"] = json!(["SEE/CREATION"]);
    let p = policy(&[ds], &[]);
    let c = "afvalwegingen.containers";
    let d = decide(&p, &[], c, &[("eigenaarNaam", "FOOBAR")]);
    assert_eq!(d.status(), 403);
    assert_eq!(
        d.denial.as_ref().unwrap().title(),
        "Access denied to filter on: eigenaarNaam"
    );
    let d = decide(&p, &[], c, &[]);
    assert_eq!(d.status(), 200);
    assert_eq!(level(&d, "eigenaarNaam"), Level::Read);
    let d = decide(&p, &[], c, &[("_sort", "datumCreatie")]);
    assert_eq!(d.status(), 403);
    assert_eq!(
        d.denial.as_ref().unwrap().title(),
        "Access denied to filter on: datumCreatie"
    );
    assert_eq!(
        status(&p, &["SEE/CREATION"], c, &[("_sort", "-datumCreatie")]),
        200
    );
    assert_eq!(status(&p, &[], c, &[("_sort", "serienummer")]), 200);
    // Expansion.
    let d = decide(&p, &[], c, &[("_expandScope", "cluster")]);
    assert_eq!(d.status(), 403);
    assert_eq!(
        d.denial.as_ref().unwrap().title(),
        "Eager loading not allowed for field 'cluster'"
    );
    let d = decide(&p, &["BAG/NOPE"], c, &[("_expand", "true")]);
    assert_eq!(d.status(), 200);
    assert!(
        !d.plan
            .field("cluster")
            .unwrap()
            .relation
            .as_ref()
            .unwrap()
            .expandable
    );
    assert_eq!(level(&d, "clusterId"), Level::Read);
    let d = decide(&p, &["BAG/R"], c, &[("_expandScope", "cluster")]);
    assert!(d.allowed());
    assert!(
        d.plan
            .field("cluster")
            .unwrap()
            .relation
            .as_ref()
            .unwrap()
            .expandable
    );
    // Filtering through a relation checks the target table too.
    assert_eq!(status(&p, &[], c, &[("cluster.status", "vol")]), 403);
    assert_eq!(status(&p, &["BAG/R"], c, &[("cluster.status", "vol")]), 200);
}

/// `random` gives an unlinkable value, fresh per response.
#[test]
fn random_is_fresh_per_response() {
    let ds = json!({"type": "dataset", "id": "d", "tables": [{"id": "t", "type": "table",
        "auth": "NIEMAND", "schema": {"identifier": "id", "properties": {
            "id": {"type": "integer"}, "naam": {"type": "string"}}}}]});
    let prof =
        json!({"id": "r", "datasets": {"d": {"tables": {"t": {"fields": {"naam": "random"}}}}}});
    let p = policy(&[ds], &[prof]);
    let d = decide(&p, &[], "d.t", &[]);
    let k = key();
    let mut seen = std::collections::HashSet::new();
    for seed in 0..3u8 {
        let mut proj = Projector::new(&k, [seed; 32]);
        for _ in 0..2 {
            let Value::Object(mut m) = json!({"id": 1, "naam": "Jansen"}) else {
                unreachable!()
            };
            proj.project(&d.plan, &mut m);
            let v = m.get("naam").and_then(Value::as_str).unwrap().to_owned();
            assert_eq!(v.len(), 32);
            assert!(seen.insert(v), "random values must not repeat");
        }
    }
}

/// Decisions are cached: the same request twice gives the same plan object.
#[test]
fn plans_are_cached_per_scope_set_and_filters() {
    let p = policy(
        &[parkeervakken(None, Some("DATASET/SCOPE"))],
        &p7_profiles(),
    );
    let t = "parkeervakken.parkeervakken";
    let a = decide(
        &p,
        &["PROFIEL/SCOPE", "UNRELATED"],
        t,
        &[("regimes.eindtijd", "1")],
    );
    let b = decide(&p, &["PROFIEL/SCOPE"], t, &[("regimes.eindtijd", "2")]);
    assert!(std::sync::Arc::ptr_eq(&a.plan, &b.plan));
    let c = decide(&p, &["PROFIEL/SCOPE"], t, &[]);
    assert!(!std::sync::Arc::ptr_eq(&a.plan, &c.plan));
}
