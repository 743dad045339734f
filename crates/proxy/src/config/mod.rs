//! `sluis.toml`: parsed once into valid types. Every problem is collected so `sluis check` can
//! report all of them. Secrets come from environment variables or files, never inline.

mod activity;
mod api;
mod audit;
mod detection;
mod issuer;
mod ratelimit;
mod secret;
mod ui;
mod zgw;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper::Uri;
use serde::Deserialize;

pub use activity::Activity;
pub use api::{Api, ApiKind, BrpApi, DatasetApi, Oauth2, SubjectField, Tls, Upstream, ZgwJwt};
pub use audit::{Audit, AuditKind};
pub use detection::{Detection, Webhook};
pub use issuer::{Issuer, IssuerKind, KeysFrom, ScopeClaimKind, UserHeaderTrust};
pub use ratelimit::{RateLimit, RatePer};
pub use secret::{RawSecret, Secret};
pub use ui::Ui;
pub use zgw::{AutorisatiesSource, ZgwApi, ZgwSettings};

use crate::error::ConfigProblem;
use activity::RawActivity;
use api::RawApi;
use audit::RawAudit;
use issuer::RawIssuer;
use ratelimit::RawRateLimit;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    server: RawServer,
    policy: RawPolicy,
    #[serde(default)]
    issuers: Vec<RawIssuer>,
    #[serde(default)]
    apis: Vec<RawApi>,
    #[serde(default)]
    processing_activities: Vec<RawActivity>,
    /// The register of task applications.
    #[serde(default)]
    applications: Vec<sluis_rights::RawApplication>,
    /// `[register] file = "register.toml"`: applications and activities kept in their own file.
    register: Option<RawRegisterRef>,
    audit: RawAudit,
    #[serde(default)]
    limits: crate::listener::Limits,
    /// `[[rate_limits]]`: requests per client or user, per mount and operation.
    #[serde(default)]
    rate_limits: Vec<RawRateLimit>,
    zgw: Option<zgw::RawZgw>,
    /// `[detection]`: misuse detection as records commit.
    detection: Option<detection::RawDetection>,
    /// `[ui]`: the privacy officer's pages.
    ui: Option<ui::RawUi>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegisterRef {
    file: PathBuf,
}

/// The file `[register] file` names: more applications and processing activities.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegisterFile {
    #[serde(default)]
    applications: Vec<sluis_rights::RawApplication>,
    #[serde(default)]
    processing_activities: Vec<RawActivity>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: String,
    admin_listen: String,
    public_url: Option<String>,
    #[serde(default = "default_max_body")]
    max_body_bytes: usize,
    #[serde(default = "default_max_token")]
    max_token_bytes: usize,
    #[serde(default = "default_grace")]
    shutdown_grace_secs: u64,
    #[serde(default = "default_poll")]
    reload_poll_secs: u64,
    #[serde(default = "default_token_cache")]
    token_cache_capacity: usize,
    /// The scope a token needs for the admin API (`/admin/...`); without it that API is off.
    admin_scope: Option<String>,
    /// How many sluis instances serve these APIs side by side: each enforces its share of a
    /// rate limit.
    #[serde(default = "default_instances")]
    instances: u32,
}

fn default_instances() -> u32 {
    1
}

