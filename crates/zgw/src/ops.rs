//! Routing: method + path of a ZGW API → the [`Operation`], with the scope expression the
//! standard requires for it.
//!
//! The scope table is Rust data ([`specs`]), so the build does not need the OpenAPI files:
//!
//! - **Zaken** (ZRC 1.7.0) and **Documenten** (DRC 1.7.1): every path and method of the OAS,
//!   with its `operationId` and its `security` block. In those files each operation has one
//!   `JWT-Claims` requirement holding one string, and that string is itself an expression:
//!   `zaken.lezen` or `(zaken.bijwerken | zaken.geforceerd-bijwerken)` (domain B6b: `|` is
//!   "either suffices"). Per OpenAPI, several scopes listed under one requirement would all be
//!   needed (AND) and several requirements are alternatives (OR); `tests/oas.rs` reads the OAS
//!   that way and checks this table against it.
//! - Operations **without** a security block (the DRC's `verzendingen`) require
//!   [`ScopeExpr::never`]: no scope satisfies it, so they are denied (C3 rule 13). Only a
//!   superuser (`heeftAlleAutorisaties`) passes, as it passes every check.
//! - `HEAD` maps like `GET` (C3 rule 14): the OAS's `*_headers` operations carry no security
//!   block but are answered with the `retrieve` scope; a path whose OAS has no `HEAD` still
//!   accepts it, as the `GET` operation (same `operationId`).
//! - **Catalogi** (no OAS here): list/retrieve/create/update/partial_update/destroy on its
//!   collections. Reads need `catalogi.lezen`; `zaaktype` reads also accept `documenten.lezen`
//!   and `zaken.lezen`, `informatieobjecttype` reads `documenten.lezen` (ztc-014). Every write
//!   needs `catalogi.schrijven`. sluis does not accept the `catalogi.geforceerd-schrijven` /
//!   `-verwijderen` alternatives the ZTC has for published types, nor route the `publish`
//!   actions: such requests are denied or not found, which is the safe side.
//! - **Besluiten** (no OAS here), from B6b: besluit list/retrieve/create/update/partial
//!   update/destroy, besluitinformatieobject list/retrieve/create/destroy, and the besluit
//!   audit trail.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use crate::scope::ScopeExpr;

/// A ZGW API served through sluis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    /// Zaken API (`zrc`).
    Zaken,
    /// Documenten API (`drc`).
    Documenten,
    /// Catalogi API (`ztc`).
    Catalogi,
    /// Besluiten API (`brc`).
    Besluiten,
}

impl Component {
    /// Every component.
    pub const ALL: [Component; 4] = [
        Component::Zaken,
        Component::Documenten,
        Component::Catalogi,
        Component::Besluiten,
    ];

    /// The API name: `"zaken"`, `"documenten"`, `"catalogi"`, `"besluiten"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Zaken => "zaken",
            Component::Documenten => "documenten",
            Component::Catalogi => "catalogi",
            Component::Besluiten => "besluiten",
        }
    }

    /// The component code of the Autorisaties API and the audit trail: `"zrc"`, `"drc"`,
    /// `"ztc"`, `"brc"`.
    pub fn code(self) -> &'static str {
        match self {
            Component::Zaken => "zrc",
            Component::Documenten => "drc",
            Component::Catalogi => "ztc",
            Component::Besluiten => "brc",
        }
    }

    /// The component for its name or its code (`"zaken"` or `"zrc"`); exact, lowercase.
    pub fn parse(s: &str) -> Option<Component> {
        Component::ALL
            .into_iter()
            .find(|c| c.as_str() == s || c.code() == s)
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// `GET` on a collection.
    List,
    /// `GET` (or `HEAD`) on an object.
    Retrieve,
    /// `POST` on a collection.
    Create,
    /// `PUT`.
    Update,
    /// `PATCH`.
    PartialUpdate,
    /// `DELETE`.
    Destroy,
    /// `POST .../_zoek`.
    Search,
    /// `GET /enkelvoudiginformatieobjecten/{uuid}/download`.
    Download,
    /// `POST /enkelvoudiginformatieobjecten/{uuid}/lock`.
    Lock,
    /// `POST /enkelvoudiginformatieobjecten/{uuid}/unlock`.
    Unlock,
}

impl Action {
    /// `"list"`, `"retrieve"`, `"create"`, `"update"`, `"partial_update"`, `"destroy"`,
    /// `"search"`, `"download"`, `"lock"`, `"unlock"` (the audit trail's `actie` values where
    /// they overlap).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::List => "list",
            Action::Retrieve => "retrieve",
            Action::Create => "create",
            Action::Update => "update",
            Action::PartialUpdate => "partial_update",
            Action::Destroy => "destroy",
            Action::Search => "search",
            Action::Download => "download",
            Action::Lock => "lock",
            Action::Unlock => "unlock",
        }
    }

    /// Whether the action only reads (list, retrieve, search, download).
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Action::List | Action::Retrieve | Action::Search | Action::Download
        )
    }

    /// Whether the answer is a collection to filter (list, search).
    pub fn is_collection(self) -> bool {
        matches!(self, Action::List | Action::Search)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the object of an operation is authorized: which object's type and
/// vertrouwelijkheidaanduiding the grant is checked against (C5 rule 23, C6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Main {
    /// The object is a zaak: its `zaaktype` and `vertrouwelijkheidaanduiding`.
    Zaak,
    /// The object carries a zaak URL (status, rol, resultaat, zaakobject,
    /// zaakinformatieobject, klantcontact, zaakcontactmoment, zaakverzoek; zaaknotitie, whose
    /// field is `gerelateerdAan`): authorized through that zaak. [`Operation::link_field`]
    /// names the field.
    ViaZaak,
    /// `/zaken/{zaak_uuid}/...` (audittrail, zaakeigenschappen, besluiten): the parent zaak
    /// is [`Operation::parent`]; even the list needs that zaak authorized (C5 rule 24). For
    /// the audit trail the standard checks only `audittrails.lezen` (often granted without a
    /// zaaktype); since the trail holds full zaak bodies, sluis should also require that the
    /// caller may read the parent zaak (C8 rule 37).
    ZaakInPath,
    /// The object is an enkelvoudiginformatieobject (`informatieobjecttype` +
    /// `vertrouwelijkheidaanduiding`); also its download, lock and unlock.
    Informatieobject,
    /// The object carries an `informatieobject` URL (gebruiksrechten, objectinformatieobject,
    /// verzending).
    ViaInformatieobject,
    /// `/enkelvoudiginformatieobjecten/{uuid}/audittrail[/uuid]`: the parent document is
    /// [`Operation::parent`].
    InformatieobjectInPath,
    /// `PUT /bestandsdelen/{uuid}`: the part belongs to an informatieobject that neither the
    /// request nor any API read reveals (bestandsdelen have no `GET` and no
    /// `informatieobject` field). The upstream checks it against the (locked) document; an
    /// adapter that cannot find the document cannot check type and
    /// vertrouwelijkheidaanduiding itself and should treat this as "scope only, upstream
    /// decides the object" or deny — a deliberate choice, hence a variant of its own.
    Bestandsdeel,
    /// The object is a besluit (`besluittype`; besluiten have no confidentiality).
    Besluit,
    /// The object carries a `besluit` URL (besluitinformatieobject).
    ViaBesluit,
    /// `/besluiten/{besluit_uuid}/audittrail[/uuid]`: the parent besluit is
    /// [`Operation::parent`].
    BesluitInPath,
    /// Only the scope is checked (C8 rule 35): catalogi resources, and
    /// `POST /zaaknummer_reserveren`, which has no object.
    ScopeOnly,
}

