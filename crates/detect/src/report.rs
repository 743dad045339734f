//! The monthly supervision report for management: non-identifying counts over one month of the
//! log — requests per processing activity and per organisational unit, the share outside office
//! hours, the mix of lookups by BSN against other searches, refusals, and the rules that fired.
//! No user, no subject, no trace id ends up in it.

use std::collections::BTreeMap;

use serde::Serialize;
use sluis_audit::{Decision, Entry};

use crate::rules::{OpClass, Rules};

/// Units smaller than this are folded into `overig` so a unit of one cannot be singled out.
pub const MIN_UNIT_SIZE: u64 = 5;

/// One month's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MonthReport {
    /// `YYYY-MM`.
    pub month: String,
    /// Access records (requests answered or refused).
    pub requests: u64,
    /// Requests refused by policy.
    pub refused: u64,
    /// Requests outside office hours (evening, night, weekend, holiday).
    pub after_hours: u64,
    /// Lookups by BSN, searches on other keys, searches by address, everything else.
    pub bsn_lookups: u64,
    pub searches: u64,
    pub address_searches: u64,
    pub other: u64,
    /// Requests per processing activity (`(none)` when none was stated), most first.
    pub by_activity: Vec<(String, u64)>,
    /// Requests per unit of the rules' user directory (`onbekend` for users not in it), most
    /// first, units under [`MIN_UNIT_SIZE`] requests folded into `overig`.
    pub by_unit: Vec<(String, u64)>,
    /// Requests per local day of the month (1-based day, count).
    pub by_day: Vec<(u32, u64)>,
    /// Alerts raised per rule (`D5 watch_list`), most first.
    pub rules_fired: Vec<(String, u64)>,
    pub alerts: u64,
}

impl MonthReport {
    /// The share of requests outside office hours, 0 to 1.
    pub fn after_hours_share(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.after_hours as f64 / self.requests as f64
        }
    }
}

/// Collects one month; feed it the entries of the month in any order.
#[derive(Debug)]
pub struct ReportBuilder<'r> {
    rules: &'r Rules,
    month: i64,
    report: MonthReport,
    activity: BTreeMap<String, u64>,
    unit: BTreeMap<String, u64>,
    day: BTreeMap<u32, u64>,
    fired: BTreeMap<String, u64>,
    first_day: Option<i64>,
}

/// `YYYY-MM` to the month index of [`crate::Local::month`].
pub fn parse_month(s: &str) -> Option<i64> {
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let y: i64 = y.parse().ok()?;
    let m: i64 = m.parse().ok()?;
    ((1..=12).contains(&m) && (1970..=9999).contains(&y)).then_some(y * 12 + m - 1)
}

/// The month index as `YYYY-MM`.
pub fn month_text(index: i64) -> String {
    format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}

