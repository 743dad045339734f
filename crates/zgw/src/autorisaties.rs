//! Applicaties and their autorisaties (domain B1, B2), validated (ac-001..003 and sluis's
//! stricter rules) and compiled once into per-client [`Grants`].
//!
//! **Model.** A client id belongs to one [`Applicatie`]; an applicatie is a superuser
//! (`heeftAlleAutorisaties`) or holds [`Autorisatie`]s, each for one component, a set of
//! scopes and (for `zrc`, `drc`, `brc`) one type URL, with a maximum
//! vertrouwelijkheidaanduiding for `zrc`/`drc`.
//!
//! **Compilation** ([`compile`]) walks the autorisaties once. Per client and component it
//! keeps the union of all scopes (for [`ClientGrants::any`], rule 15) and, per type URL in
//! upstream form (hash map), the union of the scopes of its autorisaties *at each
//! confidentiality level*: the scopes of the autorisaties whose max is at least that level
//! (rule 12). A request then costs one hash lookup and one expression evaluation; nothing
//! walks the applicaties per request. (The reference implementation queried the database
//! about eight times per authorised zaaktype for each list request, domain F2.)
//!
//! **Type URLs** are compared in upstream form: [`compile`] maps each autorisatie's type
//! through the [`UrlMap`] (public → upstream) and normalizes it; the checks map and normalize
//! the URL they are given the same way, so an object's value as the upstream stores it and
//! the same URL in sluis's public form both match (domain F7: exact byte equality would make
//! grants fail silently on a trailing slash or an upper-case host).
//!
//! **Fail closed.** A missing maximum where one is required is a validation problem, not
//! "no limit" (rule 20); an empty list filter is [`ListScope::Nothing`], never "everything";
//! for `zrc`/`drc` a check without a confidentiality level is denied (the caller must pass
//! the effective level, C6 rule 26).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::ZgwError;
use crate::ops::Component;
use crate::scope::{self, ScopeExpr};
use crate::urlmap::UrlMap;
use crate::va::Vertrouwelijkheid;

/// An Applicatie as the Autorisaties API serves it (1.0 and 1.1). Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Applicatie {
    /// The object's URL; its last path segment is the applicatie's UUID.
    #[serde(default)]
    pub url: Option<String>,
    /// The client ids (1–50 characters each) that authenticate as this applicatie.
    pub client_ids: Vec<String>,
    /// Human-readable name (1–100 characters), recorded in the audit trail.
    pub label: String,
    /// All operations on all components and objects; then `autorisaties` must be empty.
    #[serde(default)]
    pub heeft_alle_autorisaties: bool,
    /// Only documents with `isGereedVoorPublicatie = true` may be read (AC 1.1.0).
    #[serde(default)]
    pub alleen_is_gereed_voor_publicatie: bool,
    /// The autorisaties.
    #[serde(default)]
    pub autorisaties: Vec<Autorisatie>,
}

/// One autorisatie. Unknown fields (`componentWeergave`, ...) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Autorisatie {
    /// `ac`, `nrc`, `zrc`, `ztc`, `drc` or `brc`.
    pub component: String,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The zaaktype URL (`zrc`).
    #[serde(default)]
    pub zaaktype: Option<String>,
    /// The informatieobjecttype URL (`drc`).
    #[serde(default)]
    pub informatieobjecttype: Option<String>,
    /// The besluittype URL (`brc`).
    #[serde(default)]
    pub besluittype: Option<String>,
    /// The highest vertrouwelijkheidaanduiding allowed, inclusive (`zrc`, `drc`).
    #[serde(default)]
    pub max_vertrouwelijkheidaanduiding: Option<String>,
}

/// One page of `GET /applicaties`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicatiePage {
    /// The total count the page states, if any.
    pub count: Option<u64>,
    /// The next page's URL, if any.
    pub next: Option<String>,
    /// The applicaties on this page.
    pub results: Vec<Applicatie>,
}

