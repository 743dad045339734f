//! Request and response plumbing shared by the four APIs: the parsed request, Open Zaak's
//! problem bodies (`Fout` / `ValidatieFout`), DRF pagination, query parameters, CRS headers.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use hyper::Method;
use hyper::header::HeaderMap;
use serde_json::{Map, Value, json};

use super::auth::Caller;
use super::model::Uuid;
use super::render::Ctx;
use super::urls::{self, Kind, UrlError};
use crate::rng::SplitMix64;

/// DRF `PAGE_SIZE` in Open Zaak.
pub const PAGE_SIZE: usize = 100;
/// commonground-api-common `DynamicPageSizeMixin.max_page_size`.
pub const MAX_PAGE_SIZE: usize = 500;

/// One request as the handlers see it.
#[derive(Debug)]
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) path: String,
    /// Decoded `(name, value)` pairs in arrival order.
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) ctx: Ctx,
    /// Authorities whose URLs are this fixture's own: the request's `Host` first.
    pub(crate) hosts: Vec<String>,
    pub(crate) caller: Caller,
}

impl Req {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first value of query parameter `name`.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn host_refs(&self) -> Vec<&str> {
        self.hosts.iter().map(String::as_str).collect()
    }

    /// Resolves a URL to one of the fixture's objects.
    pub(crate) fn resolve(&self, url: &str) -> Result<(Kind, Uuid), UrlError> {
        urls::parse(url, &self.host_refs())
    }

    /// The request body as a JSON object (400 `parse_error` otherwise).
    pub(crate) fn json_object(&self) -> Result<Map<String, Value>, Fout> {
        if let Some(ct) = self.header("content-type")
            && !ct.to_ascii_lowercase().starts_with("application/json")
        {
            return Err(Fout::new(
                415,
                "unsupported_media_type",
                &format!("Ongeldige media type \"{ct}\" in aanvraag."),
                "UnsupportedMediaType",
            ));
        }
        if self.body.is_empty() {
            return Ok(Map::new());
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(Fout::validation(vec![InvalidParam::new(
                "nonFieldErrors",
                "invalid",
                "Ongeldige data. Verwacht een dictionary, kreeg een list.",
            )])),
            Err(e) => Err(Fout::new(
                400,
                "parse_error",
                &format!("JSON parse error - {e}"),
                "ParseError",
            )),
        }
    }

    /// GeoMixin (commonground-api-common `geo.py`): bodies need `Content-Crs`, every method
    /// but DELETE needs `Accept-Crs`, both `EPSG:4326`.
    pub(crate) fn check_crs(&self) -> Result<(), Fout> {
        if matches!(self.method, Method::POST | Method::PUT | Method::PATCH) {
            match self.header("content-crs") {
                None => return Err(Fout::precondition("'Content-Crs' header ontbreekt")),
                Some("EPSG:4326") => {}
                Some(other) => {
                    return Err(Fout::not_acceptable(&format!(
                        "CRS '{other}' is niet ondersteund"
                    )));
                }
            }
        }
        if self.method == Method::DELETE {
            return Ok(());
        }
        match self.header("accept-crs") {
            None => Err(Fout::precondition("'Accept-Crs' header ontbreekt")),
            Some("EPSG:4326") => Ok(()),
            Some(other) => Err(Fout::not_acceptable(&format!(
                "CRS '{other}' is niet ondersteund"
            ))),
        }
    }
}

/// One `invalidParams` entry.
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
        Self::new(name, "required", "Dit veld is vereist.")
    }
}

/// An error answer in Open Zaak's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fout {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) title: String,
    pub(crate) detail: String,
    /// The exception class in `type` (`.../ref/fouten/NotFound/`).
    pub(crate) exception: &'static str,
    pub(crate) invalid_params: Vec<InvalidParam>,
}

pub(crate) const PERMISSION_TITLE: &str = "Je hebt geen toestemming om deze actie uit te voeren.";

impl Fout {
    pub(crate) fn new(status: u16, code: &str, title: &str, exception: &'static str) -> Self {
        Self {
            status,
            code: code.to_owned(),
            title: title.to_owned(),
            detail: title.to_owned(),
            exception,
            invalid_params: Vec::new(),
        }
    }

    pub(crate) fn with_detail(mut self, detail: &str) -> Self {
        detail.clone_into(&mut self.detail);
        self
    }

    pub(crate) fn not_found() -> Self {
        Self::new(404, "not_found", "Niet gevonden.", "NotFound")
    }

