//! The Documenten API (`/documenten/api/v1`): enkelvoudiginformatieobjecten (list, `_zoek`,
//! detail, writes with the lock rules, `/download`, lock/unlock, audit trail),
//! gebruiksrechten and objectinformatieobjecten.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hyper::Method;
use serde_json::{Map, Value, json};

use super::audit::{self, Write};
use super::http::{
    Fout, InvalidParam, Out, Req, check_params, expand_paths, page_body, paginate, snake,
};
use super::model::{Day, Document, Gebruiksrecht, Moment, Oio, Uuid, Va};
use super::server::State;
use super::store::Store;
use super::urls::{Kind, UrlError, parse_path, split_url};
use super::zaken::apply_expand;

const EIO_FILTERS: &[&str] = &[
    "informatieobjecttype",
    "identificatie",
    "bronorganisatie",
    "vertrouwelijkheidaanduiding",
    "titel",
    "auteur",
    "beschrijving",
    "locked",
    "creatiedatum__gte",
    "creatiedatum__lte",
    "ordering",
    "expand",
];

const EIO_EXPAND: &[&str] = &["informatieobjecttype"];

/// Routes a request under `/documenten/api/v1`.
pub(crate) fn handle(state: &State, req: &Req, rest: &str) -> Out {
    let segments = super::http::segments(rest);
    let result = match segments.as_slice() {
        ["enkelvoudiginformatieobjecten"] => eio_collection(state, req),
        ["enkelvoudiginformatieobjecten", "_zoek"] => eio_zoek(state, req),
        ["enkelvoudiginformatieobjecten", id] => eio_detail(state, req, id),
        ["enkelvoudiginformatieobjecten", id, "download"] => download(state, req, id),
        ["enkelvoudiginformatieobjecten", id, "lock"] => lock(state, req, id),
        ["enkelvoudiginformatieobjecten", id, "unlock"] => unlock(state, req, id),
        ["enkelvoudiginformatieobjecten", id, "audittrail"] => trail(state, req, id, None),
        ["enkelvoudiginformatieobjecten", id, "audittrail", a] => trail(state, req, id, Some(a)),
        ["gebruiksrechten"] => gebruiksrechten(state, req, None),
        ["gebruiksrechten", id] => gebruiksrechten(state, req, Some(id)),
        ["objectinformatieobjecten"] => oios(state, req, None),
        ["objectinformatieobjecten", id] => oios(state, req, Some(id)),
        _ => Err(Fout::not_found()),
    };
    result.unwrap_or_else(Out::Fout)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn doc_out(store: &Store, req: &Req, slot: u32, expand: &[String]) -> Value {
    let mut v = store.render_document(&req.ctx, slot).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        apply_expand(store, &req.ctx, m, expand);
        m.entry("_expand").or_insert_with(|| json!({}));
    }
    v
}

/// The filters of a list or `_zoek`, applied to one document.
#[derive(Debug, Default)]
struct DocQuery {
    iot: Option<Option<u32>>,
    uuids: Option<Vec<Uuid>>,
    preds: Vec<(String, String)>,
    expand: Vec<String>,
    ordering: Vec<(String, bool)>,
}

const DOC_ORDERING: &[&str] = &[
    "auteur",
    "bestandsomvang",
    "formaat",
    "creatiedatum",
    "status",
    "titel",
    "vertrouwelijkheidaanduiding",
];

