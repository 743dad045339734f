//! Canonical encoding and the hash chain: pure functions shared by every [`AuditStore`].
//!
//! Each stored entry carries `seq` (gapless per log, from 1), `time_ms` (when the store recorded
//! it), `prev_hash` and `hash`, where
//!
//! ```text
//! hash = SHA-256( "sluis-audit-v1\0" || prev_hash (32 bytes) || seq (u64 BE) || time_ms (u64 BE)
//!                 || canonical JSON of the Entry )
//! ```
//!
//! and the first entry's `prev_hash` is 32 zero bytes ([`GENESIS_HASH`]). Hashes travel as
//! lowercase hex. Signed [`Checkpoint`]s (Ed25519 over seq, hash and time) pin the chain head so
//! that rewriting or truncating the log is caught even by someone who recomputes every hash.
//!
//! [`AuditStore`]: crate::AuditStore

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::fieldset::{FieldSet, FieldSetSource, NoFieldSets};
use crate::{AuditError, Entry};

/// Domain separation prefix of an entry hash.
pub const HASH_DOMAIN: &[u8] = b"sluis-audit-v1\0";
/// Domain separation prefix of a checkpoint signature.
pub const CHECKPOINT_DOMAIN: &[u8] = b"sluis-audit-checkpoint-v1\0";
/// `prev_hash` of the first entry of a log: 32 zero bytes, in hex.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Encodes a JSON value canonically: object keys sorted by their UTF-8 bytes, no whitespace,
/// strings escaped as `serde_json` escapes them (`"`, `\` and control characters; everything
/// else verbatim UTF-8), numbers as `serde_json` prints them.
///
/// The workspace enables `serde_json/preserve_order`, so key order of a [`Value`] follows
/// insertion; this function must not rely on it.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::with_capacity(512);
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            use std::fmt::Write as _;
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sorting the pairs (not the keys, then looking each up) saves a hash per member.
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
    }
}

/// Writes `s` as a JSON string. Runs of bytes that need no escape are copied whole: every byte
/// of a multi-byte UTF-8 character is 0x80 or above, so a run boundary never splits one.
pub(crate) fn write_json_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    // Most strings (field paths, ids, codes) need no escape: one pass without early exit,
    // which the compiler turns into vector code, then a single copy.
    let plain = !bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if plain {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(s.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            // A control character: \u00XX, lowercase hex as serde_json writes it.
            out.push_str("\\u00");
            for nibble in [b >> 4, b & 0x0f] {
                out.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
            }
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// The canonical JSON of an entry (what is stored in `body` and hashed).
pub fn canonical_entry(entry: &Entry) -> Result<String, AuditError> {
    let value = serde_json::to_value(entry)
        .map_err(|e| AuditError::Invalid(format!("entry cannot be encoded: {e}")))?;
    Ok(canonical_json(&value))
}

/// Decodes a stored body without field set references.
pub fn decode_entry(body: &str) -> Result<Entry, AuditError> {
    decode_entry_with(body, &mut NoFieldSets)
}

/// Decodes a stored body, resolving its field set references through `sets`.
pub fn decode_entry_with(body: &str, sets: &mut dyn FieldSetSource) -> Result<Entry, AuditError> {
    let bad = |e: serde_json::Error| AuditError::Invalid(format!("entry cannot be decoded: {e}"));
    if !crate::fieldset::has_references(body) {
        return serde_json::from_str(body).map_err(bad);
    }
    let mut value: Value = serde_json::from_str(body).map_err(bad)?;
    crate::fieldset::resolve(&mut value, sets)?
        .map_err(|u| AuditError::Invalid(format!("entry cannot be decoded: {u}")))?;
    serde_json::from_value(value).map_err(bad)
}

/// The chain hash of an entry, in hex. `prev_hash` must be 64 hex digits.
pub fn chain_hash(
    prev_hash: &str,
    seq: u64,
    time_ms: u64,
    canonical_body: &str,
) -> Result<String, AuditError> {
    let prev = decode_hash(prev_hash)?;
    Ok(to_hex(&chain_digest(&prev, seq, time_ms, canonical_body)))
}

/// The chain hash of an entry after the one whose hash is `prev`.
fn chain_digest(prev: &[u8; 32], seq: u64, time_ms: u64, canonical_body: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(HASH_DOMAIN);
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(time_ms.to_be_bytes());
    h.update(canonical_body.as_bytes());
    h.finalize().into()
}

/// Lowercase hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(bytes, &mut s);
    s
}

/// Appends the lowercase hex of `bytes` to `out`.
pub fn push_hex(bytes: &[u8], out: &mut String) {
    fn digit(n: u8) -> char {
        char::from(if n < 10 { b'0' + n } else { b'a' - 10 + n })
    }
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.push(digit(b >> 4));
        out.push(digit(b & 0x0f));
    }
}

