//! The BRP policy: a sluis TOML file, parsed once into valid types.
//!
//! Why not Amsterdam Schema: a BRP request is a `POST` whose `type` selects one of seven query
//! types and whose body carries parameter values (a municipality code, `inclusiefOverledenPersonen`)
//! that themselves need authorization. Amsterdam Schema describes tables, fields and row filters
//! of GET-style dataset APIs; it has no notion of query types, of rules on parameter *values*, of
//! injecting parameters, or of the BRP's auto-delivered flags. The format is documented field by
//! field in `docs/brp-policy.md`.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::contract::{ParamKind, QueryType, all_parameters};
use crate::error::{BrpError, PolicyProblem};
use crate::gemeenten::{gemeente_name, is_current_municipality};
use crate::paths::{AutoField, ResponseShape, names_auto_field};

/// Who a rule lets through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Every caller (`"everyone"`).
    Everyone,
    /// No caller (`"never"`).
    Never,
    /// A caller holding any one of these scopes (`["SCOPE", ...]`, never empty).
    AnyOf(Vec<String>),
}

impl Who {
    /// Whether a caller with these scopes is let through.
    pub fn allows(&self, scopes: &[String]) -> bool {
        match self {
            Who::Everyone => true,
            Who::Never => false,
            Who::AnyOf(needed) => needed.iter().any(|n| scopes.contains(n)),
        }
    }
}

/// A parameter name or value pattern: exact, or a prefix when written with a trailing `*`
/// (`huis*`) or `.*` (`adres.*`, which keeps the dot in the prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// Matches exactly this text.
    Exact(String),
    /// Matches any text starting with this prefix.
    Prefix(String),
}

impl Pattern {
    fn parse(text: &str) -> Pattern {
        match text.strip_suffix('*') {
            Some(prefix) => Pattern::Prefix(prefix.to_owned()),
            None => Pattern::Exact(text.to_owned()),
        }
    }

    /// Whether `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            Pattern::Exact(e) => e == text,
            Pattern::Prefix(p) => text.starts_with(p.as_str()),
        }
    }

    /// How specific a match is: an exact match beats every prefix, a longer prefix a shorter.
    fn rank(&self) -> usize {
        match self {
            Pattern::Exact(_) => usize::MAX,
            Pattern::Prefix(p) => p.len(),
        }
    }
}

/// The rule for the values of one parameter (or of the parameters a wildcard name matches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterRule {
    /// The parameter name pattern.
    pub name: Pattern,
    /// Who may use a value no entry in `values` matches; `None`: such values are refused
    /// (400, "ondersteunt niet de waarde(s)").
    pub default: Option<Who>,
    /// Rules for specific values (or value prefixes).
    pub values: Vec<(Pattern, Who)>,
}

/// What a parameter rule says about one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueVerdict {
    Allowed,
    Denied,
    Unsupported,
}

impl ParameterRule {
    pub(crate) fn judge(&self, value: &str, scopes: &[String]) -> ValueVerdict {
        let who = self
            .values
            .iter()
            .filter(|(p, _)| p.matches(value))
            .max_by_key(|(p, _)| p.rank())
            .map(|(_, w)| w)
            .or(self.default.as_ref());
        match who {
            None => ValueVerdict::Unsupported,
            Some(w) if w.allows(scopes) => ValueVerdict::Allowed,
            Some(_) => ValueVerdict::Denied,
        }
    }
}

/// The scopes that carry a special capability. Each is optional: when absent, nobody has the
/// capability.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialScopes {
    /// May search outside the own municipality.
    pub nationwide: Option<String>,
    /// Receives deceased persons in searches (`inclusiefOverledenPersonen`).
    pub deceased: Option<String>,
    /// Sees persons with `geheimhoudingPersoonsgegevens`.
    pub geheim: Option<String>,
    /// Receives sealed tokens instead of burgerservicenummers, and must send them back sealed.
    pub pseudonymous_bsn: Option<String>,
    /// May search by postcode outside the own municipality (enough on its own for that type).
    pub nationwide_postcode: Option<String>,
}

