//! The ZGW adapter: one mount per component (Zaken, Documenten, Catalogi, Besluiten) in front
//! of any ZGW implementation (Open Zaak in practice).
//!
//! Per request: route to the OAS operation and its scope expression (`sluis_zgw::ops`), find
//! the caller's Applicatie (compiled grants), and decide at three levels:
//! - **operation**: the scope expression (widened by the rules' extra scopes) against the
//!   union of the scopes of the autorisaties that match the object (rule 12), or for lists
//!   any autorisatie of the component (rule 15);
//! - **record**: lists are filtered at the source where the upstream can (`POST /zaken/_zoek`
//!   with `zaaktype__in` and `maximaleVertrouwelijkheidaanduiding` per group of zaaktypen that
//!   share a maximum; the user's zaken as `uuid__in` where involvement is required) and
//!   otherwise read and filtered here and re-paginated, so `count`, `next` and `previous` stay
//!   true; details are checked against the object (or its zaak / document) and give 403 when
//!   it exists and may not be seen; creates against the body and the *effective*
//!   confidentiality; closed-zaak and reopen rules; `_zoek`, `expand` and audit-trail reads
//!   through the same decisions; the user's rol on the zaak where the rules require it;
//! - **attribute**: the rules' field levels, withheld objects and write limits.
//!
//! sluis forwards with its own credentials (`zgw_jwt`), naming the end user in them, maps
//! URLs between its public base and the upstreams' both ways, and names the persons in rollen
//! and zaakobjecten as the data subjects of the processing, the zaak's identificatie as its
//! case.

mod problem;
pub mod state;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use hyper::Method;
use hyper::header::HeaderName;
use serde_json::{Map, Value, json};
use sluis_audit::SubjectRole;
use sluis_policy::{EncodingKey, Projector};
use sluis_token::Principal;
use sluis_zgw::rules::Holder;
use sluis_zgw::{Action, ClientGrants, Component, Grants, ListScope, Main, Operation, ScopeExpr};
use sluis_zgw::{RouteError, UrlMap, Vertrouwelijkheid};

pub use problem::ZgwDenial;
pub use state::ZgwShared;

use super::{Adapter, Answer, Authorized, BoxFuture, Delivery, Lookup, OnBehalfOf};
use crate::context::{RequestContext, SubjectHit, bounded};
use crate::error::{ProxyError, RequestFault, UpstreamFault};

/// Request headers passed on to the upstream (the ZGW API headers).
const PASSED_REQUEST_HEADERS: [&str; 4] = [
    "accept-crs",
    "content-crs",
    "x-audit-toelichting",
    "if-none-match",
];
/// Response headers passed back.
const PASSED_RESPONSE_HEADERS: [&str; 6] = [
    "content-crs",
    "etag",
    "api-version",
    "content-disposition",
    "content-length",
    "last-modified",
];

/// The main objects ZGW authorizes by type (and confidentiality).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    component: Component,
    type_field: &'static str,
    has_va: bool,
    /// The scope a read of the object needs (for expand and audit-trail checks).
    read_scope: &'static str,
    /// The collection path segment of the object, e.g. `/zaken/`.
    collection: &'static str,
}

const ZAAK: Kind = Kind {
    component: Component::Zaken,
    type_field: "zaaktype",
    has_va: true,
    read_scope: "zaken.lezen",
    collection: "/zaken/",
};
const DOCUMENT: Kind = Kind {
    component: Component::Documenten,
    type_field: "informatieobjecttype",
    has_va: true,
    read_scope: "documenten.lezen",
    collection: "/enkelvoudiginformatieobjecten/",
};
const BESLUIT: Kind = Kind {
    component: Component::Besluiten,
    type_field: "besluittype",
    has_va: false,
    read_scope: "besluiten.lezen",
    collection: "/besluiten/",
};

/// The main object an operation is decided on, and whether the operation's object is that
/// object itself or links to it.
fn main_kind(main: Main) -> Option<(Kind, bool)> {
    match main {
        Main::Zaak => Some((ZAAK, true)),
        Main::ViaZaak | Main::ZaakInPath => Some((ZAAK, false)),
        Main::Informatieobject => Some((DOCUMENT, true)),
        Main::ViaInformatieobject | Main::InformatieobjectInPath => Some((DOCUMENT, false)),
        Main::Besluit => Some((BESLUIT, true)),
        Main::ViaBesluit | Main::BesluitInPath => Some((BESLUIT, false)),
        Main::Bestandsdeel | Main::ScopeOnly => None,
    }
}

/// What sluis knows of a main object (a zaak, document or besluit).
#[derive(Debug, Clone)]
pub struct Facts {
    /// Its URL in upstream form.
    url: String,
    type_url: String,
    va: Option<Vertrouwelijkheid>,
    /// A zaak with an einddatum (closed by an eindstatus).
    closed: bool,
    /// A zaak with a status.
    has_status: bool,
    identificatie: Option<String>,
    /// A document's `isGereedVoorPublicatie`.
    gereed: Option<bool>,
}

