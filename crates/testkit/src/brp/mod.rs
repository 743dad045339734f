//! A BRP Personen API v2 (Haal Centraal, OAS 2.7.0) fixture upstream over fictional persons.
//!
//! [`BrpFixture`] serves `POST {base_path}/personen` (and RvIG's own path
//! `/haalcentraal/api/brp/personen`) on loopback with all seven query types, `fields` filtering
//! as RvIG's API does it (groups, datum and waardetabel objects whole, auto-delivered
//! `geheimhoudingPersoonsgegevens` / `inOnderzoek` / `opschortingBijhouding` / `rni` /
//! `verificatie`, the `verblijfplaatsBinnenland` and `adresseringBinnenland` aliases),
//! `tooManyResults` above 10 hits, deceased persons only with `inclusiefOverledenPersonen`, and
//! problem+json errors with `invalidParams` in the BRP shape. It can require an API key, a
//! bearer token, or an OAuth2 client-credentials token it issues itself; [`crate::Faults`]
//! makes it slow or broken, and the handle keeps the last request body.
//!
//! The data (10,000 persons by default) are generated from a seed: households sharing
//! addresses (most in one "own" municipality, 0363 Amsterdam), families linked by BSN, and the
//! quirks a proxy must handle — see [`BrpKnown`] for named persons and addresses, including
//! RvIG's test person 999993653. [`contract`] checks bodies against the BRP OpenAPI document,
//! which the caller reads from the reference folder ([`crate::reference`],
//! `brp/openapi.yaml`) and hands over as JSON.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sluis_testkit::TestkitError> {
//! use sluis_testkit::brp::{BrpFixture, BrpFixtureConfig};
//! let fixture = BrpFixture::start(BrpFixtureConfig::default()).await?;
//! let url = fixture.personen_url(); // http://127.0.0.1:PORT/haalcentraal/api/brp/personen
//! let suzanne = fixture.data().person("999993653");
//! fixture.shutdown().await?;
//! # Ok(()) }
//! ```

mod api;
mod config;
pub mod contract;
mod data;
mod date;
mod fields;
mod generate;
mod model;
mod problem;
mod render;
mod request;
mod server;
mod tables;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{BrpFixtureConfig, BrpOAuth2};
pub use data::BrpData;
pub use date::BrpDate;
pub use generate::{BrpKnown, KnownAddress, KnownFamily};
pub use model::{BrpAddress, BrpPerson, BrpStatus};

use crate::{Faults, TestkitError};

/// The seven query types, as their `type` values.
pub const QUERY_TYPES: [&str; 7] = [
    "RaadpleegMetBurgerservicenummer",
    "ZoekMetGeslachtsnaamEnGeboortedatum",
    "ZoekMetNaamEnGemeenteVanInschrijving",
    "ZoekMetPostcodeEnHuisnummer",
    "ZoekMetStraatHuisnummerEnGemeenteVanInschrijving",
    "ZoekMetNummeraanduidingIdentificatie",
    "ZoekMetAdresseerbaarObjectIdentificatie",
];

/// Starts BRP fixture servers.
#[derive(Debug, Clone, Copy)]
pub struct BrpFixture;

impl BrpFixture {
    /// Generates the persons, binds `config.listen` and serves on the current tokio runtime.
    ///
    /// # Errors
    /// [`TestkitError::Bind`] when the address cannot be bound, [`TestkitError::Config`] for an
    /// unusable configuration (unknown municipality, bad header name, base path without a
    /// leading `/`).
    pub async fn start(config: BrpFixtureConfig) -> Result<BrpFixtureHandle, TestkitError> {
        let prepared = Prepared::new(&config)?;
        let listener = crate::server::bind(config.listen).await?;
        prepared.spawn(listener, &tokio::runtime::Handle::current())
    }

    /// Like [`BrpFixture::start`], serving persons generated before (with
    /// [`BrpData::generate`]), so several fixtures can share one data set; the generation
    /// settings of `config` (`seed`, `persons`, `own_gemeente`, `peildatum`) are ignored.
    ///
    /// # Errors
    /// As [`BrpFixture::start`].
    pub async fn start_with_data(
        data: Arc<BrpData>,
        config: BrpFixtureConfig,
    ) -> Result<BrpFixtureHandle, TestkitError> {
        let prepared = Prepared::with_data(data, &config)?;
        let listener = crate::server::bind(config.listen).await?;
        prepared.spawn(listener, &tokio::runtime::Handle::current())
    }