fn doc_query(store: &Store, req: &Req, params: &[(String, Value)]) -> Result<DocQuery, Fout> {
    let mut q = DocQuery::default();
    for (name, value) in params {
        let s = text(value);
        match name.as_str() {
            "informatieobjecttype" => {
                q.iot = Some(match req.resolve(&s) {
                    Ok((Kind::Iot, u)) => store.iots.slot(u),
                    Ok(_) | Err(UrlError::Foreign | UrlError::NoMatch) => None,
                    Err(UrlError::NotUrl) => {
                        return Err(Fout::validation(vec![InvalidParam::new(
                            "informatieobjecttype",
                            "invalid",
                            "Voer een geldige URL in.",
                        )]));
                    }
                });
            }
            "uuid__in" => {
                let list = match value {
                    Value::Array(a) => a.iter().map(text).collect::<Vec<_>>(),
                    _ => s.split(',').map(str::to_owned).collect(),
                };
                q.uuids = Some(list.iter().filter_map(|u| Uuid::parse(u)).collect());
            }
            "expand" => {
                let raw = match value {
                    Value::Array(a) => a.iter().map(text).collect(),
                    _ => vec![s],
                };
                q.expand = expand_paths(&raw, EIO_EXPAND)?;
            }
            "ordering" => {
                for f in s.split(',').filter(|f| !f.is_empty()) {
                    let (desc, bare) = f.strip_prefix('-').map_or((false, f), |b| (true, b));
                    if !DOC_ORDERING.contains(&bare) {
                        return Err(Fout::validation(vec![InvalidParam::new(
                            "ordering",
                            "invalid_choice",
                            &format!("Selecteer een geldige keuze. {f} is geen beschikbare keuze."),
                        )]));
                    }
                    q.ordering.push((bare.to_owned(), desc));
                }
            }
            "vertrouwelijkheidaanduiding" if Va::parse(&s).is_none() => {
                return Err(Fout::validation(vec![InvalidParam::new(
                    "vertrouwelijkheidaanduiding",
                    "invalid_choice",
                    &format!("Selecteer een geldige keuze. {s} is geen beschikbare keuze."),
                )]));
            }
            _ => q.preds.push((name.clone(), s)),
        }
    }
    Ok(q)
}

impl DocQuery {
    fn matches(&self, d: &Document) -> bool {
        if let Some(iot) = self.iot
            && iot != Some(d.informatieobjecttype)
        {
            return false;
        }
        if let Some(u) = &self.uuids
            && !u.contains(&d.uuid)
        {
            return false;
        }
        let contains =
            |hay: &str, needle: &str| hay.to_lowercase().contains(&needle.to_lowercase());
        self.preds.iter().all(|(k, v)| match k.as_str() {
            "identificatie" => &d.identificatie == v,
            "bronorganisatie" => &d.bronorganisatie == v,
            "vertrouwelijkheidaanduiding" => d.va.as_str() == v,
            "titel" => contains(&d.titel, v),
            "auteur" => contains(&d.auteur, v),
            "beschrijving" => false,
            "locked" => match v.as_str() {
                "true" | "True" => !d.lock.is_empty(),
                "false" | "False" => d.lock.is_empty(),
                _ => true,
            },
            "creatiedatum__gte" => Day::parse(v).is_none_or(|x| d.creatiedatum >= x),
            "creatiedatum__lte" => Day::parse(v).is_none_or(|x| d.creatiedatum <= x),
            _ => true,
        })
    }

    fn run(&self, store: &Store) -> Vec<u32> {
        let mut slots: Vec<u32> = store
            .documents
            .iter()
            .rev()
            .filter(|(_, d)| self.matches(d))
            .map(|(s, _)| s)
            .collect();
        if !self.ordering.is_empty() {
            let key = |s: &u32, f: &str| -> String {
                store
                    .documents
                    .get(*s)
                    .map_or_else(String::new, |d| match f {
                        "auteur" => d.auteur.clone(),
                        "bestandsomvang" => format!("{:020}", store.document_len(*s)),
                        "formaat" => d.formaat.clone(),
                        "creatiedatum" => d.creatiedatum.to_string(),
                        "status" => d.status.clone(),
                        "vertrouwelijkheidaanduiding" => d.va.as_str().to_owned(),
                        _ => d.titel.clone(),
                    })
            };
            slots.sort_by(|a, b| {
                for (f, desc) in &self.ordering {
                    let o = key(a, f).cmp(&key(b, f));
                    let o = if *desc { o.reverse() } else { o };
                    if o != std::cmp::Ordering::Equal {
                        return o;
                    }
                }
                b.cmp(a)
            });
        }
        slots
    }
}

