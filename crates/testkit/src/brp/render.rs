//! Person lists → BRP API v2 JSON (`Persoon`, `PersoonBeperkt`, `GezagPersoonBeperkt`), with
//! every field filled; `fields.rs` then cuts out what was asked for.

use serde_json::{Map, Value, json};

use super::data::BrpData;
use super::date::{BrpDate, Datum};
use super::model::{
    BrpPerson, BrpStatus, Gebeurtenis, Geslacht, Naam, NationaliteitSoort, Onderzoek, Plaats,
    Relative, Verblijf,
};

/// Which response item the query type answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Persoon,
    PersoonBeperkt,
    GezagPersoonBeperkt,
}

fn waarde(code: &str, omschrijving: &str) -> Value {
    json!({"code": code, "omschrijving": omschrijving})
}

fn obj(pairs: Vec<(&str, Option<Value>)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        if let Some(v) = v {
            m.insert(k.to_owned(), v);
        }
    }
    Value::Object(m)
}

fn flags(date_key: &str, date: BrpDate, keys: &[&str]) -> Value {
    let mut m = Map::new();
    for k in keys {
        m.insert((*k).to_owned(), Value::Bool(true));
    }
    m.insert(date_key.to_owned(), Datum::Volledig(date).to_json());
    Value::Object(m)
}

fn plaats(p: &Plaats) -> Value {
    match p {
        Plaats::Gemeente(g) => waarde(g.code, g.naam),
        Plaats::Buitenland(naam) => json!({"omschrijving": naam}),
    }
}

fn gebeurtenis(g: &Gebeurtenis) -> Value {
    json!({
        "datum": g.datum.to_json(),
        "land": waarde(g.land.0, g.land.1),
        "plaats": plaats(&g.plaats),
    })
}

fn naam_gerelateerde(n: &Naam) -> Value {
    obj(vec![
        ("voornamen", Some(json!(n.voornamen))),
        ("adellijkeTitelPredicaat", n.titel.map(titel)),
        (
            "voorvoegsel",
            (!n.voorvoegsel.is_empty()).then(|| json!(n.voorvoegsel)),
        ),
        ("geslachtsnaam", Some(json!(n.geslachtsnaam))),
        ("voorletters", Some(json!(n.voorletters()))),
    ])
}

fn titel((code, omschrijving, soort): (&str, &str, &str)) -> Value {
    json!({"code": code, "omschrijving": omschrijving, "soort": soort})
}

/// "Van der Meer": the voorvoegsel capitalised, as at the start of a salutation.
fn achternaam_hoofdletter(n: &Naam) -> String {
    if n.voorvoegsel.is_empty() {
        return n.geslachtsnaam.clone();
    }
    let mut chars = n.voorvoegsel.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!("{first}{} {}", chars.as_str(), n.geslachtsnaam)
}

fn achternaam(n: &Naam) -> String {
    if n.voorvoegsel.is_empty() {
        n.geslachtsnaam.clone()
    } else {
        format!("{} {}", n.voorvoegsel, n.geslachtsnaam)
    }
}

fn soort_verbintenis(soort: char) -> Value {
    match soort {
        'P' => waarde("P", "geregistreerd partnerschap"),
        _ => waarde("H", "huwelijk"),
    }
}

impl BrpData {
    fn relative_view<'a>(&'a self, r: &'a Relative) -> Option<RelativeView<'a>> {
        match r {
            Relative::Person(i) => self.persons.get(*i).map(|p| RelativeView {
                bsn: Some(p.bsn.as_str()),
                naam: &p.naam,
                geslacht: p.geslacht,
                geboorte: Some(&p.geboorte),
            }),
            Relative::External(e) => Some(RelativeView {
                bsn: e.bsn.as_deref(),
                naam: &e.naam,
                geslacht: e.geslacht,
                geboorte: e.geboorte.as_ref(),
            }),
        }
    }

    fn leeftijd(&self, p: &BrpPerson) -> Option<i32> {
        if p.status == BrpStatus::Deceased {
            return None;
        }
        let age = p.geboorte.datum.full()?.years_until(self.peildatum);
        (0..=150).contains(&age).then_some(age)
    }

