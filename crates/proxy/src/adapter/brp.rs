//! The BRP adapter: `POST {prefix}/personen` (Haal Centraal BRP Personen v2). Authorize opens
//! sealed BSNs, validates the request against the BRP contract and decides and rewrites it with
//! the BRP policy; filter removes withheld persons, injected identifiers and everything the plan
//! does not grant, and seals BSNs again for pseudonymous callers.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use serde_json::Value;
use sluis_brp::doc::Node;
use sluis_brp::{
    BrpError, BrpPolicy, Denial, InvalidParam, Keyring, Plan, QueryType, SealKey, WITHHELD_HEADER,
    filter_response, open_request, seal_response, validate,
};
use sluis_token::Principal;

use super::{Adapter, Answer, Authorized, BoxFuture, Delivery, Lookup};
use crate::config::BrpApi;
use crate::context::{RequestContext, SubjectHit, bounded_list};
use crate::error::{ApiProblem, ConfigProblem, ProxyError, UpstreamFault};

/// A mounted BRP Personen API.
#[derive(Debug)]
pub struct BrpAdapter {
    policy: BrpPolicy,
    keyring: Option<Keyring>,
    policy_file: PathBuf,
}

impl BrpAdapter {
    /// Loads the BRP policy and the seal keys of `api` (`at` is its key path in `src`).
    pub fn load(api: &BrpApi, src: &Path, at: &str) -> Result<BrpAdapter, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let policy = match BrpPolicy::load(&api.policy) {
            Ok(p) => Some(p),
            Err(e) => {
                match e.problems() {
                    [] => problems.push(ConfigProblem::new(&api.policy, "", e.to_string())),
                    ps => problems.extend(ps.iter().map(|p| {
                        ConfigProblem::new(Path::new(&p.file), &p.key, p.message.clone())
                    })),
                }
                None
            }
        };
        let mut keys = Vec::new();
        for (j, (id, secret)) in api.seal_keys.iter().enumerate() {
            match SealKey::from_base64(id, secret.expose_str().trim()) {
                Ok(k) => keys.push(k),
                Err(e) => problems.push(ConfigProblem::new(
                    src,
                    &format!("{at}.seal_keys[{j}]"),
                    e.to_string(),
                )),
            }
        }
        if policy
            .as_ref()
            .is_some_and(|p| p.special_scopes().pseudonymous_bsn.is_some())
            && keys.is_empty()
        {
            problems.push(ConfigProblem::new(
                src,
                &format!("{at}.seal_keys"),
                "the BRP policy has a pseudonymous_bsn scope, so seal_keys are required".into(),
            ));
        }
        let mut keys = keys.into_iter();
        let keyring = match keys.next() {
            None => None,
            Some(current) => match Keyring::new(current, keys.collect()) {
                Ok(k) => Some(k),
                Err(e) => {
                    problems.push(ConfigProblem::new(
                        src,
                        &format!("{at}.seal_keys"),
                        e.to_string(),
                    ));
                    None
                }
            },
        };
        match policy {
            Some(policy) if problems.is_empty() => Ok(BrpAdapter {
                policy,
                keyring,
                policy_file: api.policy.clone(),
            }),
            _ => Err(problems),
        }
    }

    fn keyring(&self) -> Result<&Keyring, ProxyError> {
        self.keyring
            .as_ref()
            .ok_or_else(|| ProxyError::Internal("no seal keys".into()))
    }
}

/// A BRP refusal keeps the BRP API's own problem shape.
impl ApiProblem for Denial {
    fn status(&self) -> u16 {
        self.status
    }
    fn code(&self) -> &'static str {
        self.code
    }
    fn document(&self, instance: &str) -> Value {
        self.to_problem_json(instance)
    }
    fn invalid_params(&self) -> Vec<String> {
        self.invalid_params.iter().map(|i| i.name.clone()).collect()
    }
    fn audit_reason(&self) -> String {
        if self.audit_reason.is_empty() {
            self.title.clone()
        } else {
            self.audit_reason.clone()
        }
    }
}

fn denied(d: Denial) -> ProxyError {
    ProxyError::Api(Box::new(d))
}

fn brp_error(e: &BrpError) -> ProxyError {
    match e.to_denial() {
        Some(d) => denied(d),
        None => ProxyError::Internal(e.to_string()),
    }
}

fn not_json() -> ProxyError {
    denied(Denial::params_validation(vec![InvalidParam {
        name: "body".into(),
        code: "invalid".into(),
        reason: "Het request bevat geen geldige JSON.".into(),
    }]))
}

