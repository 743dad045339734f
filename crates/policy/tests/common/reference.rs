//! A naive reference evaluator, written straight from the rules of `domain/profiles.md` §4 and
//! the decisions in `DESIGN.md`, with no compilation and no caching: every call walks the model's
//! datasets, tables, fields and profiles from scratch. It is slow on purpose and shares no code
//! with the engine beyond the public model types, so the property tests can compare the two.

use std::collections::{BTreeMap, BTreeSet};

use sluis_policy::model::{AuthSet, Field, ProfileTable, Table};
use sluis_policy::{FilterVerdict, Level, Model};

/// What the reference says about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The table may be read (rule 9).
    pub access: bool,
    /// How the table was opened: `"auth"`, or `"profile:<id>"` for each opening profile when the
    /// auth path failed. Sorted.
    pub via: Vec<String>,
    /// Every field path of the table (nested sub-fields included) with its level.
    pub fields: BTreeMap<String, Level>,
    /// Every relation field path: may it be expanded (rule 17)?
    pub expandable: BTreeMap<String, bool>,
    /// In parameter order: `name` for a filter, `_sort:field` for each sorted field.
    pub filters: Vec<(String, FilterVerdict)>,
    /// True when every item of every `_expandScope` names an expandable relation.
    pub expand_ok: bool,
}

impl Evaluation {
    /// True when every field is delivered as is.
    pub fn fully_readable(&self) -> bool {
        self.access && self.fields.values().all(|l| *l == Level::Read)
    }
}

/// One profile's contribution to one table (rules 5, 7, 9).
enum Contribution<'m> {
    /// The profile mentions the dataset but not the table: its dataset-level permissions.
    Dataset(Level),
    /// The profile mentions the table and one of its filter sets is met (or it has none).
    Table(&'m ProfileTable),
}

struct Ctx<'m, 'r> {
    model: &'m Model,
    /// The request's scope names, with the implicit `OPENBAAR` (rule 1).
    scopes: BTreeSet<String>,
    params: &'r [(String, String)],
    detail: Option<&'r str>,
}

impl<'m> Ctx<'m, '_> {
    /// Rule 2: a public auth, or any one of its scopes.
    fn holds(&self, auth: &AuthSet) -> bool {
        auth.scopes().is_empty()
            || auth
                .scopes()
                .iter()
                .any(|s| self.scopes.contains(self.model.scope_name(*s)))
    }

    /// Rule 7: exactly one query parameter of that name, with a non-empty value, or, on a detail
    /// request, a top-level identifier name.
    fn supplied(&self, table: &Table, name: &str) -> bool {
        let given: Vec<&String> = self
            .params
            .iter()
            .filter(|(k, _)| k.as_str() == name)
            .map(|(_, v)| v)
            .collect();
        (self.detail.is_some() && table.identifier.iter().any(|i| i == name))
            || (given.len() == 1 && !given[0].is_empty())
    }

    /// Rules 5, 7 and 9: the contributions of every active profile to the table.
    fn contributions(
        &self,
        di: usize,
        ti: usize,
        table: &Table,
    ) -> Vec<(String, Contribution<'m>)> {
        let mut out = Vec::new();
        for profile in &self.model.profiles {
            let active = profile
                .scopes
                .iter()
                .all(|s| self.scopes.contains(self.model.scope_name(*s)));
            if !active {
                continue;
            }
            for pd in &profile.datasets {
                if pd.dataset != di {
                    continue;
                }
                match pd.tables.iter().find(|pt| pt.table == ti) {
                    Some(pt) => {
                        let met = pt.mandatory_filter_sets.is_empty()
                            || pt
                                .mandatory_filter_sets
                                .iter()
                                .any(|set| set.iter().all(|n| self.supplied(table, n)));
                        if met {
                            out.push((profile.id.clone(), Contribution::Table(pt)));
                        }
                        // Rule 9c: unmet filters give nothing, not the dataset-level fallback.
                    }
                    None => {
                        if let Some(l) = pd.permissions {
                            out.push((profile.id.clone(), Contribution::Dataset(l)));
                        }
                    }
                }
            }
        }
        out
    }
}

/// The level a profile table gives the table itself (rule 6): its permissions, or "subobjects
/// only" when it lists only fields.
fn profile_table_level(pt: &ProfileTable) -> Level {
    match pt.permissions {
        Some(l) => l,
        None => Level::SubobjectsOnly,
    }
}

/// The explicit entry for a dotted path: the path itself or its nearest listed ancestor.
fn explicit_entry(pt: &ProfileTable, path: &str) -> Option<Level> {
    let parts: Vec<&str> = path.split('.').collect();
    for k in (1..=parts.len()).rev() {
        let prefix = parts[..k].join(".");
        if let Some((_, l)) = pt.fields.iter().find(|(p, _)| *p == prefix) {
            return Some(*l);
        }
    }
    None
}

