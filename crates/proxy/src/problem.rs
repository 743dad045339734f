//! The one place errors become HTTP responses: RFC 9457 problem+json with `type`, `title`,
//! `status`, `detail`, `instance`, plus `code` and `invalidParams` where relevant.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::{Response, StatusCode};
use serde_json::{Map, Value, json};
use sluis_audit::Decision as Outcome;

use crate::error::{ProxyError, Refusal, RequestFault, UpstreamFault, UpstreamProblem};

/// The body type of every response sluis produces: a buffered body, or an upstream's body
/// passed through as it arrives (a document download).
pub type Body = http_body_util::combinators::BoxBody<Bytes, BodyError>;

/// Why a streamed body stopped.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// A buffered response body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    use http_body_util::BodyExt;
    Full::new(bytes.into()).map_err(|e| match e {}).boxed()
}

/// A problem document, before it becomes a response.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: u16,
    pub code: &'static str,
    pub title: String,
    pub detail: String,
    pub invalid: Vec<(String, String)>,
    /// How the audit record classifies the answer.
    pub outcome: Outcome,
}

fn p(status: u16, code: &'static str, title: &str, detail: String) -> Problem {
    let outcome = if status >= 500 {
        Outcome::Error
    } else {
        Outcome::Deny
    };
    Problem {
        status,
        code,
        title: title.to_owned(),
        detail,
        invalid: Vec::new(),
        outcome,
    }
}

fn with_invalid(mut p: Problem, invalid: Vec<(String, String)>) -> Problem {
    p.invalid = invalid;
    p
}

fn each(names: &[String], why: &str) -> Vec<(String, String)> {
    names.iter().map(|n| (n.clone(), why.to_owned())).collect()
}

impl Problem {
    /// The problem for an error (no secrets, no token contents, no upstream internals).
    pub fn from_error(e: &ProxyError) -> Problem {
        match e {
            ProxyError::MissingToken => p(
                401,
                "notAuthenticated",
                "Authentication required.",
                "The request has no bearer token.".into(),
            ),
            ProxyError::InvalidToken(why) => p(
                401,
                "invalidToken",
                "The bearer token is not valid.",
                why.clone(),
            ),
            ProxyError::MissingHeaders(h) => with_invalid(
                p(
                    403,
                    "missingHeaders",
                    "Required headers are missing.",
                    format!("Missing: {}.", h.join(", ")),
                ),
                each(h, "required header is missing"),
            ),
            ProxyError::UnknownPurpose(v) => p(
                403,
                "unknownPurpose",
                "The stated purpose is not a registered processing activity.",
                format!("{v:?} does not name a registered processing activity."),
            ),
            ProxyError::RateLimited(l) => p(
                429,
                "tooManyRequests",
                "Too many requests.",
                format!(
                    "The rate limit {} is exhausted for this caller; try again in {} s.",
                    l.limit, l.retry_after_secs
                ),
            ),
            ProxyError::Register(d) => {
                use sluis_rights::RegisterDenial as R;
                let (title, detail) = match d {
                    R::NotRegistered { .. } => (
                        "The calling application is not registered.",
                        "The client is not in the register of applications that may use this API."
                            .to_owned(),
                    ),
                    R::PurposeNotAllowed { activity: None, .. } => (
                        "A processing activity is required.",
                        "The request states no processing activity, and the application may only use this API for a registered one.".to_owned(),
                    ),
                    R::PurposeNotAllowed { activity: Some(a), .. } => (
                        "The application is not registered for this purpose.",
                        format!("The application is not registered for the processing activity {a:?}."),
                    ),
                    R::ApiNotAllowed { activity, .. } => (
                        "The application is not registered for this purpose.",
                        format!("The processing activity {activity:?} does not include this API."),
                    ),
                    R::OperationNotAllowed { activity, .. } => (
                        "The application is not registered for this purpose.",
                        format!("The processing activity {activity:?} does not include this operation."),
                    ),
                };
                p(403, d.code(), title, detail)
            }
            ProxyError::NotFound => p(
                404,
                "notFound",
                "Not found.",
                "No resource at this path.".into(),
            ),
            ProxyError::MethodNotAllowed(allow) => p(
                405,
                "methodNotAllowed",
                "Method not allowed.",
                format!("This API serves {allow}."),
            ),
            ProxyError::TooLarge => p(
                413,
                "tooLarge",
                "Request too large.",
                "The request body exceeds the configured limit.".into(),
            ),
            ProxyError::BodyTimeout => p(
                408,
                "bodyTimeout",
                "Request body not received in time.",
                "The request body arrived too slowly.".into(),
            ),
            ProxyError::BadRequest(f) => request_fault(f),
            ProxyError::Forbidden(r) => refusal(r),
            ProxyError::Api(a) => with_invalid(
                p(a.status(), a.code(), "", String::new()),
                each(&a.invalid_params(), "refused"),
            ),
            ProxyError::Upstream(f) => upstream_fault(f),
            ProxyError::AuditUnavailable(_) => p(
                503,
                "auditUnavailable",
                "The request could not be recorded.",
                "No data is released without a record; try again later.".into(),
            ),
            ProxyError::Overloaded => p(
                503,
                "overloaded",
                "sluis is at its connection limit.",
                "Too many connections are open; try again in a moment.".into(),
            ),
            ProxyError::Internal(_) => p(500, "internal", "Internal error.", String::new()),
        }
    }
}