/// A validated BRP policy. Build it with [`BrpPolicy::from_toml_str`] or [`BrpPolicy::load`];
/// decide with [`BrpPolicy::decide`].
#[derive(Debug, Clone)]
pub struct BrpPolicy {
    pub(crate) municipality: String,
    pub(crate) scopes: SpecialScopes,
    pub(crate) query_types: BTreeMap<QueryType, Vec<String>>,
    pub(crate) own_municipality_only: BTreeSet<QueryType>,
    pub(crate) parameters: Vec<ParameterRule>,
    pub(crate) field_sets: BTreeMap<String, Vec<String>>,
    pub(crate) auto_delivered: BTreeMap<AutoField, Who>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    municipality: String,
    #[serde(default)]
    scopes: SpecialScopes,
    #[serde(default)]
    query_types: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    own_municipality_only: Vec<String>,
    #[serde(default)]
    parameters: BTreeMap<String, RawParameter>,
    #[serde(default)]
    field_sets: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    auto_delivered: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameter {
    default: Option<toml::Value>,
    #[serde(default)]
    values: BTreeMap<String, toml::Value>,
}

/// The policy's top-level keys that are not tables, for a hint when one is misplaced.
const TOP_LEVEL_KEYS: &[&str] = &["municipality", "own_municipality_only"];

/// Parameters whose rules are built in (municipality and deceased handling) and therefore
/// cannot be given a `[parameters]` rule.
const BUILT_IN_PARAMETERS: &[(&str, &str)] = &[
    (
        "gemeenteVanInschrijving",
        "is governed by `municipality`, `scopes.nationwide`, `scopes.nationwide_postcode` and `own_municipality_only`",
    ),
    (
        "inclusiefOverledenPersonen",
        "is governed by `scopes.deceased`",
    ),
];

struct Problems<'a> {
    file: &'a str,
    list: Vec<PolicyProblem>,
}

impl Problems<'_> {
    fn push(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.list.push(PolicyProblem {
            file: self.file.to_owned(),
            key: key.into(),
            message: message.into(),
        });
    }
}

/// Quotes a TOML key when it is not a bare key.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_owned()
    } else {
        format!("{k:?}")
    }
}

