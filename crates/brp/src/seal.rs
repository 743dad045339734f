//! Sealed burgerservicenummers for pseudonymous clients.
//!
//! A client holding the policy's `pseudonymous_bsn` scope never sees a real BSN: every
//! `burgerservicenummer` in an answer is replaced by a token, and the client sends tokens back
//! to look a person up. A token is the BSN encrypted with XChaCha20-Poly1305 (authenticated
//! encryption, 24-byte random nonce), bound to a *context* the caller chooses (for instance
//! client id and correlation id) as associated data: a token only opens in the context it was
//! sealed for.
//!
//! Token format, ASCII, no padding:
//!
//! ```text
//! bsn1.<kid>.<base64url(nonce[24] || ciphertext[9] || tag[16])>
//! ```
//!
//! `kid` names the key (1..32 of `A-Z a-z 0-9 _ -`); the associated data is the UTF-8 bytes of
//! `bsn1.<kid>.<context>`. A [`Keyring`] seals with its current key and opens with the current
//! and any older key, so keys can be rotated without breaking tokens in flight. Nonces are
//! supplied by the caller (this crate has no randomness source): use a CSPRNG, never a counter
//! shared across instances.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::doc::Node;
use crate::error::BrpError;

/// The token prefix and format version.
pub const TOKEN_PREFIX: &str = "bsn1";
/// Nonce length in bytes.
pub const NONCE_LEN: usize = 24;
/// Key length in bytes.
pub const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;
const MAX_KID_LEN: usize = 32;
const FIELD: &str = "burgerservicenummer";

/// One named key. Its bytes are wiped when it is dropped and never shown by `Debug`.
pub struct SealKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SealKey {
    /// A key from 32 bytes, named `id` (1..32 of `A-Z a-z 0-9 _ -`).
    pub fn new(id: &str, key: [u8; KEY_LEN]) -> Result<SealKey, BrpError> {
        let key = Zeroizing::new(key);
        if id.is_empty()
            || id.len() > MAX_KID_LEN
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(BrpError::SealKey(
                "a key id is 1..32 characters of A-Z a-z 0-9 _ -".to_owned(),
            ));
        }
        Ok(SealKey {
            id: id.to_owned(),
            cipher: XChaCha20Poly1305::new(Key::from_slice(key.as_slice())),
        })
    }

    /// A key from its base64 (standard or URL-safe, padding optional) encoding of 32 bytes.
    pub fn from_base64(id: &str, encoded: &str) -> Result<SealKey, BrpError> {
        let trimmed = encoded.trim().trim_end_matches('=');
        let decoded = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(trimmed.replace('+', "-").replace('/', "_"))
                .map_err(|_| BrpError::SealKey(format!("key {id:?} is not valid base64")))?,
        );
        let bytes: [u8; KEY_LEN] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| BrpError::SealKey(format!("key {id:?} must be {KEY_LEN} bytes")))?;
        SealKey::new(id, bytes)
    }

    /// The key id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The keys for sealing and opening: one current key seals, it and the older keys open.
#[derive(Debug)]
pub struct Keyring {
    current: SealKey,
    previous: Vec<SealKey>,
}

fn aad(kid: &str, context: &str) -> Vec<u8> {
    format!("{TOKEN_PREFIX}.{kid}.{context}").into_bytes()
}

