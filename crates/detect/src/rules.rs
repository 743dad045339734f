//! The rules file: thresholds per rule, office hours, the operations that count as which kind of
//! search, watch lists (pseudonyms only), peer groups and the user directory. Parsed once into
//! [`Rules`], validated as a whole (every problem reported, not just the first).

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use sluis_audit::Severity;

use crate::DetectError;
use crate::clock::{Clock, parse_hhmm};

/// Parses and validates a rules file (TOML text). `origin` names the file in messages.
pub fn parse_rules(text: &str, origin: &str) -> Result<Rules, DetectError> {
    let raw: RawRules = toml::from_str(text).map_err(|e| DetectError::Rules {
        origin: origin.to_owned(),
        problems: vec![e.to_string().trim_end().to_owned()],
    })?;
    Rules::compile(raw).map_err(|problems| DetectError::Rules {
        origin: origin.to_owned(),
        problems,
    })
}

// ---------------------------------------------------------------------------------------------
// The file as written

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    /// IANA time zone of the office hours and periods (default `Europe/Amsterdam`).
    timezone: Option<String>,
    #[serde(default)]
    office_hours: RawOfficeHours,
    #[serde(default)]
    operations: RawOperations,
    #[serde(default)]
    watch_lists: Vec<RawWatchList>,
    #[serde(default)]
    users: Vec<RawUser>,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    rules: RawRuleSet,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawOfficeHours {
    start: String,
    end: String,
    /// Saturdays and Sundays are outside office hours.
    weekends: bool,
    holidays: Vec<String>,
}

