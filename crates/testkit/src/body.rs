//! Response bodies: a whole buffer, or a lazily generated oversized JSON document.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// Items per frame of an oversized body.
const BATCH: usize = 64;

/// The body type of every fixture response.
#[derive(Debug)]
pub(crate) struct FixtureBody {
    chunks: Chunks,
    remaining: u64,
}

#[derive(Debug)]
enum Chunks {
    Full(Option<Bytes>),
    Filler {
        head: Option<Bytes>,
        first: Option<Bytes>,
        /// `BATCH` copies of `,item`; frames are prefixes of it.
        batch: Bytes,
        unit: usize,
        items_left: usize,
        tail: Option<Bytes>,
    },
}

impl FixtureBody {
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        Self {
            remaining: bytes.len() as u64,
            chunks: Chunks::Full(Some(bytes).filter(|b| !b.is_empty())),
        }
    }

    pub(crate) fn empty() -> Self {
        Self::full(Bytes::new())
    }

    /// A valid JSON document of at least `min_bytes` bytes, shaped like a DSO list:
    /// `{"_embedded":{"filler":[{...},{...},...]}}`, produced frame by frame.
    pub(crate) fn oversized(min_bytes: usize) -> Self {
        let head = Bytes::from_static(br#"{"_embedded":{"filler":["#);
        let tail = Bytes::from_static(b"]}}");
        let item = format!(
            r#"{{"id":0,"fractieOmschrijving":"{}"}}"#,
            "Opvulling voor een te groot antwoord. ".repeat(26)
        );
        let unit = item.len() + 1;
        let fixed = head.len() + tail.len() + item.len();
        let extra = min_bytes.saturating_sub(fixed).div_ceil(unit);
        let batch = Bytes::from(format!(",{item}").repeat(BATCH));
        let total = fixed + extra * unit;
        Self {
            remaining: total as u64,
            chunks: Chunks::Filler {
                head: Some(head),
                first: Some(Bytes::from(item)),
                batch,
                unit,
                items_left: extra,
                tail: Some(tail),
            },
        }
    }

    fn next_chunk(&mut self) -> Option<Bytes> {
        let chunk = match &mut self.chunks {
            Chunks::Full(bytes) => bytes.take(),
            Chunks::Filler {
                head,
                first,
                batch,
                unit,
                items_left,
                tail,
            } => head.take().or_else(|| first.take()).or_else(|| {
                if *items_left > 0 {
                    let k = (*items_left).min(BATCH);
                    *items_left -= k;
                    Some(batch.slice(..k * *unit))
                } else {
                    tail.take()
                }
            }),
        }?;
        self.remaining = self.remaining.saturating_sub(chunk.len() as u64);
        Some(chunk)
    }
}

impl Body for FixtureBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(self.get_mut().next_chunk().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(mut b: FixtureBody) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(c) = b.next_chunk() {
            out.extend_from_slice(&c);
        }
        assert!(b.is_end_stream());
        out
    }

    #[test]
    fn oversized_is_valid_json_of_the_announced_size() {
        for min in [0, 10, 1_000, 1_100, 70_000, 200_001] {
            let body = FixtureBody::oversized(min);
            let announced = body.size_hint().exact().unwrap();
            let bytes = drain(body);
            assert_eq!(bytes.len() as u64, announced);
            assert!(bytes.len() >= min);
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert!(v["_embedded"]["filler"].is_array());
        }
    }
}
