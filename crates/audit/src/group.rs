//! [`GroupCommitSink`]: the [`AuditSink`] in front of an [`AuditStore`]. Requests queue their
//! entries; one writer thread takes everything queued, appends it in one transaction (one fsync,
//! one lock round on PostgreSQL), then acknowledges every waiter. Concurrent requests share a
//! commit, so throughput grows with concurrency while each response still waits for its own
//! records to be durable.
//!
//! The queue is bounded in entries: a commit that does not fit fails at once with
//! [`AuditError::QueueFull`] (the proxy answers 503), it never grows without limit. A failed
//! append fails every waiter of that batch and marks the sink not ready until an append succeeds
//! or the store answers [`AuditStore::ready`] again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::chain::{Checkpoint, Encoded, encode};
use crate::store::{AuditStore, now_ms};
use crate::witness::Witness;
use crate::{AccessRecord, AuditError, AuditSink, CommitFuture, Entry};

/// Sizing of a [`GroupCommitSink`].
#[derive(Debug, Clone)]
pub struct GroupCommitConfig {
    /// Entries that may wait (queued or being written) before commits are refused.
    pub capacity: usize,
    /// Entries appended per transaction at most.
    pub max_batch: usize,
    /// How often the writer asks an unhealthy store whether it is back.
    pub recheck: Duration,
    /// Sign a checkpoint of the head this long after the last one while entries arrive, and at
    /// start and shutdown (`None`: only every `checkpoint_every` entries and on demand). Each
    /// is also published to the witness, when there is one.
    pub checkpoint_interval: Option<Duration>,
    /// Handed every committed batch, after its waiters are released (misuse detection).
    pub observer: Option<Arc<dyn CommitObserver>>,
}

impl Default for GroupCommitConfig {
    fn default() -> Self {
        GroupCommitConfig {
            capacity: crate::MAX_QUEUE,
            max_batch: 4_096,
            recheck: Duration::from_secs(1),
            checkpoint_interval: None,
            observer: None,
        }
    }
}

/// Told about every batch once it is durable, on the writer thread: it must not block (hand the
/// entries to a thread or task of its own and return).
pub trait CommitObserver: Send + Sync + std::fmt::Debug {
    /// `entries` were committed as seqs `first_seq ..` (in order) at `time_ms`.
    fn committed(&self, first_seq: u64, time_ms: u64, entries: Vec<Entry>);
}

/// A sink that also takes processing records: everything one request produced, committed
/// together (the access record and one processing record per data subject).
pub trait EntrySink: AuditSink {
    /// Queues `entries` (kept contiguous and in order); resolves when they are durable.
    fn commit_entries(&self, entries: Vec<Entry>) -> CommitFuture<'_>;
    /// Counters for metrics.
    fn stats(&self) -> GroupCommitStats;
    /// At shutdown, after the last request: checkpoint the head (and hand it to the witness).
    fn close(&self) -> CommitFuture<'_> {
        Box::pin(async { Ok(()) })
    }
}

/// A snapshot of a sink's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCommitStats {
    /// Entries queued or being written.
    pub queue_depth: usize,
    /// Entries in the last transaction.
    pub last_batch_size: u64,
    /// Largest transaction so far, in entries.
    pub max_batch_size: u64,
    /// Duration of the last append, in microseconds.
    pub last_commit_micros: u64,
    /// Time spent appending since start, in microseconds (its rate is the writer's utilisation).
    pub busy_micros: u64,
    /// Entries committed since start.
    pub total_committed: u64,
    /// Transactions committed since start.
    pub total_batches: u64,
    /// Transactions that failed since start.
    pub failed_batches: u64,
    /// Commits refused because the queue was full.
    pub rejected: u64,
    pub ready: bool,
    /// The last seq this writer appended (or found at start).
    pub head_seq: u64,
    /// The seq of the last checkpoint this writer signed (cadence, on demand, shutdown).
    pub checkpoint_seq: u64,
    /// Whether checkpoints are published to a witness.
    pub witness: bool,
    /// The seq of the last checkpoint the witness took.
    pub witnessed_seq: u64,
    /// When the witness last took a checkpoint (ms since the Unix epoch; 0: never).
    pub witnessed_at_ms: u64,
    /// Checkpoints the witness refused.
    pub witness_failures: u64,
    /// Whether the store keeps derived indexes off the commit path (SQLite's index beside the
    /// log), whose lag `indexed_seq` reports.
    pub indexed: bool,
    /// The last seq those indexes covered when the writer last asked (about once a second).
    pub indexed_seq: u64,
    /// Transactions by size: `batch_sizes[i]` counts the transactions of at most
    /// [`BATCH_BUCKETS`]`[i]` entries (and more than the bucket before); the last counts the rest.
    pub batch_sizes: [u64; BATCH_BUCKETS.len() + 1],
}

