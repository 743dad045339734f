//! The BRP fixture over real HTTP: the seven query types, `fields`, the search limit,
//! deceased and confidential persons.

#![cfg(test)]

mod brp_support;

use brp_support::{assert_problem, data, fixture, fixture_with, post};
use serde_json::{Value, json};
use sluis_testkit::brp::{BrpFixtureConfig, BrpPerson, BrpStatus};

/// Every top-level `Persoon` field (aliases excluded): the response then equals the full item.
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

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn bsns<'a>(persons: impl IntoIterator<Item = &'a BrpPerson>) -> Vec<String> {
    sorted(persons.into_iter().map(|p| p.bsn().to_owned()).collect())
}

#[tokio::test]
async fn raadpleeg_returns_persoon_in_request_order() {
    let fx = fixture().await;
    let d = fx.data();
    let resp = post(
        &fx.personen_url(),
        &json!({
            "type": "RaadpleegMetBurgerservicenummer",
            "burgerservicenummer": ["999993653"],
            "fields": ["burgerservicenummer", "naam.voornamen", "geboorte.datum"],
        }),
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.content_type(), "application/json; charset=utf-8");
    assert_eq!(
        resp.json(),
        json!({
            "type": "RaadpleegMetBurgerservicenummer",
            "personen": [{
                "burgerservicenummer": "999993653",
                "naam": {"voornamen": "Suzanne"},
                "geboorte": {"datum": {"type": "Datum", "datum": "1985-12-01",
                                       "langFormaat": "1 december 1985"}},
            }],
        })
    );
    // Up to 20, unknown BSNs skipped, duplicates once, request order kept.
    let family = &d.known().family;
    let mut asked: Vec<String> = family.children.clone();
    asked.push("123456782".into());
    asked.push(family.parents[1].clone());
    asked.push(family.children[0].clone());
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": asked,
                "fields": ["burgerservicenummer"]}),
    )
    .await;
    let got: Vec<Value> = resp.personen();
    assert_eq!(
        got,
        [
            json!({"burgerservicenummer": family.children[0]}),
            json!({"burgerservicenummer": family.children[1]}),
            json!({"burgerservicenummer": family.parents[1]}),
        ]
    );
}

#[tokio::test]
async fn all_fields_give_the_complete_persoon() {
    let fx = fixture().await;
    let d = fx.data();
    let k = d.known();
    let unusual: Vec<&BrpPerson> = [
        BrpStatus::Deceased,
        BrpStatus::Emigrated,
        BrpStatus::Rni,
        BrpStatus::Unknown,
    ]
    .iter()
    .flat_map(|s| d.persons().iter().filter(move |p| p.status() == *s).take(3))
    .chain(d.persons().iter().filter(|p| p.is_in_onderzoek()).take(4))
    .take(16)
    .collect();
    let mut asked: Vec<String> = unusual.iter().map(|p| p.bsn().to_owned()).collect();
    asked.push(k.suzanne_moulin.clone());
    asked.extend(k.family.parents.iter().cloned());
    asked.truncate(20);
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": asked,
                "fields": ALL_PERSOON}),
    )
    .await;
    let personen = resp.personen();
    assert_eq!(personen.len(), asked.len());
    for (bsn, p) in asked.iter().zip(&personen) {
        assert_eq!(p, &d.persoon_json(bsn).unwrap(), "{bsn}");
    }
}

#[tokio::test]
async fn zoek_met_geslachtsnaam_en_geboortedatum() {
    let fx = fixture().await;
    let d = fx.data();
    let p = d
        .persons()
        .iter()
        .find(|p| p.geslachtsnaam() == "Çelik" && p.geboortedatum().is_some() && !p.is_deceased())
        .unwrap();
    let date = p.geboortedatum().unwrap().iso();
    let same = |q: &&BrpPerson| {
        q.geboortedatum().map(|d| d.iso()) == Some(date.clone())
            && q.geslachtsnaam() == "Çelik"
            && !q.is_deceased()
    };
    let expected = bsns(d.persons().iter().filter(same));
    // Without the diacritic, in lower case.
    for name in ["celik", "ÇELIK", "Çel*", "cel*"] {
        let resp = post(
            &fx.personen_url(),
            &json!({"type": "ZoekMetGeslachtsnaamEnGeboortedatum", "geslachtsnaam": name,
                    "geboortedatum": date, "fields": ["burgerservicenummer"]}),
        )
        .await;
        assert_eq!(resp.bsns(), expected, "{name}");
    }
    // Optional filters narrow the search.
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "ZoekMetGeslachtsnaamEnGeboortedatum", "geslachtsnaam": "celik",
                "geboortedatum": date, "voornamen": p.voornamen(), "geslacht": p.geslacht(),
                "fields": ALL_BEPERKT}),
    )
    .await;
    let personen = resp.personen();
    assert!(
        personen
            .iter()
            .any(|x| x == &d.persoon_beperkt_json(p.bsn()).unwrap())
    );
    // A PersoonBeperkt has no aNummer to ask for.
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "ZoekMetGeslachtsnaamEnGeboortedatum", "geslachtsnaam": "celik",
                "geboortedatum": date, "fields": ["burgerservicenummer", "aNummer"]}),
    )
    .await;
    let problem = assert_problem(&resp, 400, "paramsValidation");
    assert_eq!(problem["invalidParams"][0]["name"], "fields[1]");
}

