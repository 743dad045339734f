//! [`MemoryStore`]: an in-memory [`AuditStore`] with the same chain, checkpoints, purge and
//! verification as the durable stores. Not durable: for tests and benchmarks of the layers above.
//! Clones share one log, so a test can hand a clone to a sink and inspect the original.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::chain::{
    ChainConfig, Checkpoint, Encoded, PublicKey, RawRow, StoredEntry, field_sets_of, link, seal,
};
use crate::fieldset::FieldSetMap;
use crate::purge::PurgePlanner;
use crate::store::{AuditStore, QueryFilter};
use crate::verify::{RowSource, VerifyReport, verify_log};
use crate::{AuditError, Entry, ProcessingRecord, PurgeRecord};

/// An in-memory audit log; clones share it.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Log>>,
}

#[derive(Debug, Default)]
struct Log {
    chain: ChainConfig,
    rows: Vec<RawRow>,
    checkpoints: Vec<Checkpoint>,
    field_sets: FieldSetMap,
}

impl MemoryStore {
    /// An empty log sealed with `chain`.
    pub fn new(chain: ChainConfig) -> Self {
        MemoryStore {
            inner: Arc::new(Mutex::new(Log {
                chain,
                rows: Vec::new(),
                checkpoints: Vec::new(),
                field_sets: FieldSetMap::default(),
            })),
        }
    }

    fn log(&self) -> Result<MutexGuard<'_, Log>, AuditError> {
        self.inner
            .lock()
            .map_err(|_| AuditError::Unavailable("memory store poisoned".into()))
    }

    /// Runs `f` on the stored field sets, for tests that tamper with them.
    pub fn tamper_field_sets<R>(
        &self,
        f: impl FnOnce(&mut std::collections::HashMap<String, String>) -> R,
    ) -> Result<R, AuditError> {
        Ok(f(&mut self.log()?.field_sets.0))
    }

    /// Runs `f` on the raw rows and checkpoints, for tests that tamper with the log.
    pub fn tamper<R>(
        &self,
        f: impl FnOnce(&mut Vec<RawRow>, &mut Vec<Checkpoint>) -> R,
    ) -> Result<R, AuditError> {
        let mut log = self.log()?;
        let log = &mut *log;
        Ok(f(&mut log.rows, &mut log.checkpoints))
    }

    fn matches(row: &RawRow, f: &QueryFilter) -> bool {
        f.trace_id
            .as_ref()
            .is_none_or(|t| row.trace_id.as_ref() == Some(t))
            && f.activity
                .as_ref()
                .is_none_or(|a| row.activity.as_ref() == Some(a))
            && f.subject
                .as_ref()
                .is_none_or(|s| row.subject.as_ref() == Some(s))
            && f.kind.is_none_or(|k| row.kind == k.as_str())
            && f.from_ms.is_none_or(|t| row.time_ms >= t)
            && f.to_ms.is_none_or(|t| row.time_ms < t)
            && f.after_seq.is_none_or(|s| row.seq > s)
    }
}

impl RowSource for Log {
    fn rows_after(&mut self, after: u64, limit: usize) -> Result<Vec<RawRow>, AuditError> {
        let mut rows: Vec<RawRow> = self
            .rows
            .iter()
            .filter(|r| r.seq > after)
            .cloned()
            .collect();
        rows.sort_by_key(|r| r.seq);
        rows.truncate(limit);
        Ok(rows)
    }

    fn checkpoints(&mut self) -> Result<Vec<Checkpoint>, AuditError> {
        Ok(self.checkpoints.clone())
    }

    fn field_set(&mut self, id: &str) -> Result<Option<String>, AuditError> {
        Ok(self.field_sets.0.get(id).cloned())
    }
}

