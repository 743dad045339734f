//! The decision for one validated request: refuse it, or say exactly what to send upstream and
//! how to treat the answer.
//!
//! The checks run in a fixed order, and the first that refuses answers: query type → parameter
//! value rules → municipality → deceased persons → fields. A [`Plan`] can only be made here, so
//! an adapter that forwards only `Plan::upstream_body` forwards only approved requests.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::contract::{MAX_FIELDS, Query, QueryType, max_items};
use crate::error::{Denial, InvalidParam};
use crate::paths::{AutoField, PathIndex};
use crate::policy::{BrpPolicy, ValueVerdict, grants};

const GEMEENTE: &str = "gemeenteVanInschrijving";
const OVERLEDEN: &str = "inclusiefOverledenPersonen";
const BSN: &str = "burgerservicenummer";
const A_NUMMER: &str = "aNummer";

/// What sluis does with an approved request: the body to send upstream and what to do with the
/// answer. Made only by [`BrpPolicy::decide`].
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    query_type: QueryType,
    upstream_body: Value,
    rewrites: Vec<String>,
    fields_requested: Vec<String>,
    fields_automatic: bool,
    injected_identifiers: Vec<String>,
    see_geheim: bool,
    auto_flags_allowed: Vec<AutoField>,
    pseudonymize: bool,
    municipality: String,
    search_municipality: Option<String>,
}

impl Plan {
    /// The query type.
    pub fn query_type(&self) -> QueryType {
        self.query_type
    }

    /// The request to send upstream: the client's parameters plus what sluis added
    /// (`gemeenteVanInschrijving`, `inclusiefOverledenPersonen`, `fields`, identifiers).
    pub fn upstream_body(&self) -> &Value {
        &self.upstream_body
    }

    /// What sluis changed in the request, in words, for the audit record.
    pub fn rewrites(&self) -> &[String] {
        &self.rewrites
    }

    /// The `fields` the client asked for, or the ones sluis composed for it when it sent none;
    /// without the identifiers sluis added.
    pub fn fields_requested(&self) -> &[String] {
        &self.fields_requested
    }

    /// Whether sluis composed `fields` because the client sent none.
    pub fn fields_automatic(&self) -> bool {
        self.fields_automatic
    }

    /// The identifier fields sluis added to the upstream `fields` for protocollering
    /// (`burgerservicenummer`, `aNummer`); [`crate::filter_response`] strips them again.
    pub fn injected_identifiers(&self) -> &[String] {
        &self.injected_identifiers
    }

    /// Whether the caller may see persons with `geheimhoudingPersoonsgegevens`.
    pub fn see_geheim(&self) -> bool {
        self.see_geheim
    }

    /// The auto-delivered flags the caller may receive; the others are removed.
    pub fn auto_flags_allowed(&self) -> &[AutoField] {
        &self.auto_flags_allowed
    }

    /// Whether burgerservicenummers in the answer must be sealed ([`crate::seal_response`]).
    pub fn pseudonymize(&self) -> bool {
        self.pseudonymize
    }

    /// The own municipality's code.
    pub fn municipality(&self) -> &str {
        &self.municipality
    }

    /// The `gemeenteVanInschrijving` the upstream search is restricted to, if any.
    pub fn search_municipality(&self) -> Option<&str> {
        self.search_municipality.as_deref()
    }
}

