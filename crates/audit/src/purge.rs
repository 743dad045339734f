//! Retention purge planning: which prefix of the log may go. Pure; the stores feed it rows in seq
//! order inside the purge transaction, delete `seq <= up_to_seq` and append the resulting
//! [`PurgeRecord`].
//!
//! Only a contiguous prefix is ever removed, so the chain stays verifiable: the first remaining
//! entry links to the hash of the last removed one, which the purge record carries as
//! `anchor_hash`. A processing entry is removable when its activity has a retention and the entry
//! is older than it; an access entry (and an earlier purge record) when it is older than the
//! longest retention of any activity in the log. The walk stops at the first entry that must stay,
//! so an entry may outlive its own retention while an older entry with a longer one precedes it.

use std::collections::BTreeMap;

use crate::PurgeRecord;
use crate::chain::{EntryKind, GENESIS_HASH, RawRow};

/// Milliseconds per retention day.
pub const DAY_MS: u64 = 86_400_000;

/// Key under which removed purge records are counted in [`PurgeRecord::removed`].
pub const PURGE_RECORDS_KEY: &str = "sluis:purge";

/// Decides, row by row, how long the removable prefix is.
pub struct PurgePlanner<'a> {
    retention: &'a dyn Fn(&str) -> Option<u64>,
    now_ms: u64,
    longest_days: Option<u64>,
    removed: BTreeMap<String, u64>,
    removed_access: u64,
    last_removed: Option<(u64, String)>,
    stopped: bool,
}

impl std::fmt::Debug for PurgePlanner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PurgePlanner")
            .field("now_ms", &self.now_ms)
            .field("longest_days", &self.longest_days)
            .field("last_removed", &self.last_removed)
            .finish_non_exhaustive()
    }
}

impl<'a> PurgePlanner<'a> {
    /// `activities`: every distinct activity id in the log (for the longest retention).
    pub fn new<I, S>(retention: &'a dyn Fn(&str) -> Option<u64>, now_ms: u64, activities: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let longest_days = activities
            .into_iter()
            .filter_map(|a| retention(a.as_ref()))
            .max();
        PurgePlanner {
            retention,
            now_ms,
            longest_days,
            removed: BTreeMap::new(),
            removed_access: 0,
            last_removed: None,
            stopped: false,
        }
    }

    fn expired(&self, time_ms: u64, days: Option<u64>) -> bool {
        days.is_some_and(|d| time_ms.saturating_add(d.saturating_mul(DAY_MS)) < self.now_ms)
    }

    /// Offers the next row (in seq order). True when it is removed; after the first false the
    /// prefix is complete and every later call returns false.
    pub fn offer(&mut self, row: &RawRow) -> bool {
        if self.stopped {
            return false;
        }
        let kind = EntryKind::parse(&row.kind);
        let remove = match kind {
            Some(EntryKind::Processing) => {
                let days = row.activity.as_deref().and_then(|a| (self.retention)(a));
                self.expired(row.time_ms, days)
            }
            // Alerts and their handling are kept as long as the access records they are about.
            Some(EntryKind::Access | EntryKind::Purge | EntryKind::Alert | EntryKind::Handling) => {
                self.expired(row.time_ms, self.longest_days)
            }
            None => false,
        };
        if !remove {
            self.stopped = true;
            return false;
        }
        match kind {
            Some(EntryKind::Processing) => {
                let activity = row.activity.clone().unwrap_or_default();
                *self.removed.entry(activity).or_insert(0) += 1;
            }
            Some(EntryKind::Purge) => {
                *self
                    .removed
                    .entry(PURGE_RECORDS_KEY.to_owned())
                    .or_insert(0) += 1;
            }
            _ => self.removed_access += 1,
        }
        self.last_removed = Some((row.seq, row.hash.clone()));
        true
    }

    /// True once a row had to stay.
    pub fn is_complete(&self) -> bool {
        self.stopped
    }

    /// The last seq to delete, if any row goes.
    pub fn delete_up_to(&self) -> Option<u64> {
        self.last_removed.as_ref().map(|(s, _)| *s)
    }

    /// The purge record. `first_remaining`: seq and prev_hash of the first row of the log before
    /// this purge (`None` for an empty log), so that a purge that removes nothing still names the
    /// current gap.
    pub fn finish(self, first_remaining: Option<(u64, String)>) -> PurgeRecord {
        let (up_to_seq, anchor_hash) = match (self.last_removed, first_remaining) {
            (Some(last), _) => last,
            (None, Some((first, prev))) if first > 1 => (first - 1, prev),
            (None, _) => (0, GENESIS_HASH.to_owned()),
        };
        PurgeRecord {
            time_ms: self.now_ms,
            removed: self.removed.into_iter().collect(),
            removed_access: self.removed_access,
            up_to_seq,
            anchor_hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::seal_with_sets;
    use crate::{Entry, testing};

    fn rows() -> Vec<RawRow> {
        let mut rows: Vec<RawRow> = Vec::new();
        for i in 0..4u64 {
            let last = rows.last().map(|r| (r.seq, r.hash.as_str()));
            // Day i: one access + one processing entry of activity "VA-1" or "VA-2".
            let mut batch = testing::request(i, 1);
            if let Some(Entry::Processing(p)) = batch.get_mut(1) {
                p.processing_activity_id = if i == 2 { "VA-2" } else { "VA-1" }.into();
            }
            rows.extend(seal_with_sets(last, &batch, i * DAY_MS).unwrap().0);
        }
        rows
    }

    fn retention(a: &str) -> Option<u64> {
        match a {
            "VA-1" => Some(1),
            "VA-2" => Some(30),
            _ => None,
        }
    }

    #[test]
    fn prefix_stops_at_the_first_entry_to_keep() {
        let rows = rows();
        let acts = ["VA-1", "VA-2"];
        let mut p = PurgePlanner::new(&retention, 10 * DAY_MS, acts);
        let removed: Vec<bool> = rows.iter().map(|r| p.offer(r)).collect();
        // Access entries use the longest retention (30 days): nothing older than that.
        assert_eq!(removed, vec![false; 8]);
        let rec = p.finish(Some((1, GENESIS_HASH.into())));
        assert_eq!(rec.up_to_seq, 0);
        assert_eq!(rec.anchor_hash, GENESIS_HASH);
    }

    #[test]
    fn expired_prefix_goes() {
        let rows = rows();
        // Only VA-1 with 1 day: the longest retention is 1 day.
        let short = |a: &str| (a == "VA-1").then_some(1);
        let mut p = PurgePlanner::new(&short, 10 * DAY_MS, ["VA-1", "VA-2"]);
        let removed: Vec<bool> = rows.iter().map(|r| p.offer(r)).collect();
        // Day 2's processing entry has VA-2 without retention: the prefix ends before it.
        assert_eq!(
            removed,
            vec![true, true, true, true, true, false, false, false]
        );
        assert_eq!(p.delete_up_to(), Some(5));
        let rec = p.finish(None);
        assert_eq!(rec.up_to_seq, 5);
        assert_eq!(rec.anchor_hash, rows[4].hash);
        assert_eq!(rec.removed, vec![("VA-1".to_owned(), 2)]);
        assert_eq!(rec.removed_access, 3);
    }

    #[test]
    fn nothing_removed_keeps_the_previous_gap() {
        let never = |_: &str| None;
        let p = PurgePlanner::new(&never, 0, Vec::<String>::new());
        let rec = p.finish(Some((6, "ab".repeat(32))));
        assert_eq!(rec.up_to_seq, 5);
        assert_eq!(rec.anchor_hash, "ab".repeat(32));
    }
}