/// Decodes hex (either case) into exactly `N` bytes.
pub fn from_hex<const N: usize>(s: &str) -> Result<[u8; N], AuditError> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if bytes.len() != N * 2 {
        return Err(AuditError::Invalid(format!(
            "expected {} hex digits, found {}",
            N * 2,
            bytes.len()
        )));
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let (hi, lo) = match pair {
            [hi, lo] => (nibble(*hi), nibble(*lo)),
            _ => (None, None),
        };
        match (hi, lo) {
            (Some(hi), Some(lo)) => *o = (hi << 4) | lo,
            _ => return Err(AuditError::Invalid("not a hex string".to_owned())),
        }
    }
    Ok(out)
}

fn decode_hash(hex: &str) -> Result<[u8; 32], AuditError> {
    from_hex::<32>(hex).map_err(|_| AuditError::Invalid("a chain hash is not 64 hex digits".into()))
}

/// The kind of an entry, as stored in the `kind` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    Access,
    Processing,
    Purge,
    Alert,
    Handling,
}

impl EntryKind {
    /// The column value (`access`, `processing`, `purge`, `alert`, `handling`), equal to the
    /// entry's `kind` tag.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Access => "access",
            EntryKind::Processing => "processing",
            EntryKind::Purge => "purge",
            EntryKind::Alert => "alert",
            EntryKind::Handling => "handling",
        }
    }

    /// The kind named by a column value or `kind` tag.
    pub fn parse(s: &str) -> Option<EntryKind> {
        match s {
            "access" => Some(EntryKind::Access),
            "processing" => Some(EntryKind::Processing),
            "purge" => Some(EntryKind::Purge),
            "alert" => Some(EntryKind::Alert),
            "handling" => Some(EntryKind::Handling),
            _ => None,
        }
    }

    /// The kind of an entry.
    pub fn of(entry: &Entry) -> Self {
        match entry {
            Entry::Access(_) => EntryKind::Access,
            Entry::Processing(_) => EntryKind::Processing,
            Entry::Purge(_) => EntryKind::Purge,
            Entry::Alert(_) => EntryKind::Alert,
            Entry::Handling(_) => EntryKind::Handling,
        }
    }
}

/// The indexed columns of a stored entry, derived from the entry (and checked against it by
/// `verify`, since they are not hashed themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryIndex {
    pub kind: EntryKind,
    pub trace_id: Option<String>,
    /// The processing activity: `processing_activity_id` of a processing record,
    /// `processing_activity` of an access record.
    pub activity: Option<String>,
    /// The pseudonymised data subject of a processing record.
    pub subject: Option<String>,
}

impl EntryIndex {
    /// Derives the indexed columns of an entry.
    pub fn of(entry: &Entry) -> Self {
        match entry {
            Entry::Access(a) => EntryIndex {
                kind: EntryKind::Access,
                trace_id: Some(a.trace_id.clone()),
                activity: a.processing_activity.clone(),
                subject: None,
            },
            Entry::Processing(p) => EntryIndex {
                kind: EntryKind::Processing,
                trace_id: Some(p.trace_id.clone()),
                activity: Some(p.processing_activity_id.clone()),
                subject: p.data_subject_id.clone(),
            },
            Entry::Purge(_) => EntryIndex {
                kind: EntryKind::Purge,
                trace_id: None,
                activity: None,
                subject: None,
            },
            // Alerts are found by kind; their subjects are not indexed, so a citizen's overview
            // (which reads processing records by subject) never shows a detection finding.
            Entry::Alert(_) => EntryIndex {
                kind: EntryKind::Alert,
                trace_id: None,
                activity: None,
                subject: None,
            },
            Entry::Handling(_) => EntryIndex {
                kind: EntryKind::Handling,
                trace_id: None,
                activity: None,
                subject: None,
            },
        }
    }
}

