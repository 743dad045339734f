//! `[[apis]]`: the mounted APIs. Settings every mount has (prefix, upstream, headers, the
//! default activity) and, tagged by `kind`, the settings of each API family.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use hyper::Uri;
use serde::Deserialize;

use super::Validator;
use super::activity::Activity;
use super::secret::{RawSecret, Secret};

/// One `[[apis]]` entry: the settings every mount has, and its family's settings tagged by
/// `kind` in the same table.
#[derive(Debug, Deserialize)]
pub(super) struct RawApi {
    name: String,
    prefix: String,
    upstream: RawUpstream,
    #[serde(default)]
    required_headers: Vec<String>,
    user_header: Option<String>,
    purpose_header: Option<String>,
    correlation_header: Option<String>,
    activity: Option<String>,
    #[serde(default)]
    required_scopes: Vec<String>,
    /// `"enforce"` or `"off"`: whether requests must come from a registered application for a
    /// registered activity. Default: enforce when `[[applications]]` registers any.
    register: Option<String>,
    #[serde(flatten)]
    kind: RawKind,
}

impl RawApi {
    /// The mount's name.
    pub(super) fn name(&self) -> &str {
        &self.name
    }
}

/// The family-specific settings, chosen by `kind`.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum RawKind {
    Dataset(RawDataset),
    Brp(RawBrp),
    Zgw(super::zgw::RawZgwMount),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDataset {
    dataset: String,
    #[serde(default)]
    subjects: BTreeMap<String, RawSubjectField>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBrp {
    brp_policy: PathBuf,
    #[serde(default)]
    seal_keys: Vec<RawSealKey>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSubjectField {
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
pub(super) struct RawSealKey {
    pub(super) id: String,
    pub(super) key: RawSecret,
}

/// The family of a mounted API and the settings only that family has.
#[derive(Debug, Clone)]
pub enum ApiKind {
    /// An Amsterdam-Schema / DSO-style HAL dataset API.
    Dataset(DatasetApi),
    /// Haal Centraal BRP Personen v2 (`POST {prefix}/personen`).
    Brp(BrpApi),
    /// One ZGW component (Zaken, Documenten, Catalogi, Besluiten); see `[zgw]`.
    Zgw(super::zgw::ZgwApi),
}

impl ApiKind {
    /// The `kind` value in `sluis.toml`.
    pub fn name(&self) -> &'static str {
        match self {
            ApiKind::Dataset(_) => "dataset",
            ApiKind::Brp(_) => "brp",
            ApiKind::Zgw(_) => "zgw",
        }
    }

    /// Whether answers of this API name data subjects (and so need processing records).
    pub fn records_subjects(&self) -> bool {
        match self {
            ApiKind::Dataset(d) => !d.subjects.is_empty(),
            ApiKind::Brp(_) => true,
            // Persons in rollen (and zaakobjecten) are data subjects.
            ApiKind::Zgw(_) => true,
        }
    }
}

/// A dataset API's settings.
#[derive(Debug, Clone)]
pub struct DatasetApi {
    /// The dataset id in the policy sources.
    pub dataset: String,
    /// Table → field naming each record's data subject.
    pub subjects: BTreeMap<String, SubjectField>,
}

/// A BRP API's settings.
#[derive(Debug, Clone)]
pub struct BrpApi {
    /// The BRP policy file.
    pub policy: PathBuf,
    /// Keys for sealed (pseudonymous) BSNs, current first; base64 of 32 bytes each.
    pub seal_keys: Vec<(String, Secret)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUpstream {
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
    zgw_jwt: Option<RawZgwJwt>,
    tls: Option<RawTls>,
    /// The upstream's problem `detail` texts never echo personal data, so callers may see them.
    #[serde(default)]
    problem_detail_safe: bool,
}

fn default_timeout() -> u64 {
    10_000
}
fn default_connect_timeout() -> u64 {
    2_000
}
fn default_pool() -> usize {
    1_024
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApiKey {
    header: String,
    value: RawSecret,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOauth2 {
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

/// sluis's own ZGW client: it signs an HS256 JWT per request (`iss` and `client_id` its client
/// id, `iat` now, and the end user as `user_id` / `user_representation`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawZgwJwt {
    client_id: String,
    secret: RawSecret,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    ca_file: Option<PathBuf>,
    client_cert_file: Option<PathBuf>,
    client_key_file: Option<PathBuf>,
}

/// A mounted API.
#[derive(Debug, Clone)]
pub struct Api {
    pub name: String,
    /// Path prefix without trailing slash, e.g. `/v1/afvalwegingen`.
    pub prefix: String,
    pub upstream: Upstream,
    /// Header names (lower case) a request must carry.
    pub required_headers: Vec<String>,
    pub user_header: Option<String>,
    pub purpose_header: Option<String>,
    pub correlation_header: Option<String>,
    /// The processing activity recorded when the request states no purpose.
    pub activity: Option<String>,
    /// Scopes every request to this mount needs, on top of what each operation needs.
    pub required_scopes: Vec<String>,
    /// Whether the mount consults the register of applications and activities.
    pub enforce_register: bool,
    pub kind: ApiKind,
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
    /// sluis's ZGW client id and HS256 secret, for a JWT per request.
    pub zgw_jwt: Option<ZgwJwt>,
    pub tls: Option<Tls>,
    /// Pass the `detail` of the upstream's problem documents on to callers.
    pub problem_detail_safe: bool,
}

#[derive(Debug, Clone)]
pub struct Oauth2 {
    pub token_url: Uri,
    pub client_id: String,
    pub client_secret: Secret,
    pub scope: Option<String>,
    pub margin: Duration,
}

/// sluis's own ZGW credentials at an upstream.
#[derive(Debug, Clone)]
pub struct ZgwJwt {
    pub client_id: String,
    pub secret: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub ca_file: Option<PathBuf>,
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
}

impl Validator<'_> {
    pub(super) fn upstream(
        &mut self,
        at: &str,
        ru: &RawUpstream,
        default_max: usize,
    ) -> Option<Upstream> {
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
        let zgw_jwt = ru.zgw_jwt.as_ref().and_then(|z| {
            if z.client_id.is_empty() || z.client_id.len() > 50 {
                self.problem(
                    &format!("{at}.zgw_jwt.client_id"),
                    "a ZGW client id has 1 to 50 characters",
                );
            }
            self.secret(&format!("{at}.zgw_jwt.secret"), &z.secret)
                .map(|secret| ZgwJwt {
                    client_id: z.client_id.clone(),
                    secret,
                })
        });
        let credentials = usize::from(api_key.is_some())
            + usize::from(oauth2.is_some())
            + usize::from(zgw_jwt.is_some());
        if credentials > 1 {
            self.problem(
                at,
                "choose one of api_key, oauth2 and zgw_jwt for sluis's credentials",
            );
        }
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
            zgw_jwt,
            tls,
            problem_detail_safe: ru.problem_detail_safe,
        })
    }

    /// Validates one `[[apis]]` entry; `activities` is the register it may name.
    pub(super) fn api(
        &mut self,
        i: usize,
        ra: &RawApi,
        activities: &[Activity],
        default_max: usize,
        register_default: bool,
    ) -> Option<Api> {
        let at = format!("apis[{i}]");
        let prefix = ra.prefix.trim_end_matches('/').to_owned();
        if !prefix.starts_with('/') || prefix.len() < 2 || prefix.contains("//") {
            self.problem(
                &format!("{at}.prefix"),
                format!("{:?} must be a path such as /v1/afval", ra.prefix),
            );
        }
        let kind = match &ra.kind {
            RawKind::Dataset(d) => ApiKind::Dataset(DatasetApi {
                dataset: d.dataset.clone(),
                subjects: d
                    .subjects
                    .iter()
                    .map(|(t, f)| {
                        let field = SubjectField {
                            field: f.field.clone(),
                            id_type: f.id_type.clone(),
                        };
                        (t.clone(), field)
                    })
                    .collect(),
            }),
            RawKind::Brp(b) => {
                let mut seal_keys = Vec::new();
                for (j, k) in b.seal_keys.iter().enumerate() {
                    if let Some(secret) = self.secret(&format!("{at}.seal_keys[{j}].key"), &k.key) {
                        seal_keys.push((k.id.clone(), secret));
                    }
                }
                ApiKind::Brp(BrpApi {
                    policy: self.rel(&b.brp_policy),
                    seal_keys,
                })
            }
            RawKind::Zgw(z) => ApiKind::Zgw(self.zgw_mount(&at, z)),
        };
        if let Some(a) = &ra.activity
            && !activities.iter().any(|x| &x.id == a)
        {
            self.problem(
                &format!("{at}.activity"),
                format!("{a:?} is not a registered processing activity"),
            );
        }
        if kind.records_subjects() && ra.activity.is_none() && ra.purpose_header.is_none() {
            self.problem(
                &format!("{at}.activity"),
                "an API that delivers personal data needs a purpose_header or a default activity, so its processing can be recorded",
            );
        }
        if ra.purpose_header.is_some() && activities.is_empty() {
            self.problem(
                &format!("{at}.purpose_header"),
                "a purpose header needs processing_activities to map to",
            );
        }
        for h in ra
            .required_headers
            .iter()
            .chain(&ra.user_header)
            .chain(&ra.purpose_header)
            .chain(&ra.correlation_header)
        {
            if hyper::header::HeaderName::from_bytes(h.as_bytes()).is_err() {
                self.problem(&at, format!("{h:?} is not a valid header name"));
            }
        }
        for s in &ra.required_scopes {
            if s.trim().is_empty() || s.contains(char::is_whitespace) {
                self.problem(
                    &format!("{at}.required_scopes"),
                    format!("{s:?} is not a scope name"),
                );
            }
        }
        let enforce_register = match ra.register.as_deref() {
            None => register_default,
            Some("enforce") => true,
            Some("off") => false,
            Some(other) => {
                self.problem(
                    &format!("{at}.register"),
                    format!("{other:?}: expected \"enforce\" or \"off\""),
                );
                register_default
            }
        };
        if enforce_register && !register_default {
            self.problem(
                &format!("{at}.register"),
                "the register is enforced but [[applications]] registers no application: every request would be refused",
            );
        }
        let upstream = self.upstream(&format!("{at}.upstream"), &ra.upstream, default_max)?;
        let lower = |h: &Option<String>| h.as_ref().map(|h| h.to_ascii_lowercase());
        Some(Api {
            name: ra.name.clone(),
            prefix,
            upstream,
            required_headers: ra
                .required_headers
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            user_header: lower(&ra.user_header),
            purpose_header: lower(&ra.purpose_header),
            correlation_header: lower(&ra.correlation_header),
            activity: ra.activity.clone(),
            required_scopes: ra.required_scopes.clone(),
            enforce_register,
            kind,
        })
    }
}
