//! DSO-style query parameters: pagination, filters with operators, `_sort`, `_fields`,
//! `_expand` / `_expandScope`.
//!
//! Filters and sort keys address leaf fields by dotted path; a path through an array of objects
//! (`regimes.eindtijd`) matches when any element matches, as DSO does for nested tables.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::data::Table;
use crate::problem::{InvalidParam, Problem};

/// Default `_pageSize`.
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// Largest `_pageSize` honoured; larger values are clamped (as DRF does).
pub const MAX_PAGE_SIZE: usize = 1000;

/// One `name=value` pair of the query string, raw and decoded.
#[derive(Debug, Clone)]
pub(crate) struct Pair {
    pub(crate) raw: String,
    pub(crate) key: String,
    pub(crate) value: String,
}

/// Splits and percent-decodes a query string (`+` is a space, as in HTML forms).
pub(crate) fn parse_pairs(query: Option<&str>) -> Vec<Pair> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|raw| {
            let (k, v) = raw.split_once('=').unwrap_or((raw, ""));
            Pair {
                raw: raw.to_owned(),
                key: percent_decode(k),
                value: percent_decode(v),
            }
        })
        .collect()
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A comparison operator of a filter (`name[op]=value`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Eq(String),
    Not(String),
    Gt(String),
    Gte(String),
    Lt(String),
    Lte(String),
    Like(String),
    In(Vec<String>),
    IsNull(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Filter {
    path: Vec<String>,
    op: Op,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SortKey {
    path: Vec<String>,
    descending: bool,
}

/// A `_fields` selection as a tree of names.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct FieldTree(BTreeMap<String, Option<FieldTree>>);

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Fields {
    Include(FieldTree),
    Exclude(FieldTree),
}

/// Everything a list or detail request asked for.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    pub(crate) pairs: Vec<Pair>,
    pub(crate) page: usize,
    pub(crate) page_size: usize,
    pub(crate) filters: Vec<Filter>,
    pub(crate) sort: Vec<SortKey>,
    pub(crate) fields: Option<Fields>,
    /// Names of the relations to embed.
    pub(crate) expand: Vec<&'static str>,
}

/// Parameters that are never filters.
const RESERVED: &[&str] = &[
    "page",
    "_pageSize",
    "page_size",
    "_sort",
    "_fields",
    "fields",
    "_expand",
    "_expandScope",
    "_format",
    "_count",
];

impl Params {
    /// Parses and validates the query against `table`. For a detail request (`list == false`)
    /// filters, sorting and paging are not applied, and unknown names there are ignored as
    /// DSO does.
    pub(crate) fn parse(table: &Table, query: Option<&str>, list: bool) -> Result<Self, Problem> {
        let pairs = parse_pairs(query);
        let mut invalid = Vec::new();
        let mut params = Params {
            pairs: pairs.clone(),
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
            filters: Vec::new(),
            sort: Vec::new(),
            fields: None,
            expand: Vec::new(),
        };
        for pair in &pairs {
            let key = pair.key.as_str();
            let value = pair.value.as_str();
            match key {
                "page" if list => match value.parse::<usize>() {
                    Ok(n) if n >= 1 => params.page = n,
                    _ => invalid.push(InvalidParam::new(
                        key,
                        "invalid",
                        "A page number is a positive integer.",
                    )),
                },
                "_pageSize" | "page_size" if list => match value.parse::<usize>() {
                    Ok(n) if n >= 1 => params.page_size = n.min(MAX_PAGE_SIZE),
                    _ => invalid.push(InvalidParam::new(
                        key,
                        "invalid",
                        "A page size is a positive integer.",
                    )),
                },
                "_sort" if list => match parse_sort(table, value) {
                    Ok(s) => params.sort = s,
                    Err(p) => invalid.push(p),
                },
                "_fields" | "fields" => match parse_fields(table, key, value) {
                    Ok(f) => params.fields = Some(f),
                    Err(p) => invalid.push(p),
                },
                "_expand" => match value {
                    "true" => params.expand = table.relations().iter().map(|r| r.name).collect(),
                    "false" | "" => {}
                    _ => invalid.push(InvalidParam::new(key, "invalid", "Use true or false.")),
                },
                "_expandScope" => {
                    for name in value.split(',').filter(|n| !n.is_empty()) {
                        match table.relations().iter().find(|r| r.name == name) {
                            Some(r) => {
                                if !params.expand.contains(&r.name) {
                                    params.expand.push(r.name);
                                }
                            }
                            None => invalid.push(InvalidParam::new(
                                key,
                                "invalid",
                                &format!("Eager loading is not supported for field '{name}'."),
                            )),
                        }
                    }
                }
                _ if RESERVED.contains(&key) => {}
                _ if !list => {}
                _ => match parse_filter(table, key, value) {
                    Ok(f) => params.filters.push(f),
                    Err(p) => invalid.push(p),
                },
            }
        }
        if invalid.is_empty() {
            Ok(params)
        } else {
            Err(Problem::invalid_params(invalid))
        }
    }
}

/// Resolves a user-facing field name to a record path: a leaf path, or a relation name (which
/// filters on the relation's key field, as DSO allows `cluster=C0001`).
fn resolve_path(table: &Table, name: &str) -> Option<Vec<String>> {
    if table.field_paths().contains(&name) {
        return Some(name.split('.').map(str::to_owned).collect());
    }
    table
        .relations()
        .iter()
        .find(|r| r.name == name || format!("{}.id", r.name) == name)
        .map(|r| vec![r.key_field.to_owned()])
}

fn parse_filter(table: &Table, key: &str, value: &str) -> Result<Filter, InvalidParam> {
    let (name, op) = match key.strip_suffix(']').and_then(|k| k.split_once('[')) {
        Some((name, op)) => (name, op),
        None => (key, ""),
    };
    let Some(path) = resolve_path(table, name) else {
        return Err(InvalidParam::new(
            key,
            "unknown_field",
            &format!("Field '{name}' does not exist in table '{}'.", table.name()),
        ));
    };
    let v = value.to_owned();
    let op = match op {
        "" | "exact" => Op::Eq(v),
        "not" => Op::Not(v),
        "gt" => Op::Gt(v),
        "gte" => Op::Gte(v),
        "lt" => Op::Lt(v),
        "lte" => Op::Lte(v),
        "like" => Op::Like(v),
        "in" => Op::In(value.split(',').map(str::to_owned).collect()),
        "isnull" => match value {
            "true" | "1" => Op::IsNull(true),
            "false" | "0" => Op::IsNull(false),
            _ => {
                return Err(InvalidParam::new(
                    key,
                    "invalid",
                    "isnull takes true or false.",
                ));
            }
        },
        other => {
            return Err(InvalidParam::new(
                key,
                "unknown_operator",
                &format!("Operator '{other}' is not supported."),
            ));
        }
    };
    Ok(Filter { path, op })
}

fn parse_sort(table: &Table, value: &str) -> Result<Vec<SortKey>, InvalidParam> {
    value
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (descending, name) = match item.strip_prefix('-') {
                Some(n) => (true, n),
                None => (false, item),
            };
            resolve_path(table, name)
                .map(|path| SortKey { path, descending })
                .ok_or_else(|| {
                    InvalidParam::new(
                        "_sort",
                        "unknown_field",
                        &format!("Cannot sort on unknown field '{name}'."),
                    )
                })
        })
        .collect()
}

