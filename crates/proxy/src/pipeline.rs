//! One request through the phases, top to bottom: route to a mount → authenticate → identify →
//! (the mount's adapter) route → authorize → forward → filter → record → respond. A failure in
//! any phase jumps to record, then respond. Nothing here knows an API family: adapters are
//! reached through [`Adapter`] only.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use hyper::header::AUTHORIZATION;
use hyper::{Method, Response};
use sluis_rights::{Admission, Caller};
use sluis_token::Principal;

use crate::adapter::{Adapter, BoxFuture, Delivery, Lookup, Mount, Upstream};
use crate::config::Api;
use crate::context::{Incoming, RequestContext, UserSource};
use crate::error::{ProxyError, Refusal};
use crate::problem::Body;
use crate::ratelimit::RateLimits;
use crate::record::{self, Reply};
use crate::state::{Runtime, Shared};

/// Handles one API request end to end.
pub async fn handle(shared: Arc<Shared>, req: Incoming) -> Response<Body> {
    let rt = shared.runtime.load_full();
    let mut ctx = begin(&rt, req);
    let result = run(&rt, &mut ctx).await;
    record::finish(&shared, ctx, result).await
}

/// Records and answers a request the server refused before the phases could run (a body too
/// large or too slow): such refusals are recorded like any other.
pub async fn refuse(shared: Arc<Shared>, req: Incoming, error: ProxyError) -> Response<Body> {
    let rt = shared.runtime.load_full();
    let mut ctx = begin(&rt, req);
    if let Some((mount, _)) = rt.route(&ctx.request.path) {
        ctx.trail.api = mount.api.name.clone();
    }
    record::finish(&shared, ctx, Err(error)).await
}

/// A request's context under the policy version it will be decided by.
pub(crate) fn begin(rt: &Runtime, req: Incoming) -> RequestContext {
    let mut ctx = RequestContext::new(req);
    ctx.trail.policy_version = Some(rt.policy.version().to_owned());
    ctx
}

async fn run(rt: &Runtime, ctx: &mut RequestContext) -> Result<Reply, ProxyError> {
    let path = ctx.request.path.clone();
    let (mount, rest) = rt.route(&path).ok_or(ProxyError::NotFound)?;
    ctx.trail.api = mount.api.name.clone();
    ctx.trail.records_subjects = mount.api.kind.records_subjects();
    ctx.trail.default_activity = mount.api.activity.clone();
    if ctx.request.method == Method::OPTIONS {
        // OPTIONS is never authorized (as DSO does): it describes, it does not deliver data.
        ctx.trail.operation = "options".into();
        return Ok(Reply::Options(mount.adapter.methods()));
    }
    let principal = authenticate(rt, ctx).await?;
    require_mount_scopes(&mount.api, &principal)?;
    identify(rt, &mount.api, &principal, ctx)?;
    let admission = admit(rt, &mount.api, &principal, ctx)?;
    let principal = narrowed(principal, &admission);
    if !admission.dropped.is_empty() {
        // The ceiling may have dropped a scope the mount requires.
        require_mount_scopes(&mount.api, &principal)?;
    }
    let delivery = mount
        .adapter
        .serve(
            ctx,
            rest,
            &principal,
            &mount.upstream,
            &admission,
            &rt.rate_limits,
        )
        .await?;
    Ok(Reply::Delivered(delivery))
}

/// The register: is the calling application registered, for the activity in effect, and may
/// that activity use this API? Scopes outside the activity's ceiling are dropped (and recorded).
fn admit(
    rt: &Runtime,
    api: &Api,
    principal: &Principal,
    ctx: &mut RequestContext,
) -> Result<Admission, ProxyError> {
    let trail = &mut ctx.trail;
    let activity = trail
        .activity
        .clone()
        .or_else(|| trail.default_activity.clone());
    let caller = Caller {
        issuer: &principal.issuer,
        client_id: principal.client_id.as_deref(),
        activity: activity.as_deref(),
        api: &api.name,
        scopes: &principal.scopes,
    };
    let admission = rt
        .config
        .register
        .admit(&caller, api.enforce_register)
        .map_err(ProxyError::Register);
    match &admission {
        Ok(a) => {
            trail.application = a.application.clone();
            if !a.dropped.is_empty() {
                trail.scopes_dropped = a.dropped.clone();
                trail.reasons.push(format!(
                    "register: scopes outside the ceiling of {} dropped",
                    activity.as_deref().unwrap_or("the activity")
                ));
            }
        }
        Err(ProxyError::Register(d)) => {
            if let sluis_rights::RegisterDenial::PurposeNotAllowed { application, .. } = d {
                trail.application = Some(application.clone());
            }
        }
        Err(_) => {}
    }
    admission
}

/// The principal with the effective scopes (unchanged when the ceiling dropped nothing).
fn narrowed(principal: Arc<Principal>, admission: &Admission) -> Arc<Principal> {
    if admission.dropped.is_empty() {
        return principal;
    }
    let mut p = (*principal).clone();
    p.scopes = admission.scopes.clone();
    Arc::new(p)
}

