//! `sluis audit ...` as a privacy officer runs it, against a real SQLite audit log: the log is
//! written through the same `open_store` the server uses, with realistic access and processing
//! records (subjects pseudonymised with the configured keys), then tampered with through a second
//! SQLite connection.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sluis_audit::{
    AccessRecord, AuditStore, DAY_MS, Decision, Entry, ProcessingRecord, SpanStatus, SubjectKey,
    SubjectRole, now_ms,
};
use sluis_proxy::Config;
use sluis_proxy::auditing::subject_keys;
use sluis_stores::open_store;

const BSN_A: &str = "999993653";
const BSN_B: &str = "111222333";
/// 2025-03-04 13:05:09 UTC = 14:05:09 in Dutch local time.
const T: u64 = 1_741_093_509_000;
const OLD_KEY: &[u8] = b"the-retired-subject-key-of-2024-is-this-one";
const USER: &str = "j.jansen@gemeente-voorbeeld.nl";

struct Log {
    _dir: tempfile::TempDir,
    config: PathBuf,
    db: PathBuf,
    cfg: Config,
}

fn write(dir: &Path, name: &str, body: &str) {
    std::fs::write(dir.join(name), body).unwrap();
}

/// A configuration with an SQLite audit store, a current and a retired subject key, a checkpoint
/// key (a checkpoint every 4 entries) and a register with one confidential activity;
/// `retention_days` for every activity.
fn setup(retention_days: u32) -> Log {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "encoding.key",
        "an-encoding-key-for-the-encoded-level-0001\n",
    );
    write(
        d,
        "subject.key",
        "the-current-subject-key-of-2025-is-this-one\n",
    );
    write(d, "subject-old.key", std::str::from_utf8(OLD_KEY).unwrap());
    write(d, "checkpoint.key", &"4b".repeat(32));
    let toml = format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"

[policy]
schemas = ["policy"]
encoding_key = {{ file = "encoding.key" }}

[[processing_activities]]
id = "VA-12"
name = "Wmo-aanvraag beoordelen"
purpose = "Beoordelen of iemand recht heeft op een <maatwerkvoorziening> & begeleiding"
legal_basis = "Wet maatschappelijke ondersteuning 2015, artikel 2.3.2"
retention_days = {retention_days}

[[processing_activities]]
id = "VA-FRAUDE"
name = "Fraudeonderzoek bijstand"
purpose = "Onderzoek naar mogelijke bijstandsfraude"
legal_basis = "Participatiewet, artikel 53a"
retention_days = {retention_days}
confidential = true

[audit]
kind = "sqlite"
path = "audit.db"
subject_key = {{ file = "subject.key" }}
subject_key_id = "k2025"
retired_subject_keys = [{{ id = "k2024", key = {{ file = "subject-old.key" }} }}]
checkpoint_key = {{ file = "checkpoint.key" }}
checkpoint_every = 4
controller = "Gemeente Voorbeeld"
instance = "sluis-test-1"
"#
    );
    write(d, "sluis.toml", &toml);
    let config = d.join("sluis.toml");
    let cfg = Config::load(&config).unwrap();
    Log {
        config,
        db: d.join("audit.db"),
        cfg,
        _dir: dir,
    }
}

fn access(i: u64, time_ms: u64, activity: &str, records: u64) -> AccessRecord {
    AccessRecord {
        time_ms,
        trace_id: format!("{i:032x}"),
        span_id: format!("{i:016x}"),
        api: "brp".into(),
        operation: "brp.personen.RaadpleegMetBurgerservicenummer".into(),
        method: "POST".into(),
        path: "/haalcentraal/api/brp/personen".into(),
        issuer: Some("entra".into()),
        subject: Some("Jan Jansen".into()),
        user: Some(USER.into()),
        client_id: Some("wmo-app".into()),
        scopes: vec!["brp.raadplegen".into()],
        purpose: Some(activity.into()),
        processing_activity: Some(activity.into()),
        correlation_id: Some("zaak-2025-0042".into()),
        decision: Decision::Permit,
        status: 200,
        code: None,
        reasons: vec![],
        denied_params: vec![],
        params: vec![],
        field_levels: vec![],
        records,
        policy_version: Some("v7".into()),
        upstream_status: Some(200),
        duration_ms: 12,
        upstream_ms: Some(9),
        user_source: None,
        flags: Vec::new(),
        application: None,
        scopes_dropped: Vec::new(),
    }
}