    fn minor(&self, p: &BrpPerson) -> bool {
        p.status == BrpStatus::Resident && self.leeftijd(p).is_some_and(|a| a < 18)
    }

    /// The gezagsrelatie of a living minor, from its parents in the data set.
    fn gezagsrelatie(&self, child: &BrpPerson) -> Value {
        let minderjarige = obj(vec![
            ("burgerservicenummer", Some(json!(child.bsn))),
            (
                "naam",
                Some(json!({"volledigeNaam": child.naam.volledige_naam()})),
            ),
            ("leeftijd", self.leeftijd(child).map(|a| json!(a))),
        ]);
        let ouders: Vec<Value> = child
            .ouders
            .iter()
            .filter_map(|o| match &o.who {
                Relative::Person(i) => self.persons.get(*i),
                Relative::External(_) => None,
            })
            .filter(|p| p.status != BrpStatus::Deceased)
            .map(|p| {
                json!({
                    "burgerservicenummer": p.bsn,
                    "naam": {"volledigeNaam": p.naam.volledige_naam()},
                })
            })
            .collect();
        match ouders.as_slice() {
            [a, b] => json!({
                "type": "GezamenlijkOuderlijkGezag",
                "minderjarige": minderjarige,
                "ouders": [a, b],
            }),
            [a] => json!({
                "type": "EenhoofdigOuderlijkGezag",
                "minderjarige": minderjarige,
                "ouder": a,
            }),
            _ => json!({
                "type": "GezagNietTeBepalen",
                "minderjarige": minderjarige,
                "toelichting": "Gezag kan niet worden bepaald omdat de ouders niet in de BRP staan.",
            }),
        }
    }

    fn gezag(&self, p: &BrpPerson) -> Vec<Value> {
        if self.minor(p) {
            return vec![self.gezagsrelatie(p)];
        }
        if p.status != BrpStatus::Resident {
            return Vec::new();
        }
        p.kinderen
            .iter()
            .filter_map(|k| match k {
                Relative::Person(i) => self.persons.get(*i),
                Relative::External(_) => None,
            })
            .filter(|k| self.minor(k))
            .map(|k| self.gezagsrelatie(k))
            .collect()
    }

