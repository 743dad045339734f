//! Authentication end to end: every rejection case of the data plane issue over real HTTP, the
//! ZGW-style HS256 clients, and JWKS rotation without a restart.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests: a failed expectation must abort the test loudly"
)]

mod common;

use std::time::Duration;

use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

const LIST: &str = "/api/afval/containers?_pageSize=2";

/// Asserts the 401 shape and that nothing about the token or keys is echoed.
#[track_caller]
fn assert_rejected(case: &str, r: &Resp, token: &str) {
    assert_eq!(r.status, 401, "{case}: {}", r.text());
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer realm=\"sluis\", error=\"invalid_token\""),
        "{case}"
    );
    let doc = r.problem(401, "invalidToken");
    assert_eq!(doc["instance"], json!("/api/afval/containers"), "{case}");
    let text = r.text();
    for part in token.split('.').filter(|p| p.len() >= 8) {
        assert!(!text.contains(part), "{case}: the body echoes the token");
    }
    for secret in [
        "BEGIN",
        "PRIVATE",
        HMAC_SECRET,
        jwk("rsa-1")["n"].as_str().unwrap(),
        jwk("rsa-2")["n"].as_str().unwrap(),
    ] {
        assert!(
            !text.contains(secret),
            "{case}: the body reveals key material"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_token_is_accepted_and_every_bad_one_is_401() {
    let h = Harness::start(Opts::default()).await;
    let ok = h.get(LIST, Some(&token(&[])), &[]).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(items(&ok.json(), "containers").len(), 2);

    let t = now();
    let pub_pem = key_file("rsa-1.pub.pem");
    let big = "x".repeat(6000);
    let cases: Vec<(&str, String)> = vec![
        (
            "alg none",
            raw_token(
                &json!({"alg": "none", "typ": "JWT"}),
                &claims(&["BAG/R"]),
                "",
            ),
        ),
        (
            "alg none with a signature",
            raw_token(
                &json!({"alg": "none", "kid": "rsa-1"}),
                &claims(&["BAG/R"]),
                &b64("sig"),
            ),
        ),
        (
            "ES256 is not allowed for the issuer",
            sign(Algorithm::ES256, "ec-1", Some("ec-1"), &claims(&[])),
        ),
        (
            "RS384 is not allowed for the issuer",
            sign(Algorithm::RS384, "rsa-1", Some("rsa-1"), &claims(&[])),
        ),
        (
            "HS256 signed with the issuer's public key (key confusion)",
            sign_hmac(&pub_pem, Some("rsa-1"), &claims(&[])),
        ),
        (
            "HS256 signed with the issuer's JWK modulus",
            sign_hmac(
                jwk("rsa-1")["n"].as_str().unwrap().as_bytes(),
                Some("rsa-1"),
                &claims(&[]),
            ),
        ),
        (
            "expired",
            sign(
                Algorithm::RS256,
                "rsa-1",
                Some("rsa-1"),
                &claims_with(&[], json!({"iat": t - 600, "nbf": t - 600, "exp": t - 60})),
            ),
        ),
        (
            "not yet valid (nbf)",
            sign(
                Algorithm::RS256,
                "rsa-1",
                Some("rsa-1"),
                &claims_with(&[], json!({"nbf": t + 120, "exp": t + 600})),
            ),
        ),
        (
            "wrong iss",
            sign(
                Algorithm::RS256,
                "rsa-1",
                Some("rsa-1"),
                &claims_with(&[], json!({"iss": "https://other-idp.invalid"})),
            ),
        ),
        (
            "wrong aud",
            sign(
                Algorithm::RS256,
                "rsa-1",
                Some("rsa-1"),
                &claims_with(&[], json!({"aud": "some-other-api"})),
            ),
        ),
        (
            "no aud",
            sign(
                Algorithm::RS256,
                "rsa-1",
                Some("rsa-1"),
                &claims_with(&[], json!({"aud": null})),
            ),
        ),
        ("malformed: two parts", "abc.def".to_owned()),
        ("malformed: garbage", "not-a-token-at-all".to_owned()),
        (
            "malformed: header is not JSON",
            format!("{}.{}.{}", b64("{nope"), b64("{}"), b64("sig")),
        ),
        (
            "oversized",
            sign(
                Algorithm::RS256,
                "rsa-1",
                Some("rsa-1"),
                &claims_with(&[], json!({"padding": big})),
            ),
        ),
        (
            "unknown kid",
            sign(Algorithm::RS256, "rsa-2", Some("rsa-2"), &claims(&[])),
        ),
        (
            "bad signature (another key under a known kid)",
            sign(Algorithm::RS256, "rsa-2", Some("rsa-1"), &claims(&[])),
        ),
        ("tampered payload", {
            let good = token(&[]);
            let parts: Vec<&str> = good.split('.').collect();
            let forged = b64(serde_json::to_vec(&claims(&["BRP/R", "BAG/R"])).unwrap());
            format!("{}.{forged}.{}", parts[0], parts[2])
        }),
    ];
    for (case, tok) in &cases {
        let r = h.get(LIST, Some(tok), &[]).await;
        assert_rejected(case, &r, tok);
    }

    // A non-bearer scheme is an invalid token too.
    let r = h
        .get(LIST, None, &[("authorization", "Basic dXNlcjpwYXNz")])
        .await;
    assert_rejected("basic auth", &r, "dXNlcjpwYXNz");

    // No Authorization header at all: 401 with a challenge, but no error="invalid_token".
    let r = h.get(LIST, None, &[]).await;
    r.problem(401, "notAuthenticated");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer realm=\"sluis\""),
        "{r:?}"
    );

    // Nothing reached the upstream for a rejected token: only the first request did.
    assert_eq!(h.fixture().faults().requests(), 1);

    // Tokens never reach the audit log.
    let audit = std::fs::read_to_string(h.path("audit.jsonl")).unwrap();
    for (case, tok) in &cases {
        if let Some(sig) = tok.rsplit('.').next().filter(|s| s.len() >= 16) {
            assert!(
                !audit.contains(sig),
                "{case}: the audit log holds the token"
            );
        }
    }
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hmac_clients_with_client_id_and_iat_expiry() {
    let h = Harness::start(Opts::default()).await;
    let t = now();
    let good = sign_hmac(
        HMAC_SECRET.as_bytes(),
        None,
        &json!({"iss": HMAC_CLIENT, "client_id": HMAC_CLIENT, "iat": t, "user_id": "zgw-user",
            "scope": "BAG/R"}),
    );
    let r = h.get(LIST, Some(&good), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let last: Value = h.audit_lines().pop().unwrap();
    assert_eq!(last["issuer"], json!("zgw"));
    assert_eq!(last["client_id"], json!(HMAC_CLIENT));
    assert_eq!(last["scopes"], json!(["BAG/R"]));

    let cases = [
        (
            "expired by iat age (max_age_secs = 600)",
            sign_hmac(
                HMAC_SECRET.as_bytes(),
                None,
                &json!({"iss": HMAC_CLIENT, "client_id": HMAC_CLIENT, "iat": t - 3600, "scope": ""}),
            ),
        ),
        (
            "no iat",
            sign_hmac(
                HMAC_SECRET.as_bytes(),
                None,
                &json!({"iss": HMAC_CLIENT, "client_id": HMAC_CLIENT, "scope": ""}),
            ),
        ),
        (
            "wrong secret",
            sign_hmac(
                b"another-secret-of-at-least-32-bytes-long",
                None,
                &json!({"iss": HMAC_CLIENT, "client_id": HMAC_CLIENT, "iat": t, "scope": ""}),
            ),
        ),
        (
            "unknown client",
            sign_hmac(
                HMAC_SECRET.as_bytes(),
                None,
                &json!({"iss": "other-app", "client_id": "other-app", "iat": t, "scope": ""}),
            ),
        ),
    ];
    for (case, tok) in &cases {
        let r = h.get(LIST, Some(tok), &[]).await;
        assert_rejected(case, &r, tok);
    }
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_rotation_needs_no_restart() {
    let h = Harness::start(Opts::default()).await;
    let old = token(&[]);
    assert_eq!(h.get(LIST, Some(&old), &[]).await.status, 200);

    // A token under the new kid before rotation: unknown key.
    let new_claims = claims_with(&[], json!({"sub": "rotated-user"}));
    let new = sign(Algorithm::RS256, "rsa-2", Some("rsa-2"), &new_claims);
    let r = h.get(LIST, Some(&new), &[]).await;
    assert_rejected("new kid before rotation", &r, &new);

    // The identity provider rotates: the new key joins, the old one leaves.
    write_atomic(h.root(), &h.path("jwks.json"), jwks(&["rsa-2"]).as_bytes());
    // The refresh on an unknown kid is rate limited (1 s): retry until it has happened.
    let accepted = eventually(Duration::from_secs(8), || async {
        h.get(LIST, Some(&new), &[]).await.status == 200
    })
    .await;
    assert!(
        accepted,
        "the rotated key was not picked up without a restart"
    );

    // A fresh token under the retired key is refused (not served from the verified cache).
    let retired = sign(
        Algorithm::RS256,
        "rsa-1",
        Some("rsa-1"),
        &claims_with(&[], json!({"sub": "after-rotation"})),
    );
    let r = h.get(LIST, Some(&retired), &[]).await;
    assert_rejected("retired kid", &r, &retired);
    h.shutdown().await;
}

/// A key the identity provider retires stops being trusted at the next scheduled refresh —
/// also after a configuration reload has built a new runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_jwks_refresh_survives_a_reload() {
    let h = Harness::start(Opts {
        jwks_refresh_secs: 1,
        ..Opts::default()
    })
    .await;
    assert_eq!(h.get(LIST, Some(&token(&[])), &[]).await.status, 200);
    h.server().reload().await.unwrap();
    assert_eq!(h.get(LIST, Some(&token(&[])), &[]).await.status, 200);

    // The IdP retires rsa-1; rsa-2 takes over. No token names an unknown kid, so only the
    // scheduled refresh can notice.
    write_atomic(h.root(), &h.path("jwks.json"), jwks(&["rsa-2"]).as_bytes());
    let n = std::sync::atomic::AtomicU64::new(0);
    let refused = eventually(Duration::from_secs(8), || {
        let sub = format!(
            "user-{}",
            n.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let t = sign(
            Algorithm::RS256,
            "rsa-1",
            Some("rsa-1"),
            &claims_with(&[], json!({ "sub": sub })),
        );
        let h = &h;
        async move { h.get(LIST, Some(&t), &[]).await.status == 401 }
    })
    .await;
    assert!(refused, "a retired key is still trusted after a reload");
    let new = sign(Algorithm::RS256, "rsa-2", Some("rsa-2"), &claims(&[]));
    assert_eq!(h.get(LIST, Some(&new), &[]).await.status, 200);
    h.shutdown().await;
}
