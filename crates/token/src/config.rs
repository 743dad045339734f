//! Per-issuer verification settings: [`IssuerConfig`] for issuers that sign with public keys
//! (JWKS or PEM), [`HmacClients`] for ZGW-style per-client shared secrets, and [`ScopeClaim`]
//! for where an issuer puts its scopes.

use std::collections::BTreeMap;
use std::fmt;

use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde::{Deserialize, Serialize};

use crate::error::TokenError;

/// Default leeway for clock skew between the issuer and sluis, in seconds.
pub const DEFAULT_LEEWAY_SECS: u64 = 30;

/// Where an issuer puts the scopes (roles, groups) that policies are written against.
///
/// Every variant except [`ScopeClaim::None`] makes the claim mandatory: a token without it is
/// rejected with [`TokenError::MissingScopes`] (as Amsterdam's middleware does). A present but
/// empty claim yields no scopes. String values are split on whitespace; array values must hold
/// only strings. Duplicates are dropped, first occurrence kept.
///
/// In configuration it reads `{"from": "scope"}`, `{"from": "scp"}`, `{"from": "roles"}`,
/// `{"from": "scopes"}`, `{"from": "none"}` or
/// `{"from": "keycloak_realm_roles", "mapping": {"role": "SCOPE"}}`; unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(try_from = "RawScopeClaim", into = "RawScopeClaim")]
pub enum ScopeClaim {
    /// OAuth2 `scope`: a space-separated string (an array is accepted too).
    #[default]
    Scope,
    /// Entra ID / Okta `scp`: a space-separated string or an array.
    Scp,
    /// `roles`: an array of strings (Entra app roles), used as is.
    Roles,
    /// Keycloak `realm_access.roles`. A role listed in `mapping` becomes the mapped value; any
    /// other role is upper-cased with `_` replaced by `/` (as Amsterdam's
    /// `authorization_django` does: `fp_mdw` → `FP/MDW`).
    KeycloakRealmRoles {
        /// Role → scope overrides.
        mapping: BTreeMap<String, String>,
    },
    /// Amsterdam style `scopes`: an array of strings, used as is.
    Scopes,
    /// The token carries no scopes (ZGW: authorisations come from the Autorisaties API by
    /// client id). The principal's scope list is empty.
    None,
}

/// Where scopes come from, as written in configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ScopeSource {
    Scope,
    Scp,
    Roles,
    KeycloakRealmRoles,
    Scopes,
    None,
}

/// The configuration form of [`ScopeClaim`]: a flat object, so unknown keys can be refused
/// (serde's `deny_unknown_fields` does not reach unit variants of a tagged enum).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScopeClaim {
    from: ScopeSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mapping: Option<BTreeMap<String, String>>,
}

impl TryFrom<RawScopeClaim> for ScopeClaim {
    type Error = &'static str;

    fn try_from(raw: RawScopeClaim) -> Result<Self, Self::Error> {
        let plain = |claim| match raw.mapping {
            Some(_) => Err("`mapping` is only valid with `from = \"keycloak_realm_roles\"`"),
            None => Ok(claim),
        };
        match raw.from {
            ScopeSource::Scope => plain(ScopeClaim::Scope),
            ScopeSource::Scp => plain(ScopeClaim::Scp),
            ScopeSource::Roles => plain(ScopeClaim::Roles),
            ScopeSource::Scopes => plain(ScopeClaim::Scopes),
            ScopeSource::None => plain(ScopeClaim::None),
            ScopeSource::KeycloakRealmRoles => Ok(ScopeClaim::KeycloakRealmRoles {
                mapping: raw.mapping.unwrap_or_default(),
            }),
        }
    }
}

