//! The adapter seam: what an API family (dataset, BRP, ...) implements so that the pipeline can
//! serve it without knowing it.
//!
//! An adapter routes a request to an operation, authorizes it (and only authorize can build the
//! [`Authorized`] value the forwarder accepts: its constructor is visible inside this module tree
//! only), and filters the upstream's answer into what the caller may see, naming the data
//! subjects it contained. The pipeline runs those phases in order for every adapter alike.

pub mod brp;
pub mod dataset;
pub mod zgw;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use bytes::Bytes;
use hyper::Method;
use hyper::header::{HeaderName, HeaderValue};
use serde_json::Value;
use sluis_token::Principal;

use crate::context::{RequestContext, SubjectHit};
use crate::error::{ProxyError, UpstreamFault};

/// A boxed future borrowing from its inputs.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One API family. `Route` is what routing learnt (e.g. table and id); `Grant` is what
/// authorize decided and filter needs (e.g. the field plan).
pub trait Adapter: Send + Sync + std::fmt::Debug + 'static {
    type Route: Send;
    type Grant: Send + 'static;

    /// The methods this API serves, as an `Allow` header value. OPTIONS is always answered
    /// without authorization; any other method outside this list is a 405.
    fn methods(&self) -> &'static str;

    /// Method and path (after the mount prefix), and for some families the body, to an
    /// operation. Sets `trail.operation` to a value from a bounded set (it is a metric label).
    fn route(&self, ctx: &mut RequestContext, rest: &str) -> Result<Self::Route, ProxyError>;

    /// Decides the request for `principal` and builds what goes upstream. Every check and
    /// every rewrite of the upstream request happens here. May ask the upstream questions
    /// through `lookup`, which records each one.
    fn authorize<'a>(
        &'a self,
        ctx: &'a mut RequestContext,
        principal: &'a Principal,
        route: Self::Route,
        lookup: Lookup<'a>,
    ) -> BoxFuture<'a, Result<Authorized<Self::Grant>, ProxyError>>;

    /// Turns the upstream's answer into the caller's: rows and fields projected to the grant,
    /// whatever the upstream sent; names the data subjects the answer contained.
    /// May read more from the upstream through `lookup` (e.g. further pages when a list is
    /// filtered here and re-paginated); every such read is recorded.
    fn filter<'a>(
        &'a self,
        ctx: &'a mut RequestContext,
        grant: Self::Grant,
        answer: Answer,
        lookup: Lookup<'a>,
    ) -> BoxFuture<'a, Result<Delivery, ProxyError>>;

    /// Files this adapter's policy comes from, watched for hot reload.
    fn sources(&self) -> Vec<PathBuf>;
}

/// The object-safe face of an adapter that the runtime holds; implemented for every
/// [`Adapter`] by the pipeline, which runs its phases.
pub trait Mount: Send + Sync + std::fmt::Debug {
    fn methods(&self) -> &'static str;
    fn sources(&self) -> Vec<PathBuf>;
    /// Runs route → authorize → forward → filter for one request. The operation route names
    /// is checked against the register's `admission` and counted against the rate `limits`
    /// before authorize.
    fn serve<'a>(
        &'a self,
        ctx: &'a mut RequestContext,
        rest: &'a str,
        principal: &'a Principal,
        upstream: &'a dyn Upstream,
        admission: &'a sluis_rights::Admission,
        limits: &'a crate::ratelimit::RateLimits,
    ) -> BoxFuture<'a, Result<Delivery, ProxyError>>;
}

/// The request the upstream will receive, as decided by authorize.
#[derive(Debug, Clone)]
pub struct UpstreamRequest {
    method: Method,
    /// Path and query, relative to the upstream's base URL.
    path_and_query: String,
    body: Option<Bytes>,
    /// Headers of the caller's request passed on (e.g. ZGW's `Accept-Crs`), as authorize chose.
    headers: Vec<(HeaderName, HeaderValue)>,
    /// The end user on whose behalf sluis asks, for upstreams that take it in sluis's own
    /// credentials (ZGW's `user_id` claim).
    on_behalf_of: Option<OnBehalfOf>,
    /// Pass a successful answer's body through as it arrives instead of reading it whole.
    stream: bool,
}

/// The end user sluis names in its own credentials to an upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnBehalfOf {
    pub user_id: String,
    pub user_representation: String,
}

impl UpstreamRequest {
    pub fn method(&self) -> &Method {
        &self.method
    }
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }
    pub fn body(&self) -> Option<&Bytes> {
        self.body.as_ref()
    }
    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }
    pub fn on_behalf_of(&self) -> Option<&OnBehalfOf> {
        self.on_behalf_of.as_ref()
    }
    pub fn streams(&self) -> bool {
        self.stream
    }
}

