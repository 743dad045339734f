//! The filter phase of the ZGW adapter: reads decided on what came back, lists assembled
//! from segments or scans and re-paginated, `_expand` objects checked one by one, the rules'
//! withheld records and field levels applied, URLs mapped to sluis's public base, and the
//! persons in rollen and zaakobjecten named as data subjects.

use std::collections::HashMap;

use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue, LOCATION};
use serde_json::{Map, Value, json};

use super::*;
use crate::adapter::UpstreamRequest;

/// The singular resource of an `_expand` member.
fn expand_resource(key: &str) -> &'static str {
    match key {
        "rollen" => "rol",
        "zaakobjecten" => "zaakobject",
        "zaakinformatieobjecten" => "zaakinformatieobject",
        "status" | "statussen" => "status",
        "resultaat" => "resultaat",
        "eigenschappen" | "zaakeigenschappen" => "zaakeigenschap",
        "informatieobject" => "enkelvoudiginformatieobject",
        "deelzaken" | "hoofdzaak" | "relevanteAndereZaken" => "zaak",
        "zaaktype" => "zaaktype",
        "statustype" => "statustype",
        "roltype" => "roltype",
        "resultaattype" => "resultaattype",
        "klantcontacten" => "klantcontact",
        _ => "",
    }
}

/// The kind of a (main) object by its members.
fn kind_of(obj: &Value) -> Option<Kind> {
    let has = |k: &str| obj.get(k).is_some();
    if has("zaaktype") && has("vertrouwelijkheidaanduiding") && has("identificatie") {
        Some(ZAAK)
    } else if has("informatieobjecttype") && has("vertrouwelijkheidaanduiding") {
        Some(DOCUMENT)
    } else if has("besluittype") && has("identificatie") {
        Some(BESLUIT)
    } else {
        None
    }
}

/// One record as the caller may see it, with what the record phase needs.
#[derive(Debug, Default)]
struct Shaped {
    subjects: Vec<SubjectHit>,
    removed: Vec<String>,
    withheld: u64,
}

