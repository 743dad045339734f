//! BRP fixture configuration.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};

use super::date::BrpDate;

/// OAuth2 client-credentials expectations: the fixture serves a token endpoint that issues
/// `access_token` to this client, and then requires it as a bearer token on `/personen`.
#[derive(Clone, PartialEq, Eq)]
pub struct BrpOAuth2 {
    /// Expected `client_id` (form field or HTTP Basic user).
    pub client_id: String,
    /// Expected `client_secret` (form field or HTTP Basic password).
    pub client_secret: String,
    /// The token issued and required.
    pub access_token: String,
    /// `expires_in` of the token response, seconds.
    pub expires_in: u64,
}

impl fmt::Debug for BrpOAuth2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrpOAuth2")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// What the BRP fixture serves and where.
#[derive(Clone, PartialEq, Eq)]
pub struct BrpFixtureConfig {
    /// Address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Seed of the generated persons: the same seed (and count) gives the same persons.
    pub seed: u64,
    /// Number of persons (including RvIG's test person 999993653 and the fixed households).
    pub persons: usize,
    /// The municipality most persons live in (Tabel 33 code); 0363 Amsterdam by default.
    pub own_gemeente: String,
    /// The date `leeftijd` and gezag are computed on. Fixed by default so responses are
    /// reproducible; [`BrpDate::today_utc`] for the real API's behaviour.
    pub peildatum: BrpDate,
    /// Path prefix of the API; `POST {base_path}/personen` is served, and so is
    /// `/haalcentraal/api/brp/personen` whatever this is.
    pub base_path: String,
    /// Searches finding more persons than this answer 400 `tooManyResults` (RvIG: 10).
    pub max_search_results: usize,
    /// When set, `(header name, value)` every `/personen` request must carry; else 401.
    pub api_key: Option<(String, String)>,
    /// When set, `Authorization: Bearer <token>` every `/personen` request must carry.
    pub bearer_token: Option<String>,
    /// When set, a client-credentials token endpoint at `{base_path}/oauth2/token` (and
    /// `/oauth2/token`), and its token is required on `/personen`.
    pub oauth2: Option<BrpOAuth2>,
}

impl Default for BrpFixtureConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            seed: 0xB4_0002,
            persons: 10_000,
            own_gemeente: "0363".to_owned(),
            peildatum: BrpDate::new(2025, 7, 1),
            base_path: "/haalcentraal/api/brp".to_owned(),
            max_search_results: 10,
            api_key: None,
            bearer_token: None,
            oauth2: None,
        }
    }
}

// Hand-written so that secrets never reach a log line.
impl fmt::Debug for BrpFixtureConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrpFixtureConfig")
            .field("listen", &self.listen)
            .field("seed", &self.seed)
            .field("persons", &self.persons)
            .field("own_gemeente", &self.own_gemeente)
            .field("peildatum", &self.peildatum)
            .field("base_path", &self.base_path)
            .field("max_search_results", &self.max_search_results)
            .field(
                "api_key",
                &self.api_key.as_ref().map(|(name, _)| (name, "<redacted>")),
            )
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("oauth2", &self.oauth2)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let cfg = BrpFixtureConfig {
            api_key: Some(("X-API-KEY".into(), "sleutel-123".into())),
            bearer_token: Some("token-456".into()),
            oauth2: Some(BrpOAuth2 {
                client_id: "sluis".into(),
                client_secret: "geheim-789".into(),
                access_token: "tok-000".into(),
                expires_in: 60,
            }),
            ..BrpFixtureConfig::default()
        };
        let s = format!("{cfg:?}");
        for secret in ["sleutel-123", "token-456", "geheim-789", "tok-000"] {
            assert!(!s.contains(secret), "{s}");
        }
        assert!(s.contains("X-API-KEY") && s.contains("sluis"));
    }
}
