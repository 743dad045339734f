//! Notificaties API `Notificatie` messages on kanaal `autorisaties`, posted to a configured
//! webhook when applicaties change (what the NRC would deliver to an abonnement).

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use super::config::ZgwNotify;
use super::model::Moment;

/// One notification the fixture sent (or tried to).
#[derive(Debug, Clone, PartialEq)]
pub struct SentNotification {
    /// The `Notificatie` body.
    pub body: Value,
    /// The webhook's HTTP status, or `None` while in flight or when delivery failed.
    pub status: Option<u16>,
}

/// Sends notifications in the background on the fixture's runtime.
#[derive(Debug, Clone)]
pub(crate) struct Notifier {
    target: Option<ZgwNotify>,
    runtime: tokio::runtime::Handle,
    client: Client<HttpConnector, Full<Bytes>>,
    sent: Arc<Mutex<Vec<SentNotification>>>,
}

impl Notifier {
    pub(crate) fn new(target: Option<ZgwNotify>, runtime: tokio::runtime::Handle) -> Self {
        let client = {
            let _guard = runtime.enter();
            Client::builder(TokioExecutor::new()).build_http()
        };
        Self {
            target,
            runtime,
            client,
            sent: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub(crate) fn sent(&self) -> Vec<SentNotification> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Queues a notification about `applicatie_url` (`actie`: create, update,
    /// partial_update, destroy). Nothing happens without a configured webhook.
    pub(crate) fn applicatie(&self, applicatie_url: &str, actie: &str) {
        let Some(target) = &self.target else {
            return;
        };
        let body = json!({
            "kanaal": "autorisaties",
            "hoofdObject": applicatie_url,
            "resource": "applicatie",
            "resourceUrl": applicatie_url,
            "actie": actie,
            "aanmaakdatum": Moment::now().to_string(),
            "kenmerken": {},
        });
        let index = {
            let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
            sent.push(SentNotification {
                body: body.clone(),
                status: None,
            });
            sent.len() - 1
        };
        let request = Request::post(&target.webhook_url)
            .header("content-type", "application/json")
            .header("authorization", &target.authorization)
            .body(Full::new(Bytes::from(body.to_string())));
        let Ok(request) = request else {
            return;
        };
        let client = self.client.clone();
        let sent = Arc::clone(&self.sent);
        self.runtime.spawn(async move {
            let status = client
                .request(request)
                .await
                .ok()
                .map(|r| r.status().as_u16());
            if let Some(entry) = sent
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_mut(index)
            {
                entry.status = status;
            }
        });
    }
}