impl From<ScopeClaim> for RawScopeClaim {
    fn from(claim: ScopeClaim) -> Self {
        let (from, mapping) = match claim {
            ScopeClaim::Scope => (ScopeSource::Scope, None),
            ScopeClaim::Scp => (ScopeSource::Scp, None),
            ScopeClaim::Roles => (ScopeSource::Roles, None),
            ScopeClaim::Scopes => (ScopeSource::Scopes, None),
            ScopeClaim::None => (ScopeSource::None, None),
            ScopeClaim::KeycloakRealmRoles { mapping } => {
                (ScopeSource::KeycloakRealmRoles, Some(mapping))
            }
        };
        RawScopeClaim { from, mapping }
    }
}

impl ScopeClaim {
    /// The claim's name, for error messages.
    pub fn claim_name(&self) -> &'static str {
        match self {
            ScopeClaim::Scope => "scope",
            ScopeClaim::Scp => "scp",
            ScopeClaim::Roles => "roles",
            ScopeClaim::KeycloakRealmRoles { .. } => "realm_access.roles",
            ScopeClaim::Scopes => "scopes",
            ScopeClaim::None => "",
        }
    }
}

/// An issuer that signs tokens with asymmetric keys (fetched as JWKS, or configured as PEM).
///
/// The verifier selects the config whose [`issuer`](Self::issuer) equals the token's (unverified)
/// `iss`; the issuer's keys come from a [`crate::KeySource`] by [`name`](Self::name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// sluis's name for the issuer: reported as [`crate::Principal::issuer`], in errors and
    /// audit records, and used to look up its keys.
    pub name: String,
    /// The exact expected `iss` value (no normalisation: a trailing `/` matters).
    pub issuer: String,
    /// Accepted audiences: the token's `aud` (string or array) must contain at least one. Empty
    /// means `aud` is not checked.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Allowed signature algorithms. Only asymmetric ones (RS*, PS*, ES*, EdDSA) are valid here;
    /// `none` cannot be expressed at all.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<Algorithm>,
    /// Tolerated clock skew for `exp`, `nbf`, `iat` and `max_age_secs`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
    /// Where the scopes are.
    #[serde(default)]
    pub scopes: ScopeClaim,
    /// Claims naming the end user; the first present non-empty string wins.
    #[serde(default = "default_user_claims")]
    pub user_claims: Vec<String>,
    /// Claims naming the client application; the first present non-empty string wins.
    #[serde(default = "default_client_claims")]
    pub client_claims: Vec<String>,
    /// Maximum token age by `iat`. When set, `iat` is required and a token older than this
    /// (plus leeway) is expired even without `exp`. When unset, `exp` is required.
    #[serde(default)]
    pub max_age_secs: Option<u64>,
    /// IdP roles or groups that grant scopes, on top of the scope claim.
    #[serde(default)]
    pub roles: RoleMapping,
}

/// Roles or groups the IdP puts in tokens (Keycloak `realm_access.roles`, Entra ID `roles` or
/// `groups`), mapped to the scopes policies are written against. Rights then follow the
/// HR-driven IdP: a user who changes department loses the role, and with it the scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMapping {
    /// Claims holding roles or groups; a dot reaches into an object (`realm_access.roles`).
    /// Each is a string list or a space-separated string; an absent claim holds no roles.
    #[serde(default)]
    pub claims: Vec<String>,
    /// Role or group → the scopes it grants. Roles not listed grant nothing.
    #[serde(default)]
    pub mapping: std::collections::BTreeMap<String, Vec<String>>,
}

impl RoleMapping {
    /// Whether any claim is read for roles.
    pub fn is_active(&self) -> bool {
        !self.claims.is_empty() && !self.mapping.is_empty()
    }
}

fn default_algorithms() -> Vec<Algorithm> {
    // Amsterdam's default allow-list: RS* and ES*, never HMAC.
    vec![
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::ES256,
        Algorithm::ES384,
    ]
}

fn default_leeway() -> u64 {
    DEFAULT_LEEWAY_SECS
}

fn default_user_claims() -> Vec<String> {
    ["email", "preferred_username", "sub"]
        .map(String::from)
        .to_vec()
}

