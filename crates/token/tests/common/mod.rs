//! Shared helpers for the sluis-token integration tests: fictional keys from `tests/keys/`,
//! JWKS documents built from them, and token signing with `jsonwebtoken::encode`.
#![allow(
    dead_code,
    reason = "each test crate uses a different subset of the helpers"
)]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test fixtures: a broken fixture must abort the test loudly"
)]

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sluis_token::{IssuerConfig, KeySet, Verifier};

/// A fixed "now" (2023-11-14T22:13:20Z).
pub const NOW: u64 = 1_700_000_000;
pub const ISS: &str = "https://login.example/realms/gemeente";
pub const AUD: &str = "sluis";

pub fn key_file(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The private key PEM used to sign with `alg`'s default test key.
pub fn default_signer(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::ES256 => "ec256",
        Algorithm::ES384 => "ec384",
        Algorithm::EdDSA => "ed25519",
        _ => "rsa-a",
    }
}

pub fn encoding_key(alg: Algorithm, key_name: &str) -> EncodingKey {
    let pem = key_file(&format!("{key_name}.key.pem"));
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&pem).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem).unwrap(),
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            panic!("use sign_hmac for HMAC")
        }
        _ => EncodingKey::from_rsa_pem(&pem).unwrap(),
    }
}

/// Sign `claims` with the named private key.
pub fn sign_with(alg: Algorithm, key_name: &str, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &encoding_key(alg, key_name)).unwrap()
}

/// Sign `claims` with `alg`'s default test key and kid.
pub fn sign(alg: Algorithm, claims: &Value) -> String {
    let name = default_signer(alg);
    sign_with(alg, name, Some(name), claims)
}

pub fn sign_hmac(alg: Algorithm, secret: &[u8], kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token assembled by hand from a header, payload and signature part.
pub fn raw_token(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        b64(serde_json::to_vec(header).unwrap()),
        b64(serde_json::to_vec(payload).unwrap()),
        signature
    )
}

/// Raw bytes inside a PEM's base64 body.
pub fn pem_der(pem: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(pem).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

/// The public JWK of a test key, with `kid` and (optionally) `alg`.
pub fn jwk(key_name: &str, kid: Option<&str>) -> Value {
    let mut v = match key_name {
        "ed25519" => {
            let der = pem_der(&key_file("ed25519.pub.pem"));
            let x = &der[der.len() - 32..];
            json!({"kty": "OKP", "crv": "Ed25519", "x": b64(x)})
        }
        name => {
            let alg = match name {
                "ec256" => Algorithm::ES256,
                "ec384" => Algorithm::ES384,
                _ => Algorithm::RS256,
            };
            let jwk = Jwk::from_encoding_key(&encoding_key(alg, name), alg).unwrap();
            let mut v = serde_json::to_value(jwk).unwrap();
            // `from_encoding_key` pins the algorithm; real IdPs often do not. Leave it out so
            // the RSA keys serve PS* too; tests that want pinning add it back.
            v.as_object_mut().unwrap().remove("alg");
            v
        }
    };
    if let Some(kid) = kid {
        v["kid"] = json!(kid);
    }
    v["use"] = json!("sig");
    v
}

pub fn jwks_doc(keys: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "keys": keys })).unwrap()
}

pub fn jwks(keys: &[Value]) -> KeySet {
    KeySet::from_jwks(&jwks_doc(keys)).unwrap()
}

/// All default test keys, each with its file name as `kid`.
pub fn all_keys() -> KeySet {
    jwks(&[
        jwk("rsa-a", Some("rsa-a")),
        jwk("ec256", Some("ec256")),
        jwk("ec384", Some("ec384")),
        jwk("ed25519", Some("ed25519")),
    ])
}

pub fn source(name: &str, set: KeySet) -> HashMap<String, KeySet> {
    let mut m = HashMap::new();
    m.insert(name.to_owned(), set);
    m
}

/// Issuer "idp": every asymmetric algorithm, audience "sluis", 30 s leeway.
pub fn issuer() -> IssuerConfig {
    IssuerConfig::new("idp", ISS)
        .with_audiences([AUD])
        .with_algorithms([
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ])
}

pub fn verifier() -> Verifier {
    Verifier::new(vec![issuer()]).unwrap()
}

/// Typical OIDC access-token claims for issuer "idp".
pub fn claims() -> Value {
    json!({
        "iss": ISS,
        "sub": "f6b1c2d3-user",
        "aud": [AUD, "account"],
        "exp": NOW + 300,
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "azp": "taakapplicatie",
        "email": "medewerker@gemeente.example",
        "preferred_username": "medewerker",
        "scope": "openid brp.lezen",
    })
}

/// `claims()` with `patch` merged in (a `null` value removes the claim).
pub fn claims_with(patch: Value) -> Value {
    let mut c = claims();
    let obj = c.as_object_mut().unwrap();
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            obj.remove(k);
        } else {
            obj.insert(k.clone(), v.clone());
        }
    }
    c
}

/// The 1024-bit test key as a JWK (too weak: key sets must refuse it).
pub fn weak_rsa_jwk() -> Value {
    let key = EncodingKey::from_rsa_pem(&key_file("rsa-weak1024.key.pem")).unwrap();
    serde_json::to_value(Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap()).unwrap()
}
