//! Local time for the rules: office hours, weekends, holidays, and the day / week / month a
//! record falls in, in the deployment's time zone (jiff's bundled time zone database, so the
//! answer does not depend on the machine's tzdata).

use std::collections::HashSet;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::rules::PeriodKind;

const DAY_MS: i64 = 86_400_000;

/// `HH:MM` as minutes after midnight (`24:00` allowed as the end of the day).
pub fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// Where an instant falls in local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Local {
    /// Days since 1970-01-01 in local time.
    pub day: i64,
    /// Weeks (Monday to Sunday) since the week of 1970-01-01.
    pub week: i64,
    /// `year * 12 + month - 1`.
    pub month: i64,
    /// Minutes after local midnight.
    pub minute: u32,
    /// True outside office hours (evening, night, weekend, holiday).
    pub after_hours: bool,
}

impl Local {
    /// The index of the period of `kind` this instant is in.
    pub fn period(&self, kind: PeriodKind) -> i64 {
        match kind {
            PeriodKind::Day => self.day,
            PeriodKind::Week => self.week,
            PeriodKind::Month => self.month,
        }
    }
}

/// The deployment's clock: time zone and office hours.
#[derive(Debug, Clone)]
pub struct Clock {
    tz: TimeZone,
    start_min: u32,
    end_min: u32,
    weekends_off: bool,
    holidays: HashSet<Date>,
}

impl Clock {
    /// A clock for the IANA time zone `tz` with office hours `[start_min, end_min)`.
    pub fn new(
        tz: &str,
        start_min: u32,
        end_min: u32,
        weekends_off: bool,
        holidays: HashSet<Date>,
    ) -> Result<Clock, String> {
        let tz = TimeZone::get(tz).map_err(|_| format!("{tz:?} is not a known IANA time zone"))?;
        Ok(Clock {
            tz,
            start_min,
            end_min,
            weekends_off,
            holidays,
        })
    }

    /// Dutch local time, 06:00 to 19:00 on weekdays.
    pub fn amsterdam() -> Clock {
        Clock {
            tz: TimeZone::get("Europe/Amsterdam").unwrap_or(TimeZone::UTC),
            start_min: 6 * 60,
            end_min: 19 * 60,
            weekends_off: true,
            holidays: HashSet::new(),
        }
    }

    /// Where `utc_ms` falls in local time.
    pub fn local(&self, utc_ms: u64) -> Local {
        let ms = i64::try_from(utc_ms).unwrap_or(i64::MAX);
        let ts = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::MAX);
        let offset_ms = i64::from(self.tz.to_offset(ts).seconds()) * 1_000;
        let local_ms = ms.saturating_add(offset_ms);
        let day = local_ms.div_euclid(DAY_MS);
        let minute = u32::try_from(local_ms.rem_euclid(DAY_MS) / 60_000).unwrap_or(0);
        let date = date_of_day(day);
        let weekend = date.weekday().to_monday_one_offset() >= 6;
        let after_hours = (self.weekends_off && weekend)
            || self.holidays.contains(&date)
            || minute < self.start_min
            || minute >= self.end_min;
        Local {
            day,
            // 1970-01-01 was a Thursday: Monday-based weeks start three days earlier.
            week: (day + 3).div_euclid(7),
            month: i64::from(date.year()) * 12 + i64::from(date.month()) - 1,
            minute,
            after_hours,
        }
    }

    /// The instant local midnight starts day `day` (days since 1970-01-01).
    fn day_start_ms(&self, day: i64) -> u64 {
        let date = date_of_day(day);
        date.to_zoned(self.tz.clone())
            .map(|z| u64::try_from(z.timestamp().as_millisecond()).unwrap_or(0))
            .unwrap_or(0)
    }

    /// `[from, to)` of period `index` of `kind`, in ms since the Unix epoch.
    pub fn bounds(&self, kind: PeriodKind, index: i64) -> (u64, u64) {
        let (first, next) = match kind {
            PeriodKind::Day => (index, index + 1),
            PeriodKind::Week => (index * 7 - 3, index * 7 + 4),
            PeriodKind::Month => (day_of_month(index), day_of_month(index + 1)),
        };
        (self.day_start_ms(first), self.day_start_ms(next))
    }

    /// `[from, to)` of a sliding window of `len_ms` ending at `end_ms`.
    pub fn window(end_ms: u64, len_ms: u64) -> (u64, u64) {
        (end_ms.saturating_sub(len_ms), end_ms.saturating_add(1))
    }
}

fn epoch() -> Date {
    Date::constant(1970, 1, 1)
}

fn date_of_day(day: i64) -> Date {
    epoch()
        .checked_add(jiff::Span::new().days(day.clamp(-7_000_000, 7_000_000)))
        .unwrap_or(epoch())
}

/// Days since 1970-01-01 of the first day of month `index` (`year * 12 + month - 1`).
fn day_of_month(index: i64) -> i64 {
    let year = i16::try_from(index.div_euclid(12)).unwrap_or(9999);
    let month = i8::try_from(index.rem_euclid(12) + 1).unwrap_or(1);
    Date::new(year, month, 1)
        .ok()
        .and_then(|d| d.since(epoch()).ok())
        .map(|span| i64::from(span.get_days()))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    /// 2026-12-02T23:30:00+01:00 (a Wednesday, winter time).
    const WED_2330: u64 = 1_796_250_600_000;

    #[test]
    fn office_hours_follow_local_time_and_summer_time() {
        let c = Clock::amsterdam();
        let l = c.local(WED_2330);
        assert_eq!(l.minute, 23 * 60 + 30);
        assert!(l.after_hours);
        // 10:00 local in summer is 08:00 UTC: 2026-07-01T08:00:00Z.
        let summer = c.local(1_782_892_800_000);
        assert_eq!(summer.minute, 10 * 60);
        assert!(!summer.after_hours);
        // Saturday 2026-12-05 at noon.
        assert!(
            c.local(WED_2330 + 2 * 86_400_000 + 12 * 3_600_000 + 30 * 60_000)
                .after_hours
        );
    }

    #[test]
    fn holidays_are_after_hours() {
        let mut h = HashSet::new();
        h.insert(Date::constant(2026, 12, 25));
        let c = Clock::new("Europe/Amsterdam", 360, 1140, true, h).unwrap();
        // 2026-12-25T10:00:00+01:00, a Friday.
        assert!(c.local(1_798_189_200_000).after_hours);
    }

    #[test]
    fn period_bounds_contain_their_instants() {
        let c = Clock::amsterdam();
        let l = c.local(WED_2330);
        for kind in [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month] {
            let (from, to) = c.bounds(kind, l.period(kind));
            assert!(from <= WED_2330 && WED_2330 < to, "{kind:?}: {from} {to}");
            assert_eq!(c.local(from).period(kind), l.period(kind));
            assert_eq!(c.local(to).period(kind), l.period(kind) + 1);
        }
        assert_eq!(parse_hhmm("19:00"), Some(1140));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        assert_eq!(parse_hhmm("7:00"), None);
    }
}
