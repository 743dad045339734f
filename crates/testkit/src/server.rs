//! The socket side: accept loop, per-connection HTTP/1.1 with keep-alive, faults, API key,
//! graceful shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::TestkitError;
use crate::api::{self, PROBLEM_JSON, Reply};
use crate::body::FixtureBody;
use crate::data::FixtureData;
use crate::faults::{Faults, RecordedRequest};
use crate::problem::Problem;

/// How long in-flight requests may finish after shutdown is asked for.
const GRACE: Duration = Duration::from_secs(2);

const MAINTENANCE_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\">\
<title>Gepland onderhoud</title></head><body><h1>Gepland onderhoud</h1>\
<p>Deze dienst is tijdelijk niet beschikbaar. Probeer het later opnieuw.</p></body></html>\n";

/// What every connection task shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) data: Arc<FixtureData>,
    pub(crate) faults: Faults,
    pub(crate) api_key: Option<(HeaderName, HeaderValue)>,
    pub(crate) fallback_host: String,
}

/// Validates the configured API key header once, at start.
pub(crate) fn parse_api_key(
    key: Option<&(String, String)>,
) -> Result<Option<(HeaderName, HeaderValue)>, TestkitError> {
    let Some((name, value)) = key else {
        return Ok(None);
    };
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        TestkitError::Config("api_key header name is not a valid header name".into())
    })?;
    let value = HeaderValue::from_str(value)
        .map_err(|_| TestkitError::Config("api_key value is not a valid header value".into()))?;
    Ok(Some((name, value)))
}

/// Serves until `shutdown` fires (or its sender is dropped), then drains connections for at
/// most [`GRACE`] and aborts the rest.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: oneshot::Receiver<()>,
) {
    serve_http(listener, shutdown, shared.faults.clone(), move |req| {
        let shared = Arc::clone(&shared);
        async move { respond(req, &shared).await }
    })
    .await;
}

/// Binds `addr` on the current runtime, with an accept queue of 1024 connections: with
/// `TcpListener::bind`'s 128, a burst of connects has SYNs dropped, retried only a second later.
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener, TestkitError> {
    listen(addr).map_err(|source| TestkitError::Bind { addr, source })
}

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Binds `addr` from synchronous code, registering the socket with `runtime`; as [`bind`].
pub(crate) fn bind_on(
    runtime: &tokio::runtime::Handle,
    addr: SocketAddr,
) -> Result<TcpListener, TestkitError> {
    let _guard = runtime.enter();
    listen(addr).map_err(|source| TestkitError::Bind { addr, source })
}

/// Accepts HTTP/1.1 connections (keep-alive) and answers each request with `handler` until
/// `shutdown` fires; then lets open connections finish for a short grace period. Counts each
/// connection in `faults`. Shared by the fixture servers.
pub(crate) async fn serve_http<F, Fut>(
    listener: TcpListener,
    mut shutdown: oneshot::Receiver<()>,
    faults: Faults,
    handler: F,
) where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<FixtureBody>> + Send + 'static,
{
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut builder = http1::Builder::new();
    builder.keep_alive(true);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    faults.count_connection();
                    // Latency matters more than packet count for benchmarks.
                    let _ = stream.set_nodelay(true);
                    let handler = handler.clone();
                    let service = service_fn(move |req| {
                        let handler = handler.clone();
                        async move { Ok::<_, Infallible>(handler(req).await) }
                    });
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    let watched = graceful.watch(conn);
                    connections.spawn(async move {
                        let _ = watched.await;
                    });
                }
                // Typically EMFILE under load: back off briefly rather than spin or stop.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

async fn respond(req: Request<Incoming>, shared: &Shared) -> Response<FixtureBody> {
    let path = req.uri().path().to_owned();
    shared.faults.record(RecordedRequest {
        method: req.method().as_str().to_owned(),
        uri: req
            .uri()
            .path_and_query()
            .map_or_else(|| path.clone(), |pq| pq.as_str().to_owned()),
        headers: header_pairs(req.headers()),
    });

    let delay = shared.faults.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = shared.faults.status() {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let problem = Problem::new(
            code.as_u16(),
            "error",
            code.canonical_reason().unwrap_or("Error"),
            "Fault injected by the fixture.",
        );
        return reply(Reply::problem(&problem, &path));
    }
    if shared.faults.non_json() {
        return build(
            StatusCode::OK,
            "text/html; charset=utf-8",
            FixtureBody::full(MAINTENANCE_PAGE),
        );
    }
    if let Some(min) = shared.faults.oversized() {
        return build(StatusCode::OK, api::HAL_JSON, FixtureBody::oversized(min));
    }
    if let Some((name, value)) = &shared.api_key
        && req.headers().get(name) != Some(value)
    {
        let problem = Problem::new(
            401,
            "not_authenticated",
            "Authentication credentials were not provided.",
            "A valid API key is required.",
        );
        return reply(Reply::problem(&problem, &path));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let problem = Problem::new(
            405,
            "method_not_allowed",
            "Method not allowed.",
            &format!("Method \"{}\" not allowed.", req.method()),
        );
        let mut response = reply(Reply::problem(&problem, &path));
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or(&shared.fallback_host);
    reply(api::handle(&shared.data, &path, req.uri().query(), host))
}

fn reply(reply: Reply) -> Response<FixtureBody> {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    build(status, reply.content_type, FixtureBody::full(reply.body))
}

pub(crate) fn build(
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
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        r
    })
}

/// A request's headers as recorded: names lower-case, values lossily decoded.
pub(crate) fn header_pairs(headers: &hyper::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The authority to use in links when a request has no `Host` header (HTTP/1.0).
pub(crate) fn fallback_host(addr: SocketAddr) -> String {
    addr.to_string()
}
