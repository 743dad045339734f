//! The citizen's overview (AVG art. 15, `sluis audit subject`): which of a person's data was
//! processed, when, for which activity, purpose and legal basis, by which application, and how
//! long the record of it is kept. Pure: it takes the processing records of one data subject (as
//! [`AuditStore::processing_by_subject`](crate::AuditStore::processing_by_subject) returns them,
//! already merged over every pseudonym key) and the register of processing activities, and gives a
//! serialisable [`Overview`] and a printable Dutch letter ([`Overview::to_html`]).
//!
//! Rules (domain file, scenarios E1, E3, E8 and E14):
//! - purpose, legal basis, retention and confidentiality come from the register, looked up by
//!   `processing_activity_id` — the log line holds only the id (LDV ADR);
//! - a processing under an activity the register marks **confidential** is left out entirely, and
//!   nothing in the overview says that something was left out (a count would reveal it);
//! - a processing under an activity the register does not know is shown as
//!   `onbekende verwerking (<id>)`, so that a gap in the register is visible rather than hidden;
//! - no employee names: the processing record holds none, and the recipient shown is the
//!   application (`client_app_id`, else `foreign_processor`);
//! - data categories are the top-level segments of the delivered field paths
//!   (`naam.voornamen` → `naam`, `partners[0].naam` → `partners`), split into words
//!   (`geheimhoudingPersoonsgegevens` → `geheimhouding persoonsgegevens`) with a few BRP names
//!   given a plainer label (see [`data_category`]); paths starting with `_` (links) are skipped;
//! - times are shown in Dutch local time (Europe/Amsterdam, EU summer-time rule since 1996).

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::purge::DAY_MS;
use crate::{AuditError, ProcessingRecord, SubjectRole};

/// The `format` of an [`Overview`]; changes when its JSON changes incompatibly.
pub const OVERVIEW_FORMAT: &str = "sluis-overview-v1";

const HOUR_MS: u64 = 3_600_000;

/// One entry of the register of processing activities, as far as the overview needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterActivity {
    pub id: String,
    pub name: String,
    pub purpose: String,
    pub legal_basis: String,
    pub retention_days: u32,
    /// Left out of citizens' overviews (LDV: confidentiality per activity, scenario E8).
    pub confidential: bool,
}

/// What an overview is built for: the register, the controller and the period asked.
#[derive(Debug, Clone)]
pub struct OverviewRequest<'a> {
    /// The controller (verwerkingsverantwoordelijke) named in the overview.
    pub controller: &'a str,
    pub register: &'a [RegisterActivity],
    /// How the letter names the subject, e.g. a masked BSN (`*****3653`); never a pseudonym.
    pub subject_label: Option<String>,
    /// Start of the period (ms since the Unix epoch, inclusive); `None`: from the beginning.
    pub from_ms: Option<u64>,
    /// End of the period (exclusive); `None`: up to now.
    pub to_ms: Option<u64>,
    /// When the overview is made.
    pub generated_ms: u64,
}

/// The period an overview covers, as local dates (both inclusive) and as the bounds queried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// First day (`YYYY-MM-DD`, Dutch local date), when a start was given.
    pub from: Option<String>,
    /// Last day (inclusive), when an end was given.
    pub to: Option<String>,
    pub from_ms: Option<u64>,
    /// Exclusive end.
    pub to_ms: Option<u64>,
}

/// One processing of the subject's data, as the citizen is told about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewLine {
    /// Position in the audit log (for the privacy officer's follow-up questions).
    pub seq: u64,
    /// When the processing took place (ms since the Unix epoch).
    pub time_ms: u64,
    /// The same moment in Dutch local time, RFC 3339 with offset.
    pub when: String,
    pub activity_id: String,
    /// The activity's name from the register, or `onbekende verwerking (<id>)`.
    pub activity: String,
    /// False when the register does not know the activity.
    pub registered: bool,
    pub purpose: Option<String>,
    pub legal_basis: Option<String>,
    pub controller: String,
    /// Readable data categories delivered (sorted, distinct).
    pub data_categories: Vec<String>,
    /// The application the data went to (never an employee).
    pub recipient: Option<String>,
    /// How long the record of this processing is kept, e.g. `10 jaar`, `90 dagen`.
    pub retention: Option<String>,
    pub retention_days: Option<u32>,
    /// Where the data came from, e.g. `Basisregistratie Personen (BRP)`.
    pub source: String,
    /// The system that recorded it (the sluis instance).
    pub system: String,
    /// What was done, in words (e.g. `opvragen met burgerservicenummer`).
    pub action: String,
    /// The subject's role: `geraadpleegd`, `gevonden in zoekresultaat`, `gerelateerd`.
    pub role: Option<String>,
    /// The role explained in a sentence.
    pub role_description: Option<String>,
}

