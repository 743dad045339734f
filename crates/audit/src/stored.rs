//! The stored form of a body: the canonical JSON of an access or processing record without the
//! members a store keeps in columns of their own (`kind`, `trace_id`, and `data_subject_id` of a
//! processing record), so that they are not stored twice.
//!
//! The chain still hashes the whole body: a store [`strip`]s it on the way in and [`restore`]s it
//! on the way out, from the row's columns, and verification hashes what was restored. A changed
//! column therefore fails the entry's hash like a changed body. Both functions work on the text,
//! which is canonical JSON (an object with its keys sorted by their bytes, no whitespace), and
//! leave any other body — a purge record, an alert, a body stored before this form existed, one
//! that is not an object — as it is.
//!
//! The keys of the members that vary from record to record (the rest are in the record's shape,
//! `crate::fieldset`) are stored as one capital letter each ([`SHORT_KEYS`]): a record's keys
//! are lower case, so a capital never stands for anything else. The members keep their order,
//! that of the full keys, so restoring is putting the keys back. A body with a one-capital key of
//! its own (which no record has) is stored with its keys long and that key escaped (`"\u0041"`
//! for `"A"`, which canonical JSON never writes), so it reads back as it was; a body stored
//! before short keys existed reads back as it did.

#[cfg(doc)]
use crate::chain::EntryIndex;
use crate::chain::{EntryKind, write_json_string};

/// The member of a body that holds the entry's kind.
const KIND: &str = "kind";
/// The member that holds the trace id.
const TRACE_ID: &str = "trace_id";
/// The member of a processing record that holds the pseudonymised data subject.
const DATA_SUBJECT: &str = "data_subject_id";

/// The keys stored as one capital letter, and the letter: the members of an access or processing
/// record that its shape leaves in the body.
pub const SHORT_KEYS: [(&str, &str); 15] = [
    ("case_ref", "C"),
    ("correlation_id", "K"),
    ("duration_ms", "D"),
    ("end_time_ms", "E"),
    ("flags", "F"),
    ("parent_span_id", "P"),
    ("path", "A"),
    ("records", "R"),
    ("shape", "H"),
    ("span_id", "S"),
    ("start_time_ms", "B"),
    ("subject", "U"),
    ("time_ms", "T"),
    ("upstream_ms", "M"),
    ("user", "W"),
];

fn short_key(key: &str) -> Option<&'static str> {
    SHORT_KEYS.iter().find(|(k, _)| *k == key).map(|(_, c)| *c)
}

fn long_key(code: &str) -> Option<&'static str> {
    SHORT_KEYS.iter().find(|(_, c)| *c == code).map(|(k, _)| *k)
}

/// A key a body could hold that looks like a short key: one capital letter.
fn is_capital(key: &str) -> bool {
    key.len() == 1 && key.bytes().all(|b| b.is_ascii_uppercase())
}

/// A top-level member of a JSON object text: where it starts and ends (from its key's opening
/// quote to the end of its value), and its key as written (without quotes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Member<'a> {
    start: usize,
    end: usize,
    key: &'a str,
    value: &'a str,
}

/// The end of the JSON string starting at `i` (an opening quote): the index after its closing
/// quote.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < b.len() {
        match b.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The end of the JSON value starting at `i`.
fn value_end(b: &[u8], mut i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        b'[' | b'{' => {
            let mut depth = 0usize;
            while i < b.len() {
                match b.get(i)? {
                    b'"' => {
                        i = string_end(b, i)?;
                        continue;
                    }
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            while i < b.len() && !matches!(b.get(i)?, b',' | b'}' | b']') {
                i += 1;
            }
            Some(i)
        }
    }
}

/// The top-level members of a canonical JSON object, or `None` when `text` is not one.
fn members(text: &str) -> Option<Vec<Member<'_>>> {
    let b = text.as_bytes();
    if b.first() != Some(&b'{') || b.last() != Some(&b'}') {
        return None;
    }
    let mut out = Vec::with_capacity(16);
    let mut i = 1;
    if b.get(i) == Some(&b'}') {
        return (i + 1 == b.len()).then_some(out);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(b, i)?;
        if b.get(key_end) != Some(&b':') {
            return None;
        }
        let end = value_end(b, key_end + 1)?;
        out.push(Member {
            start: i,
            end,
            key: text.get(i + 1..key_end - 1)?,
            value: text.get(key_end + 1..end)?,
        });
        match b.get(end) {
            Some(b',') => i = end + 1,
            Some(b'}') if end + 1 == b.len() => return Some(out),
            _ => return None,
        }
    }
}

