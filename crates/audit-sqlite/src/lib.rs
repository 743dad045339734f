//! The embedded SQLite [`AuditStore`]: sluis's default audit log, one file per deployment.
//!
//! The database runs in WAL mode with `synchronous=FULL`, so a committed batch is on disk before
//! `append` returns (and so before any response it covers is released). Writers take the write
//! lock up front (`BEGIN IMMEDIATE`) and wait up to the busy timeout for it, so the group-commit
//! writer, `sluis audit purge` and on-demand checkpoints from other processes serialise cleanly;
//! readers (verify, queries, export) read one consistent WAL snapshot without blocking them.
//!
//! Errors are [`AuditError`]s (`Unavailable` for database failures, `Invalid` for rows that do
//! not decode): the store is only ever used through the trait, so this crate has no error enum of
//! its own. Messages name the failing operation, never a value.

use std::path::{Path, PathBuf};
use std::time::Duration;

mod index;
pub use index::{IndexBuild, IndexConfig, IndexProgress, index_path};

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use sluis_audit::{
    AuditError, AuditStore, ChainConfig, Checkpoint, Entry, EntryKind, IndexReport, PublicKey,
    PurgePlanner, PurgeRecord, QueryFilter, RawRow, RowSource, StoredEntry, VerifyReport,
    chain::{Encoded, GENESIS_HASH, field_sets_of, from_hex, link, seal, to_hex},
    fieldset::FieldSetSource,
    verify_log_with,
};

/// Schema migrations, in order; `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: the log and its checkpoints.
    "CREATE TABLE entries (
        seq       INTEGER PRIMARY KEY,
        time_ms   INTEGER NOT NULL,
        kind      TEXT NOT NULL,
        trace_id  TEXT,
        activity  TEXT,
        subject   TEXT,
        body      TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
     );
     CREATE INDEX entries_subject_time ON entries (subject, time_ms);
     CREATE INDEX entries_trace ON entries (trace_id);
     CREATE INDEX entries_activity_time ON entries (activity, time_ms);
     CREATE TABLE checkpoints (
        seq       INTEGER PRIMARY KEY,
        hash      TEXT NOT NULL,
        time_ms   INTEGER NOT NULL,
        signature TEXT NOT NULL
     );",
    // 2: the subject index holds only entries with a subject (processing records): access
    // records, most of the log, no longer add an index entry each.
    "DROP INDEX entries_subject_time;
     CREATE INDEX entries_subject_time ON entries (subject, time_ms) WHERE subject IS NOT NULL;",
    // 3: field sets, the interned field lists of processing records (sluis_audit::fieldset).
    "CREATE TABLE field_sets (
        id    TEXT PRIMARY KEY,
        paths TEXT NOT NULL
     ) WITHOUT ROWID;",
    // 4: the supervision pages read alerts and their handling by period: two partial indexes,
    // as small as the alerts are few, none for the access and processing records.
    "CREATE INDEX entries_alerts ON entries (seq) WHERE kind = 'alert';
     CREATE INDEX entries_handling ON entries (seq) WHERE kind = 'handling';",
    // 5: compact rows. Hashes as 32-byte blobs; `prev_hash` NULL where it is the hash of the
    // entry at seq - 1 (or genesis at seq 1), which is every entry but the first after a purge;
    // a W3C trace id (32 lowercase hex digits) as its 16 bytes (any other stays text); and (for
    // entries written from now on) a body without the members its columns hold
    // (sluis_audit::stored). A value that is not hex (a tampered row) is kept as it is, for
    // verification to report.
    "CREATE TABLE entries_v5 (
        seq       INTEGER PRIMARY KEY,
        time_ms   INTEGER NOT NULL,
        kind      TEXT NOT NULL,
        trace_id  TEXT,
        activity  TEXT,
        subject   TEXT,
        body      TEXT NOT NULL,
        prev_hash BLOB,
        hash      BLOB NOT NULL
     );
     INSERT INTO entries_v5
        SELECT e.seq, e.time_ms, e.kind,
               CASE WHEN length(e.trace_id) = 32 AND e.trace_id NOT GLOB '*[^0-9a-f]*'
                    THEN unhex(e.trace_id) ELSE e.trace_id END,
               e.activity, e.subject, e.body,
               CASE WHEN (e.seq = 1 AND e.prev_hash = '0000000000000000000000000000000000000000000000000000000000000000')
                      OR e.prev_hash = p.hash
                    THEN NULL ELSE COALESCE(unhex(e.prev_hash), e.prev_hash) END,
               COALESCE(unhex(e.hash), e.hash)
        FROM entries e LEFT JOIN entries p ON p.seq = e.seq - 1;
     DROP TABLE entries;
     ALTER TABLE entries_v5 RENAME TO entries;
     CREATE INDEX entries_subject_time ON entries (subject, time_ms) WHERE subject IS NOT NULL;
     CREATE INDEX entries_trace ON entries (trace_id);
     CREATE INDEX entries_activity_time ON entries (activity, time_ms);
     CREATE INDEX entries_alerts ON entries (seq) WHERE kind = 'alert';
     CREATE INDEX entries_handling ON entries (seq) WHERE kind = 'handling';",
    // 6: the trace index holds access records only. A request's processing records are
    // committed with its access record, in the same transaction, right after it; a query by
    // trace finds them as the rows that follow it with the same trace id. One index entry per
    // request instead of one per record: random trace ids put each in a leaf page of its own,
    // so this is most of what a commit writes besides the rows.
    "DROP INDEX entries_trace;
     CREATE INDEX entries_trace ON entries (trace_id) WHERE kind = 'access';",
    // 7: the subject and trace indexes move out of the commit, into the index database beside
    // the log (the `index` module), built in sorted runs: a commit no longer writes a random
    // leaf page per record. Until the index has caught up, queries scan the rows it lacks.
    "DROP INDEX entries_subject_time;
     DROP INDEX entries_trace;",
];

/// The schema version this crate migrates a database to.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

const ROW_COLUMNS: &str = "seq, time_ms, kind, trace_id, activity, subject, body, prev_hash, hash";

/// How to open a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    pub path: PathBuf,
    pub chain: ChainConfig,
    /// How long a writer waits for another writer's lock before failing.
    pub busy_timeout: Duration,
    /// Move the WAL into the database on a thread of its own (every `interval`), instead of in
    /// the commit that happens to fill it: the writer never waits for a WAL checkpoint. For the
    /// store requests commit to; `None` leaves SQLite's automatic checkpoints on.
    pub background_checkpoint: Option<Duration>,
    /// The subject and trace index beside the log (the `index` module).
    pub index: IndexConfig,
}

impl SqliteConfig {
    /// A configuration with the default busy timeout (5 s).
    pub fn new(path: impl Into<PathBuf>, chain: ChainConfig) -> Self {
        SqliteConfig {
            path: path.into(),
            chain,
            busy_timeout: Duration::from_secs(5),
            background_checkpoint: None,
            index: IndexConfig::default(),
        }
    }
}

/// A thread that runs a task every interval, and once more when stopped; stopped and joined
/// when it drops. The store's WAL checkpointer and index builder.
#[derive(Debug)]
struct Periodic {
    stop: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Periodic {
    fn start(
        name: &str,
        every: Duration,
        mut task: impl FnMut() + Send + 'static,
    ) -> Result<Self, AuditError> {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                lower_priority();
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(every)
                {
                    task();
                }
                task();
            })
            .map_err(|e| AuditError::Unavailable(format!("{name}: {e}")))?;
        Ok(Periodic {
            stop,
            thread: Some(thread),
        })
    }

    /// The thread that checkpoints the WAL for a writer.
    fn checkpointer(path: &Path, every: Duration, busy: Duration) -> Result<Self, AuditError> {
        let conn = Connection::open(path).map_err(db("checkpointer"))?;
        conn.busy_timeout(busy).map_err(db("checkpointer"))?;
        // PASSIVE: copy what no reader still needs, never block the writer. When it completes,
        // the writer's next transaction starts the WAL over, so the WAL stays as small as one
        // interval of commits.
        Periodic::start("sluis-audit-wal", every, move || {
            let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        })
    }
}

