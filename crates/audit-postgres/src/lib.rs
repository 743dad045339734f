//! The PostgreSQL [`AuditStore`]: one log shared by several sluis instances.
//!
//! The log is a set of **chains**, each a gapless, verifiable sequence of its own. An instance
//! appends to the chain its configuration names (`[audit] chain`, [`PgConfig::with_chain`]);
//! instances that name none share the chain `""`. Each write transaction starts with
//! `pg_advisory_xact_lock(<'slui'>, <hash of the schema and chain>)`: appends (and purges and
//! on-demand checkpoints) to one chain are serialised, and only then is the chain's head
//! `(seq, hash)` read — in READ COMMITTED each statement takes a fresh snapshot, so the read after
//! the lock sees the previous holder's commit — the batch sealed onto it, inserted and committed.
//! The lock is released at commit or rollback, also when a connection dies.
//!
//! Instances that share a chain therefore take turns (group commit keeps that at one lock round
//! per batch, not per request); instances with a chain each never wait for one another, so
//! throughput grows with instances until PostgreSQL itself is the limit. The primary key on
//! `(chain, seq)` is the last line of defence: two writers can never both store a seq of a chain.
//!
//! Readers see one log: [`verify`](AuditStore::verify) walks every chain and reports each,
//! [`query`](AuditStore::query) and [`export`](AuditStore::export) read all chains in
//! `(seq, chain)` order, and [`purge`](AuditStore::purge) purges every chain, each recording its
//! own purge record.
//!
//! Durability is PostgreSQL's: with the default `synchronous_commit = on` a commit returns after
//! its WAL is flushed (and, with synchronous replication configured, replicated).
//!
//! The log lives in its own schema (default `sluis_audit`), so several logs, e.g. one per test,
//! can share a database. The connection string comes from configuration and is never repeated in
//! an error. Errors are [`AuditError`]s: the store is used through the trait only, so this crate
//! has no error enum of its own.

use std::fmt;

use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, NoTls, Statement, Transaction};
use sluis_audit::{
    AuditError, AuditStore, ChainConfig, ChainReport, Checkpoint, Entry, EntryKind, PublicKey,
    PurgePlanner, PurgeRecord, QueryFilter, RawRow, RowSource, StoredEntry, VerifyReport,
    chain::{Encoded, field_sets_of, link, seal},
    fieldset::{FieldSet, FieldSetSource},
    verify_log_with,
};

/// First key of the advisory lock that serialises writers: `'slui'` as a big-endian integer.
pub const LOCK_CLASS: i32 = 0x736c_7569;

/// The schema used when none is configured.
pub const DEFAULT_SCHEMA: &str = "sluis_audit";

/// Schema migrations; `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`. `{s}` is the
/// (validated, quoted) schema name.
const MIGRATIONS: &[&str] = &[
    // 1: the log and its checkpoints.
    "CREATE TABLE {s}.entries (
        seq       BIGINT PRIMARY KEY,
        time_ms   BIGINT NOT NULL,
        kind      TEXT NOT NULL,
        trace_id  TEXT,
        activity  TEXT,
        subject   TEXT,
        body      TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
     );
     CREATE INDEX entries_subject_time ON {s}.entries (subject, time_ms);
     CREATE INDEX entries_trace ON {s}.entries (trace_id);
     CREATE INDEX entries_activity_time ON {s}.entries (activity, time_ms);
     CREATE TABLE {s}.checkpoints (
        seq       BIGINT PRIMARY KEY,
        hash      TEXT NOT NULL,
        time_ms   BIGINT NOT NULL,
        signature TEXT NOT NULL
     );",
    // 2: one chain per instance; existing rows form the chain '' (the shared chain). The subject
    // index holds only entries with a subject.
    "ALTER TABLE {s}.entries ADD COLUMN chain TEXT NOT NULL DEFAULT '';
     ALTER TABLE {s}.entries DROP CONSTRAINT entries_pkey;
     ALTER TABLE {s}.entries ADD CONSTRAINT entries_pkey PRIMARY KEY (chain, seq);
     CREATE INDEX entries_seq ON {s}.entries (seq);
     ALTER TABLE {s}.checkpoints ADD COLUMN chain TEXT NOT NULL DEFAULT '';
     ALTER TABLE {s}.checkpoints DROP CONSTRAINT checkpoints_pkey;
     ALTER TABLE {s}.checkpoints ADD CONSTRAINT checkpoints_pkey PRIMARY KEY (chain, seq);
     DROP INDEX {s}.entries_subject_time;
     CREATE INDEX entries_subject_time ON {s}.entries (subject, time_ms) WHERE subject IS NOT NULL;",
    // 3: field sets, the interned field lists of processing records (sluis_audit::fieldset).
    "CREATE TABLE {s}.field_sets (
        id    TEXT PRIMARY KEY,
        paths TEXT NOT NULL
     );",
    // 4: the supervision pages read alerts and their handling by period: two partial indexes,
    // as small as the alerts are few, none for the access and processing records.
    "CREATE INDEX entries_alerts ON {s}.entries (seq, chain) WHERE kind = 'alert';
     CREATE INDEX entries_handling ON {s}.entries (seq, chain) WHERE kind = 'handling';",
];

