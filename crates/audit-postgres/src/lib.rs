//! The PostgreSQL [`AuditStore`]: one log shared by several sluis instances.
//!
//! Every instance runs its own group-commit writer with its own connection, yet the log must stay
//! one gapless, verifiable chain. Each write transaction therefore starts with
//! `pg_advisory_xact_lock(<'slui'>, <hash of the schema name>)`: appends (and purges and
//! on-demand checkpoints) to one log are serialised, and only then is the head `(seq, hash)` read
//! — in READ COMMITTED each statement takes a fresh snapshot, so the read after the lock sees the
//! previous holder's commit — the batch sealed onto it, inserted and committed. The lock is
//! released at commit or rollback, also when a connection dies. Group commit keeps contention at
//! one lock round per batch, not per request. The primary key on `seq` is the last line of
//! defence: two writers can never both store a seq.
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
    AuditError, AuditStore, ChainConfig, Checkpoint, Entry, EntryKind, PublicKey, PurgePlanner,
    PurgeRecord, QueryFilter, RawRow, RowSource, SCHEMA_VERSION, StoredEntry, VerifyReport,
    chain::{encode, link, seal},
    verify_log,
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
];

const ROW_COLUMNS: &str = "seq, time_ms, kind, trace_id, activity, subject, body, prev_hash, hash";

/// How to reach a log.
#[derive(Clone)]
pub struct PgConfig {
    /// libpq-style connection string (`host=... port=... user=... dbname=...`) or URL.
    pub conninfo: String,
    /// Schema holding the log's tables: lowercase letters, digits and `_`, not starting with a
    /// digit, at most 63 characters.
    pub schema: String,
    pub chain: ChainConfig,
}

impl fmt::Debug for PgConfig {
    // The connection string may hold a password: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConfig")
            .field("schema", &self.schema)
            .field("chain", &self.chain)
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
        }
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

