//! A tiny HTTP client for talking to the fixture over real sockets.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::HeaderMap;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

pub type HttpClient = Client<HttpConnector, Empty<Bytes>>;

pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
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
}

pub async fn send(
    client: &HttpClient,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let mut builder = Request::builder().method(method).uri(url);
    for (n, v) in headers {
        builder = builder.header(*n, *v);
    }
    let resp = client
        .request(builder.body(Empty::new()).unwrap())
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

pub async fn get(url: &str) -> Resp {
    send(&client(), Method::GET, url, &[]).await
}

pub async fn get_with(url: &str, headers: &[(&str, &str)]) -> Resp {
    send(&client(), Method::GET, url, headers).await
}

/// The `id` values of a list's `_embedded.<table>`.
pub fn ids(body: &Value, table: &str) -> Vec<Value> {
    body["_embedded"][table]
        .as_array()
        .unwrap_or_else(|| panic!("no _embedded.{table} in {body}"))
        .iter()
        .map(|r| r["id"].clone())
        .collect()
}

/// Asserts the problem+json shape and returns the body.
pub fn assert_problem(resp: &Resp, status: u16, instance: &str) -> Value {
    assert_eq!(
        resp.status,
        status,
        "{}",
        String::from_utf8_lossy(&resp.body)
    );
    assert_eq!(resp.content_type(), "application/problem+json");
    let body = resp.json();
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:apiexception:"),
        "{body}"
    );
    assert!(body["title"].is_string(), "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(body["detail"].is_string(), "{body}");
    assert_eq!(body["instance"], instance, "{body}");
    body
}