fn processing(
    i: u64,
    j: u64,
    time_ms: u64,
    activity: &str,
    operation: &str,
    subject: String,
    role: SubjectRole,
) -> ProcessingRecord {
    ProcessingRecord {
        trace_id: format!("{i:032x}"),
        span_id: format!("{:016x}", i * 100 + j + 1),
        parent_span_id: format!("{i:016x}"),
        foreign_processor: Some("wmo-app".into()),
        name: operation.into(),
        start_time_ms: time_ms,
        end_time_ms: time_ms + 9,
        status: SpanStatus::Ok,
        http_status: 200,
        upstream_error_code: None,
        processing_activity_id: activity.into(),
        case_ref: Some("zaak-2025-0042".into()),
        data_subject_id: Some(subject),
        data_subject_id_type: Some("BSN".into()),
        subject_role: Some(role),
        fields_requested: vec!["naam".into(), "adressering".into()].into(),
        fields_delivered: vec![
            "naam.voornamen".into(),
            "naam.geslachtsnaam".into(),
            "adressering.adresregel1".into(),
            "geheimhoudingPersoonsgegevens".into(),
        ]
        .into(),
        search_params: vec![],
        resource: "sluis-test-1".into(),
        client_app_id: Some("wmo-app".into()),
        flags: vec![],
    }
}

/// One request: its access record and one processing record per `(subject, role)`.
fn request(
    i: u64,
    time_ms: u64,
    activity: &str,
    operation: &str,
    subjects: &[(String, SubjectRole)],
) -> Vec<Entry> {
    let mut v = vec![Entry::Access(access(
        i,
        time_ms,
        activity,
        subjects.len() as u64,
    ))];
    for (j, (s, role)) in subjects.iter().enumerate() {
        v.push(Entry::Processing(processing(
            i,
            j as u64,
            time_ms,
            activity,
            operation,
            s.clone(),
            *role,
        )));
    }
    v
}

const RAADPLEEG: &str = "brp.personen.RaadpleegMetBurgerservicenummer";
const ZOEK: &str = "brp.personen.ZoekMetPostcodeEnHuisnummer";

/// The fixed log of the overview and tampering tests (14 entries):
///
/// | seq | request |
/// |---|---|
/// | 1–2 | 2025-01-03, VA-12, raadpleging of A under the retired key k2024 |
/// | 3–4 | 2025-03-04 14:05, VA-12, raadpleging of A |
/// | 5–6 | 2025-03-04 15:05, VA-FRAUDE (confidential), raadpleging of A |
/// | 7–9 | 2025-03-05 14:05, VA-12, search: A and B found |
/// | 10–11 | 2025-03-06, VA-ONBEKEND (not in the register), raadpleging of A |
/// | 12–13 | 2025-03-07, VA-12, raadpleging of B |
/// | 14 | 2025-03-08, a denied request (access record only) |
fn seeded() -> Log {
    let log = setup(3650);
    let keys = subject_keys(&log.cfg.audit).unwrap().unwrap();
    let a = keys.pseudonym("BSN", BSN_A);
    let b = keys.pseudonym("BSN", BSN_B);
    let a_old = SubjectKey::new("k2024", OLD_KEY)
        .unwrap()
        .pseudonym("BSN", BSN_A);
    let geraadpleegd = SubjectRole::Geraadpleegd;
    let gevonden = SubjectRole::GevondenInZoekresultaat;
    let batches: Vec<(u64, Vec<Entry>)> = vec![
        (
            T - 60 * DAY_MS,
            request(
                1,
                T - 60 * DAY_MS,
                "VA-12",
                RAADPLEEG,
                &[(a_old, geraadpleegd)],
            ),
        ),
        (
            T,
            request(2, T, "VA-12", RAADPLEEG, &[(a.clone(), geraadpleegd)]),
        ),
        (
            T + 3_600_000,
            request(
                3,
                T + 3_600_000,
                "VA-FRAUDE",
                RAADPLEEG,
                &[(a.clone(), geraadpleegd)],
            ),
        ),
        (
            T + DAY_MS,
            request(
                4,
                T + DAY_MS,
                "VA-12",
                ZOEK,
                &[(a.clone(), gevonden), (b.clone(), gevonden)],
            ),
        ),
        (
            T + 2 * DAY_MS,
            request(
                5,
                T + 2 * DAY_MS,
                "VA-ONBEKEND",
                RAADPLEEG,
                &[(a, geraadpleegd)],
            ),
        ),
        (
            T + 3 * DAY_MS,
            request(6, T + 3 * DAY_MS, "VA-12", RAADPLEEG, &[(b, geraadpleegd)]),
        ),
        (T + 4 * DAY_MS, {
            let mut denied = access(7, T + 4 * DAY_MS, "VA-12", 0);
            denied.decision = Decision::Deny;
            denied.status = 403;
            denied.code = Some("authorization".into());
            vec![Entry::Access(denied)]
        }),
    ];
    let mut store = open_store(&log.cfg.audit).unwrap();
    for (time_ms, batch) in batches {
        store.append(&batch, time_ms).unwrap();
    }
    assert_eq!(store.head().unwrap().unwrap().0, 14);
    log
}

