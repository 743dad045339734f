//! The log's subject and trace indexes: derived data in a database of their own beside the log
//! (`<log>-index`), built off the commit path.
//!
//! The index keys a subject or trace by its last 8 bytes (`substr(x, -8)`: of a pseudonym, 8
//! bytes of its HMAC; of a trace id, 8 of its 16 random bytes; of any other text, its last 8
//! characters), and a query checks the whole value on the log's row: the index finds the rows,
//! the log decides which match. An index entry is then about 20 bytes.
//!
//! A commit writes the log's rows, which append at the end of their table, and nothing at random
//! places. An index on pseudonyms or random trace ids inside the commit would put nearly every
//! entry in a B-tree leaf page of its own, written to the WAL and then to the database again:
//! half of what the writer did per record.
//!
//! Instead the index is a list of **runs**. A run covers a range of seqs and holds, sorted, the
//! `(subject, seq)` of every row in it with a subject and the `(trace id, seq)` of every access
//! record in it. Runs are contiguous: together they cover the log up to the last run's end. A
//! query looks its subject up in each run (one seek per run) and scans the **tail** (the rows
//! after the last run) for the rest. A row is in one of the two at every moment, whatever the
//! order in which the two databases are read: a run is written only after the rows it covers are
//! committed, and it moves the tail's start in the same transaction.
//!
//! - A run is built once the tail holds [`IndexConfig::run_records`] rows, in one transaction of
//!   the index database that appends a sorted run at the end of its B-trees.
//! - [`IndexConfig::merge_fanout`] runs of the first level are merged into one of the second;
//!   those are not merged again. With the defaults (runs of 16,384 rows, fanout 64) a query costs
//!   one seek per 1,048,576 records (up to 63 first-level runs, the rest second-level) plus a
//!   scan of at most 16,384 rows. Small runs keep each build short (about 30 ms): a build reads
//!   the log in one transaction, and longer builds showed as pauses of the writer.
//! - Runs wholly before the log's first seq (purged) are dropped.
//!
//! The index database is rebuildable. It runs with `synchronous = NORMAL` (a crash may lose its
//! newest runs, never a record: the tail then covers them). A store checks it against the log when
//! it opens (the newest run's last seq and hash: a log restored from an older backup, or another
//! log, makes it start over), `verify` compares every run with the log, and
//! [`SqliteStore::rebuild_index`](crate::SqliteStore::rebuild_index) clears it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use sluis_audit::{AuditError, Problem, ProblemKind};

use crate::db;

/// The format of the index database (its `user_version`); any other is dropped and rebuilt.
const FORMAT: i64 = 2;

const SCHEMA: &str = "
    CREATE TABLE runs (
        id        INTEGER PRIMARY KEY,
        first_seq INTEGER NOT NULL,
        last_seq  INTEGER NOT NULL,
        level     INTEGER NOT NULL,
        last_hash BLOB NOT NULL
    );
    CREATE TABLE by_subject (
        run     INTEGER NOT NULL,
        subject NOT NULL,
        seq     INTEGER NOT NULL,
        PRIMARY KEY (run, subject, seq)
    ) WITHOUT ROWID;
    CREATE TABLE by_trace (
        run   INTEGER NOT NULL,
        trace NOT NULL,
        seq   INTEGER NOT NULL,
        PRIMARY KEY (run, trace, seq)
    ) WITHOUT ROWID;
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );";

/// How the index is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexConfig {
    /// Rows per first-level run (and at most this many in the tail a query scans, once the
    /// index has caught up).
    pub run_records: u64,
    /// First-level runs merged into one second-level run.
    pub merge_fanout: u64,
    /// Who builds the runs.
    pub build: IndexBuild,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            run_records: 16_384,
            merge_fanout: 64,
            build: IndexBuild::OnDemand,
        }
    }
}

/// Who builds the index's runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexBuild {
    /// Only [`SqliteStore::build_index`](crate::SqliteStore::build_index): for a store opened
    /// to read, beside a running sluis whose writer keeps the index.
    OnDemand,
    /// A thread of its own, every interval (the store requests commit to).
    Background(Duration),
    /// The writer itself, after each commit (tests: every state of the index is reached in
    /// order).
    AfterAppend,
}

