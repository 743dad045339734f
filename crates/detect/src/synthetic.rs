//! Synthetic histories with planted misuse (feature `testing`): a municipality's ordinary BRP
//! traffic over five months — four units of ten users, BSN lookups and some name searches in
//! office hours, almost all with a case reference, drawn from a million residents — with one
//! planted case per rule, each labelled, so tests can measure precision and recall per rule and
//! benches the backfill speed. Deterministic: the same seed gives the same history.
#![allow(
    clippy::indexing_slicing,
    reason = "indices are taken modulo the lengths of fixed, non-empty tables"
)]

use jiff::civil::Date;
use jiff::tz::TimeZone;
use sluis_audit::{AccessRecord, Decision, Entry, ProcessingRecord, SpanStatus, SubjectRole};

/// What a planted case is about: the user, the subject (pseudonym) or the unit an alert must
/// name to count as finding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    User(String),
    Subject(String),
    Unit(String),
}

/// One planted case of misuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    pub rule: &'static str,
    pub who: Who,
    pub what: &'static str,
}

/// A generated history.
#[derive(Debug)]
pub struct History {
    /// `(seq, time_ms, entry)` in log order.
    pub entries: Vec<(u64, u64, Entry)>,
    pub planted: Vec<Planted>,
    /// The rules file the history is meant for (directory, watch list).
    pub rules_toml: String,
    /// The end of the history (ms): tick the detector here to close the last periods.
    pub end_ms: u64,
}

/// The pseudonym of synthetic resident `n`.
pub fn resident(n: u64) -> String {
    format!("k1:{n:064x}")
}

const UNITS: [&str; 4] = ["Burgerzaken", "Wmo", "Belastingen", "Handhaving"];
const APPS: [&str; 4] = ["balie", "wmo", "belastingen", "handhaving"];
const POPULAR_USERS: [usize; 7] = [1, 2, 3, 4, 6, 8, 9];
const FIRST: (i16, i8, i8) = (2026, 7, 1);
const LAST: (i16, i8, i8) = (2026, 11, 30);

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn user_name(i: usize) -> String {
    format!("u{i:02}")
}

fn unit_of(i: usize) -> usize {
    i / 10
}

/// The planted users: `u00` .. `u39` are the ordinary staff; plants reuse some of them.
fn plant_user(rule_index: usize) -> String {
    // Spread the plants over the units; never two plants on one user.
    user_name((rule_index * 7 + 3) % 40)
}

struct Builder {
    tz: TimeZone,
    seq: u64,
    next_trace: u64,
    entries: Vec<(u64, u64, Entry)>,
    rng: Rng,
}

/// One request to generate.
struct Req<'a> {
    time_ms: u64,
    user: &'a str,
    app: &'a str,
    operation: &'a str,
    status: u16,
    subjects: Vec<(String, SubjectRole)>,
    case_ref: bool,
    fields: &'a [&'a str],
    flags: &'a [&'a str],
    upstream_error: Option<&'a str>,
    scopes: &'a [&'a str],
}

impl Builder {
    fn at(&self, date: Date, minute: u32) -> u64 {
        let h = i8::try_from(minute / 60).unwrap_or(0);
        let m = i8::try_from(minute % 60).unwrap_or(0);
        date.at(h, m, 0, 0)
            .to_zoned(self.tz.clone())
            .map(|z| u64::try_from(z.timestamp().as_millisecond()).unwrap_or(0))
            .unwrap_or(0)
    }

