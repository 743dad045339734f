//! The audit log's read endpoint on the admin listener: the Logboek Dataverwerkingen "lezen"
//! query (by trace id, processing activity, data subject, kind, time range), for a token holding
//! the configured reader scope. Every read is itself recorded.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use hyper::HeaderMap;
use hyper::header::AUTHORIZATION;
use serde_json::{Value, json};
use sluis_audit::{AccessRecord, Decision, Entry, EntryKind, QueryFilter};

use crate::error::ProxyError;
use crate::problem::{self, Body};
use crate::state::Shared;

/// Most entries one read returns; page on with `after_seq`.
pub const MAX_LIMIT: usize = 1000;

fn now() -> (u64, u64) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs(), d.as_millis() as u64)
}

/// `GET /audit/entries?trace_id=&activity=&bsn=&kind=&from_ms=&to_ms=&after_seq=&limit=`.
pub async fn read(
    shared: Arc<Shared>,
    headers: &HeaderMap,
    query: Option<&str>,
    path: &str,
) -> hyper::Response<Body> {
    let (secs, started_ms) = now();
    let Some(scope) = shared.audit_settings.reader_scope.clone() else {
        return problem::respond(&ProxyError::NotFound, path);
    };
    let rt = shared.runtime.load_full();
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(s, t)| s.eq_ignore_ascii_case("bearer") && !t.is_empty())
        .map(|(_, t)| t.trim().to_owned());
    let principal = match token {
        None => return problem::respond(&ProxyError::MissingToken, path),
        Some(t) => match rt.auth.authenticate(&t, secs).await {
            Ok(p) => p,
            Err(e) => return problem::respond(&e, path),
        },
    };
    let mut record = AccessRecord {
        time_ms: started_ms,
        trace_id: crate::trace::random_hex(16),
        span_id: crate::trace::random_hex(8),
        api: "admin".into(),
        operation: "audit.read".into(),
        method: "GET".into(),
        path: path.to_owned(),
        issuer: Some(principal.issuer.clone()),
        subject: Some(principal.subject.clone()),
        user: principal.user.clone(),
        client_id: principal.client_id.clone(),
        scopes: principal.scopes.clone(),
        purpose: None,
        processing_activity: None,
        correlation_id: None,
        decision: Decision::Permit,
        status: 200,
        code: None,
        reasons: vec![],
        denied_params: vec![],
        params: vec![],
        field_levels: vec![],
        records: 0,
        policy_version: Some(rt.policy.version().to_owned()),
        upstream_status: None,
        duration_ms: 0,
        upstream_ms: None,
    };
    let result = answer(&shared, &principal.scopes, &scope, query, &mut record).await;
    if let Err(e) = &result {
        let p = problem::Problem::from_error(e);
        record.decision = if p.status >= 500 {
            Decision::Error
        } else {
            Decision::Deny
        };
        record.status = p.status;
        record.code = Some(p.code.to_owned());
        record.reasons.push(e.to_string());
    }
    record.duration_ms = now().1.saturating_sub(started_ms);
    // The read is recorded before the entries leave, like any other access to personal data.
    if let Err(e) = shared
        .audit
        .commit_entries(vec![Entry::Access(record)])
        .await
    {
        return problem::respond(&ProxyError::AuditUnavailable(e.to_string()), path);
    }
    match result {
        Ok(body) => problem::json_response(200, &body, "application/json"),
        Err(e) => problem::respond(&e, path),
    }
}

async fn answer(
    shared: &Shared,
    scopes: &[String],
    scope: &str,
    query: Option<&str>,
    record: &mut AccessRecord,
) -> Result<Value, ProxyError> {
    if !scopes.iter().any(|s| s == scope) {
        return Err(ProxyError::Forbidden {
            title: "You do not have permission to perform this action.".into(),
            detail: "Reading the audit log needs the configured reader scope.".into(),
            code: "forbidden",
            invalid: vec![],
        });
    }
    let params = crate::query::parse(query).ok_or_else(|| {
        ProxyError::BadRequest("the query string is not valid UTF-8".into(), vec![])
    })?;
    record.params = params.iter().map(|(k, _)| k.clone()).collect();
    let mut filter = QueryFilter::default();
    let mut limit = 100usize;
    let bad = |name: &str, why: &str| {
        ProxyError::BadRequest(
            format!("invalid {name}"),
            vec![(name.to_owned(), why.to_owned())],
        )
    };
    let number = |name: &str, v: &str| {
        v.parse::<u64>()
            .map_err(|_| bad(name, "expected a whole number"))
    };
    for (k, v) in &params {
        match k.as_str() {
            "trace_id" => filter.trace_id = Some(v.clone()),
            "activity" => filter.activity = Some(v.clone()),
            "bsn" => {
                if v.len() != 9 || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad("bsn", "expected 9 digits"));
                }
                let keys = shared
                    .subjects
                    .as_ref()
                    .ok_or_else(|| bad("bsn", "no subject key is configured"))?;
                filter.subject = Some(keys.pseudonym("BSN", v));
            }
            "kind" => {
                filter.kind = Some(match v.as_str() {
                    "access" => EntryKind::Access,
                    "processing" => EntryKind::Processing,
                    "purge" => EntryKind::Purge,
                    _ => return Err(bad("kind", "expected access, processing or purge")),
                })
            }
            "from_ms" => filter.from_ms = Some(number("from_ms", v)?),
            "to_ms" => filter.to_ms = Some(number("to_ms", v)?),
            "after_seq" => filter.after_seq = Some(number("after_seq", v)?),
            "limit" => {
                limit = usize::try_from(number("limit", v)?)
                    .unwrap_or(MAX_LIMIT)
                    .clamp(1, MAX_LIMIT);
            }
            other => return Err(bad(other, "not a parameter of this endpoint")),
        }
    }
    let cfg = shared.audit_settings.clone();
    let entries = tokio::task::spawn_blocking(move || {
        let mut store = crate::auditing::open_store(&cfg)?;
        store.query(&filter, limit)
    })
    .await
    .map_err(|e| ProxyError::Internal(e.to_string()))?
    .map_err(|e| ProxyError::AuditUnavailable(e.to_string()))?;
    record.records = entries.len() as u64;
    let next = entries.last().map(|e| e.seq);
    let items: Vec<Value> = entries
        .into_iter()
        .map(|e| json!({"seq": e.seq, "recordedAt": e.time_ms, "hash": e.hash, "entry": e.entry}))
        .collect();
    Ok(json!({"entries": items, "nextAfterSeq": next}))
}
