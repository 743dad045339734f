//! The compiled engine: per (scope set, table, applicable profile entries) a field plan tree is
//! compiled once and cached; every request afterwards is a cache lookup plus per-request checks
//! of its filter and sort parameters.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, RwLock};

use crate::Level;
use crate::error::PolicyError;
use crate::model::{Field, Model, ProfileTable, ScopeSet, Shape, Table};
use crate::params;

/// How a table was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// The dataset and table `auth` were satisfied.
    Auth,
    /// A profile (by id) gave the table a level.
    Profile(String),
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Via::Auth => f.write_str("auth"),
            Via::Profile(p) => write!(f, "profile:{p}"),
        }
    }
}

/// Where a field's level came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The table is not readable.
    NoTable,
    /// An identifier field: delivered whenever the table is readable.
    Identifier,
    /// The dataset, table, ancestor and field `auth` were all satisfied.
    Auth,
    /// The explicit `fields` entry of a profile table (index of the profile).
    ProfileField(usize),
    /// The `permissions` of a profile table.
    ProfileTable(usize),
    /// The dataset-level `permissions` of a profile that does not mention the table.
    ProfileDataset(usize),
    /// Nothing granted it.
    Hidden,
    /// A container whose level is the highest of its sub-fields.
    Children,
}

/// A relation field's plan: may it be expanded and linked?
#[derive(Debug, Clone)]
pub struct RelationPlan {
    /// `dataset.table` of the target.
    pub target: String,
    /// True when the relation field is readable and the target table and all its fields are.
    pub expandable: bool,
}

/// The plan for one field: its level, the reason, and its sub-fields.
#[derive(Debug, Clone)]
pub struct FieldPlan {
    pub name: Arc<str>,
    pub path: String,
    pub level: Level,
    pub source: Source,
    pub shape: Shape,
    pub children: Vec<FieldPlan>,
    pub relation: Option<RelationPlan>,
    /// An applicable profile lists the field in `exactFilters` and the caller sees it: exact-match
    /// filtering is allowed even below `read` (never `[like]`, ranges or sort).
    pub exact_filter: bool,
    /// Domain separation for `encoded`: `dataset.table.path`.
    pub(crate) domain: Box<str>,
    pub(crate) index: HashMap<Arc<str>, usize>,
}

/// The compiled plan of one table for one scope set and one set of applicable profile entries.
#[derive(Debug, Clone)]
pub struct TablePlan {
    /// `dataset.table`.
    pub table: String,
    pub access: bool,
    pub via: Vec<Via>,
    pub fields: Vec<FieldPlan>,
    /// True when the table is readable and every field is at `read`.
    pub fully_readable: bool,
    /// True when some field is delivered as `random` (its projector needs a fresh seed).
    pub uses_random: bool,
    /// The leaf fields delivered, as `path`, or `path=level` when not `read` (for audit records).
    pub delivered: Vec<String>,
    /// The leaf fields not delivered at `read`, as `path=level` (`none` when withheld).
    pub limited: Vec<String>,
    /// Table-level reasons, in words.
    pub reasons: Vec<String>,
    /// The field whose value HAL links carry as `title`: the table's `display`, else its only
    /// identifier field.
    pub title_field: Option<String>,
    pub(crate) index: HashMap<Arc<str>, usize>,
}

impl TablePlan {
    /// The plan of a (possibly nested) field by dotted path.
    pub fn field(&self, path: &str) -> Option<&FieldPlan> {
        let mut fields = &self.fields;
        let mut index = &self.index;
        let mut found = None;
        for part in path.split('.') {
            let f = fields.get(*index.get(part)?)?;
            fields = &f.children;
            index = &f.index;
            found = Some(f);
        }
        found
    }

    /// The position in [`TablePlan::fields`] of a top-level field (no dotted paths).
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// True when the caller sees the title field at `read`, so a link title may show it.
    pub fn title_readable(&self) -> bool {
        self.title_field
            .as_deref()
            .and_then(|t| self.field(t))
            .is_some_and(|f| f.level == Level::Read)
    }

    /// Every field plan, parents before children.
    pub fn walk(&self) -> Vec<&FieldPlan> {
        fn go<'a>(fs: &'a [FieldPlan], out: &mut Vec<&'a FieldPlan>) {
            for f in fs {
                out.push(f);
                go(&f.children, out);
            }
        }
        let mut out = Vec::new();
        go(&self.fields, &mut out);
        out
    }
}