impl BrpPolicy {
    /// Decides a validated request for a caller holding `scopes`.
    pub fn decide(&self, query: &Query, scopes: &[String]) -> Result<Plan, Denial> {
        let t = query.query_type();
        let has = |s: &Option<String>| s.as_ref().is_some_and(|s| scopes.contains(s));
        let pseudonymize = has(&self.scopes.pseudonymous_bsn);
        let mut rewrites = Vec::new();
        let mut additions = Map::new();

        // Query type.
        let needed = self.query_types.get(&t);
        if !needed.is_some_and(|n| n.iter().any(|s| scopes.contains(s))) {
            return Err(Denial {
                status: 403,
                code: "permissionDenied",
                title: "U bent niet geautoriseerd voor deze operatie.".to_owned(),
                detail: format!("U bent niet geautoriseerd voor zoekvraag {}.", t.as_str()),
                invalid_params: Vec::new(),
                audit_reason: match needed {
                    Some(n) => format!("query type {} needs one of {n:?}", t.as_str()),
                    None => format!("query type {} is allowed to no one", t.as_str()),
                },
            });
        }

        // Parameter value rules.
        self.check_parameters(query, scopes, pseudonymize)?;

        // Municipality.
        let own = self.municipality.as_str();
        let nationwide = match (&self.scopes.nationwide_postcode, t) {
            (Some(_), QueryType::ZoekMetPostcodeEnHuisnummer) => {
                has(&self.scopes.nationwide_postcode)
            }
            _ => has(&self.scopes.nationwide),
        };
        let own_only = self.own_municipality_only.contains(&t);
        let search_municipality = match query.str_parameter(GEMEENTE) {
            Some(code) if code == own => Some(code.to_owned()),
            Some(code) if own_only => {
                return Err(Denial::unsupported_value(GEMEENTE, code));
            }
            Some(code) if !nationwide => {
                let title = format!("U bent niet geautoriseerd voor {GEMEENTE} = {code}.");
                return Err(Denial::forbidden(
                    "permissionDenied",
                    &title,
                    vec![denied_param(GEMEENTE)],
                    &format!(
                        "{GEMEENTE} {code} is outside the own municipality {own}; caller lacks the nationwide scope"
                    ),
                ));
            }
            Some(code) => Some(code.to_owned()),
            None if own_only || !nationwide => {
                additions.insert(GEMEENTE.to_owned(), Value::from(own));
                rewrites.push(format!("{GEMEENTE} = {own} added (own municipality)"));
                Some(own.to_owned())
            }
            None => None,
        };

        // Deceased persons.
        let deceased = has(&self.scopes.deceased);
        match query.bool_parameter(OVERLEDEN) {
            Some(true) if !deceased => {
                let title = format!("U bent niet geautoriseerd voor {OVERLEDEN} = true.");
                return Err(Denial::forbidden(
                    "permissionDenied",
                    &title,
                    vec![denied_param(OVERLEDEN)],
                    &format!("{OVERLEDEN} = true needs the deceased scope"),
                ));
            }
            None if deceased && t.supports_deceased() => {
                additions.insert(OVERLEDEN.to_owned(), Value::Bool(true));
                rewrites.push(format!(
                    "{OVERLEDEN} = true added (scope for deceased persons)"
                ));
            }
            _ => {}
        }

        // Fields.
        let shape = t.response_shape();
        let idx = shape.index();
        let granted = grants(self, scopes);
        let (fields, automatic) = match query.fields() {
            Some(list) => {
                let denied: Vec<(usize, &String)> = list
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| !covered(&granted, idx, f))
                    .collect();
                if !denied.is_empty() {
                    let names: Vec<&str> = denied.iter().map(|(_, f)| f.as_str()).collect();
                    return Err(Denial {
                        status: 403,
                        code: "authorization",
                        title: "U bent niet geautoriseerd voor één of meerdere opgegeven field waarden."
                            .to_owned(),
                        detail: format!("De foutieve fields waarden zijn: {}.", names.join(", ")),
                        invalid_params: denied
                            .iter()
                            .map(|(i, _)| InvalidParam::new(format!("fields[{i}]"), "authorization", "Geen toegang."))
                            .collect(),
                        audit_reason: format!("fields not in the caller's field sets: {}", names.join(", ")),
                    });
                }
                (list.to_vec(), false)
            }
            None => {
                let auto: Vec<String> = idx
                    .filtered()
                    .iter()
                    .filter(|p| covered(&granted, idx, p))
                    .filter(|p| {
                        p.rsplit_once('.')
                            .is_none_or(|(parent, _)| !covered(&granted, idx, parent))
                    })
                    .map(|p| (*p).to_owned())
                    .collect();
                if auto.is_empty() {
                    return Err(Denial {
                        status: 403,
                        code: "permissionDenied",
                        title: "U bent niet geautoriseerd voor deze operatie.".to_owned(),
                        detail: "U bent niet geautoriseerd voor een gegevensset bij deze operatie."
                            .to_owned(),
                        invalid_params: Vec::new(),
                        audit_reason: format!(
                            "no field set of the caller grants a field of {}",
                            shape.name()
                        ),
                    });
                }
                rewrites.push(format!(
                    "fields composed from the caller's field sets: {}",
                    auto.join(", ")
                ));
                (auto, true)
            }
        };

        // Identifiers for protocollering.
        let mut upstream_fields = fields.clone();
        let mut injected = Vec::new();
        for id in [BSN, A_NUMMER] {
            if id == A_NUMMER && !shape.has_a_nummer() {
                continue;
            }
            if !fields.iter().any(|f| f == id) {
                upstream_fields.push(id.to_owned());
                injected.push(id.to_owned());
                rewrites.push(format!(
                    "{id} added to fields for protocollering (removed from the response)"
                ));
            }
        }
        if upstream_fields.len() > MAX_FIELDS {
            // The client's list plus the identifiers sluis needs would exceed the BRP's limit.
            let room = MAX_FIELDS.saturating_sub(injected.len());
            let mut d = Denial::params_validation(vec![max_items("fields", room)]);
            d.audit_reason = format!(
                "{} fields plus {} identifier(s) exceed {MAX_FIELDS}",
                fields.len(),
                injected.len()
            );
            return Err(d);
        }

