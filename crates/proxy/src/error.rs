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

/// Everything that can stop a request; [`crate::problem::respond`] turns each into a response.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("no bearer token")]
    MissingToken,
    #[error("invalid token: {0}")]
    InvalidToken(String),
    #[error("missing required headers: {}", .0.join(", "))]
    MissingHeaders(Vec<String>),
    #[error("unknown processing activity: {0}")]
    UnknownPurpose(String),
    #[error("{title}")]
    Forbidden {
        title: String,
        detail: String,
        code: &'static str,
        invalid: Vec<(String, String)>,
    },
    #[error("{0}")]
    BadRequest(String, Vec<(String, String)>),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("upstream timed out")]
    UpstreamTimeout,
    #[error("upstream unreachable: {0}")]
    UpstreamUnavailable(String),
    #[error("upstream rejected sluis's credentials ({0})")]
    BackendConfig(u16),
    #[error("upstream answered with an unusable body: {0}")]
    BadUpstream(String),
    #[error("upstream problem {0}")]
    UpstreamProblem(u16, serde_json::Value),
    #[error("audit unavailable: {0}")]
    AuditUnavailable(String),
    #[error("request body too large")]
    TooLarge,
    /// A BRP request refused by validation or policy, in the BRP API's problem shape.
    #[error("{}", .0.title)]
    Brp(Box<sluis_brp::Denial>),
    #[error("internal error: {0}")]
    Internal(String),
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