/// A request the policy has approved, with what filter needs. Only code in this module tree
/// (the adapters' authorize) can build one; the upstream client accepts nothing else.
#[derive(Debug)]
pub struct Authorized<G> {
    /// `None` when authorize already holds the answer (or knows it is empty) and nothing is
    /// forwarded; filter then gets an [`Answer::none`].
    request: Option<UpstreamRequest>,
    grant: G,
}

impl<G> Authorized<G> {
    /// A request with `method` to `path_and_query` on the upstream, with a JSON body or none.
    pub(in crate::adapter) fn new(
        method: Method,
        path_and_query: String,
        body: Option<Bytes>,
        grant: G,
    ) -> Self {
        Authorized {
            request: Some(UpstreamRequest {
                method,
                path_and_query,
                body,
                headers: Vec::new(),
                on_behalf_of: None,
                stream: false,
            }),
            grant,
        }
    }

    /// Nothing to forward: filter builds the answer from the grant (and its own lookups).
    pub(in crate::adapter) fn local(grant: G) -> Self {
        Authorized {
            request: None,
            grant,
        }
    }

    /// A GET (or HEAD) of `path_and_query` on the upstream.
    pub(in crate::adapter) fn get(path_and_query: String, grant: G) -> Self {
        Self::new(Method::GET, path_and_query, None, grant)
    }

    /// A POST of a JSON body to `path`.
    pub(in crate::adapter) fn post_json(path: String, body: Bytes, grant: G) -> Self {
        Self::new(Method::POST, path, Some(body), grant)
    }

    /// Passes a header on to the upstream.
    pub(in crate::adapter) fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        if let Some(r) = &mut self.request {
            r.headers.push((name, value));
        }
        self
    }

    /// Names the end user in sluis's credentials to the upstream.
    pub(in crate::adapter) fn on_behalf_of(mut self, who: Option<OnBehalfOf>) -> Self {
        if let Some(r) = &mut self.request {
            r.on_behalf_of = who;
        }
        self
    }

    /// Streams a successful answer's body to the caller without buffering it.
    pub(in crate::adapter) fn streaming(mut self) -> Self {
        if let Some(r) = &mut self.request {
            r.stream = true;
        }
        self
    }

    /// The request to forward; `None` when authorize answered locally.
    pub fn request(&self) -> Option<&UpstreamRequest> {
        self.request.as_ref()
    }

    /// Gives up the request (it was sent) for the grant filter needs.
    pub fn into_grant(self) -> G {
        self.grant
    }
}

/// The upstream's answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Bytes,
    /// The answer's headers.
    pub headers: hyper::HeaderMap,
    /// For a streamed request, the body as it arrives (then `body` is empty).
    pub stream: Option<crate::problem::Body>,
}

impl Answer {
    /// The empty answer filter gets when nothing was forwarded.
    pub fn none() -> Answer {
        Answer {
            status: 0,
            content_type: None,
            body: Bytes::new(),
            headers: hyper::HeaderMap::new(),
            stream: None,
        }
    }

    /// The body as JSON; anything else is an unusable answer.
    pub fn json(&self) -> Result<Value, ProxyError> {
        serde_json::from_slice(self.json_bytes()?).map_err(|e| {
            ProxyError::Upstream(UpstreamFault::Unusable(format!("invalid JSON: {e}")))
        })
    }

    /// The body's bytes when the upstream labels them JSON; anything else is an unusable answer.
    /// Whether they are valid JSON is for the reader to find.
    pub fn json_bytes(&self) -> Result<&[u8], ProxyError> {
        if !self
            .content_type
            .as_deref()
            .is_some_and(|c| c.contains("json"))
        {
            return Err(ProxyError::Upstream(UpstreamFault::Unusable(
                "the upstream body is not JSON".into(),
            )));
        }
        Ok(&self.body)
    }
}

/// What filter hands back: the caller's response and what the record needs to know of it.
#[derive(Debug)]
pub struct Delivery {
    /// The HTTP status (200 unless the API answers e.g. 201 on create or 204 on delete).
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
    /// A body passed through as it arrives (a download), instead of `body`.
    pub stream: Option<crate::problem::Body>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Records delivered (rows of a list, 1 for a detail, persons for BRP).
    pub records: u64,
    /// The data subjects the answer contained (delivered or withheld, see their flags).
    pub subjects: Vec<SubjectHit>,
    /// Field paths delivered.
    pub fields_delivered: Vec<String>,
    /// Fields the upstream sent that the grant does not cover, removed before delivery.
    pub stripped: Vec<String>,
    /// How many values were stripped (may exceed `stripped.len()`, which is bounded).
    pub stripped_count: u64,
}