/// A row exactly as a store keeps it: what `verify` reads and `append` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    pub seq: u64,
    pub time_ms: u64,
    pub kind: String,
    pub trace_id: Option<String>,
    pub activity: Option<String>,
    pub subject: Option<String>,
    /// Canonical JSON of the entry.
    pub body: String,
    pub prev_hash: String,
    pub hash: String,
}

impl RawRow {
    /// Decodes the row into a [`StoredEntry`] (a body with field set references fails: use
    /// [`decode_with`](Self::decode_with)).
    pub fn decode(&self) -> Result<StoredEntry, AuditError> {
        self.decode_with(&mut NoFieldSets)
    }

    /// Decodes the row, resolving its field set references through `sets`.
    pub fn decode_with(&self, sets: &mut dyn FieldSetSource) -> Result<StoredEntry, AuditError> {
        let entry = decode_entry_with(&self.body, sets).map_err(|e| {
            AuditError::Invalid(format!("entry at seq {} cannot be decoded: {e}", self.seq))
        })?;
        Ok(StoredEntry {
            chain: String::new(),
            seq: self.seq,
            time_ms: self.time_ms,
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
            entry,
        })
    }
}

/// An entry read back from a store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEntry {
    /// The chain the entry belongs to in a store with one chain per instance (empty otherwise).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub chain: String,
    pub seq: u64,
    /// When the store recorded the entry (ms since the Unix epoch).
    pub time_ms: u64,
    pub prev_hash: String,
    pub hash: String,
    pub entry: Entry,
}

/// An entry encoded for storage but not yet linked into the chain: everything that does not
/// depend on the head, so stores can prepare it before taking their write lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub index: EntryIndex,
    /// Canonical JSON of the entry, its long field lists replaced by references.
    pub body: String,
    /// The field sets the body references (stored with it, once per id).
    pub field_sets: Vec<FieldSet>,
}

/// Encodes a batch (canonical JSON with field sets interned, and indexed columns).
pub fn encode(batch: &[Entry]) -> Result<Vec<Encoded>, AuditError> {
    let mut interner = crate::canonical::Interner::default();
    batch
        .iter()
        .map(|entry| {
            let body = interner.encode_entry(entry)?;
            Ok(Encoded {
                index: EntryIndex::of(entry),
                body,
                field_sets: interner.take_own(),
            })
        })
        .collect()
}

/// The distinct field sets of encoded entries.
pub fn field_sets_of(encoded: &[Encoded]) -> Vec<FieldSet> {
    let mut out: Vec<FieldSet> = Vec::new();
    for e in encoded {
        for s in &e.field_sets {
            if !out.iter().any(|o| o.id == s.id) {
                out.push(s.clone());
            }
        }
    }
    out
}

/// Links encoded entries after `last` (`None` for an empty log): consecutive seqs, each hash
/// over its predecessor's.
pub fn link(
    last: Option<(u64, &str)>,
    encoded: Vec<Encoded>,
    now_ms: u64,
) -> Result<Vec<RawRow>, AuditError> {
    let (mut seq, mut prev) = match last {
        Some((seq, hash)) => (seq, hash.to_owned()),
        None => (0, GENESIS_HASH.to_owned()),
    };
    // The previous hash as bytes too, so that each is decoded once.
    let mut prev_bytes = decode_hash(&prev)?;
    let mut rows = Vec::with_capacity(encoded.len());
    for e in encoded {
        seq = seq
            .checked_add(1)
            .ok_or_else(|| AuditError::Invalid("sequence number overflow".into()))?;
        prev_bytes = chain_digest(&prev_bytes, seq, now_ms, &e.body);
        let hash = to_hex(&prev_bytes);
        rows.push(RawRow {
            seq,
            time_ms: now_ms,
            kind: e.index.kind.as_str().to_owned(),
            trace_id: e.index.trace_id,
            activity: e.index.activity,
            subject: e.index.subject,
            body: e.body,
            prev_hash: std::mem::replace(&mut prev, hash.clone()),
            hash,
        });
    }
    Ok(rows)
}

