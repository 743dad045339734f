//! The socket side of the ZGW fixture: recording, faults, the JWT check, routing to the four
//! APIs on one port, and turning answers into HTTP responses.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HOST, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::auth::{self, Caller, Settings};
use super::http::{Fout, Out, PERMISSION_TITLE, Req, parse_query};
use super::notify::Notifier;
use super::render::Ctx;
use super::store::Store;
use super::urls::{AUTORISATIES, CATALOGI, DOCUMENTEN, ZAKEN};
use super::{autorisaties, catalogi, documenten, zaken};
use crate::body::FixtureBody;
use crate::faults::{Faults, RecordedRequest};

/// Request bodies above this are refused (413); documents arrive base64-encoded in JSON.
const MAX_BODY: usize = 64 << 20;
/// How many requests the log keeps (oldest dropped first).
const LOG_LIMIT: usize = 10_000;

const JSON: &str = "application/json";
const PROBLEM_JSON: &str = "application/problem+json";

/// One request as the ZGW fixture received it, body included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZgwRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query as sent.
    pub uri: String,
    /// All headers in arrival order, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body as received.
    pub body: Vec<u8>,
}

impl ZgwRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or(&self.uri)
    }

    /// The body parsed as JSON (`None` when empty or not JSON).
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// What every connection task shares.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) store: RwLock<Store>,
    pub(crate) client_id: String,
    pub(crate) secret: String,
    pub(crate) expiry: u64,
    pub(crate) leeway: u64,
    pub(crate) local_hosts: Vec<String>,
    pub(crate) expand_informatieobject: bool,
    pub(crate) faults: Faults,
    pub(crate) log: Mutex<VecDeque<ZgwRequest>>,
    pub(crate) notifier: Notifier,
    pub(crate) fallback_host: String,
}

impl State {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn requests(&self) -> Vec<ZgwRequest> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    pub(crate) fn clear_requests(&self) {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.faults.clear_recorded();
    }
}

pub(crate) async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    shutdown: oneshot::Receiver<()>,
) {
    crate::server::serve_http(listener, shutdown, state.faults.clone(), move |req| {
        let state = Arc::clone(&state);
        async move { respond(req, &state).await }
    })
    .await;
}

