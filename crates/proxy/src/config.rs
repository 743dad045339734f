//! `sluis.toml`: parsed once into valid types. Every problem is collected so `sluis check` can
//! report all of them. Secrets come from environment variables or files, never inline.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper::Uri;
use serde::Deserialize;

use crate::error::ConfigProblem;

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
    audit: RawAudit,
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

/// A secret: from an environment variable or a file (trailing newline removed).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecret {
    env: Option<String>,
    file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssuer {
    name: String,
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    client_id: String,
    secret: RawSecret,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    name: String,
    prefix: String,
    kind: ApiKind,
    dataset: Option<String>,
    upstream: RawUpstream,
    #[serde(default)]
    required_headers: Vec<String>,
    user_header: Option<String>,
    purpose_header: Option<String>,
    correlation_header: Option<String>,
    brp_policy: Option<PathBuf>,
    #[serde(default)]
    seal_keys: Vec<RawSealKey>,
    activity: Option<String>,
    #[serde(default)]
    subjects: BTreeMap<String, RawSubjectField>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubjectField {
    field: String,
    #[serde(rename = "type", default = "default_subject_type")]
    id_type: String,
}

fn default_subject_type() -> String {
    "BSN".into()
}

/// Where a dataset table's records name their data subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectField {
    /// Dotted path of the field holding the subject's identifier.
    pub field: String,
    /// The identifier's type, e.g. `BSN`.
    pub id_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSealKey {
    id: String,
    key: RawSecret,
}

/// The adapter a mounted API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiKind {
    /// An Amsterdam-Schema / DSO-style HAL dataset API.
    Dataset,
    /// Haal Centraal BRP Personen v2 (`POST {prefix}/personen`).
    Brp,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpstream {
    url: String,
    #[serde(default = "default_timeout")]
    timeout_ms: u64,
    #[serde(default = "default_connect_timeout")]
    connect_timeout_ms: u64,
    max_body_bytes: Option<usize>,
    #[serde(default = "default_pool")]
    pool_max_idle: usize,
    api_key: Option<RawApiKey>,
    oauth2: Option<RawOauth2>,
    tls: Option<RawTls>,
}

fn default_timeout() -> u64 {
    10_000
}
fn default_connect_timeout() -> u64 {
    2_000
}
fn default_pool() -> usize {
    64
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApiKey {
    header: String,
    value: RawSecret,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOauth2 {
    token_url: String,
    client_id: String,
    client_secret: RawSecret,
    scope: Option<String>,
    #[serde(default = "default_margin")]
    margin_secs: u64,
}

fn default_margin() -> u64 {
    30
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    ca_file: Option<PathBuf>,
    client_cert_file: Option<PathBuf>,
    client_key_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActivity {
    id: String,
    name: String,
    purpose: String,
    legal_basis: String,
    retention_days: u32,
    #[serde(default)]
    confidential: bool,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    #[serde(default)]
    kind: AuditKind,
    path: Option<PathBuf>,
    url: Option<RawSecret>,
    schema: Option<String>,
    subject_key: Option<RawSecret>,
    #[serde(default = "default_subject_key_id")]
    subject_key_id: String,
    #[serde(default)]
    retired_subject_keys: Vec<RawSealKey>,
    checkpoint_key: Option<RawSecret>,
    #[serde(default)]
    retired_checkpoint_public_keys: Vec<String>,
    #[serde(default = "default_checkpoint_every")]
    checkpoint_every: u64,
    #[serde(default = "default_audit_queue")]
    queue_capacity: usize,
    controller: Option<String>,
    instance: Option<String>,
    reader_scope: Option<String>,
}

fn default_subject_key_id() -> String {
    "k1".into()
}
fn default_checkpoint_every() -> u64 {
    1000
}
fn default_audit_queue() -> usize {
    65_536
}

/// Which store records requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditKind {
    /// Embedded SQLite (WAL), hash-chained with signed checkpoints. The default.
    #[default]
    Sqlite,
    /// PostgreSQL, for several sluis instances sharing one log.
    Postgres,
    /// JSON lines appended to a file, fsynced in groups; not tamper-evident (development).
    Jsonl,
    /// Records nothing. Exists only in builds with the `bench-no-audit` feature, to measure what
    /// durable recording costs; a normal build refuses this value.
    #[cfg(feature = "bench-no-audit")]
    Disabled,
}

/// The validated `[audit]` settings.
#[derive(Debug, Clone)]
pub struct Audit {
    pub kind: AuditKind,
    /// SQLite database or JSON-lines file.
    pub path: Option<PathBuf>,
    /// PostgreSQL connection string.
    pub url: Option<Secret>,
    pub schema: Option<String>,
    /// Keys for subject pseudonyms: (id, key), current first.
    pub subject_keys: Vec<(String, Secret)>,
    /// Ed25519 seed (64 hex digits) for signed checkpoints.
    pub checkpoint_key: Option<Secret>,
    /// Public keys (64 hex digits) of earlier checkpoint keys, so checkpoints signed before a
    /// rotation still verify.
    pub retired_checkpoint_public_keys: Vec<String>,
    pub checkpoint_every: u64,
    pub queue_capacity: usize,
    /// The controller named in citizens' overviews.
    pub controller: String,
    /// This instance's name in processing records (`resource`).
    pub instance: String,
    /// The scope a token needs to read the log on the admin listener (`/audit/entries`);
    /// without it the endpoint is off.
    pub reader_scope: Option<String>,
}

/// A secret value. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    pub fn expose_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }
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
    pub schemas: Vec<PathBuf>,
    pub profiles: Vec<PathBuf>,
    pub encoding_key: Secret,
    pub issuers: Vec<Issuer>,
    pub apis: Vec<Api>,
    pub activities: Vec<Activity>,
    pub audit: Audit,
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
}

#[derive(Debug, Clone)]
pub struct Api {
    pub name: String,
    /// Path prefix without trailing slash, e.g. `/v1/afvalwegingen`.
    pub prefix: String,
    pub kind: ApiKind,
    pub dataset: String,
    pub upstream: Upstream,
    pub required_headers: Vec<String>,
    pub user_header: Option<String>,
    pub purpose_header: Option<String>,
    pub correlation_header: Option<String>,
    /// BRP only: the BRP policy file.
    pub brp_policy: Option<PathBuf>,
    /// BRP only: keys for sealed (pseudonymous) BSNs, current first; base64 of 32 bytes each.
    pub seal_keys: Vec<(String, Secret)>,
    /// The processing activity recorded when the request states no purpose.
    pub activity: Option<String>,
    /// Dataset only: table → field naming each record's data subject.
    pub subjects: BTreeMap<String, SubjectField>,
}

#[derive(Debug, Clone)]
pub struct Upstream {
    /// Base URL without trailing slash.
    pub url: Uri,
    pub base: String,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body_bytes: usize,
    pub pool_max_idle: usize,
    pub api_key: Option<(String, Secret)>,
    pub oauth2: Option<Oauth2>,
    pub tls: Option<Tls>,
}

#[derive(Debug, Clone)]
pub struct Oauth2 {
    pub token_url: Uri,
    pub client_id: String,
    pub client_secret: Secret,
    pub scope: Option<String>,
    pub margin: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub ca_file: Option<PathBuf>,
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
}

/// A registered processing activity (verwerkingsactiviteit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub id: String,
    pub name: String,
    pub purpose: String,
    pub legal_basis: String,
    pub retention_days: u32,
    pub confidential: bool,
    pub aliases: Vec<String>,
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
    fn problem(&mut self, at: &str, msg: impl Into<String>) {
        self.problems
            .push(ConfigProblem::new(self.path, at, msg.into()));
    }

    fn rel(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_owned()
        } else {
            self.base.join(p)
        }
    }

    fn secret(&mut self, at: &str, s: &RawSecret) -> Option<Secret> {
        match (&s.env, &s.file) {
            (Some(name), None) => match (self.env)(name) {
                Some(v) if !v.is_empty() => Some(Secret(v.into_bytes())),
                _ => {
                    self.problem(
                        at,
                        format!("environment variable {name} is not set or empty"),
                    );
                    None
                }
            },
            (None, Some(file)) => {
                let file = self.rel(file);
                match std::fs::read(&file) {
                    Ok(mut b) => {
                        while b.last().is_some_and(|c| *c == b'\n' || *c == b'\r') {
                            b.pop();
                        }
                        if b.is_empty() {
                            self.problem(at, format!("secret file {} is empty", file.display()));
                            return None;
                        }
                        Some(Secret(b))
                    }
                    Err(e) => {
                        self.problem(
                            at,
                            format!("cannot read secret file {}: {e}", file.display()),
                        );
                        None
                    }
                }
            }
            _ => {
                self.problem(
                    at,
                    "a secret needs exactly one of env = \"VAR\" or file = \"PATH\"",
                );
                None
            }
        }
    }

    fn addr(&mut self, at: &str, s: &str) -> Option<SocketAddr> {
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

    fn url(&mut self, at: &str, s: &str) -> Option<Uri> {
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

        let mut activities = Vec::new();
        let mut ids = HashSet::new();
        for (i, a) in raw.processing_activities.iter().enumerate() {
            let at = format!("processing_activities[{i}]");
            for id in std::iter::once(&a.id).chain(&a.aliases) {
                if id.trim().is_empty() || !ids.insert(id.clone()) {
                    self.problem(
                        &at,
                        format!("processing activity id or alias {id:?} is empty or used twice"),
                    );
                }
            }
            if a.retention_days == 0 {
                self.problem(&format!("{at}.retention_days"), "must be at least 1 day");
            }
            activities.push(Activity {
                id: a.id.clone(),
                name: a.name.clone(),
                purpose: a.purpose.clone(),
                legal_basis: a.legal_basis.clone(),
                retention_days: a.retention_days,
                confidential: a.confidential,
                aliases: a.aliases.clone(),
            });
        }

        let mut apis = Vec::new();
        let mut prefixes = HashSet::new();
        for (i, ra) in raw.apis.iter().enumerate() {
            let at = format!("apis[{i}]");
            let prefix = ra.prefix.trim_end_matches('/').to_owned();
            if !prefix.starts_with('/') || prefix.len() < 2 || prefix.contains("//") {
                self.problem(
                    &format!("{at}.prefix"),
                    format!("{:?} must be a path such as /v1/afval", ra.prefix),
                );
            }
            if !prefixes.insert(prefix.clone()) {
                self.problem(
                    &format!("{at}.prefix"),
                    format!("prefix {prefix} is mounted twice"),
                );
            }
            let dataset = match (ra.kind, &ra.dataset) {
                (ApiKind::Dataset, Some(d)) => d.clone(),
                (ApiKind::Dataset, None) => {
                    self.problem(&format!("{at}.dataset"), "a dataset API names its dataset");
                    String::new()
                }
                (ApiKind::Brp, Some(_)) => {
                    self.problem(
                        &format!("{at}.dataset"),
                        "a brp API has no dataset; it has brp_policy",
                    );
                    String::new()
                }
                (ApiKind::Brp, None) => String::new(),
            };
            let brp_policy = ra.brp_policy.as_ref().map(|p| self.rel(p));
            match (ra.kind, &brp_policy) {
                (ApiKind::Brp, None) => self.problem(
                    &format!("{at}.brp_policy"),
                    "a brp API needs its BRP policy file",
                ),
                (ApiKind::Dataset, Some(_)) => self.problem(
                    &format!("{at}.brp_policy"),
                    "only brp APIs take a BRP policy file",
                ),
                _ => {}
            }
            if let Some(a) = &ra.activity
                && !activities.iter().any(|x: &Activity| &x.id == a)
            {
                self.problem(
                    &format!("{at}.activity"),
                    format!("{a:?} is not a registered processing activity"),
                );
            }
            let records_subjects = ra.kind == ApiKind::Brp || !ra.subjects.is_empty();
            if records_subjects && ra.activity.is_none() && ra.purpose_header.is_none() {
                self.problem(
                    &format!("{at}.activity"),
                    "an API that delivers personal data needs a purpose_header or a default activity, so its processing can be recorded",
                );
            }
            let mut seal_keys = Vec::new();
            for (j, k) in ra.seal_keys.iter().enumerate() {
                if let Some(secret) = self.secret(&format!("{at}.seal_keys[{j}].key"), &k.key) {
                    seal_keys.push((k.id.clone(), secret));
                }
            }
            let upstream = self.upstream(
                &format!("{at}.upstream"),
                &ra.upstream,
                raw.server.max_body_bytes,
            );
            let purpose_header = ra.purpose_header.clone();
            if purpose_header.is_some() && activities.is_empty() {
                self.problem(
                    &format!("{at}.purpose_header"),
                    "a purpose header needs processing_activities to map to",
                );
            }
            for h in ra
                .required_headers
                .iter()
                .chain(&ra.user_header)
                .chain(&purpose_header)
                .chain(&ra.correlation_header)
            {
                if hyper::header::HeaderName::from_bytes(h.as_bytes()).is_err() {
                    self.problem(&at, format!("{h:?} is not a valid header name"));
                }
            }
            if let Some(upstream) = upstream {
                apis.push(Api {
                    name: ra.name.clone(),
                    prefix,
                    kind: ra.kind,
                    dataset,
                    upstream,
                    required_headers: ra
                        .required_headers
                        .iter()
                        .map(|h| h.to_ascii_lowercase())
                        .collect(),
                    user_header: ra.user_header.as_ref().map(|h| h.to_ascii_lowercase()),
                    purpose_header: purpose_header.map(|h| h.to_ascii_lowercase()),
                    correlation_header: ra
                        .correlation_header
                        .as_ref()
                        .map(|h| h.to_ascii_lowercase()),
                    brp_policy,
                    seal_keys,
                    activity: ra.activity.clone(),
                    subjects: ra
                        .subjects
                        .iter()
                        .map(|(t, f)| {
                            (
                                t.clone(),
                                SubjectField {
                                    field: f.field.clone(),
                                    id_type: f.id_type.clone(),
                                },
                            )
                        })
                        .collect(),
                });
            }
        }
        let audit = self.audit(&raw.audit);
        if audit.as_ref().is_some_and(|a| a.subject_keys.is_empty())
            && apis
                .iter()
                .any(|a| a.kind == ApiKind::Brp || !a.subjects.is_empty())
        {
            self.problem(
                "audit.subject_key",
                "APIs here deliver personal data: a subject key is needed to pseudonymise data subjects in the processing log",
            );
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
            schemas,
            profiles,
            encoding_key: encoding_key?,
            issuers,
            apis,
            activities,
            audit: audit?,
        })
    }

    fn audit(&mut self, ra: &RawAudit) -> Option<Audit> {
        let path = ra.path.as_ref().map(|p| self.rel(p));
        let url = ra.url.as_ref().and_then(|u| self.secret("audit.url", u));
        match ra.kind {
            AuditKind::Sqlite | AuditKind::Jsonl if path.is_none() => {
                self.problem("audit.path", "the audit store needs a path")
            }
            AuditKind::Postgres if ra.url.is_none() => self.problem(
                "audit.url",
                "a postgres audit store needs url = { env = ... }",
            ),
            _ => {}
        }
        let mut subject_keys = Vec::new();
        if let Some(k) = &ra.subject_key
            && let Some(s) = self.secret("audit.subject_key", k)
        {
            if s.expose().len() < 32 {
                self.problem(
                    "audit.subject_key",
                    "the subject key must be at least 32 bytes",
                );
            }
            subject_keys.push((ra.subject_key_id.clone(), s));
        }
        for (j, k) in ra.retired_subject_keys.iter().enumerate() {
            if let Some(s) = self.secret(&format!("audit.retired_subject_keys[{j}].key"), &k.key) {
                subject_keys.push((k.id.clone(), s));
            }
        }
        let checkpoint_key = ra
            .checkpoint_key
            .as_ref()
            .and_then(|k| self.secret("audit.checkpoint_key", k));
        if checkpoint_key.as_ref().is_some_and(|k| {
            let t = k.expose_str().trim();
            t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit())
        }) {
            self.problem(
                "audit.checkpoint_key",
                "the checkpoint key must be 64 hex digits (an Ed25519 seed)",
            );
        }
        for (j, k) in ra.retired_checkpoint_public_keys.iter().enumerate() {
            if sluis_audit::PublicKey::from_hex(k).is_err() {
                self.problem(
                    &format!("audit.retired_checkpoint_public_keys[{j}]"),
                    "a checkpoint public key is 64 hex digits (an Ed25519 public key)",
                );
            }
        }
        if ra.queue_capacity == 0 {
            self.problem("audit.queue_capacity", "must be above 0");
        }
        Some(Audit {
            kind: ra.kind,
            path,
            url,
            schema: ra.schema.clone(),
            subject_keys,
            checkpoint_key,
            retired_checkpoint_public_keys: ra.retired_checkpoint_public_keys.clone(),
            checkpoint_every: ra.checkpoint_every,
            queue_capacity: ra.queue_capacity,
            controller: ra
                .controller
                .clone()
                .unwrap_or_else(|| "de gemeente".into()),
            instance: ra
                .instance
                .clone()
                .unwrap_or_else(|| format!("sluis/{}", env!("CARGO_PKG_VERSION"))),
            reader_scope: ra.reader_scope.clone(),
        })
    }

    fn issuer(&mut self, at: &str, ri: &RawIssuer) -> Option<Issuer> {
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
        })
    }

    fn upstream(&mut self, at: &str, ru: &RawUpstream, default_max: usize) -> Option<Upstream> {
        let url = self.url(&format!("{at}.url"), &ru.url)?;
        let api_key = ru.api_key.as_ref().and_then(|k| {
            if hyper::header::HeaderName::from_bytes(k.header.as_bytes()).is_err() {
                self.problem(&format!("{at}.api_key.header"), "not a valid header name");
            }
            self.secret(&format!("{at}.api_key.value"), &k.value)
                .map(|s| (k.header.clone(), s))
        });
        let oauth2 = match &ru.oauth2 {
            None => None,
            Some(o) => {
                let token_url = self.url(&format!("{at}.oauth2.token_url"), &o.token_url);
                let secret = self.secret(&format!("{at}.oauth2.client_secret"), &o.client_secret);
                match (token_url, secret) {
                    (Some(token_url), Some(client_secret)) => Some(Oauth2 {
                        token_url,
                        client_id: o.client_id.clone(),
                        client_secret,
                        scope: o.scope.clone(),
                        margin: Duration::from_secs(o.margin_secs),
                    }),
                    _ => None,
                }
            }
        };
        let tls = ru.tls.as_ref().map(|t| Tls {
            ca_file: t.ca_file.as_ref().map(|p| self.rel(p)),
            client_cert_file: t.client_cert_file.as_ref().map(|p| self.rel(p)),
            client_key_file: t.client_key_file.as_ref().map(|p| self.rel(p)),
        });
        if let Some(t) = &tls {
            if t.client_cert_file.is_some() != t.client_key_file.is_some() {
                self.problem(
                    &format!("{at}.tls"),
                    "client_cert_file and client_key_file go together",
                );
            }
            for f in [&t.ca_file, &t.client_cert_file, &t.client_key_file]
                .into_iter()
                .flatten()
            {
                if !f.is_file() {
                    self.problem(
                        &format!("{at}.tls"),
                        format!("{} is not a readable file", f.display()),
                    );
                }
            }
            if url.scheme_str() != Some("https") {
                self.problem(
                    &format!("{at}.tls"),
                    "tls settings need an https upstream url",
                );
            }
        }
        if ru.timeout_ms == 0 || ru.connect_timeout_ms == 0 {
            self.problem(at, "timeouts must be above 0 ms");
        }
        Some(Upstream {
            base: ru.url.trim_end_matches('/').to_owned(),
            url,
            timeout: Duration::from_millis(ru.timeout_ms),
            connect_timeout: Duration::from_millis(ru.connect_timeout_ms),
            max_body_bytes: ru.max_body_bytes.unwrap_or(default_max),
            pool_max_idle: ru.pool_max_idle,
            api_key,
            oauth2,
            tls,
        })
    }
}