/// Gives the calling thread the nice value [`BACKGROUND_NICE`]: the WAL checkpointer and the
/// index builder are work that can wait, and a run built on the cores the requests need showed
/// in their latency. Best effort: where it cannot be set, the thread runs at the usual priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let tid = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(tid), BACKGROUND_NICE) {
            tracing::debug!(error = %e, "audit background thread: nice value not set");
        }
    }
}

/// The nice value of the store's background threads (0 is the default, 19 the lowest).
const BACKGROUND_NICE: i32 = 10;

impl Drop for Periodic {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An audit log in one SQLite database file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    chain: ChainConfig,
    path: PathBuf,
    _checkpointer: Option<Periodic>,
    /// Commits since the writer last completed a checkpoint itself (background mode only).
    commits_since_completion: u32,
    /// Field sets and shapes this connection has seen committed: not written again.
    known_sets: std::collections::HashSet<String>,
    /// The index beside the log, for verification, on-demand builds and (with
    /// [`IndexBuild::AfterAppend`]) builds after each commit.
    index: index::Index,
    index_after_append: bool,
    _index_thread: Option<Periodic>,
    /// The connection queries read through, with the index attached as `idx`; opened on the
    /// first query. (Not `conn`: a writer's `BEGIN IMMEDIATE` would lock the index too.)
    reader: Option<Connection>,
    /// The access records after the index's runs by trace id, as the reader last read them.
    tail: Option<TailMemo>,
}

/// At most this many ids are remembered in [`SqliteStore::known_sets`]; past it the memory
/// starts over (a forgotten id costs one `INSERT OR IGNORE`).
const KNOWN_SETS_LIMIT: usize = 100_000;

/// With a background checkpointer, the writer itself runs a PASSIVE checkpoint every this many
/// commits. The thread copies the bulk of the WAL while commits go on, but under a steady stream
/// of commits its checkpoint never catches the WAL's end, and SQLite starts the WAL over only
/// after a checkpoint that did: the writer's own, between two of its transactions, finds little
/// left to copy and completes, so the WAL stays bounded however steady the load.
const COMPLETE_CHECKPOINT_EVERY: u32 = 256;

fn db(op: &str) -> impl Fn(rusqlite::Error) -> AuditError + '_ {
    move |e| AuditError::Unavailable(format!("sqlite {op}: {e}"))
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path, chain: ChainConfig) -> Result<Self, AuditError> {
        Self::open_with(SqliteConfig::new(path, chain))
    }

    /// Opens with explicit settings.
    pub fn open_with(config: SqliteConfig) -> Result<Self, AuditError> {
        if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| AuditError::Unavailable(format!("audit directory: {e}")))?;
        }
        let mut conn = Connection::open(&config.path).map_err(db("open"))?;
        conn.busy_timeout(config.busy_timeout)
            .map_err(db("busy_timeout"))?;
        let mode = wal_mode(&conn, config.busy_timeout)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(AuditError::Unavailable(format!(
                "sqlite: WAL mode not available (journal_mode is {mode})"
            )));
        }
        conn.execute_batch("PRAGMA synchronous = FULL;")
            .map_err(db("synchronous"))?;
        migrate(&mut conn)?;
        let index = index::Index::open(&config.path, config.index.clone(), config.busy_timeout)?;
        let mut store = SqliteStore {
            conn,
            chain: config.chain,
            path: config.path,
            _checkpointer: None,
            commits_since_completion: 0,
            known_sets: std::collections::HashSet::new(),
            index,
            index_after_append: config.index.build == IndexBuild::AfterAppend,
            _index_thread: None,
            reader: None,
            tail: None,
        };
        if let IndexBuild::Background(every) = config.index.build {
            let own = index::Index::open(&store.path, config.index.clone(), config.busy_timeout)?;
            store._index_thread = Some(Periodic::start("sluis-audit-index", every, own.builder())?);
        }
        if let Some(every) = config.background_checkpoint {
            store
                .conn
                .execute_batch("PRAGMA wal_autocheckpoint = 0;")
                .map_err(db("wal_autocheckpoint"))?;
            store._checkpointer = Some(Periodic::checkpointer(
                &store.path,
                every,
                config.busy_timeout,
            )?);
        }
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<u32, AuditError> {
        self.conn
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                [],
                |r| r.get(0),
            )
            .map_err(db("schema_version"))
    }

    /// Builds the index runs the tail has grown enough for (with `partial`, also one of the
    /// rest), merges what is due and drops runs the log no longer holds: what a writer's index
    /// thread does, for a store that has none.
    pub fn build_index(&mut self, partial: bool) -> Result<IndexProgress, AuditError> {
        self.index.build(partial)
    }

    /// Clears the index: queries scan the whole log until it is built again (by the writer's
    /// index thread, or [`SqliteStore::build_index`]).
    pub fn rebuild_index(&mut self) -> Result<(), AuditError> {
        self.index.clear()
    }

    /// The connection queries read through.
    fn reader(&mut self) -> Result<&Connection, AuditError> {
        if self.reader.is_none() {
            let conn = Connection::open(&self.path).map_err(db("open reader"))?;
            conn.busy_timeout(Duration::from_secs(5))
                .map_err(db("open reader"))?;
            conn.execute(
                "ATTACH DATABASE ?1 AS idx",
                params![index_path(&self.path).to_string_lossy()],
            )
            .map_err(db("open reader"))?;
            self.reader = Some(conn);
        }
        self.reader
            .as_ref()
            .ok_or_else(|| AuditError::Unavailable("sqlite reader".into()))
    }
}

/// The seqs of a query's rows in the tail after the index's runs, as SQL: those the memo holds
/// (`remembered`: a JSON array, and the last seq the memo has read) and the rows after it, or
/// (without a memo) a scan of the whole tail; `cond` selects the rows (over `x`).
fn tail_branch(q: &mut Where, remembered: Option<(String, u64)>, cond: &str) -> String {
    match remembered {
        Some((json, memo_to)) => {
            q.args.push(SqlValue::Text(json));
            let seqs = q.args.len();
            q.args.push(SqlValue::Integer(
                i64::try_from(memo_to).unwrap_or(i64::MAX),
            ));
            let to = q.args.len();
            format!(
                "SELECT value FROM json_each(?{seqs}) \
                 UNION ALL SELECT x.seq FROM entries x WHERE x.seq > ?{to} AND {cond}"
            )
        }
        _ => format!(
            "SELECT x.seq FROM entries x \
             WHERE x.seq > (SELECT COALESCE(MAX(last_seq), 0) FROM idx.runs) AND {cond}"
        ),
    }
}

/// A stored trace id as the tail memo keys it: its last 8 bytes (blob or text alike), as the
/// index keys it (`index`); the query checks the whole value on the row.
fn memo_key(bytes: &[u8]) -> u64 {
    let mut key = [0u8; 8];
    let tail = bytes
        .get(bytes.len().saturating_sub(8)..)
        .unwrap_or_default();
    key.get_mut(8 - tail.len()..)
        .unwrap_or_default()
        .copy_from_slice(tail);
    u64::from_be_bytes(key)
}

fn value_bytes(v: &SqlValue) -> Option<&[u8]> {
    match v {
        SqlValue::Blob(b) => Some(b),
        SqlValue::Text(t) => Some(t.as_bytes()),
        _ => None,
    }
}

/// The access records of the tail after the index's runs (up to 16,384 rows once the index has
/// caught up) by trace id, as a reader last read them. A page of the supervision UI looks up the
/// request of every row it shows, one query by trace each: with the memo it reads the tail once,
/// and then only the rows added since, instead of scanning it in every query.
#[derive(Debug)]
struct TailMemo {
    /// The memo holds the access records after `from` up to `to`; `from` is where the runs
    /// ended when it was started, and never after where they end now ([`refresh_tail`]).
    from: u64,
    to: u64,
    rows: usize,
    traces: std::collections::HashMap<u64, Vec<u64>>,
}

