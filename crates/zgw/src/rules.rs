//! sluis's ZGW rules: policy *beyond* the ZGW standard.
//!
//! The standard authorizes an application per zaaktype and confidentiality (the design note's
//! factors 1 and 4). These rules add what it leaves open (factors 2 and 3 of the scopes design
//! note, `autorisatie-scopes.md`): the *user's involvement* through a rol on the zaak,
//! *attribute-level* representation, *records withheld* within a zaak (natural persons for a
//! public scope), *write restrictions* on attributes, and *extra scopes* that grant operations
//! next to the OAS scope expressions.
//!
//! The rules come from one TOML file (named in `sluis.toml`). [`Rules::from_toml`] validates it
//! completely, reporting every problem with its TOML key path (`fields[2].grants.kcc`), and
//! compiles it into an immutable [`Rules`]: lookups per resource, zaaktype and action, so a
//! request costs the rules that match it and no parsing. The caller reloads the file and swaps
//! the value; [`Rules::default`] has no rules and changes nothing.
//!
//! # Format
//!
//! Five sections, each an array of tables, each optional. Unknown keys are errors.
//!
//! **`[[scopes]]`** — scopes beyond the standard's. `name` (required); `description`
//! (optional); `grants`: operations as `"<resource>.<action>"` (actions: `list`, `retrieve`,
//! `search`, `create`, `update`, `partial_update`, `destroy`, `download`, `lock`, `unlock`,
//! `publish`, as the resource offers them). A scope with grants widens the operation's scope
//! expression to `oas | extra` ([`Rules::extra_scopes`]). A scope without `grants` only
//! qualifies the other rules (`kcc`, an archive scope); `grants = []` is an error. A ZGW scope
//! may be listed with `grants` to add operations to it (the design note's `zaken.aanmaken` also
//! creates rollen, which the OAS leaves to `zaken.bijwerken`). Every scope the other sections
//! name must be a ZGW scope (short OAS names, `zaken.lezen`) or declared here.
//!
//! **`[[involvement]]`** — the user must hold a rol on the zaak. `zaaktypen`: zaaktype URLs (a
//! trailing slash is ignored; empty or left out: every zaaktype); `actions`: actions on the zaak
//! and the objects nested under it; `roles`: rol `omschrijvingGeneriek` values (`adviseur`,
//! `behandelaar`, `belanghebbende`, `beslisser`, `initiator`, `klantcontacter`,
//! `zaakcoordinator`, `mede_initiator`), the user needs one of them; `exempt`: holders of any of
//! these scopes skip the check. *One rule decides each (zaaktype, action)*: a rule naming the
//! zaaktype overrides the rules for every zaaktype, so a stricter rule for an HR zaaktype is not
//! weakened by a general one; two rules at the same level claiming one action are an error.
//!
//! **`[[fields]]`** — the representation of an attribute. `resource`; `path`: a dotted path
//! into the record, arrays walked at every step (`betrokkeneIdentificatie.inpBsn`); `default`:
//! the level a holder without a matching grant gets (`none` when left out); `grants`: keys are
//! scopes or `rol:<omschrijvingGeneriek>` (the user's rol on this zaak), values levels. Levels
//! are the policy engine's: `none` (the key is removed), `letters:N`, `random`, `encoded`,
//! `read`. A holder gets the highest level of the grants it matches, else the default; a grant
//! below the default is an error (it could only ever lower what a holder sees), and so is
//! `default = "read"` (no effect). A path may not lie inside another configured path of the same
//! resource, and `url` and `uuid` are always delivered. `none` removes the key even where the
//! ZGW OAS marks the attribute required, a deliberate deviation ([`project`]);
//! [`Rules::oas_deviations`] lists the rules that can cause one.
//!
//! **`[[withhold]]`** — records of a resource left out for holders without a reason to see
//! them. `resource`; `when = { field = "<path>", in = ["value", ...] }` (some string at the path
//! is one of the values) or `when = { field = "<path>", present = true }` (some non-null value
//! at the path; `present = false`: none); `unless`: scopes or `rol:` entries that see such
//! records (empty: withheld from everyone).
//!
//! **`[[writes]]`** — attributes a request may not set. `resource`; `actions`: `create`,
//! `update`, `partial_update`; `immutable`: attribute paths; `unless`: scopes that may (no `rol:`
//! here: the write check knows only scopes).
//!
//! ```toml
//! [[scopes]]
//! name = "zaken.lezen.openbaar"
//! description = "public read: zaak and status, without natural persons"
//! grants = ["zaak.list", "zaak.retrieve", "zaak.search", "status.list", "status.retrieve"]
//!
//! [[scopes]]
//! name = "kcc"                       # qualifies [[fields]] below; grants nothing itself
//!
//! [[involvement]]
//! zaaktypen = ["https://catalogi.example.nl/api/v1/zaaktypen/6f2c1c4e"]
//! actions = ["retrieve", "update", "partial_update", "destroy", "list", "search"]
//! roles = ["behandelaar"]
//!
//! [[fields]]
//! resource = "rol"
//! path = "betrokkeneIdentificatie.inpBsn"
//! default = "none"
//! grants = { "zaken.lezen" = "read", "rol:behandelaar" = "read", "kcc" = "letters:2" }
//!
//! [[withhold]]
//! resource = "zaakobject"
//! when = { field = "objectType", in = ["natuurlijk_persoon"] }
//! unless = ["zaken.lezen"]
//!
//! [[writes]]
//! resource = "zaak"
//! actions = ["update", "partial_update"]
//! immutable = ["bronorganisatie", "identificatie", "zaaktype"]
//! unless = ["zaken.geforceerd-bijwerken"]
//! ```
//!
//! `examples/zgw/rules.toml` in the repository writes out the design note's scope table.
//!
//! ```
//! # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/zgw/rules.toml");
//! # let text = std::fs::read_to_string(path).unwrap();
//! use sluis_zgw::rules::Rules;
//!
//! let rules = Rules::from_toml(&text).unwrap();
//! assert_eq!(rules.extra_scopes("zaak", "retrieve"), ["zaken.lezen.openbaar", "kcc"]);
//! ```