fn parse_fields(table: &Table, key: &str, value: &str) -> Result<Fields, InvalidParam> {
    let items: Vec<&str> = value.split(',').filter(|s| !s.is_empty()).collect();
    let negative = items.iter().filter(|i| i.starts_with('-')).count();
    if negative != 0 && negative != items.len() {
        return Err(InvalidParam::new(
            key,
            "invalid",
            "Cannot mix included and excluded fields.",
        ));
    }
    let mut tree = FieldTree::default();
    for item in items {
        let name = item.trim_start_matches('-');
        let known = table.relations().iter().any(|r| r.name == name)
            || table
                .field_paths()
                .iter()
                .any(|p| *p == name || p.starts_with(&format!("{name}.")));
        if !known {
            return Err(InvalidParam::new(
                key,
                "unknown_field",
                &format!("Field '{name}' does not exist in table '{}'.", table.name()),
            ));
        }
        tree.insert(name.split('.'));
    }
    Ok(if negative > 0 {
        Fields::Exclude(tree)
    } else {
        Fields::Include(tree)
    })
}

impl FieldTree {
    fn insert<'a>(&mut self, mut segments: impl Iterator<Item = &'a str>) {
        let Some(first) = segments.next() else {
            return;
        };
        let rest: Vec<&str> = segments.collect();
        let entry = self.0.entry(first.to_owned());
        if rest.is_empty() {
            // The whole subtree; it wins over any narrower selection.
            *entry.or_default() = None;
        } else {
            let slot = entry.or_insert_with(|| Some(FieldTree::default()));
            if let Some(sub) = slot {
                sub.insert(rest.into_iter());
            }
        }
    }
}

