//! `[audit]`: which store records requests, its keys, and the settings of the group commit.

use std::path::PathBuf;

use serde::Deserialize;

use super::Validator;
use super::api::RawSealKey;
use super::secret::{RawSecret, Secret};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudit {
    #[serde(default)]
    kind: AuditKind,
    path: Option<PathBuf>,
    url: Option<RawSecret>,
    schema: Option<String>,
    subject_key: Option<RawSecret>,
    #[serde(default = "default_subject_key_id")]
    subject_key_id: String,
    #[serde(default)]
    retired_subject_keys: Vec<RawSealKey>,
    checkpoint_key: Option<RawSecret>,
    #[serde(default)]
    retired_checkpoint_public_keys: Vec<String>,
    #[serde(default = "default_checkpoint_every")]
    checkpoint_every: u64,
    #[serde(default = "default_checkpoint_interval_ms")]
    checkpoint_interval_ms: u64,
    witness: Option<PathBuf>,
    chain: Option<String>,
    #[serde(default = "default_audit_queue")]
    queue_capacity: usize,
    controller: Option<String>,
    instance: Option<String>,
    reader_scope: Option<String>,
}

fn default_subject_key_id() -> String {
    "k1".into()
}
fn default_checkpoint_every() -> u64 {
    1000
}
fn default_checkpoint_interval_ms() -> u64 {
    10_000
}
fn default_audit_queue() -> usize {
    65_536
}

/// Which store records requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditKind {
    /// Embedded SQLite (WAL), hash-chained with signed checkpoints. The default.
    #[default]
    Sqlite,
    /// PostgreSQL, for several sluis instances sharing one log.
    Postgres,
    /// JSON lines appended to a file, fsynced in groups; not tamper-evident (development).
    Jsonl,
    /// Records nothing. Exists only in builds with the `bench-no-audit` feature, to measure what
    /// durable recording costs; a normal build refuses this value.
    #[cfg(feature = "bench-no-audit")]
    Disabled,
}

/// The validated `[audit]` settings.
#[derive(Debug, Clone)]
pub struct Audit {
    pub kind: AuditKind,
    /// SQLite database or JSON-lines file.
    pub path: Option<PathBuf>,
    /// PostgreSQL connection string.
    pub url: Option<Secret>,
    pub schema: Option<String>,
    /// Keys for subject pseudonyms: (id, key), current first.
    pub subject_keys: Vec<(String, Secret)>,
    /// Ed25519 seed (64 hex digits) for signed checkpoints.
    pub checkpoint_key: Option<Secret>,
    /// Public keys (64 hex digits) of earlier checkpoint keys, so checkpoints signed before a
    /// rotation still verify.
    pub retired_checkpoint_public_keys: Vec<String>,
    pub checkpoint_every: u64,
    /// Checkpoint the head this often while entries arrive, and at start and shutdown (0: off).
    pub checkpoint_interval_ms: u64,
    /// Append-only file every checkpoint the writer signs is also written to.
    pub witness: Option<PathBuf>,
    /// This instance's chain in a PostgreSQL log with one chain per instance (empty: the one
    /// shared chain, appended under one lock).
    pub chain: String,
    pub queue_capacity: usize,
    /// The controller named in citizens' overviews.
    pub controller: String,
    /// This instance's name in processing records (`resource`).
    pub instance: String,
    /// The scope a token needs to read the log on the admin listener (`/audit/entries`);
    /// without it the endpoint is off.
    pub reader_scope: Option<String>,
}

impl Validator<'_> {
    pub(super) fn audit(&mut self, ra: &RawAudit) -> Option<Audit> {
        let path = ra.path.as_ref().map(|p| self.rel(p));
        let url = ra.url.as_ref().and_then(|u| self.secret("audit.url", u));
        match ra.kind {
            AuditKind::Sqlite | AuditKind::Jsonl if path.is_none() => {
                self.problem("audit.path", "the audit store needs a path")
            }
            AuditKind::Postgres if ra.url.is_none() => self.problem(
                "audit.url",
                "a postgres audit store needs url = { env = ... }",
            ),
            _ => {}
        }
        let mut subject_keys = Vec::new();
        if let Some(k) = &ra.subject_key
            && let Some(s) = self.secret("audit.subject_key", k)
        {
            if s.expose().len() < 32 {
                self.problem(
                    "audit.subject_key",
                    "the subject key must be at least 32 bytes",
                );
            }
            subject_keys.push((ra.subject_key_id.clone(), s));
        }
        for (j, k) in ra.retired_subject_keys.iter().enumerate() {
            if let Some(s) = self.secret(&format!("audit.retired_subject_keys[{j}].key"), &k.key) {
                subject_keys.push((k.id.clone(), s));
            }
        }
        let checkpoint_key = ra
            .checkpoint_key
            .as_ref()
            .and_then(|k| self.secret("audit.checkpoint_key", k));
        if checkpoint_key.as_ref().is_some_and(|k| {
            let t = k.expose_str().trim();
            t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit())
        }) {
            self.problem(
                "audit.checkpoint_key",
                "the checkpoint key must be 64 hex digits (an Ed25519 seed)",
            );
        }
        for (j, k) in ra.retired_checkpoint_public_keys.iter().enumerate() {
            if sluis_audit::PublicKey::from_hex(k).is_err() {
                self.problem(
                    &format!("audit.retired_checkpoint_public_keys[{j}]"),
                    "a checkpoint public key is 64 hex digits (an Ed25519 public key)",
                );
            }
        }
        if ra.witness.is_some() && ra.checkpoint_key.is_none() {
            self.problem(
                "audit.witness",
                "a witness keeps signed checkpoints: set audit.checkpoint_key too",
            );
        }
        if ra.witness.is_some() && ra.checkpoint_interval_ms == 0 {
            self.problem(
                "audit.witness",
                "a witness needs checkpoints on a cadence: checkpoint_interval_ms must be above 0",
            );
        }
        let chain = ra.chain.clone().unwrap_or_default();
        if !chain.is_empty() {
            if ra.kind != AuditKind::Postgres {
                self.problem(
                    "audit.chain",
                    "one chain per instance exists only in a postgres audit store",
                );
            }
            if chain.len() > 64
                || !chain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            {
                self.problem(
                    "audit.chain",
                    "a chain id is 1 to 64 letters, digits, '-', '_' or '.'",
                );
            }
        }
        if ra.queue_capacity == 0 {
            self.problem("audit.queue_capacity", "must be above 0");
        }
        Some(Audit {
            kind: ra.kind,
            path,
            url,
            schema: ra.schema.clone(),
            subject_keys,
            checkpoint_key,
            retired_checkpoint_public_keys: ra.retired_checkpoint_public_keys.clone(),
            checkpoint_every: ra.checkpoint_every,
            checkpoint_interval_ms: ra.checkpoint_interval_ms,
            witness: ra.witness.as_ref().map(|p| self.rel(p)),
            chain,
            queue_capacity: ra.queue_capacity,
            controller: ra
                .controller
                .clone()
                .unwrap_or_else(|| "de gemeente".into()),
            instance: ra
                .instance
                .clone()
                .unwrap_or_else(|| format!("sluis/{}", env!("CARGO_PKG_VERSION"))),
            reader_scope: ra.reader_scope.clone(),
        })
    }
}