    fn push(&mut self, r: Req<'_>) {
        self.next_trace += 1;
        let trace = format!("{:032x}", self.next_trace);
        let span = format!("{:016x}", self.next_trace);
        let permitted = r.status < 400 || r.upstream_error.is_some();
        self.seq += 1;
        self.entries.push((
            self.seq,
            r.time_ms,
            Entry::Access(AccessRecord {
                time_ms: r.time_ms,
                trace_id: trace.clone(),
                span_id: span.clone(),
                api: "brp".into(),
                operation: r.operation.into(),
                method: "POST".into(),
                path: "/haalcentraal/api/brp/personen".into(),
                issuer: Some("idp".into()),
                subject: Some(r.user.into()),
                user: Some(r.user.into()),
                client_id: Some(r.app.into()),
                scopes: r.scopes.iter().map(|s| (*s).to_owned()).collect(),
                purpose: Some("taak".into()),
                processing_activity: Some("VA-1".into()),
                correlation_id: None,
                decision: if r.status == 403 || r.status == 429 {
                    Decision::Deny
                } else if permitted {
                    Decision::Permit
                } else {
                    Decision::Error
                },
                status: r.status,
                code: match r.status {
                    403 => Some("forbidden".into()),
                    429 => Some("tooManyRequests".into()),
                    _ => None,
                },
                reasons: Vec::new(),
                denied_params: Vec::new(),
                params: vec!["type".into(), "fields".into()],
                field_levels: Vec::new(),
                records: r.subjects.len() as u64,
                policy_version: Some("v1".into()),
                upstream_status: permitted.then_some(r.status),
                duration_ms: 3,
                upstream_ms: Some(2),
                user_source: Some("token".into()),
                flags: Vec::new(),
                application: Some(r.app.into()),
                scopes_dropped: Vec::new(),
            }),
        ));
        if !permitted {
            return;
        }
        let base = |subject: Option<(String, SubjectRole)>, n: u64| ProcessingRecord {
            trace_id: trace.clone(),
            span_id: format!("{:016x}", n),
            parent_span_id: span.clone(),
            foreign_processor: Some(r.app.into()),
            name: r.operation.into(),
            start_time_ms: r.time_ms,
            end_time_ms: r.time_ms + 2,
            status: if r.upstream_error.is_some() {
                SpanStatus::Unset
            } else {
                SpanStatus::Ok
            },
            http_status: r.status,
            upstream_error_code: r.upstream_error.map(str::to_owned),
            processing_activity_id: "VA-1".into(),
            case_ref: r.case_ref.then(|| format!("zaak-{}", n % 997)),
            data_subject_id_type: subject.as_ref().map(|_| "BSN".to_owned()),
            subject_role: subject.as_ref().map(|(_, role)| *role),
            data_subject_id: subject.map(|(s, _)| s),
            fields_requested: r.fields.iter().map(|s| (*s).to_owned()).collect(),
            fields_delivered: r.fields.iter().map(|s| (*s).to_owned()).collect(),
            search_params: Vec::new(),
            resource: "sluis".into(),
            client_app_id: Some(r.app.into()),
            flags: r.flags.iter().map(|s| (*s).to_owned()).collect(),
        };
        if r.subjects.is_empty() {
            self.seq += 1;
            let p = base(None, self.seq);
            self.entries
                .push((self.seq, r.time_ms, Entry::Processing(p)));
        }
        for s in r.subjects {
            self.seq += 1;
            let p = base(Some(s), self.seq);
            self.entries
                .push((self.seq, r.time_ms, Entry::Processing(p)));
        }
    }

    fn random_resident(&mut self) -> String {
        resident(1_000 + self.rng.below(1_000_000))
    }

    /// One ordinary request by user `i` at `time_ms`.
    fn ordinary(&mut self, i: usize, time_ms: u64, app_override: Option<&str>) {
        let user = user_name(i);
        let app = app_override.unwrap_or(APPS[unit_of(i)]);
        let search = self.rng.below(100) < 20;
        let subject = self.random_resident();
        let case_ref = self.rng.below(100) < 99;
        let (operation, role) = if search {
            (
                "brp.personen.ZoekMetGeslachtsnaamEnGeboortedatum",
                SubjectRole::GevondenInZoekresultaat,
            )
        } else {
            (
                "brp.personen.RaadpleegMetBurgerservicenummer",
                SubjectRole::Geraadpleegd,
            )
        };
        self.push(Req {
            time_ms,
            user: &user,
            app,
            operation,
            status: 200,
            subjects: vec![(subject, role)],
            case_ref,
            fields: &[
                "naam.voornamen",
                "geboorte.datum",
                "adressering.adresregel1",
            ],
            flags: &[],
            upstream_error: None,
            scopes: &["brp.raadplegen"],
        });
    }
}