/// The schema version this crate migrates a log to.
pub const PG_SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

const ROW_COLUMNS: &str =
    "seq, time_ms, kind, trace_id, activity, subject, body, prev_hash, hash, chain";
const CHECKPOINT_COLUMNS: &str = "seq, hash, time_ms, signature, chain";

/// How to reach a log.
#[derive(Clone)]
pub struct PgConfig {
    /// libpq-style connection string (`host=... port=... user=... dbname=...`) or URL.
    pub conninfo: String,
    /// Schema holding the log's tables: lowercase letters, digits and `_`, not starting with a
    /// digit, at most 63 characters.
    pub schema: String,
    pub chain: ChainConfig,
    /// The chain this instance appends to (empty: the shared chain).
    pub chain_id: String,
}

impl fmt::Debug for PgConfig {
    // The connection string may hold a password: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConfig")
            .field("schema", &self.schema)
            .field("chain", &self.chain)
            .field("chain_id", &self.chain_id)
            .finish_non_exhaustive()
    }
}

impl PgConfig {
    /// A configuration for the default schema.
    pub fn new(conninfo: impl Into<String>, chain: ChainConfig) -> Self {
        PgConfig {
            conninfo: conninfo.into(),
            schema: DEFAULT_SCHEMA.to_owned(),
            chain,
            chain_id: String::new(),
        }
    }

    /// The same, appending to the chain `id` of the log (one per instance: instances with
    /// chains of their own never wait for one another).
    pub fn with_chain(mut self, id: impl Into<String>) -> Self {
        self.chain_id = id.into();
        self
    }

    /// The same, for another schema.
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }
}

fn valid_schema(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
        && !b.first().is_some_and(u8::is_ascii_digit)
}

/// Second key of the advisory lock for migrations and the shared chain: FNV-1a of the schema
/// name, so separate logs in one database do not contend.
pub fn lock_key(schema: &str) -> i32 {
    fnv(schema.as_bytes())
}

/// Second key of a chain's advisory lock: [`lock_key`] for the shared chain `""`, FNV-1a of
/// `schema/chain` for any other. (Two chains whose keys collide only wait for each other.)
pub fn chain_lock_key(schema: &str, chain: &str) -> i32 {
    if chain.is_empty() {
        lock_key(schema)
    } else {
        fnv(format!("{schema}/{chain}").as_bytes())
    }
}

fn fnv(bytes: &[u8]) -> i32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    i32::from_be_bytes(h.to_be_bytes())
}

/// Maps a client error. Server errors carry their message and SQLSTATE (never the `DETAIL`,
/// which may quote values); the connection string is never part of either.
fn db(op: &'static str) -> impl Fn(postgres::Error) -> AuditError {
    move |e| match e.as_db_error() {
        Some(d) => AuditError::Unavailable(format!(
            "postgres {op}: {} (SQLSTATE {})",
            d.message(),
            d.code().code()
        )),
        None => AuditError::Unavailable(format!("postgres {op}: {e}")),
    }
}

fn to_i64(v: u64) -> Result<i64, AuditError> {
    i64::try_from(v).map_err(|_| AuditError::Invalid("value out of range for BIGINT".into()))
}

fn to_u64(v: i64) -> u64 {
    // Only tampered rows hold negative values; read them as 0 so they fail verification.
    u64::try_from(v).unwrap_or(0)
}

/// Statements prepared once per connection. Statements on one chain order by `(chain, seq)`,
/// the primary key, so that PostgreSQL walks that index rather than the one on `seq` alone
/// (which, for a chain with low seqs next to one with high seqs, would scan past the other).
struct Prepared {
    lock: Statement,
    head: Statement,
    insert: Statement,
    insert_checkpoint: Statement,
}

/// An audit log in a PostgreSQL schema.
pub struct PgStore {
    config: PgConfig,
    /// `"schema"`, quoted.
    s: String,
    key: i32,
    conn: Option<(Client, Prepared)>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("schema", &self.config.schema)
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects, creates the schema if needed and migrates it.
    pub fn open(config: PgConfig) -> Result<Self, AuditError> {
        if !valid_schema(&config.schema) {
            return Err(AuditError::Invalid(
                "audit schema name must be lowercase letters, digits and _".into(),
            ));
        }
        if config.chain_id.len() > 64 || config.chain_id.chars().any(|c| c.is_control()) {
            return Err(AuditError::Invalid(
                "audit chain id must be at most 64 printable characters".into(),
            ));
        }
        let s = format!("\"{}\"", config.schema);
        let key = chain_lock_key(&config.schema, &config.chain_id);
        let mut store = PgStore {
            config,
            s,
            key,
            conn: None,
        };
        store.connect()?;
        Ok(store)
    }

