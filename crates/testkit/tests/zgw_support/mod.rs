//! Talking to the ZGW fixture over real sockets: a client with bodies and the ZGW headers.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use sluis_testkit::zgw::{ZgwFixture, ZgwFixtureConfig, ZgwFixtureHandle};

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub use crate::common::Resp;

/// ZGW-specific reads of a response.
pub trait ZgwResp {
    fn header(&self, name: &str) -> Option<&str>;
    /// The `invalidParams` (name, code) pairs.
    fn invalid(&self) -> Vec<(String, String)>;
}

impl ZgwResp for Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn invalid(&self) -> Vec<(String, String)> {
        self.json()["invalidParams"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or("").to_owned(),
                    p["code"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }
}

pub fn small() -> ZgwFixtureConfig {
    ZgwFixtureConfig {
        zaken: 250,
        zaaktypen: 12,
        informatieobjecttypen: 4,
        documents: 30,
        ..ZgwFixtureConfig::default()
    }
}

pub async fn fixture() -> ZgwFixtureHandle {
    ZgwFixture::start(small()).await.unwrap()
}

/// A request with the superuser token and `Accept-Crs`/`Content-Crs`.
pub struct Call<'a> {
    fx: &'a ZgwFixtureHandle,
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Value>,
    token: Option<String>,
}

pub fn call<'a>(fx: &'a ZgwFixtureHandle, method: Method, url: &str) -> Call<'a> {
    Call {
        fx,
        method,
        url: url.to_owned(),
        headers: vec![
            ("accept-crs".into(), "EPSG:4326".into()),
            ("content-crs".into(), "EPSG:4326".into()),
        ],
        body: None,
        token: Some(fx.superuser_token()),
    }
}

pub fn get<'a>(fx: &'a ZgwFixtureHandle, url: &str) -> Call<'a> {
    call(fx, Method::GET, url)
}

pub fn post<'a>(fx: &'a ZgwFixtureHandle, url: &str, body: Value) -> Call<'a> {
    call(fx, Method::POST, url).json(body)
}

impl Call<'_> {
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    pub fn token(mut self, token: Option<String>) -> Self {
        self.token = token;
        self
    }

    pub async fn send(self) -> Resp {
        let _ = self.fx;
        let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
        let mut builder = Request::builder().method(self.method).uri(&self.url);
        for (n, v) in &self.headers {
            builder = builder.header(n.as_str(), v.as_str());
        }
        if let Some(t) = &self.token {
            builder = builder.header("authorization", format!("Bearer {t}"));
        }
        let body = match &self.body {
            Some(v) => {
                builder = builder.header("content-type", "application/json");
                Full::new(Bytes::from(v.to_string()))
            }
            None => Full::new(Bytes::new()),
        };
        let resp = client.request(builder.body(body).unwrap()).await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            body,
        }
    }
}
