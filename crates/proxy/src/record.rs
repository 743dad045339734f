//! The record phase: every answer sluis gives on an API or admin route — a delivery, a
//! refusal in any phase, a too-large body — is recorded (an access record, and a processing
//! record per data subject) and committed **before** the response leaves. No record, no data.

use bytes::Bytes;
use hyper::Response;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use sluis_audit::{
    AccessRecord, Decision as Outcome, Entry, FieldList, ProcessingRecord, SpanStatus,
};

use crate::adapter::Delivery;
use crate::context::{RequestContext, SubjectHit, Trail, bounded};
use crate::error::ProxyError;
use crate::problem::{self, Body, Problem};
use crate::state::Shared;
use crate::trace::random_hex;

/// What the phases produced for the caller.
#[derive(Debug)]
pub enum Reply {
    /// The adapter's filtered answer.
    Delivered(Delivery),
    /// An OPTIONS answer: the methods served.
    Options(&'static str),
    /// A JSON document sluis itself answers with (e.g. the audit read endpoint).
    Json(serde_json::Value),
    /// A page of sluis's own (the reviewers' pages under `/ui/`), refusals included: they are
    /// answered in HTML but recorded with their decision and code like any refusal.
    Page(Page),
}

/// An HTML page or redirect, and how the log classifies it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub headers: Vec<(hyper::header::HeaderName, HeaderValue)>,
    pub decision: Outcome,
    pub code: Option<&'static str>,
}

fn reply_response(reply: Reply) -> Response<Body> {
    match reply {
        Reply::Delivered(d) => {
            let body = match d.stream {
                Some(stream) => stream,
                None => problem::full(d.body),
            };
            let mut r = Response::new(body);
            *r.status_mut() =
                hyper::StatusCode::from_u16(d.status).unwrap_or(hyper::StatusCode::OK);
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(d.content_type));
            for (k, v) in d.headers {
                r.headers_mut().insert(k, v);
            }
            r
        }
        Reply::Options(allow) => {
            let mut r = Response::new(problem::full(Bytes::new()));
            r.headers_mut()
                .insert(hyper::header::ALLOW, HeaderValue::from_static(allow));
            r
        }
        Reply::Json(v) => problem::json_response(200, &v, "application/json"),
        Reply::Page(p) => {
            let mut r = Response::new(problem::full(p.body));
            *r.status_mut() =
                hyper::StatusCode::from_u16(p.status).unwrap_or(hyper::StatusCode::OK);
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(p.content_type));
            for (k, v) in p.headers {
                r.headers_mut().append(k, v);
            }
            r
        }
    }
}

/// Moves what the delivery says about itself into the trail.
fn note_delivery(trail: &mut Trail, d: &mut Delivery) {
    trail.records = d.records;
    trail.subjects = std::mem::take(&mut d.subjects);
    trail.fields_delivered = std::mem::take(&mut d.fields_delivered).into();
    if d.stripped_count > 0 {
        metrics::counter!("sluis_upstream_stripped_values_total", "api" => trail.api.clone())
            .increment(d.stripped_count);
        trail.flags.push("upstream-overdelivered".into());
        trail.reasons.push(format!(
            "the upstream sent {} value(s) outside the grant, stripped: {}",
            d.stripped_count,
            d.stripped.join(", ")
        ));
    }
}