#[tokio::test]
async fn zoek_met_naam_en_gemeente_van_inschrijving() {
    let fx = fixture().await;
    let d = fx.data();
    let p = d.person(&d.known().family.parents[0]).unwrap();
    let expected = bsns(d.persons().iter().filter(|q| {
        q.geslachtsnaam() == p.geslachtsnaam()
            && q.voornamen() == p.voornamen()
            && q.gemeente_van_inschrijving() == "0363"
            && !q.is_deceased()
    }));
    assert!(expected.contains(&p.bsn().to_owned()));
    let body = json!({"type": "ZoekMetNaamEnGemeenteVanInschrijving",
        "geslachtsnaam": p.geslachtsnaam().to_uppercase(), "voornamen": p.voornamen(),
        "gemeenteVanInschrijving": "0363", "fields": ["burgerservicenummer", "naam"]});
    let resp = post(&fx.personen_url(), &body).await;
    assert_eq!(resp.bsns(), expected);
    // The same person is not found in another municipality.
    let mut other = body.clone();
    other["gemeenteVanInschrijving"] = json!("0599");
    let resp = post(&fx.personen_url(), &other).await;
    assert!(!resp.bsns().contains(&p.bsn().to_owned()));
}

#[tokio::test]
async fn zoek_met_postcode_en_huisnummer() {
    let fx = fixture().await;
    let d = fx.data();
    let fam = &d.known().family;
    let mut everyone: Vec<String> = fam.parents.clone();
    everyone.extend(fam.children.iter().cloned());
    let pc = &fam.address.postcode;
    let spaced = format!("{} {}", &pc[..4], pc[4..].to_lowercase());
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": spaced,
                "huisnummer": fam.address.huisnummer, "fields": ["burgerservicenummer"]}),
    )
    .await;
    assert_eq!(resp.bsns(), sorted(everyone));
    // Units: huisletter and toevoeging narrow the search.
    let units = &d.known().split_units;
    let url = fx.personen_url();
    let search = |extra: Value| {
        let mut body = json!({"type": "ZoekMetPostcodeEnHuisnummer",
            "postcode": units[0].postcode, "huisnummer": units[0].huisnummer,
            "fields": ["burgerservicenummer"]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let url = url.clone();
        async move { post(&url, &body).await.bsns() }
    };
    let all: Vec<String> = sorted(units.iter().flat_map(|u| u.living.clone()).collect());
    assert_eq!(all.len(), 5);
    assert_eq!(search(json!({})).await, all);
    assert_eq!(
        search(json!({"huisletter": "a"})).await,
        sorted(units[0].living.clone())
    );
    let b: Vec<String> = sorted(units[1..].iter().flat_map(|u| u.living.clone()).collect());
    assert_eq!(search(json!({"huisletter": "B"})).await, b);
    assert_eq!(
        search(json!({"huisletter": "B", "huisnummertoevoeging": "2"})).await,
        sorted(units[2].living.clone())
    );
    // Optional geslachtsnaam and geboortedatum.
    let one = d.person(&units[2].living[0]).unwrap();
    let got = search(json!({"geslachtsnaam": one.geslachtsnaam(),
        "geboortedatum": one.geboortedatum().unwrap().iso()}))
    .await;
    assert!(got.contains(&one.bsn().to_owned()));
    assert!(got.len() < all.len());
    // Nobody lives at an unknown address: 200 with an empty list.
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "9999ZZ", "huisnummer": 1,
                "fields": ["burgerservicenummer"]}),
    )
    .await;
    assert_eq!(
        resp.json(),
        json!({"type": "ZoekMetPostcodeEnHuisnummer", "personen": []})
    );
}

