//! Checking verified claims (time, audience) and mapping them to a [`Principal`].
//!
//! Runs only after the signature has been verified.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::config::{RoleMapping, ScopeClaim};
use crate::error::TokenError;
use crate::principal::Principal;

/// The claim rules of one issuer or HMAC client group.
pub(crate) struct Rules<'a> {
    pub(crate) name: &'a str,
    pub(crate) audiences: &'a [String],
    pub(crate) leeway_secs: u64,
    pub(crate) max_age_secs: Option<u64>,
    pub(crate) scopes: &'a ScopeClaim,
    pub(crate) user_claims: &'a [String],
    pub(crate) client_claims: &'a [String],
    pub(crate) roles: Option<&'a RoleMapping>,
}

impl Rules<'_> {
    fn missing(&self, claim: &'static str) -> TokenError {
        TokenError::MissingClaim {
            issuer: self.name.to_owned(),
            claim,
        }
    }

    fn invalid(&self, claim: &'static str) -> TokenError {
        TokenError::InvalidClaim {
            issuer: self.name.to_owned(),
            claim,
        }
    }

    /// A NumericDate claim (RFC 7519 §2): a non-negative JSON number; fractions are truncated.
    fn numeric_date(
        &self,
        claims: &Map<String, Value>,
        claim: &'static str,
    ) -> Result<Option<u64>, TokenError> {
        match claims.get(claim) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                if let Some(v) = n.as_u64() {
                    Ok(Some(v))
                } else {
                    match n.as_f64() {
                        // `as` saturates for floats beyond u64, which is what we want.
                        Some(f) if f.is_finite() && f >= 0.0 => Ok(Some(f as u64)),
                        _ => Err(self.invalid(claim)),
                    }
                }
            }
            Some(_) => Err(self.invalid(claim)),
        }
    }

    /// Check `exp` / `iat` + max age / `nbf` / `iat` in the future / `aud`, then map the
    /// claims to a principal. `client_override` is the client an HMAC secret proved.
    pub(crate) fn apply(
        &self,
        claims: Map<String, Value>,
        now: u64,
        client_override: Option<&str>,
    ) -> Result<Principal, TokenError> {
        let exp = self.numeric_date(&claims, "exp")?;
        let nbf = self.numeric_date(&claims, "nbf")?;
        let iat = self.numeric_date(&claims, "iat")?;
        let leeway = self.leeway_secs;

        let age_limit = match self.max_age_secs {
            Some(max_age) => {
                let iat = iat.ok_or_else(|| self.missing("iat"))?;
                Some(iat.saturating_add(max_age))
            }
            None => None,
        };
        if exp.is_none() && age_limit.is_none() {
            return Err(self.missing("exp"));
        }
        let expires_at = match (exp, age_limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // RFC 7519: the token must not be accepted *on or after* `exp`.
        if expires_at.is_some_and(|t| now >= t.saturating_add(leeway)) {
            return Err(TokenError::Expired {
                issuer: self.name.to_owned(),
            });
        }
        let horizon = now.saturating_add(leeway);
        if nbf.is_some_and(|t| t > horizon) || iat.is_some_and(|t| t > horizon) {
            return Err(TokenError::NotYetValid {
                issuer: self.name.to_owned(),
            });
        }

        if !self.audiences.is_empty() {
            let matches = |a: &str| self.audiences.iter().any(|want| want == a);
            let ok = match claims.get("aud") {
                None => return Err(self.missing("aud")),
                Some(Value::String(a)) => matches(a),
                Some(Value::Array(list)) => {
                    let mut any = false;
                    for item in list {
                        let a = item.as_str().ok_or_else(|| self.invalid("aud"))?;
                        any |= matches(a);
                    }
                    any
                }
                Some(_) => return Err(self.invalid("aud")),
            };
            if !ok {
                return Err(TokenError::WrongAudience {
                    issuer: self.name.to_owned(),
                });
            }
        }

        let roles = self.roles.filter(|r| r.is_active());
        let mut scopes = match self.scopes(&claims) {
            // With roles configured, a token may carry its rights in roles only.
            Err(TokenError::MissingScopes { .. }) if roles.is_some() => Vec::new(),
            other => other?,
        };
        if let Some(r) = roles {
            for role in role_values(&claims, &r.claims) {
                for s in r.mapping.get(role).into_iter().flatten() {
                    if !scopes.contains(s) {
                        scopes.push(s.clone());
                    }
                }
            }
        }
        let user = first_string(&claims, self.user_claims);
        let client_id = match client_override {
            Some(c) => Some(c.to_owned()),
            None => first_string(&claims, self.client_claims),
        };
        let subject = match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            None | Some(Value::Null) => client_id.clone().ok_or_else(|| self.missing("sub"))?,
            Some(_) => return Err(self.invalid("sub")),
        };

        Ok(Principal {
            issuer: self.name.to_owned(),
            subject,
            user,
            client_id,
            scopes,
            expires_at,
            issued_at: iat,
            claims,
        })
    }

    fn scopes(&self, claims: &Map<String, Value>) -> Result<Vec<String>, TokenError> {
        let claim = self.scopes.claim_name();
        let missing = || TokenError::MissingScopes {
            issuer: self.name.to_owned(),
            claim,
        };
        let raw = match self.scopes {
            ScopeClaim::None => return Ok(Vec::new()),
            ScopeClaim::Scope | ScopeClaim::Scp | ScopeClaim::Roles | ScopeClaim::Scopes => {
                claims.get(claim)
            }
            ScopeClaim::KeycloakRealmRoles { .. } => match claims.get("realm_access") {
                None | Some(Value::Null) => None,
                Some(Value::Object(ra)) => ra.get("roles"),
                Some(_) => return Err(self.invalid("realm_access.roles")),
            },
        };
        let raw = match raw {
            None | Some(Value::Null) => return Err(missing()),
            Some(v) => v,
        };
        let list = string_list(raw).ok_or_else(|| self.invalid(claim))?;
        let mapped = list.into_iter().map(|s| match self.scopes {
            ScopeClaim::KeycloakRealmRoles { mapping } => match mapping.get(s) {
                Some(to) => to.clone(),
                None => keycloak_role_to_scope(s),
            },
            _ => s.to_owned(),
        });
        let mut seen = HashSet::new();
        Ok(mapped.filter(|s| seen.insert(s.clone())).collect())
    }
}

