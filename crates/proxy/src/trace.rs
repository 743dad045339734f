//! W3C trace context (`traceparent`) and the ids sluis makes for traces and spans.

use std::time::{SystemTime, UNIX_EPOCH};

/// Longest `traceparent` value read (version 00 is 55 bytes; later versions may append fields).
const MAX_TRACEPARENT: usize = 512;

/// The trace a request belongs to and the span sluis opens for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// 32 lowercase hex digits: the caller's trace id when its `traceparent` was valid.
    pub trace_id: String,
    /// 16 lowercase hex digits: sluis's own span for this request.
    pub span_id: String,
    /// The caller's span id, when it sent a valid `traceparent`.
    pub parent_id: Option<String>,
    /// Two hex digits of trace flags (`01` = sampled).
    pub flags: String,
}

/// A parsed, valid `traceparent` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    pub version: String,
    pub trace_id: String,
    pub parent_id: String,
    pub flags: String,
}

fn lower_hex(s: &str, n: usize) -> bool {
    s.len() == n
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl TraceParent {
    /// Parses a `traceparent` value per W3C Trace Context level 1: `version-traceid-parentid-flags`,
    /// lowercase hex, no all-zero ids, version `ff` invalid; a version above `00` may carry more
    /// fields after the flags. `None` for anything else.
    pub fn parse(value: &str) -> Option<TraceParent> {
        let value = value.trim();
        if value.len() > MAX_TRACEPARENT {
            return None;
        }
        let mut parts = value.split('-');
        let version = parts.next()?;
        let trace_id = parts.next()?;
        let parent_id = parts.next()?;
        let flags = parts.next()?;
        let rest_ok = if version == "00" {
            parts.next().is_none()
        } else {
            // Future versions: extra fields are allowed, the four known ones must still parse.
            true
        };
        let valid = rest_ok
            && lower_hex(version, 2)
            && version != "ff"
            && lower_hex(trace_id, 32)
            && trace_id.bytes().any(|b| b != b'0')
            && lower_hex(parent_id, 16)
            && parent_id.bytes().any(|b| b != b'0')
            && lower_hex(flags, 2);
        valid.then(|| TraceParent {
            version: version.to_owned(),
            trace_id: trace_id.to_owned(),
            parent_id: parent_id.to_owned(),
            flags: flags.to_owned(),
        })
    }
}

impl TraceContext {
    /// Continues the caller's trace when its `traceparent` is valid, else starts a new one
    /// (sampled). sluis's span id is always new.
    pub fn from_headers(headers: &hyper::HeaderMap) -> TraceContext {
        let parent = headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(TraceParent::parse);
        match parent {
            Some(p) => TraceContext {
                trace_id: p.trace_id,
                span_id: random_hex(8),
                parent_id: Some(p.parent_id),
                flags: p.flags,
            },
            None => TraceContext::new(),
        }
    }

    /// A new trace with a new span.
    pub fn new() -> TraceContext {
        TraceContext {
            trace_id: random_hex(16),
            span_id: random_hex(8),
            parent_id: None,
            flags: "01".to_owned(),
        }
    }

    /// The `traceparent` value naming sluis's span, for the upstream call and the response.
    pub fn traceparent(&self) -> String {
        format!("00-{}-{}-{}", self.trace_id, self.span_id, self.flags)
    }
}

impl Default for TraceContext {
    fn default() -> Self {
        TraceContext::new()
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Random lowercase hex for trace and span ids. Ids must be unique, not secret: a per-thread
/// generator seeded from the OS saves a system call per id on the hot path.
pub(crate) fn random_hex(bytes: usize) -> String {
    use std::cell::Cell;
    use std::fmt::Write;
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut seed = [0u8; 8];
            if getrandom::fill(&mut seed).is_err() {
                seed = (now_ms() ^ u64::from(std::process::id()).rotate_left(32)).to_le_bytes();
            }
            u64::from_le_bytes(seed) | 1
        });
    }
    let mut out = String::with_capacity(bytes * 2);
    let mut left = bytes;
    while left > 0 {
        // SplitMix64: well distributed, and never all zero (W3C forbids all-zero ids).
        let v = STATE.with(|s| {
            let x = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
            s.set(x);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        });
        let take = left.min(8);
        for b in v.to_le_bytes().iter().take(take) {
            let _ = write!(out, "{b:02x}");
        }
        left -= take;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_traceparent_is_continued() {
        let p = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assert_eq!(
            p.map(|p| (p.trace_id, p.parent_id, p.flags)),
            Some((
                "4bf92f3577b34da6a3ce929d0e0e4736".to_owned(),
                "00f067aa0ba902b7".to_owned(),
                "01".to_owned()
            ))
        );
    }

    #[test]
    fn invalid_traceparents_are_refused() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
        }
        // A later version may append fields.
        assert!(
            TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz")
                .is_some()
        );
    }

    #[test]
    fn new_ids_are_hex_and_distinct() {
        let a = TraceContext::new();
        let b = TraceContext::new();
        assert_ne!(a.trace_id, b.trace_id);
        assert!(lower_hex(&a.trace_id, 32) && lower_hex(&a.span_id, 16));
        assert!(TraceParent::parse(&a.traceparent()).is_some());
    }
}
