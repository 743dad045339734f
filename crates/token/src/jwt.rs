//! Structural parsing of a compact JWS, before anything is trusted.
//!
//! Only what the verifier needs to choose a key is read here: the header's `alg` and `kid`, and
//! the payload as a JSON object (for the unverified `iss` / `client_id`). Header parameters that
//! point at keys (`jku`, `jwk`, `x5u`, `x5c`) are deliberately ignored: keys come only from
//! configuration.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use crate::error::{Malformed, TokenError};

/// A token split and decoded, signature not yet checked.
#[derive(Debug)]
pub(crate) struct Parsed<'t> {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) claims: Map<String, Value>,
    /// `header.payload`, the signed bytes.
    pub(crate) signing_input: &'t str,
    /// The base64url signature as it appeared.
    pub(crate) signature: &'t str,
}

impl Parsed<'_> {
    /// A string claim, if present and a string.
    pub(crate) fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn decode_object(
    part: &str,
    enc: Malformed,
    json: Malformed,
) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed(enc))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(TokenError::Malformed(json)),
    }
}

/// Split, decode and sanity-check a token. Checks, in order: empty, size, alphabet, three
/// parts, header, `alg` (`none` → [`TokenError::AlgorithmNone`]), payload, signature encoding.
pub(crate) fn parse(token: &str, max_bytes: usize) -> Result<Parsed<'_>, TokenError> {
    if token.is_empty() {
        return Err(TokenError::Empty);
    }
    if token.len() > max_bytes {
        return Err(TokenError::TooLarge { max_bytes });
    }
    if !token.bytes().all(|b| b == b'.' || is_b64url(b)) {
        return Err(TokenError::Malformed(Malformed::Characters));
    }
    let mut parts = token.splitn(4, '.');
    let (header, payload, signature) =
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(h), Some(p), Some(s), None) => (h, p, s),
            _ => return Err(TokenError::Malformed(Malformed::Parts)),
        };
    let header_map = decode_object(header, Malformed::HeaderEncoding, Malformed::HeaderJson)?;
    let alg_name = header_map
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(TokenError::Malformed(Malformed::MissingAlg))?;
    if alg_name.eq_ignore_ascii_case("none") {
        return Err(TokenError::AlgorithmNone);
    }
    let alg: Algorithm = alg_name
        .parse()
        .map_err(|_| TokenError::UnsupportedAlgorithm)?;
    let kid = match header_map.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(TokenError::Malformed(Malformed::KidType)),
    };
    if header_map.contains_key("crit") {
        return Err(TokenError::Malformed(Malformed::CriticalHeader));
    }
    let claims = decode_object(payload, Malformed::PayloadEncoding, Malformed::PayloadJson)?;
    if signature.is_empty() {
        return Err(TokenError::Malformed(Malformed::EmptySignature));
    }
    // Decoding once here gives a precise error; the crypto call decodes again (cheap).
    if URL_SAFE_NO_PAD.decode(signature).is_err() {
        return Err(TokenError::Malformed(Malformed::SignatureEncoding));
    }
    let signing_input = token
        .get(..header.len() + 1 + payload.len())
        .ok_or(TokenError::Malformed(Malformed::Parts))?;
    Ok(Parsed {
        alg,
        kid,
        claims,
        signing_input,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    fn token(header: &Value, payload: &Value, sig: &str) -> String {
        format!("{}.{}.{}", enc(header), enc(payload), sig)
    }

    fn err(t: &str) -> TokenError {
        parse(t, 16 * 1024).unwrap_err()
    }

    #[test]
    fn parses_a_well_formed_token() {
        let t = token(
            &serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}),
            &serde_json::json!({"iss": "x"}),
            "c2ln",
        );
        let p = parse(&t, 16 * 1024).unwrap();
        assert_eq!(p.alg, Algorithm::RS256);
        assert_eq!(p.kid.as_deref(), Some("k1"));
        assert_eq!(p.str_claim("iss"), Some("x"));
        assert_eq!(p.signature, "c2ln");
        assert_eq!(format!("{}.c2ln", p.signing_input), t);
    }

    #[test]
    fn rejects_shapes() {
        assert_eq!(err(""), TokenError::Empty);
        assert_eq!(
            parse("aaaa", 3).unwrap_err(),
            TokenError::TooLarge { max_bytes: 3 }
        );
        assert_eq!(err("a.b"), TokenError::Malformed(Malformed::Parts));
        assert_eq!(err("a.b.c.d.e"), TokenError::Malformed(Malformed::Parts));
        assert_eq!(err("a b.c.d"), TokenError::Malformed(Malformed::Characters));
        assert_eq!(err("a+b.c.d"), TokenError::Malformed(Malformed::Characters));
        assert_eq!(err("a=.c.d"), TokenError::Malformed(Malformed::Characters));
        assert_eq!(err("é.c.d"), TokenError::Malformed(Malformed::Characters));
        assert_eq!(
            err("a.b.c"),
            TokenError::Malformed(Malformed::HeaderEncoding)
        );
        assert_eq!(
            err(&format!("{}.b.c", URL_SAFE_NO_PAD.encode("[1]"))),
            TokenError::Malformed(Malformed::HeaderJson)
        );
    }

    #[test]
    fn rejects_header_problems() {
        let p = serde_json::json!({});
        assert_eq!(
            err(&token(&serde_json::json!({"typ": "JWT"}), &p, "c2ln")),
            TokenError::Malformed(Malformed::MissingAlg)
        );
        for none in ["none", "None", "NONE", "nOnE"] {
            assert_eq!(
                err(&token(&serde_json::json!({"alg": none}), &p, "")),
                TokenError::AlgorithmNone
            );
        }
        assert_eq!(
            err(&token(&serde_json::json!({"alg": "ES512"}), &p, "c2ln")),
            TokenError::UnsupportedAlgorithm
        );
        assert_eq!(
            err(&token(
                &serde_json::json!({"alg": "RS256", "kid": 3}),
                &p,
                "c2ln"
            )),
            TokenError::Malformed(Malformed::KidType)
        );
        assert_eq!(
            err(&token(
                &serde_json::json!({"alg": "RS256", "crit": ["b64"], "b64": false}),
                &p,
                "c2ln"
            )),
            TokenError::Malformed(Malformed::CriticalHeader)
        );
    }

    #[test]
    fn rejects_payload_and_signature_problems() {
        let h = serde_json::json!({"alg": "RS256"});
        assert_eq!(
            err(&format!("{}..c2ln", enc(&h))),
            TokenError::Malformed(Malformed::PayloadJson)
        );
        assert_eq!(
            err(&format!("{}.a.c2ln", enc(&h))),
            TokenError::Malformed(Malformed::PayloadEncoding)
        );
        assert_eq!(
            err(&token(&h, &serde_json::json!("str"), "c2ln")),
            TokenError::Malformed(Malformed::PayloadJson)
        );
        assert_eq!(
            err(&token(&h, &serde_json::json!({}), "")),
            TokenError::Malformed(Malformed::EmptySignature)
        );
        assert_eq!(
            err(&token(&h, &serde_json::json!({}), "a")),
            TokenError::Malformed(Malformed::SignatureEncoding)
        );
    }
}