mod catalog;
mod load;
mod path;
mod project;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use sluis_policy::Level;

pub use catalog::{Action, RESOURCES, ROLES, STANDARD_SCOPES, resource_actions};
pub use project::{FieldPlan, Projected, project};

use catalog::ACTION_COUNT;
use path::FieldPath;
use project::PlanEntry;

/// One problem in a rules file: where (a TOML key path such as `fields[2].level`, or a line and
/// column for a syntax error) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub at: String,
    pub message: String,
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.at, self.message)
        }
    }
}

/// The rules module's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// The rules file is not valid; every problem found is listed.
    #[error("invalid ZGW rules ({} problem(s)): {}", .0.len(), list(.0))]
    Invalid(Vec<RuleProblem>),
}

fn list(problems: &[RuleProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<Vec<RuleProblem>> for RulesError {
    fn from(problems: Vec<RuleProblem>) -> Self {
        RulesError::Invalid(problems)
    }
}

/// Who a request is for, as far as the rules care.
#[derive(Debug, Clone, Copy)]
pub struct Holder<'a> {
    /// The Applicatie's scopes for this object's zaaktype plus the token's scopes.
    pub scopes: &'a [String],
    /// The user's rol `omschrijvingGeneriek` values on this zaak; empty if unknown.
    pub roles: &'a [String],
}

/// Whom a grant or exemption names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Who {
    Scope(String),
    Role(String),
}

impl Who {
    fn matches(&self, holder: &Holder<'_>) -> bool {
        match self {
            Who::Scope(s) => holder.scopes.iter().any(|h| h == s),
            Who::Role(r) => holder.roles.iter().any(|h| h == r),
        }
    }
}

#[derive(Debug)]
struct ExtraScope {
    name: String,
    description: Option<String>,
    /// Kept for introspection (`sluis explain`); lookups go through `Compiled::extra`.
    grants: Vec<(String, Action)>,
}

#[derive(Debug)]
struct InvolvementRule {
    roles: Vec<String>,
    exempt: Vec<String>,
}

#[derive(Debug)]
struct FieldRule {
    path: Arc<FieldPath>,
    default: Level,
    grants: Vec<(Who, Level)>,
}

#[derive(Debug)]
struct ResourceFields {
    resource: Arc<str>,
    rules: Vec<FieldRule>,
}

#[derive(Debug)]
enum Test {
    OneOf(Vec<String>),
    Present(bool),
}

#[derive(Debug)]
struct WithholdRule {
    field: FieldPath,
    test: Test,
    unless: Vec<Who>,
}

#[derive(Debug)]
struct WriteRule {
    actions: [bool; ACTION_COUNT],
    immutable: Vec<FieldPath>,
    unless: Vec<String>,
}

