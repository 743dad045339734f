//! Property: no input makes `verify` panic, and no input it was not given a valid signature for
//! is accepted.

mod common;

use std::collections::HashMap;
use std::sync::OnceLock;

use common::*;
use jsonwebtoken::Algorithm;
use proptest::prelude::*;
use sluis_token::{HmacClients, KeySet, TokenError, Verifier};

/// Verifier, keys and one valid token, built once (key loading and signing are slow in debug
/// builds and are not what is being tested).
struct Fixture {
    verifier: Verifier,
    keys: HashMap<String, KeySet>,
    valid: String,
}

#[expect(
    clippy::unwrap_used,
    reason = "test fixture: failure must abort the test"
)]
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture {
        verifier: Verifier::new(vec![issuer()])
            .unwrap()
            .with_hmac_clients(
                HmacClients::new("zgw")
                    .with_client("app-a", b"fictional-secret-of-app-a-32bytes!")
                    .unwrap(),
            )
            .unwrap(),
        keys: source("idp", all_keys()),
        valid: sign(Algorithm::ES256, &claims()),
    })
}

fn check(token: &str) -> Result<sluis_token::Principal, TokenError> {
    let f = fixture();
    f.verifier.verify(token, NOW, &f.keys)
}

/// JSON-ish values to put in headers and payloads.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)),
        "[a-zA-Z0-9 :/._-]{0,24}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("none"),
            Just("HS256"),
            Just("RS256"),
            Just("ES256"),
            Just("EdDSA"),
            Just(ISS),
            Just("app-a"),
            Just("rsa-a"),
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("alg".to_string()),
                    Just("kid".to_string()),
                    Just("iss".to_string()),
                    Just("client_id".to_string()),
                    Just("exp".to_string()),
                    Just("iat".to_string()),
                    Just("nbf".to_string()),
                    Just("aud".to_string()),
                    Just("scope".to_string()),
                    Just("crit".to_string()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn the_fixture_token_is_valid() {
    assert!(check(&fixture().valid).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_are_rejected_without_panic(s in any::<String>()) {
        prop_assert!(check(&s).is_err());
    }

    #[test]
    fn jwt_alphabet_strings_are_rejected_without_panic(s in "[A-Za-z0-9_.-]{0,400}") {
        prop_assert!(check(&s).is_err());
    }

    #[test]
    fn structured_forgeries_are_rejected_without_panic(
        header in json_value(),
        payload in json_value(),
        sig in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let t = raw_token(&header, &payload, &b64(&sig));
        prop_assert!(check(&t).is_err());
    }

    #[test]
    fn mutated_valid_tokens_are_rejected(index in any::<prop::sample::Index>(), byte in "[A-Za-z0-9_.-]") {
        let t = &fixture().valid;
        let i = index.index(t.len());
        let mut mutated = t.clone();
        mutated.replace_range(i..=i, &byte);
        prop_assume!(&mutated != t);
        prop_assert!(check(&mutated).is_err());
    }
}
