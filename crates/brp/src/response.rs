//! Filtering of an upstream `200` answer by a [`Plan`], and what it tells the audit.
//!
//! [`filter_response`] withholds persons with `geheimhoudingPersoonsgegevens` from callers
//! without the scope for them, reads each remaining person's identifiers and flags, strips the
//! identifiers sluis added for protocollering and the auto-delivered flags the caller may not
//! receive, and lists the field paths delivered. It changes the body in place; sealing (for
//! pseudonymous callers) comes after it, so the summary holds plaintext identifiers for the
//! audit only.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::doc::{Node, Object};

use crate::decide::Plan;
use crate::paths::AutoField;

/// How a person figures in a request (Logboek Dataverwerkingen: the role of a data subject).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectRole {
    /// Looked up by burgerservicenummer (`RaadpleegMetBurgerservicenummer`).
    Geraadpleegd,
    /// Found by a search (`Zoek*`).
    GevondenInZoekresultaat,
    /// A partner, parent, child or person with authority (gezag) of a delivered person.
    Gerelateerd,
}

impl SubjectRole {
    /// `geraadpleegd`, `gevonden-in-zoekresultaat` or `gerelateerd`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectRole::Geraadpleegd => "geraadpleegd",
            SubjectRole::GevondenInZoekresultaat => "gevonden-in-zoekresultaat",
            SubjectRole::Gerelateerd => "gerelateerd",
        }
    }
}

/// How a related person relates to the delivered person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relation {
    /// In `partners`.
    Partner,
    /// In `ouders`.
    Ouder,
    /// In `kinderen`.
    Kind,
    /// Anywhere in `gezag`.
    Gezag,
}

/// Facts about a delivered person that an audit reviewer wants to see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PersonFlags {
    /// `geheimhoudingPersoonsgegevens` was set (delivered only to callers with the scope).
    pub geheim: bool,
    /// Deceased: `opschortingBijhouding.reden.code` is `O`, or `overlijden` was delivered.
    pub overleden: bool,
    /// Some delivered data is under investigation (`inOnderzoek` anywhere in the person).
    pub in_onderzoek: bool,
    /// Registered outside the own municipality: from `gemeenteVanInschrijving` in the answer,
    /// else from the municipality the search was restricted to; `None` when unknown.
    pub buiten_gemeente: Option<bool>,
}

/// A related person with a burgerservicenummer in the delivered data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedPerson {
    /// The related person's burgerservicenummer.
    pub burgerservicenummer: String,
    /// How they relate.
    pub relation: Relation,
}

/// One delivered person, as the audit records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveredPerson {
    /// The burgerservicenummer (read before sluis stripped an injected one).
    pub burgerservicenummer: Option<String>,
    /// The A-nummer, for `Persoon` answers.
    pub a_nummer: Option<String>,
    /// Geraadpleegd or gevonden in zoekresultaat.
    pub role: SubjectRole,
    /// Flags.
    pub flags: PersonFlags,
    /// Partners, parents, children and gezag persons with a burgerservicenummer in the answer.
    pub related: Vec<RelatedPerson>,
}

/// A person sluis withheld, so the audit knows which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithheldPerson {
    /// The burgerservicenummer, when the answer had one.
    pub burgerservicenummer: Option<String>,
    /// The A-nummer, when the answer had one.
    pub a_nummer: Option<String>,
}

/// One data subject of a response: a row of the processing log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The burgerservicenummer.
    pub burgerservicenummer: String,
    /// The A-nummer, when known.
    pub a_nummer: Option<String>,
    /// The role.
    pub role: SubjectRole,
}

