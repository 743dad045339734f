//! The compact records the ZGW fixture stores. JSON is rendered from these on request
//! (`render.rs`), so 100,000 zaken cost a few tens of megabytes, not a JSON tree each.

use std::fmt;
use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value};

use crate::rng::{SplitMix64, civil_from_days, days_from_civil};

/// A UUID (version 4 shape) kept as one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid(pub u128);

impl Uuid {
    /// A version-4 UUID from the generator (deterministic for a seed).
    pub(crate) fn random(rng: &mut SplitMix64) -> Self {
        let raw = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
        // Version 4, RFC 4122 variant.
        let v = (raw & !(0xf_u128 << 76)) | (0x4_u128 << 76);
        let v = (v & !(0x3_u128 << 62)) | (0x2_u128 << 62);
        Self(v)
    }

    /// Parses the hyphenated (or plain 32-digit) form, any case.
    pub fn parse(s: &str) -> Option<Self> {
        let hex: String = s.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        if s.len() == 36 {
            let dashes: Vec<usize> = s.match_indices('-').map(|(i, _)| i).collect();
            if dashes != [8, 13, 18, 23] {
                return None;
            }
        } else if s.len() != 32 {
            return None;
        }
        u128::from_str_radix(&hex, 16).ok().map(Self)
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = format!("{:032x}", self.0);
        let part = |a: usize, b: usize| h.get(a..b).unwrap_or("");
        write!(
            f,
            "{}-{}-{}-{}-{}",
            part(0, 8),
            part(8, 12),
            part(12, 16),
            part(16, 20),
            part(20, 32)
        )
    }
}

/// A calendar date as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i32);

impl Day {
    /// From year, month, day.
    pub fn ymd(year: i32, month: u32, day: u32) -> Self {
        Self(i32::try_from(days_from_civil(i64::from(year), month, day)).unwrap_or(0))
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.splitn(3, '-');
        let y: i32 = it.next()?.parse().ok()?;
        let m: u32 = it.next()?.parse().ok()?;
        let d: u32 = it.next()?.parse().ok()?;
        if s.len() != 10 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return None;
        }
        let day = Self::ymd(y, m, d);
        // Reject 2023-02-30 and the like.
        (day.to_string() == s).then_some(day)
    }

    /// The date this many years later (29 February becomes 28 February).
    pub fn plus_years(self, years: i32) -> Self {
        let (y, m, d) = civil_from_days(i64::from(self.0));
        let y = i32::try_from(y).unwrap_or(1970) + years;
        let d = if m == 2 && d == 29 { 28 } else { d };
        Self::ymd(y, m, d)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(i64::from(self.0));
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// A moment as Unix seconds (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Moment(pub i64);

impl Moment {
    /// Now, from the system clock.
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        Self(secs)
    }

    /// The calendar day (UTC).
    pub fn day(self) -> Day {
        Day(i32::try_from(self.0.div_euclid(86_400)).unwrap_or(0))
    }

    /// Parses ISO 8601 `YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM]` (no zone = UTC).
    pub fn parse(s: &str) -> Option<Self> {
        let (date, time) = s.split_once(['T', ' '])?;
        let day = Day::parse(date)?;
        let (clock, offset) = split_zone(time)?;
        let mut parts = clock.split(':');
        let h: i64 = parts.next()?.parse().ok()?;
        let mi: i64 = parts.next()?.parse().ok()?;
        let sec: i64 = match parts.next() {
            Some(sec) => sec.split('.').next()?.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() || h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        Some(Self(
            i64::from(day.0) * 86_400 + h * 3600 + mi * 60 + sec - offset,
        ))
    }
}

/// Splits `HH:MM:SS+01:00` into the clock and the offset in seconds.
fn split_zone(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix('Z') {
        return Some((clock, 0));
    }
    if let Some(pos) = time.rfind(['+', '-']) {
        let (clock, zone) = time.split_at(pos);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let zone = zone.get(1..)?;
        let (zh, zm) = zone.split_once(':').unwrap_or((zone, "0"));
        let zh: i64 = zh.parse().ok()?;
        let zm: i64 = zm.parse().ok()?;
        return Some((clock, sign * (zh * 3600 + zm * 60)));
    }
    Some((time, 0))
}

impl fmt::Display for Moment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = self.day();
        let secs = self.0.rem_euclid(86_400);
        write!(
            f,
            "{day}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        )
    }
}

