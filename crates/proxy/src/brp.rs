//! The BRP adapter: `POST {prefix}/personen` (Haal Centraal BRP Personen v2). Sealed BSNs are
//! opened, the request validated against the BRP contract, decided and rewritten by the BRP
//! policy, forwarded, and the answer filtered (withheld persons, injected identifiers,
//! auto-delivered flags) and, for pseudonymous callers, sealed again.

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use serde_json::Value;
use sluis_brp::{
    BrpError, Denial, InvalidParam, WITHHELD_HEADER, filter_response, open_request, seal_response,
    validate,
};
use sluis_token::Principal;

use crate::error::ProxyError;
use crate::pipeline::{Incoming, SubjectHit, Trail};
use crate::problem::Body;
use crate::state::{BrpMount, Mounted};
use crate::upstream::map_failure;

fn denied(d: Denial) -> ProxyError {
    ProxyError::Brp(Box::new(d))
}

fn brp_error(e: &BrpError) -> ProxyError {
    match e.to_denial() {
        Some(d) => denied(d),
        None => ProxyError::Internal(e.to_string()),
    }
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
fn seal_context(principal: &Principal, trail: &Trail) -> String {
    format!(
        "{}|{}",
        principal.client_id.as_deref().unwrap_or(&principal.subject),
        trail.correlation_id.as_deref().unwrap_or("")
    )
}

/// Handles `POST {prefix}/personen`.
pub(crate) async fn handle(
    mount: &Mounted,
    brp: &BrpMount,
    rest: &str,
    req: &Incoming,
    trail: &mut Trail,
    principal: &Principal,
    (trace_id, span_id, flags): (&str, &str, &str),
) -> Result<Response<Body>, ProxyError> {
    if rest.trim_end_matches('/') != "/personen" {
        return Err(ProxyError::NotFound);
    }
    trail.operation = "brp.personen".into();
    let mut body: Value = serde_json::from_slice(&req.body).map_err(|_| {
        denied(Denial::params_validation(vec![InvalidParam {
            name: "body".into(),
            code: "invalid".into(),
            reason: "Het request bevat geen geldige JSON.".into(),
        }]))
    })?;
    if let Some(t) = body.get("type").and_then(Value::as_str) {
        trail.operation = format!("brp.personen.{t}");
    }
    if let Value::Object(m) = &body {
        trail.params = m.keys().cloned().collect();
    }
    // 1. Pseudonymous callers send sealed BSNs; open them before anything reads the request.
    let scopes = &principal.scopes;
    let policy = &brp.policy;
    let pseudonymous = policy
        .special_scopes()
        .pseudonymous_bsn
        .as_ref()
        .is_some_and(|s| scopes.contains(s));
    let context = seal_context(principal, trail);
    if pseudonymous {
        let keyring = brp
            .keyring
            .as_ref()
            .ok_or_else(|| ProxyError::Internal("no seal keys".into()))?;
        open_request(&mut body, keyring, &context).map_err(|e| {
            trail.reasons.push(format!("sealed BSN refused: {e}"));
            brp_error(&e)
        })?;
    }
    // 2. Contract.
    let query = validate(&body).map_err(|invalid| {
        trail.denied_params = invalid.iter().map(|i| i.name.clone()).collect();
        denied(Denial::params_validation(invalid))
    })?;
    // 3. Policy.
    let plan = policy.decide(&query, scopes).map_err(|d| {
        trail.reasons.push(d.audit_reason.clone());
        trail.denied_params = d.invalid_params.iter().map(|i| i.name.clone()).collect();
        denied(d)
    })?;
    trail.reasons.extend(plan.rewrites().iter().cloned());
    trail.field_levels = plan.fields_requested().to_vec();
    // 4. Forward.
    let upstream_body = serde_json::to_vec(plan.upstream_body())
        .map_err(|e| ProxyError::Internal(e.to_string()))?;
    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    if let Ok(v) = HeaderValue::from_str(&format!("00-{trace_id}-{span_id}-{flags}")) {
        headers.push((HeaderName::from_static("traceparent"), v));
    }
    trail.fields_requested = plan.fields_requested().to_vec();
    trail.forwarded = true;
    let resp = mount
        .upstream
        .post_json("/personen", Bytes::from(upstream_body), &headers)
        .await?;
    trail.upstream_status = Some(resp.status);
    trail.upstream_ms = Some(resp.elapsed.as_millis() as u64);
    metrics::histogram!("sluis_upstream_duration_seconds", "api" => mount.api.name.clone())
        .record(resp.elapsed.as_secs_f64());
    if !(200..300).contains(&resp.status) {
        let e = map_failure(&resp);
        if let ProxyError::UpstreamProblem(_, doc) = &e {
            trail.upstream_error_code = doc.get("code").and_then(Value::as_str).map(str::to_owned);
        }
        return Err(e);
    }
    if !resp
        .content_type
        .as_deref()
        .is_some_and(|c| c.contains("json"))
    {
        return Err(ProxyError::BadUpstream(
            "the upstream body is not JSON".into(),
        ));
    }
    let mut out: Value = serde_json::from_slice(&resp.body)
        .map_err(|e| ProxyError::BadUpstream(format!("invalid JSON: {e}")))?;
    if !out.get("personen").is_some_and(Value::is_array) {
        return Err(ProxyError::BadUpstream(
            "the upstream answer has no personen array".into(),
        ));
    }
    // 5. Filter.
    let summary = filter_response(&plan, &mut out);
    trail.records = summary.persons.len() as u64;
    trail.fields_delivered = summary.fields_delivered.clone();
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
        trail.subjects.push(SubjectHit {
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
        trail.subjects.push(SubjectHit {
            id_type: "BSN".into(),
            value: s.burgerservicenummer,
            role: sluis_audit::SubjectRole::Gerelateerd,
            flags: Vec::new(),
        });
    }
    // Withheld persons were received from the BRP but not delivered: the audit records which
    // (pseudonymised like every subject), flagged so they are not mistaken for deliveries.
    let role = if plan.query_type().is_search() {
        sluis_audit::SubjectRole::GevondenInZoekresultaat
    } else {
        sluis_audit::SubjectRole::Geraadpleegd
    };
    for w in &summary.withheld_persons {
        if let Some(bsn) = &w.burgerservicenummer {
            trail.subjects.push(SubjectHit {
                id_type: "BSN".into(),
                value: bsn.clone(),
                role,
                flags: vec!["geheim".to_owned(), "withheld".to_owned()],
            });
        }
    }
    if summary.withheld > 0 {
        trail.reasons.push(format!(
            "{} person(s) withheld: geheimhouding persoonsgegevens",
            summary.withheld
        ));
    }
    if plan.pseudonymize() {
        let keyring = brp
            .keyring
            .as_ref()
            .ok_or_else(|| ProxyError::Internal("no seal keys".into()))?;
        let mut nonce_error = None;
        let mut next_nonce = || {
            let mut n = [0u8; 24];
            if let Err(e) = getrandom::fill(&mut n) {
                nonce_error = Some(e);
            }
            n
        };
        seal_response(&mut out, keyring, &context, &mut next_nonce).map_err(|e| brp_error(&e))?;
        if let Some(e) = nonce_error {
            return Err(ProxyError::Internal(format!("randomness: {e}")));
        }
    }
    let bytes = serde_json::to_vec(&out).map_err(|e| ProxyError::Internal(e.to_string()))?;
    let mut r = Response::new(Full::new(Bytes::from(bytes)));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r.headers_mut().insert(
        HeaderName::from_static(WITHHELD_HEADER_LOWER),
        HeaderValue::from(summary.withheld as u64),
    );
    Ok(r)
}

/// [`WITHHELD_HEADER`] in the lower case `HeaderName::from_static` requires.
const WITHHELD_HEADER_LOWER: &str = "x-sluis-withheld";
const _: () = assert!(WITHHELD_HEADER.len() == WITHHELD_HEADER_LOWER.len());
