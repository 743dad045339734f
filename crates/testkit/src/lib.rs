//! Fixture upstreams with fictional data for sluis's integration tests, load benchmarks and
//! `sluis demo` (dev-only; never part of a production deployment).
//!
//! [`DatasetFixture`] is a real HTTP/1.1 server on loopback that behaves like a DSO-API dataset
//! service: HAL lists and details under `/v1/{dataset}/{table}[/{id}]`, DSO filters and
//! operators, `_sort`, `_fields`, `_expand`/`_expandScope`, pagination links, problem+json
//! errors. It serves the example datasets of `examples/policy/datasets/`
//! (`afvalwegingen/containers`, `afvalwegingen/clusters`, `brp/ingeschrevenpersonen`,
//! `parkeervakken/parkeervakken`) with seeded, reproducible records, so tests can assert exact
//! values. A [`Faults`] handle makes it slow, failing, non-JSON or oversized while it runs, and
//! records what it received, so tests can check what the proxy forwarded.
//!
//! [`ZgwFixture`] ([`zgw`]) serves the ZGW APIs as Open Zaak does — Zaken, Documenten,
//! Catalogi and Autorisaties on one port, with a register-and-mint endpoint — over generated
//! zaken (100,000 for the benchmark), for sluis's ZGW adapter; [`BrpFixture`] ([`brp`]) does
//! the same for the BRP Personen API.
//!
//! [`reference`] tells tests where the public reference files are, and skips (saying so) the
//! tests that need them when they are not there.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sluis_testkit::TestkitError> {
//! use sluis_testkit::{DatasetFixture, FixtureConfig};
//! let fixture = DatasetFixture::start(FixtureConfig::default()).await?;
//! let url = format!("{}/v1/afvalwegingen/containers?_pageSize=5", fixture.base_url());
//! fixture.faults().set_delay(std::time::Duration::from_millis(50));
//! fixture.shutdown().await?;
//! # Ok(()) }
//! ```

// The Zaak body of the ZGW fixture is one `json!` literal with 40-odd fields.
#![recursion_limit = "256"]

mod api;
mod body;
pub mod brp;
mod config;
mod data;
mod error;
mod faults;
mod problem;
mod query;
pub mod reference;
mod rng;
mod server;
pub mod zgw;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use brp::{BrpFixture, BrpFixtureConfig, BrpFixtureHandle};
pub use config::FixtureConfig;
pub use data::{FixtureData, IdKind, Relation, Table, bsn_is_valid};
pub use error::TestkitError;
pub use faults::{Faults, RecordedRequest};
pub use query::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use zgw::{ZgwFixture, ZgwFixtureConfig, ZgwFixtureHandle};

/// Starts dataset fixture servers.
#[derive(Debug, Clone, Copy)]
pub struct DatasetFixture;

impl DatasetFixture {
    /// Generates the data, binds `config.listen` and serves on the current tokio runtime.
    ///
    /// # Errors
    /// [`TestkitError::Bind`] when the address cannot be bound, [`TestkitError::Config`] for an
    /// unusable configuration.
    pub async fn start(config: FixtureConfig) -> Result<FixtureHandle, TestkitError> {
        let prepared = Prepared::new(&config)?;
        let listener = crate::server::bind(config.listen).await?;
        prepared.spawn(listener, &tokio::runtime::Handle::current())
    }

    /// Like [`DatasetFixture::start`], from synchronous code: binds immediately and serves on
    /// `runtime` (for benchmarks and tests that own a runtime but are not inside it).
    ///
    /// # Errors
    /// As [`DatasetFixture::start`].
    pub fn start_on(
        runtime: &tokio::runtime::Handle,
        config: FixtureConfig,
    ) -> Result<FixtureHandle, TestkitError> {
        let prepared = Prepared::new(&config)?;
        let listener = crate::server::bind_on(runtime, config.listen)?;
        prepared.spawn(listener, runtime)
    }
}

/// Everything that can fail before a socket exists.
struct Prepared {
    data: Arc<FixtureData>,
    api_key: Option<(hyper::header::HeaderName, hyper::header::HeaderValue)>,
}

impl Prepared {
    fn new(config: &FixtureConfig) -> Result<Self, TestkitError> {
        Ok(Self {
            data: Arc::new(FixtureData::generate(config)?),
            api_key: server::parse_api_key(config.api_key.as_ref())?,
        })
    }

    fn spawn(
        self,
        listener: TcpListener,
        runtime: &tokio::runtime::Handle,
    ) -> Result<FixtureHandle, TestkitError> {
        let addr = listener.local_addr()?;
        let faults = Faults::default();
        let shared = Arc::new(server::Shared {
            data: Arc::clone(&self.data),
            faults: faults.clone(),
            api_key: self.api_key,
            fallback_host: server::fallback_host(addr),
        });
        let (tx, rx) = oneshot::channel();
        let task = runtime.spawn(server::serve(listener, shared, rx));
        Ok(FixtureHandle {
            addr,
            data: self.data,
            faults,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A running fixture. Dropping it stops the server too (without waiting).
#[derive(Debug)]
pub struct FixtureHandle {
    addr: SocketAddr,
    data: Arc<FixtureData>,
    faults: Faults,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl FixtureHandle {
    /// The bound address (with the real port when 0 was configured).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash; append `/v1/{dataset}/{table}`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Fault injection and request recording for this fixture.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The records served, to look up expected values without HTTP.
    pub fn data(&self) -> &FixtureData {
        &self.data
    }

    /// Stops accepting, lets in-flight requests finish (for a short grace period) and waits
    /// for the server task to end.
    ///
    /// # Errors
    /// [`TestkitError::Task`] when the server task panicked or was cancelled.
    pub async fn shutdown(mut self) -> Result<(), TestkitError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(|e| TestkitError::Task(e.to_string())),
            None => Ok(()),
        }
    }
}

impl Drop for FixtureHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