/// The processing records of a request: one per data subject, or one without a subject when
/// the upstream was asked but named nobody (a search without hits, an upstream failure).
/// Requests refused before reaching the upstream processed no personal data: no lines.
fn processing_entries(
    shared: &Shared,
    access: &AccessRecord,
    trail: &mut Trail,
    outcome: Outcome,
    end_ms: u64,
) -> Vec<Entry> {
    if !trail.forwarded || !trail.records_subjects {
        return Vec::new();
    }
    let Some(keys) = &shared.subjects else {
        return Vec::new();
    };
    let activity = access
        .processing_activity
        .clone()
        .or_else(|| trail.default_activity.clone())
        .unwrap_or_default();
    let status = match (outcome, access.status) {
        (Outcome::Permit, _) => SpanStatus::Ok,
        (_, s) if s < 500 => SpanStatus::Unset,
        _ => SpanStatus::Error,
    };
    let base = |subject: Option<(&SubjectHit, String)>| ProcessingRecord {
        trace_id: access.trace_id.clone(),
        span_id: random_hex(8),
        parent_span_id: access.span_id.clone(),
        foreign_processor: access.client_id.clone(),
        name: access.operation.clone(),
        start_time_ms: access.time_ms,
        end_time_ms: end_ms,
        status,
        http_status: access.upstream_status.unwrap_or(access.status),
        upstream_error_code: trail.upstream_error_code.clone(),
        processing_activity_id: activity.clone(),
        case_ref: trail
            .case_ref
            .as_deref()
            .map(bounded)
            .or_else(|| access.correlation_id.clone()),
        data_subject_id: subject.as_ref().map(|(_, p)| p.clone()),
        data_subject_id_type: subject.as_ref().map(|(h, _)| h.id_type.clone()),
        subject_role: subject.as_ref().map(|(h, _)| h.role),
        fields_requested: trail.fields_requested.clone(),
        // A withheld person's data reached sluis but was not delivered.
        fields_delivered: if subject
            .as_ref()
            .is_some_and(|(h, _)| h.flags.iter().any(|f| f == "withheld"))
        {
            FieldList::default()
        } else {
            trail.fields_delivered.clone()
        },
        search_params: access.params.clone(),
        resource: shared.audit_settings.instance.clone(),
        // The task application: its register id, else the client id.
        client_app_id: access
            .application
            .clone()
            .or_else(|| access.client_id.clone()),
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

/// Records the request and returns the response the caller gets: the reply when the records
/// are durable, the problem for an error, 503 when recording failed.
pub async fn finish(
    shared: &Shared,
    mut ctx: RequestContext,
    result: Result<Reply, ProxyError>,
) -> Response<Body> {
    let result = match result {
        Ok(Reply::Delivered(mut d)) => {
            note_delivery(&mut ctx.trail, &mut d);
            Ok(Reply::Delivered(d))
        }
        other => other,
    };
    let (status, code, outcome) = match &result {
        Ok(Reply::Delivered(d)) => (d.status, None, Outcome::Permit),
        Ok(Reply::Page(p)) => (p.status, p.code.map(str::to_owned), p.decision),
        Ok(_) => (200u16, None, Outcome::Permit),
        Err(e) => {
            let p = Problem::from_error(e);
            (p.status, Some(p.code.to_owned()), p.outcome)
        }
    };
    let trail = &mut ctx.trail;
    if let Err(e) = &result {
        trail.reasons.push(bounded(&e.to_string()));
    }
    for l in std::mem::take(&mut trail.lookups) {
        trail.reasons.push(format!("lookup: {l}"));
    }
    let duration_ms = ctx.started.elapsed().as_millis() as u64;
    let record = AccessRecord {
        time_ms: ctx.time_ms,
        trace_id: ctx.trace.trace_id.clone(),
        span_id: ctx.trace.span_id.clone(),
        api: trail.api.clone(),
        operation: trail.operation.clone(),
        method: bounded(ctx.request.method.as_str()),
        path: bounded(&ctx.request.path),
        issuer: trail.issuer.take(),
        subject: trail.subject.take().map(|s| bounded(&s)),
        user: trail.user.take().map(|s| bounded(&s)),
        client_id: trail.client_id.take().map(|s| bounded(&s)),
        scopes: std::mem::take(&mut trail.scopes),
        purpose: trail.purpose.take().map(|s| bounded(&s)),
        processing_activity: trail.activity.take(),
        correlation_id: trail.correlation_id.as_deref().map(bounded),
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
        duration_ms,
        upstream_ms: trail.upstream_ms,
        user_source: trail.user_source.map(|s| s.as_str().to_owned()),
        flags: std::mem::take(&mut trail.flags),
        application: trail.application.clone(),
        scopes_dropped: std::mem::take(&mut trail.scopes_dropped),
    };
    let end_ms = ctx.time_ms + duration_ms;
    let mut entries = processing_entries(shared, &record, trail, outcome, end_ms);
    entries.insert(0, Entry::Access(record));
    metrics::gauge!("sluis_audit_queue_depth").set(shared.audit.queue_depth() as f64);
    // Record before release: no record, no data.
    let committed = shared.audit.commit_entries(entries).await;
    let path = &ctx.request.path;
    let mut resp = match (committed, result) {
        (Ok(()), Ok(reply)) => reply_response(reply),
        (Ok(()), Err(e)) => problem::respond(&e, path),
        (Err(e), _) => {
            metrics::counter!("sluis_audit_failures_total").increment(1);
            tracing::error!(error = %e, "audit commit failed; response withheld");
            problem::respond(&ProxyError::AuditUnavailable(e.to_string()), path)
        }
    };
    let final_status = resp.status().as_u16();
    let decision = match (final_status, outcome) {
        (200..=399, _) => "permit",
        (_, Outcome::Deny) => "deny",
        _ => "error",
    };
    // Labels come from bounded sets only: configured API names, adapter operations, statuses.
    let api = if ctx.trail.api.is_empty() {
        "-".to_owned()
    } else {
        ctx.trail.api.clone()
    };
    let operation = if ctx.trail.operation.is_empty() {
        "-".to_owned()
    } else {
        ctx.trail.operation.clone()
    };
    metrics::counter!("sluis_requests_total", "api" => api.clone(), "operation" => operation,
        "status" => final_status.to_string(), "decision" => decision)
    .increment(1);
    metrics::histogram!("sluis_request_duration_seconds", "api" => api)
        .record(ctx.started.elapsed().as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&ctx.trace.traceparent()) {
        resp.headers_mut().insert("traceparent", v);
    }
    if let Some(c) = ctx
        .trail
        .correlation_id
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
    {
        resp.headers_mut().insert("x-correlation-id", c);
    }
    resp
}
