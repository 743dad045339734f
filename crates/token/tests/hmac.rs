//! ZGW-style HMAC clients: per-client HS256 secrets, `iat`-based expiry (zgw.md C1, D2, D3).

mod common;

use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use sluis_token::{HmacClients, NoKeys, Principal, TokenError, Verifier};

const SECRET: &[u8] = b"fictional-secret-of-app-a-32bytes!";

#[expect(
    clippy::unwrap_used,
    reason = "test fixture: failure must abort the test"
)]
fn zgw_verifier(leeway: u64) -> Verifier {
    let mut clients = HmacClients::new("zgw")
        .with_client("app-a", SECRET)
        .unwrap()
        .with_client("app-b", b"another-fictional-secret-for-app-b")
        .unwrap();
    clients.leeway_secs = leeway;
    Verifier::new(vec![issuer()])
        .unwrap()
        .with_hmac_clients(clients)
        .unwrap()
}

/// A "valid token" as zgw.md section D defines it.
fn zgw_claims(iat: u64) -> Value {
    json!({
        "iss": "app-a",
        "client_id": "app-a",
        "iat": iat,
        "user_id": "u1",
        "user_representation": "Jan",
    })
}

fn verify(v: &Verifier, token: &str, now: u64) -> Result<Principal, TokenError> {
    v.verify(token, now, &NoKeys)
}

#[test]
fn valid_zgw_token() {
    let v = zgw_verifier(0);
    let t = sign_hmac(Algorithm::HS256, SECRET, None, &zgw_claims(NOW));
    let p = verify(&v, &t, NOW).unwrap();
    assert_eq!(p.issuer, "zgw");
    assert_eq!(p.subject, "app-a");
    assert_eq!(p.client_id.as_deref(), Some("app-a"));
    assert_eq!(p.user.as_deref(), Some("u1"));
    assert!(p.scopes.is_empty());
    assert_eq!(p.issued_at, Some(NOW));
    assert_eq!(p.expires_at, Some(NOW + 3600));
    assert_eq!(p.claims["user_representation"], json!("Jan"));
    // Pinned to the client group.
    assert_eq!(v.verify_for_issuer("zgw", &t, NOW, &NoKeys).unwrap(), p);
}

#[test]
fn client_is_named_by_client_id_or_else_iss() {
    let v = zgw_verifier(0);
    // client_id wins over iss; the principal's client is the one whose secret verified.
    let c = json!({"iss": "whatever", "client_id": "app-a", "iat": NOW});
    let p = verify(&v, &sign_hmac(Algorithm::HS256, SECRET, None, &c), NOW).unwrap();
    assert_eq!(p.client_id.as_deref(), Some("app-a"));
    // Without client_id, iss names the client.
    let c = json!({"iss": "app-a", "iat": NOW});
    let p = verify(&v, &sign_hmac(Algorithm::HS256, SECRET, None, &c), NOW).unwrap();
    assert_eq!(p.client_id.as_deref(), Some("app-a"));
    // Neither.
    let c = json!({"iat": NOW});
    assert_eq!(
        verify(&v, &sign_hmac(Algorithm::HS256, SECRET, None, &c), NOW).unwrap_err(),
        TokenError::MissingClaim {
            issuer: "zgw".into(),
            claim: "client_id"
        }
    );
    let c = json!({"client_id": 5, "iat": NOW});
    assert_eq!(
        verify(&v, &sign_hmac(Algorithm::HS256, SECRET, None, &c), NOW)
            .unwrap_err()
            .code(),
        "invalid_claim"
    );
}

#[test]
fn wrong_secret_and_unknown_client() {
    let v = zgw_verifier(0);
    // Signed with S2 (zgw.md D2).
    let t = sign_hmac(Algorithm::HS256, b"S2-wrong-secret", None, &zgw_claims(NOW));
    assert_eq!(
        verify(&v, &t, NOW).unwrap_err(),
        TokenError::BadSignature {
            issuer: "zgw".into()
        }
    );
    // app-b's secret for an app-a token: each client has its own secret.
    let t = sign_hmac(
        Algorithm::HS256,
        b"another-fictional-secret-for-app-b",
        None,
        &zgw_claims(NOW),
    );
    assert_eq!(verify(&v, &t, NOW).unwrap_err().code(), "bad_signature");
    let c = json!({"iss": "app-x", "client_id": "app-x", "iat": NOW});
    let t = sign_hmac(Algorithm::HS256, SECRET, None, &c);
    assert_eq!(
        verify(&v, &t, NOW).unwrap_err(),
        TokenError::UnknownClient {
            issuer: "zgw".into()
        }
    );
}

