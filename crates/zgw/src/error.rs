//! The crate's one error type.
//!
//! Messages name *where* something is wrong and *what* was expected; they do not repeat the
//! offending configuration value (a base URL may carry credentials, a scope text may be long),
//! apart from identifiers such as a `clientId` that are needed to find the problem.

use crate::autorisaties::Problem;

/// Errors of the ZGW core.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZgwError {
    /// A scope expression does not follow the grammar of [`crate::scope`].
    #[error("scope expression, at character {at}: {message}")]
    ScopeSyntax {
        /// The 0-based character offset where parsing stopped.
        at: usize,
        /// What was expected there.
        message: String,
    },
    /// A base URL given to [`crate::urlmap::UrlMap::new`] is unusable.
    #[error("URL map, pair {index} ({side} base): {message}")]
    UrlMap {
        /// The 0-based index of the pair.
        index: usize,
        /// `"public"` or `"upstream"`.
        side: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Autorisaties JSON that cannot be read as Applicatie objects.
    #[error("autorisaties JSON: {0}")]
    Json(String),
    /// Applicaties that parsed but are invalid; every problem found is listed.
    #[error("invalid autorisaties ({} problem{}):\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, render(.0))]
    Invalid(Vec<Problem>),
}

fn render(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl From<Vec<Problem>> for ZgwError {
    fn from(problems: Vec<Problem>) -> Self {
        ZgwError::Invalid(problems)
    }
}
