//! The dataset adapter: Amsterdam-Schema / DSO-style HAL APIs, `{prefix}/{table}` (list) and
//! `{prefix}/{table}/{id}` (detail). Authorize decides table, filters, sort, expansion and
//! fields with the policy engine and rewrites `_fields` so the upstream always sends the field
//! naming each record's data subject; filter projects every record through the plan.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use sluis_filter::{HalFilter, LinkRewriter};
use sluis_policy::{
    Denial, EncodingKey, FilterVerdict, Policy, Projector, Request as PolicyRequest, ScopeSet,
    TablePlan, params,
};
use sluis_token::Principal;

use super::{Adapter, Answer, Authorized, BoxFuture, Delivery, Lookup};
use crate::config::{DatasetApi, SubjectField};
use crate::context::{RequestContext, SubjectHit, bounded_list};
use crate::error::{ProxyError, Refusal, RequestFault, UpstreamFault};

/// Reserved parameters that may appear once only.
const SINGLE: &[&str] = &[
    "_fields",
    "_sort",
    "_expand",
    "_expandScope",
    "_pageSize",
    "page",
];

/// A mounted dataset API.
#[derive(Debug)]
pub struct DatasetAdapter {
    dataset: String,
    subjects: BTreeMap<String, SubjectField>,
    policy: Arc<Policy>,
    encoding_key: EncodingKey,
    /// Sluis's public base URL of this mount (origin + prefix), for link rewriting.
    public_base: String,
    upstream_base: String,
    sources: Vec<PathBuf>,
}

impl DatasetAdapter {
    pub fn new(
        api: &DatasetApi,
        policy: Arc<Policy>,
        encoding_key: EncodingKey,
        public_base: String,
        upstream_base: String,
        sources: Vec<PathBuf>,
    ) -> Self {
        DatasetAdapter {
            dataset: api.dataset.clone(),
            subjects: api.subjects.clone(),
            policy,
            encoding_key,
            public_base,
            upstream_base,
            sources,
        }
    }
}

/// Table and id of a request.
#[derive(Debug)]
pub struct Route {
    table_id: String,
    table: String,
    detail: Option<String>,
}

/// What filter needs from authorize.
#[derive(Debug)]
pub struct Grant {
    route: Route,
    plan: Arc<TablePlan>,
    scopes: ScopeSet,
    /// The caller's `_fields`, when given.
    fields: Option<Vec<String>>,
    params: Vec<(String, String)>,
}

fn denial(d: &Denial, table: &str) -> ProxyError {
    let resource = table.to_owned();
    match d {
        Denial::Table => ProxyError::Forbidden(Refusal::Resource { resource }),
        Denial::Filter(f) => ProxyError::Forbidden(Refusal::Filter {
            resource,
            field: f.clone(),
        }),
        Denial::Expand(f) => ProxyError::Forbidden(Refusal::Expand {
            resource,
            field: f.clone(),
        }),
        Denial::UnknownFilter(f) | Denial::UnknownExpand(f) => {
            ProxyError::BadRequest(RequestFault::UnknownField {
                resource,
                field: f.clone(),
            })
        }
    }
}