    /// The schema version of the log.
    pub fn schema_version(&mut self) -> Result<u32, AuditError> {
        let sql = format!(
            "SELECT COALESCE(MAX(version), 0) FROM {}.schema_version",
            self.s
        );
        let (client, _) = self.client()?;
        let v: i32 = client
            .query_one(sql.as_str(), &[])
            .map_err(db("schema_version"))?
            .get(0);
        Ok(u32::try_from(v).unwrap_or(0))
    }

    fn connect(&mut self) -> Result<(), AuditError> {
        self.conn = None;
        let mut client = Client::connect(&self.config.conninfo, NoTls).map_err(db("connect"))?;
        migrate(&mut client, &self.s, lock_key(&self.config.schema))?;
        let s = &self.s;
        let prepared = Prepared {
            lock: client
                .prepare("SELECT pg_advisory_xact_lock($1, $2)")
                .map_err(db("prepare"))?,
            head: client
                .prepare(&format!(
                    "SELECT seq, hash, time_ms FROM {s}.entries WHERE chain = $1 \
                     ORDER BY chain DESC, seq DESC LIMIT 1"
                ))
                .map_err(db("prepare"))?,
            insert: client
                .prepare(&format!(
                    "INSERT INTO {s}.entries ({ROW_COLUMNS}) \
                     SELECT *, $10::text FROM unnest($1::bigint[], $2::bigint[], $3::text[], \
                     $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])"
                ))
                .map_err(db("prepare"))?,
            insert_checkpoint: client
                .prepare(&format!(
                    "INSERT INTO {s}.checkpoints ({CHECKPOINT_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (chain, seq) DO NOTHING"
                ))
                .map_err(db("prepare"))?,
        };
        self.conn = Some((client, prepared));
        Ok(())
    }

    /// The connection, re-established if it was lost.
    fn client(&mut self) -> Result<(&mut Client, &Prepared), AuditError> {
        if self.conn.as_ref().is_none_or(|(c, _)| c.is_closed()) {
            self.connect()?;
        }
        match &mut self.conn {
            Some((c, p)) => Ok((c, p)),
            None => Err(AuditError::Unavailable("postgres: not connected".into())),
        }
    }

    /// Runs `f` in a write transaction holding the log's advisory lock. A failed transaction is
    /// rolled back (dropping it does) and the connection is dropped too: whether the failure was
    /// the connection's is not reliably known at this point (a terminated backend reports a
    /// FATAL error before the socket is seen closed), and a fresh connection costs little next
    /// to a failed batch.
    fn write<R>(
        &mut self,
        f: impl FnOnce(&mut Transaction<'_>, &Prepared, &Names) -> Result<R, AuditError>,
    ) -> Result<R, AuditError> {
        let result = self.write_once(f);
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    fn write_once<R>(
        &mut self,
        f: impl FnOnce(&mut Transaction<'_>, &Prepared, &Names) -> Result<R, AuditError>,
    ) -> Result<R, AuditError> {
        let names = Names {
            s: self.s.clone(),
            chain: self.config.chain_id.clone(),
        };
        let key = self.key;
        let (client, prepared) = self.client()?;
        let mut tx = client.transaction().map_err(db("begin"))?;
        tx.execute(&prepared.lock, &[&LOCK_CLASS, &key])
            .map_err(db("lock"))?;
        let r = f(&mut tx, prepared, &names)?;
        tx.commit().map_err(db("commit"))?;
        Ok(r)
    }
}

/// Schema-qualified names for statements built per call, and the chain written.
struct Names {
    s: String,
    chain: String,
}

fn migrate(client: &mut Client, s: &str, key: i32) -> Result<(), AuditError> {
    let mut tx = client.transaction().map_err(db("migrate"))?;
    // Under the log's lock: several instances starting at once migrate one after the other.
    tx.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&LOCK_CLASS, &key])
        .map_err(db("migrate"))?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {s};
         CREATE TABLE IF NOT EXISTS {s}.schema_version (
            version    INTEGER PRIMARY KEY,
            applied_ms BIGINT NOT NULL
         );"
    ))
    .map_err(db("migrate"))?;
    let current: i32 = tx
        .query_one(
            &format!("SELECT COALESCE(MAX(version), 0) FROM {s}.schema_version"),
            &[],
        )
        .map_err(db("migrate"))?
        .get(0);
    let current = u32::try_from(current).unwrap_or(0);
    if current > PG_SCHEMA_VERSION {
        return Err(AuditError::Unavailable(format!(
            "audit schema version {current} is newer than this sluis ({PG_SCHEMA_VERSION})"
        )));
    }
    let now = to_i64(sluis_audit::now_ms())?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.batch_execute(&sql.replace("{s}", s))
            .map_err(db("migrate"))?;
        let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
        tx.execute(
            &format!("INSERT INTO {s}.schema_version (version, applied_ms) VALUES ($1, $2)"),
            &[&version, &now],
        )
        .map_err(db("migrate"))?;
    }
    tx.commit().map_err(db("migrate"))
}

fn read_row(r: &postgres::Row) -> RawRow {
    raw_row(r)
}

