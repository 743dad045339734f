//! Public verification keys: [`KeySet`] (parsed from a JWKS document or PEM) and the
//! [`KeySource`] through which the verifier asks for an issuer's current set.
//!
//! Keys are validated when the set is built, so verification never meets a malformed key. Only
//! signature keys of the types this crate verifies are kept: RSA (2048–4096 bits), EC P-256 and
//! P-384, and OKP Ed25519. Symmetric (`oct`) keys in a JWKS are never used: an issuer's public
//! key set must not be able to turn into an HMAC secret.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{BigUint, RsaPublicKey};
use serde_json::Value;

use crate::error::TokenError;

/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;
/// Largest number of keys read from one JWKS document.
pub const MAX_JWKS_KEYS: usize = 256;

/// The type of a verification key; it decides which algorithms the key can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// RSA: RS256/384/512 and PS256/384/512.
    Rsa,
    /// EC on P-256: ES256.
    EcP256,
    /// EC on P-384: ES384.
    EcP384,
    /// OKP Ed25519: EdDSA.
    Ed25519,
}

impl KeyKind {
    /// Whether a key of this kind can verify `alg`.
    pub fn supports(self, alg: Algorithm) -> bool {
        match self {
            KeyKind::Rsa => matches!(
                alg,
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ),
            KeyKind::EcP256 => alg == Algorithm::ES256,
            KeyKind::EcP384 => alg == Algorithm::ES384,
            KeyKind::Ed25519 => alg == Algorithm::EdDSA,
        }
    }
}

/// One validated public key.
#[derive(Clone)]
pub(crate) struct PublicKey {
    pub(crate) kid: Option<String>,
    pub(crate) kind: KeyKind,
    /// The JWK's own `alg`, when it pins one.
    pub(crate) alg: Option<Algorithm>,
    pub(crate) key: DecodingKey,
}