fn facts(kind: Kind, obj: &Value) -> Result<Facts, ProxyError> {
    let unusable = |what: &str| {
        ProxyError::Upstream(UpstreamFault::Unusable(format!(
            "a {} without {what}",
            kind.type_field.trim_end_matches("type")
        )))
    };
    let url = obj
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| unusable("url"))?;
    let type_url = obj
        .get(kind.type_field)
        .and_then(Value::as_str)
        .ok_or_else(|| unusable(kind.type_field))?;
    let va = if kind.has_va {
        Some(
            obj.get("vertrouwelijkheidaanduiding")
                .and_then(Value::as_str)
                .and_then(Vertrouwelijkheid::parse)
                .ok_or_else(|| unusable("vertrouwelijkheidaanduiding"))?,
        )
    } else {
        None
    };
    let nonempty = |k: &str| obj.get(k).is_some_and(|v| !v.is_null() && v != "");
    Ok(Facts {
        url: UrlMap::normalize(url),
        type_url: UrlMap::normalize(type_url),
        va,
        closed: kind == ZAAK && nonempty("einddatum"),
        has_status: kind == ZAAK && nonempty("status"),
        identificatie: obj
            .get("identificatie")
            .and_then(Value::as_str)
            .map(str::to_owned),
        gereed: obj.get("isGereedVoorPublicatie").and_then(Value::as_bool),
    })
}

/// Who calls, as the ZGW decisions need it.
#[derive(Debug, Clone)]
pub struct Caller {
    grants: Arc<Grants>,
    client_id: String,
    token_scopes: Vec<String>,
    /// The user, when the IdP (or a trusted client) vouches for it.
    verified_user: Option<String>,
    /// The end user sluis names in its own upstream token (as recorded; the display name from
    /// `user_representation` or `name` when the token has one).
    on_behalf: Option<OnBehalfOf>,
}

impl Caller {
    fn client(&self) -> Result<&ClientGrants, ProxyError> {
        self.grants
            .client(&self.client_id)
            .ok_or_else(|| ZgwDenial::NoApplicatie.into_error())
    }

    /// The scopes the attribute rules see for an object: the Applicatie's for its type and
    /// confidentiality, and the token's.
    fn holder_scopes(&self, kind: Kind, f: &Facts) -> Vec<String> {
        let mut s = self
            .client()
            .map(|c| c.scopes_for(kind.component, &f.type_url, f.va))
            .unwrap_or_default();
        s.extend(self.token_scopes.iter().cloned());
        s.sort();
        s.dedup();
        s
    }

    fn superuser(&self) -> bool {
        self.client().is_ok_and(ClientGrants::superuser)
    }
}

/// The route: the OAS operation.
#[derive(Debug)]
pub struct ZgwRoute {
    op: Operation,
}

/// What filter needs.
#[derive(Debug)]
pub enum Grant {
    /// The request went upstream; the answer is projected, and for reads first checked
    /// against its main object (`check`).
    Forwarded {
        caller: Caller,
        op: Operation,
        check: Check,
        /// The main object, when authorize read it.
        main: Option<(Kind, Facts)>,
        roles: Vec<String>,
    },
    /// A list sluis assembles: from pushed-down segments, or by scanning and filtering.
    List {
        caller: Caller,
        op: Operation,
        plan: ListPlan,
    },
    /// A list that is empty by authorization (e.g. `?zaak=` names a zaak the caller may not
    /// see: 200 with nothing, as the standard does).
    Empty { op: Operation },
}

/// What filter checks on a forwarded read.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// Nothing more (decided before forwarding, or scope only).
    Decided,
    /// The answer is the main object: check it.
    Main(Kind),
    /// The answer links to its main object (field): read and check that.
    Linked(Kind, &'static str),
}

/// How a list is assembled.
#[derive(Debug)]
pub enum ListPlan {
    /// Exact upstream searches (`POST /zaken/_zoek` bodies), concatenated in order.
    Segments {
        segments: Vec<Map<String, Value>>,
        page: usize,
    },
    /// Upstream pages of `path` (with its query, without `page`) read and filtered here.
    Scan {
        path: String,
        query: Vec<(String, String)>,
        kind: Kind,
        link: Option<&'static str>,
        expr: ScopeExpr,
        page: usize,
        /// A search's body (`POST .../_zoek`), sent with every page.
        body: Option<Value>,
    },
}

/// The ZGW adapter of one component.
#[derive(Debug)]
pub struct ZgwAdapter {
    component: Component,
    shared: Arc<ZgwShared>,
    /// sluis's public base of this mount (links are built on it).
    public_base: String,
    api: String,
    encoding_key: EncodingKey,
}

impl ZgwAdapter {
    pub fn new(
        component: Component,
        shared: Arc<ZgwShared>,
        public_base: String,
        api: String,
        encoding_key: EncodingKey,
    ) -> Self {
        ZgwAdapter {
            component,
            shared,
            public_base,
            api,
            encoding_key,
        }
    }

    fn caller(&self, ctx: &RequestContext, principal: &Principal) -> Result<Caller, ProxyError> {
        let client_id = principal
            .client_id
            .clone()
            .ok_or_else(|| ZgwDenial::NoApplicatie.into_error())?;
        let verified = self
            .shared
            .user_is_verified(&principal.issuer, principal.client_id.as_deref());
        let verified_user = match ctx.trail.user_source {
            Some(crate::context::UserSource::TrustedHeader) => ctx.trail.user.clone(),
            Some(crate::context::UserSource::Token) if verified => ctx.trail.user.clone(),
            _ => None,
        };
        let on_behalf = ctx.trail.user.clone().map(|user| OnBehalfOf {
            user_representation: ["user_representation", "name"]
                .iter()
                .find_map(|k| principal.claims.get(*k).and_then(Value::as_str))
                .filter(|s| !s.is_empty())
                .map(bounded)
                .unwrap_or_else(|| user.clone()),
            user_id: user,
        });
        Ok(Caller {
            grants: self.shared.grants(),
            client_id,
            token_scopes: principal.scopes.clone(),
            verified_user,
            on_behalf,
        })
    }