/// Rule 10 for one profile and one leaf field.
fn contribution_level(c: &Contribution<'_>, path: &str) -> Level {
    match c {
        Contribution::Dataset(l) => *l,
        Contribution::Table(pt) => match explicit_entry(pt, path) {
            // Within one profile an explicit entry limits.
            Some(l) => l,
            None => {
                let l = profile_table_level(pt);
                if l.is_visible() { l } else { Level::None }
            }
        },
    }
}

/// The fields from the table root to `path` (inclusive).
fn chain<'t>(table: &'t Table, path: &str) -> Vec<&'t Field> {
    let mut out = Vec::new();
    let mut fields = &table.fields;
    for part in path.split('.') {
        let f = fields
            .iter()
            .find(|f| f.name == part)
            .expect("path of the table");
        out.push(f);
        fields = &f.children;
    }
    out
}

fn all_paths(fields: &[Field], out: &mut Vec<String>) {
    for f in fields {
        out.push(f.path.clone());
        all_paths(&f.children, out);
    }
}

/// Table access, how it was opened, and every field's level.
struct Levels {
    access: bool,
    via: Vec<String>,
    fields: BTreeMap<String, Level>,
    /// Paths an applied profile lists in `exactFilters` that the caller sees.
    exact: BTreeSet<String>,
}

impl Levels {
    fn fully_readable(&self) -> bool {
        self.access && self.fields.values().all(|l| *l == Level::Read)
    }
}

fn request_ctx<'m, 'r>(
    model: &'m Model,
    scopes: &[String],
    params: &'r [(String, String)],
    detail: Option<&'r str>,
) -> Ctx<'m, 'r> {
    let mut names: BTreeSet<String> = scopes.iter().cloned().collect();
    names.insert("OPENBAAR".to_owned());
    Ctx {
        model,
        scopes: names,
        params,
        detail,
    }
}

/// Rules 3, 5–12 and the identifier decision for one table.
fn levels(ctx: &Ctx<'_, '_>, table: &str) -> Levels {
    let model = ctx.model;
    let (di, ti) = find_table(model, table);
    let ds = &model.datasets[di];
    let t = &ds.tables[ti];

    // Rules 3 and 9.
    let auth_table = ctx.holds(&ds.auth) && ctx.holds(&t.auth);
    let contributions = ctx.contributions(di, ti, t);
    let mut via = Vec::new();
    if auth_table {
        via.push("auth".to_owned());
    } else {
        for (id, c) in &contributions {
            let l = match c {
                Contribution::Dataset(l) => *l,
                Contribution::Table(pt) => profile_table_level(pt),
            };
            let v = format!("profile:{id}");
            if l > Level::None && !via.contains(&v) {
                via.push(v);
            }
        }
    }
    via.sort();
    let access = !via.is_empty();

    let mut paths = Vec::new();
    all_paths(&t.fields, &mut paths);
    let mut fields = BTreeMap::new();
    for p in &paths {
        fields.insert(
            p.clone(),
            field_level(ctx, t, p, access, auth_table, &contributions),
        );
    }
    let mut exact = BTreeSet::new();
    for (_, c) in &contributions {
        if let Contribution::Table(pt) = c {
            for e in &pt.exact_filters {
                if fields.get(e).is_some_and(|l| l.is_visible()) {
                    exact.insert(e.clone());
                }
            }
        }
    }
    Levels {
        access,
        via,
        fields,
        exact,
    }
}

/// The levels of a relation's target table as a request without parameters sees them.
fn target_levels(ctx: &Ctx<'_, '_>, target: &str) -> Levels {
    let bare = Ctx {
        model: ctx.model,
        scopes: ctx.scopes.clone(),
        params: &[],
        detail: None,
    };
    levels(&bare, target)
}

/// Evaluates one request on `dataset.table` from scratch.
pub fn evaluate(
    model: &Model,
    scopes: &[String],
    params: &[(String, String)],
    detail: Option<&str>,
    table: &str,
) -> Evaluation {
    let ctx = request_ctx(model, scopes, params, detail);
    let levels = levels(&ctx, table);
    let (access, via, fields) = (levels.access, levels.via.clone(), levels.fields.clone());
    let (di, ti) = find_table(model, table);
    let t = &model.datasets[di].tables[ti];
    let mut paths = Vec::new();
    all_paths(&t.fields, &mut paths);

    // Rule 17: relations.
    let mut expandable = BTreeMap::new();
    for p in &paths {
        let f = chain(t, p).pop().expect("field");
        if let Some(target) = &f.relation {
            let ok = fields[p] == Level::Read
                && !target.starts_with('!')
                && target_levels(&ctx, target).fully_readable();
            expandable.insert(p.clone(), ok);
        }
    }

    // Rule 15: filters and sorts.
    let mut filters = Vec::new();
    let mut expand_ok = true;
    for (name, value) in params {
        if name == "_sort" {
            for part in value.split(',') {
                let part = part.trim();
                if part.is_empty() {
                    continue;
                }
                let field = part.trim_start_matches('-');
                let v = filter_verdict(&ctx, t, &levels, field, false);
                filters.push((format!("_sort:{field}"), v));
            }
        } else if name == "_expandScope" {
            for rel in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if expandable.get(rel) != Some(&true) {
                    expand_ok = false;
                }
            }
        } else if !is_reserved(name) {
            let v = match filter_base(name) {
                Some(base) => {
                    let exact_op = !name.contains('[') || name.ends_with("[exact]");
                    filter_verdict(&ctx, t, &levels, base, exact_op)
                }
                None => FilterVerdict::Unknown,
            };
            filters.push((name.clone(), v));
        }
    }

    Evaluation {
        access,
        via,
        fields,
        expandable,
        filters,
        expand_ok,
    }
}