/// A row read back as an entry, with its chain and its field sets resolved.
fn read_entry(r: &postgres::Row, sets: &mut dyn FieldSetSource) -> Result<StoredEntry, AuditError> {
    let mut e = raw_row(r).decode_with(sets)?;
    e.chain = r.get(9);
    Ok(e)
}

/// Stores field sets (once per id). Sorted, so that two writers storing the same new sets take
/// the rows' locks in one order and never deadlock.
fn insert_field_sets(
    tx: &mut Transaction<'_>,
    s: &str,
    sets: &mut [FieldSet],
) -> Result<(), AuditError> {
    if sets.is_empty() {
        return Ok(());
    }
    sets.sort_by(|a, b| a.id.cmp(&b.id));
    let ids: Vec<&str> = sets.iter().map(|f| f.id.as_str()).collect();
    let paths: Vec<&str> = sets.iter().map(|f| f.paths.as_str()).collect();
    tx.execute(
        &format!(
            "INSERT INTO {s}.field_sets (id, paths) SELECT * FROM unnest($1::text[], $2::text[]) \
             ON CONFLICT (id) DO NOTHING"
        ),
        &[&ids, &paths],
    )
    .map_err(db("append"))?;
    Ok(())
}

fn read_field_set(
    q: &mut impl postgres::GenericClient,
    s: &str,
    id: &str,
) -> Result<Option<String>, AuditError> {
    Ok(q.query_opt(
        &format!("SELECT paths FROM {s}.field_sets WHERE id = $1"),
        &[&id],
    )
    .map_err(db("field set"))?
    .map(|r| r.get(0)))
}

/// The field sets of one read, cached.
struct PgSets<'a> {
    client: &'a mut Client,
    s: &'a str,
    cache: std::collections::HashMap<String, Option<String>>,
}

impl FieldSetSource for PgSets<'_> {
    fn field_set(&mut self, id: &str) -> Result<Option<String>, AuditError> {
        if let Some(hit) = self.cache.get(id) {
            return Ok(hit.clone());
        }
        let found = read_field_set(self.client, self.s, id)?;
        self.cache.insert(id.to_owned(), found.clone());
        Ok(found)
    }
}

fn raw_row(r: &postgres::Row) -> RawRow {
    RawRow {
        seq: to_u64(r.get(0)),
        time_ms: to_u64(r.get(1)),
        kind: r.get(2),
        trace_id: r.get(3),
        activity: r.get(4),
        subject: r.get(5),
        body: r.get(6),
        prev_hash: r.get(7),
        hash: r.get(8),
    }
}

fn head(
    tx: &mut Transaction<'_>,
    p: &Prepared,
    chain: &str,
) -> Result<Option<(u64, String)>, AuditError> {
    Ok(tx
        .query_opt(&p.head, &[&chain])
        .map_err(db("head"))?
        .map(|r| (to_u64(r.get(0)), r.get(1))))
}

fn insert_rows(
    tx: &mut Transaction<'_>,
    p: &Prepared,
    chain: &str,
    rows: &[RawRow],
) -> Result<(), AuditError> {
    let seqs = rows
        .iter()
        .map(|r| to_i64(r.seq))
        .collect::<Result<Vec<_>, _>>()?;
    let times = rows
        .iter()
        .map(|r| to_i64(r.time_ms))
        .collect::<Result<Vec<_>, _>>()?;
    let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    let traces: Vec<Option<&str>> = rows.iter().map(|r| r.trace_id.as_deref()).collect();
    let acts: Vec<Option<&str>> = rows.iter().map(|r| r.activity.as_deref()).collect();
    let subjects: Vec<Option<&str>> = rows.iter().map(|r| r.subject.as_deref()).collect();
    let bodies: Vec<&str> = rows.iter().map(|r| r.body.as_str()).collect();
    let prevs: Vec<&str> = rows.iter().map(|r| r.prev_hash.as_str()).collect();
    let hashes: Vec<&str> = rows.iter().map(|r| r.hash.as_str()).collect();
    tx.execute(
        &p.insert,
        &[
            &seqs, &times, &kinds, &traces, &acts, &subjects, &bodies, &prevs, &hashes, &chain,
        ],
    )
    .map_err(db("append"))?;
    Ok(())
}

fn insert_checkpoint(
    tx: &mut Transaction<'_>,
    p: &Prepared,
    chain: &str,
    cp: &Checkpoint,
) -> Result<(), AuditError> {
    tx.execute(
        &p.insert_checkpoint,
        &[
            &to_i64(cp.seq)?,
            &cp.hash,
            &to_i64(cp.time_ms)?,
            &cp.signature,
            &chain,
        ],
    )
    .map_err(db("checkpoint"))?;
    Ok(())
}

fn read_checkpoint(r: &postgres::Row) -> Checkpoint {
    Checkpoint {
        seq: to_u64(r.get(0)),
        hash: r.get(1),
        time_ms: to_u64(r.get(2)),
        signature: r.get(3),
    }
}