    /// The operation's scope expression widened by the rules' extra scopes.
    fn expression(&self, op: &Operation) -> ScopeExpr {
        let mut expr = op.scope.clone();
        for s in self
            .shared
            .rules
            .extra_scopes(op.resource, op.action.as_str())
        {
            expr = expr.or(ScopeExpr::scope(s));
        }
        expr
    }

    /// A fixed expression, e.g. a read scope.
    fn fixed(&self, label: &str) -> ScopeExpr {
        ScopeExpr::scope(label)
    }

    /// The caller's query as (name, value) pairs, percent-decoded, public URLs mapped to the
    /// upstream's.
    fn query_pairs(&self, ctx: &RequestContext) -> Result<Vec<(String, String)>, ProxyError> {
        let Some(q) = ctx.request.query.as_deref() else {
            return Ok(Vec::new());
        };
        let mapped = self.shared.urls.rewrite_query_in(q);
        let mut out = Vec::new();
        for part in mapped.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| ProxyError::BadRequest(RequestFault::QueryNotUtf8))
            };
            out.push((dec(k)?, dec(v)?));
        }
        for (k, _) in &out {
            ctx_param_names_ok(k)?;
        }
        Ok(out)
    }

    /// The request body as JSON, public URLs mapped to the upstream's.
    fn body_in(&self, ctx: &RequestContext) -> Result<Value, ProxyError> {
        let mut v: Value = serde_json::from_slice(&ctx.request.body).map_err(|e| {
            ZgwDenial::invalid("body", "parse_error", format!("the body is not JSON: {e}"))
        })?;
        self.shared.urls.rewrite_in(&mut v);
        Ok(v)
    }

    /// Reads a main object by its (upstream) URL through the client serving it; 404 stays
    /// 404. `what` names it for a 400 when `as_reference` (a body reference that does not
    /// resolve).
    async fn read_object(
        &self,
        ctx: &mut RequestContext,
        url: &str,
        reference: Option<&'static str>,
    ) -> Result<Value, ProxyError> {
        let Some((lookup, rest)) = self.shared.lookup_for(url) else {
            return Err(match reference {
                Some(name) => ZgwDenial::invalid(
                    name,
                    "bad-url",
                    "the URL is not served by a ZGW API sluis knows",
                ),
                None => ProxyError::Upstream(UpstreamFault::Unusable(format!(
                    "no mounted ZGW component serves {}",
                    bounded(url)
                ))),
            });
        };
        match zgw_get(&lookup, ctx, &rest).await {
            Err(ProxyError::Upstream(UpstreamFault::Problem(p))) if p.status == 404 => {
                Err(match reference {
                    Some(name) => ZgwDenial::invalid(
                        name,
                        "object-does-not-exist",
                        "the referenced object does not exist",
                    ),
                    None => ProxyError::Upstream(UpstreamFault::Problem(p)),
                })
            }
            other => other,
        }
    }

    /// The main object's facts for a link URL in a body or an object.
    async fn main_facts(
        &self,
        ctx: &mut RequestContext,
        kind: Kind,
        url: &str,
        reference: Option<&'static str>,
    ) -> Result<Facts, ProxyError> {
        let n = UrlMap::normalize(url);
        let is_kind = n.rsplit_once('/').is_some_and(|(head, id)| {
            head.ends_with(kind.collection.trim_end_matches('/')) && sluis_zgw::ops::is_uuid(id)
        });
        if !is_kind {
            return Err(match reference {
                Some(name) => ZgwDenial::invalid(
                    name,
                    "incorrect_match",
                    format!(
                        "the URL does not point at a {}",
                        kind.collection.trim_matches('/')
                    ),
                ),
                None => ProxyError::Upstream(UpstreamFault::Unusable(
                    "an object links to something of the wrong kind".into(),
                )),
            });
        }
        let obj = self.read_object(ctx, &n, reference).await?;
        facts(kind, &obj)
    }

    /// The user's rol omschrijvingGeneriek values on a zaak (cached briefly; the lookup is
    /// recorded).
    async fn rollen_of(
        &self,
        ctx: &mut RequestContext,
        zaak: &str,
        user: &str,
    ) -> Result<Arc<Vec<String>>, ProxyError> {
        if let Some(r) = self.shared.cached_rollen(zaak, user) {
            ctx.trail
                .reasons
                .push("involvement: rollen from the cache".into());
            return Ok(r);
        }
        let zaken_base = zaak
            .rsplit_once("/zaken/")
            .map(|(b, _)| b.to_owned())
            .unwrap_or_default();
        let rollen_url = format!(
            "{zaken_base}/rollen?zaak={}&betrokkeneIdentificatie__medewerker__identificatie={}",
            enc(zaak),
            enc(user)
        );
        let Some((lookup, rest)) = self.shared.lookup_for(&rollen_url) else {
            return Err(ProxyError::Upstream(UpstreamFault::Unusable(
                "the Zaken API is not mounted, so rollen cannot be read".into(),
            )));
        };
        let mut roles = BTreeSet::new();
        let mut path = rest;
        for _ in 0..self.shared.settings.max_scan_pages {
            let doc = zgw_get(&lookup, ctx, &path).await?;
            for r in results(&doc) {
                // The upstream filter is on this user; keep to it even if it were ignored.
                let who = r
                    .pointer("/betrokkeneIdentificatie/identificatie")
                    .and_then(Value::as_str);
                if who == Some(user)
                    && let Some(g) = r.get("omschrijvingGeneriek").and_then(Value::as_str)
                {
                    roles.insert(g.to_owned());
                }
            }
            match doc.get("next").and_then(Value::as_str) {
                Some(next) => match self.shared.client_for(next) {
                    Some((_, p)) => path = p,
                    None => break,
                },
                None => break,
            }
        }
        let roles = Arc::new(roles.into_iter().collect::<Vec<_>>());
        self.shared.remember_rollen(zaak, user, Arc::clone(&roles));
        Ok(roles)
    }

    /// Rule 12 on one main object, plus sluis's involvement rule for zaken. Returns the
    /// user's roles on the zaak (when they were read).
    async fn decide_object(
        &self,
        ctx: &mut RequestContext,
        caller: &Caller,
        kind: Kind,
        expr: &ScopeExpr,
        f: &Facts,
        action: Action,
    ) -> Result<Vec<String>, ProxyError> {
        let client = caller.client()?;
        if !client.allows(kind.component, expr, &f.type_url, f.va) {
            return Err(ZgwDenial::forbidden(format!(
                "The Applicatie's autorisaties do not allow {expr} on this {} ({} {}, {}).",
                kind.collection.trim_matches('/'),
                kind.type_field,
                bounded(&f.type_url),
                f.va.map(|v| v.as_str()).unwrap_or("-")
            )));
        }
        if kind == DOCUMENT && client.alleen_gereed_voor_publicatie() && f.gereed == Some(false) {
            return Err(ZgwDenial::forbidden(
                "The Applicatie may only read documents ready for publication.",
            ));
        }
        if kind != ZAAK || client.superuser() {
            return Ok(Vec::new());
        }
        let scopes = caller.holder_scopes(kind, f);
        let Some(required) = self
            .shared
            .rules
            .involvement(&f.type_url, action.as_str(), &scopes)
        else {
            return Ok(Vec::new());
        };
        let required = required.to_vec();
        let Some(user) = caller.verified_user.clone() else {
            return Err(ZgwDenial::UserUnknown.into_error());
        };
        let roles = self.rollen_of(ctx, &f.url, &user).await?;
        if roles.iter().any(|r| required.contains(r)) {
            ctx.trail
                .reasons
                .push(format!("involvement: the user is {}", roles.join(", ")));
            Ok(roles.to_vec())
        } else {
            Err(ZgwDenial::NotInvolved { roles: required }.into_error())
        }
    }

    /// zrc-007 / zrc-008: changes to a closed zaak (and its objects) need
    /// `zaken.geforceerd-bijwerken`; statussen follow their own rules.
    fn lifecycle(&self, caller: &Caller, op: &Operation, f: &Facts) -> Result<(), ProxyError> {
        let client = caller.client()?;
        let has =
            |s: &str| client.allows(Component::Zaken, &ScopeExpr::scope(s), &f.type_url, f.va);
        if op.resource == "status" && op.action == Action::Create {
            if f.closed && !has("zaken.heropenen") {
                return Err(ZgwDenial::ClosedZaak {
                    detail: "Reopening a closed zaak needs the zaken.heropenen scope.",
                }
                .into_error());
            }
            let beyond_first = has("zaken.statussen.toevoegen") || has("zaken.heropenen");
            if f.has_status && !beyond_first {
                return Err(ZgwDenial::forbidden(
                    "Met de 'zaken.aanmaken' scope mag je slechts 1 status zetten.",
                ));
            }
            return Ok(());
        }
        if f.closed && !op.action.is_read() && !has("zaken.geforceerd-bijwerken") {
            return Err(ZgwDenial::ClosedZaak {
                detail: if op.resource == "zaak" {
                    "Modifying a closed case with current scope is forbidden."
                } else {
                    "You are not allowed to modify closed zaak data."
                },
            }
            .into_error());
        }
        Ok(())
    }

    /// The upstream path for this mount of `rest` with `query`.
    fn forward_to(
        &self,
        ctx: &RequestContext,
        rest: &str,
        grant: Grant,
        body: Option<&Value>,
    ) -> Result<Authorized<Grant>, ProxyError> {
        let query = ctx
            .request
            .query
            .as_deref()
            .map(|q| self.shared.urls.rewrite_query_in(q));
        let path = match query {
            Some(q) if !q.is_empty() => format!("{rest}?{q}"),
            _ => rest.to_owned(),
        };
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| ProxyError::Internal(e.to_string()))?
            .map(Bytes::from);
        let method = if ctx.request.method == Method::HEAD {
            Method::GET
        } else {
            ctx.request.method.clone()
        };
        let who = match &grant {
            Grant::Forwarded { caller, .. } | Grant::List { caller, .. } => {
                caller.on_behalf.clone()
            }
            Grant::Empty { .. } => None,
        };
        let mut a = Authorized::new(method, path, body, grant).on_behalf_of(who);
        for h in PASSED_REQUEST_HEADERS {
            if let Some(v) = ctx.request.headers.get(h) {
                a = a.with_header(HeaderName::from_static(h), v.clone());
            }
        }
        Ok(a)
    }
}