/// One row of the scope table: an OAS operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    /// The API.
    pub component: Component,
    /// The HTTP method, uppercase.
    pub method: &'static str,
    /// The OAS path template, e.g. `/zaken/{zaak_uuid}/audittrail/{uuid}`: `{uuid}` is the
    /// object id, any other `{..}` the parent's.
    pub path: &'static str,
    /// The OAS `operationId`.
    pub operation_id: &'static str,
    /// The singular resource name.
    pub resource: &'static str,
    /// The action.
    pub action: Action,
    /// How the object is authorized.
    pub main: Main,
    /// The required scope expression as text (`()` when none is declared).
    pub scope: &'static str,
}

/// A routed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The API.
    pub component: Component,
    /// The singular API resource name, e.g. `"zaak"`, `"status"`,
    /// `"enkelvoudiginformatieobject"`, `"zaaktype"`.
    pub resource: &'static str,
    /// The action.
    pub action: Action,
    /// The object's UUID (lowercase) on detail paths.
    pub id: Option<String>,
    /// The parent's UUID (lowercase) for the `*InPath` resources.
    pub parent: Option<String>,
    /// The scope expression the standard requires ([`ScopeExpr::never`] when it declares
    /// none).
    pub scope: ScopeExpr,
    /// How the object is authorized.
    pub main: Main,
    /// The OAS `operationId` (a bounded set, fit for a metric label).
    pub operation_id: &'static str,
}

impl Operation {
    /// `<code>.<resource>.<action>`, e.g. `zrc.zaak.list` (the operation name sluis records).
    pub fn name(&self) -> String {
        format!(
            "{}.{}.{}",
            self.component.code(),
            self.resource,
            self.action.as_str()
        )
    }

    /// The field of the object (or create body) that links to its main object:
    /// `"zaak"` ([`Main::ViaZaak`]; `"gerelateerdAan"` for a zaaknotitie),
    /// `"informatieobject"` ([`Main::ViaInformatieobject`]), `"besluit"`
    /// ([`Main::ViaBesluit`]); `None` for the other kinds.
    pub fn link_field(&self) -> Option<&'static str> {
        match self.main {
            Main::ViaZaak if self.resource == "zaaknotitie" => Some("gerelateerdAan"),
            Main::ViaZaak => Some("zaak"),
            Main::ViaInformatieobject => Some("informatieobject"),
            Main::ViaBesluit => Some("besluit"),
            _ => None,
        }
    }
}

/// Why a request has no operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteError {
    /// No such path (or an id that is not a UUID).
    NotFound,
    /// The path exists but not with this method; `allow` is the `Allow` header value.
    MethodNotAllowed {
        /// E.g. `"GET, HEAD, PUT, PATCH, DELETE, OPTIONS"`.
        allow: &'static str,
    },
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::NotFound => f.write_str("no such ZGW API path"),
            RouteError::MethodNotAllowed { allow } => {
                write!(f, "method not allowed on this path (allowed: {allow})")
            }
        }
    }
}

impl std::error::Error for RouteError {}

/// Routes a request.
///
/// `path` is relative to the component's API root (`/zaken`, `/zaken/{uuid}`,
/// `/zaken/_zoek`, `/enkelvoudiginformatieobjecten/{uuid}/download`). One trailing `/` is
/// tolerated and a query string (`?...`) ignored. Literal segments match exactly (case
/// sensitive); ids must be hyphenated UUIDs (any case; returned lowercase), otherwise the
/// path is not found. `HEAD` maps like `GET` (C3 rule 14). `OPTIONS` is not an operation:
/// the adapter answers it from [`allow`] (route gives `MethodNotAllowed` with that value).
///
/// # Errors
/// [`RouteError::NotFound`] for an unknown path, [`RouteError::MethodNotAllowed`] for a
/// known path with another method.
pub fn route(component: Component, method: &str, path: &str) -> Result<Operation, RouteError> {
    let index = &*INDEX;
    let (group, ids) = find(index, component, path).ok_or(RouteError::NotFound)?;
    let by_method = |m: &str| {
        group
            .rows
            .iter()
            .copied()
            .find_map(|i| index.spec(i).filter(|s| s.method == m).map(|s| (i, s)))
    };
    let found = by_method(method).or_else(|| {
        // C3 rule 14: HEAD is answered as GET where the OAS has no HEAD of its own.
        (method == "HEAD").then(|| by_method("GET")).flatten()
    });
    let Some((i, spec)) = found else {
        return Err(RouteError::MethodNotAllowed {
            allow: group.allow.as_str(),
        });
    };
    Ok(Operation {
        component,
        resource: spec.resource,
        action: spec.action,
        id: ids.id,
        parent: ids.parent,
        scope: index
            .scopes
            .get(i)
            .cloned()
            .unwrap_or_else(ScopeExpr::never),
        main: spec.main,
        operation_id: spec.operation_id,
    })
}

/// The `Allow` header value for a path (for `OPTIONS` and 405 answers): its methods in the
/// order `GET, HEAD, POST, PUT, PATCH, DELETE`, then `OPTIONS`. `None` when the path is not
/// found (as [`route`] would say).
pub fn allow(component: Component, path: &str) -> Option<&'static str> {
    let index: &'static Index = &INDEX;
    find(index, component, path).map(|(g, _)| g.allow.as_str())
}