/// Second key of the advisory lock: FNV-1a of the schema name, so separate logs in one database
/// do not contend.
pub fn lock_key(schema: &str) -> i32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in schema.as_bytes() {
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

/// Statements prepared once per connection.
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
        let s = format!("\"{}\"", config.schema);
        let key = lock_key(&config.schema);
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
        migrate(&mut client, &self.s, self.key)?;
        let s = &self.s;
        let prepared = Prepared {
            lock: client
                .prepare("SELECT pg_advisory_xact_lock($1, $2)")
                .map_err(db("prepare"))?,
            head: client
                .prepare(&format!(
                    "SELECT seq, hash FROM {s}.entries ORDER BY seq DESC LIMIT 1"
                ))
                .map_err(db("prepare"))?,
            insert: client
                .prepare(&format!(
                    "INSERT INTO {s}.entries ({ROW_COLUMNS}) \
                     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], \
                     $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])"
                ))
                .map_err(db("prepare"))?,
            insert_checkpoint: client
                .prepare(&format!(
                    "INSERT INTO {s}.checkpoints (seq, hash, time_ms, signature) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (seq) DO NOTHING"
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
        let names = Names { s: self.s.clone() };
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

/// Schema-qualified names for statements built per call.
struct Names {
    s: String,
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
    if current > SCHEMA_VERSION {
        return Err(AuditError::Unavailable(format!(
            "audit schema version {current} is newer than this sluis ({SCHEMA_VERSION})"
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

fn head(tx: &mut Transaction<'_>, p: &Prepared) -> Result<Option<(u64, String)>, AuditError> {
    Ok(tx
        .query_opt(&p.head, &[])
        .map_err(db("head"))?
        .map(|r| (to_u64(r.get(0)), r.get(1))))
}

fn insert_rows(tx: &mut Transaction<'_>, p: &Prepared, rows: &[RawRow]) -> Result<(), AuditError> {
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
            &seqs, &times, &kinds, &traces, &acts, &subjects, &bodies, &prevs, &hashes,
        ],
    )
    .map_err(db("append"))?;
    Ok(())
}

fn insert_checkpoint(
    tx: &mut Transaction<'_>,
    p: &Prepared,
    cp: &Checkpoint,
) -> Result<(), AuditError> {
    tx.execute(
        &p.insert_checkpoint,
        &[
            &to_i64(cp.seq)?,
            &cp.hash,
            &to_i64(cp.time_ms)?,
            &cp.signature,
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
    after: u64,
    limit: usize,
) -> Result<Vec<RawRow>, AuditError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    Ok(tx
        .query(
            &format!("SELECT {ROW_COLUMNS} FROM {s}.entries WHERE seq > $1 ORDER BY seq LIMIT $2"),
            &[&to_i64(after)?, &limit],
        )
        .map_err(db("read"))?
        .iter()
        .map(read_row)
        .collect())
}

/// The rows of one REPEATABLE READ transaction, for [`verify_log`].
struct Snapshot<'a, 'b> {
    tx: &'a mut Transaction<'b>,
    s: String,
}

impl RowSource for Snapshot<'_, '_> {
    fn rows_after(&mut self, after: u64, limit: usize) -> Result<Vec<RawRow>, AuditError> {
        rows_after(self.tx, &self.s, after, limit)
    }

    fn checkpoints(&mut self) -> Result<Vec<Checkpoint>, AuditError> {
        Ok(self
            .tx
            .query(
                &format!(
                    "SELECT seq, hash, time_ms, signature FROM {}.checkpoints ORDER BY seq",
                    self.s
                ),
                &[],
            )
            .map_err(db("checkpoints"))?
            .iter()
            .map(read_checkpoint)
            .collect())
    }
}

impl AuditStore for PgStore {
    fn append(&mut self, batch: &[Entry], now_ms: u64) -> Result<(u64, u64), AuditError> {
        if batch.is_empty() {
            return Err(AuditError::Invalid("empty batch".into()));
        }
        let chain = self.config.chain.clone();
        // Canonical encoding does not depend on the head: do it before taking the lock, so the
        // lock is held for hashing, inserting and committing only.
        let encoded = encode(batch)?;
        self.write(|tx, p, _| {
            let last = head(tx, p)?;
            let rows = link(
                last.as_ref().map(|(s, h)| (*s, h.as_str())),
                encoded,
                now_ms,
            )?;
            let (Some(first), Some(end)) = (rows.first(), rows.last()) else {
                return Err(AuditError::Invalid("empty batch".into()));
            };
            let range = (first.seq, end.seq);
            insert_rows(tx, p, &rows)?;
            for cp in chain.checkpoints_for(&rows, now_ms)? {
                insert_checkpoint(tx, p, &cp)?;
            }
            Ok(range)
        })
    }

    fn checkpoint(&mut self, now_ms: u64) -> Result<Option<Checkpoint>, AuditError> {
        let chain = self.config.chain.clone();
        self.write(|tx, p, n| {
            let Some((seq, hash)) = head(tx, p)? else {
                return Ok(None);
            };
            let existing = tx
                .query_opt(
                    &format!(
                        "SELECT seq, hash, time_ms, signature FROM {}.checkpoints WHERE seq = $1",
                        n.s
                    ),
                    &[&to_i64(seq)?],
                )
                .map_err(db("checkpoint"))?;
            if let Some(row) = existing {
                return Ok(Some(read_checkpoint(&row)));
            }
            let Some(cp) = chain.checkpoint_now(seq, &hash, now_ms)? else {
                return Ok(None);
            };
            insert_checkpoint(tx, p, &cp)?;
            Ok(Some(cp))
        })
    }

    fn checkpoints(&mut self) -> Result<Vec<Checkpoint>, AuditError> {
        let sql = format!(
            "SELECT seq, hash, time_ms, signature FROM {}.checkpoints ORDER BY seq",
            self.s
        );
        let (client, _) = self.client()?;
        Ok(client
            .query(sql.as_str(), &[])
            .map_err(db("checkpoints"))?
            .iter()
            .map(read_checkpoint)
            .collect())
    }

    fn head(&mut self) -> Result<Option<(u64, String)>, AuditError> {
        let (client, p) = self.client()?;
        Ok(client
            .query_opt(&p.head, &[])
            .map_err(db("head"))?
            .map(|r| (to_u64(r.get(0)), r.get(1))))
    }

    fn verify(&mut self, keys: &[PublicKey]) -> Result<VerifyReport, AuditError> {
        let s = self.s.clone();
        let (client, _) = self.client()?;
        // One snapshot for the whole walk, while other instances keep appending.
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(db("verify"))?;
        let report = verify_log(&mut Snapshot { tx: &mut tx, s }, keys)?;
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
        q.text("kind =", filter.kind.map(EntryKind::as_str));
        q.int("time_ms >=", filter.from_ms)?;
        q.int("time_ms <", filter.to_ms)?;
        q.int("seq >", filter.after_seq)?;
        q.args
            .push(Box::new(i64::try_from(limit).unwrap_or(i64::MAX)));
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM {}.entries WHERE TRUE{} ORDER BY seq LIMIT ${}",
            self.s,
            q.sql,
            q.args.len()
        );
        let params: Vec<&(dyn ToSql + Sync)> = q.args.iter().map(|b| b.as_ref()).collect();
        let (client, _) = self.client()?;
        let rows = client.query(sql.as_str(), &params).map_err(db("query"))?;
        rows.iter().map(|r| read_row(r).decode()).collect()
    }

    fn purge(
        &mut self,
        retention: &dyn Fn(&str) -> Option<u64>,
        now_ms: u64,
    ) -> Result<PurgeRecord, AuditError> {
        let chain = self.config.chain.clone();
        self.write(|tx, p, n| {
            let s = &n.s;
            let activities: Vec<String> = tx
                .query(
                    &format!(
                        "SELECT DISTINCT activity FROM {s}.entries WHERE activity IS NOT NULL"
                    ),
                    &[],
                )
                .map_err(db("purge"))?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let first: Option<(u64, String)> = tx
                .query_opt(
                    &format!("SELECT seq, prev_hash FROM {s}.entries ORDER BY seq LIMIT 1"),
                    &[],
                )
                .map_err(db("purge"))?
                .map(|r| (to_u64(r.get(0)), r.get(1)));
            let old_head = head(tx, p)?;
            let mut planner = PurgePlanner::new(retention, now_ms, activities);
            let mut after = 0u64;
            while !planner.is_complete() {
                let page = rows_after(tx, s, after, 1_000)?;
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
                    &format!("DELETE FROM {s}.entries WHERE seq <= $1"),
                    &[&to_i64(up_to)?],
                )
                .map_err(db("purge"))?;
            }
            let rows = seal(
                old_head.as_ref().map(|(s, h)| (*s, h.as_str())),
                &[Entry::Purge(record.clone())],
                now_ms,
            )?;
            insert_rows(tx, p, &rows)?;
            for cp in chain.checkpoints_for(&rows, now_ms)? {
                insert_checkpoint(tx, p, &cp)?;
            }
            Ok(record)
        })
    }

    fn export(&mut self, from_seq: u64, limit: usize) -> Result<Vec<StoredEntry>, AuditError> {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM {}.entries WHERE seq >= $1 ORDER BY seq LIMIT $2",
            self.s
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let from = to_i64(from_seq)?;
        let (client, _) = self.client()?;
        let rows = client
            .query(sql.as_str(), &[&from, &limit])
            .map_err(db("export"))?;
        rows.iter().map(|r| read_row(r).decode()).collect()
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

    fn int(&mut self, cond: &str, v: Option<u64>) -> Result<(), AuditError> {
        if let Some(v) = v {
            self.args.push(Box::new(to_i64(v)?));
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
