//! Signing reviewers in: OpenID Connect authorization code flow with PKCE (S256), state and
//! nonce, at the issuer `[ui] issuer` names. The ID token is verified like any bearer token
//! (signature against the issuer's JWKS, `iss`, `aud` = the UI's client id, `exp`), and its
//! nonce must be the one this sign-in sent.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Uri};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use sluis_token::{Algorithm, IssuerConfig, KeySet, Principal, ScopeClaim, TokenError, Verifier};
use tokio::sync::OnceCell;

use crate::config::Ui;
use crate::upstream::HttpsClient;

/// Largest discovery document or token response accepted.
const MAX_DOC_BYTES: usize = 256 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a sign-in failed. Shown to the reviewer (no secrets in it) and recorded.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the identity provider cannot be reached: {0}")]
    Provider(String),
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    #[error("the sign-in was not started here or has expired; start again")]
    UnknownState,
    #[error("the ID token was not accepted: {0}")]
    Token(String),
    #[error("the ID token's nonce is not this sign-in's")]
    Nonce,
}

/// The endpoints of the discovery document.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub authorization: String,
    pub token: Uri,
}

/// What the sign-in needs, built once from `[ui]`.
#[derive(Debug)]
pub struct Oidc {
    pub ui: Ui,
    verifier: Verifier,
    client: HttpsClient,
    endpoints: OnceCell<Endpoints>,
}

fn enc(s: &str) -> percent_encoding::PercentEncode<'_> {
    utf8_percent_encode(s, NON_ALPHANUMERIC)
}

impl Oidc {
    pub fn new(ui: Ui, client: HttpsClient) -> Result<Oidc, TokenError> {
        let algorithms: Vec<Algorithm> = ui
            .algorithms
            .iter()
            .filter_map(|a| a.parse().ok())
            .collect();
        let cfg = IssuerConfig::new(ui.issuer.clone(), ui.issuer_url.clone())
            .with_audiences([ui.client_id.clone()])
            .with_algorithms(algorithms)
            .with_scopes(ScopeClaim::None)
            .with_leeway(ui.leeway_secs)
            .with_user_claims(ui.user_claims.clone());
        Ok(Oidc {
            verifier: Verifier::new(vec![cfg])?,
            ui,
            client,
            endpoints: OnceCell::new(),
        })
    }

    /// The discovery document's endpoints, fetched on first use (a failed fetch is tried again
    /// at the next sign-in).
    pub async fn endpoints(&self) -> Result<&Endpoints, SignInError> {
        self.endpoints
            .get_or_try_init(|| async {
                let doc = self.fetch(self.ui.discovery.clone()).await?;
                let v: Value = serde_json::from_slice(&doc)
                    .map_err(|e| SignInError::Provider(format!("discovery document: {e}")))?;
                if v.get("issuer").and_then(Value::as_str) != Some(self.ui.issuer_url.as_str()) {
                    return Err(SignInError::Provider(
                        "the discovery document names another issuer".into(),
                    ));
                }
                let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
                let authorization = s("authorization_endpoint").ok_or_else(|| {
                    SignInError::Provider("discovery document has no authorization_endpoint".into())
                })?;
                let token = s("token_endpoint")
                    .and_then(|t| t.parse::<Uri>().ok())
                    .ok_or_else(|| {
                        SignInError::Provider(
                            "discovery document has no valid token_endpoint".into(),
                        )
                    })?;
                Ok(Endpoints {
                    authorization,
                    token,
                })
            })
            .await
    }

    /// Where to send the browser to sign in.
    pub fn authorize_url(
        &self,
        ep: &Endpoints,
        state: &str,
        nonce: &str,
        verifier: &str,
    ) -> String {
        let sep = if ep.authorization.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{sep}response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&nonce={}&code_challenge={}&code_challenge_method=S256",
            ep.authorization,
            enc(&self.ui.client_id),
            enc(&self.ui.redirect_url.to_string()),
            enc(&self.ui.scopes.join(" ")),
            enc(state),
            enc(nonce),
            super::session::challenge(verifier),
        )
    }

    /// Redeems the code at the token endpoint; returns the ID token it answers with.
    pub async fn redeem(&self, code: &str, verifier: &str) -> Result<String, SignInError> {
        let ep = self.endpoints().await?;
        let mut form = format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={}&client_id={}",
            enc(code),
            enc(&self.ui.redirect_url.to_string()),
            enc(verifier),
            enc(&self.ui.client_id),
        );
        if let Some(secret) = &self.ui.client_secret {
            let secret = String::from_utf8_lossy(secret.expose()).into_owned();
            form.push_str("&client_secret=");
            form.push_str(&enc(&secret).to_string());
        }
        let req = Request::builder()
            .method(Method::POST)
            .uri(ep.token.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| SignInError::Provider(e.to_string()))?;
        let resp = tokio::time::timeout(TIMEOUT, self.client.request(req))
            .await
            .map_err(|_| SignInError::Provider("the token endpoint timed out".into()))?
            .map_err(|e| SignInError::Provider(e.to_string()))?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_DOC_BYTES)
            .collect()
            .await
            .map_err(|e| SignInError::Provider(e.to_string()))?
            .to_bytes();
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if !status.is_success() {
            // The OAuth error code only: an error description may echo what was sent.
            let code = v
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no error code");
            return Err(SignInError::Refused(format!(
                "token endpoint answered {status} ({code})"
            )));
        }
        v.get("id_token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| SignInError::Token("the token response has no id_token".into()))
    }

    /// Verifies an ID token with the issuer's current keys and checks this sign-in's nonce.
    /// `Err(TokenError::UnknownKey)` tells the caller to refresh the keys and verify again.
    pub fn verify(
        &self,
        id_token: &str,
        nonce: &str,
        keys: Option<std::sync::Arc<KeySet>>,
        now: u64,
    ) -> Result<Result<Principal, SignInError>, TokenError> {
        let source = |_: &str| keys.clone();
        let principal =
            match self
                .verifier
                .verify_for_issuer(&self.ui.issuer, id_token, now, &source)
            {
                Ok(p) => p,
                Err(e @ TokenError::UnknownKey { .. }) => return Err(e),
                Err(e) => return Ok(Err(SignInError::Token(e.to_string()))),
            };
        if principal.claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Ok(Err(SignInError::Nonce));
        }
        Ok(Ok(principal))
    }

    async fn fetch(&self, url: Uri) -> Result<Bytes, SignInError> {
        let req = Request::builder()
            .method(Method::GET)
            .uri(url)
            .header("accept", "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| SignInError::Provider(e.to_string()))?;
        let resp = tokio::time::timeout(TIMEOUT, self.client.request(req))
            .await
            .map_err(|_| SignInError::Provider("the discovery document timed out".into()))?
            .map_err(|e| SignInError::Provider(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(SignInError::Provider(format!(
                "the discovery document answered {}",
                resp.status()
            )));
        }
        Limited::new(resp.into_body(), MAX_DOC_BYTES)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .map_err(|e| SignInError::Provider(e.to_string()))
    }
}

/// The roles in the claim `name`: an array of strings or a space-separated string.
pub fn roles(p: &Principal, name: &str) -> Vec<String> {
    match p.claims.get(name) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}