impl PublicKey {
    pub(crate) fn fits(&self, alg: Algorithm) -> bool {
        self.kind.supports(alg) && self.alg.is_none_or(|pinned| pinned == alg)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("kid", &self.kid)
            .field("kind", &self.kind)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Keys a JWKS document contained that the set does not use, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkippedKeys {
    /// Key types or curves this crate does not verify with (`oct`, P-521, Ed448, X25519, an
    /// unknown `kty`, or an `alg` naming something else than a signature algorithm).
    pub unsupported: usize,
    /// Encryption keys (`use: enc`, or `key_ops` without `verify`).
    pub encryption: usize,
    /// Keys of a supported type that failed validation (bad base64, wrong length, not on the
    /// curve, RSA modulus under 2048 or over 4096 bits, `alg` not fitting the key type).
    pub invalid: usize,
}

impl SkippedKeys {
    /// Total number of skipped keys.
    pub fn total(&self) -> usize {
        self.unsupported + self.encryption + self.invalid
    }
}

/// What went wrong with one JWK; internal, counted in [`SkippedKeys`].
enum Skip {
    Unsupported,
    Encryption,
    Invalid,
}

/// An issuer's verification keys, indexed by `kid`.
///
/// Cheap to clone (the keys are shared). Build one per JWKS fetch and swap it in atomically;
/// the verifier never mutates a set.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Arc<[PublicKey]>,
    skipped: SkippedKeys,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("keys", &self.keys)
            .field("skipped", &self.skipped)
            .finish()
    }
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        KeySet::default()
    }

    /// Parse a JWKS document (`{"keys": [...]}`, RFC 7517).
    ///
    /// The document must be a JSON object with a `keys` array of at most [`MAX_JWKS_KEYS`]
    /// entries, or this fails with [`TokenError::InvalidJwks`]. Individual keys that cannot be
    /// used are skipped and counted in [`skipped`](Self::skipped), so one odd key (an
    /// encryption key, a new key type) does not make the issuer unusable. The result may be
    /// empty; check [`is_empty`](Self::is_empty).
    pub fn from_jwks(document: &[u8]) -> Result<Self, TokenError> {
        let value: Value = serde_json::from_slice(document)
            .map_err(|_| TokenError::InvalidJwks("it is not JSON"))?;
        let keys = value
            .as_object()
            .and_then(|o| o.get("keys"))
            .and_then(Value::as_array)
            .ok_or(TokenError::InvalidJwks("it has no \"keys\" array"))?;
        if keys.len() > MAX_JWKS_KEYS {
            return Err(TokenError::InvalidJwks("it has too many keys"));
        }
        let mut parsed = Vec::with_capacity(keys.len());
        let mut skipped = SkippedKeys::default();
        for jwk in keys {
            match parse_jwk(jwk) {
                Ok(key) => parsed.push(key),
                Err(Skip::Unsupported) => skipped.unsupported += 1,
                Err(Skip::Encryption) => skipped.encryption += 1,
                Err(Skip::Invalid) => skipped.invalid += 1,
            }
        }
        Ok(KeySet {
            keys: parsed.into(),
            skipped,
        })
    }

    /// A set holding one PEM public key (SPKI `PUBLIC KEY`, or PKCS#1 `RSA PUBLIC KEY`), with no
    /// `kid`: it verifies tokens with or without a `kid` as long as it is the only key of its
    /// type. Private keys and certificates are refused.
    pub fn from_pem(pem: &[u8]) -> Result<Self, TokenError> {
        KeySet::new().with_pem(None, pem)
    }

    /// Return a copy of the set with one more PEM public key, optionally named by `kid`.
    pub fn with_pem(&self, kid: Option<&str>, pem: &[u8]) -> Result<Self, TokenError> {
        let key = parse_pem(kid, pem)?;
        let mut keys = self.keys.to_vec();
        keys.push(key);
        Ok(KeySet {
            keys: keys.into(),
            skipped: self.skipped,
        })
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when the set has no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Keys the source document had but this set does not use.
    pub fn skipped(&self) -> SkippedKeys {
        self.skipped
    }

    /// The `kid`s of the usable keys (keys without one are left out).
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(|k| k.kid.as_deref())
    }

    /// Whether a key with this `kid` is in the set.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// `(kid, kind)` of every usable key, for diagnostics (`sluis check`, admin pages).
    pub fn describe(&self) -> Vec<(Option<String>, KeyKind)> {
        self.keys.iter().map(|k| (k.kid.clone(), k.kind)).collect()
    }

    /// Find the key for a token with header `kid` and `alg`.
    ///
    /// With a `kid`: the key with that `kid` that fits `alg`; failing that, the set's only key
    /// of a fitting type if that key has no `kid` (a PEM-configured key). Without a `kid`: the
    /// set's only key fitting `alg`. More than one candidate without a `kid` is ambiguous and
    /// finds nothing: trying keys in turn would multiply the work an attacker can cause.
    pub(crate) fn find(&self, kid: Option<&str>, alg: Algorithm) -> Lookup<'_> {
        if let Some(kid) = kid {
            let mut named = self
                .keys
                .iter()
                .filter(|k| k.kid.as_deref() == Some(kid))
                .peekable();
            if named.peek().is_some() {
                return match named.find(|k| k.fits(alg)) {
                    Some(k) => Lookup::Found(k),
                    None => Lookup::Mismatch,
                };
            }
        }
        let mut fitting = self.keys.iter().filter(|k| k.fits(alg));
        match (fitting.next(), fitting.next()) {
            (Some(only), None) if kid.is_none() || only.kid.is_none() => Lookup::Found(only),
            _ => Lookup::NotFound,
        }
    }
}

/// Result of a key lookup.
pub(crate) enum Lookup<'a> {
    Found(&'a PublicKey),
    /// Keys with the `kid` exist but none fits the algorithm.
    Mismatch,
    NotFound,
}

fn b64(value: Option<&Value>) -> Result<Vec<u8>, Skip> {
    let s = value.and_then(Value::as_str).ok_or(Skip::Invalid)?;
    URL_SAFE_NO_PAD.decode(s).map_err(|_| Skip::Invalid)
}