/// A tail longer than this is not kept in memory: the query scans it.
const TAIL_MEMO_ROWS: u64 = 1_000_000;

impl TailMemo {
    /// The seqs of the access records whose trace id may be `value`, as a JSON array.
    fn seqs(&self, value: &SqlValue) -> String {
        let found = value_bytes(value).and_then(|b| self.traces.get(&memo_key(b)));
        let list: Vec<String> = found.into_iter().flatten().map(u64::to_string).collect();
        format!("[{}]", list.join(","))
    }
}

/// Brings `memo` up to the log's head as `conn`'s transaction sees it. It starts over when the
/// runs now end before it starts (the index was cleared) or, once it holds more than two runs'
/// worth, after the runs have moved past its start. `None` when the tail is too long to keep.
fn refresh_tail<'m>(
    conn: &Connection,
    memo: &'m mut Option<TailMemo>,
) -> Result<Option<&'m TailMemo>, AuditError> {
    let indexed = index::indexed_to(conn, "idx")?;
    let head: u64 = conn
        .query_row("SELECT COALESCE(MAX(seq), 0) FROM entries", [], |r| {
            r.get(0)
        })
        .map_err(db("query"))?;
    if head.saturating_sub(indexed) > TAIL_MEMO_ROWS {
        *memo = None;
        return Ok(None);
    }
    if memo
        .as_ref()
        .is_some_and(|m| m.from > indexed || (m.from < indexed && m.rows > 131_072))
    {
        *memo = None;
    }
    let m = memo.get_or_insert_with(|| TailMemo {
        from: indexed,
        to: indexed,
        rows: 0,
        traces: std::collections::HashMap::new(),
    });
    if m.to < head {
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, trace_id FROM entries WHERE seq > ?1 AND kind = 'access' \
                 AND trace_id IS NOT NULL ORDER BY seq",
            )
            .map_err(db("query"))?;
        let mut rows = stmt.query(params![m.to]).map_err(db("query"))?;
        while let Some(r) = rows.next().map_err(db("query"))? {
            let seq: u64 = r.get(0).map_err(db("query"))?;
            let key = match r.get_ref(1).map_err(db("query"))? {
                ValueRef::Blob(b) | ValueRef::Text(b) => memo_key(b),
                _ => continue,
            };
            m.traces.entry(key).or_default().push(seq);
            m.rows += 1;
        }
        m.to = head;
    }
    Ok(memo.as_ref())
}

/// The SQL and arguments of [`AuditStore::query`], read through `conn` (the reader, in one
/// transaction). `tail`: the tail as remembered ([`TailMemo`]); without it the query scans the
/// tail itself.
fn query_sql(
    conn: &Connection,
    filter: &QueryFilter,
    limit: usize,
    tail: Option<&TailMemo>,
) -> Result<(String, Vec<SqlValue>), AuditError> {
    let mut q = Where::default();
    // By trace: the access records of the trace (the partial index of migration 6), each
    // with the rows after it up to the first of another trace or another request (its
    // processing records). A client may send one trace id with several requests.
    let from = match &filter.trace_id {
        Some(trace) => {
            let value = trace_value(Some(trace));
            let remembered = tail.map(|t| (t.seqs(&value), t.to));
            q.args.push(value);
            // The access records: through the index's runs, and in the tail after them.
            let tail_seqs =
                tail_branch(&mut q, remembered, "x.trace_id = ?1 AND x.kind = 'access'");
            format!(
                "entries, (SELECT a.seq AS lo, COALESCE((SELECT n.seq FROM entries n \
                       WHERE n.seq > a.seq AND (n.trace_id IS NOT a.trace_id OR n.kind = 'access') \
                       ORDER BY n.seq LIMIT 1), 9223372036854775807) AS hi \
                     FROM entries a WHERE a.seq IN ( \
                       SELECT t.seq FROM idx.runs r CROSS JOIN idx.by_trace t \
                         ON t.run = r.id AND t.trace = substr(?1, -8) \
                       UNION ALL {tail_seqs}) \
                     AND a.trace_id = ?1 AND a.kind = 'access') AS request"
            )
        }
        None => "entries".to_owned(),
    };
    if filter.trace_id.is_some() {
        q.sql
            .push_str(" AND seq >= request.lo AND seq < request.hi");
    }
    q.text("activity =", filter.activity.as_deref());
    if let Some(subject) = &filter.subject {
        // As written now, and as written before pseudonyms were stored as blobs.
        let (value, text) = (
            subject_value(Some(subject)),
            SqlValue::Text(subject.clone()),
        );
        q.args.push(value);
        q.args.push(text);
        let n = q.args.len();
        let subjects = format!("IN (?{}, ?{n})", n - 1);
        // The index holds each subject's last 8 bytes (`index`): the row decides.
        let keys = format!("IN (substr(?{}, -8), substr(?{n}, -8))", n - 1);
        // Paging: only the seqs after the page before.
        let after = |col: &str| {
            filter
                .after_seq
                .map(|a| format!(" AND {col} > {a}"))
                .unwrap_or_default()
        };
        // The seqs of the subject's rows: through the index's runs (one seek in each), and
        // in the tail after them.
        let cond = format!("x.subject {subjects}{}", after("x.seq"));
        let tail_seqs = tail_branch(&mut q, None, &cond);
        q.sql.push_str(&format!(
            " AND subject {subjects} AND seq IN (\
                 SELECT s.seq FROM idx.runs r CROSS JOIN idx.by_subject s \
                   ON s.run = r.id AND s.subject {keys}{} \
                 UNION ALL {tail_seqs})",
            after("s.seq"),
        ));
    }
    match filter.kind {
        // Written out, so the partial indexes of migration 4 apply.
        Some(EntryKind::Alert) => q.sql.push_str(" AND kind = 'alert'"),
        Some(EntryKind::Handling) => q.sql.push_str(" AND kind = 'handling'"),
        kind => q.text("kind =", kind.map(EntryKind::as_str)),
    }
    q.int("time_ms >=", filter.from_ms);
    q.int("time_ms <", filter.to_ms);
    // A period is also a range of seqs (time never goes back along the log): the scan
    // starts and stops there instead of walking the log from its start.
    if filter.subject.is_none() && filter.trace_id.is_none() {
        if let Some(from) = filter.from_ms {
            q.int("seq >=", seq_at(conn, from)?);
        }
        if let Some(to) = filter.to_ms {
            q.int("seq <", seq_at(conn, to)?);
        }
    }
    q.int("seq >", filter.after_seq);
    q.args.push(SqlValue::Integer(sql_limit(limit)));
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM {from} WHERE 1 = 1{} ORDER BY seq LIMIT ?{}",
        q.sql,
        q.args.len()
    );
    Ok((sql, q.args))
}

/// Puts the database in WAL mode; the mode it is in after. Switching a new database's mode takes
/// an exclusive lock, and SQLite answers "busy" at once rather than through the busy handler
/// when another connection holds one (two processes opening a new log together): the switch is
/// tried again until `busy_timeout` has passed.
fn wal_mode(conn: &Connection, busy_timeout: Duration) -> Result<String, AuditError> {
    let deadline = std::time::Instant::now() + busy_timeout;
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(mode) => return Ok(mode),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(db("journal_mode")(e)),
        }
    }
}