impl Delivery {
    /// A JSON delivery with nothing yet recorded about it.
    pub fn json(content_type: &'static str, body: &Value) -> Result<Delivery, ProxyError> {
        let body = serde_json::to_vec(body).map_err(|e| ProxyError::Internal(e.to_string()))?;
        Ok(Delivery::bytes(content_type, body))
    }

    /// A delivery of a body already written, with nothing yet recorded about it.
    pub fn bytes(content_type: &'static str, body: Vec<u8>) -> Delivery {
        Delivery {
            status: 200,
            content_type,
            body: Bytes::from(body),
            stream: None,
            headers: Vec::new(),
            records: 0,
            subjects: Vec::new(),
            fields_delivered: Vec::new(),
            stripped: Vec::new(),
            stripped_count: 0,
        }
    }
}

/// The upstream as the pipeline offers it to adapters: forwarding an approved request, and
/// (through [`Lookup`]) reading while authorizing.
pub trait Upstream: Send + Sync {
    /// Sends an approved request. Adds sluis's credentials, trace context and correlation id;
    /// maps failures; records status and timing in the context's trail.
    fn forward<'a>(
        &'a self,
        ctx: &'a mut RequestContext,
        request: &'a UpstreamRequest,
    ) -> BoxFuture<'a, Result<Answer, ProxyError>>;
    /// The upstream's base URL (no trailing slash), for link rewriting.
    fn base(&self) -> &str;
}

/// The narrow, recorded interface through which authorize may ask the upstream a question (a
/// GET whose answer never reaches the caller as such), e.g. "does this user hold a rol on
/// this zaak?". Each call is listed in the access record.
pub struct Lookup<'a> {
    upstream: &'a dyn Upstream,
}

/// A path and query as the audit record keeps it: parameter names only, never their values
/// (a lookup may filter on a BSN).
pub fn redacted(path_and_query: &str) -> String {
    match path_and_query.split_once('?') {
        None => path_and_query.to_owned(),
        Some((path, query)) => {
            let names: Vec<String> = query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| p.split_once('=').map_or(p, |(k, _)| k))
                .map(|k| {
                    percent_encoding::percent_decode_str(k)
                        .decode_utf8_lossy()
                        .into_owned()
                })
                .collect();
            format!("{path}?{}", names.join("&"))
        }
    }
}

impl Clone for Lookup<'_> {
    fn clone(&self) -> Self {
        Lookup {
            upstream: self.upstream,
        }
    }
}

impl std::fmt::Debug for Lookup<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lookup")
    }
}

impl<'a> Lookup<'a> {
    pub fn new(upstream: &'a dyn Upstream) -> Self {
        Lookup { upstream }
    }

    /// GETs `path_and_query` from the upstream as JSON; the call is recorded in the trail.
    pub async fn get_json(
        &self,
        ctx: &mut RequestContext,
        path_and_query: &str,
    ) -> Result<Value, ProxyError> {
        ctx.trail.lookups.push(crate::context::bounded(&format!(
            "GET {}",
            redacted(path_and_query)
        )));
        let request = UpstreamRequest {
            method: Method::GET,
            path_and_query: path_and_query.to_owned(),
            body: None,
            headers: Vec::new(),
            on_behalf_of: None,
            stream: false,
        };
        let answer = self.upstream.forward(ctx, &request).await?;
        answer.json()
    }

    /// POSTs a JSON body (a search) to the upstream; recorded like [`Lookup::get_json`].
    pub async fn post_json(
        &self,
        ctx: &mut RequestContext,
        path_and_query: &str,
        body: &Value,
    ) -> Result<Value, ProxyError> {
        ctx.trail.lookups.push(crate::context::bounded(&format!(
            "POST {}",
            redacted(path_and_query)
        )));
        let body = serde_json::to_vec(body).map_err(|e| ProxyError::Internal(e.to_string()))?;
        let request = UpstreamRequest {
            method: Method::POST,
            path_and_query: path_and_query.to_owned(),
            body: Some(Bytes::from(body)),
            headers: Vec::new(),
            on_behalf_of: None,
            stream: false,
        };
        let answer = self.upstream.forward(ctx, &request).await?;
        answer.json()
    }

    /// Sends a prepared request as a lookup (recorded), e.g. with headers the upstream needs.
    pub async fn send(
        &self,
        ctx: &mut RequestContext,
        request: &UpstreamRequest,
    ) -> Result<Answer, ProxyError> {
        ctx.trail.lookups.push(crate::context::bounded(&format!(
            "{} {}",
            request.method,
            redacted(&request.path_and_query)
        )));
        self.upstream.forward(ctx, request).await
    }
}