impl AuditStore for MemoryStore {
    fn append_encoded(
        &mut self,
        batch: Vec<Encoded>,
        now_ms: u64,
    ) -> Result<(u64, u64), AuditError> {
        let mut log = self.log()?;
        let last = log.rows.last().map(|r| (r.seq, r.hash.as_str()));
        let sets = field_sets_of(&batch);
        let rows = link(last, batch, now_ms)?;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Err(AuditError::Invalid("empty batch".into()));
        };
        let range = (first.seq, last.seq);
        let cps = log.chain.checkpoints_for(&rows, now_ms)?;
        for set in sets {
            log.field_sets.0.entry(set.id).or_insert(set.paths);
        }
        log.rows.extend(rows);
        log.checkpoints.extend(cps);
        Ok(range)
    }

    fn checkpoint(&mut self, now_ms: u64) -> Result<Option<Checkpoint>, AuditError> {
        let mut log = self.log()?;
        let Some((seq, hash)) = log.rows.last().map(|r| (r.seq, r.hash.clone())) else {
            return Ok(None);
        };
        if let Some(cp) = log.checkpoints.iter().find(|c| c.seq == seq) {
            return Ok(Some(cp.clone()));
        }
        let cp = log.chain.checkpoint_now(seq, &hash, now_ms)?;
        log.checkpoints.extend(cp.clone());
        Ok(cp)
    }

    fn checkpoints(&mut self) -> Result<Vec<Checkpoint>, AuditError> {
        let mut cps = self.log()?.checkpoints.clone();
        cps.sort_by_key(|c| c.seq);
        Ok(cps)
    }

    fn head(&mut self) -> Result<Option<(u64, String)>, AuditError> {
        Ok(self.log()?.rows.last().map(|r| (r.seq, r.hash.clone())))
    }

    fn verify(&mut self, keys: &[PublicKey]) -> Result<VerifyReport, AuditError> {
        verify_log(&mut *self.log()?, keys)
    }

    fn processing_by_subject(
        &mut self,
        subject_id: &str,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<(u64, u64, ProcessingRecord)>, AuditError> {
        let filter = QueryFilter {
            subject: Some(subject_id.to_owned()),
            kind: Some(crate::EntryKind::Processing),
            from_ms: Some(from_ms),
            to_ms: Some(to_ms),
            ..QueryFilter::default()
        };
        let mut out = Vec::new();
        for e in self.query(&filter, usize::MAX)? {
            if let Entry::Processing(p) = e.entry {
                out.push((e.seq, e.time_ms, p));
            }
        }
        Ok(out)
    }

    fn query(
        &mut self,
        filter: &QueryFilter,
        limit: usize,
    ) -> Result<Vec<StoredEntry>, AuditError> {
        let log = self.log()?;
        let mut sets = log.field_sets.clone();
        log.rows
            .iter()
            .filter(|r| Self::matches(r, filter))
            .take(limit)
            .map(|r| r.decode_with(&mut sets))
            .collect()
    }

    fn purge(
        &mut self,
        retention: &dyn Fn(&str) -> Option<u64>,
        now_ms: u64,
    ) -> Result<PurgeRecord, AuditError> {
        let mut log = self.log()?;
        let mut activities: Vec<&str> = log
            .rows
            .iter()
            .filter_map(|r| r.activity.as_deref())
            .collect();
        activities.sort_unstable();
        activities.dedup();
        let mut planner = PurgePlanner::new(retention, now_ms, activities);
        for row in &log.rows {
            if !planner.offer(row) {
                break;
            }
        }
        let first = log.rows.first().map(|r| (r.seq, r.prev_hash.clone()));
        let up_to = planner.delete_up_to();
        let record = planner.finish(first);
        let last = log.rows.last().map(|r| (r.seq, r.hash.clone()));
        let last_ref = last.as_ref().map(|(s, h)| (*s, h.as_str()));
        let rows = seal(last_ref, &[Entry::Purge(record.clone())], now_ms)?;
        let cps = log.chain.checkpoints_for(&rows, now_ms)?;
        if let Some(up_to) = up_to {
            log.rows.retain(|r| r.seq > up_to);
        }
        log.rows.extend(rows);
        log.checkpoints.extend(cps);
        Ok(record)
    }

    fn export(&mut self, from_seq: u64, limit: usize) -> Result<Vec<StoredEntry>, AuditError> {
        let log = self.log()?;
        let mut sets = log.field_sets.clone();
        log.rows
            .iter()
            .filter(|r| r.seq >= from_seq)
            .take(limit)
            .map(|r| r.decode_with(&mut sets))
            .collect()
    }

    fn ready(&mut self) -> bool {
        self.inner.lock().is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, Fixture};

    /// Raw "SQL" for the memory store: only the statements the scenarios that run here use.
    fn fixture() -> Fixture {
        let store = MemoryStore::new(testing::chain_config());
        let handle = store.clone();
        Fixture {
            store: Box::new(store),
            sql: Box::new(move |sql: &str| {
                let seq: u64 = sql
                    .strip_prefix("DELETE FROM entries WHERE seq = ")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("unsupported: {sql}"));
                handle
                    .tamper(|rows, _| rows.retain(|r| r.seq != seq))
                    .unwrap();
            }),
        }
    }

    #[test]
    fn append_verify_query() {
        testing::scenario_append_verify_query(fixture());
    }

    #[test]
    fn purge() {
        testing::scenario_purge(fixture());
    }

    #[test]
    fn removed() {
        testing::scenario_removed(fixture());
    }

    #[test]
    fn clones_share_the_log() {
        let mut a = MemoryStore::new(ChainConfig::default());
        let mut b = a.clone();
        a.append(&testing::request(1, 1), 5).unwrap();
        assert_eq!(b.head().unwrap().unwrap().0, 2);
        b.tamper(|rows, _| rows[0].body.push(' ')).unwrap();
        assert!(!a.verify(&[]).unwrap().is_ok());
    }
}
