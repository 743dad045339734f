//! The Zaken API (`/zaken/api/v1`): zaken with filters, `_zoek`, `expand`, writes and the
//! audit trail; the nested resources statussen, rollen, resultaten, zaakobjecten,
//! zaakinformatieobjecten, klantcontacten and zaakeigenschappen.

use std::collections::HashSet;

use hyper::Method;
use serde_json::{Map, Value, json};

use super::audit::{self, Write};
use super::http::{
    Fout, InvalidParam, Out, Req, check_params, expand_paths, page_body, paginate, snake,
};
use super::model::{
    Day, Klantcontact, Moment, ObjectId, Party, Resultaat, Rol, Status, Uuid, Va, Zaak,
    Zaakeigenschap, Zaakobject, Zio, shared,
};
use super::render::Ctx;
use super::server::State;
use super::store::{StatusError, Store};
use super::urls::{Kind, UrlError, parse_path, split_url};

/// The `expand` choices of `ZaakSerializer.inclusion_serializers`.
const ZAAK_EXPAND: &[&str] = &[
    "zaaktype",
    "hoofdzaak",
    "deelzaken",
    "eigenschappen",
    "status",
    "resultaat",
    "rollen",
    "zaakinformatieobjecten",
    "zaakobjecten",
    "hoofdzaak.zaaktype",
    "hoofdzaak.status",
    "hoofdzaak.status.statustype",
    "hoofdzaak.resultaat",
    "hoofdzaak.resultaat.resultaattype",
    "hoofdzaak.rollen",
    "hoofdzaak.rollen.roltype",
    "hoofdzaak.zaakinformatieobjecten",
    "hoofdzaak.zaakobjecten",
    "deelzaken.zaaktype",
    "deelzaken.status",
    "deelzaken.status.statustype",
    "deelzaken.resultaat",
    "deelzaken.resultaat.resultaattype",
    "deelzaken.rollen",
    "deelzaken.rollen.roltype",
    "deelzaken.zaakinformatieobjecten",
    "deelzaken.zaakobjecten",
    "eigenschappen.eigenschap",
    "status.statustype",
    "resultaat.resultaattype",
    "rollen.roltype",
];

/// The `expand` choices this fixture accepts on zaken: OZ's, plus
/// `zaakinformatieobjecten.informatieobject` when configured.
fn zaak_expand(state: &State) -> Vec<&'static str> {
    let mut v = ZAAK_EXPAND.to_vec();
    if state.expand_informatieobject {
        v.push("zaakinformatieobjecten.informatieobject");
    }
    v
}

/// The zaak list filters served (snake_case, as OZ's `ZaakFilter` names them).
const ZAAK_FILTERS: &[&str] = &[
    "identificatie",
    "bronorganisatie",
    "bronorganisatie__in",
    "zaaktype",
    "archiefnominatie",
    "archiefnominatie__in",
    "archiefstatus",
    "archiefstatus__in",
    "startdatum",
    "startdatum__gt",
    "startdatum__gte",
    "startdatum__lt",
    "startdatum__lte",
    "einddatum",
    "einddatum__isnull",
    "maximale_vertrouwelijkheidaanduiding",
    "rol__betrokkene_type",
    "rol__betrokkene",
    "rol__omschrijving_generiek",
    "rol__betrokkene_identificatie__medewerker__identificatie",
    "rol__betrokkene_identificatie__natuurlijk_persoon__inp_bsn",
    "ordering",
    "expand",
];

const ORDERING: &[&str] = &[
    "startdatum",
    "einddatum",
    "publicatiedatum",
    "archiefactiedatum",
    "registratiedatum",
    "identificatie",
];

const ROL_GENERIEK: &[&str] = &[
    "adviseur",
    "behandelaar",
    "belanghebbende",
    "beslisser",
    "initiator",
    "klantcontacter",
    "zaakcoordinator",
    "mede_initiator",
];

/// Routes a request under `/zaken/api/v1`.
pub(crate) fn handle(state: &State, req: &Req, rest: &str) -> Out {
    let segments = super::http::segments(rest);
    let result = match segments.as_slice() {
        ["zaken"] => zaken_collection(state, req),
        ["zaken", "_zoek"] => zoek(state, req),
        ["zaken", id] => zaak_detail(state, req, id),
        ["zaken", id, "audittrail"] => audittrail(state, req, id, None),
        ["zaken", id, "audittrail", a] => audittrail(state, req, id, Some(a)),
        ["zaken", id, "zaakeigenschappen"] => zaakeigenschappen(state, req, id, None),
        ["zaken", id, "zaakeigenschappen", e] => zaakeigenschappen(state, req, id, Some(e)),
        [name] => match nested_kind(name) {
            Some(kind) => nested_collection(state, req, kind),
            None => Err(Fout::not_found()),
        },
        [name, id] => match nested_kind(name) {
            Some(kind) => nested_detail(state, req, kind, id),
            None => Err(Fout::not_found()),
        },
        _ => Err(Fout::not_found()),
    };
    result.unwrap_or_else(Out::Fout)
}

fn nested_kind(name: &str) -> Option<Kind> {
    Some(match name {
        "statussen" => Kind::Status,
        "rollen" => Kind::Rol,
        "resultaten" => Kind::Resultaat,
        "zaakobjecten" => Kind::Zaakobject,
        "zaakinformatieobjecten" => Kind::Zio,
        "klantcontacten" => Kind::Klantcontact,
        _ => return None,
    })
}

/// Whether the path is served by OZ's `ZaakViewSet`, whose responses all carry
/// `Content-Crs` (GeoMixin).
pub(crate) fn is_geo_path(rest: &str) -> bool {
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    matches!(segments.as_slice(), ["zaken"] | ["zaken", _])
}

// ---------------------------------------------------------------------------------------------
// Zaken