/// Applies the missing migrations, each in its own transaction with its version row; running
/// it again (or from several processes) changes nothing.
fn migrate(conn: &mut Connection) -> Result<(), AuditError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db("migrate"))?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
                version    INTEGER PRIMARY KEY,
                applied_ms INTEGER NOT NULL
             );",
    )
    .map_err(db("migrate"))?;
    let current: u32 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )
        .map_err(db("migrate"))?;
    if current > SCHEMA_VERSION {
        return Err(AuditError::Unavailable(format!(
            "audit database schema version {current} is newer than this sluis ({SCHEMA_VERSION})"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql).map_err(db("migrate"))?;
        tx.execute(
            "INSERT INTO schema_version (version, applied_ms) VALUES (?1, ?2)",
            params![i + 1, sluis_audit::now_ms()],
        )
        .map_err(db("migrate"))?;
    }
    tx.commit().map_err(db("migrate"))
}

/// A hash column as hex: a blob as written, or whatever a tampered row holds instead (text as it
/// is, NULL as empty), for verification to report.
fn hash_text(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Blob(b) => to_hex(b),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Null => String::new(),
    }
}

/// A trace id as stored: a W3C trace id (32 lowercase hex digits, what sluis generates and
/// accepts from `traceparent`) as its 16 bytes, anything else as text.
fn trace_value(trace_id: Option<&str>) -> SqlValue {
    match trace_id {
        None => SqlValue::Null,
        Some(t) => match from_hex::<16>(t) {
            Ok(bytes) if lower_hex(t) => SqlValue::Blob(bytes.to_vec()),
            _ => SqlValue::Text(t.to_owned()),
        },
    }
}

/// Only lowercase hex digits: what a blob's bytes read back as (`to_hex`), so storing it as
/// bytes loses nothing.
fn lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A trace id column as text (a blob as hex).
fn trace_text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        other => Some(hash_text(other)),
    }
}

/// A subject as stored. A pseudonym as sluis writes it (`<key id>:<64 lowercase hex digits>`,
/// `sluis_audit::pseudonym`) is kept as the key id's bytes, `:` and the 32 bytes of the HMAC:
/// 33 bytes less in the row and in the subject index. Anything else (and every subject written
/// before this form) is text, which [`subject_text`] reads back the same.
fn subject_value(subject: Option<&str>) -> SqlValue {
    let Some(s) = subject else {
        return SqlValue::Null;
    };
    if let Some((id, mac)) = s.rsplit_once(':')
        && !id.is_empty()
        && !id.contains(':')
        && let Ok(bytes) = from_hex::<32>(mac)
        && lower_hex(mac)
    {
        let mut blob = Vec::with_capacity(id.len() + 33);
        blob.extend_from_slice(id.as_bytes());
        blob.push(b':');
        blob.extend_from_slice(&bytes);
        return SqlValue::Blob(blob);
    }
    SqlValue::Text(s.to_owned())
}

/// A subject column as text: the pseudonym a blob holds, or the text as stored. A blob that is
/// not one (a tampered row) is read as hex, for verification to report.
fn subject_text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Blob(b) => {
            let split = b.len().checked_sub(33);
            let decoded = split.and_then(|at| {
                let (id, rest) = (b.get(..at)?, b.get(at..)?);
                let (colon, mac) = rest.split_first()?;
                let id = std::str::from_utf8(id).ok()?;
                (*colon == b':' && !id.is_empty() && !id.contains(':'))
                    .then(|| format!("{id}:{}", to_hex(mac)))
            });
            Some(decoded.unwrap_or_else(|| to_hex(b)))
        }
        other => Some(hash_text(other)),
    }
}

/// A hash as stored: 32 bytes.
fn hash_blob(hex: &str) -> Result<[u8; 32], AuditError> {
    from_hex::<32>(hex)
}

/// A row as read, before its body is restored and its `prev_hash` filled in.
struct StoredRow {
    raw: RawRow,
    /// `prev_hash` is the hash of the entry at seq - 1 (the column is NULL).
    prev_implied: bool,
}

/// Reads a row. A tampered, out-of-range time is read as 0 (and then fails the hash check)
/// instead of failing the whole read.
fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRow> {
    let prev = r.get_ref(7)?;
    Ok(StoredRow {
        prev_implied: prev == ValueRef::Null,
        raw: RawRow {
            seq: r.get(0)?,
            time_ms: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            kind: r.get(2)?,
            trace_id: trace_text(r.get_ref(3)?),
            activity: r.get(4)?,
            subject: subject_text(r.get_ref(5)?),
            body: r.get(6)?,
            prev_hash: hash_text(prev),
            hash: hash_text(r.get_ref(8)?),
        },
    })
}

/// The hash of the entry at `seq`, hex; empty when there is none.
fn hash_at(conn: &Connection, seq: u64) -> Result<String, AuditError> {
    conn.prepare_cached("SELECT hash FROM entries WHERE seq = ?1")
        .and_then(|mut s| {
            s.query_row(params![seq], |r| Ok(hash_text(r.get_ref(0)?)))
                .optional()
        })
        .map(Option::unwrap_or_default)
        .map_err(db("read"))
}

/// Rows as the chain sees them: each body restored from its stored form and columns, each
/// implied `prev_hash` filled in (from the row before it in `rows`, or read).
fn finish_rows(conn: &Connection, rows: Vec<StoredRow>) -> Result<Vec<RawRow>, AuditError> {
    let mut out: Vec<RawRow> = Vec::with_capacity(rows.len());
    for StoredRow {
        mut raw,
        prev_implied,
    } in rows
    {
        raw.body = sluis_audit::stored::restore(
            &raw.body,
            &raw.kind,
            raw.trace_id.as_deref(),
            raw.subject.as_deref(),
        );
        if prev_implied {
            raw.prev_hash = match (raw.seq, out.last()) {
                (1, _) => GENESIS_HASH.to_owned(),
                (seq, Some(before)) if before.seq + 1 == seq => before.hash.clone(),
                // The entry before is gone: nothing to link to (verification reports it).
                (seq, _) => hash_at(conn, seq - 1)?,
            };
        }
        out.push(raw);
    }
    Ok(out)
}

/// Runs a row query and finishes its rows.
fn select_rows(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
    op: &'static str,
) -> Result<Vec<RawRow>, AuditError> {
    let rows: Vec<StoredRow> = conn
        .prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_map(args, read_row)?.collect())
        .map_err(db(op))?;
    finish_rows(conn, rows)
}

fn head(tx: &Transaction<'_>) -> Result<Option<(u64, String)>, AuditError> {
    tx.query_row(
        "SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, hash_text(r.get_ref(1)?))),
    )
    .optional()
    .map_err(db("head"))
}

/// The append path's transaction: `BEGIN IMMEDIATE` and `COMMIT` as cached statements (a
/// `rusqlite` transaction parses them again for every batch), rolled back when dropped
/// uncommitted.
struct Append<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> Append<'c> {
    fn begin(conn: &'c Connection) -> Result<Self, AuditError> {
        conn.prepare_cached("BEGIN IMMEDIATE")
            .and_then(|mut s| s.execute([]))
            .map_err(db("append"))?;
        Ok(Append { conn, open: true })
    }

    fn commit(mut self) -> Result<(), AuditError> {
        self.conn
            .prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]))
            .map_err(db("commit"))?;
        self.open = false;
        Ok(())
    }
}

