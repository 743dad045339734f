//! The canonical JSON of an entry written straight from its `Serialize` impl, without building a
//! `serde_json::Value` first: the same text as [`canonical_json`](crate::chain::canonical_json)
//! of the entry's value (keys sorted by their bytes at every level, no whitespace, strings escaped
//! as `serde_json` escapes them, numbers as `serde_json` prints them), with the field lists of a
//! processing record interned as [`crate::fieldset`] describes. It is the encoder on the write
//! path; a property test holds it to the `Value` route.

use std::borrow::Cow;

use serde::ser::{self, Serialize};

use crate::fieldset::{
    FieldSet, INTERNED_MEMBERS, MIN_INTERNED_LEN, SHAPE_MEMBER, field_set_id, shape_id,
    shaped_members,
};
use crate::{AuditError, Entry, FieldList};

mod records;

/// The field sets and shapes of one value being encoded (`own`), and those of the values
/// encoded before it in the same batch (`seen`): the entries of one request repeat their field
/// lists and shapes, and finding one among them is cheaper than hashing it again.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    own: Vec<FieldSet>,
    seen: Vec<FieldSet>,
    /// The long field lists interned so far, by their shared allocation, with their ids.
    lists: Vec<(FieldList, String)>,
    /// The shape being written (a buffer reused from record to record).
    shape: String,
}

impl Interner {
    /// Encodes an entry: access and processing records member by member, the other kinds
    /// through their `Serialize` impls. Both write the same text.
    pub(crate) fn encode_entry(&mut self, entry: &Entry) -> Result<String, AuditError> {
        match entry {
            Entry::Access(a) => {
                let mut out = String::with_capacity(512);
                self.access(a, &mut out);
                Ok(out)
            }
            Entry::Processing(p) => {
                let mut out = String::with_capacity(512);
                self.processing(p, &mut out);
                Ok(out)
            }
            Entry::Purge(_) | Entry::Alert(_) | Entry::Handling(_) => self.encode(entry),
        }
    }

    /// Encodes `value` through its `Serialize` impl, adding what it references to `own`.
    pub(crate) fn encode(&mut self, value: &impl Serialize) -> Result<String, AuditError> {
        let mut out = String::with_capacity(1024);
        value
            .serialize(Canonical {
                out: &mut out,
                sets: self,
            })
            .map_err(|e| AuditError::Invalid(format!("entry cannot be encoded: {}", e.0)))?;
        Ok(out)
    }

    /// Takes the sets the last value referenced, remembering them for the next values.
    pub(crate) fn take_own(&mut self) -> Vec<FieldSet> {
        let own = std::mem::take(&mut self.own);
        for set in &own {
            if !self.seen.iter().any(|s| s.id == set.id) {
                self.seen.push(set.clone());
            }
        }
        own
    }

    /// Interns `content` (a canonical field list or shape): its id, computed by `id_of` unless
    /// the batch has it already.
    fn intern(&mut self, content: &str, id_of: fn(&str) -> String) -> String {
        let known = self
            .own
            .iter()
            .chain(&self.seen)
            .find(|s| s.paths == content)
            .map(|s| s.id.clone());
        let id = known.unwrap_or_else(|| id_of(content));
        if !self.own.iter().any(|s| s.id == id) {
            self.own.push(FieldSet {
                id: id.clone(),
                paths: content.to_owned(),
            });
        }
        id
    }

    /// Notes that the value references `id`, a set interned earlier in the batch.
    fn reference(&mut self, id: &str) {
        if self.own.iter().any(|s| s.id == id) {
            return;
        }
        if let Some(set) = self.seen.iter().find(|s| s.id == id) {
            self.own.push(set.clone());
        }
    }
}

/// Why a value cannot be written.
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// Writes one value into `out`.
struct Canonical<'a> {
    out: &'a mut String,
    sets: &'a mut Interner,
}

fn push_display(out: &mut String, v: impl std::fmt::Display) {
    use std::fmt::Write as _;
    let _ = write!(out, "{v}");
}

fn push_float(out: &mut String, v: f64) -> Result<(), Error> {
    // As serde_json writes it (a non-finite number is `null` there).
    let text = serde_json::to_string(&v).map_err(|e| Error(e.to_string()))?;
    out.push_str(&text);
    Ok(())
}