/// Reads applicaties from a JSON array, one Applicatie object, or a list page
/// `{"count", "next", "previous", "results": [...]}`.
///
/// # Errors
/// [`ZgwError::Json`] for JSON that is none of these, naming the item that does not fit;
/// also for a list page that has a `next` page: its other pages would be silently missing
/// (use [`parse_applicatie_page`] and fetch them all).
pub fn parse_applicaties(json: &[u8]) -> Result<Vec<Applicatie>, ZgwError> {
    let v: Value = serde_json::from_slice(json).map_err(|e| ZgwError::Json(e.to_string()))?;
    match v {
        Value::Array(items) => items_of(items, ""),
        Value::Object(ref map) if map.contains_key("results") => {
            let page = page_of(v)?;
            if page.next.is_some() {
                return Err(ZgwError::Json(
                    "a list page with a next page: the applicaties of the other pages would be \
                     missing; read every page (parse_applicatie_page) and combine them"
                        .into(),
                ));
            }
            Ok(page.results)
        }
        Value::Object(_) => serde_json::from_value(v)
            .map(|a| vec![a])
            .map_err(|e| ZgwError::Json(e.to_string())),
        _ => Err(ZgwError::Json(
            "expected an Applicatie object, an array of them, or a list page with `results`".into(),
        )),
    }
}

/// Reads one list page of `GET /applicaties` (its `next` says whether more follow).
///
/// # Errors
/// [`ZgwError::Json`] when it is not a page of Applicatie objects.
pub fn parse_applicatie_page(json: &[u8]) -> Result<ApplicatiePage, ZgwError> {
    let v: Value = serde_json::from_slice(json).map_err(|e| ZgwError::Json(e.to_string()))?;
    page_of(v)
}

fn page_of(v: Value) -> Result<ApplicatiePage, ZgwError> {
    let Value::Object(mut map) = v else {
        return Err(ZgwError::Json(
            "expected a list page object with `results`".into(),
        ));
    };
    let count = match map.get("count") {
        None | Some(Value::Null) => None,
        Some(c) => Some(
            c.as_u64()
                .ok_or_else(|| ZgwError::Json("`count` is not a non-negative integer".into()))?,
        ),
    };
    let next = match map.get("next") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ZgwError::Json("`next` is not a string or null".into())),
    };
    let results = match map.remove("results") {
        Some(Value::Array(items)) => items_of(items, "results")?,
        _ => return Err(ZgwError::Json("`results` is not an array".into())),
    };
    Ok(ApplicatiePage {
        count,
        next,
        results,
    })
}

fn items_of(items: Vec<Value>, prefix: &str) -> Result<Vec<Applicatie>, ZgwError> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value(item).map_err(|e| ZgwError::Json(format!("{prefix}[{i}]: {e}")))
        })
        .collect()
}

/// One thing wrong with the applicaties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The applicatie's label, or `applicaties[<index>]` when it has none.
    pub applicatie: String,
    /// Where in the applicatie, e.g. `autorisaties[2].zaaktype` or `clientIds[0]`.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "applicatie {:?}: {}: {}",
            self.applicatie, self.at, self.message
        )
    }
}

/// The component codes of the Autorisaties API.
pub const COMPONENT_CODES: [&str; 6] = ["ac", "nrc", "zrc", "ztc", "drc", "brc"];

/// The scopes of the standard (domain B6b). A scope in one of their namespaces that is not
/// listed here is a validation problem (a typo would otherwise grant nothing, silently);
/// scopes in other namespaces are accepted as they are.
pub const KNOWN_SCOPES: [&str; 27] = [
    "audittrails.lezen",
    "autorisaties.bijwerken",
    "autorisaties.lezen",
    "besluiten.aanmaken",
    "besluiten.bijwerken",
    "besluiten.lezen",
    "besluiten.verwijderen",
    "catalogi.geforceerd-schrijven",
    "catalogi.geforceerd-verwijderen",
    "catalogi.lezen",
    "catalogi.schrijven",
    "documenten.aanmaken",
    "documenten.bijwerken",
    "documenten.geforceerd-bijwerken",
    "documenten.geforceerd-unlock",
    "documenten.lezen",
    "documenten.lock",
    "documenten.verwijderen",
    "notificaties.consumeren",
    "notificaties.publiceren",
    "zaken.aanmaken",
    "zaken.bijwerken",
    "zaken.geforceerd-bijwerken",
    "zaken.heropenen",
    "zaken.lezen",
    "zaken.statussen.toevoegen",
    "zaken.verwijderen",
];

