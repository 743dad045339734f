//! sluis-token: the *authenticate* phase as a pure library. It verifies bearer JWTs (compact
//! JWS) against the issuer they claim and maps their claims to a [`Principal`]
//! (subject, user, client application, scopes).
//!
//! The crate does no I/O and reads no clock: the current time is passed in as unix seconds, and
//! public keys arrive through a [`KeySource`] that the networking crate backs with its JWKS
//! cache (fetching, scheduled refresh, and a rate-limited refresh when [`Verifier::verify`]
//! reports [`TokenError::UnknownKey`]).
//!
//! Trust model, per issuer ([`IssuerConfig`]): an allow-list of asymmetric algorithms (RS*,
//! PS*, ES256/384, EdDSA; `none` is not representable and HMAC is refused for public-key
//! issuers, which defeats the HS256-with-the-public-key confusion attack), keys from a
//! [`KeySet`] (JWKS or PEM, validated on load, looked up by `kid`), `exp`/`nbf`/`iat` with
//! leeway, exact `iss`, `aud` from a list, and the claim that carries scopes ([`ScopeClaim`]).
//! ZGW-style applications that sign with a per-client shared secret are [`HmacClients`].
//! Verified principals can be kept in a [`VerifiedCache`] keyed by the token's hash.
//!
//! ```
//! use sluis_token::{IssuerConfig, KeySet, Verifier, ScopeClaim};
//! use std::collections::HashMap;
//!
//! let verifier = Verifier::new(vec![
//!     IssuerConfig::new("keycloak", "https://login.example/realms/gemeente")
//!         .with_audiences(["sluis"])
//!         .with_scopes(ScopeClaim::KeycloakRealmRoles { mapping: Default::default() }),
//! ])?;
//! let mut keys: HashMap<String, KeySet> = HashMap::new();
//! keys.insert("keycloak".into(), KeySet::from_jwks(br#"{"keys": []}"#)?);
//! let err = verifier.verify("not-a-token", 1_700_000_000, &keys).unwrap_err();
//! assert_eq!(err.code(), "malformed");
//! # Ok::<(), sluis_token::TokenError>(())
//! ```

mod cache;
mod claims;
mod config;
mod error;
mod jwt;
mod keys;
mod principal;
mod verifier;

pub use cache::{CacheStats, VerifiedCache};
pub use config::{DEFAULT_LEEWAY_SECS, HmacClients, IssuerConfig, RoleMapping, ScopeClaim};
pub use error::{Malformed, TokenError};
pub use keys::{KeyKind, KeySet, KeySource, MAX_JWKS_KEYS, MIN_RSA_BITS, NoKeys, SkippedKeys};
pub use principal::Principal;
pub use verifier::{DEFAULT_MAX_TOKEN_BYTES, Verifier};

/// Re-exported so callers name algorithms without depending on `jsonwebtoken` themselves.
pub use jsonwebtoken::Algorithm;
