//! `[[rate_limits]]`: how many requests a client or a user may make, per mount and operation.

use std::time::Duration;

use serde::Deserialize;
use sluis_rights::Glob;

use super::Validator;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRateLimit {
    name: Option<String>,
    #[serde(default)]
    apis: Vec<String>,
    #[serde(default)]
    operations: Vec<String>,
    per: RatePer,
    requests: u32,
    #[serde(default = "default_window")]
    per_seconds: u32,
    burst: Option<u32>,
}

fn default_window() -> u32 {
    60
}

/// Whose requests a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RatePer {
    /// The calling application (the token's client id).
    Client,
    /// The acting user (user header or claim); a request without a user counts for its client.
    User,
}

/// A validated rate limit.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimit {
    /// Named in the 429 answer, the record and the metric.
    pub name: String,
    /// Mount names; empty: every mount.
    pub apis: Vec<String>,
    /// Operation patterns (`*` any characters); empty: every operation.
    pub operations: Vec<Glob>,
    pub per: RatePer,
    /// Requests allowed per `window`, across all instances (see `[server] instances`).
    pub requests: u32,
    pub window: Duration,
    /// Requests that may come at once after a quiet spell (default: `requests`).
    pub burst: u32,
}

impl RateLimit {
    /// Whether the limit counts requests to `api` for `operation`.
    pub fn applies(&self, api: &str, operation: &str) -> bool {
        (self.apis.is_empty() || self.apis.iter().any(|a| a == api))
            && (self.operations.is_empty() || self.operations.iter().any(|g| g.matches(operation)))
    }
}

impl Validator<'_> {
    pub(super) fn rate_limits(
        &mut self,
        raw: &[RawRateLimit],
        api_names: &[&str],
    ) -> Vec<RateLimit> {
        let mut out: Vec<RateLimit> = Vec::new();
        for (i, r) in raw.iter().enumerate() {
            let at = format!("rate_limits[{i}]");
            let name = r.name.clone().unwrap_or_else(|| format!("limit-{}", i + 1));
            if out.iter().any(|o| o.name == name) {
                self.problem(&format!("{at}.name"), format!("{name} is used twice"));
            }
            for a in &r.apis {
                if !api_names.contains(&a.as_str()) {
                    self.problem(&format!("{at}.apis"), format!("no API is named {a}"));
                }
            }
            if r.requests == 0 {
                self.problem(
                    &format!("{at}.requests"),
                    "must be above 0 (to refuse every request, leave the operation out of the ceiling instead)",
                );
            }
            if r.per_seconds == 0 || r.per_seconds > 86_400 {
                self.problem(&format!("{at}.per_seconds"), "must be 1 to 86400 seconds");
            }
            if r.burst == Some(0) {
                self.problem(&format!("{at}.burst"), "must be above 0");
            }
            out.push(RateLimit {
                name,
                apis: r.apis.clone(),
                operations: r.operations.iter().map(Glob::new).collect(),
                per: r.per,
                requests: r.requests.max(1),
                window: Duration::from_secs(u64::from(r.per_seconds.max(1))),
                burst: r.burst.unwrap_or(r.requests).max(1),
            });
        }
        out
    }
}