/// A GET lookup with the headers ZGW APIs require (`Accept-Crs`: Zaken refuses reads of zaken
/// without it).
async fn zgw_get(
    lookup: &Lookup<'_>,
    ctx: &mut RequestContext,
    path_and_query: &str,
) -> Result<Value, ProxyError> {
    let request = super::UpstreamRequest {
        method: Method::GET,
        path_and_query: path_and_query.to_owned(),
        body: None,
        headers: vec![(
            HeaderName::from_static("accept-crs"),
            hyper::header::HeaderValue::from_static("EPSG:4326"),
        )],
        on_behalf_of: None,
        stream: false,
    };
    lookup.send(ctx, &request).await?.json()
}

fn ctx_param_names_ok(k: &str) -> Result<(), ProxyError> {
    if k.len() > 128 || k.chars().any(char::is_control) {
        return Err(ProxyError::BadRequest(RequestFault::InvalidParam {
            name: bounded(k),
            why: "not a parameter name",
        }));
    }
    Ok(())
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn results(doc: &Value) -> &[Value] {
    doc.get("results")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn page_of(pairs: &[(String, String)]) -> Result<usize, ProxyError> {
    match pairs.iter().find(|(k, _)| k == "page") {
        None => Ok(1),
        Some((_, v)) => {
            v.parse::<usize>().ok().filter(|p| *p >= 1).ok_or_else(|| {
                ZgwDenial::invalid("page", "invalid", "page is a whole number from 1")
            })
        }
    }
}

/// The zaken list/search filters of a request as a `_zoek` body (GET parameters, or the
/// `_zoek` body itself), without `page`.
fn search_body(
    op: &Operation,
    pairs: &[(String, String)],
    body: Option<Value>,
) -> Result<Map<String, Value>, ProxyError> {
    let mut out = match body {
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(ZgwDenial::invalid(
                "body",
                "invalid",
                "a search body is a JSON object",
            ));
        }
        None => Map::new(),
    };
    if op.action == Action::List {
        for (k, v) in pairs {
            if k == "page" {
                continue;
            }
            let value = if k.ends_with("__in") {
                Value::Array(v.split(',').map(|s| json!(s)).collect())
            } else {
                json!(v)
            };
            out.insert(k.clone(), value);
        }
    }
    Ok(out)
}

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::String(s) => Some(vec![UrlMap::normalize(s)]),
        Value::Array(a) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .map(UrlMap::normalize)
                .collect(),
        ),
        _ => None,
    }
}

