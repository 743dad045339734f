//! `[[issuers]]`: who may sign tokens, with which keys and algorithms, and where tokens carry
//! scopes, users and clients.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use hyper::Uri;
use serde::Deserialize;

use super::Validator;
use super::secret::{RawSecret, Secret};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIssuer {
    pub(super) name: String,
    #[serde(default)]
    kind: IssuerKind,
    issuer: Option<String>,
    discovery_url: Option<String>,
    jwks_url: Option<String>,
    jwks_file: Option<PathBuf>,
    #[serde(default)]
    audiences: Vec<String>,
    #[serde(default)]
    algorithms: Vec<String>,
    #[serde(default = "default_leeway")]
    leeway_secs: u64,
    #[serde(default)]
    scopes: ScopeClaimKind,
    #[serde(default)]
    scope_mapping: BTreeMap<String, String>,
    #[serde(default = "default_user_claims")]
    user_claims: Vec<String>,
    #[serde(default = "default_client_claims")]
    client_claims: Vec<String>,
    #[serde(default = "default_refresh")]
    jwks_refresh_secs: u64,
    #[serde(default = "default_min_refresh")]
    jwks_min_refresh_secs: u64,
    #[serde(default)]
    clients: Vec<RawClient>,
    max_age_secs: Option<u64>,
    /// Every client of this issuer may name the acting user in the mount's user header.
    #[serde(default)]
    trust_user_header: bool,
    /// Clients of this issuer that may name the acting user in the mount's user header.
    #[serde(default)]
    trusted_user_clients: Vec<String>,
    /// IdP roles or groups that grant scopes (`[issuers.roles]`).
    #[serde(default)]
    roles: Option<RawRoles>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoles {
    claims: Vec<String>,
    mapping: BTreeMap<String, Vec<String>>,
}

fn default_leeway() -> u64 {
    30
}
fn default_user_claims() -> Vec<String> {
    vec!["email".into(), "preferred_username".into(), "sub".into()]
}
fn default_client_claims() -> Vec<String> {
    vec!["azp".into(), "client_id".into(), "appid".into()]
}
fn default_refresh() -> u64 {
    300
}
fn default_min_refresh() -> u64 {
    10
}

/// How an issuer's tokens are verified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssuerKind {
    /// Asymmetric keys from a JWKS (URL, discovery or file).
    #[default]
    Jwt,
    /// Per-client HS256 secrets (ZGW style).
    Hmac,
}

/// Where an issuer's tokens carry scopes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeClaimKind {
    /// `scope`: a space-separated string (OAuth2).
    #[default]
    Scope,
    /// `scp`: a string or a list (Entra ID delegated).
    Scp,
    /// `roles`: a list (Entra ID application roles).
    Roles,
    /// `realm_access.roles` (Keycloak), mapped by `scope_mapping` or upper-cased with `_`→`/`.
    Keycloak,
    /// `scopes`: a list (Amsterdam).
    Scopes,
    /// No scopes in the token: ZGW clients' rights come from the Autorisaties by client id.
    None,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClient {
    client_id: String,
    secret: RawSecret,
}

/// Where an issuer's keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysFrom {
    /// OIDC discovery: `{discovery_url}` is the issuer or its `.well-known/openid-configuration`.
    Discovery(Uri),
    JwksUrl(Uri),
    JwksFile(PathBuf),
    /// HS256 per-client secrets.
    Hmac(Vec<(String, Secret)>),
}

#[derive(Debug, Clone)]
pub struct Issuer {
    pub name: String,
    pub issuer: String,
    pub keys: KeysFrom,
    pub audiences: Vec<String>,
    pub algorithms: Vec<String>,
    pub leeway_secs: u64,
    pub scopes: ScopeClaimKind,
    pub scope_mapping: BTreeMap<String, String>,
    pub user_claims: Vec<String>,
    pub client_claims: Vec<String>,
    pub jwks_refresh: Duration,
    pub jwks_min_refresh: Duration,
    pub max_age_secs: Option<u64>,
    /// Who may assert the acting user in a header instead of the token naming them.
    pub user_header_trust: UserHeaderTrust,
    /// IdP roles or groups mapped to scopes.
    pub roles: sluis_token::RoleMapping,
}

/// Which clients of an issuer may name the acting user in a header (`X-User`): a portal or
/// back end that authenticates its users itself. Everyone else is recorded as the token says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum UserHeaderTrust {
    /// Nobody: the user is the token's (the default).
    #[default]
    Nobody,
    /// Every client of the issuer.
    AllClients,
    /// These client ids.
    Clients(Vec<String>),
}

impl UserHeaderTrust {
    /// Whether `client` may assert the user.
    pub fn trusts(&self, client: Option<&str>) -> bool {
        match self {
            UserHeaderTrust::Nobody => false,
            UserHeaderTrust::AllClients => true,
            UserHeaderTrust::Clients(cs) => client.is_some_and(|c| cs.iter().any(|x| x == c)),
        }
    }
}

