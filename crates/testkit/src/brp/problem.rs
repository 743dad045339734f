//! `application/problem+json` bodies shaped as the BRP API sends them (`Foutbericht`,
//! `BadRequestFoutbericht` with `invalidParams`).

use serde_json::{Value, json};

/// One entry of `invalidParams`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidParam {
    pub(crate) name: String,
    pub(crate) code: String,
    pub(crate) reason: String,
}

impl InvalidParam {
    pub(crate) fn new(name: &str, code: &str, reason: &str) -> Self {
        Self {
            name: name.to_owned(),
            code: code.to_owned(),
            reason: reason.to_owned(),
        }
    }

    pub(crate) fn required(name: &str) -> Self {
        Self::new(name, "required", "Parameter is verplicht.")
    }

    pub(crate) fn pattern(name: &str, pattern: &str) -> Self {
        Self::new(
            name,
            "pattern",
            &format!("Waarde voldoet niet aan patroon {pattern}."),
        )
    }

    pub(crate) fn unknown(name: &str) -> Self {
        Self::new(name, "unknownParam", "Parameter is niet verwacht.")
    }

    /// Sort key: the parameter name, then a numeric index (`fields[2]` before `fields[10]`).
    pub(crate) fn sort_key(&self) -> (String, usize) {
        match self.name.split_once('[') {
            Some((base, rest)) => (
                base.to_owned(),
                rest.trim_end_matches(']').parse().unwrap_or(0),
            ),
            None => (self.name.clone(), 0),
        }
    }
}

/// A problem response before the `instance` is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BrpProblem {
    pub(crate) status: u16,
    title: String,
    detail: Option<String>,
    code: String,
    invalid_params: Vec<InvalidParam>,
}

fn type_uri(status: u16) -> &'static str {
    match status {
        400 => "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.1",
        401 => "https://datatracker.ietf.org/doc/html/rfc7235#section-3.1",
        403 => "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.3",
        404 => "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.4",
        405 => "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.5",
        406 => "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.6",
        415 => "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.13",
        503 => "https://datatracker.ietf.org/doc/html/rfc7231#section-6.6.4",
        _ => "https://datatracker.ietf.org/doc/html/rfc7231#section-6.6.1",
    }
}

impl BrpProblem {
    pub(crate) fn new(status: u16, code: &str, title: &str, detail: Option<&str>) -> Self {
        Self {
            status,
            title: title.to_owned(),
            detail: detail.map(str::to_owned),
            code: code.to_owned(),
            invalid_params: Vec::new(),
        }
    }

    /// 400 `paramsValidation`, naming each parameter as the API does.
    pub(crate) fn params(mut params: Vec<InvalidParam>) -> Self {
        params.sort_by_key(InvalidParam::sort_key);
        let mut names: Vec<&str> = Vec::new();
        for p in &params {
            if !names.contains(&p.name.as_str()) {
                names.push(&p.name);
            }
        }
        let detail = format!("De foutieve parameter(s) zijn: {}.", names.join(", "));
        Self {
            invalid_params: params,
            ..Self::new(
                400,
                "paramsValidation",
                "Een of meerdere parameters zijn niet correct.",
                Some(&detail),
            )
        }
    }

    pub(crate) fn too_many_results(max: usize) -> Self {
        Self::new(
            400,
            "tooManyResults",
            "Teveel zoekresultaten.",
            Some(&format!(
                "Meer dan maximum van {max} zoekresultaten gevonden. Verfijn de zoekopdracht."
            )),
        )
    }

    pub(crate) fn unauthenticated() -> Self {
        Self::new(
            401,
            "authentication",
            "Niet correct geauthenticeerd.",
            Some("Het verzoek vereist een geldige authenticatie."),
        )
    }

    pub(crate) fn to_json(&self, instance: &str) -> Value {
        let mut body = json!({
            "type": type_uri(self.status),
            "title": self.title,
            "status": self.status,
        });
        if let Value::Object(m) = &mut body {
            if let Some(d) = &self.detail {
                m.insert("detail".to_owned(), json!(d));
            }
            m.insert("instance".to_owned(), json!(instance));
            m.insert("code".to_owned(), json!(self.code));
            if !self.invalid_params.is_empty() {
                let params = self
                    .invalid_params
                    .iter()
                    .map(|p| {
                        json!({
                            "type": format!("https://www.vng.nl/realisatie/api/validaties/{}", p.code),
                            "name": p.name,
                            "code": p.code,
                            "reason": p.reason,
                        })
                    })
                    .collect();
                m.insert("invalidParams".to_owned(), Value::Array(params));
            }
        }
        body
    }
}
