//! The privacy officer's pages on a large log: fills an audit store with `RECORDS` processing
//! records (and an access record per three of them, as BRP lookups of a person and relatives
//! make them) spread over six months, then serves the pages on it and times each page over real
//! HTTP on loopback, next to the store's own query for the same data (the floor):
//!
//!   RECORDS=10000000 cargo bench -p sluis-proxy --bench ui_scale              # SQLite
//!   STORE=postgres SLUIS_TEST_PG=... cargo bench -p sluis-proxy --bench ui_scale
//!
//! `KEEP_DIR=DIR` keeps (and on a later run reuses) the SQLite file in DIR; a PostgreSQL run
//! logs to a schema of its own (`PG_SCHEMA`, default `bench_ui_<pid>`) that is dropped afterwards
//! unless `KEEP_SCHEMA=1`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark code: a failure ends the run with its message"
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use sluis_audit::{AuditStore, Entry, EntryKind, QueryFilter};

const DAY_MS: u64 = 86_400_000;
const USERS: u64 = 400;
const RESIDENTS: u64 = 1_000_000;
/// Processing records of the planted subject (the one the pages look up).
const PLANTED_RECORDS: u64 = 60;

/// The `n`-th valid BSN (elfproef): the first valid one at or after a point spaced so that
/// distinct `n` give distinct BSNs (a valid one comes within every 11 numbers or so).
fn bsn(n: u64) -> String {
    (100_000_000 + n * 12..)
        .map(|x| format!("{x:09}"))
        .find(|s| sluis_audit::bsn_is_valid(s))
        .unwrap()
}

fn config_text(dir: &Path, store: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
[policy]
schemas = ["{schemas}"]
profiles = ["{profiles}"]
encoding_key = {{ file = "{dir}/enc.key" }}
[[processing_activities]]
id = "bijstand"
name = "Behandelen aanvraag bijstandsuitkering"
purpose = "Vaststellen recht op bijstand"
legal_basis = "Participatiewet art. 43"
retention_days = 3650
[[processing_activities]]
id = "wmo"
name = "Behandelen Wmo-aanvraag"
purpose = "Vaststellen recht op maatwerkvoorziening"
legal_basis = "Wmo 2015 art. 2.3.2"
retention_days = 3650
[audit]
{store}
subject_key = {{ file = "{dir}/subject.key" }}
controller = "Gemeente Benchstad"
"#,
        schemas = root.join("examples/policy/datasets").display(),
        profiles = root.join("examples/policy/profiles").display(),
        dir = dir.display(),
    )
}

/// Appends the log: `records` processing records in requests of three, spread over 180 days.
fn fill(store: &mut dyn AuditStore, keys: &sluis_audit::SubjectKeys, records: u64) -> f64 {
    let started = Instant::now();
    let requests = records / 3;
    let end = sluis_audit::now_ms();
    let start = end - 180 * DAY_MS;
    let step = (180 * DAY_MS) / requests.max(1);
    let planted = keys.pseudonym("BSN", &bsn(0));
    let mut batch = Vec::with_capacity(4_000);
    let mut t = start;
    let mut next_report = Instant::now();
    for i in 0..requests {
        let mut a = sluis_audit::testing::access(i);
        a.time_ms = t;
        let user = format!("mdw-{:03}", i % USERS);
        a.user = Some(user);
        a.application = Some(
            if i % 2 == 0 {
                "sociaal-domein"
            } else {
                "wmo-app"
            }
            .into(),
        );
        let activity = if i % 2 == 0 { "bijstand" } else { "wmo" };
        a.processing_activity = Some(activity.into());
        a.records = 3;
        batch.push(Entry::Access(a));
        for j in 0..3u64 {
            let mut p = sluis_audit::testing::processing(i, j);
            p.start_time_ms = t;
            p.end_time_ms = t + 2;
            p.processing_activity_id = activity.into();
            // One subject in every `records / PLANTED_RECORDS` requests is the planted one.
            let subject = if j == 0 && i % (requests / PLANTED_RECORDS).max(1) == 0 {
                planted.clone()
            } else {
                keys.pseudonym("BSN", &bsn(1 + (i * 3 + j) % RESIDENTS))
            };
            p.data_subject_id = Some(subject);
            p.client_app_id = Some("sociaal-domein".into());
            batch.push(Entry::Processing(p));
        }
        if batch.len() >= 4_000 {
            store.append(&batch, t).unwrap();
            batch.clear();
        }
        t += step;
        if next_report.elapsed() > Duration::from_secs(10) {
            eprintln!(
                "  … {:.1} M of {:.1} M records",
                (i * 3) as f64 / 1e6,
                records as f64 / 1e6
            );
            next_report = Instant::now();
        }
    }
    if !batch.is_empty() {
        store.append(&batch, t).unwrap();
    }
    started.elapsed().as_secs_f64()
}