fn default_max_body() -> usize {
    8 * 1024 * 1024
}
fn default_max_token() -> usize {
    16 * 1024
}
fn default_grace() -> u64 {
    10
}
fn default_poll() -> u64 {
    2
}
fn default_token_cache() -> usize {
    10_000
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    schemas: Vec<PathBuf>,
    #[serde(default)]
    profiles: Vec<PathBuf>,
    encoding_key: RawSecret,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub source: Option<PathBuf>,
    pub listen: SocketAddr,
    pub admin_listen: SocketAddr,
    /// Public base URL (scheme and authority) used in rewritten links; `None` = from `Host`.
    pub public_url: Option<String>,
    pub max_body_bytes: usize,
    pub max_token_bytes: usize,
    pub shutdown_grace: Duration,
    pub reload_poll: Duration,
    pub token_cache_capacity: usize,
    /// The scope the admin API (`/admin/register`, `/admin/rights`) requires.
    pub admin_scope: Option<String>,
    pub schemas: Vec<PathBuf>,
    pub profiles: Vec<PathBuf>,
    pub encoding_key: Secret,
    pub issuers: Vec<Issuer>,
    pub apis: Vec<Api>,
    pub activities: Vec<Activity>,
    /// The register: applications, and per activity its legal basis and ceiling.
    pub register: sluis_rights::Register,
    /// The file the register was (partly) read from, watched for reload.
    pub register_file: Option<PathBuf>,
    pub audit: Audit,
    /// `[limits]`: connection limits of the listeners.
    pub limits: crate::listener::Limits,
    /// `[zgw]`: what the ZGW mounts share.
    pub zgw: Option<ZgwSettings>,
    /// `[[rate_limits]]`.
    pub rate_limits: Vec<RateLimit>,
    /// `[server] instances`: instances that share the rate limits (each enforces 1/n).
    pub instances: u32,
    /// `[detection]`: `None` when the section is absent (no detection in the server).
    pub detection: Option<Detection>,
    /// `[ui]`: the privacy officer's pages; `None` when absent (no `/ui/`).
    pub ui: Option<Ui>,
    /// The demo's sign-in without an IdP. Never read from a file: only `sluis demo` sets it.
    pub demo_sign_in: bool,
}

impl Config {
    /// Reads and validates a configuration file. Relative paths in it are relative to the file.
    pub fn load(path: &Path) -> Result<Config, Vec<ConfigProblem>> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            vec![ConfigProblem::new(
                path,
                "",
                format!("cannot read configuration: {e}"),
            )]
        })?;
        Self::parse(&text, path, &|name| std::env::var(name).ok())
    }

    /// Parses configuration text; `env` looks environment variables up (injectable for tests).
    pub fn parse(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, Vec<ConfigProblem>> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| line_col(text, s.start))
                .unwrap_or_default();
            vec![ConfigProblem::new(path, &at, e.message().to_owned())]
        })?;
        let mut v = Validator {
            path,
            env,
            problems: Vec::new(),
            base: path.parent().unwrap_or(Path::new("")),
        };
        let cfg = v.config(raw);
        match cfg {
            Some(c) if v.problems.is_empty() => Ok(c),
            _ => Err(v.problems),
        }
    }

    /// Finds the processing activity a stated purpose maps to (by id or alias).
    pub fn activity(&self, purpose: &str) -> Option<&Activity> {
        self.activities
            .iter()
            .find(|a| a.id == purpose || a.aliases.iter().any(|x| x == purpose))
    }
}

fn line_col(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {col}")
}

struct Validator<'a> {
    path: &'a Path,
    base: &'a Path,
    env: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<ConfigProblem>,
}

