//! The accept loop of both listeners, and the limits that keep a flood of slow or idle clients
//! from taking sluis down: a cap on open connections per listener, a deadline for the request
//! head, an idle deadline, and backoff on accept errors (running out of file descriptors must
//! not turn into a busy loop).

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming as IncomingBody;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

use crate::problem::Body;

/// Largest request head (request line plus headers) accepted.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How long a connection being shed has to send its request head and read the 503.
const SHED_DEADLINE: Duration = Duration::from_secs(2);

/// First and largest pause after a failed `accept()`.
const MIN_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// `[limits]` in `sluis.toml`: connection limits of the API and admin listeners.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Time a client has to send a complete request head, counted from when the connection is
    /// ready for a request: just accepted, or the previous response written. hyper 1 starts this
    /// clock as soon as it waits for a head, so it also bounds how long a keep-alive connection
    /// may wait for its next request.
    pub header_read_timeout_ms: u64,
    /// Time a client has to send a complete request body, counted from the end of the head.
    pub body_read_timeout_ms: u64,
    /// A connection on which no byte moves in either direction for this long, while no request
    /// is being handled, is closed: chiefly a client that stops reading its response, which no
    /// other deadline covers; a keep-alive connection nobody uses when this is shorter than the
    /// head deadline. A watchdog over the socket enforces it (see [`IdleIo`]).
    pub idle_timeout_ms: u64,
    /// Open connections on the API listener; more are shed (`shed_connections`), and past
    /// those wait in the kernel's accept backlog.
    pub max_connections: usize,
    /// Connections beyond `max_connections` on the API listener that are accepted only to be
    /// answered at once: 503 problem+json `overloaded` with `Retry-After: 1` and
    /// `Connection: close`, instead of waiting unanswered in the backlog (where a client sees
    /// nothing until its SYN is retried, seconds later). Past these too, connections wait in the
    /// backlog. 0: every connection past the cap waits.
    pub shed_connections: usize,
    /// Open connections on the admin listener, capped apart so `/healthz` and `/metrics` stay
    /// reachable while the API listener is flooded.
    pub admin_max_connections: usize,
    /// The kernel's accept queue of each listener: connections whose handshake is complete and
    /// that sluis has not accepted yet. When it is full, a new client's SYN is dropped and
    /// retried only a second or more later. Linux caps it at `net.core.somaxconn`.
    pub backlog: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 30_000,
            idle_timeout_ms: 60_000,
            max_connections: 4096,
            shed_connections: 256,
            admin_max_connections: 64,
            backlog: 1024,
        }
    }
}

/// Binds a listener on `addr` with an accept queue of `backlog` connections (`SO_REUSEADDR`
/// set, as `TcpListener::bind` does).
pub async fn bind(addr: std::net::SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

impl Limits {
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }
    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_millis(self.body_read_timeout_ms)
    }
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }
    /// How many connections past its cap the listener called `name` sheds (none on the admin
    /// listener: its few clients wait).
    fn shed(&self, name: &str) -> usize {
        if name == ADMIN {
            0
        } else {
            self.shed_connections
        }
    }

    /// The connection cap of the listener called `name`.
    fn cap(&self, name: &str) -> usize {
        if name == ADMIN {
            self.admin_max_connections
        } else {
            self.max_connections
        }
    }
}

/// Connections a listener has open now and at most so far (the latter for tests).
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    open: AtomicUsize,
    peak: AtomicUsize,
}

