//! Sealed burgerservicenummers: scenario H5 of `domain/brp.md` and key rotation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::{h_policy, scopes};
use serde_json::json;
use sluis_brp::{BrpError, Keyring, NONCE_LEN, SealKey, is_sealed, open_request, validate};

fn key(id: &str, byte: u8) -> SealKey {
    SealKey::new(id, [byte; 32]).unwrap()
}

fn nonces() -> impl FnMut() -> [u8; NONCE_LEN] {
    let mut n = 0u8;
    move || {
        n = n.wrapping_add(1);
        [n; NONCE_LEN]
    }
}

const C1: &str = "client-a/C1";
const C2: &str = "client-a/C2";

#[test]
fn seal_open_round_trip() {
    let ring = Keyring::new(key("k2025", 1), vec![]).unwrap();
    let token = ring.seal("999993367", C1, [7; NONCE_LEN]).unwrap();
    assert!(token.starts_with("bsn1.k2025."), "{token}");
    assert!(is_sealed(&token));
    assert!(!token.contains("999993367"));
    // nonce (24) + ciphertext (9) + tag (16) = 49 bytes → 66 base64url characters.
    assert_eq!(token.len(), "bsn1.k2025.".len() + 66);
    assert_eq!(ring.open(&token, C1).unwrap(), "999993367");
    // Another nonce, another token, same BSN.
    let other = ring.seal("999993367", C1, [8; NONCE_LEN]).unwrap();
    assert_ne!(token, other);
    assert_eq!(ring.open(&other, C1).unwrap(), "999993367");
}

#[test]
fn wrong_context_tampering_and_garbage_do_not_open() {
    let ring = Keyring::new(key("k1", 1), vec![]).unwrap();
    let token = ring.seal("999993367", C1, [7; NONCE_LEN]).unwrap();
    assert!(matches!(ring.open(&token, C2), Err(BrpError::NotOpenable)));
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 10;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for bad in [
        tampered.as_str(),
        "bsn1.k1.",
        "bsn1.k1.!!!",
        "bsn1.unknown.AAAA",
        "bsn1.k1",
        "bsn2.k1.AAAA",
        &token.replacen("k1", "k2", 1),
    ] {
        assert!(
            matches!(ring.open(bad, C1), Err(BrpError::NotOpenable)),
            "{bad}"
        );
    }
    // Refuses to seal what is not a BSN.
    assert!(matches!(
        ring.seal("12345", C1, [0; NONCE_LEN]),
        Err(BrpError::Seal(_))
    ));
}

#[test]
fn key_rotation_old_key_still_opens() {
    let old = Keyring::new(key("k1", 1), vec![]).unwrap();
    let token = old.seal("999993367", C1, [7; NONCE_LEN]).unwrap();
    let rotated = Keyring::new(key("k2", 2), vec![key("k1", 1)]).unwrap();
    assert_eq!(rotated.current_id(), "k2");
    assert_eq!(rotated.open(&token, C1).unwrap(), "999993367");
    let fresh = rotated.seal("999993367", C1, [9; NONCE_LEN]).unwrap();
    assert!(fresh.starts_with("bsn1.k2."));
    // Once the old key is retired, its tokens no longer open.
    let retired = Keyring::new(key("k2", 2), vec![]).unwrap();
    assert!(matches!(
        retired.open(&token, C1),
        Err(BrpError::NotOpenable)
    ));
    assert!(retired.open(&fresh, C1).is_ok());
}

#[test]
fn keys_and_keyrings_are_checked() {
    assert!(SealKey::new("", [0; 32]).is_err());
    assert!(SealKey::new("a.b", [0; 32]).is_err());
    assert!(SealKey::new(&"k".repeat(33), [0; 32]).is_err());
    assert!(Keyring::new(key("k1", 1), vec![key("k1", 2)]).is_err());
    let b64 = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    let from_b64 = SealKey::from_base64("k1", b64).unwrap();
    let ring = Keyring::new(from_b64, vec![]).unwrap();
    let token = Keyring::new(key("k1", 1), vec![])
        .unwrap()
        .seal("999993367", C1, [1; NONCE_LEN])
        .unwrap();
    assert_eq!(ring.open(&token, C1).unwrap(), "999993367");
    assert!(SealKey::from_base64("k1", "AQID").is_err());
    assert!(SealKey::from_base64("k1", "not base64!").is_err());
    // Debug never shows key material.
    assert_eq!(
        format!("{:?}", key("k1", 0xAB)),
        "SealKey { id: \"k1\", .. }"
    );
}

