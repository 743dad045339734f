//! Listeners (API and admin), graceful shutdown, and hot reload on SIGHUP and on file change.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use hyper::body::Incoming as IncomingBody;
use hyper::{Method, Request, Response};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::config::Config;
use crate::context::Incoming;
use crate::error::{ProxyError, StartError};
use crate::listener::{self, serve};
use crate::pipeline;
use crate::problem::{self, Body};
use crate::state::{AuditWiring, Runtime, Shared};

/// A running sluis.
#[derive(Debug)]
pub struct ServerHandle {
    api_addr: SocketAddr,
    admin_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
    config_path: Option<PathBuf>,
}

impl ServerHandle {
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Reloads configuration and policy from the configuration file now.
    pub async fn reload(&self) -> Result<(), StartError> {
        match &self.config_path {
            Some(p) => reload(&self.shared, p).await,
            None => Err(StartError::Other(
                "started without a configuration file".into(),
            )),
        }
    }

    /// Stops accepting, lets in-flight requests finish (up to the grace period), and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.done.await;
    }

    /// Waits until the server stops (after a signal).
    pub async fn wait(self) {
        let _ = self.done.await;
    }
}

/// Binds both listeners, builds the runtime for `config` and starts serving, recording through
/// the audit store the caller built (the binary chooses it from `[audit]`).
pub async fn start(config: Config, audit: AuditWiring) -> Result<ServerHandle, StartError> {
    crate::metrics::handle();
    let config_path = config.source.clone().filter(|p| p.is_file());
    let (listen, admin_listen, grace, poll) = (
        config.listen,
        config.admin_listen,
        config.shutdown_grace,
        config.reload_poll,
    );
    // Fixed until restart, like the listeners they apply to.
    let limits = config.limits.clone();
    let api = crate::listener::bind(listen, limits.backlog)
        .await
        .map_err(|e| StartError::Bind(listen, e))?;
    let admin = crate::listener::bind(admin_listen, limits.backlog)
        .await
        .map_err(|e| StartError::Bind(admin_listen, e))?;
    let api_addr = api.local_addr().map_err(|e| StartError::Bind(listen, e))?;
    let admin_addr = admin
        .local_addr()
        .map_err(|e| StartError::Bind(admin_listen, e))?;
    let runtime = Runtime::build(config, api_addr)?;
    runtime.load(None).await;
    metrics::gauge!("sluis_policy_info", "version" => runtime.policy.version().to_owned()).set(1.0);
    let (stop, stop_rx) = watch::channel(false);
    runtime.spawn_refreshers();
    let subjects = crate::auditing::subject_keys(&runtime.config.audit)
        .map_err(|e| StartError::Other(format!("audit.subject_key: {e}")))?;
    let audit_settings = runtime.config.audit.clone();
    let supervisor = match (&runtime.config.detection, audit.feed) {
        (Some(detection), Some(feed)) => {
            let known = known_alerts(audit.reader.as_ref()).await;
            Some(crate::supervision::spawn(
                detection,
                feed,
                Arc::clone(&audit.sink),
                known,
                stop_rx.clone(),
            )?)
        }
        (Some(_), None) => {
            tracing::warn!(
                "[detection] is configured but this audit store hands no committed records to a detector (jsonl): detection runs only through `sluis audit detect`"
            );
            None
        }
        _ => None,
    };
    let ui = crate::ui::UiState::new(&runtime.config)?;
    let shared = Arc::new(Shared {
        ui,
        supervisor,
        runtime: ArcSwap::from_pointee(runtime),
        audit: audit.sink,
        audit_reader: audit.reader,
        subjects,
        audit_settings,
        api_addr,
        limits: limits.clone(),
    });
    if let Some(path) = &config_path {
        spawn_reloaders(Arc::clone(&shared), path.clone(), poll, stop_rx.clone());
    }
    spawn_rate_limit_housekeeping(Arc::clone(&shared), stop_rx.clone());
    let s1 = Arc::clone(&shared);
    let s2 = Arc::clone(&shared);
    let s3 = Arc::clone(&shared);
    let (r1, r2) = (stop_rx.clone(), stop_rx);
    let done = tokio::spawn(async move {
        let l2 = limits.clone();
        let a = tokio::spawn(async move {
            serve(api, r1, grace, &limits, listener::API, move |req| {
                let s = Arc::clone(&s1);
                async move { api_service(s, req).await }
            })
            .await;
        });
        let b = tokio::spawn(async move {
            serve(admin, r2, grace, &l2, listener::ADMIN, move |req| {
                let s = Arc::clone(&s2);
                async move { admin_service(s, req).await }
            })
            .await;
        });
        let _ = a.await;
        let _ = b.await;
        // After the last request: the head is checkpointed and handed to the witness, so a
        // clean stop leaves no unwitnessed tail.
        if let Err(e) = s3.audit.close().await {
            tracing::warn!(error = %e, "audit: final checkpoint failed");
        }
    });
    tracing::info!(%api_addr, %admin_addr, "sluis serving");
    Ok(ServerHandle {
        api_addr,
        admin_addr,
        shared,
        stop,
        done,
        config_path,
    })
}