/// The scope table of one component (see the module documentation).
pub fn specs(component: Component) -> &'static [RouteSpec] {
    match component {
        Component::Zaken => ZAKEN,
        Component::Documenten => DOCUMENTEN,
        Component::Catalogi => CATALOGI.as_slice(),
        Component::Besluiten => BESLUITEN,
    }
}

/// Whether `s` is a hyphenated UUID (8-4-4-4-12 hex digits, any case).
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

// ---------------------------------------------------------------------------------------------
// Matching.

enum Seg {
    Lit(&'static str),
    Id,
    Parent,
}

struct Group {
    component: Component,
    segs: Vec<Seg>,
    /// Indexes into [`Index::specs`].
    rows: Vec<usize>,
    allow: String,
}

struct Index {
    groups: Vec<Group>,
    /// Group indexes per component and first path segment.
    by_first: HashMap<(Component, &'static str), Vec<usize>>,
    /// Every spec of every component, in [`all_specs`] order.
    specs: Vec<&'static RouteSpec>,
    /// The parsed scope of each spec, in the same order.
    scopes: Vec<ScopeExpr>,
}

impl Index {
    fn spec(&self, i: usize) -> Option<&'static RouteSpec> {
        self.specs.get(i).copied()
    }
}

#[derive(Default)]
struct Ids {
    id: Option<String>,
    parent: Option<String>,
}

fn all_specs() -> impl Iterator<Item = &'static RouteSpec> {
    Component::ALL.into_iter().flat_map(specs)
}

static INDEX: LazyLock<Index> = LazyLock::new(build_index);

fn build_index() -> Index {
    let mut groups: Vec<Group> = Vec::new();
    let mut by_path: HashMap<(Component, &'static str), usize> = HashMap::new();
    let specs: Vec<&'static RouteSpec> = all_specs().collect();
    let mut scopes = Vec::new();
    for (i, &spec) in specs.iter().enumerate() {
        // A table entry that does not parse is a bug caught by the tests; at run time it
        // denies rather than panics.
        scopes.push(ScopeExpr::parse(spec.scope).unwrap_or_else(|_| ScopeExpr::never()));
        let g = *by_path
            .entry((spec.component, spec.path))
            .or_insert_with(|| {
                groups.push(Group {
                    component: spec.component,
                    segs: segments(spec.path),
                    rows: Vec::new(),
                    allow: String::new(),
                });
                groups.len() - 1
            });
        if let Some(group) = groups.get_mut(g) {
            group.rows.push(i);
        }
    }
    let mut by_first: HashMap<(Component, &'static str), Vec<usize>> = HashMap::new();
    for (gi, group) in groups.iter_mut().enumerate() {
        let methods: Vec<&str> = group
            .rows
            .iter()
            .filter_map(|&i| specs.get(i).map(|s| s.method))
            .collect();
        let has_get = methods.contains(&"GET");
        let mut allow: Vec<&str> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
            .into_iter()
            .filter(|m| methods.contains(m) || (*m == "HEAD" && has_get))
            .collect();
        allow.push("OPTIONS");
        group.allow = allow.join(", ");
        if let Some(Seg::Lit(first)) = group.segs.first() {
            by_first
                .entry((group.component, first))
                .or_default()
                .push(gi);
        }
    }
    Index {
        groups,
        by_first,
        specs,
        scopes,
    }
}

fn segments(template: &'static str) -> Vec<Seg> {
    template
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "{uuid}" => Seg::Id,
            s if s.starts_with('{') => Seg::Parent,
            s => Seg::Lit(s),
        })
        .collect()
}

fn find<'i>(index: &'i Index, component: Component, path: &str) -> Option<(&'i Group, Ids)> {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    let path = path.strip_prefix('/')?;
    let path = path.strip_suffix('/').unwrap_or(path);
    let parts: Vec<&str> = path.split('/').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let first = *parts.first()?;
    let candidates = index.by_first.get(&(component, first))?;
    candidates.iter().find_map(|&gi| {
        let group = index.groups.get(gi)?;
        matches(&group.segs, &parts).map(|ids| (group, ids))
    })
}

fn matches(segs: &[Seg], parts: &[&str]) -> Option<Ids> {
    if segs.len() != parts.len() {
        return None;
    }
    let mut ids = Ids::default();
    for (seg, part) in segs.iter().zip(parts) {
        match seg {
            Seg::Lit(lit) => {
                if lit != part {
                    return None;
                }
            }
            Seg::Id | Seg::Parent => {
                if !is_uuid(part) {
                    return None;
                }
                let v = Some(part.to_ascii_lowercase());
                if matches!(seg, Seg::Id) {
                    ids.id = v;
                } else {
                    ids.parent = v;
                }
            }
        }
    }
    Some(ids)
}

// ---------------------------------------------------------------------------------------------
// The table.

#[expect(
    clippy::too_many_arguments,
    reason = "one positional row per table line keeps the table readable"
)]
const fn r(
    component: Component,
    method: &'static str,
    path: &'static str,
    operation_id: &'static str,
    resource: &'static str,
    action: Action,
    main: Main,
    scope: &'static str,
) -> RouteSpec {
    RouteSpec {
        component,
        method,
        path,
        operation_id,
        resource,
        action,
        main,
        scope,
    }
}

/// No security block in the OAS: never satisfied (C3 rule 13).
const NONE: &str = "()";

const ZL: &str = "zaken.lezen";
const ZA: &str = "zaken.aanmaken";
const ZB: &str = "zaken.bijwerken";
const ZBG: &str = "(zaken.bijwerken | zaken.geforceerd-bijwerken)";
const ZABG: &str = "(zaken.aanmaken | zaken.bijwerken | zaken.geforceerd-bijwerken)";
const ZBGV: &str = "(zaken.bijwerken | zaken.geforceerd-bijwerken | zaken.verwijderen)";
const ZST: &str = "(zaken.aanmaken | zaken.statussen.toevoegen | zaken.heropenen)";
const ZV: &str = "zaken.verwijderen";
const AT: &str = "audittrails.lezen";

use Action::{
    Create, Destroy, Download, List, Lock, PartialUpdate, Retrieve, Search, Unlock, Update,
};
use Component::{Besluiten as B, Catalogi as C, Documenten as D, Zaken as Z};
use Main::{
    Besluit, BesluitInPath, Bestandsdeel, Informatieobject, InformatieobjectInPath, ScopeOnly,
    ViaBesluit, ViaInformatieobject, ViaZaak, Zaak, ZaakInPath,
};

