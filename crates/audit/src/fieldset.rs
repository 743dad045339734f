//! Field sets and shapes: what repeats from record to record, stored once and referenced by
//! content hash.
//!
//! A BRP lookup delivers the same 80 field paths to every person of every lookup of the same kind;
//! spelled out in each processing record they are most of the log. So when an entry is encoded,
//! each non-trivial `fields_requested` / `fields_delivered` list is replaced in the stored body by
//! a reference `fs1:<32 hex digits>` — the first 128 bits of the SHA-256 of the list's canonical
//! JSON — and the list itself is stored once, under that id, in the store's `field_sets` table.
//!
//! The chain hashes the body with the reference, and the reference is the hash of the list, so the
//! list is as tamper-evident as the entry: a changed list no longer hashes to the id its entries
//! name, and verification reports the entries that reference it. Reading an entry back resolves
//! its references, so every reader (overview, query, export) sees the full lists. Field sets
//! hold field paths only, never personal data; they are kept when the entries that used them are
//! purged.
//!
//! A **shape** does the same for the members of an access or processing record that stay the
//! same from request to request of one kind — the API, operation, client, scopes, decision and
//! reasons of an access record; the activity, name, role and field lists of a processing record
//! ([`SHAPED_ACCESS`], [`SHAPED_PROCESSING`]): they are written, as one canonical JSON object,
//! under `sh1:<32 hex digits>` in the same table, and the stored body carries `"shape":"sh1:…"`
//! and only the members that vary (times, trace and span ids, path, user, data subject). A shape
//! names no person: never a user, a token subject, a data subject, a path or a time. Members that
//! are `null` or `[]` are left out of the stored body and read back as absent, which the records
//! decode as `None` and empty.

use std::collections::HashMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::AuditError;
use crate::chain::push_hex;

/// The prefix of a field set reference.
pub const FIELD_SET_PREFIX: &str = "fs1:";

/// The prefix of a shape reference.
pub const SHAPE_PREFIX: &str = "sh1:";

/// The member of a stored body that names its shape.
pub const SHAPE_MEMBER: &str = "shape";

/// The members of an access record that go into its shape: what one kind of request by one
/// client repeats. Never a user, subject, path, time or id.
pub const SHAPED_ACCESS: [&str; 21] = [
    "api",
    "application",
    "client_id",
    "code",
    "decision",
    "denied_params",
    "field_levels",
    "flags",
    "issuer",
    "method",
    "operation",
    "params",
    "policy_version",
    "processing_activity",
    "purpose",
    "reasons",
    "scopes",
    "scopes_dropped",
    "status",
    "upstream_status",
    "user_source",
];

/// The members of a processing record that go into its shape.
pub const SHAPED_PROCESSING: [&str; 13] = [
    "client_app_id",
    "data_subject_id_type",
    "fields_delivered",
    "fields_requested",
    "foreign_processor",
    "http_status",
    "name",
    "processing_activity_id",
    "resource",
    "search_params",
    "status",
    "subject_role",
    "upstream_error_code",
];

/// The shaped members of a record of `kind` (`"access"`, `"processing"`; none for the others).
pub fn shaped_members(kind: &str) -> &'static [&'static str] {
    match kind {
        "access" => &SHAPED_ACCESS,
        "processing" => &SHAPED_PROCESSING,
        _ => &[],
    }
}

/// The members of a processing record whose lists are interned.
pub const INTERNED_MEMBERS: [&str; 2] = ["fields_requested", "fields_delivered"];

/// Lists shorter than this (in canonical JSON) stay inline: a reference would not be shorter.
pub(crate) const MIN_INTERNED_LEN: usize = 48;

/// A list of field paths as stored: its id and its canonical JSON array.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldSet {
    pub id: String,
    pub paths: String,
}

/// The id of a canonical JSON array.
pub fn field_set_id(canonical_array: &str) -> String {
    content_id(FIELD_SET_PREFIX, canonical_array)
}

/// The id of a shape's canonical JSON object.
pub fn shape_id(canonical_object: &str) -> String {
    content_id(SHAPE_PREFIX, canonical_object)
}

fn content_id(prefix: &str, canonical: &str) -> String {
    RECENT_IDS.with_borrow_mut(|recent| recent.id(prefix, canonical))
}

/// The id of `canonical` under `prefix`, computed.
fn digest_id(prefix: &str, canonical: &str) -> String {
    let digest = Sha256::digest(canonical.as_bytes());
    let mut id = String::with_capacity(prefix.len() + 32);
    id.push_str(prefix);
    push_hex(digest.get(..16).unwrap_or_default(), &mut id);
    id
}