const KNOWN_NAMESPACES: [&str; 7] = [
    "audittrails.",
    "autorisaties.",
    "besluiten.",
    "catalogi.",
    "documenten.",
    "notificaties.",
    "zaken.",
];

/// Checks applicaties against the standard's rules and sluis's stricter ones:
///
/// - **ac-001**: a client id in two applicaties; no client ids; a client id of 0 or more than
///   50 characters.
/// - **ac-002**: `heeftAlleAutorisaties` together with autorisaties, or neither.
/// - **ac-003**: `zrc` with `zaken.*` scopes needs `zaaktype` and
///   `maxVertrouwelijkheidaanduiding`; `drc` with `documenten.*` scopes needs
///   `informatieobjecttype` and the max; `brc` with `besluiten.*` scopes needs `besluittype`.
///   A blank value counts as missing: a blank max would otherwise widen a list filter
///   (rule 20), so it is a problem that stops the load.
/// - an unknown component; an unknown vertrouwelijkheidaanduiding; a type that is not an
///   absolute http(s) URL (or longer than 1000 characters); no scopes; a scope that is not
///   1–100 label characters, or an unknown scope in a standard namespace ([`KNOWN_SCOPES`]);
///   a label of 0 or more than 100 characters.
///
/// Every problem is reported, in input order.
pub fn validate(apps: &[Applicatie]) -> Vec<Problem> {
    validate_with(apps, &[])
}

/// [`validate`], also accepting the scopes in `declared` (e.g. scopes sluis's rules declare in
/// a standard namespace, such as `zaken.lezen.openbaar`).
pub fn validate_with(apps: &[Applicatie], declared: &[String]) -> Vec<Problem> {
    let mut problems = Vec::new();
    // Which applicatie (index) each client id was first seen in.
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, app) in apps.iter().enumerate() {
        let name = display_name(app, i);
        let mut push = |at: String, message: String| {
            problems.push(Problem {
                applicatie: name.clone(),
                at,
                message,
            });
        };
        let label_len = app.label.chars().count();
        if app.label.trim().is_empty() || label_len > 100 {
            push(
                "label".into(),
                format!("must be 1 to 100 characters (has {label_len})"),
            );
        }
        if app.client_ids.is_empty() {
            push("clientIds".into(), "no client ids (ac-001)".into());
        }
        let mut own = HashSet::new();
        for (k, id) in app.client_ids.iter().enumerate() {
            let len = id.chars().count();
            if id.is_empty() || len > 50 {
                push(
                    format!("clientIds[{k}]"),
                    format!("a client id must be 1 to 50 characters (has {len}) (ac-001)"),
                );
                continue;
            }
            if !own.insert(id.as_str()) {
                continue;
            }
            match owner.get(id.as_str()) {
                Some(&first) => {
                    let other = apps
                        .get(first)
                        .map(|a| display_name(a, first))
                        .unwrap_or_default();
                    push(
                        format!("clientIds[{k}]"),
                        format!(
                            "client id {id:?} also belongs to applicatie {other:?}; a client id may \
                         occur in only one applicatie (ac-001)"
                        ),
                    );
                }
                None => {
                    owner.insert(id, i);
                }
            }
        }
        match (app.heeft_alle_autorisaties, app.autorisaties.is_empty()) {
            (true, false) => push(
                "autorisaties".into(),
                "heeftAlleAutorisaties is true, so autorisaties must be empty (ac-002)".into(),
            ),
            (false, true) => push(
                "autorisaties".into(),
                "no autorisaties and heeftAlleAutorisaties is false: the applicatie could do \
                 nothing (ac-002)"
                    .into(),
            ),
            _ => {}
        }
        for (k, a) in app.autorisaties.iter().enumerate() {
            validate_autorisatie(a, &format!("autorisaties[{k}]"), declared, &mut push);
        }
    }
    problems
}

