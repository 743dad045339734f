//! A plain reverse proxy on the HTTP stack sluis is built on (hyper 1 server, hyper-util's
//! pooled client, a multi-threaded tokio runtime), for the load benchmark (`bench/run`): what
//! any proxy on this stack costs before sluis does anything of its own.
//!
//! ```text
//! cargo run --release -p sluis-testkit --example plain_proxy -- 127.0.0.1:18086 \
//!     /=http://127.0.0.1:18081 /haalcentraal/=http://127.0.0.1:18085
//! curl -s http://127.0.0.1:18086/v1/afvalwegingen/containers/1
//! ```
//!
//! Each `PREFIX=URL` routes the paths that start with `PREFIX` (the longest that matches) to the
//! upstream at `URL`, path unchanged, as `bench/run`'s nginx does; a path no prefix matches is
//! answered 404. Every request goes to its upstream with its method, path, query, headers (Host
//! too, as nginx's `proxy_set_header Host $host:$server_port`; not those of one connection, such
//! as `Connection`) and body; the upstream's answer is read whole (as sluis reads one to filter
//! it, up to 8 MiB, else 502) and sent back with its status and headers. No token check, no
//! policy, no filtering, no audit. The pool keeps up to
//! 1024 idle connections, as sluis's `upstream.pool_max_idle` does by default; `TCP_NODELAY` on
//! both sides, as in sluis. Prints `plain proxy listening on http://ADDR` once bound, then
//! serves until the process is terminated.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

type Upstream = Client<HttpConnector, Full<Bytes>>;

/// Largest request or answer body read, as sluis's default `max_body_bytes`.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Headers that belong to one connection (RFC 9110 §7.6.1), not passed on either way.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// `(prefix, base URL)`, longest prefix first.
type Routes = std::sync::Arc<Vec<(String, String)>>;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(listen) = args.next() else {
        eprintln!("usage: plain_proxy LISTEN-ADDRESS PREFIX=http://HOST:PORT...");
        return ExitCode::from(2);
    };
    let listen: SocketAddr = match listen.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("plain_proxy: {listen:?} is not a socket address: {e}");
            return ExitCode::from(2);
        }
    };
    let mut routes = Vec::new();
    for arg in args {
        let Some((prefix, url)) = arg.split_once('=') else {
            eprintln!("plain_proxy: {arg:?} is not PREFIX=URL");
            return ExitCode::from(2);
        };
        let base = url.trim_end_matches('/').to_owned();
        if !prefix.starts_with('/') || !base.starts_with("http://") || base.parse::<Uri>().is_err()
        {
            eprintln!(
                "plain_proxy: {arg:?}: the prefix must start with / and the URL with http://"
            );
            return ExitCode::from(2);
        }
        routes.push((prefix.to_owned(), base));
    }
    if routes.is_empty() {
        eprintln!("plain_proxy: no PREFIX=URL route given");
        return ExitCode::from(2);
    }
    routes.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    let routes: Routes = std::sync::Arc::new(routes);
    let listener = match TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("plain_proxy: cannot listen on {listen}: {e}");
            return ExitCode::from(1);
        }
    };
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    let client: Upstream = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(1024)
        .pool_idle_timeout(Duration::from_secs(60))
        .build(connector);
    match listener.local_addr() {
        Ok(a) => println!("plain proxy listening on http://{a}"),
        Err(e) => {
            eprintln!("plain_proxy: {e}");
            return ExitCode::from(1);
        }
    }
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                // Out of descriptors and the like: wait instead of spinning.
                eprintln!("plain_proxy: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (client, routes) = (client.clone(), std::sync::Arc::clone(&routes));
        tokio::spawn(async move {
            let service = service_fn(move |req| forward(client.clone(), routes.clone(), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Sends `req` to the upstream its path routes to and answers with what came back, 404 when
/// no route matches, or 502 with the reason when the upstream failed.
async fn forward(
    client: Upstream,
    routes: Routes,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path();
    let Some((_, base)) = routes.iter().find(|(p, _)| path.starts_with(p.as_str())) else {
        return Ok(answer(StatusCode::NOT_FOUND, "no route for this path"));
    };
    match try_forward(&client, base, req).await {
        Ok(resp) => Ok(resp),
        Err(reason) => Ok(answer(StatusCode::BAD_GATEWAY, reason)),
    }
}

fn answer(status: StatusCode, text: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(text.into()));
    *resp.status_mut() = status;
    resp
}

async fn try_forward(
    client: &Upstream,
    base: &str,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, String> {
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = format!("{base}{path}")
        .parse()
        .map_err(|e| format!("upstream URL: {e}"))?;
    strip_hop_by_hop(&mut parts.headers);
    let body = http_body_util::Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|e| format!("request body: {e}"))?
        .to_bytes();
    let resp = client
        .request(Request::from_parts(parts, Full::new(body)))
        .await
        .map_err(|e| format!("upstream: {e}"))?;
    let (mut parts, body) = resp.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let body = http_body_util::Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|e| format!("upstream body: {e}"))?
        .to_bytes();
    Ok(Response::from_parts(parts, Full::new(body)))
}

fn strip_hop_by_hop(headers: &mut hyper::HeaderMap) {
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}
