//! The `fields` paths of the three response shapes, written out as data.
//!
//! The lists are derived from the BRP Personen v2.7.0 specification (`fields-*.csv` and
//! `fields-filtered-*.csv` in the BRP repository); a test cross-checks them against the
//! reference files. The *full* lists are what the BRP API accepts in `fields`; the *filtered*
//! lists leave out the sub-fields of values the BRP delivers whole (a date, a waardetabel,
//! `gezag`): asking for `geboorte.datum.jaar` returns all of `geboorte.datum`. sluis uses the
//! full lists to validate requests and the filtered lists to compose `fields` when a client
//! sends none.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

/// The shape of the persons in a response, which decides the valid `fields` paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseShape {
    /// `Persoon`: the answer to `RaadpleegMetBurgerservicenummer`.
    Persoon,
    /// `PersoonBeperkt`: the answer to the `Zoek*` types except the next.
    PersoonBeperkt,
    /// `GezagPersoonBeperkt`: `PersoonBeperkt` plus `gezag`, the answer to
    /// `ZoekMetAdresseerbaarObjectIdentificatie`.
    GezagPersoonBeperkt,
}

/// The fields the BRP always delivers when they apply; they must not be asked for in `fields`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AutoField {
    /// `geheimhoudingPersoonsgegevens`: the person objected to provision to third parties.
    GeheimhoudingPersoonsgegevens,
    /// `inOnderzoek`: requested data is under investigation (at any level of the person).
    InOnderzoek,
    /// `opschortingBijhouding`: the person list is suspended (reason `O` = deceased).
    OpschortingBijhouding,
    /// `rni`: the person is registered as a non-resident.
    Rni,
    /// `verificatie`: data of a non-resident was verified.
    Verificatie,
    /// `indicatieVastgesteldVerblijftNietOpAdres` (under `verblijfplaats`).
    IndicatieVastgesteldVerblijftNietOpAdres,
}

impl AutoField {
    /// All six, in the order the BRP documentation lists them.
    pub const ALL: [AutoField; 6] = [
        AutoField::GeheimhoudingPersoonsgegevens,
        AutoField::InOnderzoek,
        AutoField::OpschortingBijhouding,
        AutoField::Rni,
        AutoField::Verificatie,
        AutoField::IndicatieVastgesteldVerblijftNietOpAdres,
    ];

    /// The JSON property name.
    pub fn name(self) -> &'static str {
        match self {
            AutoField::GeheimhoudingPersoonsgegevens => "geheimhoudingPersoonsgegevens",
            AutoField::InOnderzoek => "inOnderzoek",
            AutoField::OpschortingBijhouding => "opschortingBijhouding",
            AutoField::Rni => "rni",
            AutoField::Verificatie => "verificatie",
            AutoField::IndicatieVastgesteldVerblijftNietOpAdres => {
                "indicatieVastgesteldVerblijftNietOpAdres"
            }
        }
    }

    /// The flag with this JSON property name.
    pub fn from_name(name: &str) -> Option<AutoField> {
        AutoField::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Whether any segment of a dotted path names an auto-delivered field. The BRP refuses such a
/// path ("niet toegestane veldnaam") wherever the segment stands, e.g. `naam.inOnderzoek`.
pub fn names_auto_field(path: &str) -> bool {
    path.split('.').any(|s| AutoField::from_name(s).is_some())
}

/// The sub-fields of a date value (`Datum`, `DatumOnbekend`, `JaarDatum`, `JaarMaandDatum`).
const DATUM_KEYS: &[&str] = &["langFormaat", "type", "datum", "onbekend", "jaar", "maand"];
/// The sub-fields of a waardetabel value (`Waardetabel`, `AdellijkeTitelPredicaat`).
const WAARDETABEL_KEYS: &[&str] = &["code", "omschrijving", "soort"];

/// Lookup structures for one shape, built once.
#[derive(Debug)]
pub(crate) struct PathIndex {
    all: HashSet<&'static str>,
    filtered: &'static [&'static str],
    /// Immediate children (full segment names appended) of every path with children.
    children: HashMap<&'static str, Vec<&'static str>>,
    /// Paths whose value the BRP delivers whole.
    units: HashSet<&'static str>,
}