/// Verdict on one filter or sort parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterVerdict {
    Allowed,
    /// The caller may not filter or sort on the field.
    Denied,
    /// The parameter does not name a field (or is malformed).
    Unknown,
}

/// One checked filter (`name`) or sort (`_sort:field`) parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterCheck {
    pub param: String,
    pub verdict: FilterVerdict,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// 403: the table may not be read (or no mandatory filter set of an applicable profile met).
    Table,
    /// 403: filtering or sorting on a field the caller may not.
    Filter(String),
    /// 400: a filter or sort parameter that does not name a field.
    UnknownFilter(String),
    /// 403: `_expandScope` names a relation that may not be expanded.
    Expand(String),
    /// 400: `_expandScope` names something that is not a relation of the table.
    UnknownExpand(String),
}

impl Denial {
    /// The HTTP status this denial maps to.
    pub fn status(&self) -> u16 {
        match self {
            Denial::Table | Denial::Filter(_) | Denial::Expand(_) => 403,
            Denial::UnknownFilter(_) | Denial::UnknownExpand(_) => 400,
        }
    }

    /// A one-line title, as DSO words it where DSO has one.
    pub fn title(&self) -> String {
        match self {
            Denial::Table => "You do not have permission to perform this action.".into(),
            Denial::Filter(f) => format!("Access denied to filter on: {f}"),
            Denial::UnknownFilter(f) => format!("Invalid filter: {f}"),
            Denial::Expand(f) => format!("Eager loading not allowed for field '{f}'"),
            Denial::UnknownExpand(f) => format!("Unknown relation in _expandScope: {f}"),
        }
    }
}

/// A request to decide on.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `dataset.table`.
    pub table: &'a str,
    pub scopes: &'a ScopeSet,
    /// Query parameters in order, including reserved ones such as `_sort`.
    pub params: &'a [(String, String)],
    /// The object id of a detail request; its identifier fields count as supplied filters.
    pub detail: Option<&'a str>,
}

/// The engine's answer for one request.
#[derive(Debug, Clone)]
pub struct Decision {
    pub plan: Arc<TablePlan>,
    /// `None` when the request may go ahead.
    pub denial: Option<Denial>,
    pub filters: Vec<FilterCheck>,
    /// Table-level reasons plus the per-request ones.
    pub reasons: Vec<String>,
}

impl Decision {
    /// 200 when allowed, else the denial's status.
    pub fn status(&self) -> u16 {
        self.denial.as_ref().map_or(200, Denial::status)
    }

    /// True when the request may go ahead.
    pub fn allowed(&self) -> bool {
        self.denial.is_none()
    }
}

/// A profile's contribution to one table.
#[derive(Debug, Clone)]
enum Contribution {
    /// The profile mentions the dataset but not the table: its dataset-level permissions.
    Dataset(Level),
    /// The profile mentions the table (indices into its datasets and their tables).
    Table { pd: usize, pt: usize },
}

#[derive(Debug, Clone)]
struct Contributor {
    profile: usize,
    kind: Contribution,
}

#[derive(Debug, Clone)]
struct TableRules {
    idx: (usize, usize),
    contributors: Vec<Contributor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PlanKey {
    table: u32,
    scopes: ScopeSet,
    applicable: Vec<u64>,
}

const SHARDS: usize = 16;

/// A sharded, bounded cache of compiled plans: no global lock on the request path.
#[derive(Debug)]
struct PlanCache {
    shards: Vec<RwLock<HashMap<PlanKey, Arc<TablePlan>>>>,
    per_shard: usize,
    hasher: std::collections::hash_map::RandomState,
}

impl PlanCache {
    fn new(capacity: usize) -> Self {
        PlanCache {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            hasher: Default::default(),
        }
    }

    fn shard(&self, key: &PlanKey) -> Option<&RwLock<HashMap<PlanKey, Arc<TablePlan>>>> {
        self.shards
            .get((self.hasher.hash_one(key) as usize) % SHARDS)
    }

    fn get(&self, key: &PlanKey) -> Option<Arc<TablePlan>> {
        self.shard(key)?.read().ok()?.get(key).cloned()
    }

    fn put(&self, key: PlanKey, plan: Arc<TablePlan>) {
        if let Some(shard) = self.shard(&key)
            && let Ok(mut map) = shard.write()
        {
            // A full shard starts over rather than growing without bound; plans are cheap to
            // recompile and the working set of scope combinations is small.
            if map.len() >= self.per_shard {
                map.clear();
            }
            map.insert(key, plan);
        }
    }