    fn verblijfplaats(&self, p: &BrpPerson, onderzoek: Option<(Onderzoek, BrpDate)>) -> Value {
        let functie = waarde("W", "woonadres");
        match &p.verblijf {
            Verblijf::Adres { addr, datum_van } => {
                let Some(a) = self.addresses.get(*addr) else {
                    return json!({"type": "VerblijfplaatsOnbekend"});
                };
                let mut adres = obj(vec![
                    ("officieleStraatnaam", Some(json!(a.officiele_straatnaam))),
                    ("korteStraatnaam", Some(json!(a.korte_straatnaam))),
                    ("huisnummer", Some(json!(a.huisnummer))),
                    ("huisletter", a.huisletter.as_ref().map(|h| json!(h))),
                    (
                        "huisnummertoevoeging",
                        a.huisnummertoevoeging.as_ref().map(|t| json!(t)),
                    ),
                    ("postcode", Some(json!(a.postcode))),
                    ("woonplaats", Some(json!(a.woonplaats))),
                ]);
                let mut vp = obj(vec![
                    ("type", Some(json!("Adres"))),
                    ("verblijfadres", None),
                    ("functieAdres", Some(functie)),
                    (
                        "adresseerbaarObjectIdentificatie",
                        Some(json!(a.adresseerbaar_object_identificatie)),
                    ),
                    (
                        "nummeraanduidingIdentificatie",
                        Some(json!(a.nummeraanduiding_identificatie)),
                    ),
                    ("datumVan", Some(datum_van.to_json())),
                    ("datumIngangGeldigheid", Some(datum_van.to_json())),
                ]);
                if let Some((Onderzoek::Verblijfplaats, d)) = onderzoek {
                    insert(
                        &mut adres,
                        "inOnderzoek",
                        flags(
                            "datumIngangOnderzoek",
                            d,
                            &[
                                "officieleStraatnaam",
                                "korteStraatnaam",
                                "huisnummer",
                                "huisletter",
                                "huisnummertoevoeging",
                                "postcode",
                                "woonplaats",
                            ],
                        ),
                    );
                    insert(
                        &mut vp,
                        "inOnderzoek",
                        flags(
                            "datumIngangOnderzoek",
                            d,
                            &[
                                "type",
                                "datumVan",
                                "datumIngangGeldigheid",
                                "nummeraanduidingIdentificatie",
                                "adresseerbaarObjectIdentificatie",
                                "functieAdres",
                            ],
                        ),
                    );
                }
                insert_at(&mut vp, 1, "verblijfadres", adres);
                vp
            }
            Verblijf::Locatie {
                beschrijving,
                datum_van,
                ..
            } => json!({
                "type": "Locatie",
                "verblijfadres": {"locatiebeschrijving": beschrijving},
                "functieAdres": functie,
                "datumVan": datum_van.to_json(),
                "datumIngangGeldigheid": datum_van.to_json(),
            }),
            Verblijf::Buitenland {
                regel1,
                regel2,
                regel3,
                land,
                datum_van,
            } => json!({
                "type": "VerblijfplaatsBuitenland",
                "verblijfadres": obj(vec![
                    ("regel1", Some(json!(regel1))),
                    ("regel2", Some(json!(regel2))),
                    ("regel3", regel3.as_ref().map(|r| json!(r))),
                    ("land", Some(waarde(land.0, land.1))),
                ]),
                "datumVan": datum_van.to_json(),
                "datumIngangGeldigheid": datum_van.to_json(),
            }),
            Verblijf::Onbekend { datum_van } => json!({
                "type": "VerblijfplaatsOnbekend",
                "datumVan": datum_van.to_json(),
                "datumIngangGeldigheid": datum_van.to_json(),
            }),
        }
    }