fn rows_after(
    tx: &mut Transaction<'_>,
    s: &str,
    chain: &str,
    after: u64,
    limit: usize,
) -> Result<Vec<RawRow>, AuditError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    Ok(tx
        .query(
            &format!(
                "SELECT {ROW_COLUMNS} FROM {s}.entries WHERE chain = $3 AND seq > $1 \
                 ORDER BY chain, seq LIMIT $2"
            ),
            &[&to_i64(after)?, &limit, &chain],
        )
        .map_err(db("read"))?
        .iter()
        .map(read_row)
        .collect())
}

/// The rows of one chain in one REPEATABLE READ transaction, for [`verify_log`].
struct Snapshot<'a, 'b> {
    tx: &'a mut Transaction<'b>,
    s: String,
    chain: String,
}

impl RowSource for Snapshot<'_, '_> {
    fn rows_after(&mut self, after: u64, limit: usize) -> Result<Vec<RawRow>, AuditError> {
        rows_after(self.tx, &self.s, &self.chain, after, limit)
    }

    fn field_set(&mut self, id: &str) -> Result<Option<String>, AuditError> {
        read_field_set(self.tx, &self.s, id)
    }

    fn checkpoints(&mut self) -> Result<Vec<Checkpoint>, AuditError> {
        Ok(self
            .tx
            .query(
                &format!(
                    "SELECT {CHECKPOINT_COLUMNS} FROM {}.checkpoints WHERE chain = $1 \
                     ORDER BY seq",
                    self.s
                ),
                &[&self.chain],
            )
            .map_err(db("checkpoints"))?
            .iter()
            .map(read_checkpoint)
            .collect())
    }
}

impl PgStore {
    /// Every chain of the log, sorted (a chain may hold only checkpoints, or only a purge
    /// record, so both tables are asked).
    fn chains(tx: &mut Transaction<'_>, s: &str) -> Result<Vec<String>, AuditError> {
        Ok(tx
            .query(
                &format!(
                    "SELECT chain FROM (SELECT DISTINCT chain FROM {s}.entries \
                     UNION SELECT DISTINCT chain FROM {s}.checkpoints) c ORDER BY chain"
                ),
                &[],
            )
            .map_err(db("chains"))?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// Purges one chain under that chain's lock (see [`AuditStore::purge`]).
    fn purge_chain(
        &mut self,
        chain_id: &str,
        retention: &dyn Fn(&str) -> Option<u64>,
        now_ms: u64,
    ) -> Result<PurgeRecord, AuditError> {
        let chain = self.config.chain.clone();
        let chain_id = chain_id.to_owned();
        let key = chain_lock_key(&self.config.schema, &chain_id);
        let s = self.s.clone();
        let result = (|| {
            let (client, p) = self.client()?;
            let mut tx = client.transaction().map_err(db("begin"))?;
            tx.execute(&p.lock, &[&LOCK_CLASS, &key])
                .map_err(db("lock"))?;
            let activities: Vec<String> = tx
                .query(
                    &format!(
                        "SELECT DISTINCT activity FROM {s}.entries \
                         WHERE chain = $1 AND activity IS NOT NULL"
                    ),
                    &[&chain_id],
                )
                .map_err(db("purge"))?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let first: Option<(u64, String)> = tx
                .query_opt(
                    &format!(
                        "SELECT seq, prev_hash FROM {s}.entries WHERE chain = $1 \
                         ORDER BY chain, seq LIMIT 1"
                    ),
                    &[&chain_id],
                )
                .map_err(db("purge"))?
                .map(|r| (to_u64(r.get(0)), r.get(1)));
            let old_head = head(&mut tx, p, &chain_id)?;
            let mut planner = PurgePlanner::new(retention, now_ms, activities);
            let mut after = 0u64;
            while !planner.is_complete() {
                let page = rows_after(&mut tx, &s, &chain_id, after, 1_000)?;
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
                tx.execute(
                    &format!("DELETE FROM {s}.entries WHERE chain = $1 AND seq <= $2"),
                    &[&chain_id, &to_i64(up_to)?],
                )
                .map_err(db("purge"))?;
            }
            let rows = seal(
                old_head.as_ref().map(|(s, h)| (*s, h.as_str())),
                &[Entry::Purge(record.clone())],
                now_ms,
            )?;
            insert_rows(&mut tx, p, &chain_id, &rows)?;
            for cp in chain.checkpoints_for(&rows, now_ms)? {
                insert_checkpoint(&mut tx, p, &chain_id, &cp)?;
            }
            tx.commit().map_err(db("commit"))?;
            Ok(record)
        })();
        if result.is_err() {
            self.conn = None;
        }
        result
    }
}

impl AuditStore for PgStore {
    fn append_encoded(
        &mut self,
        encoded: Vec<Encoded>,
        now_ms: u64,
    ) -> Result<(u64, u64), AuditError> {
        if encoded.is_empty() {
            return Err(AuditError::Invalid("empty batch".into()));
        }
        let chain = self.config.chain.clone();
        // Canonical encoding does not depend on the head: it is done before taking the lock (by
        // the committers, through group commit), so the lock is held for hashing, inserting and
        // committing only.
        let mut sets = field_sets_of(&encoded);
        self.write(|tx, p, n| {
            insert_field_sets(tx, &n.s, &mut sets)?;
            let last = head(tx, p, &n.chain)?;
            // Time never goes back along a chain (a clock stepped back stamps the head's time),
            // so a period is a range of seqs in every chain (`chain_seq_at`).
            let head_time = tx
                .query_opt(&p.head, &[&n.chain])
                .map_err(db("head"))?
                .map_or(0, |r| to_u64(r.get(2)));
            let now_ms = now_ms.max(head_time);
            let rows = link(
                last.as_ref().map(|(s, h)| (*s, h.as_str())),
                encoded,
                now_ms,
            )?;
            let (Some(first), Some(end)) = (rows.first(), rows.last()) else {
                return Err(AuditError::Invalid("empty batch".into()));
            };
            let range = (first.seq, end.seq);
            insert_rows(tx, p, &n.chain, &rows)?;
            for cp in chain.checkpoints_for(&rows, now_ms)? {
                insert_checkpoint(tx, p, &n.chain, &cp)?;
            }
            Ok(range)
        })
    }

    fn checkpoint(&mut self, now_ms: u64) -> Result<Option<Checkpoint>, AuditError> {
        let chain = self.config.chain.clone();
        self.write(|tx, p, n| {
            let Some((seq, hash)) = head(tx, p, &n.chain)? else {
                return Ok(None);
            };
            let existing = tx
                .query_opt(
                    &format!(
                        "SELECT {CHECKPOINT_COLUMNS} FROM {}.checkpoints \
                         WHERE chain = $1 AND seq = $2",
                        n.s
                    ),
                    &[&n.chain, &to_i64(seq)?],
                )
                .map_err(db("checkpoint"))?;
            if let Some(row) = existing {
                return Ok(Some(read_checkpoint(&row)));
            }
            let Some(cp) = chain.checkpoint_now(seq, &hash, now_ms)? else {
                return Ok(None);
            };
            insert_checkpoint(tx, p, &n.chain, &cp)?;
            Ok(Some(cp))
        })
    }

    /// This instance's chain's checkpoints.
    fn checkpoints(&mut self) -> Result<Vec<Checkpoint>, AuditError> {
        let sql = format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM {}.checkpoints WHERE chain = $1 ORDER BY seq",
            self.s
        );
        let chain = self.config.chain_id.clone();
        let (client, _) = self.client()?;
        Ok(client
            .query(sql.as_str(), &[&chain])
            .map_err(db("checkpoints"))?
            .iter()
            .map(read_checkpoint)
            .collect())
    }

    fn chain_checkpoints(&mut self) -> Result<Vec<(String, Checkpoint)>, AuditError> {
        let sql = format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM {}.checkpoints ORDER BY chain, seq",
            self.s
        );
        let (client, _) = self.client()?;
        Ok(client
            .query(sql.as_str(), &[])
            .map_err(db("checkpoints"))?
            .iter()
            .map(|r| (r.get(4), read_checkpoint(r)))
            .collect())
    }

