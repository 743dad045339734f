//! The generated BRP persons, without HTTP: size, validity, reproducibility, relations, quirks,
//! and conformance of every rendered person to the OpenAPI document.

#![cfg(test)]

mod brp_support;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use brp_support::{OPENAPI, spec};
use sluis_testkit::brp::{BrpData, BrpDate, BrpFixtureConfig, BrpStatus};
use sluis_testkit::bsn_is_valid;

fn data() -> Arc<BrpData> {
    static DATA: OnceLock<Arc<BrpData>> = OnceLock::new();
    Arc::clone(DATA.get_or_init(|| {
        let cfg = BrpFixtureConfig::default();
        let started = Instant::now();
        let d = BrpData::generate(cfg.seed, cfg.persons, &cfg.own_gemeente, cfg.peildatum).unwrap();
        eprintln!("generated {} persons in {:?}", d.len(), started.elapsed());
        Arc::new(d)
    }))
}

#[test]
fn ten_thousand_valid_unique_persons() {
    let d = data();
    assert_eq!(d.len(), 10_000);
    let mut bsns = HashSet::new();
    let mut anrs = HashSet::new();
    for p in d.persons() {
        assert!(bsn_is_valid(p.bsn()), "{}", p.bsn());
        assert!(bsns.insert(p.bsn()), "duplicate {}", p.bsn());
        assert!(anrs.insert(p.a_nummer()), "duplicate {}", p.a_nummer());
        assert_eq!(p.a_nummer().len(), 10);
    }
}

#[test]
fn counts_of_the_quirks() {
    let d = data();
    let n = d.len();
    let geheim = d.persons().iter().filter(|p| p.is_geheim()).count();
    let onderzoek = d.persons().iter().filter(|p| p.is_in_onderzoek()).count();
    let deceased = d.count(BrpStatus::Deceased);
    let emigrated = d.count(BrpStatus::Emigrated);
    let rni = d.count(BrpStatus::Rni);
    let unknown = d.count(BrpStatus::Unknown);
    let own = d
        .persons()
        .iter()
        .filter(|p| p.gemeente_van_inschrijving() == "0363")
        .count();
    let elsewhere = d
        .persons()
        .iter()
        .filter(|p| !matches!(p.gemeente_van_inschrijving(), "0363" | "1999"))
        .count();
    eprintln!(
        "geheim {geheim}, in onderzoek {onderzoek}, deceased {deceased}, emigrated {emigrated}, \
         rni {rni}, unknown {unknown}, own {own}, elsewhere {elsewhere}"
    );
    assert!((n / 100..n / 25).contains(&geheim), "{geheim}");
    assert!((n / 200..n / 20).contains(&onderzoek), "{onderzoek}");
    assert!((n / 100..n / 15).contains(&deceased), "{deceased}");
    assert!(
        emigrated > 20 && rni > 20 && unknown > 5,
        "{emigrated} {rni} {unknown}"
    );
    assert!(own > n * 3 / 4, "{own}");
    assert!(elsewhere > n / 20, "{elsewhere}");
    assert_eq!(d.own_gemeente(), "0363");
}

#[test]
fn addresses_are_shared() {
    let d = data();
    let mut living: HashMap<(String, u32), usize> = HashMap::new();
    for a in d.addresses() {
        let n = d
            .residents(&a.postcode, a.huisnummer)
            .iter()
            .filter(|p| !p.is_deceased())
            .count();
        living.insert((a.postcode.clone(), a.huisnummer), n);
    }
    let occupied: Vec<usize> = living.values().copied().filter(|&n| n > 0).collect();
    let two_to_five = occupied.iter().filter(|&&n| (2..=5).contains(&n)).count();
    eprintln!(
        "{} occupied addresses, {two_to_five} with 2..=5 living residents",
        occupied.len()
    );
    assert!(
        two_to_five * 10 > occupied.len() * 6,
        "{two_to_five} of {}",
        occupied.len()
    );
    assert!(occupied.iter().any(|&n| n > 10));
    let k = d.known();
    assert!(k.crowded_address.living.len() > 10);
    assert_eq!(k.crowded_address.deceased.len(), 1);
    assert_eq!(k.boundary_address.living.len(), 10);
    assert_eq!(k.boundary_address.deceased.len(), 2);
    let residents = d.residents(&k.crowded_address.postcode, k.crowded_address.huisnummer);
    assert_eq!(residents.len(), 15);
    // Lower case and a space find the same address.
    let pc = &k.crowded_address.postcode;
    let spaced = format!("{} {}", &pc[..4], pc[4..].to_lowercase());
    assert_eq!(d.residents(&spaced, k.crowded_address.huisnummer).len(), 15);
}