fn display_name(app: &Applicatie, index: usize) -> String {
    if app.label.trim().is_empty() {
        format!("applicaties[{index}]")
    } else {
        app.label.clone()
    }
}

fn validate_autorisatie(
    a: &Autorisatie,
    at: &str,
    declared: &[String],
    push: &mut impl FnMut(String, String),
) {
    let code = a.component.as_str();
    if !COMPONENT_CODES.contains(&code) {
        push(
            format!("{at}.component"),
            format!(
                "unknown component {code:?} (expected one of {})",
                COMPONENT_CODES.join(", ")
            ),
        );
        return;
    }
    if a.scopes.is_empty() {
        push(format!("{at}.scopes"), "no scopes".into());
    }
    for (s, label) in a.scopes.iter().enumerate() {
        if !scope::is_label(label) {
            push(
                format!("{at}.scopes[{s}]"),
                "a scope must be 1 to 100 characters: letters, digits, '.', '_', '-', ':', '/'"
                    .into(),
            );
        } else if KNOWN_NAMESPACES.iter().any(|ns| label.starts_with(ns))
            && !KNOWN_SCOPES.contains(&label.as_str())
            && !declared.iter().any(|d| d == label)
        {
            push(
                format!("{at}.scopes[{s}]"),
                format!("unknown scope {label:?}"),
            );
        }
    }
    let (type_field, type_value, namespace, needs_max) = match code {
        "zrc" => ("zaaktype", &a.zaaktype, "zaken.", true),
        "drc" => (
            "informatieobjecttype",
            &a.informatieobjecttype,
            "documenten.",
            true,
        ),
        "brc" => ("besluittype", &a.besluittype, "besluiten.", false),
        _ => return,
    };
    let required = a.scopes.iter().any(|s| s.starts_with(namespace));
    match type_value.as_deref().map(str::trim) {
        None | Some("") => {
            if required {
                push(
                    format!("{at}.{type_field}"),
                    format!("required for a {code} autorisatie with {namespace}* scopes (ac-003)"),
                );
            }
        }
        Some(url) => {
            if url.chars().count() > 1000 || !is_http_url(url) {
                push(
                    format!("{at}.{type_field}"),
                    "must be an absolute http(s) URL of at most 1000 characters".into(),
                );
            }
        }
    }
    if needs_max {
        match a.max_vertrouwelijkheidaanduiding.as_deref() {
            None | Some("") => {
                if required {
                    push(
                        format!("{at}.maxVertrouwelijkheidaanduiding"),
                        format!(
                            "required for a {code} autorisatie with {namespace}* scopes \
                             (ac-003); a missing maximum denies, it never means \"no limit\""
                        ),
                    );
                }
            }
            Some(v) => {
                if Vertrouwelijkheid::parse(v).is_none() {
                    push(
                        format!("{at}.maxVertrouwelijkheidaanduiding"),
                        format!(
                            "unknown vertrouwelijkheidaanduiding {v:?} (expected one of {})",
                            Vertrouwelijkheid::ALL
                                .map(Vertrouwelijkheid::as_str)
                                .join(", ")
                        ),
                    );
                }
            }
        }
    }
}

fn is_http_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
        && !rest.is_empty()
        && !rest.starts_with('/')
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

// ---------------------------------------------------------------------------------------------
// Compiled grants.

/// The compiled autorisaties of every client: immutable, cheap to clone and share (one `Arc`).
#[derive(Clone)]
pub struct Grants {
    inner: Arc<GrantsInner>,
}

struct GrantsInner {
    clients: HashMap<String, Arc<ClientGrants>>,
    digest: String,
}

impl Grants {
    /// The grants of a client id, if it belongs to an applicatie.
    pub fn client(&self, client_id: &str) -> Option<&ClientGrants> {
        self.inner.clients.get(client_id).map(|c| &**c)
    }

