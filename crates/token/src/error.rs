//! The crate's single error type.
//!
//! Messages are written for operators' logs and never contain the token, a key, a secret, or any
//! value taken from the token (an attacker controls those, and echoing them invites log
//! injection). Fields that carry token-derived values (`kid`) are there for programs, not for
//! display. The configured issuer *name* is shown: it is an identifier, not a secret.

use jsonwebtoken::Algorithm;

/// Which part of a token's structure is broken. Carried by [`TokenError::Malformed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// Not exactly three `.`-separated parts (a JWE has five, a bare JWS payload one).
    Parts,
    /// A character outside the base64url alphabet and `.` (whitespace, padding, `+`, `/`, ...).
    Characters,
    /// The header is not valid unpadded base64url.
    HeaderEncoding,
    /// The header does not decode to a JSON object.
    HeaderJson,
    /// The header has no string `alg`.
    MissingAlg,
    /// The header has a `kid` that is not a string.
    KidType,
    /// The header lists `crit` extensions, none of which this verifier implements (RFC 7515
    /// §4.1.11 requires rejecting the token then).
    CriticalHeader,
    /// The payload is not valid unpadded base64url.
    PayloadEncoding,
    /// The payload does not decode to a JSON object.
    PayloadJson,
    /// The signature part is empty.
    EmptySignature,
    /// The signature is not valid unpadded base64url.
    SignatureEncoding,
}