/// What [`filter_response`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseSummary {
    /// The persons delivered, in answer order.
    pub persons: Vec<DeliveredPerson>,
    /// How many persons were withheld because of `geheimhoudingPersoonsgegevens`. The adapter
    /// tells the client this number (a response header), so that "nobody found" and "withheld"
    /// differ.
    pub withheld: usize,
    /// Which persons were withheld.
    pub withheld_persons: Vec<WithheldPerson>,
    /// The dotted paths present in the delivered persons (array items share their array's
    /// path), sorted.
    pub fields_delivered: Vec<String>,
    /// Auto-delivered flags that were present and removed.
    pub flags_removed: Vec<AutoField>,
    /// Values the upstream sent outside the grant (the fields asked for and allowed), removed
    /// before delivery: never trust the upstream to minimise.
    pub stripped: u64,
    /// The distinct paths of those values, sorted, at most [`MAX_STRIPPED_NAMES`].
    pub stripped_fields: Vec<String>,
}

/// Most distinct stripped paths a [`ResponseSummary`] names.
pub const MAX_STRIPPED_NAMES: usize = 64;

/// What one person may carry: the granted field paths (as response paths) and the allowed
/// auto-delivered flags.
struct Grant<'a> {
    fields: Vec<String>,
    flags: &'a [AutoField],
}

/// The response path a `fields` path names. `adresseringBinnenland` is the BRP's name for
/// the Dutch lines of `adressering`; every other field path is its response path.
fn response_path(field: &str) -> String {
    match field.strip_prefix("adresseringBinnenland") {
        Some(rest) if rest.is_empty() || rest.starts_with('.') => format!("adressering{rest}"),
        _ => field.to_owned(),
    }
}