/// Bytes of content [`RecentIds`] holds per thread before it starts over.
const RECENT_IDS_BYTES: usize = 256 * 1024;

thread_local! {
    static RECENT_IDS: std::cell::RefCell<RecentIds> = std::cell::RefCell::default();
}

/// The ids computed lately on this thread, by prefix and content. Requests of one kind repeat
/// their field lists and shapes (a BRP lookup's four processing records spell out about 10 KB of
/// them), and finding one here (a fast hash and a comparison) is cheaper than SHA-256 over it.
/// Bounded by [`RECENT_IDS_BYTES`]: past it, the map starts over.
#[derive(Debug)]
struct RecentIds {
    /// One map per prefix, from the content to its id.
    by_prefix: [(&'static str, Ids); 2],
    bytes: usize,
}

type Ids = HashMap<Box<str>, String, foldhash::fast::RandomState>;

impl Default for RecentIds {
    fn default() -> Self {
        RecentIds {
            by_prefix: [
                (FIELD_SET_PREFIX, Ids::default()),
                (SHAPE_PREFIX, Ids::default()),
            ],
            bytes: 0,
        }
    }
}

impl RecentIds {
    fn id(&mut self, prefix: &str, canonical: &str) -> String {
        let Some(at) = self.by_prefix.iter().position(|(p, _)| *p == prefix) else {
            return digest_id(prefix, canonical);
        };
        if let Some(id) = self
            .by_prefix
            .get(at)
            .and_then(|(_, ids)| ids.get(canonical))
        {
            return id.clone();
        }
        let id = digest_id(prefix, canonical);
        let size = canonical.len() + id.len();
        if size <= RECENT_IDS_BYTES / 8 {
            if self.bytes + size > RECENT_IDS_BYTES {
                for (_, ids) in &mut self.by_prefix {
                    ids.clear();
                }
                self.bytes = 0;
            }
            if let Some((_, ids)) = self.by_prefix.get_mut(at) {
                ids.insert(canonical.into(), id.clone());
                self.bytes += size;
            }
        }
        id
    }

    /// How many ids are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_prefix.iter().map(|(_, ids)| ids.len()).sum()
    }
}

/// Adds a field set or shape to the ones an encoding references, once per id.
#[cfg(test)]
fn add_set(sets: &mut Vec<FieldSet>, id: String, paths: String) {
    if !sets.iter().any(|s| s.id == id) {
        sets.push(FieldSet { id, paths });
    }
}

/// The id `content` is stored under, by the prefix of `id` (a field set or a shape).
fn id_of_content(id: &str, content: &str) -> String {
    if id.starts_with(SHAPE_PREFIX) {
        shape_id(content)
    } else {
        field_set_id(content)
    }
}

/// Replaces the interned members of an encoded processing record (`value`, the serde form of
/// the entry) by references, pushing each new field set to `sets`.
#[cfg(test)]
pub(crate) fn intern(value: &mut Value, sets: &mut Vec<FieldSet>) {
    let Value::Object(map) = value else { return };
    let kind = map
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let shaped = shaped_members(&kind);
    if shaped.is_empty() {
        return;
    }
    map.retain(|_, v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()));
    for member in INTERNED_MEMBERS
        .into_iter()
        .filter(|_| kind == "processing")
    {
        let Some(v @ Value::Array(_)) = map.get_mut(member) else {
            continue;
        };
        let paths = crate::chain::canonical_json(v);
        if paths.len() < MIN_INTERNED_LEN {
            continue;
        }
        let id = field_set_id(&paths);
        *v = Value::String(id.clone());
        add_set(sets, id, paths);
    }
    let mut shape = serde_json::Map::new();
    for member in shaped {
        if let Some(v) = map.remove(*member) {
            shape.insert((*member).to_owned(), v);
        }
    }
    let paths = crate::chain::canonical_json(&Value::Object(shape));
    let id = shape_id(&paths);
    map.insert(SHAPE_MEMBER.to_owned(), Value::String(id.clone()));
    add_set(sets, id, paths);
}

/// Where references are resolved: the store's `field_sets` table.
pub trait FieldSetSource {
    /// The canonical JSON array stored under `id`, if any.
    fn field_set(&mut self, id: &str) -> Result<Option<String>, AuditError>;
}

/// A source with no field sets (bodies without references decode as before).
#[derive(Debug, Default)]
pub struct NoFieldSets;

