//! Secrets in the configuration: from an environment variable or a file, never inline, never
//! printed.

use std::path::PathBuf;

use serde::Deserialize;

use super::Validator;

/// A secret: from an environment variable or a file (trailing newline removed).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecret {
    env: Option<String>,
    file: Option<PathBuf>,
}

/// A secret value. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub(super) Vec<u8>);

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

impl Validator<'_> {
    pub(super) fn secret(&mut self, at: &str, s: &RawSecret) -> Option<Secret> {
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
}