/// A statement the overview makes to the citizen (rights, other sources).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Stable key: `rectificatie`, `wissen-beperken`, `bezwaar`, `klacht`, `rvig`,
    /// `medewerkers`, `bewaartermijn`.
    pub topic: String,
    pub title: String,
    pub text: String,
}

/// The citizen's overview (AVG art. 15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// [`OVERVIEW_FORMAT`].
    pub format: String,
    pub controller: String,
    /// How the subject is named (e.g. a masked BSN), if at all.
    pub subject: Option<String>,
    pub period: Period,
    /// When the overview was made, RFC 3339 in Dutch local time.
    pub generated_at: String,
    pub generated_ms: u64,
    /// The processings shown, oldest first.
    pub processings: Vec<OverviewLine>,
    pub statements: Vec<Statement>,
}

impl Overview {
    /// Builds the overview from the subject's processing records `(seq, time_ms, record)` (any
    /// order, duplicates by seq ignored).
    pub fn build(req: &OverviewRequest<'_>, rows: &[(u64, u64, ProcessingRecord)]) -> Overview {
        let mut seen = HashSet::new();
        let mut processings: Vec<OverviewLine> = rows
            .iter()
            .filter(|(seq, _, _)| seen.insert(*seq))
            .filter_map(|(seq, time_ms, rec)| line(req, *seq, *time_ms, rec))
            .collect();
        processings.sort_by_key(|l| (l.time_ms, l.seq));
        Overview {
            format: OVERVIEW_FORMAT.to_owned(),
            controller: req.controller.to_owned(),
            subject: req.subject_label.clone(),
            period: Period {
                from: req.from_ms.map(local_date),
                to: req.to_ms.map(|ms| local_date(ms.saturating_sub(1))),
                from_ms: req.from_ms,
                to_ms: req.to_ms,
            },
            generated_at: rfc3339_local(req.generated_ms),
            generated_ms: req.generated_ms,
            processings,
            statements: statements(req.controller),
        }
    }

    /// A printable letter-style report in Dutch: one self-contained HTML document with inline
    /// CSS (A4 print layout), every value escaped.
    pub fn to_html(&self) -> String {
        let c = esc(&self.controller);
        let mut h = String::with_capacity(8_192 + self.processings.len() * 1_500);
        h.push_str("<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n");
        h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        let _ = writeln!(
            h,
            "<title>Overzicht van het gebruik van uw persoonsgegevens \u{2013} {c}</title>"
        );
        h.push_str(STYLE);
        h.push_str("</head>\n<body>\n<main class=\"brief\">\n");
        let _ = writeln!(
            h,
            "<header class=\"afzender\"><p class=\"organisatie\">{c}</p></header>"
        );
        let _ = writeln!(
            h,
            "<p class=\"datum\">Datum: {}</p>",
            esc(&long_date(self.generated_ms))
        );
        h.push_str("<p class=\"betreft\"><strong>Betreft:</strong> uw verzoek om inzage (artikel 15 Algemene verordening gegevensbescherming)");
        if let Some(s) = &self.subject {
            let _ = write!(h, "<br>Burgerservicenummer: {}", esc(s));
        }
        h.push_str("</p>\n");
        h.push_str("<h1>Overzicht van het gebruik van uw persoonsgegevens</h1>\n");
        h.push_str("<p>Geachte heer, mevrouw,</p>\n");
        let period = self.period_text();
        let n = self.processings.len();
        let _ = writeln!(
            h,
            "<p>U heeft gevraagd welke persoonsgegevens van u {c} heeft gebruikt, waarvoor en op welke grond. In dit overzicht staat elk gebruik dat wij hebben vastgelegd {}.</p>",
            esc(&period)
        );
        if n == 0 {
            let _ = writeln!(
                h,
                "<p class=\"samenvatting\">Wij hebben {} geen gebruik van uw persoonsgegevens gevonden.</p>",
                esc(&period)
            );
        } else {
            let _ = writeln!(
                h,
                "<p class=\"samenvatting\">Wij hebben {} {} keer gebruik van uw persoonsgegevens gevonden. Per keer ziet u hieronder wanneer het was, voor welke taak, met welk doel en op welke grond, welke soorten gegevens zijn gebruikt, door welke toepassing, waar de gegevens vandaan kwamen en hoe lang wij dit bewaren.</p>",
                esc(&period),
                n
            );
        }
        for (i, l) in self.processings.iter().enumerate() {
            self.line_html(&mut h, i + 1, l);
        }
        h.push_str("<section class=\"rechten\">\n<h2>Uw rechten</h2>\n");
        for s in &self.statements {
            let _ = writeln!(
                h,
                "<p><strong>{}.</strong> {}</p>",
                esc(&s.title),
                esc(&s.text)
            );
        }
        h.push_str("</section>\n");
        let _ = writeln!(
            h,
            "<p class=\"groet\">Met vriendelijke groet,<br>{c}</p>\n<footer>Opgesteld op {} uit het logboek van verwerkingen (sluis, {}).</footer>",
            esc(&long_datetime(self.generated_ms)),
            esc(&self.format)
        );
        h.push_str("</main>\n</body>\n</html>\n");
        h
    }

