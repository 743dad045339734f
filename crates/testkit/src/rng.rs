//! A tiny deterministic PRNG (SplitMix64) and calendar helpers for the data generators.
//!
//! Own code rather than `rand` so that the fixture data is stable across dependency upgrades:
//! the same seed must give byte-identical data for as long as this file does not change.

/// SplitMix64 (Steele, Lea & Flood): fast, full-period, good enough for fictional data.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A generator for one stream (table) derived from the fixture seed, so that changing the
    /// number of records in one table does not change the data of another.
    pub(crate) fn for_stream(seed: u64, stream: &str) -> Self {
        // FNV-1a over the stream name, mixed into the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in stream.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let mut base = Self::new(seed ^ h);
        Self::new(base.next_u64())
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`0` when `n == 0`). The modulo bias is irrelevant for fixture data.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// Uniform in `lo..=hi` (returns `lo` when `hi < lo`).
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi < lo {
            lo
        } else {
            lo + self.below(hi - lo + 1)
        }
    }

    /// `true` with probability `percent`/100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of a non-empty slice; `None` for an empty one.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let len = u64::try_from(items.len()).ok()?;
        let idx = usize::try_from(self.below(len)).ok()?;
        items.get(idx)
    }

    /// One string of a list of constants; `""` for an empty list.
    pub(crate) fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        self.pick(items).copied().unwrap_or("")
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = if m <= 2 { y + 1 } else { y };
    (
        year,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// (year, month, day) → days since 1970-01-01.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A uniformly chosen ISO date (`YYYY-MM-DD`) between two dates, inclusive.
pub(crate) fn random_date(
    rng: &mut SplitMix64,
    from: (i64, u32, u32),
    to: (i64, u32, u32),
) -> String {
    let lo = days_from_civil(from.0, from.1, from.2);
    let hi = days_from_civil(to.0, to.1, to.2);
    let span = u64::try_from(hi - lo).unwrap_or(0);
    let offset = i64::try_from(rng.below(span + 1)).unwrap_or(0);
    let (y, m, d) = civil_from_days(lo + offset);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = SplitMix64::for_stream(7, "x");
        let mut b = SplitMix64::for_stream(7, "x");
        let mut c = SplitMix64::for_stream(7, "y");
        let va: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let vb: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        let vc: Vec<u64> = (0..5).map(|_| c.next_u64()).collect();
        assert_eq!(va, vb);
        assert_ne!(va, vc);
    }

    #[test]
    fn calendar_round_trips() {
        for days in [-800_000, -1, 0, 1, 59, 60, 365, 11_016, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }

    #[test]
    fn random_dates_stay_in_range() {
        let mut rng = SplitMix64::new(1);
        for _ in 0..1000 {
            let d = random_date(&mut rng, (2000, 1, 1), (2000, 12, 31));
            assert!(
                d.as_str() >= "2000-01-01" && d.as_str() <= "2000-12-31",
                "{d}"
            );
        }
    }
}
