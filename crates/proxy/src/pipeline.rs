//! One request through the phases: authenticate → identify → route → authorize → forward →
//! filter → record → respond. A failure in any phase jumps to record, then respond.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ALLOW, AUTHORIZATION, HeaderName, HeaderValue};
use hyper::{Method, Response};
use serde_json::Value;
use sluis_audit::{AccessRecord, Decision as Outcome, Entry, ProcessingRecord, SpanStatus};
use sluis_filter::{HalFilter, LinkRewriter};
use sluis_policy::{Denial, FilterVerdict, Projector, Request as PolicyRequest, params};

use crate::error::ProxyError;
use crate::problem::{self, Body};
use crate::state::{Mounted, Runtime, Shared};
use crate::upstream::map_failure;

/// What the pipeline learns about a request, for its audit record and metrics.
#[derive(Debug, Default)]
pub(crate) struct Trail {
    pub(crate) api: String,
    pub(crate) operation: String,
    pub(crate) issuer: Option<String>,
    pub(crate) subject: Option<String>,
    pub(crate) user: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) purpose: Option<String>,
    pub(crate) activity: Option<String>,
    pub(crate) correlation_id: Option<String>,
    pub(crate) reasons: Vec<String>,
    pub(crate) denied_params: Vec<String>,
    pub(crate) params: Vec<String>,
    pub(crate) field_levels: Vec<String>,
    pub(crate) records: u64,
    pub(crate) policy_version: Option<String>,
    pub(crate) upstream_status: Option<u16>,
    pub(crate) upstream_ms: Option<u64>,
    /// The request reached the upstream (so a processing happened, even without subjects).
    pub(crate) forwarded: bool,
    /// Data subjects the response contained; their ids are pseudonymised before recording.
    pub(crate) subjects: Vec<SubjectHit>,
    pub(crate) fields_requested: Vec<String>,
    pub(crate) fields_delivered: Vec<String>,
    pub(crate) upstream_error_code: Option<String>,
}

/// One data subject in a response. `value` is the identifier in clear: it lives only in memory
/// until it is pseudonymised for the processing record.
#[derive(Debug)]
pub(crate) struct SubjectHit {
    pub(crate) id_type: String,
    pub(crate) value: String,
    pub(crate) role: sluis_audit::SubjectRole,
    pub(crate) flags: Vec<String>,
}

/// The request data the pipeline needs (the body of a GET is ignored).
#[derive(Debug)]
pub struct Incoming {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: hyper::HeaderMap,
    pub host: Option<String>,
    /// The request body (POST only; bounded by the server).
    pub body: Bytes,
}

use crate::trace::{TraceContext, now_ms, random_hex};

