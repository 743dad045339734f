//! Decisions: scenarios H1–H3 of `domain/brp.md`, fields, identifiers, deceased persons and
//! parameter value rules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{h_policy, query, scopes};
use serde_json::json;
use sluis_brp::{AutoField, Denial, InvalidParam};

const BSN_QUERY: fn() -> serde_json::Value = || json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": ["naam"]});

fn postcode(gemeente: Option<&str>) -> serde_json::Value {
    let mut b = json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "1234AB", "huisnummer": 1, "fields": ["naam"]});
    if let Some(g) = gemeente {
        b["gemeenteVanInschrijving"] = json!(g);
    }
    b
}

fn denied(r: Result<sluis_brp::Plan, Denial>) -> Denial {
    match r {
        Ok(p) => panic!("expected a denial, got {p:?}"),
        Err(d) => d,
    }
}

// H1: a token without the query type's scope.
#[test]
fn h1_query_type_needs_its_scope() {
    let p = h_policy();
    let d = denied(p.decide(
        &query(postcode(None)),
        &scopes(&["benk-brp-personen-api", "benk-brp-gegevensset-1"]),
    ));
    assert_eq!((d.status, d.code), (403, "permissionDenied"));
    assert_eq!(d.title, "U bent niet geautoriseerd voor deze operatie.");
    assert!(
        !d.detail.contains("benk-brp"),
        "scope names are config, not for clients"
    );
    assert!(
        d.audit_reason
            .contains("benk-brp-zoekvraag-postcode-huisnummer")
    );
}

// H2: automatic fields, and no gegevensset at all.
#[test]
fn h2_automatic_fields_from_the_gegevensset() {
    let p = h_policy();
    let q = query(
        json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "1234AB", "huisnummer": 1}),
    );
    let plan = p
        .decide(
            &q,
            &scopes(&[
                "benk-brp-personen-api",
                "benk-brp-zoekvraag-postcode-huisnummer",
                "benk-brp-gegevensset-1",
            ]),
        )
        .unwrap();
    // gegevensset-1 ∩ PersoonBeperkt, compacted: naam.* → naam; verblijfplaats is not a
    // PersoonBeperkt field; adresseringBinnenland is not granted.
    assert_eq!(
        plan.fields_requested(),
        ["adressering", "geboorte", "geslacht", "leeftijd", "naam"]
    );
    assert!(plan.fields_automatic());
    assert_eq!(
        plan.injected_identifiers(),
        ["burgerservicenummer"],
        "PersoonBeperkt has no aNummer"
    );
    assert_eq!(
        plan.upstream_body()["fields"],
        json!([
            "adressering",
            "geboorte",
            "geslacht",
            "leeftijd",
            "naam",
            "burgerservicenummer"
        ])
    );
}

#[test]
fn h2_automatic_fields_for_a_bsn_lookup_use_the_persoon_list() {
    let p = h_policy();
    let q = query(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"]}),
    );
    let plan = p
        .decide(
            &q,
            &scopes(&[
                "benk-brp-zoekvraag-bsn",
                "benk-brp-gegevensset-1",
                "benk-brp-gegevensset-familie",
            ]),
        )
        .unwrap();
    assert_eq!(
        plan.fields_requested(),
        [
            "adressering",
            "geboorte",
            "geslacht",
            "kinderen.burgerservicenummer",
            "kinderen.naam",
            "leeftijd",
            "naam",
            "ouders",
            "partners",
            "verblijfplaats"
        ]
    );
    assert_eq!(
        plan.injected_identifiers(),
        ["burgerservicenummer", "aNummer"]
    );
}

