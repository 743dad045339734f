//! `[[processing_activities]]`: the register of processing activities a stated purpose maps to.

use std::collections::HashSet;

use serde::Deserialize;

use super::Validator;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawActivity {
    id: String,
    name: String,
    purpose: String,
    legal_basis: String,
    retention_days: u32,
    #[serde(default)]
    confidential: bool,
    #[serde(default)]
    aliases: Vec<String>,
    /// What the activity may use at most (the register's ceiling).
    #[serde(default)]
    ceiling: sluis_rights::RawCeiling,
}

/// A registered processing activity (verwerkingsactiviteit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub id: String,
    pub name: String,
    pub purpose: String,
    pub legal_basis: String,
    pub retention_days: u32,
    pub confidential: bool,
    pub aliases: Vec<String>,
}

impl RawActivity {
    /// The register's part of the activity.
    pub(super) fn draft(&self, at: String) -> sluis_rights::ActivityDraft {
        sluis_rights::ActivityDraft {
            at,
            id: self.id.clone(),
            aliases: self.aliases.clone(),
            name: self.name.clone(),
            legal_basis: self.legal_basis.clone(),
            ceiling: self.ceiling.clone(),
        }
    }
}

impl Validator<'_> {
    /// Validates the register: ids and aliases unique and non-empty, a retention period.
    pub(super) fn activities(&mut self, raw: &[(String, &RawActivity)]) -> Vec<Activity> {
        let mut activities = Vec::new();
        let mut ids = HashSet::new();
        for (at, a) in raw {
            let at = at.clone();
            for id in std::iter::once(&a.id).chain(&a.aliases) {
                if id.trim().is_empty() || !ids.insert(id.clone()) {
                    self.problem(
                        &at,
                        format!("processing activity id or alias {id:?} is empty or used twice"),
                    );
                }
            }
            if a.retention_days == 0 {
                self.problem(&format!("{at}.retention_days"), "must be at least 1 day");
            }
            activities.push(Activity {
                id: a.id.clone(),
                name: a.name.clone(),
                purpose: a.purpose.clone(),
                legal_basis: a.legal_basis.clone(),
                retention_days: a.retention_days,
                confidential: a.confidential,
                aliases: a.aliases.clone(),
            });
        }

        activities
    }
}