impl FieldSetSource for NoFieldSets {
    fn field_set(&mut self, _id: &str) -> Result<Option<String>, AuditError> {
        Ok(None)
    }
}

/// Field sets held in memory (the memory store; a cache in front of a table).
#[derive(Debug, Default, Clone)]
pub struct FieldSetMap(pub HashMap<String, String>);

impl FieldSetSource for FieldSetMap {
    fn field_set(&mut self, id: &str) -> Result<Option<String>, AuditError> {
        Ok(self.0.get(id).cloned())
    }
}

/// Why a reference could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// No field set or shape is stored under the id.
    Missing(String),
    /// The stored content does not hash to its id (it was altered), or is not a list (a field
    /// set) or an object (a shape).
    Altered(String),
    /// A shape names a member the body holds itself.
    Conflict(String),
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = |id: &str| {
            if id.starts_with(SHAPE_PREFIX) {
                "shape"
            } else {
                "field set"
            }
        };
        match self {
            Unresolved::Missing(id) => write!(f, "{} {id} is missing", what(id)),
            Unresolved::Altered(id) => {
                write!(f, "{} {id} does not match its content", what(id))
            }
            Unresolved::Conflict(id) => {
                write!(f, "shape {id} names a member the entry holds itself")
            }
        }
    }
}

/// Whether a stored body holds references at all (a cheap test before parsing).
pub fn has_references(body: &str) -> bool {
    body.contains("\"fs1:") || body.contains("\"sh1:")
}

/// The content stored under `id`, checked against it and parsed.
fn fetch(id: &str, sets: &mut dyn FieldSetSource) -> Result<Result<Value, Unresolved>, AuditError> {
    let Some(content) = sets.field_set(id)? else {
        return Ok(Err(Unresolved::Missing(id.to_owned())));
    };
    if id_of_content(id, &content) != id {
        return Ok(Err(Unresolved::Altered(id.to_owned())));
    }
    Ok(serde_json::from_str::<Value>(&content).map_err(|_| Unresolved::Altered(id.to_owned())))
}

