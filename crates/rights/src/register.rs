//! The register: which applications exist, which processing activities each may perform, and
//! per activity the ceiling of what it may use. The effective rights of a request are the
//! token's scopes within the ceiling of an activity the calling application is registered for.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::glob::{Glob, any_matches};

/// `[[applications]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApplication {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub clients: Vec<RawClient>,
    #[serde(default)]
    pub activities: Vec<String>,
}

/// One client id of an application, optionally tied to one issuer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClient {
    #[serde(default)]
    pub issuer: Option<String>,
    pub client_id: String,
}

/// `[processing_activities.ceiling]` as written. A member left out sets no limit.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCeiling {
    pub apis: Option<Vec<String>>,
    pub operations: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
}

/// A registered task application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Application {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub clients: Vec<ClientRef>,
    /// Ids of the processing activities it may perform.
    pub activities: Vec<String>,
}

/// A client id, of one issuer or (`issuer: None`) of any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    pub client_id: String,
}

impl ClientRef {
    fn is(&self, issuer: &str, client_id: &str) -> bool {
        self.client_id == client_id && self.issuer.as_deref().is_none_or(|i| i == issuer)
    }
}

/// What a processing activity may use at most.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Ceiling {
    /// Mount names (`[[apis]] name`); `None`: every mount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apis: Option<Vec<String>>,
    /// Operation patterns (`dataset.afvalwegingen.containers.list`, `brp.personen.Raadpleeg*`,
    /// ZGW operation ids such as `zaak_list`); `None`: every operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<Glob>>,
    /// Scope patterns; a token scope outside them is dropped for this activity. `None`: every scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<Glob>>,
}

impl Ceiling {
    /// Whether the ceiling lets this mount be used.
    pub fn allows_api(&self, api: &str) -> bool {
        self.apis
            .as_ref()
            .is_none_or(|a| a.iter().any(|x| x == api))
    }

    /// Whether the ceiling lets this operation be performed.
    pub fn allows_operation(&self, operation: &str) -> bool {
        self.operations
            .as_ref()
            .is_none_or(|o| any_matches(o, operation))
    }

    /// Whether a scope stays within the ceiling.
    pub fn allows_scope(&self, scope: &str) -> bool {
        self.scopes.as_ref().is_none_or(|s| any_matches(s, scope))
    }

    /// The scopes of `scopes` within the ceiling, and those dropped.
    pub fn narrow(&self, scopes: &[String]) -> (Vec<String>, Vec<String>) {
        scopes.iter().cloned().partition(|s| self.allows_scope(s))
    }
}

/// A processing activity as the register sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisteredActivity {
    pub id: String,
    /// Other values a purpose header may use for it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub name: String,
    pub legal_basis: String,
    pub ceiling: Ceiling,
}

/// The register of applications and activities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Register {
    pub applications: Vec<Application>,
    pub activities: Vec<RegisteredActivity>,
}

/// One problem with the register, at a TOML path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterProblem {
    pub at: String,
    pub message: String,
}

/// A processing activity's register part, as the configuration read it.
#[derive(Debug, Clone)]
pub struct ActivityDraft {
    /// Where it was written, e.g. `processing_activities[2]`.
    pub at: String,
    pub id: String,
    pub aliases: Vec<String>,
    pub name: String,
    pub legal_basis: String,
    pub ceiling: RawCeiling,
}

/// What the register is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    pub issuers: &'a [String],
    pub apis: &'a [String],
}