fn find_table(model: &Model, qualified: &str) -> (usize, usize) {
    for (di, ds) in model.datasets.iter().enumerate() {
        for (ti, t) in ds.tables.iter().enumerate() {
            if format!("{}.{}", ds.id, t.id) == qualified {
                return (di, ti);
            }
        }
    }
    panic!("unknown table {qualified}");
}

/// The level of one field (rules 3, 4, 10, 11, 12 and the identifier decision).
fn field_level(
    ctx: &Ctx<'_, '_>,
    table: &Table,
    path: &str,
    access: bool,
    auth_table: bool,
    contributions: &[(String, Contribution<'_>)],
) -> Level {
    if !access {
        return Level::None;
    }
    let chain = chain(table, path);
    // Identifiers travel with the table, sub-fields included.
    if table.identifier.iter().any(|i| *i == chain[0].name) {
        return Level::Read;
    }
    let field = chain[chain.len() - 1];
    if !field.children.is_empty() {
        // A container is as visible as its most visible sub-field.
        let max = field
            .children
            .iter()
            .map(|c| field_level(ctx, table, &c.path, access, auth_table, contributions))
            .max()
            .unwrap_or(Level::None);
        return if max.is_visible() { max } else { Level::None };
    }
    // Rules 3 and 4: dataset, table, every ancestor and the field itself.
    if auth_table && chain.iter().all(|f| ctx.holds(&f.auth)) {
        return Level::Read;
    }
    // Rules 10 and 11: the best of the active profiles.
    let mut best = Level::None;
    for (_, c) in contributions {
        let l = contribution_level(c, path);
        if l.is_visible() && l > best {
            best = l;
        }
    }
    best
}

/// Parameters that are not filters.
fn is_reserved(name: &str) -> bool {
    name.starts_with('_') || ["page", "page_size", "pageSize", "format"].contains(&name)
}

/// `a.b[op]` → `a.b`; `None` when the name is malformed.
fn filter_base(name: &str) -> Option<&str> {
    let valid_base = |b: &str| !b.is_empty() && !b.contains('[') && !b.contains(']');
    match name.split_once('[') {
        None => valid_base(name).then_some(name),
        Some((base, rest)) => {
            let op = rest.strip_suffix(']')?;
            let op_ok = !op.is_empty() && op.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            (valid_base(base) && op_ok).then_some(base)
        }
    }
}

/// Rule 15 as sluis tightens it: the named field at `read` (a container: all its sub-fields),
/// or — for a plain or `[exact]` filter — listed in an applied profile's `exactFilters` and
/// visible; containers on the way visible, relations crossed on the way at `read`; the
/// `filterAuth` of every hop satisfied. A hop past a relation is judged in the target table as a
/// request without parameters would see it.
fn filter_verdict(
    ctx: &Ctx<'_, '_>,
    table: &Table,
    levels: &Levels,
    path: &str,
    exact_op: bool,
) -> FilterVerdict {
    let model = ctx.model;
    let mut current_levels = levels.fields.clone();
    let mut current_exact = levels.exact.clone();
    let mut prefix: Vec<&str> = Vec::new();
    let mut fields = &table.fields;
    let mut visible = true;
    let mut filter_auth = true;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let Some(f) = fields.iter().find(|f| f.name == *part) else {
            return FilterVerdict::Unknown;
        };
        prefix.push(part);
        let here = prefix.join(".");
        let level = current_levels.get(&here).copied().unwrap_or(Level::None);
        filter_auth &= ctx.holds(&f.filter_auth);
        let last = i + 1 == parts.len();
        if last {
            let all_read = current_levels
                .iter()
                .filter(|(p, _)| **p == here || p.starts_with(&format!("{here}.")))
                .all(|(_, l)| *l == Level::Read);
            visible &= all_read || (exact_op && current_exact.contains(&here));
            break;
        }
        visible &= if f.children.is_empty() {
            level == Level::Read
        } else {
            level.is_visible()
        };
        if !f.children.is_empty() {
            fields = &f.children;
        } else if let Some(target) = f.relation.as_deref().filter(|r| !r.starts_with('!')) {
            let e = target_levels(ctx, target);
            let (di, ti) = find_table(model, target);
            current_levels = e.fields;
            current_exact = e.exact;
            visible &= e.access;
            prefix.clear();
            fields = &model.datasets[di].tables[ti].fields;
        } else {
            return FilterVerdict::Unknown;
        }
    }
    if visible && filter_auth {
        FilterVerdict::Allowed
    } else {
        FilterVerdict::Denied
    }
}