fn parse_jwk(jwk: &Value) -> Result<PublicKey, Skip> {
    let obj = jwk.as_object().ok_or(Skip::Invalid)?;
    let text = |name: &str| -> Result<Option<&str>, Skip> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(Skip::Invalid),
        }
    };
    if let Some(usage) = text("use")?
        && usage != "sig"
    {
        return Err(Skip::Encryption);
    }
    if let Some(ops) = obj.get("key_ops") {
        let ops = ops.as_array().ok_or(Skip::Invalid)?;
        if !ops.iter().any(|op| op.as_str() == Some("verify")) {
            return Err(Skip::Encryption);
        }
    }
    let kid = text("kid")?.map(str::to_owned);
    let alg = match text("alg")? {
        None => None,
        // RFC 9864's fully-specified name for EdDSA over Ed25519.
        Some("Ed25519") => Some(Algorithm::EdDSA),
        // An `alg` we do not verify with (RSA-OAEP, ES512, HS256, ...): not a key for us.
        Some(name) => Some(name.parse::<Algorithm>().map_err(|_| Skip::Unsupported)?),
    };
    let kty = text("kty")?.ok_or(Skip::Invalid)?;
    let (kind, key) = match kty {
        "RSA" => {
            let n = b64(obj.get("n"))?;
            let e = b64(obj.get("e"))?;
            rsa_key(&n, &e)?
        }
        "EC" => {
            let kind = match text("crv")? {
                Some("P-256") => KeyKind::EcP256,
                Some("P-384") => KeyKind::EcP384,
                Some(_) => return Err(Skip::Unsupported),
                None => return Err(Skip::Invalid),
            };
            let x = b64(obj.get("x"))?;
            let y = b64(obj.get("y"))?;
            (kind, ec_key(kind, &x, &y)?)
        }
        "OKP" => {
            match text("crv")? {
                Some("Ed25519") => {}
                Some(_) => return Err(Skip::Unsupported),
                None => return Err(Skip::Invalid),
            }
            let x = b64(obj.get("x"))?;
            (KeyKind::Ed25519, ed_key(&x)?)
        }
        _ => return Err(Skip::Unsupported),
    };
    if let Some(alg) = alg
        && !kind.supports(alg)
    {
        // e.g. an RSA key labelled ES256: never guess which half is right.
        return Err(Skip::Invalid);
    }
    Ok(PublicKey {
        kid,
        kind,
        alg,
        key,
    })
}

/// Validate RSA components and build the key from them.
fn rsa_key(n: &[u8], e: &[u8]) -> Result<(KeyKind, DecodingKey), Skip> {
    // RsaPublicKey::new enforces the 4096-bit maximum and a sane exponent; we add the minimum.
    let public = RsaPublicKey::new(BigUint::from_bytes_be(n), BigUint::from_bytes_be(e))
        .map_err(|_| Skip::Invalid)?;
    rsa_from_public(&public)
}

fn rsa_from_public(public: &RsaPublicKey) -> Result<(KeyKind, DecodingKey), Skip> {
    if public.n().bits() < MIN_RSA_BITS {
        return Err(Skip::Invalid);
    }
    Ok((
        KeyKind::Rsa,
        DecodingKey::from_rsa_raw_components(&public.n().to_bytes_be(), &public.e().to_bytes_be()),
    ))
}

/// Validate EC coordinates (length and curve membership) and build the key.
fn ec_key(kind: KeyKind, x: &[u8], y: &[u8]) -> Result<DecodingKey, Skip> {
    let len = match kind {
        KeyKind::EcP256 => 32,
        KeyKind::EcP384 => 48,
        _ => return Err(Skip::Invalid),
    };
    if x.len() != len || y.len() != len {
        return Err(Skip::Invalid);
    }
    let mut point = Vec::with_capacity(1 + 2 * len);
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    let key = DecodingKey::from_ec_der(&point);
    probe(&key, kind)?;
    Ok(key)
}

/// Validate an Ed25519 public key (32 bytes, a valid point) and build the key.
fn ed_key(x: &[u8]) -> Result<DecodingKey, Skip> {
    // The verifier slices the first 32 bytes; anything but exactly 32 is refused here.
    if x.len() != 32 {
        return Err(Skip::Invalid);
    }
    let key = DecodingKey::from_ed_der(x);
    probe(&key, KeyKind::Ed25519)?;
    Ok(key)
}

