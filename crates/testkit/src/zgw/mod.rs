//! A ZGW fixture upstream that behaves like Open Zaak for what sluis's ZGW adapter touches.
//!
//! [`ZgwFixture`] serves, on one loopback port and under Open Zaak's paths, the Zaken API
//! (`/zaken/api/v1`: zaken with the OAS filters, `POST /zaken/_zoek`, `expand` with `_expand`,
//! writes, statussen/rollen/resultaten/zaakobjecten/zaakinformatieobjecten/klantcontacten,
//! zaakeigenschappen, the audit trail), the Documenten API (`/documenten/api/v1`:
//! enkelvoudiginformatieobjecten with `/download`, lock/unlock and `_zoek`, gebruiksrechten,
//! objectinformatieobjecten), the Catalogi API (`/catalogi/api/v1`, read-only) and the
//! Autorisaties API (`/autorisaties/api/v1/applicaties` with the ac-001..003 checks), plus the
//! register-and-mint endpoint `POST /register` the GPT Postman suites use.
//!
//! Open Zaak semantics it keeps: absolute URLs from the request's `Host` (so a proxy that sends
//! the upstream its own authority gets upstream URLs back); an HS256 ZGW JWT on every request
//! (the configured superuser client or a registered one; 403 with OZ's `permission_denied` /
//! `jwt-*` codes otherwise); `Accept-Crs`/`Content-Crs` on zaken (412 when missing, `Content-Crs`
//! echoed); DRF pagination (100 a page, absolute `next`/`previous`, 404 beyond the last page);
//! unknown query parameters rejected (`unknown-parameters`); main-object validation of nested
//! creates (`required`, `object-does-not-exist`, `incorrect_match`); the zaaktype's
//! vertrouwelijkheidaanduiding as default (zrc-009); closing by an eindstatus and reopening
//! with the archive fields nulled (zrc-008); an audit trail of successful writes, deleted with
//! its zaak. It does not enforce autorisaties on data: it is the upstream where sluis is a
//! superuser.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sluis_testkit::TestkitError> {
//! use sluis_testkit::zgw::{ZgwFixture, ZgwFixtureConfig, ZaaktypeSpec};
//! use sluis_testkit::zgw::Va;
//! let fx = ZgwFixture::start(ZgwFixtureConfig::default()).await?;
//! let zt = fx.add_zaaktype(ZaaktypeSpec { default_va: Va::Geheim, ..ZaaktypeSpec::default() });
//! let (_uuid, zaak) = fx.add_zaak(&zt, Va::Openbaar, false)?;
//! let token = fx.superuser_token();
//! let url = format!("{}/zaken", fx.zaken_url());
//! # let _ = (zaak, token, url);
//! fx.shutdown().await?;
//! # Ok(()) }
//! ```

mod audit;
mod auth;
mod autorisaties;
mod catalogi;
mod config;
mod documenten;
mod generate;
mod http;
mod model;
mod notify;
mod render;
mod server;
mod store;
mod urls;
mod zaken;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{ZgwFixtureConfig, ZgwNotify};
pub use generate::{MEDEWERKERS, RSIN};
pub use http::{MAX_PAGE_SIZE, PAGE_SIZE};
pub use model::{Betrokkene, Day, Uuid, Va};
pub use notify::SentNotification;
pub use server::ZgwRequest;

use crate::{Faults, TestkitError};
use model::{Document, Moment, Resultaat, Rol, Status, Zaakobject, Zio};
use render::Ctx;
use server::State;
use store::Store;
use urls::{AUTORISATIES, CATALOGI, DOCUMENTEN, Kind, ZAKEN};

/// Generated ZGW data, before a fixture serves it.
#[derive(Debug)]
pub struct ZgwData {
    store: Store,
    generated_in: Duration,
}