impl ZgwAdapter {
    pub(super) async fn deliver(
        &self,
        ctx: &mut RequestContext,
        grant: Grant,
        answer: Answer,
        lookup: Lookup<'_>,
    ) -> Result<Delivery, ProxyError> {
        match grant {
            Grant::Empty { op } => {
                let doc = json!({"count": 0, "next": null, "previous": null, "results": []});
                let _ = op;
                let mut d = Delivery::json("application/json", &doc)?;
                d.records = 0;
                Ok(d)
            }
            Grant::Forwarded {
                caller,
                op,
                check,
                main,
                roles,
            } => {
                self.deliver_forwarded(ctx, caller, op, check, main, roles, answer)
                    .await
            }
            Grant::List { caller, op, plan } => {
                let (doc, main_of) = match plan {
                    ListPlan::Segments { segments, page } => (
                        self.segments(ctx, &lookup, &caller, &segments, page)
                            .await?,
                        Vec::new(),
                    ),
                    ListPlan::Scan {
                        path,
                        query,
                        kind,
                        link,
                        expr,
                        page,
                        body,
                    } => {
                        let scan = Scan {
                            path: &path,
                            query: &query,
                            kind,
                            link,
                            expr: &expr,
                            page,
                            body: body.as_ref(),
                        };
                        self.scan(ctx, &lookup, &caller, &op, scan).await?
                    }
                };
                self.list_delivery(ctx, &caller, &op, doc, main_of)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn deliver_forwarded(
        &self,
        ctx: &mut RequestContext,
        caller: Caller,
        op: Operation,
        check: Check,
        mut main: Option<(Kind, Facts)>,
        mut roles: Vec<String>,
        answer: Answer,
    ) -> Result<Delivery, ProxyError> {
        let headers = passed_headers(&answer, &self.shared.urls);
        if let Some(stream) = answer.stream {
            // A download: decided before it was asked for; the bytes pass as they arrive.
            return Ok(Delivery {
                status: answer.status,
                content_type: "application/octet-stream",
                body: Bytes::new(),
                stream: Some(stream),
                headers,
                records: 1,
                subjects: Vec::new(),
                fields_delivered: Vec::new(),
                stripped: Vec::new(),
                stripped_count: 0,
            });
        }
        if answer.body.is_empty() || answer.status == 204 {
            let mut d = Delivery::json("application/json", &Value::Null)?;
            d.body = Bytes::new();
            d.status = answer.status;
            d.headers = headers;
            return Ok(d);
        }
        let mut body = answer.json()?;
        match check {
            Check::Decided => {}
            Check::Main(kind) => {
                let f = facts(kind, &body)?;
                ctx.trail.case_ref = f.identificatie.clone();
                let expr = self.expression(&op);
                roles = self
                    .decide_object(ctx, &caller, kind, &expr, &f, op.action)
                    .await?;
                main = Some((kind, f));
            }
            Check::Linked(kind, field) => {
                let url = body
                    .get(field)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        ProxyError::Upstream(UpstreamFault::Unusable(format!(
                            "the object has no {field}"
                        )))
                    })?;
                let f = self.main_facts(ctx, kind, &url, None).await?;
                ctx.trail.case_ref = f.identificatie.clone();
                let expr = self.expression(&op);
                roles = self
                    .decide_object(ctx, &caller, kind, &expr, &f, op.action)
                    .await?;
                main = Some((kind, f));
            }
        }
        let role = SubjectRole::Geraadpleegd;
        let mut shaped = Shaped::default();
        let mut records = 1u64;
        if let Some(items) = body.get_mut("results").and_then(Value::as_array_mut) {
            // A list passed through (superuser, or narrowed to one authorized object).
            let taken = std::mem::take(items);
            let mut kept = Vec::new();
            for mut item in taken {
                let f = main.as_ref().map(|(k, f)| (*k, f.clone()));
                if self.shape(
                    &caller,
                    op.resource,
                    f.as_ref(),
                    &roles,
                    &mut item,
                    SubjectRole::GevondenInZoekresultaat,
                    &mut shaped,
                ) {
                    kept.push(item);
                }
            }
            records = kept.len() as u64;
            if let Some(items) = body.get_mut("results") {
                *items = Value::Array(kept);
            }
        } else {
            let f = main.as_ref().map(|(k, f)| (*k, f.clone()));
            if !self.shape(
                &caller,
                op.resource,
                f.as_ref(),
                &roles,
                &mut body,
                role,
                &mut shaped,
            ) {
                return Err(ZgwDenial::forbidden(
                    "The rules withhold this object from the caller.",
                ));
            }
        }
        self.shared.urls.rewrite_out(&mut body);
        let mut d = Delivery::json("application/json", &body)?;
        d.status = answer.status;
        d.headers = headers;
        d.records = records;
        self.finish(ctx, &mut d, shaped);
        Ok(d)
    }

    fn finish(&self, ctx: &mut RequestContext, d: &mut Delivery, shaped: Shaped) {
        d.subjects = shaped.subjects;
        if shaped.withheld > 0 {
            ctx.trail.reasons.push(format!(
                "{} record(s) withheld by the rules",
                shaped.withheld
            ));
        }
        let mut removed = shaped.removed;
        removed.sort();
        removed.dedup();
        ctx.trail.field_levels = crate::context::bounded_list(
            removed
                .iter()
                .map(|p| format!("{p}=projected"))
                .collect::<Vec<_>>()
                .iter(),
        );
        // The request's own BSN filters name the person searched for.
        if let Some(q) = ctx.request.query.as_deref() {
            for part in q.split('&') {
                if let Some((k, v)) = part.split_once('=')
                    && k.ends_with("natuurlijkPersoon__inpBsn")
                    && !v.is_empty()
                    && !d.subjects.iter().any(|s| s.value == v)
                {
                    d.subjects.push(SubjectHit {
                        id_type: "BSN".into(),
                        value: v.to_owned(),
                        role: SubjectRole::Geraadpleegd,
                        flags: vec!["searched".into()],
                    });
                }
            }
        }
    }

    /// Applies the rules to one record (and its `_expand`): false when it is withheld.
    #[allow(clippy::too_many_arguments)]
    fn shape(
        &self,
        caller: &Caller,
        resource: &str,
        main: Option<&(Kind, Facts)>,
        roles: &[String],
        record: &mut Value,
        role: SubjectRole,
        out: &mut Shaped,
    ) -> bool {
        let superuser = caller.superuser();
        // The record's own facts when it is a main object, else its main object's.
        let own = kind_of(record).and_then(|k| facts(k, record).ok().map(|f| (k, f)));
        let facts_for = own.as_ref().or(main);
        let scopes = match facts_for {
            Some((k, f)) => caller.holder_scopes(*k, f),
            None => caller.token_scopes.clone(),
        };
        let holder = Holder {
            scopes: &scopes,
            roles,
        };
        let mut found = Vec::new();
        subjects_in(record, &mut found);
        if !superuser && self.shared.rules.withheld(resource, record, &holder) {
            out.withheld += 1;
            for (id_type, value) in found {
                out.subjects.push(SubjectHit {
                    id_type,
                    value,
                    role,
                    flags: vec!["withheld".into()],
                });
            }
            return false;
        }
        for (id_type, value) in found {
            if !out.subjects.iter().any(|s| s.value == value) {
                out.subjects.push(SubjectHit {
                    id_type,
                    value,
                    role,
                    flags: Vec::new(),
                });
            }
        }
        if !superuser {
            self.expand(caller, record, roles, role, out);
            let plan = self.shared.rules.plan(resource, &holder);
            if !plan.is_identity() {
                let mut seed = [0u8; 32];
                let _ = getrandom::fill(&mut seed);
                let mut projector = Projector::new(&self.encoding_key, seed);
                let p = sluis_zgw::rules::project(&plan, record, &mut projector, &self.api);
                out.removed
                    .extend(p.removed.into_iter().map(|r| format!("{resource}.{r}")));
                out.removed
                    .extend(p.changed.into_iter().map(|r| format!("{resource}.{r}")));
            }
        }
        true
    }

    /// Every object inlined by `expand` goes through the full object rule (C8 rule 36): a
    /// zaak, document or besluit the caller may not read is removed, the others shaped as
    /// their own resource.
    fn expand(
        &self,
        caller: &Caller,
        record: &mut Value,
        roles: &[String],
        role: SubjectRole,
        out: &mut Shaped,
    ) {
        let Some(Value::Object(ex)) = record.get_mut("_expand") else {
            return;
        };
        let keys: Vec<String> = ex.keys().cloned().collect();
        for key in keys {
            let resource = expand_resource(&key);
            let Some(v) = ex.get_mut(&key) else { continue };
            match v {
                Value::Array(items) => {
                    let taken = std::mem::take(items);
                    for mut item in taken {
                        if self.expanded_ok(caller, &item)
                            && self.shape(caller, resource, None, roles, &mut item, role, out)
                        {
                            items.push(item);
                        }
                    }
                }
                Value::Object(_) => {
                    let mut item = std::mem::take(v);
                    if self.expanded_ok(caller, &item)
                        && self.shape(caller, resource, None, roles, &mut item, role, out)
                    {
                        *v = item;
                    } else {
                        *v = Value::Null;
                    }
                }
                _ => {}
            }
        }
    }

    fn expanded_ok(&self, caller: &Caller, obj: &Value) -> bool {
        let Ok(client) = caller.client() else {
            return false;
        };
        match kind_of(obj) {
            Some(kind) => facts(kind, obj).is_ok_and(|f| {
                client.allows(
                    kind.component,
                    &ScopeExpr::scope(kind.read_scope),
                    &f.type_url,
                    f.va,
                ) && !(kind == DOCUMENT
                    && client.alleen_gereed_voor_publicatie()
                    && f.gereed == Some(false))
            }),
            None => true,
        }
    }

    /// A list document (count, next, previous, results) shaped for the caller.
    fn list_delivery(
        &self,
        ctx: &mut RequestContext,
        caller: &Caller,
        op: &Operation,
        mut doc: Value,
        main_of: Vec<Option<(Kind, Facts)>>,
    ) -> Result<Delivery, ProxyError> {
        let mut shaped = Shaped::default();
        let mut records = 0u64;
        let mut withheld_here = 0u64;
        if let Some(items) = doc.get_mut("results").and_then(Value::as_array_mut) {
            let taken = std::mem::take(items);
            for (i, mut item) in taken.into_iter().enumerate() {
                let main = main_of.get(i).cloned().flatten();
                if self.shape(
                    caller,
                    op.resource,
                    main.as_ref(),
                    &[],
                    &mut item,
                    SubjectRole::GevondenInZoekresultaat,
                    &mut shaped,
                ) {
                    items.push(item);
                    records += 1;
                } else {
                    withheld_here += 1;
                }
            }
        }
        if withheld_here > 0 {
            // Records the rules withhold leave the page; the count says what was delivered
            // less (documented deviation: the rules do not re-paginate).
            if let Some(c) = doc.get_mut("count")
                && let Some(n) = c.as_u64()
            {
                *c = json!(n.saturating_sub(withheld_here));
            }
        }
        self.shared.urls.rewrite_out(&mut doc);
        let mut d = Delivery::json("application/json", &doc)?;
        d.records = records;
        self.finish(ctx, &mut d, shaped);
        Ok(d)
    }

    /// A public link to `page` of this list (the caller's query kept, `page` replaced).
    fn page_link(&self, ctx: &RequestContext, page: usize) -> Value {
        let mut q: Vec<String> = ctx
            .request
            .query
            .as_deref()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("page="))
            .map(str::to_owned)
            .collect();
        q.push(format!("page={page}"));
        json!(format!(
            "{}{}?{}",
            self.public_base,
            ctx.request
                .path
                .strip_prefix(self.public_path())
                .unwrap_or(""),
            q.join("&")
        ))
    }