fn audit_role(r: sluis_brp::SubjectRole) -> sluis_audit::SubjectRole {
    match r {
        sluis_brp::SubjectRole::Geraadpleegd => sluis_audit::SubjectRole::Geraadpleegd,
        sluis_brp::SubjectRole::GevondenInZoekresultaat => {
            sluis_audit::SubjectRole::GevondenInZoekresultaat
        }
        sluis_brp::SubjectRole::Gerelateerd => sluis_audit::SubjectRole::Gerelateerd,
    }
}

/// The context a sealed BSN is bound to: the client application and the correlation id.
fn seal_context(principal: &Principal, ctx: &RequestContext) -> String {
    format!(
        "{}|{}",
        principal.client_id.as_deref().unwrap_or(&principal.subject),
        ctx.trail.correlation_id.as_deref().unwrap_or("")
    )
}

/// What filter needs: the plan and the seal context.
#[derive(Debug)]
pub struct Grant {
    plan: Plan,
    seal_context: String,
}

impl BrpAdapter {
    fn decide(
        &self,
        ctx: &mut RequestContext,
        principal: &Principal,
        mut body: Value,
    ) -> Result<Authorized<Grant>, ProxyError> {
        let scopes = &principal.scopes;
        let policy = &self.policy;
        // 1. Pseudonymous callers send sealed BSNs; open them before anything reads the request.
        let pseudonymous = policy
            .special_scopes()
            .pseudonymous_bsn
            .as_ref()
            .is_some_and(|s| scopes.contains(s));
        let context = seal_context(principal, ctx);
        if pseudonymous {
            open_request(&mut body, self.keyring()?, &context).map_err(|e| {
                ctx.trail.reasons.push(format!("sealed BSN refused: {e}"));
                brp_error(&e)
            })?;
        }
        // 2. Contract.
        let query = validate(&body).map_err(|invalid| {
            ctx.trail.denied_params = bounded_list(invalid.iter().map(|i| &i.name));
            denied(Denial::params_validation(invalid))
        })?;
        // 3. Policy: decides and rewrites the query that goes upstream.
        let plan = policy.decide(&query, scopes).map_err(|d| {
            ctx.trail.reasons.push(d.audit_reason.clone());
            ctx.trail.denied_params = bounded_list(d.invalid_params.iter().map(|i| &i.name));
            denied(d)
        })?;
        ctx.trail.reasons.extend(plan.rewrites().iter().cloned());
        ctx.trail.field_levels = plan.fields_requested().to_vec();
        ctx.trail.fields_requested = plan.fields_requested().into();
        let upstream_body = serde_json::to_vec(plan.upstream_body())
            .map_err(|e| ProxyError::Internal(e.to_string()))?;
        Ok(Authorized::post_json(
            "/personen".into(),
            Bytes::from(upstream_body),
            Grant {
                plan,
                seal_context: context,
            },
        ))
    }
}

/// The route: the parsed request body.
#[derive(Debug)]
pub struct Route(Value);

impl Adapter for BrpAdapter {
    type Route = Route;
    type Grant = Grant;

    fn methods(&self) -> &'static str {
        "POST, OPTIONS"
    }

    fn route(&self, ctx: &mut RequestContext, rest: &str) -> Result<Route, ProxyError> {
        if rest.trim_end_matches('/') != "/personen" {
            return Err(ProxyError::NotFound);
        }
        if ctx.request.method != hyper::Method::POST {
            return Err(ProxyError::MethodNotAllowed(self.methods()));
        }
        ctx.trail.operation = "brp.personen".into();
        let body: Value = serde_json::from_slice(&ctx.request.body).map_err(|_| not_json())?;
        // Only the query types of the standard name an operation (it is a metric label).
        if let Some(t) = body
            .get("type")
            .and_then(Value::as_str)
            .and_then(QueryType::from_name)
        {
            ctx.trail.operation = format!("brp.personen.{}", t.as_str());
        }
        if let Value::Object(m) = &body {
            ctx.trail.params = bounded_list(m.keys());
        }
        Ok(Route(body))
    }

    fn authorize<'a>(
        &'a self,
        ctx: &'a mut RequestContext,
        principal: &'a Principal,
        route: Route,
        _lookup: Lookup<'a>,
    ) -> BoxFuture<'a, Result<Authorized<Grant>, ProxyError>> {
        Box::pin(async move { self.decide(ctx, principal, route.0) })
    }

    fn filter<'a>(
        &'a self,
        ctx: &'a mut RequestContext,
        grant: Grant,
        answer: Answer,
        _lookup: Lookup<'a>,
    ) -> BoxFuture<'a, Result<Delivery, ProxyError>> {
        Box::pin(async move { self.filter_answer(ctx, grant, answer) })
    }
    fn sources(&self) -> Vec<PathBuf> {
        vec![self.policy_file.clone()]
    }
}