impl ZgwData {
    /// Generates catalogi, documents and zaken from `config` (seed and counts).
    pub fn generate(config: &ZgwFixtureConfig) -> Self {
        let started = Instant::now();
        let store = generate::generate(config);
        Self {
            store,
            generated_in: started.elapsed(),
        }
    }

    /// How long generation took.
    pub fn generated_in(&self) -> Duration {
        self.generated_in
    }

    /// Number of zaken.
    pub fn zaken(&self) -> usize {
        self.store.zaken.len()
    }
}

/// Starts ZGW fixture servers.
#[derive(Debug, Clone, Copy)]
pub struct ZgwFixture;

impl ZgwFixture {
    /// Generates the data, binds `config.listen` and serves on the current tokio runtime.
    ///
    /// # Errors
    /// [`TestkitError::Bind`] when the address cannot be bound, [`TestkitError::Config`] for an
    /// unusable configuration (empty client id or secret, a webhook that is not `http://`).
    pub async fn start(config: ZgwFixtureConfig) -> Result<ZgwFixtureHandle, TestkitError> {
        let data = ZgwData::generate(&config);
        Self::start_with_data(data, config).await
    }

    /// Like [`ZgwFixture::start`], serving data generated before (the generation settings of
    /// `config` are then ignored).
    ///
    /// # Errors
    /// As [`ZgwFixture::start`].
    pub async fn start_with_data(
        data: ZgwData,
        config: ZgwFixtureConfig,
    ) -> Result<ZgwFixtureHandle, TestkitError> {
        check(&config)?;
        let listener = crate::server::bind(config.listen).await?;
        spawn(data, config, listener, &tokio::runtime::Handle::current())
    }

    /// Like [`ZgwFixture::start`], from synchronous code: binds immediately and serves on
    /// `runtime` (for the demo and benchmarks).
    ///
    /// # Errors
    /// As [`ZgwFixture::start`].
    pub fn start_on(
        runtime: &tokio::runtime::Handle,
        config: ZgwFixtureConfig,
    ) -> Result<ZgwFixtureHandle, TestkitError> {
        check(&config)?;
        let data = ZgwData::generate(&config);
        let listener = crate::server::bind_on(runtime, config.listen)?;
        spawn(data, config, listener, runtime)
    }
}

fn check(config: &ZgwFixtureConfig) -> Result<(), TestkitError> {
    if config.client_id.is_empty() || config.secret.is_empty() {
        return Err(TestkitError::Config(
            "client_id and secret must not be empty".into(),
        ));
    }
    if let Some(n) = &config.notify
        && !n.webhook_url.starts_with("http://")
    {
        return Err(TestkitError::Config(
            "the notification webhook must be an http:// URL".into(),
        ));
    }
    Ok(())
}