    fn public_path(&self) -> &str {
        // The mount prefix: the public base without scheme and authority.
        self.public_base
            .splitn(4, '/')
            .nth(3)
            .map(|p| &self.public_base[self.public_base.len() - p.len() - 1..])
            .unwrap_or("")
    }

    fn assembled(
        &self,
        ctx: &RequestContext,
        count: usize,
        page: usize,
        results: Vec<Value>,
    ) -> Result<Value, ProxyError> {
        let size = self.shared.settings.page_size;
        let last = count.div_ceil(size).max(1);
        if page > last {
            return Err(ZgwDenial::invalid("page", "not_found", "Ongeldige pagina."));
        }
        Ok(json!({
            "count": count,
            "next": if page < last { self.page_link(ctx, page + 1) } else { Value::Null },
            "previous": if page > 1 { self.page_link(ctx, page - 1) } else { Value::Null },
            "results": results,
        }))
    }

    /// A `_zoek` page of one segment.
    async fn search_page(
        &self,
        ctx: &mut RequestContext,
        lookup: &Lookup<'_>,
        caller: &Caller,
        body: &Map<String, Value>,
        page: usize,
    ) -> Result<Value, ProxyError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ProxyError::Internal(e.to_string()))?;
        let mut headers = Vec::new();
        for h in ["accept-crs", "content-crs"] {
            if let Some(v) = ctx.request.headers.get(h) {
                headers.push((HeaderName::from_static(h), v.clone()));
            }
        }
        if !headers.iter().any(|(k, _)| k == "accept-crs") {
            headers.push((
                HeaderName::from_static("accept-crs"),
                HeaderValue::from_static("EPSG:4326"),
            ));
        }
        if !headers.iter().any(|(k, _)| k == "content-crs") {
            headers.push((
                HeaderName::from_static("content-crs"),
                HeaderValue::from_static("EPSG:4326"),
            ));
        }
        let request = UpstreamRequest {
            method: Method::POST,
            path_and_query: format!("/zaken/_zoek?page={page}"),
            body: Some(Bytes::from(bytes)),
            headers,
            on_behalf_of: caller.on_behalf.clone(),
            stream: false,
        };
        lookup.send(ctx, &request).await?.json()
    }

    /// Concatenates exact upstream searches and cuts the caller's page out of them.
    async fn segments(
        &self,
        ctx: &mut RequestContext,
        lookup: &Lookup<'_>,
        caller: &Caller,
        segments: &[Map<String, Value>],
        page: usize,
    ) -> Result<Value, ProxyError> {
        if let [only] = segments {
            // One search: the upstream's page is the caller's page.
            let mut doc = self.search_page(ctx, lookup, caller, only, page).await?;
            let next = doc.get("next").is_some_and(|n| !n.is_null());
            let prev = page > 1;
            if let Value::Object(m) = &mut doc {
                m.insert(
                    "next".into(),
                    if next {
                        self.page_link(ctx, page + 1)
                    } else {
                        Value::Null
                    },
                );
                m.insert(
                    "previous".into(),
                    if prev {
                        self.page_link(ctx, page - 1)
                    } else {
                        Value::Null
                    },
                );
            }
            return Ok(doc);
        }
        let size = self.shared.settings.page_size;
        // Page 1 of each segment gives its count and the upstream's page size.
        let mut firsts = Vec::new();
        for s in segments {
            firsts.push(self.search_page(ctx, lookup, caller, s, 1).await?);
        }
        let counts: Vec<usize> = firsts
            .iter()
            .map(|d| d.get("count").and_then(Value::as_u64).unwrap_or(0) as usize)
            .collect();
        let total: usize = counts.iter().sum();
        let start = (page - 1) * size;
        let end = start + size;
        let mut results = Vec::new();
        let mut offset = 0usize;
        for (i, s) in segments.iter().enumerate() {
            let c = counts.get(i).copied().unwrap_or(0);
            let (a, b) = (start.max(offset), end.min(offset + c));
            if a < b {
                let first = firsts.get(i).cloned().unwrap_or(Value::Null);
                let up_size = {
                    let n = results_len(&first);
                    if first.get("next").is_some_and(|n| !n.is_null()) && n > 0 {
                        n
                    } else {
                        n.max(1)
                    }
                };
                let (la, lb) = (a - offset, b - offset);
                let mut p = la / up_size + 1;
                while (p - 1) * up_size < lb {
                    let doc = if p == 1 {
                        first.clone()
                    } else {
                        self.search_page(ctx, lookup, caller, s, p).await?
                    };
                    for (j, item) in super::results(&doc).iter().enumerate() {
                        let idx = (p - 1) * up_size + j;
                        if idx >= la && idx < lb {
                            results.push(item.clone());
                        }
                    }
                    p += 1;
                }
            }
            offset += c;
        }
        self.assembled(ctx, total, page, results)
    }

    /// Reads a list the upstream cannot filter for this caller, keeps what the caller may
    /// see and paginates it here.
    async fn scan(
        &self,
        ctx: &mut RequestContext,
        lookup: &Lookup<'_>,
        caller: &Caller,
        op: &Operation,
        scan: Scan<'_>,
    ) -> Result<(Value, Vec<Option<(Kind, Facts)>>), ProxyError> {
        let Scan {
            path,
            query,
            kind,
            link,
            expr,
            page,
            body,
        } = scan;
        let mut q: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        q.push(String::new());
        let mut kept: Vec<(Value, Option<(Kind, Facts)>)> = Vec::new();
        let mut decided: HashMap<String, Option<Facts>> = HashMap::new();
        let mut upstream_page = 1usize;
        loop {
            if let Some(last) = q.last_mut() {
                *last = format!("page={upstream_page}");
            }
            let at = format!("{path}?{}", q.join("&"));
            let doc = match body {
                Some(b) => lookup.post_json(ctx, &at, b).await?,
                None => zgw_get(lookup, ctx, &at).await?,
            };
            for item in super::results(&doc) {
                let f = match link {
                    None => facts(kind, item).ok(),
                    Some(field) => {
                        let Some(url) = item.get(field).and_then(Value::as_str) else {
                            continue;
                        };
                        let key = UrlMap::normalize(url);
                        if let Some(d) = decided.get(&key) {
                            d.clone()
                        } else {
                            let f = self.main_facts(ctx, kind, &key, None).await.ok();
                            decided.insert(key, f.clone());
                            f
                        }
                    }
                };
                let Some(f) = f else { continue };
                let key = format!("allowed:{}", f.url);
                let ok = match decided.get(&key) {
                    Some(d) => d.is_some(),
                    None => {
                        let ok = self
                            .decide_object(ctx, caller, kind, expr, &f, op.action)
                            .await
                            .is_ok();
                        decided.insert(key, ok.then(|| f.clone()));
                        ok
                    }
                };
                if ok {
                    kept.push((item.clone(), Some((kind, f))));
                }
            }
            if doc.get("next").is_none_or(Value::is_null) {
                break;
            }
            upstream_page += 1;
            if upstream_page > self.shared.settings.max_scan_pages {
                return Err(ZgwDenial::TooBroad {
                    pages: self.shared.settings.max_scan_pages,
                    hint: "narrow it (for nested objects: filter on zaak or informatieobject)",
                }
                .into_error());
            }
        }
        let size = self.shared.settings.page_size;
        let total = kept.len();
        let (items, mains): (Vec<Value>, Vec<Option<(Kind, Facts)>>) =
            kept.into_iter().skip((page - 1) * size).take(size).unzip();
        Ok((self.assembled(ctx, total, page, items)?, mains))
    }
}

