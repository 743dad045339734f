//! The Autorisaties API (`/autorisaties/api/v1/applicaties`) with the ac-001..003 checks of
//! commonground-api-common's `ApplicatieSerializer`, and the GPT-style register-and-mint
//! endpoint (`POST /register`).

use hyper::Method;
use serde_json::{Map, Value, json};

use super::http::{Fout, InvalidParam, Out, Req, check_params, page_body, paginate};
use super::model::{Applicatie, Uuid, Va};
use super::render::{Ctx, render_applicatie};
use super::server::State;
use super::store::Store;
use super::urls::Kind;

const COMPONENTS: &[&str] = &["ac", "nrc", "zrc", "ztc", "drc", "brc", "cmc", "kc", "vrc"];

/// Routes a request under `/autorisaties/api/v1`.
pub(crate) fn handle(state: &State, req: &Req, rest: &str) -> Out {
    let segments = super::http::segments(rest);
    let result = match segments.as_slice() {
        ["applicaties"] => collection(state, req),
        ["applicaties", "consumer"] => consumer(state, req),
        ["applicaties", id] => detail(state, req, id),
        _ => Err(Fout::not_found()),
    };
    result.unwrap_or_else(Out::Fout)
}

fn collection(state: &State, req: &Req) -> Result<Out, Fout> {
    match req.method {
        Method::GET | Method::HEAD => {
            check_params(req, &["client_ids"])?;
            let store = state.read();
            // OZ: `client_ids__contains` — an applicatie must hold every listed client id.
            let wanted: Vec<&str> = req
                .param("clientIds")
                .map(|v| v.split(',').filter(|s| !s.is_empty()).collect())
                .unwrap_or_default();
            let apps: Vec<&Applicatie> = store
                .applicaties
                .iter()
                .rev()
                .map(|(_, a)| a)
                .filter(|a| wanted.iter().all(|w| a.client_ids.iter().any(|c| c == w)))
                .collect();
            let page = paginate(req, apps.len())?;
            let results = apps
                .get(page.start..page.end)
                .unwrap_or(&[])
                .iter()
                .map(|a| render_applicatie(&req.ctx, a))
                .collect();
            Ok(Out::ok(page_body(&page, results)))
        }
        Method::POST => {
            let body = req.json_object()?;
            let mut store = state.write();
            let mut app = validate(&store, &body, None, false)?;
            app.uuid = store.new_uuid();
            let slot = store.applicaties.insert(app);
            let out = store.render(&req.ctx, Kind::Applicatie, slot);
            let url = store.url_of(&req.ctx, Kind::Applicatie, slot);
            drop(store);
            state.notifier.applicatie(&url, "create");
            Ok(Out::created(out.unwrap_or(Value::Null)))
        }
        _ => Err(Fout::method_not_allowed(&req.method)),
    }
}

fn consumer(state: &State, req: &Req) -> Result<Out, Fout> {
    if !matches!(req.method, Method::GET | Method::HEAD) {
        return Err(Fout::method_not_allowed(&req.method));
    }
    check_params(req, &["client_id"])?;
    let Some(client_id) = req.param("clientId").filter(|c| !c.is_empty()) else {
        return Err(Fout::validation(vec![InvalidParam::required("clientId")]));
    };
    let store = state.read();
    store
        .applicatie_for(client_id)
        .map(|a| Out::ok(render_applicatie(&req.ctx, a)))
        .ok_or_else(Fout::not_found)
}