fn request_fault(f: &RequestFault) -> Problem {
    let invalid = |name: &str, why: &str| vec![(name.to_owned(), why.to_owned())];
    let bad = |detail: String| p(400, "paramsValidation", "Invalid request.", detail);
    match f {
        RequestFault::QueryNotUtf8 => bad("The query string is not valid UTF-8.".into()),
        RequestFault::DuplicateParam(n) => with_invalid(
            bad(format!("The parameter {n} is given more than once.")),
            invalid(n, "given more than once"),
        ),
        RequestFault::UnknownFields { resource, fields } => with_invalid(
            bad(format!("_fields names unknown fields of {resource}.")),
            each(fields, "not a field of the table"),
        ),
        RequestFault::UnknownField { resource, field } => with_invalid(
            bad(format!("{field} is not a field of {resource}.")),
            invalid(field, "not a field of the table"),
        ),
        RequestFault::PathNotForwardable => bad("The request path cannot be forwarded.".into()),
        RequestFault::InvalidParam { name, why } => {
            with_invalid(bad(format!("Invalid {name}.")), invalid(name, why))
        }
        RequestFault::UnknownParam(n) => with_invalid(
            bad(format!("{n} is not a parameter of this endpoint.")),
            invalid(n, "not a parameter of this endpoint"),
        ),
    }
}

fn refusal(r: &Refusal) -> Problem {
    let denied = |name: &str| vec![(name.to_owned(), "not authorized".to_owned())];
    match r {
        Refusal::Resource { resource } => p(
            403,
            "forbidden",
            "You do not have permission to perform this action.",
            format!("The caller's scopes do not allow reading {resource} with this query."),
        ),
        Refusal::Filter { resource, field } => with_invalid(
            p(
                403,
                "filterNotAllowed",
                &format!("Access denied to filter on: {field}"),
                format!("The caller may not filter or sort {resource} on {field}."),
            ),
            denied(field),
        ),
        Refusal::Expand { resource, field } => with_invalid(
            p(
                403,
                "expandNotAllowed",
                &format!("Eager loading not allowed for field '{field}'"),
                format!(
                    "The relation {field} of {resource} may not be expanded with the caller's scopes."
                ),
            ),
            denied(field),
        ),
        Refusal::Fields { resource, fields } => with_invalid(
            p(
                403,
                "fieldsNotAllowed",
                "Not allowed to request these fields.",
                format!("_fields names fields of {resource} the caller may not read."),
            ),
            each(fields, "not authorized"),
        ),
        Refusal::MountScopes { .. } => p(
            403,
            "forbidden",
            "You do not have permission to perform this action.",
            "The token lacks a scope this API requires.".into(),
        ),
        Refusal::AdminScope => p(
            403,
            "forbidden",
            "You do not have permission to perform this action.",
            "The admin API needs the configured admin scope.".into(),
        ),
        Refusal::AuditReader => p(
            403,
            "forbidden",
            "You do not have permission to perform this action.",
            "Reading the audit log needs the configured reader scope.".into(),
        ),
    }
}