/// The members a store keeps in columns, for an entry of `kind` with those column values: key and
/// JSON value text, in key order.
fn column_members(
    kind: &str,
    trace_id: Option<&str>,
    subject: Option<&str>,
) -> Option<Vec<(&'static str, String)>> {
    let processing = match EntryKind::parse(kind)? {
        EntryKind::Access => false,
        EntryKind::Processing => true,
        _ => return None,
    };
    let json = |s: &str| {
        let mut v = String::with_capacity(s.len() + 2);
        write_json_string(s, &mut v);
        v
    };
    // Sorted by key: data_subject_id < kind < trace_id.
    let mut out = Vec::with_capacity(3);
    if let Some(s) = subject.filter(|_| processing) {
        out.push((DATA_SUBJECT, json(s)));
    }
    out.push((KIND, json(kind)));
    if let Some(t) = trace_id {
        out.push((TRACE_ID, json(t)));
    }
    Some(out)
}

/// The body to store for an entry with these columns (`kind`, `trace_id`, `subject`, as
/// [`EntryIndex`] derives them): `body` without the members the columns hold (each only where the
/// body holds exactly the column's value).
pub fn strip(body: &str, kind: &str, trace_id: Option<&str>, subject: Option<&str>) -> String {
    let Some(columns) = column_members(kind, trace_id, subject) else {
        return body.to_owned();
    };
    let Some(all) = members(body) else {
        return body.to_owned();
    };
    let keep: Vec<&Member<'_>> = all
        .iter()
        .filter(|m| !columns.iter().any(|(k, v)| m.key == *k && m.value == v))
        .collect();
    let shorten = !all.iter().any(|m| is_capital(m.key));
    let rewrite = !shorten || all.iter().any(|m| short_key(m.key).is_some());
    if keep.len() == all.len() && !rewrite {
        return body.to_owned();
    }
    with_keys(body, keep.into_iter(), |m| {
        match short_key(m.key).filter(|_| shorten) {
            Some(code) => Some(code.to_owned()),
            // Escaped, so that it does not read back as a short key.
            None if is_capital(m.key) => {
                let capital = m.key.bytes().next().map_or(0, u32::from);
                Some(format!("\\u{capital:04X}"))
            }
            None => None,
        }
    })
}

