//! The [`Verifier`]: from a bearer token string to a [`Principal`].

use std::sync::Arc;

use jsonwebtoken::{AlgorithmFamily, DecodingKey};

use crate::cache::VerifiedCache;
use crate::claims::Rules;
use crate::config::{HmacClients, IssuerConfig};
use crate::error::TokenError;
use crate::jwt::{self, Parsed};
use crate::keys::{KeySource, Lookup};
use crate::principal::Principal;

/// Default maximum token size in bytes (16 KiB), well above real access tokens and far below
/// anything that could hurt.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Verifies bearer JWTs against configured issuers and HMAC clients. Immutable and cheap to
/// share: build a new one on configuration reload.
///
/// Steps of [`verify`](Self::verify), in order; the first failure is returned:
///
/// 1. size and structure (empty, [`DEFAULT_MAX_TOKEN_BYTES`], three base64url parts, JSON
///    header and payload); `alg: none` and unknown algorithms are refused here;
/// 2. the **unverified** `iss` picks the issuer config — nothing else from the token is used
///    before the signature check (`jku`/`jwk`/`x5u`/`x5c` headers are ignored);
/// 3. an `HS*` token for a public-key issuer is refused (key confusion); `HS*` tokens otherwise
///    go to the [`HmacClients`], named by `client_id` (or `iss`);
/// 4. the header `alg` must be in the issuer's allow-list;
/// 5. the key is found by `kid` in the issuer's [`crate::KeySet`] from the [`KeySource`];
/// 6. the signature is verified;
/// 7. `exp`, `iat` + `max_age_secs`, `nbf`, future `iat` (all with leeway), then `aud`, then
///    the scopes claim; the claims are mapped to a [`Principal`].
#[derive(Debug, Clone)]
pub struct Verifier {
    issuers: Vec<IssuerConfig>,
    hmac: Option<HmacClients>,
    max_token_bytes: usize,
}

impl Verifier {
    /// A verifier for these public-key issuers. Fails with [`TokenError::InvalidConfig`] when an
    /// issuer config is invalid ([`IssuerConfig::validate`]) or two share a name or `iss`.
    pub fn new(issuers: Vec<IssuerConfig>) -> Result<Self, TokenError> {
        for (i, cfg) in issuers.iter().enumerate() {
            cfg.validate()?;
            let earlier = issuers.iter().take(i);
            for other in earlier {
                if other.name == cfg.name {
                    return Err(TokenError::InvalidConfig {
                        name: cfg.name.clone(),
                        reason: "two issuers have this name",
                    });
                }
                if other.issuer == cfg.issuer {
                    return Err(TokenError::InvalidConfig {
                        name: cfg.name.clone(),
                        reason: "two issuers expect the same iss value",
                    });
                }
            }
        }
        Ok(Verifier {
            issuers,
            hmac: None,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        })
    }

    /// Add ZGW-style HMAC clients. Their group name must differ from every issuer name.
    pub fn with_hmac_clients(mut self, clients: HmacClients) -> Result<Self, TokenError> {
        clients.validate()?;
        if self.issuers.iter().any(|i| i.name == clients.name) {
            return Err(TokenError::InvalidConfig {
                name: clients.name.clone(),
                reason: "the HMAC client group has the name of an issuer",
            });
        }
        self.hmac = Some(clients);
        Ok(self)
    }

    /// Set the largest token accepted, in bytes (at least 1).
    pub fn with_max_token_bytes(mut self, max_bytes: usize) -> Self {
        self.max_token_bytes = max_bytes.max(1);
        self
    }

    /// The configured maximum token size in bytes.
    pub fn max_token_bytes(&self) -> usize {
        self.max_token_bytes
    }

    /// The public-key issuers.
    pub fn issuers(&self) -> &[IssuerConfig] {
        &self.issuers
    }

    /// The public-key issuer with this name.
    pub fn issuer(&self, name: &str) -> Option<&IssuerConfig> {
        self.issuers.iter().find(|i| i.name == name)
    }

    /// The HMAC client group, if configured.
    pub fn hmac_clients(&self) -> Option<&HmacClients> {
        self.hmac.as_ref()
    }