impl BrpPolicy {
    /// Reads and validates a policy file. This is the crate's only file-system access.
    pub fn load(path: &Path) -> Result<BrpPolicy, BrpError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| BrpError::Read {
            file: file.clone(),
            message: e.to_string(),
        })?;
        BrpPolicy::from_toml_str(&text, &file)
    }

    /// Parses and validates policy text; `origin` names it in error messages (a file path).
    /// Every problem found is reported, each with its key path.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<BrpPolicy, BrpError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| BrpError::Syntax {
            file: origin.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let mut problems = Problems {
            file: origin,
            list: Vec::new(),
        };

        if !is_current_municipality(&raw.municipality) {
            let why = match gemeente_name(&raw.municipality) {
                Some(name) => format!("{name} is not a municipality"),
                None => "not a current municipality code of Tabel 33 (Gemeententabel)".to_owned(),
            };
            problems.push("municipality", format!("{:?}: {why}", raw.municipality));
        }

        let s = &raw.scopes;
        for (name, value) in [
            ("nationwide", &s.nationwide),
            ("deceased", &s.deceased),
            ("geheim", &s.geheim),
            ("pseudonymous_bsn", &s.pseudonymous_bsn),
            ("nationwide_postcode", &s.nationwide_postcode),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                problems.push(format!("scopes.{name}"), "empty scope name");
            }
        }

        let mut query_types = BTreeMap::new();
        for (name, scopes) in &raw.query_types {
            let at = format!("query_types.{}", key(name));
            let Some(t) = QueryType::from_name(name) else {
                let message = if TOP_LEVEL_KEYS.contains(&name.as_str()) {
                    format!(
                        "{name} belongs at the top level: in TOML, a key after a [table] header belongs to that table, so put top-level keys before the first [table]"
                    )
                } else {
                    format!("unknown query type; expected one of {}", type_names())
                };
                problems.push(at, message);
                continue;
            };
            if check_scope_list(&mut problems, &at, scopes) {
                query_types.insert(t, scopes.clone());
            }
        }

        let mut own_municipality_only = BTreeSet::new();
        for (i, name) in raw.own_municipality_only.iter().enumerate() {
            match QueryType::from_name(name) {
                Some(t) => {
                    own_municipality_only.insert(t);
                }
                None => problems.push(
                    format!("own_municipality_only[{i}]"),
                    format!(
                        "unknown query type {name:?}; expected one of {}",
                        type_names()
                    ),
                ),
            }
        }

        let mut parameters = Vec::new();
        for (name, rule) in &raw.parameters {
            if let Some(rule) = parameter_rule(&mut problems, name, rule) {
                parameters.push(rule);
            }
        }

        let mut field_sets = BTreeMap::new();
        for (scope, entries) in &raw.field_sets {
            let at = format!("field_sets.{}", key(scope));
            if scope.trim().is_empty() {
                problems.push(at.clone(), "empty scope name");
            }
            if entries.is_empty() {
                problems.push(at.clone(), "empty field set");
                continue;
            }
            let mut grants = Vec::new();
            for (i, entry) in entries.iter().enumerate() {
                match field_grant(entry) {
                    Ok(g) => grants.push(g),
                    Err(message) => problems.push(format!("{at}[{i}]"), message),
                }
            }
            field_sets.insert(scope.clone(), grants);
        }

        let mut auto_delivered = BTreeMap::new();
        for (name, value) in &raw.auto_delivered {
            let at = format!("auto_delivered.{}", key(name));
            let Some(flag) = AutoField::from_name(name) else {
                let names: Vec<&str> = AutoField::ALL.iter().map(|f| f.name()).collect();
                problems.push(
                    at,
                    format!(
                        "not an auto-delivered field; expected one of {}",
                        names.join(", ")
                    ),
                );
                continue;
            };
            if let Some(who) = who(&mut problems, &at, value) {
                auto_delivered.insert(flag, who);
            }
        }

        if !problems.list.is_empty() {
            return Err(BrpError::Invalid(problems.list));
        }
        Ok(BrpPolicy {
            municipality: raw.municipality,
            scopes: raw.scopes,
            query_types,
            own_municipality_only,
            parameters,
            field_sets,
            auto_delivered,
        })
    }

    /// The own municipality's code (`gemeenteVanInschrijving`).
    pub fn municipality(&self) -> &str {
        &self.municipality
    }

    /// The scopes with special capabilities.
    pub fn special_scopes(&self) -> &SpecialScopes {
        &self.scopes
    }

    /// The scopes of which a caller needs one for a query type; `None` when no one may use it.
    pub fn query_type_scopes(&self, t: QueryType) -> Option<&[String]> {
        self.query_types.get(&t).map(Vec::as_slice)
    }

    /// Whether a query type may only search the own municipality.
    pub fn is_own_municipality_only(&self, t: QueryType) -> bool {
        self.own_municipality_only.contains(&t)
    }

    /// The parameter rules.
    pub fn parameter_rules(&self) -> &[ParameterRule] {
        &self.parameters
    }

    /// The field set a scope grants: paths, a group path granting everything below it (a
    /// written `.*` is folded into its group).
    pub fn field_set(&self, scope: &str) -> Option<&[String]> {
        self.field_sets.get(scope).map(Vec::as_slice)
    }

    /// All field sets by scope.
    pub fn field_sets(&self) -> &BTreeMap<String, Vec<String>> {
        &self.field_sets
    }

    /// Every scope the policy names (query types, parameter rules, field sets, special scopes,
    /// auto-delivered flags), sorted, without duplicates.
    pub fn scope_names(&self) -> Vec<String> {
        let mut out: BTreeSet<String> = BTreeSet::new();
        let who = |w: &Who, out: &mut BTreeSet<String>| {
            if let Who::AnyOf(list) = w {
                out.extend(list.iter().cloned());
            }
        };
        for list in self.query_types.values() {
            out.extend(list.iter().cloned());
        }
        for r in &self.parameters {
            if let Some(d) = &r.default {
                who(d, &mut out);
            }
            for (_, w) in &r.values {
                who(w, &mut out);
            }
        }
        out.extend(self.field_sets.keys().cloned());
        for w in self.auto_delivered.values() {
            who(w, &mut out);
        }
        let s = &self.scopes;
        for special in [
            &s.nationwide,
            &s.deceased,
            &s.geheim,
            &s.pseudonymous_bsn,
            &s.nationwide_postcode,
        ]
        .into_iter()
        .flatten()
        {
            out.insert(special.clone());
        }
        out.into_iter().collect()
    }

    /// Who receives an auto-delivered flag (everyone unless the policy says otherwise).
    pub fn auto_delivered(&self, flag: AutoField) -> &Who {
        self.auto_delivered.get(&flag).unwrap_or(&Who::Everyone)
    }

    /// The most specific parameter rule for a parameter name.
    pub(crate) fn rule_for(&self, name: &str) -> Option<&ParameterRule> {
        self.parameters
            .iter()
            .filter(|r| r.name.matches(name))
            .max_by_key(|r| r.name.rank())
    }
}

