//! Reading a rules file: TOML into raw structs (one section element at a time, so each problem
//! carries its key path), validation of every name against the catalog, and compilation into
//! the lookup tables [`super::Rules`] answers from.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Deserialize;
use sluis_policy::Level;

use super::catalog::{
    ACTION_COUNT, Action, LEGACY_SCOPE_PREFIX, ROLES, STANDARD_SCOPES, resource_actions,
};
use super::path::FieldPath;
use super::{
    Compiled, ExtraScope, FieldRule, InvolvementRule, ResourceFields, RuleProblem, Test, Who,
    WithholdRule, WriteRule,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    grants: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInvolvement {
    #[serde(default)]
    zaaktypen: Vec<String>,
    actions: Vec<String>,
    roles: Vec<String>,
    #[serde(default)]
    exempt: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    resource: String,
    path: String,
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    grants: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWithhold {
    resource: String,
    when: RawWhen,
    #[serde(default)]
    unless: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    field: String,
    #[serde(default, rename = "in")]
    one_of: Option<Vec<String>>,
    #[serde(default)]
    present: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWrites {
    resource: String,
    actions: Vec<String>,
    immutable: Vec<String>,
    #[serde(default)]
    unless: Vec<String>,
}

const SECTIONS: &[&str] = &["scopes", "involvement", "fields", "withhold", "writes"];

/// Quotes a TOML key when it is not a bare key, as a policy author would write it.
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

#[derive(Default)]
struct Problems(Vec<RuleProblem>);

impl Problems {
    fn push(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.0.push(RuleProblem {
            at: at.into(),
            message: message.into(),
        });
    }
}

/// A TOML syntax error: its position goes into `at` (the text has no key path yet), the reason
/// into `message`, without toml's source excerpt.
fn syntax_problem(error: &toml::de::Error) -> RuleProblem {
    let text = error.to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default();
    let reason = lines
        .rfind(|l| !l.starts_with('|') && !l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap_or(first);
    let at = first
        .strip_prefix("TOML parse error at ")
        .unwrap_or_default()
        .to_owned();
    RuleProblem {
        at,
        message: format!("TOML syntax: {reason}"),
    }
}

/// A serde error from one section element: serde's own path (`in `grants.a``) and an unknown
/// key's name are appended to `at`.
fn shape_problem(at: &str, error: &toml::de::Error) -> RuleProblem {
    let text = error.to_string();
    let mut reason = String::new();
    let mut inner: Option<String> = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line
            .strip_prefix("in `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            Some(p) => inner = Some(p.to_owned()),
            None if reason.is_empty() => reason = line.to_owned(),
            None => {}
        }
    }
    let mut at = at.to_owned();
    if let Some(p) = inner {
        at.push('.');
        at.push_str(&p);
    }
    if let Some((name, expected)) = reason
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
    {
        at.push('.');
        at.push_str(&key(name));
        let expected = expected.trim_start_matches(',').trim();
        return RuleProblem {
            at,
            message: format!("unknown key; {expected}"),
        };
    }
    if let Some((name, _)) = reason
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
    {
        return RuleProblem {
            at,
            message: format!("missing key `{name}`"),
        };
    }
    RuleProblem {
        at,
        message: reason,
    }
}

/// The elements of one `[[section]]`, each deserialized on its own.
fn elements<T: for<'de> Deserialize<'de>>(
    section: &str,
    value: toml::Value,
    problems: &mut Problems,
) -> Vec<(String, T)> {
    let toml::Value::Array(items) = value else {
        problems.push(
            section,
            format!("expected an array of tables: write each entry as [[{section}]]"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let at = format!("{section}[{i}]");
        if !item.is_table() {
            problems.push(at, "expected a table");
            continue;
        }
        match T::deserialize(item) {
            Ok(raw) => out.push((at, raw)),
            Err(e) => problems.0.push(shape_problem(&at, &e)),
        }
    }
    out
}

/// Names the caller may hold: the standard's scopes and the ones the file declares.
struct Known<'a> {
    declared: &'a HashMap<String, usize>,
}

impl Known<'_> {
    fn scope(&self, name: &str, at: &str, problems: &mut Problems) -> bool {
        if name.trim().is_empty() {
            problems.push(at, "empty scope name");
            return false;
        }
        if STANDARD_SCOPES.contains(&name) || self.declared.contains_key(name) {
            return true;
        }
        if let Some(short) = name.strip_prefix(LEGACY_SCOPE_PREFIX) {
            problems.push(
                at,
                format!(
                    "`{name}` uses the legacy prefix: the tokens and Applicaties carry the OAS name `{short}`"
                ),
            );
        } else {
            problems.push(
                at,
                format!(
                    "unknown scope `{name}`: neither a ZGW scope nor declared under [[scopes]]"
                ),
            );
        }
        false
    }

    /// A `who` entry: a scope, or `rol:<omschrijvingGeneriek>` where the check knows the user's
    /// rollen.
    fn who(
        &self,
        text: &str,
        roles_allowed: bool,
        at: &str,
        problems: &mut Problems,
    ) -> Option<Who> {
        if let Some(role) = text.strip_prefix("rol:") {
            if !roles_allowed {
                problems.push(
                    at,
                    format!(
                        "`{text}`: only scopes can be named here (this check does not know the user's rollen)"
                    ),
                );
                return None;
            }
            return role_name(role, at, problems).then(|| Who::Role(role.to_owned()));
        }
        self.scope(text, at, problems)
            .then(|| Who::Scope(text.to_owned()))
    }
}

fn role_name(role: &str, at: &str, problems: &mut Problems) -> bool {
    if ROLES.contains(&role) {
        return true;
    }
    let lower = role.to_ascii_lowercase();
    if ROLES.contains(&lower.as_str()) {
        problems.push(
            at,
            format!("unknown rol `{role}`: omschrijvingGeneriek values are lower case (`{lower}`)"),
        );
    } else {
        problems.push(
            at,
            format!(
                "unknown rol `{role}`: expected an omschrijvingGeneriek ({})",
                ROLES.join(", ")
            ),
        );
    }
    false
}

fn resource_name(resource: &str, at: &str, problems: &mut Problems) -> Option<&'static [Action]> {
    let actions = resource_actions(resource);
    if actions.is_none() {
        problems.push(
            at,
            format!("unknown resource `{resource}`: expected a ZGW resource such as zaak, status, rol, zaakobject, zaakinformatieobject, enkelvoudiginformatieobject, besluit"),
        );
    }
    actions
}

fn action_name(name: &str, at: &str, problems: &mut Problems) -> Option<Action> {
    let action = Action::parse(name);
    if action.is_none() {
        problems.push(
            at,
            format!(
                "unknown action `{name}`: expected one of {}",
                super::catalog::ACTIONS
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    action
}

/// Walks a list as written at `at`: reports an empty list (when `what` names what belongs in
/// it) and repeated entries, and keeps what `check` makes of each first occurrence.
fn each_once<'a, T>(
    list: &'a [String],
    at: &str,
    required: Option<&str>,
    problems: &mut Problems,
    mut check: impl FnMut(&'a str, &str, &mut Problems) -> Option<T>,
) -> Vec<T> {
    if let (true, Some(what)) = (list.is_empty(), required) {
        problems.push(at, format!("empty list: name at least one {what}"));
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for (j, item) in list.iter().enumerate() {
        let item_at = format!("{at}[{j}]");
        if seen.contains(&item.as_str()) {
            problems.push(&item_at, format!("`{item}` is listed twice"));
            continue;
        }
        seen.push(item);
        out.extend(check(item, &item_at, problems));
    }
    out
}

/// A path as written at `at`, or the problem with it.
fn field_path(text: &str, at: &str, problems: &mut Problems) -> Option<FieldPath> {
    FieldPath::parse(text)
        .map_err(|e| problems.push(at, e))
        .ok()
}

/// Normalizes a zaaktype URL for lookup. ZGW matches zaaktype URLs byte for byte; sluis only
/// forgives a trailing slash, which is how two spellings of one URL most often differ.
pub(crate) fn zaaktype_key(url: &str) -> &str {
    url.strip_suffix('/').unwrap_or(url)
}

pub(crate) fn compile(text: &str) -> Result<Compiled, Vec<RuleProblem>> {
    let table: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => return Err(vec![syntax_problem(&e)]),
    };
    let mut problems = Problems::default();
    let mut sections: HashMap<&str, toml::Value> = HashMap::new();
    for (name, value) in table {
        match SECTIONS.iter().find(|s| **s == name) {
            Some(s) => {
                sections.insert(s, value);
            }
            None => problems.push(
                key(&name),
                format!("unknown key; expected one of {}", SECTIONS.join(", ")),
            ),
        }
    }
    let mut take = |name: &str| sections.remove(name);
    let raw_scopes: Vec<(String, RawScope)> = take("scopes")
        .map(|v| elements("scopes", v, &mut problems))
        .unwrap_or_default();
    let raw_involvement: Vec<(String, RawInvolvement)> = take("involvement")
        .map(|v| elements("involvement", v, &mut problems))
        .unwrap_or_default();
    let raw_fields: Vec<(String, RawField)> = take("fields")
        .map(|v| elements("fields", v, &mut problems))
        .unwrap_or_default();
    let raw_withhold: Vec<(String, RawWithhold)> = take("withhold")
        .map(|v| elements("withhold", v, &mut problems))
        .unwrap_or_default();
    let raw_writes: Vec<(String, RawWrites)> = take("writes")
        .map(|v| elements("writes", v, &mut problems))
        .unwrap_or_default();

    let mut compiled = Compiled::default();
    let declared = scopes(raw_scopes, &mut compiled, &mut problems);
    let known = Known {
        declared: &declared,
    };
    involvement(raw_involvement, &known, &mut compiled, &mut problems);
    fields(raw_fields, &known, &mut compiled, &mut problems);
    withhold(raw_withhold, &known, &mut compiled, &mut problems);
    writes(raw_writes, &known, &mut compiled, &mut problems);

    if problems.0.is_empty() {
        Ok(compiled)
    } else {
        Err(problems.0)
    }
}

fn scopes(
    raw: Vec<(String, RawScope)>,
    compiled: &mut Compiled,
    problems: &mut Problems,
) -> HashMap<String, usize> {
    let mut declared: HashMap<String, usize> = HashMap::new();
    for (at, scope) in raw {
        let name_at = format!("{at}.name");
        let name = scope.name;
        let refusal = if name.trim().is_empty() || name.chars().any(char::is_whitespace) {
            Some("a scope name is non-empty and has no spaces".to_owned())
        } else if name.starts_with("rol:") {
            Some("`rol:` starts a rol reference, not a scope name".to_owned())
        } else if let Some(short) = name.strip_prefix(LEGACY_SCOPE_PREFIX) {
            Some(format!(
                "`{name}` uses the legacy prefix: declare `{short}`"
            ))
        } else if STANDARD_SCOPES.contains(&name.as_str()) && scope.grants.is_none() {
            Some(format!(
                "`{name}` is a ZGW scope already: list it here only with `grants` that add operations to it"
            ))
        } else if declared.contains_key(&name) {
            Some(format!("scope `{name}` is declared twice"))
        } else {
            None
        };
        if let Some(message) = refusal {
            problems.push(name_at, message);
            continue;
        }
        let grants_at = format!("{at}.grants");
        if scope.grants.as_ref().is_some_and(Vec::is_empty) {
            problems.push(
                &grants_at,
                "empty grants: leave `grants` out for a scope that only qualifies other rules",
            );
        }
        let grants = each_once(
            scope.grants.as_deref().unwrap_or_default(),
            &grants_at,
            None,
            problems,
            |grant, g_at, problems| {
                let Some((resource, action)) = grant.split_once('.') else {
                    problems.push(
                        g_at,
                        format!(
                            "`{grant}`: expected \"<resource>.<action>\", e.g. \"zaak.retrieve\""
                        ),
                    );
                    return None;
                };
                let offered = resource_name(resource, g_at, problems)?;
                let action = action_name(action, g_at, problems)?;
                if !offered.contains(&action) {
                    problems.push(
                        g_at,
                        format!(
                            "`{grant}`: the {resource} resource has no {} operation",
                            action.as_str()
                        ),
                    );
                    return None;
                }
                Some((resource.to_owned(), action))
            },
        );
        let index = compiled.scopes.len();
        for (resource, action) in &grants {
            let per_action = compiled
                .extra
                .entry(resource.clone())
                .or_insert_with(|| std::array::from_fn(|_| Vec::new()));
            if let Some(holders) = per_action.get_mut(action.index()) {
                holders.push(index);
            }
        }
        declared.insert(name.clone(), index);
        compiled.scopes.push(ExtraScope {
            name,
            description: scope.description,
            grants,
        });
    }
    declared
}

fn involvement(
    raw: Vec<(String, RawInvolvement)>,
    known: &Known<'_>,
    compiled: &mut Compiled,
    problems: &mut Problems,
) {
    // Which rule claimed each (zaaktype or every zaaktype, action), to report overlaps.
    let mut claimed: HashMap<(Option<String>, Action), String> = HashMap::new();
    for (at, rule) in raw {
        let zaaktypen = each_once(
            &rule.zaaktypen,
            &format!("{at}.zaaktypen"),
            None,
            problems,
            |url, u_at, problems| {
                if (url.starts_with("https://") || url.starts_with("http://"))
                    && !url.chars().any(char::is_whitespace)
                {
                    Some(zaaktype_key(url).to_owned())
                } else {
                    problems.push(u_at, format!("{url:?} is not a zaaktype URL"));
                    None
                }
            },
        );
        let actions_at = format!("{at}.actions");
        let actions = each_once(
            &rule.actions,
            &actions_at,
            Some("action"),
            problems,
            action_name,
        );
        let roles = each_once(
            &rule.roles,
            &format!("{at}.roles"),
            Some("rol"),
            problems,
            |role, r_at, problems| match role.strip_prefix("rol:") {
                Some(bare) => {
                    problems.push(r_at, format!("write the rol without `rol:`: `{bare}`"));
                    None
                }
                None => role_name(role, r_at, problems).then(|| role.to_owned()),
            },
        );
        let exempt = each_once(
            &rule.exempt,
            &format!("{at}.exempt"),
            None,
            problems,
            |scope, s_at, problems| known.scope(scope, s_at, problems).then(|| scope.to_owned()),
        );
        // One rule decides each (zaaktype, action): a rule naming the zaaktype overrides the
        // rules for every zaaktype, and two rules at one level may not claim the same action.
        let targets: Vec<Option<String>> = if zaaktypen.is_empty() {
            vec![None]
        } else {
            zaaktypen.into_iter().map(Some).collect()
        };
        let index = compiled.involvement.len();
        for target in targets {
            for action in &actions {
                match claimed.get(&(target.clone(), *action)) {
                    Some(other) => {
                        let which = match &target {
                            Some(z) => format!("zaaktype {z}"),
                            None => "every zaaktype".to_owned(),
                        };
                        problems.push(
                            &actions_at,
                            format!(
                                "{other} already decides `{}` for {which}: one rule decides each zaaktype and action, so merge the two or split their actions",
                                action.as_str()
                            ),
                        );
                    }
                    None => {
                        claimed.insert((target.clone(), *action), at.clone());
                    }
                }
            }
            let slots = match target {
                Some(z) => compiled
                    .involvement_by_zaaktype
                    .entry(z)
                    .or_insert([None; ACTION_COUNT]),
                None => &mut compiled.involvement_any,
            };
            for action in &actions {
                if let Some(slot) = slots.get_mut(action.index()) {
                    *slot = Some(index);
                }
            }
        }
        compiled.involvement_lists |= actions
            .iter()
            .any(|a| matches!(a, Action::List | Action::Search));
        compiled.involvement.push(InvolvementRule { roles, exempt });
    }
}

fn level(text: &str, at: &str, problems: &mut Problems) -> Option<Level> {
    Level::parse(text).map_err(|e| problems.push(at, e)).ok()
}

fn fields(
    raw: Vec<(String, RawField)>,
    known: &Known<'_>,
    compiled: &mut Compiled,
    problems: &mut Problems,
) {
    let mut placed: HashMap<String, Vec<(FieldPath, String)>> = HashMap::new();
    for (at, rule) in raw {
        resource_name(&rule.resource, &format!("{at}.resource"), problems);
        let path_at = format!("{at}.path");
        let path = field_path(&rule.path, &path_at, problems);
        if let Some(p) = &path {
            if matches!(p.segments(), [only] if only == "url" || only == "uuid") {
                problems.push(
                    &path_at,
                    format!(
                        "`{}` identifies the record and is always delivered",
                        p.dotted()
                    ),
                );
            }
            let others = placed.entry(rule.resource.clone()).or_default();
            for (other, other_at) in others.iter() {
                if p == other {
                    problems.push(
                        &path_at,
                        format!("{other_at} already configures `{}`", p.dotted()),
                    );
                } else if p.within(other) || other.within(p) {
                    problems.push(
                        &path_at,
                        format!(
                            "`{}` overlaps `{}` ({other_at}): configure a path or the paths inside it, not both",
                            p.dotted(),
                            other.dotted()
                        ),
                    );
                }
            }
            others.push((p.clone(), at.clone()));
        }
        let default_at = format!("{at}.default");
        let default = match &rule.default {
            Some(text) => level(text, &default_at, problems),
            None => Some(Level::None),
        };
        if default == Some(Level::Read) {
            problems.push(
                &default_at,
                "no effect: with default read every holder reads the field",
            );
        }
        let mut grants = Vec::new();
        for (who_text, level_text) in &rule.grants {
            let g_at = format!("{at}.grants.{}", key(who_text));
            let who = known.who(who_text, true, &g_at, problems);
            let granted = level(level_text, &g_at, problems);
            if let (Some(who), Some(granted), Some(default)) = (who, granted, default) {
                if granted < default {
                    problems.push(
                        &g_at,
                        format!("{granted} is below the default {default}: a grant can only raise the level a holder gets"),
                    );
                }
                grants.push((who, granted));
            }
        }
        let (Some(path), Some(default)) = (path, default) else {
            continue;
        };
        compiled
            .fields
            .entry(rule.resource.clone())
            .or_insert_with(|| ResourceFields {
                resource: Arc::from(rule.resource.as_str()),
                rules: Vec::new(),
            })
            .rules
            .push(FieldRule {
                path: Arc::new(path),
                default,
                grants,
            });
    }
}

fn withhold(
    raw: Vec<(String, RawWithhold)>,
    known: &Known<'_>,
    compiled: &mut Compiled,
    problems: &mut Problems,
) {
    for (at, rule) in raw {
        resource_name(&rule.resource, &format!("{at}.resource"), problems);
        let when_at = format!("{at}.when");
        let field = field_path(&rule.when.field, &format!("{when_at}.field"), problems);
        let test = match (rule.when.one_of, rule.when.present) {
            (Some(values), None) => {
                each_once(
                    &values,
                    &format!("{when_at}.in"),
                    Some("value"),
                    problems,
                    |_, _, _| Some(()),
                );
                Some(Test::OneOf(values))
            }
            (None, Some(present)) => Some(Test::Present(present)),
            (Some(_), Some(_)) => {
                problems.push(&when_at, "give either `in` or `present`, not both");
                None
            }
            (None, None) => {
                problems.push(
                    &when_at,
                    "missing the test: add `in = [...]` (values) or `present = true`",
                );
                None
            }
        };
        let unless = each_once(
            &rule.unless,
            &format!("{at}.unless"),
            None,
            problems,
            |text, u_at, problems| known.who(text, true, u_at, problems),
        );
        let (Some(field), Some(test)) = (field, test) else {
            continue;
        };
        compiled
            .withhold
            .entry(rule.resource)
            .or_default()
            .push(WithholdRule {
                field,
                test,
                unless,
            });
    }
}

fn writes(
    raw: Vec<(String, RawWrites)>,
    known: &Known<'_>,
    compiled: &mut Compiled,
    problems: &mut Problems,
) {
    for (at, rule) in raw {
        let offered = resource_name(&rule.resource, &format!("{at}.resource"), problems);
        let mut actions = [false; ACTION_COUNT];
        let listed = each_once(
            &rule.actions,
            &format!("{at}.actions"),
            Some("action"),
            problems,
            |name, a_at, problems| {
                let action = action_name(name, a_at, problems)?;
                if !action.writes_body() {
                    problems.push(
                        a_at,
                        format!(
                            "`{name}` sends no attributes: expected create, update or partial_update"
                        ),
                    );
                    return None;
                }
                if offered.is_some_and(|o| !o.contains(&action)) {
                    problems.push(
                        a_at,
                        format!("the {} resource has no {name} operation", rule.resource),
                    );
                    return None;
                }
                Some(action)
            },
        );
        for action in listed {
            if let Some(slot) = actions.get_mut(action.index()) {
                *slot = true;
            }
        }
        let immutable = each_once(
            &rule.immutable,
            &format!("{at}.immutable"),
            Some("attribute"),
            problems,
            field_path,
        );
        let unless = each_once(
            &rule.unless,
            &format!("{at}.unless"),
            None,
            problems,
            |scope, u_at, problems| {
                known
                    .who(scope, false, u_at, problems)
                    .map(|_| scope.to_owned())
            },
        );
        compiled
            .writes
            .entry(rule.resource)
            .or_default()
            .push(WriteRule {
                actions,
                immutable,
                unless,
            });
    }
}