#[test]
fn h2_no_gegevensset_is_403() {
    let p = h_policy();
    let q = query(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"]}),
    );
    let d = denied(p.decide(
        &q,
        &scopes(&[
            "benk-brp-personen-api",
            "benk-brp-zoekvraag-bsn",
            "benk-brp-gegevensset-foobar",
        ]),
    ));
    assert_eq!((d.status, d.code), (403, "permissionDenied"));
    assert_eq!(
        d.detail,
        "U bent niet geautoriseerd voor een gegevensset bij deze operatie."
    );
    // A set that grants only Persoon fields is no set for a search.
    let q = query(
        json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "1234AB", "huisnummer": 1}),
    );
    let d = denied(p.decide(
        &q,
        &scopes(&[
            "benk-brp-zoekvraag-postcode-huisnummer",
            "benk-brp-gegevensset-familie",
        ]),
    ));
    assert_eq!(
        d.detail,
        "U bent niet geautoriseerd voor een gegevensset bij deze operatie."
    );
}

// H3: the municipality table, all five rows.
#[test]
fn h3_bsn_query_without_nationwide_gets_own_municipality() {
    let plan = h_policy()
        .decide(
            &query(BSN_QUERY()),
            &scopes(&[
                "benk-brp-personen-api",
                "benk-brp-gegevensset-1",
                "benk-brp-zoekvraag-bsn",
            ]),
        )
        .unwrap();
    assert_eq!(
        plan.upstream_body()["gemeenteVanInschrijving"],
        json!("0363")
    );
    assert_eq!(plan.search_municipality(), Some("0363"));
    assert!(
        plan.rewrites()
            .iter()
            .any(|r| r.contains("gemeenteVanInschrijving = 0363"))
    );
}

#[test]
fn h3_bsn_query_with_nationwide_is_not_restricted() {
    let plan = h_policy()
        .decide(
            &query(BSN_QUERY()),
            &scopes(&[
                "benk-brp-personen-api",
                "benk-brp-gegevensset-1",
                "benk-brp-zoekvraag-bsn",
                "benk-brp-landelijk",
            ]),
        )
        .unwrap();
    assert!(
        plan.upstream_body()
            .get("gemeenteVanInschrijving")
            .is_none()
    );
    assert_eq!(plan.search_municipality(), None);
}

#[test]
fn h3_postcode_other_municipality_with_plain_scope_is_403() {
    let d = denied(h_policy().decide(
        &query(postcode(Some("0384"))),
        &scopes(&[
            "benk-brp-personen-api",
            "benk-brp-gegevensset-1",
            "benk-brp-zoekvraag-postcode-huisnummer",
            "benk-brp-landelijk",
        ]),
    ));
    assert_eq!((d.status, d.code), (403, "permissionDenied"));
    assert_eq!(
        d.title,
        "U bent niet geautoriseerd voor gemeenteVanInschrijving = 0384."
    );
    assert_eq!(
        d.invalid_params,
        [InvalidParam::new(
            "gemeenteVanInschrijving",
            "denied",
            "Geen toegang."
        )]
    );
}

#[test]
fn h3_postcode_other_municipality_with_nationwide_postcode_scope_is_allowed() {
    let plan = h_policy()
        .decide(
            &query(postcode(Some("0384"))),
            &scopes(&[
                "benk-brp-personen-api",
                "benk-brp-gegevensset-1",
                "benk-brp-zoekvraag-postcode-huisnummer-landelijk",
                "benk-brp-landelijk",
            ]),
        )
        .unwrap();
    assert_eq!(
        plan.upstream_body()["gemeenteVanInschrijving"],
        json!("0384")
    );
}

#[test]
fn h3_own_municipality_only_type_is_400_even_with_nationwide() {
    let q = query(json!({
        "type": "ZoekMetStraatHuisnummerEnGemeenteVanInschrijving",
        "straat": "Spui", "huisnummer": 70, "gemeenteVanInschrijving": "0384", "fields": ["naam"]
    }));
    let d = denied(h_policy().decide(
        &q,
        &scopes(&[
            "benk-brp-personen-api",
            "benk-brp-gegevensset-1",
            "benk-brp-zoekvraag-straatnaam-huisnummer",
            "benk-brp-landelijk",
        ]),
    ));
    assert_eq!((d.status, d.code), (400, "paramsValidation"));
    assert_eq!(
        d.detail,
        "Het veld 'gemeenteVanInschrijving' ondersteunt niet de waarde(s): 0384."
    );
    assert_eq!(d.invalid_params[0].name, "gemeenteVanInschrijving");
}

