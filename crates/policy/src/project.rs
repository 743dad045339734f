//! Projecting records through a compiled plan: hidden fields are removed, the others rendered at
//! their level (`read` as is, `letters:N`, `encoded`, `random`).
//!
//! `encoded` is HMAC-SHA256 under a deployment key, domain-separated by `dataset.table.field`,
//! truncated to 128 bits and written as 32 hex digits: equal values in the same field stay
//! linkable, values are not readable, and the same value in another field gives another code.
//! `random` is HMAC-SHA256 under a per-response seed over a counter: 32 hex digits, unlinkable
//! across responses as long as the caller supplies a fresh seed for each.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::Level;
use crate::engine::{FieldPlan, TablePlan};
use crate::error::PolicyError;
use crate::model::Shape;

type HmacSha256 = Hmac<Sha256>;

/// The deployment key for `encoded` values. Never printed.
#[derive(Clone)]
pub struct EncodingKey(Vec<u8>);

impl std::fmt::Debug for EncodingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncodingKey(..)")
    }
}

impl EncodingKey {
    /// A key of at least 32 bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, PolicyError> {
        let bytes = bytes.into();
        if bytes.len() < 32 {
            return Err(PolicyError::WeakKey);
        }
        Ok(EncodingKey(bytes))
    }
}

/// Renders values for one response. Make one per response with a fresh `random_seed`.
pub struct Projector<'k> {
    _key: std::marker::PhantomData<&'k EncodingKey>,
    /// HMAC state keyed once per response; cloned per value instead of re-deriving the key.
    encoder: Option<HmacSha256>,
    random: Option<HmacSha256>,
    counter: u64,
}

impl std::fmt::Debug for Projector<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projector")
            .field("counter", &self.counter)
            .finish_non_exhaustive()
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex16(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(32);
    for b in bytes.iter().take(16) {
        for nibble in [b >> 4, b & 0xf] {
            s.extend(HEX.get(usize::from(nibble)).map(|c| char::from(*c)));
        }
    }
    s
}

/// The text a representation works on: strings as they are, other values as JSON text.
fn rendered(v: &Value) -> std::borrow::Cow<'_, str> {
    match v {
        Value::String(s) => std::borrow::Cow::Borrowed(s),
        other => std::borrow::Cow::Owned(other.to_string()),
    }
}

fn all_read(fields: &[FieldPlan]) -> bool {
    fields
        .iter()
        .all(|c| c.level == Level::Read && all_read(&c.children))
}

impl<'k> Projector<'k> {
    pub fn new(key: &'k EncodingKey, random_seed: [u8; 32]) -> Self {
        // HMAC accepts keys of any length, so these never fail.
        let encoder = HmacSha256::new_from_slice(&key.0).ok();
        let random = HmacSha256::new_from_slice(&random_seed).ok();
        Projector {
            _key: std::marker::PhantomData,
            encoder,
            random,
            counter: 0,
        }
    }

    /// The `encoded` form of a value in a field (domain `dataset.table.path`).
    pub fn encode(&self, domain: &str, v: &Value) -> String {
        let Some(mut mac) = self.encoder.clone() else {
            return String::new();
        };
        mac.update(b"sluis/encoded/v1\0");
        mac.update(domain.as_bytes());
        mac.update(b"\0");
        mac.update(rendered(v).as_bytes());
        hex16(&mac.finalize().into_bytes())
    }

    /// A fresh `random` value (32 hex digits, unlinkable across responses), for callers that
    /// render fields outside a table plan (the ZGW rules).
    pub fn random_value(&mut self) -> String {
        self.random()
    }

    fn random(&mut self) -> String {
        self.counter += 1;
        let Some(mut mac) = self.random.clone() else {
            return String::new();
        };
        mac.update(&self.counter.to_be_bytes());
        hex16(&mac.finalize().into_bytes())
    }

    fn transform(&mut self, level: Level, domain: &str, v: &mut Value) {
        match v {
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    self.transform(level, domain, item);
                }
            }
            _ => match level {
                Level::Read | Level::None | Level::SubobjectsOnly => {}
                Level::Letters(n) => {
                    let s: String = rendered(v).chars().take(n as usize).collect();
                    *v = Value::String(s);
                }
                Level::Encoded => *v = Value::String(self.encode(domain, v)),
                Level::Random => *v = Value::String(self.random()),
            },
        }
    }

    /// Projects one record in place. Keys the plan does not deliver are removed, including keys
    /// the schema does not know. A record of a table the caller may not read becomes empty.
    pub fn project(&mut self, plan: &TablePlan, record: &mut Map<String, Value>) {
        if !plan.access {
            record.clear();
            return;
        }
        self.project_fields(&plan.fields, &plan.index, record);
    }

    fn project_fields(
        &mut self,
        fields: &[FieldPlan],
        index: &std::collections::HashMap<std::sync::Arc<str>, usize>,
        record: &mut Map<String, Value>,
    ) {
        record.retain(|k, v| {
            let Some(f) = index.get(k.as_str()).and_then(|i| fields.get(*i)) else {
                return false;
            };
            if !f.level.is_visible() {
                return false;
            }
            self.project_value(f, v);
            true
        });
    }

    /// Projects the value of one field in place, as [`Projector::project`] does for each field
    /// of a record: sub-fields filtered, leaves rendered at their level.
    pub fn project_field(&mut self, f: &FieldPlan, v: &mut Value) {
        self.project_value(f, v);
    }

    fn project_value(&mut self, f: &FieldPlan, v: &mut Value) {
        if f.children.is_empty() {
            self.transform(f.level, &f.domain, v);
            return;
        }
        match (f.shape, v) {
            (_, Value::Object(m)) => self.project_fields(&f.children, &f.index, m),
            (Shape::Array, Value::Array(items)) => {
                for item in items.iter_mut() {
                    match item {
                        Value::Object(m) => self.project_fields(&f.children, &f.index, m),
                        // An item that is not an object cannot be matched to sub-fields.
                        other => *other = Value::Null,
                    }
                }
            }
            (_, Value::Null) => {}
            // A scalar where the schema says object: deliver it only at the container's own
            // level if every sub-field is read, else drop the content.
            (_, other) => {
                if !all_read(&f.children) {
                    *other = Value::Null;
                }
            }
        }
    }
}
