//! [`AuditStore`]: the durable, hash-chained log behind a [`GroupCommitSink`], implemented by the
//! SQLite and PostgreSQL crates (and [`MemoryStore`] for tests).
//!
//! Stores are blocking and used from one thread at a time: the group-commit writer thread owns
//! the store it appends with; readers (the CLI, the admin API) open their own instance on the same
//! database. Every method that writes (`append`, `checkpoint`, `purge`) is one transaction.
//! There is no update or delete beyond `purge`.
//!
//! [`GroupCommitSink`]: crate::GroupCommitSink
//! [`MemoryStore`]: crate::MemoryStore

use serde::{Deserialize, Serialize};

use crate::chain::{Checkpoint, Encoded, EntryKind, PublicKey, StoredEntry, encode};
use crate::verify::VerifyReport;
use crate::{AuditError, Entry, ProcessingRecord, PurgeRecord};

/// The LDV "lezen" query: every field set narrows the result. Times are the store's `time_ms`,
/// `from_ms` inclusive, `to_ms` exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryFilter {
    pub trace_id: Option<String>,
    /// Processing activity id.
    pub activity: Option<String>,
    /// Pseudonymised data subject id.
    pub subject: Option<String>,
    pub kind: Option<EntryKind>,
    pub from_ms: Option<u64>,
    pub to_ms: Option<u64>,
    /// Only entries after this seq (for paging).
    pub after_seq: Option<u64>,
}

impl QueryFilter {
    /// The filter of the next page after `page` (the whole last seq is always in a page, so the
    /// next starts after it).
    pub fn next_page(&self, page: &[StoredEntry]) -> Option<QueryFilter> {
        page.last().map(|e| QueryFilter {
            after_seq: Some(e.seq),
            ..self.clone()
        })
    }
}

/// A durable, hash-chained, append-only audit log.
pub trait AuditStore: Send {
    /// Appends a batch in one transaction, continuing the chain (and signing the checkpoints that
    /// fall due). Returns the first and last seq assigned. Durable when it returns `Ok`.
    fn append(&mut self, batch: &[Entry], now_ms: u64) -> Result<(u64, u64), AuditError> {
        self.append_encoded(encode(batch)?, now_ms)
    }

    /// [`append`](Self::append) of entries already encoded ([`encode`]): what group commit
    /// hands the store, so that encoding happens on the committers' threads, not the writer's.
    fn append_encoded(
        &mut self,
        batch: Vec<Encoded>,
        now_ms: u64,
    ) -> Result<(u64, u64), AuditError>;

    /// Signs and stores a checkpoint of the current head, on demand. `None` when the log is empty
    /// or no signing key is configured.
    fn checkpoint(&mut self, now_ms: u64) -> Result<Option<Checkpoint>, AuditError>;

    /// All stored checkpoints, by seq (to hand to an external witness).
    fn checkpoints(&mut self) -> Result<Vec<Checkpoint>, AuditError>;

    /// The last `(seq, hash)`, or `None` for an empty log.
    fn head(&mut self) -> Result<Option<(u64, String)>, AuditError>;

    /// Walks the whole log (see [`verify_log`](crate::verify_log)). `keys`: the checkpoint
    /// public keys to accept (several during a key rotation; none to skip signature checks).
    fn verify(&mut self, keys: &[PublicKey]) -> Result<VerifyReport, AuditError>;

    /// [`verify`](Self::verify), telling `progress` how many entries have been read so far
    /// (after every page, summed over the chains). A store that cannot report just verifies.
    fn verify_with_progress(
        &mut self,
        keys: &[PublicKey],
        progress: &mut dyn FnMut(u64),
    ) -> Result<VerifyReport, AuditError> {
        let _ = progress;
        self.verify(keys)
    }