/// One HTTP/1.1 request on loopback; returns status, headers and body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: &str,
    form: &str,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_owned(), body.to_owned())
}

fn median_ms(mut f: impl FnMut() -> u16, runs: usize) -> (f64, f64) {
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let status = f();
        assert!(status == 200 || status == 303, "status {status}");
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let first = times[0];
    times.sort_by(f64::total_cmp);
    (first, times[times.len() / 2])
}

fn main() {
    let records: u64 = std::env::var("RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let kind = std::env::var("STORE").unwrap_or_else(|_| "sqlite".into());
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var("KEEP_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_owned());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("enc.key"), "0123456789abcdef0123456789abcdef").unwrap();
    std::fs::write(
        dir.join("subject.key"),
        "bench-subject-key-0123456789abcdef0123",
    )
    .unwrap();
    // PG_SCHEMA names the schema (and, with KEEP_SCHEMA=1, lets a later run reuse it).
    let schema =
        std::env::var("PG_SCHEMA").unwrap_or_else(|_| format!("bench_ui_{}", std::process::id()));
    let store_toml = match kind.as_str() {
        "sqlite" => format!("kind = \"sqlite\"\npath = \"{}/audit.db\"", dir.display()),
        "postgres" => {
            let url = std::env::var("SLUIS_TEST_PG")
                .expect("STORE=postgres needs SLUIS_TEST_PG (scripts/pg-test-server prints it)");
            std::fs::write(dir.join("pg.url"), url).unwrap();
            format!(
                "kind = \"postgres\"\nurl = {{ file = \"{}/pg.url\" }}\nschema = \"{schema}\"",
                dir.display()
            )
        }
        other => panic!("STORE must be sqlite or postgres, not {other}"),
    };
    std::fs::write(dir.join("sluis.toml"), config_text(&dir, &store_toml)).unwrap();
    let mut config =
        sluis_proxy::Config::load(&dir.join("sluis.toml")).unwrap_or_else(|p| panic!("{p:?}"));
    let keys = sluis_proxy::auditing::subject_keys(&config.audit)
        .unwrap()
        .unwrap();
    let mut store = sluis_stores::open_store(&config.audit).unwrap();
    let existing = store.head().unwrap().map_or(0, |(s, _)| s);
    let (entries, fill_s) = if existing > 0 {
        eprintln!("reusing the log in {} ({existing} entries)", dir.display());
        (existing, 0.0)
    } else {
        eprintln!("filling a {kind} log with {records} processing records …");
        let s = fill(store.as_mut(), &keys, records);
        (store.head().unwrap().map_or(0, |(s, _)| s), s)
    };
    // As the running sluis's index thread keeps it (and as it was after an earlier fill).
    let t = Instant::now();
    if let Some(r) = store.reindex(false).unwrap() {
        eprintln!(
            "index up to seq {} of {} ({} runs built, {:.1} s)",
            r.indexed_to,
            r.head,
            r.runs_built,
            t.elapsed().as_secs_f64()
        );
    }
    let planted = bsn(0);
    // The floor: the store's own subject query for the planted person.
    let pseudonyms = keys.pseudonyms("BSN", &planted);
    let floor = Instant::now();
    let rows = store
        .processing_by_subject(&pseudonyms[0], 0, u64::MAX)
        .unwrap();
    let floor_ms = floor.elapsed().as_secs_f64() * 1e3;
    let month_floor = {
        let now = sluis_audit::now_ms();
        let t = Instant::now();
        let mut filter = QueryFilter {
            kind: Some(EntryKind::Access),
            from_ms: Some(now - 60 * DAY_MS),
            to_ms: Some(now - 30 * DAY_MS),
            ..QueryFilter::default()
        };
        let mut n = 0;
        loop {
            let page = store.query(&filter, 5000).unwrap();
            n += page.len();
            match filter.next_page(&page) {
                Some(f) => filter = f,
                None => break,
            }
        }
        (n, t.elapsed().as_secs_f64() * 1e3)
    };
    drop(store);

    config.demo_sign_in = true;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(sluis_stores::start(config)).unwrap();
    let admin = server.admin_addr();
    let (_, head, _) = http(admin, "POST", "/ui/demo", "", "wie=fg&next=/ui/zoeken");
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let (_, _, page) = http(admin, "GET", "/ui/zoeken", &cookie, "");
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let month = {
        let now = sluis_audit::now_ms();
        let d = sluis_audit::local_date(now - 30 * DAY_MS);
        d[..7].to_owned()
    };
    let runs = 5;
    let mut table = Vec::new();
    let mut time = |name: &str, method: &str, path: &str, form: String| {
        let (first, median) = median_ms(
            || {
                let (s, _, body) = http(admin, method, path, &cookie, &form);
                assert!(!body.contains("class=\"melding fout\""), "{name}: {body}");
                s
            },
            runs,
        );
        table.push((name.to_owned(), first, median));
    };
    time(
        "subject search (BSN, first page of 50)",
        "POST",
        "/ui/zoeken",
        format!("csrf={csrf}&bsn={planted}"),
    );
    time(
        "citizen's overview (BSN)",
        "POST",
        "/ui/inzage",
        format!("csrf={csrf}&bsn={planted}"),
    );
    time(
        "search by user, one week",
        "POST",
        "/ui/zoeken",
        format!(
            "csrf={csrf}&gebruiker=mdw-007&van={}&tot={}",
            sluis_audit::local_date(sluis_audit::now_ms() - 14 * DAY_MS),
            sluis_audit::local_date(sluis_audit::now_ms() - 7 * DAY_MS)
        ),
    );
    time("alert inbox", "GET", "/ui/meldingen", String::new());
    time("home (integrity at a glance)", "GET", "/ui/", String::new());
    // The report of a closed month: the first request starts its computation and answers at
    // once; the page is there once the month has been read, then cached.
    let report = format!("/ui/rapport?maand={month}");
    let t = Instant::now();
    let (_, _, body) = http(admin, "GET", &report, &cookie, "");
    let first_answer = t.elapsed().as_secs_f64() * 1e3;
    let mut ready = body.contains("<svg");
    while !ready {
        std::thread::sleep(Duration::from_millis(50));
        ready = http(admin, "GET", &report, &cookie, "").2.contains("<svg");
        assert!(
            t.elapsed() < Duration::from_secs(900),
            "the report did not come"
        );
    }
    let computed = t.elapsed().as_secs_f64() * 1e3;
    time("monthly report, computed", "GET", &report, String::new());
    table.push((
        "monthly report: first answer / ready after".into(),
        first_answer,
        computed,
    ));
    rt.block_on(server.shutdown());

    println!(
        "ui_scale — {kind} store, {entries} entries ({records} processing records requested), filled in {fill_s:.0} s"
    );
    println!(
        "floor: the store's subject query: {} records in {floor_ms:.1} ms; one month of access records read: {} in {:.0} ms",
        rows.len(),
        month_floor.0,
        month_floor.1
    );
    println!(
        "{:<48} {:>10} {:>10}",
        "page (real HTTP, loopback)", "first ms", "median ms"
    );
    for (name, first, median) in &table {
        println!("{name:<48} {first:>10.1} {median:>10.1}");
    }
    if kind == "postgres" && std::env::var("KEEP_SCHEMA").is_err() {
        let url = std::fs::read_to_string(dir.join("pg.url")).unwrap();
        let _ = std::process::Command::new("psql")
            .arg(url.trim())
            .args(["-c", &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")])
            .status();
    }
}