/// Zaken API 1.7.0, every operation of the OAS.
#[rustfmt::skip]
static ZAKEN: &[RouteSpec] = &[
    r(Z, "GET", "/klantcontacten", "klantcontact_list", "klantcontact", List, ViaZaak, ZL),
    r(Z, "POST", "/klantcontacten", "klantcontact_create", "klantcontact", Create, ViaZaak, ZBG),
    r(Z, "GET", "/klantcontacten/{uuid}", "klantcontact_retrieve", "klantcontact", Retrieve, ViaZaak, ZL),
    r(Z, "GET", "/resultaten", "resultaat_list", "resultaat", List, ViaZaak, ZL),
    r(Z, "POST", "/resultaten", "resultaat_create", "resultaat", Create, ViaZaak, ZBG),
    r(Z, "GET", "/resultaten/{uuid}", "resultaat_retrieve", "resultaat", Retrieve, ViaZaak, ZL),
    r(Z, "PUT", "/resultaten/{uuid}", "resultaat_update", "resultaat", Update, ViaZaak, ZBG),
    r(Z, "PATCH", "/resultaten/{uuid}", "resultaat_partial_update", "resultaat", PartialUpdate, ViaZaak, ZBG),
    r(Z, "DELETE", "/resultaten/{uuid}", "resultaat_destroy", "resultaat", Destroy, ViaZaak, ZBG),
    r(Z, "HEAD", "/resultaten/{uuid}", "resultaat_headers", "resultaat", Retrieve, ViaZaak, ZL),
    r(Z, "GET", "/rollen", "rol_list", "rol", List, ViaZaak, ZL),
    r(Z, "POST", "/rollen", "rol_create", "rol", Create, ViaZaak, ZBG),
    r(Z, "GET", "/rollen/{uuid}", "rol_retrieve", "rol", Retrieve, ViaZaak, ZL),
    r(Z, "DELETE", "/rollen/{uuid}", "rol_destroy", "rol", Destroy, ViaZaak, ZBG),
    r(Z, "HEAD", "/rollen/{uuid}", "rol_headers", "rol", Retrieve, ViaZaak, ZL),
    r(Z, "GET", "/statussen", "status_list", "status", List, ViaZaak, ZL),
    r(Z, "POST", "/statussen", "status_create", "status", Create, ViaZaak, ZST),
    r(Z, "GET", "/statussen/{uuid}", "status_retrieve", "status", Retrieve, ViaZaak, ZL),
    r(Z, "HEAD", "/statussen/{uuid}", "status_headers", "status", Retrieve, ViaZaak, ZL),
    r(Z, "GET", "/zaakcontactmomenten", "zaakcontactmoment_list", "zaakcontactmoment", List, ViaZaak, ZL),
    r(Z, "POST", "/zaakcontactmomenten", "zaakcontactmoment_create", "zaakcontactmoment", Create, ViaZaak, ZB),
    r(Z, "GET", "/zaakcontactmomenten/{uuid}", "zaakcontactmoment_retrieve", "zaakcontactmoment", Retrieve, ViaZaak, ZL),
    r(Z, "DELETE", "/zaakcontactmomenten/{uuid}", "zaakcontactmoment_destroy", "zaakcontactmoment", Destroy, ViaZaak, ZB),
    r(Z, "GET", "/zaakinformatieobjecten", "zaakinformatieobject_list", "zaakinformatieobject", List, ViaZaak, ZL),
    r(Z, "POST", "/zaakinformatieobjecten", "zaakinformatieobject_create", "zaakinformatieobject", Create, ViaZaak, ZABG),
    r(Z, "GET", "/zaakinformatieobjecten/{uuid}", "zaakinformatieobject_retrieve", "zaakinformatieobject", Retrieve, ViaZaak, ZL),
    r(Z, "PUT", "/zaakinformatieobjecten/{uuid}", "zaakinformatieobject_update", "zaakinformatieobject", Update, ViaZaak, ZBG),
    r(Z, "PATCH", "/zaakinformatieobjecten/{uuid}", "zaakinformatieobject_partial_update", "zaakinformatieobject", PartialUpdate, ViaZaak, ZBG),
    r(Z, "DELETE", "/zaakinformatieobjecten/{uuid}", "zaakinformatieobject_destroy", "zaakinformatieobject", Destroy, ViaZaak, ZBGV),
    r(Z, "HEAD", "/zaakinformatieobjecten/{uuid}", "zaakinformatieobject_headers", "zaakinformatieobject", Retrieve, ViaZaak, ZL),
    r(Z, "GET", "/zaaknotities", "zaaknotitie_list", "zaaknotitie", List, ViaZaak, ZL),
    r(Z, "POST", "/zaaknotities", "zaaknotitie_create", "zaaknotitie", Create, ViaZaak, ZB),
    r(Z, "GET", "/zaaknotities/{uuid}", "zaaknotitie_read", "zaaknotitie", Retrieve, ViaZaak, ZL),
    r(Z, "PUT", "/zaaknotities/{uuid}", "zaaknotitie_update", "zaaknotitie", Update, ViaZaak, ZB),
    r(Z, "PATCH", "/zaaknotities/{uuid}", "zaaknotitie_partial_update", "zaaknotitie", PartialUpdate, ViaZaak, ZB),
    r(Z, "DELETE", "/zaaknotities/{uuid}", "zaaknotitie_delete", "zaaknotitie", Destroy, ViaZaak, ZB),
    r(Z, "POST", "/zaaknummer_reserveren", "zaaknummer_reserveren", "zaakidentificatie", Create, ScopeOnly, ZA),
    r(Z, "GET", "/zaakobjecten", "zaakobject_list", "zaakobject", List, ViaZaak, ZL),
    r(Z, "POST", "/zaakobjecten", "zaakobject_create", "zaakobject", Create, ViaZaak, ZABG),
    r(Z, "GET", "/zaakobjecten/{uuid}", "zaakobject_retrieve", "zaakobject", Retrieve, ViaZaak, ZL),
    r(Z, "PUT", "/zaakobjecten/{uuid}", "zaakobject_update", "zaakobject", Update, ViaZaak, ZBG),
    r(Z, "PATCH", "/zaakobjecten/{uuid}", "zaakobject_partial_update", "zaakobject", PartialUpdate, ViaZaak, ZBG),
    r(Z, "DELETE", "/zaakobjecten/{uuid}", "zaakobject_destroy", "zaakobject", Destroy, ViaZaak, ZBGV),
    r(Z, "HEAD", "/zaakobjecten/{uuid}", "zaakobject_headers", "zaakobject", Retrieve, ViaZaak, ZL),
    r(Z, "GET", "/zaakverzoeken", "zaakverzoek_list", "zaakverzoek", List, ViaZaak, ZL),
    r(Z, "POST", "/zaakverzoeken", "zaakverzoek_create", "zaakverzoek", Create, ViaZaak, ZB),
    r(Z, "GET", "/zaakverzoeken/{uuid}", "zaakverzoek_retrieve", "zaakverzoek", Retrieve, ViaZaak, ZL),
    r(Z, "DELETE", "/zaakverzoeken/{uuid}", "zaakverzoek_destroy", "zaakverzoek", Destroy, ViaZaak, ZB),
    r(Z, "GET", "/zaken", "zaak_list", "zaak", List, Zaak, ZL),
    r(Z, "POST", "/zaken", "zaak_create", "zaak", Create, Zaak, ZA),
    r(Z, "GET", "/zaken/{uuid}", "zaak_retrieve", "zaak", Retrieve, Zaak, ZL),
    r(Z, "PUT", "/zaken/{uuid}", "zaak_update", "zaak", Update, Zaak, ZBG),
    r(Z, "PATCH", "/zaken/{uuid}", "zaak_partial_update", "zaak", PartialUpdate, Zaak, ZBG),
    r(Z, "DELETE", "/zaken/{uuid}", "zaak_destroy", "zaak", Destroy, Zaak, ZV),
    r(Z, "HEAD", "/zaken/{uuid}", "zaak_headers", "zaak", Retrieve, Zaak, ZL),
    r(Z, "GET", "/zaken/{zaak_uuid}/audittrail", "audittrail_list", "audittrail", List, ZaakInPath, AT),
    r(Z, "GET", "/zaken/{zaak_uuid}/audittrail/{uuid}", "audittrail_retrieve", "audittrail", Retrieve, ZaakInPath, AT),
    r(Z, "GET", "/zaken/{zaak_uuid}/besluiten", "zaakbesluit_list", "zaakbesluit", List, ZaakInPath, ZL),
    r(Z, "POST", "/zaken/{zaak_uuid}/besluiten", "zaakbesluit_create", "zaakbesluit", Create, ZaakInPath, ZB),
    r(Z, "GET", "/zaken/{zaak_uuid}/besluiten/{uuid}", "zaakbesluit_retrieve", "zaakbesluit", Retrieve, ZaakInPath, ZL),
    r(Z, "DELETE", "/zaken/{zaak_uuid}/besluiten/{uuid}", "zaakbesluit_destroy", "zaakbesluit", Destroy, ZaakInPath, ZB),
    r(Z, "GET", "/zaken/{zaak_uuid}/zaakeigenschappen", "zaakeigenschap_list", "zaakeigenschap", List, ZaakInPath, ZL),
    r(Z, "POST", "/zaken/{zaak_uuid}/zaakeigenschappen", "zaakeigenschap_create", "zaakeigenschap", Create, ZaakInPath, ZBG),
    r(Z, "GET", "/zaken/{zaak_uuid}/zaakeigenschappen/{uuid}", "zaakeigenschap_retrieve", "zaakeigenschap", Retrieve, ZaakInPath, ZL),
    r(Z, "PUT", "/zaken/{zaak_uuid}/zaakeigenschappen/{uuid}", "zaakeigenschap_update", "zaakeigenschap", Update, ZaakInPath, ZBG),
    r(Z, "PATCH", "/zaken/{zaak_uuid}/zaakeigenschappen/{uuid}", "zaakeigenschap_partial_update", "zaakeigenschap", PartialUpdate, ZaakInPath, ZBG),
    r(Z, "DELETE", "/zaken/{zaak_uuid}/zaakeigenschappen/{uuid}", "zaakeigenschap_destroy", "zaakeigenschap", Destroy, ZaakInPath, ZBG),
    r(Z, "HEAD", "/zaken/{zaak_uuid}/zaakeigenschappen/{uuid}", "zaakeigenschap_headers", "zaakeigenschap", Retrieve, ZaakInPath, ZL),
    r(Z, "POST", "/zaken/_zoek", "zaak__zoek", "zaak", Search, Zaak, ZL),
];