    fn len(&self) -> usize {
        self.shards
            .iter()
            .filter_map(|s| s.read().ok().map(|m| m.len()))
            .sum()
    }
}

/// Default number of cached plans.
pub const DEFAULT_CACHE_CAPACITY: usize = 16_384;

/// The compiled, immutable policy. Cheap to share; swap a new one in to reload.
#[derive(Debug)]
pub struct Policy {
    model: Model,
    version: String,
    rules: Vec<TableRules>,
    table_no: HashMap<String, u32>,
    cache: PlanCache,
}

impl Policy {
    /// Compiles a loaded model. `version` identifies the sources (recorded with every decision).
    pub fn new(model: Model, version: impl Into<String>) -> Self {
        Self::with_cache_capacity(model, version, DEFAULT_CACHE_CAPACITY)
    }

    pub fn with_cache_capacity(model: Model, version: impl Into<String>, capacity: usize) -> Self {
        let mut rules = Vec::new();
        let mut table_no = HashMap::new();
        for (di, ds) in model.datasets.iter().enumerate() {
            for (ti, t) in ds.tables.iter().enumerate() {
                let mut contributors = Vec::new();
                for (p, profile) in model.profiles.iter().enumerate() {
                    for (pd, pds) in profile.datasets.iter().enumerate() {
                        if pds.dataset != di {
                            continue;
                        }
                        match pds.tables.iter().position(|pt| pt.table == ti) {
                            Some(pt) => contributors.push(Contributor {
                                profile: p,
                                kind: Contribution::Table { pd, pt },
                            }),
                            None => {
                                if let Some(l) = pds.permissions {
                                    contributors.push(Contributor {
                                        profile: p,
                                        kind: Contribution::Dataset(l),
                                    });
                                }
                            }
                        }
                    }
                }
                table_no.insert(t.qualified.clone(), rules.len() as u32);
                rules.push(TableRules {
                    idx: (di, ti),
                    contributors,
                });
            }
        }
        Policy {
            model,
            version: version.into(),
            rules,
            table_no,
            cache: PlanCache::new(capacity),
        }
    }

    /// The loaded model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The version string given at compile time.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Builds a request's scope set from its token scopes.
    pub fn scope_set<S: AsRef<str>>(&self, scopes: &[S]) -> ScopeSet {
        self.model.scope_set(scopes)
    }

    /// Number of plans in the cache.
    pub fn cached_plans(&self) -> usize {
        self.cache.len()
    }

    fn profile_table(&self, c: &Contributor, pd: usize, pt: usize) -> Option<&ProfileTable> {
        self.model
            .profiles
            .get(c.profile)?
            .datasets
            .get(pd)?
            .tables
            .get(pt)
    }

    /// Which contributors apply: profile active and (dataset-level, or a filter set met).
    fn applicable(
        &self,
        rules: &TableRules,
        scopes: &ScopeSet,
        supplied: &dyn Fn(&str) -> bool,
    ) -> Vec<u64> {
        let mut bits = vec![0u64; rules.contributors.len().div_ceil(64)];
        for (i, c) in rules.contributors.iter().enumerate() {
            let Some(profile) = self.model.profiles.get(c.profile) else {
                continue;
            };
            if !scopes.contains_all(&profile.scopes) {
                continue;
            }
            let ok = match c.kind {
                Contribution::Dataset(_) => true,
                Contribution::Table { pd, pt } => self.profile_table(c, pd, pt).is_some_and(|t| {
                    t.mandatory_filter_sets.is_empty()
                        || t.mandatory_filter_sets
                            .iter()
                            .any(|set| set.iter().all(|n| supplied(n)))
                }),
            };
            if ok && let Some(w) = bits.get_mut(i / 64) {
                *w |= 1 << (i % 64);
            }
        }
        bits
    }

    /// The plan for a table under a scope set with no query parameters (used for relations).
    pub fn plan(&self, table: &str, scopes: &ScopeSet) -> Result<Arc<TablePlan>, PolicyError> {
        let no = *self
            .table_no
            .get(table)
            .ok_or_else(|| PolicyError::UnknownTable(table.into()))?;
        self.plan_for(no, scopes, &|_| false)
    }

