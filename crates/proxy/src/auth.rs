//! The *authenticate* phase's network side: JWKS fetching (URL, OIDC discovery or file),
//! scheduled refresh, rate-limited refresh on an unknown `kid`, and the verified-token cache.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Uri};
use serde_json::Value;
use sluis_token::{
    Algorithm, HmacClients, IssuerConfig, KeySet, Principal, ScopeClaim, TokenError, VerifiedCache,
    Verifier,
};
use tokio::sync::Mutex;

use crate::config::{Config, Issuer, KeysFrom, ScopeClaimKind};
use crate::error::{ProxyError, StartError};
use crate::upstream::https_client;

/// Largest JWKS or discovery document accepted.
const MAX_DOC_BYTES: usize = 1024 * 1024;

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

/// One issuer's keys, refreshable.
#[derive(Debug)]
pub struct KeyStore {
    name: String,
    from: KeysFrom,
    current: ArcSwapOption<KeySet>,
    last_attempt: Mutex<Option<Instant>>,
    min_interval: Duration,
    client: Client,
    /// Set when a refresh dropped a key: tokens verified with it must not live on in the cache.
    keys_removed: std::sync::atomic::AtomicBool,
}

impl KeyStore {
    fn new(issuer: &Issuer, client: Client) -> Self {
        KeyStore {
            name: issuer.name.clone(),
            from: issuer.keys.clone(),
            current: ArcSwapOption::empty(),
            last_attempt: Mutex::new(None),
            min_interval: issuer.jwks_min_refresh,
            client,
            keys_removed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The current key set, if one was loaded.
    pub fn current(&self) -> Option<Arc<KeySet>> {
        self.current.load_full()
    }

    /// Fetches the keys now unless the last attempt was less than the minimum interval ago.
    /// Returns true when a fetch happened and succeeded.
    pub async fn refresh(&self, force: bool) -> bool {
        {
            let mut last = self.last_attempt.lock().await;
            if !force && last.is_some_and(|t| t.elapsed() < self.min_interval) {
                return false;
            }
            *last = Some(Instant::now());
        }
        let result = self.fetch().await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        metrics::counter!("sluis_jwks_refreshes_total", "issuer" => self.name.clone(), "result" => outcome).increment(1);
        match result {
            Ok(set) => {
                let dropped = self
                    .current()
                    .is_some_and(|old| old.kids().any(|k| !set.contains_kid(k)));
                self.current.store(Some(Arc::new(set)));
                if dropped {
                    self.keys_removed
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                }
                true
            }
            Err(e) => {
                tracing::warn!(issuer = %self.name, error = %e, "JWKS refresh failed; keeping the previous keys");
                false
            }
        }
    }

    async fn fetch(&self) -> Result<KeySet, String> {
        match &self.from {
            KeysFrom::JwksFile(path) => {
                let bytes = tokio::fs::read(path)
                    .await
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                KeySet::from_jwks(&bytes).map_err(|e| e.to_string())
            }
            KeysFrom::JwksUrl(url) => {
                let bytes = self.get(url.clone()).await?;
                KeySet::from_jwks(&bytes).map_err(|e| e.to_string())
            }
            KeysFrom::Discovery(url) => {
                let s = url.to_string();
                let doc_url = if s.contains("/.well-known/") {
                    s
                } else {
                    format!(
                        "{}/.well-known/openid-configuration",
                        s.trim_end_matches('/')
                    )
                };
                let doc_url: Uri = doc_url
                    .parse()
                    .map_err(|_| "invalid discovery URL".to_owned())?;
                let doc = self.get(doc_url).await?;
                let v: Value =
                    serde_json::from_slice(&doc).map_err(|e| format!("discovery document: {e}"))?;
                let jwks_uri = v
                    .get("jwks_uri")
                    .and_then(Value::as_str)
                    .ok_or("discovery document has no jwks_uri")?;
                let jwks: Uri = jwks_uri
                    .parse()
                    .map_err(|_| "invalid jwks_uri".to_owned())?;
                let bytes = self.get(jwks).await?;
                KeySet::from_jwks(&bytes).map_err(|e| e.to_string())
            }
            KeysFrom::Hmac(_) => Err("an hmac issuer has no key set".into()),
        }
    }

    async fn get(&self, url: Uri) -> Result<Bytes, String> {
        let req = Request::builder()
            .method(Method::GET)
            .uri(url)
            .header("accept", "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let resp = tokio::time::timeout(Duration::from_secs(10), self.client.request(req))
            .await
            .map_err(|_| "timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("status {}", resp.status()));
        }
        Limited::new(resp.into_body(), MAX_DOC_BYTES)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .map_err(|e| e.to_string())
    }
}

/// Verifies bearer tokens for all configured issuers.
#[derive(Debug)]
pub struct Authenticator {
    verifier: Verifier,
    stores: HashMap<String, Arc<KeyStore>>,
    cache: VerifiedCache,
    refresh_every: HashMap<String, Duration>,
}

fn algorithm(s: &str) -> Option<Algorithm> {
    s.parse::<Algorithm>().ok()
}

fn scope_claim(i: &Issuer) -> ScopeClaim {
    match i.scopes {
        ScopeClaimKind::Scope => ScopeClaim::Scope,
        ScopeClaimKind::Scp => ScopeClaim::Scp,
        ScopeClaimKind::Roles => ScopeClaim::Roles,
        ScopeClaimKind::Scopes => ScopeClaim::Scopes,
        ScopeClaimKind::None => ScopeClaim::None,
        ScopeClaimKind::Keycloak => ScopeClaim::KeycloakRealmRoles {
            mapping: i.scope_mapping.clone(),
        },
    }
}

impl Authenticator {
    /// Builds the verifier and key stores; keys are fetched by [`Authenticator::load_keys`].
    pub fn new(cfg: &Config) -> Result<Self, StartError> {
        let client = https_client(Duration::from_secs(5), 4, None)?;
        let mut issuers = Vec::new();
        let mut hmac = Vec::new();
        let mut stores = HashMap::new();
        let mut refresh_every = HashMap::new();
        for i in &cfg.issuers {
            match &i.keys {
                KeysFrom::Hmac(clients) => {
                    let mut c = HmacClients::new(i.name.clone());
                    c.leeway_secs = i.leeway_secs;
                    c.max_age_secs = i.max_age_secs.or(c.max_age_secs);
                    c.scopes = scope_claim(i);
                    c.audiences = i.audiences.clone();
                    for (id, secret) in clients {
                        c.insert(id.clone(), secret.expose())
                            .map_err(|e| StartError::Other(format!("issuer {}: {e}", i.name)))?;
                    }
                    hmac.push(c);
                }
                _ => {
                    let algs: Vec<Algorithm> =
                        i.algorithms.iter().filter_map(|a| algorithm(a)).collect();
                    issuers.push(
                        IssuerConfig::new(i.name.clone(), i.issuer.clone())
                            .with_audiences(i.audiences.clone())
                            .with_algorithms(algs)
                            .with_scopes(scope_claim(i))
                            .with_leeway(i.leeway_secs)
                            .with_max_age(i.max_age_secs)
                            .with_user_claims(i.user_claims.clone())
                            .with_client_claims(i.client_claims.clone())
                            .with_roles(i.roles.clone()),
                    );
                    stores.insert(i.name.clone(), Arc::new(KeyStore::new(i, client.clone())));
                    refresh_every.insert(i.name.clone(), i.jwks_refresh);
                }
            }
        }
        let mut verifier = Verifier::new(issuers).map_err(|e| StartError::Other(e.to_string()))?;
        for c in hmac {
            verifier = verifier
                .with_hmac_clients(c)
                .map_err(|e| StartError::Other(e.to_string()))?;
        }
        verifier = verifier.with_max_token_bytes(cfg.max_token_bytes);
        Ok(Authenticator {
            verifier,
            stores,
            cache: VerifiedCache::new(cfg.token_cache_capacity),
            refresh_every,
        })
    }

    /// Fetches every issuer's keys once. Failures are logged; the issuer's tokens are refused
    /// until a later refresh succeeds.
    pub async fn load_keys(&self) {
        for s in self.stores.values() {
            s.refresh(true).await;
        }
    }

    /// Starts the scheduled refresh of every JWKS; the tasks end when `stop` fires.
    pub fn spawn_refreshers(&self, stop: tokio::sync::watch::Receiver<bool>) {
        for (name, store) in &self.stores {
            let every = self
                .refresh_every
                .get(name)
                .copied()
                .unwrap_or(Duration::from_secs(300));
            let store = Arc::clone(store);
            let mut stop = stop.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(every) => { store.refresh(true).await; }
                        _ = stop.changed() => break,
                    }
                }
            });
        }
    }

    fn keys(&self) -> impl Fn(&str) -> Option<Arc<KeySet>> + '_ {
        move |name: &str| self.stores.get(name).and_then(|s| s.current())
    }

    /// Verifies a bearer token: from the cache, else against the issuer's keys, refreshing them
    /// once (rate limited) when the token names an unknown key.
    pub async fn authenticate(&self, token: &str, now: u64) -> Result<Arc<Principal>, ProxyError> {
        // A retired key ends the life of every token verified with it.
        if self.stores.values().any(|s| {
            s.keys_removed
                .swap(false, std::sync::atomic::Ordering::SeqCst)
        }) {
            self.cache.clear();
        }
        if let Some(p) = self.cache.get(token, now) {
            return Ok(p);
        }
        let first = self.verifier.verify(token, now, &self.keys());
        let result = match first {
            Err(TokenError::UnknownKey { issuer, .. }) => match self.stores.get(&issuer) {
                Some(store) if store.refresh(false).await => {
                    self.verifier.verify(token, now, &self.keys())
                }
                _ => Err(TokenError::UnknownKey { issuer, kid: None }),
            },
            other => other,
        };
        match result {
            Ok(p) => {
                let p = Arc::new(p);
                let leeway = self.verifier.leeway_secs(&p.issuer).unwrap_or(0);
                self.cache.insert(token, Arc::clone(&p), leeway);
                Ok(p)
            }
            Err(e) => Err(ProxyError::InvalidToken(e.to_string())),
        }
    }

    /// The current keys of the issuer named `name` (the reviewers' sign-in verifies ID tokens
    /// with them).
    pub(crate) fn issuer_keys(&self, name: &str) -> Option<Arc<KeySet>> {
        self.stores.get(name).and_then(|s| s.current())
    }

    /// Refreshes one issuer's keys (rate limited like a refresh on an unknown `kid`).
    pub(crate) async fn refresh_issuer(&self, name: &str) -> bool {
        match self.stores.get(name) {
            Some(s) => s.refresh(false).await,
            None => false,
        }
    }

    /// True when every JWT issuer has keys loaded.
    pub fn ready(&self) -> bool {
        self.stores.values().all(|s| s.current().is_some())
    }
}

/// Compares two secrets without an early exit on the first difference (their SHA-256
/// digests, byte by byte), so timing does not reveal how much of a guess was right.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    let (da, db) = (Sha256::digest(a), Sha256::digest(b));
    da.iter()
        .zip(db.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}