#[tokio::test]
async fn zoek_met_straat_huisnummer_en_gemeente() {
    let fx = fixture().await;
    let d = fx.data();
    let fam = &d.known().family;
    let mut everyone: Vec<String> = fam.parents.clone();
    everyone.extend(fam.children.iter().cloned());
    let everyone = sorted(everyone);
    for straat in ["Tulpenlaan", "tulpenlaan", "Tulpenl*", "*ulpenlaan"] {
        let resp = post(
            &fx.personen_url(),
            &json!({"type": "ZoekMetStraatHuisnummerEnGemeenteVanInschrijving",
                    "straat": straat, "huisnummer": 23, "gemeenteVanInschrijving": "0363",
                    "fields": ["burgerservicenummer"]}),
        )
        .await;
        assert_eq!(resp.bsns(), everyone, "{straat}");
    }
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "ZoekMetStraatHuisnummerEnGemeenteVanInschrijving",
                "straat": "Tulpenlaan", "huisnummer": 23, "gemeenteVanInschrijving": "0599",
                "fields": ["burgerservicenummer"]}),
    )
    .await;
    assert!(resp.personen().is_empty());
}

#[tokio::test]
async fn zoek_met_bag_identificaties() {
    let fx = fixture().await;
    let d = fx.data();
    let fam = &d.known().family;
    let mut everyone: Vec<String> = fam.parents.clone();
    everyone.extend(fam.children.iter().cloned());
    let everyone = sorted(everyone);
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "ZoekMetNummeraanduidingIdentificatie",
                "nummeraanduidingIdentificatie": fam.address.nummeraanduiding_identificatie,
                "fields": ["burgerservicenummer", "gezag"]}),
    )
    .await;
    // gezag is not a PersoonBeperkt field.
    assert_problem(&resp, 400, "paramsValidation");
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "ZoekMetNummeraanduidingIdentificatie",
                "nummeraanduidingIdentificatie": fam.address.nummeraanduiding_identificatie,
                "fields": ["burgerservicenummer"]}),
    )
    .await;
    assert_eq!(resp.bsns(), everyone);
    // GezagPersoonBeperkt: gezag over the minors, asked by any gezag path.
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "ZoekMetAdresseerbaarObjectIdentificatie",
                "adresseerbaarObjectIdentificatie": fam.address.adresseerbaar_object_identificatie,
                "fields": ["burgerservicenummer", "gezag.minderjarige.burgerservicenummer"]}),
    )
    .await;
    assert_eq!(resp.bsns(), everyone);
    for p in resp.personen() {
        let gezag = p["gezag"].as_array().unwrap();
        let bsn = p["burgerservicenummer"].as_str().unwrap();
        let expected = if fam.parents.iter().any(|x| x == bsn) {
            2
        } else {
            1
        };
        assert_eq!(gezag.len(), expected, "{p}");
        assert_eq!(gezag[0]["type"], "GezamenlijkOuderlijkGezag");
        assert_eq!(gezag[0]["ouders"].as_array().unwrap().len(), 2);
        assert!(gezag[0]["minderjarige"]["naam"]["volledigeNaam"].is_string());
    }
}

#[tokio::test]
async fn more_than_ten_hits_is_too_many_results() {
    let fx = fixture().await;
    let k = fx.data().known();
    let search = |a: &sluis_testkit::brp::KnownAddress, inclusief: bool| {
        json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": a.postcode,
               "huisnummer": a.huisnummer, "inclusiefOverledenPersonen": inclusief,
               "fields": ["burgerservicenummer"]})
    };
    let resp = post(&fx.personen_url(), &search(&k.crowded_address, false)).await;
    let problem = assert_problem(&resp, 400, "tooManyResults");
    assert_eq!(problem["title"], "Teveel zoekresultaten.");
    assert_eq!(problem["instance"], "/haalcentraal/api/brp/personen");
    // Exactly ten living residents: fine; with the two deceased: too many.
    let resp = post(&fx.personen_url(), &search(&k.boundary_address, false)).await;
    assert_eq!(resp.bsns(), sorted(k.boundary_address.living.clone()));
    let resp = post(&fx.personen_url(), &search(&k.boundary_address, true)).await;
    assert_problem(&resp, 400, "tooManyResults");
    // The limit is configurable.
    let fx2 = fixture_with(BrpFixtureConfig {
        max_search_results: 20,
        ..BrpFixtureConfig::default()
    })
    .await;
    let resp = post(&fx2.personen_url(), &search(&k.crowded_address, true)).await;
    assert_eq!(resp.personen().len(), 15);
    // Raadpleeg has no such limit (only its 20 BSNs).
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "RaadpleegMetBurgerservicenummer",
                "burgerservicenummer": k.crowded_address.living,
                "fields": ["burgerservicenummer"]}),
    )
    .await;
    assert_eq!(resp.personen().len(), 14);
}