const DL: &str = "documenten.lezen";
const DA: &str = "documenten.aanmaken";
const DB: &str = "documenten.bijwerken";
const DBG: &str = "(documenten.bijwerken | documenten.geforceerd-bijwerken)";
const DV: &str = "documenten.verwijderen";
const DLOCK: &str = "documenten.lock";
const DUNLOCK: &str = "(documenten.lock | documenten.geforceerd-unlock)";

const EIO: &str = "enkelvoudiginformatieobject";

/// Documenten API 1.7.1, every operation of the OAS.
#[rustfmt::skip]
static DOCUMENTEN: &[RouteSpec] = &[
    r(D, "PUT", "/bestandsdelen/{uuid}", "bestandsdeel_update", "bestandsdeel", Update, Bestandsdeel, DB),
    r(D, "GET", "/enkelvoudiginformatieobjecten", "enkelvoudiginformatieobject_list", EIO, List, Informatieobject, DL),
    r(D, "POST", "/enkelvoudiginformatieobjecten", "enkelvoudiginformatieobject_create", EIO, Create, Informatieobject, DA),
    r(D, "GET", "/enkelvoudiginformatieobjecten/{enkelvoudiginformatieobject_uuid}/audittrail", "audittrail_list", "audittrail", List, InformatieobjectInPath, AT),
    r(D, "GET", "/enkelvoudiginformatieobjecten/{enkelvoudiginformatieobject_uuid}/audittrail/{uuid}", "audittrail_retrieve", "audittrail", Retrieve, InformatieobjectInPath, AT),
    r(D, "GET", "/enkelvoudiginformatieobjecten/{uuid}", "enkelvoudiginformatieobject_retrieve", EIO, Retrieve, Informatieobject, DL),
    r(D, "PUT", "/enkelvoudiginformatieobjecten/{uuid}", "enkelvoudiginformatieobject_update", EIO, Update, Informatieobject, DBG),
    r(D, "PATCH", "/enkelvoudiginformatieobjecten/{uuid}", "enkelvoudiginformatieobject_partial_update", EIO, PartialUpdate, Informatieobject, DBG),
    r(D, "DELETE", "/enkelvoudiginformatieobjecten/{uuid}", "enkelvoudiginformatieobject_destroy", EIO, Destroy, Informatieobject, DV),
    r(D, "HEAD", "/enkelvoudiginformatieobjecten/{uuid}", "enkelvoudiginformatieobject_headers", EIO, Retrieve, Informatieobject, DL),
    r(D, "GET", "/enkelvoudiginformatieobjecten/{uuid}/download", "enkelvoudiginformatieobject_download", EIO, Download, Informatieobject, DL),
    r(D, "POST", "/enkelvoudiginformatieobjecten/{uuid}/lock", "enkelvoudiginformatieobject_lock", EIO, Lock, Informatieobject, DLOCK),
    r(D, "POST", "/enkelvoudiginformatieobjecten/{uuid}/unlock", "enkelvoudiginformatieobject_unlock", EIO, Unlock, Informatieobject, DUNLOCK),
    r(D, "POST", "/enkelvoudiginformatieobjecten/_zoek", "enkelvoudiginformatieobject__zoek", EIO, Search, Informatieobject, DL),
    r(D, "GET", "/gebruiksrechten", "gebruiksrechten_list", "gebruiksrechten", List, ViaInformatieobject, DL),
    r(D, "POST", "/gebruiksrechten", "gebruiksrechten_create", "gebruiksrechten", Create, ViaInformatieobject, DA),
    r(D, "GET", "/gebruiksrechten/{uuid}", "gebruiksrechten_retrieve", "gebruiksrechten", Retrieve, ViaInformatieobject, DL),
    r(D, "PUT", "/gebruiksrechten/{uuid}", "gebruiksrechten_update", "gebruiksrechten", Update, ViaInformatieobject, DB),
    r(D, "PATCH", "/gebruiksrechten/{uuid}", "gebruiksrechten_partial_update", "gebruiksrechten", PartialUpdate, ViaInformatieobject, DB),
    r(D, "DELETE", "/gebruiksrechten/{uuid}", "gebruiksrechten_destroy", "gebruiksrechten", Destroy, ViaInformatieobject, DV),
    r(D, "HEAD", "/gebruiksrechten/{uuid}", "gebruiksrechten_headers", "gebruiksrechten", Retrieve, ViaInformatieobject, DL),
    r(D, "GET", "/objectinformatieobjecten", "objectinformatieobject_list", "objectinformatieobject", List, ViaInformatieobject, DL),
    r(D, "POST", "/objectinformatieobjecten", "objectinformatieobject_create", "objectinformatieobject", Create, ViaInformatieobject, DA),
    r(D, "GET", "/objectinformatieobjecten/{uuid}", "objectinformatieobject_retrieve", "objectinformatieobject", Retrieve, ViaInformatieobject, DL),
    r(D, "DELETE", "/objectinformatieobjecten/{uuid}", "objectinformatieobject_destroy", "objectinformatieobject", Destroy, ViaInformatieobject, DV),
    r(D, "HEAD", "/objectinformatieobjecten/{uuid}", "objectinformatieobject_headers", "objectinformatieobject", Retrieve, ViaInformatieobject, DL),
    // No security block in the OAS: denied to all but a superuser.
    r(D, "GET", "/verzendingen", "verzending_list", "verzending", List, ViaInformatieobject, NONE),
    r(D, "POST", "/verzendingen", "verzending_create", "verzending", Create, ViaInformatieobject, NONE),
    r(D, "GET", "/verzendingen/{uuid}", "verzending_retrieve", "verzending", Retrieve, ViaInformatieobject, NONE),
    r(D, "PUT", "/verzendingen/{uuid}", "verzending_update", "verzending", Update, ViaInformatieobject, NONE),
    r(D, "PATCH", "/verzendingen/{uuid}", "verzending_partial_update", "verzending", PartialUpdate, ViaInformatieobject, NONE),
    r(D, "DELETE", "/verzendingen/{uuid}", "verzending_destroy", "verzending", Destroy, ViaInformatieobject, NONE),
    r(D, "HEAD", "/verzendingen/{uuid}", "verzending_headers", "verzending", Retrieve, ViaInformatieobject, NONE),
];