    /// The leeway of the issuer or HMAC group with this name (what [`VerifiedCache`] needs).
    pub fn leeway_secs(&self, name: &str) -> Option<u64> {
        if let Some(cfg) = self.issuer(name) {
            return Some(cfg.leeway_secs);
        }
        self.hmac
            .as_ref()
            .filter(|h| h.name == name)
            .map(|h| h.leeway_secs)
    }

    /// Verify `token` at time `now` (unix seconds), taking public keys from `keys`.
    ///
    /// On [`TokenError::UnknownKey`] the caller may refresh that issuer's JWKS (rate limited)
    /// and call again.
    pub fn verify(
        &self,
        token: &str,
        now: u64,
        keys: &dyn KeySource,
    ) -> Result<Principal, TokenError> {
        let parsed = jwt::parse(token, self.max_token_bytes)?;
        let iss = parsed.str_claim("iss");
        let issuer = iss.and_then(|iss| self.issuers.iter().find(|i| i.issuer == iss));
        if parsed.alg.family() == AlgorithmFamily::Hmac {
            if let Some(cfg) = issuer {
                return Err(TokenError::HmacNotAllowed {
                    issuer: cfg.name.clone(),
                });
            }
            return match &self.hmac {
                Some(clients) => verify_hmac(clients, parsed, now),
                None => Err(TokenError::UnknownIssuer),
            };
        }
        match issuer {
            Some(cfg) => verify_public(cfg, parsed, now, keys),
            None => Err(TokenError::UnknownIssuer),
        }
    }

    /// Verify a token that must come from the issuer (or HMAC group) named `name`, e.g. for an
    /// API mount that trusts only one issuer. A token from any other issuer gets
    /// [`TokenError::WrongIssuer`]; an unknown `name` gets [`TokenError::InvalidConfig`].
    pub fn verify_for_issuer(
        &self,
        name: &str,
        token: &str,
        now: u64,
        keys: &dyn KeySource,
    ) -> Result<Principal, TokenError> {
        let parsed = jwt::parse(token, self.max_token_bytes)?;
        if let Some(cfg) = self.issuer(name) {
            if parsed.alg.family() == AlgorithmFamily::Hmac {
                return Err(TokenError::HmacNotAllowed {
                    issuer: cfg.name.clone(),
                });
            }
            if parsed.str_claim("iss") != Some(cfg.issuer.as_str()) {
                return Err(TokenError::WrongIssuer {
                    issuer: cfg.name.clone(),
                });
            }
            return verify_public(cfg, parsed, now, keys);
        }
        match &self.hmac {
            Some(clients) if clients.name == name => {
                let iss = parsed.str_claim("iss");
                if let Some(cfg) = self.issuers.iter().find(|i| Some(i.issuer.as_str()) == iss) {
                    return Err(if parsed.alg.family() == AlgorithmFamily::Hmac {
                        TokenError::HmacNotAllowed {
                            issuer: cfg.name.clone(),
                        }
                    } else {
                        TokenError::WrongIssuer {
                            issuer: clients.name.clone(),
                        }
                    });
                }
                if parsed.alg.family() != AlgorithmFamily::Hmac {
                    return Err(TokenError::WrongIssuer {
                        issuer: clients.name.clone(),
                    });
                }
                verify_hmac(clients, parsed, now)
            }
            _ => Err(TokenError::InvalidConfig {
                name: name.to_owned(),
                reason: "no issuer or HMAC client group has this name",
            }),
        }
    }

    /// [`verify`](Self::verify) through a [`VerifiedCache`]: a cached principal is returned
    /// while its expiry (plus the issuer's leeway) has not passed; otherwise the token is
    /// verified and the result cached. Failures are not cached.
    pub fn verify_cached(
        &self,
        token: &str,
        now: u64,
        keys: &dyn KeySource,
        cache: &VerifiedCache,
    ) -> Result<Arc<Principal>, TokenError> {
        if token.len() > self.max_token_bytes {
            return Err(TokenError::TooLarge {
                max_bytes: self.max_token_bytes,
            });
        }
        if let Some(hit) = cache.get(token, now) {
            return Ok(hit);
        }
        let principal = Arc::new(self.verify(token, now, keys)?);
        let leeway = self.leeway_secs(&principal.issuer).unwrap_or(0);
        cache.insert(token, Arc::clone(&principal), leeway);
        Ok(principal)
    }
}