/// Seals a batch: [`encode`] then [`link`], and the field sets the rows reference. Pure: the
/// store writes the rows and the field sets in one transaction.
pub fn seal_with_sets(
    last: Option<(u64, &str)>,
    batch: &[Entry],
    now_ms: u64,
) -> Result<(Vec<RawRow>, Vec<FieldSet>), AuditError> {
    let encoded = encode(batch)?;
    let sets = field_sets_of(&encoded);
    Ok((link(last, encoded, now_ms)?, sets))
}

/// [`seal_with_sets`] for a batch whose rows reference no field set (a purge record, fixtures
/// with short lists); a batch that does is refused rather than stored without its sets.
pub fn seal(
    last: Option<(u64, &str)>,
    batch: &[Entry],
    now_ms: u64,
) -> Result<Vec<RawRow>, AuditError> {
    let (rows, sets) = seal_with_sets(last, batch, now_ms)?;
    if !sets.is_empty() {
        return Err(AuditError::Invalid(
            "the batch references field sets: seal it with seal_with_sets".into(),
        ));
    }
    Ok(rows)
}

/// A signed statement "the entry at `seq` has chain hash `hash`", made at `time_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: u64,
    pub hash: String,
    pub time_ms: u64,
    /// Ed25519 signature (hex) over [`checkpoint_message`].
    pub signature: String,
}

/// The bytes a checkpoint signature covers:
/// `"sluis-audit-checkpoint-v1\0" || seq (u64 BE) || hash (32 bytes) || time_ms (u64 BE)`.
pub fn checkpoint_message(seq: u64, hash: &str, time_ms: u64) -> Result<Vec<u8>, AuditError> {
    let hash = decode_hash(hash)?;
    let mut m = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 48);
    m.extend_from_slice(CHECKPOINT_DOMAIN);
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&hash);
    m.extend_from_slice(&time_ms.to_be_bytes());
    Ok(m)
}

/// Signs checkpoints with an Ed25519 key derived from a 32-byte seed (from configuration).
#[derive(Clone)]
pub struct CheckpointSigner {
    key: SigningKey,
}

impl fmt::Debug for CheckpointSigner {
    // Never print the secret key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckpointSigner")
            .field("public_key", &self.public_key())
            .finish()
    }
}

impl CheckpointSigner {
    /// The signer for a 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        CheckpointSigner {
            key: SigningKey::from_bytes(seed),
        }
    }

    /// The signer for a seed given as 64 hex digits. The error never repeats the input.
    pub fn from_seed_hex(hex: &str) -> Result<Self, AuditError> {
        let seed = from_hex::<32>(hex.trim())
            .map_err(|_| AuditError::Invalid("checkpoint key seed must be 64 hex digits".into()))?;
        Ok(Self::from_seed(&seed))
    }

    /// The public key that verifies this signer's checkpoints.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.key.verifying_key().to_bytes())
    }

    /// Signs a checkpoint for the entry `seq` with chain hash `hash`.
    pub fn sign(&self, seq: u64, hash: &str, time_ms: u64) -> Result<Checkpoint, AuditError> {
        let message = checkpoint_message(seq, hash, time_ms)?;
        let signature = self.key.sign(&message);
        Ok(Checkpoint {
            seq,
            hash: hash.to_owned(),
            time_ms,
            signature: to_hex(&signature.to_bytes()),
        })
    }
}

/// An Ed25519 public key that verifies checkpoints.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(pub [u8; 32]);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", to_hex(&self.0))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_hex(&self.0))
    }
}

impl PublicKey {
    /// Parses 64 hex digits.
    pub fn from_hex(hex: &str) -> Result<Self, AuditError> {
        let bytes = from_hex::<32>(hex.trim())
            .map_err(|_| AuditError::Invalid("public key must be 64 hex digits".into()))?;
        VerifyingKey::from_bytes(&bytes)
            .map_err(|_| AuditError::Invalid("not an Ed25519 public key".into()))?;
        Ok(PublicKey(bytes))
    }

    /// True when `checkpoint` carries a valid signature by this key.
    pub fn verifies(&self, checkpoint: &Checkpoint) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        let Ok(sig) = from_hex::<64>(&checkpoint.signature) else {
            return false;
        };
        let Ok(message) = checkpoint_message(checkpoint.seq, &checkpoint.hash, checkpoint.time_ms)
        else {
            return false;
        };
        key.verify(&message, &ed25519_dalek::Signature::from_bytes(&sig))
            .is_ok()
    }
}

