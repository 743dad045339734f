//! The crate's error type: every problem names the file and the JSON path it was found at.

use std::fmt;
use std::path::PathBuf;

/// One problem in one policy source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in.
    pub file: PathBuf,
    /// A JSON path into that file, such as `$.datasets.afval.tables.containers.fields.naam`.
    pub path: String,
    /// What is wrong, in words a policy author can act on.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.file.display(),
            self.path,
            self.message
        )
    }
}

/// Errors of the policy crate.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The policy sources are invalid; every problem found is listed.
    #[error("invalid policy ({} problem{}):\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, render(.0))]
    Invalid(Vec<Diagnostic>),
    /// A source file or folder could not be read.
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    /// A request names a table the policy does not know.
    #[error("unknown table {0:?}: expected DATASET.TABLE of a loaded dataset")]
    UnknownTable(String),
    /// A request names a table whose definition file is absent from the loaded sources.
    #[error("table {0:?} is listed by its dataset but its table file was not found")]
    UnavailableTable(String),
    /// A bad key for the `encoded` representation.
    #[error("encoding key must be at least 32 bytes")]
    WeakKey,
}

fn render(d: &[Diagnostic]) -> String {
    d.iter()
        .map(|d| format!("  {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl PolicyError {
    /// The diagnostics of an [`PolicyError::Invalid`] error, empty for the others.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            PolicyError::Invalid(d) => d,
            _ => &[],
        }
    }
}