fn upstream_fault(f: &UpstreamFault) -> Problem {
    match f {
        UpstreamFault::Timeout => p(
            504,
            "upstreamTimeout",
            "The source system did not answer in time.",
            "Try again later.".into(),
        ),
        UpstreamFault::Unavailable(_) => p(
            503,
            "upstreamUnavailable",
            "The source system is unavailable.",
            "Try again later.".into(),
        ),
        UpstreamFault::Credentials(_) => p(
            502,
            "backendConfig",
            "The source system refused sluis's credentials.",
            "This is a configuration problem on the server side; contact the administrator.".into(),
        ),
        UpstreamFault::Unusable(_) => p(
            502,
            "badUpstream",
            "The source system answered with an unusable response.",
            "Try again later or contact the administrator.".into(),
        ),
        UpstreamFault::Problem(up) => Problem {
            // The upstream answered the request: an error, not sluis's denial.
            outcome: Outcome::Error,
            ..p(
                up.status,
                "upstream",
                "The source system reported a problem.",
                String::new(),
            )
        },
    }
}

/// Builds the problem+json response for an error at `instance` (the request path).
pub fn respond(e: &ProxyError, instance: &str) -> Response<Body> {
    let (status, body) = match e {
        // Refusals in an API's own problem shape (the BRP API's RFC 7231 type URIs, Dutch texts).
        ProxyError::Api(a) => (a.status(), a.document(instance)),
        ProxyError::Upstream(UpstreamFault::Problem(up)) => (up.status, reduced(up, instance)),
        _ => {
            let p = Problem::from_error(e);
            (p.status, problem_body(&p, instance))
        }
    };
    let mut resp = json_response(status, &body, "application/problem+json");
    if status == 401 {
        let v = if matches!(e, ProxyError::MissingToken) {
            "Bearer realm=\"sluis\""
        } else {
            "Bearer realm=\"sluis\", error=\"invalid_token\""
        };
        resp.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static(v));
    }
    if let ProxyError::MethodNotAllowed(allow) = e {
        resp.headers_mut()
            .insert(ALLOW, HeaderValue::from_static(allow));
    }
    if let ProxyError::RateLimited(l) = e {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(l.retry_after_secs));
    }
    if matches!(e, ProxyError::Overloaded) {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

/// An upstream problem as the caller sees it: only the standard members, `instance` ours.
fn reduced(up: &UpstreamProblem, instance: &str) -> Value {
    let mut doc = Map::new();
    if let Some(t) = &up.problem_type {
        doc.insert("type".into(), json!(t));
    }
    doc.insert(
        "title".into(),
        json!(
            up.title
                .as_deref()
                .unwrap_or("The source system reported a problem.")
        ),
    );
    doc.insert("status".into(), json!(up.status));
    if let Some(d) = &up.detail {
        doc.insert("detail".into(), json!(d));
    }
    doc.insert("instance".into(), json!(instance));
    if let Some(c) = &up.code {
        doc.insert("code".into(), json!(c));
    }
    Value::Object(doc)
}

/// The problem document as JSON.
pub fn problem_body(p: &Problem, instance: &str) -> Value {
    let mut doc = json!({
        "type": format!("https://sluis.dev/problems/{}", p.code),
        "title": p.title,
        "status": p.status,
        "detail": p.detail,
        "instance": instance,
        "code": p.code,
    });
    if !p.invalid.is_empty()
        && let Value::Object(m) = &mut doc
    {
        let params: Vec<Value> = p
            .invalid
            .iter()
            .map(|(name, reason)| json!({"name": name, "code": p.code, "reason": reason}))
            .collect();
        m.insert("invalidParams".into(), Value::Array(params));
    }
    doc
}

/// A JSON response with the given content type.
pub fn json_response(status: u16, body: &Value, content_type: &'static str) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(full(bytes));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_has_www_authenticate_and_no_secrets() {
        let r = respond(&ProxyError::InvalidToken("token expired".into()), "/v1/x");
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok()),
            Some("Bearer realm=\"sluis\", error=\"invalid_token\"")
        );
        assert_eq!(
            r.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
    }

    #[test]
    fn upstream_details_do_not_leak() {
        let p = Problem::from_error(&ProxyError::Upstream(UpstreamFault::Unavailable(
            "connect to 10.1.2.3:443 refused".into(),
        )));
        assert!(!p.detail.contains("10.1.2.3"));
        let p = Problem::from_error(&ProxyError::Upstream(UpstreamFault::Credentials(401)));
        assert_eq!((p.status, p.code), (502, "backendConfig"));
    }
}
