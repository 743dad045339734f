//! Opening the configured audit store: as the request path's group-commit sink, and directly
//! for the `sluis audit` commands.

use std::sync::Arc;

use sluis_audit::{
    AuditError, AuditStore, ChainConfig, CheckpointSigner, EntrySink, GroupCommitConfig,
    GroupCommitSink, JsonLinesSink, PublicKey, SubjectKey, SubjectKeys,
};

use crate::config::{Audit, AuditKind};

fn chain(cfg: &Audit) -> Result<ChainConfig, AuditError> {
    let signer = match &cfg.checkpoint_key {
        Some(k) => Some(CheckpointSigner::from_seed_hex(k.expose_str())?),
        None => None,
    };
    Ok(ChainConfig {
        checkpoint_every: if signer.is_some() {
            cfg.checkpoint_every
        } else {
            0
        },
        signer,
    })
}

/// The public key checkpoints are verified with, when a checkpoint key is configured.
pub fn checkpoint_public_key(cfg: &Audit) -> Result<Option<PublicKey>, AuditError> {
    match &cfg.checkpoint_key {
        Some(k) => Ok(Some(
            CheckpointSigner::from_seed_hex(k.expose_str())?.public_key(),
        )),
        None => Ok(None),
    }
}

/// Every public key checkpoints may be signed with: the current key's and the retired ones.
pub fn checkpoint_public_keys(cfg: &Audit) -> Result<Vec<PublicKey>, AuditError> {
    let mut keys: Vec<PublicKey> = checkpoint_public_key(cfg)?.into_iter().collect();
    for k in &cfg.retired_checkpoint_public_keys {
        keys.push(PublicKey::from_hex(k)?);
    }
    Ok(keys)
}

/// Opens the store for direct use (verification, overviews, purge, export).
pub fn open_store(cfg: &Audit) -> Result<Box<dyn AuditStore>, AuditError> {
    match cfg.kind {
        AuditKind::Sqlite => {
            let path = cfg.path.as_ref().ok_or_else(|| AuditError::Invalid("audit.path is not set".into()))?;
            Ok(Box::new(sluis_audit_sqlite::SqliteStore::open(path, chain(cfg)?)?))
        }
        AuditKind::Postgres => {
            let url = cfg.url.as_ref().ok_or_else(|| AuditError::Invalid("audit.url is not set".into()))?;
            let mut pg = sluis_audit_postgres::PgConfig::new(url.expose_str(), chain(cfg)?);
            if let Some(s) = &cfg.schema {
                pg = pg.with_schema(s.clone());
            }
            Ok(Box::new(sluis_audit_postgres::PgStore::open(pg)?))
        }
        #[cfg(feature = "bench-no-audit")]
        AuditKind::Disabled => Err(AuditError::Invalid("audit is disabled in this benchmark build".into())),
        AuditKind::Jsonl => Err(AuditError::Invalid(
            "a jsonl audit file has no chain, overview or purge; use kind = \"sqlite\" or \"postgres\"".into(),
        )),
    }
}

/// Opens the sink requests commit to (group commit on a writer thread).
pub fn open_sink(cfg: &Audit) -> Result<Arc<dyn EntrySink>, AuditError> {
    let group = GroupCommitConfig {
        capacity: cfg.queue_capacity,
        ..GroupCommitConfig::default()
    };
    match cfg.kind {
        #[cfg(feature = "bench-no-audit")]
        AuditKind::Disabled => Ok(Arc::new(bench::NoAudit)),
        AuditKind::Jsonl => {
            let path = cfg
                .path
                .as_ref()
                .ok_or_else(|| AuditError::Invalid("audit.path is not set".into()))?;
            Ok(Arc::new(JsonLinesSink::open(path)?))
        }
        AuditKind::Sqlite | AuditKind::Postgres => {
            let cfg = cfg.clone();
            // The store is opened on the writer thread (the synchronous PostgreSQL client must not
            // run inside the async runtime).
            Ok(Arc::new(GroupCommitSink::open_with(
                move || open_store(&cfg),
                group,
            )?))
        }
    }
}

/// The keyed pseudonymiser for subject ids, when a subject key is configured.
pub fn subject_keys(cfg: &Audit) -> Result<Option<SubjectKeys>, AuditError> {
    let mut keys = Vec::new();
    for (id, secret) in &cfg.subject_keys {
        keys.push(SubjectKey::new(id, secret.expose())?);
    }
    let mut keys = keys.into_iter();
    match keys.next() {
        None => Ok(None),
        Some(current) => Ok(Some(SubjectKeys::new(current, keys.collect())?)),
    }
}

/// The sink of benchmark builds that measure sluis without durable recording. Never in a normal
/// build: without the `bench-no-audit` feature the configuration cannot name it.
#[cfg(feature = "bench-no-audit")]
mod bench {
    use sluis_audit::{AccessRecord, AuditSink, CommitFuture, Entry, EntrySink, GroupCommitStats};

    #[derive(Debug)]
    pub struct NoAudit;

    impl AuditSink for NoAudit {
        fn commit(&self, _record: AccessRecord) -> CommitFuture<'_> {
            Box::pin(async { Ok(()) })
        }
        fn ready(&self) -> bool {
            true
        }
        fn queue_depth(&self) -> usize {
            0
        }
    }

    impl EntrySink for NoAudit {
        fn commit_entries(&self, _entries: Vec<Entry>) -> CommitFuture<'_> {
            Box::pin(async { Ok(()) })
        }
        fn stats(&self) -> GroupCommitStats {
            GroupCommitStats {
                ready: true,
                ..GroupCommitStats::default()
            }
        }
    }
}
