//! Misuse detection in the server: every committed batch is handed (moved, not copied) to a
//! detector thread of its own, which runs the `[detection]` rules record by record; the alerts
//! it raises are recorded in the audit log like every record (chained, before anyone is told),
//! counted as metrics, and delivered to the webhook — signed, retried with backoff, and counted
//! as dead letters when every attempt failed.
//!
//! The request path never waits for detection: a batch that finds the detector's queue full is
//! dropped from detection (not from the log) and counted (`sluis_detect_dropped_entries_total`),
//! and `sluis audit detect` over the store finds what the server missed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::CONTENT_TYPE;
use serde_json::json;
use sha2::Sha256;
use sluis_audit::{AlertRecord, CommitObserver, Entry, EntrySink, now_ms, rfc3339_local};
use sluis_detect::{Detector, Rules};
use tokio::sync::{mpsc, watch};

use crate::config::{Detection, Webhook};
use crate::error::StartError;

/// Alerts waiting to be recorded before the detector waits for room.
const ALERT_QUEUE: usize = 1_024;
/// How long the detector waits for entries before moving its clock (closing periods).
const TICK: Duration = Duration::from_secs(30);

/// A committed batch on its way to the detector.
#[derive(Debug)]
struct Batch {
    first_seq: u64,
    time_ms: u64,
    entries: Vec<Entry>,
}

/// The [`CommitObserver`] the audit writer hands its batches to.
#[derive(Debug)]
pub struct Feed {
    tx: SyncSender<Batch>,
    queued: Arc<AtomicUsize>,
    capacity: usize,
}

/// The detector's end of the [`Feed`].
#[derive(Debug)]
pub struct FeedReceiver {
    rx: Receiver<Batch>,
    queued: Arc<AtomicUsize>,
}

/// A feed holding at most `capacity` entries.
pub fn feed(capacity: usize) -> (Arc<Feed>, FeedReceiver) {
    // Batches are bounded by entries (`queued`), the channel only by a generous batch count.
    let (tx, rx) = sync_channel(capacity.clamp(16, 65_536));
    let queued = Arc::new(AtomicUsize::new(0));
    (
        Arc::new(Feed {
            tx,
            queued: Arc::clone(&queued),
            capacity: capacity.max(1),
        }),
        FeedReceiver { rx, queued },
    )
}

impl CommitObserver for Feed {
    fn committed(&self, first_seq: u64, time_ms: u64, entries: Vec<Entry>) {
        let n = entries.len();
        if self.queued.load(Ordering::Relaxed).saturating_add(n) > self.capacity {
            metrics::counter!("sluis_detect_dropped_entries_total").increment(n as u64);
            return;
        }
        self.queued.fetch_add(n, Ordering::Relaxed);
        match self.tx.try_send(Batch {
            first_seq,
            time_ms,
            entries,
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(n, Ordering::Relaxed);
                metrics::counter!("sluis_detect_dropped_entries_total").increment(n as u64);
            }
        }
    }
}

/// The running detection: its rules can be replaced on reload.
#[derive(Debug)]
pub struct Supervisor {
    rules: Arc<ArcSwap<Rules>>,
}

impl Supervisor {
    /// Replaces the rules (a configuration reload); the detector keeps what it has observed.
    pub fn set_rules(&self, rules: Arc<Rules>) {
        self.rules.store(rules);
    }
}

/// Starts the detector thread and the task that records and delivers its alerts.
pub fn spawn(
    detection: &Detection,
    feed: FeedReceiver,
    sink: Arc<dyn EntrySink>,
    known: Vec<(String, u64)>,
    stop: watch::Receiver<bool>,
) -> Result<Supervisor, StartError> {
    let rules = Arc::new(ArcSwap::new(Arc::clone(&detection.rules)));
    let (alerts_tx, alerts_rx) = mpsc::channel::<AlertRecord>(ALERT_QUEUE);
    let thread_rules = Arc::clone(&rules);
    std::thread::Builder::new()
        .name("sluis-detect".into())
        .spawn(move || detect(feed, thread_rules, known, alerts_tx))
        .map_err(|e| StartError::Other(format!("detection: {e}")))?;
    let webhook = match &detection.webhook {
        Some(w) => Some(Delivery::new(w.clone())?),
        None => None,
    };
    tokio::spawn(record_and_deliver(alerts_rx, sink, webhook, stop));
    Ok(Supervisor { rules })
}

