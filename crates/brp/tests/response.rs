//! Response filtering: geheimhouding (H4), identifiers injected and stripped, flags, subjects
//! and delivered fields.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{h_policy, query, scopes};
use serde_json::{Value, json};
use sluis_brp::{AutoField, Plan, Relation, Subject, SubjectRole, WithheldPerson};

fn plan(body: Value, s: &[&str]) -> Plan {
    h_policy().decide(&query(body), &scopes(s)).unwrap()
}

fn postcode_plan(extra: &[&str]) -> Plan {
    let mut s = vec![
        "benk-brp-zoekvraag-postcode-huisnummer",
        "benk-brp-gegevensset-1",
    ];
    s.extend_from_slice(extra);
    plan(
        json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "1234AB", "huisnummer": 1}),
        &s,
    )
}

fn foo_bar() -> Value {
    json!({
        "type": "ZoekMetPostcodeEnHuisnummer",
        "personen": [
            {"burgerservicenummer": "999993653", "naam": {"voornamen": "Foo"}, "leeftijd": 40},
            {"burgerservicenummer": "999990639", "naam": {"voornamen": "Bar"}, "geheimhoudingPersoonsgegevens": true}
        ]
    })
}

// H4: persons with geheimhouding withheld unless the scope allows them.
#[test]
fn h4_geheim_persons_withheld_and_counted() {
    let p = postcode_plan(&[]);
    let mut body = foo_bar();
    let s = common::filter(&p, &mut body);
    assert_eq!(body["personen"].as_array().unwrap().len(), 1);
    assert_eq!(body["personen"][0]["naam"]["voornamen"], json!("Foo"));
    assert_eq!(s.withheld, 1);
    assert_eq!(
        s.withheld_persons,
        [WithheldPerson {
            burgerservicenummer: Some("999990639".into()),
            a_nummer: None
        }]
    );
    assert_eq!(s.persons.len(), 1);
    assert_eq!(
        s.persons[0].burgerservicenummer.as_deref(),
        Some("999993653")
    );
    assert_eq!(s.persons[0].role, SubjectRole::GevondenInZoekresultaat);
}

#[test]
fn h4_geheim_persons_delivered_with_the_scope() {
    let p = postcode_plan(&["benk-brp-inclusief-geheim"]);
    let mut body = foo_bar();
    let s = common::filter(&p, &mut body);
    assert_eq!(s.withheld, 0);
    assert_eq!(s.persons.len(), 2);
    assert!(s.persons[1].flags.geheim);
    // The flag itself is allowed to this caller by [auto_delivered].
    assert_eq!(
        body["personen"][1]["geheimhoudingPersoonsgegevens"],
        json!(true)
    );
}

#[test]
fn geheim_indicator_fails_closed() {
    let p = postcode_plan(&[]);
    for (v, withheld) in [
        (json!(true), true),
        (json!("1"), true),
        (json!(7), true),
        (json!("ja"), true),
        (json!({}), true),
        (json!(false), false),
        (json!(0), false),
        (json!("0"), false),
        (json!(null), false),
    ] {
        let mut body = json!({"personen": [{"burgerservicenummer": "999993653", "geheimhoudingPersoonsgegevens": v}]});
        assert_eq!(common::filter(&p, &mut body).withheld == 1, withheld, "{v}");
    }
}