#[tokio::test]
async fn deceased_only_with_inclusief_overleden_personen() {
    let fx = fixture().await;
    let d = fx.data();
    let k = d.known();
    let widow = d.address_of(&k.widow).unwrap();
    let body = |inclusief: Option<bool>| {
        let mut b = json!({"type": "ZoekMetNummeraanduidingIdentificatie",
            "nummeraanduidingIdentificatie": widow.nummeraanduiding_identificatie,
            "fields": ["burgerservicenummer", "leeftijd"]});
        if let Some(i) = inclusief {
            b["inclusiefOverledenPersonen"] = json!(i);
        }
        b
    };
    assert_eq!(
        post(&fx.personen_url(), &body(None)).await.bsns(),
        std::slice::from_ref(&k.widow)
    );
    assert_eq!(
        post(&fx.personen_url(), &body(Some(false))).await.bsns(),
        std::slice::from_ref(&k.widow)
    );
    let resp = post(&fx.personen_url(), &body(Some(true))).await;
    assert_eq!(
        resp.bsns(),
        sorted(vec![k.widow.clone(), k.widow_partner.clone()])
    );
    let dead = resp
        .personen()
        .into_iter()
        .find(|p| p["burgerservicenummer"] == k.widow_partner.as_str())
        .unwrap();
    // opschortingBijhouding comes unasked; leeftijd is never given for the deceased.
    assert_eq!(dead["opschortingBijhouding"]["reden"]["code"], "O");
    assert_eq!(
        dead["opschortingBijhouding"]["reden"]["omschrijving"],
        "overlijden"
    );
    assert!(dead.get("leeftijd").is_none());
    // Raadpleeg always returns the deceased.
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "RaadpleegMetBurgerservicenummer",
                "burgerservicenummer": [k.widow_partner], "fields": ["leeftijd"]}),
    )
    .await;
    let only = resp.personen();
    assert_eq!(only.len(), 1);
    assert_eq!(
        only[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["opschortingBijhouding"]
    );
    // Searching by name finds the deceased only when asked to.
    let dead = d.person(&k.widow_partner).unwrap();
    let by_name = |inclusief: bool| {
        json!({"type": "ZoekMetGeslachtsnaamEnGeboortedatum",
               "geslachtsnaam": dead.geslachtsnaam(),
               "geboortedatum": dead.geboortedatum().unwrap().iso(),
               "inclusiefOverledenPersonen": inclusief, "fields": ["burgerservicenummer"]})
    };
    let without = post(&fx.personen_url(), &by_name(false)).await.bsns();
    let with = post(&fx.personen_url(), &by_name(true)).await.bsns();
    assert!(!without.contains(&k.widow_partner));
    assert!(with.contains(&k.widow_partner));
}

#[tokio::test]
async fn geheimhouding_is_delivered_unasked() {
    let fx = fixture().await;
    let a = &fx.data().known().mixed_geheim_address;
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": a.postcode,
                "huisnummer": a.huisnummer, "fields": ["naam.geslachtsnaam"]}),
    )
    .await;
    let personen = resp.personen();
    assert_eq!(personen.len(), 2);
    let flags: Vec<Option<&Value>> = personen
        .iter()
        .map(|p| p.get("geheimhoudingPersoonsgegevens"))
        .collect();
    assert_eq!(
        flags.iter().filter(|f| **f == Some(&json!(true))).count(),
        1
    );
    assert_eq!(flags.iter().filter(|f| f.is_none()).count(), 1);
    // The flag is never `false`: absent instead.
    assert!(
        personen
            .iter()
            .all(|p| p.get("burgerservicenummer").is_none())
    );
}

#[tokio::test]
async fn fields_select_nested_paths() {
    let fx = fixture().await;
    let d = fx.data();
    let fam = &d.known().family;
    let mother = &fam.parents[0];
    let full = d.persoon_json(mother).unwrap();
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [mother],
                "fields": ["kinderen.naam.voornamen", "partners.burgerservicenummer",
                           "verblijfplaats.verblijfadres.postcode", "geboorte.datum.jaar",
                           "naam.adellijkeTitelPredicaat.code", "adressering.adresregel1"]}),
    )
    .await;
    let p = &resp.personen()[0];
    let kinderen: Vec<Value> = full["kinderen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| json!({"naam": {"voornamen": k["naam"]["voornamen"]}}))
        .collect();
    assert_eq!(
        p,
        &json!({
            "geboorte": {"datum": full["geboorte"]["datum"]},
            "verblijfplaats": {"type": "Adres",
                "verblijfadres": {"postcode": fam.address.postcode}},
            "adressering": {"adresregel1": full["adressering"]["adresregel1"]},
            "kinderen": kinderen,
            "partners": [{"burgerservicenummer": fam.parents[1]}],
        })
    );
}