impl PathIndex {
    fn build(all: &'static [&'static str], filtered: &'static [&'static str]) -> PathIndex {
        let set: HashSet<&'static str> = all.iter().copied().collect();
        let filtered_set: HashSet<&'static str> = filtered.iter().copied().collect();
        let mut children: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for p in all {
            if let Some((parent, _)) = p.rsplit_once('.')
                && let Some(parent) = set.get(parent)
            {
                children.entry(parent).or_default().push(p);
            }
        }
        let mut units = HashSet::new();
        for (parent, kids) in &children {
            let names: BTreeSet<&str> = kids
                .iter()
                .filter_map(|k| k.rsplit_once('.').map(|(_, n)| n))
                .collect();
            let filtered_leaf =
                filtered_set.contains(parent) && !kids.iter().any(|k| filtered_set.contains(k));
            let datum =
                names.contains("langFormaat") && names.iter().all(|n| DATUM_KEYS.contains(n));
            let waardetabel =
                names.contains("code") && names.iter().all(|n| WAARDETABEL_KEYS.contains(n));
            if filtered_leaf || datum || waardetabel {
                units.insert(*parent);
            }
        }
        PathIndex {
            all: set,
            filtered,
            children,
            units,
        }
    }

    pub(crate) fn contains(&self, path: &str) -> bool {
        self.all.contains(path)
    }

    pub(crate) fn filtered(&self) -> &'static [&'static str] {
        self.filtered
    }

    pub(crate) fn children(&self, path: &str) -> &[&'static str] {
        self.children.get(path).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The part of the person the BRP actually delivers for `path`: the shortest prefix of it
    /// that is delivered whole (`geboorte.datum.jaar` → `geboorte.datum`), else `path` itself.
    pub(crate) fn delivery_unit<'a>(&self, path: &'a str) -> &'a str {
        for (i, c) in path.char_indices() {
            if c == '.' {
                let prefix = path.get(..i).unwrap_or(path);
                if self.units.contains(prefix) {
                    return prefix;
                }
            }
        }
        path
    }
}

impl ResponseShape {
    /// All three shapes.
    pub const ALL: [ResponseShape; 3] = [
        ResponseShape::Persoon,
        ResponseShape::PersoonBeperkt,
        ResponseShape::GezagPersoonBeperkt,
    ];

    /// The schema name in the specification.
    pub fn name(self) -> &'static str {
        match self {
            ResponseShape::Persoon => "Persoon",
            ResponseShape::PersoonBeperkt => "PersoonBeperkt",
            ResponseShape::GezagPersoonBeperkt => "GezagPersoonBeperkt",
        }
    }

    /// Every path the BRP accepts in `fields` for this shape, sorted.
    pub fn paths(self) -> &'static [&'static str] {
        match self {
            ResponseShape::Persoon => PERSOON_PATHS,
            ResponseShape::PersoonBeperkt => PERSOON_BEPERKT_PATHS,
            ResponseShape::GezagPersoonBeperkt => GEZAG_PERSOON_BEPERKT_PATHS,
        }
    }

    /// The paths down to the values the BRP delivers whole, sorted; what sluis composes an
    /// automatic `fields` from.
    pub fn filtered_paths(self) -> &'static [&'static str] {
        match self {
            ResponseShape::Persoon => PERSOON_FILTERED,
            ResponseShape::PersoonBeperkt => PERSOON_BEPERKT_FILTERED,
            ResponseShape::GezagPersoonBeperkt => GEZAG_PERSOON_BEPERKT_FILTERED,
        }
    }

    /// Whether `path` is a valid `fields` entry for this shape.
    pub fn is_valid_path(self, path: &str) -> bool {
        self.index().contains(path)
    }

    /// Whether persons of this shape carry an `aNummer`.
    pub fn has_a_nummer(self) -> bool {
        self == ResponseShape::Persoon
    }

    /// Whether persons of this shape carry `gemeenteVanInschrijving`.
    pub fn has_gemeente_van_inschrijving(self) -> bool {
        self == ResponseShape::Persoon
    }

    pub(crate) fn index(self) -> &'static PathIndex {
        static INDEX: OnceLock<[PathIndex; 3]> = OnceLock::new();
        let all = INDEX.get_or_init(|| {
            [
                PathIndex::build(PERSOON_PATHS, PERSOON_FILTERED),
                PathIndex::build(PERSOON_BEPERKT_PATHS, PERSOON_BEPERKT_FILTERED),
                PathIndex::build(GEZAG_PERSOON_BEPERKT_PATHS, GEZAG_PERSOON_BEPERKT_FILTERED),
            ]
        });
        match self {
            ResponseShape::Persoon => &all[0],
            ResponseShape::PersoonBeperkt => &all[1],
            ResponseShape::GezagPersoonBeperkt => &all[2],
        }
    }
}