fn list_docs(store: &Store, req: &Req, q: &DocQuery) -> Result<Out, Fout> {
    let slots = q.run(store);
    let page = paginate(req, slots.len())?;
    let results = slots
        .get(page.start..page.end)
        .unwrap_or(&[])
        .iter()
        .map(|s| doc_out(store, req, *s, &q.expand))
        .collect();
    Ok(Out::ok(page_body(&page, results)))
}

fn eio_collection(state: &State, req: &Req) -> Result<Out, Fout> {
    match req.method {
        Method::GET | Method::HEAD => {
            check_params(req, EIO_FILTERS)?;
            let store = state.read();
            let params: Vec<(String, Value)> = req
                .query
                .iter()
                .filter(|(k, _)| k != "page" && k != "pageSize")
                .map(|(k, v)| (snake(k), Value::String(v.clone())))
                .collect();
            let q = doc_query(&store, req, &params)?;
            list_docs(&store, req, &q)
        }
        Method::POST => {
            let body = req.json_object()?;
            let mut store = state.write();
            let uuid = store.new_uuid();
            let mut doc = Document {
                uuid,
                identificatie: String::new(),
                bronorganisatie: String::new(),
                creatiedatum: super::store::today(),
                titel: String::new(),
                va: Va::Openbaar,
                auteur: String::new(),
                status: String::new(),
                formaat: String::new(),
                taal: String::new(),
                bestandsnaam: String::new(),
                informatieobjecttype: 0,
                versie: 1,
                beginregistratie: Moment::now(),
                lock: String::new(),
                is_gereed_voor_publicatie: false,
                content: Some(Bytes::new()),
                extra: None,
            };
            apply_doc(&store, req, &mut doc, &body, false, true)?;
            if doc.identificatie.is_empty() {
                let (y, _, _) = crate::rng::civil_from_days(i64::from(doc.creatiedatum.0));
                doc.identificatie =
                    store.next_document_identificatie(i32::try_from(y).unwrap_or(2025));
            }
            let slot = store.documents.insert(doc);
            let nieuw = store.render_document(&req.ctx, slot);
            record_related(
                &mut store,
                req,
                slot,
                "enkelvoudiginformatieobject",
                slot,
                Kind::Document,
                "create",
                201,
                None,
                nieuw,
            );
            Ok(Out::created(doc_out(&store, req, slot, &[])))
        }
        _ => Err(Fout::method_not_allowed(&req.method)),
    }
}

fn eio_zoek(state: &State, req: &Req) -> Result<Out, Fout> {
    if req.method != Method::POST {
        return Err(Fout::method_not_allowed(&req.method));
    }
    let body = req.json_object()?;
    if body.is_empty() {
        return Err(Fout::validation(vec![InvalidParam::new(
            "nonFieldErrors",
            "empty_search_body",
            "Search parameters must be specified",
        )]));
    }
    let params: Vec<(String, Value)> = body.iter().map(|(k, v)| (snake(k), v.clone())).collect();
    let store = state.read();
    let q = doc_query(&store, req, &params)?;
    list_docs(&store, req, &q)
}

const DOC_MODELLED: &[&str] = &[
    "identificatie",
    "bronorganisatie",
    "creatiedatum",
    "titel",
    "vertrouwelijkheidaanduiding",
    "auteur",
    "status",
    "formaat",
    "taal",
    "bestandsnaam",
    "inhoud",
    "informatieobjecttype",
    "isGereedVoorPublicatie",
    "lock",
];

const DOC_READ_ONLY: &[&str] = &[
    "url",
    "versie",
    "beginRegistratie",
    "bestandsomvang",
    "locked",
    "bestandsdelen",
    "_expand",
];