    /// The head of this instance's chain.
    fn head(&mut self) -> Result<Option<(u64, String)>, AuditError> {
        let chain = self.config.chain_id.clone();
        let (client, p) = self.client()?;
        Ok(client
            .query_opt(&p.head, &[&chain])
            .map_err(db("head"))?
            .map(|r| (to_u64(r.get(0)), r.get(1))))
    }

    fn chain_id(&self) -> &str {
        &self.config.chain_id
    }

    /// Walks every chain in one snapshot. A log with only the shared chain gets that chain's
    /// report as it is; a log with named chains gets one report per chain, summed.
    fn verify(&mut self, keys: &[PublicKey]) -> Result<VerifyReport, AuditError> {
        self.verify_with_progress(keys, &mut |_| {})
    }

    fn verify_with_progress(
        &mut self,
        keys: &[PublicKey],
        progress: &mut dyn FnMut(u64),
    ) -> Result<VerifyReport, AuditError> {
        let s = self.s.clone();
        let (client, _) = self.client()?;
        // One snapshot for the whole walk, while other instances keep appending.
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(db("verify"))?;
        let chains = Self::chains(&mut tx, &s)?;
        let report = if chains.iter().all(String::is_empty) {
            verify_log_with(
                &mut Snapshot {
                    tx: &mut tx,
                    s,
                    chain: String::new(),
                },
                keys,
                progress,
            )?
        } else {
            let mut reports = Vec::with_capacity(chains.len());
            let mut before = 0u64;
            for chain in chains {
                let report = verify_log_with(
                    &mut Snapshot {
                        tx: &mut tx,
                        s: s.clone(),
                        chain: chain.clone(),
                    },
                    keys,
                    &mut |n| progress(before + n),
                )?;
                before += report.entries;
                reports.push(ChainReport { chain, report });
            }
            VerifyReport::of_chains(reports)
        };
        tx.commit().map_err(db("verify"))?;
        Ok(report)
    }

