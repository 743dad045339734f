//! The privacy officer's pages on the admin listener, under `/ui/`: search the log, the
//! citizen's overview, the alert inbox with its handling, the monthly report and the log's
//! integrity. Server-rendered HTML (askama templates, checked at compile time), no scripts.
//!
//! Reviewers sign in with OpenID Connect (`[ui]`, see [`oidc`]); only holders of a reviewer
//! role get a session. Every request — a page, a refusal, a sign-in — is recorded like any
//! other (api `ui`), before it is answered; looking at an alert's identifying details also
//! appends a `view` handling record naming the alert. BSNs travel in POST bodies only (never
//! in a URL, a history or a proxy log) and are never stored: the log is searched by pseudonym.

mod oidc;
mod pages;
mod session;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming as IncomingBody;
use hyper::header::{HeaderName, HeaderValue, LOCATION, SET_COOKIE};
use hyper::{Method, Request, Response};
use sluis_audit::Decision;

use crate::config::Config;
use crate::context::{Incoming, RequestContext, bounded, bounded_list};
use crate::error::{ProxyError, StartError};
use crate::problem::{self, Body, Problem};
use crate::record::{Page, Reply};
use crate::state::Shared;

pub use oidc::SignInError;
use session::{Pending, Session, Sessions};

/// Largest form body accepted.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The pages' stylesheet, served from `/ui/ui.css` (the only thing served without a record: it
/// holds no data).
const CSS: &str = include_str!("../../templates/ui/ui.css");

/// Content-Security-Policy of every page: nothing but this origin's stylesheet and forms.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What the pages keep between requests.
#[derive(Debug)]
pub struct UiState {
    oidc: Option<oidc::Oidc>,
    demo: bool,
    sessions: Sessions,
    session_ttl: Duration,
    secure_cookie: bool,
    pages: pages::PageState,
}

impl UiState {
    /// The pages' state when `[ui]` is configured or the demo's sign-in is on; `None` otherwise
    /// (then `/ui/` answers 404).
    pub fn new(config: &Config) -> Result<Option<UiState>, StartError> {
        let oidc = match &config.ui {
            Some(ui) => {
                let client = crate::upstream::https_client(Duration::from_secs(5), 2, None)?;
                Some(
                    oidc::Oidc::new(ui.clone(), client)
                        .map_err(|e| StartError::Other(format!("ui: {e}")))?,
                )
            }
            None => None,
        };
        if oidc.is_none() && !config.demo_sign_in {
            return Ok(None);
        }
        Ok(Some(UiState {
            session_ttl: config
                .ui
                .as_ref()
                .map_or(Duration::from_secs(8 * 3600), |u| u.session),
            secure_cookie: config.ui.as_ref().is_some_and(|u| u.secure_cookie),
            oidc,
            demo: config.demo_sign_in,
            sessions: Sessions::default(),
            pages: pages::PageState::default(),
        }))
    }
}

/// Serves everything under `/ui`.
pub async fn handle(shared: Arc<Shared>, req: Request<IncomingBody>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    if path == "/ui/ui.css" && req.method() == Method::GET {
        let mut r = Response::new(problem::full(Bytes::from_static(CSS.as_bytes())));
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static("text/css; charset=utf-8"),
        );
        r.headers_mut().insert(
            hyper::header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=3600"),
        );
        return r;
    }
    if shared.ui.is_none() {
        return problem::respond(&ProxyError::NotFound, &path);
    }
    let (parts, body) = req.into_parts();
    let (form, too_large) = if parts.method == Method::POST {
        match Limited::new(body, MAX_FORM_BYTES).collect().await {
            Ok(b) => (b.to_bytes(), false),
            Err(_) => (Bytes::new(), true),
        }
    } else {
        (Bytes::new(), false)
    };
    let incoming = Incoming {
        method: parts.method,
        path,
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: form,
    };
    let rt = shared.runtime.load_full();
    let mut ctx = crate::pipeline::begin(&rt, incoming);
    ctx.trail.api = "ui".into();
    let result = if too_large {
        Err(ProxyError::TooLarge)
    } else {
        route(&shared, &mut ctx).await
    };
    let reply = match result {
        Ok(page) => page,
        Err(e) => {
            ctx.trail.reasons.push(bounded(&e.to_string()));
            error_page(&e, session_of(&shared, &ctx).as_ref())
        }
    };
    let mut resp = crate::record::finish(&shared, ctx, Ok(Reply::Page(reply))).await;
    let h = resp.headers_mut();
    h.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CSP),
    );
    h.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        hyper::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    resp
}

