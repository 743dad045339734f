//! The socket side of the BRP fixture: accept loop, HTTP/1.1 keep-alive, faults, credentials,
//! routing, body recording, graceful shutdown. Mirrors `crate::server` for the dataset fixture.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{
    ACCEPT, ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, HeaderName,
    HeaderValue, WWW_AUTHENTICATE,
};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::api;
use super::config::BrpOAuth2;
use super::data::BrpData;
use super::problem::BrpProblem;
use crate::body::FixtureBody;
use crate::faults::{Faults, RecordedRequest};

/// Media type of successful responses.
pub(crate) const JSON: &str = "application/json; charset=utf-8";
/// Media type of error responses.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";
/// Request bodies above this are refused (413).
const MAX_BODY: usize = 1 << 20;
/// The path RvIG's API and mock serve; always accepted.
const RVIG_PATH: &str = "/haalcentraal/api/brp/personen";

const MAINTENANCE_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\">\
<title>Gepland onderhoud</title></head><body><h1>Gepland onderhoud</h1>\
<p>De BRP API is tijdelijk niet beschikbaar.</p></body></html>\n";

/// What every connection task shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) data: Arc<BrpData>,
    pub(crate) faults: Faults,
    pub(crate) last_body: Arc<Mutex<Option<Bytes>>>,
    pub(crate) token_requests: Arc<AtomicU64>,
    pub(crate) api_key: Option<(HeaderName, HeaderValue)>,
    pub(crate) bearer: Vec<String>,
    pub(crate) oauth2: Option<BrpOAuth2>,
    pub(crate) personen_path: String,
    pub(crate) token_path: String,
    pub(crate) max_results: usize,
}

pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: oneshot::Receiver<()>,
) {
    crate::server::serve_http(listener, shutdown, shared.faults.clone(), move |req| {
        let shared = Arc::clone(&shared);
        async move { respond(req, &shared).await }
    })
    .await;
}

fn record(req: &Request<Incoming>, faults: &Faults) {
    faults.record(RecordedRequest {
        method: req.method().as_str().to_owned(),
        uri: req
            .uri()
            .path_and_query()
            .map_or_else(|| req.uri().path().to_owned(), |pq| pq.as_str().to_owned()),
        headers: crate::server::header_pairs(req.headers()),
    });
}

async fn respond(req: Request<Incoming>, shared: &Shared) -> Response<FixtureBody> {
    record(&req, &shared.faults);
    let path = req.uri().path().to_owned();
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            *shared
                .last_body
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = None;
            let p = BrpProblem::new(
                413,
                "requestTooLarge",
                "Request body te groot.",
                Some("De request body is groter dan toegestaan."),
            );
            return problem(&p, &path);
        }
    };
    *shared
        .last_body
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(body.clone());

    let delay = shared.faults.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = shared.faults.status() {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let p = BrpProblem::new(
            code.as_u16(),
            if code.as_u16() == 503 {
                "notAvailable"
            } else {
                "serverError"
            },
            code.canonical_reason().unwrap_or("Fout"),
            Some("Fout veroorzaakt door de fixture."),
        );
        return problem(&p, &path);
    }
    if shared.faults.non_json() {
        return build(
            StatusCode::OK,
            "text/html; charset=utf-8",
            FixtureBody::full(MAINTENANCE_PAGE),
        );
    }
    if let Some(min) = shared.faults.oversized() {
        return build(StatusCode::OK, JSON, FixtureBody::oversized(min));
    }

    let trimmed = path.strip_suffix('/').unwrap_or(&path);
    if shared.oauth2.is_some() && (trimmed == shared.token_path || trimmed == "/oauth2/token") {
        return token(&parts, &body, shared);
    }
    if trimmed != shared.personen_path && trimmed != RVIG_PATH {
        let p = BrpProblem::new(
            404,
            "notFound",
            "Opgevraagde resource bestaat niet.",
            Some("De opgevraagde resource bestaat niet."),
        );
        return problem(&p, &path);
    }
    if let Some(resp) = authenticate(&parts, shared, &path) {
        return resp;
    }
    if parts.method != Method::POST {
        let p = BrpProblem::new(
            405,
            "methodNotAllowed",
            "Methode niet toegestaan.",
            Some("Alleen POST is toegestaan."),
        );
        let mut r = problem(&p, &path);
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !content_type.starts_with("application/json") {
        let p = BrpProblem::new(
            415,
            "unsupported",
            "Media Type wordt niet ondersteund.",
            Some("Gebruik application/json."),
        );
        return problem(&p, &path);
    }
    if let Some(accept) = parts.headers.get(ACCEPT).and_then(|v| v.to_str().ok())
        && !accepts_json(accept)
    {
        let p = BrpProblem::new(
            406,
            "notAcceptable",
            "Gevraagde contenttype wordt niet ondersteund.",
            Some("Het antwoord is alleen beschikbaar als application/json."),
        );
        return problem(&p, &path);
    }
    let body = if shared.faults.overdeliver() {
        overdelivering(&body)
    } else {
        body
    };
    match api::personen(&shared.data, &body, shared.max_results) {
        Ok(value) => json_response(StatusCode::OK, JSON, &value),
        Err(p) => problem(&p, &path),
    }
}