    /// How many client ids have grants.
    pub fn len(&self) -> usize {
        self.inner.clients.len()
    }

    /// Whether no client id has grants.
    pub fn is_empty(&self) -> bool {
        self.inner.clients.is_empty()
    }

    /// `sha256:<hex>` over the compiled content (clients, applicatie ids, labels, flags, and
    /// every autorisatie with its upstream type URL), independent of input order: two loads
    /// of the same autorisaties give the same digest. For the audit record.
    pub fn digest(&self) -> String {
        self.inner.digest.clone()
    }
}

impl Default for Grants {
    /// No clients: every client is unknown.
    fn default() -> Self {
        let digest = digest_of(&mut Vec::new());
        Grants {
            inner: Arc::new(GrantsInner {
                clients: HashMap::new(),
                digest,
            }),
        }
    }
}

impl fmt::Debug for Grants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grants")
            .field("clients", &self.len())
            .field("digest", &self.inner.digest)
            .finish()
    }
}

/// The compiled autorisaties of one applicatie (shared by its client ids).
pub struct ClientGrants {
    label: String,
    applicatie_id: String,
    superuser: bool,
    alleen_gereed: bool,
    zaken: ComponentGrants,
    documenten: ComponentGrants,
    catalogi: ComponentGrants,
    besluiten: ComponentGrants,
    /// Every scope name the applicatie's autorisaties use, sorted; a [`Scopes`] set is bits
    /// over this list.
    names: Vec<String>,
    urls: Arc<UrlMap>,
}

#[derive(Default)]
struct ComponentGrants {
    /// The union of the scopes of all autorisaties of the component.
    all: Scopes,
    /// Per type URL (upstream form).
    types: HashMap<String, TypeGrants>,
}

#[derive(Default)]
struct TypeGrants {
    /// `zrc`/`drc`: index `L` holds the union of the scopes of this type's autorisaties whose
    /// max is at least level `L`. Each set contains the next (monotone).
    by_level: [Scopes; 8],
    /// `brc`: the union of the scopes of this type's autorisaties.
    plain: Scopes,
}

/// A set of scopes: bit `i` stands for [`ClientGrants::names`]`[i]`. Usually one word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Scopes(Vec<u64>);

impl Scopes {
    fn insert(&mut self, i: usize) {
        let word = i / 64;
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        if let Some(w) = self.0.get_mut(word) {
            *w |= 1 << (i % 64);
        }
    }

    fn contains(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn union_with(&mut self, other: &Scopes) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (w, o) in self.0.iter_mut().zip(&other.0) {
            *w |= o;
        }
    }

    fn indexes(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(k, w)| {
            (0..64)
                .filter(move |b| w & (1 << b) != 0)
                .map(move |b| k * 64 + b)
        })
    }
}

impl ClientGrants {
    /// The applicatie's label (the audit trail's `applicatieWeergave`).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The applicatie's UUID (the last path segment of its `url`), or `""` without a url.
    pub fn applicatie_id(&self) -> &str {
        &self.applicatie_id
    }

    /// `heeftAlleAutorisaties`: every check passes, lists are not filtered.
    pub fn superuser(&self) -> bool {
        self.superuser
    }

    /// `alleenIsGereedVoorPublicatie`: only documents with `isGereedVoorPublicatie = true`
    /// may be read (hidden from lists, 403 on detail; D17). Not part of [`ListScope`]: the
    /// adapter applies it as an extra filter on Documenten reads.
    pub fn alleen_gereed_voor_publicatie(&self) -> bool {
        self.alleen_gereed
    }

    fn component(&self, c: Component) -> &ComponentGrants {
        match c {
            Component::Zaken => &self.zaken,
            Component::Documenten => &self.documenten,
            Component::Catalogi => &self.catalogi,
            Component::Besluiten => &self.besluiten,
        }
    }

    fn type_grants(&self, c: Component, type_url: &str) -> Option<&TypeGrants> {
        self.component(c)
            .types
            .get(self.urls.upstream_key(type_url).as_ref())
    }