impl Fields {
    /// Applies the selection to a record's fields (not to `_links`, which always stay).
    pub(crate) fn apply(&self, record: &Map<String, Value>) -> Map<String, Value> {
        match self {
            Fields::Include(tree) => include(record, tree),
            Fields::Exclude(tree) => exclude(record, tree),
        }
    }
}

fn include(map: &Map<String, Value>, tree: &FieldTree) -> Map<String, Value> {
    map.iter()
        .filter_map(|(k, v)| match tree.0.get(k) {
            None => None,
            Some(None) => Some((k.clone(), v.clone())),
            Some(Some(sub)) => Some((k.clone(), map_value(v, sub, include))),
        })
        .collect()
}

fn exclude(map: &Map<String, Value>, tree: &FieldTree) -> Map<String, Value> {
    map.iter()
        .filter_map(|(k, v)| match tree.0.get(k) {
            None => Some((k.clone(), v.clone())),
            Some(None) => None,
            Some(Some(sub)) => Some((k.clone(), map_value(v, sub, exclude))),
        })
        .collect()
}

fn map_value(
    v: &Value,
    tree: &FieldTree,
    f: fn(&Map<String, Value>, &FieldTree) -> Map<String, Value>,
) -> Value {
    match v {
        Value::Object(m) => Value::Object(f(m, tree)),
        Value::Array(items) => Value::Array(items.iter().map(|i| map_value(i, tree, f)).collect()),
        other => other.clone(),
    }
}

/// The leaf values at `path`, flattening arrays on the way.
fn collect<'v>(v: &'v Value, path: &[String], out: &mut Vec<&'v Value>) {
    match (v, path.split_first()) {
        (Value::Array(items), _) => {
            for item in items {
                collect(item, path, out);
            }
        }
        (_, None) => out.push(v),
        (Value::Object(m), Some((head, rest))) => {
            if let Some(child) = m.get(head) {
                collect(child, rest, out);
            }
        }
        _ => {}
    }
}

fn values_at<'v>(record: &'v Map<String, Value>, path: &[String]) -> Vec<&'v Value> {
    let mut out = Vec::new();
    if let Some((head, rest)) = path.split_first()
        && let Some(v) = record.get(head)
    {
        collect(v, rest, &mut out);
    }
    out
}