/// How often the writer asks the store how far its derived indexes reach.
const INDEX_CHECK_EVERY: Duration = Duration::from_secs(1);

/// Upper bounds of the transaction-size histogram ([`GroupCommitStats::batch_sizes`]).
pub const BATCH_BUCKETS: [u64; 10] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024];

impl GroupCommitStats {
    /// Entries committed that no witnessed checkpoint covers yet: what could be cut off the tail
    /// unnoticed by the witness.
    pub fn unwitnessed(&self) -> u64 {
        self.head_seq.saturating_sub(self.witnessed_seq)
    }

    /// Entries committed that the store's derived indexes do not cover yet (queries scan them).
    pub fn unindexed(&self) -> u64 {
        self.head_seq.saturating_sub(self.indexed_seq)
    }
}

#[derive(Debug, Default)]
struct Counters {
    depth: AtomicUsize,
    last_batch: AtomicU64,
    max_batch: AtomicU64,
    last_micros: AtomicU64,
    busy_micros: AtomicU64,
    committed: AtomicU64,
    batches: AtomicU64,
    failed: AtomicU64,
    rejected: AtomicU64,
    healthy: AtomicBool,
    head_seq: AtomicU64,
    checkpoint_seq: AtomicU64,
    witness: AtomicBool,
    witnessed_seq: AtomicU64,
    witnessed_at_ms: AtomicU64,
    witness_failures: AtomicU64,
    indexed: AtomicBool,
    indexed_seq: AtomicU64,
    batch_sizes: [AtomicU64; BATCH_BUCKETS.len() + 1],
}

type Ack = oneshot::Sender<Result<(), String>>;

enum Msg {
    /// Entries to commit, and their encoding (made by the committer, not the writer).
    Commit(Vec<Entry>, Vec<Encoded>, Ack),
    Checkpoint(oneshot::Sender<Result<Option<Checkpoint>, String>>),
    /// Shutdown: checkpoint (and witness) the head; the writer then waits for the last sender.
    Close(Ack),
}

/// Group commit in front of any [`AuditStore`]. The store type is erased: the proxy holds an
/// `Arc<dyn EntrySink>` and never knows which store is behind it.
#[derive(Debug)]
pub struct GroupCommitSink {
    tx: Sender<Msg>,
    counters: Arc<Counters>,
    capacity: usize,
}

