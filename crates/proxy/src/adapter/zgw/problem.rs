//! ZGW refusals in the standard's own error shape (`Fout` / `ValidatieFout`, domain `zgw.md`
//! B9): `type`, `code`, `title`, `status`, `detail`, `instance`, and `invalidParams` for 400s.

use serde_json::{Value, json};

use crate::error::{ApiProblem, ProxyError};

/// Why sluis refuses a ZGW request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZgwDenial {
    /// The client has no Applicatie in the autorisaties.
    NoApplicatie,
    /// The scope expression is not satisfied (for the object's type and confidentiality).
    Forbidden { detail: String },
    /// A closed zaak changes only with `zaken.geforceerd-bijwerken`.
    ClosedZaak { detail: &'static str },
    /// The user holds no required rol on the zaak.
    NotInvolved { roles: Vec<String> },
    /// The involvement check needs a user the IdP vouches for.
    UserUnknown,
    /// The body sets attributes the caller may not change.
    Immutable { attributes: Vec<String> },
    /// Invalid request (400): a parameter or body member.
    Invalid {
        name: String,
        code: &'static str,
        reason: String,
    },
    /// The list cannot be filtered within the scan limit without a narrower query.
    TooBroad { pages: usize, hint: &'static str },
}

impl ZgwDenial {
    pub fn forbidden(detail: impl Into<String>) -> ProxyError {
        ProxyError::Api(Box::new(ZgwDenial::Forbidden {
            detail: detail.into(),
        }))
    }

    pub fn invalid(name: &str, code: &'static str, reason: impl Into<String>) -> ProxyError {
        ProxyError::Api(Box::new(ZgwDenial::Invalid {
            name: name.to_owned(),
            code,
            reason: reason.into(),
        }))
    }

    pub fn into_error(self) -> ProxyError {
        ProxyError::Api(Box::new(self))
    }

    fn title(&self) -> &'static str {
        match self {
            ZgwDenial::Invalid { .. } | ZgwDenial::TooBroad { .. } => "Invalid input.",
            _ => "Je hebt geen toestemming om deze actie uit te voeren.",
        }
    }

    fn detail(&self) -> String {
        match self {
            ZgwDenial::NoApplicatie => {
                "The client has no Applicatie in the ZGW autorisaties.".into()
            }
            ZgwDenial::Forbidden { detail } => detail.clone(),
            ZgwDenial::ClosedZaak { detail } => (*detail).to_owned(),
            ZgwDenial::NotInvolved { roles } => format!(
                "The user holds no rol on this zaak that allows this ({}).",
                roles.join(", ")
            ),
            ZgwDenial::UserUnknown => {
                "This zaak needs the user's rol on it, and the token names no user the identity provider vouches for."
                    .into()
            }
            ZgwDenial::Immutable { attributes } => format!(
                "The caller may not change: {}.",
                attributes.join(", ")
            ),
            ZgwDenial::Invalid { reason, .. } => reason.clone(),
            ZgwDenial::TooBroad { pages, hint } => format!(
                "sluis filters this list itself and it spans more than {pages} upstream pages; {hint}"
            ),
        }
    }
}

impl ApiProblem for ZgwDenial {
    fn status(&self) -> u16 {
        match self {
            ZgwDenial::Invalid { .. } | ZgwDenial::TooBroad { .. } => 400,
            _ => 403,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ZgwDenial::NoApplicatie
            | ZgwDenial::Forbidden { .. }
            | ZgwDenial::ClosedZaak { .. } => "permission_denied",
            ZgwDenial::NotInvolved { .. } => "not_involved",
            ZgwDenial::UserUnknown => "user_unknown",
            ZgwDenial::Immutable { .. } => "immutable_attributes",
            ZgwDenial::Invalid { .. } => "invalid",
            ZgwDenial::TooBroad { .. } => "list_too_broad",
        }
    }

    fn document(&self, instance: &str) -> Value {
        let code = self.code();
        let mut doc = json!({
            "type": format!("https://sluis.dev/problems/zgw/{code}"),
            "code": code,
            "title": self.title(),
            "status": self.status(),
            "detail": self.detail(),
            "instance": instance,
        });
        let invalid: Vec<Value> = match self {
            ZgwDenial::Invalid { name, code, reason } => {
                vec![json!({"name": name, "code": code, "reason": reason})]
            }
            ZgwDenial::Immutable { attributes } => attributes
                .iter()
                .map(|a| json!({"name": a, "code": "immutable", "reason": "not allowed to change"}))
                .collect(),
            _ => Vec::new(),
        };
        if !invalid.is_empty()
            && let Value::Object(m) = &mut doc
        {
            m.insert("invalidParams".into(), Value::Array(invalid));
        }
        doc
    }

    fn invalid_params(&self) -> Vec<String> {
        match self {
            ZgwDenial::Invalid { name, .. } => vec![name.clone()],
            ZgwDenial::Immutable { attributes } => attributes.clone(),
            _ => Vec::new(),
        }
    }

    fn audit_reason(&self) -> String {
        match self {
            ZgwDenial::Invalid { name, code, .. } => format!("invalid {name}: {code}"),
            other => crate::context::bounded(&other.detail()),
        }
    }
}