impl Drop for Append<'_> {
    fn drop(&mut self) {
        if self.open {
            // Nothing of the batch was acknowledged; a failed rollback leaves SQLite to roll
            // back when the connection next begins or closes.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Inserts linked rows in their stored form. `prev_stored`: the first row's `prev_hash` is
/// written out (its predecessor is gone, as after a purge); every other row links to the row at
/// seq - 1, and its `prev_hash` is left NULL.
fn insert_rows(tx: &Connection, rows: &[RawRow], prev_stored: bool) -> Result<(), AuditError> {
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO entries (seq, time_ms, kind, trace_id, activity, subject, body, \
             prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .map_err(db("append"))?;
    for (i, r) in rows.iter().enumerate() {
        let body = sluis_audit::stored::strip(
            &r.body,
            &r.kind,
            r.trace_id.as_deref(),
            r.subject.as_deref(),
        );
        let prev = if i == 0 && prev_stored {
            Some(hash_blob(&r.prev_hash)?)
        } else {
            None
        };
        stmt.execute(params![
            r.seq,
            r.time_ms,
            r.kind,
            trace_value(r.trace_id.as_deref()),
            r.activity,
            subject_value(r.subject.as_deref()),
            body,
            prev,
            hash_blob(&r.hash)?
        ])
        .map_err(db("append"))?;
    }
    Ok(())
}

/// Seals `batch` after the current head and inserts it with its due checkpoints; returns the seq
/// range and the ids of the field sets and shapes the rows reference.
fn insert_sealed(
    tx: &Connection,
    chain: &ChainConfig,
    batch: Vec<Encoded>,
    now_ms: u64,
    known: &std::collections::HashSet<String>,
) -> Result<((u64, u64), Vec<String>), AuditError> {
    let last: Option<(u64, String, u64)> = tx
        .prepare_cached("SELECT seq, hash, time_ms FROM entries ORDER BY seq DESC LIMIT 1")
        .and_then(|mut s| {
            s.query_row([], |r| Ok((r.get(0)?, hash_text(r.get_ref(1)?), r.get(2)?)))
                .optional()
        })
        .map_err(db("head"))?;
    // Time never goes back along the log (a clock stepped back stamps the head's time), so a
    // period is a range of seqs (`seq_at`).
    let now_ms = now_ms.max(last.as_ref().map_or(0, |l| l.2));
    let sets = field_sets_of(&batch);
    let rows = link(
        last.as_ref().map(|(s, h, _)| (*s, h.as_str())),
        batch,
        now_ms,
    )?;
    let mut ids = Vec::with_capacity(sets.len());
    if sets.iter().any(|s| !known.contains(&s.id)) {
        let mut stmt = tx
            .prepare_cached("INSERT OR IGNORE INTO field_sets (id, paths) VALUES (?1, ?2)")
            .map_err(db("append"))?;
        for set in sets.iter().filter(|s| !known.contains(&s.id)) {
            stmt.execute(params![set.id, set.paths])
                .map_err(db("append"))?;
        }
    }
    ids.extend(sets.into_iter().map(|s| s.id));
    let (Some(first), Some(end)) = (rows.first(), rows.last()) else {
        return Err(AuditError::Invalid("empty batch".into()));
    };
    let range = (first.seq, end.seq);
    // The first row links to the head (or, in an empty log, to genesis): implied.
    insert_rows(tx, &rows, false)?;
    for cp in chain.checkpoints_for(&rows, now_ms)? {
        insert_checkpoint(tx, &cp)?;
    }
    Ok((range, ids))
}

fn insert_checkpoint(tx: &Connection, cp: &Checkpoint) -> Result<(), AuditError> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO checkpoints (seq, hash, time_ms, signature) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut s| s.execute(params![cp.seq, cp.hash, cp.time_ms, cp.signature]))
    .map_err(db("checkpoint"))?;
    Ok(())
}

fn read_checkpoints(conn: &Connection) -> Result<Vec<Checkpoint>, AuditError> {
    let mut stmt = conn
        .prepare_cached("SELECT seq, hash, time_ms, signature FROM checkpoints ORDER BY seq")
        .map_err(db("checkpoints"))?;
    stmt.query_map([], |r| {
        Ok(Checkpoint {
            seq: r.get(0)?,
            hash: r.get(1)?,
            time_ms: r.get(2)?,
            signature: r.get(3)?,
        })
    })
    .and_then(|rows| rows.collect())
    .map_err(db("checkpoints"))
}

fn rows_after(conn: &Connection, after: u64, limit: usize) -> Result<Vec<RawRow>, AuditError> {
    select_rows(
        conn,
        &format!("SELECT {ROW_COLUMNS} FROM entries WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
        params![after, sql_limit(limit)],
        "read",
    )
}

/// A row limit as SQLite takes it (any larger is all rows).
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// The field set stored under `id`.
fn read_field_set(conn: &Connection, id: &str) -> Result<Option<String>, AuditError> {
    conn.prepare_cached("SELECT paths FROM field_sets WHERE id = ?1")
        .and_then(|mut s| s.query_row(params![id], |r| r.get(0)).optional())
        .map_err(db("field set"))
}

/// The field sets of one read, cached: a page of entries names few distinct sets.
struct Sets<'a> {
    conn: &'a Connection,
    cache: std::collections::HashMap<String, Option<String>>,
}

impl<'a> Sets<'a> {
    fn new(conn: &'a Connection) -> Self {
        Sets {
            conn,
            cache: std::collections::HashMap::new(),
        }
    }
}

impl FieldSetSource for Sets<'_> {
    fn field_set(&mut self, id: &str) -> Result<Option<String>, AuditError> {
        if let Some(hit) = self.cache.get(id) {
            return Ok(hit.clone());
        }
        let found = read_field_set(self.conn, id)?;
        self.cache.insert(id.to_owned(), found.clone());
        Ok(found)
    }
}

/// Decodes rows read back, resolving their field sets.
fn decode_all(conn: &Connection, rows: &[RawRow]) -> Result<Vec<StoredEntry>, AuditError> {
    let mut sets = Sets::new(conn);
    rows.iter().map(|r| r.decode_with(&mut sets)).collect()
}

/// The rows of one read transaction, for [`verify_log`].
struct Snapshot<'a> {
    tx: &'a Transaction<'a>,
}

impl RowSource for Snapshot<'_> {
    fn rows_after(&mut self, after: u64, limit: usize) -> Result<Vec<RawRow>, AuditError> {
        rows_after(self.tx, after, limit)
    }

    fn checkpoints(&mut self) -> Result<Vec<Checkpoint>, AuditError> {
        read_checkpoints(self.tx)
    }

    fn field_set(&mut self, id: &str) -> Result<Option<String>, AuditError> {
        read_field_set(self.tx, id)
    }
}