    /// The most a caller with these scopes can get from a table: the plan with every profile's
    /// mandatory filters taken as supplied (what `sluis rights` reports).
    pub fn best_plan(&self, table: &str, scopes: &ScopeSet) -> Result<Arc<TablePlan>, PolicyError> {
        let no = *self
            .table_no
            .get(table)
            .ok_or_else(|| PolicyError::UnknownTable(table.into()))?;
        self.plan_for(no, scopes, &|_| true)
    }

    fn plan_for(
        &self,
        no: u32,
        scopes: &ScopeSet,
        supplied: &dyn Fn(&str) -> bool,
    ) -> Result<Arc<TablePlan>, PolicyError> {
        let rules = self
            .rules
            .get(no as usize)
            .ok_or_else(|| PolicyError::UnknownTable(no.to_string()))?;
        let (_, table) = self
            .model
            .table(rules.idx)
            .ok_or_else(|| PolicyError::UnknownTable(no.to_string()))?;
        if !table.available {
            return Err(PolicyError::UnavailableTable(table.qualified.clone()));
        }
        let applicable = self.applicable(rules, scopes, supplied);
        let key = PlanKey {
            table: no,
            scopes: scopes.clone(),
            applicable,
        };
        if let Some(p) = self.cache.get(&key) {
            return Ok(p);
        }
        let mut plan = self.compile(rules, scopes, &key.applicable);
        self.link_relations(&mut plan.fields, scopes);
        let plan = Arc::new(plan);
        self.cache.put(key, Arc::clone(&plan));
        Ok(plan)
    }

    /// Decides on one request.
    pub fn decide(&self, req: &Request<'_>) -> Result<Decision, PolicyError> {
        let no = *self
            .table_no
            .get(req.table)
            .ok_or_else(|| PolicyError::UnknownTable(req.table.into()))?;
        let (_, table) = self
            .rules
            .get(no as usize)
            .and_then(|r| self.model.table(r.idx))
            .ok_or_else(|| PolicyError::UnknownTable(req.table.into()))?;
        let identifiers: &[String] = if req.detail.is_some() {
            &table.identifier
        } else {
            &[]
        };
        // Exactly one non-empty value: an empty value filters nothing, and a repeated parameter
        // leaves it to the upstream which value it applies, so neither meets a filter set.
        let supplied = |name: &str| {
            identifiers.iter().any(|i| i == name) || {
                let mut given = req.params.iter().filter(|(k, _)| k == name);
                matches!((given.next(), given.next()), (Some((_, v)), None) if !v.is_empty())
            }
        };
        let plan = self.plan_for(no, req.scopes, &supplied)?;
        let mut reasons = plan.reasons.clone();
        let mut filters = Vec::new();
        let mut denial = None;
        if !plan.access {
            denial = Some(Denial::Table);
        } else {
            for (name, value) in req.params {
                if name == "_sort" {
                    for f in params::sort_fields(value) {
                        let verdict = self.filter_verdict(table, &plan, req.scopes, f, Use::Sort);
                        filters.push(FilterCheck {
                            param: format!("_sort:{f}"),
                            verdict,
                        });
                        note_filter(&mut denial, &mut reasons, f, verdict, "sort");
                    }
                } else if name == "_expandScope" {
                    for rel in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        let d = match plan.field(rel).and_then(|f| f.relation.as_ref()) {
                            None => Some(Denial::UnknownExpand(rel.into())),
                            Some(r) if !r.expandable => Some(Denial::Expand(rel.into())),
                            Some(_) => None,
                        };
                        if let Some(d) = d {
                            reasons.push(format!("_expandScope {rel}: {}", d.title()));
                            denial.get_or_insert(d);
                        }
                    }
                } else if !params::is_reserved(name) {
                    let verdict = match params::split_filter_name(name) {
                        Some((base, op)) => {
                            self.filter_verdict(table, &plan, req.scopes, base, Use::Filter(op))
                        }
                        None => FilterVerdict::Unknown,
                    };
                    filters.push(FilterCheck {
                        param: name.clone(),
                        verdict,
                    });
                    note_filter(&mut denial, &mut reasons, name, verdict, "filter");
                }
            }
        }
        Ok(Decision {
            plan,
            denial,
            filters,
            reasons,
        })
    }

