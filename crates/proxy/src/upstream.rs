//! The upstream client: pooled connections, per-upstream timeouts, sluis's own credentials (API
//! key, OAuth2 client credentials, mTLS), bounded bodies, and the mapping of upstream failures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::config::{Oauth2, Tls, Upstream};
use crate::error::{ProxyError, StartError};

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A response from the upstream, body fully read (within the size cap).
#[derive(Debug)]
pub struct UpstreamResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Bytes,
    pub elapsed: Duration,
}

/// One configured upstream.
#[derive(Debug)]
pub struct UpstreamClient {
    client: HttpsClient,
    cfg: Upstream,
    oauth: Option<Arc<OauthState>>,
}

#[derive(Debug)]
struct OauthState {
    cfg: Oauth2,
    token: Mutex<Option<(String, Instant)>>,
}

/// The system's root certificates, read once per process (reloads build new clients often).
fn native_roots() -> &'static rustls::RootCertStore {
    static ROOTS: std::sync::OnceLock<rustls::RootCertStore> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        roots
    })
}

fn tls_config(tls: Option<&Tls>) -> Result<rustls::ClientConfig, StartError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    match tls.and_then(|t| t.ca_file.as_ref()) {
        Some(ca) => {
            let pem = std::fs::read(ca)
                .map_err(|e| StartError::Other(format!("{}: {e}", ca.display())))?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|e| StartError::Other(format!("{}: {e}", ca.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| StartError::Other(format!("{}: {e}", ca.display())))?;
            }
            if roots.is_empty() {
                return Err(StartError::Other(format!(
                    "{}: no certificates",
                    ca.display()
                )));
            }
        }
        None => roots = native_roots().clone(),
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StartError::Other(e.to_string()))?
        .with_root_certificates(roots);
    let cert_key = tls.and_then(|t| t.client_cert_file.as_ref().zip(t.client_key_file.as_ref()));
    match cert_key {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let read = |p: &std::path::Path| {
                std::fs::read(p).map_err(|e| StartError::Other(format!("{}: {e}", p.display())))
            };
            let cert_pem = read(cert)?;
            let key_pem = read(key)?;
            let certs: Result<Vec<_>, _> =
                rustls_pemfile::certs(&mut cert_pem.as_slice()).collect();
            let certs = certs.map_err(|e| StartError::Other(format!("{}: {e}", cert.display())))?;
            let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
                .map_err(|e| StartError::Other(format!("{}: {e}", key.display())))?
                .ok_or_else(|| StartError::Other(format!("{}: no private key", key.display())))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| StartError::Other(format!("client certificate: {e}")))
        }
    }
}

/// Builds a pooled HTTP(S) client with the given connect timeout and TLS settings.
pub fn https_client(
    connect_timeout: Duration,
    pool_max_idle: usize,
    tls: Option<&Tls>,
) -> Result<HttpsClient, StartError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(tls_config(tls)?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(pool_max_idle)
        .pool_idle_timeout(Duration::from_secs(60))
        .build(connector))
}

impl UpstreamClient {
    pub fn new(cfg: &Upstream) -> Result<Self, StartError> {
        let client = https_client(cfg.connect_timeout, cfg.pool_max_idle, cfg.tls.as_ref())?;
        let oauth = cfg.oauth2.as_ref().map(|o| {
            Arc::new(OauthState {
                cfg: o.clone(),
                token: Mutex::new(None),
            })
        });
        Ok(UpstreamClient {
            client,
            cfg: cfg.clone(),
            oauth,
        })
    }

    /// The configured base URL (no trailing slash).
    pub fn base(&self) -> &str {
        &self.cfg.base
    }

    /// GETs `path_and_query` (appended to the base URL) with the given extra headers.
    pub async fn get(
        &self,
        path_and_query: &str,
        headers: &[(HeaderName, HeaderValue)],
    ) -> Result<UpstreamResponse, ProxyError> {
        self.send(Method::GET, path_and_query, None, headers).await
    }