const BL: &str = "besluiten.lezen";
const BA: &str = "besluiten.aanmaken";
const BB: &str = "besluiten.bijwerken";
const BV: &str = "besluiten.verwijderen";
const BIO: &str = "besluitinformatieobject";

/// Besluiten API, from domain B6b.
#[rustfmt::skip]
static BESLUITEN: &[RouteSpec] = &[
    r(B, "GET", "/besluiten", "besluit_list", "besluit", List, Besluit, BL),
    r(B, "POST", "/besluiten", "besluit_create", "besluit", Create, Besluit, BA),
    r(B, "GET", "/besluiten/{uuid}", "besluit_retrieve", "besluit", Retrieve, Besluit, BL),
    r(B, "PUT", "/besluiten/{uuid}", "besluit_update", "besluit", Update, Besluit, BB),
    r(B, "PATCH", "/besluiten/{uuid}", "besluit_partial_update", "besluit", PartialUpdate, Besluit, BB),
    r(B, "DELETE", "/besluiten/{uuid}", "besluit_destroy", "besluit", Destroy, Besluit, BV),
    r(B, "GET", "/besluiten/{besluit_uuid}/audittrail", "audittrail_list", "audittrail", List, BesluitInPath, AT),
    r(B, "GET", "/besluiten/{besluit_uuid}/audittrail/{uuid}", "audittrail_retrieve", "audittrail", Retrieve, BesluitInPath, AT),
    r(B, "GET", "/besluitinformatieobjecten", "besluitinformatieobject_list", BIO, List, ViaBesluit, BL),
    r(B, "POST", "/besluitinformatieobjecten", "besluitinformatieobject_create", BIO, Create, ViaBesluit, BA),
    r(B, "GET", "/besluitinformatieobjecten/{uuid}", "besluitinformatieobject_retrieve", BIO, Retrieve, ViaBesluit, BL),
    r(B, "DELETE", "/besluitinformatieobjecten/{uuid}", "besluitinformatieobject_destroy", BIO, Destroy, ViaBesluit, BV),
];

const CL: &str = "catalogi.lezen";
const CS: &str = "catalogi.schrijven";
/// ztc-014: the ZRC and DRC read types with their own read scope.
const CL_ZAAKTYPE: &str = "catalogi.lezen | documenten.lezen | zaken.lezen";
const CL_IOTYPE: &str = "catalogi.lezen | documenten.lezen";