fn sluis(log: &Log, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluis"))
        .arg("audit")
        .arg("--config")
        .arg(&log.config)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

fn tamper(log: &Log, sql: &str) {
    let conn = rusqlite::Connection::open(&log.db).unwrap();
    conn.execute_batch(sql).unwrap();
}

// ---------------------------------------------------------------------------------------------
// verify

#[test]
fn verify_passes_on_an_intact_log() {
    let log = seeded();
    let o = sluis(&log, &["verify"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("audit log intact"), "{out}");
    assert!(out.contains("14 (seq 1..=14)"), "{out}");
    assert!(out.contains("3 signature(s) verified"), "{out}");

    let o = sluis(&log, &["verify", "--format", "json"]);
    assert_eq!(code(&o), 0);
    let v = json(&o);
    assert_eq!(v["ok"], true);
    assert_eq!(v["first_problem"], Value::Null);
    assert_eq!(v["entries"], 14);
    assert_eq!(v["signatures_checked"], true);
    assert_eq!(v["checkpoints_verified"], 3);
}

/// Runs verify in both formats on a tampered log and checks the first bad record.
fn assert_caught(log: &Log, seq: u64, kind: &str) {
    let o = sluis(log, &["verify"]);
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(code(&o), 1, "{out}{err}");
    assert!(out.contains("NOT intact"), "{out}");
    assert!(
        out.contains(&format!("first bad record: seq {seq} ({kind})")),
        "{out}"
    );
    assert!(
        err.contains(&format!("first bad record at seq {seq} ({kind})")),
        "{err}"
    );
    let o = sluis(log, &["verify", "--format", "json"]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_problem"]["seq"], seq, "{v:#}");
    assert_eq!(v["first_problem"]["kind"], kind, "{v:#}");
}

#[test]
fn verify_names_an_altered_body() {
    let log = seeded();
    tamper(
        &log,
        "UPDATE entries SET body = replace(body, 'j.jansen', 'iemand.anders') WHERE seq = 3",
    );
    assert_caught(&log, 3, "altered");
}

#[test]
fn verify_names_a_deleted_row() {
    let log = seeded();
    tamper(&log, "DELETE FROM entries WHERE seq = 6");
    assert_caught(&log, 6, "removed");
}

#[test]
fn verify_names_swapped_bodies() {
    let log = seeded();
    // Seq 7 and 10 are both access records: swap their content and indexed columns.
    tamper(
        &log,
        "CREATE TEMP TABLE swap AS SELECT seq, kind, trace_id, activity, subject, body \
           FROM entries WHERE seq IN (7, 10);
         UPDATE entries SET
           kind = (SELECT kind FROM swap WHERE swap.seq = 17 - entries.seq),
           trace_id = (SELECT trace_id FROM swap WHERE swap.seq = 17 - entries.seq),
           activity = (SELECT activity FROM swap WHERE swap.seq = 17 - entries.seq),
           subject = (SELECT subject FROM swap WHERE swap.seq = 17 - entries.seq),
           body = (SELECT body FROM swap WHERE swap.seq = 17 - entries.seq)
         WHERE seq IN (7, 10);
         DROP TABLE swap;",
    );
    assert_caught(&log, 7, "reordered");
}

// ---------------------------------------------------------------------------------------------
// subject

#[test]
fn subject_overview_json_joins_the_register_and_hides_confidential_work() {
    let log = seeded();
    let o = sluis(&log, &["subject", "--bsn", BSN_A]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let v = json(&o);
    assert_eq!(v["format"], "sluis-overview-v1");
    assert_eq!(v["controller"], "Gemeente Voorbeeld");
    assert_eq!(v["subject"], "*****3653");
    let lines = v["processings"].as_array().unwrap();
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    // seq 2: under the retired key; 4: raadpleging; 8: search hit; 11: unknown activity.
    // Not 6 (confidential), not 9 or 13 (subject B).
    assert_eq!(seqs, vec![2, 4, 8, 11], "{text}");

    let l = &lines[1];
    assert_eq!(l["when"], "2025-03-04T14:05:09+01:00");
    assert_eq!(l["activity"], "Wmo-aanvraag beoordelen");
    assert_eq!(
        l["purpose"],
        "Beoordelen of iemand recht heeft op een <maatwerkvoorziening> & begeleiding"
    );
    assert_eq!(
        l["legal_basis"],
        "Wet maatschappelijke ondersteuning 2015, artikel 2.3.2"
    );
    assert_eq!(l["controller"], "Gemeente Voorbeeld");
    assert_eq!(
        l["data_categories"],
        serde_json::json!(["adres", "geheimhouding persoonsgegevens", "naam"])
    );
    assert_eq!(l["recipient"], "wmo-app");
    assert_eq!(l["retention"], "10 jaar");
    assert_eq!(l["source"], "Basisregistratie Personen (BRP)");
    assert_eq!(l["role"], "geraadpleegd");
    assert_eq!(lines[2]["role"], "gevonden in zoekresultaat");
    assert_eq!(lines[2]["action"], "zoeken op postcode en huisnummer");
    assert_eq!(lines[3]["activity"], "onbekende verwerking (VA-ONBEKEND)");
    assert_eq!(lines[3]["registered"], false);

    for absent in [
        "Fraude",
        "VA-FRAUDE",
        "bijstand",
        "jansen",
        "Jansen",
        "k2025:",
        "k2024:",
        BSN_A,
        "zaak-2025",
    ] {
        assert!(
            !text.contains(absent),
            "{absent:?} in the overview:\n{text}"
        );
    }
    let topics: Vec<&str> = v["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["topic"].as_str().unwrap())
        .collect();
    for t in ["rectificatie", "bezwaar", "klacht", "rvig"] {
        assert!(topics.contains(&t), "{topics:?}");
    }

    // Subject B: the search hit and the raadpleging, nothing of A.
    let v = json(&sluis(&log, &["subject", "--bsn", BSN_B]));
    let seqs: Vec<u64> = v["processings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![9, 13]);
}

#[test]
fn subject_period_includes_the_whole_last_day() {
    let log = seeded();
    let o = sluis(
        &log,
        &[
            "subject",
            "--bsn",
            BSN_A,
            "--from",
            "2025-03-04",
            "--to",
            "2025-03-05",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json(&o);
    let seqs: Vec<u64> = v["processings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![4, 8], "14:05 on the --to day is included");
    assert_eq!(v["period"]["from"], "2025-03-04");
    assert_eq!(v["period"]["to"], "2025-03-05");

    let none = json(&sluis(
        &log,
        &[
            "subject",
            "--bsn",
            BSN_A,
            "--from",
            "2024-01-01",
            "--to",
            "2024-12-31",
        ],
    ));
    assert_eq!(none["processings"], serde_json::json!([]));
}

#[test]
fn subject_overview_html_is_a_printable_escaped_letter() {
    let log = seeded();
    let o = sluis(&log, &["subject", "--bsn", BSN_A, "--format", "html"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let h = stdout(&o);
    assert!(h.starts_with("<!DOCTYPE html>"), "{h}");
    assert!(h.contains("<html lang=\"nl\">"));
    assert!(h.contains("<style>") && h.contains("@media print"));
    assert!(h.trim_end().ends_with("</html>"));
    assert!(h.contains("Gemeente Voorbeeld"));
    assert!(h.contains("Wmo-aanvraag beoordelen"));
    assert!(h.contains("Wet maatschappelijke ondersteuning 2015, artikel 2.3.2"));
    assert!(
        h.contains("op een &lt;maatwerkvoorziening&gt; &amp; begeleiding"),
        "purpose escaped"
    );
    assert!(!h.contains("<maatwerkvoorziening>"));
    assert!(h.contains("4 maart 2025, 14:05 uur"));
    assert!(h.contains("onbekende verwerking (VA-ONBEKEND)"));
    assert!(h.contains("gevonden in zoekresultaat"));
    assert!(h.contains("Autoriteit Persoonsgegevens"));
    assert!(h.contains("Rijksdienst voor Identiteitsgegevens"));
    assert_eq!(h.matches("<section class=\"verwerking\">").count(), 4);
    for absent in ["Fraude", "jansen", "k2025:", BSN_A] {
        assert!(!h.contains(absent), "{absent:?} in the letter");
    }
}

#[test]
fn bad_input_exits_2_with_a_message() {
    let log = seeded();
    for (args, needle) in [
        (vec!["subject", "--bsn", "12345678"], "9 digits"),
        (vec!["subject", "--bsn", "12345678a"], "9 digits"),
        (vec!["subject", "--bsn", "123456789"], "elfproef"),
        (
            vec!["subject", "--bsn", BSN_A, "--from", "2025-02-30"],
            "YYYY-MM-DD",
        ),
        (
            vec!["subject", "--bsn", BSN_A, "--to", "4-3-2025"],
            "YYYY-MM-DD",
        ),
        (
            vec![
                "subject",
                "--bsn",
                BSN_A,
                "--from",
                "2025-03-05",
                "--to",
                "2025-03-04",
            ],
            "after --to",
        ),
    ] {
        let o = sluis(&log, &args);
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(stdout(&o).is_empty());
        assert!(
            !err.contains("123456789") && !err.contains("12345678a"),
            "{err}"
        );
    }
    // clap usage errors and an unreadable configuration are exit 2 too.
    assert_eq!(code(&sluis(&log, &["subject"])), 2);
    assert_eq!(code(&sluis(&log, &["frobnicate"])), 2);
    let o = Command::new(env!("CARGO_BIN_EXE_sluis"))
        .args(["audit", "--config", "/nonexistent/sluis.toml", "verify"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("cannot read configuration"),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------------------------------------
// purge

#[test]
fn purge_removes_expired_records_records_itself_and_verify_still_passes() {
    // Every activity keeps 30 days: the three requests of 100 days ago go, the two of
    // yesterday stay.
    let log = setup(30);
    let keys = subject_keys(&log.cfg.audit).unwrap().unwrap();
    let a = keys.pseudonym("BSN", BSN_A);
    let old = now_ms() - 100 * DAY_MS;
    let recent = now_ms() - DAY_MS;
    let role = SubjectRole::Geraadpleegd;
    {
        let mut store = open_store(&log.cfg.audit).unwrap();
        for (i, t, act) in [
            (1, old, "VA-12"),
            (2, old + 1, "VA-12"),
            (3, old + 2, "VA-FRAUDE"),
            (4, recent, "VA-12"),
            (5, recent + 1, "VA-12"),
        ] {
            store
                .append(&request(i, t, act, RAADPLEEG, &[(a.clone(), role)]), t)
                .unwrap();
        }
    }
    let count = |log: &Log| stdout(&sluis(log, &["export"])).lines().count();
    assert_eq!(count(&log), 10);

    let o = sluis(&log, &["purge", "--dry-run"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("would remove 6 entries (every entry up to seq 6)"),
        "{out}"
    );
    assert!(out.contains("VA-12 (Wmo-aanvraag beoordelen): 2"), "{out}");
    assert!(
        out.contains("VA-FRAUDE (Fraudeonderzoek bijstand): 1"),
        "{out}"
    );
    assert!(out.contains("access records: 3"), "{out}");
    assert_eq!(count(&log), 10, "a dry run removes nothing");

    let dry = json(&sluis(&log, &["purge", "--dry-run", "--format", "json"]));
    let o = sluis(&log, &["purge", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let done = json(&o);
    assert_eq!(done["removed_total"], 6);
    assert_eq!(done["up_to_seq"], 6);
    assert_eq!(
        dry["removed"], done["removed"],
        "the dry run plans what purge does"
    );
    assert_eq!(dry["anchor_hash"], done["anchor_hash"]);

    let o = sluis(&log, &["verify"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("purged:       seq 1..=6"),
        "{}",
        stdout(&o)
    );

    let export = stdout(&sluis(&log, &["export"]));
    let entries: Vec<Value> = export
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 5, "4 remaining + the purge record");
    assert_eq!(entries[0]["seq"], 7);
    let purge = &entries[4]["entry"];
    assert_eq!(purge["kind"], "purge");
    assert_eq!(purge["up_to_seq"], 6);
    assert_eq!(purge["removed_access"], 3);

    // A second purge finds nothing more and still verifies.
    let out = stdout(&sluis(&log, &["purge"]));
    assert!(out.contains("nothing is past its retention"), "{out}");
    assert_eq!(code(&sluis(&log, &["verify"])), 0);
}

// ---------------------------------------------------------------------------------------------
// export, checkpoint

#[test]
fn export_jsonl_gives_one_line_per_entry() {
    let log = seeded();
    let out = stdout(&sluis(&log, &["export", "--format", "jsonl"]));
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 14);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["seq"], i as u64 + 1);
        assert_eq!(l["hash"].as_str().unwrap().len(), 64);
    }
    assert_eq!(lines[0]["entry"]["kind"], "access");
    assert_eq!(lines[1]["entry"]["kind"], "processing");
    let tail = stdout(&sluis(&log, &["export", "--from-seq", "10"]));
    assert_eq!(tail.lines().count(), 5);
}

#[test]
fn export_otlp_gives_ldv_spans() {
    let log = seeded();
    let o = sluis(&log, &["export", "--format", "otlp"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(
        out.lines().count(),
        1,
        "one request per page of 1,000 entries"
    );
    let v: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let rs = v["resourceSpans"].as_array().unwrap();
    assert_eq!(rs.len(), 1);
    let res_attrs = rs[0]["resource"]["attributes"].as_array().unwrap();
    assert!(
        res_attrs
            .iter()
            .any(|a| a["key"] == "service.instance.id"
                && a["value"]["stringValue"] == "sluis-test-1")
    );
    let spans = rs[0]["scopeSpans"][0]["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 7, "one span per processing record");
    let attr = |span: &Value, key: &str| -> Value {
        span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| a["value"].clone())
            .unwrap_or(Value::Null)
    };
    for s in spans {
        assert_eq!(s["traceId"].as_str().unwrap().len(), 32);
        assert_eq!(s["spanId"].as_str().unwrap().len(), 16);
        assert_eq!(s["parentSpanId"].as_str().unwrap().len(), 16);
        assert!(s["name"].as_str().unwrap().starts_with("brp.personen."));
        let start: u128 = s["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
        let end: u128 = s["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
        assert!(start >= u128::from(T - 60 * DAY_MS) * 1_000_000 && end >= start);
        assert_eq!(s["status"]["code"], 1);
        assert!(attr(s, "dpl.core.processing_activity_id")["stringValue"].is_string());
        assert!(
            attr(s, "dpl.core.data_subject_id")["stringValue"]
                .as_str()
                .unwrap()
                .starts_with("k202")
        );
        assert_eq!(
            attr(s, "dpl.core.data_subject_id_type")["stringValue"],
            "BSN"
        );
        assert_eq!(
            attr(s, "dpl.core.foreign_operation.processor")["stringValue"],
            "wmo-app"
        );
    }
    assert_eq!(
        attr(&spans[0], "dpl.core.processing_activity_id")["stringValue"],
        "VA-12"
    );
    assert!(!out.contains(USER), "no user in the LDV lines");
}

/// `reindex` reports where the index beside the log stands; a log smaller than one run is all
/// tail (queries scan it), and a rebuild leaves the log verifiable and the overview the same.
#[test]
fn reindex_reports_the_index_and_a_rebuild_changes_no_answer() {
    let log = seeded();
    let o = sluis(&log, &["reindex"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("0 runs built; records up to seq 0 indexed, 14 after it in the tail"),
        "{}",
        stdout(&o)
    );
    let v = json(&sluis(&log, &["reindex", "--rebuild", "--format", "json"]));
    assert_eq!(v["index"]["head"], 14, "{v}");
    assert_eq!(v["index"]["indexed_to"], 0, "{v}");
    assert_eq!(code(&sluis(&log, &["verify"])), 0);
    let overview = json(&sluis(&log, &["subject", "--bsn", BSN_A]));
    let seqs: Vec<u64> = overview["processings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [2, 4, 8, 11], "the overview reads the tail");
}

#[test]
fn checkpoint_signs_the_current_head() {
    let log = seeded();
    let o = sluis(&log, &["checkpoint"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("checkpoint signed\n  seq:        14"),
        "{}",
        stdout(&o)
    );
    let v = json(&sluis(&log, &["checkpoint", "--format", "json"]));
    assert_eq!(v["checkpoint"]["seq"], 14);
    assert_eq!(v["public_key"].as_str().unwrap().len(), 64);
    let v = json(&sluis(&log, &["verify", "--format", "json"]));
    assert_eq!(v["checkpoints_verified"], 4);
}

#[test]
fn verify_accepts_checkpoints_of_a_retired_key_only_when_configured() {
    let log = seeded();
    let old_public = sluis_proxy::auditing::checkpoint_public_key(&log.cfg.audit)
        .unwrap()
        .unwrap()
        .to_string();
    // Rotate: a new checkpoint key; checkpoints already in the log were signed with the old one.
    let dir = log.config.parent().unwrap().to_owned();
    write(&dir, "checkpoint.key", &"5c".repeat(32));
    let o = sluis(&log, &["verify"]);
    assert_eq!(
        code(&o),
        1,
        "old checkpoints must not verify with only the new key: {}",
        stdout(&o)
    );
    let toml = std::fs::read_to_string(&log.config).unwrap().replace(
        "checkpoint_every = 4",
        &format!("checkpoint_every = 4\nretired_checkpoint_public_keys = [\"{old_public}\"]"),
    );
    write(&dir, "sluis.toml", &toml);
    let o = sluis(&log, &["verify"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let bad = toml.replace(&old_public, "not-hex");
    write(&dir, "sluis.toml", &bad);
    let o = sluis(&log, &["verify"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("retired_checkpoint_public_keys[0]"),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------------------------------------
// the witness

/// The seeded log's configuration with a witness file and a 50 ms checkpoint cadence (and no
/// checkpoint by count, so the witness's checkpoints are the only ones), written through the
/// server's own sink: 3 requests of 2 entries, a cadence checkpoint after each, and the
/// shutdown checkpoint.
fn witnessed() -> (Log, PathBuf) {
    let log = setup(3650);
    let dir = log.config.parent().unwrap().to_owned();
    let toml = std::fs::read_to_string(&log.config).unwrap().replace(
        "checkpoint_every = 4",
        "checkpoint_every = 0\ncheckpoint_interval_ms = 50\nwitness = \"witness.jsonl\"",
    );
    write(&dir, "sluis.toml", &toml);
    let cfg = Config::load(&log.config).unwrap();
    let keys = subject_keys(&cfg.audit).unwrap().unwrap();
    let a = keys.pseudonym("BSN", BSN_A);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sink = sluis_stores::open_sink(&cfg.audit).unwrap();
        for i in 0..3u64 {
            let t = now_ms();
            sink.commit_entries(request(
                i + 1,
                t,
                "VA-12",
                RAADPLEEG,
                &[(a.clone(), SubjectRole::Geraadpleegd)],
            ))
            .await
            .unwrap();
            // Past the cadence: each request's head is checkpointed on its own.
            for _ in 0..100 {
                if sink.stats().witnessed_seq == 2 * (i + 1) {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            assert_eq!(
                sink.stats().witnessed_seq,
                2 * (i + 1),
                "{:?}",
                sink.stats()
            );
        }
        sink.close().await.unwrap();
    });
    let log = Log { cfg, ..log };
    (log, dir.join("witness.jsonl"))
}

#[test]
fn the_witness_catches_what_the_store_alone_cannot() {
    let (log, witness) = witnessed();
    let w = witness.to_str().unwrap();
    let lines = std::fs::read_to_string(&witness).unwrap();
    assert_eq!(lines.lines().count(), 3, "{lines}");
    let o = sluis(&log, &["verify", "--witness", w]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("3 witnessed checkpoint(s) compared"),
        "{}",
        stdout(&o)
    );

    // Cut off the last request together with the checkpoint that covers it: the chain that is
    // left is intact, so the store alone finds nothing...
    tamper(
        &log,
        "DELETE FROM entries WHERE seq > 4; DELETE FROM checkpoints WHERE seq > 4",
    );
    let o = sluis(&log, &["verify"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    // ...and the witness names the truncation.
    let o = sluis(&log, &["verify", "--witness", w]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stderr(&o).contains("first bad record at seq 5 (truncated)"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("seq 6 was witnessed"), "{}", stdout(&o));

    // A deleted checkpoint inside the log, and a rewritten one.
    tamper(&log, "DELETE FROM checkpoints WHERE seq = 2");
    let v = json(&sluis(
        &log,
        &["verify", "--format", "json", "--witness", w],
    ));
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_problem"]["seq"], 2, "{v:#}");
    assert!(
        v["first_problem"]["detail"]
            .as_str()
            .unwrap()
            .contains("deleted"),
        "{v:#}"
    );
    assert_eq!(v["witnessed_checkpoints"], 3);

    // A witness file that is not one is a usage error (exit 2), never a verdict.
    std::fs::write(&witness, "{\"seq\": \"x\"}\n{}\n").unwrap();
    let o = sluis(&log, &["verify", "--witness", w]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("line 1"), "{}", stderr(&o));
}

#[test]
fn detect_raises_the_same_alerts_over_the_store_and_over_an_export() {
    let log = seeded();
    let keys = subject_keys(&log.cfg.audit).unwrap().unwrap();
    let dir = log.config.parent().unwrap().to_owned();
    let rules = dir.join("rules.toml");
    write(
        &dir,
        "rules.toml",
        &format!(
            "[[watch_lists]]\nname = \"vip\"\nseverity = \"high\"\nsubjects = [\"{}\"]\n",
            keys.pseudonym("BSN", BSN_A)
        ),
    );
    let rules = rules.to_str().unwrap();
    let o = sluis(&log, &["detect", "--rules", rules]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let alerts: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let d5: Vec<&Value> = alerts.iter().filter(|a| a["rule"] == "D5").collect();
    assert!(!d5.is_empty(), "{alerts:?}");
    assert!(
        d5.iter()
            .all(|a| a["severity"] == "high" && a["user"] == USER)
    );
    assert!(!stdout(&o).contains(BSN_A), "alerts name pseudonyms only");
    assert!(
        stderr(&o).contains("14 entries evaluated"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("D5"), "{}", stderr(&o));

    // The same rules over what `sluis audit export` wrote: the same alerts, the same ids.
    let export = sluis(&log, &["export"]);
    assert_eq!(code(&export), 0);
    let file = dir.join("export.jsonl");
    std::fs::write(&file, &export.stdout).unwrap();
    let o2 = sluis(
        &log,
        &[
            "detect",
            "--rules",
            rules,
            "--input",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o2), 0, "{}", stderr(&o2));
    assert_eq!(stdout(&o2), stdout(&o));

    // A period before the log holds nothing to raise.
    let o3 = sluis(
        &log,
        &[
            "detect",
            "--rules",
            rules,
            "--from",
            "2020-01-01",
            "--to",
            "2020-01-31",
        ],
    );
    assert_eq!(code(&o3), 0, "{}", stderr(&o3));
    assert!(!stdout(&o3).contains("\"D5\""), "{}", stdout(&o3));

    // A BSN in a watch list is refused, and not repeated.
    write(
        &dir,
        "bad-rules.toml",
        &format!("[[watch_lists]]\nname = \"vip\"\nsubjects = [\"{BSN_A}\"]\n"),
    );
    let bad = dir.join("bad-rules.toml");
    let o4 = sluis(&log, &["detect", "--rules", bad.to_str().unwrap()]);
    assert_ne!(code(&o4), 0);
    assert!(stderr(&o4).contains("looks like a BSN"), "{}", stderr(&o4));
    assert!(!stderr(&o4).contains(BSN_A), "{}", stderr(&o4));
}

#[test]
fn pseudonymize_gives_the_pseudonyms_the_log_holds_and_refuses_a_bad_bsn_unrepeated() {
    let log = seeded();
    let keys = subject_keys(&log.cfg.audit).unwrap().unwrap();
    let dir = log.config.parent().unwrap().to_owned();
    write(
        &dir,
        "bsns.txt",
        &format!("# watch list\n{BSN_A}\n\n{BSN_B}\n"),
    );
    let o = sluis(
        &log,
        &[
            "pseudonymize",
            "--bsn-file",
            dir.join("bsns.txt").to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut want = keys.pseudonyms("BSN", BSN_A);
    want.extend(keys.pseudonyms("BSN", BSN_B));
    let got: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    assert_eq!(got, want, "current and retired keys, in order");
    // The retired key's pseudonym is the one the oldest record was made under.
    assert!(
        got.contains(
            &SubjectKey::new("k2024", OLD_KEY)
                .unwrap()
                .pseudonym("BSN", BSN_A)
        )
    );

    write(&dir, "typo.txt", &format!("{BSN_A}\n999993654\n"));
    let o = sluis(
        &log,
        &[
            "pseudonymize",
            "--bsn-file",
            dir.join("typo.txt").to_str().unwrap(),
        ],
    );
    assert_ne!(code(&o), 0);
    assert!(
        stderr(&o).contains("line 2 is not a valid BSN"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("999993654") && stdout(&o).is_empty());
}