    /// POSTs a JSON body to `path` (appended to the base URL).
    pub async fn post_json(
        &self,
        path: &str,
        body: Bytes,
        headers: &[(HeaderName, HeaderValue)],
    ) -> Result<UpstreamResponse, ProxyError> {
        self.send(Method::POST, path, Some(body), headers).await
    }

    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Bytes>,
        headers: &[(HeaderName, HeaderValue)],
    ) -> Result<UpstreamResponse, ProxyError> {
        let uri: Uri = format!("{}{}", self.cfg.base, path_and_query)
            .parse()
            .map_err(|_| {
                ProxyError::BadRequest("the request path cannot be forwarded".into(), vec![])
            })?;
        let started = Instant::now();
        let fut = async {
            let mut req = Request::builder().method(method).uri(uri);
            if body.is_some() {
                req = req.header(CONTENT_TYPE, "application/json; charset=utf-8");
            }
            for (k, v) in headers {
                req = req.header(k, v);
            }
            req = req.header(ACCEPT, "application/hal+json, application/json");
            if let Some((h, v)) = &self.cfg.api_key {
                let v = HeaderValue::from_bytes(v.expose()).map_err(|_| {
                    ProxyError::Internal("api key is not a valid header value".into())
                })?;
                req = req.header(h.as_str(), v);
            }
            if let Some(o) = &self.oauth {
                let token = self.oauth_token(o).await?;
                req = req.header(AUTHORIZATION, format!("Bearer {token}"));
            }
            let req = req
                .body(Full::new(body.clone().unwrap_or_default()))
                .map_err(|e| ProxyError::Internal(e.to_string()))?;
            let resp = self.client.request(req).await.map_err(|e| classify(&e))?;
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = Limited::new(resp.into_body(), self.cfg.max_body_bytes)
                .collect()
                .await
                .map_err(|e| ProxyError::BadUpstream(format!("body: {e}")))?
                .to_bytes();
            Ok::<_, ProxyError>((status, content_type, body))
        };
        let (status, content_type, body) = tokio::time::timeout(self.cfg.timeout, fut)
            .await
            .map_err(|_| ProxyError::UpstreamTimeout)??;
        if status == 401
            && let Some(o) = &self.oauth
        {
            // The cached token may have been revoked; fetch a fresh one next time.
            *o.token.lock().await = None;
        }
        Ok(UpstreamResponse {
            status,
            content_type,
            body,
            elapsed: started.elapsed(),
        })
    }

    async fn oauth_token(&self, o: &OauthState) -> Result<String, ProxyError> {
        let mut guard = o.token.lock().await;
        if let Some((t, until)) = guard.as_ref()
            && Instant::now() < *until
        {
            return Ok(t.clone());
        }
        let mut form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            enc(&o.cfg.client_id),
            enc(o.cfg.client_secret.expose_str())
        );
        if let Some(s) = &o.cfg.scope {
            form.push_str(&format!("&scope={}", enc(s)));
        }
        let req = Request::builder()
            .method(Method::POST)
            .uri(o.cfg.token_url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| ProxyError::Internal(e.to_string()))?;
        let resp = tokio::time::timeout(self.cfg.timeout, self.client.request(req))
            .await
            .map_err(|_| ProxyError::UpstreamTimeout)?
            .map_err(|e| ProxyError::UpstreamUnavailable(format!("token endpoint: {e}")))?;
        let status = resp.status().as_u16();
        let body = Limited::new(resp.into_body(), 64 * 1024)
            .collect()
            .await
            .map_err(|e| ProxyError::BadUpstream(format!("token endpoint body: {e}")))?
            .to_bytes();
        if status != 200 {
            return Err(ProxyError::BackendConfig(status));
        }
        let v: Value =
            serde_json::from_slice(&body).map_err(|_| ProxyError::BackendConfig(status))?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or(ProxyError::BackendConfig(status))?
            .to_owned();
        let ttl = v.get("expires_in").and_then(Value::as_u64).unwrap_or(300);
        let until = Instant::now() + Duration::from_secs(ttl).saturating_sub(o.cfg.margin);
        *guard = Some((token.clone(), until));
        Ok(token)
    }
}

/// Connect, TLS and transport failures mean the upstream is unavailable (503); anything else
/// is an unusable answer (502).
fn classify(e: &hyper_util::client::legacy::Error) -> ProxyError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    let mut transport = e.is_connect();
    while let Some(s) = source {
        if s.is::<std::io::Error>() || s.is::<rustls::Error>() {
            transport = true;
        }
        source = s.source();
    }
    if transport {
        ProxyError::UpstreamUnavailable(e.to_string())
    } else {
        ProxyError::BadUpstream(e.to_string())
    }
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Maps a non-2xx upstream response to the error sluis answers with.
pub fn map_failure(resp: &UpstreamResponse) -> ProxyError {
    if resp.status == 401 || resp.status == 403 {
        return ProxyError::BackendConfig(resp.status);
    }
    let is_json = resp
        .content_type
        .as_deref()
        .is_some_and(|c| c.contains("json"));
    if is_json
        && let Ok(doc @ Value::Object(_)) = serde_json::from_slice::<Value>(&resp.body)
        && (400..600).contains(&resp.status)
    {
        return ProxyError::UpstreamProblem(resp.status, doc);
    }
    ProxyError::BadUpstream(format!("status {} with a non-problem body", resp.status))
}