        let mut body = Map::new();
        body.insert("type".to_owned(), Value::from(t.as_str()));
        for (k, v) in query.parameters() {
            body.insert(k.clone(), v.clone());
        }
        body.extend(additions);
        body.insert("fields".to_owned(), Value::from(upstream_fields));

        Ok(Plan {
            query_type: t,
            upstream_body: Value::Object(body),
            rewrites,
            fields_requested: fields,
            fields_automatic: automatic,
            injected_identifiers: injected,
            see_geheim: has(&self.scopes.geheim),
            auto_flags_allowed: AutoField::ALL
                .into_iter()
                .filter(|f| self.auto_delivered(*f).allows(scopes))
                .collect(),
            pseudonymize,
            municipality: self.municipality.clone(),
            search_municipality,
        })
    }

    fn check_parameters(
        &self,
        query: &Query,
        scopes: &[String],
        pseudonymize: bool,
    ) -> Result<(), Denial> {
        let mut denied: Vec<(&str, Vec<String>)> = Vec::new();
        let mut unsupported: Vec<(&str, Vec<String>)> = Vec::new();
        for (name, value) in query.parameters() {
            if name == GEMEENTE || name == OVERLEDEN {
                continue; // built-in rules, below
            }
            let Some(rule) = self.rule_for(name) else {
                continue;
            };
            let items: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                v => vec![v],
            };
            for item in items {
                let text = value_text(item);
                // Never echo a burgerservicenummer back to a client that must not hold one.
                let shown = if pseudonymize && name == BSN {
                    "(versleuteld)".to_owned()
                } else {
                    text.clone()
                };
                let list = match rule.judge(&text, scopes) {
                    ValueVerdict::Allowed => continue,
                    ValueVerdict::Denied => &mut denied,
                    ValueVerdict::Unsupported => &mut unsupported,
                };
                match list.iter_mut().find(|(n, _)| *n == name.as_str()) {
                    Some((_, values)) => values.push(shown),
                    None => list.push((name.as_str(), vec![shown])),
                }
            }
        }
        if let Some((name, values)) = unsupported.first() {
            let mut d = Denial::unsupported_value(name, &values.join(", "));
            for (n, v) in unsupported.iter().skip(1) {
                let reason = format!(
                    "Het veld '{n}' ondersteunt niet de waarde(s): {}.",
                    v.join(", ")
                );
                d.detail = format!("{} {reason}", d.detail);
                d.invalid_params
                    .push(InvalidParam::new(*n, "value", reason));
            }
            d.audit_reason = d.detail.clone();
            return Err(d);
        }
        if let Some((name, values)) = denied.first() {
            let sentence = |n: &str, v: &[String]| {
                format!("U bent niet geautoriseerd voor {n} = {}.", v.join(", "))
            };
            let title = sentence(name, values);
            let detail = denied
                .iter()
                .map(|(n, v)| sentence(n, v))
                .collect::<Vec<_>>()
                .join(" ");
            return Err(Denial {
                status: 403,
                code: "permissionDenied",
                title,
                audit_reason: format!("parameter value rules refuse: {detail}"),
                detail,
                invalid_params: denied.iter().map(|(n, _)| denied_param(n)).collect(),
            });
        }
        Ok(())
    }
}

fn denied_param(name: &str) -> InvalidParam {
    InvalidParam::new(name, "denied", "Geen toegang.")
}

/// A parameter value as the text policy value rules match against.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether the granted paths cover `path`: the part of the person the BRP delivers for it is
/// granted, lies below a granted group, or is a group all of whose parts are covered.
pub(crate) fn covered(granted: &HashSet<&str>, idx: &PathIndex, path: &str) -> bool {
    let unit = idx.delivery_unit(path);
    if granted.contains(unit) {
        return true;
    }
    let mut rest = unit;
    while let Some((parent, _)) = rest.rsplit_once('.') {
        if granted.contains(parent) {
            return true;
        }
        rest = parent;
    }
    let kids = idx.children(unit);
    !kids.is_empty() && unit == path && kids.iter().all(|k| covered(granted, idx, k))
}