fn type_names() -> String {
    QueryType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_scope_list(problems: &mut Problems<'_>, at: &str, scopes: &[String]) -> bool {
    if scopes.is_empty() {
        problems.push(at, "empty scope list (leave the entry out to allow no one)");
        return false;
    }
    let mut ok = true;
    for (i, s) in scopes.iter().enumerate() {
        if s.trim().is_empty() {
            problems.push(format!("{at}[{i}]"), "empty scope name");
            ok = false;
        }
    }
    ok
}

fn who(problems: &mut Problems<'_>, at: &str, value: &toml::Value) -> Option<Who> {
    match value {
        toml::Value::String(s) if s == "everyone" => Some(Who::Everyone),
        toml::Value::String(s) if s == "never" => Some(Who::Never),
        toml::Value::Array(items) => {
            let mut scopes = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(s) => scopes.push(s.to_owned()),
                    None => {
                        problems.push(format!("{at}[{i}]"), "a scope must be a string");
                        return None;
                    }
                }
            }
            check_scope_list(problems, at, &scopes).then_some(Who::AnyOf(scopes))
        }
        _ => {
            problems.push(
                at,
                "expected \"everyone\", \"never\" or a list of scopes [\"SCOPE\", ...]",
            );
            None
        }
    }
}

fn parameter_rule(
    problems: &mut Problems<'_>,
    name: &str,
    raw: &RawParameter,
) -> Option<ParameterRule> {
    let at = format!("parameters.{}", key(name));
    let pattern = Pattern::parse(name);
    if name == "type" || name == "fields" {
        problems.push(
            at,
            "not a parameter rule: query types are under [query_types], fields under [field_sets]",
        );
        return None;
    }
    if let Pattern::Exact(exact) = &pattern
        && let Some((builtin, why)) = BUILT_IN_PARAMETERS.iter().find(|(b, _)| b == exact)
    {
        problems.push(at, format!("{builtin} {why}"));
        return None;
    }
    let known: Vec<_> = all_parameters()
        .into_iter()
        .filter(|p| pattern.matches(p.name))
        .filter(|p| !BUILT_IN_PARAMETERS.iter().any(|(b, _)| *b == p.name))
        .collect();
    if known.is_empty() {
        let hint = match pattern {
            Pattern::Exact(_) => "unknown parameter",
            Pattern::Prefix(_) => "the wildcard matches no parameter",
        };
        problems.push(at, hint);
        return None;
    }
    if raw.default.is_none() && raw.values.is_empty() {
        problems.push(at, "a rule needs `default`, `values`, or both");
        return None;
    }
    let default = match &raw.default {
        Some(v) => Some(who(problems, &format!("{at}.default"), v)?),
        None => None,
    };
    let kinds: Vec<ParamKind> = known.iter().map(|p| p.kind).collect();
    let mut values = Vec::new();
    for (value, rule) in &raw.values {
        let vat = format!("{at}.values.{}", key(value));
        let vp = Pattern::parse(value);
        if let Pattern::Exact(v) = &vp
            && !kinds.iter().any(|k| k.accepts(&json_value(*k, v)))
        {
            problems.push(
                vat.clone(),
                "no request can carry this value: it does not match the parameter's pattern",
            );
        }
        if let Some(w) = who(problems, &vat, rule) {
            values.push((vp, w));
        }
    }
    Some(ParameterRule {
        name: pattern,
        default,
        values,
    })
}

/// The JSON value a policy value key stands for, for a parameter kind.
fn json_value(kind: ParamKind, text: &str) -> Value {
    match kind {
        ParamKind::Boolean => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::from(text),
        },
        ParamKind::Huisnummer => text
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(text)),
        _ => Value::from(text),
    }
}

/// A field-set entry as a grant: `naam.*` and `naam` both grant `naam` and everything below.
fn field_grant(entry: &str) -> Result<String, String> {
    let (path, wildcard) = match entry.strip_suffix(".*") {
        Some(p) => (p, true),
        None => (entry, false),
    };
    if names_auto_field(path) {
        return Err(format!(
            "{entry:?} names an auto-delivered field; who receives it is set under [auto_delivered]"
        ));
    }
    let shape = ResponseShape::Persoon;
    if !shape.is_valid_path(path) {
        return Err(format!("{entry:?} is not a field of Persoon"));
    }
    let idx = shape.index();
    if wildcard && idx.children(path).is_empty() {
        return Err(format!(
            "{entry:?}: {path} has no sub-fields; write {path:?}"
        ));
    }
    let unit = idx.delivery_unit(path);
    if unit != path {
        return Err(format!(
            "{entry:?}: the BRP delivers {unit} whole when any part of it is asked for; grant {unit:?}"
        ));
    }
    Ok(path.to_owned())
}

/// The union of the field sets of the scopes a caller holds.
pub(crate) fn grants<'p>(policy: &'p BrpPolicy, scopes: &[String]) -> HashSet<&'p str> {
    scopes
        .iter()
        .filter_map(|s| policy.field_sets.get(s))
        .flatten()
        .map(String::as_str)
        .collect()
}
