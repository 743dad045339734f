//! The seeded generator: households at shared addresses, families linked by BSN, and the
//! quirks tests need (deceased, emigrated, RNI, geheimhouding, in onderzoek, one crowded
//! address, RvIG's test person 999993653).
//!
//! Everything is drawn from one SplitMix64 stream in a fixed order, so one seed and one
//! `persons` count always give the same persons; nothing here looks at the clock.

use std::collections::{HashMap, HashSet};

use super::date::{BrpDate, Datum};
use super::model::{
    BrpAddress, BrpPerson, BrpStatus, ExternalPerson, Gebeurtenis, Geslacht, Naam, Nationaliteit,
    NationaliteitSoort, Onderzoek, Ouder, Partner, Plaats, Relative, Rni, Verblijf,
};
use super::tables::{
    self, BUITENLAND, Buitenland, GESLACHTSNAMEN, Gemeente, LANGE_STRATEN, LOCATIEBESCHRIJVINGEN,
    NEDERLAND, NEDERLANDSE, REDEN_NL_GEBOORTE, REDEN_NL_NATURALISATIE, REDEN_STAATLOOS,
    REDEN_VREEMD, RNI_DEELNEMERS, RNI_GEMEENTE, STRAAT_STAMMEN, STRAAT_SUFFIXEN, VERBLIJFSTITELS,
    VOORNAMEN_M, VOORNAMEN_O, VOORNAMEN_V,
};
use crate::rng::SplitMix64;

/// The date the generated histories end (births, moves and deaths all lie before it). Fixed, so
/// the data do not depend on when they are generated.
pub(crate) const GENERATION_DATE: BrpDate = BrpDate::new(2025, 1, 1);

/// RvIG's test person from the "testset persoonslijsten proefomgeving GBA-V" (Lg01_716).
pub(crate) const SUZANNE_BSN: &str = "999993653";

/// Start of the GBA: persons already registered then have this datumEersteInschrijvingGBA.
const GBA_START: BrpDate = BrpDate::new(1994, 10, 1);

/// Addresses and persons the tests can name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrpKnown {
    /// RvIG's test person Suzanne Moulin (999993653), Boterdiep 31, 3077AW Rotterdam (0599).
    pub suzanne_moulin: String,
    /// An address in the own municipality with more than 10 living residents (and one
    /// deceased): a postcode + huisnummer search there answers `tooManyResults`.
    pub crowded_address: KnownAddress,
    /// An address with exactly 10 living and 2 deceased residents: 10 hits by default,
    /// `tooManyResults` with `inclusiefOverledenPersonen: true`.
    pub boundary_address: KnownAddress,
    /// A couple of whom exactly one has `geheimhoudingPersoonsgegevens`.
    pub mixed_geheim_address: KnownAddress,
    /// Units sharing one postcode + huisnummer: huisletter A, huisletter B, and B with
    /// huisnummertoevoeging 2.
    pub split_units: Vec<KnownAddress>,
    /// Two married parents and their minor children at one address, all in the data set.
    pub family: KnownFamily,
    /// A living person whose (former) partner in the data set is deceased.
    pub widow: String,
    /// The deceased partner of [`BrpKnown::widow`].
    pub widow_partner: String,
}

/// One address with who lives there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownAddress {
    /// Gemeente code.
    pub gemeente_code: String,
    /// Official street name.
    pub straat: String,
    /// Huisnummer.
    pub huisnummer: u32,
    /// Huisletter, if any.
    pub huisletter: Option<String>,
    /// Huisnummertoevoeging, if any.
    pub huisnummertoevoeging: Option<String>,
    /// Postcode without space.
    pub postcode: String,
    /// BAG nummeraanduiding id.
    pub nummeraanduiding_identificatie: String,
    /// BAG adresseerbaar object id.
    pub adresseerbaar_object_identificatie: String,
    /// BSNs of the living residents.
    pub living: Vec<String>,
    /// BSNs of residents who died there.
    pub deceased: Vec<String>,
}

/// A family at one address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownFamily {
    /// Mother (ouder 1) and father (ouder 2).
    pub parents: Vec<String>,
    /// The minor children.
    pub children: Vec<String>,
    /// Their address.
    pub address: KnownAddress,
}

pub(crate) struct Generated {
    pub(crate) persons: Vec<BrpPerson>,
    pub(crate) addresses: Vec<BrpAddress>,
    pub(crate) known: BrpKnown,
}

struct Street {
    officieel: String,
    kort: String,
    woonplaats: String,
    postcode: String,
    next_nr: u32,
    in_postcode: u32,
}

struct Gen {
    rng: SplitMix64,
    persons: Vec<BrpPerson>,
    addresses: Vec<BrpAddress>,
    used_bsn: HashSet<String>,
    used_anr: HashSet<String>,
    used_postcodes: HashSet<String>,
    streets: HashMap<&'static str, Vec<Street>>,
    street_names: HashSet<(&'static str, String)>,
    serial: u64,
    target: usize,
    own: Gemeente,
}

/// Where a person comes from.
#[derive(Clone, Copy)]
enum Origin {
    /// Born in a Dutch municipality.
    Nl,
    /// Born abroad; settled here on the given date.
    Abroad(&'static Buitenland, BrpDate),
}

struct NewPerson {
    born: BrpDate,
    geslacht: Geslacht,
    surname: (&'static str, String),
    origin: Origin,
    verblijf: Verblijf,
    gemeente: Gemeente,
    since: BrpDate,
}

pub(crate) fn generate(seed: u64, target: usize, own: Gemeente) -> Generated {
    let mut g = Gen {
        rng: SplitMix64::for_stream(seed, "brp.personen"),
        persons: Vec::with_capacity(target),
        addresses: Vec::with_capacity(target / 2 + 8),
        used_bsn: HashSet::with_capacity(target),
        used_anr: HashSet::with_capacity(target),
        used_postcodes: HashSet::new(),
        streets: HashMap::new(),
        street_names: HashSet::new(),
        serial: 0,
        target,
        own,
    };
    g.serial = 100_000 + g.rng.below(800_000);
    let mut known = BrpKnown::default();
    g.special(&mut known);
    let first_random = g.persons.len();
    while g.room() > 0 {
        g.household();
    }
    g.deaths(first_random);
    g.sprinkle(first_random);
    Generated {
        persons: g.persons,
        addresses: g.addresses,
        known,
    }
}

fn date_between(rng: &mut SplitMix64, lo: BrpDate, hi: BrpDate) -> BrpDate {
    let span = u64::try_from(hi.days() - lo.days()).unwrap_or(0);
    lo.add_days(i64::try_from(rng.below(span + 1)).unwrap_or(0))
}

fn years(d: BrpDate, n: i32) -> BrpDate {
    // 29 February plus whole years lands on 1 March where needed.
    let day = if d.month == 2 && d.day == 29 {
        28
    } else {
        d.day
    };
    BrpDate::new(d.year + n, d.month, day)
}

fn later(a: BrpDate, b: BrpDate) -> BrpDate {
    if a > b { a } else { b }
}

/// A fresh BSN passing the 11-proef (weights 9..2, −1), first digit never 0.
fn bsn(rng: &mut SplitMix64, used: &mut HashSet<String>) -> String {
    loop {
        let mut s = String::with_capacity(9);
        let mut sum: u64 = 0;
        for i in 0..8u64 {
            let d = if i == 0 {
                rng.range(1, 9)
            } else {
                rng.below(10)
            };
            sum += d * (9 - i);
            s.push(char::from(b'0' + u8::try_from(d).unwrap_or(0)));
        }
        let check = sum % 11;
        if check == 10 {
            continue;
        }
        s.push(char::from(b'0' + u8::try_from(check).unwrap_or(0)));
        if used.insert(s.clone()) {
            return s;
        }
    }
}

/// A fresh A-nummer: 10 digits, no two adjacent digits equal, digit sum ≡ 5 (mod 11) and
/// Σ dᵢ·2⁽⁹⁻ⁱ⁾ ≡ 0 (mod 11).
fn a_nummer(rng: &mut SplitMix64, used: &mut HashSet<String>) -> String {
    loop {
        let mut digits = [0u64; 10];
        let mut prev = 10;
        let mut sum = 0;
        for (i, d) in digits.iter_mut().take(9).enumerate() {
            let mut v = if i == 0 {
                rng.range(1, 9)
            } else {
                rng.below(10)
            };
            if v == prev {
                v = (v + 1) % 10;
            }
            *d = v;
            prev = v;
            sum += v;
        }
        let last = (5 + 11 * 9 - sum % 11) % 11;
        if last > 9 || last == prev {
            continue;
        }
        if let Some(d) = digits.get_mut(9) {
            *d = last;
        }
        let weighted: u64 = digits
            .iter()
            .enumerate()
            .map(|(i, d)| d * (1u64 << (9 - i)))
            .sum();
        if !weighted.is_multiple_of(11) {
            continue;
        }
        let s: String = digits
            .iter()
            .map(|d| char::from(b'0' + u8::try_from(*d).unwrap_or(0)))
            .collect();
        if used.insert(s.clone()) {
            return s;
        }
    }
}

fn letter(rng: &mut SplitMix64) -> char {
    char::from(b'A' + u8::try_from(rng.below(26)).unwrap_or(0))
}

/// The four-digit postcode range of a woonplaats (real ranges for the large places, a stable
/// made-up range for the others).
fn postcode_range(gemeente: &str, woonplaats: &str) -> (u64, u64) {
    match (gemeente, woonplaats) {
        ("0363", "Weesp") => (1381, 1384),
        ("0363", _) => (1011, 1109),
        ("0384", _) => (1111, 1115),
        ("0362", _) => (1181, 1189),
        ("0479", _) => (1501, 1509),
        ("0392", _) => (2011, 2037),
        ("0599", _) => (3011, 3089),
        ("0518", _) => (2491, 2597),
        ("0344", _) => (3511, 3585),
        ("0014", _) => (9711, 9747),
        _ => {
            let n: u64 = gemeente.parse().unwrap_or(0);
            let base = 1000 + (n * 37) % 8900;
            (base, base + 9)
        }
    }
}

fn fresh_postcode(rng: &mut SplitMix64, used: &mut HashSet<String>, range: (u64, u64)) -> String {
    loop {
        let digits = rng.range(range.0, range.1);
        let (a, b) = (letter(rng), letter(rng));
        // SA, SD and SS are not issued.
        if a == 'S' && matches!(b, 'A' | 'D' | 'S') {
            continue;
        }
        let pc = format!("{digits}{a}{b}");
        if used.insert(pc.clone()) {
            return pc;
        }
    }
}

impl Gen {
    fn room(&self) -> usize {
        self.target.saturating_sub(self.persons.len())
    }

