//! The authenticated caller, as the rest of sluis sees it.

use serde::Serialize;
use serde_json::{Map, Value};

/// Who presented a verified token: the result of the *authenticate* phase.
///
/// Built only by [`crate::Verifier`] from a token whose signature and claims checked out (or by
/// tests). `claims` holds the full verified payload for policies that need more than the mapped
/// fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Principal {
    /// The configured name of the issuer (or HMAC client group) that vouched for the token —
    /// not the raw `iss` URL, which is in `claims`.
    pub issuer: String,
    /// `sub`; for tokens without one (ZGW), the client id.
    pub subject: String,
    /// The end user, from the issuer's `user_claims` (first present non-empty string).
    pub user: Option<String>,
    /// The client application: from `client_claims`, or for HMAC clients the client whose
    /// secret verified the token.
    pub client_id: Option<String>,
    /// Scopes after mapping (see [`crate::ScopeClaim`]); de-duplicated, token order.
    pub scopes: Vec<String>,
    /// When the token stops being accepted, as unix seconds, before leeway: the earlier of `exp`
    /// and `iat + max_age_secs`.
    pub expires_at: Option<u64>,
    /// `iat`, when present.
    pub issued_at: Option<u64>,
    /// The verified payload.
    pub claims: Map<String, Value>,
}

impl Principal {
    /// Whether the principal has exactly this scope (no hierarchy, no wildcards).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Whether the token is still acceptable at `now` with `leeway_secs` (a principal without an
    /// expiry never is: sluis does not accept tokens that live forever).
    pub fn is_current(&self, now: u64, leeway_secs: u64) -> bool {
        self.expires_at
            .is_some_and(|exp| now < exp.saturating_add(leeway_secs))
    }
}
