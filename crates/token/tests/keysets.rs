//! Key sets: JWKS rotation, kid-less keys, PEM keys, pinned JWK algorithms, refused keys.

mod common;

use std::sync::{Arc, RwLock};

use common::*;
use jsonwebtoken::Algorithm;
use serde_json::json;
use sluis_token::{KeyKind, KeySet, KeySource, SkippedKeys, TokenError};

#[test]
fn rotation_old_kid_works_while_published_then_unknown_key() {
    let v = verifier();
    let old = sign_with(Algorithm::RS256, "rsa-a", Some("2024-01"), &claims());
    let new = sign_with(Algorithm::RS256, "rsa-b", Some("2024-07"), &claims());

    // During rotation the IdP publishes both keys.
    let both = jwks(&[jwk("rsa-a", Some("2024-01")), jwk("rsa-b", Some("2024-07"))]);
    assert_eq!(both.len(), 2);
    let mut kids: Vec<_> = both.kids().collect();
    kids.sort_unstable();
    assert_eq!(kids, vec!["2024-01", "2024-07"]);
    let keys = source("idp", both);
    assert!(v.verify(&old, NOW, &keys).is_ok());
    assert!(v.verify(&new, NOW, &keys).is_ok());

    // The old key is withdrawn: its tokens now name an unknown kid.
    let keys = source("idp", jwks(&[jwk("rsa-b", Some("2024-07"))]));
    assert_eq!(
        v.verify(&old, NOW, &keys).unwrap_err(),
        TokenError::UnknownKey {
            issuer: "idp".into(),
            kid: Some("2024-01".into())
        }
    );
    assert!(v.verify(&new, NOW, &keys).is_ok());
}

#[test]
fn unknown_key_then_refresh_then_retry() {
    // How the networking crate is expected to use UnknownKey: refresh the issuer's set (rate
    // limited) and verify again.
    let current = Arc::new(RwLock::new(Arc::new(jwks(&[jwk("rsa-a", Some("k1"))]))));
    let source = {
        let current = Arc::clone(&current);
        move |name: &str| (name == "idp").then(|| Arc::clone(&current.read().unwrap()))
    };
    let v = verifier();
    let token = sign_with(Algorithm::RS256, "rsa-b", Some("k2"), &claims());
    let err = v.verify(&token, NOW, &source).unwrap_err();
    let TokenError::UnknownKey { issuer, kid } = err else {
        panic!("expected UnknownKey, got {err:?}");
    };
    assert_eq!((issuer.as_str(), kid.as_deref()), ("idp", Some("k2")));
    // "Fetch" the new JWKS and swap it in.
    let refreshed = KeySet::from_jwks(&jwks_doc(&[
        jwk("rsa-a", Some("k1")),
        jwk("rsa-b", Some("k2")),
    ]))
    .unwrap();
    *current.write().unwrap() = Arc::new(refreshed);
    assert!(v.verify(&token, NOW, &source).is_ok());
    assert!(source.key_set("other").is_none());
}

#[test]
fn tokens_without_kid_need_a_single_fitting_key() {
    let v = verifier();
    let t = sign_with(Algorithm::RS256, "rsa-a", None, &claims());
    // One RSA key (plus keys of other types): used.
    let keys = source(
        "idp",
        jwks(&[jwk("rsa-a", Some("a")), jwk("ec256", Some("e"))]),
    );
    assert!(v.verify(&t, NOW, &keys).is_ok());
    // Two RSA keys: ambiguous, nothing is tried.
    let keys = source(
        "idp",
        jwks(&[jwk("rsa-a", Some("a")), jwk("rsa-b", Some("b"))]),
    );
    assert_eq!(
        v.verify(&t, NOW, &keys).unwrap_err(),
        TokenError::UnknownKey {
            issuer: "idp".into(),
            kid: None
        }
    );
    // A kid-less key in the set serves tokens with a kid when it is the only fitting key.
    let keys = source(
        "idp",
        jwks(&[jwk("ed25519", None), jwk("rsa-b", Some("b"))]),
    );
    let t = sign_with(Algorithm::EdDSA, "ed25519", Some("any"), &claims());
    assert!(v.verify(&t, NOW, &keys).is_ok());
    // But a named key is never used for another kid.
    let keys = source("idp", jwks(&[jwk("rsa-a", Some("a"))]));
    let t = sign_with(Algorithm::RS256, "rsa-a", Some("b"), &claims());
    assert_eq!(v.verify(&t, NOW, &keys).unwrap_err().code(), "unknown_key");
}

