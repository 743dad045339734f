//! What every ZGW mount of one runtime shares: the compiled Applicaties (from a file, or live
//! from an Autorisaties API with the last good copy kept), sluis's rules beyond the standard,
//! the URL map between sluis's public addresses and the upstreams', a client per component
//! for the lookups that cross components (a zaak's zaaktype, a document's zaak), and the
//! short-lived cache of the users' rollen.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use sluis_zgw::rules::Rules;
use sluis_zgw::{Grants, UrlMap};

use crate::adapter::{Lookup, Upstream as _};
use crate::config::{AutorisatiesSource, Config, KeysFrom, UserHeaderTrust, ZgwSettings};
use crate::error::{ConfigProblem, StartError};
use crate::upstream::UpstreamClient;

/// Most cached (zaak, user) → rollen answers; the oldest half is dropped beyond this.
const MAX_CACHED_ROLLEN: usize = 50_000;

/// (zaak URL, user) → when read, and the user's rol omschrijvingGeneriek values.
type RollenCache = HashMap<(String, String), (Instant, Arc<Vec<String>>)>;

/// The ZGW state of one runtime.
pub struct ZgwShared {
    pub settings: ZgwSettings,
    pub urls: UrlMap,
    pub rules: Rules,
    grants: ArcSwap<Grants>,
    /// When the grants were last loaded successfully, and whether the last attempt failed.
    status: Mutex<LoadStatus>,
    /// One client per mounted component, by upstream base (longest first).
    clients: Vec<(String, Arc<UpstreamClient>)>,
    /// The Autorisaties API, when the applicaties come from one.
    ac: Option<Arc<UpstreamClient>>,
    /// Per issuer, whose `user` claim an involvement check may rely on: every client of an
    /// IdP (the IdP vouches for the user); of a ZGW HMAC issuer only the clients trusted to
    /// assert their users (anyone else signs whatever `user_id` it likes).
    user_trust: HashMap<String, UserHeaderTrust>,
    /// (zaak URL, user) → the user's rol omschrijvingGeneriek values, with when they were read.
    rollen: Mutex<RollenCache>,
    /// Files watched for hot reload (the autorisaties file, the rules).
    sources: Vec<PathBuf>,
}

#[derive(Debug, Default, Clone)]
struct LoadStatus {
    loaded_at: Option<std::time::SystemTime>,
    last_error: Option<String>,
}

impl std::fmt::Debug for ZgwShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZgwShared")
            .field("applicaties", &self.grants.load().len())
            .field("rules", &!self.rules.is_empty())
            .field("urls", &self.urls)
            .finish_non_exhaustive()
    }
}

fn problem(src: &Path, at: &str, message: String) -> StartError {
    StartError::Config(vec![ConfigProblem::new(src, at, message)])
}

impl ZgwShared {
    /// Builds the state for `config` (which has a `[zgw]` section). A file source is read and
    /// compiled now (a bad file is a configuration problem); an API source starts empty and
    /// is filled by [`ZgwShared::refresh`].
    pub fn build(
        config: &Config,
        settings: &ZgwSettings,
        public_url: &str,
    ) -> Result<ZgwShared, StartError> {
        let src = config.source.clone().unwrap_or_default();
        let mut pairs = Vec::new();
        let mut clients = Vec::new();
        for a in &config.apis {
            if matches!(a.kind, crate::config::ApiKind::Zgw(_)) {
                pairs.push((format!("{public_url}{}", a.prefix), a.upstream.base.clone()));
                clients.push((
                    UrlMap::normalize(&a.upstream.base),
                    Arc::new(UpstreamClient::new(&a.upstream)?),
                ));
            }
        }
        clients.sort_by_key(|(b, _)| std::cmp::Reverse(b.len()));
        let urls = UrlMap::new(pairs).map_err(|e| problem(&src, "apis", e.to_string()))?;
        let mut sources = Vec::new();
        let rules = match &settings.rules {
            None => Rules::default(),
            Some(path) => {
                sources.push(path.clone());
                let text = std::fs::read_to_string(path)
                    .map_err(|e| problem(&src, "zgw.rules", format!("{}: {e}", path.display())))?;
                Rules::from_toml(&text).map_err(|ps| {
                    StartError::Config(
                        ps.iter()
                            .map(|p| ConfigProblem::new(path, &p.at, p.message.clone()))
                            .collect(),
                    )
                })?
            }
        };
        let (grants, ac, loaded) = match &settings.autorisaties {
            AutorisatiesSource::File(path) => {
                sources.push(path.clone());
                (load_file(path, &urls, &declared(&rules))?, None, true)
            }
            AutorisatiesSource::Api { upstream, .. } => (
                Grants::default(),
                Some(Arc::new(UpstreamClient::new(upstream)?)),
                false,
            ),
        };
        let user_trust = config
            .issuers
            .iter()
            .map(|i| {
                let trust = if matches!(i.keys, KeysFrom::Hmac(_)) {
                    i.user_header_trust.clone()
                } else {
                    UserHeaderTrust::AllClients
                };
                (i.name.clone(), trust)
            })
            .collect();
        Ok(ZgwShared {
            settings: settings.clone(),
            urls,
            rules,
            grants: ArcSwap::from_pointee(grants),
            status: Mutex::new(LoadStatus {
                loaded_at: loaded.then(std::time::SystemTime::now),
                last_error: None,
            }),
            clients,
            ac,
            user_trust,
            rollen: Mutex::new(HashMap::new()),
            sources,
        })
    }