impl AuditStore for SqliteStore {
    fn append_encoded(
        &mut self,
        batch: Vec<Encoded>,
        now_ms: u64,
    ) -> Result<(u64, u64), AuditError> {
        if batch.is_empty() {
            return Err(AuditError::Invalid("empty batch".into()));
        }
        let tx = Append::begin(&self.conn)?;
        let (range, ids) = insert_sealed(tx.conn, &self.chain, batch, now_ms, &self.known_sets)?;
        tx.commit()?;
        // Only what is committed is known (a rolled back set is written again next time).
        if self.known_sets.len() + ids.len() > KNOWN_SETS_LIMIT {
            self.known_sets.clear();
        }
        self.known_sets.extend(ids);
        if self._checkpointer.is_some() {
            self.commits_since_completion += 1;
            if self.commits_since_completion >= COMPLETE_CHECKPOINT_EVERY {
                self.commits_since_completion = 0;
                // Best effort: the commit is durable already; a busy checkpoint is tried again
                // after the next round of commits.
                let _ = self
                    .conn
                    .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        }
        if self.index_after_append {
            // The commit stands whatever happens here: a failed build leaves the rows in the
            // tail, which queries scan, and is tried again after the next commit.
            let _ = self.index.build(false);
        }
        Ok(range)
    }

    fn checkpoint(&mut self, now_ms: u64) -> Result<Option<Checkpoint>, AuditError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db("checkpoint"))?;
        let Some((seq, hash)) = head(&tx)? else {
            return Ok(None);
        };
        let existing = tx
            .query_row(
                "SELECT seq, hash, time_ms, signature FROM checkpoints WHERE seq = ?1",
                params![seq],
                |r| {
                    Ok(Checkpoint {
                        seq: r.get(0)?,
                        hash: r.get(1)?,
                        time_ms: r.get(2)?,
                        signature: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(db("checkpoint"))?;
        if existing.is_some() {
            return Ok(existing);
        }
        let Some(cp) = self.chain.checkpoint_now(seq, &hash, now_ms)? else {
            return Ok(None);
        };
        insert_checkpoint(&tx, &cp)?;
        tx.commit().map_err(db("checkpoint"))?;
        Ok(Some(cp))
    }

    fn checkpoints(&mut self) -> Result<Vec<Checkpoint>, AuditError> {
        read_checkpoints(&self.conn)
    }

    fn head(&mut self) -> Result<Option<(u64, String)>, AuditError> {
        let tx = self.conn.transaction().map_err(db("head"))?;
        head(&tx)
    }

    fn verify(&mut self, keys: &[PublicKey]) -> Result<VerifyReport, AuditError> {
        self.verify_with_progress(keys, &mut |_| {})
    }

    fn verify_with_progress(
        &mut self,
        keys: &[PublicKey],
        progress: &mut dyn FnMut(u64),
    ) -> Result<VerifyReport, AuditError> {
        // One deferred transaction: every page reads the same WAL snapshot.
        let tx = self.conn.transaction().map_err(db("verify"))?;
        let mut report = verify_log_with(&mut Snapshot { tx: &tx }, keys, progress)?;
        tx.finish().map_err(db("verify"))?;
        // And the index beside the log: what a query by subject or trace finds through it.
        let room = sluis_audit::MAX_PROBLEMS.saturating_sub(report.problems.len());
        let (problems, total) = self.index.check(room)?;
        report.problems.extend(problems);
        report.problems_total += total;
        Ok(report)
    }

    fn query(
        &mut self,
        filter: &QueryFilter,
        limit: usize,
    ) -> Result<Vec<StoredEntry>, AuditError> {
        self.reader()?;
        let (Some(conn), memo) = (self.reader.as_ref(), &mut self.tail) else {
            return Err(AuditError::Unavailable("sqlite reader".into()));
        };
        // One read transaction: the tail, the runs and the rows from the same snapshots.
        let tx = conn.unchecked_transaction().map_err(db("query"))?;
        let tail = if filter.trace_id.is_some() {
            refresh_tail(&tx, memo)?
        } else {
            None
        };
        let (sql, args) = query_sql(&tx, filter, limit, tail)?;
        let rows = select_rows(&tx, &sql, rusqlite::params_from_iter(args), "query")?;
        let entries = decode_all(&tx, &rows)?;
        tx.finish().map_err(db("query"))?;
        Ok(entries)
    }

    fn purge(
        &mut self,
        retention: &dyn Fn(&str) -> Option<u64>,
        now_ms: u64,
    ) -> Result<PurgeRecord, AuditError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db("purge"))?;
        let activities: Vec<String> = tx
            .prepare("SELECT DISTINCT activity FROM entries WHERE activity IS NOT NULL")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(db("purge"))?;
        let first: Option<(u64, String)> = rows_after(&tx, 0, 1)?
            .into_iter()
            .next()
            .map(|r| (r.seq, r.prev_hash));
        let mut planner = PurgePlanner::new(retention, now_ms, activities);
        let mut after = 0u64;
        while !planner.is_complete() {
            let page = rows_after(&tx, after, 1_000)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for row in &page {
                if !planner.offer(row) {
                    break;
                }
            }
        }
        let up_to = planner.delete_up_to();
        let record = planner.finish(first);
        if let Some(up_to) = up_to {
            // The first entry that stays links to one that goes: its prev_hash is written out
            // before the prefix is deleted.
            tx.execute(
                "UPDATE entries SET prev_hash = (SELECT hash FROM entries WHERE seq = ?1) \
                 WHERE seq = ?1 + 1 AND prev_hash IS NULL",
                params![up_to],
            )
            .map_err(db("purge"))?;
            tx.execute("DELETE FROM entries WHERE seq <= ?1", params![up_to])
                .map_err(db("purge"))?;
        }
        // The purge record continues the chain from the old head (which may just have been
        // deleted: its hash is then the anchor, written out in the purge record's row).
        let remaining = head(&tx)?;
        let old_head = head_or(&tx, up_to, &record)?;
        let rows = seal(
            old_head.as_ref().map(|(s, h)| (*s, h.as_str())),
            &[Entry::Purge(record.clone())],
            now_ms,
        )?;
        insert_rows(&tx, &rows, remaining.is_none())?;
        for cp in self.chain.checkpoints_for(&rows, now_ms)? {
            insert_checkpoint(&tx, &cp)?;
        }
        tx.commit().map_err(db("purge"))?;
        Ok(record)
    }

    fn export(&mut self, from_seq: u64, limit: usize) -> Result<Vec<StoredEntry>, AuditError> {
        let rows = select_rows(
            &self.conn,
            &format!("SELECT {ROW_COLUMNS} FROM entries WHERE seq >= ?1 ORDER BY seq LIMIT ?2"),
            params![from_seq, sql_limit(limit)],
            "export",
        )?;
        decode_all(&self.conn, &rows)
    }

    fn reindex(&mut self, rebuild: bool) -> Result<Option<IndexReport>, AuditError> {
        if rebuild {
            self.index.clear()?;
        }
        let progress = self.index.build(false)?;
        let head = AuditStore::head(self)?.map_or(0, |h| h.0);
        Ok(Some(IndexReport {
            indexed_to: progress.indexed_to,
            head,
            runs_built: progress.runs_built,
        }))
    }

    fn indexed_to(&mut self) -> Option<u64> {
        self.index.indexed_to().ok()
    }

    fn ready(&mut self) -> bool {
        self.conn
            .query_row("SELECT COUNT(*) FROM schema_version", [], |r| {
                r.get::<_, i64>(0)
            })
            .is_ok()
    }
}

/// A WHERE clause with numbered parameters.
#[derive(Default)]
struct Where {
    sql: String,
    args: Vec<SqlValue>,
}

impl Where {
    fn text(&mut self, cond: &str, v: Option<&str>) {
        if let Some(v) = v {
            self.value(cond, SqlValue::Text(v.to_owned()));
        }
    }

    fn value(&mut self, cond: &str, v: SqlValue) {
        self.args.push(v);
        self.sql
            .push_str(&format!(" AND {cond} ?{}", self.args.len()));
    }