impl GroupCommitSink {
    /// Starts the writer thread, which owns `store`.
    pub fn start<S: AuditStore + 'static>(
        store: S,
        config: GroupCommitConfig,
    ) -> Result<Self, AuditError> {
        Self::start_witnessed(store, config, None)
    }

    /// The same, publishing every checkpoint the writer signs to `witness`.
    pub fn start_witnessed<S: AuditStore + 'static>(
        store: S,
        config: GroupCommitConfig,
        witness: Option<Box<dyn Witness>>,
    ) -> Result<Self, AuditError> {
        let (tx, rx) = channel::<Msg>();
        let counters = Arc::new(Counters::default());
        counters.healthy.store(true, Ordering::Relaxed);
        counters.witness.store(witness.is_some(), Ordering::Relaxed);
        let c = Arc::clone(&counters);
        let cfg = config.clone();
        std::thread::Builder::new()
            .name("sluis-audit-commit".into())
            .spawn(move || writer(store, rx, c, cfg, witness))
            .map_err(|e| AuditError::Unavailable(e.to_string()))?;
        Ok(GroupCommitSink {
            tx,
            counters,
            capacity: config.capacity.max(1),
        })
    }

    /// Opens the store on the writer thread itself and starts committing. Use this for stores
    /// that must not be created or used inside an async runtime (the PostgreSQL store drives its
    /// own): it blocks the caller only until `open` returns, and returns its error.
    pub fn open_with<S, F>(open: F, config: GroupCommitConfig) -> Result<Self, AuditError>
    where
        S: AuditStore + 'static,
        F: FnOnce() -> Result<S, AuditError> + Send + 'static,
    {
        Self::open_witnessed(open, config, None)
    }

    /// [`open_with`](Self::open_with), publishing every checkpoint the writer signs to
    /// `witness`.
    pub fn open_witnessed<S, F>(
        open: F,
        config: GroupCommitConfig,
        witness: Option<Box<dyn Witness>>,
    ) -> Result<Self, AuditError>
    where
        S: AuditStore + 'static,
        F: FnOnce() -> Result<S, AuditError> + Send + 'static,
    {
        let (tx, rx) = channel::<Msg>();
        let counters = Arc::new(Counters::default());
        counters.healthy.store(true, Ordering::Relaxed);
        counters.witness.store(witness.is_some(), Ordering::Relaxed);
        let c = Arc::clone(&counters);
        let cfg = config.clone();
        let (opened_tx, opened_rx) = std::sync::mpsc::sync_channel::<Result<(), AuditError>>(1);
        std::thread::Builder::new()
            .name("sluis-audit-commit".into())
            .spawn(move || match open() {
                Ok(store) => {
                    let _ = opened_tx.send(Ok(()));
                    writer(store, rx, c, cfg, witness);
                }
                Err(e) => {
                    let _ = opened_tx.send(Err(e));
                }
            })
            .map_err(|e| AuditError::Unavailable(e.to_string()))?;
        opened_rx.recv().map_err(|_| AuditError::Stopped)??;
        Ok(GroupCommitSink {
            tx,
            counters,
            capacity: config.capacity.max(1),
        })
    }

    /// Reserves room for `n` entries, or refuses.
    fn reserve(&self, n: usize) -> Result<(), AuditError> {
        let cap = self.capacity;
        self.counters
            .depth
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| {
                d.checked_add(n).filter(|&t| t <= cap)
            })
            .map(|_| ())
            .map_err(|_| {
                self.counters.rejected.fetch_add(1, Ordering::Relaxed);
                AuditError::QueueFull
            })
    }

    /// Signs a checkpoint of the current head through the writer thread (so it orders with the
    /// appends). `None` when the log is empty or no key is configured.
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>, AuditError> {
        let (ack, wait) = oneshot::channel();
        self.tx
            .send(Msg::Checkpoint(ack))
            .map_err(|_| AuditError::Stopped)?;
        match wait.await {
            Ok(Ok(cp)) => Ok(cp),
            Ok(Err(e)) => Err(AuditError::Unavailable(e)),
            Err(_) => Err(AuditError::Stopped),
        }
    }

    /// Entries in the last transaction.
    pub fn last_batch_size(&self) -> u64 {
        self.counters.last_batch.load(Ordering::Relaxed)
    }

    /// Duration of the last append in microseconds.
    pub fn last_commit_micros(&self) -> u64 {
        self.counters.last_micros.load(Ordering::Relaxed)
    }

    /// Entries committed since start.
    pub fn total_committed(&self) -> u64 {
        self.counters.committed.load(Ordering::Relaxed)
    }
}