/// The request with `fields` widened to a broad set, for an upstream that sends more than it
/// was asked for.
fn overdelivering(body: &Bytes) -> Bytes {
    const BROAD: &[&str] = &[
        "aNummer",
        "burgerservicenummer",
        "geslacht",
        "naam",
        "geboorte",
        "nationaliteiten",
        "verblijfplaats",
    ];
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut m)) => {
            m.insert("fields".into(), serde_json::json!(BROAD));
            serde_json::to_vec(&m)
                .map(Bytes::from)
                .unwrap_or_else(|_| body.clone())
        }
        _ => body.clone(),
    }
}

fn accepts_json(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let media = part.split(';').next().unwrap_or("").trim();
        matches!(media, "*/*" | "application/*" | "application/json" | "")
    })
}

/// `None` when the request carries the configured credentials.
fn authenticate(
    parts: &hyper::http::request::Parts,
    shared: &Shared,
    path: &str,
) -> Option<Response<FixtureBody>> {
    if let Some((name, value)) = &shared.api_key
        && parts.headers.get(name) != Some(value)
    {
        return Some(problem(&BrpProblem::unauthenticated(), path));
    }
    if !shared.bearer.is_empty() {
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        if !presented.is_some_and(|t| shared.bearer.iter().any(|b| b == t)) {
            let mut r = problem(&BrpProblem::unauthenticated(), path);
            r.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"brp\", error=\"invalid_token\""),
            );
            return Some(r);
        }
    }
    None
}

fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (
                crate::query::percent_decode(k),
                crate::query::percent_decode(v),
            )
        })
        .collect()
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.trim().bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// The client-credentials token endpoint (RFC 6749 §4.4): form body, client authentication
/// by HTTP Basic or by `client_id`/`client_secret` fields.
fn token(
    parts: &hyper::http::request::Parts,
    body: &[u8],
    shared: &Shared,
) -> Response<FixtureBody> {
    shared.token_requests.fetch_add(1, Ordering::Relaxed);
    let Some(cfg) = &shared.oauth2 else {
        return oauth_error(StatusCode::NOT_FOUND, "invalid_request");
    };
    if parts.method != Method::POST {
        return oauth_error(StatusCode::METHOD_NOT_ALLOWED, "invalid_request");
    }
    let form = form_fields(body);
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let basic = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(base64_decode)
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':').map(|(u, p)| {
                (
                    crate::query::percent_decode(u),
                    crate::query::percent_decode(p),
                )
            })
        });
    let (id, secret) = match basic {
        Some((u, p)) => (Some(u), Some(p)),
        None => (field("client_id"), field("client_secret")),
    };
    if id.as_deref() != Some(cfg.client_id.as_str())
        || secret.as_deref() != Some(cfg.client_secret.as_str())
    {
        let mut r = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
        r.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"token\""),
        );
        return r;
    }
    if field("grant_type").as_deref() != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let mut r = json_response(
        StatusCode::OK,
        "application/json",
        &json!({
            "access_token": cfg.access_token,
            "token_type": "Bearer",
            "expires_in": cfg.expires_in,
            "scope": "BRP",
        }),
    );
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn oauth_error(status: StatusCode, error: &str) -> Response<FixtureBody> {
    json_response(status, "application/json", &json!({"error": error}))
}

fn problem(p: &BrpProblem, instance: &str) -> Response<FixtureBody> {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(status, PROBLEM_JSON, &p.to_json(instance))
}

fn json_response(
    status: StatusCode,
    content_type: &'static str,
    value: &Value,
) -> Response<FixtureBody> {
    match serde_json::to_vec(value) {
        Ok(body) => build(status, content_type, FixtureBody::full(body)),
        Err(_) => build(
            StatusCode::INTERNAL_SERVER_ERROR,
            PROBLEM_JSON,
            FixtureBody::full(
                &br#"{"title":"Interne server fout.","status":500,"code":"serverError"}"#[..],
            ),
        ),
    }
}

fn build(
    status: StatusCode,
    content_type: &'static str,
    body: FixtureBody,
) -> Response<FixtureBody> {
    let length = hyper::body::Body::size_hint(&body).exact();
    let mut builder = Response::builder()
        .status(status)
        .header(CONTENT_TYPE, content_type);
    if let Some(n) = length {
        builder = builder.header(CONTENT_LENGTH, n);
    }
    builder.body(body).unwrap_or_else(|_| {
        let mut r = Response::new(FixtureBody::empty());
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64() {
        assert_eq!(base64_decode("c2x1aXM6Z2VoZWlt").unwrap(), b"sluis:geheim");
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
        assert!(base64_decode("!!").is_none());
    }

    #[test]
    fn accept_header() {
        assert!(accepts_json("application/json"));
        assert!(accepts_json("text/html, */*;q=0.1"));
        assert!(!accepts_json("text/html"));
    }
}
