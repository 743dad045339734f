//! The Catalogi API (`/catalogi/api/v1`), read-only: catalogussen, zaaktypen,
//! informatieobjecttypen, statustypen, roltypen, resultaattypen, eigenschappen. Types are
//! added through the handle.

use hyper::Method;
use serde_json::Value;

use super::http::{Fout, Out, Req, check_params, page_body, paginate, snake};
use super::model::Uuid;
use super::server::State;
use super::store::Store;
use super::urls::{Kind, UrlError};

/// Routes a request under `/catalogi/api/v1`.
pub(crate) fn handle(state: &State, req: &Req, rest: &str) -> Out {
    let segments = super::http::segments(rest);
    let kind = |name: &str| {
        Some(match name {
            "catalogussen" => Kind::Catalogus,
            "zaaktypen" => Kind::Zaaktype,
            "informatieobjecttypen" => Kind::Iot,
            "statustypen" => Kind::Statustype,
            "roltypen" => Kind::Roltype,
            "resultaattypen" => Kind::Resultaattype,
            "eigenschappen" => Kind::Eigenschap,
            _ => return None,
        })
    };
    let result = match segments.as_slice() {
        [name] => kind(name).map_or_else(|| Err(Fout::not_found()), |k| list(state, req, k)),
        [name, id] => {
            kind(name).map_or_else(|| Err(Fout::not_found()), |k| detail(state, req, k, id))
        }
        _ => Err(Fout::not_found()),
    };
    result.unwrap_or_else(Out::Fout)
}

fn filters(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Catalogus => &["domein", "domein__in", "rsin", "rsin__in"],
        Kind::Zaaktype => &["catalogus", "identificatie", "status", "trefwoorden"],
        Kind::Iot => &["catalogus", "status", "omschrijving"],
        Kind::Statustype | Kind::Resultaattype | Kind::Eigenschap => &["zaaktype", "status"],
        Kind::Roltype => &["zaaktype", "omschrijving_generiek", "status"],
        _ => &[],
    }
}

fn list(state: &State, req: &Req, kind: Kind) -> Result<Out, Fout> {
    if !matches!(req.method, Method::GET | Method::HEAD) {
        return Err(Fout::method_not_allowed(&req.method));
    }
    check_params(req, filters(kind))?;
    let store = state.read();
    let mut parent: Option<(Kind, Option<u32>)> = None;
    let mut preds: Vec<(String, String)> = Vec::new();
    for (k, v) in &req.query {
        let name = snake(k);
        match name.as_str() {
            "page" | "pageSize" => {}
            "catalogus" | "zaaktype" => {
                let pk = if name == "catalogus" {
                    Kind::Catalogus
                } else {
                    Kind::Zaaktype
                };
                let slot = match req.resolve(v) {
                    Ok((k, uuid)) if k == pk => store.slot_of(pk, uuid),
                    Ok(_) | Err(UrlError::Foreign | UrlError::NoMatch) => None,
                    Err(UrlError::NotUrl) => {
                        return Err(Fout::validation(vec![super::http::InvalidParam::new(
                            &name,
                            "invalid",
                            "Voer een geldige URL in.",
                        )]));
                    }
                };
                parent = Some((pk, slot));
            }
            _ => preds.push((name, v.clone())),
        }
    }
    let status = preds
        .iter()
        .find(|(k, _)| k == "status")
        .map_or("definitief", |(_, v)| v.as_str())
        .to_owned();
    let slots: Vec<u32> = store
        .slots(kind)
        .into_iter()
        .filter(|s| matches(&store, kind, *s, parent, &preds, &status))
        .collect();
    let page = paginate(req, slots.len())?;
    let results: Vec<Value> = slots
        .get(page.start..page.end)
        .unwrap_or(&[])
        .iter()
        .filter_map(|s| store.render(&req.ctx, kind, *s))
        .collect();
    Ok(Out::ok(page_body(&page, results)))
}

fn matches(
    store: &Store,
    kind: Kind,
    slot: u32,
    parent: Option<(Kind, Option<u32>)>,
    preds: &[(String, String)],
    status: &str,
) -> bool {
    let (catalogus, zaaktype) = match kind {
        Kind::Zaaktype => (store.zaaktypen.get(slot).map(|z| z.catalogus), Some(slot)),
        Kind::Iot => (store.iots.get(slot).map(|i| i.catalogus), None),
        Kind::Statustype => (None, store.statustypen.get(slot).map(|s| s.zaaktype)),
        Kind::Roltype => (None, store.roltypen.get(slot).map(|s| s.zaaktype)),
        Kind::Resultaattype => (None, store.resultaattypen.get(slot).map(|s| s.zaaktype)),
        Kind::Eigenschap => (None, store.eigenschappen.get(slot).map(|s| s.zaaktype)),
        _ => (None, None),
    };
    match parent {
        Some((Kind::Catalogus, want)) if want.is_none() || want != catalogus => return false,
        Some((Kind::Zaaktype, want)) if want.is_none() || want != zaaktype => return false,
        _ => {}
    }
    let concept = match kind {
        Kind::Zaaktype => store.zaaktypen.get(slot).is_some_and(|z| z.concept),
        _ => zaaktype
            .and_then(|z| store.zaaktypen.get(z))
            .is_some_and(|z| z.concept && kind != Kind::Iot),
    };
    let status_ok = match status {
        "alles" => true,
        "concept" => concept,
        _ => !concept,
    };
    status_ok
        && preds.iter().all(|(k, v)| match (kind, k.as_str()) {
            (Kind::Zaaktype, "identificatie") => store
                .zaaktypen
                .get(slot)
                .is_some_and(|z| &z.identificatie == v),
            (Kind::Iot, "omschrijving") => {
                store.iots.get(slot).is_some_and(|i| &i.omschrijving == v)
            }
            (Kind::Roltype, "omschrijving_generiek") => store
                .roltypen
                .get(slot)
                .is_some_and(|r| &r.omschrijving_generiek == v),
            (Kind::Catalogus, "domein") => {
                store.catalogussen.get(slot).is_some_and(|c| &c.domein == v)
            }
            (Kind::Catalogus, "rsin") => store.catalogussen.get(slot).is_some_and(|c| &c.rsin == v),
            (Kind::Catalogus, "domein__in") => store
                .catalogussen
                .get(slot)
                .is_some_and(|c| v.split(',').any(|d| d == c.domein)),
            (Kind::Catalogus, "rsin__in") => store
                .catalogussen
                .get(slot)
                .is_some_and(|c| v.split(',').any(|d| d == c.rsin)),
            (Kind::Zaaktype, "trefwoorden") => false,
            _ => true,
        })
}

fn detail(state: &State, req: &Req, kind: Kind, id: &str) -> Result<Out, Fout> {
    if !matches!(req.method, Method::GET | Method::HEAD) {
        return Err(Fout::method_not_allowed(&req.method));
    }
    check_params(req, &[])?;
    let store = state.read();
    let slot = Uuid::parse(id)
        .and_then(|u| store.slot_of(kind, u))
        .ok_or_else(Fout::not_found)?;
    store
        .render(&req.ctx, kind, slot)
        .map(Out::ok)
        .ok_or_else(Fout::not_found)
}
