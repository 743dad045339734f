//! Field sets: the field lists of processing records, stored once and referenced by content hash.
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

use std::collections::HashMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::AuditError;
use crate::chain::to_hex;

/// The prefix of a field set reference.
pub const FIELD_SET_PREFIX: &str = "fs1:";

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
    let digest = Sha256::digest(canonical_array.as_bytes());
    let mut id = String::with_capacity(FIELD_SET_PREFIX.len() + 32);
    id.push_str(FIELD_SET_PREFIX);
    id.push_str(&to_hex(digest.get(..16).unwrap_or_default()));
    id
}

/// Replaces the interned members of an encoded processing record (`value`, the serde form of
/// the entry) by references, pushing each new field set to `sets`.
#[cfg(test)]
pub(crate) fn intern(value: &mut Value, sets: &mut Vec<FieldSet>) {
    let Value::Object(map) = value else { return };
    if map.get("kind").and_then(Value::as_str) != Some("processing") {
        return;
    }
    for member in INTERNED_MEMBERS {
        let Some(v @ Value::Array(_)) = map.get_mut(member) else {
            continue;
        };
        let paths = crate::chain::canonical_json(v);
        if paths.len() < MIN_INTERNED_LEN {
            continue;
        }
        let id = field_set_id(&paths);
        *v = Value::String(id.clone());
        if !sets.iter().any(|s| s.id == id) {
            sets.push(FieldSet { id, paths });
        }
    }
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
    /// No field set is stored under the id.
    Missing(String),
    /// The stored list does not hash to its id (it was altered), or is not a list.
    Altered(String),
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unresolved::Missing(id) => write!(f, "field set {id} is missing"),
            Unresolved::Altered(id) => write!(f, "field set {id} does not match its content"),
        }
    }
}

/// Whether a stored body holds references at all (a cheap test before parsing).
pub fn has_references(body: &str) -> bool {
    body.contains("\"fs1:")
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
    for member in INTERNED_MEMBERS {
        let Some(v) = map.get_mut(member) else {
            continue;
        };
        let Some(id) = v.as_str().filter(|s| s.starts_with(FIELD_SET_PREFIX)) else {
            continue;
        };
        let id = id.to_owned();
        let Some(paths) = sets.field_set(&id)? else {
            return Ok(Err(Unresolved::Missing(id)));
        };
        if field_set_id(&paths) != id {
            return Ok(Err(Unresolved::Altered(id)));
        }
        match serde_json::from_str::<Value>(&paths) {
            Ok(list @ Value::Array(_)) => *v = list,
            _ => return Ok(Err(Unresolved::Altered(id))),
        }
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_lists_become_references_and_resolve_back() {
        let original = json!({
            "kind": "processing",
            "fields_requested": ["naam"],
            "fields_delivered": ["naam.voornamen", "naam.geslachtsnaam", "geboorte.datum.datum", "leeftijd"],
        });
        let mut v = original.clone();
        let mut sets = Vec::new();
        intern(&mut v, &mut sets);
        // The short list stays inline, the long one is a reference.
        assert_eq!(v["fields_requested"], json!(["naam"]));
        let id = v["fields_delivered"].as_str().unwrap().to_owned();
        assert!(id.starts_with(FIELD_SET_PREFIX) && id.len() == 36, "{id}");
        assert_eq!(sets.len(), 1);
        assert!(has_references(&crate::chain::canonical_json(&v)));
        let mut map = FieldSetMap(
            sets.iter()
                .map(|s| (s.id.clone(), s.paths.clone()))
                .collect(),
        );
        resolve(&mut v, &mut map).unwrap().unwrap();
        assert_eq!(v, original);
        // The same list interns to the same id; an access record is never touched.
        let mut again = original.clone();
        let mut more = Vec::new();
        intern(&mut again, &mut more);
        assert_eq!(again["fields_delivered"], json!(id));
        let mut access = json!({"kind": "access", "fields_delivered": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]});
        intern(&mut access, &mut more);
        assert!(access["fields_delivered"].is_array());
    }

    #[test]
    fn a_missing_or_altered_list_is_named() {
        let mut v = json!({"kind": "processing", "fields_delivered": ["naam.voornamen", "naam.geslachtsnaam", "leeftijd", "geslacht"]});
        let mut sets = Vec::new();
        intern(&mut v, &mut sets);
        let id = sets[0].id.clone();
        let r = resolve(&mut v.clone(), &mut NoFieldSets).unwrap();
        assert_eq!(r, Err(Unresolved::Missing(id.clone())));
        let mut altered = FieldSetMap(HashMap::from([(
            id.clone(),
            r#"["naam.voornamen","leeftijd"]"#.to_owned(),
        )]));
        let r = resolve(&mut v, &mut altered).unwrap();
        assert_eq!(r, Err(Unresolved::Altered(id)));
    }
}