fn apply_doc(
    store: &Store,
    req: &Req,
    doc: &mut Document,
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
                "creatiedatum",
                "titel",
                "auteur",
                "taal",
                "informatieobjecttype",
            ],
            &mut errors,
        );
    }
    if let Some(url) = body.get("informatieobjecttype").and_then(Value::as_str) {
        match super::zaken::loose_ref(store, req, "informatieobjecttype", url, Kind::Iot) {
            Ok(s) if creating || s == doc.informatieobjecttype => doc.informatieobjecttype = s,
            Ok(_) => errors.push(InvalidParam::new(
                "informatieobjecttype",
                "wijzigen-niet-toegelaten",
                "Dit veld mag niet gewijzigd worden.",
            )),
            Err(e) => errors.push(e),
        }
    }
    for (name, field) in [
        ("identificatie", &mut doc.identificatie),
        ("bronorganisatie", &mut doc.bronorganisatie),
        ("titel", &mut doc.titel),
        ("auteur", &mut doc.auteur),
        ("status", &mut doc.status),
        ("formaat", &mut doc.formaat),
        ("taal", &mut doc.taal),
        ("bestandsnaam", &mut doc.bestandsnaam),
    ] {
        if let Some(v) = body.get(name) {
            *field = text(v);
        }
    }
    if let Some(v) = body.get("creatiedatum").and_then(Value::as_str) {
        match Day::parse(v) {
            Some(d) => doc.creatiedatum = d,
            None => errors.push(InvalidParam::new(
                "creatiedatum",
                "invalid",
                "Voer een geldige datum in.",
            )),
        }
    }
    if let Some(v) = body.get("isGereedVoorPublicatie").and_then(Value::as_bool) {
        doc.is_gereed_voor_publicatie = v;
    }
    match super::http::va_field(body, &mut errors) {
        Some(va) => doc.va = va,
        // drc-007: the informatieobjecttype's default.
        None if creating => {
            if let Some(i) = store.iots.get(doc.informatieobjecttype) {
                doc.va = i.va;
            }
        }
        None => {}
    }
    match body.get("inhoud") {
        Some(Value::String(s)) if !s.is_empty() && !s.starts_with("http") => {
            match STANDARD.decode(s.as_bytes()) {
                Ok(b) => doc.content = Some(Bytes::from(b)),
                Err(_) => errors.push(InvalidParam::new(
                    "inhoud",
                    "invalid",
                    "Het bestand is niet geldig base64.",
                )),
            }
        }
        Some(Value::Null) => doc.content = Some(Bytes::new()),
        _ => {}
    }
    let mut extra = doc.extra.take().map(|b| *b).unwrap_or_default();
    for (k, v) in body {
        if !DOC_MODELLED.contains(&k.as_str()) && !DOC_READ_ONLY.contains(&k.as_str()) {
            extra.insert(k.clone(), v.clone());
        }
    }
    doc.extra = (!extra.is_empty()).then(|| Box::new(extra));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Fout::validation(errors))
    }
}

fn doc_slot(store: &Store, id: &str) -> Result<u32, Fout> {
    Uuid::parse(id)
        .and_then(|u| store.documents.slot(u))
        .ok_or_else(Fout::not_found)
}

fn eio_detail(state: &State, req: &Req, id: &str) -> Result<Out, Fout> {
    match req.method {
        Method::GET | Method::HEAD => {
            check_params(req, &["expand", "versie", "registratie_op"])?;
            let store = state.read();
            let slot = doc_slot(&store, id)?;
            let expand = expand_paths(
                &req.param("expand")
                    .map(str::to_owned)
                    .into_iter()
                    .collect::<Vec<_>>(),
                EIO_EXPAND,
            )?;
            Ok(Out::ok(doc_out(&store, req, slot, &expand)))
        }
        Method::PUT | Method::PATCH => {
            let body = req.json_object()?;
            let partial = req.method == Method::PATCH;
            let mut store = state.write();
            let slot = doc_slot(&store, id)?;
            let Some(mut doc) = store.documents.get(slot).cloned() else {
                return Err(Fout::not_found());
            };
            let sent = body.get("lock").and_then(Value::as_str).unwrap_or("");
            if doc.lock.is_empty() {
                return Err(Fout::validation(vec![InvalidParam::new(
                    "nonFieldErrors",
                    "unlocked",
                    "Unlocked document can't be modified",
                )]));
            }
            if sent.is_empty() {
                return Err(Fout::validation(vec![InvalidParam::new(
                    "nonFieldErrors",
                    "missing-lock-id",
                    "Lock id is not found in request",
                )]));
            }
            if sent != doc.lock {
                return Err(Fout::validation(vec![InvalidParam::new(
                    "nonFieldErrors",
                    "incorrect-lock-id",
                    "Lock id is not correct",
                )]));
            }
            let oud = store.render_document(&req.ctx, slot);
            apply_doc(&store, req, &mut doc, &body, partial, false)?;
            doc.versie += 1;
            doc.beginregistratie = Moment::now();
            if let Some(d) = store.documents.get_mut(slot) {
                *d = doc;
            }
            let nieuw = store.render_document(&req.ctx, slot);
            record_related(
                &mut store,
                req,
                slot,
                "enkelvoudiginformatieobject",
                slot,
                Kind::Document,
                if partial { "partial_update" } else { "update" },
                200,
                oud,
                nieuw,
            );
            Ok(Out::ok(doc_out(&store, req, slot, &[])))
        }
        Method::DELETE => {
            let mut store = state.write();
            let slot = doc_slot(&store, id)?;
            if store.oios.iter().any(|(_, o)| o.document == slot) {
                return Err(Fout::validation(vec![InvalidParam::new(
                    "nonFieldErrors",
                    "pending-relations",
                    "All relations to the document must be destroyed before destroying the document",
                )]));
            }
            store.delete_document(slot);
            Ok(Out::Empty(204))
        }
        _ => Err(Fout::method_not_allowed(&req.method)),
    }
}