    fn person(&self, i: usize) -> Option<&BrpPerson> {
        self.persons.get(i)
    }

    fn born(&self, i: usize) -> BrpDate {
        self.person(i)
            .and_then(|p| p.geboorte.datum.full())
            .unwrap_or(BrpDate::new(1970, 1, 1))
    }

    fn pick_gemeente(&mut self) -> (Gemeente, String) {
        let roll = self.rng.below(100);
        if roll < 85 {
            let woonplaats = if self.own.code == "0363" && self.rng.chance(3) {
                "Weesp".to_owned()
            } else {
                self.own.naam.to_owned()
            };
            return (self.own, woonplaats);
        }
        let nearby = ["0384", "0362", "0479", "0392", "0599", "0518", "0344"];
        let g = if roll < 95 {
            self.rng
                .pick(&nearby)
                .and_then(|c| tables::gemeente(c))
                .unwrap_or(self.own)
        } else {
            self.rng
                .pick(tables::gemeenten())
                .copied()
                .unwrap_or(self.own)
        };
        (g, g.naam.to_owned())
    }

    fn next_ids(&mut self, gemeente: &str) -> (String, String) {
        self.serial += 1 + self.rng.below(3);
        let num = format!("{gemeente}20{:010}", self.serial);
        let obj = format!("{gemeente}01{:010}", self.serial + 7_000_000);
        (num, obj)
    }

    /// A new street name unique within the municipality.
    fn street_name(&mut self, gemeente: &'static str) -> (String, String) {
        for _ in 0..50 {
            let (officieel, kort) = if self.rng.chance(3) {
                let (o, k) = self
                    .rng
                    .pick(LANGE_STRATEN)
                    .copied()
                    .unwrap_or(("Dorpsstraat", "Dorpsstraat"));
                (o.to_owned(), k.to_owned())
            } else {
                let name = format!(
                    "{}{}",
                    self.rng.pick_str(STRAAT_STAMMEN),
                    self.rng.pick_str(STRAAT_SUFFIXEN)
                );
                (name.clone(), name)
            };
            if self.street_names.insert((gemeente, officieel.clone())) {
                return (officieel, kort);
            }
        }
        let n = self.street_names.len();
        let name = format!("Nieuwe Straat {n}");
        self.street_names.insert((gemeente, name.clone()));
        (name.clone(), name)
    }

    fn push_address(&mut self, a: BrpAddress) -> usize {
        self.addresses.push(a);
        self.addresses.len() - 1
    }

    /// A new address on a (new or existing) street of the woonplaats.
    fn new_address(&mut self, g: Gemeente, woonplaats: &str) -> usize {
        let reuse = self.rng.chance(80);
        let has_street = self.streets.get(g.code).is_some_and(|v| {
            v.iter()
                .any(|s| s.woonplaats == woonplaats && s.next_nr < 400)
        });
        if !(reuse && has_street) {
            let (officieel, kort) = self.street_name(g.code);
            let range = postcode_range(g.code, woonplaats);
            let postcode = fresh_postcode(&mut self.rng, &mut self.used_postcodes, range);
            let next_nr = u32::try_from(self.rng.range(1, 20)).unwrap_or(1);
            self.streets.entry(g.code).or_default().push(Street {
                officieel,
                kort,
                woonplaats: woonplaats.to_owned(),
                postcode,
                next_nr,
                in_postcode: 0,
            });
        }
        let step = u32::try_from(self.rng.range(1, 2)).unwrap_or(1);
        let new_postcode = self.rng.chance(6);
        let Some(candidates) = self.streets.get_mut(g.code) else {
            return 0;
        };
        let eligible: Vec<usize> = candidates
            .iter()
            .enumerate()
            .filter(|(_, s)| s.woonplaats == woonplaats && s.next_nr < 400)
            .map(|(i, _)| i)
            .collect();
        let pick = if reuse {
            self.rng.pick(&eligible).copied()
        } else {
            eligible.last().copied()
        };
        let Some(street) = pick.and_then(|i| candidates.get_mut(i)) else {
            return 0;
        };
        let huisnummer = street.next_nr;
        street.next_nr += step;
        street.in_postcode += 1;
        if street.in_postcode > 12 || new_postcode {
            street.postcode = fresh_postcode(
                &mut self.rng,
                &mut self.used_postcodes,
                postcode_range(g.code, woonplaats),
            );
            street.in_postcode = 0;
        }
        let (officieel, kort, postcode) = (
            street.officieel.clone(),
            street.kort.clone(),
            street.postcode.clone(),
        );
        let huisletter = self
            .rng
            .chance(6)
            .then(|| if self.rng.chance(50) { "A" } else { "B" }.to_owned());
        let toevoeging = self.rng.chance(7).then(|| {
            self.rng
                .pick_str(&["1", "2", "3", "H", "bis", "1-R"])
                .to_owned()
        });
        let (num, obj) = self.next_ids(g.code);
        self.push_address(BrpAddress {
            gemeente_code: g.code.to_owned(),
            woonplaats: woonplaats.to_owned(),
            officiele_straatnaam: officieel,
            korte_straatnaam: kort,
            huisnummer,
            huisletter,
            huisnummertoevoeging: toevoeging,
            postcode,
            nummeraanduiding_identificatie: num,
            adresseerbaar_object_identificatie: obj,
            residents: Vec::new(),
        })
    }