/// `a=1&b=x y` with each name and value percent-encoded.
fn encode_query(params: &[(String, String)]) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    // Keep what DSO query strings use literally: `_`, `-`, `.`, `*`, `,` and the brackets of
    // filter operators.
    const SET: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'_')
        .remove(b'-')
        .remove(b'.')
        .remove(b'*')
        .remove(b',')
        .remove(b'[')
        .remove(b']');
    params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, SET),
                utf8_percent_encode(v, SET)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl DatasetAdapter {
    fn decide(
        &self,
        ctx: &mut RequestContext,
        principal: &Principal,
        route: Route,
    ) -> Result<Authorized<Grant>, ProxyError> {
        let params = crate::query::parse(ctx.request.query.as_deref())
            .ok_or(ProxyError::BadRequest(RequestFault::QueryNotUtf8))?;
        ctx.trail.params = bounded_list(params.iter().map(|(k, _)| k));
        let mut seen = std::collections::HashSet::new();
        for (k, _) in &params {
            let once = SINGLE.contains(&k.as_str()) || !params::is_reserved(k);
            if once && !seen.insert(k.as_str()) {
                return Err(ProxyError::BadRequest(RequestFault::DuplicateParam(
                    crate::context::bounded(k),
                )));
            }
        }
        let policy = &self.policy;
        let scope_set = policy.scope_set(&principal.scopes);
        let decision = policy
            .decide(&PolicyRequest {
                table: &route.table,
                scopes: &scope_set,
                params: &params,
                detail: route.detail.as_deref(),
            })
            .map_err(|e| ProxyError::Internal(e.to_string()))?;
        ctx.trail.reasons.extend(decision.reasons.iter().cloned());
        ctx.trail.denied_params = bounded_list(
            decision
                .filters
                .iter()
                .filter(|f| f.verdict != FilterVerdict::Allowed)
                .map(|f| &f.param),
        );
        if let Some(d) = &decision.denial {
            return Err(denial(d, &route.table));
        }
        let plan = Arc::clone(&decision.plan);
        ctx.trail.field_levels = plan.limited.clone();
        // `_fields`: unknown → 400, not visible → 403.
        let fields: Option<Vec<String>> =
            params.iter().find(|(k, _)| k == "_fields").map(|(_, v)| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            });
        if let Some(fs) = &fields {
            let unknown: Vec<String> = fs
                .iter()
                .filter(|f| plan.field(f).is_none())
                .cloned()
                .collect();
            if !unknown.is_empty() {
                return Err(ProxyError::BadRequest(RequestFault::UnknownFields {
                    resource: route.table.clone(),
                    fields: bounded_list(&unknown),
                }));
            }
            let hidden: Vec<String> = fs
                .iter()
                .filter(|f| plan.field(f).is_some_and(|p| !p.level.is_visible()))
                .cloned()
                .collect();
            if !hidden.is_empty() {
                return Err(ProxyError::Forbidden(Refusal::Fields {
                    resource: route.table.clone(),
                    fields: hidden,
                }));
            }
        }
        // The upstream query: the caller's, except that `_fields` always includes the field
        // naming the data subject, so every delivered record can be recorded. Filter strips it
        // again when the caller did not ask for it.
        let mut upstream_params = params.clone();
        if let (Some(fs), Some(sf)) = (&fields, self.subjects.get(&route.table_id)) {
            let root = sf.field.split('.').next().unwrap_or(&sf.field);
            if !fs.iter().any(|f| f == root) {
                let mut asked = fs.clone();
                asked.push(root.to_owned());
                ctx.trail.reasons.push(format!(
                    "_fields: {root} added upstream to record the data subject"
                ));
                for (k, v) in &mut upstream_params {
                    if k == "_fields" {
                        *v = asked.join(",");
                    }
                }
            }
        }
        ctx.trail.fields_requested = fields
            .clone()
            .unwrap_or_else(|| plan.delivered.clone())
            .into();
        let path = match &route.detail {
            Some(id) => format!(
                "/{}/{}",
                route.table_id,
                percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
            ),
            None => format!("/{}", route.table_id),
        };
        let path = if upstream_params.is_empty() {
            path
        } else {
            format!("{path}?{}", encode_query(&upstream_params))
        };
        Ok(Authorized::get(
            path,
            Grant {
                route,
                plan,
                scopes: scope_set,
                fields,
                params,
            },
        ))
    }

    /// The data subjects of the records about to be filtered (read before filtering: the
    /// identifying field may be hidden from the caller).
    fn subjects(&self, grant: &Grant, body: &Value) -> Vec<SubjectHit> {
        let mut out = Vec::new();
        let route = &grant.route;
        let records: Vec<&Value> = match &route.detail {
            Some(_) => vec![body],
            None => body
                .get("_embedded")
                .and_then(|e| e.get(&route.table_id))
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default(),
        };
        let role = if route.detail.is_some() {
            sluis_audit::SubjectRole::Geraadpleegd
        } else {
            sluis_audit::SubjectRole::GevondenInZoekresultaat
        };
        for r in records {
            if let Some(sf) = self.subjects.get(&route.table_id) {
                push_subject(&mut out, r, sf, role);
            }
            // Expanded relations to tables that name subjects: those persons came along.
            if let Some(Value::Object(embedded)) = r.get("_embedded") {
                for (_, v) in embedded {
                    self.related(&mut out, v);
                }
            }
        }
        if route.detail.is_none()
            && let Some(Value::Object(embedded)) = body.get("_embedded")
        {
            for (name, v) in embedded {
                if name != &route.table_id {
                    self.related(&mut out, v);
                }
            }
        }
        out
    }

    /// Subjects of embedded objects whose table names its subject (matched by their `_links.schema`
    /// or, lacking that, by a subject table with the same name as the relation).
    fn related(&self, out: &mut Vec<SubjectHit>, v: &Value) {
        let items: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            Value::Object(_) => vec![v],
            _ => return,
        };
        for item in items {
            let self_href = item
                .get("_links")
                .and_then(|l| l.get("self"))
                .and_then(|s| s.get("href"))
                .and_then(Value::as_str)
                .unwrap_or("");
            for (table, sf) in &self.subjects {
                if self_href.contains(&format!("/{table}/")) {
                    push_subject(out, item, sf, sluis_audit::SubjectRole::Gerelateerd);
                }
            }
        }
    }
}

fn push_subject(
    out: &mut Vec<SubjectHit>,
    record: &Value,
    sf: &SubjectField,
    role: sluis_audit::SubjectRole,
) {
    let v = sf.field.split('.').try_fold(record, |v, k| v.get(k));
    let id = match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    if let Some(value) = id {
        out.push(SubjectHit {
            id_type: sf.id_type.clone(),
            value,
            role,
            flags: Vec::new(),
        });
    }
}

impl Adapter for DatasetAdapter {
    type Route = Route;
    type Grant = Grant;