    /// The compiled applicaties now.
    pub fn grants(&self) -> Arc<Grants> {
        self.grants.load_full()
    }

    /// Files watched for hot reload.
    pub fn sources(&self) -> Vec<PathBuf> {
        self.sources.clone()
    }

    /// Whether the user named by a principal of `issuer` is vouched for by an IdP, so an
    /// involvement check may rely on it. A ZGW client's own `user_id` claim is not (the
    /// client signs whatever it likes), unless the client is trusted to assert its users.
    pub fn user_is_verified(&self, issuer: &str, client: Option<&str>) -> bool {
        self.user_trust
            .get(issuer)
            .is_some_and(|t| t.trusts(client))
    }

    /// The client for an absolute upstream URL, and the path and query relative to its base.
    pub(crate) fn client_for(&self, url: &str) -> Option<(&UpstreamClient, String)> {
        let n = UrlMap::normalize(url);
        self.clients.iter().find_map(|(base, c)| {
            let rest = n.strip_prefix(base.as_str())?;
            (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
                .then(|| (c.as_ref(), rest.to_owned()))
        })
    }

    /// A lookup through the client serving `url`, with its relative path.
    pub(crate) fn lookup_for(&self, url: &str) -> Option<(Lookup<'_>, String)> {
        self.client_for(url)
            .map(|(c, rest)| (Lookup::new(c as &dyn crate::adapter::Upstream), rest))
    }

    /// Cached rollen of `user` in `zaak`, when read within the cache time.
    pub fn cached_rollen(&self, zaak: &str, user: &str) -> Option<Arc<Vec<String>>> {
        let ttl = self.settings.involvement_cache;
        let map = self.rollen.lock().ok()?;
        map.get(&(zaak.to_owned(), user.to_owned()))
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, r)| Arc::clone(r))
    }

    /// Remembers the rollen of `user` in `zaak`.
    pub fn remember_rollen(&self, zaak: &str, user: &str, roles: Arc<Vec<String>>) {
        if self.settings.involvement_cache.is_zero() {
            return;
        }
        if let Ok(mut map) = self.rollen.lock() {
            if map.len() >= MAX_CACHED_ROLLEN {
                let ttl = self.settings.involvement_cache;
                map.retain(|_, (at, _)| at.elapsed() < ttl);
                if map.len() >= MAX_CACHED_ROLLEN {
                    map.clear();
                }
            }
            map.insert((zaak.to_owned(), user.to_owned()), (Instant::now(), roles));
        }
    }

    /// Reads every applicatie from the Autorisaties API and swaps the compiled grants in. On
    /// any failure the last good copy stays and the error is returned (and counted).
    pub async fn refresh(&self) -> Result<usize, String> {
        let Some(ac) = &self.ac else {
            return Ok(self.grants.load().len());
        };
        let result = read_all(ac, self.settings.max_scan_pages.max(50)).await;
        let outcome = result.and_then(|apps| {
            sluis_zgw::compile_with(&apps, &self.urls, &declared(&self.rules)).map_err(|ps| {
                let first: Vec<String> = ps.iter().take(5).map(|p| p.to_string()).collect();
                format!(
                    "the Autorisaties API's applicaties are invalid ({} problem(s)): {}",
                    ps.len(),
                    first.join("; ")
                )
            })
        });
        let mut status = self
            .status
            .lock()
            .map_err(|_| "status lock poisoned".to_owned())?;
        match outcome {
            Ok(grants) => {
                let n = grants.len();
                self.grants.store(Arc::new(grants));
                status.loaded_at = Some(std::time::SystemTime::now());
                status.last_error = None;
                metrics::counter!("sluis_zgw_autorisaties_loads_total", "result" => "ok")
                    .increment(1);
                metrics::gauge!("sluis_zgw_applicaties").set(n as f64);
                Ok(n)
            }
            Err(e) => {
                status.last_error = Some(e.clone());
                metrics::counter!("sluis_zgw_autorisaties_loads_total", "result" => "error")
                    .increment(1);
                tracing::warn!(error = %e, "reading the Autorisaties API failed; keeping the last good copy");
                Err(e)
            }
        }
    }

    /// Takes over the grants of the runtime this one replaces (a reload), so a live source
    /// does not start empty.
    pub fn adopt(&self, previous: &ZgwShared) {
        if self.ac.is_some() && previous.ac.is_some() {
            self.grants.store(previous.grants.load_full());
            if let (Ok(mut mine), Ok(theirs)) = (self.status.lock(), previous.status.lock()) {
                *mine = theirs.clone();
            }
        }
    }

    /// Whether the grants have been loaded at least once.
    pub fn ready(&self) -> bool {
        self.status.lock().is_ok_and(|s| s.loaded_at.is_some())
    }

    /// The load status for `/readyz`.
    pub fn status_json(&self) -> serde_json::Value {
        let s = self.status.lock().map(|s| s.clone()).unwrap_or_default();
        serde_json::json!({
            "applicaties": self.grants.load().len(),
            "digest": self.grants.load().digest(),
            "loaded": s.loaded_at.is_some(),
            "lastError": s.last_error,
        })
    }

    /// Starts the periodic refresh of a live source; it ends when `stop` fires.
    pub fn spawn_refresher(self: &Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let AutorisatiesSource::Api { refresh, .. } = &self.settings.autorisaties else {
            return;
        };
        let every = *refresh;
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                // Retry soon while nothing was ever loaded.
                let wait = if me.ready() {
                    every
                } else {
                    Duration::from_secs(2).min(every)
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => { let _ = me.refresh().await; }
                    _ = stop.changed() => break,
                }
            }
        });
    }
}

