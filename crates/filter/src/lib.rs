//! Filtering HAL (DSO-style) dataset responses through compiled policy plans.
//!
//! Every record is projected through its table's plan (hidden and unknown keys removed, values
//! rendered at their level); `_links` keep `self` (and `schema` when the table was opened by
//! `auth` rather than a profile) plus relations the caller may
//! expand; `_embedded` keeps only expandable relations, each projected through its target
//! table's plan, recursively; URLs pointing at the upstream are rewritten to sluis's public URL.
//! Nothing here does I/O.

use std::collections::HashSet;

use serde_json::{Map, Value};
use sluis_policy::{Policy, Projector, ScopeSet, TablePlan};

/// Errors of the filter crate.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// The upstream body is not the HAL shape expected.
    #[error("unexpected upstream body: {0}")]
    Shape(String),
    /// A table named in a relation is not in the policy.
    #[error("policy: {0}")]
    Policy(#[from] sluis_policy::PolicyError),
}

/// Rewrites upstream URLs to public ones.
#[derive(Debug, Clone)]
pub struct LinkRewriter {
    /// The upstream base URL of the mounted API, without trailing slash.
    pub upstream_base: String,
    /// The public base URL of the mount (origin + prefix), without trailing slash.
    pub public_base: String,
}

fn origin(url: &str) -> &str {
    match url.find("://") {
        Some(i) => {
            let rest_start = i + 3;
            match url.get(rest_start..).and_then(|r| r.find('/')) {
                Some(j) => url.get(..rest_start + j).unwrap_or(url),
                None => url,
            }
        }
        None => "",
    }
}

impl LinkRewriter {
    /// Maps an upstream URL to sluis's: the mount base first, then the bare origin. URLs
    /// elsewhere are left as they are.
    pub fn rewrite(&self, href: &str) -> String {
        if let Some(rest) = href.strip_prefix(self.upstream_base.as_str())
            && (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
        {
            return format!("{}{rest}", self.public_base);
        }
        let (uo, po) = (origin(&self.upstream_base), origin(&self.public_base));
        if !uo.is_empty()
            && let Some(rest) = href.strip_prefix(uo)
            && (rest.is_empty() || rest.starts_with('/'))
        {
            return format!("{po}{rest}");
        }
        href.to_owned()
    }

    fn rewrite_link(&self, link: &mut Value) {
        match link {
            Value::Object(m) => {
                if let Some(Value::String(h)) = m.get_mut("href") {
                    *h = self.rewrite(h);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|l| self.rewrite_link(l)),
            _ => {}
        }
    }
}

/// What a filtered response contained, for the audit record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records of the requested table delivered.
    pub records: u64,
    /// Embedded related records delivered.
    pub embedded: u64,
}

/// Everything a filter pass needs.
#[derive(Debug)]
pub struct HalFilter<'a, 'k> {
    pub policy: &'a Policy,
    pub scopes: &'a ScopeSet,
    pub links: &'a LinkRewriter,
    pub projector: Projector<'k>,
    /// `_fields` of the request: top-level names or dotted paths to keep (all when `None`).
    pub fields: Option<Vec<String>>,
    summary: Summary,
}

const LIST_KEYS: &[&str] = &["_links", "_embedded", "page"];

impl<'a, 'k> HalFilter<'a, 'k> {
    pub fn new(
        policy: &'a Policy,
        scopes: &'a ScopeSet,
        links: &'a LinkRewriter,
        projector: Projector<'k>,
        fields: Option<Vec<String>>,
    ) -> Self {
        HalFilter {
            policy,
            scopes,
            links,
            projector,
            fields,
            summary: Summary::default(),
        }
    }

    /// Filters a list response for `table_id` (the key under `_embedded`).
    pub fn list(
        mut self,
        plan: &TablePlan,
        table_id: &str,
        body: &mut Value,
    ) -> Result<Summary, FilterError> {
        let Value::Object(top) = body else {
            return Err(FilterError::Shape(
                "a list response must be a JSON object".into(),
            ));
        };
        top.retain(|k, _| LIST_KEYS.contains(&k.as_str()));
        if let Some(Value::Object(links)) = top.get_mut("_links") {
            links.retain(|k, _| {
                matches!(k.as_str(), "self" | "next" | "previous" | "first" | "last")
            });
            links.values_mut().for_each(|l| self.links.rewrite_link(l));
        }
        let Some(Value::Object(embedded)) = top.get_mut("_embedded") else {
            return Err(FilterError::Shape(
                "a list response needs an _embedded object".into(),
            ));
        };
        let mut out = Map::new();
        for (k, mut v) in std::mem::take(embedded) {
            if k == table_id {
                let Value::Array(items) = &mut v else {
                    return Err(FilterError::Shape(format!(
                        "_embedded.{k} must be an array"
                    )));
                };
                for item in items.iter_mut() {
                    self.record(plan, item, true)?;
                    self.summary.records += 1;
                }
                out.insert(k, v);
            } else if let Some(target) = expandable(plan, &k) {
                let tplan = self.policy.plan(&target, self.scopes)?;
                if let Value::Array(items) = &mut v {
                    for item in items.iter_mut() {
                        self.record(&tplan, item, false)?;
                        self.summary.embedded += 1;
                    }
                    out.insert(k, v);
                }
            }
        }
        *embedded = out;
        Ok(self.summary)
    }