fn check_signature(parsed: &Parsed<'_>, key: &DecodingKey, issuer: &str) -> Result<(), TokenError> {
    match jsonwebtoken::crypto::verify(
        parsed.signature,
        parsed.signing_input.as_bytes(),
        key,
        parsed.alg,
    ) {
        Ok(true) => Ok(()),
        Ok(false) => Err(TokenError::BadSignature {
            issuer: issuer.to_owned(),
        }),
        // The key was validated when loaded, so an error here means the signature bytes could
        // not be read (already checked) or the key does not fit the algorithm (filtered out by
        // the lookup). Either way: not a valid signature.
        Err(_) => Err(TokenError::BadSignature {
            issuer: issuer.to_owned(),
        }),
    }
}

fn verify_public(
    cfg: &IssuerConfig,
    parsed: Parsed<'_>,
    now: u64,
    keys: &dyn KeySource,
) -> Result<Principal, TokenError> {
    if !cfg.algorithms.contains(&parsed.alg) {
        return Err(TokenError::AlgorithmNotAllowed {
            issuer: cfg.name.clone(),
            alg: parsed.alg,
        });
    }
    let unknown = |parsed: &Parsed<'_>| TokenError::UnknownKey {
        issuer: cfg.name.clone(),
        kid: parsed.kid.clone(),
    };
    let set = keys.key_set(&cfg.name).ok_or_else(|| unknown(&parsed))?;
    let key = match set.find(parsed.kid.as_deref(), parsed.alg) {
        Lookup::Found(k) => k,
        Lookup::Mismatch => {
            return Err(TokenError::KeyMismatch {
                issuer: cfg.name.clone(),
            });
        }
        Lookup::NotFound => return Err(unknown(&parsed)),
    };
    check_signature(&parsed, &key.key, &cfg.name)?;
    // The unverified `iss` chose `cfg`; now that it is signed, it is also the right issuer.
    Rules {
        name: &cfg.name,
        audiences: &cfg.audiences,
        leeway_secs: cfg.leeway_secs,
        max_age_secs: cfg.max_age_secs,
        scopes: &cfg.scopes,
        user_claims: &cfg.user_claims,
        client_claims: &cfg.client_claims,
        roles: Some(&cfg.roles),
    }
    .apply(parsed.claims, now, None)
}

fn verify_hmac(
    clients: &HmacClients,
    parsed: Parsed<'_>,
    now: u64,
) -> Result<Principal, TokenError> {
    if !clients.algorithms.contains(&parsed.alg) {
        return Err(TokenError::AlgorithmNotAllowed {
            issuer: clients.name.clone(),
            alg: parsed.alg,
        });
    }
    let client_id = match parsed.claims.get("client_id") {
        Some(serde_json::Value::String(c)) => c.clone(),
        None | Some(serde_json::Value::Null) => match parsed.str_claim("iss") {
            Some(iss) => iss.to_owned(),
            None => {
                return Err(TokenError::MissingClaim {
                    issuer: clients.name.clone(),
                    claim: "client_id",
                });
            }
        },
        Some(_) => {
            return Err(TokenError::InvalidClaim {
                issuer: clients.name.clone(),
                claim: "client_id",
            });
        }
    };
    let secret = clients
        .secret(&client_id)
        .ok_or_else(|| TokenError::UnknownClient {
            issuer: clients.name.clone(),
        })?;
    // Only HS* reaches this point (the allow-list holds only HS*), and an HMAC key only
    // verifies HS*.
    check_signature(&parsed, &secret.0, &clients.name)?;
    Rules {
        name: &clients.name,
        audiences: &clients.audiences,
        leeway_secs: clients.leeway_secs,
        max_age_secs: clients.max_age_secs,
        scopes: &clients.scopes,
        user_claims: &clients.user_claims,
        client_claims: &[],
        roles: None,
    }
    .apply(parsed.claims, now, Some(&client_id))
}