#[test]
fn pem_key_sets() {
    let v = verifier();
    for (name, alg, kind) in [
        ("rsa-a", Algorithm::RS256, KeyKind::Rsa),
        ("ec256", Algorithm::ES256, KeyKind::EcP256),
        ("ec384", Algorithm::ES384, KeyKind::EcP384),
        ("ed25519", Algorithm::EdDSA, KeyKind::Ed25519),
    ] {
        let set = KeySet::from_pem(&key_file(&format!("{name}.pub.pem"))).unwrap();
        assert_eq!(set.describe(), vec![(None, kind)], "{name}");
        let keys = source("idp", set);
        for kid in [None, Some("whatever")] {
            let t = sign_with(alg, name, kid, &claims());
            assert!(v.verify(&t, NOW, &keys).is_ok(), "{name} {kid:?}");
        }
    }
    // Several PEM keys with kids.
    let set = KeySet::new()
        .with_pem(Some("a"), &key_file("rsa-a.pub.pem"))
        .unwrap()
        .with_pem(Some("b"), &key_file("rsa-b.pub.pem"))
        .unwrap();
    assert!(set.contains_kid("b"));
    let keys = source("idp", set);
    let t = sign_with(Algorithm::RS256, "rsa-b", Some("b"), &claims());
    assert!(v.verify(&t, NOW, &keys).is_ok());
    let t = sign_with(Algorithm::RS256, "rsa-b", Some("a"), &claims());
    assert_eq!(
        v.verify(&t, NOW, &keys).unwrap_err().code(),
        "bad_signature"
    );
}

#[test]
fn pem_refuses_private_weak_and_foreign_keys() {
    for file in ["rsa-a.key.pem", "ec256.key.pem", "ed25519.key.pem"] {
        assert_eq!(
            KeySet::from_pem(&key_file(file)).unwrap_err().code(),
            "invalid_key",
            "{file}"
        );
    }
    assert!(KeySet::from_pem(&key_file("rsa-weak1024.pub.pem")).is_err());
}

#[test]
fn jwks_skips_and_counts_what_it_cannot_use() {
    let mut enc = jwk("rsa-b", Some("enc"));
    enc["use"] = json!("enc");
    let mut weak = jwk("rsa-a", Some("weak"));
    weak["n"] = weak_rsa_jwk()["n"].clone();
    let set = jwks(&[
        jwk("rsa-a", Some("sig")),
        enc,
        weak,
        json!({"kty": "oct", "kid": "hmac", "k": b64(b"secret")}),
        json!({"kty": "PQC", "kid": "future"}),
    ]);
    assert_eq!(set.len(), 1);
    assert_eq!(
        set.skipped(),
        SkippedKeys {
            unsupported: 2,
            encryption: 1,
            invalid: 1
        }
    );
    // The encryption key's kid does not verify signatures.
    let v = verifier();
    let keys = source("idp", set);
    let t = sign_with(Algorithm::RS256, "rsa-b", Some("enc"), &claims());
    assert_eq!(v.verify(&t, NOW, &keys).unwrap_err().code(), "unknown_key");
    // An oct key never turns into an HMAC secret.
    let t = sign_hmac(Algorithm::HS256, b"secret", Some("hmac"), &claims());
    assert_eq!(
        v.verify(&t, NOW, &keys).unwrap_err().code(),
        "hmac_not_allowed"
    );
}

#[test]
fn a_jwk_alg_pins_the_key_to_that_algorithm() {
    let mut pinned = jwk("rsa-a", Some("a"));
    pinned["alg"] = json!("RS256");
    let keys = source("idp", jwks(&[pinned]));
    let v = verifier();
    assert!(
        v.verify(
            &sign_with(Algorithm::RS256, "rsa-a", Some("a"), &claims()),
            NOW,
            &keys
        )
        .is_ok()
    );
    assert_eq!(
        v.verify(
            &sign_with(Algorithm::PS256, "rsa-a", Some("a"), &claims()),
            NOW,
            &keys
        )
        .unwrap_err(),
        TokenError::KeyMismatch {
            issuer: "idp".into()
        }
    );
    // RFC 9864's fully-specified "Ed25519" labels an EdDSA key.
    let mut ed = jwk("ed25519", Some("ed"));
    ed["alg"] = json!("Ed25519");
    let keys = source("idp", jwks(&[ed]));
    let t = sign_with(Algorithm::EdDSA, "ed25519", Some("ed"), &claims());
    assert!(v.verify(&t, NOW, &keys).is_ok());
    // A JWK whose alg contradicts its type is refused outright.
    let mut contradictory = jwk("rsa-a", Some("a"));
    contradictory["alg"] = json!("ES256");
    let set = jwks(&[contradictory]);
    assert!(set.is_empty());
    assert_eq!(set.skipped().invalid, 1);
}