fn download(state: &State, req: &Req, id: &str) -> Result<Out, Fout> {
    if !matches!(req.method, Method::GET | Method::HEAD) {
        return Err(Fout::method_not_allowed(&req.method));
    }
    check_params(req, &["versie", "registratie_op"])?;
    let store = state.read();
    let slot = doc_slot(&store, id)?;
    let Some(doc) = store.documents.get(slot) else {
        return Err(Fout::not_found());
    };
    let body = doc
        .content
        .clone()
        .unwrap_or_else(|| store.shared_content.clone());
    if body.is_empty() {
        return Ok(Out::Empty(204));
    }
    let name = if doc.bestandsnaam.is_empty() {
        doc.identificatie.clone()
    } else {
        doc.bestandsnaam.replace('"', "")
    };
    Ok(Out::Bytes {
        content_type: "application/octet-stream",
        body,
        headers: vec![(
            "content-disposition",
            format!("attachment; filename=\"{name}\""),
        )],
    })
}

fn lock(state: &State, req: &Req, id: &str) -> Result<Out, Fout> {
    if req.method != Method::POST {
        return Err(Fout::method_not_allowed(&req.method));
    }
    let mut store = state.write();
    let slot = doc_slot(&store, id)?;
    if store
        .documents
        .get(slot)
        .is_some_and(|d| !d.lock.is_empty())
    {
        return Err(Fout::validation(vec![InvalidParam::new(
            "nonFieldErrors",
            "existing-lock",
            "Het document is al gelockt.",
        )]));
    }
    let lock = format!("{:032x}", store.new_uuid().0);
    if let Some(d) = store.documents.get_mut(slot) {
        d.lock.clone_from(&lock);
    }
    Ok(Out::ok(json!({ "lock": lock })))
}

fn unlock(state: &State, req: &Req, id: &str) -> Result<Out, Fout> {
    if req.method != Method::POST {
        return Err(Fout::method_not_allowed(&req.method));
    }
    let body = req.json_object()?;
    let mut store = state.write();
    let slot = doc_slot(&store, id)?;
    let sent = body.get("lock").and_then(Value::as_str).unwrap_or("");
    // The fixture's callers hold `documenten.geforceerd-unlock`: an empty lock forces it.
    if !sent.is_empty() && store.documents.get(slot).is_some_and(|d| d.lock != sent) {
        return Err(Fout::validation(vec![InvalidParam::new(
            "nonFieldErrors",
            "incorrect-lock-id",
            "Lock id is not correct",
        )]));
    }
    if let Some(d) = store.documents.get_mut(slot) {
        d.lock.clear();
    }
    Ok(Out::Empty(204))
}