#[tokio::test]
async fn in_onderzoek_follows_the_requested_fields() {
    let fx = fixture().await;
    let d = fx.data();
    let (bsn, full) = d
        .persons()
        .iter()
        .filter(|p| p.is_in_onderzoek())
        .map(|p| (p.bsn(), d.persoon_json(p.bsn()).unwrap()))
        .find(|(_, j)| {
            j["naam"]["inOnderzoek"]["geslachtsnaam"] == true
                && j["naam"]["inOnderzoek"].get("voornamen").is_none()
        })
        .unwrap();
    let ask = |fields: Value| {
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [bsn],
               "fields": fields})
    };
    let resp = post(&fx.personen_url(), &ask(json!(["naam.voornamen"]))).await;
    assert_eq!(
        resp.personen()[0]["naam"],
        json!({"voornamen": full["naam"]["voornamen"]})
    );
    let resp = post(&fx.personen_url(), &ask(json!(["naam.geslachtsnaam"]))).await;
    assert_eq!(
        resp.personen()[0]["naam"],
        json!({"geslachtsnaam": full["naam"]["geslachtsnaam"],
               "inOnderzoek": {"geslachtsnaam": true,
                   "datumIngangOnderzoek": full["naam"]["inOnderzoek"]["datumIngangOnderzoek"]}})
    );
    let resp = post(&fx.personen_url(), &ask(json!(["naam"]))).await;
    assert_eq!(resp.personen()[0]["naam"], full["naam"]);
}

#[tokio::test]
async fn binnenland_aliases() {
    let fx = fixture().await;
    let d = fx.data();
    let emigrant = d
        .persons()
        .iter()
        .find(|p| p.status() == BrpStatus::Emigrated)
        .unwrap();
    let ask = |bsn: &str, fields: Value| {
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [bsn],
               "fields": fields})
    };
    let resp = post(
        &fx.personen_url(),
        &ask(
            emigrant.bsn(),
            json!(["verblijfplaatsBinnenland", "adresseringBinnenland"]),
        ),
    )
    .await;
    // Nothing but the automatic opschorting for someone abroad.
    assert_eq!(
        resp.personen()[0],
        json!({"opschortingBijhouding": d.persoon_json(emigrant.bsn()).unwrap()["opschortingBijhouding"]})
    );
    let resp = post(
        &fx.personen_url(),
        &ask(emigrant.bsn(), json!(["verblijfplaats.verblijfadres.land"])),
    )
    .await;
    assert_eq!(
        resp.personen()[0]["verblijfplaats"]["type"],
        "VerblijfplaatsBuitenland"
    );
    let suzanne = "999993653";
    let resp = post(
        &fx.personen_url(),
        &ask(
            suzanne,
            json!([
                "verblijfplaatsBinnenland.verblijfadres.postcode",
                "adresseringBinnenland"
            ]),
        ),
    )
    .await;
    let full = d.persoon_json(suzanne).unwrap();
    assert_eq!(
        resp.personen()[0],
        json!({
            "verblijfplaats": {"type": "Adres", "verblijfadres": {"postcode": "3077AW"}},
            "adressering": {
                "aanhef": full["adressering"]["aanhef"],
                "aanschrijfwijze": full["adressering"]["aanschrijfwijze"],
                "gebruikInLopendeTekst": full["adressering"]["gebruikInLopendeTekst"],
                "adresregel1": "Boterdiep 31",
                "adresregel2": "3077 AW  ROTTERDAM",
            },
        })
    );
}

#[tokio::test]
async fn gemeente_van_inschrijving_restricts_every_type() {
    let fx = fixture().await;
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993653"],
                "gemeenteVanInschrijving": "0363", "fields": ["burgerservicenummer"]}),
    )
    .await;
    assert!(resp.personen().is_empty());
    let resp = post(
        &fx.personen_url(),
        &json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "3077AW", "huisnummer": 31,
                "gemeenteVanInschrijving": "0599", "fields": ["burgerservicenummer"]}),
    )
    .await;
    assert_eq!(resp.bsns(), ["999993653"]);
    let _ = data();
}
