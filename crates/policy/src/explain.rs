//! `sluis explain`: the engine's decision for one request, as stable JSON or readable text.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::engine::{Decision, FieldPlan, FilterVerdict, Policy, Request, Source};
use crate::error::PolicyError;
use crate::model::Table;

/// The JSON document `sluis explain --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub table: String,
    pub access: bool,
    pub status: u16,
    pub via: Vec<String>,
    /// Every field as a dotted path → `read`, `encoded`, `random`, `letters:N` or `none`.
    pub fields: Map<String, Value>,
    /// Every filter parameter (and `_sort:FIELD`) → `allowed` or `denied`.
    pub filters: Map<String, Value>,
    pub reasons: Vec<String>,
    #[serde(rename = "policyVersion")]
    pub policy_version: String,
    #[serde(skip)]
    why: Vec<(String, String)>,
}

/// Decides on `req` and explains the decision.
pub fn explain(policy: &Policy, req: &Request<'_>) -> Result<Explanation, PolicyError> {
    let d = policy.decide(req)?;
    Ok(from_decision(policy, req, &d))
}

fn from_decision(policy: &Policy, req: &Request<'_>, d: &Decision) -> Explanation {
    let table = policy
        .model()
        .table_index(req.table)
        .and_then(|i| policy.model().table(i))
        .map(|(_, t)| t);
    let mut fields = Map::new();
    let mut why = Vec::new();
    for f in d.plan.walk() {
        fields.insert(f.path.clone(), Value::String(f.level.to_string()));
        why.push((f.path.clone(), reason(policy, req, table, f)));
    }
    let mut filters = Map::new();
    for c in &d.filters {
        let v = match c.verdict {
            FilterVerdict::Allowed => "allowed",
            FilterVerdict::Denied | FilterVerdict::Unknown => "denied",
        };
        filters.insert(c.param.clone(), Value::String(v.into()));
    }
    let mut reasons = d.reasons.clone();
    if let Some(den) = &d.denial {
        reasons.push(format!("decision: {} {}", den.status(), den.title()));
    }
    Explanation {
        table: d.plan.table.clone(),
        access: d.allowed(),
        status: d.status(),
        via: d.plan.via.iter().map(ToString::to_string).collect(),
        fields,
        filters,
        reasons,
        policy_version: policy.version().to_owned(),
        why,
    }
}

fn reason(policy: &Policy, req: &Request<'_>, table: Option<&Table>, f: &FieldPlan) -> String {
    let pid = |p: usize| {
        policy
            .model()
            .profiles
            .get(p)
            .map_or("?", |p| p.id.as_str())
            .to_owned()
    };
    match f.source {
        Source::NoTable => "table not readable".into(),
        Source::Identifier => "identifier: delivered with every readable record".into(),
        Source::Auth => "auth satisfied on dataset, table and field".into(),
        Source::ProfileField(p) => format!("profile {}: explicit field entry", pid(p)),
        Source::ProfileTable(p) => format!("profile {}: table permissions", pid(p)),
        Source::ProfileDataset(p) => format!("profile {}: dataset permissions", pid(p)),
        Source::Children => "highest level of its sub-fields".into(),
        Source::Hidden => {
            let missing = table
                .and_then(|t| t.field_chain(&f.path))
                .and_then(|chain| {
                    chain
                        .into_iter()
                        .find(|c| !c.auth.satisfied_by(req.scopes))
                        .map(|c| {
                            let names: Vec<&str> = c
                                .auth
                                .scopes()
                                .iter()
                                .map(|s| policy.model().scope_name(*s))
                                .collect();
                            format!("auth on {} needs {}", c.path, names.join(" or "))
                        })
                });
            match missing {
                Some(m) => format!("hidden: {m}; no active profile grants it"),
                None => "hidden: no active profile grants it".into(),
            }
        }
    }
}

impl Explanation {
    /// Pretty JSON, as printed by `--format json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Readable text: the decision, then each field's level and why.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let verdict = if self.access { "allowed" } else { "denied" };
        let via = if self.via.is_empty() {
            String::new()
        } else {
            format!(" via {}", self.via.join(", "))
        };
        out.push_str(&format!(
            "table {}: {verdict} ({}){via}\n",
            self.table, self.status
        ));
        out.push_str(&format!("policy version {}\n", self.policy_version));
        let width = self.fields.keys().map(|k| k.len()).max().unwrap_or(0);
        if !self.fields.is_empty() {
            out.push_str("\nfields:\n");
            for (path, why) in &self.why {
                let level = self
                    .fields
                    .get(path)
                    .and_then(Value::as_str)
                    .unwrap_or("none");
                out.push_str(&format!("  {path:<width$}  {level:<10}  {why}\n"));
            }
        }
        if !self.filters.is_empty() {
            out.push_str("\nfilters:\n");
            for (k, v) in &self.filters {
                out.push_str(&format!("  {k}: {}\n", v.as_str().unwrap_or("")));
            }
        }
        out.push_str("\nreasons:\n");
        for r in &self.reasons {
            out.push_str(&format!("  - {r}\n"));
        }
        out
    }
}