    fn period_text(&self) -> String {
        match (&self.period.from, &self.period.to) {
            (Some(f), Some(t)) => format!(
                "in de periode van {} tot en met {}",
                date_words(f),
                date_words(t)
            ),
            (Some(f), None) => format!("vanaf {}", date_words(f)),
            (None, Some(t)) => format!("tot en met {}", date_words(t)),
            (None, None) => "in de hele periode waarover wij nog gegevens bewaren".to_owned(),
        }
    }

    fn line_html(&self, h: &mut String, number: usize, l: &OverviewLine) {
        let _ = writeln!(
            h,
            "<section class=\"verwerking\">\n<h2>{number}. {} \u{2013} {}</h2>\n<table>",
            esc(&long_datetime(l.time_ms)),
            esc(&l.activity)
        );
        let unknown = "onbekend";
        let rows: [(&str, String); 11] = [
            ("Wanneer", long_datetime(l.time_ms)),
            ("Verwerking", l.activity.clone()),
            (
                "Doel",
                l.purpose.clone().unwrap_or_else(|| unknown.to_owned()),
            ),
            (
                "Grondslag",
                l.legal_basis.clone().unwrap_or_else(|| unknown.to_owned()),
            ),
            ("Verantwoordelijke", l.controller.clone()),
            (
                "Soorten gegevens",
                if l.data_categories.is_empty() {
                    "geen gegevens geleverd".to_owned()
                } else {
                    l.data_categories.join(", ")
                },
            ),
            (
                "Ontvanger",
                l.recipient
                    .as_ref()
                    .map_or_else(|| unknown.to_owned(), |r| format!("toepassing {r}")),
            ),
            (
                "Uw rol",
                match (&l.role, &l.role_description) {
                    (Some(r), Some(d)) => format!("{r}: {d}"),
                    (Some(r), None) => r.clone(),
                    _ => unknown.to_owned(),
                },
            ),
            ("Handeling", l.action.clone()),
            ("Bron", format!("{}, opgevraagd via {}", l.source, l.system)),
            (
                "Bewaartermijn",
                l.retention.clone().unwrap_or_else(|| unknown.to_owned()),
            ),
        ];
        for (k, v) in rows {
            let _ = writeln!(h, "<tr><th scope=\"row\">{k}</th><td>{}</td></tr>", esc(&v));
        }
        h.push_str("</table>\n</section>\n");
    }
}

fn line(
    req: &OverviewRequest<'_>,
    seq: u64,
    time_ms: u64,
    rec: &ProcessingRecord,
) -> Option<OverviewLine> {
    let activity = req
        .register
        .iter()
        .find(|a| a.id == rec.processing_activity_id);
    if activity.is_some_and(|a| a.confidential) {
        return None;
    }
    // The processing's own start; the store's time only when the record lacks one.
    let when_ms = if rec.start_time_ms > 0 {
        rec.start_time_ms
    } else {
        time_ms
    };
    let (role, role_description) = match rec.subject_role {
        Some(r) => {
            let (w, d) = role_words(r);
            (Some(w.to_owned()), Some(d.to_owned()))
        }
        None => (None, None),
    };
    Some(OverviewLine {
        seq,
        time_ms: when_ms,
        when: rfc3339_local(when_ms),
        activity_id: rec.processing_activity_id.clone(),
        activity: match activity {
            Some(a) => a.name.clone(),
            None if rec.processing_activity_id.is_empty() => {
                "onbekende verwerking (zonder id)".to_owned()
            }
            None => format!("onbekende verwerking ({})", rec.processing_activity_id),
        },
        registered: activity.is_some(),
        purpose: activity.map(|a| a.purpose.clone()),
        legal_basis: activity.map(|a| a.legal_basis.clone()),
        controller: req.controller.to_owned(),
        data_categories: data_categories(&rec.fields_delivered),
        recipient: rec
            .client_app_id
            .clone()
            .or_else(|| rec.foreign_processor.clone())
            .filter(|s| !s.is_empty()),
        retention: activity.map(|a| retention_text(a.retention_days)),
        retention_days: activity.map(|a| a.retention_days),
        source: source_text(&rec.name),
        system: rec.resource.clone(),
        action: action_text(&rec.name),
        role,
        role_description,
    })
}