fn detect(
    feed: FeedReceiver,
    rules: Arc<ArcSwap<Rules>>,
    known: Vec<(String, u64)>,
    alerts: mpsc::Sender<AlertRecord>,
) {
    let mut current = rules.load_full();
    let mut d = Detector::new(Arc::clone(&current));
    for (id, t) in known {
        d.seen(&id, t);
    }
    let send = |raised: Vec<AlertRecord>| -> bool {
        for a in raised {
            metrics::counter!(
                "sluis_alerts_total",
                "rule" => a.rule.clone(),
                "severity" => a.severity.as_str()
            )
            .increment(1);
            if alerts.blocking_send(a).is_err() {
                return false;
            }
        }
        true
    };
    loop {
        let latest = rules.load_full();
        if !Arc::ptr_eq(&latest, &current) {
            current = latest;
            d.set_rules(Arc::clone(&current));
        }
        match feed.rx.recv_timeout(TICK) {
            Ok(batch) => {
                feed.queued
                    .fetch_sub(batch.entries.len(), Ordering::Relaxed);
                let started = Instant::now();
                for (seq, e) in (batch.first_seq..).zip(batch.entries.iter()) {
                    let raised = d.observe(seq, batch.time_ms, e);
                    if !raised.is_empty() && !send(raised) {
                        return;
                    }
                }
                metrics::counter!("sluis_detect_entries_total")
                    .increment(batch.entries.len() as u64);
                metrics::counter!("sluis_detect_busy_microseconds_total")
                    .increment(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
            }
            Err(RecvTimeoutError::Timeout) => {
                if !send(d.tick(now_ms())) {
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let (traces, subjects, users) = d.tracked();
        metrics::gauge!("sluis_detect_tracked", "what" => "requests").set(traces as f64);
        metrics::gauge!("sluis_detect_tracked", "what" => "subjects").set(subjects as f64);
        metrics::gauge!("sluis_detect_tracked", "what" => "users").set(users as f64);
    }
}

/// Records each alert in the log (retrying while the store is down), then delivers it.
async fn record_and_deliver(
    mut alerts: mpsc::Receiver<AlertRecord>,
    sink: Arc<dyn EntrySink>,
    webhook: Option<Arc<Delivery>>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let alert = tokio::select! {
            a = alerts.recv() => match a {
                Some(a) => a,
                None => return,
            },
            _ = stop.changed() => return,
        };
        let mut backoff = Duration::from_millis(200);
        let mut recorded = false;
        for _ in 0..10 {
            match sink.commit_entries(vec![Entry::Alert(alert.clone())]).await {
                Ok(()) => {
                    recorded = true;
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, rule = %alert.rule, "alert could not be recorded yet");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
        if !recorded {
            // Not delivered either: an alert nobody can look up would point at nothing. The
            // finding stays in the log's records; `sluis audit detect` raises it again.
            metrics::counter!("sluis_alerts_unrecorded_total").increment(1);
            tracing::error!(rule = %alert.rule, id = %alert.id, "alert not recorded: the audit store is unavailable");
            continue;
        }
        if let Some(w) = &webhook
            && alert.severity >= w.cfg.min_severity
        {
            let w = Arc::clone(w);
            tokio::spawn(async move { w.deliver(&alert).await });
        }
    }
}

/// Webhook delivery: signed, retried with exponential backoff.
struct Delivery {
    cfg: Webhook,
    client: hyper_util::client::legacy::Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        Full<Bytes>,
    >,
}

impl Delivery {
    fn new(cfg: Webhook) -> Result<Arc<Delivery>, StartError> {
        let client = crate::upstream::https_client(cfg.timeout, 4, None)?;
        Ok(Arc::new(Delivery { cfg, client }))
    }

    async fn deliver(&self, alert: &AlertRecord) {
        let body = payload(alert, self.cfg.include_identities);
        let mut backoff = Duration::from_millis(500);
        for attempt in 1..=self.cfg.max_attempts {
            match self.attempt(alert, &body).await {
                Ok(()) => {
                    metrics::counter!("sluis_alert_webhook_deliveries_total", "outcome" => "delivered")
                        .increment(1);
                    let latency = now_ms().saturating_sub(alert.time_ms) as f64 / 1_000.0;
                    metrics::histogram!("sluis_alert_delivery_seconds").record(latency);
                    return;
                }
                Err(Failure::Permanent(why)) => {
                    tracing::error!(id = %alert.id, %why, "alert webhook refused the delivery");
                    break;
                }
                Err(Failure::Retry(why)) => {
                    metrics::counter!("sluis_alert_webhook_deliveries_total", "outcome" => "retried")
                        .increment(1);
                    tracing::warn!(id = %alert.id, attempt, %why, "alert webhook delivery failed");
                    if attempt < self.cfg.max_attempts {
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(60));
                    }
                }
            }
        }
        metrics::counter!("sluis_alert_webhook_dead_letters_total").increment(1);
    }

    async fn attempt(&self, alert: &AlertRecord, body: &str) -> Result<(), Failure> {
        let t = now_ms() / 1_000;
        let signature = sign(self.cfg.secret.expose(), t, body);
        let req = Request::post(self.cfg.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header("x-sluis-alert-id", alert.id.as_str())
            .header("x-sluis-signature", format!("t={t},v1={signature}"))
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|e| Failure::Permanent(e.to_string()))?;
        let resp = tokio::time::timeout(self.cfg.timeout, self.client.request(req))
            .await
            .map_err(|_| Failure::Retry("timed out".into()))?
            .map_err(|e| Failure::Retry(e.to_string()))?;
        let status = resp.status();
        // Read (and discard) the answer so the connection can be reused.
        let _ = tokio::time::timeout(self.cfg.timeout, resp.into_body().collect()).await;
        if status.is_success() {
            Ok(())
        } else if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
            Err(Failure::Permanent(format!("answered {status}")))
        } else {
            Err(Failure::Retry(format!("answered {status}")))
        }
    }
}

enum Failure {
    Retry(String),
    Permanent(String),
}

/// `hex(HMAC-SHA256(key, "<t>.<body>"))`: the receiver recomputes it over the raw body and
/// rejects an old `t` (a replay).
pub fn sign(key: &[u8], t: u64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The webhook body: the finding, and who and whom only when configured.
pub fn payload(a: &AlertRecord, identities: bool) -> String {
    let mut v = json!({
        "type": "sluis.alert",
        "id": a.id,
        "rule": a.rule,
        "name": a.name,
        "severity": a.severity.as_str(),
        "time": rfc3339_local(a.time_ms),
        "period": {
            "from": rfc3339_local(a.period_from_ms),
            "to": rfc3339_local(a.period_to_ms),
        },
        "summary": a.summary,
        "count": a.count,
        "evidence_seqs": a.evidence_seqs,
        "unit": a.unit,
    });
    if identities && let Some(m) = v.as_object_mut() {
        m.insert("user".into(), json!(a.user));
        m.insert("application".into(), json!(a.application));
        m.insert("subjects".into(), json!(a.subjects));
        m.insert("trace_ids".into(), json!(a.trace_ids));
    }
    v.to_string()
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("url", &self.cfg.url)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_time_and_body() {
        let a = sign(b"0123456789abcdef", 1, "{}");
        assert_eq!(a.len(), 64);
        assert_ne!(a, sign(b"0123456789abcdef", 2, "{}"));
        assert_ne!(a, sign(b"0123456789abcdef", 1, "{ }"));
        assert_ne!(a, sign(b"fedcba9876543210", 1, "{}"));
    }

    #[test]
    fn identities_are_left_out_unless_configured() {
        let a = AlertRecord {
            id: "x".into(),
            rule: "D5".into(),
            name: "watch_list".into(),
            severity: sluis_audit::Severity::High,
            time_ms: 1,
            user: Some("ann".into()),
            application: Some("balie".into()),
            unit: None,
            period_from_ms: 0,
            period_to_ms: 2,
            summary: "s".into(),
            count: 1,
            evidence_seqs: vec![3],
            trace_ids: vec!["t".into()],
            subjects: vec!["k1:aa".into()],
        };
        let plain = payload(&a, false);
        assert!(
            !plain.contains("ann") && !plain.contains("k1:aa"),
            "{plain}"
        );
        let full = payload(&a, true);
        assert!(full.contains("ann") && full.contains("k1:aa"), "{full}");
    }

    #[test]
    fn a_full_feed_drops_instead_of_blocking() {
        let purge = || {
            Entry::Purge(sluis_audit::PurgeRecord {
                time_ms: 0,
                removed: Vec::new(),
                removed_access: 0,
                up_to_seq: 0,
                anchor_hash: String::new(),
            })
        };
        let (f, rx) = feed(3);
        f.committed(1, 0, vec![purge(), purge()]);
        // 2 queued + 2 more is over the capacity of 3: dropped, and the writer did not wait.
        f.committed(3, 0, vec![purge(), purge()]);
        let first = rx.rx.try_recv().ok().map(|b| b.first_seq);
        assert_eq!(first, Some(1));
        assert!(rx.rx.try_recv().is_err());
    }
}