/// Build a verifier for the key once, so a key that is not on its curve is refused at load time
/// rather than at every verification. An empty signature never verifies, so `Ok(_)` means the
/// key itself was accepted.
fn probe(key: &DecodingKey, kind: KeyKind) -> Result<(), Skip> {
    let alg = match kind {
        KeyKind::EcP256 => Algorithm::ES256,
        KeyKind::EcP384 => Algorithm::ES384,
        KeyKind::Ed25519 => Algorithm::EdDSA,
        KeyKind::Rsa => Algorithm::RS256,
    };
    jsonwebtoken::crypto::verify("", b"", key, alg)
        .map(|_| ())
        .map_err(|_| Skip::Invalid)
}

fn parse_pem(kid: Option<&str>, pem: &[u8]) -> Result<PublicKey, TokenError> {
    const BAD: TokenError =
        TokenError::InvalidKey("not a supported PEM public key (RSA, EC P-256/P-384, Ed25519)");
    let text = std::str::from_utf8(pem).map_err(|_| BAD)?;
    if text.contains("PRIVATE KEY") {
        return Err(TokenError::InvalidKey(
            "a private key was given where a public key is expected",
        ));
    }
    if text.contains("CERTIFICATE") {
        return Err(TokenError::InvalidKey(
            "certificates are not accepted; give the public key",
        ));
    }
    let weak = TokenError::InvalidKey("RSA key outside 2048-4096 bits or with a bad exponent");
    let (kind, key) = if let Ok(rsa) = DecodingKey::from_rsa_pem(pem) {
        let public = match rsa.kind() {
            jsonwebtoken::DecodingKeyKind::SecretOrDer(der) => {
                RsaPublicKey::from_pkcs1_der(der).map_err(|_| BAD)?
            }
            jsonwebtoken::DecodingKeyKind::RsaModulusExponent { n, e } => {
                RsaPublicKey::new(BigUint::from_bytes_be(n), BigUint::from_bytes_be(e))
                    .map_err(|_| weak.clone())?
            }
        };
        rsa_from_public(&public).map_err(|_| weak)?
    } else if let Ok(ec) = DecodingKey::from_ec_pem(pem) {
        let point = match ec.kind() {
            jsonwebtoken::DecodingKeyKind::SecretOrDer(bytes) => bytes.clone(),
            jsonwebtoken::DecodingKeyKind::RsaModulusExponent { .. } => return Err(BAD),
        };
        let kind = match point.len() {
            65 => KeyKind::EcP256,
            97 => KeyKind::EcP384,
            _ => return Err(BAD),
        };
        probe(&ec, kind).map_err(|_| BAD)?;
        (kind, ec)
    } else if let Ok(ed) = DecodingKey::from_ed_pem(pem) {
        let raw = match ed.kind() {
            jsonwebtoken::DecodingKeyKind::SecretOrDer(bytes) => bytes.clone(),
            jsonwebtoken::DecodingKeyKind::RsaModulusExponent { .. } => return Err(BAD),
        };
        (KeyKind::Ed25519, ed_key(&raw).map_err(|_| BAD)?)
    } else {
        return Err(BAD);
    };
    Ok(PublicKey {
        kid: kid.map(str::to_owned),
        kind,
        alg: None,
        key,
    })
}

/// Where the verifier gets an issuer's current key set, by the issuer's configured
/// [`name`](crate::IssuerConfig::name).
///
/// The networking layer implements this over its JWKS cache (typically an `ArcSwap` per issuer);
/// returning `None` means no set is loaded yet, which the verifier reports as
/// [`TokenError::UnknownKey`] so the caller fetches and retries. Implemented for maps of
/// `KeySet` / `Arc<KeySet>` and for closures `Fn(&str) -> Option<Arc<KeySet>>`.
pub trait KeySource {
    /// The current key set of the issuer named `issuer`.
    fn key_set(&self, issuer: &str) -> Option<Arc<KeySet>>;
}

impl<F> KeySource for F
where
    F: Fn(&str) -> Option<Arc<KeySet>>,
{
    fn key_set(&self, issuer: &str) -> Option<Arc<KeySet>> {
        self(issuer)
    }
}

impl KeySource for HashMap<String, Arc<KeySet>> {
    fn key_set(&self, issuer: &str) -> Option<Arc<KeySet>> {
        self.get(issuer).cloned()
    }
}

impl KeySource for BTreeMap<String, Arc<KeySet>> {
    fn key_set(&self, issuer: &str) -> Option<Arc<KeySet>> {
        self.get(issuer).cloned()
    }
}