    /// Like [`BrpFixture::start`], from synchronous code: binds immediately and serves on
    /// `runtime` (for benchmarks).
    ///
    /// # Errors
    /// As [`BrpFixture::start`].
    pub fn start_on(
        runtime: &tokio::runtime::Handle,
        config: BrpFixtureConfig,
    ) -> Result<BrpFixtureHandle, TestkitError> {
        let prepared = Prepared::new(&config)?;
        let listener = crate::server::bind_on(runtime, config.listen)?;
        prepared.spawn(listener, runtime)
    }
}

struct Prepared {
    data: Arc<BrpData>,
    api_key: Option<(HeaderName, HeaderValue)>,
    bearer: Vec<String>,
    oauth2: Option<BrpOAuth2>,
    base_path: String,
    max_results: usize,
}

impl Prepared {
    fn new(config: &BrpFixtureConfig) -> Result<Self, TestkitError> {
        let data = BrpData::generate(
            config.seed,
            config.persons,
            &config.own_gemeente,
            config.peildatum,
        )?;
        Self::with_data(Arc::new(data), config)
    }

    fn with_data(data: Arc<BrpData>, config: &BrpFixtureConfig) -> Result<Self, TestkitError> {
        let base_path = config.base_path.trim_end_matches('/').to_owned();
        if !base_path.is_empty() && !base_path.starts_with('/') {
            return Err(TestkitError::Config(
                "base_path must be empty or start with '/'".into(),
            ));
        }
        let mut bearer: Vec<String> = config.bearer_token.iter().cloned().collect();
        if let Some(o) = &config.oauth2 {
            bearer.push(o.access_token.clone());
        }
        Ok(Self {
            data,
            api_key: crate::server::parse_api_key(config.api_key.as_ref())?,
            bearer,
            oauth2: config.oauth2.clone(),
            base_path,
            max_results: config.max_search_results,
        })
    }

    fn spawn(
        self,
        listener: TcpListener,
        runtime: &tokio::runtime::Handle,
    ) -> Result<BrpFixtureHandle, TestkitError> {
        let addr = listener.local_addr()?;
        let faults = Faults::default();
        let last_body = Arc::new(Mutex::new(None));
        let token_requests = Arc::new(AtomicU64::new(0));
        let shared = Arc::new(server::Shared {
            data: Arc::clone(&self.data),
            faults: faults.clone(),
            last_body: Arc::clone(&last_body),
            token_requests: Arc::clone(&token_requests),
            api_key: self.api_key,
            bearer: self.bearer,
            oauth2: self.oauth2,
            personen_path: format!("{}/personen", self.base_path),
            token_path: format!("{}/oauth2/token", self.base_path),
            max_results: self.max_results,
        });
        let (tx, rx) = oneshot::channel();
        let task = runtime.spawn(server::serve(listener, shared, rx));
        Ok(BrpFixtureHandle {
            addr,
            data: self.data,
            faults,
            last_body,
            token_requests,
            base_path: self.base_path,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A running BRP fixture. Dropping it stops the server too (without waiting).
#[derive(Debug)]
pub struct BrpFixtureHandle {
    addr: SocketAddr,
    data: Arc<BrpData>,
    faults: Faults,
    last_body: Arc<Mutex<Option<Bytes>>>,
    token_requests: Arc<AtomicU64>,
    base_path: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl BrpFixtureHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT{base_path}` — what a client configures as the API root.
    pub fn api_url(&self) -> String {
        format!("http://{}{}", self.addr, self.base_path)
    }

    /// `http://127.0.0.1:PORT{base_path}/personen`.
    pub fn personen_url(&self) -> String {
        format!("{}/personen", self.api_url())
    }

    /// `http://127.0.0.1:PORT{base_path}/oauth2/token` (served only with
    /// [`BrpFixtureConfig::oauth2`]).
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.api_url())
    }

    /// Fault injection and request recording (headers of the last request).
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The persons served, for expected values.
    pub fn data(&self) -> &BrpData {
        &self.data
    }

    /// The body of the most recent request (any path), as received.
    pub fn last_body(&self) -> Option<Vec<u8>> {
        self.last_body
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|b| b.to_vec())
    }

    /// The body of the most recent request parsed as JSON (`None` when absent or not JSON).
    pub fn last_body_json(&self) -> Option<Value> {
        self.last_body()
            .and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// How many requests the token endpoint received.
    pub fn token_requests(&self) -> u64 {
        self.token_requests.load(Ordering::Relaxed)
    }

    /// Stops accepting, lets in-flight requests finish briefly, and waits for the server task.
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

impl Drop for BrpFixtureHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