    /// Rule 15: `expr` against the union of the scopes of *all* autorisaties of the
    /// component, without type or confidentiality filter; true for a superuser.
    ///
    /// For [`Component::Catalogi`] the union also holds `zaken.lezen` when a `zrc`
    /// autorisatie has it and `documenten.lezen` when a `drc` one has it, so a Zaken or
    /// Documenten client can read the types its objects point at (ztc-014; the scope table
    /// accepts those two scopes only for zaaktype and informatieobjecttype reads).
    pub fn any(&self, c: Component, expr: &ScopeExpr) -> bool {
        if self.superuser {
            return true;
        }
        self.satisfies(expr, &self.component(c).all)
    }

    /// Rule 12: `expr` against the union of the scopes of the autorisaties of `c` whose type
    /// is `type_url` (compared in upstream form, normalized; a public URL is mapped) and whose
    /// max is at least `va`; true for a superuser.
    ///
    /// - Zaken and Documenten need `va`: with `None` the answer is **false**. There is no
    ///   "a null field matches everything" (C3 rule 12's null case, C6 rule 26): the caller
    ///   passes the effective level (the object's, or the type's default on create).
    /// - Besluiten have no confidentiality: pass `None`; `Some(_)` is false.
    /// - Catalogi has no types: use [`ClientGrants::any`]; this returns false.
    ///
    /// Because the scopes are united across the matching autorisaties, `a & b` is satisfied
    /// by one autorisatie holding `a` and another holding `b` for the same type (when both
    /// maxima admit `va`).
    pub fn allows(
        &self,
        c: Component,
        expr: &ScopeExpr,
        type_url: &str,
        va: Option<Vertrouwelijkheid>,
    ) -> bool {
        if self.superuser {
            return true;
        }
        self.scope_set(c, type_url, va)
            .is_some_and(|set| self.satisfies(expr, set))
    }

    /// The union of scopes [`ClientGrants::allows`] tests, sorted (for attribute rules).
    /// Empty when `allows` would be false for every expression — and for a superuser, whose
    /// rights are not a scope list: check [`ClientGrants::superuser`] first.
    pub fn scopes_for(
        &self,
        c: Component,
        type_url: &str,
        va: Option<Vertrouwelijkheid>,
    ) -> Vec<String> {
        if self.superuser {
            return Vec::new();
        }
        self.scope_set(c, type_url, va)
            .map(|set| {
                set.indexes()
                    .filter_map(|i| self.names.get(i).cloned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether the scopes of `set` satisfy `expr`.
    fn satisfies(&self, expr: &ScopeExpr, set: &Scopes) -> bool {
        expr.satisfied(&|s| {
            self.names
                .binary_search_by(|n| n.as_str().cmp(s))
                .is_ok_and(|i| set.contains(i))
        })
    }

    fn scope_set(
        &self,
        c: Component,
        type_url: &str,
        va: Option<Vertrouwelijkheid>,
    ) -> Option<&Scopes> {
        let t = self.type_grants(c, type_url)?;
        match (c, va) {
            (Component::Zaken | Component::Documenten, Some(v)) => t.by_level.get(v.rank()),
            (Component::Besluiten, None) => Some(&t.plain),
            _ => None,
        }
    }

    /// What a list or search may return (rule 16): per type, the highest level at which the
    /// type's scope union satisfies `expr`. For a single-scope expression that is the highest
    /// max among the type's autorisaties holding the scope, as the standard does; for a
    /// compound expression it is exactly what [`ClientGrants::allows`] admits, so list and
    /// detail never disagree. Types are grouped by that max.
    ///
    /// [`ListScope::All`] for a superuser, and for Catalogi when [`ClientGrants::any`] holds
    /// (catalogi are not filtered, rule 18). [`ListScope::Nothing`] when no type qualifies —
    /// never "everything" (rule 20). Rule 15's 403 is the caller's: test `any` first.
    pub fn list_scope(&self, c: Component, expr: &ScopeExpr) -> ListScope {
        if self.superuser {
            return ListScope::All;
        }
        if !self.any(c, expr) {
            return ListScope::Nothing;
        }
        let grants = self.component(c);
        let mut groups: BTreeMap<Option<Vertrouwelijkheid>, Vec<String>> = BTreeMap::new();
        match c {
            Component::Catalogi => return ListScope::All,
            Component::Zaken | Component::Documenten => {
                for (url, t) in &grants.types {
                    let top = Vertrouwelijkheid::ALL.into_iter().rev().find(|v| {
                        t.by_level
                            .get(v.rank())
                            .is_some_and(|set| self.satisfies(expr, set))
                    });
                    if let Some(max) = top {
                        groups.entry(Some(max)).or_default().push(url.clone());
                    }
                }
            }
            Component::Besluiten => {
                for (url, t) in &grants.types {
                    if self.satisfies(expr, &t.plain) {
                        groups.entry(None).or_default().push(url.clone());
                    }
                }
            }
        }
        if groups.is_empty() {
            return ListScope::Nothing;
        }
        ListScope::Groups(
            groups
                .into_iter()
                .map(|(max, mut types)| {
                    types.sort();
                    TypeGroup { max, types }
                })
                .collect(),
        )
    }
}

impl fmt::Debug for ClientGrants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientGrants")
            .field("label", &self.label)
            .field("applicatie_id", &self.applicatie_id)
            .field("superuser", &self.superuser)
            .field("alleen_gereed_voor_publicatie", &self.alleen_gereed)
            .field("zaaktypen", &self.zaken.types.len())
            .field("informatieobjecttypen", &self.documenten.types.len())
            .field("besluittypen", &self.besluiten.types.len())
            .finish_non_exhaustive()
    }
}

/// What a list may return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListScope {
    /// Everything (superuser; catalogi).
    All,
    /// Nothing.
    Nothing,
    /// Objects of these types up to these levels (an OR over the groups).
    Groups(Vec<TypeGroup>),
}

/// Types that share one maximum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeGroup {
    /// The highest level admitted (inclusive); `None` for Besluiten, which have none.
    pub max: Option<Vertrouwelijkheid>,
    /// Type URLs in upstream form, sorted.
    pub types: Vec<String>,
}