fn trail(state: &State, req: &Req, id: &str, record: Option<&str>) -> Result<Out, Fout> {
    if !matches!(req.method, Method::GET | Method::HEAD) {
        return Err(Fout::method_not_allowed(&req.method));
    }
    let store = state.read();
    super::zaken::audit_read(&store, id, record)
}

/// The `informatieobject` filter: `Some(None)` matches nothing.
fn document_filter(store: &Store, req: &Req) -> Option<Option<u32>> {
    req.param("informatieobject")
        .map(|url| match req.resolve(url) {
            Ok((Kind::Document, u)) => store.documents.slot(u),
            _ => None,
        })
}

/// The document a body's `informatieobject` names.
fn document_ref(store: &Store, req: &Req, body: &Map<String, Value>) -> Result<u32, Fout> {
    let Some(url) = body.get("informatieobject").and_then(Value::as_str) else {
        return Err(Fout::validation(vec![InvalidParam::required(
            "informatieobject",
        )]));
    };
    match req.resolve(url) {
        Ok((Kind::Document, u)) => store.documents.slot(u).ok_or_else(|| {
            Fout::validation(vec![InvalidParam::new(
                "informatieobject",
                "does_not_exist",
                "Ongeldige hyperlink - Object bestaat niet.",
            )])
        }),
        _ => Err(Fout::validation(vec![InvalidParam::new(
            "informatieobject",
            "no_match",
            "Ongeldige hyperlink - Geen URL match.",
        )])),
    }
}

fn gebruiksrechten(state: &State, req: &Req, id: Option<&str>) -> Result<Out, Fout> {
    match (id, &req.method) {
        (None, &Method::GET | &Method::HEAD) => {
            check_params(
                req,
                &[
                    "informatieobject",
                    "startdatum__lt",
                    "startdatum__lte",
                    "startdatum__gt",
                    "startdatum__gte",
                    "einddatum__lt",
                    "einddatum__lte",
                    "einddatum__gt",
                    "einddatum__gte",
                ],
            )?;
            let store = state.read();
            let want = document_filter(&store, req);
            let slots: Vec<u32> = store
                .gebruiksrechten
                .iter()
                .rev()
                .filter(|(_, g)| want.is_none_or(|w| w == Some(g.document)))
                .map(|(s, _)| s)
                .collect();
            let page = paginate(req, slots.len())?;
            let results = slots
                .get(page.start..page.end)
                .unwrap_or(&[])
                .iter()
                .filter_map(|s| store.render_gebruiksrecht(&req.ctx, *s))
                .collect();
            Ok(Out::ok(page_body(&page, results)))
        }
        (None, &Method::POST) => {
            let body = req.json_object()?;
            let mut store = state.write();
            let doc = document_ref(&store, req, &body)?;
            let mut errors = Vec::new();
            let start = match body.get("startdatum").and_then(Value::as_str) {
                Some(s) => Moment::parse(s),
                None => {
                    errors.push(InvalidParam::required("startdatum"));
                    None
                }
            };
            let voorwaarden = body
                .get("omschrijvingVoorwaarden")
                .map(text)
                .unwrap_or_default();
            if voorwaarden.is_empty() {
                errors.push(InvalidParam::required("omschrijvingVoorwaarden"));
            }
            let Some(start) = start.filter(|_| errors.is_empty()) else {
                if errors.is_empty() {
                    errors.push(InvalidParam::new(
                        "startdatum",
                        "invalid",
                        "Ongeldige datetime.",
                    ));
                }
                return Err(Fout::validation(errors));
            };
            let uuid = store.new_uuid();
            let slot = store.gebruiksrechten.insert(Gebruiksrecht {
                uuid,
                document: doc,
                startdatum: start,
                omschrijving_voorwaarden: voorwaarden,
            });
            let nieuw = store.render_gebruiksrecht(&req.ctx, slot);
            record_related(
                &mut store,
                req,
                doc,
                "gebruiksrechten",
                slot,
                Kind::Gebruiksrecht,
                "create",
                201,
                None,
                nieuw.clone(),
            );
            Ok(Out::created(nieuw.unwrap_or(Value::Null)))
        }
        (None, _) => Err(Fout::method_not_allowed(&req.method)),
        (Some(id), method) => {
            let uuid = Uuid::parse(id).ok_or_else(Fout::not_found)?;
            match *method {
                Method::GET | Method::HEAD => {
                    let store = state.read();
                    let slot = store
                        .gebruiksrechten
                        .slot(uuid)
                        .ok_or_else(Fout::not_found)?;
                    store
                        .render_gebruiksrecht(&req.ctx, slot)
                        .map(Out::ok)
                        .ok_or_else(Fout::not_found)
                }
                Method::PUT | Method::PATCH => {
                    let body = req.json_object()?;
                    let mut store = state.write();
                    let slot = store
                        .gebruiksrechten
                        .slot(uuid)
                        .ok_or_else(Fout::not_found)?;
                    let oud = store.render_gebruiksrecht(&req.ctx, slot);
                    let doc = store.gebruiksrechten.get(slot).map_or(0, |g| g.document);
                    if let Some(g) = store.gebruiksrechten.get_mut(slot) {
                        if let Some(v) = body.get("omschrijvingVoorwaarden") {
                            g.omschrijving_voorwaarden = text(v);
                        }
                        if let Some(m) = body
                            .get("startdatum")
                            .and_then(Value::as_str)
                            .and_then(Moment::parse)
                        {
                            g.startdatum = m;
                        }
                    }
                    let nieuw = store.render_gebruiksrecht(&req.ctx, slot);
                    let actie = if *method == Method::PATCH {
                        "partial_update"
                    } else {
                        "update"
                    };
                    record_related(
                        &mut store,
                        req,
                        doc,
                        "gebruiksrechten",
                        slot,
                        Kind::Gebruiksrecht,
                        actie,
                        200,
                        oud,
                        nieuw.clone(),
                    );
                    Ok(Out::ok(nieuw.unwrap_or(Value::Null)))
                }
                Method::DELETE => {
                    let mut store = state.write();
                    let slot = store
                        .gebruiksrechten
                        .slot(uuid)
                        .ok_or_else(Fout::not_found)?;
                    let oud = store.render_gebruiksrecht(&req.ctx, slot);
                    let doc = store.gebruiksrechten.get(slot).map_or(0, |g| g.document);
                    store.gebruiksrechten.remove(slot);
                    record_related(
                        &mut store,
                        req,
                        doc,
                        "gebruiksrechten",
                        slot,
                        Kind::Gebruiksrecht,
                        "destroy",
                        204,
                        oud,
                        None,
                    );
                    Ok(Out::Empty(204))
                }
                _ => Err(Fout::method_not_allowed(&req.method)),
            }
        }
    }
}

