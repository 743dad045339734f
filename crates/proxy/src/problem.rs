//! The one place errors become HTTP responses: RFC 9457 problem+json with `type`, `title`,
//! `status`, `detail`, `instance`, plus `code` and `invalidParams` where relevant.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

use crate::error::ProxyError;

/// The body type of every response sluis produces.
pub type Body = Full<Bytes>;

/// A problem document, before it becomes a response.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: u16,
    pub code: &'static str,
    pub title: String,
    pub detail: String,
    pub invalid: Vec<(String, String)>,
}

impl Problem {
    /// The problem for an error (no secrets, no token contents, no upstream internals).
    pub fn from_error(e: &ProxyError) -> Problem {
        let p = |status: u16, code: &'static str, title: &str, detail: String| Problem {
            status,
            code,
            title: title.to_owned(),
            detail,
            invalid: Vec::new(),
        };
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
            ProxyError::MissingHeaders(h) => Problem {
                invalid: h
                    .iter()
                    .map(|n| (n.clone(), "required header is missing".to_owned()))
                    .collect(),
                ..p(
                    403,
                    "missingHeaders",
                    "Required headers are missing.",
                    format!("Missing: {}.", h.join(", ")),
                )
            },
            ProxyError::UnknownPurpose(v) => p(
                403,
                "unknownPurpose",
                "The stated purpose is not a registered processing activity.",
                format!("{v:?} does not name a registered processing activity."),
            ),
            ProxyError::Forbidden {
                title,
                detail,
                code,
                invalid,
            } => Problem {
                invalid: invalid.clone(),
                ..p(403, code, title, detail.clone())
            },
            ProxyError::BadRequest(detail, invalid) => Problem {
                invalid: invalid.clone(),
                ..p(400, "paramsValidation", "Invalid request.", detail.clone())
            },
            ProxyError::NotFound => p(
                404,
                "notFound",
                "Not found.",
                "No resource at this path.".into(),
            ),
            ProxyError::MethodNotAllowed => p(
                405,
                "methodNotAllowed",
                "Method not allowed.",
                "Only GET, HEAD and OPTIONS are served.".into(),
            ),
            ProxyError::UpstreamTimeout => p(
                504,
                "upstreamTimeout",
                "The source system did not answer in time.",
                "Try again later.".into(),
            ),
            ProxyError::UpstreamUnavailable(_) => p(
                503,
                "upstreamUnavailable",
                "The source system is unavailable.",
                "Try again later.".into(),
            ),
            ProxyError::BackendConfig(_) => p(
                502,
                "backendConfig",
                "The source system refused sluis's credentials.",
                "This is a configuration problem on the server side; contact the administrator."
                    .into(),
            ),
            ProxyError::BadUpstream(_) => p(
                502,
                "badUpstream",
                "The source system answered with an unusable response.",
                "Try again later or contact the administrator.".into(),
            ),
            ProxyError::UpstreamProblem(status, _) => p(
                *status,
                "upstream",
                "The source system reported a problem.",
                String::new(),
            ),
            ProxyError::AuditUnavailable(_) => p(
                503,
                "auditUnavailable",
                "The request could not be recorded.",
                "No data is released without a record; try again later.".into(),
            ),
            ProxyError::TooLarge => p(413, "tooLarge", "Request too large.", String::new()),
            ProxyError::Brp(d) => Problem {
                invalid: d
                    .invalid_params
                    .iter()
                    .map(|i| (i.name.clone(), i.reason.clone()))
                    .collect(),
                ..p(d.status, d.code, &d.title, d.detail.clone())
            },
            ProxyError::Internal(_) => p(500, "internal", "Internal error.", String::new()),
        }
    }
}

/// Builds the problem+json response for an error at `instance` (the request path).
pub fn respond(e: &ProxyError, instance: &str) -> Response<Body> {
    // An upstream problem document is passed on with `instance` rewritten; anything else is ours.
    let (status, body) = match e {
        // BRP refusals keep the BRP API's own problem shape (RFC 7231 type URIs, Dutch texts).
        ProxyError::Brp(d) => (d.status, d.to_problem_json(instance)),
        ProxyError::UpstreamProblem(status, Value::Object(doc)) => {
            let mut doc = doc.clone();
            doc.insert("instance".into(), Value::String(instance.to_owned()));
            doc.insert("status".into(), json!(status));
            (*status, Value::Object(doc))
        }
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
    resp
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
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
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
        let p = Problem::from_error(&ProxyError::UpstreamUnavailable(
            "connect to 10.1.2.3:443 refused".into(),
        ));
        assert!(!p.detail.contains("10.1.2.3"));
        let p = Problem::from_error(&ProxyError::BackendConfig(401));
        assert_eq!((p.status, p.code), (502, "backendConfig"));
    }
}
