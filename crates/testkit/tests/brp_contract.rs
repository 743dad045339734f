//! Contract tests: what the BRP fixture sends conforms to the BRP Personen OpenAPI document,
//! `brp/openapi.yaml` of the reference folder (read at test time; the tests are skipped, saying
//! so, when it is missing).

#![cfg(test)]

mod brp_support;

use brp_support::{OPENAPI, assert_problem, fixture, post, spec};
use serde_json::{Value, json};
use sluis_testkit::brp::{BrpStatus, QUERY_TYPES};
use sluis_testkit::require_reference;

#[test]
fn the_reference_document_loads() {
    require_reference!(OPENAPI);
    let spec = spec();
    assert_eq!(spec.version(), Some("2.7.0"));
    assert_eq!(spec.document()["info"]["version"], "2.7.0");
    for schema in [
        "PersonenQueryResponse",
        "Persoon",
        "PersoonBeperkt",
        "Foutbericht",
    ] {
        assert!(
            spec.document()["components"]["schemas"]
                .get(schema)
                .is_some(),
            "{schema}"
        );
    }
}

/// `Spec::from_value` refuses a document with a pattern it cannot evaluate, so loading the
/// reference proves every one of its patterns compiles.
#[test]
fn the_reference_patterns_are_supported() {
    require_reference!(OPENAPI);
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    if k == "pattern"
                        && let Some(p) = v.as_str()
                    {
                        out.push(p.to_owned());
                    } else {
                        walk(v, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut patterns = Vec::new();
    walk(spec().document(), &mut patterns);
    assert!(patterns.len() > 30, "{}", patterns.len());
}

#[test]
fn lookahead_and_discriminator() {
    require_reference!(OPENAPI);
    let spec = spec();
    assert!(
        spec.check(
            "NummeraanduidingIdentificatieFilter",
            &json!("0363200000000001")
        )
        .is_ok()
    );
    assert!(
        spec.check(
            "NummeraanduidingIdentificatieFilter",
            &json!("0000000000000000")
        )
        .is_err()
    );
    assert!(
        spec.check(
            "AbstractDatum",
            &json!({"type": "Datum", "datum": "2012-09-20", "langFormaat": "20 september 2012"})
        )
        .is_ok()
    );
    let err = spec
        .check(
            "AbstractDatum",
            &json!({"type": "Datum", "datum": "2012-13-20", "langFormaat": "x", "extra": 1}),
        )
        .unwrap_err();
    assert_eq!(err.len(), 2, "{err:?}");
    assert!(
        spec.check(
            "AbstractDatum",
            &json!({"type": "Bestaat", "langFormaat": "x"})
        )
        .is_err()
    );
}

const ALL_PERSOON: &[&str] = &[
    "aNummer",
    "adressering",
    "burgerservicenummer",
    "datumEersteInschrijvingGBA",
    "datumInschrijvingInGemeente",
    "europeesKiesrecht",
    "geboorte",
    "gemeenteVanInschrijving",
    "geslacht",
    "gezag",
    "immigratie",
    "indicatieCurateleRegister",
    "kinderen",
    "leeftijd",
    "naam",
    "nationaliteiten",
    "ouders",
    "overlijden",
    "partners",
    "uitsluitingKiesrecht",
    "verblijfplaats",
    "verblijfstitel",
];
const ALL_BEPERKT: &[&str] = &[
    "adressering",
    "burgerservicenummer",
    "geboorte",
    "geslacht",
    "leeftijd",
    "naam",
];

fn with_gezag() -> Vec<&'static str> {
    [ALL_BEPERKT, &["gezag"]].concat()
}

fn assert_conforms(body: &Value) {
    if let Err(errors) = spec().check_response(body) {
        panic!("{errors:#?}\n{body:#}");
    }
}

#[tokio::test]
async fn raadpleeg_responses_conform() {
    require_reference!(OPENAPI);
    let fx = fixture().await;
    let d = fx.data();
    // Every unusual person, and a sample of the others, 20 per request.
    let chosen: Vec<String> = d
        .persons()
        .iter()
        .enumerate()
        .filter(|(i, p)| {
            p.status() != BrpStatus::Resident
                || p.is_geheim()
                || p.is_in_onderzoek()
                || p.geboortedatum().is_none()
                || i % 25 == 0
        })
        .map(|(_, p)| p.bsn().to_owned())
        .collect();
    assert!(chosen.len() > 800, "{}", chosen.len());
    for chunk in chosen.chunks(20) {
        let resp = post(
            &fx.personen_url(),
            &json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": chunk,
                    "fields": ALL_PERSOON}),
        )
        .await;
        assert_eq!(resp.personen().len(), chunk.len());
        assert_conforms(&resp.json());
    }
}