impl Validator<'_> {
    pub(super) fn issuer(&mut self, at: &str, ri: &RawIssuer) -> Option<Issuer> {
        let keys = match ri.kind {
            IssuerKind::Hmac => {
                if ri.clients.is_empty() {
                    self.problem(
                        &format!("{at}.clients"),
                        "an hmac issuer needs at least one client",
                    );
                }
                let mut clients = Vec::new();
                for (j, c) in ri.clients.iter().enumerate() {
                    let s = self.secret(&format!("{at}.clients[{j}].secret"), &c.secret);
                    if let Some(s) = s {
                        if s.0.len() < 32 {
                            self.problem(
                                &format!("{at}.clients[{j}].secret"),
                                "HS256 secrets must be at least 32 bytes",
                            );
                        }
                        clients.push((c.client_id.clone(), s));
                    }
                }
                KeysFrom::Hmac(clients)
            }
            IssuerKind::Jwt => match (&ri.discovery_url, &ri.jwks_url, &ri.jwks_file) {
                (Some(d), None, None) => {
                    KeysFrom::Discovery(self.url(&format!("{at}.discovery_url"), d)?)
                }
                (None, Some(u), None) => KeysFrom::JwksUrl(self.url(&format!("{at}.jwks_url"), u)?),
                (None, None, Some(f)) => KeysFrom::JwksFile(self.rel(f)),
                _ => {
                    self.problem(
                        at,
                        "a jwt issuer needs exactly one of discovery_url, jwks_url or jwks_file",
                    );
                    return None;
                }
            },
        };
        let issuer = match (&ri.issuer, ri.kind) {
            (Some(i), _) => i.clone(),
            (None, IssuerKind::Hmac) => String::new(),
            (None, IssuerKind::Jwt) => {
                self.problem(
                    &format!("{at}.issuer"),
                    "the expected iss value is required",
                );
                return None;
            }
        };
        let algorithms = if ri.algorithms.is_empty() {
            match ri.kind {
                IssuerKind::Hmac => vec!["HS256".to_owned()],
                IssuerKind::Jwt => vec!["RS256".to_owned(), "ES256".to_owned()],
            }
        } else {
            ri.algorithms.clone()
        };
        for a in &algorithms {
            let hmac = a.starts_with("HS");
            let known = [
                "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
                "HS256", "HS384", "HS512",
            ];
            if !known.contains(&a.as_str()) {
                self.problem(
                    &format!("{at}.algorithms"),
                    format!("{a:?} is not an allowed algorithm (none is never allowed)"),
                );
            } else if hmac != (ri.kind == IssuerKind::Hmac) {
                self.problem(
                    &format!("{at}.algorithms"),
                    format!("{a} does not fit a {:?} issuer", ri.kind),
                );
            }
        }
        let roles = match &ri.roles {
            None => sluis_token::RoleMapping::default(),
            Some(r) => {
                if ri.kind == IssuerKind::Hmac {
                    self.problem(
                        &format!("{at}.roles"),
                        "hmac (ZGW) clients carry no roles; their rights come from the Autorisaties",
                    );
                }
                if r.claims.is_empty() || r.claims.iter().any(|c| c.trim().is_empty()) {
                    self.problem(
                        &format!("{at}.roles.claims"),
                        "name the claims that hold roles or groups, e.g. [\"realm_access.roles\"] or [\"groups\"]",
                    );
                }
                for (role, scopes) in &r.mapping {
                    if scopes.is_empty()
                        || scopes
                            .iter()
                            .any(|s| s.trim().is_empty() || s.contains(char::is_whitespace))
                    {
                        self.problem(
                            &format!("{at}.roles.mapping.{role}"),
                            "map a role to one or more scope names",
                        );
                    }
                }
                sluis_token::RoleMapping {
                    claims: r.claims.clone(),
                    mapping: r.mapping.clone(),
                }
            }
        };
        if ri.jwks_min_refresh_secs == 0 {
            self.problem(
                &format!("{at}.jwks_min_refresh_secs"),
                "must be at least 1 second",
            );
        }
        Some(Issuer {
            name: ri.name.clone(),
            issuer,
            keys,
            audiences: ri.audiences.clone(),
            algorithms,
            leeway_secs: ri.leeway_secs,
            scopes: ri.scopes,
            scope_mapping: ri.scope_mapping.clone(),
            user_claims: ri.user_claims.clone(),
            client_claims: ri.client_claims.clone(),
            jwks_refresh: Duration::from_secs(ri.jwks_refresh_secs.max(1)),
            jwks_min_refresh: Duration::from_secs(ri.jwks_min_refresh_secs.max(1)),
            max_age_secs: ri.max_age_secs,
            roles,
            user_header_trust: match (ri.trust_user_header, ri.trusted_user_clients.is_empty()) {
                (true, true) => UserHeaderTrust::AllClients,
                (false, true) => UserHeaderTrust::Nobody,
                (false, false) => UserHeaderTrust::Clients(ri.trusted_user_clients.clone()),
                (true, false) => {
                    self.problem(
                        &format!("{at}.trusted_user_clients"),
                        "trust_user_header = true already trusts every client; drop one of the two",
                    );
                    UserHeaderTrust::Nobody
                }
            },
        })
    }
}