/// Generates the history for `seed`.
pub fn history(seed: u64) -> History {
    let tz = TimeZone::get("Europe/Amsterdam").unwrap_or(TimeZone::UTC);
    let mut b = Builder {
        tz,
        seq: 0,
        next_trace: 0,
        entries: Vec::new(),
        rng: Rng(seed.max(1)),
    };
    let first = Date::constant(FIRST.0, FIRST.1, FIRST.2);
    let last = Date::constant(LAST.0, LAST.1, LAST.2);
    let watched = resident(7);
    let relative = resident(8);
    let frequent = resident(9);
    let popular = resident(10);
    let mut planted = Vec::new();
    let mut plant = |rule: &'static str, who: Who, what: &'static str| {
        planted.push(Planted { rule, who, what });
    };

    let p = |r: usize| plant_user(r);
    let dormant = p(9);
    let d8_unit = 3; // Handhaving doubles its volume in November.
    plant("D1", Who::User(p(1)), "a week of mostly name searches");
    plant("D2", Who::User(p(2)), "a lookup at 23:30");
    plant("D3", Who::User(p(3)), "a day of 200 requests");
    plant("D4", Who::User(p(4)), "one person on ten days");
    plant(
        "D4",
        Who::Subject(popular.clone()),
        "one person by seven users",
    );
    plant("D5", Who::User(p(5)), "a watch-listed person");
    plant("D6", Who::User(p(6)), "eight lookups without a case");
    plant("D7", Who::User(p(7)), "a relative");
    plant("D8", Who::Unit(UNITS[d8_unit].into()), "November doubled");
    plant("D9", Who::User(dormant.clone()), "dormant since July");
    plant("D9", Who::User(p(10)), "an application outside the role");
    plant(
        "D9",
        Who::User("stagiair".into()),
        "a user not in the directory",
    );
    plant("D10", Who::User(p(11)), "twelve refusals in half an hour");
    plant("D11", Who::User(p(12)), "35 address searches in an hour");
    plant("D11", Who::User(p(13)), "fifteen BSNs in one request");
    plant("D12", Who::User(p(14)), "a person outside the municipality");
    plant("D13", Who::User(p(15)), "nationaliteiten delivered");

    let mut date = first;
    let mut workday = 0u32;
    while date <= last {
        let weekday = date.weekday().to_monday_one_offset();
        let november = date.month() == 11;
        if weekday <= 5 {
            // Ordinary traffic, in time order per day: collect (minute, user) and sort.
            let mut slots: Vec<(u32, usize)> = Vec::new();
            for i in 0..40 {
                let name = user_name(i);
                if name == dormant && date.month() > 7 && !november {
                    continue;
                }
                let mut n = 15 + b.rng.below(11);
                if november && unit_of(i) == d8_unit {
                    n = n * 17 / 10;
                }
                for _ in 0..n {
                    slots.push((8 * 60 + u32::try_from(b.rng.below(9 * 60)).unwrap_or(0), i));
                }
            }
            slots.sort_unstable();
            let plants_today = plants_for(workday, date);
            workday += 1;
            let mut plant_slots: Vec<(u32, Plant)> = plants_today;
            plant_slots.sort_by_key(|(m, _)| *m);
            let mut pi = plant_slots.into_iter().peekable();
            for (minute, i) in slots {
                while let Some((m, _)) = pi.peek() {
                    if *m > minute {
                        break;
                    }
                    if let Some((m, what)) = pi.next() {
                        emit_plant(
                            &mut b, date, m, what, &watched, &relative, &frequent, &popular,
                        );
                    }
                }
                let t = b.at(date, minute);
                b.ordinary(i, t, None);
            }
            for (m, what) in pi {
                emit_plant(
                    &mut b, date, m, what, &watched, &relative, &frequent, &popular,
                );
            }
        }
        date = match date.tomorrow() {
            Ok(d) => d,
            Err(_) => break,
        };
    }
    let end_ms = b.at(last.tomorrow().unwrap_or(last), 0);
    let rules_toml = rules_file(&watched, &relative);
    History {
        entries: b.entries,
        planted,
        rules_toml,
        end_ms,
    }
}

