//! Loading and validating policy files: the example file, and clear errors with file and key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::path::Path;

use common::{query, scopes};
use serde_json::json;
use sluis_brp::{AutoField, BrpError, BrpPolicy, QueryType, Who};

fn example() -> BrpPolicy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policy/brp.toml");
    BrpPolicy::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn example_policy_loads_and_decides() {
    let p = example();
    assert_eq!(p.municipality(), "0363");
    assert_eq!(
        p.special_scopes().nationwide.as_deref(),
        Some("BRP/buiten-gemeente")
    );
    assert_eq!(
        p.query_type_scopes(QueryType::RaadpleegMetBurgerservicenummer),
        Some(&["BRP/zoek-bsn".to_owned()][..])
    );
    assert!(p.is_own_municipality_only(QueryType::ZoekMetNaamEnGemeenteVanInschrijving));
    assert!(!p.is_own_municipality_only(QueryType::ZoekMetPostcodeEnHuisnummer));
    assert_eq!(
        p.field_set("BRP/basis").unwrap(),
        [
            "burgerservicenummer",
            "naam",
            "geboorte",
            "geslacht",
            "leeftijd"
        ]
    );
    assert_eq!(p.auto_delivered(AutoField::InOnderzoek), &Who::Everyone);
    assert_eq!(
        p.auto_delivered(AutoField::Rni),
        &Who::AnyOf(vec!["BRP/adres-buitenland".to_owned()])
    );

    // A postcode search by a caller with the basis and address sets.
    let q = query(
        json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "1011 PN", "huisnummer": 1}),
    );
    let plan = p
        .decide(
            &q,
            &scopes(&["BRP/zoek-postcode", "BRP/basis", "BRP/adres"]),
        )
        .unwrap();
    assert_eq!(
        plan.fields_requested(),
        [
            "adresseringBinnenland",
            "burgerservicenummer",
            "geboorte",
            "geslacht",
            "leeftijd",
            "naam"
        ]
    );
    assert!(plan.injected_identifiers().is_empty());
    assert_eq!(
        plan.upstream_body()["gemeenteVanInschrijving"],
        json!("0363")
    );
    // A full BSN lookup.
    let q = query(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"]}),
    );
    let all = scopes(&[
        "BRP/zoek-bsn",
        "BRP/basis",
        "BRP/anummer",
        "BRP/adres",
        "BRP/adres-buitenland",
        "BRP/familie",
        "BRP/nationaliteit",
        "BRP/verblijfstitel",
        "BRP/gezag",
        "BRP/kiesrecht",
        "BRP/overlijden",
    ]);
    let plan = p.decide(&q, &all).unwrap();
    assert!(
        plan.fields_requested().len() < 30,
        "{:?}",
        plan.fields_requested()
    );
    assert!(
        plan.fields_requested().iter().all(|f| !f.contains('.')),
        "all groups compacted"
    );
    // geslacht = O is reserved.
    let q = query(
        json!({"type": "ZoekMetGeslachtsnaamEnGeboortedatum", "geslachtsnaam": "Jansen", "geboortedatum": "1975-07-30", "geslacht": "O"}),
    );
    let d = p
        .decide(&q, &scopes(&["BRP/zoek-naam-geb", "BRP/basis"]))
        .unwrap_err();
    assert_eq!(d.status, 403);
}

fn problems(text: &str) -> Vec<(String, String)> {
    match BrpPolicy::from_toml_str(text, "bad.toml") {
        Ok(_) => panic!("expected an invalid policy"),
        Err(BrpError::Invalid(problems)) => {
            assert!(problems.iter().all(|p| p.file == "bad.toml"));
            problems.into_iter().map(|p| (p.key, p.message)).collect()
        }
        Err(e) => panic!("expected Invalid, got {e}"),
    }
}

fn keys(text: &str) -> Vec<String> {
    problems(text).into_iter().map(|(k, _)| k).collect()
}

#[test]
fn invalid_municipality() {
    let p = problems("municipality = \"0001\"");
    assert_eq!(p[0].0, "municipality");
    assert!(p[0].1.contains("Tabel 33"), "{}", p[0].1);
    assert!(
        problems("municipality = \"1999\"")[0]
            .1
            .contains("not a municipality")
    );
    assert_eq!(keys("municipality = \"363\""), ["municipality"]);
    assert!(BrpPolicy::from_toml_str("municipality = \"0599\"", "ok.toml").is_ok());
}

#[test]
fn unknown_query_types_and_empty_scope_lists() {
    let text = r#"
        municipality = "0363"
        own_municipality_only = ["ZoekMetBsn"]
        [query_types]
        RaadpleegMetBurgerservicenummer = []
        ZoekMetPostcode = ["x"]
        ZoekMetPostcodeEnHuisnummer = ["ok", ""]
    "#;
    assert_eq!(
        keys(text),
        [
            "query_types.RaadpleegMetBurgerservicenummer",
            "query_types.ZoekMetPostcode",
            "query_types.ZoekMetPostcodeEnHuisnummer[1]",
            "own_municipality_only[0]",
        ]
    );
}