/// Largest request body accepted (BRP queries are a few KB).
const MAX_REQUEST_BODY: usize = 1024 * 1024;

async fn api_service(shared: Arc<Shared>, req: Request<IncomingBody>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let mut incoming = Incoming {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: bytes::Bytes::new(),
    };
    if incoming.method == Method::POST
        || incoming.method == Method::PUT
        || incoming.method == Method::PATCH
    {
        use http_body_util::BodyExt;
        // The head deadline does not cover the body: a client trickling it byte by byte would
        // otherwise hold the connection (and its permit) forever.
        let collect = http_body_util::Limited::new(body, MAX_REQUEST_BODY).collect();
        match tokio::time::timeout(shared.limits.body_read_timeout(), collect).await {
            Ok(Ok(b)) => incoming.body = b.to_bytes(),
            Ok(Err(_)) => return pipeline::refuse(shared, incoming, ProxyError::TooLarge).await,
            Err(_) => return pipeline::refuse(shared, incoming, ProxyError::BodyTimeout).await,
        }
    }
    pipeline::handle(shared, incoming).await
}

async fn admin_service(shared: Arc<Shared>, req: Request<IncomingBody>) -> Response<Body> {
    if req.uri().path() == ZGW_NOTIFICATIONS_PATH {
        return zgw_notification(&shared, req).await;
    }
    if req.uri().path() == "/ui" || req.uri().path().starts_with("/ui/") {
        return crate::ui::handle(shared, req).await;
    }
    if req.method() != Method::GET {
        return problem::respond(&ProxyError::MethodNotAllowed("GET"), req.uri().path());
    }
    match req.uri().path() {
        "/healthz" => problem::json_response(200, &json!({"status": "ok"}), "application/json"),
        "/readyz" => {
            let rt = shared.runtime.load_full();
            let audit = shared.audit.ready();
            let keys = rt.auth.ready();
            let mut upstreams = serde_json::Map::new();
            for m in &rt.mounts {
                upstreams.insert(
                    m.api.name.clone(),
                    json!(reachable(&m.api.upstream.url).await),
                );
            }
            let zgw_ready = rt.zgw.as_ref().is_none_or(|z| z.ready());
            let ok = audit && keys && zgw_ready && upstreams.values().all(|v| v == &json!(true));
            let mut body = json!({"status": if ok {"ready"} else {"not ready"}, "audit": audit, "issuerKeys": keys,
                "upstreams": upstreams, "policyVersion": rt.policy.version()});
            if let (Some(z), Value::Object(m)) = (&rt.zgw, &mut body) {
                m.insert("zgwAutorisaties".into(), z.status_json());
            }
            problem::json_response(if ok { 200 } else { 503 }, &body, "application/json")
        }
        "/metrics" => {
            let st = shared.audit.stats();
            metrics::gauge!("sluis_audit_queue_depth").set(st.queue_depth as f64);
            metrics::gauge!("sluis_audit_last_batch_entries").set(st.last_batch_size as f64);
            metrics::gauge!("sluis_audit_max_batch_entries").set(st.max_batch_size as f64);
            metrics::gauge!("sluis_audit_last_commit_seconds")
                .set(st.last_commit_micros as f64 / 1e6);
            metrics::gauge!("sluis_audit_busy_seconds").set(st.busy_micros as f64 / 1e6);
            metrics::gauge!("sluis_audit_committed_entries").set(st.total_committed as f64);
            metrics::gauge!("sluis_audit_committed_batches").set(st.total_batches as f64);
            metrics::gauge!("sluis_audit_failed_batches").set(st.failed_batches as f64);
            metrics::gauge!("sluis_audit_rejected_commits").set(st.rejected as f64);
            metrics::gauge!("sluis_audit_head_seq").set(st.head_seq as f64);
            // The transaction-size histogram, cumulative as Prometheus buckets are.
            let mut cumulative = 0u64;
            for (i, n) in st.batch_sizes.iter().enumerate() {
                cumulative += n;
                let le = sluis_audit::BATCH_BUCKETS
                    .get(i)
                    .map_or_else(|| "+Inf".to_owned(), u64::to_string);
                metrics::gauge!("sluis_audit_batch_entries_bucket", "le" => le)
                    .set(cumulative as f64);
            }
            metrics::gauge!("sluis_audit_checkpoint_seq").set(st.checkpoint_seq as f64);
            if st.indexed {
                metrics::gauge!("sluis_audit_unindexed_entries").set(st.unindexed() as f64);
            }
            if st.witness {
                metrics::gauge!("sluis_audit_witnessed_seq").set(st.witnessed_seq as f64);
                metrics::gauge!("sluis_audit_unwitnessed_entries").set(st.unwitnessed() as f64);
                let age = if st.witnessed_at_ms == 0 {
                    -1.0
                } else {
                    sluis_audit::now_ms().saturating_sub(st.witnessed_at_ms) as f64 / 1e3
                };
                metrics::gauge!("sluis_audit_witness_age_seconds").set(age);
                metrics::gauge!("sluis_audit_witness_failures").set(st.witness_failures as f64);
            }
            let mut r = Response::new(problem::full(bytes::Bytes::from(crate::metrics::render())));
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            r
        }
        p if p.starts_with("/admin/") => crate::admin_read::read(shared, bodiless(req)).await,
        "/audit/entries" => crate::audit_read::read(shared, bodiless(req)).await,
        p => problem::respond(&ProxyError::NotFound, p),
    }
}

