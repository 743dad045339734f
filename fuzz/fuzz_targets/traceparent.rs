//! Arbitrary bytes as a `traceparent` header value: `TraceParent::parse` must answer `None` or a
//! well-formed trace parent (lowercase hex of 2/32/16/2 digits, version not `ff`, ids not all
//! zero), never panic; and a request carrying that header continues the trace.

#![no_main]

use hyper::HeaderMap;
use hyper::header::HeaderValue;
use libfuzzer_sys::fuzz_target;
use sluis_proxy::trace::{TraceContext, TraceParent};

fn lower_hex(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let Some(p) = TraceParent::parse(value) else {
        return;
    };
    assert!(lower_hex(&p.version, 2) && p.version != "ff", "{p:?}");
    assert!(lower_hex(&p.trace_id, 32), "{p:?}");
    assert!(lower_hex(&p.parent_id, 16), "{p:?}");
    assert!(lower_hex(&p.flags, 2), "{p:?}");
    assert!(p.trace_id.bytes().any(|b| b != b'0'), "{p:?}");
    assert!(p.parent_id.bytes().any(|b| b != b'0'), "{p:?}");

    // Only values a client can send as a header: visible ASCII, spaces and tabs.
    let Ok(header) = HeaderValue::from_str(value) else {
        return;
    };
    if header.to_str().is_err() {
        return;
    }
    let mut headers = HeaderMap::new();
    headers.insert("traceparent", header);
    let ctx = TraceContext::from_headers(&headers);
    assert_eq!(ctx.trace_id, p.trace_id);
    assert_eq!(ctx.parent_id.as_deref(), Some(p.parent_id.as_str()));
    assert_eq!(ctx.flags, p.flags);
    assert!(lower_hex(&ctx.span_id, 16), "{ctx:?}");
    let next = ctx.traceparent();
    assert_eq!(
        TraceParent::parse(&next).map(|n| n.trace_id),
        Some(p.trace_id),
        "the traceparent sluis sends on must parse: {next}"
    );
});