#[derive(Debug, Default)]
struct Compiled {
    scopes: Vec<ExtraScope>,
    /// resource → action → indices into `scopes`.
    extra: HashMap<String, [Vec<usize>; ACTION_COUNT]>,
    involvement: Vec<InvolvementRule>,
    /// action → the rule for every zaaktype.
    involvement_any: [Option<usize>; ACTION_COUNT],
    /// zaaktype (without trailing slash) → action → the rule naming that zaaktype.
    involvement_by_zaaktype: HashMap<String, [Option<usize>; ACTION_COUNT]>,
    involvement_lists: bool,
    fields: HashMap<String, ResourceFields>,
    withhold: HashMap<String, Vec<WithholdRule>>,
    writes: HashMap<String, Vec<WriteRule>>,
}

/// Validated, compiled ZGW rules. Cheap to clone; [`Rules::default`] has no rules.
///
/// Methods that take an `action` expect an [`Action`] name (`retrieve`, `partial_update`, ...).
/// A name [`Action::parse`] does not know matches no rule, which for [`Rules::involvement`] and
/// [`Rules::write_violations`] means *no restriction*: take the names from [`Action::as_str`].
#[derive(Debug, Clone, Default)]
pub struct Rules {
    inner: Arc<Compiled>,
}

fn holds_any(scopes: &[String], wanted: &[String]) -> bool {
    wanted.iter().any(|w| scopes.contains(w))
}

impl Rules {
    /// Parses, validates and compiles a rules file. On failure every problem found is returned.
    pub fn from_toml(text: &str) -> Result<Rules, Vec<RuleProblem>> {
        load::compile(text).map(|c| Rules { inner: Arc::new(c) })
    }

    /// [`Rules::from_toml`] with the problems as one error value.
    pub fn parse(text: &str) -> Result<Rules, RulesError> {
        Rules::from_toml(text).map_err(RulesError::Invalid)
    }

    /// True when the rules change nothing: no involvement, field, withhold or write rule, and no
    /// declared scope that grants an operation.
    pub fn is_empty(&self) -> bool {
        let c = &self.inner;
        c.extra.is_empty()
            && c.involvement.is_empty()
            && c.fields.is_empty()
            && c.withhold.is_empty()
            && c.writes.is_empty()
    }

    /// The `[[fields]]` rules that can remove or rewrite an attribute the ZGW OAS marks
    /// required in responses, one sentence each, for `sluis check` to warn about: such a rule is
    /// allowed (the rules are sluis's policy, not the standard's) but clients that validate
    /// responses against the OAS will reject what it produces.
    pub fn oas_deviations(&self) -> Vec<String> {
        let mut out = Vec::new();
        for fields in self.inner.fields.values() {
            for rule in &fields.rules {
                let [attribute] = rule.path.segments() else {
                    continue;
                };
                if catalog::oas_required(&fields.resource, attribute) {
                    out.push(format!(
                        "{}.{attribute} is required in ZGW responses; holders planned below read (default {}) receive {} responses that deviate from the OAS",
                        fields.resource,
                        rule.default,
                        fields.resource
                    ));
                }
            }
        }
        out.sort();
        out
    }