#[test]
fn municipality_details() {
    let p = h_policy();
    // The own code explicitly: fine without nationwide, never rewritten.
    let plan = p
        .decide(
            &query(postcode(Some("0363"))),
            &scopes(&[
                "benk-brp-zoekvraag-postcode-huisnummer",
                "benk-brp-gegevensset-1",
            ]),
        )
        .unwrap();
    assert!(
        plan.rewrites()
            .iter()
            .all(|r| !r.contains("gemeenteVanInschrijving"))
    );
    // Postcode search: plain nationwide is not enough to drop the restriction when a
    // postcode-specific nationwide scope is configured.
    let plan = p
        .decide(
            &query(postcode(None)),
            &scopes(&[
                "benk-brp-zoekvraag-postcode-huisnummer",
                "benk-brp-landelijk",
                "benk-brp-gegevensset-1",
            ]),
        )
        .unwrap();
    assert_eq!(
        plan.upstream_body()["gemeenteVanInschrijving"],
        json!("0363")
    );
    let plan = p
        .decide(
            &query(postcode(None)),
            &scopes(&[
                "benk-brp-zoekvraag-postcode-huisnummer-landelijk",
                "benk-brp-gegevensset-1",
            ]),
        )
        .unwrap();
    assert!(
        plan.upstream_body()
            .get("gemeenteVanInschrijving")
            .is_none()
    );
    // Other searches: nationwide lets an explicit other code through.
    let q = query(
        json!({"type": "ZoekMetGeslachtsnaamEnGeboortedatum", "geslachtsnaam": "Jansen", "geboortedatum": "1975-07-30", "gemeenteVanInschrijving": "0599", "fields": ["naam"]}),
    );
    let s = scopes(&[
        "benk-brp-zoekvraag-geslachtsnaam-geboortedatum",
        "benk-brp-gegevensset-1",
    ]);
    assert_eq!(denied(p.decide(&q, &s)).status, 403);
    let mut s2 = s.clone();
    s2.push("benk-brp-landelijk".to_owned());
    assert_eq!(
        p.decide(&q, &s2).unwrap().search_municipality(),
        Some("0599")
    );
}

#[test]
fn fields_beyond_the_sets_are_403_naming_each_field() {
    let q = query(json!({
        "type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": ["999993653"],
        "fields": ["naam.voornamen", "nationaliteiten", "geboorte.datum", "kinderen.geboorte", "verblijfstitel.aanduiding.code"]
    }));
    let d = denied(h_policy().decide(
        &q,
        &scopes(&[
            "benk-brp-zoekvraag-bsn",
            "benk-brp-gegevensset-1",
            "benk-brp-gegevensset-familie",
        ]),
    ));
    assert_eq!((d.status, d.code), (403, "authorization"));
    assert_eq!(
        d.title,
        "U bent niet geautoriseerd voor één of meerdere opgegeven field waarden."
    );
    assert_eq!(
        d.detail,
        "De foutieve fields waarden zijn: nationaliteiten, kinderen.geboorte, verblijfstitel.aanduiding.code."
    );
    assert_eq!(
        d.invalid_params,
        [
            InvalidParam::new("fields[1]", "authorization", "Geen toegang."),
            InvalidParam::new("fields[3]", "authorization", "Geen toegang."),
            InvalidParam::new("fields[4]", "authorization", "Geen toegang."),
        ]
    );
}

#[test]
fn field_coverage_rules() {
    let p = h_policy();
    let s = scopes(&[
        "benk-brp-zoekvraag-bsn",
        "benk-brp-gegevensset-familie",
        "benk-brp-gegevensset-1",
    ]);
    let allowed = |fields: serde_json::Value| {
        let q = query(
            json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": fields}),
        );
        p.decide(&q, &s).is_ok()
    };
    // A group grant covers everything below it, written with or without `.*`.
    assert!(allowed(json!([
        "partners.naam.voornamen",
        "ouders.geboorte.datum.jaar",
        "naam"
    ])));
    // A sub-field of a value delivered whole is judged as that value.
    assert!(allowed(json!([
        "geboorte.datum.langFormaat",
        "geslacht.code"
    ])));
    // kinderen.naam and kinderen.burgerservicenummer are granted, kinderen as a whole is not.
    assert!(allowed(json!([
        "kinderen.naam.voornamen",
        "kinderen.burgerservicenummer"
    ])));
    assert!(!allowed(json!(["kinderen"])));
    assert!(!allowed(json!(["kinderen.geboorte.datum"])));
    // Identifiers need a grant when asked for.
    assert!(!allowed(json!(["burgerservicenummer"])));
    assert!(!allowed(json!(["aNummer"])));
}