fn header(headers: &hyper::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The processing records of a request: one per data subject, or one without a subject when
/// the upstream was asked but named nobody (a search without hits, an upstream failure).
/// Requests refused before reaching the upstream processed no personal data: no lines.
fn processing_entries(
    shared: &Shared,
    rt: &Runtime,
    access: &AccessRecord,
    trail: &mut Trail,
    outcome: Outcome,
    started: Instant,
) -> Vec<Entry> {
    let records_subjects = rt
        .route(&access.path)
        .is_some_and(|(m, _)| m.brp.is_some() || !m.api.subjects.is_empty());
    if !trail.forwarded || !records_subjects {
        return Vec::new();
    }
    let Some(keys) = &shared.subjects else {
        return Vec::new();
    };
    let activity = access
        .processing_activity
        .clone()
        .or_else(|| {
            rt.route(&access.path)
                .and_then(|(m, _)| m.api.activity.clone())
        })
        .unwrap_or_default();
    let status = match (outcome, access.status) {
        (Outcome::Permit, _) => SpanStatus::Ok,
        (_, s) if s < 500 => SpanStatus::Unset,
        _ => SpanStatus::Error,
    };
    let end = access.time_ms + started.elapsed().as_millis() as u64;
    let base = |subject: Option<(&SubjectHit, String)>| ProcessingRecord {
        trace_id: access.trace_id.clone(),
        span_id: random_hex(8),
        parent_span_id: access.span_id.clone(),
        foreign_processor: access.client_id.clone(),
        name: access.operation.clone(),
        start_time_ms: access.time_ms,
        end_time_ms: end,
        status,
        http_status: access.upstream_status.unwrap_or(access.status),
        upstream_error_code: trail.upstream_error_code.clone(),
        processing_activity_id: activity.clone(),
        case_ref: access.correlation_id.clone(),
        data_subject_id: subject.as_ref().map(|(_, p)| p.clone()),
        data_subject_id_type: subject.as_ref().map(|(h, _)| h.id_type.clone()),
        subject_role: subject.as_ref().map(|(h, _)| h.role),
        fields_requested: trail.fields_requested.clone(),
        // A withheld person's data reached sluis but was not delivered.
        fields_delivered: if subject
            .as_ref()
            .is_some_and(|(h, _)| h.flags.iter().any(|f| f == "withheld"))
        {
            Vec::new()
        } else {
            trail.fields_delivered.clone()
        },
        search_params: access.params.clone(),
        resource: shared.audit_settings.instance.clone(),
        client_app_id: access.client_id.clone(),
        flags: subject
            .as_ref()
            .map(|(h, _)| h.flags.clone())
            .unwrap_or_default(),
    };
    let hits = std::mem::take(&mut trail.subjects);
    if hits.is_empty() {
        return vec![Entry::Processing(base(None))];
    }
    hits.iter()
        .map(|h| Entry::Processing(base(Some((h, keys.pseudonym(&h.id_type, &h.value))))))
        .collect()
}

/// Handles one API request end to end.
pub async fn handle(shared: Arc<Shared>, req: Incoming) -> Response<Body> {
    let started = Instant::now();
    let time_ms = now_ms();
    let rt = shared.runtime.load_full();
    let tc = TraceContext::from_headers(&req.headers);
    let (trace_id, span_id, flags) = (tc.trace_id.clone(), tc.span_id.clone(), tc.flags.clone());
    let mut trail = Trail {
        policy_version: Some(rt.policy.version().to_owned()),
        ..Trail::default()
    };
    let result = run(&rt, &req, &mut trail, (&trace_id, &span_id, &flags)).await;
    let (status, code, outcome) = match &result {
        Ok(_) => (200u16, None, Outcome::Permit),
        Err(e) => {
            let p = problem::Problem::from_error(e);
            let outcome = if p.status >= 500 || matches!(e, ProxyError::UpstreamProblem(..)) {
                Outcome::Error
            } else {
                Outcome::Deny
            };
            let status = match e {
                ProxyError::UpstreamProblem(s, _) => *s,
                _ => p.status,
            };
            (status, Some(p.code.to_owned()), outcome)
        }
    };
    if let Err(e) = &result {
        trail.reasons.push(e.to_string());
    }
    let record = AccessRecord {
        time_ms,
        trace_id: trace_id.clone(),
        span_id: span_id.clone(),
        api: trail.api.clone(),
        operation: trail.operation.clone(),
        method: req.method.to_string(),
        path: req.path.clone(),
        issuer: trail.issuer.take(),
        subject: trail.subject.take(),
        user: trail.user.take(),
        client_id: trail.client_id.take(),
        scopes: std::mem::take(&mut trail.scopes),
        purpose: trail.purpose.take(),
        processing_activity: trail.activity.take(),
        correlation_id: trail.correlation_id.clone(),
        decision: outcome,
        status,
        code,
        reasons: std::mem::take(&mut trail.reasons),
        denied_params: std::mem::take(&mut trail.denied_params),
        params: std::mem::take(&mut trail.params),
        field_levels: std::mem::take(&mut trail.field_levels),
        records: trail.records,
        policy_version: trail.policy_version.take(),
        upstream_status: trail.upstream_status,
        duration_ms: started.elapsed().as_millis() as u64,
        upstream_ms: trail.upstream_ms,
    };
    let mut entries = processing_entries(&shared, &rt, &record, &mut trail, outcome, started);
    entries.insert(0, Entry::Access(record));
    metrics::gauge!("sluis_audit_queue_depth").set(shared.audit.queue_depth() as f64);
    // Record before release: no record, no data.
    let committed = shared.audit.commit_entries(entries).await;
    let mut resp = match (committed, result) {
        (Ok(()), Ok(resp)) => resp,
        (Ok(()), Err(e)) => problem::respond(&e, &req.path),
        (Err(e), _) => {
            metrics::counter!("sluis_audit_failures_total").increment(1);
            tracing::error!(error = %e, "audit commit failed; response withheld");
            problem::respond(&ProxyError::AuditUnavailable(e.to_string()), &req.path)
        }
    };
    let final_status = resp.status().as_u16();
    let decision = match (final_status, outcome) {
        (200..=299, _) => "permit",
        (_, Outcome::Deny) => "deny",
        _ => "error",
    };
    let api = if trail.api.is_empty() {
        "-".to_owned()
    } else {
        trail.api.clone()
    };
    metrics::counter!("sluis_requests_total", "api" => api.clone(), "operation" => trail.operation.clone(),
        "status" => final_status.to_string(), "decision" => decision)
    .increment(1);
    metrics::histogram!("sluis_request_duration_seconds", "api" => api)
        .record(started.elapsed().as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&format!("00-{trace_id}-{span_id}-{flags}")) {
        resp.headers_mut().insert("traceparent", v);
    }
    if let Some(c) = trail
        .correlation_id
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
    {
        resp.headers_mut().insert("x-correlation-id", c);
    }
    if req.method == Method::HEAD {
        *resp.body_mut() = Full::new(Bytes::new());
    }
    resp
}

async fn run(
    rt: &Runtime,
    req: &Incoming,
    trail: &mut Trail,
    tc: (&str, &str, &str),
) -> Result<Response<Body>, ProxyError> {
    // route (the mount only; the operation follows after authentication)
    let Some((mount, rest)) = rt.route(&req.path) else {
        return Err(ProxyError::NotFound);
    };
    trail.api = mount.api.name.clone();
    if req.method == Method::OPTIONS {
        // OPTIONS is never authorized (as DSO does): it describes, it does not deliver data.
        let mut r = Response::new(Full::new(Bytes::new()));
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD, OPTIONS"));
        trail.operation = "options".into();
        return Ok(r);
    }
    let allowed = match mount.api.kind {
        crate::config::ApiKind::Dataset => req.method == Method::GET || req.method == Method::HEAD,
        crate::config::ApiKind::Brp => req.method == Method::POST,
    };
    if !allowed {
        return Err(ProxyError::MethodNotAllowed);
    }
    // authenticate
    let token = match req.headers.get(AUTHORIZATION).map(|v| v.to_str()) {
        None => return Err(ProxyError::MissingToken),
        Some(Ok(v)) => match v.split_once(' ') {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
                t.trim()
            }
            _ => {
                return Err(ProxyError::InvalidToken(
                    "the Authorization header is not a bearer token".into(),
                ));
            }
        },
        Some(Err(_)) => {
            return Err(ProxyError::InvalidToken(
                "the Authorization header is not valid text".into(),
            ));
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let principal = rt.auth.authenticate(token, now).await?;
    trail.issuer = Some(principal.issuer.clone());
    trail.subject = Some(principal.subject.clone());
    trail.client_id = principal.client_id.clone();
    trail.scopes = principal.scopes.clone();
    // identify
    let api = &mount.api;
    let missing: Vec<String> = api
        .required_headers
        .iter()
        .filter(|h| header(&req.headers, h).is_none())
        .cloned()
        .collect();
    trail.user = api
        .user_header
        .as_deref()
        .and_then(|h| header(&req.headers, h))
        .or_else(|| principal.user.clone());
    trail.correlation_id = api
        .correlation_header
        .as_deref()
        .and_then(|h| header(&req.headers, h));
    trail.purpose = api
        .purpose_header
        .as_deref()
        .and_then(|h| header(&req.headers, h));
    if !missing.is_empty() {
        return Err(ProxyError::MissingHeaders(missing));
    }
    if let Some(p) = &trail.purpose {
        match rt.config.activity(p) {
            Some(a) => trail.activity = Some(a.id.clone()),
            None => return Err(ProxyError::UnknownPurpose(p.clone())),
        }
    }
    match &mount.brp {
        Some(brp) => crate::brp::handle(mount, brp, rest, req, trail, &principal, tc).await,
        None => dataset(rt, mount, rest, req, trail, &principal.scopes, tc).await,
    }
}

/// The dataset adapter: `{prefix}/{table}` (list) and `{prefix}/{table}/{id}` (detail).
async fn dataset(
    rt: &Runtime,
    mount: &Mounted,
    rest: &str,
    req: &Incoming,
    trail: &mut Trail,
    scopes: &[String],
    (trace_id, span_id, flags): (&str, &str, &str),
) -> Result<Response<Body>, ProxyError> {
    let api = &mount.api;
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let (table_id, detail) = match segments.as_slice() {
        [t] => (*t, None),
        [t, id] => (*t, Some(*id)),
        _ => return Err(ProxyError::NotFound),
    };
    let detail = match detail {
        Some(d) => Some(
            percent_encoding::percent_decode_str(d)
                .decode_utf8()
                .map_err(|_| ProxyError::NotFound)?
                .into_owned(),
        ),
        None => None,
    };
    let table = format!("{}.{table_id}", api.dataset);
    let policy = &rt.policy;
    if policy.model().table_index(&table).is_none() {
        return Err(ProxyError::NotFound);
    }
    trail.operation = format!(
        "dataset.{table}.{}",
        if detail.is_some() { "detail" } else { "list" }
    );
    let params = crate::query::parse(req.query.as_deref()).ok_or_else(|| {
        ProxyError::BadRequest("the query string is not valid UTF-8".into(), vec![])
    })?;
    trail.params = params.iter().map(|(k, _)| k.clone()).collect();
    // authorize
    let scope_set = policy.scope_set(scopes);
    let decision = policy
        .decide(&PolicyRequest {
            table: &table,
            scopes: &scope_set,
            params: &params,
            detail: detail.as_deref(),
        })
        .map_err(|e| ProxyError::Internal(e.to_string()))?;
    trail.reasons = decision.reasons.clone();
    trail.denied_params = decision
        .filters
        .iter()
        .filter(|f| f.verdict != FilterVerdict::Allowed)
        .map(|f| f.param.clone())
        .collect();
    if let Some(d) = &decision.denial {
        return Err(denial_error(d, &table));
    }
    let plan = Arc::clone(&decision.plan);
    trail.field_levels = plan.limited.clone();
    // `_fields`: unknown → 400, hidden → 403.
    let fields: Option<Vec<String>> = params.iter().find(|(k, _)| k == "_fields").map(|(_, v)| {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    });
    if let Some(fs) = &fields {
        let unknown: Vec<&String> = fs.iter().filter(|f| plan.field(f).is_none()).collect();
        if !unknown.is_empty() {
            let invalid = unknown
                .iter()
                .map(|f| ((*f).clone(), "not a field of the table".to_owned()))
                .collect();
            return Err(ProxyError::BadRequest(
                format!("_fields names unknown fields of {table}"),
                invalid,
            ));
        }
        let hidden: Vec<&String> = fs
            .iter()
            .filter(|f| plan.field(f).is_some_and(|p| !p.level.is_visible()))
            .collect();
        if !hidden.is_empty() {
            let invalid = hidden
                .iter()
                .map(|f| ((*f).clone(), "not authorized".to_owned()))
                .collect();
            return Err(ProxyError::Forbidden {
                title: "Not allowed to request these fields.".into(),
                detail: format!("_fields names fields of {table} the caller may not read"),
                code: "fieldsNotAllowed",
                invalid,
            });
        }
    }
    // forward
    let upstream_path = match &detail {
        Some(id) => format!(
            "/{table_id}/{}",
            percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
        ),
        None => format!("/{table_id}"),
    };
    let upstream_path = match &req.query {
        Some(q) if !q.is_empty() => format!("{upstream_path}?{q}"),
        _ => upstream_path,
    };
    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    if let Ok(v) = HeaderValue::from_str(&format!("00-{trace_id}-{span_id}-{flags}")) {
        headers.push((HeaderName::from_static("traceparent"), v));
    }
    if let Some(c) = trail
        .correlation_id
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
    {
        headers.push((HeaderName::from_static("x-correlation-id"), c));
    }
    trail.forwarded = true;
    trail.fields_requested = fields.clone().unwrap_or_else(|| plan.delivered.clone());
    let resp = mount.upstream.get(&upstream_path, &headers).await;
    let resp = resp?;
    trail.upstream_status = Some(resp.status);
    trail.upstream_ms = Some(resp.elapsed.as_millis() as u64);
    metrics::histogram!("sluis_upstream_duration_seconds", "api" => api.name.clone())
        .record(resp.elapsed.as_secs_f64());
    if !(200..300).contains(&resp.status) {
        return Err(map_failure(&resp));
    }
    if !resp
        .content_type
        .as_deref()
        .is_some_and(|c| c.contains("json"))
    {
        return Err(ProxyError::BadUpstream(
            "the upstream body is not JSON".into(),
        ));
    }
    let mut body: Value = serde_json::from_slice(&resp.body)
        .map_err(|e| ProxyError::BadUpstream(format!("invalid JSON: {e}")))?;
    // On detail, filters the upstream may ignore are applied here: an excluded object is a 404.
    if detail.is_some() {
        for (k, v) in &params {
            if params::is_reserved(k) {
                continue;
            }
            if let Some((base, op)) = params::split_filter_name(k)
                && !crate::query::matches(&body, base, op, v)
            {
                return Err(ProxyError::NotFound);
            }
        }
    }
    // The data subjects, read before filtering (the identifying field may be hidden).
    if let Some(sf) = api.subjects.get(table_id) {
        let role = if detail.is_some() {
            sluis_audit::SubjectRole::Geraadpleegd
        } else {
            sluis_audit::SubjectRole::GevondenInZoekresultaat
        };
        let records: Vec<&Value> = match &detail {
            Some(_) => vec![&body],
            None => body
                .get("_embedded")
                .and_then(|e| e.get(table_id))
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default(),
        };
        for r in records {
            let v = sf.field.split('.').try_fold(r, |v, k| v.get(k));
            let id = match v {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            if let Some(value) = id {
                trail.subjects.push(SubjectHit {
                    id_type: sf.id_type.clone(),
                    value,
                    role,
                    flags: Vec::new(),
                });
            }
        }
    }
    trail.fields_delivered = trail.fields_requested.clone();
    // filter
    let public_base = match (&rt.config.public_url, &req.host) {
        (Some(u), _) => format!("{u}{}", api.prefix),
        (None, Some(h)) => format!("http://{h}{}", api.prefix),
        (None, None) => api.prefix.clone(),
    };
    let links = LinkRewriter {
        upstream_base: mount.upstream.base().to_owned(),
        public_base,
    };
    // The seed of `random` values must be unpredictable; only plans that use `random` need one.
    let mut seed = [0u8; 32];
    let embedded_random = plan
        .walk()
        .iter()
        .filter_map(|f| f.relation.as_ref())
        .any(|r| {
            r.expandable
                && policy
                    .plan(&r.target, &scope_set)
                    .is_ok_and(|p| p.uses_random)
        });
    if plan.uses_random || embedded_random {
        getrandom::fill(&mut seed).map_err(|e| ProxyError::Internal(format!("randomness: {e}")))?;
    }
    let projector = Projector::new(&rt.encoding_key, seed);
    let filter = HalFilter::new(policy, &scope_set, &links, projector, fields);
    let summary = if detail.is_some() {
        filter.detail(&plan, &mut body)
    } else {
        filter.list(&plan, table_id, &mut body)
    }
    .map_err(|e| ProxyError::BadUpstream(e.to_string()))?;
    trail.records = summary.records;
    let out = serde_json::to_vec(&body).map_err(|e| ProxyError::Internal(e.to_string()))?;
    let mut r = Response::new(Full::new(Bytes::from(out)));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/hal+json"),
    );
    Ok(r)
}

fn denial_error(d: &Denial, table: &str) -> ProxyError {
    match d {
        Denial::Table => ProxyError::Forbidden {
            title: d.title(),
            detail: format!("The caller's scopes do not allow reading {table} with this query."),
            code: "forbidden",
            invalid: vec![],
        },
        Denial::Filter(f) => ProxyError::Forbidden {
            title: d.title(),
            detail: format!("The caller may not filter or sort {table} on {f}."),
            code: "filterNotAllowed",
            invalid: vec![(f.clone(), "not authorized".into())],
        },
        Denial::Expand(f) => ProxyError::Forbidden {
            title: d.title(),
            detail: format!("The relation {f} may not be expanded with the caller's scopes."),
            code: "expandNotAllowed",
            invalid: vec![(f.clone(), "not authorized".into())],
        },
        Denial::UnknownFilter(f) | Denial::UnknownExpand(f) => ProxyError::BadRequest(
            d.title(),
            vec![(f.clone(), format!("not a field of {table}"))],
        ),
    }
}
