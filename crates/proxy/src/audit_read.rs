//! The audit log's read endpoint on the admin listener: the Logboek Dataverwerkingen "lezen"
//! query (by trace id, processing activity, data subject, kind, time range), for a token holding
//! the configured reader scope. Every read is itself recorded.

use std::sync::Arc;

use serde_json::{Value, json};
use sluis_audit::{EntryKind, QueryFilter};

use crate::context::{Incoming, RequestContext, bounded, bounded_list};
use crate::error::{ProxyError, Refusal, RequestFault};
use crate::problem::Body;
use crate::record::Reply;
use crate::state::Shared;

/// Most entries one read returns; page on with `after_seq`.
pub const MAX_LIMIT: usize = 1000;

/// `GET /audit/entries?trace_id=&activity=&bsn=&kind=&from_ms=&to_ms=&after_seq=&limit=`.
/// Every call — a read, a refusal, an unauthenticated probe — is recorded before it is answered.
pub async fn read(shared: Arc<Shared>, req: Incoming) -> hyper::Response<Body> {
    let rt = shared.runtime.load_full();
    let mut ctx = crate::pipeline::begin(&rt, req);
    ctx.trail.api = "admin".into();
    ctx.trail.operation = "audit.read".into();
    let result = match shared.audit_settings.reader_scope.clone() {
        None => Err(ProxyError::NotFound),
        Some(scope) => match crate::pipeline::authenticate(&rt, &mut ctx).await {
            Err(e) => Err(e),
            Ok(principal) => {
                let query = ctx.request.query.clone();
                answer(
                    &shared,
                    &principal.scopes,
                    &scope,
                    query.as_deref(),
                    &mut ctx,
                )
                .await
                .map(Reply::Json)
            }
        },
    };
    crate::record::finish(&shared, ctx, result).await
}

async fn answer(
    shared: &Shared,
    scopes: &[String],
    scope: &str,
    query: Option<&str>,
    ctx: &mut RequestContext,
) -> Result<Value, ProxyError> {
    if !scopes.iter().any(|s| s == scope) {
        return Err(ProxyError::Forbidden(Refusal::AuditReader));
    }
    let params =
        crate::query::parse(query).ok_or(ProxyError::BadRequest(RequestFault::QueryNotUtf8))?;
    ctx.trail.params = bounded_list(params.iter().map(|(k, _)| k));
    let mut filter = QueryFilter::default();
    let mut limit = 100usize;
    let bad = |name: &str, why: &'static str| {
        ProxyError::BadRequest(RequestFault::InvalidParam {
            name: name.to_owned(),
            why,
        })
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
                filter.kind = Some(EntryKind::parse(v).ok_or_else(|| {
                    bad(
                        "kind",
                        "expected access, processing, purge, alert or handling",
                    )
                })?)
            }
            "from_ms" => filter.from_ms = Some(number("from_ms", v)?),
            "to_ms" => filter.to_ms = Some(number("to_ms", v)?),
            "after_seq" => filter.after_seq = Some(number("after_seq", v)?),
            "limit" => {
                limit = usize::try_from(number("limit", v)?)
                    .unwrap_or(MAX_LIMIT)
                    .clamp(1, MAX_LIMIT);
            }
            other => {
                return Err(ProxyError::BadRequest(RequestFault::UnknownParam(bounded(
                    other,
                ))));
            }
        }
    }
    let open = shared.audit_reader.clone().ok_or(ProxyError::NotFound)?;
    let entries = tokio::task::spawn_blocking(move || {
        let mut store = open()?;
        store.query(&filter, limit)
    })
    .await
    .map_err(|e| ProxyError::Internal(e.to_string()))?
    .map_err(|e| ProxyError::AuditUnavailable(e.to_string()))?;
    ctx.trail.records = entries.len() as u64;
    let next = entries.last().map(|e| e.seq);
    let items: Vec<Value> = entries
        .into_iter()
        .map(|e| json!({"seq": e.seq, "recordedAt": e.time_ms, "hash": e.hash, "entry": e.entry}))
        .collect();
    Ok(json!({"entries": items, "nextAfterSeq": next}))
}
