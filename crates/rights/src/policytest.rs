//! Policy tests: expectation files (TOML) written by policy authors. Each case names an
//! application, an activity, the token's scopes and a request (dataset or BRP), and expects
//! allow or deny, the status, the problem code and per field its level. A case is decided by the
//! register and the engines that decide requests in the server.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use sluis_brp::{QueryType, validate};
use sluis_policy::{Denial, Level, Request};

use crate::matrix::{MountKind, Rights, level_name};
use crate::register::Caller;

/// A file of cases.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    #[serde(rename = "case", default)]
    pub cases: Vec<Case>,
}

/// One expectation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// A registered application id (its first client calls), or leave out and name `client`.
    pub application: Option<String>,
    /// A client id as the token would carry it (with `issuer`), for clients outside the register.
    pub client: Option<String>,
    pub issuer: Option<String>,
    /// The processing activity the request states (or the mount's default).
    pub activity: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The mount (`[[apis]] name`).
    pub api: String,
    /// Dataset: the table id.
    pub table: Option<String>,
    /// Dataset: query parameters.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Dataset: a detail request for this id.
    pub detail: Option<String>,
    /// BRP: the request body.
    pub body: Option<toml::Value>,
    pub expect: Expect,
}

/// What a case expects; members left out are not checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub allow: Option<bool>,
    pub status: Option<u16>,
    pub code: Option<String>,
    /// Field path → `read`, `encoded`, `random`, `letters:N` or `absent`.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// What a case came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub allow: bool,
    pub status: u16,
    pub code: Option<String>,
    /// Levels of the fields the case asks about.
    pub fields: BTreeMap<String, String>,
    /// Why, in words.
    pub reasons: Vec<String>,
}

/// A case's result: the outcome and every expectation it missed.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub name: String,
    pub outcome: Option<Outcome>,
    /// `what: expected X, got Y`, or an error in the case itself.
    pub mismatches: Vec<String>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Parses a file of cases.
pub fn parse(text: &str) -> Result<TestFile, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

