//! The stored bodies of access and processing records, written member by member in key order.
//!
//! These two kinds are nearly every entry of the log, and the generic encoder
//! ([`super::Interner::encode`]) pays for its generality on each: a string per member, a sort, a
//! partition into shape and rest. Here each member is written once, in the byte order of its key,
//! straight into the output or the shape, and a field list already interned in the batch is
//! recognised by its shared allocation rather than written and compared again. The output is the
//! generic encoder's, byte for byte (tests hold the two together on arbitrary records): keys in
//! byte order, `null` and `[]` members left out, the shaped members ([`SHAPED_ACCESS`],
//! [`SHAPED_PROCESSING`]) in the shape, long field lists in field sets.
//!
//! [`SHAPED_ACCESS`]: crate::fieldset::SHAPED_ACCESS
//! [`SHAPED_PROCESSING`]: crate::fieldset::SHAPED_PROCESSING

use std::sync::Arc;

use super::Interner;
use crate::chain::write_json_string;
use crate::fieldset::{MIN_INTERNED_LEN, field_set_id, shape_id};
use crate::{AccessRecord, Decision, FieldList, ProcessingRecord, SpanStatus, SubjectRole};

/// The members of one object, written in the order they are added: the caller adds them in the
/// byte order of their keys. Members without a value (`None`, an empty list) are left out.
struct Members<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Members<'a> {
    fn open(out: &'a mut String) -> Self {
        out.push('{');
        Members { out, first: true }
    }

    /// The key: plain ASCII, written as it is.
    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        write_json_string(value, self.out);
    }

    fn opt_str(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.str(key, v);
        }
    }

    fn num(&mut self, key: &str, value: impl itoa::Integer) {
        self.key(key);
        self.out.push_str(itoa::Buffer::new().format(value));
    }

    fn opt_num(&mut self, key: &str, value: Option<impl itoa::Integer>) {
        if let Some(v) = value {
            self.num(key, v);
        }
    }

    fn list(&mut self, key: &str, items: &[String]) {
        if !items.is_empty() {
            self.key(key);
            write_list(items, self.out);
        }
    }

    /// A member whose value is already JSON text, when there is one.
    fn opt_raw(&mut self, key: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.key(key);
            self.out.push_str(text);
        }
    }

    fn close(self) {
        self.out.push('}');
    }
}

/// `["a","b"]`.
fn write_list(items: &[String], out: &mut String) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(item, out);
    }
    out.push(']');
}

fn decision(d: Decision) -> &'static str {
    match d {
        Decision::Permit => "permit",
        Decision::Deny => "deny",
        Decision::Error => "error",
    }
}

fn span_status(s: SpanStatus) -> &'static str {
    match s {
        SpanStatus::Unset => "unset",
        SpanStatus::Ok => "ok",
        SpanStatus::Error => "error",
    }
}

fn subject_role(r: SubjectRole) -> &'static str {
    match r {
        SubjectRole::Geraadpleegd => "geraadpleegd",
        SubjectRole::GevondenInZoekresultaat => "gevonden-in-zoekresultaat",
        SubjectRole::Gerelateerd => "gerelateerd",
    }
}

impl Interner {
    /// A processing record's field list as its member's JSON text: the list when short, else a
    /// reference to its field set; `None` for an empty list. A list shared with an earlier
    /// record of the batch is found by its allocation, without writing it again.
    fn field_list(&mut self, list: &FieldList) -> Option<String> {
        if list.is_empty() {
            return None;
        }
        let known = self
            .lists
            .iter()
            .find(|(l, _)| Arc::ptr_eq(l, list))
            .map(|(_, id)| id.clone());
        let id = match known {
            Some(id) => {
                self.reference(&id);
                id
            }
            None => {
                let mut text = String::new();
                write_list(list, &mut text);
                if text.len() < MIN_INTERNED_LEN {
                    return Some(text);
                }
                let id = self.intern(&text, field_set_id);
                self.lists.push((Arc::clone(list), id.clone()));
                id
            }
        };
        let mut text = String::with_capacity(id.len() + 2);
        write_json_string(&id, &mut text);
        Some(text)
    }