impl ZgwAdapter {
    /// `GET /zaken` and `POST /zaken/_zoek`: one exact upstream search per group of zaaktypen
    /// sharing a maximum (and per involvement requirement).
    async fn plan_zaken_list(
        &self,
        ctx: &mut RequestContext,
        caller: &Caller,
        op: &Operation,
        expr: &ScopeExpr,
        pairs: &[(String, String)],
    ) -> Result<Grant, ProxyError> {
        let client = caller.client()?;
        let page = page_of(pairs)?;
        let body = if op.action == Action::Search {
            Some(self.body_in(ctx)?)
        } else {
            None
        };
        let base = search_body(op, pairs, body)?;
        let groups = match client.list_scope(Component::Zaken, expr) {
            ListScope::All => vec![(None, Vec::new())],
            ListScope::Nothing => Vec::new(),
            ListScope::Groups(gs) => gs.into_iter().map(|g| (g.max, g.types)).collect::<Vec<_>>(),
        };
        let superuser = client.superuser();
        // The caller's own zaaktype and maximum narrow the grant, never widen it.
        let mut wanted = string_list(base.get("zaaktype__in"));
        if let Some(z) = string_list(base.get("zaaktype")) {
            wanted = Some(match wanted {
                Some(w) => w.into_iter().filter(|x| z.contains(x)).collect(),
                None => z,
            });
        }
        let wanted_max =
            match base.get("maximaleVertrouwelijkheidaanduiding") {
                None => None,
                Some(v) => Some(v.as_str().and_then(Vertrouwelijkheid::parse).ok_or_else(
                    || {
                        ZgwDenial::invalid(
                            "maximaleVertrouwelijkheidaanduiding",
                            "invalid_choice",
                            "not a vertrouwelijkheidaanduiding",
                        )
                    },
                )?),
            };
        let mut segments = Vec::new();
        for (max, types) in groups {
            let types: Vec<String> = match (&wanted, superuser) {
                (Some(w), true) => w.clone(),
                (Some(w), false) => types.into_iter().filter(|t| w.contains(t)).collect(),
                (None, _) => types,
            };
            if types.is_empty() && !superuser {
                continue;
            }
            let max = match (max, wanted_max) {
                (Some(m), Some(w)) => Some(m.min(w)),
                (m, w) => m.or(w),
            };
            // Split the group by the involvement each zaaktype requires.
            let mut by_roles: HashMap<Option<Vec<String>>, Vec<String>> = HashMap::new();
            if superuser {
                by_roles.insert(None, types);
            } else {
                for t in types {
                    let mut scopes = client.scopes_for(Component::Zaken, &t, max);
                    scopes.extend(caller.token_scopes.iter().cloned());
                    let req = self
                        .shared
                        .rules
                        .involvement(&t, op.action.as_str(), &scopes)
                        .map(<[String]>::to_vec);
                    by_roles.entry(req).or_default().push(t);
                }
            }
            let mut parts: Vec<_> = by_roles.into_iter().collect();
            parts.sort();
            for (roles, types) in parts {
                let mut seg = base.clone();
                seg.remove("zaaktype");
                if !types.is_empty() {
                    seg.insert("zaaktype__in".into(), json!(types));
                } else {
                    seg.remove("zaaktype__in");
                }
                if let Some(m) = max {
                    seg.insert(
                        "maximaleVertrouwelijkheidaanduiding".into(),
                        json!(m.as_str()),
                    );
                }
                if let Some(roles) = roles {
                    let Some(user) = caller.verified_user.clone() else {
                        ctx.trail.reasons.push(
                            "involvement required for some zaaktypen but no verified user: left out"
                                .into(),
                        );
                        continue;
                    };
                    let uuids = self.user_zaken(ctx, &user, &roles).await?;
                    if uuids.is_empty() {
                        continue;
                    }
                    seg.insert("uuid__in".into(), json!(uuids));
                }
                segments.push(seg);
            }
        }
        if segments.is_empty() {
            return Ok(Grant::Empty { op: op.clone() });
        }
        Ok(Grant::List {
            caller: caller.clone(),
            op: op.clone(),
            plan: ListPlan::Segments { segments, page },
        })
    }