/// A GET on the admin listener as the recorded reads take it (its body is never read).
fn bodiless(req: Request<IncomingBody>) -> Incoming {
    let (parts, _) = req.into_parts();
    Incoming {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: bytes::Bytes::new(),
    }
}

/// Every minute: forget callers whose rate limits have recovered (bounded memory), and report
/// how many are still tracked.
fn spawn_rate_limit_housekeeping(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            let rt = shared.runtime.load_full();
            if !rt.rate_limits.is_empty() {
                let tracked = rt.rate_limits.housekeeping();
                metrics::gauge!("sluis_rate_limit_tracked_callers").set(tracked as f64);
            }
        }
    });
}

/// Where the Notificaties API delivers notifications (kanaal `autorisaties`) on the admin
/// listener.
pub const ZGW_NOTIFICATIONS_PATH: &str = "/zgw/notificaties";

/// Largest notification body read.
const MAX_NOTIFICATION_BYTES: usize = 64 * 1024;

/// A Notificaties API callback: on kanaal `autorisaties` the applicaties are read again (the
/// last good copy stays if that fails). The caller must send the configured `Authorization`.
async fn zgw_notification(shared: &Shared, req: Request<IncomingBody>) -> Response<Body> {
    use http_body_util::BodyExt;
    let path = req.uri().path().to_owned();
    let rt = shared.runtime.load_full();
    let Some(z) = rt.zgw.clone() else {
        return problem::respond(&ProxyError::NotFound, &path);
    };
    if req.method() != Method::POST {
        return problem::respond(&ProxyError::MethodNotAllowed("POST"), &path);
    }
    let Some(expected) = z.settings.notifications_auth.as_ref() else {
        return problem::respond(&ProxyError::NotFound, &path);
    };
    let given = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    if !crate::auth::constant_time_eq(&given, expected.expose()) {
        return problem::respond(&ProxyError::MissingToken, &path);
    }
    let body = match http_body_util::Limited::new(req.into_body(), MAX_NOTIFICATION_BYTES)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => return problem::respond(&ProxyError::TooLarge, &path),
    };
    let doc: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            return problem::respond(
                &ProxyError::BadRequest(crate::error::RequestFault::InvalidParam {
                    name: "body".into(),
                    why: "a notification is a JSON object",
                }),
                &path,
            );
        }
    };
    let kanaal = doc.get("kanaal").and_then(Value::as_str).unwrap_or("");
    metrics::counter!("sluis_zgw_notifications_total", "kanaal" => if kanaal == "autorisaties" { "autorisaties" } else { "other" })
        .increment(1);
    if kanaal == "autorisaties" {
        match z.refresh().await {
            Ok(n) => tracing::info!(applicaties = n, "autorisaties notification: reloaded"),
            Err(e) => tracing::warn!(error = %e, "autorisaties notification: reload failed"),
        }
    }
    let mut r = Response::new(problem::full(bytes::Bytes::new()));
    *r.status_mut() = hyper::StatusCode::NO_CONTENT;
    r
}