#[test]
fn iat_is_required_and_drives_expiry() {
    let v = zgw_verifier(0);
    let c = json!({"iss": "app-a", "client_id": "app-a"});
    assert_eq!(
        verify(&v, &sign_hmac(Algorithm::HS256, SECRET, None, &c), NOW).unwrap_err(),
        TokenError::MissingClaim {
            issuer: "zgw".into(),
            claim: "iat"
        }
    );
    // Expiry 3600 s, leeway 0: a token aged 3600 s is expired, 3599 s is fine (zgw.md D3).
    let t = sign_hmac(Algorithm::HS256, SECRET, None, &zgw_claims(NOW - 3600));
    assert_eq!(
        verify(&v, &t, NOW).unwrap_err(),
        TokenError::Expired {
            issuer: "zgw".into()
        }
    );
    let t = sign_hmac(Algorithm::HS256, SECRET, None, &zgw_claims(NOW - 3599));
    assert!(verify(&v, &t, NOW).is_ok());
    // Leeway 3: aged 3601 s is allowed.
    let lenient = zgw_verifier(3);
    let t = sign_hmac(Algorithm::HS256, SECRET, None, &zgw_claims(NOW - 3601));
    assert!(verify(&lenient, &t, NOW).is_ok());
    // A non-number iat.
    let mut c = zgw_claims(NOW);
    c["iat"] = json!("now");
    assert_eq!(
        verify(&v, &sign_hmac(Algorithm::HS256, SECRET, None, &c), NOW)
            .unwrap_err()
            .code(),
        "invalid_claim"
    );
}

#[test]
fn exp_and_nbf_are_enforced_when_present() {
    let v = zgw_verifier(0);
    let mut c = zgw_claims(NOW);
    c["exp"] = json!(NOW - 1);
    let t = sign_hmac(Algorithm::HS256, SECRET, None, &c);
    assert_eq!(verify(&v, &t, NOW).unwrap_err().code(), "expired");
    let mut c = zgw_claims(NOW);
    c["nbf"] = json!(NOW + 1);
    let t = sign_hmac(Algorithm::HS256, SECRET, None, &c);
    assert_eq!(
        verify(&v, &t, NOW).unwrap_err(),
        TokenError::NotYetValid {
            issuer: "zgw".into()
        }
    );
    // iat in the future is rejected (ZGW only warns; sluis is stricter).
    let t = sign_hmac(Algorithm::HS256, SECRET, None, &zgw_claims(NOW + 60));
    assert_eq!(verify(&v, &t, NOW).unwrap_err().code(), "not_yet_valid");
}

#[test]
fn only_allowed_hmac_algorithms() {
    let v = zgw_verifier(0);
    let t = sign_hmac(Algorithm::HS512, SECRET, None, &zgw_claims(NOW));
    assert_eq!(
        verify(&v, &t, NOW).unwrap_err(),
        TokenError::AlgorithmNotAllowed {
            issuer: "zgw".into(),
            alg: Algorithm::HS512
        }
    );
    let t = raw_token(&json!({"alg": "none"}), &zgw_claims(NOW), "");
    assert_eq!(verify(&v, &t, NOW).unwrap_err(), TokenError::AlgorithmNone);
    // Allowing HS512 explicitly.
    let mut clients = HmacClients::new("zgw")
        .with_client("app-a", SECRET)
        .unwrap();
    clients.algorithms = vec![Algorithm::HS256, Algorithm::HS512];
    let v = Verifier::new(vec![])
        .unwrap()
        .with_hmac_clients(clients)
        .unwrap();
    let t = sign_hmac(Algorithm::HS512, SECRET, None, &zgw_claims(NOW));
    assert!(verify(&v, &t, NOW).is_ok());
}

#[test]
fn null_user_id_is_accepted() {
    let v = zgw_verifier(0);
    let mut c = zgw_claims(NOW);
    c["user_id"] = Value::Null;
    let p = verify(&v, &sign_hmac(Algorithm::HS256, SECRET, None, &c), NOW).unwrap();
    assert_eq!(p.user, None);
}

#[test]
fn pinned_group_refuses_public_key_tokens() {
    let v = zgw_verifier(0);
    let keys = source("idp", all_keys());
    let t = sign(Algorithm::RS256, &claims());
    assert_eq!(
        v.verify_for_issuer("zgw", &t, NOW, &keys).unwrap_err(),
        TokenError::WrongIssuer {
            issuer: "zgw".into()
        }
    );
    // And the public-key issuer refuses HMAC tokens, pinned or not.
    let t = sign_hmac(Algorithm::HS256, SECRET, None, &zgw_claims(NOW));
    assert_eq!(
        v.verify_for_issuer("idp", &t, NOW, &keys)
            .unwrap_err()
            .code(),
        "hmac_not_allowed"
    );
    // An HMAC token claiming the public-key issuer's iss, pinned to the HMAC group.
    let mut c = zgw_claims(NOW);
    c["iss"] = json!(ISS);
    let t = sign_hmac(Algorithm::HS256, SECRET, None, &c);
    assert_eq!(
        v.verify_for_issuer("zgw", &t, NOW, &keys).unwrap_err(),
        TokenError::HmacNotAllowed {
            issuer: "idp".into()
        }
    );
}

#[test]
fn hmac_group_config_is_validated() {
    let mut c = HmacClients::new("zgw");
    c.algorithms = vec![Algorithm::RS256];
    assert_eq!(
        Verifier::new(vec![])
            .unwrap()
            .with_hmac_clients(c)
            .unwrap_err()
            .code(),
        "invalid_config"
    );
    let mut c = HmacClients::new("zgw");
    c.algorithms.clear();
    assert!(Verifier::new(vec![]).unwrap().with_hmac_clients(c).is_err());
    let mut c = HmacClients::new("zgw")
        .with_client("app-a", SECRET)
        .unwrap();
    assert_eq!(c.len(), 1);
    assert!(c.remove("app-a"));
    assert!(c.is_empty());
}