impl<'a> ser::Serializer for Canonical<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Variant<Seq<'a>>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Variant<Object<'a>>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        push_display(self.out, v);
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        push_display(self.out, v);
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        push_display(self.out, v);
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        push_display(self.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        push_display(self.out, v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        push_display(self.out, v);
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        push_display(self.out, v);
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        push_display(self.out, v);
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        push_display(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        push_display(self.out, v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        push_float(self.out, f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        push_float(self.out, v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        let mut buf = [0u8; 4];
        crate::chain::write_json_string(v.encode_utf8(&mut buf), self.out);
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        crate::chain::write_json_string(v, self.out);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        let mut s = self.serialize_seq(Some(v.len()))?;
        for b in v {
            ser::SerializeSeq::serialize_element(&mut s, b)?;
        }
        ser::SerializeSeq::end(s)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.out.push_str("null");
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.push_str("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.out.push('{');
        crate::chain::write_json_string(variant, self.out);
        self.out.push(':');
        value.serialize(Canonical {
            out: self.out,
            sets: self.sets,
        })?;
        self.out.push('}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a>, Error> {
        self.out.push('[');
        Ok(Seq {
            out: self.out,
            sets: self.sets,
            first: true,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Seq<'a>>, Error> {
        self.out.push('{');
        crate::chain::write_json_string(variant, self.out);
        self.out.push(':');
        Ok(Variant(self.serialize_seq(Some(len))?))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Object<'a>, Error> {
        Ok(Object {
            out: self.out,
            sets: self.sets,
            members: Vec::new(),
            key: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Object<'a>, Error> {
        Ok(Object {
            out: self.out,
            sets: self.sets,
            members: Vec::with_capacity(len),
            key: None,
        })
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Object<'a>>, Error> {
        self.out.push('{');
        crate::chain::write_json_string(variant, self.out);
        self.out.push(':');
        Ok(Variant(self.serialize_struct(variant, len)?))
    }
}

/// An array being written.
pub struct Seq<'a> {
    out: &'a mut String,
    sets: &'a mut Interner,
    first: bool,
}

impl<'a> Seq<'a> {
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        value.serialize(Canonical {
            out: self.out,
            sets: self.sets,
        })
    }

    fn close(self) -> &'a mut String {
        self.out.push(']');
        self.out
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        let _ = self.close();
        Ok(())
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        let _ = self.close();
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        let _ = self.close();
        Ok(())
    }
}

/// An object being written: members are collected as (key, written value), sorted at the end.
pub struct Object<'a> {
    out: &'a mut String,
    sets: &'a mut Interner,
    members: Vec<(Cow<'static, str>, String)>,
    /// A map's key, between `serialize_key` and `serialize_value`.
    key: Option<String>,
}

impl<'a> Object<'a> {
    fn member<T: ?Sized + Serialize>(
        &mut self,
        key: Cow<'static, str>,
        value: &T,
    ) -> Result<(), Error> {
        let mut text = String::new();
        value.serialize(Canonical {
            out: &mut text,
            sets: self.sets,
        })?;
        self.members.push((key, text));
        Ok(())
    }

    fn close(mut self) -> &'a mut String {
        let kind = self
            .members
            .iter()
            .find(|(k, _)| k == "kind")
            .map(|(_, v)| v.trim_matches('"'))
            .unwrap_or_default();
        let shaped = shaped_members(kind);
        if !shaped.is_empty() {
            let processing = kind == "processing";
            // Absent reads back as `None` or empty: nulls and empty lists are not stored.
            self.members.retain(|(_, v)| v != "null" && v != "[]");
            // A processing record's long field lists become references to field sets.
            if processing {
                for (k, v) in &mut self.members {
                    if INTERNED_MEMBERS.contains(&k.as_ref())
                        && v.starts_with('[')
                        && v.len() >= MIN_INTERNED_LEN
                    {
                        let id = self.sets.intern(v, field_set_id);
                        v.clear();
                        crate::chain::write_json_string(&id, v);
                    }
                }
            }
            // What repeats from request to request becomes a reference to a shape.
            let (mut shape, mut rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.members)
                .into_iter()
                .partition(|(k, _)| shaped.contains(&k.as_ref()));
            let mut text = String::with_capacity(512);
            write_members(&mut shape, &mut text);
            let id = self.sets.intern(&text, shape_id);
            let mut reference = String::with_capacity(id.len() + 2);
            crate::chain::write_json_string(&id, &mut reference);
            rest.push((Cow::Borrowed(SHAPE_MEMBER), reference));
            write_members(&mut rest, self.out);
            return self.out;
        }
        write_members(&mut self.members, self.out);
        self.out
    }
}

/// Writes `{"key":value,...}` with the members sorted by their keys' bytes.
fn write_members(members: &mut [(Cow<'static, str>, String)], out: &mut String) {
    members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out.push('{');
    for (i, (k, v)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        crate::chain::write_json_string(k, out);
        out.push(':');
        out.push_str(v);
    }
    out.push('}');
}

/// A map key as serde_json writes it: strings as they are, numbers and booleans as their text.
fn key_text<T: ?Sized + Serialize>(key: &T) -> Result<String, Error> {
    match serde_json::to_value(key).map_err(|e| Error(e.to_string()))? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        _ => Err(Error("a map key must be a string".into())),
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key_text(key)?);
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("a map value without a key".into()))?;
        self.member(Cow::Owned(key), value)
    }
    fn end(self) -> Result<(), Error> {
        let _ = self.close();
        Ok(())
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.member(Cow::Borrowed(key), value)
    }
    fn end(self) -> Result<(), Error> {
        let _ = self.close();
        Ok(())
    }
}

/// A `{"variant": ...}` wrapper around an array or object.
pub struct Variant<T>(T);

impl<'a> ser::SerializeTupleVariant for Variant<Seq<'a>> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.0.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.0.close().push('}');
        Ok(())
    }
}

impl<'a> ser::SerializeStructVariant for Variant<Object<'a>> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.0.member(Cow::Borrowed(key), value)
    }
    fn end(self) -> Result<(), Error> {
        self.0.close().push('}');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::canonical_json;
    use crate::{Entry, PurgeRecord, testing};
    use proptest::prelude::*;

    /// The reference: the entry's `serde_json::Value`, its lists interned, written canonically.
    fn by_value(entry: &Entry) -> (String, Vec<FieldSet>) {
        let mut value = serde_json::to_value(entry).unwrap();
        let mut sets = Vec::new();
        crate::fieldset::intern(&mut value, &mut sets);
        (canonical_json(&value), sets)
    }

    /// One entry alone.
    fn direct(entry: &Entry) -> (String, Vec<FieldSet>) {
        let mut interner = Interner::default();
        let body = interner.encode_entry(entry).unwrap();
        (body, interner.take_own())
    }

    /// One entry alone, through its `Serialize` impl.
    fn generic(entry: &Entry) -> (String, Vec<FieldSet>) {
        let mut interner = Interner::default();
        let body = interner.encode(entry).unwrap();
        (body, interner.take_own())
    }

    #[test]
    fn the_fixtures_encode_as_through_a_value() {
        let mut entries = testing::request(1, 3);
        entries.extend(testing::brp_request(2, 2));
        entries.push(Entry::Purge(PurgeRecord {
            time_ms: 5,
            removed: vec![("VA-12".into(), 3), ("sluis:purge".into(), 1)],
            removed_access: 2,
            up_to_seq: 9,
            anchor_hash: "ab".repeat(32),
        }));
        for e in &entries {
            assert_eq!(direct(e), by_value(e), "{e:?}");
            assert_eq!(generic(e), by_value(e), "{e:?}");
        }
    }

    fn opt() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(text())
    }

    fn list() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(text(), 0..8)
    }

    fn decision() -> impl Strategy<Value = crate::Decision> {
        prop_oneof![
            Just(crate::Decision::Permit),
            Just(crate::Decision::Deny),
            Just(crate::Decision::Error)
        ]
    }

    prop_compose! {
        /// An access record with every member drawn: each optional one set or not, each list
        /// empty or not.
        fn any_access()(
            ids in (text(), text(), text(), text(), text(), text()),
            opts in (opt(), opt(), opt(), opt(), opt(), opt(), opt(), opt(), opt(), opt(), opt()),
            lists in (list(), list(), list(), list(), list(), list(), list()),
            nums in (any::<u64>(), any::<u64>(), any::<u64>(), proptest::option::of(any::<u64>())),
            statuses in (any::<u16>(), proptest::option::of(any::<u16>())),
            decision in decision(),
        ) -> crate::AccessRecord {
            let (trace_id, span_id, api, operation, method, path) = ids;
            let (issuer, subject, user, client_id, purpose, processing_activity, correlation_id,
                code, policy_version, user_source, application) = opts;
            let (scopes, reasons, denied_params, params, field_levels, flags, scopes_dropped) =
                lists;
            let (time_ms, records, duration_ms, upstream_ms) = nums;
            crate::AccessRecord {
                time_ms, trace_id, span_id, api, operation, method, path, issuer, subject, user,
                client_id, scopes, purpose, processing_activity, correlation_id, decision,
                status: statuses.0, code, reasons, denied_params, params, field_levels, records,
                policy_version, upstream_status: statuses.1, duration_ms, upstream_ms,
                user_source, flags, application, scopes_dropped,
            }
        }
    }

    fn status() -> impl Strategy<Value = crate::SpanStatus> {
        prop_oneof![
            Just(crate::SpanStatus::Unset),
            Just(crate::SpanStatus::Ok),
            Just(crate::SpanStatus::Error)
        ]
    }

    fn role() -> impl Strategy<Value = Option<crate::SubjectRole>> {
        proptest::option::of(prop_oneof![
            Just(crate::SubjectRole::Geraadpleegd),
            Just(crate::SubjectRole::GevondenInZoekresultaat),
            Just(crate::SubjectRole::Gerelateerd)
        ])
    }

    prop_compose! {
        /// A processing record with every member drawn; field lists short (inline) and long
        /// (interned).
        fn any_processing()(
            ids in (text(), text(), text(), text(), text(), text()),
            opts in (opt(), opt(), opt(), opt(), opt(), opt()),
            lists in (list(), list(), proptest::collection::vec(text(), 0..30),
                proptest::collection::vec(text(), 0..30)),
            times in (any::<u64>(), any::<u64>(), any::<u16>()),
            status in status(),
            subject_role in role(),
        ) -> crate::ProcessingRecord {
            let (trace_id, span_id, parent_span_id, name, processing_activity_id, resource) = ids;
            let (foreign_processor, upstream_error_code, case_ref, data_subject_id,
                data_subject_id_type, client_app_id) = opts;
            let (search_params, flags, requested, delivered) = lists;
            crate::ProcessingRecord {
                trace_id, span_id, parent_span_id, foreign_processor, name,
                start_time_ms: times.0, end_time_ms: times.1, status, http_status: times.2,
                upstream_error_code, processing_activity_id, case_ref, data_subject_id,
                data_subject_id_type, subject_role, fields_requested: requested.into(),
                fields_delivered: delivered.into(), search_params, resource, client_app_id,
                flags,
            }
        }
    }

    fn text() -> impl Strategy<Value = String> {
        "(?s).{0,24}"
    }

    proptest! {
        /// Whatever the records hold (any Unicode, quotes, control characters; lists short and
        /// long, so inline and interned; optional members set or not), the direct encoder writes
        /// exactly what the `Value` route writes, and interns the same field sets.
        #[test]
        fn records_encode_as_through_a_value(
            i in 0u64..1000,
            user in proptest::option::of(text()),
            reasons in proptest::collection::vec(text(), 0..4),
            requested in proptest::collection::vec(text(), 0..12),
            delivered in proptest::collection::vec(text(), 0..12),
            status in 100u16..600,
            records in any::<u64>(),
            flags in proptest::collection::vec(text(), 0..3),
        ) {
            let mut a = testing::access(i);
            a.user = user.clone();
            a.reasons = reasons.clone();
            a.status = status;
            a.records = records;
            a.application = user.clone();
            a.scopes_dropped = flags.clone();
            let mut p = testing::processing(i, 1);
            p.fields_requested = requested.into();
            p.fields_delivered = delivered.into();
            p.case_ref = user;
            p.flags = flags;
            for e in [Entry::Access(a), Entry::Processing(p)] {
                prop_assert_eq!(direct(&e), by_value(&e));
            }
        }

        /// The member-by-member encoder of access and processing records writes what their
        /// `Serialize` impls write, and what the `Value` route writes, whatever every member
        /// holds.
        #[test]
        fn every_member_encodes_as_through_serialize(
            a in any_access(),
            p in any_processing(),
        ) {
            for e in [Entry::Access(a), Entry::Processing(p)] {
                let reference = by_value(&e);
                prop_assert_eq!(&direct(&e), &reference);
                prop_assert_eq!(&generic(&e), &reference);
            }
        }

        /// Encoding a batch finds the field lists and shapes its earlier entries interned instead
        /// of hashing them again: every entry still encodes, and lists exactly the sets it
        /// references, as it does alone.
        #[test]
        fn a_batch_encodes_each_entry_as_alone(
            lists in proptest::collection::vec(
                proptest::collection::vec("[a-z.]{1,12}", 0..14), 1..4),
            picks in proptest::collection::vec(
                (0usize..4, 0usize..4, any::<bool>(), any::<bool>()), 1..8),
        ) {
            // Each list once as a shared allocation, as a request's records share theirs.
            let shared: Vec<crate::FieldList> =
                lists.iter().map(|l| l.as_slice().into()).collect();
            let mut batch = vec![Entry::Access(testing::access(7))];
            for (n, (req, del, related, share)) in picks.into_iter().enumerate() {
                let mut p = testing::processing(7, n as u64);
                if share {
                    p.fields_requested = shared[req % lists.len()].clone();
                    p.fields_delivered = shared[del % lists.len()].clone();
                } else {
                    p.fields_requested = lists[req % lists.len()].as_slice().into();
                    p.fields_delivered = lists[del % lists.len()].as_slice().into();
                }
                if related {
                    p.subject_role = Some(crate::SubjectRole::Gerelateerd);
                }
                batch.push(Entry::Processing(p));
            }
            let encoded = crate::chain::encode(&batch).unwrap();
            prop_assert_eq!(encoded.len(), batch.len());
            for (e, enc) in batch.iter().zip(&encoded) {
                let (body, sets) = direct(e);
                prop_assert_eq!(&enc.body, &body);
                prop_assert_eq!(&enc.field_sets, &sets);
            }
        }
    }
}
