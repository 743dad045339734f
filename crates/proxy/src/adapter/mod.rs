//! The adapter seam: what an API family (dataset, BRP, ...) implements so that the pipeline can
//! serve it without knowing it.
//!
//! An adapter routes a request to an operation, authorizes it (and only authorize can build the
//! [`Authorized`] value the forwarder accepts: its constructor is visible inside this module tree
//! only), and filters the upstream's answer into what the caller may see, naming the data
//! subjects it contained. The pipeline runs those phases in order for every adapter alike.

pub mod brp;
pub mod dataset;

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
    type Grant: Send;

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
    fn filter(
        &self,
        ctx: &mut RequestContext,
        grant: Self::Grant,
        answer: Answer,
    ) -> Result<Delivery, ProxyError>;

    /// Files this adapter's policy comes from, watched for hot reload.
    fn sources(&self) -> Vec<PathBuf>;
}

/// The object-safe face of an adapter that the runtime holds; implemented for every
/// [`Adapter`] by the pipeline, which runs its phases.
pub trait Mount: Send + Sync + std::fmt::Debug {
    fn methods(&self) -> &'static str;
    fn sources(&self) -> Vec<PathBuf>;
    /// Runs route → authorize → forward → filter for one request.
    fn serve<'a>(
        &'a self,
        ctx: &'a mut RequestContext,
        rest: &'a str,
        principal: &'a Principal,
        upstream: &'a dyn Upstream,
    ) -> BoxFuture<'a, Result<Delivery, ProxyError>>;
}

/// The request the upstream will receive, as decided by authorize.
#[derive(Debug, Clone)]
pub struct UpstreamRequest {
    method: Method,
    /// Path and query, relative to the upstream's base URL.
    path_and_query: String,
    body: Option<Bytes>,
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
}

/// A request the policy has approved, with what filter needs. Only code in this module tree
/// (the adapters' authorize) can build one; the upstream client accepts nothing else.
#[derive(Debug)]
pub struct Authorized<G> {
    request: UpstreamRequest,
    grant: G,
}

impl<G> Authorized<G> {
    /// A GET (or HEAD) of `path_and_query` on the upstream.
    pub(in crate::adapter) fn get(path_and_query: String, grant: G) -> Self {
        Authorized {
            request: UpstreamRequest {
                method: Method::GET,
                path_and_query,
                body: None,
            },
            grant,
        }
    }

    /// A POST of a JSON body to `path`.
    pub(in crate::adapter) fn post_json(path: String, body: Bytes, grant: G) -> Self {
        Authorized {
            request: UpstreamRequest {
                method: Method::POST,
                path_and_query: path,
                body: Some(body),
            },
            grant,
        }
    }

    pub fn request(&self) -> &UpstreamRequest {
        &self.request
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
}

impl Answer {
    /// The body as JSON; anything else is an unusable answer.
    pub fn json(&self) -> Result<Value, ProxyError> {
        if !self
            .content_type
            .as_deref()
            .is_some_and(|c| c.contains("json"))
        {
            return Err(ProxyError::Upstream(UpstreamFault::Unusable(
                "the upstream body is not JSON".into(),
            )));
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            ProxyError::Upstream(UpstreamFault::Unusable(format!("invalid JSON: {e}")))
        })
    }
}

/// What filter hands back: the caller's response and what the record needs to know of it.
#[derive(Debug)]
pub struct Delivery {
    pub content_type: &'static str,
    pub body: Bytes,
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
        Ok(Delivery {
            content_type,
            body: Bytes::from(body),
            headers: Vec::new(),
            records: 0,
            subjects: Vec::new(),
            fields_delivered: Vec::new(),
            stripped: Vec::new(),
            stripped_count: 0,
        })
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
        ctx.trail
            .lookups
            .push(crate::context::bounded(&format!("GET {path_and_query}")));
        let request = UpstreamRequest {
            method: Method::GET,
            path_and_query: path_and_query.to_owned(),
            body: None,
        };
        let answer = self.upstream.forward(ctx, &request).await?;
        answer.json()
    }
}
