//! The generated person lists, compact: JSON is rendered per request (see `render.rs`).

use std::collections::HashMap;

use super::date::{BrpDate, Datum};
use super::tables::Gemeente;

/// Geslachtsaanduiding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Geslacht {
    Man,
    Vrouw,
    Onbekend,
}

impl Geslacht {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Man => "M",
            Self::Vrouw => "V",
            Self::Onbekend => "O",
        }
    }

    pub(crate) fn omschrijving(self) -> &'static str {
        match self {
            Self::Man => "man",
            Self::Vrouw => "vrouw",
            Self::Onbekend => "onbekend",
        }
    }
}

/// Adellijke titel or predicaat: (code, omschrijving, soort).
pub(crate) type Titel = (&'static str, &'static str, &'static str);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Naam {
    pub(crate) voornamen: String,
    /// Empty when the name has no voorvoegsel.
    pub(crate) voorvoegsel: &'static str,
    pub(crate) geslachtsnaam: String,
    pub(crate) titel: Option<Titel>,
}

impl Naam {
    /// "J.P." for "Jan Pieter".
    pub(crate) fn voorletters(&self) -> String {
        self.voornamen
            .split_whitespace()
            .filter_map(|n| n.chars().next())
            .map(|c| format!("{c}."))
            .collect()
    }

    /// Predicaat, voornamen, voorvoegsel and geslachtsnaam.
    pub(crate) fn volledige_naam(&self) -> String {
        let mut parts: Vec<&str> = Vec::with_capacity(4);
        if let Some((_, omschrijving, "predicaat")) = self.titel {
            parts.push(omschrijving);
        }
        if !self.voornamen.is_empty() {
            parts.push(&self.voornamen);
        }
        if let Some((_, omschrijving, "titel")) = self.titel {
            parts.push(omschrijving);
        }
        if !self.voorvoegsel.is_empty() {
            parts.push(self.voorvoegsel);
        }
        parts.push(&self.geslachtsnaam);
        parts.join(" ")
    }
}

