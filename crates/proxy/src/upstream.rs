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

use crate::adapter::{Answer, BoxFuture, UpstreamRequest};
use crate::config::{Oauth2, Tls, Upstream};
use crate::context::RequestContext;
use crate::error::{ProxyError, RequestFault, StartError, UpstreamFault, UpstreamProblem};

pub(crate) type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A response from the upstream, body fully read (within the size cap), or for a streamed
/// request a successful body as it arrives.
#[derive(Debug)]
pub(crate) struct UpstreamResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Bytes,
    pub headers: hyper::HeaderMap,
    pub stream: Option<crate::problem::Body>,
    pub elapsed: Duration,
}

/// sluis's ZGW JWT for one request: HS256, `iss` = `client_id` = sluis's client, `iat` now, and
/// the end user sluis acts for (so the upstream's audit trail names them).
fn zgw_token(
    z: &crate::config::ZgwJwt,
    who: Option<&crate::adapter::OnBehalfOf>,
) -> Result<String, ProxyError> {
    let iat = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = serde_json::json!({
        "iss": z.client_id,
        "client_id": z.client_id,
        "iat": iat,
        "user_id": who.map(|w| w.user_id.as_str()).unwrap_or(""),
        "user_representation": who.map(|w| w.user_representation.as_str()).unwrap_or(""),
    });
    let key = jsonwebtoken::EncodingKey::from_secret(z.secret.expose());
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &key,
    )
    .map_err(|e| ProxyError::Internal(format!("signing sluis's ZGW token: {e}")))
}