#[test]
fn identifiers_injected_are_read_then_stripped() {
    // The client asked only for naam; sluis added burgerservicenummer and aNummer.
    let p = plan(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": ["naam"]}),
        &["benk-brp-zoekvraag-bsn", "benk-brp-gegevensset-1"],
    );
    assert_eq!(p.injected_identifiers(), ["burgerservicenummer", "aNummer"]);
    let mut body = json!({
        "type": "RaadpleegMetBurgerservicenummer",
        "personen": [{
            "aNummer": "8940402024",
            "burgerservicenummer": "999993653",
            "naam": {"voornamen": "Suzanne", "geslachtsnaam": "Moulin"},
            "inOnderzoek": {"burgerservicenummer": true, "datumIngangOnderzoekPersoon": {"datum": "2020-01-01"}}
        }]
    });
    let s = common::filter(&p, &mut body);
    let person = &body["personen"][0];
    assert!(person.get("burgerservicenummer").is_none());
    assert!(person.get("aNummer").is_none());
    // The investigation qualified only the identifier sluis added: nothing it qualifies is
    // left, so no orphaned start date remains.
    assert!(person.get("inOnderzoek").is_none(), "{person}");
    assert_eq!(
        s.persons[0].burgerservicenummer.as_deref(),
        Some("999993653")
    );
    assert_eq!(s.persons[0].a_nummer.as_deref(), Some("8940402024"));
    assert_eq!(s.persons[0].role, SubjectRole::Geraadpleegd);
    assert!(s.persons[0].flags.in_onderzoek);
    assert_eq!(s.fields_delivered, ["naam.geslachtsnaam", "naam.voornamen"]);
    assert_eq!(
        s.subjects(),
        [Subject {
            burgerservicenummer: "999993653".into(),
            a_nummer: Some("8940402024".into()),
            role: SubjectRole::Geraadpleegd
        }]
    );
}

#[test]
fn identifiers_asked_for_stay() {
    let p = plan(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": ["naam", "burgerservicenummer"]}),
        &[
            "benk-brp-zoekvraag-bsn",
            "benk-brp-gegevensset-1",
            "benk-brp-gegevensset-ids",
        ],
    );
    let mut body = json!({"personen": [{"aNummer": "8940402024", "burgerservicenummer": "999993653", "naam": {}}]});
    common::filter(&p, &mut body);
    assert_eq!(
        body["personen"][0],
        json!({"burgerservicenummer": "999993653", "naam": {}})
    );
}

#[test]
fn auto_flags_removed_for_callers_without_them() {
    let p = plan(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": ["naam", "verblijfplaats"]}),
        &[
            "benk-brp-zoekvraag-bsn",
            "benk-brp-gegevensset-1",
            "benk-brp-inclusief-geheim",
        ],
    );
    let mut body = json!({"personen": [{
        "burgerservicenummer": "999993653",
        "naam": {"voornamen": "X", "inOnderzoek": {"voornamen": true}},
        "geheimhoudingPersoonsgegevens": true,
        "rni": [{"deelnemer": {"code": "0101"}}],
        "verblijfplaats": {"type": "Adres", "indicatieVastgesteldVerblijftNietOpAdres": true},
        "opschortingBijhouding": {"reden": {"code": "F"}}
    }]});
    let s = common::filter(&p, &mut body);
    let person = &body["personen"][0];
    // rni needs benk-brp-rni; the rest are allowed to this caller.
    assert!(person.get("rni").is_none());
    assert_eq!(person["geheimhoudingPersoonsgegevens"], json!(true));
    assert_eq!(person["naam"]["inOnderzoek"], json!({"voornamen": true}));
    assert_eq!(
        person["verblijfplaats"]["indicatieVastgesteldVerblijftNietOpAdres"],
        json!(true)
    );
    assert_eq!(s.flags_removed, [AutoField::Rni]);
    assert!(s.persons[0].flags.in_onderzoek);
    assert!(!s.persons[0].flags.overleden);

    // A policy that gives inOnderzoek to no one removes it at every depth.
    let policy = sluis_brp::BrpPolicy::from_toml_str(
        "municipality = \"0363\"\n[query_types]\nRaadpleegMetBurgerservicenummer = [\"z\"]\n[field_sets]\nz = [\"naam\"]\n[auto_delivered]\ninOnderzoek = \"never\"\n",
        "t.toml",
    )
    .unwrap();
    let q = query(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"]}),
    );
    let p = policy.decide(&q, &scopes(&["z"])).unwrap();
    let mut body = json!({"personen": [{"naam": {"voornamen": "X", "inOnderzoek": {"voornamen": true}}, "inOnderzoek": {"x": true}}]});
    let s = common::filter(&p, &mut body);
    assert_eq!(body["personen"][0], json!({"naam": {"voornamen": "X"}}));
    assert!(s.persons[0].flags.in_onderzoek, "read before removal");
}

