//! Processing records as Logboek Dataverwerkingen spans in OTLP/JSON (the protobuf JSON mapping
//! of `ExportTraceServiceRequest`), for `sluis audit export --format otlp` and for anything else
//! that hands the processing log to an LDV Logboek or an OpenTelemetry collector. Pure.
//!
//! Mapping (domain file A6/C2, LDV `sections/specificaties.md`):
//!
//! | OTLP | from the [`ProcessingRecord`] |
//! |---|---|
//! | `traceId`, `spanId`, `parentSpanId` | `trace_id`, `span_id`, `parent_span_id` (lowercase hex, as OTLP/JSON wants) |
//! | `name` | `name` (the operation) |
//! | `kind` | 1 (`SPAN_KIND_INTERNAL`): a child span per data subject |
//! | `startTimeUnixNano`, `endTimeUnixNano` | `start_time_ms`, `end_time_ms` × 10⁶, as decimal strings |
//! | `status.code` | `unset` 0, `ok` 1, `error` 2 (`message`: the upstream error code or HTTP status) |
//! | `dpl.core.processing_activity_id` | `processing_activity_id` |
//! | `dpl.core.data_subject_id`, `dpl.core.data_subject_id_type` | the pseudonym and its type (absent for a line without subject) |
//! | `dpl.core.foreign_operation.processor` | `foreign_processor` |
//! | `http.response.status_code` | `http_status` |
//! | `exception.type`, `exception.message` | on status `error` only |
//! | `sluis.*` | `subject_role`, `upstream_error_code`, `case_ref`, `fields_requested`, `fields_delivered`, `search_params`, `client_app_id`, `flags`, and the log position `sluis.audit.seq` / `sluis.audit.recorded_at_ms` |
//! | resource `service.name`, `service.instance.id` | `sluis`, `resource` |
//!
//! Spans are grouped into one `resourceSpans` element per distinct `resource`, in order of first
//! appearance, each with one `scopeSpans` element (scope `sluis-audit`).

use serde_json::{Map, Value, json};

use crate::{Entry, ProcessingRecord, SpanStatus, StoredEntry};

/// The instrumentation scope spans are exported under.
pub const OTLP_SCOPE: &str = "sluis-audit";

const SPAN_KIND_INTERNAL: u8 = 1;

fn string_attr(key: &str, value: &str) -> Value {
    json!({ "key": key, "value": { "stringValue": value } })
}

fn int_attr(key: &str, value: u64) -> Value {
    // Protobuf JSON writes 64-bit integers as decimal strings.
    json!({ "key": key, "value": { "intValue": value.to_string() } })
}

fn array_attr(key: &str, values: &[String]) -> Value {
    let values: Vec<Value> = values.iter().map(|v| json!({ "stringValue": v })).collect();
    json!({ "key": key, "value": { "arrayValue": { "values": values } } })
}

fn nanos(ms: u64) -> String {
    u128::from(ms).saturating_mul(1_000_000).to_string()
}

fn role_code(rec: &ProcessingRecord) -> Option<String> {
    let v = serde_json::to_value(rec.subject_role?).ok()?;
    v.as_str().map(str::to_owned)
}

/// One processing record (stored at `seq`, recorded at `recorded_ms`) as an OTLP/JSON span.
pub fn otlp_span(seq: u64, recorded_ms: u64, rec: &ProcessingRecord) -> Value {
    let mut attrs = vec![string_attr(
        "dpl.core.processing_activity_id",
        &rec.processing_activity_id,
    )];
    if let Some(s) = &rec.data_subject_id {
        attrs.push(string_attr("dpl.core.data_subject_id", s));
    }
    if let Some(t) = &rec.data_subject_id_type {
        attrs.push(string_attr("dpl.core.data_subject_id_type", t));
    }
    if let Some(p) = &rec.foreign_processor {
        attrs.push(string_attr("dpl.core.foreign_operation.processor", p));
    }
    attrs.push(int_attr(
        "http.response.status_code",
        u64::from(rec.http_status),
    ));
    if let Some(r) = role_code(rec) {
        attrs.push(string_attr("sluis.subject_role", &r));
    }
    if let Some(c) = &rec.upstream_error_code {
        attrs.push(string_attr("sluis.upstream_error_code", c));
    }
    if let Some(c) = &rec.case_ref {
        attrs.push(string_attr("sluis.case_ref", c));
    }
    if let Some(a) = &rec.client_app_id {
        attrs.push(string_attr("sluis.client_app_id", a));
    }
    attrs.push(array_attr("sluis.fields_requested", &rec.fields_requested));
    attrs.push(array_attr("sluis.fields_delivered", &rec.fields_delivered));
    attrs.push(array_attr("sluis.search_params", &rec.search_params));
    attrs.push(array_attr("sluis.flags", &rec.flags));
    attrs.push(int_attr("sluis.audit.seq", seq));
    attrs.push(int_attr("sluis.audit.recorded_at_ms", recorded_ms));

    let (code, message) = match rec.status {
        SpanStatus::Unset => (0u8, None),
        SpanStatus::Ok => (1, None),
        SpanStatus::Error => (
            2,
            Some(
                rec.upstream_error_code
                    .clone()
                    .unwrap_or_else(|| format!("HTTP {}", rec.http_status)),
            ),
        ),
    };
    if let Some(m) = &message {
        attrs.push(string_attr(
            "exception.type",
            rec.upstream_error_code.as_deref().unwrap_or("upstream"),
        ));
        attrs.push(string_attr(
            "exception.message",
            &format!("upstream answered {m}"),
        ));
    }
    let mut status = Map::new();
    status.insert("code".into(), json!(code));
    if let Some(m) = message {
        status.insert("message".into(), Value::String(m));
    }
    json!({
        "traceId": rec.trace_id.to_ascii_lowercase(),
        "spanId": rec.span_id.to_ascii_lowercase(),
        "parentSpanId": rec.parent_span_id.to_ascii_lowercase(),
        "name": rec.name,
        "kind": SPAN_KIND_INTERNAL,
        "startTimeUnixNano": nanos(rec.start_time_ms),
        "endTimeUnixNano": nanos(rec.end_time_ms.max(rec.start_time_ms)),
        "attributes": attrs,
        "status": status,
    })
}

