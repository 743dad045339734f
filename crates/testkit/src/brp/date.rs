//! Dates as the BRP API renders them: complete, year-month, year only, or unknown.

use std::fmt;

use serde_json::{Value, json};

use crate::rng::{civil_from_days, days_from_civil};

const MAANDEN: [&str; 12] = [
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

fn maand_naam(m: u32) -> &'static str {
    usize::try_from(m)
        .ok()
        .and_then(|m| m.checked_sub(1))
        .and_then(|i| MAANDEN.get(i))
        .copied()
        .unwrap_or("onbekend")
}

/// A calendar date (proleptic Gregorian): the fixture's "today" and complete dates in the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BrpDate {
    /// Year, e.g. 2025.
    pub year: i32,
    /// Month 1..=12.
    pub month: u32,
    /// Day 1..=31.
    pub day: u32,
}

impl BrpDate {
    /// A date from its parts (not validated; use real dates).
    pub const fn new(year: i32, month: u32, day: u32) -> Self {
        Self { year, month, day }
    }

    /// Today in UTC according to the system clock.
    pub fn today_utc() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self::from_days(i64::try_from(secs / 86_400).unwrap_or(0))
    }

    pub(crate) fn from_days(days: i64) -> Self {
        let (y, m, d) = civil_from_days(days);
        Self {
            year: i32::try_from(y).unwrap_or(1970),
            month: m,
            day: d,
        }
    }

    pub(crate) fn days(self) -> i64 {
        days_from_civil(i64::from(self.year), self.month, self.day)
    }

    /// `YYYY-MM-DD`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Parses `YYYY-MM-DD` (a real calendar date only).
    pub fn parse_iso(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = s.get(r)?;
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let year = i32::try_from(digits(0..4)?).ok()?;
        let month = digits(5..7)?;
        let day = digits(8..10)?;
        if year == 0 || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        let date = Self { year, month, day };
        // Round-tripping through the day count rejects 31 April and 29 February 2023.
        (Self::from_days(date.days()) == date).then_some(date)
    }

    /// Whole years from `self` to `on` (age on a date).
    pub(crate) fn years_until(self, on: Self) -> i32 {
        let mut years = on.year - self.year;
        if (on.month, on.day) < (self.month, self.day) {
            years -= 1;
        }
        years
    }

    pub(crate) fn add_days(self, days: i64) -> Self {
        Self::from_days(self.days() + days)
    }
}

impl fmt::Display for BrpDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso())
    }
}

/// A date in a person list: complete, or partly or wholly unknown (`00` in the GBA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Datum {
    Volledig(BrpDate),
    JaarMaand(i32, u32),
    Jaar(i32),
    Onbekend,
}

impl Datum {
    pub(crate) fn full(self) -> Option<BrpDate> {
        match self {
            Self::Volledig(d) => Some(d),
            _ => None,
        }
    }

    pub(crate) fn to_json(self) -> Value {
        match self {
            Self::Volledig(d) => json!({
                "type": "Datum",
                "datum": d.iso(),
                "langFormaat": format!("{} {} {}", d.day, maand_naam(d.month), d.year),
            }),
            Self::JaarMaand(y, m) => json!({
                "type": "JaarMaandDatum",
                "jaar": y,
                "maand": m,
                "langFormaat": format!("{} {y}", maand_naam(m)),
            }),
            Self::Jaar(y) => json!({
                "type": "JaarDatum",
                "jaar": y,
                "langFormaat": y.to_string(),
            }),
            Self::Onbekend => json!({
                "type": "DatumOnbekend",
                "onbekend": true,
                "langFormaat": "onbekend",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_format_and_parse() {
        let d = BrpDate::new(2012, 9, 20);
        assert_eq!(
            Datum::Volledig(d).to_json(),
            json!({"type": "Datum", "datum": "2012-09-20", "langFormaat": "20 september 2012"})
        );
        assert_eq!(BrpDate::parse_iso("2012-09-20"), Some(d));
        assert_eq!(BrpDate::parse_iso("2023-02-29"), None);
        assert_eq!(BrpDate::parse_iso("20120920"), None);
        assert_eq!(BrpDate::parse_iso("2012-9-20"), None);
        assert_eq!(
            Datum::JaarMaand(1970, 7).to_json()["langFormaat"],
            "juli 1970"
        );
    }

    #[test]
    fn age() {
        let born = BrpDate::new(2000, 3, 15);
        assert_eq!(born.years_until(BrpDate::new(2025, 3, 14)), 24);
        assert_eq!(born.years_until(BrpDate::new(2025, 3, 15)), 25);
    }
}