/// Every `fields` path valid for `Persoon` (RaadpleegMetBurgerservicenummer), sorted.
pub(crate) static PERSOON_PATHS: &[&str] = &[
    "aNummer",
    "adressering",
    "adressering.aanhef",
    "adressering.aanschrijfwijze",
    "adressering.aanschrijfwijze.aanspreekvorm",
    "adressering.aanschrijfwijze.naam",
    "adressering.adresregel1",
    "adressering.adresregel2",
    "adressering.adresregel3",
    "adressering.gebruikInLopendeTekst",
    "adressering.land",
    "adressering.land.code",
    "adressering.land.omschrijving",
    "adresseringBinnenland",
    "adresseringBinnenland.aanhef",
    "adresseringBinnenland.aanschrijfwijze",
    "adresseringBinnenland.aanschrijfwijze.aanspreekvorm",
    "adresseringBinnenland.aanschrijfwijze.naam",
    "adresseringBinnenland.adresregel1",
    "adresseringBinnenland.adresregel2",
    "adresseringBinnenland.gebruikInLopendeTekst",
    "burgerservicenummer",
    "datumEersteInschrijvingGBA",
    "datumEersteInschrijvingGBA.datum",
    "datumEersteInschrijvingGBA.jaar",
    "datumEersteInschrijvingGBA.langFormaat",
    "datumEersteInschrijvingGBA.maand",
    "datumEersteInschrijvingGBA.onbekend",
    "datumEersteInschrijvingGBA.type",
    "datumInschrijvingInGemeente",
    "datumInschrijvingInGemeente.datum",
    "datumInschrijvingInGemeente.jaar",
    "datumInschrijvingInGemeente.langFormaat",
    "datumInschrijvingInGemeente.maand",
    "datumInschrijvingInGemeente.onbekend",
    "datumInschrijvingInGemeente.type",
    "europeesKiesrecht",
    "europeesKiesrecht.aanduiding",
    "europeesKiesrecht.aanduiding.code",
    "europeesKiesrecht.aanduiding.omschrijving",
    "europeesKiesrecht.einddatumUitsluiting",
    "europeesKiesrecht.einddatumUitsluiting.datum",
    "europeesKiesrecht.einddatumUitsluiting.jaar",
    "europeesKiesrecht.einddatumUitsluiting.langFormaat",
    "europeesKiesrecht.einddatumUitsluiting.maand",
    "europeesKiesrecht.einddatumUitsluiting.onbekend",
    "europeesKiesrecht.einddatumUitsluiting.type",
    "geboorte",
    "geboorte.datum",
    "geboorte.datum.datum",
    "geboorte.datum.jaar",
    "geboorte.datum.langFormaat",
    "geboorte.datum.maand",
    "geboorte.datum.onbekend",
    "geboorte.datum.type",
    "geboorte.land",
    "geboorte.land.code",
    "geboorte.land.omschrijving",
    "geboorte.plaats",
    "geboorte.plaats.code",
    "geboorte.plaats.omschrijving",
    "gemeenteVanInschrijving",
    "gemeenteVanInschrijving.code",
    "gemeenteVanInschrijving.omschrijving",
    "geslacht",
    "geslacht.code",
    "geslacht.omschrijving",
    "gezag",
    "gezag.derde",
    "gezag.derde.burgerservicenummer",
    "gezag.derden",
    "gezag.derden.burgerservicenummer",
    "gezag.minderjarige",
    "gezag.minderjarige.burgerservicenummer",
    "gezag.ouder",
    "gezag.ouder.burgerservicenummer",
    "gezag.ouders",
    "gezag.ouders.burgerservicenummer",
    "gezag.type",
    "immigratie",
    "immigratie.datumVestigingInNederland",
    "immigratie.datumVestigingInNederland.datum",
    "immigratie.datumVestigingInNederland.jaar",
    "immigratie.datumVestigingInNederland.langFormaat",
    "immigratie.datumVestigingInNederland.maand",
    "immigratie.datumVestigingInNederland.onbekend",
    "immigratie.datumVestigingInNederland.type",
    "immigratie.indicatieVestigingVanuitBuitenland",
    "immigratie.landVanwaarIngeschreven",
    "immigratie.landVanwaarIngeschreven.code",
    "immigratie.landVanwaarIngeschreven.omschrijving",
    "immigratie.vanuitVerblijfplaatsOnbekend",
    "indicatieCurateleRegister",
    "indicatieGezagMinderjarige",
    "indicatieGezagMinderjarige.code",
    "indicatieGezagMinderjarige.omschrijving",
    "kinderen",
    "kinderen.burgerservicenummer",
    "kinderen.geboorte",
    "kinderen.geboorte.datum",
    "kinderen.geboorte.datum.datum",
    "kinderen.geboorte.datum.jaar",
    "kinderen.geboorte.datum.langFormaat",
    "kinderen.geboorte.datum.maand",
    "kinderen.geboorte.datum.onbekend",
    "kinderen.geboorte.datum.type",
    "kinderen.geboorte.land",
    "kinderen.geboorte.land.code",
    "kinderen.geboorte.land.omschrijving",
    "kinderen.geboorte.plaats",
    "kinderen.geboorte.plaats.code",
    "kinderen.geboorte.plaats.omschrijving",
    "kinderen.naam",
    "kinderen.naam.adellijkeTitelPredicaat",
    "kinderen.naam.adellijkeTitelPredicaat.code",
    "kinderen.naam.adellijkeTitelPredicaat.omschrijving",
    "kinderen.naam.adellijkeTitelPredicaat.soort",
    "kinderen.naam.geslachtsnaam",
    "kinderen.naam.voorletters",
    "kinderen.naam.voornamen",
    "kinderen.naam.voorvoegsel",
    "leeftijd",
    "naam",
    "naam.aanduidingNaamgebruik",
    "naam.aanduidingNaamgebruik.code",
    "naam.aanduidingNaamgebruik.omschrijving",
    "naam.adellijkeTitelPredicaat",
    "naam.adellijkeTitelPredicaat.code",
    "naam.adellijkeTitelPredicaat.omschrijving",
    "naam.adellijkeTitelPredicaat.soort",
    "naam.geslachtsnaam",
    "naam.volledigeNaam",
    "naam.voorletters",
    "naam.voornamen",
    "naam.voorvoegsel",
    "nationaliteiten",
    "nationaliteiten.datumIngangGeldigheid",
    "nationaliteiten.datumIngangGeldigheid.datum",
    "nationaliteiten.datumIngangGeldigheid.jaar",
    "nationaliteiten.datumIngangGeldigheid.langFormaat",
    "nationaliteiten.datumIngangGeldigheid.maand",
    "nationaliteiten.datumIngangGeldigheid.onbekend",
    "nationaliteiten.datumIngangGeldigheid.type",
    "nationaliteiten.nationaliteit",
    "nationaliteiten.nationaliteit.code",
    "nationaliteiten.nationaliteit.omschrijving",
    "nationaliteiten.redenOpname",
    "nationaliteiten.redenOpname.code",
    "nationaliteiten.redenOpname.omschrijving",
    "nationaliteiten.type",
    "ouders",
    "ouders.burgerservicenummer",
    "ouders.datumIngangFamilierechtelijkeBetrekking",
    "ouders.datumIngangFamilierechtelijkeBetrekking.datum",
    "ouders.datumIngangFamilierechtelijkeBetrekking.jaar",
    "ouders.datumIngangFamilierechtelijkeBetrekking.langFormaat",
    "ouders.datumIngangFamilierechtelijkeBetrekking.maand",
    "ouders.datumIngangFamilierechtelijkeBetrekking.onbekend",
    "ouders.datumIngangFamilierechtelijkeBetrekking.type",
    "ouders.geboorte",
    "ouders.geboorte.datum",
    "ouders.geboorte.datum.datum",
    "ouders.geboorte.datum.jaar",
    "ouders.geboorte.datum.langFormaat",
    "ouders.geboorte.datum.maand",
    "ouders.geboorte.datum.onbekend",
    "ouders.geboorte.datum.type",
    "ouders.geboorte.land",
    "ouders.geboorte.land.code",
    "ouders.geboorte.land.omschrijving",
    "ouders.geboorte.plaats",
    "ouders.geboorte.plaats.code",
    "ouders.geboorte.plaats.omschrijving",
    "ouders.geslacht",
    "ouders.geslacht.code",
    "ouders.geslacht.omschrijving",
    "ouders.naam",
    "ouders.naam.adellijkeTitelPredicaat",
    "ouders.naam.adellijkeTitelPredicaat.code",
    "ouders.naam.adellijkeTitelPredicaat.omschrijving",
    "ouders.naam.adellijkeTitelPredicaat.soort",
    "ouders.naam.geslachtsnaam",
    "ouders.naam.voorletters",
    "ouders.naam.voornamen",
    "ouders.naam.voorvoegsel",
    "ouders.ouderAanduiding",
    "overlijden",
    "overlijden.datum",
    "overlijden.datum.datum",
    "overlijden.datum.jaar",
    "overlijden.datum.langFormaat",
    "overlijden.datum.maand",
    "overlijden.datum.onbekend",
    "overlijden.datum.type",
    "overlijden.land",
    "overlijden.land.code",
    "overlijden.land.omschrijving",
    "overlijden.plaats",
    "overlijden.plaats.code",
    "overlijden.plaats.omschrijving",
    "partners",
    "partners.aangaanHuwelijkPartnerschap",
    "partners.aangaanHuwelijkPartnerschap.datum",
    "partners.aangaanHuwelijkPartnerschap.datum.datum",
    "partners.aangaanHuwelijkPartnerschap.datum.jaar",
    "partners.aangaanHuwelijkPartnerschap.datum.langFormaat",
    "partners.aangaanHuwelijkPartnerschap.datum.maand",
    "partners.aangaanHuwelijkPartnerschap.datum.onbekend",
    "partners.aangaanHuwelijkPartnerschap.datum.type",
    "partners.aangaanHuwelijkPartnerschap.land",
    "partners.aangaanHuwelijkPartnerschap.land.code",
    "partners.aangaanHuwelijkPartnerschap.land.omschrijving",
    "partners.aangaanHuwelijkPartnerschap.plaats",
    "partners.aangaanHuwelijkPartnerschap.plaats.code",
    "partners.aangaanHuwelijkPartnerschap.plaats.omschrijving",
    "partners.burgerservicenummer",
    "partners.geboorte",
    "partners.geboorte.datum",
    "partners.geboorte.datum.datum",
    "partners.geboorte.datum.jaar",
    "partners.geboorte.datum.langFormaat",
    "partners.geboorte.datum.maand",
    "partners.geboorte.datum.onbekend",
    "partners.geboorte.datum.type",
    "partners.geboorte.land",
    "partners.geboorte.land.code",
    "partners.geboorte.land.omschrijving",
    "partners.geboorte.plaats",
    "partners.geboorte.plaats.code",
    "partners.geboorte.plaats.omschrijving",
    "partners.geslacht",
    "partners.geslacht.code",
    "partners.geslacht.omschrijving",
    "partners.naam",
    "partners.naam.adellijkeTitelPredicaat",
    "partners.naam.adellijkeTitelPredicaat.code",
    "partners.naam.adellijkeTitelPredicaat.omschrijving",
    "partners.naam.adellijkeTitelPredicaat.soort",
    "partners.naam.geslachtsnaam",
    "partners.naam.voorletters",
    "partners.naam.voornamen",
    "partners.naam.voorvoegsel",
    "partners.ontbindingHuwelijkPartnerschap",
    "partners.ontbindingHuwelijkPartnerschap.datum",
    "partners.ontbindingHuwelijkPartnerschap.datum.datum",
    "partners.ontbindingHuwelijkPartnerschap.datum.jaar",
    "partners.ontbindingHuwelijkPartnerschap.datum.langFormaat",
    "partners.ontbindingHuwelijkPartnerschap.datum.maand",
    "partners.ontbindingHuwelijkPartnerschap.datum.onbekend",
    "partners.ontbindingHuwelijkPartnerschap.datum.type",
    "partners.soortVerbintenis",
    "partners.soortVerbintenis.code",
    "partners.soortVerbintenis.omschrijving",
    "uitsluitingKiesrecht",
    "uitsluitingKiesrecht.einddatum",
    "uitsluitingKiesrecht.einddatum.datum",
    "uitsluitingKiesrecht.einddatum.jaar",
    "uitsluitingKiesrecht.einddatum.langFormaat",
    "uitsluitingKiesrecht.einddatum.maand",
    "uitsluitingKiesrecht.einddatum.onbekend",
    "uitsluitingKiesrecht.einddatum.type",
    "uitsluitingKiesrecht.uitgeslotenVanKiesrecht",
    "verblijfplaats",
    "verblijfplaats.adresseerbaarObjectIdentificatie",
    "verblijfplaats.datumIngangGeldigheid",
    "verblijfplaats.datumIngangGeldigheid.datum",
    "verblijfplaats.datumIngangGeldigheid.jaar",
    "verblijfplaats.datumIngangGeldigheid.langFormaat",
    "verblijfplaats.datumIngangGeldigheid.maand",
    "verblijfplaats.datumIngangGeldigheid.onbekend",
    "verblijfplaats.datumIngangGeldigheid.type",
    "verblijfplaats.datumVan",
    "verblijfplaats.datumVan.datum",
    "verblijfplaats.datumVan.jaar",
    "verblijfplaats.datumVan.langFormaat",
    "verblijfplaats.datumVan.maand",
    "verblijfplaats.datumVan.onbekend",
    "verblijfplaats.datumVan.type",
    "verblijfplaats.functieAdres",
    "verblijfplaats.functieAdres.code",
    "verblijfplaats.functieAdres.omschrijving",
    "verblijfplaats.nummeraanduidingIdentificatie",
    "verblijfplaats.type",
    "verblijfplaats.verblijfadres",
    "verblijfplaats.verblijfadres.aanduidingBijHuisnummer",
    "verblijfplaats.verblijfadres.aanduidingBijHuisnummer.code",
    "verblijfplaats.verblijfadres.aanduidingBijHuisnummer.omschrijving",
    "verblijfplaats.verblijfadres.huisletter",
    "verblijfplaats.verblijfadres.huisnummer",
    "verblijfplaats.verblijfadres.huisnummertoevoeging",
    "verblijfplaats.verblijfadres.korteStraatnaam",
    "verblijfplaats.verblijfadres.land",
    "verblijfplaats.verblijfadres.land.code",
    "verblijfplaats.verblijfadres.land.omschrijving",
    "verblijfplaats.verblijfadres.locatiebeschrijving",
    "verblijfplaats.verblijfadres.officieleStraatnaam",
    "verblijfplaats.verblijfadres.postcode",
    "verblijfplaats.verblijfadres.regel1",
    "verblijfplaats.verblijfadres.regel2",
    "verblijfplaats.verblijfadres.regel3",
    "verblijfplaats.verblijfadres.woonplaats",
    "verblijfplaatsBinnenland",
    "verblijfplaatsBinnenland.adresseerbaarObjectIdentificatie",
    "verblijfplaatsBinnenland.datumIngangGeldigheid",
    "verblijfplaatsBinnenland.datumIngangGeldigheid.datum",
    "verblijfplaatsBinnenland.datumIngangGeldigheid.jaar",
    "verblijfplaatsBinnenland.datumIngangGeldigheid.langFormaat",
    "verblijfplaatsBinnenland.datumIngangGeldigheid.maand",
    "verblijfplaatsBinnenland.datumIngangGeldigheid.onbekend",
    "verblijfplaatsBinnenland.datumIngangGeldigheid.type",
    "verblijfplaatsBinnenland.datumVan",
    "verblijfplaatsBinnenland.datumVan.datum",
    "verblijfplaatsBinnenland.datumVan.jaar",
    "verblijfplaatsBinnenland.datumVan.langFormaat",
    "verblijfplaatsBinnenland.datumVan.maand",
    "verblijfplaatsBinnenland.datumVan.onbekend",
    "verblijfplaatsBinnenland.datumVan.type",
    "verblijfplaatsBinnenland.functieAdres",
    "verblijfplaatsBinnenland.functieAdres.code",
    "verblijfplaatsBinnenland.functieAdres.omschrijving",
    "verblijfplaatsBinnenland.nummeraanduidingIdentificatie",
    "verblijfplaatsBinnenland.type",
    "verblijfplaatsBinnenland.verblijfadres",
    "verblijfplaatsBinnenland.verblijfadres.aanduidingBijHuisnummer",
    "verblijfplaatsBinnenland.verblijfadres.aanduidingBijHuisnummer.code",
    "verblijfplaatsBinnenland.verblijfadres.aanduidingBijHuisnummer.omschrijving",
    "verblijfplaatsBinnenland.verblijfadres.huisletter",
    "verblijfplaatsBinnenland.verblijfadres.huisnummer",
    "verblijfplaatsBinnenland.verblijfadres.huisnummertoevoeging",
    "verblijfplaatsBinnenland.verblijfadres.korteStraatnaam",
    "verblijfplaatsBinnenland.verblijfadres.locatiebeschrijving",
    "verblijfplaatsBinnenland.verblijfadres.officieleStraatnaam",
    "verblijfplaatsBinnenland.verblijfadres.postcode",
    "verblijfplaatsBinnenland.verblijfadres.woonplaats",
    "verblijfstitel",
    "verblijfstitel.aanduiding",
    "verblijfstitel.aanduiding.code",
    "verblijfstitel.aanduiding.omschrijving",
    "verblijfstitel.datumEinde",
    "verblijfstitel.datumEinde.datum",
    "verblijfstitel.datumEinde.jaar",
    "verblijfstitel.datumEinde.langFormaat",
    "verblijfstitel.datumEinde.maand",
    "verblijfstitel.datumEinde.onbekend",
    "verblijfstitel.datumEinde.type",
    "verblijfstitel.datumIngang",
    "verblijfstitel.datumIngang.datum",
    "verblijfstitel.datumIngang.jaar",
    "verblijfstitel.datumIngang.langFormaat",
    "verblijfstitel.datumIngang.maand",
    "verblijfstitel.datumIngang.onbekend",
    "verblijfstitel.datumIngang.type",
];