    fn query(
        &mut self,
        filter: &QueryFilter,
        limit: usize,
    ) -> Result<Vec<StoredEntry>, AuditError> {
        let mut q = Where::default();
        q.text("trace_id =", filter.trace_id.as_deref());
        q.text("activity =", filter.activity.as_deref());
        q.text("subject =", filter.subject.as_deref());
        match filter.kind {
            // Written out, so the partial indexes of migration 4 apply to every plan.
            Some(EntryKind::Alert) => q.sql.push_str(" AND kind = 'alert'"),
            Some(EntryKind::Handling) => q.sql.push_str(" AND kind = 'handling'"),
            kind => q.text("kind =", kind.map(EntryKind::as_str)),
        }
        q.int("time_ms >=", filter.from_ms)?;
        q.int("time_ms <", filter.to_ms)?;
        // A period is a range of seqs in every chain: the scan starts at the earliest chain's
        // first seq in the period and ends after the latest chain's last one.
        if filter.subject.is_none() && filter.trace_id.is_none() {
            if let Some(from) = filter.from_ms {
                let starts = self.chain_seqs_at(from)?;
                if let Some(lo) = starts.iter().map(|(_, s)| *s).min() {
                    q.int("seq >=", Some(lo))?;
                }
            }
            if let Some(to) = filter.to_ms {
                // A chain with nothing at or after `to` ends one past its head.
                let ends = self.chain_seqs_at(to)?;
                if let Some(hi) = ends.iter().map(|(_, s)| *s).max() {
                    q.int("seq <", Some(hi))?;
                }
            }
        }
        q.int("seq >", filter.after_seq)?;
        let rows = self.page(&q, limit, "query")?;
        self.decode_all(&rows)
    }

    /// Purges every chain in turn, each in its own transaction under its own lock, each
    /// recording its own purge record. Returns the purge record of this instance's chain with
    /// the counts of all chains added (it is the summary `sluis audit purge` prints).
    fn purge(
        &mut self,
        retention: &dyn Fn(&str) -> Option<u64>,
        now_ms: u64,
    ) -> Result<PurgeRecord, AuditError> {
        let s = self.s.clone();
        let own = self.config.chain_id.clone();
        let mut chains = {
            let (client, _) = self.client()?;
            let mut tx = client.transaction().map_err(db("purge"))?;
            let c = Self::chains(&mut tx, &s)?;
            tx.commit().map_err(db("purge"))?;
            c
        };
        if !chains.contains(&own) {
            chains.push(own.clone());
        }
        let mut summary: Option<PurgeRecord> = None;
        let mut others: Vec<PurgeRecord> = Vec::new();
        for chain in chains {
            let record = self.purge_chain(&chain, retention, now_ms)?;
            if chain == own {
                summary = Some(record);
            } else {
                others.push(record);
            }
        }
        let mut summary =
            summary.ok_or_else(|| AuditError::Invalid("purge of the own chain missing".into()))?;
        for r in others {
            summary.removed_access += r.removed_access;
            for (activity, n) in r.removed {
                match summary.removed.iter_mut().find(|(a, _)| *a == activity) {
                    Some((_, m)) => *m += n,
                    None => summary.removed.push((activity, n)),
                }
            }
        }
        summary.removed.sort();
        Ok(summary)
    }

    fn export(&mut self, from_seq: u64, limit: usize) -> Result<Vec<StoredEntry>, AuditError> {
        let mut q = Where::default();
        q.int("seq >=", Some(from_seq))?;
        let rows = self.page(&q, limit, "export")?;
        self.decode_all(&rows)
    }

    fn ready(&mut self) -> bool {
        // A probe that fails drops the connection; the second attempt reconnects.
        for _ in 0..2 {
            let ok = match self.client() {
                Ok((client, _)) => client.simple_query("SELECT 1").is_ok(),
                Err(_) => false,
            };
            if ok {
                return true;
            }
            self.conn = None;
        }
        false
    }
}

impl PgStore {
    /// Decodes rows read back, resolving their field sets.
    fn decode_all(&mut self, rows: &[postgres::Row]) -> Result<Vec<StoredEntry>, AuditError> {
        let s = self.s.clone();
        let (client, _) = self.client()?;
        let mut sets = PgSets {
            client,
            s: &s,
            cache: std::collections::HashMap::new(),
        };
        rows.iter().map(|r| read_entry(r, &mut sets)).collect()
    }