impl Default for RawOfficeHours {
    fn default() -> Self {
        RawOfficeHours {
            start: "06:00".into(),
            end: "19:00".into(),
            weekends: true,
            holidays: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawOperations {
    bsn: Vec<String>,
    search: Vec<String>,
    address: Vec<String>,
}

impl Default for RawOperations {
    fn default() -> Self {
        RawOperations {
            bsn: vec!["brp.personen.RaadpleegMetBurgerservicenummer".into()],
            search: vec!["brp.personen.ZoekMet*".into()],
            address: vec![
                "brp.personen.ZoekMetPostcodeEnHuisnummer".into(),
                "brp.personen.ZoekMetStraatHuisnummerEnGemeenteVanInschrijving".into(),
                "brp.personen.ZoekMetNummeraanduidingIdentificatie".into(),
                "brp.personen.ZoekMetAdresseerbaarObjectIdentificatie".into(),
            ],
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWatchList {
    name: String,
    #[serde(default)]
    subjects: Vec<String>,
    severity: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    id: String,
    unit: Option<String>,
    peer_group: Option<String>,
    #[serde(default)]
    applications: Vec<String>,
    #[serde(default, rename = "self")]
    own: Vec<String>,
    #[serde(default)]
    relatives: Vec<String>,
    #[serde(default)]
    neighbours: Vec<String>,
    #[serde(default)]
    sensitive_fields: bool,
    #[serde(default)]
    out_of_scope: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawLimits {
    max_traces: usize,
    max_subjects: usize,
    max_users: usize,
}

impl Default for RawLimits {
    fn default() -> Self {
        RawLimits {
            max_traces: 100_000,
            max_subjects: 500_000,
            max_users: 100_000,
        }
    }
}

/// The rules as written; every field has a default, so an empty file enables every rule with
/// its default thresholds.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawRuleSet {
    non_bsn_search: NonBsnSearch,
    office_hours: OfficeHoursRule,
    volume: Volume,
    subject_frequency: SubjectFrequency,
    watch_list: WatchListRule,
    case_binding: CaseBinding,
    self_family: SelfFamily,
    trend: Trend,
    account_hygiene: AccountHygiene,
    probing: Probing,
    bulk_search: BulkSearch,
    scope: Scope,
    sensitive: Sensitive,
}

/// Severity as written.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawSeverity {
    Low,
    Medium,
    High,
}

impl From<RawSeverity> for Severity {
    fn from(s: RawSeverity) -> Severity {
        match s {
            RawSeverity::Low => Severity::Low,
            RawSeverity::Medium => Severity::Medium,
            RawSeverity::High => Severity::High,
        }
    }
}

/// A period over which a rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Day,
    Week,
    Month,
}

macro_rules! rule_struct {
    ($(#[$doc:meta])* $name:ident, $sev:expr, { $($(#[$fdoc:meta])* $field:ident : $ty:ty = $default:expr),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            pub enabled: bool,
            pub severity: RawSeverity,
            $($(#[$fdoc])* pub $field: $ty,)*
        }
        impl Default for $name {
            fn default() -> Self {
                $name { enabled: true, severity: $sev, $($field: $default,)* }
            }
        }
    };
}

rule_struct!(
    /// D1: a user's share of searches on keys other than the BSN, against the peer group.
    NonBsnSearch, RawSeverity::Medium, {
        /// The period the share is taken over.
        period: PeriodKind = PeriodKind::Week,
        /// Users with fewer requests in the period are not judged.
        min_requests: u64 = 20,
        /// The share must be at least this.
        min_share: f64 = 0.5,
        /// ... and this much above the peer group's median share,
        margin: f64 = 0.3,
        /// ... unless it is at least this (for peer groups of one).
        max_share: f64 = 0.9,
    }
);

rule_struct!(
    /// D2: lookups outside office hours (and at weekends and on holidays).
    OfficeHoursRule, RawSeverity::Low, {
        /// Lookups outside office hours on one day before the day is reported.
        min_lookups: u64 = 1,
    }
);

rule_struct!(
    /// D3: a user's volume per period: an absolute ceiling and a jump against their own baseline.
    Volume, RawSeverity::Medium, {
        period: PeriodKind = PeriodKind::Day,
        /// Requests in one period that are always reported.
        max_requests: u64 = 500,
        /// A period with more than this times the user's mean of active periods ...
        jump_factor: f64 = 3.0,
        /// ... over this many earlier active periods ...
        baseline_periods: usize = 5,
        /// ... and at least this many requests.
        min_volume: u64 = 50,
    }
);

rule_struct!(
    /// D4: a subject looked up often by one user, on many days, or by many users.
    SubjectFrequency, RawSeverity::Medium, {
        /// The sliding window, in days.
        window_days: u64 = 90,
        max_lookups_per_user: u64 = 25,
        max_days_per_user: u64 = 8,
        max_distinct_users: u64 = 6,
    }
);

rule_struct!(
    /// D5: any lookup of a subject on a watch list.
    WatchListRule, RawSeverity::High, {}
);

rule_struct!(
    /// D6: direct lookups without a case or dossier reference.
    CaseBinding, RawSeverity::Low, {
        /// Such lookups by one user on one day before the day is reported.
        min_lookups: u64 = 5,
    }
);

rule_struct!(
    /// D7: a user looking up themselves, a relative or a neighbour (from the user directory).
    SelfFamily, RawSeverity::High, {}
);

rule_struct!(
    /// D8: a unit's monthly total against its mean of earlier months.
    Trend, RawSeverity::Low, {
        baseline_months: usize = 3,
        /// The relative deviation reported (0.5: half as much or one and a half times as much).
        deviation: f64 = 0.5,
        /// Months where both the total and the mean are below this are not judged.
        min_volume: u64 = 200,
    }
);

rule_struct!(
    /// D9: dormant accounts that become active, applications the user's role does not need,
    /// users not in the directory, frequent changes of granted scopes.
    AccountHygiene, RawSeverity::Medium, {
        dormant_days: u64 = 90,
        /// Report users missing from the directory (only when the directory has users).
        unknown_users: bool = true,
        max_scope_changes: u64 = 3,
        window_days: u64 = 30,
    }
);

rule_struct!(
    /// D10: repeated refusals (403) for one user.
    Probing, RawSeverity::Medium, {
        max_denials: u64 = 10,
        window_minutes: u64 = 60,
    }
);

rule_struct!(
    /// D11: address-range walks, repeated `tooManyResults`, repeated rate limiting, and one
    /// request for many subjects at once.
    BulkSearch, RawSeverity::Medium, {
        window_minutes: u64 = 60,
        max_address_searches: u64 = 30,
        max_too_many_results: u64 = 3,
        max_rate_limited: u64 = 5,
        max_subjects_per_request: u64 = 10,
    }
);

rule_struct!(
    /// D12: persons outside the own municipality or deceased persons delivered to a user without
    /// an explicit right to them.
    Scope, RawSeverity::Medium, {
        flags: Vec<String> = vec!["buiten_gemeente".into(), "overleden".into()],
        /// Scopes that are such an explicit right.
        exempt_scopes: Vec<String> = Vec::new(),
    }
);

rule_struct!(
    /// D13: sensitive fields delivered to a user whose role does not need them; persons under
    /// geheimhouding or in onderzoek delivered.
    Sensitive, RawSeverity::Low, {
        fields: Vec<String> = ["nationaliteiten", "verblijfstitel", "gezag", "indicatieCurateleRegister"]
            .into_iter().map(str::to_owned).collect(),
        flags: Vec<String> = vec!["geheim".into(), "in_onderzoek".into()],
        /// Applications whose task needs the sensitive fields.
        expected_applications: Vec<String> = Vec::new(),
    }
);

// ---------------------------------------------------------------------------------------------
// Compiled

/// An operation pattern: exact, or a prefix ending in `*`.
#[derive(Debug, Clone)]
pub struct OpPattern(String, bool);

impl OpPattern {
    fn new(p: &str) -> OpPattern {
        match p.strip_suffix('*') {
            Some(prefix) => OpPattern(prefix.to_owned(), true),
            None => OpPattern(p.to_owned(), false),
        }
    }

    fn matches(&self, op: &str) -> bool {
        if self.1 {
            op.starts_with(&self.0)
        } else {
            op == self.0
        }
    }
}

/// What kind of request an operation is, for D1 and D11.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpClass {
    /// A lookup by BSN.
    Bsn,
    /// A search on other keys (name, birth date ...).
    Search,
    /// A search by address (also a [`OpClass::Search`] for D1).
    AddressSearch,
    /// Anything else.
    Other,
}

impl OpClass {
    /// True for searches on keys other than the BSN.
    pub fn is_search(self) -> bool {
        matches!(self, OpClass::Search | OpClass::AddressSearch)
    }
}

/// A user of the directory.
#[derive(Debug, Clone, Default)]
pub struct DirectoryUser {
    pub unit: Option<String>,
    pub peer_group: Option<String>,
    pub applications: HashSet<String>,
    pub own: HashSet<String>,
    pub relatives: HashSet<String>,
    pub neighbours: HashSet<String>,
    pub sensitive_fields: bool,
    pub out_of_scope: bool,
}

/// A watch list entry: which list, and how severe a lookup is.
#[derive(Debug, Clone)]
pub struct Watched {
    pub list: String,
    pub severity: Severity,
}

/// Bounds on the detector's memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests remembered to join processing records with their access record.
    pub max_traces: usize,
    /// Subjects tracked for D4 (the least recently seen are forgotten first).
    pub max_subjects: usize,
    /// Users tracked (the least recently seen are forgotten first).
    pub max_users: usize,
}

/// The compiled rules file.
#[derive(Debug, Clone)]
pub struct Rules {
    pub clock: Clock,
    bsn_ops: Vec<OpPattern>,
    search_ops: Vec<OpPattern>,
    address_ops: Vec<OpPattern>,
    pub watch: HashMap<String, Watched>,
    pub users: HashMap<String, DirectoryUser>,
    pub limits: Limits,
    pub non_bsn_search: NonBsnSearch,
    pub office_hours: OfficeHoursRule,
    pub volume: Volume,
    pub subject_frequency: SubjectFrequency,
    pub watch_list: WatchListRule,
    pub case_binding: CaseBinding,
    pub self_family: SelfFamily,
    pub trend: Trend,
    pub account_hygiene: AccountHygiene,
    pub probing: Probing,
    pub bulk_search: BulkSearch,
    pub scope: Scope,
    pub sensitive: Sensitive,
}

/// True when `s` looks like a subject pseudonym (`key-id:` and 64 hex digits).
fn is_pseudonym(s: &str) -> bool {
    match s.rsplit_once(':') {
        Some((id, hex)) => {
            !id.is_empty() && hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => false,
    }
}

fn looks_like_bsn(s: &str) -> bool {
    s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit())
}

impl Rules {
    fn compile(raw: RawRules) -> Result<Rules, Vec<String>> {
        let mut problems = Vec::new();
        let tz = raw.timezone.as_deref().unwrap_or("Europe/Amsterdam");
        let start = parse_hhmm(&raw.office_hours.start).unwrap_or_else(|| {
            problems.push(format!(
                "office_hours.start must be a time HH:MM (got {:?})",
                raw.office_hours.start
            ));
            0
        });
        let end = parse_hhmm(&raw.office_hours.end).unwrap_or_else(|| {
            problems.push(format!(
                "office_hours.end must be a time HH:MM (got {:?})",
                raw.office_hours.end
            ));
            24 * 60
        });
        if start >= end {
            problems.push("office_hours.start must be before office_hours.end".into());
        }
        let mut holidays = HashSet::new();
        for h in &raw.office_hours.holidays {
            match h.parse::<jiff::civil::Date>() {
                Ok(d) => {
                    holidays.insert(d);
                }
                Err(_) => problems.push(format!(
                    "office_hours.holidays: {h:?} is not a date of the form YYYY-MM-DD"
                )),
            }
        }
        let clock = match Clock::new(tz, start, end, raw.office_hours.weekends, holidays) {
            Ok(c) => c,
            Err(e) => {
                problems.push(format!("timezone: {e}"));
                Clock::amsterdam()
            }
        };

        let ops = |name: &str, list: &[String], problems: &mut Vec<String>| {
            let mut out = Vec::new();
            for p in list {
                if p.is_empty() || p.trim() != p || p[..p.len() - 1].contains('*') {
                    problems.push(format!(
                        "operations.{name}: {p:?} is not an operation name or a prefix ending in *"
                    ));
                } else {
                    out.push(OpPattern::new(p));
                }
            }
            out
        };
        let bsn_ops = ops("bsn", &raw.operations.bsn, &mut problems);
        let search_ops = ops("search", &raw.operations.search, &mut problems);
        let address_ops = ops("address", &raw.operations.address, &mut problems);

        let pseudonyms = |what: &str, list: &[String], problems: &mut Vec<String>| {
            let mut out = HashSet::new();
            for (i, s) in list.iter().enumerate() {
                if looks_like_bsn(s) {
                    // The value itself is not repeated: it may be a real BSN.
                    problems.push(format!(
                        "{what}[{i}] looks like a BSN: lists hold pseudonyms only, never a BSN \
                         (make them with `sluis audit pseudonymize`)"
                    ));
                } else if !is_pseudonym(s) {
                    problems.push(format!(
                        "{what}[{i}] is not a subject pseudonym (key id, ':' and 64 hex digits)"
                    ));
                } else {
                    out.insert(s.to_ascii_lowercase());
                }
            }
            out
        };

        let mut watch = HashMap::new();
        let mut list_names = HashSet::new();
        for (i, w) in raw.watch_lists.iter().enumerate() {
            if w.name.trim().is_empty() {
                problems.push(format!("watch_lists[{i}].name must not be empty"));
            }
            if !list_names.insert(w.name.clone()) {
                problems.push(format!(
                    "watch_lists[{i}]: a watch list named {:?} is already defined",
                    w.name
                ));
            }
            let severity = match w.severity.as_deref() {
                None => Severity::from(raw.rules.watch_list.severity),
                Some(s) => Severity::parse(s).unwrap_or_else(|| {
                    problems.push(format!(
                        "watch_lists[{i}].severity must be low, medium or high (got {s:?})"
                    ));
                    Severity::High
                }),
            };
            for s in pseudonyms(
                &format!("watch_lists[{i}].subjects"),
                &w.subjects,
                &mut problems,
            ) {
                watch.entry(s).or_insert_with(|| Watched {
                    list: w.name.clone(),
                    severity,
                });
            }
        }

        let mut users = HashMap::new();
        for (i, u) in raw.users.iter().enumerate() {
            if u.id.trim().is_empty() {
                problems.push(format!("users[{i}].id must not be empty"));
                continue;
            }
            let entry = DirectoryUser {
                unit: u.unit.clone(),
                peer_group: u.peer_group.clone(),
                applications: u.applications.iter().cloned().collect(),
                own: pseudonyms(&format!("users[{i}].self"), &u.own, &mut problems),
                relatives: pseudonyms(
                    &format!("users[{i}].relatives"),
                    &u.relatives,
                    &mut problems,
                ),
                neighbours: pseudonyms(
                    &format!("users[{i}].neighbours"),
                    &u.neighbours,
                    &mut problems,
                ),
                sensitive_fields: u.sensitive_fields,
                out_of_scope: u.out_of_scope,
            };
            if users.insert(u.id.clone(), entry).is_some() {
                problems.push(format!(
                    "users[{i}]: user {:?} is already in the directory",
                    u.id
                ));
            }
        }

        let r = &raw.rules;
        let mut positive = |name: &str, v: u64| {
            if v == 0 {
                problems.push(format!("rules.{name} must be at least 1"));
            }
        };
        positive("non_bsn_search.min_requests", r.non_bsn_search.min_requests);
        positive("office_hours.min_lookups", r.office_hours.min_lookups);
        positive("volume.max_requests", r.volume.max_requests);
        positive("volume.min_volume", r.volume.min_volume);
        positive(
            "subject_frequency.window_days",
            r.subject_frequency.window_days,
        );
        positive(
            "subject_frequency.max_lookups_per_user",
            r.subject_frequency.max_lookups_per_user,
        );
        positive(
            "subject_frequency.max_days_per_user",
            r.subject_frequency.max_days_per_user,
        );
        positive(
            "subject_frequency.max_distinct_users",
            r.subject_frequency.max_distinct_users,
        );
        positive("case_binding.min_lookups", r.case_binding.min_lookups);
        positive("trend.min_volume", r.trend.min_volume);
        positive(
            "account_hygiene.dormant_days",
            r.account_hygiene.dormant_days,
        );
        positive(
            "account_hygiene.max_scope_changes",
            r.account_hygiene.max_scope_changes,
        );
        positive("account_hygiene.window_days", r.account_hygiene.window_days);
        positive("probing.max_denials", r.probing.max_denials);
        positive("probing.window_minutes", r.probing.window_minutes);
        positive("bulk_search.window_minutes", r.bulk_search.window_minutes);
        positive(
            "bulk_search.max_address_searches",
            r.bulk_search.max_address_searches,
        );
        positive(
            "bulk_search.max_too_many_results",
            r.bulk_search.max_too_many_results,
        );
        positive(
            "bulk_search.max_rate_limited",
            r.bulk_search.max_rate_limited,
        );
        positive(
            "bulk_search.max_subjects_per_request",
            r.bulk_search.max_subjects_per_request,
        );
        let mut share = |name: &str, v: f64| {
            if !(0.0..=1.0).contains(&v) {
                problems.push(format!("rules.{name} must be a share between 0 and 1"));
            }
        };
        share("non_bsn_search.min_share", r.non_bsn_search.min_share);
        share("non_bsn_search.margin", r.non_bsn_search.margin);
        share("non_bsn_search.max_share", r.non_bsn_search.max_share);
        if !(r.volume.jump_factor.is_finite() && r.volume.jump_factor > 1.0) {
            problems.push("rules.volume.jump_factor must be a number above 1".into());
        }
        if r.volume.baseline_periods == 0 {
            problems.push("rules.volume.baseline_periods must be at least 1".into());
        }
        if r.trend.baseline_months == 0 {
            problems.push("rules.trend.baseline_months must be at least 1".into());
        }
        if !(r.trend.deviation.is_finite() && r.trend.deviation > 0.0) {
            problems.push("rules.trend.deviation must be a number above 0".into());
        }
        if raw.limits.max_traces == 0 || raw.limits.max_subjects == 0 || raw.limits.max_users == 0 {
            problems
                .push("limits.max_traces, max_subjects and max_users must be at least 1".into());
        }

        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Rules {
            clock,
            bsn_ops,
            search_ops,
            address_ops,
            watch,
            users,
            limits: Limits {
                max_traces: raw.limits.max_traces,
                max_subjects: raw.limits.max_subjects,
                max_users: raw.limits.max_users,
            },
            non_bsn_search: raw.rules.non_bsn_search,
            office_hours: raw.rules.office_hours,
            volume: raw.rules.volume,
            subject_frequency: raw.rules.subject_frequency,
            watch_list: raw.rules.watch_list,
            case_binding: raw.rules.case_binding,
            self_family: raw.rules.self_family,
            trend: raw.rules.trend,
            account_hygiene: raw.rules.account_hygiene,
            probing: raw.rules.probing,
            bulk_search: raw.rules.bulk_search,
            scope: raw.rules.scope,
            sensitive: raw.rules.sensitive,
        })
    }

    /// What kind of request `operation` is.
    pub fn classify(&self, operation: &str) -> OpClass {
        if self.address_ops.iter().any(|p| p.matches(operation)) {
            OpClass::AddressSearch
        } else if self.bsn_ops.iter().any(|p| p.matches(operation)) {
            OpClass::Bsn
        } else if self.search_ops.iter().any(|p| p.matches(operation)) {
            OpClass::Search
        } else {
            OpClass::Other
        }
    }

    /// The number of watch-listed subjects.
    pub fn watched(&self) -> usize {
        self.watch.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
    use super::*;

    const P: &str = "k1:00000000000000000000000000000000000000000000000000000000000000aa";

    #[test]
    fn an_empty_file_enables_every_rule_with_defaults() {
        let r = parse_rules("", "rules.toml").unwrap();
        assert!(r.watch_list.enabled && r.probing.enabled);
        assert_eq!(r.probing.max_denials, 10);
        assert_eq!(
            r.classify("brp.personen.RaadpleegMetBurgerservicenummer"),
            OpClass::Bsn
        );
        assert_eq!(
            r.classify("brp.personen.ZoekMetPostcodeEnHuisnummer"),
            OpClass::AddressSearch
        );
        assert_eq!(
            r.classify("brp.personen.ZoekMetGeslachtsnaamEnGeboortedatum"),
            OpClass::Search
        );
        assert_eq!(r.classify("dataset.afval.containers.list"), OpClass::Other);
    }

    #[test]
    fn every_problem_is_reported_and_no_bsn_is_echoed() {
        let text = format!(
            r#"
            [office_hours]
            start = "25:00"
            holidays = ["2026-13-01"]
            [[watch_lists]]
            name = "bn"
            subjects = ["999993653", "not-a-pseudonym", "{P}"]
            [rules.probing]
            max_denials = 0
            [rules.volume]
            jump_factor = 0.5
            "#
        );
        let e = parse_rules(&text, "rules.toml").unwrap_err().to_string();
        for needle in [
            "office_hours.start",
            "holidays",
            "watch_lists[0].subjects[0] looks like a BSN",
            "watch_lists[0].subjects[1] is not a subject pseudonym",
            "rules.probing.max_denials",
            "rules.volume.jump_factor",
        ] {
            assert!(e.contains(needle), "{needle} missing from {e}");
        }
        assert!(!e.contains("999993653"), "{e}");
    }

    #[test]
    fn unknown_keys_and_bad_time_zones_are_refused() {
        let e = parse_rules("[rules.probing]\nmax_denails = 3\n", "r.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_denails"), "{e}");
        let e = parse_rules("timezone = \"Mars/Olympus\"\n", "r.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("timezone"), "{e}");
    }

    #[test]
    fn watch_lists_and_the_directory_compile() {
        let text = format!(
            r#"
            [[watch_lists]]
            name = "raadsleden"
            subjects = ["{P}"]
            [[users]]
            id = "ann"
            unit = "Burgerzaken"
            applications = ["balie"]
            relatives = ["{P}"]
            "#
        );
        let r = parse_rules(&text, "r.toml").unwrap();
        assert_eq!(r.watch.get(P).unwrap().list, "raadsleden");
        assert!(r.users.get("ann").unwrap().relatives.contains(P));
    }
}