/// The `Persoon` paths without the sub-fields of values delivered whole (dates, waardetabellen, gezag), sorted.
pub(crate) static PERSOON_FILTERED: &[&str] = &[
    "aNummer",
    "adressering",
    "adressering.aanhef",
    "adressering.aanschrijfwijze",
    "adressering.aanschrijfwijze.aanspreekvorm",
    "adressering.aanschrijfwijze.naam",
    "adressering.adresregel1",
    "adressering.adresregel2",
    "adressering.adresregel3",
    "adressering.gebruikInLopendeTekst",
    "adressering.land",
    "adresseringBinnenland",
    "adresseringBinnenland.adresregel1",
    "adresseringBinnenland.adresregel2",
    "burgerservicenummer",
    "datumEersteInschrijvingGBA",
    "datumInschrijvingInGemeente",
    "europeesKiesrecht",
    "europeesKiesrecht.aanduiding",
    "europeesKiesrecht.einddatumUitsluiting",
    "geboorte",
    "geboorte.datum",
    "geboorte.land",
    "geboorte.plaats",
    "gemeenteVanInschrijving",
    "geslacht",
    "gezag",
    "immigratie",
    "immigratie.datumVestigingInNederland",
    "immigratie.indicatieVestigingVanuitBuitenland",
    "immigratie.landVanwaarIngeschreven",
    "immigratie.vanuitVerblijfplaatsOnbekend",
    "indicatieCurateleRegister",
    "kinderen",
    "kinderen.burgerservicenummer",
    "kinderen.geboorte",
    "kinderen.geboorte.datum",
    "kinderen.geboorte.land",
    "kinderen.geboorte.plaats",
    "kinderen.naam",
    "kinderen.naam.adellijkeTitelPredicaat",
    "kinderen.naam.geslachtsnaam",
    "kinderen.naam.voorletters",
    "kinderen.naam.voornamen",
    "kinderen.naam.voorvoegsel",
    "leeftijd",
    "naam",
    "naam.aanduidingNaamgebruik",
    "naam.adellijkeTitelPredicaat",
    "naam.geslachtsnaam",
    "naam.volledigeNaam",
    "naam.voorletters",
    "naam.voornamen",
    "naam.voorvoegsel",
    "nationaliteiten",
    "nationaliteiten.datumIngangGeldigheid",
    "nationaliteiten.nationaliteit",
    "nationaliteiten.redenOpname",
    "ouders",
    "ouders.burgerservicenummer",
    "ouders.datumIngangFamilierechtelijkeBetrekking",
    "ouders.geboorte",
    "ouders.geboorte.datum",
    "ouders.geboorte.land",
    "ouders.geboorte.plaats",
    "ouders.geslacht",
    "ouders.naam",
    "ouders.naam.adellijkeTitelPredicaat",
    "ouders.naam.geslachtsnaam",
    "ouders.naam.voorletters",
    "ouders.naam.voornamen",
    "ouders.naam.voorvoegsel",
    "ouders.ouderAanduiding",
    "overlijden",
    "overlijden.datum",
    "overlijden.land",
    "overlijden.plaats",
    "partners",
    "partners.aangaanHuwelijkPartnerschap",
    "partners.aangaanHuwelijkPartnerschap.datum",
    "partners.aangaanHuwelijkPartnerschap.land",
    "partners.aangaanHuwelijkPartnerschap.plaats",
    "partners.burgerservicenummer",
    "partners.geboorte",
    "partners.geboorte.datum",
    "partners.geboorte.land",
    "partners.geboorte.plaats",
    "partners.geslacht",
    "partners.naam",
    "partners.naam.adellijkeTitelPredicaat",
    "partners.naam.geslachtsnaam",
    "partners.naam.voorletters",
    "partners.naam.voornamen",
    "partners.naam.voorvoegsel",
    "partners.ontbindingHuwelijkPartnerschap",
    "partners.ontbindingHuwelijkPartnerschap.datum",
    "partners.soortVerbintenis",
    "uitsluitingKiesrecht",
    "uitsluitingKiesrecht.einddatum",
    "uitsluitingKiesrecht.uitgeslotenVanKiesrecht",
    "verblijfplaats",
    "verblijfplaats.adresseerbaarObjectIdentificatie",
    "verblijfplaats.datumVan",
    "verblijfplaats.functieAdres",
    "verblijfplaats.nummeraanduidingIdentificatie",
    "verblijfplaats.verblijfadres",
    "verblijfplaats.verblijfadres.aanduidingBijHuisnummer",
    "verblijfplaats.verblijfadres.huisletter",
    "verblijfplaats.verblijfadres.huisnummer",
    "verblijfplaats.verblijfadres.huisnummertoevoeging",
    "verblijfplaats.verblijfadres.korteStraatnaam",
    "verblijfplaats.verblijfadres.land",
    "verblijfplaats.verblijfadres.locatiebeschrijving",
    "verblijfplaats.verblijfadres.officieleStraatnaam",
    "verblijfplaats.verblijfadres.postcode",
    "verblijfplaats.verblijfadres.regel1",
    "verblijfplaats.verblijfadres.regel2",
    "verblijfplaats.verblijfadres.regel3",
    "verblijfplaats.verblijfadres.woonplaats",
    "verblijfplaatsBinnenland",
    "verblijfplaatsBinnenland.adresseerbaarObjectIdentificatie",
    "verblijfplaatsBinnenland.datumIngangGeldigheid",
    "verblijfplaatsBinnenland.datumVan",
    "verblijfplaatsBinnenland.functieAdres",
    "verblijfplaatsBinnenland.nummeraanduidingIdentificatie",
    "verblijfplaatsBinnenland.verblijfadres",
    "verblijfplaatsBinnenland.verblijfadres.aanduidingBijHuisnummer",
    "verblijfplaatsBinnenland.verblijfadres.huisletter",
    "verblijfplaatsBinnenland.verblijfadres.huisnummer",
    "verblijfplaatsBinnenland.verblijfadres.huisnummertoevoeging",
    "verblijfplaatsBinnenland.verblijfadres.korteStraatnaam",
    "verblijfplaatsBinnenland.verblijfadres.locatiebeschrijving",
    "verblijfplaatsBinnenland.verblijfadres.officieleStraatnaam",
    "verblijfplaatsBinnenland.verblijfadres.postcode",
    "verblijfplaatsBinnenland.verblijfadres.woonplaats",
    "verblijfstitel",
    "verblijfstitel.aanduiding",
    "verblijfstitel.datumEinde",
    "verblijfstitel.datumIngang",
];

