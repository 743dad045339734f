//! The per-request context every phase and adapter works on: the request as received, its
//! trace context, and the trail from which the record phase writes the audit records.

use std::time::Instant;

use bytes::Bytes;
use hyper::{HeaderMap, Method};

use crate::trace::{TraceContext, now_ms};

/// Longest path, operation or other client-controlled string kept in a record (in bytes). Longer
/// values are cut at a character boundary and marked with `…`.
pub const MAX_RECORDED_STRING: usize = 512;
/// Most parameter names (or other list items from the client) kept in a record.
pub const MAX_RECORDED_ITEMS: usize = 64;

/// `s` cut to [`MAX_RECORDED_STRING`] bytes at a character boundary.
pub fn bounded(s: &str) -> String {
    if s.len() <= MAX_RECORDED_STRING {
        return s.to_owned();
    }
    let mut end = MAX_RECORDED_STRING;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", s.get(..end).unwrap_or(""))
}

/// At most [`MAX_RECORDED_ITEMS`] items, each [`bounded`]; a last item says how many were left out.
pub fn bounded_list<'a>(items: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut left_out = 0usize;
    for i in items {
        if out.len() < MAX_RECORDED_ITEMS {
            out.push(bounded(i));
        } else {
            left_out += 1;
        }
    }
    if left_out > 0 {
        out.push(format!("… {left_out} more"));
    }
    out
}

/// The request as the server received it (the body only for methods that carry one, bounded).
#[derive(Debug)]
pub struct Incoming {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Incoming {
    /// A header's value, trimmed; `None` when absent, empty or not text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }
}

/// Where the recorded user came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSource {
    /// A claim of the verified token.
    Token,
    /// The mount's user header, sent by a client trusted to assert its users.
    TrustedHeader,
}

impl UserSource {
    pub fn as_str(self) -> &'static str {
        match self {
            UserSource::Token => "token",
            UserSource::TrustedHeader => "header",
        }
    }
}

/// One data subject in a response. `value` is the identifier in clear: it lives only in memory
/// until the record phase pseudonymises it.
#[derive(Debug, Clone)]
pub struct SubjectHit {
    pub id_type: String,
    pub value: String,
    pub role: sluis_audit::SubjectRole,
    pub flags: Vec<String>,
}

/// What the phases learn about a request, for its audit records and metrics.
#[derive(Debug, Default)]
pub struct Trail {
    pub api: String,
    /// The operation; only ever a value from a bounded set (it is a metric label).
    pub operation: String,
    pub issuer: Option<String>,
    pub subject: Option<String>,
    pub user: Option<String>,
    pub user_source: Option<UserSource>,
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    pub purpose: Option<String>,
    pub activity: Option<String>,
    pub correlation_id: Option<String>,
    pub reasons: Vec<String>,
    pub denied_params: Vec<String>,
    pub params: Vec<String>,
    pub field_levels: Vec<String>,
    pub records: u64,
    pub policy_version: Option<String>,
    pub upstream_status: Option<u16>,
    pub upstream_ms: Option<u64>,
    /// The request reached the upstream (so a processing happened, even without subjects).
    pub forwarded: bool,
    /// Data subjects the response contained; pseudonymised before recording.
    pub subjects: Vec<SubjectHit>,
    /// Shared by the request's processing records.
    pub fields_requested: sluis_audit::FieldList,
    pub fields_delivered: sluis_audit::FieldList,
    pub upstream_error_code: Option<String>,
    /// Markers for the access record, e.g. `upstream-overdelivered`.
    pub flags: Vec<String>,
    /// Questions authorize asked the upstream (method and path, no answers).
    pub lookups: Vec<String>,
    /// The mount's answers name data subjects (so a forwarded request has processing records).
    pub records_subjects: bool,
    /// The mount's activity, recorded when the request states no purpose.
    pub default_activity: Option<String>,
    /// The case the processing belongs to (a zaak's identificatie), for the processing
    /// records; the correlation id when unset.
    pub case_ref: Option<String>,
    /// The registered application of the client.
    pub application: Option<String>,
    /// Token scopes the activity's ceiling dropped.
    pub scopes_dropped: Vec<String>,
}

/// One request on its way through the phases.
#[derive(Debug)]
pub struct RequestContext {
    pub request: Incoming,
    pub trace: TraceContext,
    pub trail: Trail,
    /// Wall clock at arrival (ms since the epoch) and the monotonic start, for durations.
    pub time_ms: u64,
    pub started: Instant,
}

impl RequestContext {
    pub fn new(request: Incoming) -> RequestContext {
        let trace = TraceContext::from_headers(&request.headers);
        RequestContext {
            request,
            trace,
            trail: Trail::default(),
            time_ms: now_ms(),
            started: Instant::now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_strings_are_cut_at_a_char_boundary() {
        let s = "é".repeat(1000);
        let b = bounded(&s);
        assert!(b.len() <= MAX_RECORDED_STRING + '…'.len_utf8());
        assert!(b.ends_with('…'));
        assert_eq!(bounded("short"), "short");
    }

    #[test]
    fn long_lists_are_capped_with_a_count() {
        let items: Vec<String> = (0..100).map(|i| format!("p{i}")).collect();
        let b = bounded_list(&items);
        assert_eq!(b.len(), MAX_RECORDED_ITEMS + 1);
        assert_eq!(b.last().map(String::as_str), Some("… 36 more"));
    }
}