/// What one call to [`Index::build`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexProgress {
    /// Runs built from the tail.
    pub runs_built: u64,
    /// Merges of first-level runs.
    pub merges: u64,
    /// Runs dropped because the log no longer holds any of their rows.
    pub runs_dropped: u64,
    /// The last seq the runs cover (0: none), after the call.
    pub indexed_to: u64,
}

/// The index database file of the log at `log`.
pub fn index_path(log: &Path) -> PathBuf {
    let mut s = log.as_os_str().to_owned();
    s.push("-index");
    PathBuf::from(s)
}

/// A connection to the index database, with the log attached as `log` (read only: nothing here
/// writes it, and no transaction here takes its write lock).
#[derive(Debug)]
pub(crate) struct Index {
    conn: Connection,
    config: IndexConfig,
}

impl Index {
    /// Opens (creating, or recreating when of another format) the index of the log at `log`,
    /// and starts it over when it does not belong to the log as it is now.
    pub(crate) fn open(
        log: &Path,
        config: IndexConfig,
        busy: Duration,
    ) -> Result<Self, AuditError> {
        let conn = Connection::open(index_path(log)).map_err(db("index open"))?;
        conn.busy_timeout(busy).map_err(db("index open"))?;
        let mode = crate::wal_mode(&conn, busy)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(AuditError::Unavailable(format!(
                "sqlite index: WAL mode not available (journal_mode is {mode})"
            )));
        }
        conn.execute_batch("PRAGMA synchronous = NORMAL;")
            .map_err(db("index synchronous"))?;
        let mut index = Index { conn, config };
        // Before the log is attached: `BEGIN IMMEDIATE` locks every attached database.
        index.ensure_schema()?;
        index
            .conn
            .execute("ATTACH DATABASE ?1 AS log", params![log.to_string_lossy()])
            .map_err(db("index attach"))?;
        index.drop_if_stale()?;
        Ok(index)
    }

    fn ensure_schema(&mut self) -> Result<(), AuditError> {
        // Read first: a store opened to read (a page of the supervision UI) must not wait for
        // the write lock while the index thread merges runs.
        let version: i64 = self
            .conn
            .query_row("PRAGMA main.user_version", [], |r| r.get(0))
            .map_err(db("index schema"))?;
        if version == FORMAT {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db("index schema"))?;
        let version: i64 = tx
            .query_row("PRAGMA main.user_version", [], |r| r.get(0))
            .map_err(db("index schema"))?;
        if version != FORMAT {
            tx.execute_batch(
                "DROP TABLE IF EXISTS main.runs; DROP TABLE IF EXISTS main.by_subject;
                 DROP TABLE IF EXISTS main.by_trace; DROP TABLE IF EXISTS main.meta;",
            )
            .map_err(db("index schema"))?;
            tx.execute_batch(SCHEMA).map_err(db("index schema"))?;
            tx.execute_batch(&format!("PRAGMA main.user_version = {FORMAT};"))
                .map_err(db("index schema"))?;
        }
        tx.commit().map_err(db("index schema"))
    }

    /// A transaction that holds the index database's write lock from its first statement (and
    /// never the log's: `BEGIN IMMEDIATE` would take every attached database's).
    fn write_tx(&mut self, op: &'static str) -> Result<rusqlite::Transaction<'_>, AuditError> {
        let tx = self.conn.transaction().map_err(db(op))?;
        tx.execute(
            "INSERT INTO main.meta (key, value) VALUES ('written_ms', ?1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![i64::try_from(sluis_audit::now_ms()).unwrap_or(i64::MAX)],
        )
        .map_err(db(op))?;
        Ok(tx)
    }

    /// Clears the index when its newest run ends past the log's head or at a row with another
    /// hash: the log was restored from an older copy, or is another log.
    fn drop_if_stale(&mut self) -> Result<(), AuditError> {
        let newest: Option<(u64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT last_seq, last_hash FROM main.runs ORDER BY last_seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db("index check"))?;
        let Some((last, hash)) = newest else {
            return Ok(());
        };
        let (first, head) = log_bounds(&self.conn)?;
        let stale = match (first, head) {
            (Some(first), Some(head)) if last >= first => {
                last > head || row_hash(&self.conn, last)?.as_deref() != Some(hash.as_slice())
            }
            // Everything the runs cover is purged: they go at the next build.
            (Some(_), Some(_)) => false,
            _ => true,
        };
        if stale {
            self.clear()?;
        }
        Ok(())
    }

    /// The last seq the runs cover (0: none).
    pub(crate) fn indexed_to(&self) -> Result<u64, AuditError> {
        indexed_to(&self.conn, "main")
    }

    /// Removes every run: the whole log is the tail until the index is built again.
    pub(crate) fn clear(&mut self) -> Result<(), AuditError> {
        let tx = self.write_tx("index clear")?;
        tx.execute_batch(
            "DELETE FROM main.by_subject; DELETE FROM main.by_trace; DELETE FROM main.runs;",
        )
        .map_err(db("index clear"))?;
        tx.commit().map_err(db("index clear"))
    }

    /// Builds the runs the tail has grown enough for (with `partial`, also one of the rest),
    /// merges what is due and drops what the log no longer holds.
    pub(crate) fn build(&mut self, partial: bool) -> Result<IndexProgress, AuditError> {
        let mut progress = IndexProgress {
            runs_dropped: self.drop_purged()?,
            ..IndexProgress::default()
        };
        while self.build_run(partial)? {
            progress.runs_built += 1;
            while self.merge()? {
                progress.merges += 1;
            }
        }
        progress.indexed_to = indexed_to(&self.conn, "main")?;
        Ok(progress)
    }

    fn build_run(&mut self, partial: bool) -> Result<bool, AuditError> {
        let run_records = self.config.run_records.max(1);
        let tx = self.write_tx("index build")?;
        let covered = indexed_to(&tx, "main")?;
        let (Some(first_log), Some(head)) = log_bounds(&tx)? else {
            return Ok(false);
        };
        let first = (covered + 1).max(first_log);
        if head < first || (!partial && head - first + 1 < run_records) {
            return Ok(false);
        }
        let last = head.min(first + run_records - 1);
        let Some(hash) = row_hash(&tx, last)? else {
            return Err(AuditError::Unavailable(format!(
                "sqlite index: the log has no row at seq {last}, inside its range"
            )));
        };
        tx.execute(
            "INSERT INTO main.runs (first_seq, last_seq, level, last_hash) VALUES (?1, ?2, 0, ?3)",
            params![first, last, hash],
        )
        .map_err(db("index build"))?;
        let run = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO main.by_subject (run, subject, seq) \
             SELECT ?1, substr(subject, -8), seq FROM log.entries \
             WHERE seq BETWEEN ?2 AND ?3 AND subject IS NOT NULL ORDER BY 2, 3",
            params![run, first, last],
        )
        .map_err(db("index build"))?;
        tx.execute(
            "INSERT INTO main.by_trace (run, trace, seq) \
             SELECT ?1, substr(trace_id, -8), seq FROM log.entries \
             WHERE seq BETWEEN ?2 AND ?3 AND kind = 'access' AND trace_id IS NOT NULL \
             ORDER BY 2, 3",
            params![run, first, last],
        )
        .map_err(db("index build"))?;
        tx.commit().map_err(db("index build"))?;
        Ok(true)
    }

    /// Merges the oldest `merge_fanout` first-level runs into one second-level run, when there
    /// are that many. First-level runs are always the newest, so they are contiguous.
    fn merge(&mut self) -> Result<bool, AuditError> {
        let fanout = self.config.merge_fanout;
        if fanout < 2 {
            return Ok(false);
        }
        let tx = self.write_tx("index merge")?;
        let runs: Vec<(i64, u64, u64, Vec<u8>)> = tx
            .prepare(
                "SELECT id, first_seq, last_seq, last_hash FROM main.runs WHERE level = 0 \
                 ORDER BY first_seq LIMIT ?1",
            )
            .and_then(|mut s| {
                s.query_map(params![fanout], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect()
            })
            .map_err(db("index merge"))?;
        let (Some(oldest), Some(newest)) = (runs.first(), runs.last()) else {
            return Ok(false);
        };
        if (runs.len() as u64) < fanout {
            return Ok(false);
        }
        let (lo, hi) = (oldest.0, newest.0);
        tx.execute(
            "INSERT INTO main.runs (first_seq, last_seq, level, last_hash) VALUES (?1, ?2, 1, ?3)",
            params![oldest.1, newest.2, newest.3],
        )
        .map_err(db("index merge"))?;
        let merged = tx.last_insert_rowid();
        // The merged run's id is larger than any other: its sorted rows append at the end.
        for sql in [
            "INSERT INTO main.by_subject (run, subject, seq) SELECT ?1, subject, seq \
             FROM main.by_subject WHERE run IN (SELECT id FROM main.runs \
             WHERE level = 0 AND id BETWEEN ?2 AND ?3) ORDER BY subject, seq",
            "INSERT INTO main.by_trace (run, trace, seq) SELECT ?1, trace, seq \
             FROM main.by_trace WHERE run IN (SELECT id FROM main.runs \
             WHERE level = 0 AND id BETWEEN ?2 AND ?3) ORDER BY trace, seq",
        ] {
            tx.execute(sql, params![merged, lo, hi])
                .map_err(db("index merge"))?;
        }
        drop_runs(&tx, "level = 0 AND id BETWEEN ?1 AND ?2", params![lo, hi])?;
        tx.commit().map_err(db("index merge"))?;
        Ok(true)
    }

    /// Drops the runs wholly before the log's first seq.
    fn drop_purged(&mut self) -> Result<u64, AuditError> {
        let tx = self.write_tx("index purge")?;
        let (Some(first), _) = log_bounds(&tx)? else {
            return Ok(0);
        };
        let dropped = drop_runs(&tx, "last_seq < ?1", params![first])?;
        tx.commit().map_err(db("index purge"))?;
        Ok(dropped)
    }

    /// The task of a writer's index thread: builds what is due. A failed build changes nothing
    /// (its transaction rolls back): queries scan a longer tail until the next one succeeds.
    pub(crate) fn builder(mut self) -> impl FnMut() + Send + 'static {
        let mut failing = false;
        move || match self.build(false) {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("audit index: building again");
            }
            Ok(_) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "audit index: build failed; queries scan the unindexed tail");
            }
            Err(_) => {}
        }
    }

    /// Compares every run with the rows of the log it covers; the problems found (kind
    /// [`ProblemKind::Index`]), the first `max` of them, and how many there were.
    pub(crate) fn check(&mut self, max: usize) -> Result<(Vec<Problem>, u64), AuditError> {
        let tx = self.conn.transaction().map_err(db("index check"))?;
        let runs: Vec<(i64, u64, u64)> = tx
            .prepare("SELECT id, first_seq, last_seq FROM main.runs ORDER BY first_seq")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .map_err(db("index check"))?;
        let (first_log, _) = log_bounds(&tx)?;
        let mut problems = Vec::new();
        let mut total = 0u64;
        let mut report = |seq: u64, detail: String| {
            total += 1;
            if problems.len() < max {
                problems.push(Problem {
                    kind: ProblemKind::Index,
                    seq,
                    detail,
                });
            }
        };
        // The first run starts where the log does (or before: a purge removed its beginning).
        let mut expected_first: Option<u64> = match (runs.first(), first_log) {
            (Some(&(_, first, _)), Some(log)) if first > log => Some(log),
            _ => None,
        };
        for (run, first, last) in runs {
            if let Some(expected) = expected_first
                && first != expected
            {
                report(
                    expected,
                    format!(
                        "the index has no run for seqs {expected} to {}",
                        first.saturating_sub(1)
                    ),
                );
            }
            expected_first = Some(last + 1);
            // A run the log's purged prefix reaches into is compared where it has rows.
            if first_log.is_some_and(|f| f > first) {
                continue;
            }
            for (what, log_rows, missing, count) in [
                (
                    "subject",
                    "SELECT COUNT(*) FROM log.entries WHERE seq BETWEEN ?1 AND ?2 \
                     AND subject IS NOT NULL",
                    "SELECT MIN(e.seq) FROM log.entries e WHERE e.seq BETWEEN ?2 AND ?3 \
                     AND e.subject IS NOT NULL AND NOT EXISTS (SELECT 1 FROM main.by_subject s \
                     WHERE s.run = ?1 AND s.subject = substr(e.subject, -8) AND s.seq = e.seq)",
                    "SELECT COUNT(*) FROM main.by_subject WHERE run = ?1",
                ),
                (
                    "trace",
                    "SELECT COUNT(*) FROM log.entries WHERE seq BETWEEN ?1 AND ?2 \
                     AND kind = 'access' AND trace_id IS NOT NULL",
                    "SELECT MIN(e.seq) FROM log.entries e WHERE e.seq BETWEEN ?2 AND ?3 \
                     AND e.kind = 'access' AND e.trace_id IS NOT NULL AND NOT EXISTS \
                     (SELECT 1 FROM main.by_trace t WHERE t.run = ?1 AND t.trace = substr(e.trace_id, -8) \
                     AND t.seq = e.seq)",
                    "SELECT COUNT(*) FROM main.by_trace WHERE run = ?1",
                ),
            ] {
                let one =
                    |sql: &str, args: &[&dyn rusqlite::ToSql]| -> Result<Option<u64>, AuditError> {
                        tx.query_row(sql, args, |r| r.get(0))
                            .map_err(db("index check"))
                    };
                let in_log = one(log_rows, params![first, last])?.unwrap_or(0);
                let in_index = one(count, params![run])?.unwrap_or(0);
                if let Some(seq) = one(missing, params![run, first, last])? {
                    report(
                        seq,
                        format!(
                            "the {what} index's run for seqs {first} to {last} lacks the record \
                             at seq {seq}"
                        ),
                    );
                } else if in_log != in_index {
                    report(
                        first,
                        format!(
                            "the {what} index's run for seqs {first} to {last} lists {in_index} \
                             records, the log has {in_log}"
                        ),
                    );
                }
            }
        }
        tx.finish().map_err(db("index check"))?;
        Ok((problems, total))
    }
}