/// Every `fields` path valid for `PersoonBeperkt` (the Zoek* types), sorted.
pub(crate) static PERSOON_BEPERKT_PATHS: &[&str] = &[
    "adressering",
    "adressering.adresregel1",
    "adressering.adresregel2",
    "adressering.adresregel3",
    "adressering.land",
    "adressering.land.code",
    "adressering.land.omschrijving",
    "adresseringBinnenland",
    "adresseringBinnenland.adresregel1",
    "adresseringBinnenland.adresregel2",
    "burgerservicenummer",
    "geboorte",
    "geboorte.datum",
    "geboorte.datum.datum",
    "geboorte.datum.jaar",
    "geboorte.datum.langFormaat",
    "geboorte.datum.maand",
    "geboorte.datum.onbekend",
    "geboorte.datum.type",
    "geslacht",
    "geslacht.code",
    "geslacht.omschrijving",
    "leeftijd",
    "naam",
    "naam.adellijkeTitelPredicaat",
    "naam.adellijkeTitelPredicaat.code",
    "naam.adellijkeTitelPredicaat.omschrijving",
    "naam.adellijkeTitelPredicaat.soort",
    "naam.geslachtsnaam",
    "naam.volledigeNaam",
    "naam.voorletters",
    "naam.voornamen",
    "naam.voorvoegsel",
];