#[test]
fn a_group_is_covered_when_all_its_parts_are() {
    let policy = sluis_brp::BrpPolicy::from_toml_str(
        r#"
        municipality = "0363"
        [query_types]
        ZoekMetPostcodeEnHuisnummer = ["z"]
        [field_sets]
        z = ["naam.adellijkeTitelPredicaat", "naam.geslachtsnaam", "naam.volledigeNaam", "naam.voorletters", "naam.voornamen", "naam.voorvoegsel"]
        "#,
        "parts.toml",
    )
    .unwrap();
    let q = query(
        json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "1234AB", "huisnummer": 1}),
    );
    let plan = policy.decide(&q, &scopes(&["z"])).unwrap();
    assert_eq!(
        plan.fields_requested(),
        ["naam"],
        "all PersoonBeperkt parts of naam: compacted"
    );
    // For Persoon, naam has one more part (aanduidingNaamgebruik): not compacted.
    let policy2 = sluis_brp::BrpPolicy::from_toml_str(
        r#"
        municipality = "0363"
        [query_types]
        RaadpleegMetBurgerservicenummer = ["z"]
        [field_sets]
        z = ["naam.adellijkeTitelPredicaat", "naam.geslachtsnaam", "naam.volledigeNaam", "naam.voorletters", "naam.voornamen", "naam.voorvoegsel"]
        "#,
        "parts.toml",
    )
    .unwrap();
    let q = query(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"]}),
    );
    let plan = policy2.decide(&q, &scopes(&["z"])).unwrap();
    assert_eq!(plan.fields_requested().len(), 6);
    let q = query(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": ["naam"]}),
    );
    assert!(policy2.decide(&q, &scopes(&["z"])).is_err());
}

#[test]
fn identifiers_injected_only_when_not_asked() {
    let p = h_policy();
    let s = scopes(&[
        "benk-brp-zoekvraag-bsn",
        "benk-brp-gegevensset-1",
        "benk-brp-gegevensset-ids",
    ]);
    let q = query(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": ["naam", "burgerservicenummer"]}),
    );
    let plan = p.decide(&q, &s).unwrap();
    assert_eq!(plan.injected_identifiers(), ["aNummer"]);
    assert_eq!(plan.fields_requested(), ["naam", "burgerservicenummer"]);
    assert_eq!(
        plan.upstream_body()["fields"],
        json!(["naam", "burgerservicenummer", "aNummer"])
    );
    // With both asked for, nothing is added.
    let q = query(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": ["aNummer", "burgerservicenummer"]}),
    );
    assert!(p.decide(&q, &s).unwrap().injected_identifiers().is_empty());
}

#[test]
fn identifiers_must_fit_in_130_fields() {
    let p = sluis_brp::BrpPolicy::from_toml_str(
        "municipality = \"0363\"\n[query_types]\nRaadpleegMetBurgerservicenummer = [\"z\"]\n[field_sets]\nz = [\"naam\"]\n",
        "t.toml",
    )
    .unwrap();
    let fields: Vec<&str> = std::iter::repeat_n("naam", 129).collect();
    let q = query(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"], "fields": fields}),
    );
    let d = denied(p.decide(&q, &scopes(&["z"])));
    assert_eq!((d.status, d.code), (400, "paramsValidation"));
    assert_eq!(
        d.invalid_params[0].reason,
        "Array bevat meer dan 128 items."
    );
}