impl ListScope {
    /// Whether an object of `type_url` (upstream form; normalized here) at level `va` may be
    /// listed. In a group with a max, `va` must be given and at most the max; in a group
    /// without (Besluiten), `va` must be `None`.
    pub fn admits(&self, type_url: &str, va: Option<Vertrouwelijkheid>) -> bool {
        match self {
            ListScope::All => true,
            ListScope::Nothing => false,
            ListScope::Groups(groups) => {
                let key = UrlMap::normalize(type_url);
                groups.iter().any(|g| {
                    g.types.binary_search(&key).is_ok()
                        && match (g.max, va) {
                            (Some(max), Some(v)) => v <= max,
                            (None, None) => true,
                            _ => false,
                        }
                })
            }
        }
    }
}

/// Validates ([`validate`]) and compiles applicaties. Type URLs are mapped through `urls` to
/// their upstream form and normalized. Autorisaties of `ac` and `nrc` are validated but not
/// compiled (sluis serves neither).
///
/// # Errors
/// Every [`Problem`] found, when there is one.
pub fn compile(apps: &[Applicatie], urls: &UrlMap) -> Result<Grants, Vec<Problem>> {
    compile_with(apps, urls, &[])
}

/// [`compile`] with [`validate_with`]'s declared scopes.
///
/// # Errors
/// Every [`Problem`] found, when there is one.
pub fn compile_with(
    apps: &[Applicatie],
    urls: &UrlMap,
    declared: &[String],
) -> Result<Grants, Vec<Problem>> {
    let problems = validate_with(apps, declared);
    if !problems.is_empty() {
        return Err(problems);
    }
    let urls = Arc::new(urls.clone());
    let mut clients = HashMap::new();
    let mut lines: Vec<String> = Vec::new();
    for app in apps {
        let client = Arc::new(compile_one(app, &urls, &mut lines));
        for id in &app.client_ids {
            lines.push(line(&[
                "client",
                id,
                &client.applicatie_id,
                &client.label,
                bool_str(client.superuser),
                bool_str(client.alleen_gereed),
            ]));
            clients.insert(id.clone(), Arc::clone(&client));
        }
    }
    let digest = digest_of(&mut lines);
    Ok(Grants {
        inner: Arc::new(GrantsInner { clients, digest }),
    })
}