#[derive(Debug, Clone, Copy)]
enum Plant {
    Searches,
    Late,
    Burst,
    Frequent,
    Popular(usize),
    Watched,
    NoCase,
    Relative,
    OtherApp,
    Stagiair,
    Refused,
    Address,
    ManyBsns,
    OutOfMunicipality,
    Nationality,
}

/// The planted requests of one working day (by its index from the start), with their local
/// minute.
fn plants_for(day: u32, date: Date) -> Vec<(u32, Plant)> {
    let mut v = Vec::new();
    // D1: the week of 17 August, 25 extra name searches a day.
    if date.month() == 8 && (17..=21).contains(&date.day()) {
        for k in 0..25 {
            v.push((9 * 60 + k * 15, Plant::Searches));
        }
    }
    match day {
        30 => v.push((23 * 60 + 30, Plant::Late)),
        45 => {
            for k in 0..200 {
                v.push((8 * 60 + k * 2, Plant::Burst));
            }
        }
        60 => v.push((11 * 60, Plant::Watched)),
        62 => {
            for k in 0..8 {
                v.push((10 * 60 + k * 5, Plant::NoCase));
            }
        }
        70 => v.push((14 * 60, Plant::Relative)),
        75 => v.push((15 * 60, Plant::OtherApp)),
        80 => v.push((9 * 60, Plant::Stagiair)),
        85 => {
            for k in 0..12 {
                v.push((13 * 60 + k * 2, Plant::Refused));
            }
        }
        90 => {
            for k in 0..35 {
                v.push((10 * 60 + k, Plant::Address));
            }
        }
        95 => v.push((11 * 60, Plant::ManyBsns)),
        100 => v.push((12 * 60, Plant::OutOfMunicipality)),
        105 => v.push((12 * 60, Plant::Nationality)),
        _ => {}
    }
    // D4: one person on ten days (every third day from day 20), and by seven users (day 50).
    if (20..50).contains(&day) && day % 3 == 2 {
        v.push((16 * 60, Plant::Frequent));
    }
    if day == 50 {
        for k in 0..7 {
            v.push((9 * 60 + k * 30, Plant::Popular(k as usize)));
        }
    }
    v
}