// H5: a pseudonymous client searches, gets tokens, looks a person up with a token.
#[test]
fn h5_round_trip_through_search_and_lookup() {
    let ring = Keyring::new(key("k1", 1), vec![]).unwrap();
    let policy = h_policy();
    let caller = scopes(&[
        "benk-brp-zoekvraag-postcode-huisnummer",
        "benk-brp-zoekvraag-bsn",
        "benk-brp-gegevensset-1",
        "benk-brp-gegevensset-ids",
        "benk-brp-gegevensset-familie",
        "benk-brp-encrypt-bsn",
    ]);

    // Search under C1.
    let q = validate(&json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "1234AB", "huisnummer": 1, "fields": ["naam", "burgerservicenummer"]})).unwrap();
    let plan = policy.decide(&q, &caller).unwrap();
    assert!(plan.pseudonymize());
    let mut answer = json!({"type": "ZoekMetPostcodeEnHuisnummer", "personen": [{"burgerservicenummer": "999993367", "naam": {"voornamen": "Piet"}}]});
    let summary = common::filter(&plan, &mut answer);
    assert_eq!(
        summary.persons[0].burgerservicenummer.as_deref(),
        Some("999993367"),
        "the audit sees the plaintext"
    );
    let sealed = common::seal(&mut answer, &ring, C1, &mut nonces()).unwrap();
    assert_eq!(sealed, 1);
    let token = answer["personen"][0]["burgerservicenummer"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(is_sealed(&token) && !token.contains("999993367"));

    // Follow-up lookup with the token under C1: upstream receives the BSN.
    let mut request = json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [token.clone()], "fields": ["burgerservicenummer", "naam", "partners"]});
    assert_eq!(open_request(&mut request, &ring, C1).unwrap(), 1);
    let q = validate(&request).unwrap();
    let plan = policy.decide(&q, &caller).unwrap();
    assert_eq!(
        plan.upstream_body()["burgerservicenummer"],
        json!(["999993367"])
    );
    // Every burgerservicenummer in the delivered answer is sealed, at any depth; what the
    // upstream sent outside the grant (`lijst`) is not delivered at all.
    let mut answer = json!({"personen": [{
        "naam": {"voornamen": "Piet"},
        "burgerservicenummer": "999993367",
        "aNummer": "1234567890",
        "partners": [{"burgerservicenummer": "999993239"}, {"burgerservicenummer": null}],
        "lijst": {"burgerservicenummer": ["999991425", 999994803_u64]}
    }]});
    let summary = common::filter(&plan, &mut answer);
    assert_eq!(summary.stripped_fields, ["lijst"]);
    assert_eq!(
        common::seal(&mut answer, &ring, C1, &mut nonces()).unwrap(),
        2
    );
    let text = answer.to_string();
    for bsn in ["999993367", "999993239", "999991425", "999994803"] {
        assert!(!text.contains(bsn), "{bsn} leaked: {text}");
    }
    // Sealing itself reaches any depth, whatever the shape.
    let mut raw =
        json!({"personen": [{"lijst": {"burgerservicenummer": ["999991425", 999994803_u64]}}]});
    assert!(common::seal(&mut raw, &ring, C1, &mut nonces()).unwrap() >= 1);
    let raw_text = raw.to_string();
    assert!(
        !raw_text.contains("999991425") && !raw_text.contains("999994803"),
        "{raw_text}"
    );
    let partner = answer["personen"][0]["partners"][0]["burgerservicenummer"]
        .as_str()
        .unwrap();
    assert_eq!(ring.open(partner, C1).unwrap(), "999993239");
    assert_eq!(
        answer["personen"][0]["partners"][1]["burgerservicenummer"],
        json!(null)
    );

    // The same token under C2 → 403 "Geen toegang tot versleutelde waarde."
    let mut request =
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [token]});
    let err = open_request(&mut request, &ring, C2).unwrap_err();
    let d = err.to_denial().unwrap();
    assert_eq!(
        (d.status, d.title.as_str()),
        (403, "Geen toegang tot versleutelde waarde.")
    );

    // A plaintext BSN from the pseudonymous client → 403.
    let mut request =
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": ["999993367"]});
    let err = open_request(&mut request, &ring, C1).unwrap_err();
    assert!(matches!(err, BrpError::Plaintext));
    let d = err.to_denial().unwrap();
    assert_eq!(
        (d.status, d.title.as_str()),
        (
            403,
            "U bent niet geautoriseerd voor niet versleutelde burgerservicenummers."
        )
    );
    // Other errors are sluis's own, not answers to the client.
    assert!(BrpError::Seal("x".into()).to_denial().is_none());
}

#[test]
fn open_request_edge_cases() {
    let ring = Keyring::new(key("k1", 1), vec![]).unwrap();
    let mut no_bsn =
        json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "1234AB", "huisnummer": 1});
    assert_eq!(open_request(&mut no_bsn, &ring, C1).unwrap(), 0);
    // Non-strings are left for validation to refuse.
    let mut odd = json!({"burgerservicenummer": [1, null]});
    assert_eq!(open_request(&mut odd, &ring, C1).unwrap(), 0);
    // A single string (invalid per contract) is opened too, and then refused by validation.
    let token = ring.seal("999993367", C1, [3; NONCE_LEN]).unwrap();
    let mut single =
        json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": token});
    assert_eq!(open_request(&mut single, &ring, C1).unwrap(), 1);
    assert_eq!(single["burgerservicenummer"], json!("999993367"));
    assert!(validate(&single).is_err());
}

#[test]
fn seal_response_refuses_odd_values() {
    let ring = Keyring::new(key("k1", 1), vec![]).unwrap();
    let mut body = json!({"personen": [{"burgerservicenummer": {"nested": "999993367"}}]});
    assert!(matches!(
        common::seal(&mut body, &ring, C1, &mut nonces()),
        Err(BrpError::Seal(_))
    ));
    let mut body = json!({"personen": [{"burgerservicenummer": "not-a-bsn"}]});
    assert!(common::seal(&mut body, &ring, C1, &mut nonces()).is_err());
}
