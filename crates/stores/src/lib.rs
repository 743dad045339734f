//! The composition of sluis's audit store: from the `[audit]` settings, the store the binary
//! records through (SQLite, PostgreSQL, JSON lines) — as the request path's group-commit sink
//! and, for `sluis audit` and the admin read endpoint, opened directly. The proxy crate sees
//! only the `sluis_audit` traits.

use std::sync::Arc;

use sluis_audit::{
    AuditError, AuditStore, CommitObserver, EntrySink, FileWitness, GroupCommitConfig,
    GroupCommitSink, JsonLinesSink, Witness,
};
use sluis_proxy::auditing::chain;
use sluis_proxy::config::{Audit, AuditKind, Config};
use sluis_proxy::{AuditWiring, ServerHandle, StartError};

/// Opens the store for direct use (verification, overviews, purge, export).
pub fn open_store(cfg: &Audit) -> Result<Box<dyn AuditStore>, AuditError> {
    open(cfg, false)
}

/// Opens the store requests commit to: an SQLite log checkpoints its WAL and builds its index on
/// threads of their own.
fn open_writer(cfg: &Audit) -> Result<Box<dyn AuditStore>, AuditError> {
    open(cfg, true)
}

fn open(cfg: &Audit, writer: bool) -> Result<Box<dyn AuditStore>, AuditError> {
    match cfg.kind {
        AuditKind::Sqlite => {
            let path = cfg.path.as_ref().ok_or_else(|| AuditError::Invalid("audit.path is not set".into()))?;
            let mut config = sluis_audit_sqlite::SqliteConfig::new(path, chain(cfg)?);
            if writer {
                config.background_checkpoint = Some(std::time::Duration::from_millis(500));
                // The subject and trace index beside the log, built off the commit path.
                config.index.build = sluis_audit_sqlite::IndexBuild::Background(std::time::Duration::from_secs(1));
            }
            Ok(Box::new(sluis_audit_sqlite::SqliteStore::open_with(config)?))
        }
        AuditKind::Postgres => {
            let url = cfg.url.as_ref().ok_or_else(|| AuditError::Invalid("audit.url is not set".into()))?;
            let mut pg = sluis_audit_postgres::PgConfig::new(url.expose_str(), chain(cfg)?)
                .with_chain(cfg.chain.clone());
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
    open_sink_observed(cfg, None)
}

/// Opens the sink, handing every committed batch to `observer` (misuse detection).
pub fn open_sink_observed(
    cfg: &Audit,
    observer: Option<Arc<dyn CommitObserver>>,
) -> Result<Arc<dyn EntrySink>, AuditError> {
    let group = GroupCommitConfig {
        observer,
        capacity: cfg.queue_capacity,
        checkpoint_interval: (cfg.checkpoint_interval_ms > 0)
            .then(|| std::time::Duration::from_millis(cfg.checkpoint_interval_ms)),
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
            let witness: Option<Box<dyn Witness>> = match &cfg.witness {
                Some(p) => Some(Box::new(FileWitness::open(p)?)),
                None => None,
            };
            let cfg = cfg.clone();
            // The store is opened on the writer thread (the synchronous PostgreSQL client must not
            // run inside the async runtime).
            Ok(Arc::new(GroupCommitSink::open_witnessed(
                move || open_writer(&cfg),
                group,
                witness,
            )?))
        }
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

/// The store `cfg` names, opened for reading (SQLite and PostgreSQL).
fn reader(cfg: &Audit) -> Option<sluis_proxy::StoreOpener> {
    match cfg.kind {
        AuditKind::Sqlite | AuditKind::Postgres => {
            let cfg = cfg.clone();
            Some(Arc::new(move || open_store(&cfg)))
        }
        _ => None,
    }
}

/// The sink, the reader and (with `[detection]`) the detector's feed for `config`, as
/// [`sluis_proxy::start`] takes them.
pub fn wiring(config: &Config) -> Result<AuditWiring, AuditError> {
    let cfg = &config.audit;
    let detected =
        config.detection.is_some() && matches!(cfg.kind, AuditKind::Sqlite | AuditKind::Postgres);
    let (observer, feed) = match &config.detection {
        Some(d) if detected => {
            let (observer, feed) = sluis_proxy::supervision::feed(d.queue_entries);
            (Some(observer as Arc<dyn CommitObserver>), Some(feed))
        }
        _ => (None, None),
    };
    let sink = open_sink_observed(cfg, observer)?;
    Ok(AuditWiring {
        sink,
        reader: reader(cfg),
        feed,
    })
}

/// Starts sluis with the audit store its configuration names.
pub async fn start(config: Config) -> Result<ServerHandle, StartError> {
    let audit = wiring(&config).map_err(|e| StartError::Other(format!("audit: {e}")))?;
    sluis_proxy::start(config, audit).await
}

/// Starts sluis recording through `sink` (tests inject failing or slow sinks); reads open the
/// configured store.
pub async fn start_with_sink(
    config: Config,
    sink: Arc<dyn EntrySink>,
) -> Result<ServerHandle, StartError> {
    let reader = reader(&config.audit);
    sluis_proxy::start(
        config,
        AuditWiring {
            sink,
            reader,
            feed: None,
        },
    )
    .await
}