/// The six operations of one catalogi collection.
macro_rules! catalogi {
    ($coll:literal, $res:literal, $read:expr) => {
        [
            r(
                C,
                "GET",
                concat!("/", $coll),
                concat!($res, "_list"),
                $res,
                List,
                ScopeOnly,
                $read,
            ),
            r(
                C,
                "POST",
                concat!("/", $coll),
                concat!($res, "_create"),
                $res,
                Create,
                ScopeOnly,
                CS,
            ),
            r(
                C,
                "GET",
                concat!("/", $coll, "/{uuid}"),
                concat!($res, "_retrieve"),
                $res,
                Retrieve,
                ScopeOnly,
                $read,
            ),
            r(
                C,
                "PUT",
                concat!("/", $coll, "/{uuid}"),
                concat!($res, "_update"),
                $res,
                Update,
                ScopeOnly,
                CS,
            ),
            r(
                C,
                "PATCH",
                concat!("/", $coll, "/{uuid}"),
                concat!($res, "_partial_update"),
                $res,
                PartialUpdate,
                ScopeOnly,
                CS,
            ),
            r(
                C,
                "DELETE",
                concat!("/", $coll, "/{uuid}"),
                concat!($res, "_destroy"),
                $res,
                Destroy,
                ScopeOnly,
                CS,
            ),
        ]
    };
}

/// Catalogi API: its collections, scope-only (C8 rule 35).
static CATALOGI: LazyLock<Vec<RouteSpec>> = LazyLock::new(|| {
    [
        catalogi!("zaaktypen", "zaaktype", CL_ZAAKTYPE),
        catalogi!("informatieobjecttypen", "informatieobjecttype", CL_IOTYPE),
        catalogi!("besluittypen", "besluittype", CL),
        catalogi!("statustypen", "statustype", CL),
        catalogi!("roltypen", "roltype", CL),
        catalogi!("resultaattypen", "resultaattype", CL),
        catalogi!("eigenschappen", "eigenschap", CL),
        catalogi!("catalogussen", "catalogus", CL),
        catalogi!(
            "zaaktype-informatieobjecttypen",
            "zaaktypeinformatieobjecttype",
            CL
        ),
        catalogi!("zaakobjecttypen", "zaakobjecttype", CL),
    ]
    .into_iter()
    .flatten()
    .collect()
});

#[cfg(test)]
mod tests {
    use super::*;

    const U: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    const P: &str = "11111111-2222-4333-8444-555555555555";

    #[test]
    fn every_table_scope_parses_and_only_verzendingen_are_never() {
        for spec in all_specs() {
            let e = ScopeExpr::parse(spec.scope)
                .unwrap_or_else(|e| panic!("{}: {e}", spec.operation_id));
            assert_eq!(
                e.is_never(),
                spec.resource == "verzending",
                "{}",
                spec.operation_id
            );
        }
    }

    #[test]
    fn table_rows_are_unique_and_consistent() {
        let mut seen = std::collections::HashSet::new();
        for spec in all_specs() {
            assert!(
                seen.insert((spec.component, spec.method, spec.path)),
                "duplicate {} {}",
                spec.method,
                spec.path
            );
            assert!(spec.path.starts_with('/'));
            let detail = spec.path.ends_with("{uuid}")
                || spec.path.ends_with("/download")
                || spec.path.ends_with("/lock")
                || spec.path.ends_with("/unlock");
            match spec.action {
                List | Create | Search => assert!(!detail, "{}", spec.operation_id),
                _ => assert!(detail, "{}", spec.operation_id),
            }
            let in_path = matches!(
                spec.main,
                ZaakInPath | InformatieobjectInPath | BesluitInPath
            );
            let parent_param = spec
                .path
                .split('/')
                .any(|s| s.starts_with('{') && s != "{uuid}");
            assert_eq!(in_path, parent_param, "{}", spec.operation_id);
        }
    }

    #[test]
    fn routes_collections_details_and_actions() {
        let op = route(Z, "GET", "/zaken").unwrap();
        assert_eq!((op.resource, op.action, op.main), ("zaak", List, Zaak));
        assert_eq!(op.operation_id, "zaak_list");
        assert_eq!(op.scope, ScopeExpr::scope("zaken.lezen"));
        assert_eq!((op.id, op.parent), (None, None));
        assert_eq!(
            route(Z, "GET", "/zaken/").unwrap().operation_id,
            "zaak_list"
        );

        let op = route(Z, "PATCH", &format!("/zaken/{}", U.to_uppercase())).unwrap();
        assert_eq!(op.operation_id, "zaak_partial_update");
        assert_eq!(op.id.as_deref(), Some(U));
        assert_eq!(
            op.scope.to_string(),
            "zaken.bijwerken | zaken.geforceerd-bijwerken"
        );
        assert_eq!(op.name(), "zrc.zaak.partial_update");

        let op = route(Z, "POST", "/zaken/_zoek").unwrap();
        assert_eq!((op.action, op.operation_id), (Search, "zaak__zoek"));

        let op = route(Z, "GET", &format!("/zaken/{P}/audittrail/{U}/")).unwrap();
        assert_eq!((op.resource, op.main), ("audittrail", ZaakInPath));
        assert_eq!(op.parent.as_deref(), Some(P));
        assert_eq!(op.id.as_deref(), Some(U));
        assert_eq!(op.scope, ScopeExpr::scope("audittrails.lezen"));

        let op = route(Z, "GET", &format!("/zaken/{P}/zaakeigenschappen")).unwrap();
        assert_eq!(
            (op.action, op.parent.as_deref(), op.id),
            (List, Some(P), None)
        );

        let op = route(
            D,
            "GET",
            &format!("/enkelvoudiginformatieobjecten/{U}/download"),
        )
        .unwrap();
        assert_eq!(
            (op.action, op.main, op.operation_id),
            (
                Download,
                Informatieobject,
                "enkelvoudiginformatieobject_download"
            )
        );
        let op = route(
            D,
            "POST",
            &format!("/enkelvoudiginformatieobjecten/{U}/unlock"),
        )
        .unwrap();
        assert_eq!(op.action, Unlock);
        assert_eq!(
            op.scope.to_string(),
            "documenten.lock | documenten.geforceerd-unlock"
        );
        let op = route(
            D,
            "GET",
            &format!("/enkelvoudiginformatieobjecten/{P}/audittrail"),
        )
        .unwrap();
        assert_eq!(
            (op.main, op.parent.as_deref()),
            (InformatieobjectInPath, Some(P))
        );
    }

