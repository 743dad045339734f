//! Shared helpers of the BRP fixture tests: one data set per test binary, a small HTTP client,
//! and the BRP OpenAPI document from the reference folder for the contract checker.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::path::Path;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Map, Value, json};
use sluis_testkit::brp::contract::Spec;
use sluis_testkit::brp::{BrpData, BrpFixture, BrpFixtureConfig, BrpFixtureHandle};
use yaml_rust2::{Yaml, YamlLoader};

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// The default data set (10,000 persons), generated once per test binary.
pub fn data() -> Arc<BrpData> {
    static DATA: OnceLock<Arc<BrpData>> = OnceLock::new();
    Arc::clone(DATA.get_or_init(|| {
        let c = BrpFixtureConfig::default();
        Arc::new(BrpData::generate(c.seed, c.persons, &c.own_gemeente, c.peildatum).unwrap())
    }))
}

/// The BRP Personen OpenAPI document, relative to the reference folder.
pub const OPENAPI: &str = "brp/openapi.yaml";

/// The BRP Personen OpenAPI document, read and compiled once per test binary. A test that calls
/// this starts with `sluis_testkit::require_reference!(OPENAPI)`, which skips it when the file
/// is missing; an unreadable or invalid document fails the test.
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = sluis_testkit::reference::path(OPENAPI)
            .unwrap_or_else(|skip| panic!("call require_reference!(OPENAPI) first: {skip}"));
        load_spec(&path)
    })
}

/// Reads an OpenAPI YAML file into a contract checker.
pub fn load_spec(path: &Path) -> Spec {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "cannot read the BRP OpenAPI document {} ({e})",
            path.display()
        )
    });
    let docs = YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()));
    let doc = docs
        .first()
        .unwrap_or_else(|| panic!("{}: empty YAML", path.display()));
    Spec::from_value(yaml_to_json(doc)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A YAML document as JSON, 1:1 (mapping keys become strings).
pub fn yaml_to_json(y: &Yaml) -> Value {
    match y {
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Yaml::Integer(i) => json!(i),
        Yaml::String(s) => json!(s),
        Yaml::Boolean(b) => json!(b),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    other => format!("{other:?}"),
                };
                m.insert(key, yaml_to_json(v));
            }
            Value::Object(m)
        }
        _ => Value::Null,
    }
}

/// A fixture over the shared default data.
pub async fn fixture() -> BrpFixtureHandle {
    fixture_with(BrpFixtureConfig::default()).await
}

pub async fn fixture_with(config: BrpFixtureConfig) -> BrpFixtureHandle {
    BrpFixture::start_with_data(data(), config).await.unwrap()
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
            )
        })
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The `personen` of a 200 answer.
    pub fn personen(&self) -> Vec<Value> {
        assert_eq!(self.status, 200, "{}", String::from_utf8_lossy(&self.body));
        self.json()["personen"].as_array().unwrap().clone()
    }

    /// The BSNs of a 200 answer's personen, sorted.
    pub fn bsns(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .personen()
            .iter()
            .map(|p| p["burgerservicenummer"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    }
}

pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Resp {
    let mut builder = Request::builder().method(method).uri(url);
    for (n, v) in headers {
        builder = builder.header(*n, *v);
    }
    let resp = client()
        .request(builder.body(Full::new(body.into())).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        headers,
        body,
    }
}

/// `POST` a JSON body with `Content-Type: application/json`.
pub async fn post(url: &str, body: &Value) -> Resp {
    post_with(url, body, &[]).await
}

pub async fn post_with(url: &str, body: &Value, headers: &[(&str, &str)]) -> Resp {
    let mut all = vec![("content-type", "application/json; charset=utf-8")];
    all.extend_from_slice(headers);
    send(Method::POST, url, &all, serde_json::to_vec(body).unwrap()).await
}

/// Asserts a BRP problem+json body and returns it.
pub fn assert_problem(resp: &Resp, status: u16, code: &str) -> Value {
    assert_eq!(
        resp.status,
        status,
        "{}",
        String::from_utf8_lossy(&resp.body)
    );
    assert_eq!(resp.content_type(), "application/problem+json");
    let body = resp.json();
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["title"].is_string(), "{body}");
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("https://datatracker.ietf.org/doc/html/rfc72"),
        "{body}"
    );
    body
}

/// `(name, code)` of each invalidParams entry.
pub fn invalid_params(problem: &Value) -> Vec<(String, String)> {
    problem["invalidParams"]
        .as_array()
        .unwrap_or_else(|| panic!("no invalidParams in {problem}"))
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