    /// The processing records of one (pseudonymised) data subject in `[from_ms, to_ms)`, as
    /// `(seq, time_ms, record)` in seq order: the citizen's overview (AVG art. 15).
    fn processing_by_subject(
        &mut self,
        subject_id: &str,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<(u64, u64, ProcessingRecord)>, AuditError> {
        let filter = QueryFilter {
            subject: Some(subject_id.to_owned()),
            kind: Some(EntryKind::Processing),
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

    /// Entries matching `filter`, in seq order (then chain), at most `limit` — except that in a
    /// store with one chain per instance every chain's entry at the last seq returned is
    /// included, so a page can exceed `limit` by fewer than the number of chains and the next
    /// page starts after the last seq.
    fn query(&mut self, filter: &QueryFilter, limit: usize)
    -> Result<Vec<StoredEntry>, AuditError>;

    /// Removes the expired prefix of the log (see [`PurgePlanner`](crate::PurgePlanner)) and
    /// appends the [`PurgeRecord`] describing it, in one transaction. `retention` maps an
    /// activity id to its retention in days (`None`: keep).
    fn purge(
        &mut self,
        retention: &dyn Fn(&str) -> Option<u64>,
        now_ms: u64,
    ) -> Result<PurgeRecord, AuditError>;

    /// Entries with `seq >= from_seq`, in seq order (then chain): `limit` of them, or fewer when
    /// no more exist — and, in a store with one chain per instance, every chain's entry at the
    /// last seq returned, so the next page starts at the last seq + 1.
    fn export(&mut self, from_seq: u64, limit: usize) -> Result<Vec<StoredEntry>, AuditError>;

    /// True when the store answers (used to restore readiness after a failed commit).
    fn ready(&mut self) -> bool;

    /// Brings the store's derived indexes (those kept outside the commit) up to date with the
    /// log — after clearing them, with `rebuild` — and reports where they stand; `None` for a
    /// store whose indexes are part of every commit (nothing to do).
    fn reindex(&mut self, rebuild: bool) -> Result<Option<IndexReport>, AuditError> {
        let _ = rebuild;
        Ok(None)
    }

    /// The last seq the store's derived indexes cover (0: none yet), for the lag metric; `None`
    /// for a store whose indexes are part of every commit. Cheap: the writer asks about once a
    /// second.
    fn indexed_to(&mut self) -> Option<u64> {
        None
    }

    /// The chain this store appends to: empty for a store with one chain, the instance's chain
    /// id in a store with one chain per instance.
    fn chain_id(&self) -> &str {
        ""
    }

    /// Every chain's stored checkpoints, as `(chain, checkpoint)`.
    fn chain_checkpoints(&mut self) -> Result<Vec<(String, Checkpoint)>, AuditError> {
        Ok(self
            .checkpoints()?
            .into_iter()
            .map(|c| (String::new(), c))
            .collect())
    }
}

/// Where a store's derived indexes stand ([`AuditStore::reindex`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct IndexReport {
    /// The last seq the indexes cover (0: none).
    pub indexed_to: u64,
    /// The log's last seq.
    pub head: u64,
    /// Index runs built by this call.
    pub runs_built: u64,
}

/// Calls `f` for every entry from `from_seq` on, paging through [`AuditStore::export`].
pub fn export_each(
    store: &mut dyn AuditStore,
    from_seq: u64,
    mut f: impl FnMut(StoredEntry) -> Result<(), AuditError>,
) -> Result<u64, AuditError> {
    const PAGE: usize = 1_000;
    let mut next = from_seq;
    let mut count = 0u64;
    loop {
        let page = store.export(next, PAGE)?;
        let Some(last) = page.last() else {
            return Ok(count);
        };
        next = last.seq.saturating_add(1);
        let full = page.len() >= PAGE;
        for e in page {
            count += 1;
            f(e)?;
        }
        if !full {
            return Ok(count);
        }
    }
}

/// Wall-clock milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A boxed store is a store, so the configured kind can be chosen at run time.
impl AuditStore for Box<dyn AuditStore> {
    fn append(&mut self, batch: &[Entry], now_ms: u64) -> Result<(u64, u64), AuditError> {
        (**self).append(batch, now_ms)
    }
    fn append_encoded(
        &mut self,
        batch: Vec<Encoded>,
        now_ms: u64,
    ) -> Result<(u64, u64), AuditError> {
        (**self).append_encoded(batch, now_ms)
    }
    fn checkpoint(&mut self, now_ms: u64) -> Result<Option<Checkpoint>, AuditError> {
        (**self).checkpoint(now_ms)
    }
    fn checkpoints(&mut self) -> Result<Vec<Checkpoint>, AuditError> {
        (**self).checkpoints()
    }
    fn head(&mut self) -> Result<Option<(u64, String)>, AuditError> {
        (**self).head()
    }
    fn verify(&mut self, keys: &[PublicKey]) -> Result<VerifyReport, AuditError> {
        (**self).verify(keys)
    }
    fn processing_by_subject(
        &mut self,
        subject_id: &str,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<(u64, u64, ProcessingRecord)>, AuditError> {
        (**self).processing_by_subject(subject_id, from_ms, to_ms)
    }
    fn query(
        &mut self,
        filter: &QueryFilter,
        limit: usize,
    ) -> Result<Vec<StoredEntry>, AuditError> {
        (**self).query(filter, limit)
    }
    fn purge(
        &mut self,
        retention: &dyn Fn(&str) -> Option<u64>,
        now_ms: u64,
    ) -> Result<PurgeRecord, AuditError> {
        (**self).purge(retention, now_ms)
    }
    fn export(&mut self, from_seq: u64, limit: usize) -> Result<Vec<StoredEntry>, AuditError> {
        (**self).export(from_seq, limit)
    }
    fn ready(&mut self) -> bool {
        (**self).ready()
    }
    fn reindex(&mut self, rebuild: bool) -> Result<Option<IndexReport>, AuditError> {
        (**self).reindex(rebuild)
    }
    fn indexed_to(&mut self) -> Option<u64> {
        (**self).indexed_to()
    }
}