/// Deletes the runs matching `cond` (over `runs`) and their rows; how many.
fn drop_runs(
    tx: &rusqlite::Transaction<'_>,
    cond: &str,
    args: impl rusqlite::Params + Clone,
) -> Result<u64, AuditError> {
    for table in ["by_subject", "by_trace"] {
        tx.execute(
            &format!(
                "DELETE FROM main.{table} WHERE run IN (SELECT id FROM main.runs WHERE {cond})"
            ),
            args.clone(),
        )
        .map_err(db("index drop"))?;
    }
    let n = tx
        .execute(&format!("DELETE FROM main.runs WHERE {cond}"), args)
        .map_err(db("index drop"))?;
    Ok(n as u64)
}

/// The last seq the runs in database `schema` cover; 0 when there are none.
pub(crate) fn indexed_to(conn: &Connection, schema: &str) -> Result<u64, AuditError> {
    conn.query_row(
        &format!("SELECT COALESCE(MAX(last_seq), 0) FROM {schema}.runs"),
        [],
        |r| r.get(0),
    )
    .map_err(db("index"))
}

/// The log's first and last seq (two one-row lookups on its primary key).
fn log_bounds(conn: &Connection) -> Result<(Option<u64>, Option<u64>), AuditError> {
    let end = |order: &str| -> Result<Option<u64>, AuditError> {
        conn.query_row(
            &format!("SELECT seq FROM log.entries ORDER BY seq {order} LIMIT 1"),
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(db("index"))
    };
    Ok((end("ASC")?, end("DESC")?))
}

/// The stored hash of the log's row at `seq`.
fn row_hash(conn: &Connection, seq: u64) -> Result<Option<Vec<u8>>, AuditError> {
    conn.query_row(
        "SELECT hash FROM log.entries WHERE seq = ?1",
        params![seq],
        |r| match r.get_ref(0)? {
            rusqlite::types::ValueRef::Blob(b) => Ok(b.to_vec()),
            rusqlite::types::ValueRef::Text(t) => Ok(t.to_vec()),
            _ => Ok(Vec::new()),
        },
    )
    .optional()
    .map_err(db("index"))
}
