//! Filters, sorts and mandatory filter sets must not become oracles: a caller who sees a field as
//! `letters:N` or `encoded` must not recover its value from counts, order or 200/404 answers.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail the test on unexpected errors"
)]

use serde_json::{Value, json};
use sluis_policy::{Decision, Denial, FilterVerdict, Policy, Request, Sources, load};

fn sources(files: &[(&str, &Value)]) -> Sources {
    let mut s = Sources::new();
    for (name, v) in files {
        s.insert((*name).to_owned(), serde_json::to_vec(v).unwrap());
    }
    s
}

fn policy(ds: &Value, profile: &Value) -> Policy {
    let model = load(
        &sources(&[("datasets/brp.json", ds)]),
        &sources(&[("profiles/p.json", profile)]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    Policy::new(model, "test")
}

fn decide(p: &Policy, params: &[(&str, &str)], detail: Option<&str>) -> Decision {
    let set = p.scope_set(&["BRP/ZOEK"]);
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    p.decide(&Request {
        table: "brp.personen",
        scopes: &set,
        params: &params,
        detail,
    })
    .unwrap()
}

fn dataset() -> Value {
    json!({"type": "dataset", "id": "brp", "auth": "BRP/R", "tables": [
        {"id": "personen", "type": "table", "schema": {
            "identifier": ["id"], "display": "id", "properties": {
                "id": {"type": "integer"},
                "bsn": {"type": "string"},
                "naam": {"type": "string"},
                "postcode": {"type": "string"},
                "gemeente": {"type": "string", "relation": "brp:gemeenten"},
                "adres": {"type": "object", "properties": {
                    "straat": {"type": "string"}, "huisnummer": {"type": "integer"}}}}}},
        {"id": "gemeenten", "type": "table", "schema": {
            "identifier": ["id"], "properties": {
                "id": {"type": "string"}, "naam": {"type": "string"}}}}]})
}

fn profile(exact: &[&str]) -> Value {
    json!({"id": "zoek", "scopes": ["BRP/ZOEK"], "datasets": {"brp": {"tables": {
        "personen": {"permissions": "read",
            "fields": {"bsn": "encoded", "naam": "letters:2", "gemeente": "encoded",
                       "adres.huisnummer": "letters:1"},
            "exactFilters": exact},
        "gemeenten": {"permissions": "read"}}}}})
}

fn refused(d: &Decision, param: &str) {
    assert_eq!(d.status(), 403, "{param}: {:?}", d.reasons);
    assert_eq!(d.denial, Some(Denial::Filter(param.to_owned())), "{param}");
}

/// `bsn[like]=31*`, ranges and sort on a field seen below `read` are refused (403
/// filterNotAllowed); before, any visible representation was enough to filter on.
#[test]
fn fields_below_read_are_no_filter_or_sort_oracle() {
    let p = policy(&dataset(), &profile(&[]));
    for param in [
        "bsn[like]",
        "bsn[gt]",
        "bsn[gte]",
        "bsn[lt]",
        "bsn[lte]",
        "bsn",
        "bsn[exact]",
        "naam[like]",
        "naam",
        "adres.huisnummer[gte]",
        "adres",
    ] {
        refused(&decide(&p, &[(param, "31*")], None), param);
    }
    for sort in ["bsn", "-naam", "postcode,-bsn", "adres.huisnummer"] {
        let d = decide(&p, &[("_sort", sort)], None);
        assert_eq!(d.status(), 403, "_sort={sort}");
        assert!(matches!(d.denial, Some(Denial::Filter(_))), "_sort={sort}");
    }
    // A detail request would answer 200 or 404 depending on the hidden value.
    refused(&decide(&p, &[("bsn[like]", "31*")], Some("1")), "bsn[like]");
    // Crossing a relation the caller sees encoded reveals what it points at.
    refused(
        &decide(&p, &[("gemeente.naam", "Amsterdam")], None),
        "gemeente.naam",
    );
    // Fields at `read` stay filterable and sortable.
    for (k, v) in [
        ("postcode[like]", "10*"),
        ("adres.straat", "Dam"),
        ("id[gte]", "3"),
        ("_sort", "-postcode,id"),
    ] {
        assert_eq!(decide(&p, &[(k, v)], None).status(), 200, "{k}");
    }
}

/// `exactFilters` allows plain or `[exact]` equality on a field seen below `read`, nothing else.
#[test]
fn exact_filters_allow_equality_only() {
    let p = policy(&dataset(), &profile(&["bsn", "adres.huisnummer"]));
    for param in ["bsn", "bsn[exact]", "adres.huisnummer"] {
        let d = decide(&p, &[(param, "999993653")], None);
        assert_eq!(d.status(), 200, "{param}: {:?}", d.reasons);
        assert_eq!(d.filters[0].verdict, FilterVerdict::Allowed);
    }
    for param in [
        "bsn[like]",
        "bsn[gt]",
        "bsn[gte]",
        "bsn[lt]",
        "bsn[lte]",
        "bsn[in]",
        "bsn[not]",
        "bsn[isnull]",
        "naam",
        "adres.huisnummer[lt]",
    ] {
        refused(&decide(&p, &[(param, "1")], None), param);
    }
    let d = decide(&p, &[("_sort", "bsn")], None);
    assert_eq!(d.denial, Some(Denial::Filter("bsn".into())));
}

/// The allowance counts only while its profile applies: a profile whose mandatory filter set is
/// not met gives neither levels nor exact filters.
#[test]
fn exact_filters_follow_their_profile() {
    let mut prof = profile(&["bsn"]);
    prof["datasets"]["brp"]["tables"]["personen"]["mandatoryFilterSets"] = json!([["postcode"]]);
    let p = policy(&dataset(), &prof);
    assert_eq!(decide(&p, &[("bsn", "1")], None).status(), 403);
    assert_eq!(
        decide(&p, &[("postcode", "1011AB"), ("bsn", "1")], None).status(),
        200
    );
}

/// A mandatory filter set is met only by exactly one non-empty value per name: before, an empty
/// duplicate beside a real value, or the name twice, satisfied it.
#[test]
fn mandatory_filter_sets_need_exactly_one_nonempty_value() {
    let mut prof = profile(&[]);
    prof["datasets"]["brp"]["tables"]["personen"]["mandatoryFilterSets"] =
        json!([["postcode", "id"]]);
    let p = policy(&dataset(), &prof);
    let ok = [("postcode", "1011AB"), ("id", "1")];
    assert_eq!(decide(&p, &ok, None).status(), 200);
    for params in [
        vec![("postcode", "1011AB"), ("id", "")],
        vec![("postcode", ""), ("postcode", "1011AB"), ("id", "1")],
        vec![("postcode", "1011AB"), ("postcode", "1011AB"), ("id", "1")],
        vec![("postcode", "1011AB"), ("id", "1"), ("id", "2")],
        vec![("postcode", "1011AB")],
    ] {
        let d = decide(&p, &params, None);
        assert_eq!(d.denial, Some(Denial::Table), "{params:?}");
    }
    // On a detail request the identifier comes from the path.
    assert_eq!(
        decide(&p, &[("postcode", "1011AB")], Some("1")).status(),
        200
    );
}

/// Problems in `exactFilters` are reported with file and JSON path.
#[test]
fn exact_filter_errors_name_file_and_path() {
    let cases = [
        (json!(["nope"]), "exactFilters[0]", "unknown field"),
        (
            json!(["bsn", "adres"]),
            "exactFilters[1]",
            "names an object",
        ),
        (json!(["bsn", "bsn"]), "exactFilters[1]", "duplicate"),
        (json!([7]), "exactFilters[0]", "field path string"),
        (json!("bsn"), "exactFilters", "must be a list"),
    ];
    for (exact, path, msg) in cases {
        let mut prof = profile(&[]);
        prof["datasets"]["brp"]["tables"]["personen"]["exactFilters"] = exact;
        let err = load(
            &sources(&[("datasets/brp.json", &dataset())]),
            &sources(&[("profiles/p.json", &prof)]),
        )
        .err()
        .unwrap_or_else(|| panic!("{path}: loaded"))
        .to_string();
        assert!(err.contains("profiles/p.json"), "{err}");
        assert!(
            err.contains(&format!("$.datasets.brp.tables.personen.{path}")),
            "{err}"
        );
        assert!(err.contains(msg), "{err}");
    }
}