    #[test]
    fn head_maps_like_get() {
        let op = route(Z, "HEAD", &format!("/zaken/{U}")).unwrap();
        assert_eq!((op.action, op.operation_id), (Retrieve, "zaak_headers"));
        assert_eq!(op.scope, ScopeExpr::scope("zaken.lezen"));
        // No HEAD in the OAS for this path: the GET operation.
        let op = route(Z, "HEAD", &format!("/klantcontacten/{U}")).unwrap();
        assert_eq!(
            (op.action, op.operation_id),
            (Retrieve, "klantcontact_retrieve")
        );
        let op = route(Z, "HEAD", "/zaken").unwrap();
        assert_eq!((op.action, op.operation_id), (List, "zaak_list"));
        // HEAD on a path without GET is not allowed.
        assert_eq!(
            route(D, "HEAD", &format!("/bestandsdelen/{U}")),
            Err(RouteError::MethodNotAllowed {
                allow: "PUT, OPTIONS"
            })
        );
    }

    #[test]
    fn unknown_paths_and_bad_ids_are_not_found() {
        for path in [
            "",
            "/",
            "zaken",
            "/zaak",
            "/Zaken",
            "/zaken//",
            "//zaken",
            "/zaken/not-a-uuid",
            "/zaken/0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d",
            "/zaken/{uuid}",
            &format!("/zaken/{U}x"),
            &format!("/zaken/{U}/rollen"),
            "/zaken/not-a-uuid/audittrail",
            "/zaken/_zoek/x",
        ] {
            assert_eq!(route(Z, "GET", path), Err(RouteError::NotFound), "{path:?}");
            assert_eq!(allow(Z, path), None, "{path:?}");
        }
        // Paths of another component.
        assert_eq!(route(D, "GET", "/zaken"), Err(RouteError::NotFound));
        assert_eq!(
            route(Z, "GET", "/enkelvoudiginformatieobjecten"),
            Err(RouteError::NotFound)
        );
        // The query is ignored.
        assert_eq!(
            route(Z, "GET", "/zaken?zaaktype=x").unwrap().operation_id,
            "zaak_list"
        );
    }

    #[test]
    fn wrong_method_gives_the_allow_value() {
        assert_eq!(
            route(Z, "DELETE", "/zaken"),
            Err(RouteError::MethodNotAllowed {
                allow: "GET, HEAD, POST, OPTIONS"
            })
        );
        assert_eq!(
            route(Z, "POST", &format!("/zaken/{U}")),
            Err(RouteError::MethodNotAllowed {
                allow: "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"
            })
        );
        assert_eq!(
            route(Z, "GET", "/zaken/_zoek"),
            Err(RouteError::MethodNotAllowed {
                allow: "POST, OPTIONS"
            })
        );
        // Methods are case sensitive.
        assert!(matches!(
            route(Z, "get", "/zaken"),
            Err(RouteError::MethodNotAllowed { .. })
        ));
        assert!(matches!(
            route(Z, "OPTIONS", "/zaken"),
            Err(RouteError::MethodNotAllowed { .. })
        ));
        assert_eq!(allow(Z, "/rollen/"), Some("GET, HEAD, POST, OPTIONS"));
        assert_eq!(
            allow(Z, &format!("/rollen/{U}")),
            Some("GET, HEAD, DELETE, OPTIONS")
        );
        assert_eq!(
            allow(D, &format!("/bestandsdelen/{U}")),
            Some("PUT, OPTIONS")
        );
    }

    #[test]
    fn verzendingen_are_denied_by_their_scope() {
        let op = route(D, "GET", "/verzendingen").unwrap();
        assert!(op.scope.is_never());
        assert!(!op.scope.satisfied(&|_| true));
        assert_eq!(op.link_field(), Some("informatieobject"));
    }

    #[test]
    fn link_fields() {
        assert_eq!(
            route(Z, "GET", "/rollen").unwrap().link_field(),
            Some("zaak")
        );
        assert_eq!(
            route(Z, "POST", "/zaaknotities").unwrap().link_field(),
            Some("gerelateerdAan")
        );
        assert_eq!(route(Z, "GET", "/zaken").unwrap().link_field(), None);
        assert_eq!(
            route(B, "GET", "/besluitinformatieobjecten")
                .unwrap()
                .link_field(),
            Some("besluit")
        );
    }

    #[test]
    fn catalogi_reads_follow_ztc_014_and_writes_need_schrijven() {
        let op = route(C, "GET", "/zaaktypen").unwrap();
        assert_eq!((op.operation_id, op.main), ("zaaktype_list", ScopeOnly));
        assert_eq!(
            op.scope.to_string(),
            "catalogi.lezen | documenten.lezen | zaken.lezen"
        );
        let op = route(C, "GET", &format!("/informatieobjecttypen/{U}")).unwrap();
        assert_eq!(op.scope.to_string(), "catalogi.lezen | documenten.lezen");
        let op = route(C, "GET", &format!("/zaaktype-informatieobjecttypen/{U}")).unwrap();
        assert_eq!(
            (op.resource, op.operation_id),
            (
                "zaaktypeinformatieobjecttype",
                "zaaktypeinformatieobjecttype_retrieve"
            )
        );
        assert_eq!(op.scope.to_string(), "catalogi.lezen");
        for (m, path) in [
            ("POST", "/roltypen".to_owned()),
            ("PUT", format!("/roltypen/{U}")),
            ("PATCH", format!("/catalogussen/{U}")),
            ("DELETE", format!("/eigenschappen/{U}")),
        ] {
            assert_eq!(
                route(C, m, &path).unwrap().scope.to_string(),
                "catalogi.schrijven",
                "{m} {path}"
            );
        }
        assert_eq!(specs(C).len(), 60);
    }

    #[test]
    fn besluiten_routes() {
        let op = route(B, "GET", "/besluiten").unwrap();
        assert_eq!(
            (op.main, op.scope.to_string()),
            (Besluit, "besluiten.lezen".to_owned())
        );
        let op = route(B, "DELETE", &format!("/besluitinformatieobjecten/{U}")).unwrap();
        assert_eq!(
            (op.main, op.scope.to_string()),
            (ViaBesluit, "besluiten.verwijderen".to_owned())
        );
        let op = route(B, "GET", &format!("/besluiten/{P}/audittrail")).unwrap();
        assert_eq!((op.main, op.parent.as_deref()), (BesluitInPath, Some(P)));
    }

    #[test]
    fn component_names() {
        for c in Component::ALL {
            assert_eq!(Component::parse(c.as_str()), Some(c));
            assert_eq!(Component::parse(c.code()), Some(c));
        }
        assert_eq!(Component::parse("ac"), None);
        assert_eq!(Component::parse("ZRC"), None);
    }

    #[test]
    fn uuid_check() {
        assert!(is_uuid(U));
        assert!(is_uuid(&U.to_uppercase()));
        assert!(!is_uuid(&U[1..]));
        assert!(!is_uuid(&U.replace('-', "_")));
        assert!(!is_uuid("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4g"));
    }
}