    /// The uuids of the zaken in which `user` holds one of `roles` (from the upstream's
    /// rollen, which filters on one rol at a time, so the match is exact).
    async fn user_zaken(
        &self,
        ctx: &mut RequestContext,
        user: &str,
        roles: &[String],
    ) -> Result<Vec<String>, ProxyError> {
        let lookup_path = format!(
            "/rollen?betrokkeneIdentificatie__medewerker__identificatie={}",
            enc(user)
        );
        let Some((lookup, mut path)) = self
            .shared
            .lookup_for(&format!("{}{lookup_path}", self.zaken_upstream()?))
        else {
            return Err(ProxyError::Upstream(UpstreamFault::Unusable(
                "the Zaken API is not mounted".into(),
            )));
        };
        let mut out = BTreeSet::new();
        for _ in 0..self.shared.settings.max_scan_pages {
            let doc = zgw_get(&lookup, ctx, &path).await?;
            for r in results(&doc) {
                let generic = r.get("omschrijvingGeneriek").and_then(Value::as_str);
                let who = r
                    .pointer("/betrokkeneIdentificatie/identificatie")
                    .and_then(Value::as_str);
                if who == Some(user)
                    && generic.is_some_and(|g| roles.iter().any(|x| x == g))
                    && let Some(z) = r.get("zaak").and_then(Value::as_str)
                    && let Some((_, id)) = z.trim_end_matches('/').rsplit_once('/')
                {
                    out.insert(id.to_owned());
                }
            }
            match doc.get("next").and_then(Value::as_str) {
                Some(next) => match self.shared.client_for(next) {
                    Some((_, p)) => path = p,
                    None => break,
                },
                None => return Ok(out.into_iter().collect()),
            }
        }
        Err(ZgwDenial::TooBroad {
            pages: self.shared.settings.max_scan_pages,
            hint: "the user holds rollen in too many zaken to list them; filter on zaaktype",
        }
        .into_error())
    }

    fn zaken_upstream(&self) -> Result<String, ProxyError> {
        self.shared
            .urls
            .pairs()
            .iter()
            .map(|(_, up)| up.clone())
            .find(|up| {
                self.shared.client_for(&format!("{up}/zaken")).is_some() && up.contains("zaken")
            })
            .or_else(|| self.shared.urls.pairs().first().map(|(_, up)| up.clone()))
            .ok_or_else(|| {
                ProxyError::Upstream(UpstreamFault::Unusable("no Zaken API is mounted".into()))
            })
    }