/// The parsed zaak filters (from the query or a `_zoek` body).
#[derive(Debug, Default)]
struct ZaakQuery {
    /// Allowed zaaktype slots (`None` = all).
    zaaktypen: Option<HashSet<u32>>,
    not_zaaktypen: HashSet<u32>,
    uuids: Option<HashSet<Uuid>>,
    identificatie: Option<String>,
    bronorganisatie: Option<Vec<String>>,
    archiefnominatie: Option<Vec<String>>,
    archiefstatus: Option<Vec<String>>,
    startdatum: Vec<(&'static str, Day)>,
    einddatum: Option<Day>,
    einddatum_isnull: Option<bool>,
    max_va: Option<Va>,
    rol_type: Option<String>,
    rol_betrokkene: Option<String>,
    rol_generiek: Option<String>,
    rol_medewerker: Option<String>,
    rol_bsn: Option<String>,
    /// `zaakgeometrie.within`: the outer ring of a polygon (lon, lat).
    within: Option<Vec<(f64, f64)>>,
    ordering: Vec<(String, bool)>,
    expand: Vec<String>,
}

/// The outer ring of a GeoJSON Polygon.
fn polygon_ring(g: &Value) -> Option<Vec<(f64, f64)>> {
    if g.get("type").and_then(Value::as_str) != Some("Polygon") {
        return None;
    }
    let ring = g.get("coordinates")?.as_array()?.first()?.as_array()?;
    ring.iter()
        .map(|p| {
            let p = p.as_array()?;
            Some((p.first()?.as_f64()?, p.get(1)?.as_f64()?))
        })
        .collect()
}

/// Ray casting: whether `p` lies inside `ring`.
fn inside(p: (f64, f64), ring: &[(f64, f64)]) -> bool {
    let mut inside = false;
    let mut prev = ring.last().copied();
    for &cur in ring {
        if let Some(prev) = prev
            && (cur.1 > p.1) != (prev.1 > p.1)
            && p.0 < (prev.0 - cur.0) * (p.1 - cur.1) / (prev.1 - cur.1) + cur.0
        {
            inside = !inside;
        }
        prev = Some(cur);
    }
    inside
}

/// Zaaktype slots a zaaktype URL names (empty when it names none of ours).
fn zaaktype_slot(store: &Store, req: &Req, url: &str) -> Result<Option<u32>, ()> {
    match req.resolve(url) {
        Ok((Kind::Zaaktype, uuid)) => Ok(store.zaaktypen.slot(uuid)),
        Ok(_) | Err(UrlError::Foreign | UrlError::NoMatch) => Ok(None),
        Err(UrlError::NotUrl) => Err(()),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn list_of(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().map(text).collect(),
        Value::String(s) => s.split(',').map(str::to_owned).collect(),
        other => vec![text(other)],
    }
}

fn invalid_url(name: &str) -> InvalidParam {
    InvalidParam::new(name, "invalid", "Voer een geldige URL in.")
}

fn parse_zaak_query(
    store: &Store,
    req: &Req,
    params: &[(String, Value)],
    expand: &[&str],
) -> Result<ZaakQuery, Fout> {
    let mut q = ZaakQuery::default();
    let mut errors = Vec::new();
    let restrict = |q: &mut ZaakQuery, set: HashSet<u32>| {
        q.zaaktypen = Some(match q.zaaktypen.take() {
            Some(old) => old.intersection(&set).copied().collect(),
            None => set,
        });
    };
    for (name, value) in params {
        let name = name.as_str();
        let s = text(value);
        let day_param = |errors: &mut Vec<InvalidParam>| {
            Day::parse(&s).or_else(|| {
                errors.push(InvalidParam::new(
                    name,
                    "invalid",
                    "Voer een geldige datum in.",
                ));
                None
            })
        };
        match name {
            "zaaktype" => match zaaktype_slot(store, req, &s) {
                Ok(slot) => restrict(&mut q, slot.into_iter().collect()),
                Err(()) => errors.push(invalid_url("zaaktype")),
            },
            "zaaktype__in" | "zaaktype__not_in" => {
                let mut set = HashSet::new();
                for (i, url) in list_of(value).iter().enumerate() {
                    if req.resolve(url) == Err(UrlError::Foreign) {
                        // OZ's FKOrServiceUrlField: no Service for another host.
                        errors.push(InvalidParam::new(
                            &format!("{name}.{i}"),
                            "unknown-service",
                            "The service for this url is unknown",
                        ));
                        continue;
                    }
                    match zaaktype_slot(store, req, url) {
                        Ok(slot) => set.extend(slot),
                        Err(()) => errors.push(InvalidParam::new(
                            &format!("{name}.{i}"),
                            "bad-url",
                            &format!("The URL {url} could not be fetched."),
                        )),
                    }
                }
                if name == "zaaktype__in" {
                    restrict(&mut q, set);
                } else {
                    q.not_zaaktypen.extend(set);
                }
            }
            "uuid__in" => {
                let mut set = HashSet::new();
                for (i, u) in list_of(value).iter().enumerate() {
                    match Uuid::parse(u) {
                        Some(u) => {
                            set.insert(u);
                        }
                        None => errors.push(InvalidParam::new(
                            &format!("uuid__in.{i}"),
                            "invalid",
                            "Voer een geldige UUID in.",
                        )),
                    }
                }
                q.uuids = Some(set);
            }
            "zaakgeometrie" => match value.get("within").and_then(polygon_ring) {
                Some(ring) => q.within = Some(ring),
                None => errors.push(InvalidParam::new(
                    "zaakgeometrie.within",
                    "invalid",
                    "Verwacht een GeoJSON Polygon.",
                )),
            },
            "identificatie" => q.identificatie = Some(s),
            "bronorganisatie" => q.bronorganisatie = Some(vec![s]),
            "bronorganisatie__in" => q.bronorganisatie = Some(list_of(value)),
            "archiefnominatie" => q.archiefnominatie = Some(vec![s]),
            "archiefnominatie__in" => q.archiefnominatie = Some(list_of(value)),
            "archiefstatus" => q.archiefstatus = Some(vec![s]),
            "archiefstatus__in" => q.archiefstatus = Some(list_of(value)),
            "startdatum" | "startdatum__gt" | "startdatum__gte" | "startdatum__lt"
            | "startdatum__lte" => {
                let op = match name {
                    "startdatum__gt" => "gt",
                    "startdatum__gte" => "gte",
                    "startdatum__lt" => "lt",
                    "startdatum__lte" => "lte",
                    _ => "exact",
                };
                if let Some(d) = day_param(&mut errors) {
                    q.startdatum.push((op, d));
                }
            }
            "einddatum" => q.einddatum = day_param(&mut errors),
            "einddatum__isnull" => match s.as_str() {
                "true" | "True" | "1" => q.einddatum_isnull = Some(true),
                "false" | "False" | "0" => q.einddatum_isnull = Some(false),
                _ => {}
            },
            "maximale_vertrouwelijkheidaanduiding" => match Va::parse(&s) {
                Some(va) => q.max_va = Some(va),
                None => errors.push(InvalidParam::new(
                    "maximaleVertrouwelijkheidaanduiding",
                    "invalid_choice",
                    &format!("Selecteer een geldige keuze. {s} is geen beschikbare keuze."),
                )),
            },
            "rol__betrokkene_type" => q.rol_type = Some(s),
            "rol__betrokkene" => q.rol_betrokkene = Some(s),
            "rol__omschrijving_generiek" => {
                if ROL_GENERIEK.contains(&s.as_str()) {
                    q.rol_generiek = Some(s);
                } else {
                    errors.push(InvalidParam::new(
                        "rol__omschrijvingGeneriek",
                        "invalid_choice",
                        &format!("Selecteer een geldige keuze. {s} is geen beschikbare keuze."),
                    ));
                }
            }
            "rol__betrokkene_identificatie__medewerker__identificatie" => {
                q.rol_medewerker = Some(s);
            }
            "rol__betrokkene_identificatie__natuurlijk_persoon__inp_bsn" => q.rol_bsn = Some(s),
            "ordering" => {
                for field in s.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                    let (desc, bare) = match field.strip_prefix('-') {
                        Some(b) => (true, b),
                        None => (false, field),
                    };
                    if ORDERING.contains(&bare) {
                        q.ordering.push((bare.to_owned(), desc));
                    } else {
                        errors.push(InvalidParam::new(
                            "ordering",
                            "invalid_choice",
                            &format!(
                                "Selecteer een geldige keuze. {field} is geen beschikbare keuze."
                            ),
                        ));
                    }
                }
            }
            "expand" => match expand_paths(&list_of(value), expand) {
                Ok(p) => q.expand = p,
                Err(f) => errors.extend(f.invalid_params),
            },
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(q)
    } else {
        Err(Fout::validation(errors))
    }
}

impl ZaakQuery {
    fn matches(&self, store: &Store, z: &Zaak) -> bool {
        if self.not_zaaktypen.contains(&z.zaaktype) {
            return false;
        }
        if let Some(max) = self.max_va
            && z.va > max
        {
            return false;
        }
        if let Some(u) = &self.uuids
            && !u.contains(&z.uuid)
        {
            return false;
        }
        if let Some(ring) = &self.within
            && !z.geometrie.is_some_and(|p| inside(p, ring))
        {
            return false;
        }
        if let Some(i) = &self.identificatie
            && &z.identificatie != i
        {
            return false;
        }
        if let Some(b) = &self.bronorganisatie
            && !b.iter().any(|x| **x == *z.bronorganisatie)
        {
            return false;
        }
        if let Some(a) = &self.archiefnominatie
            && !a.iter().any(|x| Some(x) == z.archiefnominatie.as_ref())
        {
            return false;
        }
        if let Some(a) = &self.archiefstatus
            && !a.iter().any(|x| **x == *z.archiefstatus)
        {
            return false;
        }
        for (op, d) in &self.startdatum {
            let ok = match *op {
                "gt" => z.startdatum > *d,
                "gte" => z.startdatum >= *d,
                "lt" => z.startdatum < *d,
                "lte" => z.startdatum <= *d,
                _ => z.startdatum == *d,
            };
            if !ok {
                return false;
            }
        }
        if let Some(d) = self.einddatum
            && z.einddatum != Some(d)
        {
            return false;
        }
        if let Some(null) = self.einddatum_isnull
            && z.einddatum.is_none() != null
        {
            return false;
        }
        // Each rol filter is its own join in Django: different rollen may satisfy them.
        let any_rol = |pred: &dyn Fn(&Rol) -> bool| {
            z.rollen
                .iter()
                .filter_map(|r| store.rollen.get(*r))
                .any(pred)
        };
        if let Some(t) = &self.rol_type
            && !any_rol(&|r| r.betrokkene.type_name() == t)
        {
            return false;
        }
        if let Some(b) = &self.rol_betrokkene
            && !any_rol(&|r| &r.betrokkene_url == b)
        {
            return false;
        }
        if let Some(g) = &self.rol_generiek
            && !any_rol(&|r| {
                store
                    .roltypen
                    .get(r.roltype)
                    .is_some_and(|t| &t.omschrijving_generiek == g)
            })
        {
            return false;
        }
        if let Some(m) = &self.rol_medewerker
            && !any_rol(&|r| r.betrokkene.medewerker_id() == Some(m.as_str()))
        {
            return false;
        }
        if let Some(b) = &self.rol_bsn
            && !any_rol(&|r| r.betrokkene.bsn() == Some(b.as_str()))
        {
            return false;
        }
        true
    }

    /// Matching zaak slots in response order (newest first unless `ordering`).
    fn run(&self, store: &Store) -> Vec<u32> {
        let mut slots: Vec<u32> = match &self.zaaktypen {
            Some(set) => {
                let mut v: Vec<u32> = set
                    .iter()
                    .filter_map(|zt| store.by_zaaktype.get(*zt as usize))
                    .flatten()
                    .copied()
                    .filter(|s| store.zaken.get(*s).is_some_and(|z| self.matches(store, z)))
                    .collect();
                v.sort_unstable_by(|a, b| b.cmp(a));
                v
            }
            None => store
                .zaken
                .iter()
                .rev()
                .filter(|(_, z)| self.matches(store, z))
                .map(|(s, _)| s)
                .collect(),
        };
        if !self.ordering.is_empty() {
            let key = |slot: &u32, field: &str| -> (Option<String>, u32) {
                let z = store.zaken.get(*slot);
                let v = z.and_then(|z| match field {
                    "startdatum" => Some(z.startdatum.to_string()),
                    "einddatum" => z.einddatum.map(|d| d.to_string()),
                    "publicatiedatum" => z.publicatiedatum.map(|d| d.to_string()),
                    "archiefactiedatum" => z.archiefactiedatum.map(|d| d.to_string()),
                    "registratiedatum" => Some(z.registratiedatum.to_string()),
                    _ => Some(z.identificatie.clone()),
                });
                (v, *slot)
            };
            slots.sort_by(|a, b| {
                for (field, desc) in &self.ordering {
                    let (ka, _) = key(a, field);
                    let (kb, _) = key(b, field);
                    // PostgreSQL sorts NULL last ascending, first descending.
                    let ord = match (&ka, &kb) {
                        (None, None) => std::cmp::Ordering::Equal,
                        (None, Some(_)) => std::cmp::Ordering::Greater,
                        (Some(_), None) => std::cmp::Ordering::Less,
                        (Some(x), Some(y)) => x.cmp(y),
                    };
                    let ord = if *desc { ord.reverse() } else { ord };
                    if ord != std::cmp::Ordering::Equal {
                        return ord;
                    }
                }
                b.cmp(a)
            });
        }
        slots
    }
}

/// A zaak as the API answers it, with `_expand`.
fn zaak_out(store: &Store, ctx: &Ctx, slot: u32, expand: &[String]) -> Value {
    let mut v = store.render_zaak(ctx, slot).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        apply_expand(store, ctx, m, expand);
        m.entry("_expand").or_insert_with(|| json!({}));
    }
    v
}

/// Inlines the objects named by `paths` under `_expand`, as OZ's `ExpandJSONRenderer`.
pub(crate) fn apply_expand(
    store: &Store,
    ctx: &Ctx,
    target: &mut Map<String, Value>,
    paths: &[String],
) {
    let mut firsts: Vec<&str> = Vec::new();
    for p in paths {
        let first = p.split('.').next().unwrap_or(p);
        if !firsts.contains(&first) {
            firsts.push(first);
        }
    }
    let mut expanded = Map::new();
    for first in firsts {
        let rest: Vec<String> = paths
            .iter()
            .filter_map(|p| p.strip_prefix(first).and_then(|r| r.strip_prefix('.')))
            .map(str::to_owned)
            .collect();
        let render = |url: &str| -> Option<Value> {
            let (_, path) = split_url(url)?;
            let (kind, uuid) = parse_path(path)?;
            let slot = store.slot_of(kind, uuid)?;
            let mut v = store.render(ctx, kind, slot)?;
            if !rest.is_empty()
                && let Value::Object(m) = &mut v
            {
                apply_expand(store, ctx, m, &rest);
            }
            Some(v)
        };
        match target.get(first) {
            Some(Value::String(url)) if !url.is_empty() => {
                if let Some(v) = render(url) {
                    expanded.insert(first.to_owned(), v);
                }
            }
            Some(Value::Array(items)) => {
                let list: Vec<Value> = items
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(render)
                    .collect();
                expanded.insert(first.to_owned(), Value::Array(list));
            }
            _ => {}
        }
    }
    if !expanded.is_empty() {
        target.insert("_expand".to_owned(), Value::Object(expanded));
    }
}

fn query_params(req: &Req) -> Vec<(String, Value)> {
    req.query
        .iter()
        .filter(|(k, _)| k != "page" && k != "pageSize")
        .map(|(k, v)| (snake(k), Value::String(v.clone())))
        .collect()
}

fn zaken_collection(state: &State, req: &Req) -> Result<Out, Fout> {
    match req.method {
        Method::GET | Method::HEAD => {
            req.check_crs()?;
            check_params(req, ZAAK_FILTERS)?;
            let store = state.read();
            let q = parse_zaak_query(&store, req, &query_params(req), &zaak_expand(state))?;
            list_zaken(&store, req, &q)
        }
        Method::POST => {
            req.check_crs()?;
            let body = req.json_object()?;
            let mut store = state.write();
            let slot = create_zaak(&mut store, req, &body)?;
            let nieuw = store.render_zaak(&req.ctx, slot);
            record_nested(
                &mut store,
                req,
                Kind::Zaak,
                slot,
                slot,
                "create",
                201,
                None,
                nieuw,
            );
            Ok(Out::created(zaak_out(&store, &req.ctx, slot, &[])))
        }
        _ => Err(Fout::method_not_allowed(&req.method)),
    }
}

fn zaak_ident(store: &Store, slot: u32) -> (Uuid, String) {
    store.zaken.get(slot).map_or((Uuid(0), String::new()), |z| {
        (
            z.uuid,
            format!("{} - {}", z.bronorganisatie, z.identificatie),
        )
    })
}

fn list_zaken(store: &Store, req: &Req, q: &ZaakQuery) -> Result<Out, Fout> {
    let slots = q.run(store);
    let page = paginate(req, slots.len())?;
    let results = slots
        .get(page.start..page.end)
        .unwrap_or(&[])
        .iter()
        .map(|s| zaak_out(store, &req.ctx, *s, &q.expand))
        .collect();
    Ok(Out::ok(page_body(&page, results)))
}

fn zoek(state: &State, req: &Req) -> Result<Out, Fout> {
    if req.method != Method::POST {
        return Err(Fout::method_not_allowed(&req.method));
    }
    req.check_crs()?;
    let body = req.json_object()?;
    if body.is_empty() {
        return Err(Fout::validation(vec![InvalidParam::new(
            "nonFieldErrors",
            "empty_search_body",
            "Search parameters must be specified",
        )]));
    }
    let mut params: Vec<(String, Value)> =
        body.iter().map(|(k, v)| (snake(k), v.clone())).collect();
    if let Some(e) = req.param("expand") {
        params.push(("expand".to_owned(), Value::String(e.to_owned())));
    }
    let store = state.read();
    let q = parse_zaak_query(&store, req, &params, &zaak_expand(state))?;
    list_zaken(&store, req, &q)
}

fn zaak_slot(store: &Store, id: &str) -> Result<u32, Fout> {
    Uuid::parse(id)
        .and_then(|u| store.zaken.slot(u))
        .ok_or_else(Fout::not_found)
}

fn zaak_detail(state: &State, req: &Req, id: &str) -> Result<Out, Fout> {
    match req.method {
        Method::GET | Method::HEAD => {
            req.check_crs()?;
            check_params(req, &["expand"])?;
            let store = state.read();
            let slot = zaak_slot(&store, id)?;
            let expand = expand_paths(
                &req.param("expand")
                    .map(str::to_owned)
                    .into_iter()
                    .collect::<Vec<_>>(),
                &zaak_expand(state),
            )?;
            Ok(Out::ok(zaak_out(&store, &req.ctx, slot, &expand)))
        }
        Method::PUT | Method::PATCH => {
            req.check_crs()?;
            let body = req.json_object()?;
            let mut store = state.write();
            let slot = zaak_slot(&store, id)?;
            let oud = store.render_zaak(&req.ctx, slot);
            let partial = req.method == Method::PATCH;
            update_zaak(&mut store, req, slot, &body, partial)?;
            let nieuw = store.render_zaak(&req.ctx, slot);
            let actie = if partial { "partial_update" } else { "update" };
            record_nested(
                &mut store,
                req,
                Kind::Zaak,
                slot,
                slot,
                actie,
                200,
                oud,
                nieuw,
            );
            Ok(Out::ok(zaak_out(&store, &req.ctx, slot, &[])))
        }
        Method::DELETE => {
            let mut store = state.write();
            let slot = zaak_slot(&store, id)?;
            store.delete_zaak(slot);
            Ok(Out::Empty(204))
        }
        _ => Err(Fout::method_not_allowed(&req.method)),
    }
}

/// Fields of a zaak body the fixture keeps as sent.
const ZAAK_READ_ONLY: &[&str] = &[
    "url",
    "uuid",
    "einddatum",
    "betalingsindicatieWeergave",
    "deelzaken",
    "eigenschappen",
    "rollen",
    "status",
    "zaakinformatieobjecten",
    "zaakobjecten",
    "resultaat",
    "_expand",
];

const ZAAK_MODELLED: &[&str] = &[
    "identificatie",
    "bronorganisatie",
    "omschrijving",
    "toelichting",
    "zaaktype",
    "registratiedatum",
    "verantwoordelijkeOrganisatie",
    "startdatum",
    "einddatumGepland",
    "uiterlijkeEinddatumAfdoening",
    "publicatiedatum",
    "vertrouwelijkheidaanduiding",
    "archiefnominatie",
    "archiefstatus",
    "archiefactiedatum",
    "zaakgeometrie",
];

/// A loose-FK reference to a catalogi object of `kind` (zaaktype, statustype, ...): the URL
/// must be this fixture's (else `bad-url`, as OZ fails to fetch it) and name an object of
/// that kind (else `invalid-resource`).
pub(crate) fn loose_ref(
    store: &Store,
    req: &Req,
    name: &str,
    url: &str,
    kind: Kind,
) -> Result<u32, InvalidParam> {
    let bad = || {
        InvalidParam::new(
            name,
            "bad-url",
            &format!("The URL {url} could not be fetched."),
        )
    };
    match req.resolve(url) {
        Ok((k, uuid)) if k == kind => store.slot_of(kind, uuid).ok_or_else(|| {
            InvalidParam::new(
                name,
                "invalid-resource",
                "Please provide a valid URL. The object does not exist.",
            )
        }),
        Ok(_) | Err(UrlError::NoMatch) => Err(InvalidParam::new(
            name,
            "invalid-resource",
            "Please provide a valid URL.",
        )),
        Err(UrlError::Foreign) => Err(bad()),
        Err(UrlError::NotUrl) => Err(InvalidParam::new(
            name,
            "bad-url",
            "Voer een geldige URL in.",
        )),
    }
}

fn opt_day(
    body: &Map<String, Value>,
    name: &str,
    errors: &mut Vec<InvalidParam>,
) -> Option<Option<Day>> {
    match body.get(name)? {
        Value::Null => Some(None),
        Value::String(s) if s.is_empty() => Some(None),
        Value::String(s) => match Day::parse(s) {
            Some(d) => Some(Some(d)),
            None => {
                errors.push(InvalidParam::new(
                    name,
                    "invalid",
                    "Datum heeft het verkeerde formaat, gebruik 1 van deze formaten: YYYY-MM-DD.",
                ));
                None
            }
        },
        _ => {
            errors.push(InvalidParam::new(
                name,
                "invalid",
                "Datum heeft het verkeerde formaat.",
            ));
            None
        }
    }
}

/// Applies a body to `zaak`; `creating` enforces the required fields and derives the
/// defaults (zrc-009: the vertrouwelijkheidaanduiding of the zaaktype).
fn apply_zaak(
    store: &Store,
    req: &Req,
    zaak: &mut Zaak,
    body: &Map<String, Value>,
    partial: bool,
    creating: bool,
) -> Result<(), Fout> {
    let mut errors = Vec::new();
    if !partial {
        super::http::require(
            body,
            &[
                "bronorganisatie",
                "verantwoordelijkeOrganisatie",
                "startdatum",
                "zaaktype",
            ],
            &mut errors,
        );
    }
    let string = |name: &str| body.get(name).map(text);
    if let Some(url) = body.get("zaaktype").and_then(Value::as_str) {
        match loose_ref(store, req, "zaaktype", url, Kind::Zaaktype) {
            Ok(zt) => {
                if !creating && zt != zaak.zaaktype {
                    errors.push(InvalidParam::new(
                        "zaaktype",
                        "wijzigen-niet-toegelaten",
                        "Dit veld mag niet gewijzigd worden.",
                    ));
                } else if store.zaaktypen.get(zt).is_some_and(|z| z.concept) {
                    errors.push(InvalidParam::new(
                        "zaaktype",
                        "not-published",
                        "Het gerelateerde object is niet gepubliceerd.",
                    ));
                } else {
                    zaak.zaaktype = zt;
                }
            }
            Err(e) => errors.push(e),
        }
    }
    for (name, field) in [
        ("omschrijving", &mut zaak.omschrijving),
        ("toelichting", &mut zaak.toelichting),
    ] {
        if let Some(v) = string(name) {
            *field = v;
        }
    }
    for (name, field) in [
        ("bronorganisatie", &mut zaak.bronorganisatie),
        (
            "verantwoordelijkeOrganisatie",
            &mut zaak.verantwoordelijke_organisatie,
        ),
        ("archiefstatus", &mut zaak.archiefstatus),
    ] {
        if let Some(v) = string(name) {
            *field = shared(&v);
        }
    }
    for name in ["bronorganisatie", "verantwoordelijkeOrganisatie"] {
        if let Some(v) = body.get(name).and_then(Value::as_str)
            && !(v.len() == 9 && v.chars().all(|c| c.is_ascii_digit()))
        {
            errors.push(InvalidParam::new(
                name,
                "invalid-length",
                "RSIN moet 9 tekens lang zijn.",
            ));
        }
    }
    if let Some(i) = string("identificatie") {
        if !creating && i != zaak.identificatie {
            errors.push(InvalidParam::new(
                "identificatie",
                "wijzigen-niet-toegelaten",
                "Dit veld mag niet gewijzigd worden.",
            ));
        } else {
            zaak.identificatie = i;
        }
    }
    for (name, field) in [
        ("registratiedatum", &mut zaak.registratiedatum),
        ("startdatum", &mut zaak.startdatum),
    ] {
        if let Some(Some(d)) = opt_day(body, name, &mut errors) {
            *field = d;
        }
    }
    for (name, field) in [
        ("einddatumGepland", &mut zaak.einddatum_gepland),
        (
            "uiterlijkeEinddatumAfdoening",
            &mut zaak.uiterlijke_einddatum_afdoening,
        ),
        ("publicatiedatum", &mut zaak.publicatiedatum),
        ("archiefactiedatum", &mut zaak.archiefactiedatum),
    ] {
        if let Some(d) = opt_day(body, name, &mut errors) {
            *field = d;
        }
    }
    match super::http::va_field(body, &mut errors) {
        Some(va) => zaak.va = va,
        // zrc-009: the zaaktype's default.
        None if creating => {
            if let Some(zt) = store.zaaktypen.get(zaak.zaaktype) {
                zaak.va = zt.va;
            }
        }
        None => {}
    }
    match body.get("archiefnominatie") {
        Some(Value::String(s)) if s.is_empty() => zaak.archiefnominatie = None,
        Some(Value::String(s)) => {
            if matches!(s.as_str(), "blijvend_bewaren" | "vernietigen") {
                zaak.archiefnominatie = Some(s.clone());
            } else {
                errors.push(InvalidParam::new(
                    "archiefnominatie",
                    "invalid_choice",
                    &format!("\"{s}\" is een ongeldige keuze."),
                ));
            }
        }
        Some(Value::Null) => zaak.archiefnominatie = None,
        _ => {}
    }
    let mut extra = zaak.extra.take().map(|b| *b).unwrap_or_default();
    match body.get("zaakgeometrie") {
        Some(Value::Null) => {
            zaak.geometrie = None;
            extra.remove("zaakgeometrie");
        }
        Some(g) => {
            let point = (g.get("type").and_then(Value::as_str) == Some("Point"))
                .then(|| g.get("coordinates"))
                .flatten()
                .and_then(Value::as_array)
                .and_then(|c| Some((c.first()?.as_f64()?, c.get(1)?.as_f64()?)));
            match point {
                Some(p) => {
                    zaak.geometrie = Some(p);
                    extra.remove("zaakgeometrie");
                }
                None if g.get("type").is_some() => {
                    zaak.geometrie = None;
                    extra.insert("zaakgeometrie".to_owned(), g.clone());
                }
                None => errors.push(InvalidParam::new(
                    "zaakgeometrie",
                    "invalid",
                    "Ongeldige geometrie.",
                )),
            }
        }
        None => {}
    }
    for (k, v) in body {
        if !ZAAK_READ_ONLY.contains(&k.as_str()) && !ZAAK_MODELLED.contains(&k.as_str()) {
            extra.insert(k.clone(), v.clone());
        }
    }
    zaak.extra = (!extra.is_empty()).then(|| Box::new(extra));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Fout::validation(errors))
    }
}