    /// An address on a named street with a fresh postcode (for the special households).
    fn named_address(
        &mut self,
        g: Gemeente,
        straat: &str,
        huisnummer: u32,
        units: &[(Option<&str>, Option<&str>)],
    ) -> Vec<usize> {
        self.street_names.insert((g.code, straat.to_owned()));
        let postcode = fresh_postcode(
            &mut self.rng,
            &mut self.used_postcodes,
            postcode_range(g.code, g.naam),
        );
        let mut out = Vec::new();
        for (letter, toevoeging) in units {
            let (num, obj) = self.next_ids(g.code);
            let i = self.push_address(BrpAddress {
                gemeente_code: g.code.to_owned(),
                woonplaats: g.naam.to_owned(),
                officiele_straatnaam: straat.to_owned(),
                korte_straatnaam: straat.to_owned(),
                huisnummer,
                huisletter: letter.map(str::to_owned),
                huisnummertoevoeging: toevoeging.map(str::to_owned),
                postcode: postcode.clone(),
                nummeraanduiding_identificatie: num,
                adresseerbaar_object_identificatie: obj,
                residents: Vec::new(),
            });
            out.push(i);
        }
        out
    }

    fn voornamen(&mut self, geslacht: Geslacht) -> String {
        let list = match geslacht {
            Geslacht::Man => VOORNAMEN_M,
            Geslacht::Vrouw => VOORNAMEN_V,
            Geslacht::Onbekend => VOORNAMEN_O,
        };
        let n = match self.rng.below(10) {
            0..=4 => 1,
            5..=8 => 2,
            _ => 3,
        };
        let mut names: Vec<&str> = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.rng.pick_str(list);
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names.join(" ")
    }

    fn surname(&mut self) -> (&'static str, String) {
        let (v, n) = self
            .rng
            .pick(GESLACHTSNAMEN)
            .copied()
            .unwrap_or(("", "Jansen"));
        (v, n.to_owned())
    }

    fn random_geslacht(&mut self) -> Geslacht {
        match self.rng.below(1000) {
            0..=489 => Geslacht::Man,
            490..=994 => Geslacht::Vrouw,
            _ => Geslacht::Onbekend,
        }
    }

    fn birthplace_nl(&mut self) -> Gemeente {
        if self.rng.chance(60) {
            self.own
        } else {
            self.rng
                .pick(tables::gemeenten())
                .copied()
                .unwrap_or(self.own)
        }
    }