    async fn authorize_op(
        &self,
        ctx: &mut RequestContext,
        principal: &Principal,
        route: ZgwRoute,
        rest: String,
    ) -> Result<Authorized<Grant>, ProxyError> {
        let op = route.op;
        let caller = self.caller(ctx, principal)?;
        let client = caller.client()?;
        ctx.trail
            .reasons
            .push(format!("applicatie: {}", bounded(client.label())));
        let expr = self.expression(&op);
        let component = self.component;
        // The scope gate (rule 15): nothing in this component satisfies the expression.
        if !client.any(component, &expr) {
            return Err(ZgwDenial::forbidden(format!(
                "The Applicatie has no autorisatie with {expr} for the {} API.",
                component.as_str()
            )));
        }
        let Some((kind, is_main)) = main_kind(op.main) else {
            // Catalogi and other scope-only operations (rule 35); bestandsdelen are checked
            // by the upstream against their locked document.
            let body = if ctx.request.body.is_empty() {
                None
            } else {
                Some(self.body_in(ctx)?)
            };
            let grant = Grant::Forwarded {
                caller,
                op,
                check: Check::Decided,
                main: None,
                roles: Vec::new(),
            };
            return self.forward_to(ctx, &rest, grant, body.as_ref());
        };
        let pairs = self.query_pairs(ctx)?;
        let link_field = op.link_field();
        match op.action {
            Action::List | Action::Search if is_main && kind == ZAAK => {
                let grant = self
                    .plan_zaken_list(ctx, &caller, &op, &expr, &pairs)
                    .await?;
                Ok(Authorized::local(grant))
            }
            Action::List | Action::Search if op.parent.is_none() => {
                if client.superuser() {
                    let grant = Grant::Forwarded {
                        caller,
                        op,
                        check: Check::Decided,
                        main: None,
                        roles: Vec::new(),
                    };
                    let body = if op_has_body(&ctx.request.method) {
                        Some(self.body_in(ctx)?)
                    } else {
                        None
                    };
                    return self.forward_to(ctx, &rest, grant, body.as_ref());
                }
                // A nested list narrowed to one main object: that object decides.
                if let Some(field) = link_field
                    && let Some((_, url)) = pairs.iter().find(|(k, _)| k == field)
                {
                    let f = match self.main_facts(ctx, kind, url, Some(field)).await {
                        Ok(f) => f,
                        // A filter naming nothing that exists lists nothing (as upstream).
                        Err(ProxyError::Api(_)) => {
                            return Ok(Authorized::local(Grant::Empty { op }));
                        }
                        Err(e) => return Err(e),
                    };
                    ctx.trail.case_ref = f.identificatie.clone();
                    return match self
                        .decide_object(ctx, &caller, kind, &expr, &f, op.action)
                        .await
                    {
                        Ok(roles) => {
                            let grant = Grant::Forwarded {
                                caller,
                                op,
                                check: Check::Decided,
                                main: Some((kind, f)),
                                roles,
                            };
                            self.forward_to(ctx, &rest, grant, None)
                        }
                        Err(ProxyError::Api(_)) => {
                            ctx.trail
                                .reasons
                                .push("the filter names an object the caller may not see".into());
                            Ok(Authorized::local(Grant::Empty { op }))
                        }
                        Err(e) => Err(e),
                    };
                }
                let query: Vec<(String, String)> =
                    pairs.iter().filter(|(k, _)| k != "page").cloned().collect();
                let search_body = if op.action == Action::Search {
                    Some(self.body_in(ctx)?)
                } else {
                    None
                };
                let grant = Grant::List {
                    caller,
                    plan: ListPlan::Scan {
                        path: rest,
                        query,
                        kind,
                        link: if is_main { None } else { link_field },
                        expr,
                        page: page_of(&pairs)?,
                        body: search_body,
                    },
                    op,
                };
                Ok(Authorized::local(grant))
            }
            Action::Create if op.parent.is_none() => {
                let mut body = self.body_in(ctx)?;
                let f = if is_main {
                    self.effective_facts(ctx, kind, &mut body).await?
                } else {
                    let field = link_field.unwrap_or("zaak");
                    let Some(url) = body.get(field).and_then(Value::as_str).map(str::to_owned)
                    else {
                        return Err(ZgwDenial::invalid(
                            field,
                            "required",
                            "Dit veld is vereist.",
                        ));
                    };
                    self.main_facts(ctx, kind, &url, Some(field)).await?
                };
                ctx.trail.case_ref = f.identificatie.clone();
                let roles = self
                    .decide_object(ctx, &caller, kind, &expr, &f, op.action)
                    .await?;
                if kind == ZAAK && !is_main {
                    self.lifecycle(&caller, &op, &f)?;
                }
                self.check_writes(&caller, &op, kind, &f, &body, None)?;
                let grant = Grant::Forwarded {
                    caller,
                    op,
                    check: Check::Decided,
                    main: Some((kind, f)),
                    roles,
                };
                self.forward_to(ctx, &rest, grant, Some(&body))
            }
            _ => {
                // Detail operations and everything under a parent in the path.
                let main_url = match (&op.parent, &op.id) {
                    (Some(parent), _) => Some(self.object_url(kind, parent)?),
                    (None, Some(_)) if is_main => None,
                    (None, Some(_)) => None,
                    (None, None) => None,
                };
                let reads = op.action.is_read();
                if reads && op.parent.is_none() && op.action != Action::Download {
                    // Read, then decide on what came back (one upstream call).
                    let check = if is_main {
                        Check::Main(kind)
                    } else {
                        Check::Linked(kind, link_field.unwrap_or("zaak"))
                    };
                    let grant = Grant::Forwarded {
                        caller,
                        op,
                        check,
                        main: None,
                        roles: Vec::new(),
                    };
                    return self.forward_to(ctx, &rest, grant, None);
                }
                // Writes, downloads and parent-path operations: decide first.
                let (f, current) = match main_url {
                    Some(url) => (self.main_facts(ctx, kind, &url, None).await?, None),
                    None => {
                        // The object itself (for download, lock and unlock: the document).
                        let own = match (&op.id, is_main) {
                            (Some(id), true) => self.object_url(kind, id)?,
                            _ => format!("{}{}", self.upstream_base_of_mount()?, path_only(&rest)),
                        };
                        let obj = self.read_object(ctx, &own, None).await?;
                        let f = if is_main {
                            facts(kind, &obj)?
                        } else {
                            let field = link_field.unwrap_or("zaak");
                            let url = obj.get(field).and_then(Value::as_str).ok_or_else(|| {
                                ProxyError::Upstream(UpstreamFault::Unusable(format!(
                                    "the object has no {field}"
                                )))
                            })?;
                            self.main_facts(ctx, kind, url, None).await?
                        };
                        (f, Some(obj))
                    }
                };
                ctx.trail.case_ref = f.identificatie.clone();
                let roles = if op.resource == "audittrail" {
                    // The trail holds whole bodies: the caller must also be allowed to read
                    // the object itself (rule 37).
                    let read = self.fixed(kind.read_scope);
                    self.decide_object(ctx, &caller, kind, &read, &f, Action::Retrieve)
                        .await?
                } else {
                    self.decide_object(ctx, &caller, kind, &expr, &f, op.action)
                        .await?
                };
                if kind == ZAAK {
                    self.lifecycle(&caller, &op, &f)?;
                }
                let body = if op_has_body(&ctx.request.method) && !ctx.request.body.is_empty() {
                    let b = self.body_in(ctx)?;
                    self.check_writes(&caller, &op, kind, &f, &b, current.as_ref())?;
                    Some(b)
                } else {
                    None
                };
                let download = op.action == Action::Download;
                let grant = Grant::Forwarded {
                    caller,
                    op,
                    check: Check::Decided,
                    main: Some((kind, f)),
                    roles,
                };
                let a = self.forward_to(ctx, &rest, grant, body.as_ref())?;
                Ok(if download { a.streaming() } else { a })
            }
        }
    }

    fn upstream_base_of_mount(&self) -> Result<String, ProxyError> {
        self.shared
            .urls
            .to_upstream(&self.public_base)
            .ok_or_else(|| ProxyError::Internal("the mount is not in the URL map".into()))
    }

