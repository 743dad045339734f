//! Applying a [`FieldPlan`] to a record: the attribute-level part of the rules (factor 3).

use std::sync::Arc;

use serde_json::Value;
use sluis_policy::{Level, Projector};

use super::path::{self, FieldPath};

/// The levels one holder gets for the configured paths of one resource. Built by
/// [`super::Rules::plan`]; applied by [`project`]. Paths the rules do not configure are not in
/// the plan and pass unchanged.
#[derive(Debug, Clone)]
pub struct FieldPlan {
    pub(crate) resource: Arc<str>,
    pub(crate) entries: Vec<PlanEntry>,
}

#[derive(Debug, Clone)]
pub(crate) struct PlanEntry {
    pub(crate) path: Arc<FieldPath>,
    pub(crate) level: Level,
}

impl FieldPlan {
    /// A plan that changes nothing.
    pub fn unchanged(resource: &str) -> FieldPlan {
        FieldPlan {
            resource: Arc::from(resource),
            entries: Vec::new(),
        }
    }

    /// The resource the plan is for.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The level planned for a configured path (as written in the rules), or `None` for a path
    /// the rules do not configure.
    pub fn level(&self, path: &str) -> Option<Level> {
        self.entries
            .iter()
            .find(|e| e.path.dotted() == path)
            .map(|e| e.level)
    }

    /// Every configured path with its planned level, in file order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, Level)> {
        self.entries.iter().map(|e| (e.path.dotted(), e.level))
    }

    /// True when projecting leaves every record as it is (every configured path is `read`).
    pub fn is_identity(&self) -> bool {
        self.entries.iter().all(|e| e.level == Level::Read)
    }
}

/// What [`project`] did to a record: configured paths (dotted, as in the rules), each listed
/// once, whose key was removed from some object, or whose value was rendered differently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projected {
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl Projected {
    /// True when the record was left as it was.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.changed.is_empty()
    }

    fn note(list: &mut Vec<String>, path: &str) {
        if !list.iter().any(|p| p == path) {
            list.push(path.to_owned());
        }
    }
}

/// The text a representation works on: strings as they are, other values as JSON text (as the
/// policy engine does).
fn rendered(v: &Value) -> std::borrow::Cow<'_, str> {
    match v {
        Value::String(s) => std::borrow::Cow::Borrowed(s),
        other => std::borrow::Cow::Owned(other.to_string()),
    }
}

/// Renders one value at a level; arrays are rendered element by element and `null` stays
/// `null`. True when the value changed.
fn render(level: Level, domain: &str, v: &mut Value, projector: &mut Projector<'_>) -> bool {
    match v {
        Value::Null => false,
        Value::Array(items) => {
            let mut changed = false;
            for item in items {
                changed |= render(level, domain, item, projector);
            }
            changed
        }
        _ => {
            let new = match level {
                // `none` is handled by removal before this is reached; `read` keeps the value.
                Level::Read | Level::None | Level::SubobjectsOnly => return false,
                Level::Letters(n) => Value::String(
                    rendered(v)
                        .chars()
                        .take(usize::try_from(n).unwrap_or(usize::MAX))
                        .collect(),
                ),
                Level::Encoded => Value::String(projector.encode(domain, v)),
                Level::Random => Value::String(projector.random_value()),
            };
            if *v == new {
                return false;
            }
            *v = new;
            true
        }
    }
}

/// Applies a plan to one record in place.
///
/// - `none`: the key is removed from every object the path reaches. The ZGW OAS marks some
///   attributes required in responses; removing one of those makes the response deviate from
///   the OAS. sluis removes rather than nulls: most required attributes are not nullable either,
///   and an absent key does not suggest a value that is merely empty. `sluis check` can list
///   the rules that do this with [`super::Rules::oas_deviations`].
/// - `letters:N`: the first N characters (of the JSON text for a non-string).
/// - `random`: a fresh unlinkable value.
/// - `encoded`: `projector.encode("{domain_prefix}.{resource}.{path}", value)`, a keyed
///   pseudonym that stays linkable within the field.
/// - `read`: unchanged.
///
/// `null` values stay `null`. Embedded objects of another resource (`_expand`) are projected
/// with that resource's own plan by the caller.
pub fn project(
    plan: &FieldPlan,
    record: &mut Value,
    projector: &mut Projector<'_>,
    domain_prefix: &str,
) -> Projected {
    let mut done = Projected::default();
    for entry in &plan.entries {
        let dotted = entry.path.dotted();
        match entry.level {
            Level::Read => {}
            Level::None | Level::SubobjectsOnly => {
                if path::remove(record, entry.path.segments()) {
                    Projected::note(&mut done.removed, dotted);
                }
            }
            level => {
                let domain = format!("{domain_prefix}.{}.{dotted}", plan.resource);
                let changed = path::update(record, entry.path.segments(), &mut |v| {
                    render(level, &domain, v, projector)
                });
                if changed {
                    Projected::note(&mut done.changed, dotted);
                }
            }
        }
    }
    done
}