    /// Rows matching `q` in `(seq, chain)` order: the first `limit`, and every other chain's row
    /// at the last seq among them, so that a page always ends at a whole seq.
    /// Per chain: whether an entry stamped at or after `time_ms` exists, and the first seq that
    /// is (or one past the chain's head when none is): every entry of the chain before that seq
    /// is stamped before `time_ms`. Chains are found by a skip scan over the
    /// `(chain, seq)` key, seqs by bisection (time does not go back along a chain).
    fn chain_seqs_at(&mut self, time_ms: u64) -> Result<Vec<(bool, u64)>, AuditError> {
        let s = self.s.clone();
        let t = i64::try_from(time_ms).unwrap_or(i64::MAX);
        let (client, _) = self.client()?;
        let chains: Vec<String> = client
            .query(
                &format!(
                    "WITH RECURSIVE c(chain) AS ( \
                       (SELECT chain FROM {s}.entries ORDER BY chain LIMIT 1) \
                       UNION ALL \
                       SELECT (SELECT e.chain FROM {s}.entries e WHERE e.chain > c.chain \
                               ORDER BY e.chain LIMIT 1) FROM c WHERE c.chain IS NOT NULL) \
                     SELECT chain FROM c WHERE chain IS NOT NULL"
                ),
                &[],
            )
            .map_err(db("query"))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let first = client
            .prepare(&format!(
                "SELECT seq FROM {s}.entries WHERE chain = $1 ORDER BY chain, seq LIMIT 1"
            ))
            .map_err(db("query"))?;
        let last = client
            .prepare(&format!(
                "SELECT seq, time_ms FROM {s}.entries WHERE chain = $1 \
                 ORDER BY chain DESC, seq DESC LIMIT 1"
            ))
            .map_err(db("query"))?;
        let at = client
            .prepare(&format!(
                "SELECT time_ms FROM {s}.entries WHERE chain = $1 AND seq >= $2 \
                 ORDER BY chain, seq LIMIT 1"
            ))
            .map_err(db("query"))?;
        let mut out = Vec::with_capacity(chains.len());
        for chain in chains {
            let lo_row = client.query_opt(&first, &[&chain]).map_err(db("query"))?;
            let hi_row = client.query_opt(&last, &[&chain]).map_err(db("query"))?;
            let (Some(lo_row), Some(hi_row)) = (lo_row, hi_row) else {
                continue;
            };
            let mut lo: i64 = lo_row.get(0);
            let head: i64 = hi_row.get(0);
            let head_time: i64 = hi_row.get(1);
            if head_time < t {
                out.push((false, to_u64(head + 1)));
                continue;
            }
            let mut hi = head;
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                match client
                    .query_opt(&at, &[&chain, &mid])
                    .map_err(db("query"))?
                {
                    Some(r) if r.get::<_, i64>(0) >= t => hi = mid,
                    Some(_) => lo = mid + 1,
                    None => hi = mid,
                }
            }
            out.push((true, to_u64(lo)));
        }
        Ok(out)
    }

    fn page(
        &mut self,
        q: &Where,
        limit: usize,
        op: &'static str,
    ) -> Result<Vec<postgres::Row>, AuditError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let offset = i64::try_from(limit - 1).unwrap_or(i64::MAX);
        let n = q.args.len() + 1;
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM {s}.entries WHERE TRUE{w} AND seq <= COALESCE(\
             (SELECT seq FROM {s}.entries WHERE TRUE{w} ORDER BY seq OFFSET ${n} LIMIT 1), \
             {max}) ORDER BY seq, chain",
            s = self.s,
            w = q.sql,
            max = i64::MAX,
        );
        let mut params: Vec<&(dyn ToSql + Sync)> = q.args.iter().map(|b| b.as_ref()).collect();
        params.push(&offset);
        let (client, _) = self.client()?;
        client.query(sql.as_str(), &params).map_err(db(op))
    }
}

/// A WHERE clause with numbered parameters.
#[derive(Default)]
struct Where {
    sql: String,
    args: Vec<Box<dyn ToSql + Sync>>,
}

impl Where {
    fn text(&mut self, cond: &str, v: Option<&str>) {
        if let Some(v) = v {
            self.args.push(Box::new(v.to_owned()));
            self.sql
                .push_str(&format!(" AND {cond} ${}", self.args.len()));
        }
    }

    /// A bound on a BIGINT column: nothing stored lies beyond `i64::MAX`, so a larger bound
    /// (`u64::MAX` for "no end") is the same as `i64::MAX`.
    fn int(&mut self, cond: &str, v: Option<u64>) -> Result<(), AuditError> {
        if let Some(v) = v {
            self.args
                .push(Box::new(i64::try_from(v).unwrap_or(i64::MAX)));
            self.sql
                .push_str(&format!(" AND {cond} ${}", self.args.len()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_validated() {
        for ok in ["sluis_audit", "t_1", "_x"] {
            assert!(valid_schema(ok), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            "Audit",
            "a-b",
            "a\"b",
            "a;drop",
            &"x".repeat(64),
        ] {
            assert!(!valid_schema(bad), "{bad}");
        }
        let err = PgStore::open(
            PgConfig::new("host=/nonexistent", ChainConfig::default()).with_schema("Bad"),
        )
        .unwrap_err();
        assert!(matches!(err, AuditError::Invalid(_)));
    }

    #[test]
    fn lock_keys_differ_per_schema() {
        assert_ne!(lock_key("a"), lock_key("b"));
        assert_eq!(lock_key(DEFAULT_SCHEMA), lock_key("sluis_audit"));
    }

    #[test]
    fn config_debug_hides_the_connection_string() {
        let c = PgConfig::new("host=db password=hunter2", ChainConfig::default());
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