fn compile_one(app: &Applicatie, urls: &Arc<UrlMap>, lines: &mut Vec<String>) -> ClientGrants {
    let applicatie_id = app
        .url
        .as_deref()
        .map(|u| u.trim_end_matches('/'))
        .and_then(|u| u.rsplit_once('/'))
        .map_or("", |(_, last)| last)
        .to_owned();
    let names: Vec<String> = app
        .autorisaties
        .iter()
        .flat_map(|a| a.scopes.iter().cloned())
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect();
    let bits = |scopes: &[String]| {
        let mut set = Scopes::default();
        for s in scopes {
            if let Ok(i) = names.binary_search(s) {
                set.insert(i);
            }
        }
        set
    };
    let mut zaken = ComponentGrants::default();
    let mut documenten = ComponentGrants::default();
    let mut catalogi = ComponentGrants::default();
    let mut besluiten = ComponentGrants::default();
    // ztc-014: the read scopes of zrc and drc also count for reading their types.
    let mut cross = Scopes::default();
    // The applicatie, for the digest lines: its client ids are unique to it (ac-001).
    let mut ids: Vec<&str> = app.client_ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    let owner = ids.join(" ");
    for a in &app.autorisaties {
        let (target, type_url, read) = match a.component.as_str() {
            "zrc" => (&mut zaken, a.zaaktype.as_deref(), Some("zaken.lezen")),
            "drc" => (
                &mut documenten,
                a.informatieobjecttype.as_deref(),
                Some("documenten.lezen"),
            ),
            "brc" => (&mut besluiten, a.besluittype.as_deref(), None),
            "ztc" => (&mut catalogi, None, None),
            _ => continue,
        };
        let set = bits(&a.scopes);
        if let Some(read) = read.filter(|r| a.scopes.iter().any(|s| s == r)) {
            cross.union_with(&bits(&[read.to_owned()]));
        }
        target.all.union_with(&set);
        let max = a
            .max_vertrouwelijkheidaanduiding
            .as_deref()
            .and_then(Vertrouwelijkheid::parse);
        let type_url = type_url
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| urls.upstream_form(t));
        let mut sorted: Vec<&str> = a.scopes.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        sorted.dedup();
        lines.push(line(&[
            "autorisatie",
            &owner,
            &a.component,
            type_url.as_deref().unwrap_or(""),
            max.map_or("", Vertrouwelijkheid::as_str),
            &sorted.join(" "),
        ]));
        let Some(type_url) = type_url else {
            continue;
        };
        let t = target.types.entry(type_url).or_default();
        if a.component == "brc" {
            t.plain.union_with(&set);
        } else if let Some(max) = max {
            // An autorisatie with max M counts at every level up to M.
            for level in t.by_level.iter_mut().take(max.rank() + 1) {
                level.union_with(&set);
            }
        }
        // zrc/drc without a max (allowed only without zaken/documenten scopes, ac-003):
        // counts for `any`, never for a type check.
    }
    catalogi.all.union_with(&cross);
    ClientGrants {
        label: app.label.clone(),
        applicatie_id,
        superuser: app.heeft_alle_autorisaties,
        alleen_gereed: app.alleen_is_gereed_voor_publicatie,
        zaken,
        documenten,
        catalogi,
        besluiten,
        names,
        urls: Arc::clone(urls),
    }
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// One canonical line: the fields as a JSON array (unambiguous whatever they contain).
fn line(fields: &[&str]) -> String {
    serde_json::to_string(fields).unwrap_or_default()
}

fn digest_of(lines: &mut Vec<String>) -> String {
    lines.sort();
    lines.dedup();
    let mut h = Sha256::new();
    for l in lines.iter() {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    let bytes = h.finalize();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