/// The role in words, and explained.
fn role_words(role: SubjectRole) -> (&'static str, &'static str) {
    match role {
        SubjectRole::Geraadpleegd => ("geraadpleegd", "uw gegevens zijn opgevraagd"),
        SubjectRole::GevondenInZoekresultaat => (
            "gevonden in zoekresultaat",
            "u kwam voor in het resultaat van een zoekvraag",
        ),
        SubjectRole::Gerelateerd => (
            "gerelateerd",
            "uw gegevens kwamen mee bij het opvragen van de gegevens van een familielid (partner, ouder of kind)",
        ),
    }
}

/// `N jaar` for whole years of 365 days, else `N dagen`.
pub fn retention_text(days: u32) -> String {
    match days {
        1 => "1 dag".to_owned(),
        d if d % 365 == 0 => format!("{} jaar", d / 365),
        d => format!("{d} dagen"),
    }
}

/// The readable categories of delivered field paths: distinct, sorted.
pub fn data_categories(fields: &[String]) -> Vec<String> {
    fields
        .iter()
        .filter_map(|f| data_category(f))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The category of one field path: its top-level segment (before `.`, `[` or `/`) in words.
/// `None` for an empty path or a link (`_links`, `_embedded`).
pub fn data_category(path: &str) -> Option<String> {
    let top = path
        .split(['.', '[', '/'])
        .next()
        .map(str::trim)
        .unwrap_or_default();
    if top.is_empty() || top.starts_with('_') {
        return None;
    }
    let plain = match top {
        "aNummer" => Some("A-nummer"),
        "adressering" => Some("adres"),
        "verblijfplaats" | "verblijfplaatsBinnenland" => Some("verblijfplaats (adres)"),
        "indicatieCurateleRegister" => Some("curatele"),
        "rni" => Some("registratie niet-ingezetenen"),
        _ => None,
    };
    Some(plain.map_or_else(|| camel_words(top), str::to_owned))
}

/// `geheimhoudingPersoonsgegevens` → `geheimhouding persoonsgegevens`;
/// `datumEersteInschrijvingGBA` → `datum eerste inschrijving GBA`; snake_case too.
fn camel_words(s: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in s.chars() {
        if ch == '_' || ch == '-' || ch == ' ' {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
        cur.push(ch);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
        .into_iter()
        .map(|w| {
            // An acronym (two or more capitals) stays as it is.
            if w.chars().count() > 1 && w.chars().all(|c| !c.is_lowercase()) {
                w
            } else {
                w.to_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where the data came from, from the operation name (`brp.personen.…`, `zrc.zaak.list`,
/// `dataset.<table>.list`).
fn source_text(operation: &str) -> String {
    let mut parts = operation.split('.');
    let first = parts.next().unwrap_or_default();
    match first {
        "brp" => "Basisregistratie Personen (BRP)".to_owned(),
        "zrc" => "Zaken-API (zaakregistratie)".to_owned(),
        "drc" => "Documenten-API".to_owned(),
        "ztc" => "Catalogi-API".to_owned(),
        "brc" => "Besluiten-API".to_owned(),
        "dataset" => match parts.next() {
            Some(table) if !table.is_empty() => format!("gegevensset, tabel {table}"),
            _ => "gegevensset".to_owned(),
        },
        _ if operation.is_empty() => "onbekend".to_owned(),
        _ => operation.to_owned(),
    }
}

/// What was done, in words, from the operation name's last segment.
fn action_text(operation: &str) -> String {
    let last = operation.rsplit('.').next().unwrap_or_default();
    let words = match last {
        "RaadpleegMetBurgerservicenummer" => "opvragen met burgerservicenummer",
        "ZoekMetGeslachtsnaamEnGeboortedatum" => "zoeken op achternaam en geboortedatum",
        "ZoekMetNaamEnGemeenteVanInschrijving" => "zoeken op naam en woonplaats",
        "ZoekMetPostcodeEnHuisnummer" => "zoeken op postcode en huisnummer",
        "ZoekMetStraatHuisnummerEnGemeenteVanInschrijving" => {
            "zoeken op straat, huisnummer en woonplaats"
        }
        "ZoekMetNummeraanduidingIdentificatie" | "ZoekMetAdresseerbaarObjectIdentificatie" => {
            "zoeken op adres"
        }
        "list" => "opvragen van een lijst",
        "detail" | "retrieve" => "opvragen van een gegeven",
        "create" => "vastleggen",
        "update" | "partial_update" => "wijzigen",
        "destroy" => "verwijderen",
        _ if operation.is_empty() => "onbekend",
        _ => return operation.to_owned(),
    };
    words.to_owned()
}

fn statements(controller: &str) -> Vec<Statement> {
    let s = |topic: &str, title: &str, text: String| Statement {
        topic: topic.to_owned(),
        title: title.to_owned(),
        text,
    };
    vec![
        s(
            "rectificatie",
            "Gegevens laten verbeteren (artikel 16 AVG)",
            format!(
                "Kloppen uw gegevens niet of zijn ze onvolledig, dan kunt u {controller} vragen ze te verbeteren of aan te vullen. Gegevens uit de Basisregistratie Personen (BRP) laat u verbeteren bij de gemeente waar u staat ingeschreven."
            ),
        ),
        s(
            "wissen-beperken",
            "Gegevens laten wissen of het gebruik laten beperken (artikelen 17 en 18 AVG)",
            "In een aantal gevallen kunt u vragen uw gegevens te wissen of het gebruik ervan tijdelijk te beperken, bijvoorbeeld terwijl wordt onderzocht of ze kloppen.".to_owned(),
        ),
        s(
            "bezwaar",
            "Bezwaar maken (artikel 21 AVG)",
            format!(
                "U kunt bezwaar maken tegen het gebruik van uw gegevens voor een taak van algemeen belang of een gerechtvaardigd belang. {controller} weegt uw bezwaar en laat u de uitkomst weten."
            ),
        ),
        s(
            "klacht",
            "Een klacht indienen (artikel 77 AVG)",
            format!(
                "Bent u het niet eens met hoe {controller} met uw gegevens omgaat, neem dan contact op met de functionaris gegevensbescherming van {controller}. U kunt ook een klacht indienen bij de Autoriteit Persoonsgegevens (autoriteitpersoonsgegevens.nl)."
            ),
        ),
        s(
            "rvig",
            "Verstrekkingen uit de BRP",
            format!(
                "Dit overzicht gaat over het gebruik van uw gegevens door {controller}. De Rijksdienst voor Identiteitsgegevens (RvIG) houdt zelf bij welke gegevens uit de Basisregistratie Personen aan {controller} zijn verstrekt. Op MijnOverheid ziet u alleen welke organisaties automatisch wijzigingen in uw BRP-gegevens ontvangen; een volledig overzicht van de verstrekkingen uit de BRP vraagt u aan bij de gemeente waar u staat ingeschreven."
            ),
        ),
        s(
            "medewerkers",
            "Namen van medewerkers",
            "In dit overzicht staan geen namen van medewerkers. Wel staat er bij elk gebruik welke toepassing (applicatie) uw gegevens heeft ontvangen.".to_owned(),
        ),
        s(
            "bewaartermijn",
            "Bewaartermijn",
            "Bij elk gebruik staat hoe lang wij de vastlegging ervan bewaren. Daarna wordt die vastlegging verwijderd; ook dat verwijderen wordt vastgelegd.".to_owned(),
        ),
    ]
}

/// True for a well-formed BSN: nine digits passing the eleven-test (elfproef: weights 9..2 and
/// -1, sum a non-zero multiple of 11). Catches most typing errors before a citizen is told that
/// nothing was found.
pub fn bsn_is_valid(bsn: &str) -> bool {
    let b = bsn.as_bytes();
    if b.len() != 9 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: i64 = b
        .iter()
        .zip([9i64, 8, 7, 6, 5, 4, 3, 2, -1])
        .map(|(c, w)| i64::from(c - b'0') * w)
        .sum();
    sum != 0 && sum % 11 == 0
}

/// A BSN as a letter names it: all but the last four digits masked (`*****3653`).
pub fn mask_bsn(bsn: &str) -> String {
    let n = bsn.chars().count();
    bsn.chars()
        .enumerate()
        .map(|(i, c)| if i + 4 < n { '*' } else { c })
        .collect()
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab/newline have no business in a letter.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn esc(s: &str) -> String {
    html_escape(s)
}

const STYLE: &str = "<style>
@page { size: A4; margin: 20mm 18mm 20mm 22mm; }
html { background: #fff; color: #111; }
body { font-family: \"Segoe UI\", Arial, Helvetica, sans-serif; font-size: 11pt; line-height: 1.45; margin: 0; }
main.brief { max-width: 46rem; margin: 2rem auto; padding: 0 1.25rem; }
.afzender .organisatie { font-size: 14pt; font-weight: 700; margin: 0 0 2rem; }
.datum { margin: 0 0 0.25rem; }
.betreft { margin: 0 0 1.5rem; }
h1 { font-size: 15pt; margin: 1.5rem 0 1rem; }
h2 { font-size: 12pt; margin: 1.5rem 0 0.5rem; }
.verwerking { break-inside: avoid; page-break-inside: avoid; margin: 0 0 1rem; }
.verwerking h2 { border-bottom: 1px solid #888; padding-bottom: 0.2rem; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: 0.15rem 0.5rem 0.15rem 0; }
th { width: 11rem; font-weight: 600; }
.rechten p { margin: 0 0 0.6rem; }
.groet { margin-top: 2rem; }
footer { margin-top: 2.5rem; font-size: 9pt; color: #555; }
@media print {
  main.brief { margin: 0; max-width: none; padding: 0; }
  footer { color: #000; }
}
</style>
";

// ---------------------------------------------------------------------------------------------
// Dates and times in Dutch local time (Europe/Amsterdam). CET (UTC+1), and CEST (UTC+2) from the
// last Sunday of March 01:00 UTC until the last Sunday of October 01:00 UTC — the EU rule in
// force since 1996. No time-zone database needed.

const MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Day count of the last Sunday of a month.
fn last_sunday(y: i64, m: u32) -> i64 {
    let last = days_from_civil(y, m, days_in_month(y, m));
    // 1970-01-01 was a Thursday: weekday 0 = Sunday.
    last - (last + 4).rem_euclid(7)
}

/// The offset of Dutch local time from UTC at an instant, in ms.
pub fn amsterdam_offset_ms(utc_ms: u64) -> u64 {
    let day = i64::try_from(utc_ms / DAY_MS).unwrap_or(i64::MAX / 2);
    let (y, _, _) = civil_from_days(day);
    let at = |d: i64| {
        u64::try_from(d)
            .unwrap_or(0)
            .saturating_mul(DAY_MS)
            .saturating_add(HOUR_MS)
    };
    let start = at(last_sunday(y, 3));
    let end = at(last_sunday(y, 10));
    if (start..end).contains(&utc_ms) {
        2 * HOUR_MS
    } else {
        HOUR_MS
    }
}

/// Local date and time parts: (year, month, day, hour, minute, second, offset hours).
fn local_parts(utc_ms: u64) -> (i64, u32, u32, u64, u64, u64, u64) {
    let off = amsterdam_offset_ms(utc_ms);
    let local = utc_ms.saturating_add(off);
    let day = i64::try_from(local / DAY_MS).unwrap_or(0);
    let (y, m, d) = civil_from_days(day);
    let rem = local % DAY_MS;
    (
        y,
        m,
        d,
        rem / HOUR_MS,
        rem % HOUR_MS / 60_000,
        rem % 60_000 / 1_000,
        off / HOUR_MS,
    )
}

/// `2025-03-04T14:05:09+01:00`.
pub fn rfc3339_local(utc_ms: u64) -> String {
    let (y, m, d, hh, mm, ss, off) = local_parts(utc_ms);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}+{off:02}:00")
}

/// `2025-03-04`, the local date.
pub fn local_date(utc_ms: u64) -> String {
    let (y, m, d, ..) = local_parts(utc_ms);
    format!("{y:04}-{m:02}-{d:02}")
}

fn month_name(m: u32) -> &'static str {
    usize::try_from(m)
        .ok()
        .and_then(|m| m.checked_sub(1))
        .and_then(|i| MONTHS.get(i))
        .copied()
        .unwrap_or("")
}

/// `4 maart 2025`.
fn long_date(utc_ms: u64) -> String {
    let (y, m, d, ..) = local_parts(utc_ms);
    format!("{d} {} {y}", month_name(m))
}

/// `4 maart 2025, 14:05 uur`.
fn long_datetime(utc_ms: u64) -> String {
    let (y, m, d, hh, mm, ..) = local_parts(utc_ms);
    format!("{d} {} {y}, {hh:02}:{mm:02} uur", month_name(m))
}

/// `2025-03-04` → `4 maart 2025` (the text unchanged if it is not such a date).
fn date_words(date: &str) -> String {
    match parse_date(date) {
        Ok((y, m, d)) => format!("{d} {} {y}", month_name(m)),
        Err(_) => date.to_owned(),
    }
}

/// Parses `YYYY-MM-DD` (a real calendar date, 1970 or later).
fn parse_date(s: &str) -> Result<(i64, u32, u32), AuditError> {
    let bad = || AuditError::Invalid(format!("{s:?} is not a date of the form YYYY-MM-DD"));
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return Err(bad());
    };
    let y = i64::from(y);
    if y < 1970 || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(bad());
    }
    Ok((y, m, d))
}

/// The instant (ms since the Unix epoch) local midnight starts the day `YYYY-MM-DD` in Dutch
/// local time.
pub fn local_day_start_ms(date: &str) -> Result<u64, AuditError> {
    let (y, m, d) = parse_date(date)?;
    day_start(days_from_civil(y, m, d))
}

/// The instant the day after `YYYY-MM-DD` starts in Dutch local time: the exclusive end of a
/// period that includes that whole day.
pub fn local_day_end_ms(date: &str) -> Result<u64, AuditError> {
    let (y, m, d) = parse_date(date)?;
    day_start(days_from_civil(y, m, d) + 1)
}

fn day_start(day: i64) -> Result<u64, AuditError> {
    let naive = u64::try_from(day)
        .map_err(|_| AuditError::Invalid("date before 1970".into()))?
        .saturating_mul(DAY_MS);
    // Local midnight is never inside a transition (they happen at 02:00/03:00 local), so the
    // offset two hours before naive midnight-as-UTC is the one in force at local midnight.
    let off = amsterdam_offset_ms(naive.saturating_sub(2 * HOUR_MS));
    Ok(naive.saturating_sub(off))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SpanStatus;

    fn register() -> Vec<RegisterActivity> {
        vec![
            RegisterActivity {
                id: "VA-12".into(),
                name: "Wmo-aanvraag beoordelen".into(),
                purpose: "Beoordelen van een aanvraag <maatwerk> & voorziening".into(),
                legal_basis: "Wet maatschappelijke ondersteuning 2015, art. 2.3.2".into(),
                retention_days: 3650,
                confidential: false,
            },
            RegisterActivity {
                id: "VA-FRAUDE".into(),
                name: "Fraudeonderzoek".into(),
                purpose: "Onderzoek naar fraude".into(),
                legal_basis: "Participatiewet".into(),
                retention_days: 3650,
                confidential: true,
            },
        ]
    }

    fn rec(activity: &str, role: SubjectRole, start: u64) -> ProcessingRecord {
        ProcessingRecord {
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            span_id: "b7ad6b7169203331".into(),
            parent_span_id: "00f067aa0ba902b7".into(),
            foreign_processor: Some("wmo-app".into()),
            name: "brp.personen.RaadpleegMetBurgerservicenummer".into(),
            start_time_ms: start,
            end_time_ms: start + 20,
            status: SpanStatus::Ok,
            http_status: 200,
            upstream_error_code: None,
            processing_activity_id: activity.into(),
            case_ref: Some("zaak-42".into()),
            data_subject_id: Some("k1:abc".into()),
            data_subject_id_type: Some("BSN".into()),
            subject_role: Some(role),
            fields_requested: vec!["naam".into()].into(),
            fields_delivered: vec![
                "naam.voornamen".into(),
                "naam.geslachtsnaam".into(),
                "adressering.adresregel1".into(),
                "geheimhoudingPersoonsgegevens".into(),
                "_links.self".into(),
            ]
            .into(),
            search_params: vec![],
            resource: "sluis/0.1.0".into(),
            client_app_id: Some("wmo-app".into()),
            flags: vec![],
        }
    }

    // 2025-03-04 13:05:09 UTC = 14:05:09 CET.
    const T: u64 = 1_741_093_509_000;

    fn build(rows: &[(u64, u64, ProcessingRecord)]) -> Overview {
        let reg = register();
        Overview::build(
            &OverviewRequest {
                controller: "Gemeente Voorbeeld",
                register: &reg,
                subject_label: Some("*****3653".into()),
                from_ms: Some(local_day_start_ms("2025-01-01").unwrap()),
                to_ms: Some(local_day_end_ms("2025-12-31").unwrap()),
                generated_ms: T + 86_400_000,
            },
            rows,
        )
    }

    #[test]
    fn lines_join_the_register_and_leave_out_confidential_activities() {
        let o = build(&[
            (
                9,
                T + 5000,
                rec("VA-FRAUDE", SubjectRole::Geraadpleegd, T + 5000),
            ),
            (
                7,
                T + 1000,
                rec("VA-99", SubjectRole::GevondenInZoekresultaat, T + 1000),
            ),
            (3, T, rec("VA-12", SubjectRole::Geraadpleegd, T)),
            (3, T, rec("VA-12", SubjectRole::Geraadpleegd, T)),
        ]);
        assert_eq!(
            o.processings.len(),
            2,
            "confidential left out, duplicate seq once"
        );
        let first = &o.processings[0];
        assert_eq!(first.seq, 3);
        assert_eq!(first.when, "2025-03-04T14:05:09+01:00");
        assert_eq!(first.activity, "Wmo-aanvraag beoordelen");
        assert!(first.registered);
        assert_eq!(
            first.legal_basis.as_deref(),
            Some("Wet maatschappelijke ondersteuning 2015, art. 2.3.2")
        );
        assert_eq!(first.controller, "Gemeente Voorbeeld");
        assert_eq!(
            first.data_categories,
            vec!["adres", "geheimhouding persoonsgegevens", "naam"]
        );
        assert_eq!(first.recipient.as_deref(), Some("wmo-app"));
        assert_eq!(first.retention.as_deref(), Some("10 jaar"));
        assert_eq!(first.source, "Basisregistratie Personen (BRP)");
        assert_eq!(first.action, "opvragen met burgerservicenummer");
        assert_eq!(first.role.as_deref(), Some("geraadpleegd"));
        let unknown = &o.processings[1];
        assert_eq!(unknown.activity, "onbekende verwerking (VA-99)");
        assert!(!unknown.registered);
        assert_eq!(unknown.purpose, None);
        assert_eq!(unknown.role.as_deref(), Some("gevonden in zoekresultaat"));
        let json = serde_json::to_string(&o).unwrap();
        assert!(!json.contains("Fraude"));
        assert!(!json.contains("k1:abc"), "no pseudonym in the overview");
        assert!(!json.contains("zaak-42"), "no case reference");
        assert_eq!(o.period.from.as_deref(), Some("2025-01-01"));
        assert_eq!(o.period.to.as_deref(), Some("2025-12-31"));
        let topics: Vec<&str> = o.statements.iter().map(|s| s.topic.as_str()).collect();
        for t in ["rectificatie", "bezwaar", "klacht", "rvig", "medewerkers"] {
            assert!(topics.contains(&t), "{t}");
        }
    }

    #[test]
    fn html_is_a_complete_escaped_letter() {
        let o = build(&[(3, T, rec("VA-12", SubjectRole::Gerelateerd, T))]);
        let h = o.to_html();
        assert!(h.starts_with("<!DOCTYPE html>"));
        assert!(h.trim_end().ends_with("</html>"));
        assert!(h.contains("<style>"));
        assert!(h.contains("Beoordelen van een aanvraag &lt;maatwerk&gt; &amp; voorziening"));
        assert!(!h.contains("<maatwerk>"));
        assert!(h.contains("4 maart 2025, 14:05 uur"));
        assert!(h.contains("1 januari 2025 tot en met 31 december 2025"));
        assert!(h.contains("Autoriteit Persoonsgegevens"));
        assert!(h.contains("gerelateerd"));
        let empty = build(&[]).to_html();
        assert!(empty.contains("geen gebruik van uw persoonsgegevens gevonden"));
    }

    #[test]
    fn categories_and_retention_in_words() {
        assert_eq!(data_category("naam.voornamen").as_deref(), Some("naam"));
        assert_eq!(
            data_category("partners[0].naam").as_deref(),
            Some("partners")
        );
        assert_eq!(
            data_category("datumEersteInschrijvingGBA").as_deref(),
            Some("datum eerste inschrijving GBA")
        );
        assert_eq!(data_category("aNummer").as_deref(), Some("A-nummer"));
        assert_eq!(data_category("huis_nummer").as_deref(), Some("huis nummer"));
        assert_eq!(data_category("_links.self"), None);
        assert_eq!(data_category(""), None);
        assert_eq!(retention_text(3650), "10 jaar");
        assert_eq!(retention_text(365), "1 jaar");
        assert_eq!(retention_text(90), "90 dagen");
        assert_eq!(retention_text(1), "1 dag");
    }

    #[test]
    fn dutch_local_time_follows_summer_time() {
        // 2025: CEST from 30 March 01:00 UTC to 26 October 01:00 UTC.
        let mar30 = local_day_start_ms("2025-03-30").unwrap();
        assert_eq!(rfc3339_local(mar30), "2025-03-30T00:00:00+01:00");
        let jul1 = local_day_start_ms("2025-07-01").unwrap();
        assert_eq!(rfc3339_local(jul1), "2025-07-01T00:00:00+02:00");
        let oct26 = local_day_start_ms("2025-10-26").unwrap();
        assert_eq!(rfc3339_local(oct26), "2025-10-26T00:00:00+02:00");
        assert_eq!(
            local_day_end_ms("2025-10-26").unwrap() - oct26,
            25 * HOUR_MS,
            "the day summer time ends has 25 hours"
        );
        assert_eq!(
            local_day_end_ms("2025-03-30").unwrap() - mar30,
            23 * HOUR_MS
        );
        assert_eq!(
            local_date(local_day_end_ms("2024-02-29").unwrap() - 1),
            "2024-02-29"
        );
        for bad in [
            "2025-02-29",
            "2025-13-01",
            "25-01-01",
            "2025-1-01",
            "1969-12-31",
            "2025/01/01",
        ] {
            assert!(local_day_start_ms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bsn_check_and_mask() {
        assert!(bsn_is_valid("999993653"));
        assert!(bsn_is_valid("111222333"));
        assert!(!bsn_is_valid("123456789"), "fails the elfproef");
        assert!(!bsn_is_valid("000000000"));
        assert!(!bsn_is_valid("99999365"));
        assert!(!bsn_is_valid("99999365a"));
        assert!(!bsn_is_valid("９99993653"), "ASCII digits only");
        assert_eq!(mask_bsn("999993653"), "*****3653");
    }

    #[test]
    fn escaper_covers_markup_and_quotes() {
        assert_eq!(
            html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(html_escape("a\u{0}b"), "a\u{fffd}b");
    }
}