    /// Filters a detail response (one record).
    pub fn detail(mut self, plan: &TablePlan, body: &mut Value) -> Result<Summary, FilterError> {
        if !body.is_object() {
            return Err(FilterError::Shape(
                "a detail response must be a JSON object".into(),
            ));
        }
        self.record(plan, body, true)?;
        self.summary.records += 1;
        Ok(self.summary)
    }

    fn record(&mut self, plan: &TablePlan, v: &mut Value, top: bool) -> Result<(), FilterError> {
        let Value::Object(rec) = v else {
            *v = Value::Null;
            return Ok(());
        };
        let links = rec.remove("_links");
        let embedded = rec.remove("_embedded");
        self.projector.project(plan, rec);
        if top && let Some(fields) = &self.fields {
            narrow(rec, fields);
        }
        let mut front = Map::new();
        if let Some(Value::Object(mut links)) = links {
            // The schema link describes every field of the table; DSO leaves it out for callers
            // who reach the table only through a profile (scenario P9).
            let schema = plan.via.contains(&sluis_policy::Via::Auth);
            links.retain(|k, _| {
                k == "self" || (k == "schema" && schema) || expandable(plan, k).is_some()
            });
            links.values_mut().for_each(|l| self.links.rewrite_link(l));
            front.insert("_links".into(), Value::Object(links));
        }
        if let Some(Value::Object(emb)) = embedded {
            let mut kept = Map::new();
            for (k, mut ev) in emb {
                let Some(target) = expandable(plan, &k) else {
                    continue;
                };
                let tplan = self.policy.plan(&target, self.scopes)?;
                match &mut ev {
                    Value::Array(items) => {
                        for item in items.iter_mut() {
                            self.record(&tplan, item, false)?;
                            self.summary.embedded += 1;
                        }
                    }
                    Value::Null => {}
                    other => {
                        self.record(&tplan, other, false)?;
                        self.summary.embedded += 1;
                    }
                }
                kept.insert(k, ev);
            }
            if !kept.is_empty() {
                front.insert("_embedded".into(), Value::Object(kept));
            }
        }
        if !front.is_empty() {
            front.extend(std::mem::take(rec));
            *rec = front;
        }
        Ok(())
    }
}

/// The target table of a relation field the plan allows expanding and linking.
fn expandable(plan: &TablePlan, name: &str) -> Option<String> {
    let f = plan.field(name)?;
    let r = f.relation.as_ref()?;
    r.expandable.then(|| r.target.clone())
}

/// Keeps only the `_fields` paths (top-level names, or dotted paths into objects).
fn narrow(rec: &mut Map<String, Value>, fields: &[String]) {
    let tops: HashSet<&str> = fields
        .iter()
        .map(|f| f.split('.').next().unwrap_or(f))
        .collect();
    rec.retain(|k, _| tops.contains(k.as_str()));
    for (k, v) in rec.iter_mut() {
        let subs: Vec<String> = fields
            .iter()
            .filter_map(|f| f.strip_prefix(k.as_str()).and_then(|r| r.strip_prefix('.')))
            .map(str::to_owned)
            .collect();
        if subs.is_empty() {
            continue;
        }
        match v {
            Value::Object(m) => narrow(m, &subs),
            Value::Array(items) => {
                for i in items.iter_mut() {
                    if let Value::Object(m) = i {
                        narrow(m, &subs);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_links() {
        let r = LinkRewriter {
            upstream_base: "http://10.0.0.5:8000/v1/afval".into(),
            public_base: "https://sluis.example/api/afval".into(),
        };
        assert_eq!(
            r.rewrite("http://10.0.0.5:8000/v1/afval/containers/1"),
            "https://sluis.example/api/afval/containers/1"
        );
        assert_eq!(
            r.rewrite("http://10.0.0.5:8000/v1/afval?page=2"),
            "https://sluis.example/api/afval?page=2"
        );
        assert_eq!(
            r.rewrite("http://10.0.0.5:8000/v1/afvalx"),
            "https://sluis.example/v1/afvalx"
        );
        assert_eq!(
            r.rewrite("https://schemas.data.amsterdam.nl/x"),
            "https://schemas.data.amsterdam.nl/x"
        );
    }

    #[test]
    fn narrows_nested() {
        let mut m = serde_json::json!({"a": 1, "b": {"x": 1, "y": 2}, "c": [{"x": 1, "y": 2}]});
        let Value::Object(ref mut rec) = m else {
            unreachable!()
        };
        narrow(rec, &["b.x".into(), "c.y".into()]);
        assert_eq!(m, serde_json::json!({"b": {"x": 1}, "c": [{"y": 2}]}));
    }
}