/// Replaces the references in `value` (a parsed body) by the lists they name, checking each list
/// against its id. `Ok(Err(..))` names the first reference that cannot be resolved.
pub fn resolve(
    value: &mut Value,
    sets: &mut dyn FieldSetSource,
) -> Result<Result<(), Unresolved>, AuditError> {
    let Value::Object(map) = value else {
        return Ok(Ok(()));
    };
    let shape = map
        .get(SHAPE_MEMBER)
        .and_then(Value::as_str)
        .filter(|s| s.starts_with(SHAPE_PREFIX))
        .map(str::to_owned);
    if let Some(id) = shape {
        let members = match fetch(&id, sets)? {
            Ok(Value::Object(members)) => members,
            Ok(_) => return Ok(Err(Unresolved::Altered(id))),
            Err(u) => return Ok(Err(u)),
        };
        map.remove(SHAPE_MEMBER);
        for (k, v) in members {
            if map.contains_key(&k) {
                return Ok(Err(Unresolved::Conflict(id)));
            }
            map.insert(k, v);
        }
    }
    for member in INTERNED_MEMBERS {
        let Some(v) = map.get_mut(member) else {
            continue;
        };
        let Some(id) = v.as_str().filter(|s| s.starts_with(FIELD_SET_PREFIX)) else {
            continue;
        };
        let id = id.to_owned();
        match fetch(&id, sets)? {
            Ok(list @ Value::Array(_)) => *v = list,
            Ok(_) => return Ok(Err(Unresolved::Altered(id))),
            Err(u) => return Ok(Err(u)),
        }
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map_of(sets: &[FieldSet]) -> FieldSetMap {
        FieldSetMap(
            sets.iter()
                .map(|s| (s.id.clone(), s.paths.clone()))
                .collect(),
        )
    }

    #[test]
    fn remembered_ids_are_the_computed_ones() {
        let list = r#"["naam.voornamen","naam.geslachtsnaam","geboorte.datum.datum"]"#;
        let object = r#"{"kind":"processing","name":"x"}"#;
        for _ in 0..3 {
            assert_eq!(field_set_id(list), digest_id(FIELD_SET_PREFIX, list));
            assert_eq!(shape_id(list), digest_id(SHAPE_PREFIX, list));
            assert_eq!(shape_id(object), digest_id(SHAPE_PREFIX, object));
        }
        assert_ne!(
            field_set_id(list),
            shape_id(list),
            "the prefix is part of the key"
        );
    }

    #[test]
    fn the_remembered_ids_stay_within_their_bound() {
        let mut recent = RecentIds::default();
        let contents: Vec<String> = (0..2_000)
            .map(|i| format!("[\"{}\"]", "x".repeat(100 + i % 900)))
            .collect();
        for c in contents.iter().chain(&contents) {
            assert_eq!(
                recent.id(FIELD_SET_PREFIX, c),
                digest_id(FIELD_SET_PREFIX, c)
            );
            assert!(recent.bytes <= RECENT_IDS_BYTES, "{}", recent.bytes);
        }
        // Content larger than an eighth of the bound is never kept.
        let huge = "y".repeat(RECENT_IDS_BYTES);
        let before = recent.len();
        assert_eq!(
            recent.id(SHAPE_PREFIX, &huge),
            digest_id(SHAPE_PREFIX, &huge)
        );
        assert_eq!(recent.len(), before);
    }

    #[test]
    fn repeated_members_become_references_and_resolve_back() {
        let original = json!({
            "kind": "processing",
            "trace_id": "t1",
            "name": "BRP raadplegen",
            "case_ref": null,
            "flags": [],
            "fields_requested": ["naam"],
            "fields_delivered": ["naam.voornamen", "naam.geslachtsnaam", "geboorte.datum.datum", "leeftijd"],
        });
        let mut v = original.clone();
        let mut sets = Vec::new();
        intern(&mut v, &mut sets);
        // What varies stays in the body; the rest is one shape, the long list a field set in
        // it; null and empty members are gone.
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["kind", "trace_id", "shape"]);
        let shape = v["shape"].as_str().unwrap().to_owned();
        assert!(
            shape.starts_with(SHAPE_PREFIX) && shape.len() == 36,
            "{shape}"
        );
        assert_eq!(sets.len(), 2);
        let set = &sets[0];
        assert!(set.id.starts_with(FIELD_SET_PREFIX), "{set:?}");
        assert_eq!(sets[1].id, shape);
        let content: Value = serde_json::from_str(&sets[1].paths).unwrap();
        assert_eq!(content["fields_requested"], json!(["naam"]));
        assert_eq!(content["fields_delivered"], json!(set.id));
        assert!(has_references(&crate::chain::canonical_json(&v)));
        resolve(&mut v, &mut map_of(&sets)).unwrap().unwrap();
        let mut expected = original.clone();
        let map = expected.as_object_mut().unwrap();
        map.remove("case_ref");
        map.remove("flags");
        assert_eq!(
            crate::chain::canonical_json(&v),
            crate::chain::canonical_json(&expected)
        );
        // The same record interns to the same ids; an access record's own members stay.
        let mut again = original.clone();
        let mut more = Vec::new();
        intern(&mut again, &mut more);
        assert_eq!(again["shape"], json!(shape));
        let mut access = json!({"kind": "access", "user": "u", "fields_delivered": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]});
        intern(&mut access, &mut more);
        assert!(access["fields_delivered"].is_array());
        assert_eq!(access["user"], json!("u"));
    }

    #[test]
    fn a_missing_altered_or_conflicting_reference_is_named() {
        let mut v = json!({"kind": "processing", "trace_id": "t", "fields_delivered": ["naam.voornamen", "naam.geslachtsnaam", "leeftijd", "geslacht"]});
        let mut sets = Vec::new();
        intern(&mut v, &mut sets);
        let (list, shape) = (sets[0].id.clone(), sets[1].id.clone());
        let r = resolve(&mut v.clone(), &mut NoFieldSets).unwrap();
        assert_eq!(r, Err(Unresolved::Missing(shape.clone())));
        let mut altered = map_of(&sets);
        altered
            .0
            .insert(list.clone(), r#"["naam.voornamen","leeftijd"]"#.to_owned());
        let r = resolve(&mut v.clone(), &mut altered).unwrap();
        assert_eq!(r, Err(Unresolved::Altered(list)));
        let mut altered = map_of(&sets);
        altered
            .0
            .insert(shape.clone(), r#"{"name":"iets anders"}"#.to_owned());
        let r = resolve(&mut v.clone(), &mut altered).unwrap();
        assert_eq!(r, Err(Unresolved::Altered(shape.clone())));
        assert!(r.unwrap_err().to_string().starts_with("shape sh1:"));
        // A body that carries a shaped member itself does not decode silently.
        let mut both = v.clone();
        both["fields_delivered"] = json!(["naam"]);
        let r = resolve(&mut both, &mut map_of(&sets)).unwrap();
        assert_eq!(r, Err(Unresolved::Conflict(shape)));
    }
}