    pub(crate) fn invalid_page() -> Self {
        Self::not_found().with_detail("Ongeldige pagina.")
    }

    pub(crate) fn permission_denied(detail: &str) -> Self {
        Self::new(
            403,
            "permission_denied",
            PERMISSION_TITLE,
            "PermissionDenied",
        )
        .with_detail(detail)
    }

    pub(crate) fn validation(params: Vec<InvalidParam>) -> Self {
        Self {
            invalid_params: params,
            ..Self::new(400, "invalid", "Ongeldige invoer.", "ValidationError")
        }
    }

    pub(crate) fn precondition(detail: &str) -> Self {
        Self::new(
            412,
            "precondition_failed",
            "Precondition failed",
            "PreconditionFailed",
        )
        .with_detail(detail)
    }

    pub(crate) fn not_acceptable(detail: &str) -> Self {
        Self::new(
            406,
            "not_acceptable",
            "Kan niet voldoen aan de opgegeven Accept header.",
            "NotAcceptable",
        )
        .with_detail(detail)
    }

    pub(crate) fn method_not_allowed(method: &Method) -> Self {
        Self::new(
            405,
            "method_not_allowed",
            &format!("Methode \"{method}\" niet toegestaan."),
            "MethodNotAllowed",
        )
    }

    pub(crate) fn to_json(&self, base: &str) -> Value {
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let mut rng = SplitMix64::new(COUNTER.fetch_add(1, Ordering::Relaxed) ^ 0x0f0f_f0f0);
        let mut body = json!({
            "type": format!("{base}/ref/fouten/{}/", self.exception),
            "code": self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": format!("urn:uuid:{}", Uuid::random(&mut rng)),
        });
        if self.exception == "ValidationError"
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

/// A handler's answer before it becomes an HTTP response.
#[derive(Debug)]
pub(crate) enum Out {
    Json {
        status: u16,
        body: Value,
        headers: Vec<(&'static str, String)>,
    },
    Bytes {
        content_type: &'static str,
        body: Bytes,
        headers: Vec<(&'static str, String)>,
    },
    Empty(u16),
    Fout(Fout),
}

impl Out {
    pub(crate) fn ok(body: Value) -> Self {
        Self::Json {
            status: 200,
            body,
            headers: Vec::new(),
        }
    }

    pub(crate) fn created(body: Value) -> Self {
        Self::Json {
            status: 201,
            body,
            headers: Vec::new(),
        }
    }

    /// Adds a header to a JSON or bytes answer.
    pub(crate) fn header(mut self, name: &'static str, value: String) -> Self {
        match &mut self {
            Self::Json { headers, .. } | Self::Bytes { headers, .. } => {
                headers.push((name, value));
            }
            Self::Empty(_) | Self::Fout(_) => {}
        }
        self
    }
}

impl From<Fout> for Out {
    fn from(f: Fout) -> Self {
        Self::Fout(f)
    }
}

/// `fooBarBaz` → `foo_bar_baz` (djangorestframework-camel-case `underscoreize`).
pub(crate) fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else {
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c);
        }
    }
    out
}

/// Rejects query parameters the endpoint does not know (CheckQueryParamsMixin,
/// `unknown-parameters`). `known` are snake_case names; `page`/`pageSize` are always known.
pub(crate) fn check_params(req: &Req, known: &[&str]) -> Result<(), Fout> {
    let unknown: Vec<&str> = req
        .query
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !matches!(*k, "page" | "pageSize") && !known.contains(&snake(k).as_str()))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(Fout::validation(vec![InvalidParam::new(
        "nonFieldErrors",
        "unknown-parameters",
        &format!("Onbekende query parameters: {}", unknown.join(", ")),
    )]))
}

/// A page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) count: usize,
    pub(crate) next: Option<String>,
    pub(crate) previous: Option<String>,
}