fn create_zaak(store: &mut Store, req: &Req, body: &Map<String, Value>) -> Result<u32, Fout> {
    let uuid = store.new_uuid();
    let mut zaak = Zaak::new(uuid, 0, Va::Openbaar, super::store::today());
    apply_zaak(store, req, &mut zaak, body, false, true)?;
    if zaak.identificatie.is_empty() {
        let (year, _, _) = crate::rng::civil_from_days(i64::from(zaak.registratiedatum.0));
        zaak.identificatie = store.next_zaak_identificatie(i32::try_from(year).unwrap_or(2025));
    } else if store.zaken.iter().any(|(_, z)| {
        z.identificatie == zaak.identificatie && z.bronorganisatie == zaak.bronorganisatie
    }) {
        return Err(Fout::validation(vec![InvalidParam::new(
            "identificatie",
            "identificatie-niet-uniek",
            "Deze identificatie bestaat al voor deze bronorganisatie",
        )]));
    }
    Ok(store.add_zaak(zaak))
}

fn update_zaak(
    store: &mut Store,
    req: &Req,
    slot: u32,
    body: &Map<String, Value>,
    partial: bool,
) -> Result<(), Fout> {
    let Some(mut zaak) = store.zaken.get(slot).cloned() else {
        return Err(Fout::not_found());
    };
    apply_zaak(store, req, &mut zaak, body, partial, false)?;
    if let Some(z) = store.zaken.get_mut(slot) {
        *z = zaak;
    }
    Ok(())
}

