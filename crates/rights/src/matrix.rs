//! Who can see what: application × activity × (API, table or query type) × field → the best
//! representation, with the legal basis and a minimal set of scopes that reaches it.
//!
//! Every cell is found by deciding with the engines that decide requests — the dataset plans of
//! `sluis-policy` and `BrpPolicy::decide` of `sluis-brp` on a real request of each query type —
//! after the register's narrowing ([`Register::admit`]). Nothing here reads a policy a second way.

use std::collections::BTreeSet;

use serde::Serialize;
use sluis_brp::{BrpPolicy, QueryType, sample_body, validate};
use sluis_policy::{Level, Policy};

use crate::glob::Glob;
use crate::register::{Caller, Register};

/// What a mount is, as far as rights go.
#[derive(Debug, Clone)]
pub enum MountKind<'a> {
    /// A dataset API serving one Amsterdam Schema dataset.
    Dataset { dataset: String },
    /// BRP Personen with its policy.
    Brp { policy: &'a BrpPolicy },
    /// An API family whose rights the matrix does not derive (ZGW: its Autorisaties).
    Other { kind: &'static str },
}

/// One mounted API.
#[derive(Debug, Clone)]
pub struct MountInfo<'a> {
    pub name: String,
    pub kind: MountKind<'a>,
    /// Whether the mount consults the register.
    pub enforce: bool,
    /// Scopes the mount requires of every request.
    pub required_scopes: Vec<String>,
}

/// What the matrix is derived from.
#[derive(Debug, Clone)]
pub struct Rights<'a> {
    pub register: &'a Register,
    pub policy: &'a Policy,
    pub mounts: Vec<MountInfo<'a>>,
}

/// Which cells to compute and show.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `api.table.field` patterns (`brp.*.burgerservicenummer`, `*.bsn`).
    pub fields: Vec<Glob>,
    /// Application ids.
    pub apps: Vec<String>,
    /// Only cells whose scopes include one of these.
    pub scopes: Vec<String>,
    /// Assume the token carries exactly these scopes (before the ceiling); `None`: every scope
    /// the policies know.
    pub token_scopes: Option<Vec<String>>,
    /// Also list fields that stay absent.
    pub include_absent: bool,
}

/// Application id for mounts that do not consult the register: any caller with a valid token.
pub const ANY_APPLICATION: &str = "*";

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub struct Cell {
    pub application: String,
    pub application_name: String,
    /// The activity id; `*` on a mount that does not consult the register.
    pub activity: String,
    pub legal_basis: String,
    pub api: String,
    /// The table (dataset) or query type (BRP).
    pub table: String,
    pub field: String,
    /// `read`, `encoded`, `random`, `letters:N` or `absent`.
    pub level: String,
    /// A minimal set of scopes that reaches the level (all of them needed together).
    pub scopes: Vec<String>,
}

impl Cell {
    /// `api.table.field`, what `--field` patterns match.
    pub fn key(&self) -> String {
        format!("{}.{}.{}", self.api, self.table, self.field)
    }
}

/// The level as written in policies, `absent` for none.
pub fn level_name(level: Level) -> String {
    if level.is_visible() {
        level.to_string()
    } else {
        "absent".into()
    }
}