/// Where something happened: a Dutch municipality or a foreign place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plaats {
    Gemeente(Gemeente),
    Buitenland(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Gebeurtenis {
    pub(crate) datum: Datum,
    pub(crate) plaats: Plaats,
    pub(crate) land: (&'static str, &'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NationaliteitSoort {
    Bekend((&'static str, &'static str)),
    Staatloos,
    BehandeldAlsNederlander,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Nationaliteit {
    pub(crate) soort: NationaliteitSoort,
    pub(crate) reden: (&'static str, &'static str),
    pub(crate) datum_ingang: Datum,
}

/// A Dutch address (BAG nummeraanduiding), shared by everyone who lives there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrpAddress {
    /// Municipality code (Tabel 33).
    pub gemeente_code: String,
    /// Woonplaats name.
    pub woonplaats: String,
    /// Official street name (BAG).
    pub officiele_straatnaam: String,
    /// Street name shortened to at most 24 characters.
    pub korte_straatnaam: String,
    /// Huisnummer.
    pub huisnummer: u32,
    /// Huisletter, if any.
    pub huisletter: Option<String>,
    /// Huisnummertoevoeging, if any.
    pub huisnummertoevoeging: Option<String>,
    /// Postcode without a space (`1011AB`).
    pub postcode: String,
    /// 16 digits.
    pub nummeraanduiding_identificatie: String,
    /// 16 digits.
    pub adresseerbaar_object_identificatie: String,
    /// Indices of everyone whose verblijfplaats is this address (living or not).
    pub(crate) residents: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verblijf {
    Adres {
        addr: usize,
        datum_van: Datum,
    },
    Locatie {
        beschrijving: &'static str,
        woonplaats: String,
        datum_van: Datum,
    },
    Buitenland {
        regel1: String,
        regel2: String,
        regel3: Option<String>,
        land: (&'static str, &'static str),
        datum_van: Datum,
    },
    Onbekend {
        datum_van: Datum,
    },
}

/// What kind of person list this is, for tests that need one of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BrpStatus {
    /// Lives at a Dutch address or locatie.
    Resident,
    /// Deceased: `opschortingBijhouding.reden.code == "O"`, with `overlijden`.
    Deceased,
    /// Emigrated: `opschortingBijhouding.reden.code == "E"`, foreign verblijfplaats, RNI.
    Emigrated,
    /// Registered in the RNI only (never lived here): foreign verblijfplaats, `rni` present.
    Rni,
    /// Whereabouts unknown (`VerblijfplaatsOnbekend`), registered in the RNI.
    Unknown,
}

/// Which data are under investigation (a GBA "aanduiding gegevens in onderzoek").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Onderzoek {
    /// 010000: the whole persoon category.
    Persoon,
    /// 010240: the geslachtsnaam.
    Geslachtsnaam,
    /// 010310: the geboortedatum.
    Geboortedatum,
    /// 080000: the whole verblijfplaats category.
    Verblijfplaats,
    /// 040000: the (first) nationaliteit.
    Nationaliteit,
}

/// A relative: another generated person, or someone who is not in the data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Relative {
    Person(usize),
    External(Box<ExternalPerson>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExternalPerson {
    pub(crate) bsn: Option<String>,
    pub(crate) naam: Naam,
    pub(crate) geslacht: Geslacht,
    pub(crate) geboorte: Option<Gebeurtenis>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Partner {
    pub(crate) who: Relative,
    /// `H` huwelijk, `P` geregistreerd partnerschap.
    pub(crate) soort: char,
    pub(crate) aangaan: Gebeurtenis,
    pub(crate) ontbinding: Option<Datum>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ouder {
    pub(crate) who: Relative,
    /// 1 or 2.
    pub(crate) aanduiding: u8,
    pub(crate) datum_ingang: Datum,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rni {
    pub(crate) deelnemer: (&'static str, &'static str),
    pub(crate) verdrag: Option<&'static str>,
    pub(crate) categorie: &'static str,
}

/// One generated person list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrpPerson {
    pub(crate) bsn: String,
    pub(crate) a_nummer: String,
    pub(crate) naam: Naam,
    pub(crate) geslacht: Geslacht,
    pub(crate) geboorte: Gebeurtenis,
    pub(crate) nationaliteiten: Vec<Nationaliteit>,
    pub(crate) verblijf: Verblijf,
    pub(crate) gemeente: Gemeente,
    pub(crate) datum_inschrijving_gemeente: Datum,
    pub(crate) datum_eerste_inschrijving: Datum,
    pub(crate) immigratie: Option<(&'static str, &'static str, Datum)>,
    pub(crate) overlijden: Option<Gebeurtenis>,
    /// (reden code, reden omschrijving, datum).
    pub(crate) opschorting: Option<(&'static str, &'static str, Datum)>,
    pub(crate) geheim: bool,
    pub(crate) onderzoek: Option<(Onderzoek, BrpDate)>,
    pub(crate) partners: Vec<Partner>,
    pub(crate) ouders: Vec<Ouder>,
    pub(crate) kinderen: Vec<Relative>,
    pub(crate) verblijfstitel: Option<((&'static str, &'static str), Datum)>,
    pub(crate) curatele: bool,
    pub(crate) rni: Vec<Rni>,
    pub(crate) verificatie: Option<(Datum, &'static str)>,
    pub(crate) status: BrpStatus,
}

impl BrpPerson {
    /// Burgerservicenummer (9 digits, passes the 11-proef).
    pub fn bsn(&self) -> &str {
        &self.bsn
    }

    /// A-nummer (10 digits).
    pub fn a_nummer(&self) -> &str {
        &self.a_nummer
    }

    /// Voornamen, space-separated.
    pub fn voornamen(&self) -> &str {
        &self.naam.voornamen
    }

    /// Voorvoegsel, if any (`"van der"`).
    pub fn voorvoegsel(&self) -> Option<&str> {
        Some(self.naam.voorvoegsel).filter(|v| !v.is_empty())
    }

    /// Geslachtsnaam without voorvoegsel (may contain diacritics: `Çelik`).
    pub fn geslachtsnaam(&self) -> &str {
        &self.naam.geslachtsnaam
    }

    /// `M`, `V` or `O`.
    pub fn geslacht(&self) -> &str {
        self.geslacht.code()
    }

    /// The complete birth date; `None` when it is partly unknown.
    pub fn geboortedatum(&self) -> Option<BrpDate> {
        self.geboorte.datum.full()
    }

    /// Code of the gemeente van inschrijving (`1999` for the RNI).
    pub fn gemeente_van_inschrijving(&self) -> &str {
        self.gemeente.code
    }

    /// Resident, deceased, emigrated, RNI or whereabouts unknown.
    pub fn status(&self) -> BrpStatus {
        self.status
    }

    /// Whether the person has died (opschorting reden `O`).
    pub fn is_deceased(&self) -> bool {
        self.status == BrpStatus::Deceased
    }

    /// Whether `geheimhoudingPersoonsgegevens` is true.
    pub fn is_geheim(&self) -> bool {
        self.geheim
    }

    /// Whether some of the person's data are under investigation (`inOnderzoek`).
    pub fn is_in_onderzoek(&self) -> bool {
        self.onderzoek.is_some()
    }

    /// The BSNs of the partners that are in the data set.
    pub fn partner_bsns<'a>(&self, data: &'a super::BrpData) -> Vec<&'a str> {
        data.relative_bsns(self.partners.iter().map(|p| &p.who))
    }

    /// The BSNs of the parents that are in the data set.
    pub fn ouder_bsns<'a>(&self, data: &'a super::BrpData) -> Vec<&'a str> {
        data.relative_bsns(self.ouders.iter().map(|o| &o.who))
    }

    /// The BSNs of the children that are in the data set.
    pub fn kind_bsns<'a>(&self, data: &'a super::BrpData) -> Vec<&'a str> {
        data.relative_bsns(self.kinderen.iter())
    }

    /// The address index when the person lives (or lived, until death) at a Dutch address.
    pub(crate) fn addr(&self) -> Option<usize> {
        match self.verblijf {
            Verblijf::Adres { addr, .. } => Some(addr),
            _ => None,
        }
    }

    /// Whether the verblijfplaats is in the Netherlands (Adres or Locatie).
    pub(crate) fn binnenland(&self) -> bool {
        matches!(
            self.verblijf,
            Verblijf::Adres { .. } | Verblijf::Locatie { .. }
        )
    }
}

/// Lookup structures built once after generation.
#[derive(Debug, Default)]
pub(crate) struct Indexes {
    pub(crate) by_bsn: HashMap<String, usize>,
    pub(crate) by_postcode: HashMap<String, Vec<usize>>,
    pub(crate) by_nummeraanduiding: HashMap<String, usize>,
    pub(crate) by_adresseerbaar_object: HashMap<String, usize>,
    /// Case- and diacritic-folded geslachtsnaam per person (same order as the persons).
    pub(crate) folded_geslachtsnaam: Vec<String>,
}