#[expect(clippy::too_many_arguments, reason = "one audit record's fields")]
fn record_related(
    store: &mut Store,
    req: &Req,
    doc: u32,
    resource: &'static str,
    slot: u32,
    kind: Kind,
    actie: &'static str,
    resultaat: u16,
    oud: Option<Value>,
    nieuw: Option<Value>,
) {
    let hoofd_url = store.url_of(&req.ctx, Kind::Document, doc);
    let resource_url = nieuw
        .as_ref()
        .or(oud.as_ref())
        .and_then(|v| v.get("url"))
        .and_then(Value::as_str)
        .map_or_else(|| store.url_of(&req.ctx, kind, slot), str::to_owned);
    let (uuid, weergave) = store
        .documents
        .get(doc)
        .map_or((Uuid(0), String::new()), |d| {
            (
                d.uuid,
                if kind == Kind::Document {
                    format!("{} - {}", d.bronorganisatie, d.identificatie)
                } else {
                    format!("({} - {}) - {resource}", d.bronorganisatie, d.identificatie)
                },
            )
        });
    audit::record(
        store,
        req,
        Write {
            bron: "drc",
            actie,
            resultaat,
            hoofd: uuid,
            hoofd_url: &hoofd_url,
            resource,
            resource_url: &resource_url,
            weergave,
            oud,
            nieuw,
        },
    );
}