#[test]
fn deceased_rules() {
    let p = h_policy();
    let search = |overleden: Option<bool>| {
        let mut b = json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "1234AB", "huisnummer": 1, "fields": ["naam"]});
        if let Some(o) = overleden {
            b["inclusiefOverledenPersonen"] = json!(o);
        }
        query(b)
    };
    let plain = scopes(&[
        "benk-brp-zoekvraag-postcode-huisnummer",
        "benk-brp-gegevensset-1",
    ]);
    let mut with = plain.clone();
    with.push("benk-brp-inclusief-overledenen".to_owned());

    // Injected when held and not sent.
    let plan = p.decide(&search(None), &with).unwrap();
    assert_eq!(
        plan.upstream_body()["inclusiefOverledenPersonen"],
        json!(true)
    );
    // Not injected without the scope.
    assert!(
        p.decide(&search(None), &plain)
            .unwrap()
            .upstream_body()
            .get("inclusiefOverledenPersonen")
            .is_none()
    );
    // An explicit value is kept.
    assert_eq!(
        p.decide(&search(Some(false)), &with)
            .unwrap()
            .upstream_body()["inclusiefOverledenPersonen"],
        json!(false)
    );
    // Explicit true needs the scope; false is always allowed.
    let d = denied(p.decide(&search(Some(true)), &plain));
    assert_eq!(
        (d.status, d.title.as_str()),
        (
            403,
            "U bent niet geautoriseerd voor inclusiefOverledenPersonen = true."
        )
    );
    assert!(p.decide(&search(Some(false)), &plain).is_ok());
    // Never injected for a BSN lookup (which returns deceased persons anyway).
    let bsn_scopes = scopes(&[
        "benk-brp-zoekvraag-bsn",
        "benk-brp-gegevensset-1",
        "benk-brp-inclusief-overledenen",
    ]);
    let plan = p.decide(&query(BSN_QUERY()), &bsn_scopes).unwrap();
    assert!(
        plan.upstream_body()
            .get("inclusiefOverledenPersonen")
            .is_none()
    );
}

#[test]
fn parameter_value_rules() {
    let p = h_policy();
    let s = scopes(&[
        "benk-brp-zoekvraag-geslachtsnaam-geboortedatum",
        "benk-brp-gegevensset-1",
    ]);
    let q = |extra: serde_json::Value| {
        let mut b = json!({"type": "ZoekMetGeslachtsnaamEnGeboortedatum", "geslachtsnaam": "Jansen", "geboortedatum": "1975-07-30", "fields": ["naam"]});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        query(b)
    };
    // "everyone" default.
    assert!(p.decide(&q(json!({"geslacht": "V"})), &s).is_ok());
    // "never" for one value.
    let d = denied(p.decide(&q(json!({"geslacht": "O"})), &s));
    assert_eq!((d.status, d.code), (403, "permissionDenied"));
    assert_eq!(d.title, "U bent niet geautoriseerd voor geslacht = O.");
    assert_eq!(
        d.invalid_params,
        [InvalidParam::new("geslacht", "denied", "Geen toegang.")]
    );
    // No default: listed values only, anything else is unsupported (400).
    assert!(p.decide(&q(json!({"voorvoegsel": "van"})), &s).is_ok());
    let d = denied(p.decide(&q(json!({"voorvoegsel": "ter"})), &s));
    assert_eq!(
        (d.status, d.detail.as_str()),
        (
            400,
            "Het veld 'voorvoegsel' ondersteunt niet de waarde(s): ter."
        )
    );
}