fn audittrail(state: &State, req: &Req, id: &str, record: Option<&str>) -> Result<Out, Fout> {
    if !matches!(req.method, Method::GET | Method::HEAD) {
        return Err(Fout::method_not_allowed(&req.method));
    }
    let store = state.read();
    audit_read(&store, id, record)
}

/// `GET {main}/{uuid}/audittrail[/{uuid}]`: 404 when the object has no trail (OZ
/// `AuditTrailViewSet.get_queryset`), oldest first.
pub(crate) fn audit_read(store: &Store, id: &str, record: Option<&str>) -> Result<Out, Fout> {
    let hoofd = Uuid::parse(id).ok_or_else(Fout::not_found)?;
    let records = store.audit_of(hoofd);
    if records.is_empty() {
        return Err(Fout::not_found());
    }
    match record {
        None => Ok(Out::ok(Value::Array(
            records.iter().map(|r| r.body.clone()).collect(),
        ))),
        Some(r) => {
            let uuid = Uuid::parse(r).ok_or_else(Fout::not_found)?;
            records
                .iter()
                .find(|a| a.uuid == uuid)
                .map(|a| Out::ok(a.body.clone()))
                .ok_or_else(Fout::not_found)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Nested resources

/// The zaak a nested create names (OZ `AuthRequired.validate_create`): missing → `required`,
/// not resolvable → `object-does-not-exist`, another resource → `incorrect_match`. Only the
/// path counts, as with DRF's hyperlinked fields.
fn main_zaak(store: &Store, body: &Map<String, Value>) -> Result<u32, Fout> {
    let Some(url) = body.get("zaak") else {
        return Err(Fout::validation(vec![InvalidParam::new(
            "zaak",
            "required",
            "zaak is een verplicht veld voor permissies",
        )]));
    };
    let missing = || {
        Fout::validation(vec![InvalidParam::new(
            "zaak",
            "object-does-not-exist",
            "Dit object bestaat niet in de database",
        )])
    };
    let url = url.as_str().ok_or_else(missing)?;
    let path = split_url(url).map_or(url, |(_, p)| p);
    let Some((kind, uuid)) = parse_path(path) else {
        return Err(missing());
    };
    if kind != Kind::Zaak {
        return Err(Fout::validation(vec![InvalidParam::new(
            "zaak",
            "incorrect_match",
            "Onjuiste resource. Verwacht: Zaak",
        )]));
    }
    store.zaken.slot(uuid).ok_or_else(missing)
}

fn basename(kind: Kind) -> &'static str {
    match kind {
        Kind::Status => "status",
        Kind::Rol => "rol",
        Kind::Resultaat => "resultaat",
        Kind::Zaakobject => "zaakobject",
        Kind::Zio => "zaakinformatieobject",
        Kind::Klantcontact => "klantcontact",
        Kind::Zaakeigenschap => "zaakeigenschap",
        _ => "zaak",
    }
}

/// Which methods each nested resource serves (Zaken API 1.7).
fn allowed(kind: Kind, detail: bool, method: &Method) -> bool {
    let m = method.as_str();
    if m == "GET" || m == "HEAD" {
        return true;
    }
    match (kind, detail) {
        (_, false) => m == "POST",
        (Kind::Status | Kind::Klantcontact, true) => false,
        (Kind::Rol, true) => m == "DELETE",
        (_, true) => matches!(m, "PUT" | "PATCH" | "DELETE"),
    }
}

fn nested_zaak(store: &Store, kind: Kind, slot: u32) -> Option<u32> {
    match kind {
        Kind::Status => store.statussen.get(slot).map(|x| x.zaak),
        Kind::Rol => store.rollen.get(slot).map(|x| x.zaak),
        Kind::Resultaat => store.resultaten.get(slot).map(|x| x.zaak),
        Kind::Zaakobject => store.zaakobjecten.get(slot).map(|x| x.zaak),
        Kind::Zio => store.zios.get(slot).map(|x| x.zaak),
        Kind::Klantcontact => store.klantcontacten.get(slot).map(|x| x.zaak),
        Kind::Zaakeigenschap => store.zaakeigenschappen.get(slot).map(|x| x.zaak),
        _ => None,
    }
}

/// A URL filter on a foreign key (commonground-api-common `URLModelChoiceFilter`): not a URL
/// → 400; another host or an unknown object → no results.
fn url_filter(req: &Req, name: &str, value: &str, kind: Kind) -> Result<Option<Uuid>, Fout> {
    match req.resolve(value) {
        Ok((k, uuid)) if k == kind => Ok(Some(uuid)),
        Ok(_) | Err(UrlError::Foreign | UrlError::NoMatch) => Ok(None),
        Err(UrlError::NotUrl) => Err(Fout::validation(vec![invalid_url(name)])),
    }
}

const NESTED_FILTERS: &[(Kind, &[&str])] = &[
    (
        Kind::Status,
        &["zaak", "statustype", "indicatie_laatst_gezette_status"],
    ),
    (
        Kind::Rol,
        &[
            "zaak",
            "betrokkene",
            "betrokkene_type",
            "betrokkene_identificatie__medewerker__identificatie",
            "betrokkene_identificatie__natuurlijk_persoon__inp_bsn",
            "roltype",
            "omschrijving",
            "omschrijving_generiek",
        ],
    ),
    (Kind::Resultaat, &["zaak", "resultaattype"]),
    (Kind::Zaakobject, &["zaak", "object", "object_type"]),
    (Kind::Zio, &["zaak", "informatieobject"]),
    (Kind::Klantcontact, &["zaak"]),
];

fn nested_collection(state: &State, req: &Req, kind: Kind) -> Result<Out, Fout> {
    if !allowed(kind, false, &req.method) {
        return Err(Fout::method_not_allowed(&req.method));
    }
    if req.method == Method::POST {
        return nested_create(state, req, kind);
    }
    let known = NESTED_FILTERS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(&[][..], |(_, f)| *f);
    check_params(req, known)?;
    let store = state.read();
    let mut zaak_filter: Option<Option<u32>> = None;
    let mut type_filter: Option<Option<u32>> = None;
    let mut preds: Vec<(String, String)> = Vec::new();
    for (k, v) in &req.query {
        let name = snake(k);
        match name.as_str() {
            "page" | "pageSize" => {}
            "zaak" => {
                let uuid = url_filter(req, "zaak", v, Kind::Zaak)?;
                zaak_filter = Some(uuid.and_then(|u| store.zaken.slot(u)));
            }
            "statustype" | "roltype" | "resultaattype" => {
                let tk = match name.as_str() {
                    "statustype" => Kind::Statustype,
                    "roltype" => Kind::Roltype,
                    _ => Kind::Resultaattype,
                };
                let uuid = url_filter(req, &name, v, tk)?;
                type_filter = Some(uuid.and_then(|u| store.slot_of(tk, u)));
            }
            "informatieobject" => {
                if !super::urls::is_url(v) {
                    return Err(Fout::validation(vec![invalid_url("informatieobject")]));
                }
                preds.push((name, v.clone()));
            }
            _ => preds.push((name, v.clone())),
        }
    }
    let slots: Vec<u32> = match zaak_filter {
        Some(None) => Vec::new(),
        Some(Some(z)) => {
            let zaak = store.zaken.get(z);
            let mut v: Vec<u32> = match (kind, zaak) {
                (_, None) => Vec::new(),
                (Kind::Status, Some(z)) => z.statussen.clone(),
                (Kind::Rol, Some(z)) => z.rollen.clone(),
                (Kind::Resultaat, Some(z)) => z.resultaat.into_iter().collect(),
                (Kind::Zaakobject, Some(z)) => z.zaakobjecten.clone(),
                (Kind::Zio, Some(z)) => z.zios.clone(),
                (Kind::Klantcontact, Some(z)) => z.klantcontacten.clone(),
                _ => Vec::new(),
            };
            v.sort_unstable_by(|a, b| b.cmp(a));
            v
        }
        None => {
            let mut all = store.slots(kind);
            all.reverse();
            all
        }
    };
    let mut slots: Vec<u32> = slots
        .into_iter()
        .filter(|s| nested_matches(&store, req, kind, *s, type_filter, &preds))
        .collect();
    if kind == Kind::Status {
        slots.sort_by(|a, b| {
            let da = store.statussen.get(*a).map(|s| s.datum_status_gezet);
            let db = store.statussen.get(*b).map(|s| s.datum_status_gezet);
            db.cmp(&da).then(b.cmp(a))
        });
    }
    let render = |s: &u32| store.render(&req.ctx, kind, *s);
    if kind == Kind::Zio {
        // Not paginated in the Zaken API.
        return Ok(Out::ok(Value::Array(
            slots.iter().filter_map(render).collect(),
        )));
    }
    let page = paginate(req, slots.len())?;
    let results = slots
        .get(page.start..page.end)
        .unwrap_or(&[])
        .iter()
        .filter_map(render)
        .collect();
    Ok(Out::ok(page_body(&page, results)))
}

fn nested_matches(
    store: &Store,
    req: &Req,
    kind: Kind,
    slot: u32,
    type_filter: Option<Option<u32>>,
    preds: &[(String, String)],
) -> bool {
    match kind {
        Kind::Status => {
            let Some(s) = store.statussen.get(slot) else {
                return false;
            };
            if let Some(t) = type_filter
                && t != Some(s.statustype)
            {
                return false;
            }
            preds.iter().all(|(k, v)| match k.as_str() {
                "indicatie_laatst_gezette_status" => {
                    let last = store
                        .zaken
                        .get(s.zaak)
                        .and_then(|z| store.current_status(z))
                        == Some(slot);
                    match v.as_str() {
                        "true" | "True" => last,
                        "false" | "False" => !last,
                        _ => false,
                    }
                }
                _ => true,
            })
        }
        Kind::Rol => {
            let Some(r) = store.rollen.get(slot) else {
                return false;
            };
            if let Some(t) = type_filter
                && t != Some(r.roltype)
            {
                return false;
            }
            let rt = store.roltypen.get(r.roltype);
            preds.iter().all(|(k, v)| match k.as_str() {
                "betrokkene" => &r.betrokkene_url == v,
                "betrokkene_type" => r.betrokkene.type_name() == v,
                "betrokkene_identificatie__medewerker__identificatie" => {
                    r.betrokkene.medewerker_id() == Some(v.as_str())
                }
                "betrokkene_identificatie__natuurlijk_persoon__inp_bsn" => {
                    r.betrokkene.bsn() == Some(v.as_str())
                }
                "omschrijving" => rt.is_some_and(|t| &t.omschrijving == v),
                "omschrijving_generiek" => rt.is_some_and(|t| &t.omschrijving_generiek == v),
                _ => true,
            })
        }
        Kind::Resultaat => {
            let Some(r) = store.resultaten.get(slot) else {
                return false;
            };
            type_filter.is_none_or(|t| t == Some(r.resultaattype))
        }
        Kind::Zaakobject => {
            let Some(o) = store.zaakobjecten.get(slot) else {
                return false;
            };
            preds.iter().all(|(k, v)| match k.as_str() {
                "object" => &o.object == v,
                "object_type" => *o.object_type == **v,
                _ => true,
            })
        }
        Kind::Zio => {
            let Some(z) = store.zios.get(slot) else {
                return false;
            };
            preds.iter().all(|(k, v)| match k.as_str() {
                "informatieobject" => match z.document {
                    Some(d) => match req.resolve(v) {
                        Ok((Kind::Document, u)) => {
                            store.documents.get(d).is_some_and(|x| x.uuid == u)
                        }
                        _ => false,
                    },
                    None => &z.informatieobject_url == v,
                },
                _ => true,
            })
        }
        _ => true,
    }
}

fn nested_slot(store: &Store, kind: Kind, id: &str) -> Result<u32, Fout> {
    Uuid::parse(id)
        .and_then(|u| store.slot_of(kind, u))
        .ok_or_else(Fout::not_found)
}

fn nested_detail(state: &State, req: &Req, kind: Kind, id: &str) -> Result<Out, Fout> {
    if !allowed(kind, true, &req.method) {
        return Err(Fout::method_not_allowed(&req.method));
    }
    match req.method {
        Method::GET | Method::HEAD => {
            check_params(req, &[])?;
            let store = state.read();
            let slot = nested_slot(&store, kind, id)?;
            store
                .render(&req.ctx, kind, slot)
                .map(Out::ok)
                .ok_or_else(Fout::not_found)
        }
        Method::DELETE => {
            let mut store = state.write();
            let slot = nested_slot(&store, kind, id)?;
            nested_delete(&mut store, req, kind, slot);
            Ok(Out::Empty(204))
        }
        _ => {
            let body = req.json_object()?;
            let mut store = state.write();
            let slot = nested_slot(&store, kind, id)?;
            nested_update(&mut store, req, kind, slot, &body)
        }
    }
}

#[expect(clippy::too_many_arguments, reason = "one audit record's fields")]
fn record_nested(
    store: &mut Store,
    req: &Req,
    kind: Kind,
    zaak: u32,
    slot: u32,
    actie: &'static str,
    resultaat: u16,
    oud: Option<Value>,
    nieuw: Option<Value>,
) {
    let zaak_url = store.url_of(&req.ctx, Kind::Zaak, zaak);
    let resource_url = nieuw
        .as_ref()
        .or(oud.as_ref())
        .and_then(|v| v.get("url"))
        .and_then(Value::as_str)
        .map_or_else(|| store.url_of(&req.ctx, kind, slot), str::to_owned);
    let (uuid, zaak_weergave) = zaak_ident(store, zaak);
    audit::record(
        store,
        req,
        Write {
            bron: "zrc",
            actie,
            resultaat,
            hoofd: uuid,
            hoofd_url: &zaak_url,
            resource: basename(kind),
            resource_url: &resource_url,
            weergave: if kind == Kind::Zaak {
                zaak_weergave
            } else {
                format!("({zaak_weergave}) - {}", basename(kind))
            },
            oud,
            nieuw,
        },
    );
}

fn nested_delete(store: &mut Store, req: &Req, kind: Kind, slot: u32) {
    let Some(zaak) = nested_zaak(store, kind, slot) else {
        return;
    };
    let oud = store.render(&req.ctx, kind, slot);
    match kind {
        Kind::Status => store.delete_status(slot),
        Kind::Rol => store.delete_rol(slot),
        Kind::Resultaat => store.delete_resultaat(slot),
        Kind::Zaakobject => store.delete_zaakobject(slot),
        Kind::Zio => store.delete_zio(slot),
        Kind::Klantcontact => store.delete_klantcontact(slot),
        Kind::Zaakeigenschap => store.delete_zaakeigenschap(slot),
        _ => return,
    }
    record_nested(store, req, kind, zaak, slot, "destroy", 204, oud, None);
}

fn nested_update(
    store: &mut Store,
    req: &Req,
    kind: Kind,
    slot: u32,
    body: &Map<String, Value>,
) -> Result<Out, Fout> {
    let Some(zaak) = nested_zaak(store, kind, slot) else {
        return Err(Fout::not_found());
    };
    let partial = req.method == Method::PATCH;
    if !partial && body.get("zaak").is_none() {
        return Err(Fout::validation(vec![InvalidParam::required("zaak")]));
    }
    if let Some(z) = body.get("zaak") {
        let target = main_zaak(store, &Map::from_iter([("zaak".to_owned(), z.clone())]))?;
        if target != zaak {
            return Err(Fout::validation(vec![InvalidParam::new(
                "zaak",
                "wijzigen-niet-toegelaten",
                "Dit veld mag niet gewijzigd worden.",
            )]));
        }
    }
    let oud = store.render(&req.ctx, kind, slot);
    let get = |name: &str| body.get(name).map(text);
    match kind {
        Kind::Resultaat => {
            let rt = match body.get("resultaattype").and_then(Value::as_str) {
                Some(url) => Some(
                    loose_ref(store, req, "resultaattype", url, Kind::Resultaattype)
                        .map_err(|e| Fout::validation(vec![e]))?,
                ),
                None => None,
            };
            if let Some(r) = store.resultaten.get_mut(slot) {
                if let Some(rt) = rt {
                    r.resultaattype = rt;
                }
                if let Some(t) = get("toelichting") {
                    r.toelichting = t;
                }
            }
        }
        Kind::Zaakobject => {
            if let Some(o) = store.zaakobjecten.get_mut(slot) {
                if let Some(v) = get("object") {
                    o.object = v;
                }
                if let Some(v) = get("objectType") {
                    o.object_type = v.into();
                }
                if let Some(v) = get("relatieomschrijving") {
                    o.relatieomschrijving = v.into();
                }
                if let Some(v) = body.get("objectIdentificatie") {
                    o.identificatie = ObjectId::Json(v.clone());
                }
            }
        }
        Kind::Zio => {
            if let Some(z) = store.zios.get_mut(slot) {
                if let Some(v) = get("titel") {
                    z.titel = v;
                }
                if let Some(v) = get("beschrijving") {
                    z.beschrijving = v;
                }
            }
        }
        Kind::Zaakeigenschap => {
            if let Some(e) = store.zaakeigenschappen.get_mut(slot)
                && let Some(v) = get("waarde")
            {
                e.waarde = v;
            }
        }
        _ => return Err(Fout::method_not_allowed(&req.method)),
    }
    let nieuw = store.render(&req.ctx, kind, slot);
    record_nested(
        store,
        req,
        kind,
        zaak,
        slot,
        if partial { "partial_update" } else { "update" },
        200,
        oud,
        nieuw.clone(),
    );
    Ok(Out::ok(nieuw.unwrap_or(Value::Null)))
}

fn nested_create(state: &State, req: &Req, kind: Kind) -> Result<Out, Fout> {
    let body = req.json_object()?;
    let mut store = state.write();
    let zaak = main_zaak(&store, &body)?;
    let slot = create_nested(&mut store, req, kind, zaak, &body)?;
    let nieuw = store.render(&req.ctx, kind, slot);
    record_nested(
        &mut store,
        req,
        kind,
        zaak,
        slot,
        "create",
        201,
        None,
        nieuw.clone(),
    );
    Ok(Out::created(nieuw.unwrap_or(Value::Null)))
}

fn required_text(body: &Map<String, Value>, name: &str, errors: &mut Vec<InvalidParam>) -> String {
    match body.get(name) {
        None | Some(Value::Null) => {
            errors.push(InvalidParam::required(name));
            String::new()
        }
        Some(v) => text(v),
    }
}

fn type_ref(
    store: &Store,
    req: &Req,
    body: &Map<String, Value>,
    name: &str,
    kind: Kind,
    zaaktype: u32,
    errors: &mut Vec<InvalidParam>,
) -> Option<u32> {
    let url = required_text(body, name, errors);
    if url.is_empty() {
        return None;
    }
    match loose_ref(store, req, name, &url, kind) {
        Ok(slot) => {
            let zt = match kind {
                Kind::Statustype => store.statustypen.get(slot).map(|s| s.zaaktype),
                Kind::Roltype => store.roltypen.get(slot).map(|s| s.zaaktype),
                Kind::Resultaattype => store.resultaattypen.get(slot).map(|s| s.zaaktype),
                Kind::Eigenschap => store.eigenschappen.get(slot).map(|s| s.zaaktype),
                _ => Some(zaaktype),
            };
            if zt == Some(zaaktype) {
                Some(slot)
            } else {
                errors.push(InvalidParam::new(
                    "nonFieldErrors",
                    "zaaktype-mismatch",
                    &format!("De referentie hoort niet bij het zaaktype van de zaak ({name})."),
                ));
                None
            }
        }
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

fn moment_field(
    body: &Map<String, Value>,
    name: &str,
    required: bool,
    errors: &mut Vec<InvalidParam>,
) -> Option<Moment> {
    match body.get(name).and_then(Value::as_str) {
        Some(s) => Moment::parse(s).or_else(|| {
            errors.push(InvalidParam::new(
                name,
                "invalid",
                "Datetime heeft een ongeldig formaat, gebruik 1 van de volgende formaten: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
            ));
            None
        }),
        None => {
            if required {
                errors.push(InvalidParam::required(name));
            }
            None
        }
    }
}

fn done<T>(errors: Vec<InvalidParam>, value: Option<T>) -> Result<T, Fout> {
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(Fout::validation(errors)),
    }
}

/// A `betrokkeneIdentificatie` with OZ's defaults filled in.
fn identificatie_with_defaults(betrokkene_type: &str, sent: Option<&Value>) -> Value {
    let mut base = match betrokkene_type {
        "medewerker" => json!({
            "identificatie": "",
            "achternaam": "",
            "voorletters": "",
            "voorvoegselAchternaam": "",
        }),
        "natuurlijk_persoon" => super::generate::natuurlijk_persoon_identificatie("", ""),
        _ => json!({}),
    };
    if let (Value::Object(b), Some(Value::Object(s))) = (&mut base, sent) {
        for (k, v) in s {
            b.insert(k.clone(), v.clone());
        }
    }
    match (sent, &base) {
        (None | Some(Value::Null), Value::Object(m)) if m.is_empty() => Value::Null,
        _ => base,
    }
}

fn create_nested(
    store: &mut Store,
    req: &Req,
    kind: Kind,
    zaak: u32,
    body: &Map<String, Value>,
) -> Result<u32, Fout> {
    let zaaktype = store.zaken.get(zaak).map_or(0, |z| z.zaaktype);
    let mut errors = Vec::new();
    let uuid = store.new_uuid();
    match kind {
        Kind::Status => {
            let st = type_ref(
                store,
                req,
                body,
                "statustype",
                Kind::Statustype,
                zaaktype,
                &mut errors,
            );
            let at = moment_field(body, "datumStatusGezet", true, &mut errors);
            let (st, at) = done(errors, st.zip(at))?;
            let status = Status {
                uuid,
                zaak,
                statustype: st,
                datum_status_gezet: at,
                statustoelichting: body.get("statustoelichting").map(text).unwrap_or_default(),
                extra: body
                    .get("gezetdoor")
                    .filter(|g| !g.is_null())
                    .map(|g| Box::new(Map::from_iter([("gezetdoor".to_owned(), g.clone())]))),
            };
            store.add_status(status).map_err(|e| match e {
                StatusError::ZaaktypeMismatch => Fout::validation(vec![InvalidParam::new(
                    "nonFieldErrors",
                    "zaaktype-mismatch",
                    "De referentie hoort niet bij het zaaktype van de zaak.",
                )]),
                StatusError::NoResultaat => Fout::validation(vec![InvalidParam::new(
                    "nonFieldErrors",
                    "resultaat-does-not-exist",
                    "Resultaat does not exist for this zaak",
                )]),
            })
        }
        Kind::Rol => {
            let rt = type_ref(
                store,
                req,
                body,
                "roltype",
                Kind::Roltype,
                zaaktype,
                &mut errors,
            );
            let bt = required_text(body, "betrokkeneType", &mut errors);
            let toelichting = required_text(body, "roltoelichting", &mut errors);
            let betrokkene_url = body.get("betrokkene").map(text).unwrap_or_default();
            let ident = body.get("betrokkeneIdentificatie").filter(|v| !v.is_null());
            if !bt.is_empty()
                && !matches!(
                    bt.as_str(),
                    "natuurlijk_persoon"
                        | "niet_natuurlijk_persoon"
                        | "vestiging"
                        | "organisatorische_eenheid"
                        | "medewerker"
                )
            {
                errors.push(InvalidParam::new(
                    "betrokkeneType",
                    "invalid_choice",
                    &format!("\"{bt}\" is een ongeldige keuze."),
                ));
            }
            if betrokkene_url.is_empty() && ident.is_none() {
                errors.push(InvalidParam::new(
                    "nonFieldErrors",
                    "invalid-betrokkene",
                    "betrokkene or betrokkeneIdentificatie must be provided",
                ));
            }
            let rt = done(errors, rt)?;
            let identificatie = identificatie_with_defaults(&bt, ident);
            Ok(store.add_rol(Rol {
                uuid,
                zaak,
                roltype: rt,
                betrokkene_url,
                betrokkene: Party::Other(Box::new((bt, identificatie))),
                roltoelichting: toelichting,
                registratiedatum: Moment::now(),
                extra: None,
            }))
        }
        Kind::Resultaat => {
            let rt = type_ref(
                store,
                req,
                body,
                "resultaattype",
                Kind::Resultaattype,
                zaaktype,
                &mut errors,
            );
            if store.zaken.get(zaak).is_some_and(|z| z.resultaat.is_some()) {
                errors.push(InvalidParam::new(
                    "zaak",
                    "unique",
                    "resultaat met deze zaak bestaat al.",
                ));
            }
            let rt = done(errors, rt)?;
            Ok(store.add_resultaat(Resultaat {
                uuid,
                zaak,
                resultaattype: rt,
                toelichting: body.get("toelichting").map(text).unwrap_or_default(),
            }))
        }
        Kind::Zaakobject => {
            let ot = required_text(body, "objectType", &mut errors);
            let object = body.get("object").map(text).unwrap_or_default();
            let ident = body
                .get("objectIdentificatie")
                .cloned()
                .unwrap_or(Value::Null);
            if object.is_empty() && ident.is_null() {
                errors.push(InvalidParam::new(
                    "nonFieldErrors",
                    "invalid-zaakobject",
                    "object or objectIdentificatie must be provided",
                ));
            }
            done(errors, Some(()))?;
            Ok(store.add_zaakobject(Zaakobject {
                uuid,
                zaak,
                object,
                object_type: ot.into(),
                relatieomschrijving: shared(
                    &body
                        .get("relatieomschrijving")
                        .map(text)
                        .unwrap_or_default(),
                ),
                identificatie: ObjectId::Json(ident),
                extra: None,
            }))
        }
        Kind::Zio => {
            let url = required_text(body, "informatieobject", &mut errors);
            let doc = if url.is_empty() {
                None
            } else {
                match loose_ref(store, req, "informatieobject", &url, Kind::Document) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                }
            };
            if let Some(d) = doc
                && store.zaken.get(zaak).is_some_and(|z| {
                    z.zios.iter().any(|x| {
                        store
                            .zios
                            .get(*x)
                            .is_some_and(|zio| zio.document == Some(d))
                    })
                })
            {
                errors.push(InvalidParam::new(
                    "nonFieldErrors",
                    "unique",
                    "De velden zaak, informatieobject moeten een unieke set zijn.",
                ));
            }
            let doc = done(errors, doc)?;
            let titel = body.get("titel").map(text).unwrap_or_default();
            Ok(store.add_zio(Zio {
                uuid,
                zaak,
                document: Some(doc),
                informatieobject_url: String::new(),
                titel,
                beschrijving: body.get("beschrijving").map(text).unwrap_or_default(),
                registratiedatum: Moment::now(),
                oio: None,
            }))
        }
        Kind::Klantcontact => {
            let at = moment_field(body, "datumtijd", true, &mut errors);
            let at = done(errors, at)?;
            let identificatie = body
                .get("identificatie")
                .map(text)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("KLANTCONTACT-{}", uuid.0 % 1_000_000_000));
            Ok(store.add_klantcontact(Klantcontact {
                uuid,
                zaak,
                identificatie,
                datumtijd: at,
                kanaal: body.get("kanaal").map(text).unwrap_or_default(),
                onderwerp: body.get("onderwerp").map(text).unwrap_or_default(),
                toelichting: body.get("toelichting").map(text).unwrap_or_default(),
            }))
        }
        Kind::Zaakeigenschap => {
            let e = type_ref(
                store,
                req,
                body,
                "eigenschap",
                Kind::Eigenschap,
                zaaktype,
                &mut errors,
            );
            let waarde = required_text(body, "waarde", &mut errors);
            let e = done(errors, e)?;
            Ok(store.add_zaakeigenschap(Zaakeigenschap {
                uuid,
                zaak,
                eigenschap: e,
                waarde,
            }))
        }
        _ => Err(Fout::method_not_allowed(&req.method)),
    }
}

/// `/zaken/{uuid}/zaakeigenschappen[/{uuid}]`: the parent zaak must exist (404), also for
/// the list.
fn zaakeigenschappen(
    state: &State,
    req: &Req,
    zaak_id: &str,
    id: Option<&str>,
) -> Result<Out, Fout> {
    match (id, &req.method) {
        (None, &Method::GET | &Method::HEAD) => {
            check_params(req, &[])?;
            let store = state.read();
            let zaak = zaak_slot(&store, zaak_id)?;
            let list = store
                .zaken
                .get(zaak)
                .map(|z| z.eigenschappen.clone())
                .unwrap_or_default();
            Ok(Out::ok(Value::Array(
                list.iter()
                    .rev()
                    .filter_map(|s| store.render_zaakeigenschap(&req.ctx, *s))
                    .collect(),
            )))
        }
        (None, &Method::POST) => {
            let mut body = req.json_object()?;
            let mut store = state.write();
            let zaak = zaak_slot(&store, zaak_id)?;
            let url = store.url_of(&req.ctx, Kind::Zaak, zaak);
            body.entry("zaak").or_insert(Value::String(url));
            let target = main_zaak(&store, &body)?;
            if target != zaak {
                return Err(Fout::validation(vec![InvalidParam::new(
                    "zaak",
                    "invalid",
                    "De zaak in de body hoort niet bij de zaak in de URL.",
                )]));
            }
            let slot = create_nested(&mut store, req, Kind::Zaakeigenschap, zaak, &body)?;
            let nieuw = store.render_zaakeigenschap(&req.ctx, slot);
            record_nested(
                &mut store,
                req,
                Kind::Zaakeigenschap,
                zaak,
                slot,
                "create",
                201,
                None,
                nieuw.clone(),
            );
            Ok(Out::created(nieuw.unwrap_or(Value::Null)))
        }
        (None, _) => Err(Fout::method_not_allowed(&req.method)),
        (Some(id), method) => {
            let zaak = {
                let store = state.read();
                zaak_slot(&store, zaak_id)?
            };
            let slot = {
                let store = state.read();
                let slot = nested_slot(&store, Kind::Zaakeigenschap, id)?;
                if nested_zaak(&store, Kind::Zaakeigenschap, slot) != Some(zaak) {
                    return Err(Fout::not_found());
                }
                slot
            };
            match *method {
                Method::GET | Method::HEAD => {
                    let store = state.read();
                    store
                        .render_zaakeigenschap(&req.ctx, slot)
                        .map(Out::ok)
                        .ok_or_else(Fout::not_found)
                }
                Method::DELETE => {
                    let mut store = state.write();
                    nested_delete(&mut store, req, Kind::Zaakeigenschap, slot);
                    Ok(Out::Empty(204))
                }
                Method::PUT | Method::PATCH => {
                    let body = req.json_object()?;
                    let mut store = state.write();
                    nested_update(&mut store, req, Kind::Zaakeigenschap, slot, &body)
                }
                _ => Err(Fout::method_not_allowed(&req.method)),
            }
        }
    }
}