/// One configured upstream. Not public outside the crate: requests reach it only as an
/// [`UpstreamRequest`] that an adapter's authorize built.
#[derive(Debug)]
pub(crate) struct UpstreamClient {
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
    pub(crate) fn new(cfg: &Upstream) -> Result<Self, StartError> {
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

    async fn send(
        &self,
        request: &UpstreamRequest,
        extra: &[(HeaderName, HeaderValue)],
    ) -> Result<UpstreamResponse, ProxyError> {
        let uri: Uri = format!("{}{}", self.cfg.base, request.path_and_query())
            .parse()
            .map_err(|_| ProxyError::BadRequest(RequestFault::PathNotForwardable))?;
        let started = Instant::now();
        let body = request.body().cloned();
        let fut = async {
            let mut req = Request::builder().method(request.method().clone()).uri(uri);
            if body.is_some() {
                req = req.header(CONTENT_TYPE, "application/json; charset=utf-8");
            }
            for (k, v) in extra.iter().chain(request.headers()) {
                req = req.header(k, v);
            }
            if !request.headers().iter().any(|(k, _)| k == ACCEPT) {
                req = req.header(ACCEPT, "application/hal+json, application/json");
            }
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
            if let Some(z) = &self.cfg.zgw_jwt {
                let token = zgw_token(z, request.on_behalf_of())?;
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
            let (parts, incoming) = resp.into_parts();
            if request.streams() && (200..300).contains(&status) {
                // Passed through as it arrives: the caller's read pace drives the upstream's.
                let stream = incoming.map_err(|e| -> crate::problem::BodyError { Box::new(e) });
                return Ok::<_, ProxyError>((
                    status,
                    content_type,
                    Bytes::new(),
                    parts.headers,
                    Some(stream.boxed()),
                ));
            }
            let body = Limited::new(incoming, self.cfg.max_body_bytes)
                .collect()
                .await
                .map_err(|e| unusable(format!("body: {e}")))?
                .to_bytes();
            Ok::<_, ProxyError>((status, content_type, body, parts.headers, None))
        };
        let (status, content_type, body, headers, stream) =
            tokio::time::timeout(self.cfg.timeout, fut)
                .await
                .map_err(|_| ProxyError::Upstream(UpstreamFault::Timeout))??;
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
            headers,
            stream,
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
            .map_err(|_| ProxyError::Upstream(UpstreamFault::Timeout))?
            .map_err(|e| {
                ProxyError::Upstream(UpstreamFault::Unavailable(format!("token endpoint: {e}")))
            })?;
        let status = resp.status().as_u16();
        let body = Limited::new(resp.into_body(), 64 * 1024)
            .collect()
            .await
            .map_err(|e| unusable(format!("token endpoint body: {e}")))?
            .to_bytes();
        if status != 200 {
            return Err(credentials(status));
        }
        let v: Value = serde_json::from_slice(&body).map_err(|_| credentials(status))?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or(credentials(status))?
            .to_owned();
        let ttl = v.get("expires_in").and_then(Value::as_u64).unwrap_or(300);
        let until = Instant::now() + Duration::from_secs(ttl).saturating_sub(o.cfg.margin);
        *guard = Some((token.clone(), until));
        Ok(token)
    }
}

/// Connect, TLS and transport failures mean the upstream is unavailable (503); anything else
/// is an unusable answer (502). A connection the upstream closes before its answer is complete
/// is a transport failure too: so a TLS 1.3 upstream refusing a client certificate shows, when
/// its alert comes after the request was sent and the client reads only the close.
fn classify(e: &hyper_util::client::legacy::Error) -> ProxyError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    let mut transport = e.is_connect();
    while let Some(s) = source {
        if s.is::<std::io::Error>()
            || s.is::<rustls::Error>()
            || s.downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_incomplete_message)
        {
            transport = true;
        }
        source = s.source();
    }
    if transport {
        ProxyError::Upstream(UpstreamFault::Unavailable(e.to_string()))
    } else {
        unusable(e.to_string())
    }
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn unusable(why: String) -> ProxyError {
    ProxyError::Upstream(UpstreamFault::Unusable(why))
}

fn credentials(status: u16) -> ProxyError {
    ProxyError::Upstream(UpstreamFault::Credentials(status))
}

/// A string member of a problem document when it is short, single-line text.
fn text_member(doc: &Value, name: &str, max: usize) -> Option<String> {
    doc.get(name)
        .and_then(Value::as_str)
        .filter(|s| s.len() <= max && !s.chars().any(char::is_control))
        .map(str::to_owned)
}

/// Maps a non-2xx upstream response to the error sluis answers with. A problem document is
/// reduced to its standard members; `detail` only when the upstream is configured as safe
/// (its details never echo personal data).
pub(crate) fn map_failure(resp: &UpstreamResponse, detail_safe: bool) -> ProxyError {
    if resp.status == 401 || resp.status == 403 {
        return credentials(resp.status);
    }
    let is_json = resp
        .content_type
        .as_deref()
        .is_some_and(|c| c.contains("json"));
    if is_json
        && let Ok(doc @ Value::Object(_)) = serde_json::from_slice::<Value>(&resp.body)
        && (400..600).contains(&resp.status)
    {
        let code = text_member(&doc, "code", 64).filter(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
        return ProxyError::Upstream(UpstreamFault::Problem(UpstreamProblem {
            status: resp.status,
            problem_type: text_member(&doc, "type", 512),
            title: text_member(&doc, "title", 512),
            detail: if detail_safe {
                text_member(&doc, "detail", 2048)
            } else {
                None
            },
            code,
        }));
    }
    unusable(format!("status {} with a non-problem body", resp.status))
}

impl crate::adapter::Upstream for UpstreamClient {
    fn forward<'a>(
        &'a self,
        ctx: &'a mut RequestContext,
        request: &'a UpstreamRequest,
    ) -> BoxFuture<'a, Result<Answer, ProxyError>> {
        Box::pin(async move {
            let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
            if let Ok(v) = HeaderValue::from_str(&ctx.trace.traceparent()) {
                headers.push((HeaderName::from_static("traceparent"), v));
            }
            if let Some(c) = ctx
                .trail
                .correlation_id
                .as_deref()
                .and_then(|c| HeaderValue::from_str(c).ok())
            {
                headers.push((HeaderName::from_static("x-correlation-id"), c));
            }
            ctx.trail.forwarded = true;
            let resp = self.send(request, &headers).await?;
            ctx.trail.upstream_status = Some(resp.status);
            ctx.trail.upstream_ms = Some(resp.elapsed.as_millis() as u64);
            metrics::histogram!("sluis_upstream_duration_seconds", "api" => ctx.trail.api.clone())
                .record(resp.elapsed.as_secs_f64());
            if !(200..300).contains(&resp.status) {
                let e = map_failure(&resp, self.cfg.problem_detail_safe);
                if let ProxyError::Upstream(UpstreamFault::Problem(p)) = &e {
                    ctx.trail.upstream_error_code = p.code.clone();
                }
                return Err(e);
            }
            Ok(Answer {
                status: resp.status,
                content_type: resp.content_type,
                body: resp.body,
                headers: resp.headers,
                stream: resp.stream,
            })
        })
    }