impl Register {
    /// Validates the register: unique application ids and client ids, activities and mounts
    /// that exist, issuers that exist, non-empty patterns.
    pub fn build(
        applications: &[(String, RawApplication)],
        activities: &[ActivityDraft],
        known: Known<'_>,
    ) -> (Register, Vec<RegisterProblem>) {
        let mut problems = Vec::new();
        let mut problem = |at: &str, message: String| {
            problems.push(RegisterProblem {
                at: at.to_owned(),
                message,
            })
        };
        let mut acts = Vec::new();
        for draft in activities {
            let ActivityDraft {
                at,
                id,
                aliases,
                name,
                legal_basis,
                ceiling: raw,
            } = draft;
            let at = format!("{at}.ceiling");
            if let Some(apis) = &raw.apis {
                for a in apis {
                    if !known.apis.contains(a) {
                        problem(
                            &format!("{at}.apis"),
                            format!("{a:?} is not the name of an [[apis]] entry"),
                        );
                    }
                }
            }
            let globs =
                |list: &Option<Vec<String>>, what: &str, problem: &mut dyn FnMut(&str, String)| {
                    list.as_ref().map(|l| {
                        l.iter()
                            .filter(|p| {
                                let ok = !p.trim().is_empty();
                                if !ok {
                                    problem(&format!("{at}.{what}"), "an empty pattern".into());
                                }
                                ok
                            })
                            .map(Glob::new)
                            .collect::<Vec<_>>()
                    })
                };
            let operations = globs(&raw.operations, "operations", &mut problem);
            let scopes = globs(&raw.scopes, "scopes", &mut problem);
            acts.push(RegisteredActivity {
                id: id.clone(),
                aliases: aliases.clone(),
                name: name.clone(),
                legal_basis: legal_basis.clone(),
                ceiling: Ceiling {
                    apis: raw.apis.clone(),
                    operations,
                    scopes,
                },
            });
        }
        let mut ids = BTreeSet::new();
        let mut clients: BTreeMap<(Option<String>, String), String> = BTreeMap::new();
        let mut apps = Vec::new();
        for (at, raw) in applications {
            if raw.id.trim().is_empty() || !ids.insert(raw.id.clone()) {
                problem(
                    &format!("{at}.id"),
                    format!("application id {:?} is empty or used twice", raw.id),
                );
            }
            if raw.clients.is_empty() {
                problem(
                    &format!("{at}.clients"),
                    "name at least one client id, or the application can never call".into(),
                );
            }
            for (j, c) in raw.clients.iter().enumerate() {
                let cat = format!("{at}.clients[{j}]");
                if let Some(i) = &c.issuer
                    && !known.issuers.contains(i)
                {
                    problem(
                        &format!("{cat}.issuer"),
                        format!("{i:?} is not the name of an [[issuers]] entry"),
                    );
                }
                let clash = clients
                    .iter()
                    .find(|((iss, cid), _)| {
                        cid == &c.client_id
                            && (iss.is_none() || c.issuer.is_none() || iss == &c.issuer)
                    })
                    .map(|(_, app)| app.clone());
                if let Some(other) = clash {
                    problem(
                        &cat,
                        format!(
                            "client id {:?} is already registered for application {other:?}",
                            c.client_id
                        ),
                    );
                } else {
                    clients.insert((c.issuer.clone(), c.client_id.clone()), raw.id.clone());
                }
            }
            for (j, a) in raw.activities.iter().enumerate() {
                if !acts.iter().any(|x| &x.id == a) {
                    problem(
                        &format!("{at}.activities[{j}]"),
                        format!("{a:?} is not the id of a [[processing_activities]] entry"),
                    );
                }
            }
            apps.push(Application {
                id: raw.id.clone(),
                name: raw.name.clone(),
                owner: raw.owner.clone(),
                clients: raw
                    .clients
                    .iter()
                    .map(|c| ClientRef {
                        issuer: c.issuer.clone(),
                        client_id: c.client_id.clone(),
                    })
                    .collect(),
                activities: raw.activities.clone(),
            });
        }
        (
            Register {
                applications: apps,
                activities: acts,
            },
            problems,
        )
    }

    /// Whether any application is registered (then mounts enforce the register by default).
    pub fn is_empty(&self) -> bool {
        self.applications.is_empty()
    }

    /// The application a client of an issuer belongs to.
    pub fn application_of(&self, issuer: &str, client_id: Option<&str>) -> Option<&Application> {
        let client_id = client_id?;
        self.applications
            .iter()
            .find(|a| a.clients.iter().any(|c| c.is(issuer, client_id)))
    }

