//! Arbitrary bytes as a bearer token and as a JWKS document: verification and key-set parsing
//! must return an error (or, for a JWKS, a key set), never panic.
#![no_main]

use std::collections::HashMap;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use sluis_token::{IssuerConfig, KeySet, Verifier};

fuzz_target!(|data: &[u8]| {
    // The first byte splits the input into a JWKS document and a token.
    let Some((&split, rest)) = data.split_first() else { return };
    let at = usize::from(split).min(rest.len());
    let (jwks, token) = rest.split_at(at);
    let keys = KeySet::from_jwks(jwks).unwrap_or_default();
    let Ok(verifier) = Verifier::new(vec![IssuerConfig::new("idp", "https://idp.example")]) else {
        return;
    };
    let mut sources: HashMap<String, Arc<KeySet>> = HashMap::new();
    sources.insert("idp".into(), Arc::new(keys));
    let token = String::from_utf8_lossy(token);
    let _ = verifier.verify(&token, 1_800_000_000, &sources);
});