fn default_client_claims() -> Vec<String> {
    ["azp", "client_id", "appid"].map(String::from).to_vec()
}

impl IssuerConfig {
    /// A config with defaults: no audience check, RS256/384/512 and ES256/384, 30 s leeway,
    /// scopes from `scope`, user from `email`/`preferred_username`/`sub`, client from
    /// `azp`/`client_id`/`appid`, `exp` required.
    pub fn new(name: impl Into<String>, issuer: impl Into<String>) -> Self {
        IssuerConfig {
            name: name.into(),
            issuer: issuer.into(),
            audiences: Vec::new(),
            algorithms: default_algorithms(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            scopes: ScopeClaim::default(),
            user_claims: default_user_claims(),
            client_claims: default_client_claims(),
            max_age_secs: None,
            roles: RoleMapping::default(),
        }
    }

    /// Builder: map IdP roles or groups to scopes.
    pub fn with_roles(mut self, roles: RoleMapping) -> Self {
        self.roles = roles;
        self
    }

    /// Builder: set the accepted audiences.
    pub fn with_audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// Builder: set the algorithm allow-list.
    pub fn with_algorithms(mut self, algorithms: impl Into<Vec<Algorithm>>) -> Self {
        self.algorithms = algorithms.into();
        self
    }

    /// Builder: set where scopes come from.
    pub fn with_scopes(mut self, scopes: ScopeClaim) -> Self {
        self.scopes = scopes;
        self
    }

    /// Builder: set the leeway in seconds.
    pub fn with_leeway(mut self, leeway_secs: u64) -> Self {
        self.leeway_secs = leeway_secs;
        self
    }

    /// Builder: set the maximum age by `iat`.
    pub fn with_max_age(mut self, max_age_secs: Option<u64>) -> Self {
        self.max_age_secs = max_age_secs;
        self
    }

    /// Builder: set the user claims (first present wins).
    pub fn with_user_claims<I, S>(mut self, claims: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.user_claims = claims.into_iter().map(Into::into).collect();
        self
    }

    /// Builder: set the client claims (first present wins).
    pub fn with_client_claims<I, S>(mut self, claims: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.client_claims = claims.into_iter().map(Into::into).collect();
        self
    }

    /// Check the config on its own (the [`crate::Verifier`] also checks names are unique).
    pub fn validate(&self) -> Result<(), TokenError> {
        let err = |reason| TokenError::InvalidConfig {
            name: self.name.clone(),
            reason,
        };
        if self.name.is_empty() {
            return Err(err("the issuer name is empty"));
        }
        if self.issuer.is_empty() {
            return Err(err("the expected iss value is empty"));
        }
        if self.algorithms.is_empty() {
            return Err(err("no algorithms are allowed"));
        }
        if self
            .algorithms
            .iter()
            .any(|a| a.family() == AlgorithmFamily::Hmac)
        {
            return Err(err(
                "HMAC algorithms are not allowed for a public-key issuer (use HMAC clients)",
            ));
        }
        if self.audiences.iter().any(String::is_empty) {
            return Err(err("an audience is empty"));
        }
        Ok(())
    }
}

/// A shared HMAC secret. Its `Debug` output is redacted and its bytes are zeroed on drop.
#[derive(Clone)]
pub(crate) struct HmacSecret(pub(crate) DecodingKey);

impl fmt::Debug for HmacSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacSecret([redacted])")
    }
}