impl Grant<'_> {
    /// The path is a granted field or inside one.
    fn covers(&self, path: &str) -> bool {
        self.fields.iter().any(|f| {
            path == f
                || path
                    .strip_prefix(f.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    }

    /// A granted field lies below the path.
    fn leads_to(&self, path: &str) -> bool {
        self.fields.iter().any(|f| {
            f.strip_prefix(path)
                .is_some_and(|rest| rest.starts_with('.'))
        })
    }

    fn flag(&self, key: &str) -> bool {
        self.flags.iter().any(|f| f.name() == key)
    }
}

/// Removes from `obj` (at `path`, the prefix on entry and on return) every member the grant does
/// not cover; counts them. The paths are built in one buffer, and the members to remove are
/// removed after the walk, in the order they were found.
fn project(
    obj: &mut Object<'_>,
    path: &mut String,
    grant: &Grant<'_>,
    stripped: &mut BTreeSet<String>,
    count: &mut u64,
) {
    let mut gone: Vec<String> = Vec::new();
    for (k, v) in obj.iter_mut() {
        let len = push_segment(path, k);
        // `type` is the discriminator of polymorphic groups (verblijfplaats, gezag): it
        // carries no personal data and the contract requires it.
        let kept = k == "type" || grant.flag(k) || grant.covers(path);
        if !kept {
            let below = grant.leads_to(path);
            match v {
                Node::Object(m) if below => project(m, path, grant, stripped, count),
                Node::Array(items) if below => {
                    for item in items.iter_mut() {
                        if let Node::Object(m) = item {
                            project(m, path, grant, stripped, count);
                        }
                    }
                }
                _ => {
                    gone.push(k.to_owned());
                    *count += 1;
                    if stripped.len() < MAX_STRIPPED_NAMES && !stripped.contains(path.as_str()) {
                        stripped.insert(path.clone());
                    }
                }
            }
        }
        path.truncate(len);
    }
    for k in gone {
        remove_qualified(obj, &k);
    }
}

/// Removes `key` and the `inOnderzoek` member that qualified it.
fn remove_qualified(obj: &mut Object<'_>, key: &str) {
    obj.remove(key);
    if let Some(Node::Object(onderzoek)) = obj.get_mut(AutoField::InOnderzoek.name()) {
        onderzoek.remove(key);
    }
}

/// An `inOnderzoek` left with only its start dates (`datumIngangOnderzoek…`) qualifies nothing
/// any more and goes whole (this level only).
fn prune_onderzoek(obj: &mut Object<'_>) {
    if let Some(Node::Object(onderzoek)) = obj.get(AutoField::InOnderzoek.name())
        && onderzoek
            .keys()
            .all(|k| k.starts_with("datumIngangOnderzoek"))
    {
        obj.remove(AutoField::InOnderzoek.name());
    }
}

impl ResponseSummary {
    /// The data subjects: each delivered person with a burgerservicenummer, then each related
    /// person (role `gerelateerd`) not already listed.
    pub fn subjects(&self) -> Vec<Subject> {
        let mut out: Vec<Subject> = Vec::new();
        for p in &self.persons {
            if let Some(bsn) = &p.burgerservicenummer {
                out.push(Subject {
                    burgerservicenummer: bsn.clone(),
                    a_nummer: p.a_nummer.clone(),
                    role: p.role,
                });
            }
        }
        for p in &self.persons {
            for r in &p.related {
                if !out
                    .iter()
                    .any(|s| s.burgerservicenummer == r.burgerservicenummer)
                {
                    out.push(Subject {
                        burgerservicenummer: r.burgerservicenummer.clone(),
                        a_nummer: None,
                        role: SubjectRole::Gerelateerd,
                    });
                }
            }
        }
        out
    }
}

/// Filters an upstream answer (`{"type": ..., "personen": [...]}`) in place by the plan.
/// A body without a `personen` array is left as it is and yields an empty summary.
pub fn filter_response<'a>(plan: &Plan, body: &mut Node<'a>) -> ResponseSummary {
    let mut summary = ResponseSummary::default();
    let Some(personen) = body
        .as_object_mut()
        .and_then(|o| o.get_mut("personen"))
        .and_then(Node::as_array_mut)
    else {
        return summary;
    };
    let role = if plan.query_type().is_search() {
        SubjectRole::GevondenInZoekresultaat
    } else {
        SubjectRole::Geraadpleegd
    };
    let own = plan.municipality();
    let mut delivered = Shape::default();
    let mut removed = BTreeSet::new();
    let mut stripped = BTreeSet::new();
    let grant = Grant {
        fields: plan
            .fields_requested()
            .iter()
            .map(|f| response_path(f))
            .collect(),
        flags: plan.auto_flags_allowed(),
    };

    let withheld_flags: Vec<AutoField> = AutoField::ALL
        .into_iter()
        .filter(|f| !plan.auto_flags_allowed().contains(f))
        .collect();

    let upstream = std::mem::take(personen);
    for person in upstream {
        // Anything but an object is not a person: not delivered.
        let Node::Object(mut obj) = person else {
            continue;
        };
        let burgerservicenummer = text(obj.get("burgerservicenummer"));
        let a_nummer = text(obj.get("aNummer"));
        let geheim = is_set(obj.get(AutoField::GeheimhoudingPersoonsgegevens.name()));
        if geheim && !plan.see_geheim() {
            summary.withheld += 1;
            summary.withheld_persons.push(WithheldPerson {
                burgerservicenummer,
                a_nummer,
            });
            continue;
        }
        let flags = PersonFlags {
            geheim,
            overleden: is_deceased(&obj),
            in_onderzoek: has_key_deep(&obj, AutoField::InOnderzoek.name()),
            buiten_gemeente: match obj.get("gemeenteVanInschrijving") {
                Some(g) => text(g.get("code"))
                    .or_else(|| text(Some(g)))
                    .map(|c| c != own),
                None => plan.search_municipality().map(|m| m != own),
            },
        };
        let related = related_persons(&obj);

        // The identifiers sluis added for protocollering go first: their absence is by plan,
        // not an upstream overdelivery.
        for id in plan.injected_identifiers() {
            if !grant.covers(id) {
                remove_qualified(&mut obj, id);
            }
        }
        strip_flags(&mut obj, &withheld_flags, &mut removed);
        // Only what was granted and asked for leaves, whatever the upstream sent.
        project(
            &mut obj,
            &mut String::new(),
            &grant,
            &mut stripped,
            &mut summary.stripped,
        );
        // The BRP flags an investigated identifier because it was asked for; with the
        // identifier gone, its qualifier goes too. Then the paths left are the delivery's.
        prune_onderzoek(&mut obj);
        prune_members(&mut obj, true);
        delivered.add_members(&obj);

        summary.persons.push(DeliveredPerson {
            burgerservicenummer,
            a_nummer,
            role,
            flags,
            related,
        });
        personen.push(Node::Object(obj));
    }
    summary.fields_delivered = delivered.paths();
    summary.flags_removed = removed.into_iter().collect();
    summary.stripped_fields = stripped.into_iter().collect();
    summary
}

fn text(v: Option<&Node<'_>>) -> Option<String> {
    match v? {
        Node::String(s) => Some(s.to_string()),
        Node::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether an indicator is set. Fails closed: anything but an explicit "no" counts as set.
fn is_set(v: Option<&Node<'_>>) -> bool {
    match v {
        None | Some(Node::Null) => false,
        Some(Node::Bool(b)) => *b,
        Some(Node::Number(n)) => n.as_f64() != Some(0.0),
        Some(Node::String(s)) => {
            let s = s.trim();
            !(s.is_empty() || s == "0" || s.eq_ignore_ascii_case("false"))
        }
        Some(_) => true,
    }
}

fn is_deceased(person: &Object<'_>) -> bool {
    let reden = person
        .get(AutoField::OpschortingBijhouding.name())
        .and_then(|o| o.get("reden"))
        .and_then(|r| r.get("code"))
        .and_then(Node::as_str);
    let overlijden = person
        .get("overlijden")
        .is_some_and(|o| o.as_object().is_none_or(|m| !m.is_empty()));
    reden == Some("O") || overlijden
}

fn has_key_deep(obj: &Object<'_>, key: &str) -> bool {
    obj.iter().any(|(k, v)| k == key || value_has_key(v, key))
}

fn value_has_key(v: &Node<'_>, key: &str) -> bool {
    match v {
        Node::Object(m) => has_key_deep(m, key),
        Node::Array(items) => items.iter().any(|i| value_has_key(i, key)),
        _ => false,
    }
}

/// Removes the auto-delivered flags in `flags` (in that order) at any depth, noting which were
/// present. At each level the flags go in order before the walk descends, so a flag inside
/// another flag's value is noted only when it comes earlier in the order: as removing one flag
/// at a time, over the whole person, would find it.
fn strip_flags(obj: &mut Object<'_>, flags: &[AutoField], removed: &mut BTreeSet<AutoField>) {
    for (i, flag) in flags.iter().enumerate() {
        if let Some(v) = obj.remove(flag.name()) {
            removed.insert(*flag);
            for earlier in flags.get(..i).unwrap_or_default() {
                if value_has_key(&v, earlier.name()) {
                    removed.insert(*earlier);
                }
            }
        }
    }
    for v in obj.values_mut() {
        strip_flags_in(v, flags, removed);
    }
}

fn strip_flags_in(v: &mut Node<'_>, flags: &[AutoField], removed: &mut BTreeSet<AutoField>) {
    match v {
        Node::Object(m) => strip_flags(m, flags, removed),
        Node::Array(items) => items
            .iter_mut()
            .for_each(|i| strip_flags_in(i, flags, removed)),
        _ => {}
    }
}

fn related_persons(person: &Object<'_>) -> Vec<RelatedPerson> {
    let mut out: Vec<RelatedPerson> = Vec::new();
    let mut add = |bsn: String, relation: Relation| {
        if !out
            .iter()
            .any(|r| r.burgerservicenummer == bsn && r.relation == relation)
        {
            out.push(RelatedPerson {
                burgerservicenummer: bsn,
                relation,
            });
        }
    };
    for (group, relation) in [
        ("partners", Relation::Partner),
        ("ouders", Relation::Ouder),
        ("kinderen", Relation::Kind),
    ] {
        if let Some(Node::Array(items)) = person.get(group) {
            for item in items {
                if let Some(bsn) = text(item.get("burgerservicenummer")) {
                    add(bsn, relation);
                }
            }
        }
    }
    if let Some(gezag) = person.get("gezag") {
        let mut found = Vec::new();
        bsns_deep(gezag, &mut found);
        for bsn in found {
            add(bsn, Relation::Gezag);
        }
    }
    out
}

fn bsns_deep(v: &Node<'_>, out: &mut Vec<String>) {
    match v {
        Node::Object(m) => {
            for (k, v) in m.iter() {
                if k == "burgerservicenummer" {
                    if let Some(bsn) = text(Some(v)) {
                        out.push(bsn);
                    }
                } else {
                    bsns_deep(v, out);
                }
            }
        }
        Node::Array(items) => items.iter().for_each(|i| bsns_deep(i, out)),
        _ => {}
    }
}

/// Prunes spent `inOnderzoek` members below `obj` (with `prune`): in objects, and in objects in
/// arrays, not in arrays in arrays. `obj` itself is pruned by the caller.
fn prune_members(obj: &mut Object<'_>, prune: bool) {
    for v in obj.values_mut() {
        prune_value(v, prune);
    }
}

fn prune_value(v: &mut Node<'_>, prune: bool) {
    match v {
        Node::Object(m) => {
            if prune {
                prune_onderzoek(m);
            }
            prune_members(m, prune);
        }
        Node::Array(items) => {
            for item in items {
                // Objects in an array are pruned as their array's members; arrays in arrays
                // are not.
                let item_prune = prune && item.is_object();
                prune_value(item, item_prune);
            }
        }
        _ => {}
    }
}

/// The paths of the leaves delivered, merged over persons and array items: a tree of member
/// names, so that a path met again costs a few comparisons of short names, and each distinct
/// path is spelled out once, at the end ([`Shape::paths`]).
#[derive(Default)]
struct Shape<'a> {
    /// A value ends here: a scalar, an empty array or an empty object.
    leaf: bool,
    members: Vec<(Cow<'a, str>, Shape<'a>)>,
}

impl<'a> Shape<'a> {
    fn member(&mut self, key: &Cow<'a, str>) -> &mut Shape<'a> {
        let at = match self.members.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                self.members.push((key.clone(), Shape::default()));
                self.members.len() - 1
            }
        };
        match self.members.get_mut(at) {
            Some((_, shape)) => shape,
            None => unreachable!("the member was found or added"),
        }
    }

    /// Adds the members of an object.
    fn add_members(&mut self, obj: &Object<'a>) {
        for (k, v) in obj.entries() {
            self.member(k).add_value(v);
        }
    }

    fn add_value(&mut self, v: &Node<'a>) {
        match v {
            Node::Object(m) if !m.is_empty() => self.add_members(m),
            Node::Array(items) if !items.is_empty() => {
                for item in items {
                    self.add_value(item);
                }
            }
            _ => self.leaf = true,
        }
    }

    /// The dotted paths of the leaves, sorted.
    fn paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.spell(&mut String::new(), &mut out);
        out.sort_unstable();
        out
    }

    fn spell(&self, path: &mut String, out: &mut Vec<String>) {
        for (k, shape) in &self.members {
            let len = push_segment(path, k);
            if shape.leaf {
                out.push(path.clone());
            }
            shape.spell(path, out);
            path.truncate(len);
        }
    }
}

/// Appends `.key` (or `key` to an empty path); the length before, to truncate back to.
fn push_segment(path: &mut String, key: &str) -> usize {
    let len = path.len();
    if len > 0 {
        path.push('.');
    }
    path.push_str(key);
    len
}
