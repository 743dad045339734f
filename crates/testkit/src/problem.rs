//! `application/problem+json` bodies (RFC 9457), shaped as DSO-API sends them.

use serde_json::{Value, json};

/// One entry of `invalidParams`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InvalidParam {
    name: String,
    code: String,
    reason: String,
}

impl InvalidParam {
    pub(crate) fn new(name: &str, code: &str, reason: &str) -> Self {
        Self {
            name: name.to_owned(),
            code: code.to_owned(),
            reason: reason.to_owned(),
        }
    }
}

/// A problem response before the `instance` (request path) is known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub(crate) status: u16,
    kind: String,
    title: String,
    detail: String,
    invalid_params: Vec<InvalidParam>,
}

impl Problem {
    pub(crate) fn new(status: u16, kind: &str, title: &str, detail: &str) -> Self {
        Self {
            status,
            kind: format!("urn:apiexception:{kind}"),
            title: title.to_owned(),
            detail: detail.to_owned(),
            invalid_params: Vec::new(),
        }
    }

    pub(crate) fn not_found(detail: &str) -> Self {
        Self::new(404, "not_found", "Not found.", detail)
    }

    pub(crate) fn invalid_params(params: Vec<InvalidParam>) -> Self {
        let detail = params
            .iter()
            .map(|p| p.reason.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            invalid_params: params,
            ..Self::new(400, "invalid", "Invalid input.", &detail)
        }
    }

    pub(crate) fn to_json(&self, instance: &str) -> Value {
        let mut body = json!({
            "type": self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        });
        if !self.invalid_params.is_empty()
            && let Value::Object(m) = &mut body
        {
            let params = self
                .invalid_params
                .iter()
                .map(|p| json!({"name": p.name, "code": p.code, "reason": p.reason}))
                .collect();
            m.insert("invalidParams".to_owned(), Value::Array(params));
        }
        body
    }
}