impl Tracker {
    #[cfg(test)]
    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// Held by a connection task: gives the permit back and counts the connection closed however
/// the task ends.
struct Open {
    _permit: tokio::sync::OwnedSemaphorePermit,
    tracker: Arc<Tracker>,
    name: &'static str,
}

impl Open {
    fn new(
        permit: tokio::sync::OwnedSemaphorePermit,
        tracker: Arc<Tracker>,
        name: &'static str,
    ) -> Open {
        let now = tracker.open.fetch_add(1, Ordering::SeqCst) + 1;
        tracker.peak.fetch_max(now, Ordering::SeqCst);
        metrics::gauge!("sluis_open_connections", "listener" => name).increment(1.0);
        Open {
            _permit: permit,
            tracker,
            name,
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.tracker.open.fetch_sub(1, Ordering::SeqCst);
        metrics::gauge!("sluis_open_connections", "listener" => self.name).decrement(1.0);
    }
}

/// The API listener's name in metrics and logs.
pub(crate) const API: &str = "api";
/// The admin listener's name; it gets `admin_max_connections`.
pub(crate) const ADMIN: &str = "admin";

/// Serves `listener` with `handler` until `stop` changes, then lets open connections finish
/// for up to `grace`. `name` ([`API`] or [`ADMIN`]) labels the metrics and picks the cap.
pub(crate) async fn serve<F, Fut>(
    listener: TcpListener,
    stop: watch::Receiver<bool>,
    grace: Duration,
    limits: &Limits,
    name: &'static str,
    handler: F,
) where
    F: Fn(Request<IncomingBody>) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Response<Body>> + Send + 'static,
{
    serve_tracked(
        listener,
        stop,
        grace,
        limits,
        limits.cap(name),
        name,
        Arc::new(Tracker::default()),
        handler,
    )
    .await;
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn serve_tracked<F, Fut>(
    listener: TcpListener,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
    limits: &Limits,
    max: usize,
    name: &'static str,
    tracker: Arc<Tracker>,
    handler: F,
) where
    F: Fn(Request<IncomingBody>) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Response<Body>> + Send + 'static,
{
    // Registered at zero so dashboards see the series before the first event. Several servers
    // can share the process (tests), so nothing is reset here.
    metrics::gauge!("sluis_open_connections", "listener" => name).increment(0.0);
    metrics::counter!("sluis_accept_errors_total", "listener" => name).increment(0);
    metrics::counter!("sluis_connections_shed_total", "listener" => name).increment(0);
    let permits = Arc::new(Semaphore::new(max.max(1)));
    let shed_cap = limits.shed(name);
    let shedding = Arc::new(Semaphore::new(shed_cap));
    let mut shed_builder = http1::Builder::new();
    shed_builder
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout().min(SHED_DEADLINE));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .max_buf_size(MAX_HEAD_BYTES)
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout());
    let idle = limits.idle_timeout();
    let mut backoff = Backoff::default();
    loop {
        // The permit comes first: past the cap (and the connections being shed), connections
        // wait in the kernel's backlog instead of each holding a task, buffers and a file
        // descriptor here.
        let at_cap = permits.available_permits() == 0 && shed_cap > 0;
        let (permit, shed) = tokio::select! {
            biased;
            p = Arc::clone(&permits).acquire_owned() => match p {
                Ok(p) => (p, false),
                Err(_) => break,
            },
            p = Arc::clone(&shedding).acquire_owned(), if at_cap => match p {
                Ok(p) => (p, true),
                Err(_) => break,
            },
            _ = stop.changed() => break,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff.reset();
                stream
            }
            Err(e) => {
                // EMFILE, ENFILE, ENOBUFS... persist until something closes; retrying at once
                // would spin a core and flood the log.
                let pause = backoff.next_pause();
                metrics::counter!("sluis_accept_errors_total", "listener" => name).increment(1);
                tracing::warn!(listener = name, error = %e, retry_in = ?pause, "accept failed");
                drop(permit);
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => break,
                }
                continue;
            }
        };
        if shed {
            metrics::counter!("sluis_connections_shed_total", "listener" => name).increment(1);
            let conn = shed_builder.serve_connection(
                TokioIo::new(stream),
                service_fn(|req: Request<IncomingBody>| async move {
                    let resp = crate::problem::respond(
                        &crate::error::ProxyError::Overloaded,
                        req.uri().path(),
                    );
                    Ok::<_, Infallible>(resp)
                }),
            );
            tokio::spawn(async move {
                // One answer, then the connection closes; a client that sends nothing in time
                // is dropped. The permit is held until then.
                let _ = tokio::time::timeout(SHED_DEADLINE, conn).await;
                drop(permit);
            });
            continue;
        }
        let open = Open::new(permit, Arc::clone(&tracker), name);
        let _ = stream.set_nodelay(true);
        let activity = Activity::new();
        let io = IdleIo {
            inner: stream,
            activity: Arc::clone(&activity),
        };
        let h = handler.clone();
        let busy = Arc::clone(&activity);
        let conn = builder.serve_connection(
            TokioIo::new(io),
            service_fn(move |req| {
                let h = h.clone();
                let guard = Busy::new(Arc::clone(&busy));
                async move {
                    let resp = h(req).await;
                    drop(guard);
                    Ok::<_, Infallible>(resp)
                }
            }),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            tokio::select! {
                _ = conn => {}
                // Dropping the connection closes the socket.
                _ = activity.idle_for(idle) => {
                    tracing::debug!(listener = name, "closing idle connection");
                }
            }
            drop(open);
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            listener = name,
            "grace period over; closing remaining connections"
        );
    }
}

/// Pauses after consecutive accept errors: 10 ms, doubling up to 1 s.
#[derive(Debug)]
struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Backoff(MIN_BACKOFF)
    }
}

impl Backoff {
    fn next_pause(&mut self) -> Duration {
        let pause = self.0;
        self.0 = (self.0 * 2).min(MAX_BACKOFF);
        pause
    }
    fn reset(&mut self) {
        self.0 = MIN_BACKOFF;
    }
}