/// An `ExportTraceServiceRequest` (`{"resourceSpans": [...]}`) of processing records
/// `(seq, recorded_ms, record)`; `None` when there are none.
pub fn otlp_request<'a>(
    rows: impl IntoIterator<Item = (u64, u64, &'a ProcessingRecord)>,
) -> Option<Value> {
    // (resource, spans), in order of first appearance.
    let mut groups: Vec<(&'a str, Vec<Value>)> = Vec::new();
    for (seq, recorded_ms, rec) in rows {
        let span = otlp_span(seq, recorded_ms, rec);
        match groups.iter_mut().find(|(r, _)| *r == rec.resource) {
            Some((_, spans)) => spans.push(span),
            None => groups.push((&rec.resource, vec![span])),
        }
    }
    if groups.is_empty() {
        return None;
    }
    let resource_spans: Vec<Value> = groups
        .into_iter()
        .map(|(resource, spans)| {
            json!({
                "resource": {
                    "attributes": [
                        string_attr("service.name", "sluis"),
                        string_attr("service.instance.id", resource),
                    ]
                },
                "scopeSpans": [{
                    "scope": { "name": OTLP_SCOPE, "version": env!("CARGO_PKG_VERSION") },
                    "spans": spans,
                }],
            })
        })
        .collect();
    Some(json!({ "resourceSpans": resource_spans }))
}

/// [`otlp_request`] over stored entries: the processing entries become spans, access and purge
/// entries are skipped (they are not LDV log lines).
pub fn otlp_request_from_entries(entries: &[StoredEntry]) -> Option<Value> {
    otlp_request(entries.iter().filter_map(|e| match &e.entry {
        Entry::Processing(p) => Some((e.seq, e.time_ms, p)),
        _ => None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn stored(seq: u64, entry: Entry) -> StoredEntry {
        StoredEntry {
            chain: String::new(),
            seq,
            time_ms: 1_700_000_000_005,
            prev_hash: String::new(),
            hash: String::new(),
            entry,
        }
    }

    fn attr<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
        span["attributes"]
            .as_array()?
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| &a["value"])
    }

    #[test]
    fn processing_entries_become_ldv_spans() {
        let mut failed = testing::processing(2, 0);
        failed.status = SpanStatus::Error;
        failed.http_status = 503;
        failed.data_subject_id = None;
        failed.data_subject_id_type = None;
        failed.resource = "sluis other".into();
        let entries = vec![
            stored(1, Entry::Access(testing::access(1))),
            stored(2, Entry::Processing(testing::processing(1, 0))),
            stored(3, Entry::Processing(testing::processing(1, 1))),
            stored(4, Entry::Processing(failed)),
        ];
        let req = otlp_request_from_entries(&entries).unwrap();
        let rs = req["resourceSpans"].as_array().unwrap();
        assert_eq!(rs.len(), 2, "one resourceSpans per resource");
        let spans = rs[0]["scopeSpans"][0]["spans"].as_array().unwrap();
        assert_eq!(spans.len(), 2);
        assert_eq!(rs[0]["scopeSpans"][0]["scope"]["name"], OTLP_SCOPE);
        let s = &spans[0];
        assert_eq!(s["traceId"], testing::trace_id(1));
        assert_eq!(s["traceId"].as_str().unwrap().len(), 32);
        assert_eq!(s["spanId"].as_str().unwrap().len(), 16);
        assert_eq!(s["parentSpanId"], format!("{:016x}", 1));
        assert_eq!(s["startTimeUnixNano"], "1700000000001000000");
        assert_eq!(s["status"]["code"], 1);
        assert_eq!(
            attr(s, "dpl.core.processing_activity_id").unwrap()["stringValue"],
            "VA-12"
        );
        assert_eq!(
            attr(s, "dpl.core.data_subject_id").unwrap()["stringValue"],
            testing::subject(0)
        );
        assert_eq!(
            attr(s, "dpl.core.data_subject_id_type").unwrap()["stringValue"],
            "BSN"
        );
        assert_eq!(
            attr(s, "dpl.core.foreign_operation.processor").unwrap()["stringValue"],
            "wmo"
        );
        assert_eq!(attr(s, "sluis.audit.seq").unwrap()["intValue"], "2");
        assert_eq!(
            attr(s, "sluis.fields_delivered").unwrap()["arrayValue"]["values"][0]["stringValue"],
            "naam"
        );
        let f = &rs[1]["scopeSpans"][0]["spans"][0];
        assert_eq!(f["status"]["code"], 2);
        assert!(attr(f, "dpl.core.data_subject_id").is_none());
        assert_eq!(
            attr(f, "exception.message").unwrap()["stringValue"],
            "upstream answered HTTP 503"
        );
        assert_eq!(
            rs[1]["resource"]["attributes"][1]["value"]["stringValue"],
            "sluis other"
        );
        assert!(otlp_request_from_entries(&entries[..1]).is_none());
    }
}