#[test]
fn deceased_and_outside_municipality_flags() {
    let p = plan(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653", "999990639", "999991425"], "fields": ["naam"]}),
        &[
            "benk-brp-zoekvraag-bsn",
            "benk-brp-gegevensset-1",
            "benk-brp-landelijk",
        ],
    );
    let mut body = json!({"personen": [
        {"burgerservicenummer": "999993653", "opschortingBijhouding": {"reden": {"code": "O", "omschrijving": "overlijden"}},
         "gemeenteVanInschrijving": {"code": "0599", "omschrijving": "Rotterdam"}},
        {"burgerservicenummer": "999990639", "overlijden": {"datum": {"type": "Datum", "datum": "2001-01-01"}},
         "gemeenteVanInschrijving": {"code": "0363", "omschrijving": "Amsterdam"}},
        {"burgerservicenummer": "999991425"}
    ]});
    let s = common::filter(&p, &mut body);
    let flags: Vec<_> = s
        .persons
        .iter()
        .map(|p| (p.flags.overleden, p.flags.buiten_gemeente))
        .collect();
    assert_eq!(
        flags,
        [(true, Some(true)), (true, Some(false)), (false, None)]
    );

    // A search restricted to the own municipality: everyone found lives there.
    let p = postcode_plan(&[]);
    let mut body = json!({"personen": [{"burgerservicenummer": "999993653"}]});
    assert_eq!(
        common::filter(&p, &mut body).persons[0]
            .flags
            .buiten_gemeente,
        Some(false)
    );
}

#[test]
fn related_persons_become_gerelateerd_subjects() {
    let p = plan(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": ["partners", "ouders", "kinderen.burgerservicenummer"]}),
        &["benk-brp-zoekvraag-bsn", "benk-brp-gegevensset-familie"],
    );
    let mut body = json!({"personen": [{
        "burgerservicenummer": "999993653",
        "partners": [{"burgerservicenummer": "999993239", "naam": {"voornamen": "Johanna"}}],
        "ouders": [{"burgerservicenummer": "999991425"}, {"burgerservicenummer": "999994803"}, {"naam": {}}],
        "kinderen": [{"burgerservicenummer": "999992387"}],
        "gezag": [{"type": "GezamenlijkOuderlijkGezag", "ouders": [{"burgerservicenummer": "999991425"}], "minderjarige": {"burgerservicenummer": "999992387"}}]
    }]});
    let s = common::filter(&p, &mut body);
    let related: Vec<(&str, Relation)> = s.persons[0]
        .related
        .iter()
        .map(|r| (r.burgerservicenummer.as_str(), r.relation))
        .collect();
    assert_eq!(
        related,
        [
            ("999993239", Relation::Partner),
            ("999991425", Relation::Ouder),
            ("999994803", Relation::Ouder),
            ("999992387", Relation::Kind),
            ("999991425", Relation::Gezag),
            ("999992387", Relation::Gezag),
        ]
    );
    let subjects: Vec<(String, SubjectRole)> = s
        .subjects()
        .into_iter()
        .map(|s| (s.burgerservicenummer, s.role))
        .collect();
    assert_eq!(
        subjects,
        [
            ("999993653".into(), SubjectRole::Geraadpleegd),
            ("999993239".into(), SubjectRole::Gerelateerd),
            ("999991425".into(), SubjectRole::Gerelateerd),
            ("999994803".into(), SubjectRole::Gerelateerd),
            ("999992387".into(), SubjectRole::Gerelateerd),
        ]
    );
    assert_eq!(
        SubjectRole::GevondenInZoekresultaat.as_str(),
        "gevonden-in-zoekresultaat"
    );
}

#[test]
fn odd_bodies() {
    let p = postcode_plan(&[]);
    let mut body = json!({"type": "x"});
    assert_eq!(common::filter(&p, &mut body), Default::default());
    let mut body = json!({"personen": [1, "x", null, {"burgerservicenummer": 999993653_u64}]});
    let s = common::filter(&p, &mut body);
    assert_eq!(
        body["personen"].as_array().unwrap().len(),
        1,
        "non-objects are not persons"
    );
    assert_eq!(
        s.persons[0].burgerservicenummer.as_deref(),
        Some("999993653")
    );
}