impl Malformed {
    fn describe(self) -> &'static str {
        match self {
            Malformed::Parts => "it does not have three dot-separated parts",
            Malformed::Characters => "it contains characters outside base64url",
            Malformed::HeaderEncoding => "its header is not base64url",
            Malformed::HeaderJson => "its header is not a JSON object",
            Malformed::MissingAlg => "its header has no algorithm",
            Malformed::KidType => "its key id is not a string",
            Malformed::CriticalHeader => "its header lists critical extensions",
            Malformed::PayloadEncoding => "its payload is not base64url",
            Malformed::PayloadJson => "its payload is not a JSON object",
            Malformed::EmptySignature => "its signature is empty",
            Malformed::SignatureEncoding => "its signature is not base64url",
        }
    }
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// Everything that can go wrong in this crate: rejected tokens, unusable key sets and invalid
/// configuration.
///
/// Token rejections ([`TokenError::is_token_rejection`]) become `401` with
/// `WWW-Authenticate: Bearer error="invalid_token"` at the HTTP layer; the others are
/// configuration problems of the operator. [`TokenError::code`] gives a stable machine-readable
/// name for metrics and logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    // ---- shape -------------------------------------------------------------------------------
    /// The token is the empty string.
    #[error("the token is empty")]
    Empty,
    /// The token is longer than the verifier accepts.
    #[error("the token is longer than the allowed {max_bytes} bytes")]
    TooLarge {
        /// The configured maximum.
        max_bytes: usize,
    },
    /// The token is not a compact JWS.
    #[error("the token is malformed: {0}")]
    Malformed(Malformed),

    // ---- algorithm ---------------------------------------------------------------------------
    /// The header says `alg: none` (in any capitalisation): an unsigned token.
    #[error("unsigned tokens (alg none) are never accepted")]
    AlgorithmNone,
    /// The header names an algorithm this crate does not implement.
    #[error("the token's algorithm is not supported")]
    UnsupportedAlgorithm,
    /// The header's algorithm is not in the issuer's allow-list.
    #[error("algorithm {alg:?} is not allowed for issuer {issuer}")]
    AlgorithmNotAllowed {
        /// The configured issuer name.
        issuer: String,
        /// The algorithm the token claims.
        alg: Algorithm,
    },
    /// An HMAC (`HS*`) token for an issuer that signs with public keys: the key-confusion attack
    /// (an HS256 token "signed" with the issuer's public key bytes) or a misconfigured client.
    #[error("issuer {issuer} uses public keys; an HMAC-signed token is never accepted for it")]
    HmacNotAllowed {
        /// The configured issuer name.
        issuer: String,
    },

    // ---- who signed it -----------------------------------------------------------------------
    /// The `iss` claim is missing or names no configured issuer.
    #[error("the token's issuer is not configured")]
    UnknownIssuer,
    /// The token was checked against one specific issuer and its `iss` is a different one.
    #[error("the token was not issued by {issuer}")]
    WrongIssuer {
        /// The configured issuer name the token had to come from.
        issuer: String,
    },
    /// An HMAC token whose `client_id` (or `iss`) names no configured client.
    #[error("the token's client is not configured for {issuer}")]
    UnknownClient {
        /// The configured name of the HMAC client group.
        issuer: String,
    },
    /// No key in the issuer's key set matches the token's `kid` (or the token has no `kid` and
    /// the set has no single key of the right type), or no key set is loaded for the issuer.
    ///
    /// The caller may refresh the issuer's JWKS (rate limited) and verify again.
    #[error("no key of issuer {issuer} matches the token's key id")]
    UnknownKey {
        /// The configured issuer name.
        issuer: String,
        /// The token's `kid`, if it had one. Attacker-controlled: do not log it unescaped.
        kid: Option<String>,
    },
    /// A key with the token's `kid` exists, but not for the token's algorithm (wrong key type or
    /// curve, or the key's own `alg` differs).
    #[error("the key of issuer {issuer} named by the token does not fit its algorithm")]
    KeyMismatch {
        /// The configured issuer name.
        issuer: String,
    },
    /// The signature does not verify.
    #[error("the token's signature is invalid for issuer {issuer}")]
    BadSignature {
        /// The configured issuer name.
        issuer: String,
    },

    // ---- claims ------------------------------------------------------------------------------
    /// `exp` (plus leeway) has passed, or `iat` is older than the issuer's `max_age_secs`.
    #[error("the token has expired")]
    Expired {
        /// The configured issuer name.
        issuer: String,
    },
    /// `nbf` is in the future, or `iat` is in the future, beyond the leeway.
    #[error("the token is not yet valid")]
    NotYetValid {
        /// The configured issuer name.
        issuer: String,
    },
    /// None of the token's audiences is one the issuer is configured for.
    #[error("the token is not meant for this service (audience)")]
    WrongAudience {
        /// The configured issuer name.
        issuer: String,
    },
    /// A claim the verifier needs is absent.
    #[error("the token lacks the {claim} claim")]
    MissingClaim {
        /// The configured issuer name.
        issuer: String,
        /// The claim's name.
        claim: &'static str,
    },
    /// A claim has the wrong type (e.g. a string `exp`, a numeric `aud`).
    #[error("the token's {claim} claim has an invalid value")]
    InvalidClaim {
        /// The configured issuer name.
        issuer: String,
        /// The claim's name.
        claim: &'static str,
    },
    /// The issuer is configured to take scopes from a claim the token does not have.
    #[error("the token lacks the {claim} claim that carries its scopes")]
    MissingScopes {
        /// The configured issuer name.
        issuer: String,
        /// The claim's name (e.g. `scope`, `realm_access.roles`).
        claim: &'static str,
    },

    // ---- keys and configuration ----------------------------------------------------------------
    /// A JWKS document could not be used at all (not JSON, no `keys` array, too many keys).
    /// Individual unusable keys are skipped and counted instead; see [`crate::SkippedKeys`].
    #[error("the key set document is invalid: {0}")]
    InvalidJwks(&'static str),
    /// A single key (PEM or HMAC secret) could not be used.
    #[error("the key is invalid: {0}")]
    InvalidKey(&'static str),
    /// The verifier's configuration is inconsistent.
    #[error("invalid token configuration for {name:?}: {reason}")]
    InvalidConfig {
        /// The configured issuer or client-group name concerned (may be empty).
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
}

impl TokenError {
    /// A stable, machine-readable name for the error (for metrics labels and structured logs).
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Empty => "empty",
            TokenError::TooLarge { .. } => "too_large",
            TokenError::Malformed(_) => "malformed",
            TokenError::AlgorithmNone => "alg_none",
            TokenError::UnsupportedAlgorithm => "unsupported_alg",
            TokenError::AlgorithmNotAllowed { .. } => "alg_not_allowed",
            TokenError::HmacNotAllowed { .. } => "hmac_not_allowed",
            TokenError::UnknownIssuer => "unknown_issuer",
            TokenError::WrongIssuer { .. } => "wrong_issuer",
            TokenError::UnknownClient { .. } => "unknown_client",
            TokenError::UnknownKey { .. } => "unknown_key",
            TokenError::KeyMismatch { .. } => "key_mismatch",
            TokenError::BadSignature { .. } => "bad_signature",
            TokenError::Expired { .. } => "expired",
            TokenError::NotYetValid { .. } => "not_yet_valid",
            TokenError::WrongAudience { .. } => "wrong_audience",
            TokenError::MissingClaim { .. } => "missing_claim",
            TokenError::InvalidClaim { .. } => "invalid_claim",
            TokenError::MissingScopes { .. } => "missing_scopes",
            TokenError::InvalidJwks(_) => "invalid_jwks",
            TokenError::InvalidKey(_) => "invalid_key",
            TokenError::InvalidConfig { .. } => "invalid_config",
        }
    }

    /// True when the error is about the presented token (→ 401 `invalid_token`), false when it is
    /// about keys or configuration (an operator problem).
    pub fn is_token_rejection(&self) -> bool {
        !matches!(
            self,
            TokenError::InvalidJwks(_)
                | TokenError::InvalidKey(_)
                | TokenError::InvalidConfig { .. }
        )
    }

    /// The configured issuer name the error concerns, when the token got that far.
    pub fn issuer(&self) -> Option<&str> {
        match self {
            TokenError::AlgorithmNotAllowed { issuer, .. }
            | TokenError::HmacNotAllowed { issuer }
            | TokenError::WrongIssuer { issuer }
            | TokenError::UnknownClient { issuer }
            | TokenError::UnknownKey { issuer, .. }
            | TokenError::KeyMismatch { issuer }
            | TokenError::BadSignature { issuer }
            | TokenError::Expired { issuer }
            | TokenError::NotYetValid { issuer }
            | TokenError::WrongAudience { issuer }
            | TokenError::MissingClaim { issuer, .. }
            | TokenError::InvalidClaim { issuer, .. }
            | TokenError::MissingScopes { issuer, .. } => Some(issuer),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_display_does_not_echo_kid() {
        let e = TokenError::UnknownKey {
            issuer: "idp".into(),
            kid: Some("<script>evil-kid".into()),
        };
        let s = e.to_string();
        assert!(!s.contains("evil"), "{s}");
        assert!(s.contains("idp"));
        assert_eq!(e.code(), "unknown_key");
        assert_eq!(e.issuer(), Some("idp"));
        assert!(e.is_token_rejection());
    }

    #[test]
    fn config_errors_are_not_token_rejections() {
        assert!(!TokenError::InvalidJwks("x").is_token_rejection());
        assert!(!TokenError::InvalidKey("x").is_token_rejection());
        assert!(TokenError::Malformed(Malformed::Parts).is_token_rejection());
        assert_eq!(
            TokenError::Malformed(Malformed::Parts).to_string(),
            "the token is malformed: it does not have three dot-separated parts"
        );
    }
}