#[allow(
    clippy::too_many_arguments,
    reason = "the fixed subjects of the plants"
)]
fn emit_plant(
    b: &mut Builder,
    date: Date,
    minute: u32,
    what: Plant,
    watched: &str,
    relative: &str,
    frequent: &str,
    popular: &str,
) {
    let t = b.at(date, minute);
    let p = plant_user;
    let bsn = "brp.personen.RaadpleegMetBurgerservicenummer";
    let fields: &[&str] = &["naam.voornamen", "geboorte.datum"];
    let one = |b: &mut Builder, user: &str, app: &str, subject: String, case_ref: bool| {
        b.push(Req {
            time_ms: t,
            user,
            app,
            operation: bsn,
            status: 200,
            subjects: vec![(subject, SubjectRole::Geraadpleegd)],
            case_ref,
            fields,
            flags: &[],
            upstream_error: None,
            scopes: &["brp.raadplegen"],
        });
    };
    let app = |user: &str| {
        let i: usize = user.trim_start_matches('u').parse().unwrap_or(0);
        APPS[unit_of(i)]
    };
    match what {
        Plant::Searches => {
            let u = p(1);
            let s = b.random_resident();
            b.push(Req {
                time_ms: t,
                user: &u,
                app: app(&u),
                operation: "brp.personen.ZoekMetGeslachtsnaamEnGeboortedatum",
                status: 200,
                subjects: vec![(s, SubjectRole::GevondenInZoekresultaat)],
                case_ref: true,
                fields,
                flags: &[],
                upstream_error: None,
                scopes: &["brp.raadplegen"],
            });
        }
        Plant::Late => {
            let u = p(2);
            let s = b.random_resident();
            one(b, &u, app(&u), s, true);
        }
        Plant::Burst => {
            let u = p(3);
            let s = b.random_resident();
            one(b, &u, app(&u), s, true);
        }
        Plant::Frequent => {
            let u = p(4);
            one(b, &u, app(&u), frequent.to_owned(), true);
        }
        Plant::Popular(k) => {
            // Seven ordinary users, none of them a plant of another rule.
            let u = user_name(POPULAR_USERS[k % POPULAR_USERS.len()]);
            one(b, &u, app(&u), popular.to_owned(), true);
        }
        Plant::Watched => {
            let u = p(5);
            one(b, &u, app(&u), watched.to_owned(), true);
        }
        Plant::NoCase => {
            let u = p(6);
            let s = b.random_resident();
            one(b, &u, app(&u), s, false);
        }
        Plant::Relative => {
            let u = p(7);
            one(b, &u, app(&u), relative.to_owned(), true);
        }
        Plant::OtherApp => {
            let u = p(10);
            let s = b.random_resident();
            one(b, &u, "parkeren", s, true);
        }
        Plant::Stagiair => {
            let s = b.random_resident();
            one(b, "stagiair", "balie", s, true);
        }
        Plant::Refused => {
            let u = p(11);
            b.push(Req {
                time_ms: t,
                user: &u,
                app: app(&u),
                operation: bsn,
                status: 403,
                subjects: Vec::new(),
                case_ref: true,
                fields,
                flags: &[],
                upstream_error: None,
                scopes: &["brp.raadplegen"],
            });
        }
        Plant::Address => {
            let u = p(12);
            let s = b.random_resident();
            b.push(Req {
                time_ms: t,
                user: &u,
                app: app(&u),
                operation: "brp.personen.ZoekMetPostcodeEnHuisnummer",
                status: 200,
                subjects: vec![(s, SubjectRole::GevondenInZoekresultaat)],
                case_ref: true,
                fields,
                flags: &[],
                upstream_error: None,
                scopes: &["brp.raadplegen"],
            });
        }
        Plant::ManyBsns => {
            let u = p(13);
            let subjects = (0..15)
                .map(|_| (b.random_resident(), SubjectRole::Geraadpleegd))
                .collect();
            b.push(Req {
                time_ms: t,
                user: &u,
                app: app(&u),
                operation: bsn,
                status: 200,
                subjects,
                case_ref: true,
                fields,
                flags: &[],
                upstream_error: None,
                scopes: &["brp.raadplegen"],
            });
        }
        Plant::OutOfMunicipality => {
            let u = p(14);
            let s = b.random_resident();
            b.push(Req {
                time_ms: t,
                user: &u,
                app: app(&u),
                operation: bsn,
                status: 200,
                subjects: vec![(s, SubjectRole::Geraadpleegd)],
                case_ref: true,
                fields,
                flags: &["buiten_gemeente"],
                upstream_error: None,
                scopes: &["brp.raadplegen"],
            });
        }
        Plant::Nationality => {
            let u = p(15);
            let s = b.random_resident();
            b.push(Req {
                time_ms: t,
                user: &u,
                app: app(&u),
                operation: bsn,
                status: 200,
                subjects: vec![(s, SubjectRole::Geraadpleegd)],
                case_ref: true,
                fields: &["naam.voornamen", "nationaliteiten.nationaliteit.code"],
                flags: &[],
                upstream_error: None,
                scopes: &["brp.raadplegen"],
            });
        }
    }
}

/// The rules file for the history: default thresholds (but a volume jump must reach 100
/// requests: this municipality's staff do 15 to 25 a day), the watch list, the directory.
fn rules_file(watched: &str, relative: &str) -> String {
    let mut s = String::from("[rules.volume]\nmin_volume = 100\n\n");
    s.push_str(&format!(
        "[[watch_lists]]\nname = \"raadsleden\"\nsubjects = [\"{watched}\"]\n\n"
    ));
    for i in 0..40 {
        let user = user_name(i);
        s.push_str(&format!(
            "[[users]]\nid = \"{user}\"\nunit = \"{}\"\napplications = [\"{}\"]\n",
            UNITS[unit_of(i)],
            APPS[unit_of(i)]
        ));
        if user == plant_user(7) {
            s.push_str(&format!("relatives = [\"{relative}\"]\n"));
        }
        s.push('\n');
    }
    s
}