#[test]
fn relations_point_both_ways() {
    let d = data();
    let mut linked = 0;
    for p in d.persons() {
        for partner in p.partner_bsns(&d) {
            let q = d.person(partner).unwrap();
            assert!(
                q.partner_bsns(&d).contains(&p.bsn()),
                "{} <-> {partner}",
                p.bsn()
            );
            linked += 1;
        }
        for kind in p.kind_bsns(&d) {
            let k = d.person(kind).unwrap();
            assert!(
                k.ouder_bsns(&d).contains(&p.bsn()),
                "{} -> kind {kind}",
                p.bsn()
            );
            linked += 1;
        }
        for ouder in p.ouder_bsns(&d) {
            let o = d.person(ouder).unwrap();
            assert!(o.kind_bsns(&d).contains(&p.bsn()));
        }
    }
    assert!(linked > 3_000, "{linked}");
    // Some children live apart from their parents (their own households).
    let apart = d
        .persons()
        .iter()
        .filter(|p| {
            p.ouder_bsns(&d).iter().any(|o| {
                d.address_of(o).map(|a| &a.nummeraanduiding_identificatie)
                    != d.address_of(p.bsn())
                        .map(|a| &a.nummeraanduiding_identificatie)
            })
        })
        .count();
    assert!(apart > 100, "{apart}");
}

#[test]
fn reproducible_from_the_seed() {
    let a = BrpData::generate(7, 1_500, "0363", BrpDate::new(2025, 7, 1)).unwrap();
    let b = BrpData::generate(7, 1_500, "0363", BrpDate::new(2025, 7, 1)).unwrap();
    let c = BrpData::generate(8, 1_500, "0363", BrpDate::new(2025, 7, 1)).unwrap();
    assert_eq!(a.len(), 1_500);
    let all = |d: &BrpData| -> Vec<serde_json::Value> {
        d.persons()
            .iter()
            .map(|p| d.persoon_json(p.bsn()).unwrap())
            .collect()
    };
    assert_eq!(all(&a), all(&b));
    assert_ne!(all(&a), all(&c));
    assert_eq!(a.known(), b.known());
    // The first person is always RvIG's test person.
    assert_eq!(c.persons()[0].bsn(), "999993653");
}

#[test]
fn other_own_municipality_and_bad_code() {
    let d = BrpData::generate(1, 300, "0599", BrpDate::new(2025, 7, 1)).unwrap();
    assert_eq!(d.known().crowded_address.gemeente_code, "0599");
    assert!(BrpData::generate(1, 10, "9998", BrpDate::new(2025, 7, 1)).is_err());
    assert!(BrpData::generate(1, 10, "1999", BrpDate::new(2025, 7, 1)).is_err());
    let tiny = BrpData::generate(1, 5, "0363", BrpDate::new(2025, 7, 1)).unwrap();
    assert_eq!(tiny.len(), 5);
}

#[test]
fn suzanne_moulin_as_in_the_testset() {
    let d = data();
    let p = d.persoon_json("999993653").unwrap();
    assert_eq!(p["aNummer"], "8940402024");
    assert_eq!(p["naam"]["voornamen"], "Suzanne");
    assert_eq!(p["naam"]["geslachtsnaam"], "Moulin");
    assert_eq!(p["naam"]["volledigeNaam"], "Suzanne Moulin");
    assert_eq!(p["geslacht"]["code"], "V");
    assert_eq!(p["geboorte"]["datum"]["datum"], "1985-12-01");
    assert_eq!(p["leeftijd"], 39);
    assert_eq!(p["gemeenteVanInschrijving"]["code"], "0599");
    assert_eq!(p["verblijfplaats"]["verblijfadres"]["postcode"], "3077AW");
    assert_eq!(p["verblijfplaats"]["verblijfadres"]["huisnummer"], 31);
    assert_eq!(
        p["verblijfplaats"]["nummeraanduidingIdentificatie"],
        "0599200000219678"
    );
    assert_eq!(p["adressering"]["adresregel2"], "3077 AW  ROTTERDAM");
    assert_eq!(p["adressering"]["aanhef"], "Geachte mevrouw Moulin");
    assert_eq!(p["nationaliteiten"][0]["nationaliteit"]["code"], "0057");
    assert_eq!(
        p["nationaliteiten"][0]["datumIngangGeldigheid"]["type"],
        "DatumOnbekend"
    );
    assert_eq!(p["partners"][0]["naam"]["voornamen"], "Jean Marie");
    assert_eq!(p["ouders"][1]["naam"]["voornamen"], "Guîllaumé");
    assert!(p.get("geheimhoudingPersoonsgegevens").is_none());
}

