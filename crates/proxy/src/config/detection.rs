//! `[detection]`: the misuse-detection rules file the server evaluates as records commit, and
//! the webhook alerts are delivered to.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::Uri;
use serde::Deserialize;
use sluis_audit::Severity;

use super::{RawSecret, Secret, Validator};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDetection {
    /// The rules file (TOML); without it every rule runs with its defaults.
    rules: Option<PathBuf>,
    /// Entries waiting for the detector before new ones are dropped (and counted).
    #[serde(default = "default_queue")]
    queue_entries: usize,
    webhook: Option<RawWebhook>,
}

fn default_queue() -> usize {
    100_000
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: String,
    /// Key of the HMAC-SHA256 signature over each delivery (`X-Sluis-Signature`).
    secret: RawSecret,
    #[serde(default = "default_timeout")]
    timeout_ms: u64,
    #[serde(default = "default_attempts")]
    max_attempts: u32,
    /// Deliver only alerts of at least this severity (default: all).
    min_severity: Option<String>,
    /// Include who and which pseudonymised subjects; off by default: the receiver learns that
    /// a rule fired and where to look, the details stay behind the reviewers' sign-in.
    #[serde(default)]
    include_identities: bool,
}

fn default_timeout() -> u64 {
    5_000
}

fn default_attempts() -> u32 {
    8
}

/// Where alerts are delivered.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: Uri,
    pub secret: Secret,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub min_severity: Severity,
    pub include_identities: bool,
}

/// The validated `[detection]` section.
#[derive(Debug, Clone)]
pub struct Detection {
    pub rules_file: Option<PathBuf>,
    pub rules: Arc<sluis_detect::Rules>,
    pub queue_entries: usize,
    pub webhook: Option<Webhook>,
}

impl Validator<'_> {
    pub(super) fn detection(&mut self, raw: &RawDetection) -> Option<Detection> {
        let rules_file = raw.rules.as_ref().map(|p| self.rel(p));
        let rules = match &rules_file {
            Some(file) => match std::fs::read_to_string(file) {
                Ok(text) => match sluis_detect::parse_rules(&text, &file.display().to_string()) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        self.problem("detection.rules", e.to_string());
                        None
                    }
                },
                Err(e) => {
                    self.problem(
                        "detection.rules",
                        format!("cannot read {}: {e}", file.display()),
                    );
                    None
                }
            },
            None => match sluis_detect::parse_rules("", "the default rules") {
                Ok(r) => Some(r),
                Err(e) => {
                    self.problem("detection", e.to_string());
                    None
                }
            },
        };
        if raw.queue_entries == 0 {
            self.problem("detection.queue_entries", "must be at least 1");
        }
        let webhook = match &raw.webhook {
            None => None,
            Some(w) => {
                let url = self.url("detection.webhook.url", &w.url);
                let secret = self.secret("detection.webhook.secret", &w.secret);
                if secret.as_ref().is_some_and(|s| s.0.len() < 16) {
                    self.problem(
                        "detection.webhook.secret",
                        "the signing key must be at least 16 bytes",
                    );
                }
                if w.timeout_ms == 0 {
                    self.problem("detection.webhook.timeout_ms", "must be above 0");
                }
                if w.max_attempts == 0 {
                    self.problem("detection.webhook.max_attempts", "must be at least 1");
                }
                let min_severity = match w.min_severity.as_deref() {
                    None => Some(Severity::Low),
                    Some(s) => {
                        let parsed = Severity::parse(s);
                        if parsed.is_none() {
                            self.problem(
                                "detection.webhook.min_severity",
                                format!("must be low, medium or high (got {s:?})"),
                            );
                        }
                        parsed
                    }
                };
                match (url, secret, min_severity) {
                    (Some(url), Some(secret), Some(min_severity)) => Some(Webhook {
                        url,
                        secret,
                        timeout: Duration::from_millis(w.timeout_ms),
                        max_attempts: w.max_attempts,
                        min_severity,
                        include_identities: w.include_identities,
                    }),
                    _ => None,
                }
            }
        };
        Some(Detection {
            rules_file,
            rules: Arc::new(rules?),
            queue_entries: raw.queue_entries,
            webhook,
        })
    }
}
