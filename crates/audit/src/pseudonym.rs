//! Pseudonymised data subject ids: `data_subject_id = "<key id>:" || hex(HMAC-SHA256(key,
//! id_type || 0x00 || value))`, e.g. `k2025:3f9a…` for a BSN.
//!
//! The key comes from configuration and never from the log, so the log alone does not reveal who
//! a line is about, yet a citizen's access request is answered by computing the pseudonym of the
//! requester's BSN. The key id prefix makes rotation possible: new lines use the current key,
//! lookups compute the pseudonym under every retained key ([`SubjectKeys::pseudonyms`]), and a
//! retired key is destroyed once the longest retention has passed since it was retired (which
//! also leaves any line it still covers unlinkable).

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::AuditError;
use crate::chain::push_hex;

/// One HMAC key with its id.
#[derive(Clone)]
pub struct SubjectKey {
    id: String,
    key: Vec<u8>,
}

impl fmt::Debug for SubjectKey {
    // The key is a secret: only its id is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubjectKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SubjectKey {
    /// A key: `id` of 1–16 letters, digits, `-` or `_`; `key` of at least 32 bytes. Errors never
    /// repeat the key.
    pub fn new(id: &str, key: &[u8]) -> Result<Self, AuditError> {
        let id_ok = !id.is_empty()
            && id.len() <= 16
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(AuditError::Invalid(
                "subject key id must be 1-16 letters, digits, - or _".into(),
            ));
        }
        if key.len() < 32 {
            return Err(AuditError::Invalid(
                "subject key must be at least 32 bytes".into(),
            ));
        }
        Ok(SubjectKey {
            id: id.to_owned(),
            key: key.to_vec(),
        })
    }

    /// The key id (the pseudonym prefix).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The pseudonym of `value` (e.g. a BSN) of type `id_type` (e.g. `BSN`).
    pub fn pseudonym(&self, id_type: &str, value: &str) -> String {
        // new_from_slice accepts any key length for HMAC; the fallback is unreachable.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(id_type.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        let mut out = String::with_capacity(self.id.len() + 65);
        out.push_str(&self.id);
        out.push(':');
        push_hex(&mac.finalize().into_bytes(), &mut out);
        out
    }
}

/// The current key and the retired keys still needed to find older lines.
#[derive(Debug, Clone)]
pub struct SubjectKeys {
    current: SubjectKey,
    retired: Vec<SubjectKey>,
}

impl SubjectKeys {
    /// Keys with distinct ids.
    pub fn new(current: SubjectKey, retired: Vec<SubjectKey>) -> Result<Self, AuditError> {
        let mut ids: Vec<&str> = retired.iter().map(SubjectKey::id).collect();
        ids.push(current.id());
        ids.sort_unstable();
        if ids.windows(2).any(|w| matches!(w, [a, b] if a == b)) {
            return Err(AuditError::Invalid(
                "subject key ids must be distinct".into(),
            ));
        }
        Ok(SubjectKeys { current, retired })
    }

    /// The pseudonym to record now.
    pub fn pseudonym(&self, id_type: &str, value: &str) -> String {
        self.current.pseudonym(id_type, value)
    }

    /// Every pseudonym `value` may have been recorded under (current key first): query the log
    /// for each to build a citizen's overview.
    pub fn pseudonyms(&self, id_type: &str, value: &str) -> Vec<String> {
        std::iter::once(&self.current)
            .chain(&self.retired)
            .map(|k| k.pseudonym(id_type, value))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_keyed_typed_and_prefixed() {
        let k1 = SubjectKey::new("k1", &[1u8; 32]).unwrap();
        let k2 = SubjectKey::new("k2", &[2u8; 32]).unwrap();
        let p = k1.pseudonym("BSN", "999993653");
        assert!(p.starts_with("k1:"));
        assert_eq!(p.len(), 3 + 64);
        assert!(!p.contains("999993653"));
        assert_eq!(p, k1.pseudonym("BSN", "999993653"), "deterministic");
        assert_ne!(p, k1.pseudonym("BSN", "999993654"));
        assert_ne!(p, k1.pseudonym("ANR", "999993653"));
        assert_ne!(p[3..], k2.pseudonym("BSN", "999993653")[3..]);
    }

    #[test]
    fn rotation_finds_lines_under_every_retained_key() {
        let old = SubjectKey::new("k2024", &[1u8; 32]).unwrap();
        let new = SubjectKey::new("k2025", &[2u8; 32]).unwrap();
        let before = old.pseudonym("BSN", "999993653");
        let keys = SubjectKeys::new(new, vec![old]).unwrap();
        let all = keys.pseudonyms("BSN", "999993653");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0], keys.pseudonym("BSN", "999993653"));
        assert!(all.contains(&before));
    }

    #[test]
    fn bad_keys_are_refused_without_echo() {
        assert!(SubjectKey::new("k1", b"short").is_err());
        assert!(SubjectKey::new("bad id", &[0u8; 32]).is_err());
        let k = SubjectKey::new("k1", b"a-very-secret-key-of-32-bytes!!!").unwrap();
        assert!(!format!("{k:?}").contains("secret"));
        let dup = SubjectKeys::new(k.clone(), vec![k]);
        assert!(dup.is_err());
    }
}