fn sorted(map: BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

impl<'r> ReportBuilder<'r> {
    /// A report of `month` (a [`crate::Local::month`] index).
    pub fn new(rules: &'r Rules, month: i64) -> ReportBuilder<'r> {
        let (from, _) = rules.clock.bounds(crate::PeriodKind::Month, month);
        ReportBuilder {
            rules,
            month,
            report: MonthReport {
                month: month_text(month),
                ..MonthReport::default()
            },
            activity: BTreeMap::new(),
            unit: BTreeMap::new(),
            day: BTreeMap::new(),
            fired: BTreeMap::new(),
            first_day: Some(rules.clock.local(from).day),
        }
    }

    /// The month's bounds in UTC ms, `[from, to)`.
    pub fn bounds(&self) -> (u64, u64) {
        self.rules
            .clock
            .bounds(crate::PeriodKind::Month, self.month)
    }

    /// Counts one entry stored at `time_ms`; entries of other months and other kinds are ignored.
    pub fn add(&mut self, time_ms: u64, entry: &Entry) {
        let local = self.rules.clock.local(time_ms);
        if local.month != self.month {
            return;
        }
        match entry {
            Entry::Access(a) => {
                // sluis's own pages and reads of the log are not the municipality's processing.
                if matches!(a.api.as_str(), "admin" | "ui" | "cli") {
                    return;
                }
                let r = &mut self.report;
                r.requests += 1;
                if a.decision == Decision::Deny {
                    r.refused += 1;
                }
                if local.after_hours {
                    r.after_hours += 1;
                }
                match self.rules.classify(&a.operation) {
                    OpClass::Bsn => r.bsn_lookups += 1,
                    OpClass::Search => r.searches += 1,
                    OpClass::AddressSearch => r.address_searches += 1,
                    OpClass::Other => r.other += 1,
                }
                let activity = a
                    .processing_activity
                    .clone()
                    .unwrap_or_else(|| "(none)".into());
                *self.activity.entry(activity).or_default() += 1;
                let unit = a
                    .user
                    .as_deref()
                    .and_then(|u| self.rules.users.get(u))
                    .and_then(|u| u.unit.clone())
                    .unwrap_or_else(|| "onbekend".into());
                *self.unit.entry(unit).or_default() += 1;
                let day =
                    u32::try_from(local.day - self.first_day.unwrap_or(local.day) + 1).unwrap_or(0);
                *self.day.entry(day).or_default() += 1;
            }
            Entry::Alert(al) => {
                self.report.alerts += 1;
                *self
                    .fired
                    .entry(format!("{} {}", al.rule, al.name))
                    .or_default() += 1;
            }
            _ => {}
        }
    }

    pub fn finish(self) -> MonthReport {
        let mut r = self.report;
        r.by_activity = sorted(self.activity);
        let mut units = BTreeMap::new();
        for (unit, n) in self.unit {
            let key = if n < MIN_UNIT_SIZE {
                "overig".to_owned()
            } else {
                unit
            };
            *units.entry(key).or_default() += n;
        }
        r.by_unit = sorted(units);
        r.by_day = self.day.into_iter().collect();
        r.rules_fired = sorted(self.fired);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_and_print_both_ways() {
        let m = parse_month("2026-11").unwrap();
        assert_eq!(month_text(m), "2026-11");
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("26-11"), None);
        assert_eq!(parse_month("2026-1"), None);
    }

    #[test]
    fn the_report_counts_without_naming_anyone() {
        let h = crate::synthetic::history(7);
        let rules = crate::parse_rules(&h.rules_toml, "synthetic").unwrap();
        let month = rules.clock.local(h.end_ms - 1).month - 1;
        let mut b = ReportBuilder::new(&rules, month);
        let (from, to) = b.bounds();
        let mut expected = 0u64;
        for (_, t, e) in &h.entries {
            if (from..to).contains(t) && matches!(e, Entry::Access(a) if a.api != "admin") {
                expected += 1;
            }
            b.add(*t, e);
        }
        let r = b.finish();
        assert_eq!(r.requests, expected);
        assert!(
            r.requests > 1000,
            "a month of synthetic history: {}",
            r.requests
        );
        assert_eq!(
            r.bsn_lookups + r.searches + r.address_searches + r.other,
            r.requests
        );
        assert_eq!(
            r.by_activity.iter().map(|(_, n)| n).sum::<u64>(),
            r.requests
        );
        assert_eq!(r.by_unit.iter().map(|(_, n)| n).sum::<u64>(), r.requests);
        assert_eq!(r.by_day.iter().map(|(_, n)| n).sum::<u64>(), r.requests);
        assert!(r.by_day.iter().all(|(d, _)| (1..=31).contains(d)));
        let json = serde_json::to_string(&r).unwrap();
        for (_, _, e) in &h.entries {
            if let Entry::Access(a) = e
                && let Some(u) = &a.user
            {
                assert!(
                    !json.contains(&format!("\"{u}\"")),
                    "the report names user {u}"
                );
            }
        }
    }
}