/// Values most zaken share, allocated once.
static COMMON: LazyLock<[Arc<str>; 3]> = LazyLock::new(|| {
    [
        Arc::from(""),
        Arc::from("nog_te_archiveren"),
        Arc::from("002220647"),
    ]
});

/// `s` as a shared string; the common values reuse one allocation.
pub(crate) fn shared(s: &str) -> Arc<str> {
    COMMON
        .iter()
        .find(|c| c.as_ref() == s)
        .cloned()
        .unwrap_or_else(|| Arc::from(s))
}

/// Vertrouwelijkheidaanduiding, in order from least to most confidential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Va {
    /// `openbaar`
    Openbaar,
    /// `beperkt_openbaar`
    BeperktOpenbaar,
    /// `intern`
    Intern,
    /// `zaakvertrouwelijk`
    Zaakvertrouwelijk,
    /// `vertrouwelijk`
    Vertrouwelijk,
    /// `confidentieel`
    Confidentieel,
    /// `geheim`
    Geheim,
    /// `zeer_geheim`
    ZeerGeheim,
}

impl Va {
    /// All eight, in order.
    pub const ALL: [Va; 8] = [
        Va::Openbaar,
        Va::BeperktOpenbaar,
        Va::Intern,
        Va::Zaakvertrouwelijk,
        Va::Vertrouwelijk,
        Va::Confidentieel,
        Va::Geheim,
        Va::ZeerGeheim,
    ];