/// What a scan reads.
struct Scan<'s> {
    path: &'s str,
    query: &'s [(String, String)],
    kind: Kind,
    link: Option<&'static str>,
    expr: &'s ScopeExpr,
    page: usize,
    body: Option<&'s Value>,
}

fn results_len(doc: &Value) -> usize {
    super::results(doc).len()
}

/// Response headers passed back, with URLs mapped to the public base.
fn passed_headers(answer: &Answer, urls: &UrlMap) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = Vec::new();
    for h in PASSED_RESPONSE_HEADERS {
        // A JSON body is rewritten here: only a streamed body keeps the upstream's length.
        if h == "content-length" && answer.stream.is_none() {
            continue;
        }
        if let Some(v) = answer.headers.get(h) {
            out.push((HeaderName::from_static(h), v.clone()));
        }
    }
    if answer.stream.is_some()
        && let Some(v) = answer.headers.get(CONTENT_TYPE)
    {
        out.push((CONTENT_TYPE, v.clone()));
    }
    if let Some(loc) = answer.headers.get(LOCATION).and_then(|v| v.to_str().ok()) {
        let public = urls.to_public(loc).unwrap_or_else(|| loc.to_owned());
        if let Ok(v) = HeaderValue::from_str(&public) {
            out.push((LOCATION, v));
        }
    }
    out
}

/// The persons an object names by BSN: natuurlijk_persoon rollen and zaakobjecten.
fn subjects_in(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            let np = |k: &str| m.get(k).and_then(Value::as_str) == Some("natuurlijk_persoon");
            if np("betrokkeneType") || np("objectType") {
                for ident in ["betrokkeneIdentificatie", "objectIdentificatie"] {
                    if let Some(bsn) = m
                        .get(ident)
                        .and_then(|i| i.get("inpBsn"))
                        .and_then(Value::as_str)
                        .filter(|b| !b.is_empty())
                        && !out.iter().any(|(_, x)| x == bsn)
                    {
                        out.push(("BSN".into(), bsn.to_owned()));
                    }
                }
            }
            for child in m.values() {
                subjects_in(child, out);
            }
        }
        Value::Array(items) => {
            for i in items {
                subjects_in(i, out);
            }
        }
        _ => {}
    }
}
