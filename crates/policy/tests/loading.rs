//! Loading: the three dataset layouts, profile files, scope `$ref`s, the real Amsterdam Schema
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail the test on unexpected errors"
)]
//! files, and validation errors that name the file and the JSON path.

use serde_json::{Value, json};
use sluis_policy::{Level, Policy, PolicyError, Request, Sources, fs, load};

fn sources(files: &[(&str, Value)]) -> Sources {
    let mut s = Sources::new();
    for (p, v) in files {
        s.insert(*p, serde_json::to_vec(v).unwrap());
    }
    s
}

fn table_json() -> Value {
    json!({"id": "containers", "type": "table", "version": "1.0.0", "auth": "BAG/R", "schema": {
    "identifier": ["id"], "display": "id",
    "properties": {
        "id": {"type": "integer"},
        "naam": {"type": "string", "auth": "BAG/RSN"},
        "adres": {"type": "object", "properties": {
            "straat": {"type": "string"}, "huisnummer": {"type": "integer"}}},
        "regels": {"type": "array", "items": {"type": "object", "properties": {
            "code": {"type": "string"}}}}
    }}})
}

fn field_paths(p: &Policy, table: &str) -> Vec<String> {
    let set = p.scope_set(&["BAG/R"]);
    let d = p
        .decide(&Request {
            table,
            scopes: &set,
            params: &[],
            detail: None,
        })
        .unwrap();
    d.plan
        .walk()
        .iter()
        .map(|f| format!("{}={}", f.path, f.level))
        .collect()
}

#[test]
fn three_layouts_load_alike() {
    let inline = sources(&[(
        "afval.json",
        json!({"type": "dataset", "id": "afval", "tables": [table_json()]}),
    )]);
    let versioned = sources(&[(
        "afval.json",
        json!({"type": "dataset", "id": "afval", "defaultVersion": "v1",
            "versions": {"v1": {"tables": [table_json()]}}}),
    )]);
    let split = sources(&[
        (
            "afval/dataset.json",
            json!({"type": "dataset", "id": "afval", "defaultVersion": "v1", "versions": {"v1": {
                "tables": [{"id": "containers", "$ref": "containers/v1"}]}}}),
        ),
        ("afval/containers/v1.json", table_json()),
    ]);
    let mut seen = Vec::new();
    for s in [inline, versioned, split] {
        let p = Policy::new(load(&s, &Sources::new()).unwrap(), "v");
        seen.push(field_paths(&p, "afval.containers"));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0], seen[2]);
    assert_eq!(
        seen[0],
        vec![
            "id=read",
            "naam=none",
            "adres=read",
            "adres.straat=read",
            "adres.huisnummer=read",
            "regels=read",
            "regels.code=read"
        ]
    );
}

/// Real Amsterdam Schema files from the reference folder (see `sluis_testkit::reference`);
/// skipped, saying so, when it is missing.
#[test]
fn real_amsterdam_schema_files_load() {
    let r = sluis_testkit::require_reference!("amsterdam-schema");
    let p = fs::load_policy(
        &[r.join("datasets"), r.join("scopes")],
        &[r.join("profiles")],
    )
    .unwrap();
    // The split datasets list tables whose files are not in the reference set: reported, not fatal.
    assert!(
        p.model()
            .warnings
            .iter()
            .any(|w| w.message.contains("unavailable"))
    );
    let t = "benkagg.brkbasis";
    let params = vec![(
        "kadastraalobjectIdentificatie".to_owned(),
        "ASD01 A 0001".to_owned(),
    )];
    let rl = p.scope_set(&["BRK/RL"]);
    let d = p
        .decide(&Request {
            table: t,
            scopes: &rl,
            params: &params,
            detail: None,
        })
        .unwrap();
    assert_eq!(d.status(), 200);
    // Rule 10: a profile table with "read" opens fields that carry a stricter auth.
    assert_eq!(d.plan.field("bsn").unwrap().level, Level::Read);
    let d = p
        .decide(&Request {
            table: t,
            scopes: &rl,
            params: &[],
            detail: None,
        })
        .unwrap();
    assert_eq!(d.status(), 403);
    let rs = p.scope_set(&["BRK/RS"]);
    let d = p
        .decide(&Request {
            table: t,
            scopes: &rs,
            params: &[],
            detail: None,
        })
        .unwrap();
    assert_eq!(d.status(), 200);
    assert_eq!(d.plan.field("bsn").unwrap().level, Level::None);
    assert_eq!(d.plan.field("koopsom").unwrap().level, Level::Read);
    let t = "brk2.kadastralesubjecten";
    let d = p
        .decide(&Request {
            table: t,
            scopes: &rs,
            params: &[],
            detail: None,
        })
        .unwrap();
    assert_eq!(d.plan.field("geslacht.code").unwrap().level, Level::None);
    assert_eq!(d.plan.field("rechtsvorm.code").unwrap().level, Level::Read);
    let err = p.decide(&Request {
        table: "brk2.meta",
        scopes: &rs,
        params: &[],
        detail: None,
    });
    assert!(matches!(err, Err(PolicyError::UnavailableTable(_))));
}