/// The value as a filter compares it; `None` for null.
fn render(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// Numbers compare numerically when the operand is numeric; everything else as strings (ISO
/// dates and `HH:MM` times sort correctly that way).
fn compare(v: &Value, operand: &str) -> Option<Ordering> {
    if let (Value::Number(n), Ok(o)) = (v, operand.parse::<f64>()) {
        return n.as_f64().and_then(|x| x.partial_cmp(&o));
    }
    render(v).map(|s| s.as_str().cmp(operand))
}

fn equals(v: &Value, operand: &str) -> bool {
    compare(v, operand) == Some(Ordering::Equal) || render(v).is_some_and(|s| s == operand)
}

/// `*` matches any run of characters, `?` exactly one; everything else literally.
pub(crate) fn like(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

impl Filter {
    pub(crate) fn matches(&self, record: &Map<String, Value>) -> bool {
        let values = values_at(record, &self.path);
        let non_null = || values.iter().filter(|v| !v.is_null());
        match &self.op {
            Op::Eq(o) => non_null().any(|v| equals(v, o)),
            Op::Not(o) => !non_null().any(|v| equals(v, o)),
            Op::Gt(o) => non_null().any(|v| compare(v, o) == Some(Ordering::Greater)),
            Op::Gte(o) => non_null()
                .any(|v| matches!(compare(v, o), Some(Ordering::Greater | Ordering::Equal))),
            Op::Lt(o) => non_null().any(|v| compare(v, o) == Some(Ordering::Less)),
            Op::Lte(o) => {
                non_null().any(|v| matches!(compare(v, o), Some(Ordering::Less | Ordering::Equal)))
            }
            Op::Like(p) => non_null().any(|v| render(v).is_some_and(|s| like(p, &s))),
            Op::In(list) => non_null().any(|v| list.iter().any(|o| equals(v, o))),
            Op::IsNull(want) => non_null().next().is_none() == *want,
        }
    }
}

fn sort_value<'v>(record: &'v Map<String, Value>, path: &[String]) -> Option<&'v Value> {
    values_at(record, path).into_iter().find(|v| !v.is_null())
}

fn cmp_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .zip(y.as_f64())
            .and_then(|(x, y)| x.partial_cmp(&y))
            .unwrap_or(Ordering::Equal),
        (Some(x), Some(y)) => render(x).cmp(&render(y)),
    }
}

/// Stable sort of record indices by the sort keys.
pub(crate) fn sort(records: &[Map<String, Value>], rows: &mut [usize], keys: &[SortKey]) {
    if keys.is_empty() {
        return;
    }
    rows.sort_by(|&a, &b| {
        let (Some(ra), Some(rb)) = (records.get(a), records.get(b)) else {
            return Ordering::Equal;
        };
        for key in keys {
            let ord = cmp_values(sort_value(ra, &key.path), sort_value(rb, &key.path));
            let ord = if key.descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn like_wildcards() {
        assert!(like("10*", "1011AB"));
        assert!(like("*AB", "1011AB"));
        assert!(like("1?11*", "1011AB"));
        assert!(like("*", ""));
        assert!(like("a*b*c", "aXXbYYc"));
        assert!(!like("a*b*c", "aXXbYY"));
        assert!(!like("10", "1011AB"));
        assert!(like("Zo*", "Zoë"));
    }

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("a%5Bgte%5D"), "a[gte]");
        assert_eq!(percent_decode("de+Vries"), "de Vries");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%C3%AB"), "ë");
    }

    #[test]
    fn array_paths_match_any_element() {
        let rec = json!({"regimes": [{"eindtijd": "07:00"}, {"eindtijd": "23:59"}]});
        let Value::Object(m) = rec else {
            unreachable!()
        };
        let path = vec!["regimes".to_owned(), "eindtijd".to_owned()];
        let f = |op| Filter {
            path: path.clone(),
            op,
        };
        assert!(f(Op::Eq("23:59".into())).matches(&m));
        assert!(f(Op::Gte("20:00".into())).matches(&m));
        assert!(!f(Op::Gt("23:59".into())).matches(&m));
        assert!(f(Op::Lt("08:00".into())).matches(&m));
        assert!(!f(Op::IsNull(true)).matches(&m));
        assert!(f(Op::In(vec!["01:00".into(), "07:00".into()])).matches(&m));
    }

    #[test]
    fn numbers_compare_numerically() {
        let Value::Object(m) = json!({"aantal": 2.0, "id": 10}) else {
            unreachable!()
        };
        let f = |p: &str, op| Filter {
            path: vec![p.to_owned()],
            op,
        };
        assert!(f("aantal", Op::Eq("2".into())).matches(&m));
        assert!(f("aantal", Op::Eq("2.0".into())).matches(&m));
        assert!(f("id", Op::Gt("9".into())).matches(&m));
        assert!(!f("id", Op::Lt("9".into())).matches(&m));
    }
}