/// The object of `members` (of `text`), each written with the key `key` gives it (as it is
/// written: no escaping is added), or as it stands in `text`.
fn with_keys<'a>(
    text: &str,
    members: impl Iterator<Item = &'a Member<'a>>,
    key: impl Fn(&Member<'_>) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    out.push('{');
    for (i, m) in members.enumerate() {
        if i > 0 {
            out.push(',');
        }
        match key(m) {
            Some(k) => {
                out.push('"');
                out.push_str(&k);
                out.push_str("\":");
                out.push_str(m.value);
            }
            None => out.push_str(text.get(m.start..m.end).unwrap_or_default()),
        }
    }
    out.push('}');
    out
}

/// The capital an escaped key (`\u0041`) of a stored body stands for.
fn escaped_capital(key: &str) -> Option<char> {
    let hex = key.strip_prefix("\\u")?;
    let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
    (hex.len() == 4 && c.is_ascii_uppercase()).then_some(c)
}

/// `stored` with its short keys written out again and its escaped capitals unescaped (`all`:
/// its members).
fn lengthen(stored: &str, all: &[Member<'_>]) -> String {
    with_keys(stored, all.iter(), |m| {
        long_key(m.key)
            .map(str::to_owned)
            .or_else(|| escaped_capital(m.key).map(String::from))
    })
}

/// The body an entry was hashed with, from its stored body and its row's columns: the members
/// the columns hold put back in key order (a member the stored body still holds itself, as a body
/// stored before this form did, is left as it is).
pub fn restore(stored: &str, kind: &str, trace_id: Option<&str>, subject: Option<&str>) -> String {
    let Some(columns) = column_members(kind, trace_id, subject) else {
        return stored.to_owned();
    };
    let Some(all) = members(stored) else {
        return stored.to_owned();
    };
    let lengthened;
    let (stored, all) = if all
        .iter()
        .any(|m| long_key(m.key).is_some() || escaped_capital(m.key).is_some())
    {
        lengthened = lengthen(stored, &all);
        match members(&lengthened) {
            Some(all) => (lengthened.as_str(), all),
            None => return stored.to_owned(),
        }
    } else {
        (stored, all)
    };
    let mut add: Vec<&(&str, String)> = columns
        .iter()
        .filter(|(k, _)| !all.iter().any(|m| m.key == *k))
        .collect();
    if add.is_empty() {
        return stored.to_owned();
    }
    // The column members, each as `"key":value`, merged with the stored ones by key.
    let columns: Vec<(&str, String)> = add
        .drain(..)
        .map(|(k, v)| {
            let mut text = String::with_capacity(k.len() + v.len() + 3);
            write_json_string(k, &mut text);
            text.push(':');
            text.push_str(v);
            (*k, text)
        })
        .collect();
    let mut pieces: Vec<&str> = Vec::with_capacity(all.len() + columns.len());
    let mut next = columns.iter().peekable();
    for m in &all {
        while let Some((_, text)) = next.next_if(|(k, _)| k.as_bytes() < m.key.as_bytes()) {
            pieces.push(text);
        }
        pieces.push(stored.get(m.start..m.end).unwrap_or_default());
    }
    pieces.extend(next.map(|(_, text)| text.as_str()));
    let mut out =
        String::with_capacity(stored.len() + columns.iter().map(|c| c.1.len() + 1).sum::<usize>());
    out.push('{');
    out.push_str(&pieces.join(","));
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::encode;
    use crate::{Entry, PurgeRecord, testing};
    use proptest::prelude::*;

    fn round_trip(entry: &Entry) -> (String, String) {
        let e = encode(std::slice::from_ref(entry)).unwrap().remove(0);
        let stored = strip(
            &e.body,
            e.index.kind.as_str(),
            e.index.trace_id.as_deref(),
            e.index.subject.as_deref(),
        );
        let back = restore(
            &stored,
            e.index.kind.as_str(),
            e.index.trace_id.as_deref(),
            e.index.subject.as_deref(),
        );
        assert_eq!(back, e.body);
        (e.body, stored)
    }

    #[test]
    fn the_columns_are_not_stored_twice() {
        let entries = testing::request(7, 2);
        let (body, stored) = round_trip(&entries[0]);
        assert!(body.contains("\"trace_id\"") && body.contains("\"kind\":\"access\""));
        assert!(
            !stored.contains("\"trace_id\"") && !stored.contains("\"kind\""),
            "{stored}"
        );
        assert!(stored.starts_with("{\"D\":"), "{stored}");
        assert!(!stored.contains("\"span_id\""), "short keys: {stored}");
        let (body, stored) = round_trip(&entries[1]);
        assert!(body.contains("\"data_subject_id\""));
        assert!(
            !stored.contains("\"data_subject_id\"") && !stored.contains("hmac-v1:"),
            "{stored}"
        );
        // Other kinds are stored as they are.
        let purge = Entry::Purge(PurgeRecord {
            time_ms: 5,
            removed: vec![("VA-12".into(), 3)],
            removed_access: 2,
            up_to_seq: 9,
            anchor_hash: "ab".repeat(32),
        });
        let (body, stored) = round_trip(&purge);
        assert_eq!(body, stored);
    }

    #[test]
    fn a_body_stored_whole_or_not_an_object_is_left_alone() {
        let e = encode(&testing::request(1, 0)).unwrap().remove(0);
        let t = e.index.trace_id.as_deref();
        assert_eq!(restore(&e.body, "access", t, None), e.body);
        // What is not a JSON object is stored and read back as it is.
        for odd in [
            "",
            "[]",
            "{",
            "{\"a\":1",
            "not json",
            "{\"a\":\"\\\"}",
            "{\"a\":1}x",
        ] {
            assert_eq!(restore(odd, "access", t, None), odd);
            assert_eq!(strip(odd, "access", t, None), odd);
        }
        assert_eq!(
            restore("{}", "access", Some("t"), None),
            "{\"kind\":\"access\",\"trace_id\":\"t\"}"
        );
        // A column that does not match the body's member leaves the member in the body.
        assert!(strip(&e.body, "access", Some("something else"), None).contains("\"trace_id\""));
    }

    /// A body stripped before short keys existed reads back as it did; a body with a one-capital
    /// key of its own keeps every key as it is.
    #[test]
    fn long_keys_and_capital_keys_are_left_as_they_are() {
        let e = encode(&testing::request(3, 0)).unwrap().remove(0);
        let t = e.index.trace_id.as_deref();
        let long_form = e
            .body
            .replace(&format!(",\"trace_id\":\"{}\"", t.unwrap()), "")
            .replace("\"kind\":\"access\",", "");
        assert!(long_form.contains("\"span_id\""), "{long_form}");
        assert_eq!(restore(&long_form, "access", t, None), e.body);
        let odd = "{\"A\":1,\"kind\":\"access\",\"path\":\"/x\",\"time_ms\":5}";
        let stored = strip(odd, "access", None, None);
        assert_eq!(stored, "{\"\\u0041\":1,\"path\":\"/x\",\"time_ms\":5}");
        assert_eq!(restore(&stored, "access", None, None), odd);
    }

    fn text() -> impl Strategy<Value = String> {
        "(?s).{0,24}"
    }

    proptest! {
        /// Any canonical object of a record's kind, whatever its other keys (long and short ones, capitals, the column
        /// members, others) and values: restoring a stripped body gives back the body.
        #[test]
        fn strip_then_restore_is_the_identity_for_any_canonical_object(
            members in proptest::collection::btree_map(
                prop_oneof![
                    Just("A".to_owned()), Just("H".to_owned()), Just("Z".to_owned()),
                    Just("kind".to_owned()), Just("trace_id".to_owned()),
                    Just("data_subject_id".to_owned()), Just("shape".to_owned()),
                    Just("span_id".to_owned()), Just("time_ms".to_owned()), Just("user".to_owned()),
                    Just("\\u0041".to_owned()), "[a-zA-Z_]{1,3}",
                ],
                prop_oneof![Just(serde_json::json!("access")), Just(serde_json::json!("t")),
                    Just(serde_json::json!(1)), text().prop_map(serde_json::Value::String)],
                0..8,
            ),
            processing in any::<bool>(),
        ) {
            let kind = if processing { "processing" } else { "access" };
            // Every record's body names its kind (and restoring puts it back).
            let mut members = members;
            members.insert("kind".to_owned(), serde_json::json!(kind));
            let body = serde_json::to_string(&members).unwrap();
            let column = |k: &str| members.get(k).and_then(|v| v.as_str());
            let (trace, subject) = (column("trace_id"), column("data_subject_id"));
            let stored = strip(&body, kind, trace, subject);
            prop_assert_eq!(restore(&stored, kind, trace, subject), body);
        }

        /// Whatever the records hold (quotes, brackets, backslashes and control characters in
        /// any member, optional members set or not), restoring a stripped body gives back the
        /// body the chain hashes.
        #[test]
        fn strip_then_restore_is_the_identity(
            i in 0u64..1000,
            user in proptest::option::of(text()),
            path in text(),
            reasons in proptest::collection::vec(text(), 0..4),
            subject in proptest::option::of(text()),
            trace in text(),
            case_ref in proptest::option::of(text()),
        ) {
            let mut a = testing::access(i);
            a.user = user.clone();
            a.path = path;
            a.reasons = reasons;
            a.trace_id = trace.clone();
            let mut p = testing::processing(i, 1);
            p.data_subject_id = subject;
            p.trace_id = trace;
            p.case_ref = case_ref;
            round_trip(&Entry::Access(a));
            round_trip(&Entry::Processing(p));
        }
    }
}