/// An error as a page: the one problem mapping decides status, code and wording.
fn error_page(e: &ProxyError, session: Option<&Session>) -> Page {
    let p = Problem::from_error(e);
    let mut page = pages::message(
        &p.title,
        session,
        "fout",
        &p.detail,
        Some(("/ui/", "Naar het overzicht")),
    );
    page.status = p.status;
    page.decision = p.outcome;
    page.code = Some(p.code);
    page
}

/// The session cookie's value, if the request carries one.
fn session_id(ctx: &RequestContext) -> Option<&str> {
    let header = ctx
        .request
        .headers
        .get(hyper::header::COOKIE)?
        .to_str()
        .ok()?;
    session::cookie(header, session::COOKIE)
}

fn session_of(shared: &Shared, ctx: &RequestContext) -> Option<Session> {
    shared.ui.as_ref()?.sessions.get(session_id(ctx)?)
}

fn redirect(location: &str, cookie: Option<String>) -> Page {
    let mut headers = Vec::new();
    if let Ok(v) = HeaderValue::from_str(location) {
        headers.push((LOCATION, v));
    }
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.push((SET_COOKIE, c));
    }
    Page {
        status: 303,
        content_type: "text/plain; charset=utf-8",
        body: String::new(),
        headers,
        decision: Decision::Permit,
        code: None,
    }
}

/// A refusal answered as a page, recorded as a denial with `code`.
fn refused(
    status: u16,
    code: &'static str,
    title: &str,
    text: &str,
    session: Option<&Session>,
) -> Page {
    let mut p = pages::message(
        title,
        session,
        "fout",
        text,
        Some(("/ui/", "Naar het overzicht")),
    );
    p.status = status;
    p.decision = Decision::Deny;
    p.code = Some(code);
    p
}

/// Only `/ui/` paths, so a sign-in cannot be turned into a redirect elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/ui/")
                && !n.contains("//")
                && !n.contains('\\')
                && n.len() <= 512
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n.to_owned()
        }
        _ => "/ui/".to_owned(),
    }
}