impl Rights<'_> {
    /// Runs one case.
    pub fn run_case(&self, case: &Case) -> CaseResult {
        let mut result = CaseResult {
            name: case.name.clone(),
            outcome: None,
            mismatches: Vec::new(),
        };
        match self.decide_case(case) {
            Err(e) => result.mismatches.push(format!("the case cannot run: {e}")),
            Ok(o) => {
                let e = &case.expect;
                if let Some(a) = e.allow
                    && a != o.allow
                {
                    result.mismatches.push(format!(
                        "decision: expected {}, got {}",
                        allow_word(a),
                        allow_word(o.allow)
                    ));
                }
                if let Some(s) = e.status
                    && s != o.status
                {
                    result
                        .mismatches
                        .push(format!("status: expected {s}, got {}", o.status));
                }
                if let Some(c) = &e.code
                    && Some(c) != o.code.as_ref()
                {
                    result.mismatches.push(format!(
                        "code: expected {c}, got {}",
                        o.code.as_deref().unwrap_or("(none)")
                    ));
                }
                for (f, want) in &e.fields {
                    let got = o.fields.get(f).map_or("absent", String::as_str);
                    if got != want {
                        result
                            .mismatches
                            .push(format!("field {f}: expected {want}, got {got}"));
                    }
                }
                result.outcome = Some(o);
            }
        }
        result
    }

    fn decide_case(&self, case: &Case) -> Result<Outcome, String> {
        let mount = self
            .mounts
            .iter()
            .find(|m| m.name == case.api)
            .ok_or_else(|| format!("api {:?} is not mounted", case.api))?;
        let (issuer, client) = match (&case.application, &case.client) {
            (Some(id), None) => {
                let app = self
                    .register
                    .application(id)
                    .ok_or_else(|| format!("application {id:?} is not in the register"))?;
                let c = app
                    .clients
                    .first()
                    .ok_or_else(|| format!("application {id:?} has no client"))?;
                (
                    case.issuer
                        .clone()
                        .or_else(|| c.issuer.clone())
                        .unwrap_or_default(),
                    Some(c.client_id.clone()),
                )
            }
            (None, c) => (case.issuer.clone().unwrap_or_default(), c.clone()),
            (Some(_), Some(_)) => return Err("name application or client, not both".into()),
        };
        let deny = |status: u16, code: &str, reason: String| Outcome {
            allow: false,
            status,
            code: Some(code.to_owned()),
            fields: BTreeMap::new(),
            reasons: vec![reason],
        };
        // The purpose as the server reads it: an activity id or alias.
        let activity = match &case.activity {
            None => None,
            Some(p) => match self.register.resolve(p) {
                Some(a) => Some(a.id.clone()),
                None => {
                    return Ok(deny(
                        403,
                        "unknownPurpose",
                        format!("{p:?} is not a registered processing activity"),
                    ));
                }
            },
        };
        let caller = Caller {
            issuer: &issuer,
            client_id: client.as_deref(),
            activity: activity.as_deref(),
            api: &mount.name,
            scopes: &case.scopes,
        };
        let admission = match self.register.admit(&caller, mount.enforce) {
            Ok(a) => a,
            Err(d) => return Ok(deny(403, d.code(), d.to_string())),
        };
        let missing: Vec<&String> = mount
            .required_scopes
            .iter()
            .filter(|s| !admission.scopes.contains(s))
            .collect();
        if !missing.is_empty() {
            return Ok(deny(
                403,
                "forbidden",
                format!("the API needs scopes the token lacks: {missing:?}"),
            ));
        }
        let mut reasons = Vec::new();
        if !admission.dropped.is_empty() {
            reasons.push(format!(
                "scopes outside the activity's ceiling dropped: {}",
                admission.dropped.join(", ")
            ));
        }
        match &mount.kind {
            MountKind::Dataset { dataset } => {
                let table_id = case
                    .table
                    .as_deref()
                    .ok_or("a dataset case needs `table`")?;
                let table = format!("{dataset}.{table_id}");
                let op = format!(
                    "dataset.{table}.{}",
                    if case.detail.is_some() {
                        "detail"
                    } else {
                        "list"
                    }
                );
                if let Err(d) = admission.check_operation(&op) {
                    return Ok(deny(403, d.code(), d.to_string()));
                }
                let set = self.policy.scope_set(&admission.scopes);
                let params: Vec<(String, String)> = case
                    .params
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let d = self
                    .policy
                    .decide(&Request {
                        table: &table,
                        scopes: &set,
                        params: &params,
                        detail: case.detail.as_deref(),
                    })
                    .map_err(|e| e.to_string())?;
                reasons.extend(d.reasons.iter().cloned());
                let mut fields = BTreeMap::new();
                if d.allowed() {
                    for f in case.expect.fields.keys() {
                        let level = d.plan.field(f).map_or(Level::None, |p| p.level);
                        fields.insert(f.clone(), level_name(level));
                    }
                }
                Ok(Outcome {
                    allow: d.allowed(),
                    status: d.status(),
                    code: d.denial.as_ref().map(|x| dataset_code(x).to_owned()),
                    fields,
                    reasons,
                })
            }
            MountKind::Brp { policy } => {
                let body = case.body.as_ref().ok_or("a BRP case needs `body`")?;
                let body: Value = serde_json::to_value(body).map_err(|e| e.to_string())?;
                let query = match validate(&body) {
                    Ok(q) => q,
                    Err(invalid) => {
                        let names: Vec<String> = invalid.iter().map(|i| i.name.clone()).collect();
                        return Ok(deny(
                            400,
                            "paramsValidation",
                            format!("invalid parameters: {}", names.join(", ")),
                        ));
                    }
                };
                let t: QueryType = query.query_type();
                if let Err(d) = admission.check_operation(&format!("brp.personen.{}", t.as_str())) {
                    return Ok(deny(403, d.code(), d.to_string()));
                }
                match policy.decide(&query, &admission.scopes) {
                    Err(d) => Ok(deny(d.status, d.code, d.audit_reason.clone())),
                    Ok(plan) => {
                        reasons.extend(plan.rewrites().iter().cloned());
                        let requested = plan.fields_requested();
                        let mut fields = BTreeMap::new();
                        for f in case.expect.fields.keys() {
                            let covered = requested.iter().any(|r| {
                                r == f
                                    || f.strip_prefix(r.as_str())
                                        .is_some_and(|rest| rest.starts_with('.'))
                            });
                            let level = match (covered, plan.pseudonymize()) {
                                (false, _) => Level::None,
                                (true, true)
                                    if f.rsplit('.').next() == Some("burgerservicenummer") =>
                                {
                                    Level::Encoded
                                }
                                (true, _) => Level::Read,
                            };
                            fields.insert(f.clone(), level_name(level));
                        }
                        Ok(Outcome {
                            allow: true,
                            status: 200,
                            code: None,
                            fields,
                            reasons,
                        })
                    }
                }
            }
            MountKind::Other { kind } => Err(format!(
                "policy tests do not cover {kind} mounts yet (api {:?})",
                mount.name
            )),
        }
    }
}

fn allow_word(a: bool) -> &'static str {
    if a { "allow" } else { "deny" }
}

/// The problem code the server answers a dataset denial with.
pub fn dataset_code(d: &Denial) -> &'static str {
    match d {
        Denial::Table => "forbidden",
        Denial::Filter(_) => "filterNotAllowed",
        Denial::Expand(_) => "expandNotAllowed",
        Denial::UnknownFilter(_) | Denial::UnknownExpand(_) => "paramsValidation",
    }
}