/// The `PersoonBeperkt` paths without the sub-fields of values delivered whole, sorted.
pub(crate) static PERSOON_BEPERKT_FILTERED: &[&str] = &[
    "adressering",
    "adressering.adresregel1",
    "adressering.adresregel2",
    "adressering.adresregel3",
    "adressering.land",
    "adresseringBinnenland",
    "adresseringBinnenland.adresregel1",
    "adresseringBinnenland.adresregel2",
    "burgerservicenummer",
    "geboorte",
    "geboorte.datum",
    "geslacht",
    "leeftijd",
    "naam",
    "naam.adellijkeTitelPredicaat",
    "naam.geslachtsnaam",
    "naam.volledigeNaam",
    "naam.voorletters",
    "naam.voornamen",
    "naam.voorvoegsel",
];

/// Every `fields` path valid for `GezagPersoonBeperkt` (ZoekMetAdresseerbaarObjectIdentificatie), sorted.
pub(crate) static GEZAG_PERSOON_BEPERKT_PATHS: &[&str] = &[
    "adressering",
    "adressering.adresregel1",
    "adressering.adresregel2",
    "adressering.adresregel3",
    "adressering.land",
    "adressering.land.code",
    "adressering.land.omschrijving",
    "adresseringBinnenland",
    "adresseringBinnenland.adresregel1",
    "adresseringBinnenland.adresregel2",
    "burgerservicenummer",
    "geboorte",
    "geboorte.datum",
    "geboorte.datum.datum",
    "geboorte.datum.jaar",
    "geboorte.datum.langFormaat",
    "geboorte.datum.maand",
    "geboorte.datum.onbekend",
    "geboorte.datum.type",
    "geslacht",
    "geslacht.code",
    "geslacht.omschrijving",
    "gezag",
    "gezag.derde",
    "gezag.derde.burgerservicenummer",
    "gezag.derden",
    "gezag.derden.burgerservicenummer",
    "gezag.minderjarige",
    "gezag.minderjarige.burgerservicenummer",
    "gezag.ouder",
    "gezag.ouder.burgerservicenummer",
    "gezag.ouders",
    "gezag.ouders.burgerservicenummer",
    "gezag.type",
    "leeftijd",
    "naam",
    "naam.adellijkeTitelPredicaat",
    "naam.adellijkeTitelPredicaat.code",
    "naam.adellijkeTitelPredicaat.omschrijving",
    "naam.adellijkeTitelPredicaat.soort",
    "naam.geslachtsnaam",
    "naam.volledigeNaam",
    "naam.voorletters",
    "naam.voornamen",
    "naam.voorvoegsel",
];

