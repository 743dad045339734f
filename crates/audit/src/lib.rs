//! sluis's protocollering: the record of every request, and the [`AuditSink`] it is committed to
//! before a response leaves.
//!
//! The proxy builds one [`AccessRecord`] per request — allowed, denied or failed — and awaits
//! [`AuditSink::commit`]; only when that succeeds does it release the response. A sink that cannot
//! take the record makes the proxy answer 503 without data ("no record, no data").

pub mod alert;
mod canonical;
pub mod chain;
pub mod fieldset;
mod group;
mod jsonl;
mod memory;
mod otlp;
mod overview;
mod pseudonym;
mod purge;
mod record;
mod store;
pub mod stored;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod verify;
mod witness;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

pub use alert::{AlertRecord, HandlingAction, HandlingRecord, MAX_EVIDENCE, Severity};
pub use jsonl::{JsonLinesSink, MAX_QUEUE};
pub use record::{Entry, FieldList, ProcessingRecord, PurgeRecord, SpanStatus, SubjectRole};

pub use chain::{
    ChainConfig, Checkpoint, CheckpointSigner, EntryIndex, EntryKind, GENESIS_HASH, PublicKey,
    RawRow, StoredEntry,
};
pub use group::{
    BATCH_BUCKETS, CommitObserver, EntrySink, GroupCommitConfig, GroupCommitSink, GroupCommitStats,
};
pub use memory::MemoryStore;
pub use otlp::{OTLP_SCOPE, otlp_request, otlp_request_from_entries, otlp_span};
pub use overview::{
    OVERVIEW_FORMAT, Overview, OverviewLine, OverviewRequest, Period, RegisterActivity, Statement,
    amsterdam_offset_ms, bsn_is_valid, data_categories, data_category, html_escape, local_date,
    local_day_end_ms, local_day_start_ms, mask_bsn, retention_text, rfc3339_local,
};
pub use pseudonym::{SubjectKey, SubjectKeys};
pub use purge::{DAY_MS, PURGE_RECORDS_KEY, PurgePlanner};
pub use store::{AuditStore, IndexReport, QueryFilter, export_each, now_ms};
pub use verify::{
    ChainReport, MAX_PROBLEMS, Problem, ProblemKind, RowSource, VerifyReport, verify_log,
    verify_log_with,
};
pub use witness::{
    ChainState, FileWitness, Witness, Witnessed, chain_states, check_witness, read_witness,
};

/// Errors of the audit crate.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The store could not be opened or written.
    #[error("audit store unavailable: {0}")]
    Unavailable(String),
    /// The commit queue is full: the store is not keeping up.
    #[error("audit queue full")]
    QueueFull,
    /// The writer stopped.
    #[error("audit writer stopped")]
    Stopped,
    /// Data or configuration the audit log cannot accept (an undecodable row, a malformed key).
    /// Never repeats a secret.
    #[error("invalid audit data: {0}")]
    Invalid(String),
}

/// The outcome of a request, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The request was allowed and answered.
    Permit,
    /// The request was refused by policy (or authentication).
    Deny,
    /// The request was allowed but failed (upstream error, timeout...).
    Error,
}

/// One record per request: who, with which rights, for which purpose, which decision.
///
/// Never holds request or response bodies, tokens or secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// Milliseconds since the Unix epoch when the request arrived.
    pub time_ms: u64,
    pub trace_id: String,
    pub span_id: String,
    /// The mounted API's name.
    pub api: String,
    /// e.g. `dataset.afvalwegingen.containers.list`.
    pub operation: String,
    pub method: String,
    pub path: String,
    /// Issuer name of the token, when one was verified.
    pub issuer: Option<String>,
    pub subject: Option<String>,
    /// The acting user (from the configured user header or token claim).
    pub user: Option<String>,
    pub client_id: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The purpose as the client stated it.
    pub purpose: Option<String>,
    /// The registered processing activity the purpose maps to.
    pub processing_activity: Option<String>,
    pub correlation_id: Option<String>,
    pub decision: Decision,
    pub status: u16,
    /// A machine-readable code for denials and errors (e.g. `invalidToken`, `forbidden`).
    pub code: Option<String>,
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Filter and sort parameters refused.
    #[serde(default)]
    pub denied_params: Vec<String>,
    /// Query parameter names (never values) of the request.
    #[serde(default)]
    pub params: Vec<String>,
    /// Fields delivered at a level other than `read` or withheld, as `path=level`.
    #[serde(default)]
    pub field_levels: Vec<String>,
    /// Number of records in the delivered response.
    pub records: u64,
    pub policy_version: Option<String>,
    pub upstream_status: Option<u16>,
    pub duration_ms: u64,
    pub upstream_ms: Option<u64>,
    /// Where `user` came from: `token` (a claim) or `header` (a client trusted to assert it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_source: Option<String>,
    /// Markers, e.g. `upstream-overdelivered` when the upstream sent data sluis had to strip.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// The registered application the client belongs to (the register's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// Token scopes outside the processing activity's ceiling, not used for this request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_dropped: Vec<String>,
}

/// A boxed future returned by [`AuditSink`] methods.
pub type CommitFuture<'a> = Pin<Box<dyn Future<Output = Result<(), AuditError>> + Send + 'a>>;

/// Where records go. Implementations must make a record durable before the future resolves.
pub trait AuditSink: Send + Sync + std::fmt::Debug {
    /// Commits one record; resolves when it is durable.
    fn commit(&self, record: AccessRecord) -> CommitFuture<'_>;
    /// True when the sink can currently take records (for readiness checks).
    fn ready(&self) -> bool;
    /// Records queued but not yet committed.
    fn queue_depth(&self) -> usize;
}