    /// The upstream URL of a main object of this mount's component by uuid.
    fn object_url(&self, kind: Kind, id: &str) -> Result<String, ProxyError> {
        let base = if kind.component == self.component {
            self.upstream_base_of_mount()?
        } else {
            return Err(ProxyError::Internal("a parent of another component".into()));
        };
        Ok(format!("{base}{}{id}", kind.collection))
    }

    /// A create body's type and *effective* confidentiality: the body's, or the type's
    /// default when it is left out (zrc-009, drc-007; C6 rule 26).
    async fn effective_facts(
        &self,
        ctx: &mut RequestContext,
        kind: Kind,
        body: &mut Value,
    ) -> Result<Facts, ProxyError> {
        let Some(type_url) = body
            .get(kind.type_field)
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Err(ZgwDenial::invalid(
                kind.type_field,
                "required",
                "Dit veld is vereist.",
            ));
        };
        let va = if kind.has_va {
            match body
                .get("vertrouwelijkheidaanduiding")
                .and_then(Value::as_str)
            {
                Some(v) if !v.is_empty() => Some(Vertrouwelijkheid::parse(v).ok_or_else(|| {
                    ZgwDenial::invalid(
                        "vertrouwelijkheidaanduiding",
                        "invalid_choice",
                        "not a vertrouwelijkheidaanduiding",
                    )
                })?),
                _ => {
                    let t = self
                        .read_object(ctx, &type_url, Some(kind.type_field))
                        .await?;
                    let default = t
                        .get("vertrouwelijkheidaanduiding")
                        .and_then(Value::as_str)
                        .and_then(Vertrouwelijkheid::parse)
                        .ok_or_else(|| {
                            ProxyError::Upstream(UpstreamFault::Unusable(
                                "the type has no vertrouwelijkheidaanduiding".into(),
                            ))
                        })?;
                    ctx.trail.reasons.push(format!(
                        "effective vertrouwelijkheidaanduiding {} from the type",
                        default.as_str()
                    ));
                    Some(default)
                }
            }
        } else {
            None
        };
        if kind.has_va && body.get(kind.type_field).is_some() {
            // A type that does not exist is the caller's error (400), not a refusal.
            if body.get("vertrouwelijkheidaanduiding").is_some() {
                self.read_object(ctx, &type_url, Some(kind.type_field))
                    .await?;
            }
        }
        Ok(Facts {
            url: String::new(),
            type_url: UrlMap::normalize(&type_url),
            va,
            closed: false,
            has_status: false,
            identificatie: body
                .get("identificatie")
                .and_then(Value::as_str)
                .map(str::to_owned),
            gereed: body.get("isGereedVoorPublicatie").and_then(Value::as_bool),
        })
    }

    fn check_writes(
        &self,
        caller: &Caller,
        op: &Operation,
        kind: Kind,
        f: &Facts,
        body: &Value,
        current: Option<&Value>,
    ) -> Result<(), ProxyError> {
        if caller.superuser() || self.shared.rules.is_empty() {
            return Ok(());
        }
        let scopes = caller.holder_scopes(kind, f);
        let bad = match (op.action, current) {
            (Action::Update, Some(cur)) => self.shared.rules.write_violations_against(
                op.resource,
                op.action.as_str(),
                body,
                cur,
                &scopes,
            ),
            _ => self
                .shared
                .rules
                .write_violations(op.resource, op.action.as_str(), body, &scopes),
        };
        if bad.is_empty() {
            Ok(())
        } else {
            Err(ZgwDenial::Immutable { attributes: bad }.into_error())
        }
    }
}

fn op_has_body(m: &Method) -> bool {
    matches!(*m, Method::POST | Method::PUT | Method::PATCH)
}

fn path_only(rest: &str) -> &str {
    rest.split('?').next().unwrap_or(rest)
}

impl Adapter for ZgwAdapter {
    type Route = (ZgwRoute, String);
    type Grant = Grant;

    fn methods(&self) -> &'static str {
        "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
    }

    fn route(&self, ctx: &mut RequestContext, rest: &str) -> Result<Self::Route, ProxyError> {
        let method = ctx.request.method.as_str().to_owned();
        match sluis_zgw::route(self.component, &method, rest) {
            Ok(op) => {
                ctx.trail.operation = op.operation_id.to_owned();
                Ok((ZgwRoute { op }, path_only(rest).to_owned()))
            }
            Err(RouteError::NotFound) => Err(ProxyError::NotFound),
            Err(RouteError::MethodNotAllowed { allow }) => Err(ProxyError::MethodNotAllowed(allow)),
        }
    }

    fn authorize<'a>(
        &'a self,
        ctx: &'a mut RequestContext,
        principal: &'a Principal,
        route: Self::Route,
        _lookup: Lookup<'a>,
    ) -> BoxFuture<'a, Result<Authorized<Grant>, ProxyError>> {
        Box::pin(async move {
            let (route, rest) = route;
            self.authorize_op(ctx, principal, route, rest).await
        })
    }

    fn filter<'a>(
        &'a self,
        ctx: &'a mut RequestContext,
        grant: Grant,
        answer: Answer,
        lookup: Lookup<'a>,
    ) -> BoxFuture<'a, Result<Delivery, ProxyError>> {
        Box::pin(async move { self.deliver(ctx, grant, answer, lookup).await })
    }

    fn sources(&self) -> Vec<PathBuf> {
        self.shared.sources()
    }
}

mod deliver;