/// The `GezagPersoonBeperkt` paths without the sub-fields of values delivered whole, sorted.
pub(crate) static GEZAG_PERSOON_BEPERKT_FILTERED: &[&str] = &[
    "adressering",
    "adressering.adresregel1",
    "adressering.adresregel2",
    "adressering.adresregel3",
    "adressering.land",
    "adresseringBinnenland",
    "adresseringBinnenland.adresregel1",
    "adresseringBinnenland.adresregel2",
    "burgerservicenummer",
    "geboorte",
    "geboorte.datum",
    "geslacht",
    "gezag",
    "leeftijd",
    "naam",
    "naam.adellijkeTitelPredicaat",
    "naam.geslachtsnaam",
    "naam.volledigeNaam",
    "naam.voorletters",
    "naam.voornamen",
    "naam.voorvoegsel",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_units() {
        let p = ResponseShape::Persoon.index();
        assert_eq!(p.delivery_unit("geboorte.datum.jaar"), "geboorte.datum");
        assert_eq!(p.delivery_unit("geboorte.datum"), "geboorte.datum");
        assert_eq!(p.delivery_unit("geboorte"), "geboorte");
        assert_eq!(p.delivery_unit("gezag.ouders.burgerservicenummer"), "gezag");
        assert_eq!(
            p.delivery_unit("verblijfplaats.type"),
            "verblijfplaats.type"
        );
        assert_eq!(
            p.delivery_unit("naam.aanduidingNaamgebruik.code"),
            "naam.aanduidingNaamgebruik"
        );
        // A group with only a date inside is not a date itself.
        assert_eq!(
            p.delivery_unit("partners.ontbindingHuwelijkPartnerschap.datum.jaar"),
            "partners.ontbindingHuwelijkPartnerschap.datum"
        );
        let b = ResponseShape::PersoonBeperkt.index();
        assert_eq!(b.delivery_unit("geboorte.datum.type"), "geboorte.datum");
        assert_eq!(b.children("geboorte"), ["geboorte.datum"]);
    }

    #[test]
    fn every_filtered_path_is_its_own_unit_and_valid() {
        for shape in ResponseShape::ALL {
            let idx = shape.index();
            for p in shape.filtered_paths() {
                assert!(shape.is_valid_path(p), "{p}");
                assert_eq!(idx.delivery_unit(p), *p, "{p}");
            }
        }
    }

    #[test]
    fn auto_field_names() {
        for f in AutoField::ALL {
            assert_eq!(AutoField::from_name(f.name()), Some(f));
        }
        assert!(names_auto_field("naam.inOnderzoek.voornamen"));
        assert!(!names_auto_field("inOnderzoekX"));
    }
}