#[tokio::test]
async fn every_query_type_conforms() {
    require_reference!(OPENAPI);
    let fx = fixture().await;
    let d = fx.data();
    let k = d.known();
    let fam = &k.family;
    let mother = d.person(&fam.parents[0]).unwrap();
    let bodies = [
        json!({"type": QUERY_TYPES[0], "burgerservicenummer": [fam.parents[0]],
               "fields": ALL_PERSOON}),
        json!({"type": QUERY_TYPES[1], "geslachtsnaam": mother.geslachtsnaam(),
               "geboortedatum": mother.geboortedatum().unwrap().iso(), "fields": ALL_BEPERKT}),
        json!({"type": QUERY_TYPES[2], "geslachtsnaam": mother.geslachtsnaam(),
               "voornamen": mother.voornamen(), "gemeenteVanInschrijving": "0363",
               "inclusiefOverledenPersonen": true, "fields": ALL_BEPERKT}),
        json!({"type": QUERY_TYPES[3], "postcode": fam.address.postcode,
               "huisnummer": fam.address.huisnummer, "fields": ALL_BEPERKT}),
        json!({"type": QUERY_TYPES[4], "straat": fam.address.straat,
               "huisnummer": fam.address.huisnummer, "gemeenteVanInschrijving": "0363",
               "fields": ALL_BEPERKT}),
        json!({"type": QUERY_TYPES[5],
               "nummeraanduidingIdentificatie": fam.address.nummeraanduiding_identificatie,
               "fields": ALL_BEPERKT}),
        json!({"type": QUERY_TYPES[6],
               "adresseerbaarObjectIdentificatie": fam.address.adresseerbaar_object_identificatie,
               "fields": with_gezag()}),
    ];
    for body in bodies {
        let resp = post(&fx.personen_url(), &body).await;
        let value = resp.json();
        assert_eq!(value["type"], body["type"]);
        assert!(!resp.personen().is_empty(), "{body}");
        assert_conforms(&value);
    }
}

#[tokio::test]
async fn address_searches_conform() {
    require_reference!(OPENAPI);
    let fx = fixture().await;
    let d = fx.data();
    let mut checked = 0;
    for a in d.addresses().iter().step_by(9).take(300) {
        let resp = post(
            &fx.personen_url(),
            &json!({"type": "ZoekMetAdresseerbaarObjectIdentificatie",
                    "adresseerbaarObjectIdentificatie": a.adresseerbaar_object_identificatie,
                    "inclusiefOverledenPersonen": true,
                    "fields": with_gezag()}),
        )
        .await;
        if resp.status == 200 {
            assert_conforms(&resp.json());
            checked += 1;
        }
    }
    assert!(checked > 250, "{checked}");
}

#[tokio::test]
async fn problems_have_the_foutbericht_shape() {
    require_reference!(OPENAPI);
    let fx = fixture().await;
    let k = fx.data().known();
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": k.crowded_address.postcode,
                "huisnummer": k.crowded_address.huisnummer, "fields": ["burgerservicenummer"]}),
    )
    .await;
    let too_many = assert_problem(&resp, 400, "tooManyResults");
    spec().check("Foutbericht", &too_many).unwrap();
    // RvIG's own paramsValidation texts ("zijn: fields[0].") do not match the document's
    // `detail`, `name` and `reason` patterns; the rest of the shape must.
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["1"],
                "fields": ["bestaatNiet"]}),
    )
    .await;
    let mut p = assert_problem(&resp, 400, "paramsValidation");
    p.as_object_mut().unwrap().remove("detail");
    for ip in p["invalidParams"].as_array_mut().unwrap() {
        let m = ip.as_object_mut().unwrap();
        m.remove("name");
        m.remove("reason");
    }
    spec().check("BadRequestFoutbericht", &p).unwrap();
}

/// Without the reference folder the contract tests are skipped, naming the file and the
/// variable; they never fail for it.
#[test]
fn a_missing_reference_document_is_a_skip() {
    let base = std::path::Path::new("/nonexistent/shared/reference");
    let skip = sluis_testkit::reference::path_in(base, OPENAPI).unwrap_err();
    assert_eq!(
        skip.to_string(),
        "reference file /nonexistent/shared/reference/brp/openapi.yaml not found \
         (set SLUIS_REFERENCE_DIR)"
    );
}

/// A document that is there but unreadable as YAML fails the test loudly.
#[test]
#[should_panic(expected = "not YAML")]
fn a_broken_reference_document_fails_loudly() {
    struct Removed(std::path::PathBuf);
    impl Drop for Removed {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let path =
        std::env::temp_dir().join(format!("sluis-broken-openapi-{}.yaml", std::process::id()));
    let file = Removed(path.clone());
    std::fs::write(&file.0, "a: [unclosed\n").unwrap();
    brp_support::load_spec(&path);
}