/// Every unusual person and every 8th ordinary one (the regex-heavy checker is slow in debug
/// builds; the HTTP tests check what the server actually sends).
#[test]
fn persons_conform_to_the_schemas() {
    sluis_testkit::require_reference!(OPENAPI);
    let d = data();
    let mut checked = 0;
    for (i, p) in d.persons().iter().enumerate() {
        let unusual = p.status() != BrpStatus::Resident
            || p.is_geheim()
            || p.is_in_onderzoek()
            || p.geboortedatum().is_none();
        if !unusual && i % 8 != 0 {
            continue;
        }
        let full = d.persoon_json(p.bsn()).unwrap();
        if let Err(e) = spec().check("Persoon", &full) {
            panic!("{}: {e:#?}\n{full:#}", p.bsn());
        }
        let beperkt = d.persoon_beperkt_json(p.bsn()).unwrap();
        if let Err(e) = spec().check("PersoonBeperkt", &beperkt) {
            panic!("{}: {e:#?}\n{beperkt:#}", p.bsn());
        }
        checked += 1;
    }
    assert!(checked > d.len() / 8, "{checked}");
}

#[test]
fn minors_have_gezag() {
    let d = data();
    let fam = &d.known().family;
    assert_eq!(fam.parents.len(), 2);
    assert_eq!(fam.children.len(), 2);
    let child = d.persoon_json(&fam.children[0]).unwrap();
    assert_eq!(child["gezag"][0]["type"], "GezamenlijkOuderlijkGezag");
    let ouders: Vec<&str> = child["gezag"][0]["ouders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["burgerservicenummer"].as_str().unwrap())
        .collect();
    assert_eq!(ouders, [fam.parents[0].as_str(), fam.parents[1].as_str()]);
    let mother = d.persoon_json(&fam.parents[0]).unwrap();
    assert_eq!(mother["gezag"].as_array().unwrap().len(), 2);
    assert_eq!(mother["kinderen"].as_array().unwrap().len(), 2);
    assert_eq!(
        mother["partners"][0]["burgerservicenummer"],
        fam.parents[1].as_str()
    );
}

#[test]
fn widow_has_the_dissolved_partnership() {
    let d = data();
    let k = d.known();
    let w = d.persoon_json(&k.widow).unwrap();
    let partner = &w["partners"][0];
    assert_eq!(partner["burgerservicenummer"], k.widow_partner.as_str());
    let died = d.persoon_json(&k.widow_partner).unwrap();
    assert_eq!(died["opschortingBijhouding"]["reden"]["code"], "O");
    assert_eq!(
        partner["ontbindingHuwelijkPartnerschap"]["datum"],
        died["overlijden"]["datum"]
    );
    assert!(died.get("leeftijd").is_none());
    assert!(died.get("adressering").is_none());
}

#[test]
#[ignore = "prints the named persons and addresses for documentation"]
fn print_known() {
    let d = data();
    eprintln!("{:#?}", d.known());
    let curatele = d
        .persons()
        .iter()
        .filter(|p| {
            d.persoon_json(p.bsn())
                .unwrap()
                .get("indicatieCurateleRegister")
                .is_some()
        })
        .count();
    let locatie = d
        .persons()
        .iter()
        .filter(|p| d.persoon_json(p.bsn()).unwrap()["verblijfplaats"]["type"] == "Locatie")
        .count();
    let partial = d
        .persons()
        .iter()
        .filter(|p| p.geboortedatum().is_none())
        .count();
    eprintln!("curatele {curatele} locatie {locatie} partial-birthdate {partial}");
}