    /// The API value.
    pub fn as_str(self) -> &'static str {
        match self {
            Va::Openbaar => "openbaar",
            Va::BeperktOpenbaar => "beperkt_openbaar",
            Va::Intern => "intern",
            Va::Zaakvertrouwelijk => "zaakvertrouwelijk",
            Va::Vertrouwelijk => "vertrouwelijk",
            Va::Confidentieel => "confidentieel",
            Va::Geheim => "geheim",
            Va::ZeerGeheim => "zeer_geheim",
        }
    }

    /// From the API value.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// 0 (openbaar) ..= 7 (zeer_geheim).
    pub fn order(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for Va {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Catalogus.
#[derive(Debug, Clone)]
pub(crate) struct Catalogus {
    pub(crate) uuid: Uuid,
    pub(crate) domein: String,
    pub(crate) rsin: String,
}

/// A ZaakType with its default vertrouwelijkheidaanduiding (zrc-009).
#[derive(Debug, Clone)]
pub(crate) struct Zaaktype {
    pub(crate) uuid: Uuid,
    pub(crate) catalogus: u32,
    pub(crate) identificatie: String,
    pub(crate) omschrijving: String,
    pub(crate) va: Va,
    pub(crate) concept: bool,
    pub(crate) statustypen: Vec<u32>,
    pub(crate) roltypen: Vec<u32>,
    pub(crate) resultaattypen: Vec<u32>,
    pub(crate) eigenschappen: Vec<u32>,
    pub(crate) informatieobjecttypen: Vec<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct Statustype {
    pub(crate) uuid: Uuid,
    pub(crate) zaaktype: u32,
    pub(crate) volgnummer: u32,
    pub(crate) omschrijving: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Roltype {
    pub(crate) uuid: Uuid,
    pub(crate) zaaktype: u32,
    pub(crate) omschrijving: String,
    pub(crate) omschrijving_generiek: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Resultaattype {
    pub(crate) uuid: Uuid,
    pub(crate) zaaktype: u32,
    pub(crate) omschrijving: String,
    pub(crate) archiefnominatie: &'static str,
    pub(crate) archiefactietermijn_jaren: i32,
}

#[derive(Debug, Clone)]
pub(crate) struct Eigenschap {
    pub(crate) uuid: Uuid,
    pub(crate) zaaktype: u32,
    pub(crate) naam: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Informatieobjecttype {
    pub(crate) uuid: Uuid,
    pub(crate) catalogus: u32,
    pub(crate) omschrijving: String,
    pub(crate) va: Va,
}

/// Fields a client wrote that the fixture does not model; echoed back as sent.
pub(crate) type Extra = Option<Box<Map<String, Value>>>;

/// A Zaak. Related objects are found through the per-zaak index lists.
#[derive(Debug, Clone)]
pub(crate) struct Zaak {
    pub(crate) uuid: Uuid,
    pub(crate) identificatie: String,
    pub(crate) bronorganisatie: Arc<str>,
    pub(crate) omschrijving: String,
    pub(crate) toelichting: String,
    pub(crate) zaaktype: u32,
    pub(crate) va: Va,
    pub(crate) registratiedatum: Day,
    pub(crate) verantwoordelijke_organisatie: Arc<str>,
    pub(crate) startdatum: Day,
    pub(crate) einddatum: Option<Day>,
    pub(crate) einddatum_gepland: Option<Day>,
    pub(crate) uiterlijke_einddatum_afdoening: Option<Day>,
    pub(crate) publicatiedatum: Option<Day>,
    pub(crate) archiefnominatie: Option<String>,
    pub(crate) archiefstatus: Arc<str>,
    pub(crate) archiefactiedatum: Option<Day>,
    /// (longitude, latitude).
    pub(crate) geometrie: Option<(f64, f64)>,
    pub(crate) extra: Extra,
    pub(crate) statussen: Vec<u32>,
    pub(crate) rollen: Vec<u32>,
    pub(crate) zaakobjecten: Vec<u32>,
    pub(crate) zios: Vec<u32>,
    pub(crate) klantcontacten: Vec<u32>,
    pub(crate) eigenschappen: Vec<u32>,
    pub(crate) resultaat: Option<u32>,
}

impl Zaak {
    /// A zaak with only its identity, type, VA and dates set; the rest empty.
    pub(crate) fn new(uuid: Uuid, zaaktype: u32, va: Va, start: Day) -> Self {
        Self {
            uuid,
            identificatie: String::new(),
            bronorganisatie: shared(""),
            omschrijving: String::new(),
            toelichting: String::new(),
            zaaktype,
            va,
            registratiedatum: start,
            verantwoordelijke_organisatie: shared(""),
            startdatum: start,
            einddatum: None,
            einddatum_gepland: None,
            uiterlijke_einddatum_afdoening: None,
            publicatiedatum: None,
            archiefnominatie: None,
            archiefstatus: shared("nog_te_archiveren"),
            archiefactiedatum: None,
            geometrie: None,
            extra: None,
            statussen: Vec::new(),
            rollen: Vec::new(),
            zaakobjecten: Vec::new(),
            zios: Vec::new(),
            klantcontacten: Vec::new(),
            eigenschappen: Vec::new(),
            resultaat: None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Status {
    pub(crate) uuid: Uuid,
    pub(crate) zaak: u32,
    pub(crate) statustype: u32,
    pub(crate) datum_status_gezet: Moment,
    pub(crate) statustoelichting: String,
    pub(crate) extra: Extra,
}

/// Who a rol points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Betrokkene {
    /// A medewerker (`betrokkeneType` `medewerker`).
    Medewerker {
        /// `betrokkeneIdentificatie.identificatie`, e.g. `mdw-001`.
        identificatie: String,
        /// `betrokkeneIdentificatie.achternaam`.
        achternaam: String,
    },
    /// A natural person (`betrokkeneType` `natuurlijk_persoon`).
    NatuurlijkPersoon {
        /// `betrokkeneIdentificatie.inpBsn`.
        bsn: String,
        /// `betrokkeneIdentificatie.geslachtsnaam`.
        geslachtsnaam: String,
    },
    /// Any other type, with its identification as sent.
    Other {
        /// `betrokkeneType`.
        betrokkene_type: String,
        /// `betrokkeneIdentificatie` as sent (or null).
        identificatie: Value,
    },
}

/// A rol's betrokkene as stored: shared strings for the generated pools (no allocation per
/// rol), anything else boxed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Party {
    Medewerker {
        identificatie: Arc<str>,
        achternaam: Arc<str>,
    },
    Persoon {
        bsn: Arc<str>,
        geslachtsnaam: Arc<str>,
    },
    /// `betrokkeneType` and `betrokkeneIdentificatie` as sent.
    Other(Box<(String, Value)>),
}

impl From<Betrokkene> for Party {
    fn from(b: Betrokkene) -> Self {
        match b {
            Betrokkene::Medewerker {
                identificatie,
                achternaam,
            } => Party::Medewerker {
                identificatie: identificatie.into(),
                achternaam: achternaam.into(),
            },
            Betrokkene::NatuurlijkPersoon { bsn, geslachtsnaam } => Party::Persoon {
                bsn: bsn.into(),
                geslachtsnaam: geslachtsnaam.into(),
            },
            Betrokkene::Other {
                betrokkene_type,
                identificatie,
            } => Party::Other(Box::new((betrokkene_type, identificatie))),
        }
    }
}

impl Party {
    pub(crate) fn type_name(&self) -> &str {
        match self {
            Party::Medewerker { .. } => "medewerker",
            Party::Persoon { .. } => "natuurlijk_persoon",
            Party::Other(o) => &o.0,
        }
    }

    pub(crate) fn medewerker_id(&self) -> Option<&str> {
        match self {
            Party::Medewerker { identificatie, .. } => Some(identificatie),
            Party::Other(o) if o.0 == "medewerker" => {
                o.1.get("identificatie").and_then(Value::as_str)
            }
            _ => None,
        }
    }

    pub(crate) fn bsn(&self) -> Option<&str> {
        match self {
            Party::Persoon { bsn, .. } => Some(bsn),
            Party::Other(o) if o.0 == "natuurlijk_persoon" => {
                o.1.get("inpBsn").and_then(Value::as_str)
            }
            _ => None,
        }
    }
}

/// A zaakobject's `objectIdentificatie`, compact for the generated kinds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ObjectId {
    /// `{"identificatie": ...}` of a pand.
    Pand(Box<str>),
    /// A natuurlijk persoon by BSN.
    Persoon(Arc<str>),
    /// As sent (or null).
    Json(Value),
}

#[derive(Debug, Clone)]
pub(crate) struct Rol {
    pub(crate) uuid: Uuid,
    pub(crate) zaak: u32,
    pub(crate) roltype: u32,
    /// `betrokkene` URL ("" when none).
    pub(crate) betrokkene_url: String,
    pub(crate) betrokkene: Party,
    pub(crate) roltoelichting: String,
    pub(crate) registratiedatum: Moment,
    pub(crate) extra: Extra,
}

#[derive(Debug, Clone)]
pub(crate) struct Resultaat {
    pub(crate) uuid: Uuid,
    pub(crate) zaak: u32,
    pub(crate) resultaattype: u32,
    pub(crate) toelichting: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Zaakobject {
    pub(crate) uuid: Uuid,
    pub(crate) zaak: u32,
    pub(crate) object: String,
    pub(crate) object_type: Arc<str>,
    pub(crate) relatieomschrijving: Arc<str>,
    pub(crate) identificatie: ObjectId,
    pub(crate) extra: Extra,
}

#[derive(Debug, Clone)]
pub(crate) struct Zio {
    pub(crate) uuid: Uuid,
    pub(crate) zaak: u32,
    /// The document slot; `None` for an informatieobject URL outside this fixture.
    pub(crate) document: Option<u32>,
    pub(crate) informatieobject_url: String,
    pub(crate) titel: String,
    pub(crate) beschrijving: String,
    pub(crate) registratiedatum: Moment,
    /// The objectinformatieobject the DRC keeps for this link.
    pub(crate) oio: Option<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct Klantcontact {
    pub(crate) uuid: Uuid,
    pub(crate) zaak: u32,
    pub(crate) identificatie: String,
    pub(crate) datumtijd: Moment,
    pub(crate) kanaal: String,
    pub(crate) onderwerp: String,
    pub(crate) toelichting: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Zaakeigenschap {
    pub(crate) uuid: Uuid,
    pub(crate) zaak: u32,
    pub(crate) eigenschap: u32,
    pub(crate) waarde: String,
}

/// An EnkelvoudigInformatieObject.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub(crate) uuid: Uuid,
    pub(crate) identificatie: String,
    pub(crate) bronorganisatie: String,
    pub(crate) creatiedatum: Day,
    pub(crate) titel: String,
    pub(crate) va: Va,
    pub(crate) auteur: String,
    pub(crate) status: String,
    pub(crate) formaat: String,
    pub(crate) taal: String,
    pub(crate) bestandsnaam: String,
    pub(crate) informatieobjecttype: u32,
    pub(crate) versie: u32,
    pub(crate) beginregistratie: Moment,
    pub(crate) lock: String,
    pub(crate) is_gereed_voor_publicatie: bool,
    /// Own content; `None` serves the shared generated content.
    pub(crate) content: Option<bytes::Bytes>,
    pub(crate) extra: Extra,
}

#[derive(Debug, Clone)]
pub(crate) struct Gebruiksrecht {
    pub(crate) uuid: Uuid,
    pub(crate) document: u32,
    pub(crate) startdatum: Moment,
    pub(crate) omschrijving_voorwaarden: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Oio {
    pub(crate) uuid: Uuid,
    pub(crate) document: u32,
    /// The zaak slot when the object is a zaak of this fixture.
    pub(crate) zaak: Option<u32>,
    /// The object URL otherwise.
    pub(crate) object: String,
    pub(crate) object_type: String,
}

/// One audit trail record, its JSON fixed when written (as OZ stores it).
#[derive(Debug, Clone)]
pub(crate) struct AuditRecord {
    /// UUID of the main object (zaak or document).
    pub(crate) hoofd: Uuid,
    pub(crate) uuid: Uuid,
    pub(crate) body: Value,
}

/// An Applicatie of the Autorisaties API.
#[derive(Debug, Clone)]
pub(crate) struct Applicatie {
    pub(crate) uuid: Uuid,
    pub(crate) client_ids: Vec<String>,
    pub(crate) label: String,
    pub(crate) heeft_alle_autorisaties: bool,
    pub(crate) alleen_is_gereed_voor_publicatie: bool,
    /// As sent, without `componentWeergave`.
    pub(crate) autorisaties: Vec<Map<String, Value>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_round_trip() {
        let mut rng = SplitMix64::new(1);
        let u = Uuid::random(&mut rng);
        let s = u.to_string();
        assert_eq!(s.len(), 36);
        assert_eq!(s.chars().nth(14), Some('4'));
        assert_eq!(Uuid::parse(&s), Some(u));
        assert_eq!(Uuid::parse(&s.to_uppercase()), Some(u));
        assert_eq!(Uuid::parse("nope"), None);
    }

    #[test]
    fn dates_and_moments() {
        assert_eq!(
            Day::parse("2024-02-29").map(|d| d.to_string()).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(Day::parse("2023-02-29"), None);
        assert_eq!(
            Day::parse("2024-02-29")
                .map(|d| d.plus_years(1).to_string())
                .as_deref(),
            Some("2025-02-28")
        );
        let m = Moment::parse("2023-01-01T12:30:00+01:00").unwrap();
        assert_eq!(m.to_string(), "2023-01-01T11:30:00Z");
        assert_eq!(
            Moment::parse("2023-01-01T00:00:00").unwrap().to_string(),
            "2023-01-01T00:00:00Z"
        );
        assert_eq!(
            Moment::parse("2023-01-01T00:00:00.123456Z")
                .unwrap()
                .to_string(),
            "2023-01-01T00:00:00Z"
        );
        assert_eq!(Moment::parse("2023-01-01"), None);
    }

    #[test]
    fn va_order() {
        assert!(Va::Openbaar < Va::ZeerGeheim);
        assert_eq!(Va::parse("zeer_geheim"), Some(Va::ZeerGeheim));
        assert_eq!(Va::ZeerGeheim.order(), 7);
    }
}