    /// An application by id.
    pub fn application(&self, id: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.id == id)
    }

    /// An activity by id.
    pub fn activity(&self, id: &str) -> Option<&RegisteredActivity> {
        self.activities.iter().find(|a| a.id == id)
    }

    /// The activity a stated purpose names, by id or alias.
    pub fn resolve(&self, purpose: &str) -> Option<&RegisteredActivity> {
        self.activities
            .iter()
            .find(|a| a.id == purpose || a.aliases.iter().any(|x| x == purpose))
    }

    /// Decides whether a request may go on, and with which scopes: the calling application
    /// must be registered, registered for the activity, and the activity's ceiling must allow the
    /// mount. Scopes outside the ceiling are dropped. The operation is checked later with
    /// [`Admission::check_operation`], once the adapter has named it.
    ///
    /// With `enforce` false (a mount that does not consult the register) the request passes
    /// with its scopes unchanged; the application is still named when it is registered.
    pub fn admit(&self, caller: &Caller<'_>, enforce: bool) -> Result<Admission, RegisterDenial> {
        let app = self.application_of(caller.issuer, caller.client_id);
        if !enforce {
            return Ok(Admission {
                application: app.map(|a| a.id.clone()),
                application_name: app.map(|a| a.name.clone()),
                scopes: caller.scopes.to_vec(),
                dropped: Vec::new(),
                ceiling: None,
            });
        }
        let Some(app) = app else {
            return Err(RegisterDenial::NotRegistered {
                client_id: caller.client_id.map(str::to_owned),
            });
        };
        let Some(activity) = caller.activity else {
            return Err(RegisterDenial::PurposeNotAllowed {
                application: app.id.clone(),
                activity: None,
            });
        };
        let registered = app.activities.iter().any(|a| a == activity);
        let Some(act) = self.activity(activity).filter(|_| registered) else {
            return Err(RegisterDenial::PurposeNotAllowed {
                application: app.id.clone(),
                activity: Some(activity.to_owned()),
            });
        };
        if !act.ceiling.allows_api(caller.api) {
            return Err(RegisterDenial::ApiNotAllowed {
                application: app.id.clone(),
                activity: act.id.clone(),
                api: caller.api.to_owned(),
            });
        }
        let (scopes, dropped) = act.ceiling.narrow(caller.scopes);
        Ok(Admission {
            application: Some(app.id.clone()),
            application_name: Some(app.name.clone()),
            scopes,
            dropped,
            ceiling: Some((act.id.clone(), act.ceiling.clone())),
        })
    }
}

/// Who calls, for which activity, on which mount.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The configured issuer name that verified the token.
    pub issuer: &'a str,
    pub client_id: Option<&'a str>,
    /// The processing activity in effect (stated, or the mount's default).
    pub activity: Option<&'a str>,
    /// The mount's name.
    pub api: &'a str,
    /// The token's scopes (after role mapping).
    pub scopes: &'a [String],
}

/// A request the register let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// The registered application's id.
    pub application: Option<String>,
    pub application_name: Option<String>,
    /// The effective scopes: the token's within the activity's ceiling.
    pub scopes: Vec<String>,
    /// Token scopes outside the ceiling.
    pub dropped: Vec<String>,
    /// The activity and its ceiling, when the register was enforced.
    pub ceiling: Option<(String, Ceiling)>,
}

impl Admission {
    /// Checks the operation the adapter routed to against the activity's ceiling.
    pub fn check_operation(&self, operation: &str) -> Result<(), RegisterDenial> {
        match &self.ceiling {
            Some((activity, c)) if !c.allows_operation(operation) => {
                Err(RegisterDenial::OperationNotAllowed {
                    application: self.application.clone().unwrap_or_default(),
                    activity: activity.clone(),
                    operation: operation.to_owned(),
                })
            }
            _ => Ok(()),
        }
    }
}

/// Why the register refused a request (every one a 403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterDenial {
    #[error("the client {} is not a registered application", client_id.as_deref().unwrap_or("(unnamed)"))]
    NotRegistered { client_id: Option<String> },
    #[error("{}", match activity {
        Some(a) => format!("application {application} is not registered for processing activity {a}"),
        None => format!("application {application} states no processing activity"),
    })]
    PurposeNotAllowed {
        application: String,
        activity: Option<String>,
    },
    #[error(
        "processing activity {activity} of application {application} may not use the API {api}"
    )]
    ApiNotAllowed {
        application: String,
        activity: String,
        api: String,
    },
    #[error(
        "processing activity {activity} of application {application} may not perform {operation}"
    )]
    OperationNotAllowed {
        application: String,
        activity: String,
        operation: String,
    },
}

impl RegisterDenial {
    /// The problem code: `applicationNotRegistered` or `purposeNotAllowed`.
    pub fn code(&self) -> &'static str {
        match self {
            RegisterDenial::NotRegistered { .. } => "applicationNotRegistered",
            _ => "purposeNotAllowed",
        }
    }
}