fn oios(state: &State, req: &Req, id: Option<&str>) -> Result<Out, Fout> {
    match (id, &req.method) {
        (None, &Method::GET | &Method::HEAD) => {
            check_params(req, &["informatieobject", "object", "object_type"])?;
            let store = state.read();
            let want_doc = document_filter(&store, req);
            let object = req.param("object");
            let object_type = req.param("objectType");
            let slots: Vec<u32> = store
                .oios
                .iter()
                .rev()
                .filter(|(_, o)| want_doc.is_none_or(|w| w == Some(o.document)))
                .filter(|(_, o)| object_type.is_none_or(|t| o.object_type == t))
                .filter(|(s, _)| {
                    object.is_none_or(|want| {
                        store
                            .render_oio(&req.ctx, *s)
                            .and_then(|v| {
                                v.get("object").and_then(Value::as_str).map(|o| o == want)
                            })
                            .unwrap_or(false)
                    })
                })
                .map(|(s, _)| s)
                .collect();
            // Not paginated in the Documenten API.
            Ok(Out::ok(Value::Array(
                slots
                    .iter()
                    .filter_map(|s| store.render_oio(&req.ctx, *s))
                    .collect(),
            )))
        }
        (None, &Method::POST) => {
            let body = req.json_object()?;
            let mut store = state.write();
            let doc = document_ref(&store, req, &body)?;
            let object = body.get("object").map(text).unwrap_or_default();
            let object_type = body.get("objectType").map(text).unwrap_or_default();
            if object.is_empty() || object_type.is_empty() {
                let mut e = Vec::new();
                if object.is_empty() {
                    e.push(InvalidParam::required("object"));
                }
                if object_type.is_empty() {
                    e.push(InvalidParam::required("objectType"));
                }
                return Err(Fout::validation(e));
            }
            let zaak = match split_url(&object).and_then(|(_, p)| parse_path(p)) {
                Some((Kind::Zaak, u)) if object_type == "zaak" => store.zaken.slot(u),
                _ => None,
            };
            if object_type == "zaak" {
                // OZ: the relation must exist on the Zaken side first.
                let zio = zaak.and_then(|z| {
                    store.zaken.get(z).and_then(|zk| {
                        zk.zios.iter().copied().find(|x| {
                            store
                                .zios
                                .get(*x)
                                .is_some_and(|zio| zio.document == Some(doc))
                        })
                    })
                });
                let Some(zio) = zio else {
                    return Err(Fout::validation(vec![InvalidParam::new(
                        "nonFieldErrors",
                        "inconsistent-relation",
                        "Het informatieobject is niet gekoppeld aan het object in de Zaken API.",
                    )]));
                };
                if let Some(existing) = store.zios.get(zio).and_then(|z| z.oio) {
                    return Err(Fout::validation(vec![InvalidParam::new(
                        "nonFieldErrors",
                        "unique",
                        &format!(
                            "De velden informatieobject, object moeten een unieke set zijn ({}).",
                            store.url_of(&req.ctx, Kind::Oio, existing)
                        ),
                    )]));
                }
            }
            let uuid = store.new_uuid();
            let slot = store.oios.insert(Oio {
                uuid,
                document: doc,
                zaak,
                object: if zaak.is_some() {
                    String::new()
                } else {
                    object
                },
                object_type,
            });
            Ok(Out::created(
                store.render_oio(&req.ctx, slot).unwrap_or(Value::Null),
            ))
        }
        (None, _) => Err(Fout::method_not_allowed(&req.method)),
        (Some(id), method) => {
            let uuid = Uuid::parse(id).ok_or_else(Fout::not_found)?;
            match *method {
                Method::GET | Method::HEAD => {
                    let store = state.read();
                    let slot = store.oios.slot(uuid).ok_or_else(Fout::not_found)?;
                    store
                        .render_oio(&req.ctx, slot)
                        .map(Out::ok)
                        .ok_or_else(Fout::not_found)
                }
                Method::DELETE => {
                    let mut store = state.write();
                    let slot = store.oios.slot(uuid).ok_or_else(Fout::not_found)?;
                    store.oios.remove(slot);
                    store.detach_oio(slot);
                    Ok(Out::Empty(204))
                }
                _ => Err(Fout::method_not_allowed(&req.method)),
            }
        }
    }
}
