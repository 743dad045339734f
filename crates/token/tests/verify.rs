//! Verification against public-key issuers: valid tokens per algorithm, every rejection, and
//! claim mapping.

mod common;

use std::collections::BTreeMap;

use common::*;
use jsonwebtoken::Algorithm;
use serde_json::json;
use sluis_token::{
    HmacClients, IssuerConfig, KeySet, Malformed, NoKeys, ScopeClaim, TokenError, Verifier,
};

fn verify(token: &str) -> Result<sluis_token::Principal, TokenError> {
    verifier().verify(token, NOW, &source("idp", all_keys()))
}

// ---- valid tokens ---------------------------------------------------------------------------

#[test]
fn valid_rs256_token_maps_to_principal() {
    let p = verify(&sign(Algorithm::RS256, &claims())).unwrap();
    assert_eq!(p.issuer, "idp");
    assert_eq!(p.subject, "f6b1c2d3-user");
    assert_eq!(p.user.as_deref(), Some("medewerker@gemeente.example"));
    assert_eq!(p.client_id.as_deref(), Some("taakapplicatie"));
    assert_eq!(p.scopes, vec!["openid", "brp.lezen"]);
    assert!(p.has_scope("brp.lezen"));
    assert!(!p.has_scope("brp"));
    assert_eq!(p.expires_at, Some(NOW + 300));
    assert_eq!(p.issued_at, Some(NOW - 10));
    assert_eq!(p.claims.get("iss"), Some(&json!(ISS)));
}

#[test]
fn valid_tokens_for_every_asymmetric_algorithm() {
    for alg in [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let p = verify(&sign(alg, &claims())).unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(p.subject, "f6b1c2d3-user", "{alg:?}");
    }
}

// ---- algorithm attacks ------------------------------------------------------------------------