impl Rights<'_> {
    /// Every scope a policy or mount names: the domain of "all scopes".
    pub fn known_scopes(&self) -> Vec<String> {
        let mut out: BTreeSet<String> = self
            .policy
            .model()
            .scope_names()
            .iter()
            .filter(|s| s.as_str() != "OPENBAAR")
            .cloned()
            .collect();
        for m in &self.mounts {
            out.extend(m.required_scopes.iter().cloned());
            if let MountKind::Brp { policy } = m.kind {
                out.extend(policy.scope_names());
            }
        }
        out.into_iter().collect()
    }

    /// The callers the matrix has rows for: (application id, name, activity id, legal basis,
    /// issuer and client to present). Mounts that do not consult the register get one row for
    /// any application.
    fn rows(&self, filter: &Filter) -> Vec<Row> {
        let mut rows = Vec::new();
        for app in &self.register.applications {
            if !filter.apps.is_empty() && !filter.apps.contains(&app.id) {
                continue;
            }
            for act in &app.activities {
                let Some(a) = self.register.activity(act) else {
                    continue;
                };
                rows.push(Row {
                    application: app.id.clone(),
                    application_name: app.name.clone(),
                    activity: Some(a.id.clone()),
                    legal_basis: a.legal_basis.clone(),
                    client: app
                        .clients
                        .first()
                        .map(|c| (c.issuer.clone().unwrap_or_default(), c.client_id.clone())),
                });
            }
        }
        if filter.apps.is_empty() || filter.apps.iter().any(|a| a == ANY_APPLICATION) {
            rows.push(Row {
                application: ANY_APPLICATION.into(),
                application_name: "elke toepassing met een geldig token".into(),
                activity: None,
                legal_basis: String::new(),
                client: None,
            });
        }
        rows
    }

    /// Computes the matrix.
    pub fn matrix(&self, filter: &Filter) -> Vec<Cell> {
        let all = self.known_scopes();
        let token = filter.token_scopes.clone().unwrap_or_else(|| all.clone());
        let mut cells = Vec::new();
        for row in self.rows(filter) {
            for m in &self.mounts {
                // The "any application" row covers exactly the mounts without the register;
                // registered rows the mounts with it.
                if (row.activity.is_none()) == m.enforce {
                    continue;
                }
                let scopes = match &row.activity {
                    Some(act) => {
                        let (issuer, client) = row.client.clone().unwrap_or_default();
                        let caller = Caller {
                            issuer: &issuer,
                            client_id: Some(&client),
                            activity: Some(act),
                            api: &m.name,
                            scopes: &token,
                        };
                        match self.register.admit(&caller, true) {
                            Ok(a) => (a.scopes, a.ceiling.map(|(_, c)| c)),
                            Err(_) => continue,
                        }
                    }
                    None => (token.clone(), None),
                };
                let (scopes, ceiling) = scopes;
                if !m.required_scopes.iter().all(|s| scopes.contains(s)) {
                    continue;
                }
                let op_ok = |op: &str| ceiling.as_ref().is_none_or(|c| c.allows_operation(op));
                let mut emit = |table: &str, field: &str, level: Level, needed: Vec<String>| {
                    let cell = Cell {
                        application: row.application.clone(),
                        application_name: row.application_name.clone(),
                        activity: row.activity.clone().unwrap_or_else(|| "*".into()),
                        legal_basis: row.legal_basis.clone(),
                        api: m.name.clone(),
                        table: table.to_owned(),
                        field: field.to_owned(),
                        level: level_name(level),
                        scopes: needed,
                    };
                    cells.push(cell);
                };
                let wanted = |table: &str, field: &str| {
                    filter.fields.is_empty() || {
                        let key = format!("{}.{table}.{field}", m.name);
                        filter.fields.iter().any(|g| g.matches(&key))
                    }
                };
                match &m.kind {
                    MountKind::Dataset { dataset } => {
                        let Some(ds) = self
                            .policy
                            .model()
                            .datasets
                            .iter()
                            .find(|d| &d.id == dataset)
                        else {
                            continue;
                        };
                        for table in ds.tables.iter().filter(|t| t.available) {
                            let q = &table.qualified;
                            if !op_ok(&format!("dataset.{q}.list"))
                                && !op_ok(&format!("dataset.{q}.detail"))
                            {
                                continue;
                            }
                            let level_of = |s: &[String], path: &str| -> Level {
                                let set = self.policy.scope_set(s);
                                self.policy
                                    .best_plan(q, &set)
                                    .ok()
                                    .and_then(|p| p.field(path).map(|f| f.level))
                                    .unwrap_or(Level::None)
                            };
                            let Ok(plan) =
                                self.policy.best_plan(q, &self.policy.scope_set(&scopes))
                            else {
                                continue;
                            };
                            for f in plan.walk().into_iter().filter(|f| f.children.is_empty()) {
                                if !wanted(&table.id, &f.path) {
                                    continue;
                                }
                                if !f.level.is_visible() {
                                    if filter.include_absent {
                                        emit(&table.id, &f.path, Level::None, Vec::new());
                                    }
                                    continue;
                                }
                                let needed = minimal(&scopes, f.level, |s| level_of(s, &f.path));
                                emit(&table.id, &f.path, f.level, needed);
                            }
                        }
                    }
                    MountKind::Brp { policy } => {
                        for t in QueryType::ALL {
                            if !op_ok(&format!("brp.personen.{}", t.as_str())) {
                                continue;
                            }
                            for path in t.response_shape().filtered_paths() {
                                if !wanted(t.as_str(), path) {
                                    continue;
                                }
                                let level = brp_level(policy, t, path, &scopes);
                                if !level.is_visible() {
                                    if filter.include_absent {
                                        emit(t.as_str(), path, Level::None, Vec::new());
                                    }
                                    continue;
                                }
                                let needed =
                                    minimal(&scopes, level, |s| brp_level(policy, t, path, s));
                                emit(t.as_str(), path, level, needed);
                            }
                        }
                    }
                    MountKind::Other { .. } => {}
                }
            }
        }
        if !filter.scopes.is_empty() {
            cells.retain(|c| c.scopes.iter().any(|s| filter.scopes.contains(s)));
        }
        cells.sort();
        cells
    }
}

struct Row {
    application: String,
    application_name: String,
    activity: Option<String>,
    legal_basis: String,
    client: Option<(String, String)>,
}

/// A minimal subset of `scopes` that still reaches `level`: drop each scope in turn and keep
/// the drop while the level holds.
fn minimal(scopes: &[String], level: Level, level_of: impl Fn(&[String]) -> Level) -> Vec<String> {
    let mut keep: Vec<String> = scopes.to_vec();
    let mut i = 0;
    while i < keep.len() {
        let mut without = keep.clone();
        without.remove(i);
        if level_of(&without) >= level {
            keep = without;
        } else {
            i += 1;
        }
    }
    keep
}

/// The level a BRP field gets in a request of type `t` that asks for it alone, decided by the
/// BRP policy: `read`, `encoded` (sealed BSNs for the pseudonymous scope) or none. The best of
/// holding and not holding the pseudonymous scope, since it only ever lowers what one sees.
pub fn brp_level(policy: &BrpPolicy, t: QueryType, path: &str, scopes: &[String]) -> Level {
    let decide = |s: &[String]| -> Level {
        let body = sample_body(t, &[path], policy.municipality());
        let Ok(query) = validate(&body) else {
            return Level::None;
        };
        match policy.decide(&query, s) {
            Ok(plan) if plan.pseudonymize() && names_bsn(path) => Level::Encoded,
            Ok(_) => Level::Read,
            Err(_) => Level::None,
        }
    };
    let with = decide(scopes);
    match &policy.special_scopes().pseudonymous_bsn {
        Some(p) if scopes.contains(p) && with != Level::Read => {
            let without: Vec<String> = scopes.iter().filter(|s| *s != p).cloned().collect();
            with.max(decide(&without))
        }
        _ => with,
    }
}

fn names_bsn(path: &str) -> bool {
    path.rsplit('.').next() == Some("burgerservicenummer")
}