    fn int(&mut self, cond: &str, v: Option<u64>) {
        if let Some(v) = v {
            self.args
                .push(SqlValue::Integer(i64::try_from(v).unwrap_or(i64::MAX)));
            self.sql
                .push_str(&format!(" AND {cond} ?{}", self.args.len()));
        }
    }
}

/// The first seq stamped at or after `time_ms` (`None`: none is), by bisection over the log's
/// seqs: time does not go back along the log (`insert_sealed` stamps no earlier than the head).
fn seq_at(conn: &Connection, time_ms: u64) -> Result<Option<u64>, AuditError> {
    let t = i64::try_from(time_ms).unwrap_or(i64::MAX);
    // Two one-row lookups on the primary key (one query with both MIN and MAX would scan).
    let end = |order: &str| -> Result<Option<u64>, AuditError> {
        conn.prepare_cached(&format!(
            "SELECT seq FROM entries ORDER BY seq {order} LIMIT 1"
        ))
        .and_then(|mut st| st.query_row([], |r| r.get(0)).optional())
        .map_err(db("query"))
    };
    let (Some(mut lo), Some(mut hi)) = (end("ASC")?, end("DESC")?) else {
        return Ok(None);
    };
    let mut stmt = conn
        .prepare_cached("SELECT seq, time_ms FROM entries WHERE seq >= ?1 ORDER BY seq LIMIT 1")
        .map_err(db("query"))?;
    let mut at = |seq: u64| -> Result<Option<(u64, i64)>, AuditError> {
        stmt.query_row([seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db("query"))
    };
    match at(hi)? {
        Some((_, last)) if last < t => return Ok(None),
        _ => {}
    }
    // Invariant: every entry at or after `hi` is stamped at or after `time_ms`, every entry
    // before `lo` before it. (`lo` may end on a seq a purge removed: as a lower bound it is the
    // same as the next seq that exists.)
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match at(mid)? {
            Some((_, time)) if time >= t => hi = mid,
            Some((seq, _)) => lo = seq + 1,
            None => hi = mid,
        }
    }
    Ok(Some(lo))
}

/// The head after a purge deleted `seq <= up_to`: the remaining head, or (when everything went)
/// the last deleted entry, whose hash the purge record carries as anchor.
fn head_or(
    tx: &Transaction<'_>,
    up_to: Option<u64>,
    record: &PurgeRecord,
) -> Result<Option<(u64, String)>, AuditError> {
    match head(tx)? {
        Some(h) => Ok(Some(h)),
        None => Ok(up_to.map(|s| (s, record.anchor_hash.clone()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The background threads run at a lower priority than the requests' threads.
    #[cfg(target_os = "linux")]
    #[test]
    fn background_threads_run_niced() {
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = Periodic::start("nice-test", Duration::from_millis(1), move || {
            let nice = rustix::process::getpriority_process(Some(rustix::thread::gettid()));
            let _ = tx.send(nice.ok());
        })
        .unwrap();
        let nice = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        drop(worker);
        // Raising the nice value is always allowed; only a process already above it keeps its own.
        assert!(nice.is_some_and(|n| n >= BACKGROUND_NICE), "{nice:?}");
    }

    #[test]
    fn a_period_is_found_as_a_range_of_seqs_even_when_the_clock_steps_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut s =
            SqliteStore::open(&dir.path().join("audit.db"), ChainConfig::default()).unwrap();
        // Commits at 100, 200, ... 1000 ms, then one whose clock stepped back to 150.
        for i in 1..=10u64 {
            s.append(&sluis_audit::testing::request(i, 1), i * 100)
                .unwrap();
        }
        s.append(&sluis_audit::testing::request(11, 1), 150)
            .unwrap();
        let all = s.export(0, 100).unwrap();
        let times: Vec<u64> = all.iter().map(|e| e.time_ms).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        assert_eq!(*times.last().unwrap(), 1000, "stamped with the head's time");
        for (from, to) in [
            (0, 2000),
            (250, 650),
            (300, 301),
            (1000, 1001),
            (1001, 5000),
            (0, 100),
        ] {
            let got: Vec<u64> = s
                .query(
                    &QueryFilter {
                        from_ms: Some(from),
                        to_ms: Some(to),
                        ..QueryFilter::default()
                    },
                    1000,
                )
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect();
            let want: Vec<u64> = all
                .iter()
                .filter(|e| (from..to).contains(&e.time_ms))
                .map(|e| e.seq)
                .collect();
            assert_eq!(got, want, "[{from}, {to})");
        }
        // The supervision queries use their partial indexes.
        let plan: String = s
            .conn
            .query_row(
                "EXPLAIN QUERY PLAN SELECT seq FROM entries WHERE 1 = 1 AND kind = 'alert' AND seq >= 1 ORDER BY seq LIMIT 10",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("entries_alerts"), "{plan}");
    }

    /// Only access records are in the trace index; a query by trace finds each request of the
    /// trace with the processing records committed after it, also when a client sent one trace
    /// id with several requests, and nothing of the requests around them.
    #[test]
    fn a_trace_is_its_requests_access_records_and_the_processing_records_after_them() {
        use sluis_audit::testing::{request, trace_id};
        let dir = tempfile::tempdir().unwrap();
        let mut s =
            SqliteStore::open(&dir.path().join("audit.db"), ChainConfig::default()).unwrap();
        // One batch: request 1, request 2, request 2 again (the same trace), request 3.
        let mut batch = request(1, 2);
        batch.extend(request(2, 3));
        batch.extend(request(2, 1));
        batch.extend(request(3, 2));
        s.append(&batch, 1000).unwrap();
        // Committed on its own later, also under trace 2.
        s.append(&request(2, 2), 2000).unwrap();
        // (request(4, 1) is appended later: seqs 16 and 17, so the runs of 5 end at 15)
        fn seqs(s: &mut SqliteStore, filter: QueryFilter) -> Vec<u64> {
            s.query(&filter, 100)
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect()
        }
        let by = |i: u64, kind: Option<EntryKind>| QueryFilter {
            trace_id: Some(trace_id(i)),
            kind,
            ..QueryFilter::default()
        };
        let check = |s: &mut SqliteStore| {
            assert_eq!(seqs(s, by(1, None)), [1, 2, 3]);
            assert_eq!(seqs(s, by(2, None)), [4, 5, 6, 7, 8, 9, 13, 14, 15]);
            assert_eq!(seqs(s, by(2, Some(EntryKind::Access))), [4, 8, 13]);
            assert_eq!(
                seqs(s, by(2, Some(EntryKind::Processing))),
                [5, 6, 7, 9, 14, 15]
            );
            assert_eq!(seqs(s, by(3, None)), [10, 11, 12]);
            assert!(seqs(s, by(9, None)).is_empty());
            // Paging and a period still apply within a trace.
            let mut page = by(2, None);
            page.after_seq = Some(8);
            assert_eq!(seqs(s, page), [9, 13, 14, 15]);
            let mut period = by(2, None);
            period.from_ms = Some(1500);
            assert_eq!(seqs(s, period), [13, 14, 15]);
        };
        // All in the tail; then with the index in runs of 5 (the first two merged into one),
        // the third of which splits the last request: its access record is found through the
        // run, its processing records after it in the tail.
        check(&mut s);
        s.append(&request(4, 1), 3000).unwrap();
        drop(s);
        let mut config = SqliteConfig::new(dir.path().join("audit.db"), ChainConfig::default());
        config.index = IndexConfig {
            run_records: 5,
            merge_fanout: 2,
            build: IndexBuild::OnDemand,
        };
        let mut s = SqliteStore::open_with(config).unwrap();
        let built = s.build_index(false).unwrap();
        assert_eq!(
            (built.runs_built, built.merges, built.indexed_to),
            (3, 1, 15)
        );
        check(&mut s);
        // The index holds the access records only.
        let indexed: i64 = s
            .reader()
            .unwrap()
            .query_row("SELECT COUNT(*) FROM idx.by_trace", [], |r| r.get(0))
            .unwrap();
        assert_eq!(indexed, 5);
        assert!(s.verify(&[]).unwrap().is_ok());
    }

    /// A pseudonym is stored as a blob of the key id and the HMAC's bytes and read back as the
    /// same text; a subject stored as text before (or one of another form) is found and
    /// verified as it was.
    #[test]
    fn pseudonyms_are_stored_as_bytes_and_text_subjects_still_read() {
        use sluis_audit::testing::{request, subject};
        let dir = tempfile::tempdir().unwrap();
        let mut s =
            SqliteStore::open(&dir.path().join("audit.db"), ChainConfig::default()).unwrap();
        s.append(&request(1, 2), 1000).unwrap();
        s.append(&request(2, 2), 2000).unwrap();
        let stored: Vec<(String, i64)> = s
            .conn
            .prepare(
                "SELECT typeof(subject), length(subject) FROM entries WHERE subject IS NOT NULL",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let id_len = i64::try_from(subject(0).len() - 65).unwrap();
        assert_eq!(stored, vec![("blob".to_owned(), id_len + 33); 4]);
        // Rows 2 and 5 (subject 0) as an older sluis wrote them: text.
        s.conn
            .execute(
                "UPDATE entries SET subject = ?1 WHERE seq IN (2, 5)",
                params![subject(0)],
            )
            .unwrap();
        for (who, want) in [(subject(0), vec![2, 5]), (subject(1), vec![3, 6])] {
            let got: Vec<u64> = s
                .query(
                    &QueryFilter {
                        subject: Some(who.clone()),
                        ..QueryFilter::default()
                    },
                    10,
                )
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect();
            assert_eq!(got, want, "{who}");
        }
        let all = s.export(0, 10).unwrap();
        assert_eq!(
            all.iter()
                .filter_map(|e| match &e.entry {
                    Entry::Processing(p) => p.data_subject_id.clone(),
                    _ => None,
                })
                .collect::<Vec<_>>(),
            [subject(0), subject(1), subject(0), subject(1)]
        );
        assert!(s.verify(&[]).unwrap().is_ok());
        // Other forms stay text; a tampered blob reads as hex and fails verification.
        assert_eq!(
            subject_value(Some("BSN:123")),
            SqlValue::Text("BSN:123".into())
        );
        assert_eq!(subject_value(Some(":00")), SqlValue::Text(":00".into()));
        assert_eq!(
            subject_text(ValueRef::Blob(b"k1:short")),
            Some(to_hex(b"k1:short"))
        );
        s.conn
            .execute("UPDATE entries SET subject = x'00' WHERE seq = 3", [])
            .unwrap();
        assert!(!s.verify(&[]).unwrap().is_ok());
        // The overview's lookup of both forms seeks them in the index's runs.
        let plan = query_plan(
            &mut s,
            &QueryFilter {
                subject: Some(subject(0)),
                ..QueryFilter::default()
            },
        );
        assert!(
            plan.contains("SEARCH s USING PRIMARY KEY (run=? AND subject=?)"),
            "{plan}"
        );
    }

    /// The plan of the store's query for `filter`, one line per step.
    fn query_plan(s: &mut SqliteStore, filter: &QueryFilter) -> String {
        let conn = s.reader().unwrap();
        let (sql, args) = query_sql(conn, filter, 10, None).unwrap();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let lines: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(args), |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        lines.join("\n")
    }

    #[test]
    fn a_log_written_before_compact_rows_migrates_and_still_verifies() {
        use sluis_audit::chain::seal_with_sets;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        // A database at schema 4, its rows as that schema wrote them: whole bodies, hex hashes,
        // every prev_hash spelled out, and a purged prefix (the first row links to an anchor).
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL);",
            )
            .unwrap();
            for (i, sql) in MIGRATIONS.iter().take(4).enumerate() {
                conn.execute_batch(sql).unwrap();
                conn.execute("INSERT INTO schema_version VALUES (?1, 0)", params![i + 1])
                    .unwrap();
            }
            let mut last: Option<(u64, String)> = Some((6, "ab".repeat(32)));
            for i in 0..4u64 {
                let (rows, sets) = seal_with_sets(
                    last.as_ref().map(|(s, h)| (*s, h.as_str())),
                    &sluis_audit::testing::request(i, 2),
                    1_000 + i,
                )
                .unwrap();
                for set in sets {
                    conn.execute(
                        "INSERT OR IGNORE INTO field_sets VALUES (?1, ?2)",
                        params![set.id, set.paths],
                    )
                    .unwrap();
                }
                for r in &rows {
                    conn.execute(
                        &format!("INSERT INTO entries ({ROW_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                        params![r.seq, r.time_ms, r.kind, r.trace_id, r.activity, r.subject, r.body, r.prev_hash, r.hash],
                    )
                    .unwrap();
                }
                last = rows.last().map(|r| (r.seq, r.hash.clone()));
            }
        }
        let mut store = SqliteStore::open(&path, ChainConfig::default()).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let before = store.export(7, 100).unwrap();
        assert_eq!(before.len(), 12);
        assert_eq!(before[0].prev_hash, "ab".repeat(32));
        // Only the first row's prev_hash stays written out; the hashes are blobs.
        let (explicit, blobs): (i64, i64) = store
            .conn
            .query_row(
                "SELECT COUNT(prev_hash), SUM(typeof(hash) = 'blob' AND typeof(trace_id) = 'blob') \
                 FROM entries",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((explicit, blobs), (1, 12));
        // A trace is found by its id as before.
        let trace = sluis_audit::testing::trace_id(1);
        let hits = store
            .query(
                &QueryFilter {
                    trace_id: Some(trace),
                    ..QueryFilter::default()
                },
                10,
            )
            .unwrap();
        assert_eq!(hits.len(), 3);
        // New entries go on from the migrated head, in the compact form, and the whole log,
        // old bodies and new, verifies as one chain.
        store
            .append(&sluis_audit::testing::request(9, 1), 2_000)
            .unwrap();
        let report = store.verify(&[]).unwrap();
        assert_eq!(report.entries, 14);
        let mut expected_problem = report.problems.iter().map(|p| p.kind);
        // The prefix 1..=6 is gone without a purge record: that one problem, nothing else.
        assert_eq!(
            expected_problem.next(),
            Some(sluis_audit::ProblemKind::Removed)
        );
        assert_eq!(expected_problem.next(), None, "{report:?}");
        let after = store.export(7, 100).unwrap();
        assert_eq!(&after[..12], &before[..]);
        let stored: String = store
            .conn
            .query_row("SELECT body FROM entries WHERE seq = 19", [], |r| r.get(0))
            .unwrap();
        assert!(
            !stored.contains("trace_id") && !stored.contains("kind"),
            "{stored}"
        );
    }

    #[test]
    fn migrations_are_idempotent_and_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        let mut a = SqliteStore::open(&path, ChainConfig::default()).unwrap();
        assert_eq!(a.schema_version().unwrap(), SCHEMA_VERSION);
        a.append(&sluis_audit::testing::request(1, 1), 5).unwrap();
        drop(a);
        let mut b = SqliteStore::open(&path, ChainConfig::default()).unwrap();
        assert_eq!(b.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(b.head().unwrap().unwrap().0, 2);
        let versions: i64 = b
            .conn
            .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(versions, i64::from(SCHEMA_VERSION));
        // No index of the log's own on subjects or traces: the commit writes none (migration
        // 7); the overview's query reads them from the index database beside it.
        let random_indexes: i64 = b
            .conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' \
                 AND name IN ('entries_subject_time', 'entries_trace')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(random_indexes, 0);
        let plan = query_plan(
            &mut b,
            &QueryFilter {
                subject: Some("x".into()),
                kind: Some(EntryKind::Processing),
                from_ms: Some(0),
                to_ms: Some(1),
                ..QueryFilter::default()
            },
        );
        assert!(
            plan.contains("SEARCH s USING PRIMARY KEY (run=? AND subject=?)"),
            "{plan}"
        );
        assert!(!plan.contains("SCAN entries"), "{plan}");
        let mode: String = b
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = b
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "FULL");
    }

    #[test]
    fn the_background_checkpointer_keeps_the_wal_small() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        let wal = dir.path().join("audit.db-wal");
        let mut config = SqliteConfig::new(&path, ChainConfig::default());
        config.background_checkpoint = Some(Duration::from_millis(20));
        let mut store = SqliteStore::open_with(config).unwrap();
        let auto: i64 = store
            .conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap();
        assert_eq!(auto, 0, "the writer leaves checkpoints to the thread");
        // About 6 MB of entries in 2,000 commits, paced so the checkpointer gets its turns.
        let mut largest = 0;
        for i in 0..2_000u64 {
            store
                .append(&sluis_audit::testing::request(i, 2), 1_000 + i)
                .unwrap();
            if i % 100 == 99 {
                std::thread::sleep(Duration::from_millis(30));
                largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
            }
        }
        // A steady stream without pauses (the background thread alone never catches up with
        // it): about 12 MB more.
        for i in 2_000..6_000u64 {
            store
                .append(&sluis_audit::testing::request(i, 2), 1_000 + i)
                .unwrap();
        }
        largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        let db_size = std::fs::metadata(&path).unwrap().len();
        assert!(
            db_size > 4_000_000,
            "entries reached the database file: {db_size}"
        );
        // The WAL file keeps its largest size (SQLite reuses it from the start after a complete
        // checkpoint); without checkpoints it would hold every frame of the 6,000 commits (each
        // rewrites the log's last pages and the indexes' last leaves: well over 60 MB here).
        assert!(
            largest < 24_000_000,
            "WAL {largest} bytes against a {db_size}-byte database"
        );
        drop(store);
        let mut again = SqliteStore::open(&path, ChainConfig::default()).unwrap();
        let report = again.verify(&[]).unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.entries, 18_000);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        drop(SqliteStore::open(&path, ChainConfig::default()).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute("INSERT INTO schema_version VALUES (99, 0)", [])
            .unwrap();
        drop(conn);
        let err = SqliteStore::open(&path, ChainConfig::default()).unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
    }
}