impl Keyring {
    /// A keyring; key ids must be distinct.
    pub fn new(current: SealKey, previous: Vec<SealKey>) -> Result<Keyring, BrpError> {
        let mut ids = vec![current.id.as_str()];
        for k in &previous {
            if ids.contains(&k.id.as_str()) {
                return Err(BrpError::SealKey(format!("duplicate key id {:?}", k.id)));
            }
            ids.push(&k.id);
        }
        Ok(Keyring { current, previous })
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Seals a burgerservicenummer (nine digits) for `context` with the caller's fresh random
    /// `nonce`.
    pub fn seal(
        &self,
        bsn: &str,
        context: &str,
        nonce: [u8; NONCE_LEN],
    ) -> Result<String, BrpError> {
        if bsn.len() != 9 || !bsn.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BrpError::Seal("not a burgerservicenummer".to_owned()));
        }
        let key = &self.current;
        let aad = aad(&key.id, context);
        let ct = key
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: bsn.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| BrpError::Seal("encryption failed".to_owned()))?;
        let mut raw = Vec::with_capacity(NONCE_LEN + ct.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&ct);
        Ok(format!(
            "{TOKEN_PREFIX}.{}.{}",
            key.id,
            URL_SAFE_NO_PAD.encode(raw)
        ))
    }

    /// Opens a token sealed for `context`. Every failure (malformed, unknown key, tampered,
    /// other context) is [`BrpError::NotOpenable`].
    pub fn open(&self, token: &str, context: &str) -> Result<String, BrpError> {
        let rest = token
            .strip_prefix(TOKEN_PREFIX)
            .and_then(|r| r.strip_prefix('.'))
            .ok_or(BrpError::NotOpenable)?;
        let (kid, data) = rest.split_once('.').ok_or(BrpError::NotOpenable)?;
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == kid)
            .ok_or(BrpError::NotOpenable)?;
        let raw = URL_SAFE_NO_PAD
            .decode(data)
            .map_err(|_| BrpError::NotOpenable)?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(BrpError::NotOpenable);
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let aad = aad(kid, context);
        let plain = key
            .cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map_err(|_| BrpError::NotOpenable)?;
        String::from_utf8(plain).map_err(|_| BrpError::NotOpenable)
    }
}

/// Whether a value has the form of a sealed token (not whether it opens).
pub fn is_sealed(value: &str) -> bool {
    value
        .strip_prefix(TOKEN_PREFIX)
        .is_some_and(|r| r.starts_with('.'))
}

/// Replaces every `burgerservicenummer` value in an answer, at any depth, by a token sealed
/// for `context` (strings, numbers, and arrays of them; `null` stays). `next_nonce` must return
/// a fresh random nonce on every call. Returns how many values were sealed. Any other value
/// type under that key is an error, so nothing unsealed slips through.
pub fn seal_response(
    body: &mut Node<'_>,
    keyring: &Keyring,
    context: &str,
    next_nonce: &mut dyn FnMut() -> [u8; NONCE_LEN],
) -> Result<usize, BrpError> {
    match body {
        Node::Object(m) => {
            let mut n = 0;
            for (k, v) in m.iter_mut() {
                n += if k == FIELD {
                    seal_value(v, keyring, context, next_nonce)?
                } else {
                    seal_response(v, keyring, context, next_nonce)?
                };
            }
            Ok(n)
        }
        Node::Array(items) => {
            let mut n = 0;
            for item in items {
                n += seal_response(item, keyring, context, next_nonce)?;
            }
            Ok(n)
        }
        _ => Ok(0),
    }
}

fn seal_value(
    v: &mut Node<'_>,
    keyring: &Keyring,
    context: &str,
    next_nonce: &mut dyn FnMut() -> [u8; NONCE_LEN],
) -> Result<usize, BrpError> {
    let plain = match v {
        Node::Null => return Ok(0),
        Node::String(s) => s.to_string(),
        Node::Number(n) => n.to_string(),
        Node::Array(items) => {
            let mut n = 0;
            for item in items {
                n += seal_value(item, keyring, context, next_nonce)?;
            }
            return Ok(n);
        }
        Node::Bool(_) | Node::Object(_) => {
            return Err(BrpError::Seal(format!(
                "a {FIELD} value that is neither a string nor a list"
            )));
        }
    };
    *v = Node::String(keyring.seal(&plain, context, next_nonce())?.into());
    Ok(1)
}

/// Replaces the tokens in a request body's `burgerservicenummer` (a list, or a single string)
/// by the burgerservicenummers they seal, before validation. A value that is not a token is
/// [`BrpError::Plaintext`]; a token that does not open for `context` is
/// [`BrpError::NotOpenable`]. Values of other types are left for validation to refuse.
/// Returns how many tokens were opened.
pub fn open_request(body: &mut Value, keyring: &Keyring, context: &str) -> Result<usize, BrpError> {
    let Some(v) = body.get_mut(FIELD) else {
        return Ok(0);
    };
    let mut n = 0;
    let mut open_one = |item: &mut Value| -> Result<(), BrpError> {
        if let Value::String(s) = item {
            if !is_sealed(s) {
                return Err(BrpError::Plaintext);
            }
            *s = keyring.open(s, context)?;
            n += 1;
        }
        Ok(())
    };
    match v {
        Value::Array(items) => {
            for item in items.iter_mut() {
                open_one(item)?;
            }
        }
        other => open_one(other)?,
    }
    Ok(n)
}