#[test]
fn parameter_rules_with_wildcards_and_lists() {
    let p = h_policy();
    // "huis*" covers huisnummer; the value prefix "9999*" needs a scope.
    let q = |nr: i64| {
        query(
            json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "1234AB", "huisnummer": nr, "fields": ["naam"]}),
        )
    };
    let s = scopes(&[
        "benk-brp-zoekvraag-postcode-huisnummer",
        "benk-brp-gegevensset-1",
    ]);
    assert!(p.decide(&q(12), &s).is_ok());
    let d = denied(p.decide(&q(99991), &s));
    assert_eq!(
        d.title,
        "U bent niet geautoriseerd voor huisnummer = 99991."
    );
    let mut s2 = s.clone();
    s2.push("benk-brp-hoge-nummers".to_owned());
    assert!(p.decide(&q(99991), &s2).is_ok());

    // A list parameter is checked element by element: burgerservicenummer needs the bsn scope,
    // which the caller of the type has anyway; with a policy that denies one value:
    let policy = sluis_brp::BrpPolicy::from_toml_str(
        r#"
        municipality = "0363"
        [query_types]
        RaadpleegMetBurgerservicenummer = ["z"]
        [parameters.burgerservicenummer]
        default = "everyone"
        values = { "999990019" = "never", "1006*" = ["digid-test"] }
        [field_sets]
        z = ["naam"]
        "#,
        "t.toml",
    )
    .unwrap();
    let q = query(
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653", "999990019", "100600505"], "fields": ["naam"]}),
    );
    let d = denied(policy.decide(&q, &scopes(&["z"])));
    assert_eq!(
        d.title,
        "U bent niet geautoriseerd voor burgerservicenummer = 999990019, 100600505."
    );
    let d = denied(policy.decide(&q, &scopes(&["z", "digid-test"])));
    assert_eq!(
        d.title,
        "U bent niet geautoriseerd voor burgerservicenummer = 999990019."
    );
    // A pseudonymous caller never sees a BSN echoed.
    let policy_p = sluis_brp::BrpPolicy::from_toml_str(
        r#"
        municipality = "0363"
        [scopes]
        pseudonymous_bsn = "p"
        [query_types]
        RaadpleegMetBurgerservicenummer = ["z"]
        [parameters.burgerservicenummer]
        default = "everyone"
        values = { "999990019" = "never" }
        [field_sets]
        z = ["naam"]
        "#,
        "t.toml",
    )
    .unwrap();
    let d = denied(policy_p.decide(&q, &scopes(&["z", "p"])));
    assert!(
        !d.title.contains("999990019") && !d.detail.contains("999990019"),
        "{d:?}"
    );
}

#[test]
fn plan_flags() {
    let p = h_policy();
    let plan = p
        .decide(
            &query(BSN_QUERY()),
            &scopes(&["benk-brp-zoekvraag-bsn", "benk-brp-gegevensset-1"]),
        )
        .unwrap();
    assert!(!plan.see_geheim());
    assert!(!plan.pseudonymize());
    assert_eq!(
        plan.auto_flags_allowed(),
        [
            AutoField::InOnderzoek,
            AutoField::OpschortingBijhouding,
            AutoField::Verificatie,
            AutoField::IndicatieVastgesteldVerblijftNietOpAdres
        ]
    );
    let plan = p
        .decide(
            &query(BSN_QUERY()),
            &scopes(&[
                "benk-brp-zoekvraag-bsn",
                "benk-brp-gegevensset-1",
                "benk-brp-inclusief-geheim",
                "benk-brp-encrypt-bsn",
            ]),
        )
        .unwrap();
    assert!(plan.see_geheim() && plan.pseudonymize());
    assert!(
        plan.auto_flags_allowed()
            .contains(&AutoField::GeheimhoudingPersoonsgegevens)
    );
    // The upstream body keeps the client's parameters in order, then sluis's additions.
    let keys: Vec<&String> = plan.upstream_body().as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "type",
            "burgerservicenummer",
            "gemeenteVanInschrijving",
            "fields"
        ]
    );
}

#[test]
fn forbidden_problem_json() {
    let d = denied(h_policy().decide(
        &query(postcode(Some("0384"))),
        &scopes(&[
            "benk-brp-zoekvraag-postcode-huisnummer",
            "benk-brp-gegevensset-1",
        ]),
    ));
    let body = d.to_problem_json("/haalcentraal/api/brp/personen");
    assert_eq!(
        body["type"],
        json!("https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.3")
    );
    assert_eq!(body["status"], json!(403));
    assert_eq!(
        body["invalidParams"],
        json!([{"name": "gemeenteVanInschrijving", "code": "denied", "reason": "Geen toegang."}])
    );
}