    fn external_parent(
        &mut self,
        child_born: BrpDate,
        geslacht: Geslacht,
        surname: Option<(&'static str, String)>,
        origin: Origin,
    ) -> ExternalPerson {
        let (voorvoegsel, geslachtsnaam) = match surname {
            Some(s) => s,
            None => self.surname(),
        };
        let age = i32::try_from(self.rng.range(20, 40)).unwrap_or(30);
        let born = date_between(
            &mut self.rng,
            years(child_born, -age - 1),
            years(child_born, -age),
        );
        let geboorte = match origin {
            Origin::Nl => {
                let g = self.birthplace_nl();
                Gebeurtenis {
                    datum: Datum::Volledig(born),
                    plaats: Plaats::Gemeente(g),
                    land: NEDERLAND,
                }
            }
            Origin::Abroad(b, _) => Gebeurtenis {
                datum: if self.rng.chance(15) {
                    Datum::Jaar(born.year)
                } else {
                    Datum::Volledig(born)
                },
                plaats: Plaats::Buitenland(self.rng.pick_str(b.plaatsen)),
                land: b.land,
            },
        };
        ExternalPerson {
            bsn: None,
            naam: Naam {
                voornamen: self.voornamen(geslacht),
                voorvoegsel,
                geslachtsnaam,
                titel: None,
            },
            geslacht,
            geboorte: Some(geboorte),
        }
    }

    fn nationaliteiten(&mut self, born: BrpDate, origin: Origin) -> Vec<Nationaliteit> {
        match origin {
            Origin::Nl => {
                let mut v = vec![Nationaliteit {
                    soort: NationaliteitSoort::Bekend(NEDERLANDSE),
                    reden: REDEN_NL_GEBOORTE,
                    datum_ingang: Datum::Volledig(born),
                }];
                if self.rng.chance(3)
                    && let Some(b) = self.rng.pick(BUITENLAND)
                {
                    v.push(Nationaliteit {
                        soort: NationaliteitSoort::Bekend(b.nationaliteit),
                        reden: REDEN_VREEMD,
                        datum_ingang: Datum::Volledig(born),
                    });
                }
                v
            }
            Origin::Abroad(b, arrived) => {
                if self.rng.chance(1) {
                    return vec![Nationaliteit {
                        soort: NationaliteitSoort::Staatloos,
                        reden: REDEN_STAATLOOS,
                        datum_ingang: Datum::Volledig(arrived),
                    }];
                }
                let mut v = Vec::with_capacity(2);
                let naturalised = arrived.years_until(GENERATION_DATE) > 6 && self.rng.chance(35);
                if naturalised {
                    let on = date_between(&mut self.rng, years(arrived, 5), years(arrived, 6));
                    v.push(Nationaliteit {
                        soort: NationaliteitSoort::Bekend(NEDERLANDSE),
                        reden: REDEN_NL_NATURALISATIE,
                        datum_ingang: Datum::Volledig(on),
                    });
                }
                if !naturalised || self.rng.chance(50) {
                    v.push(Nationaliteit {
                        soort: NationaliteitSoort::Bekend(b.nationaliteit),
                        reden: REDEN_VREEMD,
                        datum_ingang: if self.rng.chance(10) {
                            Datum::Onbekend
                        } else {
                            Datum::Volledig(arrived)
                        },
                    });
                }
                v
            }
        }
    }

    fn new_person(&mut self, spec: NewPerson) -> usize {
        let NewPerson {
            born,
            geslacht,
            surname,
            origin,
            verblijf,
            gemeente,
            since,
        } = spec;
        let bsn = bsn(&mut self.rng, &mut self.used_bsn);
        let a_nummer = a_nummer(&mut self.rng, &mut self.used_anr);
        // About one in five hundred carries a predicaat.
        let titel = (self.rng.chance(1) && self.rng.chance(20)).then_some(match geslacht {
            Geslacht::Vrouw => ("JV", "jonkvrouw", "predicaat"),
            _ => ("JH", "jonkheer", "predicaat"),
        });
        let naam = Naam {
            voornamen: self.voornamen(geslacht),
            voorvoegsel: surname.0,
            geslachtsnaam: surname.1,
            titel,
        };
        let geboorte = match origin {
            Origin::Nl => Gebeurtenis {
                datum: Datum::Volledig(born),
                plaats: Plaats::Gemeente(self.birthplace_nl()),
                land: NEDERLAND,
            },
            Origin::Abroad(b, _) => Gebeurtenis {
                // Foreign civil records sometimes lack the day or the month.
                datum: match self.rng.below(100) {
                    0..=3 => Datum::JaarMaand(born.year, born.month),
                    4 => Datum::Jaar(born.year),
                    _ => Datum::Volledig(born),
                },
                plaats: Plaats::Buitenland(self.rng.pick_str(b.plaatsen)),
                land: b.land,
            },
        };
        let nationaliteiten = self.nationaliteiten(born, origin);
        let (immigratie, eerste) = match origin {
            Origin::Nl => (None, later(born, GBA_START)),
            Origin::Abroad(b, arrived) => (
                Some((b.land.0, b.land.1, Datum::Volledig(arrived))),
                later(arrived, GBA_START),
            ),
        };
        let dutch = nationaliteiten.iter().any(|n| {
            n.soort == NationaliteitSoort::Bekend(NEDERLANDSE)
                || n.soort == NationaliteitSoort::BehandeldAlsNederlander
        });
        let eu = nationaliteiten.iter().any(|n| {
            matches!(n.soort, NationaliteitSoort::Bekend((code, _))
                if matches!(code, "0052" | "0057" | "0072" | "0077"))
        });
        let verblijfstitel = (!dutch && !eu)
            .then(|| {
                self.rng.pick(VERBLIJFSTITELS).copied().map(|t| {
                    let since = match origin {
                        Origin::Abroad(_, arrived) => arrived,
                        Origin::Nl => born,
                    };
                    (t, Datum::Volledig(since))
                })
            })
            .flatten();
        let datum_inschrijving = Datum::Volledig(later(born, later(since, eerste)));
        let addr = match verblijf {
            Verblijf::Adres { addr, .. } => Some(addr),
            _ => None,
        };
        let person = BrpPerson {
            bsn,
            a_nummer,
            naam,
            geslacht,
            geboorte,
            nationaliteiten,
            verblijf,
            gemeente,
            datum_inschrijving_gemeente: datum_inschrijving,
            datum_eerste_inschrijving: Datum::Volledig(eerste),
            immigratie,
            overlijden: None,
            opschorting: None,
            geheim: false,
            onderzoek: None,
            partners: Vec::new(),
            ouders: Vec::new(),
            kinderen: Vec::new(),
            verblijfstitel,
            curatele: false,
            rni: Vec::new(),
            verificatie: None,
            status: BrpStatus::Resident,
        };
        self.persons.push(person);
        let i = self.persons.len() - 1;
        if let Some(a) = addr.and_then(|addr| self.addresses.get_mut(addr)) {
            a.residents.push(i);
        }
        i
    }

    /// An adult living at `addr` since some date after turning 18.
    fn adult_at(
        &mut self,
        addr: usize,
        g: Gemeente,
        born_range: (i32, i32),
        geslacht: Geslacht,
        surname: Option<(&'static str, String)>,
        moved_in: Option<BrpDate>,
    ) -> usize {
        let born = date_between(
            &mut self.rng,
            BrpDate::new(born_range.0, 1, 1),
            BrpDate::new(born_range.1, 12, 31),
        );
        let origin = if self.rng.chance(12) {
            let b = self.rng.pick(BUITENLAND).unwrap_or(&tables::BELGIE);
            let arrived = date_between(
                &mut self.rng,
                later(years(born, 16), BrpDate::new(1965, 1, 1)),
                GENERATION_DATE.add_days(-60),
            );
            Origin::Abroad(b, arrived)
        } else {
            Origin::Nl
        };
        let earliest = later(years(born, 18), BrpDate::new(1985, 1, 1));
        let earliest = match origin {
            Origin::Abroad(_, arrived) => later(earliest, arrived),
            Origin::Nl => earliest,
        };
        let since = moved_in.unwrap_or_else(|| {
            date_between(&mut self.rng, earliest, GENERATION_DATE.add_days(-30))
        });
        let since = later(since, earliest.min(GENERATION_DATE.add_days(-30)));
        let surname = match surname {
            Some(s) => s,
            None => self.surname(),
        };
        let i = self.new_person(NewPerson {
            born,
            geslacht,
            surname: surname.clone(),
            origin,
            verblijf: Verblijf::Adres {
                addr,
                datum_van: Datum::Volledig(since),
            },
            gemeente: g,
            since,
        });
        // Parents outside the data set: ouder 1 the mother, ouder 2 the father (whose surname the
        // person usually carries).
        let mother = self.external_parent(born, Geslacht::Vrouw, None, origin);
        let father = self.external_parent(born, Geslacht::Man, Some(surname), origin);
        if let Some(p) = self.persons.get_mut(i) {
            p.ouders.push(Ouder {
                who: Relative::External(Box::new(mother)),
                aanduiding: 1,
                datum_ingang: Datum::Volledig(born),
            });
            p.ouders.push(Ouder {
                who: Relative::External(Box::new(father)),
                aanduiding: 2,
                datum_ingang: Datum::Volledig(born),
            });
        }
        i
    }

    /// A child of `mother` and (optionally) `father`, living at `addr`.
    fn child_at(
        &mut self,
        addr: usize,
        g: Gemeente,
        mother: usize,
        father: Option<usize>,
        born: BrpDate,
        household_since: BrpDate,
    ) -> usize {
        let surname_of = father.unwrap_or(mother);
        let surname = self
            .person(surname_of)
            .map(|p| (p.naam.voorvoegsel, p.naam.geslachtsnaam.clone()))
            .unwrap_or(("", "Jansen".to_owned()));
        let geslacht = self.random_geslacht();
        let since = later(born, household_since);
        let i = self.new_person(NewPerson {
            born,
            geslacht,
            surname,
            origin: Origin::Nl,
            verblijf: Verblijf::Adres {
                addr,
                datum_van: Datum::Volledig(since),
            },
            gemeente: g,
            since,
        });
        self.link_parent(i, mother, 1, born);
        if let Some(f) = father {
            self.link_parent(i, f, 2, born);
        }
        i
    }

    fn link_parent(&mut self, child: usize, parent: usize, aanduiding: u8, born: BrpDate) {
        if let Some(c) = self.persons.get_mut(child) {
            c.ouders.retain(|o| o.aanduiding != aanduiding);
            c.ouders.push(Ouder {
                who: Relative::Person(parent),
                aanduiding,
                datum_ingang: Datum::Volledig(born),
            });
            c.ouders.sort_by_key(|o| o.aanduiding);
        }
        if let Some(p) = self.persons.get_mut(parent) {
            p.kinderen.push(Relative::Person(child));
        }
    }

    fn marry(&mut self, a: usize, b: usize, on: BrpDate, soort: char, g: Gemeente) {
        let aangaan = Gebeurtenis {
            datum: Datum::Volledig(on),
            plaats: Plaats::Gemeente(g),
            land: NEDERLAND,
        };
        for (x, y) in [(a, b), (b, a)] {
            if let Some(p) = self.persons.get_mut(x) {
                p.partners.push(Partner {
                    who: Relative::Person(y),
                    soort,
                    aangaan: aangaan.clone(),
                    ontbinding: None,
                });
            }
        }
    }

    /// Records a death: overlijden, opschorting "O", and the end of any partnership.
    fn die(&mut self, i: usize, on: BrpDate) {
        let mut partners = Vec::new();
        if let Some(p) = self.persons.get_mut(i) {
            let g = if p.gemeente.code == RNI_GEMEENTE.0 {
                None
            } else {
                Some(p.gemeente)
            };
            p.overlijden = Some(Gebeurtenis {
                datum: Datum::Volledig(on),
                plaats: g.map_or(Plaats::Buitenland("onbekend"), Plaats::Gemeente),
                land: NEDERLAND,
            });
            p.opschorting = Some(("O", "overlijden", Datum::Volledig(on)));
            p.status = BrpStatus::Deceased;
            p.verblijfstitel = None;
            for partner in &mut p.partners {
                if partner.ontbinding.is_none() {
                    partner.ontbinding = Some(Datum::Volledig(on));
                    if let Relative::Person(j) = partner.who {
                        partners.push(j);
                    }
                }
            }
        }
        for j in partners {
            if let Some(q) = self.persons.get_mut(j) {
                for partner in &mut q.partners {
                    if partner.who == Relative::Person(i) && partner.ontbinding.is_none() {
                        partner.ontbinding = Some(Datum::Volledig(on));
                    }
                }
            }
        }
    }

    fn death_date(&mut self, i: usize) -> BrpDate {
        let since = self
            .person(i)
            .and_then(|p| match p.verblijf {
                Verblijf::Adres { datum_van, .. } => datum_van.full(),
                _ => None,
            })
            .unwrap_or(BrpDate::new(2000, 1, 1));
        let lo = later(since.add_days(30), BrpDate::new(2005, 1, 1));
        date_between(
            &mut self.rng,
            lo.min(GENERATION_DATE.add_days(-40)),
            GENERATION_DATE.add_days(-30),
        )
    }

    fn ex_partner(&mut self, i: usize) {
        let Some(p) = self.person(i) else { return };
        let born = p.geboorte.datum.full().unwrap_or(BrpDate::new(1970, 1, 1));
        let geslacht = match p.geslacht {
            Geslacht::Man => Geslacht::Vrouw,
            _ => Geslacht::Man,
        };
        let (voorvoegsel, geslachtsnaam) = self.surname();
        let ex = ExternalPerson {
            bsn: self
                .rng
                .chance(50)
                .then(|| bsn(&mut self.rng, &mut self.used_bsn)),
            naam: Naam {
                voornamen: self.voornamen(geslacht),
                voorvoegsel,
                geslachtsnaam,
                titel: None,
            },
            geslacht,
            geboorte: Some(Gebeurtenis {
                datum: Datum::Volledig(date_between(
                    &mut self.rng,
                    years(born, -4),
                    years(born, 4),
                )),
                plaats: Plaats::Gemeente(self.birthplace_nl()),
                land: NEDERLAND,
            }),
        };
        let married = later(years(born, 22), BrpDate::new(1980, 1, 1));
        let married = date_between(&mut self.rng, married, later(married, years(born, 35)));
        let ended = date_between(
            &mut self.rng,
            married.add_days(400),
            later(married.add_days(400), GENERATION_DATE.add_days(-60)),
        );
        let g = self.birthplace_nl();
        if let Some(p) = self.persons.get_mut(i) {
            p.partners.push(Partner {
                who: Relative::External(Box::new(ex)),
                soort: 'H',
                aangaan: Gebeurtenis {
                    datum: Datum::Volledig(married),
                    plaats: Plaats::Gemeente(g),
                    land: NEDERLAND,
                },
                ontbinding: Some(Datum::Volledig(ended)),
            });
        }
    }

    fn opposite(&mut self, g: Geslacht) -> Geslacht {
        // Mostly mixed couples; some same-sex couples.
        if self.rng.chance(6) {
            return g;
        }
        match g {
            Geslacht::Man => Geslacht::Vrouw,
            _ => Geslacht::Man,
        }
    }

    /// A couple at `addr`; returns (first, second). Married, partnered or just living together.
    fn couple_at(
        &mut self,
        addr: usize,
        g: Gemeente,
        born_range: (i32, i32),
        head: Option<usize>,
    ) -> (usize, usize) {
        let a = match head {
            Some(h) => h,
            None => {
                let geslacht = self.random_geslacht();
                self.adult_at(addr, g, born_range, geslacht, None, None)
            }
        };
        let since = self.person(a).and_then(|p| match p.verblijf {
            Verblijf::Adres { datum_van, .. } => datum_van.full(),
            _ => None,
        });
        let a_born = self.born(a);
        let geslacht_a = self.person(a).map_or(Geslacht::Man, |p| p.geslacht);
        let geslacht_b = self.opposite(geslacht_a);
        let b_range = (a_born.year - 4, (a_born.year + 4).min(2005));
        let b = self.adult_at(addr, g, b_range, geslacht_b, None, since);
        let roll = self.rng.below(100);
        if roll < 75 {
            let soort = if roll < 65 { 'H' } else { 'P' };
            let lo = later(
                years(a_born.max(self.born(b)), 20),
                BrpDate::new(1975, 1, 1),
            );
            let on = date_between(
                &mut self.rng,
                lo.min(GENERATION_DATE.add_days(-60)),
                GENERATION_DATE.add_days(-40),
            );
            self.marry(a, b, on, soort, g);
        }
        (a, b)
    }

    fn kids(&mut self, addr: usize, g: Gemeente, mother: usize, father: Option<usize>, n: u64) {
        let m_born = self.born(mother);
        let since = self
            .person(mother)
            .and_then(|p| match p.verblijf {
                Verblijf::Adres { datum_van, .. } => datum_van.full(),
                _ => None,
            })
            .unwrap_or(GENERATION_DATE);
        let lo = years(m_born, 20);
        let hi = years(m_born, 42).min(GENERATION_DATE.add_days(-1));
        if lo > hi {
            return;
        }
        for _ in 0..n {
            if self.room() == 0 {
                return;
            }
            let born = date_between(&mut self.rng, lo, hi);
            self.child_at(addr, g, mother, father, born, since);
        }
    }

    fn household(&mut self) {
        let (g, woonplaats) = self.pick_gemeente();
        let roll = self.rng.below(1000);
        match roll {
            0..=11 => self.emigrated(),
            12..=21 => self.rni_person(),
            22..=24 => self.whereabouts_unknown(),
            25..=27 => self.locatie(g, &woonplaats),
            28..=169 => {
                let addr = self.new_address(g, &woonplaats);
                let geslacht = self.random_geslacht();
                let p = self.adult_at(addr, g, (1935, 2005), geslacht, None, None);
                if self.rng.chance(20) {
                    self.ex_partner(p);
                }
                if self.born(p).year < 1950 && self.rng.chance(25) {
                    let on = self.death_date(p);
                    self.die(p, on);
                }
            }
            170..=449 => {
                let addr = self.new_address(g, &woonplaats);
                if self.room() >= 2 {
                    self.couple_at(addr, g, (1950, 2003), None);
                } else {
                    self.adult_at(addr, g, (1950, 2003), Geslacht::Vrouw, None, None);
                }
            }
            450..=779 => self.family(g, &woonplaats, None),
            780..=859 => {
                let addr = self.new_address(g, &woonplaats);
                let mother = self.adult_at(addr, g, (1975, 1998), Geslacht::Vrouw, None, None);
                self.ex_partner(mother);
                let n = self.rng.range(1, 2);
                self.kids(addr, g, mother, None, n);
            }
            860..=919 => {
                let addr = self.new_address(g, &woonplaats);
                let n = self.rng.range(2, 4);
                for _ in 0..n {
                    if self.room() == 0 {
                        break;
                    }
                    let geslacht = self.random_geslacht();
                    self.adult_at(addr, g, (1995, 2005), geslacht, None, None);
                }
            }
            920..=959 => self.duplex(g, &woonplaats),
            _ => self.elderly(g, &woonplaats),
        }
    }

    fn family(&mut self, g: Gemeente, woonplaats: &str, head: Option<usize>) {
        let addr = self.new_address(g, woonplaats);
        if let Some(h) = head {
            self.move_to(h, addr, g);
        }
        if self.room() < 2 && head.is_none() {
            let geslacht = self.random_geslacht();
            self.adult_at(addr, g, (1970, 2000), geslacht, None, None);
            return;
        }
        let (a, b) = if self.room() >= 1 {
            self.couple_at(addr, g, (1970, 2000), head)
        } else {
            return;
        };
        let (mother, father) = match (
            self.person(a).map(|p| p.geslacht),
            self.person(b).map(|p| p.geslacht),
        ) {
            (Some(Geslacht::Vrouw), Some(Geslacht::Man)) => (a, Some(b)),
            (Some(Geslacht::Man), Some(Geslacht::Vrouw)) => (b, Some(a)),
            _ => (a, None),
        };
        let n = self.rng.range(1, 3);
        self.kids(addr, g, mother, father, n);
    }

    /// Moves an already generated person (an adult child leaving home) to `addr`.
    fn move_to(&mut self, i: usize, addr: usize, g: Gemeente) {
        let born = self.born(i);
        let lo = later(years(born, 19), BrpDate::new(1990, 1, 1));
        let since = date_between(
            &mut self.rng,
            lo.min(GENERATION_DATE.add_days(-30)),
            GENERATION_DATE.add_days(-30),
        );
        let old = self.person(i).and_then(BrpPerson::addr);
        if let Some(old) = old.and_then(|o| self.addresses.get_mut(o)) {
            old.residents.retain(|&r| r != i);
        }
        if let Some(p) = self.persons.get_mut(i) {
            p.verblijf = Verblijf::Adres {
                addr,
                datum_van: Datum::Volledig(since),
            };
            p.gemeente = g;
            p.datum_inschrijving_gemeente = Datum::Volledig(since);
        }
        if let Some(a) = self.addresses.get_mut(addr) {
            a.residents.push(i);
        }
    }

    fn duplex(&mut self, g: Gemeente, woonplaats: &str) {
        let first = self.new_address(g, woonplaats);
        let Some(base) = self.addresses.get(first).cloned() else {
            return;
        };
        let (num, obj) = self.next_ids(g.code);
        let second = self.push_address(BrpAddress {
            huisletter: None,
            huisnummertoevoeging: Some("2".to_owned()),
            nummeraanduiding_identificatie: num,
            adresseerbaar_object_identificatie: obj,
            residents: Vec::new(),
            ..base
        });
        if let Some(a) = self.addresses.get_mut(first) {
            a.huisletter = None;
            a.huisnummertoevoeging = Some("1".to_owned());
        }
        for addr in [first, second] {
            if self.room() == 0 {
                return;
            }
            if self.room() >= 2 && self.rng.chance(60) {
                self.couple_at(addr, g, (1960, 2003), None);
            } else {
                let geslacht = self.random_geslacht();
                self.adult_at(addr, g, (1960, 2003), geslacht, None, None);
            }
        }
    }

    fn elderly(&mut self, g: Gemeente, woonplaats: &str) {
        let addr = self.new_address(g, woonplaats);
        if self.room() < 2 {
            self.adult_at(addr, g, (1935, 1955), Geslacht::Vrouw, None, None);
            return;
        }
        let m = self.adult_at(addr, g, (1935, 1955), Geslacht::Man, None, None);
        let m_born = self.born(m);
        let since = self.person(m).and_then(|p| match p.verblijf {
            Verblijf::Adres { datum_van, .. } => datum_van.full(),
            _ => None,
        });
        let f = self.adult_at(
            addr,
            g,
            (m_born.year - 3, m_born.year + 2),
            Geslacht::Vrouw,
            None,
            since,
        );
        let younger = self.born(f).max(m_born);
        let on = date_between(&mut self.rng, years(younger, 21), years(younger, 30));
        self.marry(m, f, on, 'H', g);
        if self.rng.chance(35) {
            let who = if self.rng.chance(60) { m } else { f };
            let on = self.death_date(who);
            self.die(who, on);
        }
        // Adult children with households of their own, linked by BSN.
        if self.rng.chance(60) {
            let n = self.rng.range(1, 2);
            for _ in 0..n {
                if self.room() < 2 {
                    return;
                }
                let f_born = self.born(f);
                let born = date_between(
                    &mut self.rng,
                    years(f_born, 22),
                    years(f_born, 40).min(BrpDate::new(2000, 12, 31)),
                );
                let (g2, woonplaats2) = self.pick_gemeente();
                let addr2 = self.new_address(g2, &woonplaats2);
                let child = self.child_at(addr2, g2, f, Some(m), born, born);
                self.move_to(child, addr2, g2);
                match self.rng.below(3) {
                    0 => {}
                    1 => {
                        self.couple_at(addr2, g2, (born.year - 3, born.year + 3), Some(child));
                    }
                    _ => {
                        // Drop the fresh single address and found a family elsewhere.
                        if let Some(a) = self.addresses.get_mut(addr2) {
                            a.residents.retain(|&r| r != child);
                        }
                        self.family(g2, &woonplaats2, Some(child));
                    }
                }
            }
        }
    }

    fn abroad_address(&mut self, b: &'static Buitenland) -> (String, String, Option<String>) {
        let regel1 = format!(
            "{} {}",
            self.rng.pick_str(b.straten),
            self.rng.range(1, 200)
        );
        let regel2 = format!(
            "{} {}",
            self.rng.range(1000, 99_999),
            self.rng.pick_str(b.plaatsen)
        );
        let regel3 = self.rng.chance(20).then(|| "Bus 2".to_owned());
        (regel1, regel2, regel3)
    }

    fn rni() -> Gemeente {
        Gemeente {
            code: RNI_GEMEENTE.0,
            naam: RNI_GEMEENTE.1,
        }
    }

    /// Someone who lived here and emigrated: opschorting "E", verblijfplaats buitenland, RNI.
    fn emigrated(&mut self) {
        let (g, woonplaats) = self.pick_gemeente();
        let addr = self.new_address(g, &woonplaats);
        let geslacht = self.random_geslacht();
        let p = self.adult_at(addr, g, (1960, 2000), geslacht, None, None);
        let b = self.rng.pick(BUITENLAND).unwrap_or(&tables::BELGIE);
        let (regel1, regel2, regel3) = self.abroad_address(b);
        let left = self.death_date(p);
        if let Some(a) = self.addresses.get_mut(addr) {
            a.residents.retain(|&r| r != p);
        }
        if let Some(person) = self.persons.get_mut(p) {
            person.verblijf = Verblijf::Buitenland {
                regel1,
                regel2,
                regel3,
                land: b.land,
                datum_van: Datum::Volledig(left),
            };
            person.gemeente = Self::rni();
            person.datum_inschrijving_gemeente = Datum::Volledig(left);
            person.opschorting = Some(("E", "emigratie", Datum::Volledig(left)));
            person.status = BrpStatus::Emigrated;
            person.verblijfstitel = None;
        }
    }

    /// A non-resident registered in the RNI by a deelnemer (never lived here).
    fn rni_person(&mut self) {
        let b = self.rng.pick(BUITENLAND).unwrap_or(&tables::BELGIE);
        let born = date_between(
            &mut self.rng,
            BrpDate::new(1955, 1, 1),
            BrpDate::new(2002, 12, 31),
        );
        let registered = date_between(
            &mut self.rng,
            later(years(born, 18), BrpDate::new(2014, 1, 6)),
            GENERATION_DATE.add_days(-30),
        );
        let (regel1, regel2, regel3) = self.abroad_address(b);
        let geslacht = self.random_geslacht();
        let surname = self.surname();
        let p = self.new_person(NewPerson {
            born,
            geslacht,
            surname,
            origin: Origin::Abroad(b, registered),
            verblijf: Verblijf::Buitenland {
                regel1,
                regel2,
                regel3,
                land: b.land,
                datum_van: Datum::Volledig(registered),
            },
            gemeente: Self::rni(),
            since: registered,
        });
        let (code, omschrijving, verdrag) =
            self.rng
                .pick(RNI_DEELNEMERS)
                .copied()
                .unwrap_or(("0101", "Belastingdienst", None));
        let verificatie = self.rng.chance(50).then(|| {
            (
                Datum::Volledig(registered.add_days(14)),
                "Identiteit vastgesteld aan het loket",
            )
        });
        if let Some(person) = self.persons.get_mut(p) {
            person.immigratie = None;
            person.verblijfstitel = None;
            person.rni = vec![Rni {
                deelnemer: (code, omschrijving),
                verdrag,
                categorie: "Persoon",
            }];
            person.verificatie = verificatie;
            person.status = BrpStatus::Rni;
        }
    }

    /// Vertrokken onbekend waarheen: VerblijfplaatsOnbekend, registered in the RNI.
    fn whereabouts_unknown(&mut self) {
        let (g, woonplaats) = self.pick_gemeente();
        let addr = self.new_address(g, &woonplaats);
        let geslacht = self.random_geslacht();
        let p = self.adult_at(addr, g, (1965, 2000), geslacht, None, None);
        let since = self.death_date(p);
        if let Some(a) = self.addresses.get_mut(addr) {
            a.residents.retain(|&r| r != p);
        }
        if let Some(person) = self.persons.get_mut(p) {
            person.verblijf = Verblijf::Onbekend {
                datum_van: Datum::Volledig(since),
            };
            person.gemeente = Self::rni();
            person.datum_inschrijving_gemeente = Datum::Volledig(since);
            person.status = BrpStatus::Unknown;
        }
    }

    /// Lives on a boat or in a caravan: verblijfplaats of type Locatie.
    fn locatie(&mut self, g: Gemeente, woonplaats: &str) {
        // Start from an address for the bookkeeping, then replace the verblijfplaats.
        let addr = self.new_address(g, woonplaats);
        let geslacht = self.random_geslacht();
        let p = self.adult_at(addr, g, (1950, 2000), geslacht, None, None);
        if let Some(a) = self.addresses.get_mut(addr) {
            a.residents.retain(|&r| r != p);
        }
        let beschrijving = self.rng.pick_str(LOCATIEBESCHRIJVINGEN);
        if let Some(person) = self.persons.get_mut(p)
            && let Verblijf::Adres { datum_van, .. } = person.verblijf
        {
            person.verblijf = Verblijf::Locatie {
                beschrijving,
                woonplaats: woonplaats.to_owned(),
                datum_van,
            };
        }
    }

    /// Geheimhouding, in onderzoek, curatele and a few other flags over the random households.
    fn sprinkle(&mut self, from: usize) {
        let n = self.persons.len();
        for i in from..n {
            let geheim = self.rng.chance(2);
            let onderzoek_roll = self.rng.below(1000);
            let curatele = self.rng.chance(1) && self.rng.chance(40);
            let kind = match onderzoek_roll {
                0..=3 => Some(Onderzoek::Persoon),
                4..=7 => Some(Onderzoek::Geslachtsnaam),
                8..=11 => Some(Onderzoek::Geboortedatum),
                12..=17 => Some(Onderzoek::Verblijfplaats),
                18..=19 => Some(Onderzoek::Nationaliteit),
                _ => None,
            };
            let start = date_between(
                &mut self.rng,
                BrpDate::new(2015, 1, 1),
                GENERATION_DATE.add_days(-10),
            );
            let bijzonder = self.rng.below(1000) < 2;
            let Some(p) = self.persons.get_mut(i) else {
                continue;
            };
            p.geheim = geheim;
            if let Some(kind) = kind {
                let applies = match kind {
                    Onderzoek::Verblijfplaats => p.addr().is_some(),
                    Onderzoek::Geboortedatum => p.geboorte.datum.full().is_some(),
                    _ => true,
                };
                if applies {
                    p.onderzoek = Some((kind, start));
                }
            }
            let adult = p
                .geboorte
                .datum
                .full()
                .is_some_and(|b| b.years_until(GENERATION_DATE) >= 18);
            p.curatele = curatele && adult && p.status == BrpStatus::Resident;
            if bijzonder && p.status == BrpStatus::Resident {
                // "Behandeld als Nederlander" replaces a foreign nationality.
                if let Some(n) = p.nationaliteiten.first_mut()
                    && n.soort != NationaliteitSoort::Bekend(NEDERLANDSE)
                {
                    n.soort = NationaliteitSoort::BehandeldAlsNederlander;
                    n.reden = ("310", "Behandeld als Nederlander");
                }
            }
        }
    }

    /// Some older residents of the random households have died (at their last address).
    fn deaths(&mut self, from: usize) {
        let n = self.persons.len();
        for i in from..n {
            let roll = self.rng.below(100);
            let eligible = self.person(i).is_some_and(|p| {
                p.status == BrpStatus::Resident
                    && p.addr().is_some()
                    && p.geboorte
                        .datum
                        .full()
                        .is_some_and(|b| b.years_until(GENERATION_DATE) >= 60)
            });
            if eligible && roll < 12 {
                let on = self.death_date(i);
                self.die(i, on);
            }
        }
    }

    fn known_address(&self, addr: usize) -> KnownAddress {
        let Some(a) = self.addresses.get(addr) else {
            return KnownAddress::default();
        };
        let mut living = Vec::new();
        let mut deceased = Vec::new();
        for &r in &a.residents {
            if let Some(p) = self.person(r) {
                if p.status == BrpStatus::Deceased {
                    deceased.push(p.bsn.clone());
                } else {
                    living.push(p.bsn.clone());
                }
            }
        }
        KnownAddress {
            gemeente_code: a.gemeente_code.clone(),
            straat: a.officiele_straatnaam.clone(),
            huisnummer: a.huisnummer,
            huisletter: a.huisletter.clone(),
            huisnummertoevoeging: a.huisnummertoevoeging.clone(),
            postcode: a.postcode.clone(),
            nummeraanduiding_identificatie: a.nummeraanduiding_identificatie.clone(),
            adresseerbaar_object_identificatie: a.adresseerbaar_object_identificatie.clone(),
            living,
            deceased,
        }
    }

    fn bsn_of(&self, i: usize) -> String {
        self.person(i).map(|p| p.bsn.clone()).unwrap_or_default()
    }

    /// The fixed households every data set starts with (capped by `target`).
    fn special(&mut self, known: &mut BrpKnown) {
        if self.room() > 0 {
            self.suzanne();
            known.suzanne_moulin = SUZANNE_BSN.to_owned();
        }
        let own = self.own;
        // A care home: 14 living residents and one who died there.
        let crowded = self.named_address(own, "Vlinderhof", 1, &[(None, None)]);
        if let Some(&addr) = crowded.first() {
            for k in 0..15 {
                if self.room() == 0 {
                    break;
                }
                let geslacht = if k % 3 == 0 {
                    Geslacht::Man
                } else {
                    Geslacht::Vrouw
                };
                let p = self.adult_at(addr, own, (1928, 1945), geslacht, None, None);
                if k == 14 {
                    let on = self.death_date(p);
                    self.die(p, on);
                }
            }
            known.crowded_address = self.known_address(addr);
        }
        // A woongroep: 10 living residents and two who died there.
        let boundary = self.named_address(own, "Ankerkade", 100, &[(None, None)]);
        if let Some(&addr) = boundary.first() {
            for k in 0..12 {
                if self.room() == 0 {
                    break;
                }
                let geslacht = if k % 2 == 0 {
                    Geslacht::Man
                } else {
                    Geslacht::Vrouw
                };
                let p = self.adult_at(addr, own, (1935, 1950), geslacht, None, None);
                if k >= 10 {
                    let on = self.death_date(p);
                    self.die(p, on);
                }
            }
            known.boundary_address = self.known_address(addr);
        }
        // A couple of whom one has geheimhouding.
        let mixed = self.named_address(own, "Reigerpad", 7, &[(None, None)]);
        if let Some(&addr) = mixed.first()
            && self.room() >= 2
        {
            let (a, _) = self.couple_at(addr, own, (1970, 1990), None);
            if let Some(p) = self.persons.get_mut(a) {
                p.geheim = true;
            }
            known.mixed_geheim_address = self.known_address(addr);
        }
        // One postcode + huisnummer, three units.
        let units = self.named_address(
            own,
            "Merwedekade",
            12,
            &[(Some("A"), None), (Some("B"), None), (Some("B"), Some("2"))],
        );
        for (k, &addr) in units.iter().enumerate() {
            if self.room() < 2 {
                break;
            }
            if k == 1 {
                self.adult_at(addr, own, (1980, 2000), Geslacht::Vrouw, None, None);
            } else {
                self.couple_at(addr, own, (1960, 2000), None);
            }
        }
        known.split_units = units.iter().map(|&a| self.known_address(a)).collect();
        // A family with minor children.
        let fam = self.named_address(own, "Tulpenlaan", 23, &[(None, None)]);
        if let Some(&addr) = fam.first()
            && self.room() >= 4
        {
            let mother = self.adult_at(addr, own, (1982, 1988), Geslacht::Vrouw, None, None);
            let since = self.person(mother).and_then(|p| match p.verblijf {
                Verblijf::Adres { datum_van, .. } => datum_van.full(),
                _ => None,
            });
            let father = self.adult_at(addr, own, (1980, 1987), Geslacht::Man, None, since);
            let wed = date_between(
                &mut self.rng,
                BrpDate::new(2008, 1, 1),
                BrpDate::new(2010, 12, 31),
            );
            self.marry(mother, father, wed, 'H', own);
            let household_since = since.unwrap_or(BrpDate::new(2010, 1, 1));
            let mut children = Vec::new();
            for (lo, hi) in [(2012, 2014), (2016, 2019)] {
                let born = date_between(
                    &mut self.rng,
                    BrpDate::new(lo, 1, 1),
                    BrpDate::new(hi, 12, 31),
                );
                children.push(self.child_at(
                    addr,
                    own,
                    mother,
                    Some(father),
                    born,
                    household_since,
                ));
            }
            known.family = KnownFamily {
                parents: vec![self.bsn_of(mother), self.bsn_of(father)],
                children: children.iter().map(|&c| self.bsn_of(c)).collect(),
                address: self.known_address(addr),
            };
        }
        // A widow(er).
        let widow = self.named_address(own, "Zwanenhof", 4, &[(None, None)]);
        if let Some(&addr) = widow.first()
            && self.room() >= 2
        {
            let m = self.adult_at(addr, own, (1938, 1945), Geslacht::Man, None, None);
            let since = self.person(m).and_then(|p| match p.verblijf {
                Verblijf::Adres { datum_van, .. } => datum_van.full(),
                _ => None,
            });
            let f = self.adult_at(addr, own, (1940, 1947), Geslacht::Vrouw, None, since);
            self.marry(m, f, BrpDate::new(1968, 6, 14), 'H', own);
            let on = self.death_date(m);
            self.die(m, on);
            known.widow = self.bsn_of(f);
            known.widow_partner = self.bsn_of(m);
        }
    }

    /// Suzanne Moulin as in RvIG's testset (Lg01_716), Rotterdam.
    fn suzanne(&mut self) {
        let Some(rotterdam) = tables::gemeente("0599") else {
            return;
        };
        self.used_bsn.insert(SUZANNE_BSN.to_owned());
        self.used_anr.insert("8940402024".to_owned());
        self.street_names.insert(("0599", "Boterdiep".to_owned()));
        self.used_postcodes.insert("3077AW".to_owned());
        let addr = self.push_address(BrpAddress {
            gemeente_code: "0599".to_owned(),
            woonplaats: "Rotterdam".to_owned(),
            officiele_straatnaam: "Boterdiep".to_owned(),
            korte_straatnaam: "Boterdiep".to_owned(),
            huisnummer: 31,
            huisletter: None,
            huisnummertoevoeging: None,
            postcode: "3077AW".to_owned(),
            nummeraanduiding_identificatie: "0599200000219678".to_owned(),
            adresseerbaar_object_identificatie: "0599010000208579".to_owned(),
            residents: Vec::new(),
        });
        let frankrijk = ("5002", "Frankrijk");
        let born = BrpDate::new(1985, 12, 1);
        let ingeschreven = BrpDate::new(2013, 11, 2);
        let external = |voornamen: &str, naam: &str, geslacht, datum, plaats| {
            Relative::External(Box::new(ExternalPerson {
                bsn: None,
                naam: Naam {
                    voornamen: voornamen.to_owned(),
                    voorvoegsel: "",
                    geslachtsnaam: naam.to_owned(),
                    titel: None,
                },
                geslacht,
                geboorte: Some(Gebeurtenis {
                    datum: Datum::Volledig(datum),
                    plaats: Plaats::Buitenland(plaats),
                    land: frankrijk,
                }),
            }))
        };
        let person = BrpPerson {
            bsn: SUZANNE_BSN.to_owned(),
            a_nummer: "8940402024".to_owned(),
            naam: Naam {
                voornamen: "Suzanne".to_owned(),
                voorvoegsel: "",
                geslachtsnaam: "Moulin".to_owned(),
                titel: None,
            },
            geslacht: Geslacht::Vrouw,
            // The testset has Thann with land code 5001; kept as RvIG publishes it.
            geboorte: Gebeurtenis {
                datum: Datum::Volledig(born),
                plaats: Plaats::Buitenland("Thann"),
                land: ("5001", "Canada"),
            },
            nationaliteiten: vec![Nationaliteit {
                soort: NationaliteitSoort::Bekend(("0057", "Franse")),
                reden: REDEN_VREEMD,
                datum_ingang: Datum::Onbekend,
            }],
            verblijf: Verblijf::Adres {
                addr,
                datum_van: Datum::Volledig(BrpDate::new(2015, 8, 8)),
            },
            gemeente: rotterdam,
            datum_inschrijving_gemeente: Datum::Volledig(ingeschreven),
            datum_eerste_inschrijving: Datum::Volledig(ingeschreven),
            immigratie: Some((frankrijk.0, frankrijk.1, Datum::Volledig(ingeschreven))),
            overlijden: None,
            opschorting: None,
            geheim: false,
            onderzoek: None,
            partners: vec![Partner {
                who: external(
                    "Jean Marie",
                    "Beaudelaire",
                    Geslacht::Man,
                    BrpDate::new(1976, 8, 1),
                    "Saint Amarin",
                ),
                soort: 'H',
                aangaan: Gebeurtenis {
                    datum: Datum::Volledig(BrpDate::new(2008, 12, 1)),
                    plaats: Plaats::Buitenland("Thann"),
                    land: frankrijk,
                },
                ontbinding: None,
            }],
            ouders: vec![
                Ouder {
                    who: external(
                        "Lisette",
                        "Béamont",
                        Geslacht::Vrouw,
                        BrpDate::new(1956, 12, 1),
                        "Clermont-Ferrand",
                    ),
                    aanduiding: 1,
                    datum_ingang: Datum::Volledig(born),
                },
                Ouder {
                    who: external(
                        "Guîllaumé",
                        "Moulin",
                        Geslacht::Man,
                        BrpDate::new(1955, 4, 3),
                        "Toulon",
                    ),
                    aanduiding: 2,
                    datum_ingang: Datum::Volledig(born),
                },
            ],
            kinderen: Vec::new(),
            verblijfstitel: None,
            curatele: false,
            rni: Vec::new(),
            verificatie: None,
            status: BrpStatus::Resident,
        };
        self.persons.push(person);
        let i = self.persons.len() - 1;
        if let Some(a) = self.addresses.get_mut(addr) {
            a.residents.push(i);
        }
    }
}

/// Whether `land` is one of the foreign countries the generator knows (for tests).
#[cfg(test)]
pub(crate) fn is_known_land(code: &str) -> bool {
    code == NEDERLAND.0 || code == "5001" || BUITENLAND.iter().any(|b| b.land.0 == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nummers_satisfy_the_checks() {
        let mut rng = SplitMix64::new(3);
        let mut used = HashSet::new();
        for _ in 0..200 {
            let a = a_nummer(&mut rng, &mut used);
            let d: Vec<u64> = a.bytes().map(|b| u64::from(b - b'0')).collect();
            assert_eq!(d.len(), 10);
            assert_ne!(d[0], 0);
            assert!(d.windows(2).all(|w| w[0] != w[1]), "{a}");
            assert_eq!(d.iter().sum::<u64>() % 11, 5, "{a}");
            let w: u64 = d.iter().enumerate().map(|(i, x)| x * (1 << (9 - i))).sum();
            assert_eq!(w % 11, 0, "{a}");
        }
    }

    #[test]
    fn every_birth_country_is_in_the_table() {
        let own = tables::gemeente("0363").unwrap();
        let g = generate(11, 2_000, own);
        for p in &g.persons {
            assert!(is_known_land(p.geboorte.land.0), "{}", p.geboorte.land.0);
        }
    }
}