    fn adressering(&self, p: &BrpPerson) -> Option<Value> {
        if p.status == BrpStatus::Deceased {
            return None;
        }
        let n = &p.naam;
        let predicaat = n.titel.filter(|t| t.2 == "predicaat");
        let (aanhef, aanspreekvorm, lopend) = match (p.geslacht, predicaat) {
            (Geslacht::Man, Some(_)) => (
                "Hoogwelgeboren heer".to_owned(),
                Some("De hoogwelgeboren heer"),
                format!("jonkheer {}", achternaam_hoofdletter(n)),
            ),
            (_, Some(_)) => (
                "Hoogwelgeboren vrouwe".to_owned(),
                Some("De hoogwelgeboren vrouwe"),
                format!("jonkvrouw {}", achternaam_hoofdletter(n)),
            ),
            (Geslacht::Man, None) => (
                format!("Geachte heer {}", achternaam_hoofdletter(n)),
                None,
                format!("de heer {}", achternaam_hoofdletter(n)),
            ),
            (Geslacht::Vrouw, None) => (
                format!("Geachte mevrouw {}", achternaam_hoofdletter(n)),
                None,
                format!("mevrouw {}", achternaam_hoofdletter(n)),
            ),
            (Geslacht::Onbekend, None) => (
                format!("Geachte {} {}", n.voorletters(), achternaam(n)),
                None,
                format!("{} {}", n.voorletters(), achternaam(n)),
            ),
        };
        let aanschrijfwijze = obj(vec![
            ("aanspreekvorm", aanspreekvorm.map(|a| json!(a))),
            (
                "naam",
                Some(json!(format!("{} {}", n.voorletters(), achternaam(n)))),
            ),
        ]);
        let (r1, r2, r3, land): (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<Value>,
        ) = match &p.verblijf {
            Verblijf::Adres { addr, .. } => {
                let a = self.addresses.get(*addr)?;
                let mut r1 = format!("{} {}", a.korte_straatnaam, a.huisnummer);
                if let Some(l) = &a.huisletter {
                    r1.push_str(l);
                }
                if let Some(t) = &a.huisnummertoevoeging {
                    r1.push('-');
                    r1.push_str(t);
                }
                let pc = a.postcode.get(..4).unwrap_or(&a.postcode);
                let letters = a.postcode.get(4..).unwrap_or("");
                let r2 = format!("{pc} {letters}  {}", a.woonplaats.to_uppercase());
                (Some(r1), Some(r2), None, None)
            }
            Verblijf::Locatie {
                beschrijving,
                woonplaats,
                ..
            } => (
                Some((*beschrijving).to_owned()),
                Some(woonplaats.to_uppercase()),
                None,
                None,
            ),
            Verblijf::Buitenland {
                regel1,
                regel2,
                regel3,
                land,
                ..
            } => (
                Some(regel1.clone()),
                Some(regel2.clone()),
                regel3.clone(),
                Some(waarde(land.0, land.1)),
            ),
            Verblijf::Onbekend { .. } => (None, None, None, None),
        };
        let mut out = obj(vec![
            ("aanhef", Some(json!(aanhef))),
            ("aanschrijfwijze", Some(aanschrijfwijze)),
            ("gebruikInLopendeTekst", Some(json!(lopend))),
            ("adresregel1", r1.map(Value::String)),
            ("adresregel2", r2.map(Value::String)),
            ("adresregel3", r3.map(Value::String)),
            ("land", land),
        ]);
        let mut io: Vec<&str> = Vec::new();
        let mut date_keys: Vec<(&str, BrpDate)> = Vec::new();
        match p.onderzoek {
            Some((Onderzoek::Persoon | Onderzoek::Geslachtsnaam, d)) => {
                io.extend(["aanhef", "aanschrijfwijze", "gebruikInLopendeTekst"]);
                date_keys.push(("datumIngangOnderzoekPersoon", d));
            }
            Some((Onderzoek::Verblijfplaats, d)) => {
                io.extend(["adresregel1", "adresregel2", "adresregel3", "land"]);
                date_keys.push(("datumIngangOnderzoekVerblijfplaats", d));
            }
            _ => {}
        }
        if let Some((key, d)) = date_keys.first() {
            insert(&mut out, "inOnderzoek", flags(key, *d, &io));
        }
        Some(out)
    }