/// When bytes last moved on a connection, and how many requests on it are being handled.
#[derive(Debug)]
struct Activity {
    start: Instant,
    /// Milliseconds after `start`.
    last_ms: AtomicU64,
    busy: AtomicUsize,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
        })
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Resolves once nothing moved for `idle` while no request was being handled. A request in
    /// progress is bounded by the body and upstream timeouts instead: a slow upstream is not an
    /// idle client.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let last = self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let deadline = last + idle;
            if Instant::now() < deadline {
                tokio::time::sleep_until(deadline).await;
                continue;
            }
            if self.busy.load(Ordering::SeqCst) > 0 {
                self.touch();
                continue;
            }
            return;
        }
    }
}

/// Counts a request as being handled while it lives.
struct Busy(Arc<Activity>);

impl Busy {
    fn new(a: Arc<Activity>) -> Busy {
        a.busy.fetch_add(1, Ordering::SeqCst);
        Busy(a)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        // The response is still to be written: the idle clock starts from here.
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A socket that notes in its [`Activity`] when bytes move.
struct IdleIo<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    /// A burst of connects completes at once while sluis is not accepting, up to the backlog:
    /// with the 128 of `TcpListener::bind`, the rest would have their SYNs dropped.
    #[tokio::test]
    async fn the_backlog_holds_a_burst_of_connects() {
        // The kernel caps every backlog at net.core.somaxconn (4096 by default since Linux 5.4).
        if let Some(max) = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .filter(|m| *m < 300)
        {
            eprintln!("skipped: net.core.somaxconn is {max}, below the 300 connects of this test");
            return;
        }
        let listener = bind("127.0.0.1:0".parse().unwrap(), 1024).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut held = Vec::new();
        for i in 0..300 {
            let c = tokio::time::timeout(
                Duration::from_millis(500),
                tokio::net::TcpStream::connect(addr),
            )
            .await;
            match c {
                Ok(Ok(stream)) => held.push(stream),
                other => panic!("connect {i} did not complete at once: {other:?}"),
            }
        }
        drop(listener);
    }

    /// Limits without shedding: past the cap, connections wait.
    fn limits(header_ms: u64, max: usize) -> Limits {
        Limits {
            header_read_timeout_ms: header_ms,
            max_connections: max,
            shed_connections: 0,
            ..Limits::default()
        }
    }

    /// Past the cap, connections are answered 503 at once (up to `shed_connections` at a time),
    /// and past those they wait in the backlog until a connection closes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_past_the_cap_are_answered_503_at_once_then_wait() {
        let l = Limits {
            max_connections: 1,
            shed_connections: 2,
            ..Limits::default()
        };
        let (addr, tracker, _stop) = start(l, Duration::from_millis(1000)).await;
        // The one connection the cap allows, busy for 1 s.
        let busy = tokio::spawn(get(addr));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let resp = tokio::time::timeout(Duration::from_secs(1), get(addr))
            .await
            .expect("a shed connection is answered at once");
        assert!(started.elapsed() < Duration::from_millis(900));
        let lower = resp.to_ascii_lowercase();
        assert!(resp.starts_with("HTTP/1.1 503"), "{resp}");
        assert!(lower.contains("retry-after: 1\r\n"), "{resp}");
        assert!(lower.contains("connection: close\r\n"), "{resp}");
        assert!(
            lower.contains("content-type: application/problem+json"),
            "{resp}"
        );
        assert!(resp.contains("\"code\":\"overloaded\""), "{resp}");
        // Two silent clients hold both shedding slots (until the 2 s deadline); the next
        // connection waits for the busy one to finish and is then served.
        let mut silent = Vec::new();
        for _ in 0..2 {
            silent.push(TcpStream::connect(addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let waiting = tokio::spawn(get(addr));
        let first = busy.await.unwrap();
        assert!(first.starts_with("HTTP/1.1 200"), "{first}");
        let later = tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .unwrap()
            .unwrap();
        assert!(later.starts_with("HTTP/1.1 200"), "{later}");
        assert!(tracker.peak() <= 1, "shed connections are not counted open");
        // The silent ones are dropped at the deadline.
        for s in silent {
            assert!(
                tokio::time::timeout(Duration::from_secs(5), closed(s))
                    .await
                    .unwrap()
            );
        }
    }

    /// Starts a listener answering `ok` to everything; returns its address, the tracker and
    /// the stop switch (kept alive by the caller).
    async fn start(
        limits: Limits,
        delay: Duration,
    ) -> (SocketAddr, Arc<Tracker>, watch::Sender<bool>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tracker = Arc::new(Tracker::default());
        let (stop, rx) = watch::channel(false);
        let t = Arc::clone(&tracker);
        tokio::spawn(async move {
            let max = limits.max_connections;
            serve_tracked(
                listener,
                rx,
                Duration::from_secs(1),
                &limits,
                max,
                "test",
                t,
                move |_req| async move {
                    tokio::time::sleep(delay).await;
                    Response::new(crate::problem::full("ok"))
                },
            )
            .await;
        });
        (addr, tracker, stop)
    }

    /// One request on a fresh connection; the whole response as text.
    async fn get(addr: SocketAddr) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    /// Reads until EOF (or an error such as a reset, which also means closed).
    async fn closed(mut s: TcpStream) -> bool {
        let mut buf = [0u8; 1024];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn silent_and_half_sent_heads_do_not_block_and_are_closed_by_the_header_timeout() {
        let (addr, _tracker, _stop) = start(limits(200, 1000), Duration::ZERO).await;
        let mut idle = Vec::new();
        for i in 0..300 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            if i % 2 == 0 {
                s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n").await.unwrap();
            }
            idle.push(s);
        }
        let resp = tokio::time::timeout(Duration::from_secs(10), get(addr))
            .await
            .unwrap();
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        assert!(resp.ends_with("ok"), "{resp}");
        let all = futures_all(idle.into_iter().map(closed).collect());
        let results = tokio::time::timeout(Duration::from_secs(30), all)
            .await
            .unwrap();
        assert!(results.into_iter().all(|c| c));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn open_connections_stay_under_the_cap_and_everyone_is_served_eventually() {
        let (addr, tracker, _stop) = start(limits(10_000, 5), Duration::from_millis(20)).await;
        let clients: Vec<_> = (0..20)
            .map(|_| {
                tokio::spawn(async move {
                    let mut s = TcpStream::connect(addr).await.unwrap();
                    s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
                        .await
                        .unwrap();
                    // Read the whole response, then keep the connection open a little so the
                    // cap is what holds the others back.
                    let mut got = Vec::new();
                    let mut buf = [0u8; 512];
                    while !got.ends_with(b"ok") {
                        let n = s.read(&mut buf).await.unwrap();
                        assert!(n > 0, "closed before the response");
                        got.extend_from_slice(&buf[..n]);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    String::from_utf8(got).unwrap()
                })
            })
            .collect();
        let mut served = 0;
        for c in clients {
            let resp = tokio::time::timeout(Duration::from_secs(30), c)
                .await
                .unwrap()
                .unwrap();
            assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
            served += 1;
        }
        assert_eq!(served, 20);
        assert!(tracker.peak() <= 5, "peak {}", tracker.peak());
        assert!(tracker.peak() >= 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_keep_alive_connections_are_closed() {
        let l = Limits {
            idle_timeout_ms: 200,
            ..Limits::default()
        };
        let (addr, tracker, _stop) = start(l, Duration::ZERO).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        // The header timeout (10 s) is far off: only the idle deadline can close this.
        let closed = tokio::time::timeout(Duration::from_secs(8), closed(s))
            .await
            .unwrap();
        assert!(closed);
        assert!(
            eventually_zero(&tracker).await,
            "connection still counted open"
        );
    }

    pub(super) async fn eventually_zero(t: &Tracker) -> bool {
        for _ in 0..100 {
            if t.open.load(Ordering::SeqCst) == 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    #[tokio::test]
    async fn a_slow_handler_is_not_idle() {
        let l = Limits {
            idle_timeout_ms: 100,
            ..Limits::default()
        };
        let (addr, _tracker, _stop) = start(l, Duration::from_millis(500)).await;
        let resp = tokio::time::timeout(Duration::from_secs(10), get(addr))
            .await
            .unwrap();
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    }

    #[test]
    fn accept_errors_back_off_exponentially_up_to_a_second_and_reset_on_success() {
        let mut b = Backoff::default();
        let ms: Vec<u128> = (0..9).map(|_| b.next_pause().as_millis()).collect();
        assert_eq!(ms, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        b.reset();
        assert_eq!(b.next_pause(), Duration::from_millis(10));
    }

    #[test]
    fn limits_default_to_production_values_and_reject_unknown_keys() {
        let l: Limits = toml::from_str("max_connections = 10").unwrap();
        assert_eq!(l.max_connections, 10);
        assert_eq!(l.header_read_timeout_ms, 10_000);
        assert_eq!(l.admin_max_connections, 64);
        assert!(toml::from_str::<Limits>("max_conections = 10").is_err());
    }

    async fn futures_all(fs: Vec<impl std::future::Future<Output = bool>>) -> Vec<bool> {
        let mut out = Vec::new();
        for f in fs {
            out.push(f.await);
        }
        out
    }
}
