//! The crate's one error type, and the problem documents sluis answers with.
//!
//! Two kinds of outcome live here. [`BrpError`] is for things that went wrong: a policy file that
//! cannot be used, a key that cannot seal, a sealed value that does not open. [`Denial`] is an
//! *answer*: the request was understood and is refused (400 or 403), with the wording the BRP
//! API itself uses, so clients need to handle only one style. The proxy turns both into HTTP
//! responses in its one error-mapping place; [`Denial::to_problem_json`] gives it the body.

use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};

/// One problem in a BRP policy file: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    /// The file (or the name the caller gave the source text).
    pub file: String,
    /// A key path into the file, such as `field_sets."BRP/basis"[2]`.
    pub key: String,
    /// What is wrong, in words a policy author can act on.
    pub message: String,
}

impl fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.key, self.message)
    }
}

/// Errors of the BRP crate.
#[derive(Debug, thiserror::Error)]
pub enum BrpError {
    /// The policy file could not be read.
    #[error("cannot read BRP policy {file}: {message}")]
    Read {
        /// The path that was read.
        file: String,
        /// The operating system's reason.
        message: String,
    },
    /// The policy file is not valid TOML or does not have the expected structure.
    #[error("{file}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// The policy file parsed but its content is invalid; every problem found is listed.
    #[error("invalid BRP policy ({} problem{}):\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, render(.0))]
    Invalid(Vec<PolicyProblem>),
    /// A pseudonymous client sent a plaintext burgerservicenummer.
    #[error("a plaintext burgerservicenummer was sent where a sealed value is required")]
    Plaintext,
    /// A sealed value is malformed, sealed with an unknown key, tampered with, or sealed for
    /// another context. The cases are deliberately not told apart.
    #[error("a sealed value cannot be opened in this context")]
    NotOpenable,
    /// A seal key or keyring is unusable (bad id, wrong length, duplicate id).
    #[error("unusable seal key: {0}")]
    SealKey(String),
    /// A value cannot be sealed (not a burgerservicenummer, or a response value of a type that
    /// cannot hold one).
    #[error("cannot seal: {0}")]
    Seal(String),
}

fn render(problems: &[PolicyProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl BrpError {
    /// The problems of an [`BrpError::Invalid`] error; empty for the others.
    pub fn problems(&self) -> &[PolicyProblem] {
        match self {
            BrpError::Invalid(p) => p,
            _ => &[],
        }
    }

    /// The answer to give a client for an error caused by its request ([`BrpError::Plaintext`],
    /// [`BrpError::NotOpenable`]); `None` for errors that are sluis's own (a 500 or a config
    /// error).
    pub fn to_denial(&self) -> Option<Denial> {
        match self {
            BrpError::Plaintext => Some(Denial::forbidden(
                "permissionDenied",
                "U bent niet geautoriseerd voor niet versleutelde burgerservicenummers.",
                Vec::new(),
                "plaintext burgerservicenummer from a pseudonymous client",
            )),
            BrpError::NotOpenable => Some(Denial::forbidden(
                "permissionDenied",
                "Geen toegang tot versleutelde waarde.",
                Vec::new(),
                "sealed burgerservicenummer does not open in this context",
            )),
            _ => None,
        }
    }
}

/// One entry of a problem document's `invalidParams`, as the BRP API writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidParam {
    /// The parameter, with an index for array items: `burgerservicenummer[0]`, `fields[2]`.
    pub name: String,
    /// A fixed code per kind of problem: `required`, `pattern`, `minItems`, `maxItems`,
    /// `array`, `fields`, `unknownParam`, `value`, `date`, `integer`, `boolean`, `minimum`,
    /// `maximum`, `denied`, `authorization`.
    pub code: String,
    /// The fixed Dutch reason for that code, e.g. "Parameter is verplicht.".
    pub reason: String,
}

impl InvalidParam {
    /// An invalid parameter.
    pub fn new(name: impl Into<String>, code: &str, reason: impl Into<String>) -> InvalidParam {
        InvalidParam {
            name: name.into(),
            code: code.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A refusal: the HTTP status and the problem document sluis answers with, plus a reason for the
/// audit record that is never sent to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// 400 or 403.
    pub status: u16,
    /// The problem `code`: `paramsValidation`, `permissionDenied` or `authorization`.
    pub code: &'static str,
    /// The problem `title`.
    pub title: String,
    /// The problem `detail`.
    pub detail: String,
    /// The problem `invalidParams`; may be empty.
    pub invalid_params: Vec<InvalidParam>,
    /// Why, for the audit record (may name scopes; not for the client).
    pub audit_reason: String,
}

/// The title of every 400 `paramsValidation` answer.
pub const PARAMS_VALIDATION_TITLE: &str = "Een of meerdere parameters zijn niet correct.";

impl Denial {
    /// 400 `paramsValidation` listing the invalid parameters, as the BRP API answers.
    pub fn params_validation(invalid_params: Vec<InvalidParam>) -> Denial {
        let mut names: Vec<&str> = Vec::new();
        for p in &invalid_params {
            if !names.contains(&p.name.as_str()) {
                names.push(&p.name);
            }
        }
        let detail = format!("De foutieve parameter(s) zijn: {}.", names.join(", "));
        Denial {
            status: 400,
            code: "paramsValidation",
            title: PARAMS_VALIDATION_TITLE.to_owned(),
            audit_reason: detail.clone(),
            detail,
            invalid_params,
        }
    }

    /// 400 `paramsValidation` for a value sluis's policy never accepts for a parameter.
    pub(crate) fn unsupported_value(name: &str, values: &str) -> Denial {
        let reason = format!("Het veld '{name}' ondersteunt niet de waarde(s): {values}.");
        Denial {
            status: 400,
            code: "paramsValidation",
            title: PARAMS_VALIDATION_TITLE.to_owned(),
            detail: reason.clone(),
            invalid_params: vec![InvalidParam::new(name, "value", reason.clone())],
            audit_reason: reason,
        }
    }

    /// 403 with the same text as title and detail.
    pub(crate) fn forbidden(
        code: &'static str,
        title: &str,
        invalid_params: Vec<InvalidParam>,
        audit_reason: &str,
    ) -> Denial {
        Denial {
            status: 403,
            code,
            title: title.to_owned(),
            detail: title.to_owned(),
            invalid_params,
            audit_reason: audit_reason.to_owned(),
        }
    }

    /// The problem+json body (RFC 9457 in the BRP API's style) for this denial. `instance` is
    /// the path the client called, e.g. `/haalcentraal/api/brp/personen`.
    pub fn to_problem_json(&self, instance: &str) -> Value {
        let section = if self.status == 400 { "6.5.1" } else { "6.5.3" };
        let mut body = json!({
            "type": format!("https://datatracker.ietf.org/doc/html/rfc7231#section-{section}"),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            "code": self.code,
        });
        if !self.invalid_params.is_empty()
            && let Some(obj) = body.as_object_mut()
        {
            obj.insert("invalidParams".to_owned(), json!(self.invalid_params));
        }
        body
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.detail)
    }
}