/// [`WITHHELD_HEADER`] in the lower case `HeaderName::from_static` requires.
const WITHHELD_HEADER_LOWER: &str = "x-sluis-withheld";
const _: () = assert!(WITHHELD_HEADER.len() == WITHHELD_HEADER_LOWER.len());

impl BrpAdapter {
    /// The filter phase: the upstream's answer as the caller may see it.
    fn filter_answer(
        &self,
        ctx: &mut RequestContext,
        grant: Grant,
        answer: Answer,
    ) -> Result<Delivery, ProxyError> {
        let plan = &grant.plan;
        let mut out = Node::parse(answer.json_bytes()?).map_err(|e| {
            ProxyError::Upstream(UpstreamFault::Unusable(format!("invalid JSON: {e}")))
        })?;
        if !out.get("personen").is_some_and(Node::is_array) {
            return Err(ProxyError::Upstream(UpstreamFault::Unusable(
                "the upstream answer has no personen array".into(),
            )));
        }
        let mut summary = filter_response(plan, &mut out);
        let mut subjects = Vec::new();
        for p in &summary.persons {
            let Some(bsn) = &p.burgerservicenummer else {
                continue;
            };
            let mut flags = Vec::new();
            for (on, name) in [
                (p.flags.geheim, "geheim"),
                (p.flags.overleden, "overleden"),
                (p.flags.in_onderzoek, "in_onderzoek"),
                (p.flags.buiten_gemeente == Some(true), "buiten_gemeente"),
            ] {
                if on {
                    flags.push(name.to_owned());
                }
            }
            subjects.push(SubjectHit {
                id_type: "BSN".into(),
                value: bsn.clone(),
                role: audit_role(p.role),
                flags,
            });
        }
        for s in summary
            .subjects()
            .into_iter()
            .filter(|s| s.role == sluis_brp::SubjectRole::Gerelateerd)
        {
            subjects.push(SubjectHit {
                id_type: "BSN".into(),
                value: s.burgerservicenummer,
                role: sluis_audit::SubjectRole::Gerelateerd,
                flags: Vec::new(),
            });
        }
        // Withheld persons were received from the BRP but not delivered: the audit records
        // which (pseudonymised like every subject), flagged so they are not taken for deliveries.
        let role = if plan.query_type().is_search() {
            sluis_audit::SubjectRole::GevondenInZoekresultaat
        } else {
            sluis_audit::SubjectRole::Geraadpleegd
        };
        for w in &summary.withheld_persons {
            if let Some(bsn) = &w.burgerservicenummer {
                subjects.push(SubjectHit {
                    id_type: "BSN".into(),
                    value: bsn.clone(),
                    role,
                    flags: vec!["geheim".to_owned(), "withheld".to_owned()],
                });
            }
        }
        if summary.withheld > 0 {
            ctx.trail.reasons.push(format!(
                "{} person(s) withheld: geheimhouding persoonsgegevens",
                summary.withheld
            ));
        }
        if plan.pseudonymize() {
            let keyring = self.keyring()?;
            let mut nonce_error = None;
            let mut next_nonce = || {
                let mut n = [0u8; 24];
                if let Err(e) = getrandom::fill(&mut n) {
                    nonce_error = Some(e);
                }
                n
            };
            seal_response(&mut out, keyring, &grant.seal_context, &mut next_nonce)
                .map_err(|e| brp_error(&e))?;
            if let Some(e) = nonce_error {
                return Err(ProxyError::Internal(format!("randomness: {e}")));
            }
        }
        let body = out
            .to_vec()
            .map_err(|e| ProxyError::Internal(e.to_string()))?;
        let mut delivery = Delivery::bytes("application/json; charset=utf-8", body);
        delivery.records = summary.persons.len() as u64;
        delivery.subjects = subjects;
        delivery.fields_delivered = std::mem::take(&mut summary.fields_delivered);
        delivery.stripped_count = summary.stripped;
        delivery.stripped = std::mem::take(&mut summary.stripped_fields);
        delivery.headers.push((
            HeaderName::from_static(WITHHELD_HEADER_LOWER),
            HeaderValue::from(summary.withheld as u64),
        ));
        Ok(delivery)
    }
}
