//! `[ui]`: the privacy officer's pages on the admin listener (`/ui/`), signed in with OpenID
//! Connect (authorization code with PKCE) at an issuer of `[issuers]`.

use std::time::Duration;

use hyper::Uri;
use serde::Deserialize;

use super::{Issuer, KeysFrom, RawSecret, Secret, Validator};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUi {
    /// The `[[issuers]]` entry (by name) whose IdP signs the reviewers in: its keys verify the
    /// ID tokens.
    issuer: String,
    client_id: String,
    /// A confidential client's secret (sent as `client_secret_post`); PKCE is used either way.
    client_secret: Option<RawSecret>,
    /// Where the IdP sends the browser back: this listener's `/ui/callback`, as the browser
    /// reaches it.
    redirect_url: String,
    /// The discovery document; default: the issuer's `/.well-known/openid-configuration`.
    discovery: Option<String>,
    /// Scopes asked for at sign-in.
    #[serde(default = "default_scopes")]
    scopes: Vec<String>,
    /// The ID token claim holding the user's roles or groups (an array of strings, or a
    /// space-separated string).
    #[serde(default = "default_roles_claim")]
    roles_claim: String,
    /// Roles that may use the pages (FG, security officer).
    reviewer_roles: Vec<String>,
    /// Roles that also see who an alert is about and its evidence; default: every reviewer.
    identity_roles: Option<Vec<String>>,
    /// The claim naming the reviewer in the log.
    #[serde(default = "default_user_claims")]
    user_claims: Vec<String>,
    #[serde(default = "default_session_minutes")]
    session_minutes: u64,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into()]
}

fn default_roles_claim() -> String {
    "roles".into()
}

fn default_user_claims() -> Vec<String> {
    vec!["preferred_username".into(), "email".into(), "sub".into()]
}

fn default_session_minutes() -> u64 {
    480
}

/// The validated `[ui]` section.
#[derive(Debug, Clone)]
pub struct Ui {
    /// The `[[issuers]]` entry's name.
    pub issuer: String,
    /// The issuer's `iss`.
    pub issuer_url: String,
    pub algorithms: Vec<String>,
    pub leeway_secs: u64,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub redirect_url: Uri,
    pub discovery: Uri,
    pub scopes: Vec<String>,
    pub roles_claim: String,
    pub reviewer_roles: Vec<String>,
    pub identity_roles: Vec<String>,
    pub user_claims: Vec<String>,
    pub session: Duration,
    /// The session cookie is marked `Secure` (the redirect URL is https).
    pub secure_cookie: bool,
}

impl Validator<'_> {
    pub(super) fn ui(&mut self, raw: &RawUi, issuers: &[Issuer]) -> Option<Ui> {
        let issuer = issuers.iter().find(|i| i.name == raw.issuer);
        let issuer = match issuer {
            Some(i) if matches!(i.keys, KeysFrom::Hmac(_)) => {
                self.problem(
                    "ui.issuer",
                    format!(
                        "issuer {:?} has HMAC client secrets; sign-in needs an OpenID provider's public keys",
                        raw.issuer
                    ),
                );
                None
            }
            Some(i) => Some(i),
            None => {
                self.problem(
                    "ui.issuer",
                    format!("no [[issuers]] entry is named {:?}", raw.issuer),
                );
                None
            }
        };
        if raw.client_id.trim().is_empty() {
            self.problem("ui.client_id", "must not be empty");
        }
        let client_secret = raw
            .client_secret
            .as_ref()
            .and_then(|s| self.secret("ui.client_secret", s));
        let redirect_url = self.url("ui.redirect_url", &raw.redirect_url);
        if redirect_url
            .as_ref()
            .is_some_and(|u| u.path() != "/ui/callback")
        {
            self.problem(
                "ui.redirect_url",
                "must end in /ui/callback (where the admin listener takes the sign-in back)",
            );
        }
        if !raw.scopes.iter().any(|s| s == "openid") {
            self.problem("ui.scopes", "must include \"openid\"");
        }
        if raw.reviewer_roles.is_empty() {
            self.problem(
                "ui.reviewer_roles",
                "name at least one role that may use the pages (e.g. the privacy officer's)",
            );
        }
        if raw.user_claims.is_empty() {
            self.problem("ui.user_claims", "name at least one claim");
        }
        if raw.session_minutes == 0 || raw.session_minutes > 24 * 60 {
            self.problem("ui.session_minutes", "must be between 1 and 1440");
        }
        let discovery = match (&raw.discovery, issuer) {
            (Some(d), _) => self.url("ui.discovery", d),
            (None, Some(i)) => {
                let text = format!(
                    "{}/.well-known/openid-configuration",
                    i.issuer.trim_end_matches('/')
                );
                self.url("ui.issuer", &text)
            }
            (None, None) => None,
        };
        let identity_roles = raw
            .identity_roles
            .clone()
            .unwrap_or_else(|| raw.reviewer_roles.clone());
        let (issuer, redirect_url, discovery) = (issuer?, redirect_url?, discovery?);
        Some(Ui {
            issuer: issuer.name.clone(),
            issuer_url: issuer.issuer.clone(),
            algorithms: issuer.algorithms.clone(),
            leeway_secs: issuer.leeway_secs,
            client_id: raw.client_id.clone(),
            client_secret,
            secure_cookie: redirect_url.scheme_str() == Some("https"),
            redirect_url,
            discovery,
            scopes: raw.scopes.clone(),
            roles_claim: raw.roles_claim.clone(),
            reviewer_roles: raw.reviewer_roles.clone(),
            identity_roles,
            user_claims: raw.user_claims.clone(),
            session: Duration::from_secs(raw.session_minutes * 60),
        })
    }
}