impl Validator<'_> {
    pub(super) fn problem(&mut self, at: &str, msg: impl Into<String>) {
        self.problems
            .push(ConfigProblem::new(self.path, at, msg.into()));
    }

    pub(super) fn rel(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_owned()
        } else {
            self.base.join(p)
        }
    }

    /// Reads the register file `[register] file` names.
    fn register_file(&mut self, file: &Path) -> Option<RawRegisterFile> {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                self.problem(
                    "register.file",
                    format!("cannot read {}: {e}", file.display()),
                );
                return None;
            }
        };
        match toml::from_str::<RawRegisterFile>(&text) {
            Ok(r) => Some(r),
            Err(e) => {
                let at = e
                    .span()
                    .map(|s| line_col(&text, s.start))
                    .unwrap_or_default();
                self.problem(
                    "register.file",
                    format!("{} ({at}): {}", file.display(), e.message()),
                );
                None
            }
        }
    }

    pub(super) fn addr(&mut self, at: &str, s: &str) -> Option<SocketAddr> {
        match s.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                self.problem(
                    at,
                    format!("{s:?} is not an address such as 127.0.0.1:8080"),
                );
                None
            }
        }
    }

    pub(super) fn url(&mut self, at: &str, s: &str) -> Option<Uri> {
        match s.parse::<Uri>() {
            Ok(u)
                if matches!(u.scheme_str(), Some("http" | "https")) && u.authority().is_some() =>
            {
                Some(u)
            }
            _ => {
                self.problem(at, format!("{s:?} is not an http(s) URL"));
                None
            }
        }
    }

    fn config(&mut self, raw: RawConfig) -> Option<Config> {
        let listen = self.addr("server.listen", &raw.server.listen);
        let admin_listen = self.addr("server.admin_listen", &raw.server.admin_listen);
        if listen.is_some() && listen == admin_listen && listen.is_some_and(|a| a.port() != 0) {
            self.problem(
                "server.admin_listen",
                "the admin listener must differ from the API listener",
            );
        }
        let public_url = raw.server.public_url.as_ref().and_then(|u| {
            self.url("server.public_url", u)
                .map(|_| u.trim_end_matches('/').to_owned())
        });
        if raw.server.max_body_bytes == 0 {
            self.problem("server.max_body_bytes", "must be above 0");
        }
        let encoding_key = self.secret("policy.encoding_key", &raw.policy.encoding_key);
        if encoding_key.as_ref().is_some_and(|k| k.0.len() < 32) {
            self.problem(
                "policy.encoding_key",
                "the encoding key must be at least 32 bytes",
            );
        }
        if raw.policy.schemas.is_empty() {
            self.problem("policy.schemas", "name at least one dataset file or folder");
        }
        let schemas: Vec<PathBuf> = raw.policy.schemas.iter().map(|p| self.rel(p)).collect();
        let profiles: Vec<PathBuf> = raw.policy.profiles.iter().map(|p| self.rel(p)).collect();

        let mut issuers = Vec::new();
        let mut names = HashSet::new();
        for (i, ri) in raw.issuers.iter().enumerate() {
            let at = format!("issuers[{i}]");
            if !names.insert(ri.name.clone()) {
                self.problem(
                    &format!("{at}.name"),
                    format!("duplicate issuer name {:?}", ri.name),
                );
            }
            if let Some(iss) = self.issuer(&at, ri) {
                issuers.push(iss);
            }
        }

        let register_file = raw.register.as_ref().map(|r| self.rel(&r.file));
        let extra = register_file.as_ref().and_then(|f| self.register_file(f));
        let mut raw_activities: Vec<(String, &RawActivity)> = raw
            .processing_activities
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("processing_activities[{i}]"), a))
            .collect();
        let mut raw_apps: Vec<(String, sluis_rights::RawApplication)> = raw
            .applications
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("applications[{i}]"), a.clone()))
            .collect();
        if let (Some(f), Some(extra)) = (&register_file, &extra) {
            let shown = f.display();
            raw_activities.extend(
                extra
                    .processing_activities
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (format!("{shown}: processing_activities[{i}]"), a)),
            );
            raw_apps.extend(
                extra
                    .applications
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (format!("{shown}: applications[{i}]"), a.clone())),
            );
        }
        let activities = self.activities(&raw_activities);
        let drafts: Vec<sluis_rights::ActivityDraft> = raw_activities
            .iter()
            .map(|(at, a)| a.draft(at.clone()))
            .collect();
        let issuer_names: Vec<String> = raw.issuers.iter().map(|i| i.name.clone()).collect();
        let api_names: Vec<String> = raw.apis.iter().map(|a| a.name().to_owned()).collect();
        let (register, register_problems) = sluis_rights::Register::build(
            &raw_apps,
            &drafts,
            sluis_rights::Known {
                issuers: &issuer_names,
                apis: &api_names,
            },
        );
        for p in register_problems {
            self.problem(&p.at, p.message);
        }

        let mut apis = Vec::new();
        let mut prefixes = HashSet::new();
        let mut api_names_seen = HashSet::new();
        for (i, ra) in raw.apis.iter().enumerate() {
            if !api_names_seen.insert(ra.name().to_owned()) {
                self.problem(
                    &format!("apis[{i}].name"),
                    format!("the API name {:?} is used twice", ra.name()),
                );
            }
            if let Some(api) = self.api(
                i,
                ra,
                &activities,
                raw.server.max_body_bytes,
                !register.is_empty(),
            ) {
                if !prefixes.insert(api.prefix.clone()) {
                    self.problem(
                        &format!("apis[{i}].prefix"),
                        format!("prefix {} is mounted twice", api.prefix),
                    );
                }
                apis.push(api);
            }
        }
        let audit = self.audit(&raw.audit);
        if audit.as_ref().is_some_and(|a| a.subject_keys.is_empty())
            && apis.iter().any(|a| a.kind.records_subjects())
        {
            self.problem(
                "audit.subject_key",
                "APIs here deliver personal data: a subject key is needed to pseudonymise data subjects in the processing log",
            );
        }
        self.limits(&raw.limits);
        let names: Vec<&str> = apis.iter().map(|a| a.name.as_str()).collect();
        let rate_limits = self.rate_limits(&raw.rate_limits, &names);
        let detection = raw.detection.as_ref().and_then(|d| self.detection(d));
        let ui = raw.ui.as_ref().and_then(|u| self.ui(u, &issuers));
        if raw.server.instances == 0 || raw.server.instances > 1_000 {
            self.problem("server.instances", "must be 1 to 1000");
        }
        let zgw = raw
            .zgw
            .as_ref()
            .and_then(|z| self.zgw(z, raw.server.max_body_bytes));
        let mut components = HashSet::new();
        for (i, a) in apis.iter().enumerate() {
            if let ApiKind::Zgw(z) = &a.kind {
                if raw.zgw.is_none() {
                    self.problem(
                        &format!("apis[{i}]"),
                        "a zgw mount needs the [zgw] section (where the autorisaties come from)",
                    );
                }
                if !components.insert(z.component.clone()) {
                    self.problem(
                        &format!("apis[{i}].component"),
                        format!("the {} component is mounted twice", z.component),
                    );
                }
            }
        }
        Some(Config {
            source: Some(self.path.to_owned()),
            listen: listen?,
            admin_listen: admin_listen?,
            public_url,
            max_body_bytes: raw.server.max_body_bytes,
            max_token_bytes: raw.server.max_token_bytes,
            shutdown_grace: Duration::from_secs(raw.server.shutdown_grace_secs),
            reload_poll: Duration::from_secs(raw.server.reload_poll_secs.max(1)),
            token_cache_capacity: raw.server.token_cache_capacity,
            admin_scope: raw.server.admin_scope.clone(),
            schemas,
            profiles,
            encoding_key: encoding_key?,
            issuers,
            apis,
            activities,
            register,
            register_file,
            audit: audit?,
            limits: raw.limits,
            zgw,
            rate_limits,
            detection,
            ui,
            demo_sign_in: false,
            instances: raw.server.instances.max(1),
        })
    }

    fn limits(&mut self, l: &crate::listener::Limits) {
        for (key, v) in [
            ("limits.header_read_timeout_ms", l.header_read_timeout_ms),
            ("limits.body_read_timeout_ms", l.body_read_timeout_ms),
            ("limits.idle_timeout_ms", l.idle_timeout_ms),
        ] {
            if v == 0 {
                self.problem(
                    key,
                    "must be above 0 (a zero timeout would refuse every client)",
                );
            }
        }
        for (key, v) in [
            ("limits.max_connections", l.max_connections),
            ("limits.admin_max_connections", l.admin_max_connections),
            ("limits.backlog", l.backlog as usize),
        ] {
            if v == 0 {
                self.problem(key, "must be above 0 (the listener would accept nothing)");
            }
        }
    }
}