async fn reachable(url: &hyper::Uri) -> bool {
    let Some(host) = url.host() else { return false };
    let port = url
        .port_u16()
        .unwrap_or(if url.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    let host = host.trim_start_matches('[').trim_end_matches(']');
    matches!(
        tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect((host, port))
        )
        .await,
        Ok(Ok(_))
    )
}

/// Loads the configuration file and policy again and swaps them in. A bad file keeps the
/// running version; the problem is logged and counted.
pub async fn reload(shared: &Shared, path: &Path) -> Result<(), StartError> {
    let result = async {
        let config = Config::load(path).map_err(StartError::Config)?;
        let old = shared.runtime.load_full();
        if config.listen != old.config.listen
            || config.admin_listen != old.config.admin_listen
            || config.audit.path != old.config.audit.path
            || config.audit.kind != old.config.audit.kind
            || config.limits != old.config.limits
        {
            tracing::warn!(
                "listener, limits and audit settings change only on restart; other changes apply now"
            );
        }
        let mut runtime = Runtime::build(config, shared.api_addr)?;
        runtime.rate_limits.adopt(&old.rate_limits);
        runtime.load(Some(&old)).await;
        // What the new policy and register give and take, logged and kept for the admin API.
        let (before, after) = (Arc::clone(&old.rights), Arc::clone(&runtime.rights));
        let all = sluis_rights::Filter::default();
        if let Ok(change) = tokio::task::spawn_blocking(move || {
            sluis_rights::diff(&before.rights().matrix(&all), &after.rights().matrix(&all))
        })
        .await
        {
            if change.is_empty() {
                tracing::info!("rights unchanged on reload");
            } else {
                tracing::warn!(
                    gained = change.gained.len(),
                    lost = change.lost.len(),
                    summary = %change.summary(),
                    "rights changed on reload"
                );
            }
            let _ = runtime.rights_change.set(change);
        }
        Ok::<_, StartError>(runtime)
    }
    .await;
    match result {
        Ok(runtime) => {
            // The new key stores need their own schedule; the old ones stop with their runtime.
            runtime.spawn_refreshers();
            let version = runtime.policy.version().to_owned();
            if let (Some(s), Some(d)) = (&shared.supervisor, &runtime.config.detection) {
                s.set_rules(Arc::clone(&d.rules));
            }
            let old = shared.runtime.swap(Arc::new(runtime));
            metrics::gauge!("sluis_policy_info", "version" => old.policy.version().to_owned())
                .set(0.0);
            metrics::gauge!("sluis_policy_info", "version" => version.clone()).set(1.0);
            metrics::counter!("sluis_reloads_total", "result" => "ok").increment(1);
            tracing::info!(policy_version = %version, "configuration reloaded");
            Ok(())
        }
        Err(e) => {
            metrics::counter!("sluis_reloads_total", "result" => "error").increment(1);
            tracing::error!(error = %e, "reload failed; keeping the running configuration");
            Err(e)
        }
    }
}