#[test]
fn alg_none_crafted_by_hand_is_rejected() {
    for alg in ["none", "None", "NONE"] {
        for sig in ["", "c2ln"] {
            let t = raw_token(&json!({"alg": alg, "typ": "JWT"}), &claims(), sig);
            assert_eq!(
                verify(&t).unwrap_err(),
                TokenError::AlgorithmNone,
                "{alg} {sig}"
            );
        }
    }
    // The classic form: a valid token's header swapped for alg none, signature stripped.
    let valid = sign(Algorithm::RS256, &claims());
    let payload = valid.split('.').nth(1).unwrap();
    let t = format!("{}.{payload}.", b64(br#"{"alg":"none"}"#));
    assert_eq!(verify(&t).unwrap_err(), TokenError::AlgorithmNone);
}

#[test]
fn hs256_signed_with_the_rsa_public_key_is_rejected() {
    // The key-confusion attack: the attacker knows the public key and uses its bytes (PEM, DER,
    // or the JWK modulus) as an HMAC secret, hoping the verifier feeds the "key" to HS256.
    let pem = key_file("rsa-a.pub.pem");
    let der = pem_der(&pem);
    let n = jwk("rsa-a", None)["n"].as_str().unwrap().to_owned();
    for secret in [pem.clone(), der, n.into_bytes()] {
        for kid in [Some("rsa-a"), None] {
            let t = sign_hmac(Algorithm::HS256, &secret, kid, &claims());
            assert_eq!(
                verify(&t).unwrap_err(),
                TokenError::HmacNotAllowed {
                    issuer: "idp".into()
                }
            );
        }
    }
    // Also when HMAC clients exist: the issuer's `iss` never reaches the client secrets.
    let v = verifier()
        .with_hmac_clients(HmacClients::new("zgw").with_client(ISS, &pem).unwrap())
        .unwrap();
    let t = sign_hmac(Algorithm::HS256, &pem, None, &claims());
    assert_eq!(
        v.verify(&t, NOW, &source("idp", all_keys())).unwrap_err(),
        TokenError::HmacNotAllowed {
            issuer: "idp".into()
        }
    );
    // And a PEM-configured issuer is no different.
    let keys = source("idp", KeySet::from_pem(&pem).unwrap());
    let t = sign_hmac(Algorithm::HS256, &pem, None, &claims());
    assert_eq!(
        verifier().verify(&t, NOW, &keys).unwrap_err().code(),
        "hmac_not_allowed"
    );
}

#[test]
fn algorithms_outside_the_allow_list_are_rejected() {
    let v = Verifier::new(vec![issuer().with_algorithms([Algorithm::RS256])]).unwrap();
    for alg in [
        Algorithm::RS384,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        let t = sign(alg, &claims());
        assert_eq!(
            v.verify(&t, NOW, &source("idp", all_keys())).unwrap_err(),
            TokenError::AlgorithmNotAllowed {
                issuer: "idp".into(),
                alg
            }
        );
    }
    let t = raw_token(&json!({"alg": "ES512"}), &claims(), "c2ln");
    assert_eq!(verify(&t).unwrap_err(), TokenError::UnsupportedAlgorithm);
}

#[test]
fn verifier_config_refuses_hmac_for_public_key_issuers_and_duplicates() {
    let hs = issuer().with_algorithms([Algorithm::RS256, Algorithm::HS256]);
    assert_eq!(
        Verifier::new(vec![hs]).unwrap_err().code(),
        "invalid_config"
    );
    assert!(Verifier::new(vec![issuer(), issuer()]).is_err());
    let same_iss = IssuerConfig::new("other", ISS);
    assert!(Verifier::new(vec![issuer(), same_iss]).is_err());
    assert!(Verifier::new(vec![issuer().with_algorithms([])]).is_err());
    assert!(
        verifier()
            .with_hmac_clients(HmacClients::new("idp"))
            .is_err()
    );
}

// ---- who signed it --------------------------------------------------------------------------

#[test]
fn unknown_or_missing_issuer_is_rejected() {
    for iss in [json!("https://evil.example"), json!(null), json!(42)] {
        let t = sign(Algorithm::RS256, &claims_with(json!({"iss": iss})));
        assert_eq!(verify(&t).unwrap_err(), TokenError::UnknownIssuer, "{iss}");
    }
    // Exact match: a trailing slash is another issuer.
    let t = sign(
        Algorithm::RS256,
        &claims_with(json!({"iss": format!("{ISS}/")})),
    );
    assert_eq!(verify(&t).unwrap_err(), TokenError::UnknownIssuer);
    // HS256 with no HMAC clients configured: nobody to check it against.
    let t = sign_hmac(
        Algorithm::HS256,
        b"secret",
        None,
        &claims_with(json!({"iss": "app"})),
    );
    assert_eq!(verify(&t).unwrap_err(), TokenError::UnknownIssuer);
}

#[test]
fn wrong_issuer_when_pinned() {
    let other = IssuerConfig::new("other", "https://other.example");
    let v = Verifier::new(vec![issuer(), other]).unwrap();
    let mut keys = source("idp", all_keys());
    keys.insert("other".into(), all_keys());
    let t = sign(
        Algorithm::RS256,
        &claims_with(json!({"iss": "https://other.example"})),
    );
    // Accepted in general (it is a configured issuer) ...
    assert_eq!(v.verify(&t, NOW, &keys).unwrap().issuer, "other");
    // ... but not where only "idp" is trusted.
    assert_eq!(
        v.verify_for_issuer("idp", &t, NOW, &keys).unwrap_err(),
        TokenError::WrongIssuer {
            issuer: "idp".into()
        }
    );
    let good = sign(Algorithm::RS256, &claims());
    assert_eq!(
        v.verify_for_issuer("idp", &good, NOW, &keys)
            .unwrap()
            .issuer,
        "idp"
    );
    assert_eq!(
        v.verify_for_issuer("nope", &good, NOW, &keys)
            .unwrap_err()
            .code(),
        "invalid_config"
    );
}

#[test]
fn unknown_kid_is_reported_for_refresh() {
    let t = sign_with(Algorithm::RS256, "rsa-a", Some("rotated-away"), &claims());
    assert_eq!(
        verify(&t).unwrap_err(),
        TokenError::UnknownKey {
            issuer: "idp".into(),
            kid: Some("rotated-away".into())
        }
    );
    // No key set loaded for the issuer at all: same answer, so the caller fetches one.
    let t = sign(Algorithm::RS256, &claims());
    assert_eq!(
        verifier().verify(&t, NOW, &NoKeys).unwrap_err(),
        TokenError::UnknownKey {
            issuer: "idp".into(),
            kid: Some("rsa-a".into())
        }
    );
}

#[test]
fn kid_of_a_key_of_another_type_is_a_mismatch() {
    // kid "rsa-a" names an RSA key; an ES256 token claiming it must not be tried with it.
    let t = sign_with(Algorithm::ES256, "ec256", Some("rsa-a"), &claims());
    assert_eq!(
        verify(&t).unwrap_err(),
        TokenError::KeyMismatch {
            issuer: "idp".into()
        }
    );
    // P-384 key named by an ES256 token.
    let t = sign_with(Algorithm::ES256, "ec256", Some("ec384"), &claims());
    assert_eq!(verify(&t).unwrap_err().code(), "key_mismatch");
}

#[test]
fn bad_signatures_are_rejected() {
    let bad = TokenError::BadSignature {
        issuer: "idp".into(),
    };
    // Signed by a key the issuer never published, under the issuer's kid.
    let t = sign_with(Algorithm::RS256, "rsa-attacker", Some("rsa-a"), &claims());
    assert_eq!(verify(&t).unwrap_err(), bad);
    // A valid token with its payload swapped.
    let valid = sign(Algorithm::ES256, &claims());
    let mut parts: Vec<&str> = valid.split('.').collect();
    let forged = b64(serde_json::to_vec(&claims_with(json!({"scope": "brp.admin"}))).unwrap());
    parts[1] = &forged;
    assert_eq!(verify(&parts.join(".")).unwrap_err(), bad);
    // A signature of the right encoding but garbage content, for each key type.
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let valid = sign(alg, &claims());
        let (head, _) = valid.rsplit_once('.').unwrap();
        let t = format!("{head}.{}", b64([7u8; 64]));
        assert_eq!(verify(&t).unwrap_err(), bad, "{alg:?}");
    }
    // A truncated signature.
    let valid = sign(Algorithm::RS256, &claims());
    let (head, sig) = valid.rsplit_once('.').unwrap();
    let sig =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
    let t = format!("{head}.{}", b64(&sig[..200]));
    assert_eq!(verify(&t).unwrap_err(), bad);
}

#[test]
fn embedded_key_headers_are_ignored() {
    // The attacker signs with their own key and embeds it (jwk / jku / x5u); the verifier still
    // uses only the issuer's configured key named by kid.
    let attacker = jwk("rsa-attacker", Some("rsa-a"));
    let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
    header.kid = Some("rsa-a".into());
    header.jwk = Some(serde_json::from_value(attacker).unwrap());
    header.jku = Some("https://evil.example/jwks.json".into());
    let t = jsonwebtoken::encode(
        &header,
        &claims(),
        &encoding_key(Algorithm::RS256, "rsa-attacker"),
    )
    .unwrap();
    assert_eq!(verify(&t).unwrap_err().code(), "bad_signature");
}

// ---- time -------------------------------------------------------------------------------------

#[test]
fn expired_with_and_without_leeway() {
    let strict = Verifier::new(vec![issuer().with_leeway(0)]).unwrap();
    let keys = source("idp", all_keys());
    let t = sign(Algorithm::RS256, &claims_with(json!({"exp": NOW - 1})));
    assert_eq!(
        strict.verify(&t, NOW, &keys).unwrap_err(),
        TokenError::Expired {
            issuer: "idp".into()
        }
    );
    // At exactly exp the token is no longer accepted (RFC 7519 §4.1.4).
    let t = sign(Algorithm::RS256, &claims_with(json!({"exp": NOW})));
    assert_eq!(strict.verify(&t, NOW, &keys).unwrap_err().code(), "expired");
    // With 60 s leeway a token that expired 59 s ago passes, one that expired 60 s ago not.
    let lenient = Verifier::new(vec![issuer().with_leeway(60)]).unwrap();
    let t = sign(Algorithm::RS256, &claims_with(json!({"exp": NOW - 59})));
    assert!(lenient.verify(&t, NOW, &keys).is_ok());
    let t = sign(Algorithm::RS256, &claims_with(json!({"exp": NOW - 60})));
    assert_eq!(
        lenient.verify(&t, NOW, &keys).unwrap_err().code(),
        "expired"
    );
}

#[test]
fn not_yet_valid_nbf_and_future_iat() {
    let keys = source("idp", all_keys());
    let strict = Verifier::new(vec![issuer().with_leeway(0)]).unwrap();
    let t = sign(Algorithm::RS256, &claims_with(json!({"nbf": NOW + 1})));
    assert_eq!(
        strict.verify(&t, NOW, &keys).unwrap_err(),
        TokenError::NotYetValid {
            issuer: "idp".into()
        }
    );
    // Within the default 30 s leeway.
    let t = sign(Algorithm::RS256, &claims_with(json!({"nbf": NOW + 30})));
    assert!(verify(&t).is_ok());
    let t = sign(Algorithm::RS256, &claims_with(json!({"nbf": NOW + 31})));
    assert_eq!(verify(&t).unwrap_err().code(), "not_yet_valid");
    // iat in the future beyond leeway.
    let t = sign(Algorithm::RS256, &claims_with(json!({"iat": NOW + 3600})));
    assert_eq!(verify(&t).unwrap_err().code(), "not_yet_valid");
}

#[test]
fn exp_is_required_unless_max_age_is_set() {
    let no_exp = claims_with(json!({"exp": null}));
    let t = sign(Algorithm::RS256, &no_exp);
    assert_eq!(
        verify(&t).unwrap_err(),
        TokenError::MissingClaim {
            issuer: "idp".into(),
            claim: "exp"
        }
    );
    let v = Verifier::new(vec![issuer().with_max_age(Some(600))]).unwrap();
    let keys = source("idp", all_keys());
    let p = v.verify(&t, NOW, &keys).unwrap();
    assert_eq!(p.expires_at, Some(NOW - 10 + 600));
    // Too old by iat (plus 30 s leeway).
    assert_eq!(
        v.verify(&t, NOW + 620, &keys).unwrap_err().code(),
        "expired"
    );
    // A string exp is not a date.
    let t = sign(Algorithm::RS256, &claims_with(json!({"exp": "tomorrow"})));
    assert_eq!(
        verify(&t).unwrap_err(),
        TokenError::InvalidClaim {
            issuer: "idp".into(),
            claim: "exp"
        }
    );
}

// ---- audience -----------------------------------------------------------------------------------

#[test]
fn audience_checks() {
    let t = sign(
        Algorithm::RS256,
        &claims_with(json!({"aud": "someone-else"})),
    );
    assert_eq!(
        verify(&t).unwrap_err(),
        TokenError::WrongAudience {
            issuer: "idp".into()
        }
    );
    let t = sign(Algorithm::RS256, &claims_with(json!({"aud": ["a", "b"]})));
    assert_eq!(verify(&t).unwrap_err().code(), "wrong_audience");
    let t = sign(Algorithm::RS256, &claims_with(json!({"aud": AUD})));
    assert!(verify(&t).is_ok());
    let t = sign(Algorithm::RS256, &claims_with(json!({"aud": null})));
    assert_eq!(
        verify(&t).unwrap_err(),
        TokenError::MissingClaim {
            issuer: "idp".into(),
            claim: "aud"
        }
    );
    let t = sign(Algorithm::RS256, &claims_with(json!({"aud": 7})));
    assert_eq!(verify(&t).unwrap_err().code(), "invalid_claim");
    // Audience check switched off: anything goes.
    let v = Verifier::new(vec![issuer().with_audiences(Vec::<String>::new())]).unwrap();
    let t = sign(
        Algorithm::RS256,
        &claims_with(json!({"aud": "someone-else"})),
    );
    assert!(v.verify(&t, NOW, &source("idp", all_keys())).is_ok());
}

// ---- shape ------------------------------------------------------------------------------------

#[test]
fn malformed_and_oversized_tokens() {
    assert_eq!(verify("").unwrap_err(), TokenError::Empty);
    assert_eq!(
        verify("garbage").unwrap_err(),
        TokenError::Malformed(Malformed::Parts)
    );
    let valid = sign(Algorithm::RS256, &claims());
    let two_parts = valid.rsplit_once('.').unwrap().0;
    assert_eq!(
        verify(two_parts).unwrap_err(),
        TokenError::Malformed(Malformed::Parts)
    );
    assert_eq!(
        verify(&format!("{valid}.extra.parts")).unwrap_err(),
        TokenError::Malformed(Malformed::Parts)
    );
    assert_eq!(
        verify(&format!("Bearer {valid}")).unwrap_err(),
        TokenError::Malformed(Malformed::Characters)
    );
    assert_eq!(
        verify(&valid.replacen('.', "=.", 1)).unwrap_err(),
        TokenError::Malformed(Malformed::Characters)
    );
    // Bad base64: a header of impossible length, a payload that is not base64 of JSON.
    let (h, rest) = valid.split_once('.').unwrap();
    // Five characters can never be base64 (one left-over character carries 6 bits).
    assert_eq!(
        verify(&format!("xxxxx.{rest}")).unwrap_err(),
        TokenError::Malformed(Malformed::HeaderEncoding)
    );
    assert_eq!(
        verify(&format!("{}.{rest}", b64("not json"))).unwrap_err(),
        TokenError::Malformed(Malformed::HeaderJson)
    );
    let (payload, sig) = rest.split_once('.').unwrap();
    assert_eq!(
        verify(&format!("{h}.{payload}x.{sig}")).unwrap_err(),
        TokenError::Malformed(Malformed::PayloadEncoding)
    );
    assert_eq!(
        verify(&format!("{h}.{payload}.{sig}x")).unwrap_err(),
        TokenError::Malformed(Malformed::SignatureEncoding)
    );
    assert_eq!(
        verify(&format!("{h}.{payload}.")).unwrap_err(),
        TokenError::Malformed(Malformed::EmptySignature)
    );

    // Oversized: default limit 16 KiB, configurable.
    let big = claims_with(json!({"padding": "x".repeat(20 * 1024)}));
    let t = sign(Algorithm::RS256, &big);
    assert_eq!(
        verify(&t).unwrap_err(),
        TokenError::TooLarge {
            max_bytes: 16 * 1024
        }
    );
    let small = verifier().with_max_token_bytes(100);
    assert_eq!(small.max_token_bytes(), 100);
    assert_eq!(
        small
            .verify(&valid, NOW, &source("idp", all_keys()))
            .unwrap_err(),
        TokenError::TooLarge { max_bytes: 100 }
    );
}

// ---- scopes -----------------------------------------------------------------------------------

#[expect(
    clippy::unwrap_used,
    reason = "test fixture: failure must abort the test"
)]
fn verify_scopes(scopes: ScopeClaim, patch: serde_json::Value) -> Result<Vec<String>, TokenError> {
    let v = Verifier::new(vec![issuer().with_scopes(scopes)]).unwrap();
    let t = sign(Algorithm::ES256, &claims_with(patch));
    v.verify(&t, NOW, &source("idp", all_keys()))
        .map(|p| p.scopes)
}

