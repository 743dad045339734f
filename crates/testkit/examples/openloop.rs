//! An open-loop load generator, for latency measurements free of coordinated omission
//! (`bench/run` uses it to compare sluis's and nginx's p99 at a fixed rate).
//!
//! ```text
//! cargo run --release -p sluis-testkit --example openloop -- \
//!     --url http://127.0.0.1:18083/v1/afvalwegingen/containers/1 --rate 2000 --secs 10 \
//!     --header 'Authorization: Bearer ...' [--method POST --body-file body.json]
//! ```
//!
//! Requests are sent on a fixed schedule (one every `1/rate` s) whatever the answers do, each on
//! its own task over a shared keep-alive pool; a request's latency runs from the moment the
//! schedule said to send it, so a server (or a generator) that falls behind shows as latency
//! instead of as fewer requests. More than `--max-in-flight` (10,000) outstanding requests count
//! as errors. Prints one line:
//!
//! `OPENLOOP rate=R secs=S sent=N ok=N errors=N p50_us=.. p90_us=.. p99_us=.. p999_us=.. max_us=..`
//!
//! With `--stalls MS`, it first prints one line per 100 ms window of the schedule whose slowest
//! request took longer than MS milliseconds, with the window's start as Unix milliseconds (to
//! line up with a server's own log):
//!
//! `STALL window_unix_ms=.. requests=N slow=N worst_us=..`
//!
//! and exits 2 on bad arguments, 1 when nothing succeeded.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{HeaderName, HeaderValue};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

struct Args {
    url: hyper::Uri,
    rate: f64,
    secs: f64,
    method: hyper::Method,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    max_in_flight: u64,
    stalls_ms: Option<u64>,
}

fn parse() -> Result<Args, String> {
    let mut url = None;
    let mut rate = None;
    let mut secs = 10.0;
    let mut method = hyper::Method::GET;
    let mut headers = Vec::new();
    let mut body = Bytes::new();
    let mut max_in_flight = 10_000;
    let mut stalls_ms = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--url" => url = Some(value()?.parse().map_err(|e| format!("--url: {e}"))?),
            "--rate" => {
                rate = Some(
                    value()?
                        .parse::<f64>()
                        .map_err(|e| format!("--rate: {e}"))?,
                )
            }
            "--secs" => secs = value()?.parse().map_err(|e| format!("--secs: {e}"))?,
            "--method" => {
                method = value()?.parse().map_err(|e| format!("--method: {e}"))?;
            }
            "--header" => {
                let h = value()?;
                let (k, v) = h
                    .split_once(':')
                    .ok_or_else(|| format!("--header {h:?}: not NAME: VALUE"))?;
                headers.push((
                    HeaderName::from_bytes(k.trim().as_bytes()).map_err(|e| format!("{k}: {e}"))?,
                    HeaderValue::from_str(v.trim()).map_err(|e| format!("{k}: {e}"))?,
                ));
            }
            "--body-file" => {
                let p = value()?;
                body = std::fs::read(&p)
                    .map_err(|e| format!("--body-file {p}: {e}"))?
                    .into();
            }
            "--max-in-flight" => {
                max_in_flight = value()?
                    .parse()
                    .map_err(|e| format!("--max-in-flight: {e}"))?;
            }
            "--stalls" => {
                stalls_ms = Some(value()?.parse().map_err(|e| format!("--stalls: {e}"))?);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let rate = rate.ok_or("--rate is required")?;
    if !(rate > 0.0 && rate <= 1_000_000.0 && secs > 0.0 && secs <= 86_400.0) {
        return Err("--rate must be in (0, 1e6] and --secs in (0, 86400]".into());
    }
    Ok(Args {
        url: url.ok_or("--url is required")?,
        rate,
        secs,
        method,
        headers,
        body,
        max_in_flight,
        stalls_ms,
    })
}

/// Prints the 100 ms windows of the schedule whose slowest request took longer than `ms`.
fn print_stalls(timed: &[(u64, u64)], start_unix_ms: u64, ms: u64) {
    const WINDOW_US: u64 = 100_000;
    // window → (requests, slow, worst)
    let mut windows = std::collections::BTreeMap::<u64, (u64, u64, u64)>::new();
    for &(offset, micros) in timed {
        let w = windows.entry(offset / WINDOW_US).or_default();
        w.0 += 1;
        if micros > ms * 1000 {
            w.1 += 1;
        }
        w.2 = w.2.max(micros);
    }
    for (window, (requests, slow, worst)) in windows {
        if slow > 0 {
            println!(
                "STALL window_unix_ms={} requests={requests} slow={slow} worst_us={worst}",
                start_unix_ms + window * WINDOW_US / 1000
            );
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64) * p).ceil() as usize;
    sorted
        .get(i.saturating_sub(1).min(sorted.len() - 1))
        .copied()
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("openloop: {e}");
            return ExitCode::from(2);
        }
    };
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(4_096)
        .build_http();
    // (offset of the scheduled send from the start in µs, latency in µs)
    let latencies = Arc::new(Mutex::new(Vec::<(u64, u64)>::with_capacity(
        (args.rate * args.secs) as usize + 16,
    )));
    let (ok, errors, in_flight) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let total = (args.rate * args.secs).round() as u64;
    let start = Instant::now();
    let start_unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
    let mut tasks = Vec::with_capacity(total as usize);
    for n in 0..total {
        let due = start + interval.mul_f64(n as f64);
        tokio::time::sleep_until(due.into()).await;
        if in_flight.load(Ordering::Relaxed) >= args.max_in_flight {
            errors.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let (client, args, latencies, ok, errors, in_flight) = (
            client.clone(),
            Arc::clone(&args),
            Arc::clone(&latencies),
            Arc::clone(&ok),
            Arc::clone(&errors),
            Arc::clone(&in_flight),
        );
        tasks.push(tokio::spawn(async move {
            let mut req = Request::builder()
                .method(args.method.clone())
                .uri(args.url.clone());
            for (k, v) in &args.headers {
                req = req.header(k, v);
            }
            let result = match req.body(Full::new(args.body.clone())) {
                Ok(r) => match client.request(r).await {
                    Ok(resp) => {
                        let good = resp.status().is_success();
                        let read = resp.into_body().collect().await.is_ok();
                        good && read
                    }
                    Err(_) => false,
                },
                Err(_) => false,
            };
            // From the scheduled send time: lateness counts.
            let micros = u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX);
            let offset = u64::try_from((due - start).as_micros()).unwrap_or(u64::MAX);
            if result {
                ok.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut l) = latencies.lock() {
                    l.push((offset, micros));
                }
            } else {
                errors.fetch_add(1, Ordering::Relaxed);
            }
            in_flight.fetch_sub(1, Ordering::Relaxed);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let timed = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    if let Some(ms) = args.stalls_ms {
        print_stalls(&timed, start_unix_ms, ms);
    }
    let mut l: Vec<u64> = timed.iter().map(|&(_, micros)| micros).collect();
    l.sort_unstable();
    let ok = ok.load(Ordering::Relaxed);
    println!(
        "OPENLOOP rate={} secs={} sent={total} ok={ok} errors={} p50_us={} p90_us={} p99_us={} p999_us={} max_us={}",
        args.rate,
        args.secs,
        errors.load(Ordering::Relaxed),
        percentile(&l, 0.50),
        percentile(&l, 0.90),
        percentile(&l, 0.99),
        percentile(&l, 0.999),
        l.last().copied().unwrap_or(0),
    );
    if ok == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