#[test]
fn misplaced_top_level_key_gets_a_hint() {
    let p = problems(
        "municipality = \"0363\"\n[query_types]\nown_municipality_only = [\"ZoekMetPostcodeEnHuisnummer\"]\n",
    );
    assert!(p[0].1.contains("before the first [table]"), "{}", p[0].1);
}

#[test]
fn unknown_field_paths_in_sets() {
    let text = r#"
        municipality = "0363"
        [field_sets]
        "BRP/basis" = ["naam.*", "naam.bestaatNiet", "geboorte.datum.jaar", "leeftijd.*", "inOnderzoek", "Naam"]
        "BRP/leeg" = []
    "#;
    let p = problems(text);
    let k: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        k,
        [
            "field_sets.\"BRP/basis\"[1]",
            "field_sets.\"BRP/basis\"[2]",
            "field_sets.\"BRP/basis\"[3]",
            "field_sets.\"BRP/basis\"[4]",
            "field_sets.\"BRP/basis\"[5]",
            "field_sets.\"BRP/leeg\"",
        ]
    );
    assert!(p[0].1.contains("not a field of Persoon"));
    assert!(p[1].1.contains("grant \"geboorte.datum\""), "{}", p[1].1);
    assert!(p[2].1.contains("no sub-fields"));
    assert!(p[3].1.contains("auto-delivered"));
    assert!(p[5].1.contains("empty field set"));
}

#[test]
fn unknown_parameter_names_and_bad_rules() {
    let text = r#"
        municipality = "0363"
        [parameters.bestaatNiet]
        default = "everyone"
        [parameters."xyz*"]
        default = "everyone"
        [parameters.gemeenteVanInschrijving]
        default = "everyone"
        [parameters.fields]
        default = "everyone"
        [parameters.postcode]
        [parameters.geslacht]
        default = "sometimes"
        values = { "X" = "everyone", "M" = [] }
        [parameters.huisnummer]
        values = { "12" = "everyone", "twaalf" = "never", "1*" = ["s"] }
    "#;
    let p = problems(text);
    let k: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        k,
        [
            "parameters.bestaatNiet",
            "parameters.fields",
            "parameters.gemeenteVanInschrijving",
            "parameters.geslacht.default",
            "parameters.huisnummer.values.twaalf",
            "parameters.postcode",
            "parameters.\"xyz*\"",
        ]
    );
    assert!(p[2].1.contains("municipality"));
    assert!(p[3].1.contains("\"everyone\", \"never\""));
    assert!(p[6].1.contains("wildcard"));
    // With a valid default, the value problems show.
    let p = problems(
        "municipality = \"0363\"\n[parameters.geslacht]\ndefault = \"everyone\"\nvalues = { \"X\" = \"everyone\", \"M\" = [] }\n",
    );
    let k: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        k,
        [
            "parameters.geslacht.values.M",
            "parameters.geslacht.values.X"
        ]
    );
}

#[test]
fn auto_delivered_and_scopes() {
    let text = r#"
        municipality = "0363"
        [scopes]
        geheim = ""
        [auto_delivered]
        geheim = "everyone"
        inOnderzoek = []
        rni = "some"
    "#;
    assert_eq!(
        keys(text),
        [
            "scopes.geheim",
            "auto_delivered.geheim",
            "auto_delivered.inOnderzoek",
            "auto_delivered.rni"
        ]
    );
}

#[test]
fn syntax_and_structure_errors() {
    for (text, expect) in [
        ("municipality = ", "bad.toml"),
        ("[scopes]\nnationwide = \"x\"", "municipality"),
        ("municipality = \"0363\"\nunknown = 1", "unknown"),
        (
            "municipality = \"0363\"\n[scopes]\nlandelijk = \"x\"",
            "landelijk",
        ),
        (
            "municipality = \"0363\"\n[query_types]\nRaadpleegMetBurgerservicenummer = \"x\"",
            "sequence",
        ),
    ] {
        match BrpPolicy::from_toml_str(text, "bad.toml") {
            Err(e @ BrpError::Syntax { .. }) => {
                let msg = e.to_string();
                assert!(msg.starts_with("bad.toml: "), "{msg}");
                assert!(msg.contains(expect), "{msg}");
            }
            other => panic!("expected a syntax error for {text:?}, got {other:?}"),
        }
    }
    let missing = BrpPolicy::load(Path::new("/nonexistent/brp.toml")).unwrap_err();
    assert!(matches!(missing, BrpError::Read { .. }));
}

#[test]
fn every_problem_is_reported_at_once() {
    let err = BrpPolicy::from_toml_str(
        "municipality = \"9998\"\n[query_types]\nX = [\"a\"]\n[field_sets]\na = [\"nope\"]\n",
        "many.toml",
    )
    .unwrap_err();
    assert_eq!(err.problems().len(), 3);
    let text = err.to_string();
    assert!(
        text.starts_with("invalid BRP policy (3 problems):"),
        "{text}"
    );
    assert!(text.contains("many.toml: field_sets.a[0]: "), "{text}");
}