/// ZGW-style clients that sign their own tokens with a per-client shared secret (HS256).
///
/// The token's `client_id` claim (or, without one, its `iss`) names the client; the token is
/// verified with that client's secret. ZGW tokens usually have no `exp`: with
/// [`max_age_secs`](Self::max_age_secs) set (default 3600 s, as Open Zaak), `iat` is required
/// and a token older than that plus the leeway is expired (Open Zaak's boundary: age ≥ max age
/// + leeway is rejected). Deviation from ZGW: an `iat` in the future beyond the leeway is
///   rejected, where ZGW only logs a warning.
///
/// The `iss` is not compared against a fixed value (ZGW clients put their own id there). A
/// token whose `iss` is that of a public-key issuer is rejected before any secret is tried
/// ([`TokenError::HmacNotAllowed`]).
#[derive(Debug, Clone)]
pub struct HmacClients {
    /// sluis's name for this group of clients, reported as [`crate::Principal::issuer`].
    pub name: String,
    /// Allowed algorithms; only `HS256`, `HS384`, `HS512` are valid. Default `[HS256]` (ZGW).
    pub algorithms: Vec<Algorithm>,
    /// Accepted audiences; empty means `aud` is not checked (ZGW tokens have none).
    pub audiences: Vec<String>,
    /// Tolerated clock skew in seconds. Default 0 (ZGW's `TIME_LEEWAY`).
    pub leeway_secs: u64,
    /// Maximum token age by `iat`. Default `Some(3600)` (ZGW's `JWT_EXPIRY`).
    pub max_age_secs: Option<u64>,
    /// Where the scopes are. Default [`ScopeClaim::None`].
    pub scopes: ScopeClaim,
    /// Claims naming the end user. Default `["user_id", "sub"]`; ZGW allows `user_id: null`.
    pub user_claims: Vec<String>,
    secrets: BTreeMap<String, HmacSecret>,
}

impl HmacClients {
    /// An empty client group with ZGW defaults.
    pub fn new(name: impl Into<String>) -> Self {
        HmacClients {
            name: name.into(),
            algorithms: vec![Algorithm::HS256],
            audiences: Vec::new(),
            leeway_secs: 0,
            max_age_secs: Some(3600),
            scopes: ScopeClaim::None,
            user_claims: ["user_id", "sub"].map(String::from).to_vec(),
            secrets: BTreeMap::new(),
        }
    }

    /// Add (or replace) a client's secret. An empty client id or secret is refused (ZGW treats
    /// an empty secret as "no client"). Secrets of at least 32 bytes are recommended (RFC 7518
    /// §3.2); shorter ones are accepted for compatibility with existing ZGW deployments.
    pub fn insert(
        &mut self,
        client_id: impl Into<String>,
        secret: impl AsRef<[u8]>,
    ) -> Result<(), TokenError> {
        let client_id = client_id.into();
        if client_id.is_empty() {
            return Err(TokenError::InvalidConfig {
                name: self.name.clone(),
                reason: "an HMAC client id is empty",
            });
        }
        let secret = secret.as_ref();
        if secret.is_empty() {
            return Err(TokenError::InvalidKey("an HMAC secret is empty"));
        }
        self.secrets
            .insert(client_id, HmacSecret(DecodingKey::from_secret(secret)));
        Ok(())
    }

    /// Builder form of [`insert`](Self::insert).
    pub fn with_client(
        mut self,
        client_id: impl Into<String>,
        secret: impl AsRef<[u8]>,
    ) -> Result<Self, TokenError> {
        self.insert(client_id, secret)?;
        Ok(self)
    }

    /// Remove a client; returns whether it existed.
    pub fn remove(&mut self, client_id: &str) -> bool {
        self.secrets.remove(client_id).is_some()
    }

    /// The configured client ids (never the secrets).
    pub fn client_ids(&self) -> impl Iterator<Item = &str> {
        self.secrets.keys().map(String::as_str)
    }