fn detail(state: &State, req: &Req, id: &str) -> Result<Out, Fout> {
    let uuid = Uuid::parse(id).ok_or_else(Fout::not_found)?;
    match req.method {
        Method::GET | Method::HEAD => {
            check_params(req, &[])?;
            let store = state.read();
            let (_, a) = store
                .applicaties
                .by_uuid(uuid)
                .ok_or_else(Fout::not_found)?;
            Ok(Out::ok(render_applicatie(&req.ctx, a)))
        }
        Method::PUT | Method::PATCH => {
            let body = req.json_object()?;
            let partial = req.method == Method::PATCH;
            let mut store = state.write();
            let (slot, current) = store
                .applicaties
                .by_uuid(uuid)
                .map(|(s, a)| (s, a.clone()))
                .ok_or_else(Fout::not_found)?;
            let app = validate(&store, &body, Some(&current), partial)?;
            if let Some(a) = store.applicaties.get_mut(slot) {
                *a = app;
            }
            let out = store.render(&req.ctx, Kind::Applicatie, slot);
            let url = store.url_of(&req.ctx, Kind::Applicatie, slot);
            drop(store);
            state
                .notifier
                .applicatie(&url, if partial { "partial_update" } else { "update" });
            Ok(Out::ok(out.unwrap_or(Value::Null)))
        }
        Method::DELETE => {
            let mut store = state.write();
            let slot = store.applicaties.slot(uuid).ok_or_else(Fout::not_found)?;
            let url = store.url_of(&req.ctx, Kind::Applicatie, slot);
            store.applicaties.remove(slot);
            drop(store);
            state.notifier.applicatie(&url, "destroy");
            Ok(Out::Empty(204))
        }
        _ => Err(Fout::method_not_allowed(&req.method)),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Builds the applicatie a body describes, checking ac-001 (a client id in one applicatie
/// only), ac-002 (`heeftAlleAutorisaties` xor autorisaties) and ac-003 (type and max VA
/// where the scopes need them). `current` is the applicatie being updated; a new one comes
/// back with UUID 0 for the caller to assign.
pub(crate) fn validate(
    store: &Store,
    body: &Map<String, Value>,
    current: Option<&Applicatie>,
    partial: bool,
) -> Result<Applicatie, Fout> {
    let mut errors = Vec::new();
    let mut app = current.cloned().unwrap_or_else(|| Applicatie {
        uuid: Uuid(0),
        client_ids: Vec::new(),
        label: String::new(),
        heeft_alle_autorisaties: false,
        alleen_is_gereed_voor_publicatie: false,
        autorisaties: Vec::new(),
    });
    match body.get("clientIds") {
        Some(Value::Array(ids)) => {
            let ids: Vec<String> = ids.iter().map(text).collect();
            if ids.is_empty() && !partial {
                errors.push(InvalidParam::new(
                    "clientIds",
                    "required",
                    "Dit veld is vereist.",
                ));
            }
            for (i, id) in ids.iter().enumerate() {
                if id.is_empty() || id.chars().count() > 50 {
                    errors.push(InvalidParam::new(
                        &format!("clientIds.{i}"),
                        if id.is_empty() { "blank" } else { "max_length" },
                        "Zorg ervoor dat dit veld 1 tot 50 tekens bevat.",
                    ));
                }
            }
            let clashes: Vec<&Applicatie> = store
                .applicaties
                .iter()
                .map(|(_, a)| a)
                .filter(|a| current.is_none_or(|c| c.uuid != a.uuid))
                .filter(|a| a.client_ids.iter().any(|c| ids.contains(c)))
                .collect();
            if !clashes.is_empty() {
                let used: Vec<&str> = ids
                    .iter()
                    .filter(|id| clashes.iter().any(|a| a.client_ids.contains(id)))
                    .map(String::as_str)
                    .collect();
                let apps: Vec<String> = clashes.iter().map(|a| a.uuid.to_string()).collect();
                errors.push(InvalidParam::new(
                    "clientIds",
                    "clientId-exists",
                    &format!(
                        "The clientID(s) {} are already used in application(s) {}",
                        used.join(", "),
                        apps.join(", ")
                    ),
                ));
            }
            app.client_ids = ids;
        }
        Some(_) => errors.push(InvalidParam::new(
            "clientIds",
            "not_a_list",
            "Verwachtte een lijst met items, kreeg een str.",
        )),
        None if !partial => errors.push(InvalidParam::required("clientIds")),
        None => {}
    }
    match body.get("label") {
        Some(Value::String(s)) if !s.is_empty() => s.clone_into(&mut app.label),
        Some(_) => errors.push(InvalidParam::new(
            "label",
            "blank",
            "Dit veld mag niet leeg zijn.",
        )),
        None if !partial => errors.push(InvalidParam::required("label")),
        None => {}
    }
    if let Some(v) = body.get("heeftAlleAutorisaties") {
        app.heeft_alle_autorisaties = v.as_bool().unwrap_or(false);
    }
    if let Some(v) = body.get("alleenIsGereedVoorPublicatie") {
        app.alleen_is_gereed_voor_publicatie = v.as_bool().unwrap_or(false);
    }
    match body.get("autorisaties") {
        Some(Value::Array(items)) => {
            let mut list = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match autorisatie(i, item, &mut errors) {
                    Some(a) => list.push(a),
                    None => continue,
                }
            }
            app.autorisaties = list;
        }
        Some(Value::Null) | None => {
            if current.is_none() {
                app.autorisaties = Vec::new();
            }
        }
        Some(_) => errors.push(InvalidParam::new(
            "autorisaties",
            "not_a_list",
            "Verwachtte een lijst met items.",
        )),
    }
    if errors.is_empty() {
        if !app.autorisaties.is_empty() && app.heeft_alle_autorisaties {
            errors.push(InvalidParam::new(
                "nonFieldErrors",
                "ambiguous-authorizations-specified",
                "Either autorisaties or heeft_alle_autorisaties can be specified",
            ));
        } else if app.autorisaties.is_empty() && !app.heeft_alle_autorisaties {
            errors.push(InvalidParam::new(
                "nonFieldErrors",
                "missing-authorizations",
                "Either autorisaties or heeft_alle_autorisaties should be specified",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Fout::validation(errors));
    }
    Ok(app)
}

fn autorisatie(
    i: usize,
    item: &Value,
    errors: &mut Vec<InvalidParam>,
) -> Option<Map<String, Value>> {
    let Value::Object(m) = item else {
        errors.push(InvalidParam::new(
            &format!("autorisaties.{i}.nonFieldErrors"),
            "invalid",
            "Ongeldige data. Verwacht een dictionary.",
        ));
        return None;
    };
    let name = |f: &str| format!("autorisaties.{i}.{f}");
    let component = m.get("component").and_then(Value::as_str).unwrap_or("");
    if component.is_empty() {
        errors.push(InvalidParam::new(
            &name("component"),
            "required",
            "Dit veld is vereist.",
        ));
        return None;
    }
    if !COMPONENTS.contains(&component) {
        errors.push(InvalidParam::new(
            &name("component"),
            "invalid_choice",
            &format!("\"{component}\" is een ongeldige keuze."),
        ));
        return None;
    }
    let scopes: Vec<String> = match m.get("scopes") {
        Some(Value::Array(s)) => s.iter().map(text).collect(),
        _ => {
            errors.push(InvalidParam::new(
                &name("scopes"),
                "required",
                "Dit veld is vereist.",
            ));
            return None;
        }
    };
    let (prefix, fields): (&str, &[&str]) = match component {
        "zrc" => ("zaken.", &["maxVertrouwelijkheidaanduiding", "zaaktype"]),
        "drc" => (
            "documenten.",
            &["maxVertrouwelijkheidaanduiding", "informatieobjecttype"],
        ),
        "brc" => ("besluiten.", &["besluittype"]),
        _ => ("", &[]),
    };
    let mut out = Map::new();
    out.insert("component".into(), json!(component));
    out.insert("scopes".into(), json!(scopes));
    let mut ok = true;
    if let Some(Value::String(va)) = m.get("maxVertrouwelijkheidaanduiding")
        && !va.is_empty()
        && Va::parse(va).is_none()
    {
        errors.push(InvalidParam::new(
            &name("maxVertrouwelijkheidaanduiding"),
            "invalid_choice",
            &format!("\"{va}\" is een ongeldige keuze."),
        ));
        ok = false;
    }
    let needs = !prefix.is_empty() && scopes.iter().any(|s| s.starts_with(prefix));
    for f in fields {
        let v = m.get(*f).and_then(Value::as_str).unwrap_or("");
        if needs && v.is_empty() {
            errors.push(InvalidParam::new(
                &name(f),
                "required",
                &format!("This field is required if `component` is {component}"),
            ));
            ok = false;
        }
        out.insert((*f).to_owned(), json!(v));
    }
    ok.then_some(out)
}

/// `POST /register` (what `{{token-issuer_url}}` is in the GPT Postman suites): stores the
/// Applicatie, records the secret for its client ids and answers with
/// `Authorization: Bearer <jwt>` for the first client id. An applicatie already holding one
/// of the client ids is replaced, so a suite can register again on every run.
pub(crate) fn register(state: &State, req: &Req) -> Out {
    if req.method != Method::POST {
        return Out::Fout(Fout::method_not_allowed(&req.method));
    }
    let body = match req.json_object() {
        Ok(b) => b,
        Err(f) => return Out::Fout(f),
    };
    let secret = body.get("secret").and_then(Value::as_str).unwrap_or("");
    if secret.is_empty() {
        return Out::Fout(Fout::validation(vec![InvalidParam::required("secret")]));
    }
    let mut app_body = body.clone();
    app_body.remove("secret");
    if !app_body.contains_key("label")
        && let Some(first) = body
            .get("clientIds")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
    {
        app_body.insert("label".into(), first.clone());
    }
    let mut store = state.write();
    let ids: Vec<String> = body
        .get("clientIds")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(text).collect())
        .unwrap_or_default();
    // Replace what these client ids belonged to.
    let mut freed: Vec<(u32, Option<Applicatie>)> = Vec::new();
    let holders: Vec<u32> = store
        .applicaties
        .iter()
        .filter(|(_, a)| a.client_ids.iter().any(|c| ids.contains(c)))
        .map(|(s, _)| s)
        .collect();
    for slot in holders {
        freed.push((slot, store.applicaties.get(slot).cloned()));
        store.applicaties.remove(slot);
    }
    let mut app = match validate(&store, &app_body, None, false) {
        Ok(a) => a,
        Err(f) => {
            for (_, old) in freed.into_iter().rev() {
                if let Some(old) = old {
                    store.applicaties.insert(old);
                }
            }
            return Out::Fout(f);
        }
    };
    for (_, old) in &mut freed {
        if let Some(old) = old {
            old.client_ids.retain(|c| !ids.contains(c));
            if !old.client_ids.is_empty() {
                store.applicaties.insert(old.clone());
            }
        }
    }
    for id in &ids {
        store.secrets.insert(id.clone(), secret.to_owned());
    }
    let client_id = ids.first().cloned().unwrap_or_default();
    app.uuid = store.new_uuid();
    let slot = store.applicaties.insert(app);
    let out = store.render(&req.ctx, Kind::Applicatie, slot);
    let url = store.url_of(&req.ctx, Kind::Applicatie, slot);
    drop(store);
    state.notifier.applicatie(&url, "create");
    let Some(token) = super::auth::mint(&client_id, secret) else {
        return Out::Fout(Fout::new(
            500,
            "error",
            "Token kon niet worden gemaakt.",
            "APIException",
        ));
    };
    Out::created(out.unwrap_or(Value::Null))
        .header("authorization", format!("Bearer {token}"))
        .header("access-control-expose-headers", "Authorization".to_owned())
}

/// Replaces all applicaties with `list` (handle API). Items may carry a `url` whose UUID is
/// kept; returns the notifications to send as (url, actie).
pub(crate) fn replace_all(
    store: &mut Store,
    ctx: &Ctx,
    list: &[Value],
) -> Result<Vec<(String, &'static str)>, Fout> {
    let old: Vec<Applicatie> = store.applicaties.iter().map(|(_, a)| a.clone()).collect();
    store.applicaties.clear();
    let mut events = Vec::new();
    for item in list {
        let Value::Object(body) = item else {
            store.applicaties.clear();
            for a in old {
                store.applicaties.insert(a);
            }
            return Err(Fout::validation(vec![InvalidParam::new(
                "nonFieldErrors",
                "invalid",
                "Elke applicatie moet een object zijn.",
            )]));
        };
        let wanted = body
            .get("url")
            .and_then(Value::as_str)
            .and_then(|u| u.rsplit('/').next())
            .and_then(Uuid::parse);
        match validate(store, body, None, false) {
            Ok(mut app) => {
                app.uuid = match wanted {
                    Some(u) if store.applicaties.slot(u).is_none() => u,
                    _ => store.new_uuid(),
                };
                let existed = old.iter().any(|o| o.uuid == app.uuid);
                events.push((
                    ctx.url(Kind::Applicatie, app.uuid),
                    if existed { "update" } else { "create" },
                ));
                store.applicaties.insert(app);
            }
            Err(f) => {
                store.applicaties.clear();
                for a in old {
                    store.applicaties.insert(a);
                }
                return Err(f);
            }
        }
    }
    for o in &old {
        if store.applicaties.slot(o.uuid).is_none() {
            events.push((ctx.url(Kind::Applicatie, o.uuid), "destroy"));
        }
    }
    Ok(events)
}