    fn methods(&self) -> &'static str {
        "GET, HEAD, OPTIONS"
    }

    fn route(&self, ctx: &mut RequestContext, rest: &str) -> Result<Route, ProxyError> {
        let method = &ctx.request.method;
        if method != hyper::Method::GET && method != hyper::Method::HEAD {
            return Err(ProxyError::MethodNotAllowed(self.methods()));
        }
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let (table_id, detail) = match segments.as_slice() {
            [t] => (*t, None),
            [t, id] => (*t, Some(*id)),
            _ => return Err(ProxyError::NotFound),
        };
        let detail = match detail {
            Some(d) => Some(
                percent_encoding::percent_decode_str(d)
                    .decode_utf8()
                    .map_err(|_| ProxyError::NotFound)?
                    .into_owned(),
            ),
            None => None,
        };
        let table = format!("{}.{table_id}", self.dataset);
        // Only tables of the policy are operations (a bounded set: it is a metric label).
        if self.policy.model().table_index(&table).is_none() {
            return Err(ProxyError::NotFound);
        }
        ctx.trail.operation = format!(
            "dataset.{table}.{}",
            if detail.is_some() { "detail" } else { "list" }
        );
        Ok(Route {
            table_id: table_id.to_owned(),
            table,
            detail,
        })
    }

    fn authorize<'a>(
        &'a self,
        ctx: &'a mut RequestContext,
        principal: &'a Principal,
        route: Route,
        _lookup: Lookup<'a>,
    ) -> BoxFuture<'a, Result<Authorized<Grant>, ProxyError>> {
        Box::pin(async move { self.decide(ctx, principal, route) })
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
        self.sources.clone()
    }
}

impl DatasetAdapter {
    /// The filter phase: the upstream's answer as the caller may see it.
    fn filter_answer(
        &self,
        ctx: &mut RequestContext,
        grant: Grant,
        answer: Answer,
    ) -> Result<Delivery, ProxyError> {
        // The tree of the whole body is needed only to find data subjects in it (a dataset
        // that names persons) or to apply filters to a detail; otherwise the filter reads the
        // upstream's bytes once and writes the caller's body straight from them.
        let detail_filters: Vec<(&str, Option<&str>, &String)> = match grant.route.detail {
            Some(_) => grant
                .params
                .iter()
                .filter(|(k, _)| !params::is_reserved(k))
                .filter_map(|(k, v)| params::split_filter_name(k).map(|(b, op)| (b, op, v)))
                .collect(),
            None => Vec::new(),
        };
        let tree = if self.subjects.is_empty() && detail_filters.is_empty() {
            answer.json_bytes()?;
            None
        } else {
            Some(answer.json()?)
        };
        // On detail, filters the upstream may ignore are applied here: an excluded object is a 404.
        if let Some(body) = &tree {
            for (base, op, v) in &detail_filters {
                if !crate::query::matches(body, base, *op, v) {
                    return Err(ProxyError::NotFound);
                }
            }
        }
        let subjects = tree
            .as_ref()
            .map(|body| self.subjects(&grant, body))
            .unwrap_or_default();
        let links = LinkRewriter {
            upstream_base: self.upstream_base.clone(),
            public_base: self.public_base.clone(),
        };
        // The seed of `random` values must be unpredictable; only plans that use `random` need one.
        let mut seed = [0u8; 32];
        let embedded_random = grant
            .plan
            .walk()
            .iter()
            .filter_map(|f| f.relation.as_ref())
            .any(|r| {
                r.expandable
                    && self
                        .policy
                        .plan(&r.target, &grant.scopes)
                        .is_ok_and(|p| p.uses_random)
            });
        if grant.plan.uses_random || embedded_random {
            getrandom::fill(&mut seed)
                .map_err(|e| ProxyError::Internal(format!("randomness: {e}")))?;
        }
        let projector = Projector::new(&self.encoding_key, seed);
        let filter = HalFilter::new(
            &self.policy,
            &grant.scopes,
            &links,
            projector,
            grant.fields.clone(),
        );
        let unusable = |e: sluis_filter::FilterError| {
            ProxyError::Upstream(UpstreamFault::Unusable(e.to_string()))
        };
        let (body, summary) = match (tree, &grant.route.detail) {
            (Some(mut body), detail) => {
                let summary = match detail {
                    Some(_) => filter.detail(&grant.plan, &mut body),
                    None => filter.list(&grant.plan, &grant.route.table_id, &mut body),
                }
                .map_err(unusable)?;
                let bytes =
                    serde_json::to_vec(&body).map_err(|e| ProxyError::Internal(e.to_string()))?;
                (bytes, summary)
            }
            (None, Some(_)) => filter
                .detail_bytes(&grant.plan, &answer.body)
                .map_err(unusable)?,
            (None, None) => filter
                .list_bytes(&grant.plan, &grant.route.table_id, &answer.body)
                .map_err(unusable)?,
        };
        let mut out = Delivery::bytes("application/hal+json", body);
        out.records = summary.records;
        // What the upstream sent beyond the grant: counted in a metric and flagged by record.
        out.stripped_count = summary.stripped;
        out.stripped = summary.stripped_fields;
        out.subjects = subjects;
        out.fields_delivered = ctx.trail.fields_requested.to_vec();
        Ok(out)
    }
}