fn spawn(
    data: ZgwData,
    config: ZgwFixtureConfig,
    listener: TcpListener,
    runtime: &tokio::runtime::Handle,
) -> Result<ZgwFixtureHandle, TestkitError> {
    let addr = listener.local_addr()?;
    let mut store = data.store;
    // The superuser client has an applicatie of its own, as sluis would in Open Zaak; its
    // label is what the audit trail shows as applicatieWeergave.
    let uuid = store.new_uuid();
    store.applicaties.insert(model::Applicatie {
        uuid,
        client_ids: vec![config.client_id.clone()],
        label: config.client_id.clone(),
        heeft_alle_autorisaties: true,
        alleen_is_gereed_voor_publicatie: false,
        autorisaties: Vec::new(),
    });
    let faults = Faults::default();
    let state = Arc::new(State {
        store: RwLock::new(store),
        client_id: config.client_id.clone(),
        secret: config.secret.clone(),
        expiry: config.jwt_expiry_secs,
        leeway: config.jwt_leeway_secs,
        local_hosts: config.local_hosts.clone(),
        expand_informatieobject: config.expand_informatieobject,
        faults: faults.clone(),
        log: Mutex::new(VecDeque::new()),
        notifier: notify::Notifier::new(config.notify.clone(), runtime.clone()),
        fallback_host: addr.to_string(),
    });
    let (tx, rx) = oneshot::channel();
    let task = runtime.spawn(server::serve(listener, Arc::clone(&state), rx));
    Ok(ZgwFixtureHandle {
        addr,
        state,
        faults,
        config,
        generated_in: data.generated_in,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// A zaaktype to add through the handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZaaktypeSpec {
    /// `omschrijving`.
    pub omschrijving: String,
    /// `identificatie`; generated when `None`.
    pub identificatie: Option<String>,
    /// `vertrouwelijkheidaanduiding`: the default of zaken created without one (zrc-009).
    pub default_va: Va,
    /// Not published (zaken cannot be created with it).
    pub concept: bool,
}

impl Default for ZaaktypeSpec {
    fn default() -> Self {
        Self {
            omschrijving: "Testzaaktype".to_owned(),
            identificatie: None,
            default_va: Va::Openbaar,
            concept: false,
        }
    }
}

/// A summary of one zaak, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZaakInfo {
    /// `uuid`.
    pub uuid: Uuid,
    /// `url` (with the fixture's own address).
    pub url: String,
    /// `identificatie`.
    pub identificatie: String,
    /// `zaaktype` URL.
    pub zaaktype: String,
    /// `vertrouwelijkheidaanduiding`.
    pub va: Va,
    /// `einddatum` (`Some` = closed).
    pub einddatum: Option<Day>,
    /// `archiefnominatie`.
    pub archiefnominatie: Option<String>,
    /// `archiefactiedatum`.
    pub archiefactiedatum: Option<Day>,
    /// `betrokkeneIdentificatie.identificatie` of the medewerker rollen.
    pub medewerkers: Vec<String>,
    /// `inpBsn` of the natuurlijk-persoon rollen.
    pub bsns: Vec<String>,
    /// `omschrijvingGeneriek` of the rollen.
    pub rol_omschrijvingen: Vec<String>,
    /// Number of statussen.
    pub statussen: usize,
    /// `objectType` of the zaakobjecten.
    pub zaakobject_types: Vec<String>,
    /// Number of zaakinformatieobjecten.
    pub documenten: usize,
}

/// A running ZGW fixture. Dropping it stops the server too (without waiting).
#[derive(Debug)]
pub struct ZgwFixtureHandle {
    addr: SocketAddr,
    state: Arc<State>,
    faults: Faults,
    config: ZgwFixtureConfig,
    generated_in: Duration,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

fn not_found(what: &str) -> TestkitError {
    TestkitError::Config(format!("{what} does not name an object of this fixture"))
}

impl ZgwFixtureHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `{base}/zaken/api/v1`.
    pub fn zaken_url(&self) -> String {
        format!("{}{ZAKEN}", self.base_url())
    }

    /// `{base}/documenten/api/v1`.
    pub fn documenten_url(&self) -> String {
        format!("{}{DOCUMENTEN}", self.base_url())
    }

    /// `{base}/catalogi/api/v1`.
    pub fn catalogi_url(&self) -> String {
        format!("{}{CATALOGI}", self.base_url())
    }

    /// `{base}/autorisaties/api/v1`.
    pub fn autorisaties_url(&self) -> String {
        format!("{}{AUTORISATIES}", self.base_url())
    }

    /// `{base}/register`, the GPT token-issuer endpoint.
    pub fn register_url(&self) -> String {
        format!("{}/register", self.base_url())
    }

    /// The configuration the fixture runs with.
    pub fn config(&self) -> &ZgwFixtureConfig {
        &self.config
    }

    /// How long generating the data took.
    pub fn generated_in(&self) -> Duration {
        self.generated_in
    }

    /// Fault injection, and the headers of the last request.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Every request received (the last 10,000), bodies included, oldest first.
    pub fn requests(&self) -> Vec<ZgwRequest> {
        self.state.requests()
    }

    /// The most recent request.
    pub fn last_request(&self) -> Option<ZgwRequest> {
        self.state.requests().pop()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.state.clear_requests();
    }

    /// A fresh token of the superuser client (`iss` = `client_id`, `iat` = now).
    pub fn superuser_token(&self) -> String {
        mint_token(&self.config.client_id, &self.config.secret)
    }

    /// Lets `client_id` authenticate with `secret` (as the register endpoint does).
    pub fn set_secret(&self, client_id: &str, secret: &str) {
        self.state
            .write()
            .secrets
            .insert(client_id.to_owned(), secret.to_owned());
    }

    fn ctx(&self) -> Ctx {
        Ctx {
            base: self.base_url(),
        }
    }

    fn slot(&self, store: &Store, url: &str, kind: Kind) -> Result<u32, TestkitError> {
        let path = urls::split_url(url).map_or(url, |(_, p)| p);
        match urls::parse_path(path) {
            Some((k, uuid)) if k == kind => store.slot_of(kind, uuid).ok_or_else(|| not_found(url)),
            _ => Err(not_found(url)),
        }
    }

    /// Adds a zaaktype (three statustypen, the roltypen behandelaar/initiator/belanghebbende,
    /// a resultaattype, an eigenschap, the first informatieobjecttype); returns its URL.
    pub fn add_zaaktype(&self, spec: ZaaktypeSpec) -> String {
        let mut store = self.state.write();
        let n = store.zaaktypen.len() + 1;
        let mut rng = crate::rng::SplitMix64::new(store.new_uuid().0 as u64);
        let iots: Vec<u32> = store.iots.iter().map(|(s, _)| s).take(1).collect();
        let slot = generate::add_standard_zaaktype(
            &mut store,
            &mut rng,
            0,
            spec.identificatie.unwrap_or_else(|| format!("ZT-T{n:04}")),
            spec.omschrijving,
            spec.default_va,
            iots,
        );
        if let Some(z) = store.zaaktypen.get_mut(slot) {
            z.concept = spec.concept;
        }
        store.url_of(&self.ctx(), Kind::Zaaktype, slot)
    }

    /// Adds an informatieobjecttype with default vertrouwelijkheidaanduiding `va` (drc-007).
    pub fn add_informatieobjecttype(&self, omschrijving: &str, va: Va) -> String {
        let mut store = self.state.write();
        let uuid = store.new_uuid();
        let slot = store.iots.insert(model::Informatieobjecttype {
            uuid,
            catalogus: 0,
            omschrijving: omschrijving.to_owned(),
            va,
        });
        store.url_of(&self.ctx(), Kind::Iot, slot)
    }

    /// The URLs of all zaaktypen, oldest first.
    pub fn zaaktype_urls(&self) -> Vec<String> {
        let store = self.state.read();
        let ctx = self.ctx();
        store
            .zaaktypen
            .iter()
            .map(|(s, _)| store.url_of(&ctx, Kind::Zaaktype, s))
            .collect()
    }

    /// The URLs of all informatieobjecttypen, oldest first.
    pub fn informatieobjecttype_urls(&self) -> Vec<String> {
        let store = self.state.read();
        let ctx = self.ctx();
        store
            .iots
            .iter()
            .map(|(s, _)| store.url_of(&ctx, Kind::Iot, s))
            .collect()
    }

    /// The statustype URLs of a zaaktype, by volgnummer (the last is the eindstatus).
    ///
    /// # Errors
    /// [`TestkitError::Config`] when the URL names no zaaktype of this fixture.
    pub fn statustype_urls(&self, zaaktype_url: &str) -> Result<Vec<String>, TestkitError> {
        let store = self.state.read();
        let zt = self.slot(&store, zaaktype_url, Kind::Zaaktype)?;
        let ctx = self.ctx();
        let mut list: Vec<(u32, u32)> = store
            .zaaktypen
            .get(zt)
            .map(|z| z.statustypen.clone())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| store.statustypen.get(s).map(|st| (st.volgnummer, s)))
            .collect();
        list.sort_unstable();
        Ok(list
            .into_iter()
            .map(|(_, s)| store.url_of(&ctx, Kind::Statustype, s))
            .collect())
    }

    /// Adds a zaak of `zaaktype_url` with `va`; when `closed`, with a resultaat and the
    /// eindstatus (so `einddatum` and the archive fields are set). Returns (uuid, url).
    ///
    /// # Errors
    /// [`TestkitError::Config`] when the URL names no zaaktype of this fixture.
    pub fn add_zaak(
        &self,
        zaaktype_url: &str,
        va: Va,
        closed: bool,
    ) -> Result<(Uuid, String), TestkitError> {
        let mut store = self.state.write();
        let zt = self.slot(&store, zaaktype_url, Kind::Zaaktype)?;
        let uuid = store.new_uuid();
        let today = store::today();
        let (y, _, _) = crate::rng::civil_from_days(i64::from(today.0));
        let identificatie = store.next_zaak_identificatie(i32::try_from(y).unwrap_or(2025));
        let omschrijving = store
            .zaaktypen
            .get(zt)
            .map(|z| z.omschrijving.clone())
            .unwrap_or_default();
        let slot = store.add_zaak(model::Zaak {
            identificatie,
            bronorganisatie: model::shared(RSIN),
            omschrijving,
            verantwoordelijke_organisatie: model::shared(RSIN),
            ..model::Zaak::new(uuid, zt, va, today)
        });
        let url = store.url_of(&self.ctx(), Kind::Zaak, slot);
        drop(store);
        if closed {
            let last = self.statustype_urls(zaaktype_url)?.len();
            self.add_status(&url, u32::try_from(last).unwrap_or(1))?;
        }
        Ok((uuid, url))
    }

    /// Adds a status with the statustype of `volgnummer` (1-based) at the current time (one
    /// second after the zaak's latest status). The last volgnummer closes the zaak (a
    /// resultaat is added first when there is none); any other reopens a closed one.
    ///
    /// # Errors
    /// [`TestkitError::Config`] when the zaak or the volgnummer does not exist.
    pub fn add_status(&self, zaak_url: &str, volgnummer: u32) -> Result<String, TestkitError> {
        let mut store = self.state.write();
        let zaak = self.slot(&store, zaak_url, Kind::Zaak)?;
        let (zt, latest) = store
            .zaken
            .get(zaak)
            .map(|z| {
                let latest = z
                    .statussen
                    .iter()
                    .filter_map(|s| store.statussen.get(*s).map(|x| x.datum_status_gezet))
                    .max();
                (z.zaaktype, latest)
            })
            .ok_or_else(|| not_found(zaak_url))?;
        let statustype = store
            .zaaktypen
            .get(zt)
            .and_then(|z| {
                z.statustypen.iter().copied().find(|s| {
                    store
                        .statustypen
                        .get(*s)
                        .is_some_and(|t| t.volgnummer == volgnummer)
                })
            })
            .ok_or_else(|| TestkitError::Config(format!("no statustype {volgnummer}")))?;
        if store.is_eindstatus(statustype)
            && store.zaken.get(zaak).is_some_and(|z| z.resultaat.is_none())
            && let Some(rt) = store
                .zaaktypen
                .get(zt)
                .and_then(|z| z.resultaattypen.first().copied())
        {
            let uuid = store.new_uuid();
            store.add_resultaat(Resultaat {
                uuid,
                zaak,
                resultaattype: rt,
                toelichting: String::new(),
            });
        }
        let now = Moment::now();
        let at = match latest {
            Some(l) if l >= now => Moment(l.0 + 1),
            _ => now,
        };
        let uuid = store.new_uuid();
        let slot = store
            .add_status(Status {
                uuid,
                zaak,
                statustype,
                datum_status_gezet: at,
                statustoelichting: String::new(),
                extra: None,
            })
            .map_err(|e| TestkitError::Config(format!("status not set: {e:?}")))?;
        Ok(store.url_of(&self.ctx(), Kind::Status, slot))
    }

    /// Adds a rol with the zaaktype's roltype of `omschrijving_generiek` (one is created when
    /// the zaaktype has none). Returns its URL.
    ///
    /// # Errors
    /// [`TestkitError::Config`] when the zaak does not exist.
    pub fn add_rol(
        &self,
        zaak_url: &str,
        omschrijving_generiek: &str,
        betrokkene: Betrokkene,
    ) -> Result<String, TestkitError> {
        let mut store = self.state.write();
        let zaak = self.slot(&store, zaak_url, Kind::Zaak)?;
        let zt = store.zaken.get(zaak).map_or(0, |z| z.zaaktype);
        let existing = store.zaaktypen.get(zt).and_then(|z| {
            z.roltypen.iter().copied().find(|r| {
                store
                    .roltypen
                    .get(*r)
                    .is_some_and(|t| t.omschrijving_generiek == omschrijving_generiek)
            })
        });
        let roltype = match existing {
            Some(r) => r,
            None => {
                let uuid = store.new_uuid();
                store.add_roltype(model::Roltype {
                    uuid,
                    zaaktype: zt,
                    omschrijving: omschrijving_generiek.to_owned(),
                    omschrijving_generiek: omschrijving_generiek.to_owned(),
                })
            }
        };
        let uuid = store.new_uuid();
        let slot = store.add_rol(Rol {
            uuid,
            zaak,
            roltype,
            betrokkene_url: String::new(),
            betrokkene: betrokkene.into(),
            roltoelichting: omschrijving_generiek.to_owned(),
            registratiedatum: Moment::now(),
            extra: None,
        });
        Ok(store.url_of(&self.ctx(), Kind::Rol, slot))
    }

    /// Adds a zaakobject (`object_type` e.g. `pand`, `natuurlijk_persoon`). Returns its URL.
    ///
    /// # Errors
    /// [`TestkitError::Config`] when the zaak does not exist.
    pub fn add_zaakobject(
        &self,
        zaak_url: &str,
        object_type: &str,
        object: &str,
        object_identificatie: Value,
    ) -> Result<String, TestkitError> {
        let mut store = self.state.write();
        let zaak = self.slot(&store, zaak_url, Kind::Zaak)?;
        let uuid = store.new_uuid();
        let slot = store.add_zaakobject(Zaakobject {
            uuid,
            zaak,
            object: object.to_owned(),
            object_type: object_type.into(),
            relatieomschrijving: model::shared(""),
            identificatie: model::ObjectId::Json(object_identificatie),
            extra: None,
        });
        Ok(store.url_of(&self.ctx(), Kind::Zaakobject, slot))
    }

    /// Adds a document of `iot_url` serving the shared generated content. Returns its URL.
    ///
    /// # Errors
    /// [`TestkitError::Config`] when the informatieobjecttype does not exist.
    pub fn add_document(
        &self,
        iot_url: &str,
        va: Va,
        is_gereed_voor_publicatie: bool,
    ) -> Result<String, TestkitError> {
        self.add_document_with(iot_url, va, is_gereed_voor_publicatie, None)
    }

    /// Like [`ZgwFixtureHandle::add_document`], serving `content` on `/download`.
    ///
    /// # Errors
    /// As [`ZgwFixtureHandle::add_document`].
    pub fn add_document_with(
        &self,
        iot_url: &str,
        va: Va,
        is_gereed_voor_publicatie: bool,
        content: Option<Vec<u8>>,
    ) -> Result<String, TestkitError> {
        let mut store = self.state.write();
        let iot = self.slot(&store, iot_url, Kind::Iot)?;
        let uuid = store.new_uuid();
        let today = store::today();
        let (y, _, _) = crate::rng::civil_from_days(i64::from(today.0));
        let identificatie = store.next_document_identificatie(i32::try_from(y).unwrap_or(2025));
        let slot = store.documents.insert(Document {
            uuid,
            identificatie: identificatie.clone(),
            bronorganisatie: RSIN.to_owned(),
            creatiedatum: today,
            titel: identificatie.clone(),
            va,
            auteur: "Gemeente Sluis".to_owned(),
            status: "definitief".to_owned(),
            formaat: "application/pdf".to_owned(),
            taal: "dut".to_owned(),
            bestandsnaam: format!("{identificatie}.pdf"),
            informatieobjecttype: iot,
            versie: 1,
            beginregistratie: Moment::now(),
            lock: String::new(),
            is_gereed_voor_publicatie,
            content: content.map(Bytes::from),
            extra: None,
        });
        Ok(store.url_of(&self.ctx(), Kind::Document, slot))
    }

    /// Links a document to a zaak (zaakinformatieobject plus the DRC's
    /// objectinformatieobject). Returns the zaakinformatieobject URL.
    ///
    /// # Errors
    /// [`TestkitError::Config`] when the zaak or document does not exist.
    pub fn link_document(
        &self,
        zaak_url: &str,
        document_url: &str,
    ) -> Result<String, TestkitError> {
        let mut store = self.state.write();
        let zaak = self.slot(&store, zaak_url, Kind::Zaak)?;
        let doc = self.slot(&store, document_url, Kind::Document)?;
        let titel = store
            .documents
            .get(doc)
            .map(|d| d.titel.clone())
            .unwrap_or_default();
        let uuid = store.new_uuid();
        let slot = store.add_zio(Zio {
            uuid,
            zaak,
            document: Some(doc),
            informatieobject_url: String::new(),
            titel,
            beschrijving: String::new(),
            registratiedatum: Moment::now(),
            oio: None,
        });
        Ok(store.url_of(&self.ctx(), Kind::Zio, slot))
    }

    /// The URLs of all documents, oldest first.
    pub fn document_urls(&self) -> Vec<String> {
        let store = self.state.read();
        let ctx = self.ctx();
        store
            .documents
            .iter()
            .map(|(s, _)| store.url_of(&ctx, Kind::Document, s))
            .collect()
    }

    /// The bytes `/download` serves for a document.
    pub fn document_bytes(&self, document_url: &str) -> Option<Vec<u8>> {
        let store = self.state.read();
        let slot = self.slot(&store, document_url, Kind::Document).ok()?;
        let doc = store.documents.get(slot)?;
        Some(
            doc.content
                .clone()
                .unwrap_or_else(|| store.shared_content.clone())
                .to_vec(),
        )
    }

    /// Replaces all applicaties with `list` (a JSON array of Applicatie bodies, validated as
    /// `POST /applicaties` is; a `url` keeps its UUID) and sends the notifications.
    ///
    /// # Errors
    /// [`TestkitError::Config`] when the list or an applicatie is invalid (nothing changes).
    pub fn set_applicaties(&self, list: Value) -> Result<(), TestkitError> {
        let Value::Array(items) = list else {
            return Err(TestkitError::Config(
                "applicaties must be a JSON array".into(),
            ));
        };
        let events = {
            let mut store = self.state.write();
            autorisaties::replace_all(&mut store, &self.ctx(), &items).map_err(|f| {
                let params: Vec<String> = f
                    .invalid_params
                    .iter()
                    .map(|p| format!("{} {}", p.name, p.code))
                    .collect();
                TestkitError::Config(format!("invalid applicaties: {}", params.join(", ")))
            })?
        };
        for (url, actie) in events {
            self.state.notifier.applicatie(&url, actie);
        }
        Ok(())
    }

    /// All applicaties as the AC renders them.
    pub fn applicaties(&self) -> Value {
        let store = self.state.read();
        let ctx = self.ctx();
        Value::Array(
            store
                .applicaties
                .iter()
                .map(|(_, a)| render::render_applicatie(&ctx, a))
                .collect(),
        )
    }

    /// The notifications sent so far.
    pub fn notifications(&self) -> Vec<SentNotification> {
        self.state.notifier.sent()
    }

    /// Number of zaken.
    pub fn zaak_count(&self) -> usize {
        self.state.read().zaken.len()
    }

    fn info(&self, store: &Store, ctx: &Ctx, slot: u32) -> Option<ZaakInfo> {
        let z = store.zaken.get(slot)?;
        let rollen: Vec<&Rol> = z
            .rollen
            .iter()
            .filter_map(|r| store.rollen.get(*r))
            .collect();
        Some(ZaakInfo {
            uuid: z.uuid,
            url: store.url_of(ctx, Kind::Zaak, slot),
            identificatie: z.identificatie.clone(),
            zaaktype: store.url_of(ctx, Kind::Zaaktype, z.zaaktype),
            va: z.va,
            einddatum: z.einddatum,
            archiefnominatie: z.archiefnominatie.clone(),
            archiefactiedatum: z.archiefactiedatum,
            medewerkers: rollen
                .iter()
                .filter_map(|r| r.betrokkene.medewerker_id().map(str::to_owned))
                .collect(),
            bsns: rollen
                .iter()
                .filter_map(|r| r.betrokkene.bsn().map(str::to_owned))
                .collect(),
            rol_omschrijvingen: rollen
                .iter()
                .filter_map(|r| store.roltypen.get(r.roltype))
                .map(|t| t.omschrijving_generiek.clone())
                .collect(),
            statussen: z.statussen.len(),
            zaakobject_types: z
                .zaakobjecten
                .iter()
                .filter_map(|o| store.zaakobjecten.get(*o))
                .map(|o| o.object_type.to_string())
                .collect(),
            documenten: z.zios.len(),
        })
    }

    /// The zaken for which `pred` holds, newest first (the API's default order).
    pub fn zaken_where(&self, pred: impl Fn(&ZaakInfo) -> bool) -> Vec<ZaakInfo> {
        let store = self.state.read();
        let ctx = self.ctx();
        store
            .zaken
            .iter()
            .rev()
            .filter_map(|(s, _)| self.info(&store, &ctx, s))
            .filter(|i| pred(i))
            .collect()
    }

    /// One zaak by URL.
    pub fn zaak(&self, zaak_url: &str) -> Option<ZaakInfo> {
        let store = self.state.read();
        let slot = self.slot(&store, zaak_url, Kind::Zaak).ok()?;
        self.info(&store, &self.ctx(), slot)
    }

    /// A zaak's JSON as `GET /zaken/{uuid}` renders it for the fixture's own address.
    pub fn zaak_json(&self, zaak_url: &str) -> Option<Value> {
        let store = self.state.read();
        let slot = self.slot(&store, zaak_url, Kind::Zaak).ok()?;
        let mut v = store.render_zaak(&self.ctx(), slot)?;
        if let Value::Object(m) = &mut v {
            m.insert("_expand".into(), json!({}));
        }
        Some(v)
    }

    /// The audit trail of a zaak or document (empty when it has none), oldest first.
    pub fn audit_trail(&self, main_url: &str) -> Vec<Value> {
        let store = self.state.read();
        let path = urls::split_url(main_url).map_or(main_url, |(_, p)| p);
        urls::parse_path(path).map_or_else(Vec::new, |(_, uuid)| {
            store
                .audit_of(uuid)
                .iter()
                .map(|a| a.body.clone())
                .collect()
        })
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

impl Drop for ZgwFixtureHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A ZGW JWT for `client_id` signed with `secret` (HS256, `iss` = `client_id`, `iat` = now).
pub fn mint_token(client_id: &str, secret: &str) -> String {
    auth::mint(client_id, secret).unwrap_or_default()
}