    /// Rule 15, tightened: the field must be delivered at `read` (a container: every sub-field),
    /// every relation crossed on the way must be `read`, and the `filterAuth` of the field and
    /// its ancestors must be satisfied. A filter or sort on a value the caller sees only as
    /// `letters:N`, `encoded` or `random` would let it recover the value from counts, order or
    /// 200/404 answers. The one exception is a plain exact match on a field an applicable
    /// profile lists in `exactFilters`: that confirms a value the caller already holds.
    fn filter_verdict(
        &self,
        table: &Table,
        plan: &TablePlan,
        scopes: &ScopeSet,
        path: &str,
        usage: Use<'_>,
    ) -> FilterVerdict {
        let Some(hops) = params::resolve_path(&self.model, table, path) else {
            return FilterVerdict::Unknown;
        };
        let mut prefix = String::new();
        let mut current: Option<Arc<TablePlan>> = None;
        let mut filter_auth_ok = true;
        let mut prev: Option<&Field> = None;
        let n = hops.len();
        for (i, (t, f)) in hops.into_iter().enumerate() {
            // Continuing past a field without sub-fields means crossing its relation, possibly
            // into the same table: look the rest up in the target's own plan.
            if prev.is_some_and(|p| p.children.is_empty()) {
                prefix.clear();
                match self.plan(&t.qualified, scopes) {
                    Ok(p) if p.access => current = Some(p),
                    _ => return FilterVerdict::Denied,
                }
            }
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(&f.name);
            let p = current.as_deref().unwrap_or(plan);
            let Some(fp) = p.field(&prefix) else {
                return FilterVerdict::Denied;
            };
            let ok = if i + 1 == n {
                fully_read(fp) || (fp.exact_filter && usage.is_exact())
            } else if f.children.is_empty() {
                // A relation about to be crossed: filtering past it reveals what it points at.
                fp.level == Level::Read
            } else {
                fp.level.is_visible()
            };
            if !ok {
                return FilterVerdict::Denied;
            }
            filter_auth_ok &= f.filter_auth.satisfied_by(scopes);
            prev = Some(f);
        }
        if filter_auth_ok {
            FilterVerdict::Allowed
        } else {
            FilterVerdict::Denied
        }
    }

    fn compile(&self, rules: &TableRules, scopes: &ScopeSet, applicable: &[u64]) -> TablePlan {
        let Some((ds, table)) = self.model.table(rules.idx) else {
            return empty_plan(String::new());
        };
        let is_on = |i: usize| {
            applicable
                .get(i / 64)
                .is_some_and(|w| w & (1 << (i % 64)) != 0)
        };
        let active: Vec<&Contributor> = rules
            .contributors
            .iter()
            .enumerate()
            .filter(|(i, _)| is_on(*i))
            .map(|(_, c)| c)
            .collect();
        let mut reasons = Vec::new();
        let auth_table = ds.auth.satisfied_by(scopes) && table.auth.satisfied_by(scopes);
        let mut via = Vec::new();
        if auth_table {
            via.push(Via::Auth);
            reasons.push(format!(
                "table {}: dataset and table auth satisfied",
                table.qualified
            ));
        } else {
            reasons.push(format!(
                "table {}: auth not satisfied (dataset needs {}, table needs {})",
                table.qualified,
                self.describe_auth(ds.auth.scopes()),
                self.describe_auth(table.auth.scopes())
            ));
            for c in &active {
                let level = match c.kind {
                    Contribution::Dataset(l) => l,
                    Contribution::Table { pd, pt } => self
                        .profile_table(c, pd, pt)
                        .map_or(Level::None, ProfileTable::level),
                };
                if level.opens_table() {
                    let id = self.profile_id(c.profile);
                    if !via.iter().any(|v| matches!(v, Via::Profile(p) if p == id)) {
                        via.push(Via::Profile(id.to_owned()));
                    }
                }
            }
        }
        // Explain profiles that are active by scope but did not apply for want of filters.
        for c in &rules.contributors {
            if let Contribution::Table { pd, pt } = c.kind
                && let Some(profile) = self.model.profiles.get(c.profile)
                && scopes.contains_all(&profile.scopes)
                && !active.iter().any(|a| std::ptr::eq(*a, c))
                && let Some(t) = self.profile_table(c, pd, pt)
            {
                let sets: Vec<String> = t
                    .mandatory_filter_sets
                    .iter()
                    .map(|s| format!("[{}]", s.join(", ")))
                    .collect();
                reasons.push(format!(
                    "profile {}: no mandatory filter set met; needs one of {}",
                    profile.id,
                    sets.join(" or ")
                ));
            }
        }
        for v in &via {
            if let Via::Profile(p) = v {
                reasons.push(format!("profile {p}: active"));
            }
        }
        let access = !via.is_empty();
        if !access {
            reasons.push(format!(
                "table {}: no auth and no active profile grants access",
                table.qualified
            ));
        }
        let ctx = FieldCtx {
            policy: self,
            scopes,
            active: &active,
            table,
            access,
            auth_table,
        };
        let fields: Vec<FieldPlan> = table.fields.iter().map(|f| ctx.field(f, true)).collect();
        let fully_readable = access && all_read(&fields);
        let uses_random = any_random(&fields);
        let (delivered, limited) = leaf_summary(&fields);
        let index = index_of(&fields);
        TablePlan {
            table: table.qualified.clone(),
            access,
            via,
            fields,
            fully_readable,
            uses_random,
            delivered,
            limited,
            reasons,
            title_field: table
                .display
                .clone()
                .or_else(|| match table.identifier.as_slice() {
                    [only] => Some(only.clone()),
                    _ => None,
                }),
            index,
        }
    }