async fn respond(req: Request<Incoming>, state: &State) -> Response<FixtureBody> {
    let method = req.method().clone();
    let uri = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |pq| pq.as_str().to_owned());
    let headers = crate::server::header_pairs(req.headers());
    state.faults.record(RecordedRequest {
        method: method.as_str().to_owned(),
        uri: uri.clone(),
        headers: headers.clone(),
    });
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or(&state.fallback_host)
        .to_owned();
    let scheme = match req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    let base = format!("{scheme}://{host}");
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let f = Fout::new(
                413,
                "request_too_large",
                "Request body te groot.",
                "APIException",
            );
            return build(&base, Out::Fout(f));
        }
    };
    {
        let mut log = state.log.lock().unwrap_or_else(PoisonError::into_inner);
        if log.len() >= LOG_LIMIT {
            log.pop_front();
        }
        log.push_back(ZgwRequest {
            method: method.as_str().to_owned(),
            uri,
            headers,
            body: body.to_vec(),
        });
    }

    let delay = state.faults.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = state.faults.status() {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let f = Fout::new(
            code.as_u16(),
            "error",
            code.canonical_reason().unwrap_or("Fout"),
            "APIException",
        )
        .with_detail("Fout veroorzaakt door de fixture.");
        return build(&base, Out::Fout(f));
    }
    if state.faults.non_json() {
        return crate::server::build(
            StatusCode::OK,
            "text/html; charset=utf-8",
            FixtureBody::full(
                "<!DOCTYPE html>\n<html lang=\"nl\"><head><title>Gepland onderhoud</title></head>\
                 <body><h1>Gepland onderhoud</h1></body></html>\n",
            ),
        );
    }
    if let Some(min) = state.faults.oversized() {
        return crate::server::build(StatusCode::OK, JSON, FixtureBody::oversized(min));
    }

    let path = parts.uri.path().to_owned();
    let mut hosts = vec![host.clone()];
    hosts.extend(state.local_hosts.iter().cloned());
    let mut request = Req {
        method: parts.method.clone(),
        path: path.clone(),
        query: parse_query(parts.uri.query()),
        headers: parts.headers,
        body,
        ctx: Ctx { base: base.clone() },
        hosts,
        caller: Caller::default(),
    };
    let trimmed = path.trim_end_matches('/');
    if trimmed == "/register" || trimmed == "/api/v1/register" {
        return build(&base, autorisaties::register(state, &request));
    }
    let api = [ZAKEN, DOCUMENTEN, CATALOGI, AUTORISATIES]
        .into_iter()
        .find(|p| path.starts_with(p) && matches!(path.as_bytes().get(p.len()), None | Some(b'/')));
    let Some(api) = api else {
        return build(&base, Out::Fout(Fout::not_found()));
    };
    let rest = path.get(api.len()..).unwrap_or("").to_owned();
    let geo = api == ZAKEN && zaken::is_geo_path(&rest);
    match authenticate(state, &request) {
        Ok(caller) => request.caller = caller,
        Err(f) => return with_crs(build(&base, Out::Fout(f)), geo),
    }
    let out = match api {
        ZAKEN => zaken::handle(state, &request, &rest),
        DOCUMENTEN => documenten::handle(state, &request, &rest),
        CATALOGI => catalogi::handle(state, &request, &rest),
        _ => autorisaties::handle(state, &request, &rest),
    };
    let version = match api {
        ZAKEN => "1.7.0",
        DOCUMENTEN => "1.7.1",
        CATALOGI => "1.3.2",
        _ => "1.1.0",
    };
    let mut response = with_crs(build(&base, out), geo);
    response
        .headers_mut()
        .insert("api-version", HeaderValue::from_static(version));
    response
}

/// The caller of a request: a valid ZGW JWT of the superuser client or of a registered one.
fn authenticate(state: &State, req: &Req) -> Result<Caller, Fout> {
    let Some(token) = auth::bearer(req.header("authorization")) else {
        return Err(Fout::permission_denied(PERMISSION_TITLE));
    };
    let store = state.read();
    let settings = Settings {
        superuser: (&state.client_id, &state.secret),
        secrets: &store.secrets,
        expiry: state.expiry,
        leeway: state.leeway,
    };
    auth::verify(token, &settings).map_err(|d| {
        Fout::new(403, &d.code, PERMISSION_TITLE, "PermissionDenied").with_detail(&d.detail)
    })
}

fn with_crs(mut response: Response<FixtureBody>, geo: bool) -> Response<FixtureBody> {
    if geo {
        response
            .headers_mut()
            .insert("content-crs", HeaderValue::from_static("EPSG:4326"));
    }
    response
}

/// Turns an answer into a response.
fn build(base: &str, out: Out) -> Response<FixtureBody> {
    let (status, content_type, body, headers) = match out {
        Out::Json {
            status,
            body,
            headers,
        } => (status, JSON, json_bytes(&body), headers),
        Out::Bytes {
            content_type,
            body,
            headers,
        } => (200, content_type, body, headers),
        Out::Empty(status) => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
            let mut r = Response::new(FixtureBody::empty());
            *r.status_mut() = code;
            return r;
        }
        Out::Fout(f) => (
            f.status,
            PROBLEM_JSON,
            json_bytes(&f.to_json(base)),
            Vec::new(),
        ),
    };
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = crate::server::build(code, content_type, FixtureBody::full(body));
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(n, v);
        }
    }
    response
}

fn json_bytes(value: &Value) -> Bytes {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .unwrap_or_default()
}