// A `KeySet` clone shares its keys, so handing out an `Arc` of a clone is cheap.
impl KeySource for HashMap<String, KeySet> {
    fn key_set(&self, issuer: &str) -> Option<Arc<KeySet>> {
        self.get(issuer).map(|k| Arc::new(k.clone()))
    }
}

impl KeySource for BTreeMap<String, KeySet> {
    fn key_set(&self, issuer: &str) -> Option<Arc<KeySet>> {
        self.get(issuer).map(|k| Arc::new(k.clone()))
    }
}

/// A key source with no keys at all (for verifiers that only have HMAC clients).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoKeys;

impl KeySource for NoKeys {
    fn key_set(&self, _issuer: &str) -> Option<Arc<KeySet>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(keys: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({ "keys": keys })).unwrap()
    }

    #[test]
    fn rejects_documents_without_keys() {
        assert_eq!(
            KeySet::from_jwks(b"not json").unwrap_err().code(),
            "invalid_jwks"
        );
        assert!(KeySet::from_jwks(b"{}").is_err());
        assert!(KeySet::from_jwks(b"[]").is_err());
        assert!(KeySet::from_jwks(br#"{"keys": {}}"#).is_err());
        let set = KeySet::from_jwks(br#"{"keys": []}"#).unwrap();
        assert!(set.is_empty());
    }

    #[test]
    fn too_many_keys_is_an_error() {
        let many: Vec<Value> = (0..=MAX_JWKS_KEYS).map(|_| json!({"kty": "X"})).collect();
        assert!(KeySet::from_jwks(&doc(Value::Array(many))).is_err());
    }

    #[test]
    fn counts_skipped_keys_by_reason() {
        let set = KeySet::from_jwks(&doc(json!([
            {"kty": "oct", "k": "c2VjcmV0"},
            {"kty": "weird"},
            {"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"},
            {"kty": "OKP", "crv": "Ed448", "x": "AA"},
            {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "key_ops": ["encrypt"], "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "n": "!!", "e": "AQAB"},
            {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
            {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"},
            {"kid": 5, "kty": "RSA"},
            "not an object",
        ])))
        .unwrap();
        assert!(set.is_empty());
        assert_eq!(
            set.skipped(),
            SkippedKeys {
                unsupported: 5,
                encryption: 2,
                invalid: 6
            }
        );
        assert_eq!(set.skipped().total(), 13);
    }

    #[test]
    fn ec_point_not_on_curve_is_invalid() {
        // 32-byte coordinates that are not a point on P-256.
        let x = URL_SAFE_NO_PAD.encode([1u8; 32]);
        let y = URL_SAFE_NO_PAD.encode([2u8; 32]);
        let set = KeySet::from_jwks(&doc(json!([
            {"kty": "EC", "crv": "P-256", "x": x, "y": y}
        ])))
        .unwrap();
        assert!(set.is_empty());
        assert_eq!(set.skipped().invalid, 1);
    }

    #[test]
    fn key_kinds_support_only_their_algorithms() {
        assert!(KeyKind::Rsa.supports(Algorithm::PS512));
        assert!(!KeyKind::Rsa.supports(Algorithm::HS256));
        assert!(!KeyKind::EcP256.supports(Algorithm::ES384));
        assert!(KeyKind::Ed25519.supports(Algorithm::EdDSA));
        assert!(!KeyKind::Ed25519.supports(Algorithm::ES256));
    }

    #[test]
    fn pem_refuses_private_keys_and_garbage() {
        assert_eq!(
            KeySet::from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .unwrap_err()
                .code(),
            "invalid_key"
        );
        assert!(KeySet::from_pem(b"garbage").is_err());
        assert!(KeySet::from_pem(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn closures_and_maps_are_key_sources() {
        let set = Arc::new(KeySet::new());
        let f = {
            let set = set.clone();
            move |name: &str| (name == "a").then(|| set.clone())
        };
        assert!(f.key_set("a").is_some());
        assert!(f.key_set("b").is_none());
        let mut m = HashMap::new();
        m.insert("a".to_string(), KeySet::new());
        assert!(m.key_set("a").is_some());
        assert!(NoKeys.key_set("a").is_none());
    }
}