    /// The declared scopes whose grants include `<resource>.<action>`: the caller widens the
    /// operation's OAS scope expression to `oas | extra`.
    pub fn extra_scopes(&self, resource: &str, action: &str) -> Vec<&str> {
        let Some(action) = Action::parse(action) else {
            return Vec::new();
        };
        self.inner
            .extra
            .get(resource)
            .and_then(|per_action| per_action.get(action.index()))
            .map(|indices| {
                indices
                    .iter()
                    .filter_map(|i| self.inner.scopes.get(*i))
                    .map(|s| s.name.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The scopes the file declares, with their descriptions.
    pub fn declared_scopes(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.inner
            .scopes
            .iter()
            .map(|s| (s.name.as_str(), s.description.as_deref()))
    }

    /// The operations a declared scope grants, as `(resource, action)`.
    pub fn scope_grants(&self, scope: &str) -> Vec<(&str, Action)> {
        self.inner
            .scopes
            .iter()
            .find(|s| s.name == scope)
            .map(|s| s.grants.iter().map(|(r, a)| (r.as_str(), *a)).collect())
            .unwrap_or_default()
    }

    /// The rollen a user must hold one of to perform `action` on a zaak of this zaaktype (or on
    /// an object nested under it): the roles of the one rule that decides the (zaaktype,
    /// action), or `None` when no rule applies or the holder is exempt from it.
    pub fn involvement(
        &self,
        zaaktype: &str,
        action: &str,
        holder_scopes: &[String],
    ) -> Option<&[String]> {
        let action = Action::parse(action)?;
        let c = &self.inner;
        let specific = c
            .involvement_by_zaaktype
            .get(load::zaaktype_key(zaaktype))
            .and_then(|slots| slots.get(action.index()).copied().flatten());
        let index =
            specific.or_else(|| c.involvement_any.get(action.index()).copied().flatten())?;
        let rule = c.involvement.get(index)?;
        if holds_any(holder_scopes, &rule.exempt) {
            return None;
        }
        Some(&rule.roles)
    }

    /// True when some involvement rule covers `list` or `search`: lists then have to be
    /// filtered per zaak on the user's rollen.
    pub fn involvement_applies_to_lists(&self) -> bool {
        self.inner.involvement_lists
    }

    /// The level the holder gets for each configured path of the resource: the highest level of
    /// the grants it matches, else the path's default.
    pub fn plan(&self, resource: &str, holder: &Holder<'_>) -> FieldPlan {
        let Some(fields) = self.inner.fields.get(resource) else {
            return FieldPlan::unchanged(resource);
        };
        let entries = fields
            .rules
            .iter()
            .map(|rule| {
                let level = rule
                    .grants
                    .iter()
                    .filter(|(who, _)| who.matches(holder))
                    .map(|(_, level)| *level)
                    .fold(rule.default, Level::max);
                PlanEntry {
                    path: Arc::clone(&rule.path),
                    level,
                }
            })
            .collect();
        FieldPlan {
            resource: Arc::clone(&fields.resource),
            entries,
        }
    }

    /// True when the record is to be left out of the response for this holder (from a list: left
    /// out; on a detail request: the caller answers as for an object the caller may not see).
    pub fn withheld(&self, resource: &str, record: &Value, holder: &Holder<'_>) -> bool {
        let Some(rules) = self.inner.withhold.get(resource) else {
            return false;
        };
        rules.iter().any(|rule| {
            !rule.unless.iter().any(|w| w.matches(holder)) && rule.test.matches(record, &rule.field)
        })
    }

    /// The configured attribute paths present in the body that the holder may not set with
    /// this action. Presence is what counts: for `update` (PUT), whose body repeats every
    /// attribute, use [`Rules::write_violations_against`] with the stored object.
    pub fn write_violations(
        &self,
        resource: &str,
        action: &str,
        body: &Value,
        holder_scopes: &[String],
    ) -> Vec<String> {
        self.violations(resource, action, holder_scopes, |p| {
            let mut found = Vec::new();
            path::values_at(body, p.segments(), &mut found);
            !found.is_empty()
        })
    }

    /// Like [`Rules::write_violations`], but an attribute counts only when the body gives it a
    /// value other than the stored object's (`current`).
    pub fn write_violations_against(
        &self,
        resource: &str,
        action: &str,
        body: &Value,
        current: &Value,
        holder_scopes: &[String],
    ) -> Vec<String> {
        self.violations(resource, action, holder_scopes, |p| {
            let mut new = Vec::new();
            path::values_at(body, p.segments(), &mut new);
            if new.is_empty() {
                return false;
            }
            let mut old = Vec::new();
            path::values_at(current, p.segments(), &mut old);
            new != old
        })
    }

    fn violations(
        &self,
        resource: &str,
        action: &str,
        holder_scopes: &[String],
        mut violated: impl FnMut(&FieldPath) -> bool,
    ) -> Vec<String> {
        let (Some(rules), Some(action)) = (self.inner.writes.get(resource), Action::parse(action))
        else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for rule in rules {
            if !rule.actions.get(action.index()).copied().unwrap_or(false)
                || holds_any(holder_scopes, &rule.unless)
            {
                continue;
            }
            for p in &rule.immutable {
                if !out.iter().any(|o| o == p.dotted()) && violated(p) {
                    out.push(p.dotted().to_owned());
                }
            }
        }
        out
    }
}

impl Test {
    fn matches(&self, record: &Value, field: &FieldPath) -> bool {
        let mut hit = false;
        match self {
            Test::OneOf(values) => path::leaves(record, field.segments(), &mut |v| {
                hit |= v.as_str().is_some_and(|s| values.iter().any(|w| w == s));
            }),
            Test::Present(wanted) => {
                path::leaves(record, field.segments(), &mut |v| hit |= !v.is_null());
                hit = hit == *wanted;
            }
        }
        hit
    }
}