fn params(s: Option<&str>) -> Result<Vec<(String, String)>, ProxyError> {
    crate::query::parse(s).ok_or(ProxyError::BadRequest(
        crate::error::RequestFault::QueryNotUtf8,
    ))
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn route(shared: &Arc<Shared>, ctx: &mut RequestContext) -> Result<Page, ProxyError> {
    let Some(ui) = shared.ui.as_ref() else {
        return Err(ProxyError::NotFound);
    };
    let method = ctx.request.method.clone();
    let path = ctx.request.path.clone();
    let query = params(ctx.request.query.as_deref())?;
    let form_text = std::str::from_utf8(&ctx.request.body)
        .map_err(|_| ProxyError::BadRequest(crate::error::RequestFault::QueryNotUtf8))?
        .to_owned();
    let form = params(Some(&form_text))?;
    // Parameter names only: values (a BSN) never reach the log.
    ctx.trail.params = bounded_list(query.iter().chain(form.iter()).map(|(k, _)| k));
    // Sign-in and sign-out need no session.
    match (&method, path.as_str()) {
        (&Method::GET, "/ui") => return Ok(redirect("/ui/", None)),
        (&Method::GET, "/ui/aanmelden") => {
            ctx.trail.operation = "ui.signin".into();
            return sign_in(ui, param(&query, "next")).await;
        }
        (&Method::GET, "/ui/callback") => {
            ctx.trail.operation = "ui.callback".into();
            return callback(shared, ui, &query, ctx).await;
        }
        (&Method::GET, "/ui/demo") if ui.demo => {
            ctx.trail.operation = "ui.signin.demo".into();
            return Ok(pages::demo_sign_in(&safe_next(param(&query, "next"))));
        }
        (&Method::GET, "/ui/afgemeld") => {
            ctx.trail.operation = "ui.signout".into();
            return Ok(pages::message(
                "Afgemeld",
                None,
                "info",
                "U bent afgemeld.",
                Some(("/ui/aanmelden", "Opnieuw aanmelden")),
            ));
        }
        (&Method::POST, "/ui/demo") if ui.demo => {
            ctx.trail.operation = "ui.signin.demo".into();
            return Ok(demo_session(ui, &form, ctx));
        }
        _ => {}
    }
    let session = session_of(shared, ctx);
    let Some(session) = session else {
        ctx.trail.operation = "ui.page".into();
        // A page asked without a session: to the sign-in, and back here afterwards.
        let next = if method == Method::GET {
            match &ctx.request.query {
                Some(q) => format!("{path}?{q}"),
                None => path.clone(),
            }
        } else {
            "/ui/".to_owned()
        };
        let mut p = redirect(
            &format!(
                "/ui/aanmelden?next={}",
                percent_encoding::utf8_percent_encode(
                    &safe_next(Some(&next)),
                    percent_encoding::NON_ALPHANUMERIC
                )
            ),
            None,
        );
        p.decision = Decision::Deny;
        p.code = Some("notAuthenticated");
        return Ok(p);
    };
    ctx.trail.user = Some(session.user.clone());
    ctx.trail.issuer = Some(session.issuer.clone());
    ctx.trail.subject = Some(session.user.clone());
    ctx.trail.scopes = session.roles.clone();
    if method == Method::POST {
        let sent = param(&form, "csrf").unwrap_or("");
        if !crate::auth::constant_time_eq(sent.as_bytes(), session.csrf.as_bytes()) {
            ctx.trail.operation = "ui.form".into();
            return Ok(refused(
                403,
                "csrfTokenInvalid",
                "Formulier verlopen",
                "Dit formulier hoort niet bij uw sessie (meer). Open de pagina opnieuw en probeer het nog eens.",
                Some(&session),
            ));
        }
    }
    let started = Instant::now();
    let page = match (&method, path.as_str()) {
        (&Method::POST, "/ui/afmelden") => {
            ctx.trail.operation = "ui.signout".into();
            if let Some(id) = session_id(ctx) {
                ui.sessions.end(id);
            }
            Ok(redirect(
                "/ui/afgemeld",
                Some(session::clear_cookie(ui.secure_cookie)),
            ))
        }
        (&Method::GET, "/ui/") => {
            ctx.trail.operation = "ui.home".into();
            pages::home(shared, &session).await
        }
        (&Method::GET, "/ui/zoeken") => {
            ctx.trail.operation = "ui.search".into();
            pages::search(shared, &session, &[], ctx).await
        }
        (&Method::POST, "/ui/zoeken") => {
            ctx.trail.operation = "ui.search".into();
            pages::search(shared, &session, &form, ctx).await
        }
        (&Method::GET, "/ui/inzage") => {
            ctx.trail.operation = "ui.overview".into();
            Ok(pages::overview_form(&session, None))
        }
        (&Method::POST, "/ui/inzage") => {
            ctx.trail.operation = "ui.overview".into();
            pages::overview(shared, &session, &form, ctx).await
        }
        (&Method::GET, "/ui/meldingen") => {
            ctx.trail.operation = "ui.alerts".into();
            pages::alerts(shared, &session, param(&query, "status")).await
        }
        (&Method::GET, p) if p.starts_with("/ui/meldingen/") => {
            ctx.trail.operation = "ui.alert".into();
            pages::alert(shared, &session, &p["/ui/meldingen/".len()..], None, ctx).await
        }
        (&Method::POST, p) if p.starts_with("/ui/meldingen/") => {
            ctx.trail.operation = "ui.alert.handle".into();
            pages::handle_alert(shared, &session, &p["/ui/meldingen/".len()..], &form, ctx).await
        }
        (&Method::GET, "/ui/rapport") => {
            ctx.trail.operation = "ui.report".into();
            pages::report(shared, &session, param(&query, "maand")).await
        }
        (&Method::GET, "/ui/integriteit") => {
            ctx.trail.operation = "ui.integrity".into();
            pages::integrity(shared, &session).await
        }
        (&Method::POST, "/ui/integriteit") => {
            ctx.trail.operation = "ui.integrity.verify".into();
            pages::verify(shared).await
        }
        (_, p) if p.starts_with("/ui/") => {
            ctx.trail.operation = "ui.unknown".into();
            Err(ProxyError::NotFound)
        }
        _ => Err(ProxyError::NotFound),
    };
    metrics::histogram!("sluis_ui_page_seconds", "page" => ctx.trail.operation.clone())
        .record(started.elapsed().as_secs_f64());
    page
}

/// `GET /ui/aanmelden`: to the IdP with state, nonce and a PKCE challenge (or to the demo's
/// sign-in in the demo).
async fn sign_in(ui: &UiState, next: Option<&str>) -> Result<Page, ProxyError> {
    let next = safe_next(next);
    let Some(oidc) = &ui.oidc else {
        return Ok(redirect(
            &format!(
                "/ui/demo?next={}",
                percent_encoding::utf8_percent_encode(&next, percent_encoding::NON_ALPHANUMERIC)
            ),
            None,
        ));
    };
    let ep = match oidc.endpoints().await {
        Ok(ep) => ep,
        Err(e) => return Ok(sign_in_failed(&e)),
    };
    let (Some(state), Some(nonce), Some(verifier)) = (
        session::random_token(),
        session::random_token(),
        session::random_token(),
    ) else {
        return Err(ProxyError::Internal(
            "no randomness available for a sign-in".into(),
        ));
    };
    let url = oidc.authorize_url(ep, &state, &nonce, &verifier);
    if !ui.sessions.begin(
        state,
        Pending {
            nonce,
            verifier,
            next,
            started: Instant::now(),
        },
    ) {
        return Ok(refused(
            503,
            "tooManySignIns",
            "Aanmelden lukt nu niet",
            "Er zijn te veel aanmeldingen tegelijk bezig. Probeer het over enkele minuten opnieuw.",
            None,
        ));
    }
    Ok(redirect(&url, None))
}

fn sign_in_failed(e: &SignInError) -> Page {
    let status = match e {
        SignInError::Provider(_) => 502,
        _ => 403,
    };
    refused(
        status,
        "signInFailed",
        "Aanmelden mislukt",
        &format!("Aanmelden is niet gelukt: {e}."),
        None,
    )
}

/// `GET /ui/callback`: redeem the code, verify the ID token, check the reviewer role.
async fn callback(
    shared: &Shared,
    ui: &UiState,
    query: &[(String, String)],
    ctx: &mut RequestContext,
) -> Result<Page, ProxyError> {
    let Some(oidc) = &ui.oidc else {
        return Err(ProxyError::NotFound);
    };
    if let Some(err) = param(query, "error") {
        // The OAuth error code is from a fixed set; anything else is cut short.
        let err = bounded(&err.chars().take(64).collect::<String>());
        return Ok(sign_in_failed(&SignInError::Refused(err)));
    }
    let (Some(code), Some(state)) = (param(query, "code"), param(query, "state")) else {
        return Ok(sign_in_failed(&SignInError::UnknownState));
    };
    let Some(pending) = ui.sessions.take(state) else {
        return Ok(sign_in_failed(&SignInError::UnknownState));
    };
    let rt = shared.runtime.load_full();
    let issuer = oidc.ui.issuer.clone();
    let now = sluis_audit::now_ms() / 1000;
    let result = match oidc.redeem(code, &pending.verifier).await {
        Err(e) => Err(e),
        Ok(id_token) => {
            let verify =
                || oidc.verify(&id_token, &pending.nonce, rt.auth.issuer_keys(&issuer), now);
            match verify() {
                Ok(r) => r,
                // A key the provider rotated to since the keys were fetched: fetch (rate
                // limited) and verify once more.
                Err(unknown) => {
                    rt.auth.refresh_issuer(&issuer).await;
                    verify().unwrap_or_else(|_| Err(SignInError::Token(unknown.to_string())))
                }
            }
        }
    };
    let principal = match result {
        Ok(p) => p,
        Err(e) => return Ok(sign_in_failed(&e)),
    };
    let roles = oidc::roles(&principal, &oidc.ui.roles_claim);
    let user = principal
        .user
        .clone()
        .unwrap_or_else(|| principal.subject.clone());
    ctx.trail.user = Some(user.clone());
    ctx.trail.issuer = Some(issuer.clone());
    ctx.trail.subject = Some(principal.subject.clone());
    ctx.trail.scopes = roles.clone();
    if !roles.iter().any(|r| oidc.ui.reviewer_roles.contains(r)) {
        return Ok(refused(
            403,
            "notAReviewer",
            "Geen toegang",
            "U bent aangemeld, maar uw rollen geven geen toegang tot het toezicht op gegevensgebruik. Vraag de functionaris gegevensbescherming om de rol als u die nodig heeft.",
            None,
        ));
    }
    let identities = roles.iter().any(|r| oidc.ui.identity_roles.contains(r));
    let name = principal
        .claims
        .get("name")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    start_session(ui, user, name, issuer, roles, identities, &pending.next)
}

fn start_session(
    ui: &UiState,
    user: String,
    name: Option<String>,
    issuer: String,
    roles: Vec<String>,
    identities: bool,
    next: &str,
) -> Result<Page, ProxyError> {
    let csrf = session::random_token()
        .ok_or_else(|| ProxyError::Internal("no randomness available for a session".into()))?;
    let id = ui
        .sessions
        .create(Session {
            user,
            name,
            issuer,
            roles,
            identities,
            csrf,
            expires: Instant::now() + ui.session_ttl,
        })
        .ok_or_else(|| ProxyError::Internal("no randomness available for a session".into()))?;
    Ok(redirect(
        next,
        Some(session::set_cookie(&id, ui.session_ttl, ui.secure_cookie)),
    ))
}

/// `POST /ui/demo`: the demo's sign-in (exists only when `sluis demo` turned it on).
fn demo_session(ui: &UiState, form: &[(String, String)], ctx: &mut RequestContext) -> Page {
    let (user, identities) = match param(form, "wie") {
        Some("security") => ("demo-security", false),
        _ => ("demo-fg", true),
    };
    ctx.trail.user = Some(user.into());
    ctx.trail.issuer = Some("demo".into());
    let next = safe_next(param(form, "next"));
    match start_session(
        ui,
        user.into(),
        None,
        "demo".into(),
        vec!["demo".into()],
        identities,
        &next,
    ) {
        Ok(p) => p,
        Err(e) => error_page(&e, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ui_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/ui/meldingen?status=alle")),
            "/ui/meldingen?status=alle"
        );
        assert_eq!(safe_next(Some("https://evil.example/")), "/ui/");
        assert_eq!(safe_next(Some("//evil.example/ui/")), "/ui/");
        assert_eq!(safe_next(Some("/ui//evil.example")), "/ui/");
        assert_eq!(safe_next(Some("/ui/\\evil")), "/ui/");
        assert_eq!(safe_next(Some("/admin/register")), "/ui/");
        assert_eq!(safe_next(None), "/ui/");
    }
}
