//! A JSON document that borrows from the text it was read from: the form the BRP answer is
//! filtered in.
//!
//! `serde_json::Value` allocates every key and string and hashes every key into an index map;
//! an answer is read once, changed in a few places and written out again, so [`Node`] keeps
//! keys and strings as slices of the upstream's text where they need no unescaping, and an
//! object as its members in order. Reading is serde_json's parser (it checks every byte,
//! nesting is bounded at 128 levels), and writing is serde_json's writer through
//! [`Serialize`], so the text written is what a `Value` of the same document writes.
//!
//! A key repeated in one object keeps its first position and its last value, as `Value` does.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Number;

/// One JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Object<'a>),
}

/// An object's members, in the order they were read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object<'a> {
    members: Vec<(Cow<'a, str>, Node<'a>)>,
}

/// Above this many members, an object being read finds repeated keys through a hash map
/// instead of a scan.
const SCAN_LIMIT: usize = 32;

impl<'a> Node<'a> {
    /// Reads a document; the error is serde_json's.
    pub fn parse(text: &'a [u8]) -> Result<Node<'a>, serde_json::Error> {
        // Checked as UTF-8 once, the strings need no check each (serde_json's `from_slice`
        // checks every string it reads on its own). Text that is not UTF-8 is read as bytes,
        // for serde_json's error with its line and column.
        match std::str::from_utf8(text) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(text),
        }
    }

    /// The document's text, as serde_json writes it.
    pub fn to_vec(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut out = Vec::with_capacity(1024);
        serde_json::to_writer(&mut out, self)?;
        Ok(out)
    }

    /// The member `key` of an object; `None` for anything else.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.as_object()?.get(key)
    }

    pub fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Node::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Object<'a>> {
        match self {
            Node::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Node<'a>>> {
        match self {
            Node::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Node::Object(_))
    }

    pub fn is_array(&self) -> bool {
        matches!(self, Node::Array(_))
    }
}

impl<'a> Object<'a> {
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.members.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node<'a>> {
        self.members
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Removes `key`, keeping the order of the other members.
    pub fn remove(&mut self, key: &str) -> Option<Node<'a>> {
        let i = self.members.iter().position(|(k, _)| k == key)?;
        Some(self.members.remove(i).1)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|(k, _)| k.as_ref())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node<'a>)> {
        self.members.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The members with their names as read (borrowed from the text unless they had escapes).
    pub fn entries(&self) -> impl Iterator<Item = (&Cow<'a, str>, &Node<'a>)> {
        self.members.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Node<'a>)> {
        self.members.iter_mut().map(|(k, v)| (&**k, v))
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Node<'a>> {
        self.members.iter_mut().map(|(_, v)| v)
    }
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Number(n) => n.serialize(s),
            Node::String(t) => s.serialize_str(t),
            Node::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Object(o) => o.serialize(s),
        }
    }
}

impl Serialize for Object<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.members.len()))?;
        for (k, v) in &self.members {
            map.serialize_entry(k.as_ref(), v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node<'de>, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(n.into()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Node<'de>, E> {
        // JSON text has no infinities or NaN; `Value` maps them to null as well.
        Ok(Number::from_f64(n).map_or(Node::Null, Node::Number))
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Borrowed(s)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let mut members: Vec<(Cow<'de, str>, Node<'de>)> = Vec::new();
        // Built only for an object with more than SCAN_LIMIT members.
        let mut index: Option<HashMap<String, usize>> = None;
        while let Some(Key(k)) = map.next_key()? {
            let v: Node<'de> = map.next_value()?;
            let at = match &index {
                Some(ix) => ix.get(k.as_ref()).copied(),
                None => members.iter().position(|(m, _)| *m == k),
            };
            match at.and_then(|i| members.get_mut(i)) {
                Some(slot) => slot.1 = v,
                None => {
                    if let Some(ix) = &mut index {
                        ix.insert(k.to_string(), members.len());
                    }
                    members.push((k, v));
                    if index.is_none() && members.len() > SCAN_LIMIT {
                        index = Some(
                            members
                                .iter()
                                .enumerate()
                                .map(|(i, (m, _))| (m.to_string(), i))
                                .collect(),
                        );
                    }
                }
            }
        }
        Ok(Node::Object(Object { members }))
    }
}

/// A key, borrowed from the text unless it had escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(s)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(s)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::*;

    #[test]
    fn writes_what_a_value_of_the_same_text_writes() {
        let text =
            br#"{"b":1,"a":[true,null,-2,1.5,"x\"y\u00e9"],"c":{"d":{}},"e\n":"\ud83d\ude00"}"#;
        let node = Node::parse(text).unwrap();
        let value: serde_json::Value = serde_json::from_slice(text).unwrap();
        assert_eq!(node.to_vec().unwrap(), serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_last_value() {
        let node = Node::parse(br#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(node.to_vec().unwrap(), br#"{"a":3,"b":2}"#);
        let many: String = (0..40).map(|i| format!("\"k{i}\":{i},")).collect();
        let text = format!("{{{many}\"k3\":\"last\",\"k39\":0}}");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            Node::parse(text.as_bytes()).unwrap().to_vec().unwrap(),
            serde_json::to_vec(&value).unwrap()
        );
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let node = Node::parse(br#"{"naam":"Jan","x\u0041":"a\nb"}"#).unwrap();
        let o = node.as_object().unwrap();
        let members: Vec<_> = o.members.iter().collect();
        assert!(matches!(members[0].0, Cow::Borrowed("naam")));
        assert!(matches!(members[0].1, Node::String(Cow::Borrowed("Jan"))));
        assert!(matches!(members[1].0, Cow::Owned(_)));
    }

    #[test]
    fn invalid_text_is_refused() {
        for bad in [&b"{"[..], b"[1,]", b"{\"a\" 1}", b"\"\xff\"", b"01"] {
            assert!(
                Node::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(Node::parse(deep.as_bytes()).is_err(), "nesting is bounded");
    }

    #[test]
    fn remove_keeps_the_order() {
        let mut node = Node::parse(br#"{"a":1,"b":2,"c":3}"#).unwrap();
        let o = node.as_object_mut().unwrap();
        assert_eq!(o.remove("a"), Some(Node::Number(1.into())));
        assert_eq!(o.remove("a"), None);
        assert_eq!(node.to_vec().unwrap(), br#"{"b":2,"c":3}"#);
    }
}