    /// The complete item for `p` in the given shape, at the fixture's peildatum.
    pub(crate) fn render(&self, p: &BrpPerson, shape: Shape) -> Value {
        let onderzoek = p.onderzoek;
        let mut naam = obj(vec![
            ("voornamen", Some(json!(p.naam.voornamen))),
            ("adellijkeTitelPredicaat", p.naam.titel.map(titel)),
            (
                "voorvoegsel",
                (!p.naam.voorvoegsel.is_empty()).then(|| json!(p.naam.voorvoegsel)),
            ),
            ("geslachtsnaam", Some(json!(p.naam.geslachtsnaam))),
            ("voorletters", Some(json!(p.naam.voorletters()))),
            ("volledigeNaam", Some(json!(p.naam.volledige_naam()))),
            (
                "aanduidingNaamgebruik",
                Some(waarde("E", "eigen geslachtsnaam")),
            ),
        ]);
        let mut geboorte = gebeurtenis(&p.geboorte);
        let mut person_io: Vec<&str> = Vec::new();
        let mut person_io_dates: Vec<(&str, BrpDate)> = Vec::new();
        match onderzoek {
            Some((Onderzoek::Persoon, d)) => {
                person_io.extend(["burgerservicenummer", "geslacht", "leeftijd"]);
                person_io_dates.push(("datumIngangOnderzoekPersoon", d));
                insert(
                    &mut naam,
                    "inOnderzoek",
                    flags(
                        "datumIngangOnderzoek",
                        d,
                        &[
                            "voornamen",
                            "adellijkeTitelPredicaat",
                            "voorvoegsel",
                            "geslachtsnaam",
                            "voorletters",
                            "volledigeNaam",
                            "aanduidingNaamgebruik",
                        ],
                    ),
                );
                insert(
                    &mut geboorte,
                    "inOnderzoek",
                    flags("datumIngangOnderzoek", d, &["datum", "land", "plaats"]),
                );
            }
            Some((Onderzoek::Geslachtsnaam, d)) => insert(
                &mut naam,
                "inOnderzoek",
                flags(
                    "datumIngangOnderzoek",
                    d,
                    &["geslachtsnaam", "volledigeNaam"],
                ),
            ),
            Some((Onderzoek::Geboortedatum, d)) => {
                person_io.push("leeftijd");
                person_io_dates.push(("datumIngangOnderzoekPersoon", d));
                insert(
                    &mut geboorte,
                    "inOnderzoek",
                    flags("datumIngangOnderzoek", d, &["datum"]),
                );
            }
            Some((Onderzoek::Verblijfplaats, d)) => {
                person_io.extend(["gemeenteVanInschrijving", "datumInschrijvingInGemeente"]);
                person_io_dates.push(("datumIngangOnderzoekGemeente", d));
            }
            _ => {}
        }
        let person_in_onderzoek = person_io_dates.first().map(|(key, d)| {
            let mut v = flags(key, *d, &person_io);
            // The date first, as the API orders it.
            if let Value::Object(m) = &mut v
                && let Some(date) = m.shift_remove(*key)
            {
                m.shift_insert(0, (*key).to_owned(), date);
            }
            v
        });
        let nationaliteiten: Vec<Value> = p
            .nationaliteiten
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let (kind, nationaliteit) = match &n.soort {
                    NationaliteitSoort::Bekend((code, o)) => {
                        ("Nationaliteit", Some(waarde(code, o)))
                    }
                    NationaliteitSoort::Staatloos => ("Staatloos", None),
                    NationaliteitSoort::BehandeldAlsNederlander => {
                        ("BehandeldAlsNederlander", None)
                    }
                };
                let has_nationaliteit = nationaliteit.is_some();
                let mut v = obj(vec![
                    ("type", Some(json!(kind))),
                    ("nationaliteit", nationaliteit),
                    ("redenOpname", Some(waarde(n.reden.0, n.reden.1))),
                    ("datumIngangGeldigheid", Some(n.datum_ingang.to_json())),
                ]);
                if i == 0
                    && let Some((Onderzoek::Nationaliteit, d)) = onderzoek
                {
                    let keys: &[&str] = if has_nationaliteit {
                        &["type", "nationaliteit", "redenOpname"]
                    } else {
                        &["type", "redenOpname"]
                    };
                    insert(
                        &mut v,
                        "inOnderzoek",
                        flags("datumIngangOnderzoek", d, keys),
                    );
                }
                v
            })
            .collect();
        let partners = self.partners(p);
        let ouders: Vec<Value> = p
            .ouders
            .iter()
            .filter_map(|o| {
                let r = self.relative_view(&o.who)?;
                Some(obj(vec![
                    ("burgerservicenummer", r.bsn.map(|b| json!(b))),
                    (
                        "geslacht",
                        Some(waarde(r.geslacht.code(), r.geslacht.omschrijving())),
                    ),
                    ("ouderAanduiding", Some(json!(o.aanduiding.to_string()))),
                    (
                        "datumIngangFamilierechtelijkeBetrekking",
                        Some(o.datum_ingang.to_json()),
                    ),
                    ("naam", Some(naam_gerelateerde(r.naam))),
                    ("geboorte", r.geboorte.map(gebeurtenis)),
                ]))
            })
            .collect();
        let kinderen: Vec<Value> = p
            .kinderen
            .iter()
            .filter_map(|k| {
                let r = self.relative_view(k)?;
                Some(obj(vec![
                    ("burgerservicenummer", r.bsn.map(|b| json!(b))),
                    ("naam", Some(naam_gerelateerde(r.naam))),
                    ("geboorte", r.geboorte.map(gebeurtenis)),
                ]))
            })
            .collect();
        let gezag = self.gezag(p);
        let non_empty = |v: Vec<Value>| (!v.is_empty()).then_some(Value::Array(v));
        let geslacht = waarde(p.geslacht.code(), p.geslacht.omschrijving());
        let opschorting = p
            .opschorting
            .map(|(code, o, d)| json!({"reden": waarde(code, o), "datum": d.to_json()}));
        let rni = non_empty(
            p.rni
                .iter()
                .map(|r| {
                    obj(vec![
                        ("deelnemer", Some(waarde(r.deelnemer.0, r.deelnemer.1))),
                        ("omschrijvingVerdrag", r.verdrag.map(|v| json!(v))),
                        ("categorie", Some(json!(r.categorie))),
                    ])
                })
                .collect(),
        );
        let verificatie = p
            .verificatie
            .map(|(d, o)| json!({"datum": d.to_json(), "omschrijving": o}));
        let geheim = p.geheim.then_some(Value::Bool(true));
        let leeftijd = self.leeftijd(p).map(|a| json!(a));
        let adressering = self.adressering(p);

        match shape {
            Shape::Persoon => obj(vec![
                ("aNummer", Some(json!(p.a_nummer))),
                ("burgerservicenummer", Some(json!(p.bsn))),
                (
                    "datumEersteInschrijvingGBA",
                    Some(p.datum_eerste_inschrijving.to_json()),
                ),
                ("geheimhoudingPersoonsgegevens", geheim),
                ("geslacht", Some(geslacht)),
                ("inOnderzoek", person_in_onderzoek),
                ("leeftijd", leeftijd),
                ("naam", Some(naam)),
                ("nationaliteiten", non_empty(nationaliteiten)),
                ("geboorte", Some(geboorte)),
                ("opschortingBijhouding", opschorting),
                (
                    "overlijden",
                    p.overlijden.as_ref().map(|o| {
                        let mut v = gebeurtenis(o);
                        if let Plaats::Buitenland(_) = o.plaats
                            && let Value::Object(m) = &mut v
                        {
                            m.shift_remove("plaats");
                        }
                        v
                    }),
                ),
                ("verblijfplaats", Some(self.verblijfplaats(p, onderzoek))),
                (
                    "immigratie",
                    p.immigratie.map(|(code, o, d)| {
                        json!({
                            "landVanwaarIngeschreven": waarde(code, o),
                            "datumVestigingInNederland": d.to_json(),
                        })
                    }),
                ),
                (
                    "gemeenteVanInschrijving",
                    Some(waarde(p.gemeente.code, p.gemeente.naam)),
                ),
                (
                    "datumInschrijvingInGemeente",
                    Some(p.datum_inschrijving_gemeente.to_json()),
                ),
                ("adressering", adressering),
                ("indicatieCurateleRegister", p.curatele.then_some(Value::Bool(true))),
                ("gezag", non_empty(gezag)),
                (
                    "verblijfstitel",
                    p.verblijfstitel.map(|((code, o), d)| {
                        json!({"aanduiding": waarde(code, o), "datumIngang": d.to_json()})
                    }),
                ),
                ("kinderen", non_empty(kinderen)),
                ("ouders", non_empty(ouders)),
                ("partners", non_empty(partners)),
                ("rni", rni),
                ("verificatie", verificatie),
            ]),
            Shape::PersoonBeperkt | Shape::GezagPersoonBeperkt => {
                let mut beperkt_naam = naam;
                if let Value::Object(m) = &mut beperkt_naam {
                    m.shift_remove("aanduidingNaamgebruik");
                    if let Some(Value::Object(io)) = m.get_mut("inOnderzoek") {
                        io.shift_remove("aanduidingNaamgebruik");
                    }
                }
                let mut beperkt_geboorte = geboorte;
                if let Value::Object(m) = &mut beperkt_geboorte {
                    m.shift_remove("land");
                    m.shift_remove("plaats");
                    if let Some(Value::Object(io)) = m.get_mut("inOnderzoek") {
                        io.shift_remove("land");
                        io.shift_remove("plaats");
                    }
                }
                let beperkt_io = person_in_onderzoek.and_then(|mut v| {
                    if let Value::Object(m) = &mut v {
                        m.retain(|k, _| {
                            matches!(
                                k.as_str(),
                                "datumIngangOnderzoekPersoon"
                                    | "burgerservicenummer"
                                    | "geslacht"
                                    | "leeftijd"
                            )
                        });
                        if m.len() <= 1 {
                            return None;
                        }
                    }
                    Some(v)
                });
                let beperkt_adressering = adressering.and_then(|mut v| {
                    if let Value::Object(m) = &mut v {
                        m.retain(|k, _| {
                            matches!(
                                k.as_str(),
                                "adresregel1"
                                    | "adresregel2"
                                    | "adresregel3"
                                    | "land"
                                    | "inOnderzoek"
                            )
                        });
                        let mut drop_io = false;
                        if let Some(Value::Object(io)) = m.get_mut("inOnderzoek") {
                            io.retain(|k, _| {
                                matches!(
                                    k.as_str(),
                                    "adresregel1"
                                        | "adresregel2"
                                        | "adresregel3"
                                        | "land"
                                        | "datumIngangOnderzoekVerblijfplaats"
                                )
                            });
                            drop_io = io.len() <= 1;
                        }
                        if drop_io {
                            m.shift_remove("inOnderzoek");
                        }
                        if m.is_empty() {
                            return None;
                        }
                    }
                    Some(v)
                });
                let gezag = if shape == Shape::GezagPersoonBeperkt {
                    self.gezag(p)
                } else {
                    Vec::new()
                };
                obj(vec![
                    ("burgerservicenummer", Some(json!(p.bsn))),
                    ("geboorte", Some(beperkt_geboorte)),
                    ("geheimhoudingPersoonsgegevens", geheim),
                    ("geslacht", Some(geslacht)),
                    ("inOnderzoek", beperkt_io),
                    ("leeftijd", leeftijd),
                    ("naam", Some(beperkt_naam)),
                    ("opschortingBijhouding", opschorting),
                    ("adressering", beperkt_adressering),
                    ("gezag", non_empty(gezag)),
                    ("rni", rni),
                    ("verificatie", verificatie),
                ])
            }
        }
    }

    /// Current partners; without one, only the most recently dissolved partnership.
    fn partners(&self, p: &BrpPerson) -> Vec<Value> {
        let current: Vec<_> = p
            .partners
            .iter()
            .filter(|x| x.ontbinding.is_none())
            .collect();
        let chosen: Vec<_> = if current.is_empty() {
            p.partners
                .iter()
                .max_by_key(|x| {
                    x.ontbinding
                        .and_then(Datum::full)
                        .map_or(i64::MIN, BrpDate::days)
                })
                .into_iter()
                .collect()
        } else {
            current
        };
        chosen
            .into_iter()
            .filter_map(|x| {
                let r = self.relative_view(&x.who)?;
                Some(obj(vec![
                    ("burgerservicenummer", r.bsn.map(|b| json!(b))),
                    (
                        "geslacht",
                        Some(waarde(r.geslacht.code(), r.geslacht.omschrijving())),
                    ),
                    ("soortVerbintenis", Some(soort_verbintenis(x.soort))),
                    ("naam", Some(naam_gerelateerde(r.naam))),
                    ("geboorte", r.geboorte.map(gebeurtenis)),
                    ("aangaanHuwelijkPartnerschap", Some(gebeurtenis(&x.aangaan))),
                    (
                        "ontbindingHuwelijkPartnerschap",
                        x.ontbinding.map(|d| json!({"datum": d.to_json()})),
                    ),
                ]))
            })
            .collect()
    }
}

struct RelativeView<'a> {
    bsn: Option<&'a str>,
    naam: &'a Naam,
    geslacht: Geslacht,
    geboorte: Option<&'a Gebeurtenis>,
}

fn insert(v: &mut Value, key: &str, value: Value) {
    if let Value::Object(m) = v {
        m.insert(key.to_owned(), value);
    }
}

fn insert_at(v: &mut Value, index: usize, key: &str, value: Value) {
    if let Value::Object(m) = v {
        let index = index.min(m.len());
        m.shift_insert(index, key.to_owned(), value);
    }
}
