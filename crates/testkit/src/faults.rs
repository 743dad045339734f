//! Fault injection and request recording, shared between a test and the running server.

use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// One request as the fixture received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// Path and query as sent (`/v1/brp/ingeschrevenpersonen?bsn=...`).
    pub uri: String,
    /// All headers in arrival order, names lower-case (non-UTF-8 values lossily decoded).
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
struct State {
    delay_micros: AtomicU64,
    /// 0 = no forced status.
    status: AtomicU16,
    non_json: AtomicBool,
    overdeliver: AtomicBool,
    /// 0 = off, otherwise the minimum body size + 1.
    oversized: AtomicU64,
    requests: AtomicU64,
    connections: AtomicU64,
    last: Mutex<Option<RecordedRequest>>,
}

/// Switches the running fixture into misbehaviour, and tells what it received.
///
/// Cheap to clone; all clones control the same fixture. Settings take effect for requests that
/// arrive after the call. They compose: the delay applies first, then a forced status, then
/// non-JSON, then an oversized body; the API-key check and the real API come after all of them.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    state: Arc<State>,
}

impl Faults {
    /// Wait this long before answering each request (0 = off).
    pub fn set_delay(&self, delay: Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.state.delay_micros.store(micros, Ordering::Relaxed);
    }

    /// The current delay.
    pub fn delay(&self) -> Duration {
        Duration::from_micros(self.state.delay_micros.load(Ordering::Relaxed))
    }

    /// Answer every request with this status and a problem+json body (`None` = off). A value
    /// that is no HTTP status (outside 100..=999) is sent as 500.
    pub fn set_status(&self, status: Option<u16>) {
        self.state
            .status
            .store(status.unwrap_or(0), Ordering::Relaxed);
    }

    /// The forced status, if any.
    pub fn status(&self) -> Option<u16> {
        Some(self.state.status.load(Ordering::Relaxed)).filter(|&s| s != 0)
    }

    /// Answer with more than was asked for (the BRP fixture ignores the request's `fields` and
    /// delivers its broad default set): an upstream that does not minimise.
    pub fn set_overdeliver(&self, on: bool) {
        self.state.overdeliver.store(on, Ordering::Relaxed);
    }

    /// Whether overdelivery is on.
    pub fn overdeliver(&self) -> bool {
        self.state.overdeliver.load(Ordering::Relaxed)
    }

    /// Answer 200 with a `text/html` body instead of JSON.
    pub fn set_non_json(&self, on: bool) {
        self.state.non_json.store(on, Ordering::Relaxed);
    }

    /// Whether non-JSON answers are on.
    pub fn non_json(&self) -> bool {
        self.state.non_json.load(Ordering::Relaxed)
    }

    /// Answer 200 with a valid JSON body of at least this many bytes (streamed, with an exact
    /// `Content-Length`), or `None` for normal bodies.
    pub fn set_oversized(&self, min_bytes: Option<usize>) {
        let v = min_bytes.map_or(0, |n| {
            u64::try_from(n).unwrap_or(u64::MAX).saturating_add(1)
        });
        self.state.oversized.store(v, Ordering::Relaxed);
    }

    /// The oversized-body setting.
    pub fn oversized(&self) -> Option<usize> {
        match self.state.oversized.load(Ordering::Relaxed) {
            0 => None,
            n => Some(usize::try_from(n - 1).unwrap_or(usize::MAX)),
        }
    }

    /// Turns every fault off. The request counter and the last request are kept (see
    /// [`Faults::clear_recorded`]).
    pub fn reset(&self) {
        self.set_delay(Duration::ZERO);
        self.set_status(None);
        self.set_non_json(false);
        self.set_oversized(None);
        self.set_overdeliver(false);
    }

    /// Number of requests received since start (or [`Faults::clear_recorded`]), faulted or not.
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// Number of connections accepted since start (or [`Faults::clear_recorded`]): with the
    /// request count, shows whether a client reuses its connections.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::Relaxed)
    }

    pub(crate) fn count_connection(&self) {
        self.state.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Headers of the most recent request (empty before the first one).
    pub fn last_headers(&self) -> Vec<(String, String)> {
        self.last_request().map(|r| r.headers).unwrap_or_default()
    }

    /// The most recent request.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.state
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Zeroes the request and connection counters and forgets the last request.
    pub fn clear_recorded(&self) {
        self.state.requests.store(0, Ordering::Relaxed);
        self.state.connections.store(0, Ordering::Relaxed);
        *self
            .state
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    pub(crate) fn record(&self, request: RecordedRequest) {
        self.state.requests.fetch_add(1, Ordering::Relaxed);
        *self
            .state
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(request);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_reset() {
        let f = Faults::default();
        f.set_delay(Duration::from_millis(250));
        f.set_status(Some(503));
        f.set_non_json(true);
        f.set_oversized(Some(0));
        assert_eq!(f.delay(), Duration::from_millis(250));
        assert_eq!(f.status(), Some(503));
        assert!(f.non_json());
        assert_eq!(f.oversized(), Some(0));
        f.reset();
        assert_eq!(f.delay(), Duration::ZERO);
        assert_eq!(f.status(), None);
        assert!(!f.non_json());
        assert_eq!(f.oversized(), None);
    }
}