/// DRF `PageNumberPagination` with `pageSize` (default 100, at most 500); a page beyond the
/// last is 404 "Ongeldige pagina.".
pub(crate) fn paginate(req: &Req, count: usize) -> Result<Page, Fout> {
    let size = req
        .param("pageSize")
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .map_or(PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE));
    let pages = count.div_ceil(size).max(1);
    let number = match req.param("page") {
        None => 1,
        Some("last") => pages,
        Some(p) => p.parse::<usize>().map_err(|_| Fout::invalid_page())?,
    };
    if number < 1 || number > pages {
        return Err(Fout::invalid_page());
    }
    let start = (number - 1) * size;
    let end = (start + size).min(count);
    let link = |page: Option<usize>| {
        let mut pairs: Vec<(String, Vec<String>)> = Vec::new();
        for (k, v) in &req.query {
            match pairs.iter_mut().find(|(name, _)| name == k) {
                Some((_, values)) => values.push(v.clone()),
                None => pairs.push((k.clone(), vec![v.clone()])),
            }
        }
        match page {
            Some(p) => match pairs.iter_mut().find(|(k, _)| k == "page") {
                Some((_, values)) => *values = vec![p.to_string()],
                None => pairs.push(("page".to_owned(), vec![p.to_string()])),
            },
            None => pairs.retain(|(k, _)| k != "page"),
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let query: Vec<String> = pairs
            .iter()
            .flat_map(|(k, vs)| {
                vs.iter()
                    .map(move |v| format!("{}={}", quote_plus(k), quote_plus(v)))
            })
            .collect();
        let mut url = format!("{}{}", req.ctx.base, req.path);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        url
    };
    Ok(Page {
        start,
        end,
        count,
        next: (number < pages).then(|| link(Some(number + 1))),
        previous: (number > 1).then(|| link(if number == 2 { None } else { Some(number - 1) })),
    })
}

/// `{"count", "next", "previous", "results"}`.
pub(crate) fn page_body(page: &Page, results: Vec<Value>) -> Value {
    json!({
        "count": page.count,
        "next": page.next,
        "previous": page.previous,
        "results": results,
    })
}

/// Python's `urllib.parse.quote_plus`.
pub(crate) fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Parses the raw query string into decoded pairs.
pub(crate) fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    crate::query::parse_pairs(raw)
        .into_iter()
        .map(|p| (p.key, p.value))
        .collect()
}

/// The path segments of `rest` (the part after an API's prefix).
pub(crate) fn segments(rest: &str) -> Vec<&str> {
    rest.split('/').filter(|s| !s.is_empty()).collect()
}

/// The `vertrouwelijkheidaanduiding` a body sets: `None` when absent or empty (an invalid
/// value adds an `invalid_choice` error).
pub(crate) fn va_field(
    body: &Map<String, Value>,
    errors: &mut Vec<InvalidParam>,
) -> Option<super::model::Va> {
    let s = body
        .get("vertrouwelijkheidaanduiding")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())?;
    let va = super::model::Va::parse(s);
    if va.is_none() {
        errors.push(InvalidParam::new(
            "vertrouwelijkheidaanduiding",
            "invalid_choice",
            &format!("\"{s}\" is een ongeldige keuze."),
        ));
    }
    va
}

/// Adds a `required` entry for each of `fields` the body lacks (or has as null).
pub(crate) fn require(body: &Map<String, Value>, fields: &[&str], errors: &mut Vec<InvalidParam>) {
    for f in fields {
        if body.get(*f).is_none_or(Value::is_null) {
            errors.push(InvalidParam::required(f));
        }
    }
}

/// Parses `expand` (comma-separated, dotted paths) and checks every path against `allowed`
/// (400 `invalid_choice` on `expand` otherwise, as OZ's `ExpandFilter`).
pub(crate) fn expand_paths(raw: &[String], allowed: &[&str]) -> Result<Vec<String>, Fout> {
    let mut out = Vec::new();
    for part in raw.iter().flat_map(|r| r.split(',')) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if !allowed.contains(&part) {
            return Err(Fout::validation(vec![InvalidParam::new(
                "expand",
                "invalid_choice",
                &format!("Selecteer een geldige keuze. {part} is geen beschikbare keuze."),
            )]));
        }
        if !out.iter().any(|p: &String| p == part) {
            out.push(part.to_owned());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_like_djangorestframework_camel_case() {
        assert_eq!(
            snake("maximaleVertrouwelijkheidaanduiding"),
            "maximale_vertrouwelijkheidaanduiding"
        );
        assert_eq!(
            snake("rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn"),
            "rol__betrokkene_identificatie__natuurlijk_persoon__inp_bsn"
        );
        assert_eq!(snake("zaaktype__in"), "zaaktype__in");
    }

    #[test]
    fn quote_plus_like_python() {
        assert_eq!(quote_plus("http://a/b c"), "http%3A%2F%2Fa%2Fb+c");
        assert_eq!(quote_plus("mdw-001_x.y~"), "mdw-001_x.y~");
    }
}
