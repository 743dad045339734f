//! Where tests find the public reference files (BRP OpenAPI, field lists, Tabel 33, the RvIG
//! test set, ZGW specifications, Amsterdam Schema files). They are read at test time and never
//! copied into the repository, so a clone without them must still pass its suite: a test that
//! needs one asks [`path`] (or [`require_reference!`](crate::require_reference)) and is
//! *skipped*, printing one line that says so, when it is absent.
//!
//! The folder is `$SLUIS_REFERENCE_DIR` when set (a relative value is taken relative to the
//! workspace root), else `<workspace root>/../shared/reference`. Paths below it are the layout
//! of its `README.md`, e.g. `brp/openapi.yaml` or `amsterdam-schema`.
//!
//! ```no_run
//! # fn field_lists_match() {
//! // In a test: when the file is missing this prints the skip line and returns.
//! let csv = sluis_testkit::require_reference!("brp/fields-Persoon.csv");
//! let text = std::fs::read_to_string(csv).unwrap_or_default();
//! # let _ = text; }
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The environment variable that names the reference folder.
pub const ENV: &str = "SLUIS_REFERENCE_DIR";

/// The workspace root (the directory of the workspace `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let testkit = Path::new(env!("CARGO_MANIFEST_DIR"));
    testkit
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| testkit.join("../.."), Path::to_path_buf)
}

/// Where the reference folder is expected, whether or not it exists: `$SLUIS_REFERENCE_DIR`
/// (relative values against the workspace root), else `<workspace root>/../shared/reference`.
pub fn location() -> PathBuf {
    location_from(std::env::var_os(ENV).as_deref(), &workspace_root())
}

/// [`location`] for a given value of the variable and workspace root (empty counts as unset).
pub fn location_from(var: Option<&OsStr>, root: &Path) -> PathBuf {
    match var.filter(|v| !v.is_empty()) {
        Some(v) => root.join(v),
        None => match root.parent() {
            Some(parent) => parent.join("shared/reference"),
            None => root.join("../shared/reference"),
        },
    }
}

/// The reference folder, when it exists.
pub fn dir() -> Option<PathBuf> {
    let d = location();
    d.is_dir().then_some(d)
}

/// A file or folder inside the reference folder (`rel` as in its README, e.g.
/// `brp/openapi.yaml`), or the [`Skip`] to report when it is not there.
///
/// # Errors
/// [`Skip`] naming the full path when it does not exist.
pub fn path(rel: &str) -> Result<PathBuf, Skip> {
    path_in(&location(), rel)
}

/// [`path`] below a given folder.
///
/// # Errors
/// [`Skip`] naming the full path when it does not exist.
pub fn path_in(base: &Path, rel: &str) -> Result<PathBuf, Skip> {
    let p = base.join(rel);
    if p.exists() {
        Ok(p)
    } else {
        Err(Skip { path: p })
    }
}

/// A reference file a test needs is missing: the test (or the part of it that needs the file)
/// is skipped, not failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    path: PathBuf,
}

impl Skip {
    /// The path that was not found.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Prints `skipped: <test>: reference file <path> not found (set SLUIS_REFERENCE_DIR)`.
    pub fn report(&self) {
        emit(&format!("skipped: {}{self}", test_prefix()));
    }

    /// Prints that `what` (part of a test that otherwise runs) is skipped:
    /// `skipped: <test>: <what>: reference file <path> not found (set SLUIS_REFERENCE_DIR)`.
    pub fn report_part(&self, what: &str) {
        emit(&format!("skipped: {}{what}: {self}", test_prefix()));
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "reference file {} not found (set {ENV})",
            self.path.display()
        )
    }
}

/// The running test's name (libtest names each test's thread after it), with `: `.
fn test_prefix() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => format!("{name}: "),
        _ => String::new(),
    }
}

/// Straight to the process's stderr: libtest captures `println!`/`eprintln!` of passing tests,
/// and a skip must be visible in an ordinary `cargo test` run.
fn emit(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// The path of a reference file (or folder) a test needs; when it is missing, prints the
/// skip line ([`Skip::report`]) and returns from the calling test (which must return `()`).
///
/// ```no_run
/// # fn a_test() {
/// let spec = sluis_testkit::require_reference!("brp/openapi.yaml");
/// # let _ = spec;
/// # }
/// ```
#[macro_export]
macro_rules! require_reference {
    ($rel:expr) => {
        match $crate::reference::path($rel) {
            ::std::result::Result::Ok(path) => path,
            ::std::result::Result::Err(skip) => {
                skip.report();
                return;
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn default_is_beside_the_workspace() {
        let root = Path::new("/w/sluis");
        assert_eq!(
            location_from(None, root),
            PathBuf::from("/w/shared/reference")
        );
        assert_eq!(
            location_from(Some(OsStr::new("")), root),
            PathBuf::from("/w/shared/reference")
        );
    }

    #[test]
    fn the_variable_wins_and_relative_values_are_against_the_root() {
        let root = Path::new("/w/sluis");
        assert_eq!(
            location_from(Some(OsStr::new("/data/ref")), root),
            PathBuf::from("/data/ref")
        );
        assert_eq!(
            location_from(Some(OsStr::new("ref")), root),
            PathBuf::from("/w/sluis/ref")
        );
    }

    #[test]
    fn the_workspace_root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]"));
    }

    #[test]
    fn a_missing_file_is_a_skip_naming_path_and_variable() {
        let base = Path::new("/nonexistent/shared/reference");
        let skip = path_in(base, "brp/openapi.yaml").unwrap_err();
        assert_eq!(skip.path(), base.join("brp/openapi.yaml"));
        assert_eq!(
            skip.to_string(),
            "reference file /nonexistent/shared/reference/brp/openapi.yaml not found \
             (set SLUIS_REFERENCE_DIR)"
        );
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(path_in(here, "Cargo.toml"), Ok(here.join("Cargo.toml")));
        assert_eq!(path_in(here, "src"), Ok(here.join("src")));
    }
}