#[test]
fn what_the_upstream_sends_beyond_the_grant_is_stripped_and_counted() {
    let p = plan(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": ["naam.voornamen"]}),
        &["benk-brp-zoekvraag-bsn", "benk-brp-gegevensset-1"],
    );
    let mut body = json!({
        "type": "RaadpleegMetBurgerservicenummer",
        "personen": [{
            "burgerservicenummer": "999993653",
            "naam": {"voornamen": "Suzanne", "geslachtsnaam": "Moulin",
                     "inOnderzoek": {"geslachtsnaam": true, "datumIngangOnderzoek": {"datum": "2020-01-01"}}},
            "verblijfplaats": {"type": "Adres", "verblijfadres": {"officieleStraatnaam": "Dam"}},
            "nationaliteiten": [{"nationaliteit": {"code": "0001"}}]
        }]
    });
    let s = common::filter(&p, &mut body);
    let person = &body["personen"][0];
    assert_eq!(person["naam"], json!({"voornamen": "Suzanne"}), "{person}");
    assert!(person.get("verblijfplaats").is_none(), "{person}");
    assert!(person.get("nationaliteiten").is_none(), "{person}");
    assert_eq!(s.stripped, 3, "{:?}", s.stripped_fields);
    assert_eq!(
        s.stripped_fields,
        ["naam.geslachtsnaam", "nationaliteiten", "verblijfplaats"]
    );
    assert_eq!(s.fields_delivered, ["naam.voornamen"]);
    // What was read for the record is still known.
    assert_eq!(
        s.persons[0].burgerservicenummer.as_deref(),
        Some("999993653")
    );
}

/// The dotted paths of a value's leaves (array items share their array's path; an empty object
/// or array is a leaf).
fn leaf_paths(v: &Value, path: String, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                leaf_paths(v, format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                leaf_paths(item, path.clone(), out);
            }
        }
        _ => {
            out.insert(path);
        }
    }
}

proptest::proptest! {
    /// Whatever extra fields the upstream adds to a person, nothing outside the grant leaves.
    #[test]
    fn nothing_outside_the_grant_leaves(
        extra in proptest::collection::btree_map("[a-z]{1,8}", "[a-z]{0,5}", 0..8),
        nested in proptest::collection::btree_map("[a-z]{1,8}", "[a-z]{0,5}", 0..5),
        datums in proptest::collection::vec("[0-9-]{0,10}", 0..4),
    ) {
        let p = plan(
            json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": ["naam.voornamen", "geboorte"]}),
            &["benk-brp-zoekvraag-bsn", "benk-brp-gegevensset-1"],
        );
        let mut person = serde_json::Map::new();
        person.insert("burgerservicenummer".into(), json!("999993653"));
        let mut naam = serde_json::Map::new();
        naam.insert("voornamen".into(), json!("Suzanne"));
        for (k, v) in &nested {
            naam.insert(k.clone(), json!(v));
        }
        person.insert("naam".into(), serde_json::Value::Object(naam));
        person.insert("geboorte".into(), json!({
            "datum": {"type": "Datum", "datum": "1980-01-01"},
            "plaats": {},
            "datums": datums,
            "lijst": [{"a": 1}, {"b": [], "a": {"c": null}}, 3],
        }));
        for (k, v) in &extra {
            person.entry(k.clone()).or_insert(json!(v));
        }
        let mut body = json!({"type": "RaadpleegMetBurgerservicenummer", "personen": [person]});
        let s = common::filter(&p, &mut body);
        for path in &s.fields_delivered {
            proptest::prop_assert!(
                path == "naam.voornamen" || path.starts_with("geboorte"),
                "{} delivered outside the grant", path
            );
        }
        // The paths listed are the leaves of what is delivered, each once, sorted.
        let mut leaves = std::collections::BTreeSet::new();
        for person in body["personen"].as_array().unwrap() {
            for (k, v) in person.as_object().unwrap() {
                leaf_paths(v, k.clone(), &mut leaves);
            }
        }
        proptest::prop_assert_eq!(&s.fields_delivered, &leaves.into_iter().collect::<Vec<_>>());
        let out = &body["personen"][0];
        let keys: Vec<&String> = out.as_object().map(|m| m.keys().collect()).unwrap_or_default();
        for k in keys {
            proptest::prop_assert!(k == "naam" || k == "geboorte" || k == "type", "{}", k);
        }
    }
}