    /// An access record's stored body.
    pub(super) fn access(&mut self, a: &AccessRecord, out: &mut String) {
        let mut shape = std::mem::take(&mut self.shape);
        shape.clear();
        let mut m = Members::open(&mut shape);
        m.str("api", &a.api);
        m.opt_str("application", a.application.as_deref());
        m.opt_str("client_id", a.client_id.as_deref());
        m.opt_str("code", a.code.as_deref());
        m.str("decision", decision(a.decision));
        m.list("denied_params", &a.denied_params);
        m.list("field_levels", &a.field_levels);
        m.list("flags", &a.flags);
        m.opt_str("issuer", a.issuer.as_deref());
        m.str("method", &a.method);
        m.str("operation", &a.operation);
        m.list("params", &a.params);
        m.opt_str("policy_version", a.policy_version.as_deref());
        m.opt_str("processing_activity", a.processing_activity.as_deref());
        m.opt_str("purpose", a.purpose.as_deref());
        m.list("reasons", &a.reasons);
        m.list("scopes", &a.scopes);
        m.list("scopes_dropped", &a.scopes_dropped);
        m.num("status", a.status);
        m.opt_num("upstream_status", a.upstream_status);
        m.opt_str("user_source", a.user_source.as_deref());
        m.close();
        let id = self.intern(&shape, shape_id);
        self.shape = shape;

        let mut m = Members::open(out);
        m.opt_str("correlation_id", a.correlation_id.as_deref());
        m.num("duration_ms", a.duration_ms);
        m.str("kind", "access");
        m.str("path", &a.path);
        m.num("records", a.records);
        m.str("shape", &id);
        m.str("span_id", &a.span_id);
        m.opt_str("subject", a.subject.as_deref());
        m.num("time_ms", a.time_ms);
        m.str("trace_id", &a.trace_id);
        m.opt_num("upstream_ms", a.upstream_ms);
        m.opt_str("user", a.user.as_deref());
        m.close();
    }

    /// A processing record's stored body.
    pub(super) fn processing(&mut self, p: &ProcessingRecord, out: &mut String) {
        // Requested before delivered, the order of the record's members, so the field sets come
        // out in the order the generic encoder gives them.
        let requested = self.field_list(&p.fields_requested);
        let delivered = self.field_list(&p.fields_delivered);
        let mut shape = std::mem::take(&mut self.shape);
        shape.clear();
        let mut m = Members::open(&mut shape);
        m.opt_str("client_app_id", p.client_app_id.as_deref());
        m.opt_str("data_subject_id_type", p.data_subject_id_type.as_deref());
        m.opt_raw("fields_delivered", delivered.as_deref());
        m.opt_raw("fields_requested", requested.as_deref());
        m.opt_str("foreign_processor", p.foreign_processor.as_deref());
        m.num("http_status", p.http_status);
        m.str("name", &p.name);
        m.str("processing_activity_id", &p.processing_activity_id);
        m.str("resource", &p.resource);
        m.list("search_params", &p.search_params);
        m.str("status", span_status(p.status));
        m.opt_str("subject_role", p.subject_role.map(subject_role));
        m.opt_str("upstream_error_code", p.upstream_error_code.as_deref());
        m.close();
        let id = self.intern(&shape, shape_id);
        self.shape = shape;

        let mut m = Members::open(out);
        m.opt_str("case_ref", p.case_ref.as_deref());
        m.opt_str("data_subject_id", p.data_subject_id.as_deref());
        m.num("end_time_ms", p.end_time_ms);
        m.list("flags", &p.flags);
        m.str("kind", "processing");
        m.str("parent_span_id", &p.parent_span_id);
        m.str("shape", &id);
        m.str("span_id", &p.span_id);
        m.num("start_time_ms", p.start_time_ms);
        m.str("trace_id", &p.trace_id);
        m.close();
    }
}