/// The ids of the alerts of the last 40 days (so a restart does not raise them again).
async fn known_alerts(reader: Option<&crate::state::StoreOpener>) -> Vec<(String, u64)> {
    let Some(open) = reader.cloned() else {
        return Vec::new();
    };
    let read = tokio::task::spawn_blocking(move || {
        let mut store = open()?;
        let mut filter = sluis_audit::QueryFilter {
            kind: Some(sluis_audit::EntryKind::Alert),
            from_ms: Some(sluis_audit::now_ms().saturating_sub(40 * sluis_audit::DAY_MS)),
            ..sluis_audit::QueryFilter::default()
        };
        let mut out = Vec::new();
        loop {
            let page = store.query(&filter, 1_000)?;
            for e in &page {
                if let sluis_audit::Entry::Alert(a) = &e.entry {
                    out.push((a.id.clone(), a.time_ms));
                }
            }
            match filter.next_page(&page) {
                Some(next) if page.len() >= 1_000 => filter = next,
                _ => return Ok::<_, sluis_audit::AuditError>(out),
            }
        }
    })
    .await;
    match read {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "detection: the existing alerts could not be read; findings already alerted may be raised again");
            Vec::new()
        }
        Err(_) => Vec::new(),
    }
}

/// The modification times of the configuration file and every policy source the running
/// adapters name (folders walked).
fn fingerprint(shared: &Shared, path: &Path) -> Vec<(PathBuf, Option<SystemTime>)> {
    let rt = shared.runtime.load_full();
    let mut files = vec![path.to_owned()];
    let mut stack: Vec<PathBuf> = rt.policy_sources();
    if let Some(rules) = rt
        .config
        .detection
        .as_ref()
        .and_then(|d| d.rules_file.clone())
    {
        stack.push(rules);
    }
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.filter_map(|e| e.ok().map(|e| e.path())));
            }
        } else {
            files.push(p);
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let m = std::fs::metadata(&f).and_then(|m| m.modified()).ok();
            (f, m)
        })
        .collect()
}

fn spawn_reloaders(
    shared: Arc<Shared>,
    path: PathBuf,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut last = fingerprint(&shared, &path);
        loop {
            #[cfg(unix)]
            let hangup = async {
                match hup.as_mut() {
                    Some(h) => {
                        h.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let hangup = std::future::pending::<()>();
            tokio::select! {
                _ = hangup => {
                    tracing::info!("SIGHUP: reloading");
                    let _ = reload(&shared, &path).await;
                    last = fingerprint(&shared, &path);
                }
                _ = tokio::time::sleep(poll) => {
                    let now = fingerprint(&shared, &path);
                    if now != last {
                        // Let writers finish their files before reading them.
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        let _ = reload(&shared, &path).await;
                        last = fingerprint(&shared, &path);
                    }
                }
                _ = stop.changed() => break,
            }
        }
    });
}

/// Validates everything [`start`] would load, without binding or fetching anything: the
/// configuration, secrets, policy sources, datasets of the APIs, TLS files and JWKS files.
/// Returns a one-line summary, or every problem found.
pub fn check(path: &Path) -> Result<String, Vec<crate::error::ConfigProblem>> {
    let config = Config::load(path)?;
    let mut problems = Vec::new();
    for (i, iss) in config.issuers.iter().enumerate() {
        if let crate::config::KeysFrom::JwksFile(f) = &iss.keys {
            let at = format!("issuers[{i}].jwks_file");
            match std::fs::read(f) {
                Ok(bytes) => {
                    if let Err(e) = sluis_token::KeySet::from_jwks(&bytes) {
                        problems.push(crate::error::ConfigProblem::new(
                            path,
                            &at,
                            format!("{}: {e}", f.display()),
                        ));
                    }
                }
                Err(e) => problems.push(crate::error::ConfigProblem::new(
                    path,
                    &at,
                    format!("{}: {e}", f.display()),
                )),
            }
        }
    }
    let listener = config.listen;
    let summary = match Runtime::build(config, listener) {
        Ok(rt) => format!(
            "{} API{}, {} issuer{}, policy version {}",
            rt.mounts.len(),
            if rt.mounts.len() == 1 { "" } else { "s" },
            rt.config.issuers.len(),
            if rt.config.issuers.len() == 1 {
                ""
            } else {
                "s"
            },
            rt.policy.version()
        ),
        Err(StartError::Config(p)) => {
            problems.extend(p);
            String::new()
        }
        Err(e) => {
            problems.push(crate::error::ConfigProblem::new(path, "", e.to_string()));
            String::new()
        }
    };
    if problems.is_empty() {
        Ok(summary)
    } else {
        Err(problems)
    }
}
