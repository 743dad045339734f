//! Filtering HAL (DSO-style) dataset responses through compiled policy plans.
//!
//! Every record is projected through its table's plan (hidden and unknown keys removed, values
//! rendered at their level); `_links` keep `self` (and `schema` when the table was opened by
//! `auth` rather than a profile) plus relations the caller may
//! expand; `_embedded` keeps only expandable relations, each projected through its target
//! table's plan, recursively; URLs pointing at the upstream are rewritten to sluis's public URL.
//!
//! Link titles carry the table's display value, so they are kept only where the caller sees
//! that value at `read` (a `self` title must also equal the record's own display value); other
//! titles are dropped. The upstream is not trusted to minimise: every data key projection
//! removes is counted in the [`Summary`] for the audit record. Nothing here does I/O.

use std::collections::HashSet;

mod stream;
pub use stream::{MAX_DEPTH, MAX_KEYS};

use serde_json::{Map, Value};
use sluis_policy::{FieldPlan, Policy, Projector, ScopeSet, TablePlan};

/// Errors of the filter crate.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// The upstream body is not the HAL shape expected.
    #[error("unexpected upstream body: {0}")]
    Shape(String),
    /// The upstream body is not JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
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
        match self.split(href) {
            Some((base, rest)) => format!("{base}{rest}"),
            None => href.to_owned(),
        }
    }

    /// The rewritten URL as sluis's base and the rest of `href`; `None` when `href` stays.
    pub fn split<'h>(&self, href: &'h str) -> Option<(&str, &'h str)> {
        if let Some(rest) = href.strip_prefix(self.upstream_base.as_str())
            && (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
        {
            return Some((&self.public_base, rest));
        }
        let (uo, po) = (origin(&self.upstream_base), origin(&self.public_base));
        if !uo.is_empty()
            && let Some(rest) = href.strip_prefix(uo)
            && (rest.is_empty() || rest.starts_with('/'))
        {
            return Some((po, rest));
        }
        None
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
    /// Data keys the upstream sent that the plan does not deliver (hidden or unknown fields, in
    /// records and embedded objects), counted per occurrence.
    pub stripped: u64,
    /// The distinct stripped keys as `dataset.table.path`, at most [`MAX_STRIPPED_FIELDS`].
    pub stripped_fields: Vec<String>,
}

/// Bound on [`Summary::stripped_fields`]: the names are for an audit record, not a dump.
pub const MAX_STRIPPED_FIELDS: usize = 64;
/// Bound on one stripped name: keys come from the upstream and may be arbitrarily long.
const MAX_STRIPPED_NAME: usize = 200;

impl Summary {
    fn strip(&mut self, table: &str, path: &str) {
        self.stripped += 1;
        if self.stripped_fields.len() >= MAX_STRIPPED_FIELDS {
            return;
        }
        let mut name = format!("{table}.{path}");
        if name.len() > MAX_STRIPPED_NAME {
            let mut end = MAX_STRIPPED_NAME;
            while !name.is_char_boundary(end) {
                end -= 1;
            }
            name.truncate(end);
        }
        if !self.stripped_fields.contains(&name) {
            self.stripped_fields.push(name);
        }
    }
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
            // Page links have no display value; a title there could only be upstream noise.
            links.values_mut().for_each(|l| {
                drop_titles(l);
                self.links.rewrite_link(l);
            });
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

    /// Filters a list response given as the upstream's bytes, and writes the caller's body:
    /// in a single pass over the text where the body has the expected shape (see the `stream`
    /// module), else through [`HalFilter::list`], which then also gives the error.
    pub fn list_bytes(
        mut self,
        plan: &TablePlan,
        table_id: &str,
        body: &[u8],
    ) -> Result<(Vec<u8>, Summary), FilterError> {
        if let Ok(text) = std::str::from_utf8(body)
            && let Some(out) = stream::list(&mut self, plan, table_id, text)
        {
            return Ok((out, self.summary));
        }
        self.summary = Summary::default();
        let mut v = parse(body)?;
        let summary = self.list(plan, table_id, &mut v)?;
        Ok((serialize(&v)?, summary))
    }

    /// Filters a detail response given as the upstream's bytes, as [`HalFilter::list_bytes`]
    /// does a list.
    pub fn detail_bytes(
        mut self,
        plan: &TablePlan,
        body: &[u8],
    ) -> Result<(Vec<u8>, Summary), FilterError> {
        if let Ok(text) = std::str::from_utf8(body)
            && let Some(out) = stream::detail(&mut self, plan, text)
        {
            return Ok((out, self.summary));
        }
        self.summary = Summary::default();
        let mut v = parse(body)?;
        let summary = self.detail(plan, &mut v)?;
        Ok((serialize(&v)?, summary))
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
        // Shift, not swap: the other keys keep the upstream's order.
        let links = rec.shift_remove("_links");
        let embedded = rec.shift_remove("_embedded");
        // Read before projection: the title may show the display value only as it is at `read`.
        let title = plan
            .title_readable()
            .then(|| plan.title_field.as_deref().and_then(|t| rec.get(t)))
            .flatten()
            .and_then(rendered);
        count_stripped(plan, rec, &mut self.summary);
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
            for (k, l) in links.iter_mut() {
                if k == "self" {
                    keep_title_if(l, |t| title.as_deref() == Some(t));
                } else if let Some(target) = expandable(plan, k) {
                    // The target's record is not at hand; its title is kept only when the
                    // caller sees the target's display field at `read`.
                    let readable = self.policy.plan(&target, self.scopes)?.title_readable();
                    keep_title_if(l, |_| readable);
                } else {
                    drop_titles(l);
                }
                self.links.rewrite_link(l);
            }
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

fn parse(body: &[u8]) -> Result<Value, FilterError> {
    serde_json::from_slice(body).map_err(|e| FilterError::Json(e.to_string()))
}

fn serialize(v: &Value) -> Result<Vec<u8>, FilterError> {
    serde_json::to_vec(v).map_err(|e| FilterError::Shape(e.to_string()))
}

/// The text DSO shows as a title: strings as they are, numbers and booleans as JSON text.
fn rendered(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(v.to_string()),
        _ => None,
    }
}

/// Removes `title` from a link (or each link of an array) unless `keep` accepts its text.
fn keep_title_if(link: &mut Value, keep: impl Fn(&str) -> bool + Copy) {
    match link {
        Value::Object(m) if !m.get("title").and_then(Value::as_str).is_some_and(keep) => {
            m.shift_remove("title");
        }
        Value::Array(items) => items.iter_mut().for_each(|l| keep_title_if(l, keep)),
        _ => {}
    }
}

fn drop_titles(link: &mut Value) {
    keep_title_if(link, |_| false);
}

/// Counts the keys projection will remove from a record because they are not in the table's
/// schema at all: what the upstream sent beyond its contract. Fields the policy hides from this
/// caller are removed too, but by design (a dataset upstream serves every caller alike), so they
/// are not counted as overdelivery.
fn count_stripped(plan: &TablePlan, rec: &Map<String, Value>, summary: &mut Summary) {
    if !plan.access {
        return;
    }
    for (k, v) in rec {
        // Top-level names only: a key with a dot in it is not the nested field of that path.
        match plan.position(k).and_then(|i| plan.fields.get(i)) {
            Some(f) if f.level.is_visible() => count_nested(&plan.table, f, v, summary),
            Some(_) => {}
            None => summary.strip(&plan.table, k),
        }
    }
}

fn count_nested(table: &str, f: &FieldPlan, v: &Value, summary: &mut Summary) {
    if f.children.is_empty() {
        return;
    }
    let mut object = |m: &Map<String, Value>| {
        for (k, sub) in m {
            match f.children.iter().find(|c| *c.name == **k) {
                Some(c) if c.level.is_visible() => count_nested(table, c, sub, summary),
                Some(_) => {}
                None => summary.strip(table, &format!("{}.{k}", f.path)),
            }
        }
    };
    match v {
        Value::Object(m) => object(m),
        Value::Array(items) => items.iter().filter_map(Value::as_object).for_each(object),
        _ => {}
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
    use serde_json::json;
    use sluis_policy::{EncodingKey, Sources, load};

    fn policy() -> Policy {
        let ds = json!({"type": "dataset", "id": "d", "tables": [
            {"id": "t", "type": "table", "schema": {"identifier": ["id"], "display": "naam",
                "properties": {
                    "id": {"type": "integer"},
                    "naam": {"type": "string"},
                    "geheim": {"type": "string", "auth": "GEHEIM"},
                    "adres": {"type": "object", "properties": {
                        "straat": {"type": "string"},
                        "huisnummer": {"type": "integer", "auth": "GEHEIM"}}},
                    "rel": {"type": "string", "relation": "d:r"}}}},
            {"id": "r", "type": "table", "schema": {"identifier": ["id"], "display": "naam",
                "properties": {"id": {"type": "string"}, "naam": {"type": "string"},
                    "kenmerk": {"type": "string", "auth": "GEHEIM"}}}}]});
        let mut s = Sources::new();
        s.insert("d.json", serde_json::to_vec(&ds).unwrap());
        Policy::new(load(&s, &Sources::new()).unwrap(), "t")
    }

    fn rewriter() -> LinkRewriter {
        LinkRewriter {
            upstream_base: "http://up/v1/d".into(),
            public_base: "https://sluis/d".into(),
        }
    }

    fn run(scopes: &[&str], detail: bool, mut body: Value) -> (Value, Summary) {
        let p = policy();
        let set = p.scope_set(scopes);
        let plan = p.plan("d.t", &set).unwrap();
        let links = rewriter();
        let key = EncodingKey::new(vec![1u8; 32]).unwrap();
        let f = HalFilter::new(&p, &set, &links, Projector::new(&key, [0; 32]), None);
        let summary = if detail {
            f.detail(&plan, &mut body).unwrap()
        } else {
            f.list(&plan, "t", &mut body).unwrap()
        };
        (body, summary)
    }

    /// Keys outside the schema are counted per occurrence, nested ones and those of embedded
    /// objects included, with distinct qualified names; keys the policy hides from the caller
    /// are removed but not counted (that is by design), nor are `_links` members.
    #[test]
    fn counts_what_projection_strips() {
        let rec = |i: u32| {
            json!({"_links": {"self": {"href": "http://up/v1/d/t/1"}, "extra": {"href": "x"}},
                "id": i, "naam": "a", "geheim": "s", "onbekend": 1,
                "adres": {"straat": "Dam", "huisnummer": 1, "toevoeging": "A"},
                "rel": "r1",
                "_embedded": {"rel": {"id": "r1", "naam": "n", "kenmerk": "k"}}})
        };
        let (out, s) = run(
            &[],
            false,
            json!({"_embedded": {"t": [rec(1), rec(2)],
            "rel": [{"id": "r1", "naam": "n", "kenmerk": "k", "x": 1}]}}),
        );
        assert_eq!(out["_embedded"]["t"][0].get("geheim"), None);
        // Per record: onbekend and adres.toevoeging are outside the schema; geheim and
        // adres.huisnummer are hidden by policy (removed, not counted). rel's embedded object is
        // not expandable (kenmerk hidden), so it is pruned by design, not counted. The
        // top-level rel list is likewise not expandable.
        assert_eq!(s.stripped, 4, "{:?}", s.stripped_fields);
        assert_eq!(s.stripped_fields, ["d.t.onbekend", "d.t.adres.toevoeging"]);
        // With the scope everything of the table is granted; only unknown keys are stripped,
        // now also inside the expandable relation's embedded objects.
        let (_, s) = run(&["GEHEIM"], true, rec(1));
        assert_eq!(s.stripped, 2, "{:?}", s.stripped_fields);
        assert_eq!(s.stripped_fields, ["d.t.onbekend", "d.t.adres.toevoeging"]);
        let (_, s) = run(
            &["GEHEIM"],
            false,
            json!({"_embedded": {"t": [],
            "rel": [{"id": "r1", "naam": "n", "kenmerk": "k", "x": 1}]}}),
        );
        assert_eq!(
            (s.stripped, s.stripped_fields),
            (1, vec!["d.r.x".to_owned()])
        );
    }

    /// Names are distinct and bounded in number and length; the count is not bounded.
    #[test]
    fn stripped_names_are_bounded() {
        let mut rec = Map::new();
        rec.insert("id".into(), json!(1));
        for i in 0..100 {
            rec.insert(format!("k{i}"), json!(i));
        }
        rec.insert("x".repeat(1000), json!(1));
        let (_, s) = run(&[], true, Value::Object(rec));
        assert_eq!(s.stripped, 101);
        assert_eq!(s.stripped_fields.len(), MAX_STRIPPED_FIELDS);
        assert!(
            s.stripped_fields
                .iter()
                .all(|n| n.len() <= MAX_STRIPPED_NAME)
        );
    }

    /// A `self` title survives only when it is the record's display value at `read`; page link
    /// titles never do.
    #[test]
    fn titles_follow_the_display_field() {
        let rec = |title: &str| {
            json!({"_links": {"self": {"href": "http://up/v1/d/t/1", "title": title}},
                "id": 1, "naam": "Jansen", "geheim": "s3cr3t"})
        };
        let (out, _) = run(&[], true, rec("Jansen"));
        assert_eq!(out["_links"]["self"]["title"], "Jansen");
        let (out, _) = run(&[], true, rec("s3cr3t"));
        assert_eq!(out["_links"]["self"].get("title"), None);
        let (out, _) = run(
            &[],
            false,
            json!({"_links": {"self": {"href": "h", "title": "s3cr3t"}},
            "_embedded": {"t": []}}),
        );
        assert_eq!(out["_links"]["self"].get("title"), None);
    }

    /// A policy with every representation. Table `t` behind `T`, in it `kenmerk` behind
    /// `KENMERK`, `geheim` and `adres.huisnummer` behind `GEHEIM`; the profile for scope `P`
    /// opens `t` with only `naam` (the display field) at `letters:2`, `code` `encoded` and
    /// `kenmerk` `random`. Table `r` (the target of `t.rel`, and of its own `ouder`) has `geheim`
    /// behind `GEHEIM`, so it can be expanded with that scope only.
    fn rich_policy() -> Policy {
        let ds = json!({"type": "dataset", "id": "d", "tables": [
            {"id": "t", "type": "table", "auth": "T", "schema": {"identifier": ["id"],
                "display": "naam", "properties": {
                    "id": {"type": "integer"},
                    "naam": {"type": "string"},
                    "code": {"type": "string"},
                    "kenmerk": {"type": "string", "auth": "KENMERK"},
                    "geheim": {"type": "string", "auth": "GEHEIM"},
                    "adres": {"type": "object", "properties": {
                        "straat": {"type": "string"},
                        "huisnummer": {"type": "integer", "auth": "GEHEIM"}}},
                    "rel": {"type": "string", "relation": "d:r"}}}},
            {"id": "r", "type": "table", "schema": {"identifier": ["id"], "display": "naam",
                "properties": {"id": {"type": "string"}, "naam": {"type": "string"},
                    "geheim": {"type": "string", "auth": "GEHEIM"},
                    "ouder": {"type": "string", "relation": "d:r"}}}}]});
        let profile = json!({"type": "profile", "id": "p", "scopes": ["P"], "datasets": {"d": {
            "tables": {"t": {"fields": {
                "naam": "letters:2", "code": "encoded", "kenmerk": "random"}}}}}});
        let mut s = Sources::new();
        s.insert("d.json", serde_json::to_vec(&ds).unwrap());
        let mut p = Sources::new();
        p.insert("p.json", serde_json::to_vec(&profile).unwrap());
        Policy::new(load(&s, &p).unwrap(), "t")
    }

    /// JSON text as the upstream may write it: keys in any order, repeated, escaped.
    #[derive(Debug, Clone)]
    enum J {
        Raw(String),
        Obj(Vec<(&'static str, J)>),
        Arr(Vec<J>),
    }

    impl J {
        /// The text, and whether some object in it repeats a key.
        fn text(&self, spaced: bool) -> (String, bool) {
            let mut out = String::new();
            let mut dup = false;
            self.write(&mut out, &mut dup, spaced);
            (out, dup)
        }

        fn write(&self, out: &mut String, dup: &mut bool, spaced: bool) {
            let sep = if spaced { " " } else { "" };
            match self {
                J::Raw(t) => out.push_str(t),
                J::Arr(items) => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                            out.push_str(sep);
                        }
                        item.write(out, dup, spaced);
                    }
                    out.push(']');
                }
                J::Obj(members) => {
                    out.push('{');
                    out.push_str(sep);
                    let mut seen = HashSet::new();
                    for (i, (k, v)) in members.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                            out.push_str(sep);
                        }
                        let decoded: String = serde_json::from_str(k).unwrap();
                        *dup |= !seen.insert(decoded);
                        out.push_str(k);
                        out.push(':');
                        out.push_str(sep);
                        v.write(out, dup, spaced);
                    }
                    out.push_str(sep);
                    out.push('}');
                }
            }
        }
    }

    mod bodies {
        use super::J;
        use proptest::prelude::*;

        pub fn scalar() -> BoxedStrategy<J> {
            prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                (-1e6f64..1e6).prop_map(serde_json::Value::from),
                prop::sample::select(vec![
                    "Jansen",
                    "1",
                    "Ja",
                    "",
                    "é ü",
                    "a\"b\\c",
                    "line\nbreak",
                    "\u{1}",
                    "s3cr3t",
                    "http://up/v1/d/t/1",
                ])
                .prop_map(serde_json::Value::from),
            ]
            .prop_map(|v| J::Raw(serde_json::to_string(&v).unwrap()))
            .boxed()
        }

        /// Any value without repeated keys.
        pub fn plain() -> BoxedStrategy<J> {
            scalar()
                .prop_recursive(2, 8, 3, |inner| {
                    prop_oneof![
                        prop::collection::vec(inner.clone(), 0..3).prop_map(J::Arr),
                        prop::collection::btree_map(
                            prop::sample::select(vec!["\"a\"", "\"straat\"", "\"x\""]),
                            inner,
                            0..3
                        )
                        .prop_map(|m| J::Obj(m.into_iter().collect())),
                    ]
                })
                .boxed()
        }

        fn members(
            keys: Vec<&'static str>,
            value: impl Fn(&'static str) -> BoxedStrategy<J> + 'static,
            n: std::ops::Range<usize>,
        ) -> BoxedStrategy<J> {
            // Mostly distinct keys (as a well-behaved upstream writes them), sometimes repeated.
            (
                prop::collection::vec(
                    prop::sample::select(keys).prop_flat_map(move |k| (Just(k), value(k))),
                    n,
                ),
                0..5u8,
            )
                .prop_map(|(mut members, repeat)| {
                    if repeat > 0 {
                        let mut seen = std::collections::HashSet::new();
                        members.retain(|(k, _)| {
                            seen.insert(serde_json::from_str::<String>(k).unwrap())
                        });
                    }
                    J::Obj(members)
                })
                .boxed()
        }

        fn link() -> BoxedStrategy<J> {
            let href = prop_oneof![
                prop::sample::select(vec![
                    "\"http://up/v1/d/t/1\"",
                    "\"http://up/v1/d?page=2\"",
                    "\"http://up/elders\"",
                    "\"https://elders.example/x\"",
                    "\"http://up/v1/d/\\u0074/2\"",
                ])
                .prop_map(|s| J::Raw(s.to_owned())),
                scalar(),
            ];
            let one = prop_oneof![
                3 => members(
                    vec!["\"href\"", "\"title\"", "\"id\""],
                    move |k| if k == "\"href\"" { href.clone().boxed() } else { scalar() },
                    0..4,
                ),
                1 => scalar(),
            ];
            prop_oneof![
                3 => one.clone(),
                1 => prop::collection::vec(one, 0..3).prop_map(J::Arr),
            ]
            .boxed()
        }

        pub fn links() -> BoxedStrategy<J> {
            prop_oneof![
                5 => members(
                    vec![
                        "\"self\"", "\"schema\"", "\"rel\"", "\"ouder\"", "\"andere\"",
                        "\"next\"", "\"last\"",
                    ],
                    |_| link(),
                    0..4,
                ),
                1 => scalar(),
            ]
            .boxed()
        }

        pub fn record(depth: u32) -> BoxedStrategy<J> {
            let mut keys = vec![
                "\"id\"",
                "\"naam\"",
                "\"na\\u0061m\"",
                "\"code\"",
                "\"kenmerk\"",
                "\"geheim\"",
                "\"adres\"",
                "\"rel\"",
                "\"ouder\"",
                "\"onbekend\"",
                "\"adres.straat\"",
                "\"_links\"",
            ];
            if depth > 0 {
                keys.push("\"_embedded\"");
            }
            members(
                keys,
                move |k| match k {
                    "\"_links\"" => links(),
                    "\"_embedded\"" => embedded(depth - 1),
                    "\"adres\"" => prop_oneof![
                        3 => members(
                            vec!["\"straat\"", "\"huisnummer\"", "\"toevoeging\""],
                            |_| scalar(),
                            0..4,
                        ),
                        1 => prop::collection::vec(
                            members(vec!["\"straat\"", "\"huisnummer\""], |_| scalar(), 0..3),
                            0..3,
                        )
                        .prop_map(J::Arr),
                        1 => scalar(),
                    ]
                    .boxed(),
                    _ => plain(),
                },
                0..9,
            )
        }

        fn related(depth: u32) -> BoxedStrategy<J> {
            prop_oneof![
                3 => prop::collection::vec(
                    prop_oneof![4 => record(depth), 1 => scalar()],
                    0..3
                )
                .prop_map(J::Arr),
                1 => record(depth),
                1 => scalar(),
            ]
            .boxed()
        }

        pub fn embedded(depth: u32) -> BoxedStrategy<J> {
            prop_oneof![
                5 => members(
                    vec!["\"rel\"", "\"ouder\"", "\"andere\"", "\"t\""],
                    move |_| related(depth),
                    0..3,
                ),
                1 => scalar(),
            ]
            .boxed()
        }

        pub fn list() -> BoxedStrategy<J> {
            let embedded = prop_oneof![
                8 => members(
                    vec!["\"t\"", "\"rel\"", "\"zzz\""],
                    |_| related(1),
                    0..4,
                ),
                1 => scalar(),
            ];
            let others = members(
                vec!["\"_links\"", "\"page\"", "\"extra\""],
                |k| match k {
                    "\"_links\"" => links(),
                    _ => plain(),
                },
                0..4,
            );
            prop_oneof![
                8 => (others.clone(), embedded, 0..4usize).prop_map(|(o, e, at)| {
                    let J::Obj(mut members) = o else { unreachable!() };
                    members.insert(at.min(members.len()), ("\"_embedded\"", e));
                    J::Obj(members)
                }),
                1 => others,
                1 => scalar(),
            ]
            .boxed()
        }
    }

    /// The normalised output and the summary of one form, or its error.
    type Outcome = Result<(String, Summary), String>;

    /// What the tree form makes of a body, and what the single pass does, for one caller.
    fn both_forms(
        p: &Policy,
        scopes: &[&str],
        fields: Option<Vec<String>>,
        detail: bool,
        text: &str,
    ) -> (Outcome, Option<(String, Summary)>) {
        let set = p.scope_set(scopes);
        let plan = p.plan("d.t", &set).unwrap();
        let links = rewriter();
        let key = EncodingKey::new(vec![1u8; 32]).unwrap();
        let filter = || {
            HalFilter::new(
                p,
                &set,
                &links,
                Projector::new(&key, [7; 32]),
                fields.clone(),
            )
        };
        let tree = serde_json::from_str::<Value>(text)
            .map_err(|e| e.to_string())
            .and_then(|mut v| {
                let s = if detail {
                    filter().detail(&plan, &mut v)
                } else {
                    filter().list(&plan, "t", &mut v)
                }
                .map_err(|e| e.to_string())?;
                Ok((serde_json::to_string(&v).unwrap(), s))
            });
        let mut f = filter();
        let pass = if detail {
            stream::detail(&mut f, &plan, text)
        } else {
            stream::list(&mut f, &plan, "t", text)
        };
        let pass = pass.map(|out| {
            let v: Value = serde_json::from_slice(&out).unwrap_or_else(|e| {
                panic!(
                    "the pass wrote invalid JSON ({e}): {}",
                    String::from_utf8_lossy(&out)
                )
            });
            (serde_json::to_string(&v).unwrap(), f.summary.clone())
        });
        (tree, pass)
    }

    fn check_agreement(
        text: &str,
        dup: bool,
        detail: bool,
        scopes: &[&str],
        fields: Option<Vec<String>>,
    ) {
        let p = rich_policy();
        let (tree, pass) = both_forms(&p, scopes, fields, detail, text);
        match (&tree, &pass) {
            (Ok(t), Some(s)) => assert_eq!(t, s, "on {text}"),
            (Err(_), None) => {}
            (Ok(_), None) => assert!(
                dup,
                "the pass gave up on a body without repeated keys: {text}"
            ),
            (Err(e), Some(_)) => panic!("the pass took a body the tree form refuses ({e}): {text}"),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(768))]

        /// On every body the single pass takes, it writes what the tree form writes (same
        /// members, same order, same values) and counts the same; it takes every body without
        /// repeated keys that the tree form takes, and none that the tree form refuses.
        #[test]
        fn single_pass_agrees_with_the_tree_form(
            list in bodies::list(),
            record in bodies::record(2),
            spaced in proptest::prelude::any::<bool>(),
            scopes in proptest::sample::select(vec![
                vec![], vec!["P"], vec!["P", "GEHEIM"], vec!["T"], vec!["T", "GEHEIM"],
                vec!["P", "T", "KENMERK", "GEHEIM"],
            ]),
            fields in proptest::sample::select(vec![
                None,
                Some(vec!["naam".to_owned()]),
                Some(vec!["id".to_owned(), "adres.straat".to_owned()]),
                Some(vec!["adres".to_owned(), "rel".to_owned()]),
            ]),
        ) {
            let (text, dup) = list.text(spaced);
            check_agreement(&text, dup, false, &scopes, fields.clone());
            let (text, dup) = record.text(spaced);
            check_agreement(&text, dup, true, &scopes, fields);
        }
    }

    /// Bodies the pass leaves to the tree form, which answers them (or refuses them) itself.
    #[test]
    fn the_tree_form_decides_what_the_pass_does_not_take() {
        let p = rich_policy();
        for (text, detail) in [
            (r#"{"_embedded": {"t": [{"id": 1, "id": 2}]}}"#, false),
            (
                r#"{"_links": {}, "_links": {}, "_embedded": {"t": []}}"#,
                false,
            ),
            (r#"{"_embedded": {"t": {}}}"#, false),
            (r#"{"_links": {}}"#, false),
            (r#"[1, 2]"#, false),
            (
                r#"{"id": 1, "_links": {"self": {"href": "a", "href": "b"}}}"#,
                true,
            ),
            (r#"{"id": 1} trailing"#, true),
            (r#"{"id": 1, "naam": "\ud800"}"#, true),
        ] {
            let (tree, pass) = both_forms(&p, &["P"], None, detail, text);
            assert!(pass.is_none(), "{text}");
            let set = p.scope_set(&["P"]);
            let plan = p.plan("d.t", &set).unwrap();
            let links = rewriter();
            let key = EncodingKey::new(vec![1u8; 32]).unwrap();
            let f = HalFilter::new(&p, &set, &links, Projector::new(&key, [7; 32]), None);
            let via_bytes = if detail {
                f.detail_bytes(&plan, text.as_bytes())
            } else {
                f.list_bytes(&plan, "t", text.as_bytes())
            };
            match (tree, via_bytes) {
                (Ok((t, ts)), Ok((b, bs))) => {
                    let b: Value = serde_json::from_slice(&b).unwrap();
                    assert_eq!(t, serde_json::to_string(&b).unwrap(), "{text}");
                    assert_eq!(ts, bs);
                }
                (Err(_), Err(_)) => {}
                (t, b) => panic!("{text}: tree {t:?}, bytes {b:?}"),
            }
        }
    }

    /// The pass follows `_embedded` to [`MAX_DEPTH`] levels and leaves deeper bodies to the tree
    /// form, which refuses what is deeper than serde_json's limit of 128. Nesting inside a value
    /// the pass skips is scanned without recursion, so its stack stays bounded there too.
    #[test]
    fn deep_embedding_is_bounded() {
        let p = rich_policy();
        let nest = |levels: u32| {
            let mut text = String::from(r#"{"id": "r"}"#);
            for _ in 1..levels {
                text = format!(r#"{{"id": "r", "_embedded": {{"ouder": {text}}}}}"#);
            }
            format!(r#"{{"id": 1, "_embedded": {{"rel": {text}}}}}"#)
        };
        let (tree, pass) = both_forms(&p, &["T", "GEHEIM"], None, true, &nest(MAX_DEPTH));
        assert_eq!(tree.unwrap(), pass.unwrap());
        let (tree, pass) = both_forms(&p, &["T", "GEHEIM"], None, true, &nest(MAX_DEPTH + 1));
        assert!(tree.is_ok() && pass.is_none());
        let mut text = String::from("1");
        for _ in 0..100_000 {
            text = format!(r#"{{"_embedded": {{"ouder": {text}}}}}"#);
        }
        let text = format!(r#"{{"_embedded": {{"rel": {text}}}}}"#);
        let (tree, pass) = both_forms(&p, &["T", "GEHEIM"], None, true, &text);
        assert!(tree.is_err() && pass.is_none());
        // Without `GEHEIM` the relation cannot be expanded: the pass skips it whole.
        let (tree, pass) = both_forms(&p, &["T"], None, true, &text);
        assert!(tree.is_err());
        assert_eq!(pass.unwrap().0, "{}");
    }

    /// A value copied whole keeps the upstream's spelling of numbers.
    #[test]
    fn copied_numbers_keep_their_text() {
        let p = rich_policy();
        let set = p.scope_set(&["T"]);
        let plan = p.plan("d.t", &set).unwrap();
        let links = rewriter();
        let key = EncodingKey::new(vec![1u8; 32]).unwrap();
        let f = HalFilter::new(&p, &set, &links, Projector::new(&key, [7; 32]), None);
        let (out, _) = f
            .detail_bytes(
                &plan,
                br#"{"id": 123456789012345678901234567890, "naam": "Jansen", "x": 1e2}"#,
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"id":123456789012345678901234567890,"naam":"Jansen"}"#
        );
    }

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