    /// Number of configured clients.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// True when no client is configured.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    pub(crate) fn secret(&self, client_id: &str) -> Option<&HmacSecret> {
        self.secrets.get(client_id)
    }

    /// Check the group's settings.
    pub fn validate(&self) -> Result<(), TokenError> {
        let err = |reason| TokenError::InvalidConfig {
            name: self.name.clone(),
            reason,
        };
        if self.name.is_empty() {
            return Err(err("the HMAC client group name is empty"));
        }
        if self.algorithms.is_empty() {
            return Err(err("no algorithms are allowed"));
        }
        if self
            .algorithms
            .iter()
            .any(|a| a.family() != AlgorithmFamily::Hmac)
        {
            return Err(err("HMAC clients allow only HS256, HS384 and HS512"));
        }
        if self.audiences.iter().any(String::is_empty) {
            return Err(err("an audience is empty"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_config_rejects_hmac_algorithms() {
        let cfg = IssuerConfig::new("idp", "https://idp").with_algorithms([Algorithm::HS256]);
        assert_eq!(cfg.validate().map_err(|e| e.code()), Err("invalid_config"));
    }

    #[test]
    fn issuer_config_defaults_are_valid() {
        let cfg = IssuerConfig::new("idp", "https://idp");
        assert!(cfg.validate().is_ok());
        assert!(!cfg.algorithms.contains(&Algorithm::HS256));
    }

    #[test]
    fn issuer_config_deserializes_with_defaults() {
        let cfg: IssuerConfig = serde_json::from_value(serde_json::json!({
            "name": "kc",
            "issuer": "https://kc/realms/x",
            "scopes": {"from": "keycloak_realm_roles", "mapping": {"admin": "ADMIN"}},
            "algorithms": ["RS256", "EdDSA"]
        }))
        .unwrap();
        assert_eq!(cfg.leeway_secs, DEFAULT_LEEWAY_SECS);
        assert_eq!(cfg.algorithms, vec![Algorithm::RS256, Algorithm::EdDSA]);
        assert!(
            matches!(cfg.scopes, ScopeClaim::KeycloakRealmRoles { ref mapping } if mapping.len() == 1)
        );
        let none: Result<IssuerConfig, _> = serde_json::from_value(serde_json::json!({
            "name": "kc", "issuer": "x", "algorithms": ["none"]
        }));
        assert!(none.is_err(), "alg none is not even representable");
    }

    #[test]
    fn scope_claim_serde_shape() {
        let s: ScopeClaim = serde_json::from_value(serde_json::json!({"from": "scp"})).unwrap();
        assert_eq!(s, ScopeClaim::Scp);
        let none: ScopeClaim = serde_json::from_value(serde_json::json!({"from": "none"})).unwrap();
        assert_eq!(none, ScopeClaim::None);
        assert!(
            serde_json::from_value::<ScopeClaim>(serde_json::json!({"from": "scope", "x": 1}))
                .is_err()
        );
        assert!(
            serde_json::from_value::<ScopeClaim>(serde_json::json!({"from": "groups"})).is_err()
        );
        assert!(
            serde_json::from_value::<ScopeClaim>(serde_json::json!({"from": "scp", "mapping": {}}))
                .is_err()
        );
        let kc = ScopeClaim::KeycloakRealmRoles {
            mapping: BTreeMap::from([("a".to_string(), "B".to_string())]),
        };
        let v = serde_json::to_value(&kc).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"from": "keycloak_realm_roles", "mapping": {"a": "B"}})
        );
        assert_eq!(serde_json::from_value::<ScopeClaim>(v).unwrap(), kc);
        let kc: ScopeClaim =
            serde_json::from_value(serde_json::json!({"from": "keycloak_realm_roles"})).unwrap();
        assert_eq!(
            kc,
            ScopeClaim::KeycloakRealmRoles {
                mapping: BTreeMap::new()
            }
        );
    }

    #[test]
    fn hmac_clients_redact_secrets_and_refuse_empty() {
        let mut c = HmacClients::new("zgw");
        assert!(c.insert("app", "").is_err());
        assert!(c.insert("", "s3cret").is_err());
        c.insert("app", "very-secret-value").unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("very-secret-value"), "{dbg}");
        assert_eq!(c.client_ids().collect::<Vec<_>>(), vec!["app"]);
        assert!(c.validate().is_ok());
        c.algorithms = vec![Algorithm::RS256];
        assert!(c.validate().is_err());
    }
}