#[test]
fn auth_as_scope_file_ref() {
    let s = sources(&[
        (
            "scopes/BRK/brk_rsn.json",
            json!({"type": "scope", "id": "BRK/RSN"}),
        ),
        (
            "d.json",
            json!({"type": "dataset", "id": "d", "tables": [{"id": "t", "type": "table",
                "auth": [{"$ref": "scopes/BRK/brk_rsn"}, "OTHER"],
                "schema": {"identifier": "id", "properties": {"id": {"type": "string"}}}}]}),
        ),
    ]);
    let p = Policy::new(load(&s, &Sources::new()).unwrap(), "v");
    let set = p.scope_set(&["BRK/RSN"]);
    let d = p
        .decide(&Request {
            table: "d.t",
            scopes: &set,
            params: &[],
            detail: None,
        })
        .unwrap();
    assert!(d.allowed());
}

fn errors(schemas: &Sources, profiles: &Sources) -> Vec<String> {
    match load(schemas, profiles) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.diagnostics().iter().map(ToString::to_string).collect(),
    }
}

fn base_dataset() -> Sources {
    sources(&[(
        "afval.json",
        json!({"type": "dataset", "id": "afval", "tables": [table_json()]}),
    )])
}

#[test]
fn profile_errors_name_file_and_path() {
    let profiles = sources(&[
        (
            "profiles/a.json",
            json!({"id": "a", "scopes": ["X"], "datasets": {
                "nope": {"permissions": "read"},
                "afval": {"tables": {
                    "missing": {"permissions": "read"},
                    "containers": {"permissions": "letters:0", "fields": {"bogus": "read", "naam": "READ"},
                        "mandatoryFilterSets": [[], ["onbekend"]]}
                }}
            }}),
        ),
        (
            "profiles/b.json",
            json!({"id": "b", "datasets": {"afval": {"tables": {"containers": {}}}}}),
        ),
        ("profiles/c.json", json!({"id": "a"})),
    ]);
    let errs = errors(&base_dataset(), &profiles);
    let expect = [
        "profiles/a.json: $.datasets.nope: unknown dataset \"nope\"",
        "profiles/a.json: $.datasets.afval.tables.missing: unknown table \"missing\"",
        "profiles/a.json: $.datasets.afval.tables.containers.permissions: invalid permission \"letters:0\"",
        "profiles/a.json: $.datasets.afval.tables.containers.fields.bogus: unknown field \"bogus\"",
        "profiles/a.json: $.datasets.afval.tables.containers.fields.naam: invalid permission \"READ\"",
        "profiles/a.json: $.datasets.afval.tables.containers.mandatoryFilterSets[0]: a filter set must be a non-empty list",
        "profiles/a.json: $.datasets.afval.tables.containers.mandatoryFilterSets[1][0]: filter \"onbekend\" does not name a field",
        "profiles/b.json: $.datasets.afval.tables.containers: a profile table needs \"permissions\" or \"fields\"",
        "profiles/c.json: $.id: duplicate profile id \"a\"",
    ];
    for e in expect {
        assert!(
            errs.iter().any(|got| got.starts_with(e)),
            "missing {e:?} in {errs:#?}"
        );
    }
}

#[test]
fn dataset_errors_name_file_and_path() {
    let mut bad_table = table_json();
    bad_table["schema"]["properties"]["id"]["auth"] = json!("GEHEIM");
    let mut dup = table_json();
    dup["schema"]["properties"]["naam"]["auth"] = json!(17);
    let s = sources(&[
        (
            "a.json",
            json!({"type": "dataset", "id": "a", "tables": [bad_table, dup]}),
        ),
        (
            "b.json",
            json!({"type": "dataset", "id": "a", "tables": []}),
        ),
        ("c.json", json!({"type": "profile", "id": "p"})),
        ("d.json", json!([1, 2])),
    ]);
    let mut bytes = Sources::new();
    bytes.insert("e.json", b"{not json".to_vec());
    let errs = errors(&s, &Sources::new());
    let expect = [
        "a.json: $.tables[0].schema.properties.id.auth: field \"id\" is named in identifier and may not carry its own auth",
        "a.json: $.tables[1].schema.properties.naam.auth: a scope must be a non-empty string",
        "a.json: $.tables[1].id: duplicate table id \"containers\"",
        "b.json: $.id: duplicate dataset id \"a\"",
        "c.json: $.type: a profile among the dataset sources",
        "d.json: $: not an Amsterdam Schema dataset",
    ];
    for e in expect {
        assert!(
            errs.iter().any(|got| got.starts_with(e)),
            "missing {e:?} in {errs:#?}"
        );
    }
    let errs = errors(&bytes, &Sources::new());
    assert!(
        errs[0].starts_with("e.json: $: not valid JSON: key must be a string at line 1 column 2"),
        "{errs:?}"
    );
}

#[test]
fn unknown_and_unavailable_tables_are_errors_at_decision() {
    let p = Policy::new(load(&base_dataset(), &Sources::new()).unwrap(), "v");
    let set = p.scope_set::<&str>(&[]);
    let r = p.decide(&Request {
        table: "afval.nope",
        scopes: &set,
        params: &[],
        detail: None,
    });
    assert!(matches!(r, Err(PolicyError::UnknownTable(_))));
}