    fn base(&self) -> &str {
        &self.cfg.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::{Lookup, Upstream as _};
    use crate::context::{Incoming, RequestContext};

    fn upstream(url: &str) -> Upstream {
        Upstream {
            url: url.parse().unwrap(),
            base: url.trim_end_matches('/').to_owned(),
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(1),
            max_body_bytes: 1 << 20,
            pool_max_idle: 4,
            api_key: None,
            oauth2: None,
            zgw_jwt: None,
            tls: None,
            problem_detail_safe: false,
        }
    }

    fn ctx() -> RequestContext {
        RequestContext::new(Incoming {
            method: Method::GET,
            path: "/x".into(),
            query: None,
            headers: hyper::HeaderMap::new(),
            body: Bytes::new(),
        })
    }

    #[tokio::test]
    async fn a_lookup_asks_the_real_upstream_and_is_recorded() {
        let fixture = sluis_testkit::DatasetFixture::start(sluis_testkit::FixtureConfig::default())
            .await
            .unwrap();
        let client = UpstreamClient::new(&upstream(&format!(
            "{}/v1/afvalwegingen",
            fixture.base_url()
        )))
        .unwrap();
        assert_eq!(
            client.base(),
            format!("{}/v1/afvalwegingen", fixture.base_url())
        );
        let mut ctx = ctx();
        ctx.trail.correlation_id = Some("corr-lookup".into());
        let doc = Lookup::new(&client)
            .get_json(&mut ctx, "/containers?_pageSize=1")
            .await
            .unwrap();
        assert!(doc["_embedded"]["containers"].is_array(), "{doc}");
        assert_eq!(ctx.trail.lookups, ["GET /containers?_pageSize"]);
        assert_eq!(ctx.trail.upstream_status, Some(200));
        let headers = fixture.faults().last_headers();
        assert!(
            headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("x-correlation-id") && v == "corr-lookup"),
            "{headers:?}"
        );
        // A failing lookup is a typed upstream cause, and still recorded.
        let err = Lookup::new(&client)
            .get_json(&mut ctx, "/nosuchtable")
            .await
            .unwrap_err();
        assert!(matches!(err, ProxyError::Upstream(_)), "{err:?}");
        assert_eq!(ctx.trail.lookups.len(), 2);
    }

    #[test]
    fn upstream_problems_are_reduced_to_standard_members() {
        let doc = serde_json::json!({
            "type": "https://example/problems/x", "title": "Bad", "status": 400,
            "detail": "bsn 999993653 not found", "code": "notFound<script>",
            "invalidParams": [{"name": "bsn", "reason": "999993653"}], "trace": "at db.rs:12"
        });
        let resp = UpstreamResponse {
            status: 400,
            content_type: Some("application/problem+json".into()),
            body: Bytes::from(serde_json::to_vec(&doc).unwrap()),
            headers: hyper::HeaderMap::new(),
            stream: None,
            elapsed: Duration::ZERO,
        };
        let ProxyError::Upstream(UpstreamFault::Problem(p)) = map_failure(&resp, false) else {
            panic!("expected an upstream problem")
        };
        assert_eq!(p.title.as_deref(), Some("Bad"));
        assert_eq!(p.detail, None, "detail only from safe upstreams");
        assert_eq!(p.code, None, "a code that is not a plain token is dropped");
        let ProxyError::Upstream(UpstreamFault::Problem(p)) = map_failure(&resp, true) else {
            panic!("expected an upstream problem")
        };
        assert_eq!(p.detail.as_deref(), Some("bsn 999993653 not found"));
        let body = crate::problem::respond(&ProxyError::Upstream(UpstreamFault::Problem(p)), "/i");
        assert_eq!(body.status(), 400);
    }
}