#[test]
fn scope_claim_variants() {
    assert_eq!(
        verify_scopes(ScopeClaim::Scope, json!({"scope": "a b  c"})).unwrap(),
        vec!["a", "b", "c"]
    );
    assert_eq!(
        verify_scopes(ScopeClaim::Scp, json!({"scp": "User.Read Files.Read"})).unwrap(),
        vec!["User.Read", "Files.Read"]
    );
    assert_eq!(
        verify_scopes(ScopeClaim::Scp, json!({"scp": ["x", "y"]})).unwrap(),
        vec!["x", "y"]
    );
    assert_eq!(
        verify_scopes(
            ScopeClaim::Roles,
            json!({"roles": ["BRP.Raadplegen", "Zaken.Lezen"]})
        )
        .unwrap(),
        vec!["BRP.Raadplegen", "Zaken.Lezen"]
    );
    let mut mapping = BTreeMap::new();
    mapping.insert("medewerker".to_string(), "FP/MDW".to_string());
    assert_eq!(
        verify_scopes(
            ScopeClaim::KeycloakRealmRoles { mapping },
            json!({"realm_access": {"roles": ["medewerker", "brk_rs", "default-roles-gemeente"]}})
        )
        .unwrap(),
        vec!["FP/MDW", "BRK/RS", "DEFAULT-ROLES-GEMEENTE"]
    );
    assert_eq!(
        verify_scopes(ScopeClaim::Scopes, json!({"scopes": ["HR/R", "BRK/RSN"]})).unwrap(),
        vec!["HR/R", "BRK/RSN"]
    );
    assert_eq!(
        verify_scopes(ScopeClaim::None, json!({"scope": null})).unwrap(),
        Vec::<String>::new()
    );
    // A present but empty claim gives no scopes, which is not an error.
    assert_eq!(
        verify_scopes(ScopeClaim::Scopes, json!({"scopes": []})).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn missing_scopes_claim_is_rejected() {
    for (scopes, claim) in [
        (ScopeClaim::Scope, "scope"),
        (ScopeClaim::Scp, "scp"),
        (ScopeClaim::Roles, "roles"),
        (
            ScopeClaim::KeycloakRealmRoles {
                mapping: BTreeMap::new(),
            },
            "realm_access.roles",
        ),
        (ScopeClaim::Scopes, "scopes"),
    ] {
        assert_eq!(
            verify_scopes(scopes, json!({"scope": null})).unwrap_err(),
            TokenError::MissingScopes {
                issuer: "idp".into(),
                claim
            }
        );
    }
    // realm_access without roles is missing too; roles of the wrong type are invalid.
    let kc = || ScopeClaim::KeycloakRealmRoles {
        mapping: BTreeMap::new(),
    };
    assert_eq!(
        verify_scopes(kc(), json!({"realm_access": {}}))
            .unwrap_err()
            .code(),
        "missing_scopes"
    );
    assert_eq!(
        verify_scopes(kc(), json!({"realm_access": {"roles": [1]}}))
            .unwrap_err()
            .code(),
        "invalid_claim"
    );
    assert_eq!(
        verify_scopes(ScopeClaim::Scope, json!({"scope": {"a": 1}}))
            .unwrap_err()
            .code(),
        "invalid_claim"
    );
}

// ---- user and client --------------------------------------------------------------------------

#[test]
fn user_and_client_claims_first_present_wins() {
    let p = verify(&sign(
        Algorithm::RS256,
        &claims_with(json!({"email": null})),
    ))
    .unwrap();
    assert_eq!(p.user.as_deref(), Some("medewerker"));
    let p = verify(&sign(
        Algorithm::RS256,
        &claims_with(json!({"email": "", "preferred_username": null})),
    ))
    .unwrap();
    assert_eq!(
        p.user.as_deref(),
        Some("f6b1c2d3-user"),
        "falls back to sub"
    );

    let p = verify(&sign(
        Algorithm::RS256,
        &claims_with(json!({"azp": null, "client_id": "cc-app", "appid": "entra-app"})),
    ))
    .unwrap();
    assert_eq!(p.client_id.as_deref(), Some("cc-app"));
    let p = verify(&sign(
        Algorithm::RS256,
        &claims_with(json!({"azp": null, "appid": "entra-app"})),
    ))
    .unwrap();
    assert_eq!(p.client_id.as_deref(), Some("entra-app"));
    let p = verify(&sign(Algorithm::RS256, &claims_with(json!({"azp": null})))).unwrap();
    assert_eq!(p.client_id, None);

    // Custom claim lists (Entra ID: upn / unique_name, appid).
    let v = Verifier::new(vec![
        issuer()
            .with_user_claims(["upn", "unique_name"])
            .with_client_claims(["appid"]),
    ])
    .unwrap();
    let t = sign(
        Algorithm::RS256,
        &claims_with(json!({"unique_name": "jan@gemeente.example", "appid": "a1"})),
    );
    let p = v.verify(&t, NOW, &source("idp", all_keys())).unwrap();
    assert_eq!(p.user.as_deref(), Some("jan@gemeente.example"));
    assert_eq!(p.client_id.as_deref(), Some("a1"));
}

#[test]
fn subject_falls_back_to_client_and_must_be_a_string() {
    let p = verify(&sign(Algorithm::RS256, &claims_with(json!({"sub": null})))).unwrap();
    assert_eq!(p.subject, "taakapplicatie");
    let t = sign(
        Algorithm::RS256,
        &claims_with(json!({"sub": null, "azp": null})),
    );
    assert_eq!(
        verify(&t).unwrap_err(),
        TokenError::MissingClaim {
            issuer: "idp".into(),
            claim: "sub"
        }
    );
    let t = sign(Algorithm::RS256, &claims_with(json!({"sub": 12})));
    assert_eq!(verify(&t).unwrap_err().code(), "invalid_claim");
}

// ---- errors never leak --------------------------------------------------------------------------

#[test]
fn error_messages_reveal_nothing_from_the_token_or_keys() {
    let secret_kid = "kid-7f3a9c";
    let cases = [
        sign_with(Algorithm::RS256, "rsa-a", Some(secret_kid), &claims()),
        sign_with(Algorithm::RS256, "rsa-attacker", Some("rsa-a"), &claims()),
        sign(
            Algorithm::RS256,
            &claims_with(json!({"iss": "https://evil-iss.example"})),
        ),
        sign(Algorithm::RS256, &claims_with(json!({"aud": "evil-aud"}))),
        sign(Algorithm::RS256, &claims_with(json!({"exp": NOW - 1000}))),
        sign_hmac(
            Algorithm::HS256,
            &key_file("rsa-a.pub.pem"),
            None,
            &claims(),
        ),
        raw_token(&json!({"alg": "none"}), &claims(), ""),
        "evil-garbage-token".to_string(),
    ];
    let n = jwk("rsa-a", None)["n"].as_str().unwrap().to_owned();
    for t in &cases {
        let e = verify(t).unwrap_err();
        let shown = format!("{e}");
        for needle in [
            secret_kid,
            "evil",
            "medewerker",
            "f6b1c2d3",
            &n[..16],
            &t[..t.len().min(12)],
        ] {
            assert!(!shown.contains(needle), "{shown:?} contains {needle:?}");
        }
        assert!(e.is_token_rejection());
    }
}

#[test]
fn key_set_errors_do_not_echo_input() {
    let e = KeySet::from_jwks(b"{\"keys\": \"sekrit-material\"}").unwrap_err();
    assert!(!e.to_string().contains("sekrit"));
    let e = KeySet::from_pem(b"-----BEGIN PUBLIC KEY-----\nsekrit\n-----END PUBLIC KEY-----\n")
        .unwrap_err();
    assert!(!e.to_string().contains("sekrit"));
    assert!(!e.is_token_rejection());
}