impl EntrySink for GroupCommitSink {
    fn commit_entries(&self, entries: Vec<Entry>) -> CommitFuture<'_> {
        let (ack, wait) = oneshot::channel();
        let n = entries.len();
        let sent = if n == 0 {
            let _ = ack.send(Ok(()));
            Ok(())
        } else {
            // Encoding does not depend on the chain's head: it is done here, on the committer's
            // thread, so that the one writer only links, inserts and commits.
            encode(&entries)
                .and_then(|encoded| self.reserve(n).map(|()| encoded))
                .and_then(|encoded| {
                    self.tx
                        .send(Msg::Commit(entries, encoded, ack))
                        .map_err(|_| {
                            self.counters.depth.fetch_sub(n, Ordering::AcqRel);
                            AuditError::Stopped
                        })
                })
        };
        Box::pin(async move {
            sent?;
            match wait.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(AuditError::Unavailable(e)),
                Err(_) => Err(AuditError::Stopped),
            }
        })
    }

    fn stats(&self) -> GroupCommitStats {
        let c = &self.counters;
        GroupCommitStats {
            queue_depth: c.depth.load(Ordering::Relaxed),
            last_batch_size: c.last_batch.load(Ordering::Relaxed),
            max_batch_size: c.max_batch.load(Ordering::Relaxed),
            last_commit_micros: c.last_micros.load(Ordering::Relaxed),
            busy_micros: c.busy_micros.load(Ordering::Relaxed),
            total_committed: c.committed.load(Ordering::Relaxed),
            total_batches: c.batches.load(Ordering::Relaxed),
            failed_batches: c.failed.load(Ordering::Relaxed),
            rejected: c.rejected.load(Ordering::Relaxed),
            ready: c.healthy.load(Ordering::Relaxed),
            head_seq: c.head_seq.load(Ordering::Relaxed),
            checkpoint_seq: c.checkpoint_seq.load(Ordering::Relaxed),
            witness: c.witness.load(Ordering::Relaxed),
            witnessed_seq: c.witnessed_seq.load(Ordering::Relaxed),
            witnessed_at_ms: c.witnessed_at_ms.load(Ordering::Relaxed),
            witness_failures: c.witness_failures.load(Ordering::Relaxed),
            indexed: c.indexed.load(Ordering::Relaxed),
            indexed_seq: c.indexed_seq.load(Ordering::Relaxed),
            batch_sizes: std::array::from_fn(|i| {
                c.batch_sizes
                    .get(i)
                    .map_or(0, |b| b.load(Ordering::Relaxed))
            }),
        }
    }

    fn close(&self) -> CommitFuture<'_> {
        let (ack, wait) = oneshot::channel();
        let sent = self.tx.send(Msg::Close(ack));
        Box::pin(async move {
            sent.map_err(|_| AuditError::Stopped)?;
            match wait.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(AuditError::Unavailable(e)),
                Err(_) => Err(AuditError::Stopped),
            }
        })
    }
}

impl AuditSink for GroupCommitSink {
    fn commit(&self, record: AccessRecord) -> CommitFuture<'_> {
        self.commit_entries(vec![Entry::Access(record)])
    }

    fn ready(&self) -> bool {
        self.counters.healthy.load(Ordering::Relaxed)
    }

    fn queue_depth(&self) -> usize {
        self.counters.depth.load(Ordering::Relaxed)
    }
}

/// The writer's checkpoint cadence and witness.
struct Cadence {
    interval: Option<Duration>,
    witness: Option<Box<dyn Witness>>,
    /// When the cadence last signed (or, at start, a time long enough ago to sign at once).
    last: Instant,
}

impl Cadence {
    /// The seq up to which the cadence's work is done: witnessed when there is a witness,
    /// checkpointed otherwise.
    fn covered(&self, counters: &Counters) -> u64 {
        if self.witness.is_some() {
            counters.witnessed_seq.load(Ordering::Relaxed)
        } else {
            counters.checkpoint_seq.load(Ordering::Relaxed)
        }
    }

    /// Entries wait that no checkpoint (or, with a witness, no witnessed checkpoint) covers.
    fn pending(&self, counters: &Counters) -> bool {
        counters.head_seq.load(Ordering::Relaxed) > self.covered(counters)
    }

    /// How long the writer may wait for the next message before the cadence is due; `None`
    /// when nothing waits to be checkpointed.
    fn due_in(&self, counters: &Counters) -> Option<Duration> {
        let interval = self.interval?;
        self.pending(counters)
            .then(|| interval.saturating_sub(self.last.elapsed()))
    }