    fn link_relations(&self, fields: &mut [FieldPlan], scopes: &ScopeSet) {
        for f in fields {
            if let Some(r) = &mut f.relation {
                r.expandable = f.level == Level::Read
                    && !r.target.starts_with('!')
                    && self.target_fully_readable(&r.target, scopes);
            }
            self.link_relations(&mut f.children, scopes);
        }
    }

    /// Compiles the target without following its own relations, so cycles end.
    fn target_fully_readable(&self, target: &str, scopes: &ScopeSet) -> bool {
        let Some(no) = self.table_no.get(target) else {
            return false;
        };
        let Some(rules) = self.rules.get(*no as usize) else {
            return false;
        };
        if !self
            .model
            .table(rules.idx)
            .is_some_and(|(_, t)| t.available)
        {
            return false;
        }
        let applicable = self.applicable(rules, scopes, &|_| false);
        self.compile(rules, scopes, &applicable).fully_readable
    }

    fn profile_id(&self, p: usize) -> &str {
        self.model.profiles.get(p).map_or("?", |p| p.id.as_str())
    }

    fn describe_auth(&self, scopes: &[u32]) -> String {
        if scopes.is_empty() {
            return "OPENBAAR".into();
        }
        scopes
            .iter()
            .map(|s| self.model.scope_name(*s))
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

/// What a parameter does with a field.
#[derive(Debug, Clone, Copy)]
enum Use<'a> {
    /// `_sort`: the order of rows reveals the order of values.
    Sort,
    /// A filter with its operator (`None` for a plain `name=value`).
    Filter(Option<&'a str>),
}

impl Use<'_> {
    /// Plain or `[exact]` equality, the only use `exactFilters` allows.
    fn is_exact(self) -> bool {
        matches!(self, Use::Filter(None | Some("exact")))
    }
}

/// The field and all its sub-fields are delivered at `read`.
fn fully_read(f: &FieldPlan) -> bool {
    f.level == Level::Read && f.children.iter().all(fully_read)
}

fn note_filter(
    denial: &mut Option<Denial>,
    reasons: &mut Vec<String>,
    name: &str,
    verdict: FilterVerdict,
    what: &str,
) {
    match verdict {
        FilterVerdict::Allowed => {}
        FilterVerdict::Denied => {
            reasons.push(format!(
                "{what} {name}: field not delivered at read (and no exact-match allowance) or filterAuth not satisfied"
            ));
            denial.get_or_insert(Denial::Filter(name.to_owned()));
        }
        FilterVerdict::Unknown => {
            reasons.push(format!("{what} {name}: not a field of the table"));
            denial.get_or_insert(Denial::UnknownFilter(name.to_owned()));
        }
    }
}

fn leaf_summary(fields: &[FieldPlan]) -> (Vec<String>, Vec<String>) {
    fn walk(fs: &[FieldPlan], delivered: &mut Vec<String>, limited: &mut Vec<String>) {
        for f in fs {
            if !f.children.is_empty() {
                walk(&f.children, delivered, limited);
            } else if f.level == Level::Read {
                delivered.push(f.path.clone());
            } else {
                let tagged = format!("{}={}", f.path, f.level);
                if f.level.is_visible() {
                    delivered.push(tagged.clone());
                }
                limited.push(tagged);
            }
        }
    }
    let (mut d, mut l) = (Vec::new(), Vec::new());
    walk(fields, &mut d, &mut l);
    (d, l)
}

fn any_random(fields: &[FieldPlan]) -> bool {
    fields
        .iter()
        .any(|f| f.level == Level::Random || any_random(&f.children))
}

fn all_read(fields: &[FieldPlan]) -> bool {
    fields
        .iter()
        .all(|f| f.level == Level::Read && all_read(&f.children))
}

fn index_of(fields: &[FieldPlan]) -> HashMap<Arc<str>, usize> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| (Arc::clone(&f.name), i))
        .collect()
}

