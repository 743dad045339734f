//! The proxy crate's errors, and their one mapping to problem+json responses ([`crate::problem`]).

use std::path::{Path, PathBuf};

/// One problem in the configuration: file, TOML key path (or line/column) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub file: PathBuf,
    pub at: String,
    pub message: String,
}

impl ConfigProblem {
    pub fn new(file: &Path, at: &str, message: String) -> Self {
        ConfigProblem {
            file: file.to_owned(),
            at: at.to_owned(),
            message,
        }
    }
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.at.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}: {}: {}", self.file.display(), self.at, self.message)
        }
    }
}

/// Everything that can stop a request, as typed causes per phase. Wording, status, problem
/// type and audit outcome are decided in one place: [`crate::problem`].
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    // authenticate
    #[error("no bearer token")]
    MissingToken,
    #[error("invalid token: {0}")]
    InvalidToken(String),
    // identify
    #[error("missing required headers: {}", .0.join(", "))]
    MissingHeaders(Vec<String>),
    #[error("unknown processing activity: {0}")]
    UnknownPurpose(String),
    /// The register refused: an unregistered application, or an activity it is not registered
    /// for (or whose ceiling excludes the API or operation).
    #[error("register: {0}")]
    Register(sluis_rights::RegisterDenial),
    // route
    #[error("not found")]
    NotFound,
    /// The method is not served by this API; the value is the `Allow` header.
    #[error("method not allowed")]
    MethodNotAllowed(&'static str),
    #[error("request body too large")]
    TooLarge,
    #[error("request body not received in time")]
    BodyTimeout,
    #[error("invalid request: {0}")]
    BadRequest(RequestFault),
    /// A rate limit is exhausted for this caller.
    #[error("rate limit {} exhausted; retry after {} s", .0.limit, .0.retry_after_secs)]
    RateLimited(crate::ratelimit::Limited),
    // authorize
    #[error("forbidden: {0}")]
    Forbidden(Refusal),
    /// A refusal in the API's own problem shape (e.g. the BRP API's).
    #[error("{}", .0.audit_reason())]
    Api(Box<dyn ApiProblem>),
    // forward
    #[error("upstream: {0}")]
    Upstream(UpstreamFault),
    // record
    #[error("audit unavailable: {0}")]
    AuditUnavailable(String),
    /// The API listener is at `limits.max_connections`: the connection is answered at once
    /// instead of waiting in the kernel's backlog.
    #[error("at the connection limit")]
    Overloaded,
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why a request is malformed (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestFault {
    #[error("the query string is not valid UTF-8")]
    QueryNotUtf8,
    #[error("parameter {0} is given more than once")]
    DuplicateParam(String),
    #[error("{resource} has no fields {}", .fields.join(", "))]
    UnknownFields {
        resource: String,
        fields: Vec<String>,
    },
    #[error("{resource} has no field {field} to filter, sort or expand on")]
    UnknownField { resource: String, field: String },
    #[error("the request path cannot be forwarded")]
    PathNotForwardable,
    #[error("invalid parameter {name}: {why}")]
    InvalidParam { name: String, why: &'static str },
    #[error("parameter {0} is not a parameter of this endpoint")]
    UnknownParam(String),
}

/// Why the policy refuses a request (403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the caller's scopes do not allow reading {resource} with this query")]
    Resource { resource: String },
    #[error("the caller may not filter or sort {resource} on {field}")]
    Filter { resource: String, field: String },
    #[error("the relation {field} of {resource} may not be expanded")]
    Expand { resource: String, field: String },
    #[error("_fields names fields of {resource} the caller may not read: {}", .fields.join(", "))]
    Fields {
        resource: String,
        fields: Vec<String>,
    },
    #[error("the API needs scopes the token lacks: {}", .missing.join(", "))]
    MountScopes { missing: Vec<String> },
    #[error("reading the audit log needs the reader scope")]
    AuditReader,
    #[error("the admin API needs the admin scope")]
    AdminScope,
}

/// What went wrong with the upstream.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UpstreamFault {
    #[error("timed out")]
    Timeout,
    #[error("unreachable: {0}")]
    Unavailable(String),
    #[error("rejected sluis's credentials ({0})")]
    Credentials(u16),
    #[error("unusable answer: {0}")]
    Unusable(String),
    /// A problem document from the upstream, reduced to the members sluis passes on.
    #[error("problem {}", .0.status)]
    Problem(UpstreamProblem),
}

/// An upstream problem+json reduced to RFC 9457's standard members (`type`, `title`, `status`,
/// `detail` only where the upstream is configured as safe) plus a short `code` token. The
/// upstream's other members (which may echo request data) never reach the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamProblem {
    pub status: u16,
    pub problem_type: Option<String>,
    pub title: Option<String>,
    pub detail: Option<String>,
    /// A machine code such as `tooManyResults` (letters, digits, `.`, `_`, `-`; at most 64).
    pub code: Option<String>,
}

/// A refusal an API family answers in its own problem shape.
pub trait ApiProblem: std::fmt::Debug + Send + Sync {
    /// HTTP status (4xx).
    fn status(&self) -> u16;
    /// The problem code recorded and counted.
    fn code(&self) -> &'static str;
    /// The problem document for `instance`.
    fn document(&self, instance: &str) -> serde_json::Value;
    /// Names of the parameters refused.
    fn invalid_params(&self) -> Vec<String>;
    /// The reason recorded in the audit log (no parameter values).
    fn audit_reason(&self) -> String;
}

/// Errors while starting or reloading the server.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration invalid:\n{}", .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Config(Vec<ConfigProblem>),
    #[error("cannot listen on {0}: {1}")]
    Bind(std::net::SocketAddr, std::io::Error),
    #[error("{0}")]
    Other(String),
}