    /// Signs a checkpoint of the head and publishes it.
    fn checkpoint<S: AuditStore>(
        &mut self,
        store: &mut S,
        counters: &Counters,
    ) -> Result<Option<Checkpoint>, AuditError> {
        self.last = Instant::now();
        let cp = store.checkpoint(now_ms())?;
        if cp.is_none() && counters.head_seq.load(Ordering::Relaxed) > 0 {
            // A log with entries and no checkpoint: no signing key. Nothing to do on a cadence.
            self.interval = None;
        }
        if let Some(cp) = &cp {
            counters.checkpoint_seq.fetch_max(cp.seq, Ordering::Relaxed);
            counters.head_seq.fetch_max(cp.seq, Ordering::Relaxed);
            if let Some(w) = &mut self.witness {
                match w.publish(store.chain_id(), cp) {
                    Ok(()) => {
                        counters.witnessed_seq.fetch_max(cp.seq, Ordering::Relaxed);
                        counters.witnessed_at_ms.store(now_ms(), Ordering::Relaxed);
                    }
                    Err(_) => {
                        counters.witness_failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        Ok(cp)
    }
}

fn writer<S: AuditStore>(
    mut store: S,
    rx: Receiver<Msg>,
    counters: Arc<Counters>,
    cfg: GroupCommitConfig,
    witness: Option<Box<dyn Witness>>,
) {
    let max_batch = cfg.max_batch.max(1);
    let mut carry: Option<Msg> = None;
    let mut index_checked: Option<Instant> = None;
    if let Ok(Some((seq, _))) = store.head() {
        counters.head_seq.store(seq, Ordering::Relaxed);
    }
    let interval = cfg.checkpoint_interval.filter(|d| !d.is_zero());
    let mut cadence = Cadence {
        interval,
        witness,
        // A head found at start is checkpointed at once: a crash may have left it uncovered.
        last: interval
            .and_then(|d| Instant::now().checked_sub(d))
            .unwrap_or_else(Instant::now),
    };
    loop {
        let healthy = counters.healthy.load(Ordering::Relaxed);
        let first = match carry.take() {
            Some(m) => m,
            None if healthy => {
                let received = match cadence.due_in(&counters) {
                    Some(wait) => rx.recv_timeout(wait),
                    None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                };
                match received {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => {
                        if cadence.checkpoint(&mut store, &counters).is_err() {
                            counters.healthy.store(false, Ordering::Relaxed);
                        }
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        if cadence.pending(&counters) {
                            let _ = cadence.checkpoint(&mut store, &counters);
                        }
                        return;
                    }
                }
            }
            None => match rx.recv_timeout(cfg.recheck) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    if store.ready() {
                        counters.healthy.store(true, Ordering::Relaxed);
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            },
        };
        let (mut entries, mut encoded, mut acks) = match first {
            Msg::Checkpoint(ack) => {
                let r = cadence
                    .checkpoint(&mut store, &counters)
                    .map_err(|e| e.to_string());
                let _ = ack.send(r);
                continue;
            }
            Msg::Close(ack) => {
                let r = if cadence.pending(&counters) {
                    cadence
                        .checkpoint(&mut store, &counters)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                } else {
                    Ok(())
                };
                let _ = ack.send(r);
                continue;
            }
            Msg::Commit(entries, encoded, ack) => (entries, encoded, vec![(ack, 0usize)]),
        };
        if let Some((_, n)) = acks.last_mut() {
            *n = entries.len();
        }
        // Take whatever else is queued, up to the batch limit; a checkpoint request waits for the
        // next round so that it signs after this batch.
        while entries.len() < max_batch {
            match rx.try_recv() {
                Ok(Msg::Commit(more, more_encoded, ack)) => {
                    acks.push((ack, more.len()));
                    entries.extend(more);
                    encoded.extend(more_encoded);
                }
                Ok(other) => {
                    carry = Some(other);
                    break;
                }
                Err(_) => break,
            }
        }
        let n = entries.len();
        let started = Instant::now();
        let time_ms = now_ms();
        let result = store.append_encoded(encoded, time_ms);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        counters.last_micros.store(micros, Ordering::Relaxed);
        counters.busy_micros.fetch_add(micros, Ordering::Relaxed);
        counters.depth.fetch_sub(n, Ordering::AcqRel);
        let first_seq = result.as_ref().ok().map(|(first, _)| *first);
        let outcome = match result {
            Ok((_, last)) => {
                let n64 = n as u64;
                counters.head_seq.fetch_max(last, Ordering::Relaxed);
                if index_checked.is_none_or(|t: Instant| t.elapsed() >= INDEX_CHECK_EVERY) {
                    index_checked = Some(Instant::now());
                    if let Some(seq) = store.indexed_to() {
                        counters.indexed_seq.store(seq, Ordering::Relaxed);
                        counters.indexed.store(true, Ordering::Relaxed);
                    }
                }
                counters.last_batch.store(n64, Ordering::Relaxed);
                counters.max_batch.fetch_max(n64, Ordering::Relaxed);
                counters.committed.fetch_add(n64, Ordering::Relaxed);
                counters.batches.fetch_add(1, Ordering::Relaxed);
                let bucket = BATCH_BUCKETS
                    .iter()
                    .position(|b| n64 <= *b)
                    .unwrap_or(BATCH_BUCKETS.len());
                if let Some(b) = counters.batch_sizes.get(bucket) {
                    b.fetch_add(1, Ordering::Relaxed);
                }
                counters.healthy.store(true, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                counters.healthy.store(false, Ordering::Relaxed);
                Err(e.to_string())
            }
        };
        for (ack, _) in acks {
            let _ = ack.send(outcome.clone());
        }
        if let (Some(observer), Some(first)) = (&cfg.observer, first_seq) {
            observer.committed(first, time_ms, entries);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{ChainConfig, CheckpointSigner};
    use crate::store::QueryFilter;
    use crate::{MemoryStore, testing};

    /// A memory store shared with the test, that can be made to fail or slow.
    #[derive(Debug, Clone)]
    struct Shared {
        inner: MemoryStore,
        fail: Arc<AtomicBool>,
        delay: Duration,
    }

    impl AuditStore for Shared {
        fn append_encoded(
            &mut self,
            batch: Vec<Encoded>,
            now: u64,
        ) -> Result<(u64, u64), AuditError> {
            std::thread::sleep(self.delay);
            if self.fail.load(Ordering::Relaxed) {
                return Err(AuditError::Unavailable("disk full (simulated)".into()));
            }
            self.inner.append_encoded(batch, now)
        }
        fn checkpoint(&mut self, now: u64) -> Result<Option<Checkpoint>, AuditError> {
            self.inner.checkpoint(now)
        }
        fn checkpoints(&mut self) -> Result<Vec<Checkpoint>, AuditError> {
            self.inner.checkpoints()
        }
        fn head(&mut self) -> Result<Option<(u64, String)>, AuditError> {
            self.inner.head()
        }
        fn verify(&mut self, keys: &[crate::PublicKey]) -> Result<crate::VerifyReport, AuditError> {
            self.inner.verify(keys)
        }
        fn processing_by_subject(
            &mut self,
            s: &str,
            f: u64,
            t: u64,
        ) -> Result<Vec<(u64, u64, crate::ProcessingRecord)>, AuditError> {
            self.inner.processing_by_subject(s, f, t)
        }
        fn query(
            &mut self,
            f: &QueryFilter,
            l: usize,
        ) -> Result<Vec<crate::StoredEntry>, AuditError> {
            self.inner.query(f, l)
        }
        fn purge(
            &mut self,
            r: &dyn Fn(&str) -> Option<u64>,
            n: u64,
        ) -> Result<crate::PurgeRecord, AuditError> {
            self.inner.purge(r, n)
        }
        fn export(&mut self, f: u64, l: usize) -> Result<Vec<crate::StoredEntry>, AuditError> {
            self.inner.export(f, l)
        }
        fn ready(&mut self) -> bool {
            !self.fail.load(Ordering::Relaxed)
        }
    }

    fn shared(delay_ms: u64) -> Shared {
        let chain = ChainConfig {
            checkpoint_every: 0,
            signer: Some(CheckpointSigner::from_seed(&[1u8; 32])),
        };
        Shared {
            inner: MemoryStore::new(chain),
            fail: Arc::new(AtomicBool::new(false)),
            delay: Duration::from_millis(delay_ms),
        }
    }

    /// A witness that keeps what it is given, and can be made to refuse.
    #[derive(Debug, Clone, Default)]
    struct Kept {
        seen: Arc<std::sync::Mutex<Vec<(String, Checkpoint)>>>,
        refuse: Arc<AtomicBool>,
    }

    impl Witness for Kept {
        fn publish(&mut self, chain: &str, cp: &Checkpoint) -> Result<(), AuditError> {
            if self.refuse.load(Ordering::Relaxed) {
                return Err(AuditError::Unavailable(
                    "witness volume gone (simulated)".into(),
                ));
            }
            self.seen
                .lock()
                .unwrap()
                .push((chain.to_owned(), cp.clone()));
            Ok(())
        }
    }

    impl Kept {
        fn seqs(&self) -> Vec<u64> {
            self.seen
                .lock()
                .unwrap()
                .iter()
                .map(|(_, c)| c.seq)
                .collect()
        }
    }

    async fn until(what: &str, f: impl Fn() -> bool) {
        for _ in 0..200 {
            if f() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("timed out waiting for {what}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checkpoints_follow_a_time_cadence_and_shutdown_and_reach_the_witness() {
        let store = shared(0);
        let witness = Kept::default();
        let config = GroupCommitConfig {
            checkpoint_interval: Some(Duration::from_millis(50)),
            ..GroupCommitConfig::default()
        };
        let sink = GroupCommitSink::start_witnessed(
            store.clone(),
            config,
            Some(Box::new(witness.clone())),
        )
        .unwrap();
        sink.commit_entries(testing::request(1, 2)).await.unwrap();
        // Within the cadence, the head (seq 3) is checkpointed and witnessed without any
        // further request.
        until("the cadence checkpoint", || witness.seqs() == vec![3]).await;
        let st = sink.stats();
        assert_eq!((st.head_seq, st.witnessed_seq, st.unwitnessed()), (3, 3, 0));
        // Nothing new: no further checkpoint however long the writer waits.
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(witness.seqs(), vec![3]);
        // A witness that refuses is counted, and the next cadence tries again.
        witness.refuse.store(true, Ordering::Relaxed);
        sink.commit_entries(testing::request(2, 0)).await.unwrap();
        until("a refused publish", || sink.stats().witness_failures > 0).await;
        assert_eq!(sink.stats().unwitnessed(), 1);
        witness.refuse.store(false, Ordering::Relaxed);
        until("the retry", || witness.seqs() == vec![3, 4]).await;
        // At shutdown the head is checkpointed at once, not a cadence later.
        let slow = GroupCommitConfig {
            checkpoint_interval: Some(Duration::from_secs(3600)),
            ..GroupCommitConfig::default()
        };
        drop(sink);
        let sink =
            GroupCommitSink::start_witnessed(store.clone(), slow, Some(Box::new(witness.clone())))
                .unwrap();
        // The first writer, on its last sender dropped, and this one, on the head it finds at
        // start, each hand checkpoint 4 to the witness again, which is harmless; the new entry
        // waits for the shutdown checkpoint.
        until("the start checkpoint", || sink.stats().witnessed_seq == 4).await;
        sink.commit_entries(testing::request(3, 1)).await.unwrap();
        assert_eq!(sink.stats().unwitnessed(), 2);
        sink.close().await.unwrap();
        assert_eq!(witness.seqs().last(), Some(&6));
        assert_eq!(sink.stats().unwitnessed(), 0);
        let cps = store.inner.clone().checkpoints().unwrap();
        assert_eq!(cps.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![3, 4, 6]);
        let key = CheckpointSigner::from_seed(&[1u8; 32]).public_key();
        assert!(
            witness
                .seen
                .lock()
                .unwrap()
                .iter()
                .all(|(chain, c)| chain.is_empty() && key.verifies(c))
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_commits_are_batched_and_kept_together() {
        let store = shared(2);
        let sink =
            Arc::new(GroupCommitSink::start(store.clone(), GroupCommitConfig::default()).unwrap());
        let mut tasks = Vec::new();
        for i in 0..100 {
            let s = Arc::clone(&sink);
            tasks.push(tokio::spawn(async move {
                s.commit_entries(testing::request(i, 2)).await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let stats = sink.stats();
        assert_eq!(stats.total_committed, 300);
        assert_eq!(stats.queue_depth, 0);
        assert!(stats.max_batch_size > 3, "{stats:?}");
        assert!(stats.total_batches < 100, "{stats:?}");
        // Every transaction is in the size histogram, and some held more than one request.
        assert_eq!(stats.batch_sizes.iter().sum::<u64>(), stats.total_batches);
        assert!(
            stats.batch_sizes.iter().skip(2).sum::<u64>() > 0,
            "{stats:?}"
        );
        let mut m = store.inner.clone();
        assert!(m.verify(&[]).unwrap().is_ok());
        // Each request's entries are contiguous: access then its processing records.
        for i in 0..100u64 {
            let f = QueryFilter {
                trace_id: Some(testing::trace_id(i)),
                ..QueryFilter::default()
            };
            let seqs: Vec<u64> = m.query(&f, 10).unwrap().iter().map(|e| e.seq).collect();
            assert_eq!(seqs.len(), 3);
            assert_eq!(seqs[2] - seqs[0], 2);
        }
    }

    #[tokio::test]
    async fn access_commit_and_on_demand_checkpoint() {
        let store = shared(0);
        let sink = GroupCommitSink::start(store.clone(), GroupCommitConfig::default()).unwrap();
        assert_eq!(sink.checkpoint().await.unwrap(), None);
        sink.commit(testing::access(1)).await.unwrap();
        let cp = sink.checkpoint().await.unwrap().unwrap();
        assert_eq!(cp.seq, 1);
        assert!(sink.ready());
        assert_eq!(sink.total_committed(), 1);
        assert_eq!(sink.last_batch_size(), 1);
    }

    #[tokio::test]
    async fn open_with_opens_on_the_writer_thread_and_reports_errors() {
        let sink = GroupCommitSink::open_with(
            || Ok(MemoryStore::new(ChainConfig::default())),
            GroupCommitConfig::default(),
        )
        .unwrap();
        sink.commit(testing::access(1)).await.unwrap();
        let err = GroupCommitSink::open_with(
            || -> Result<MemoryStore, AuditError> {
                Err(AuditError::Unavailable("no database".into()))
            },
            GroupCommitConfig::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("no database"));
    }

    #[tokio::test]
    async fn full_queue_refuses_at_once() {
        let store = shared(200);
        let cfg = GroupCommitConfig {
            capacity: 4,
            ..GroupCommitConfig::default()
        };
        let sink = GroupCommitSink::start(store, cfg).unwrap();
        let first = sink.commit_entries(testing::request(1, 2));
        let second = sink.commit_entries(testing::request(2, 2));
        assert!(matches!(second.await, Err(AuditError::QueueFull)));
        assert!(matches!(
            sink.commit_entries(testing::request(3, 9)).await,
            Err(AuditError::QueueFull)
        ));
        first.await.unwrap();
        assert_eq!(sink.stats().rejected, 2);
        assert_eq!(sink.queue_depth(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failed_append_fails_every_waiter_and_marks_not_ready() {
        let store = shared(5);
        let cfg = GroupCommitConfig {
            recheck: Duration::from_millis(20),
            ..GroupCommitConfig::default()
        };
        let sink = Arc::new(GroupCommitSink::start(store.clone(), cfg).unwrap());
        store.fail.store(true, Ordering::Relaxed);
        let mut tasks = Vec::new();
        for i in 0..20 {
            let s = Arc::clone(&sink);
            tasks.push(tokio::spawn(async move {
                s.commit_entries(testing::request(i, 1)).await
            }));
        }
        for t in tasks {
            assert!(matches!(t.await.unwrap(), Err(AuditError::Unavailable(_))));
        }
        assert!(!sink.ready());
        assert!(sink.stats().failed_batches >= 1);
        assert_eq!(sink.queue_depth(), 0);
        // The store recovers: the writer notices without traffic.
        store.fail.store(false, Ordering::Relaxed);
        for _ in 0..100 {
            if sink.ready() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(sink.ready());
        sink.commit_entries(testing::request(99, 1)).await.unwrap();
        assert_eq!(store.inner.clone().head().unwrap().unwrap().0, 2);
    }
}