fn empty_plan(table: String) -> TablePlan {
    TablePlan {
        table,
        access: false,
        via: Vec::new(),
        fields: Vec::new(),
        fully_readable: false,
        uses_random: false,
        delivered: Vec::new(),
        limited: Vec::new(),
        reasons: Vec::new(),
        title_field: None,
        index: HashMap::new(),
    }
}

struct FieldCtx<'a> {
    policy: &'a Policy,
    scopes: &'a ScopeSet,
    active: &'a [&'a Contributor],
    table: &'a Table,
    access: bool,
    /// Dataset and table auth satisfied: the field auth path is open down to the fields.
    auth_table: bool,
}

impl FieldCtx<'_> {
    /// `auth_open`: every ancestor's auth (and the table's) is satisfied.
    fn field(&self, f: &Field, auth_open: bool) -> FieldPlan {
        let auth_here = auth_open && f.auth.satisfied_by(self.scopes);
        let children: Vec<FieldPlan> = f
            .children
            .iter()
            .map(|c| self.field(c, auth_here))
            .collect();
        let (level, source) = if !self.access {
            (Level::None, Source::NoTable)
        } else if !f.path.contains('.') && self.table.identifier.contains(&f.name) {
            (Level::Read, Source::Identifier)
        } else if !children.is_empty() {
            let max = children
                .iter()
                .map(|c| c.level)
                .max()
                .unwrap_or(Level::None);
            (
                if max.is_visible() { max } else { Level::None },
                Source::Children,
            )
        } else if self.auth_table && auth_here {
            (Level::Read, Source::Auth)
        } else {
            self.profile_level(&f.path)
        };
        // Identifier objects are delivered whole.
        let children = if source == Source::Identifier {
            children.into_iter().map(force_read).collect()
        } else {
            children
        };
        let relation = f.relation.as_ref().map(|t| RelationPlan {
            target: t.clone(),
            expandable: false,
        });
        let index = index_of(&children);
        let exact_filter = children.is_empty() && level.is_visible() && self.exact_allowed(&f.path);
        FieldPlan {
            name: Arc::from(f.name.as_str()),
            path: f.path.clone(),
            level,
            source,
            shape: f.shape,
            children,
            relation,
            exact_filter,
            domain: format!("{}.{}", self.table.qualified, f.path).into_boxed_str(),
            index,
        }
    }

    /// True when an applicable profile that mentions the table lists the path in `exactFilters`.
    fn exact_allowed(&self, path: &str) -> bool {
        self.active.iter().any(|c| match c.kind {
            Contribution::Table { pd, pt } => self
                .policy
                .profile_table(c, pd, pt)
                .is_some_and(|t| t.exact_filters.iter().any(|e| e == path)),
            Contribution::Dataset(_) => false,
        })
    }

    /// Rule 10: the highest level any applicable profile gives the field.
    fn profile_level(&self, path: &str) -> (Level, Source) {
        let mut best = (Level::None, Source::Hidden);
        for c in self.active {
            let (level, source) = match c.kind {
                Contribution::Dataset(l) => (l, Source::ProfileDataset(c.profile)),
                Contribution::Table { pd, pt } => {
                    let Some(t) = self.policy.profile_table(c, pd, pt) else {
                        continue;
                    };
                    match t.field_entry(path) {
                        Some(l) => (l, Source::ProfileField(c.profile)),
                        None if t.level().is_visible() => {
                            (t.level(), Source::ProfileTable(c.profile))
                        }
                        None => continue,
                    }
                }
            };
            if level > best.0 && level.is_visible() {
                best = (level, source);
                if level == Level::Read {
                    break;
                }
            }
        }
        best
    }
}

fn force_read(mut f: FieldPlan) -> FieldPlan {
    f.level = Level::Read;
    f.source = Source::Identifier;
    f.children = f.children.into_iter().map(force_read).collect();
    f
}