/// The scopes the rules declare (accepted in the autorisaties next to the standard's).
fn declared(rules: &Rules) -> Vec<String> {
    rules
        .declared_scopes()
        .map(|(name, _)| name.to_owned())
        .collect()
}

fn load_file(path: &Path, urls: &UrlMap, declared: &[String]) -> Result<Grants, StartError> {
    let bytes = std::fs::read(path).map_err(|e| {
        StartError::Config(vec![ConfigProblem::new(
            path,
            "",
            format!("cannot read the autorisaties: {e}"),
        )])
    })?;
    let apps = sluis_zgw::parse_applicaties(&bytes)
        .map_err(|e| StartError::Config(vec![ConfigProblem::new(path, "", e.to_string())]))?;
    sluis_zgw::compile_with(&apps, urls, declared).map_err(|ps| {
        StartError::Config(
            ps.iter()
                .map(|p| {
                    ConfigProblem::new(
                        path,
                        &format!("{}: {}", p.applicatie, p.at),
                        p.message.clone(),
                    )
                })
                .collect(),
        )
    })
}

/// Every applicatie the Autorisaties API lists, following its pages (at most `max_pages`).
async fn read_all(
    ac: &UpstreamClient,
    max_pages: usize,
) -> Result<Vec<sluis_zgw::Applicatie>, String> {
    let mut ctx = crate::context::RequestContext::new(crate::context::Incoming {
        method: hyper::Method::GET,
        path: "/applicaties".into(),
        query: None,
        headers: hyper::HeaderMap::new(),
        body: bytes::Bytes::new(),
    });
    let lookup = Lookup::new(ac as &dyn crate::adapter::Upstream);
    let mut apps = Vec::new();
    let mut page = 1usize;
    loop {
        let doc = lookup
            .get_json(&mut ctx, &format!("/applicaties?page={page}"))
            .await
            .map_err(|e| format!("GET {}/applicaties?page={page}: {e}", ac.base()))?;
        let bytes = serde_json::to_vec(&doc).map_err(|e| e.to_string())?;
        let p =
            sluis_zgw::autorisaties::parse_applicatie_page(&bytes).map_err(|e| e.to_string())?;
        apps.extend(p.results);
        if p.next.is_none() {
            return Ok(apps);
        }
        page += 1;
        if page > max_pages {
            return Err(format!(
                "the Autorisaties API lists more than {max_pages} pages of applicaties"
            ));
        }
    }
}
