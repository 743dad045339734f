//! The verified-token cache in front of the verifier.

mod common;

use std::sync::Arc;

use common::*;
use jsonwebtoken::Algorithm;
use serde_json::json;
use sluis_token::{HmacClients, NoKeys, VerifiedCache, Verifier};

#[test]
fn cached_principal_is_served_until_exp_plus_leeway() {
    let v = verifier(); // leeway 30 s
    let cache = VerifiedCache::new(100);
    let keys = source("idp", all_keys());
    let token = sign(Algorithm::ES256, &claims_with(json!({"exp": NOW + 60})));

    let first = v.verify_cached(&token, NOW, &keys, &cache).unwrap();
    assert_eq!(cache.len(), 1);
    // A hit does not need keys any more: verify with an empty key source.
    let second = v.verify_cached(&token, NOW + 1, &NoKeys, &cache).unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(cache.stats().hits, 1);

    // exp + leeway - 1: still served from the cache.
    assert!(cache.get(&token, NOW + 60 + 29).is_some());
    // exp + leeway: gone from the cache, and verification itself says expired.
    assert!(cache.get(&token, NOW + 60 + 30).is_none());
    assert!(cache.is_empty());
    assert_eq!(
        v.verify_cached(&token, NOW + 90, &keys, &cache)
            .unwrap_err()
            .code(),
        "expired"
    );
    assert!(cache.is_empty(), "failures are not cached");
}

#[test]
fn cache_is_keyed_by_the_whole_token() {
    let v = verifier();
    let cache = VerifiedCache::new(100);
    let keys = source("idp", all_keys());
    let token = sign(Algorithm::RS256, &claims());
    v.verify_cached(&token, NOW, &keys, &cache).unwrap();
    // The same header and payload with a different signature is a different token.
    let (head, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", b64([1u8; 256]));
    assert!(cache.get(&forged, NOW).is_none());
    assert_eq!(
        v.verify_cached(&forged, NOW, &keys, &cache)
            .unwrap_err()
            .code(),
        "bad_signature"
    );
}

#[test]
fn hmac_principals_cache_with_their_iat_based_expiry() {
    let clients = HmacClients::new("zgw")
        .with_client("app-a", b"fictional-secret-of-app-a-32bytes!")
        .unwrap();
    let v = Verifier::new(vec![])
        .unwrap()
        .with_hmac_clients(clients)
        .unwrap();
    let cache = VerifiedCache::new(10);
    let t = sign_hmac(
        Algorithm::HS256,
        b"fictional-secret-of-app-a-32bytes!",
        None,
        &json!({"client_id": "app-a", "iat": NOW}),
    );
    let p = v.verify_cached(&t, NOW, &NoKeys, &cache).unwrap();
    assert_eq!(p.expires_at, Some(NOW + 3600));
    assert!(cache.get(&t, NOW + 3599).is_some());
    assert!(cache.get(&t, NOW + 3600).is_none());
}

#[test]
fn oversized_tokens_are_refused_before_hashing() {
    let v = verifier().with_max_token_bytes(10);
    let cache = VerifiedCache::new(10);
    assert_eq!(
        v.verify_cached(&"a".repeat(11), NOW, &NoKeys, &cache)
            .unwrap_err()
            .code(),
        "too_large"
    );
}