/// How a store seals batches: checkpoint interval and signing key.
#[derive(Debug, Clone, Default)]
pub struct ChainConfig {
    /// Sign a checkpoint at every seq that is a multiple of this (0: only on demand).
    pub checkpoint_every: u64,
    /// Without a signer no checkpoints are made.
    pub signer: Option<CheckpointSigner>,
}

impl ChainConfig {
    /// Checkpoints due for freshly sealed rows: one at each seq that is a multiple of
    /// `checkpoint_every`.
    pub fn checkpoints_for(
        &self,
        rows: &[RawRow],
        now_ms: u64,
    ) -> Result<Vec<Checkpoint>, AuditError> {
        let (Some(signer), every) = (&self.signer, self.checkpoint_every) else {
            return Ok(Vec::new());
        };
        if every == 0 {
            return Ok(Vec::new());
        }
        rows.iter()
            .filter(|r| r.seq % every == 0)
            .map(|r| signer.sign(r.seq, &r.hash, now_ms))
            .collect()
    }

    /// A checkpoint of the head `(seq, hash)` made on demand; `None` without a signer.
    pub fn checkpoint_now(
        &self,
        seq: u64,
        hash: &str,
        now_ms: u64,
    ) -> Result<Option<Checkpoint>, AuditError> {
        self.signer
            .as_ref()
            .map(|s| s.sign(seq, hash, now_ms))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PurgeRecord, testing};
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let v = json!({"b": 1, "a": {"z": [1, 2, {"y": null, "x": true}], "é": "ü"}, "A": "q\"\n"});
        assert_eq!(
            canonical_json(&v),
            r#"{"A":"q\"\n","a":{"z":[1,2,{"x":true,"y":null}],"é":"ü"},"b":1}"#
        );
    }

    #[test]
    fn canonical_json_escapes_control_characters_like_serde_json() {
        let s = "a\u{0001}b\u{001f}\u{7f}\t\u{08}\u{0c}\\/";
        let v = Value::String(s.to_owned());
        assert_eq!(canonical_json(&v), serde_json::to_string(&v).unwrap());
        let back: String = serde_json::from_str(&canonical_json(&v)).unwrap();
        assert_eq!(back, s);
    }

    proptest::proptest! {
        /// Strings are written exactly as serde_json writes them, whatever they hold (control
        /// characters, quotes, backslashes, any Unicode), and read back to themselves.
        #[test]
        fn strings_are_escaped_exactly_as_serde_json_does(s in "(?s).{0,64}", t in proptest::collection::vec(0u8..0x30, 0..16)) {
            let mixed: String = t.iter().map(|b| char::from(*b)).chain(s.chars()).collect();
            for text in [s, mixed] {
                let v = Value::String(text.clone());
                let ours = canonical_json(&v);
                proptest::prop_assert_eq!(&ours, &serde_json::to_string(&v).unwrap());
                let back: String = serde_json::from_str(&ours).unwrap();
                proptest::prop_assert_eq!(back, text);
            }
        }
    }

    #[test]
    fn canonical_json_is_independent_of_insertion_order() {
        let a: Value = serde_json::from_str(r#"{"x":1,"y":{"b":2,"a":1}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"y":{"a":1,"b":2},"x":1}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
    }

    #[test]
    fn canonical_entry_round_trips() {
        for entry in testing::request(7, 3) {
            let body = canonical_entry(&entry).unwrap();
            assert!(body.starts_with("{\"") && !body.contains('\n'));
            assert_eq!(decode_entry(&body).unwrap(), entry);
            let reparsed: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(canonical_json(&reparsed), body);
        }
    }

    #[test]
    fn hash_is_the_documented_formula() {
        let body = r#"{"kind":"purge"}"#;
        let mut h = Sha256::new();
        h.update(b"sluis-audit-v1\0");
        h.update([0u8; 32]);
        h.update(1u64.to_be_bytes());
        h.update(5u64.to_be_bytes());
        h.update(body.as_bytes());
        assert_eq!(
            chain_hash(GENESIS_HASH, 1, 5, body).unwrap(),
            to_hex(&h.finalize())
        );
    }

    #[test]
    fn hash_depends_on_every_input() {
        let base = chain_hash(GENESIS_HASH, 1, 5, "{}").unwrap();
        let other_prev = "11".repeat(32);
        assert_ne!(base, chain_hash(&other_prev, 1, 5, "{}").unwrap());
        assert_ne!(base, chain_hash(GENESIS_HASH, 2, 5, "{}").unwrap());
        assert_ne!(base, chain_hash(GENESIS_HASH, 1, 6, "{}").unwrap());
        assert_ne!(base, chain_hash(GENESIS_HASH, 1, 5, "[]").unwrap());
        assert!(chain_hash("zz", 1, 5, "{}").is_err());
    }

    #[test]
    fn seal_links_consecutive_entries() {
        let batch = testing::request(1, 2);
        let (rows, _) = seal_with_sets(None, &batch, 1000).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].seq, 1);
        assert_eq!(rows[0].prev_hash, GENESIS_HASH);
        for pair in rows.windows(2) {
            assert_eq!(pair[1].seq, pair[0].seq + 1);
            assert_eq!(pair[1].prev_hash, pair[0].hash);
        }
        for r in &rows {
            assert_eq!(
                chain_hash(&r.prev_hash, r.seq, r.time_ms, &r.body).unwrap(),
                r.hash
            );
        }
        assert_eq!(rows[0].kind, "access");
        assert_eq!(rows[1].kind, "processing");
        assert!(rows[1].subject.is_some());
        let (more, _) =
            seal_with_sets(Some((3, &rows[2].hash)), &testing::request(2, 1), 2000).unwrap();
        assert_eq!(more[0].seq, 4);
        assert_eq!(more[0].prev_hash, rows[2].hash);
    }

    #[test]
    fn index_columns_follow_the_entry() {
        let purge = Entry::Purge(PurgeRecord {
            time_ms: 1,
            removed: vec![],
            removed_access: 0,
            up_to_seq: 0,
            anchor_hash: GENESIS_HASH.into(),
        });
        let idx = EntryIndex::of(&purge);
        assert_eq!(idx.kind, EntryKind::Purge);
        assert_eq!(idx.trace_id, None);
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(to_hex(&bytes), "0001abff");
        assert_eq!(from_hex::<4>("0001ABff").unwrap(), bytes);
        assert!(from_hex::<4>("0001ab").is_err());
        assert!(from_hex::<4>("0001abgg").is_err());
    }

    #[test]
    fn checkpoints_sign_and_verify() {
        let signer = CheckpointSigner::from_seed(&[7u8; 32]);
        let hash = "ab".repeat(32);
        let cp = signer.sign(10, &hash, 99).unwrap();
        let key = signer.public_key();
        assert!(key.verifies(&cp));
        assert_eq!(PublicKey::from_hex(&key.to_string()).unwrap(), key);
        let other = CheckpointSigner::from_seed(&[8u8; 32]).public_key();
        assert!(!other.verifies(&cp));
        for tampered in [
            Checkpoint {
                seq: 11,
                ..cp.clone()
            },
            Checkpoint {
                time_ms: 98,
                ..cp.clone()
            },
            Checkpoint {
                hash: "cd".repeat(32),
                ..cp.clone()
            },
            Checkpoint {
                signature: "00".repeat(64),
                ..cp.clone()
            },
            Checkpoint {
                signature: "nothex".into(),
                ..cp.clone()
            },
        ] {
            assert!(!key.verifies(&tampered), "{tampered:?}");
        }
    }

    #[test]
    fn signer_debug_hides_the_secret() {
        let seed_hex = "42".repeat(32);
        let signer = CheckpointSigner::from_seed_hex(&seed_hex).unwrap();
        let dbg = format!("{signer:?}");
        assert!(!dbg.contains(&seed_hex));
        let err = CheckpointSigner::from_seed_hex("secret-not-hex").unwrap_err();
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn checkpoints_are_due_at_multiples() {
        let cfg = ChainConfig {
            checkpoint_every: 4,
            signer: Some(CheckpointSigner::from_seed(&[1u8; 32])),
        };
        let batch: Vec<Entry> = (0..3).flat_map(|i| testing::request(i, 2)).collect();
        let (rows, _) = seal_with_sets(None, &batch, 5).unwrap();
        let cps = cfg.checkpoints_for(&rows, 5).unwrap();
        assert_eq!(cps.iter().map(|c| c.seq).collect::<Vec<_>>(), vec![4, 8]);
        let none = ChainConfig::default().checkpoints_for(&rows, 5).unwrap();
        assert!(none.is_empty());
    }
}