/// The adapter's phases, the same for every API family.
async fn adapter_phases<A: Adapter>(
    adapter: &A,
    ctx: &mut RequestContext,
    rest: &str,
    principal: &Principal,
    upstream: &dyn Upstream,
    admission: &Admission,
    limits: &RateLimits,
) -> Result<Delivery, ProxyError> {
    // route
    let route = adapter.route(ctx, rest)?;
    admission
        .check_operation(&ctx.trail.operation)
        .map_err(ProxyError::Register)?;
    if !limits.is_empty() {
        limits
            .check(
                &ctx.trail.api,
                &ctx.trail.operation,
                principal.client_id.as_deref(),
                ctx.trail.user.as_deref(),
            )
            .map_err(ProxyError::RateLimited)?;
    }
    // authorize
    let authorized = adapter
        .authorize(ctx, principal, route, Lookup::new(upstream))
        .await?;
    // forward
    let answer = match authorized.request() {
        Some(request) => upstream.forward(ctx, request).await?,
        None => crate::adapter::Answer::none(),
    };
    // filter
    adapter
        .filter(ctx, authorized.into_grant(), answer, Lookup::new(upstream))
        .await
}

impl<A: Adapter> Mount for A {
    fn methods(&self) -> &'static str {
        Adapter::methods(self)
    }

    fn sources(&self) -> Vec<std::path::PathBuf> {
        Adapter::sources(self)
    }

    fn serve<'a>(
        &'a self,
        ctx: &'a mut RequestContext,
        rest: &'a str,
        principal: &'a Principal,
        upstream: &'a dyn Upstream,
        admission: &'a Admission,
        limits: &'a RateLimits,
    ) -> BoxFuture<'a, Result<Delivery, ProxyError>> {
        Box::pin(adapter_phases(
            self, ctx, rest, principal, upstream, admission, limits,
        ))
    }
}

/// The bearer token, verified: who calls.
pub(crate) async fn authenticate(
    rt: &Runtime,
    ctx: &mut RequestContext,
) -> Result<Arc<Principal>, ProxyError> {
    let token = match ctx.request.headers.get(AUTHORIZATION).map(|v| v.to_str()) {
        None => return Err(ProxyError::MissingToken),
        Some(Ok(v)) => match v.split_once(' ') {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
                t.trim()
            }
            _ => {
                return Err(ProxyError::InvalidToken(
                    "the Authorization header is not a bearer token".into(),
                ));
            }
        },
        Some(Err(_)) => {
            return Err(ProxyError::InvalidToken(
                "the Authorization header is not valid text".into(),
            ));
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let principal = rt.auth.authenticate(token, now).await?;
    let trail = &mut ctx.trail;
    trail.issuer = Some(principal.issuer.clone());
    trail.subject = Some(principal.subject.clone());
    trail.client_id = principal.client_id.clone();
    trail.scopes = principal.scopes.clone();
    trail.user = principal.user.clone();
    trail.user_source = principal.user.as_ref().map(|_| UserSource::Token);
    Ok(principal)
}

/// Scopes the mount requires of every request, on top of the operation's.
fn require_mount_scopes(api: &Api, principal: &Principal) -> Result<(), ProxyError> {
    let missing: Vec<String> = api
        .required_scopes
        .iter()
        .filter(|s| !principal.has_scope(s))
        .cloned()
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ProxyError::Forbidden(Refusal::MountScopes { missing }))
    }
}

/// Who acts, for which purpose: required headers, the user, the correlation id and the
/// processing activity the stated purpose maps to.
fn identify(
    rt: &Runtime,
    api: &Api,
    principal: &Principal,
    ctx: &mut RequestContext,
) -> Result<(), ProxyError> {
    let req = &ctx.request;
    let missing: Vec<String> = api
        .required_headers
        .iter()
        .filter(|h| req.header(h).is_none())
        .cloned()
        .collect();
    let asserted = api.user_header.as_deref().and_then(|h| req.header(h));
    let correlation = api
        .correlation_header
        .as_deref()
        .and_then(|h| req.header(h));
    let purpose = api.purpose_header.as_deref().and_then(|h| req.header(h));
    let trail = &mut ctx.trail;
    if let Some(user) = asserted {
        // The user header names the user only for clients trusted to assert their users;
        // anyone else is recorded as the token says.
        let trusted = rt
            .config
            .issuers
            .iter()
            .find(|i| i.name == principal.issuer)
            .is_some_and(|i| i.user_header_trust.trusts(principal.client_id.as_deref()));
        if trusted {
            trail.user = Some(user);
            trail.user_source = Some(UserSource::TrustedHeader);
        } else if trail.user.as_deref() != Some(user.as_str()) {
            trail
                .reasons
                .push("user header ignored: the client is not trusted to assert users".into());
        }
    }
    trail.correlation_id = correlation;
    trail.purpose = purpose;
    if !missing.is_empty() {
        return Err(ProxyError::MissingHeaders(missing));
    }
    if let Some(p) = &trail.purpose {
        match rt.config.activity(p) {
            Some(a) => trail.activity = Some(a.id.clone()),
            None => return Err(ProxyError::UnknownPurpose(crate::context::bounded(p))),
        }
    }
    Ok(())
}