/// The role values in the named claims (dotted paths into objects); claims that are absent or
/// not a string list hold none.
fn role_values<'c>(claims: &'c Map<String, Value>, paths: &[String]) -> Vec<&'c str> {
    let mut out = Vec::new();
    for path in paths {
        let mut parts = path.split('.');
        let Some(first) = parts.next() else { continue };
        let mut v = claims.get(first);
        for p in parts {
            v = v.and_then(|x| x.get(p));
        }
        if let Some(list) = v.and_then(string_list) {
            out.extend(list);
        }
    }
    out
}

/// Amsterdam's conversion of an unmapped Keycloak realm role: upper-case, `_` → `/`.
pub(crate) fn keycloak_role_to_scope(role: &str) -> String {
    role.to_uppercase().replace('_', "/")
}

/// A whitespace-separated string or an array of strings; `None` for anything else. Empty
/// entries are dropped.
fn string_list(v: &Value) -> Option<Vec<&str>> {
    match v {
        Value::String(s) => Some(s.split_whitespace().collect()),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let s = item.as_str()?;
                if !s.is_empty() {
                    out.push(s);
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// The first of `names` that is a non-empty string claim (absent, `null` and non-string values
/// are passed over; ZGW sends `user_id: null`).
fn first_string(claims: &Map<String, Value>, names: &[String]) -> Option<String> {
    names.iter().find_map(|name| match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    fn rules(scopes: &ScopeClaim) -> Rules<'_> {
        Rules {
            name: "idp",
            audiences: &[],
            leeway_secs: 0,
            max_age_secs: None,
            scopes,
            user_claims: &[],
            client_claims: &[],
            roles: None,
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn idp_roles_and_groups_grant_mapped_scopes() {
        let mut mapping = BTreeMap::new();
        mapping.insert(
            "wmo-consulent".to_string(),
            vec!["BRP/zoek-bsn".to_string(), "BRP/basis".to_string()],
        );
        mapping.insert(
            "grp-burgerzaken".to_string(),
            vec!["BRP/adres".to_string(), "BRP/basis".to_string()],
        );
        let roles = RoleMapping {
            claims: vec!["realm_access.roles".into(), "groups".into()],
            mapping,
        };
        let with_roles = |sc| Rules {
            roles: Some(&roles),
            ..rules(sc)
        };
        // Keycloak-style nested roles and an Entra-style groups list; unmapped roles grant nothing;
        // no scope claim at all is fine when roles are configured.
        let claims = obj(json!({
            "sub": "u", "exp": 10,
            "realm_access": {"roles": ["offline_access", "wmo-consulent"]},
            "groups": ["grp-burgerzaken", "grp-onbekend"]
        }));
        let p = with_roles(&ScopeClaim::Scope)
            .apply(claims.clone(), 1, None)
            .unwrap();
        assert_eq!(p.scopes, vec!["BRP/zoek-bsn", "BRP/basis", "BRP/adres"]);
        // Scope claim scopes come first and stay.
        let mut c2 = claims.clone();
        c2.insert("scope".into(), json!("openid BRP/basis"));
        let p = with_roles(&ScopeClaim::Scope).apply(c2, 1, None).unwrap();
        assert_eq!(
            p.scopes,
            vec!["openid", "BRP/basis", "BRP/zoek-bsn", "BRP/adres"]
        );
        // Without roles configured, the missing scope claim is still an error.
        assert!(rules(&ScopeClaim::Scope).apply(claims, 1, None).is_err());
        // A roles claim of the wrong shape holds no roles (it is not the scope claim).
        let odd = obj(json!({"sub": "u", "exp": 10, "groups": {"a": 1}}));
        assert!(
            with_roles(&ScopeClaim::None)
                .apply(odd, 1, None)
                .unwrap()
                .scopes
                .is_empty()
        );
    }

    #[test]
    fn keycloak_roles_are_mapped_or_converted() {
        let mut mapping = BTreeMap::new();
        mapping.insert("admin".to_string(), "BRP/ADMIN".to_string());
        let sc = ScopeClaim::KeycloakRealmRoles { mapping };
        let claims = obj(json!({
            "realm_access": {"roles": ["admin", "fp_mdw", "offline_access", "fp_mdw"]}
        }));
        assert_eq!(
            rules(&sc).scopes(&claims).unwrap(),
            vec!["BRP/ADMIN", "FP/MDW", "OFFLINE/ACCESS"]
        );
        assert_eq!(keycloak_role_to_scope("brk_rsn"), "BRK/RSN");
    }

    #[test]
    fn scope_strings_and_arrays() {
        let claims = obj(json!({"scope": " a  b a ", "scp": ["x", "", "y"], "roles": "r"}));
        assert_eq!(
            rules(&ScopeClaim::Scope).scopes(&claims).unwrap(),
            vec!["a", "b"]
        );
        assert_eq!(
            rules(&ScopeClaim::Scp).scopes(&claims).unwrap(),
            vec!["x", "y"]
        );
        assert_eq!(
            rules(&ScopeClaim::Roles).scopes(&claims).unwrap(),
            vec!["r"]
        );
        assert_eq!(
            rules(&ScopeClaim::Scopes)
                .scopes(&claims)
                .unwrap_err()
                .code(),
            "missing_scopes"
        );
        assert!(rules(&ScopeClaim::None).scopes(&claims).unwrap().is_empty());
        let bad = obj(json!({"scopes": [1, 2]}));
        assert_eq!(
            rules(&ScopeClaim::Scopes).scopes(&bad).unwrap_err().code(),
            "invalid_claim"
        );
    }

    #[test]
    fn numeric_dates_accept_fractions_and_refuse_strings() {
        let r = rules(&ScopeClaim::None);
        let c = obj(json!({"a": 10.9, "b": "10", "c": -1, "d": 5}));
        assert_eq!(r.numeric_date(&c, "a").unwrap(), Some(10));
        assert!(r.numeric_date(&c, "b").is_err());
        assert!(r.numeric_date(&c, "c").is_err());
        assert_eq!(r.numeric_date(&c, "d").unwrap(), Some(5));
        assert_eq!(r.numeric_date(&c, "zz").unwrap(), None);
    }

    #[test]
    fn exp_boundary_follows_rfc() {
        let r = rules(&ScopeClaim::None);
        let c = || obj(json!({"sub": "s", "exp": 100}));
        assert!(r.apply(c(), 99, None).is_ok());
        assert_eq!(r.apply(c(), 100, None).unwrap_err().code(), "expired");
        let lenient = Rules {
            leeway_secs: 5,
            ..rules(&ScopeClaim::None)
        };
        assert!(lenient.apply(c(), 104, None).is_ok());
        assert!(lenient.apply(c(), 105, None).is_err());
    }

    #[test]
    fn max_age_boundary_follows_open_zaak() {
        // Expiry 3600, leeway 0: aged 3600 → rejected; leeway 3: aged 3601 → accepted.
        let strict = Rules {
            max_age_secs: Some(3600),
            ..rules(&ScopeClaim::None)
        };
        let c = || obj(json!({"client_id": "app", "iat": 1000}));
        assert_eq!(
            strict
                .apply(c(), 1000 + 3600, Some("app"))
                .unwrap_err()
                .code(),
            "expired"
        );
        assert!(strict.apply(c(), 1000 + 3599, Some("app")).is_ok());
        let lenient = Rules {
            leeway_secs: 3,
            ..strict
        };
        let p = lenient.apply(c(), 1000 + 3601, Some("app")).unwrap();
        assert_eq!(p.subject, "app");
        assert_eq!(p.expires_at, Some(4600));
        assert_eq!(
            lenient
                .apply(obj(json!({"client_id": "app"})), 1000, Some("app"))
                .unwrap_err(),
            TokenError::MissingClaim {
                issuer: "idp".into(),
                claim: "iat"
            }
        );
    }

    #[test]
    fn tokens_without_any_expiry_are_refused() {
        let r = rules(&ScopeClaim::None);
        assert_eq!(
            r.apply(obj(json!({"sub": "s"})), 0, None).unwrap_err(),
            TokenError::MissingClaim {
                issuer: "idp".into(),
                claim: "exp"
            }
        );
    }
}
