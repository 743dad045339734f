//! `sluis audit`: verify the log, a citizen's overview, retention purge, export, checkpoints.
//!
//! Every command opens the store the configuration's `[audit]` section names (as `serve` would)
//! and leaves the work to `sluis_audit`; this module parses arguments and prints. Exit status: 0
//! on success, 1 when `verify` finds the log altered (the report on stdout, the first bad record
//! on stderr), 2 for usage, configuration and store errors.

use std::collections::BTreeSet;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use serde_json::{Value, json};
use sluis_audit::{
    AuditError, AuditStore, EntryIndex, Overview, OverviewRequest, PURGE_RECORDS_KEY, PurgePlanner,
    PurgeRecord, RawRow, RegisterActivity, VerifyReport, bsn_is_valid, local_day_end_ms,
    local_day_start_ms, mask_bsn, now_ms, otlp_request_from_entries,
};
use sluis_proxy::Config;
use sluis_proxy::auditing::{checkpoint_public_key, checkpoint_public_keys, subject_keys};
use sluis_stores::open_store;

use crate::CliError;

/// Entries read per page when walking the log.
const PAGE: usize = 1_000;

/// Arguments of `sluis audit`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The configuration file (TOML); its `[audit]` section names the store and keys, its
    /// `[[processing_activities]]` are the register.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the hash chain and the signed checkpoints: exit 0 when intact, 1 naming the first
    /// altered, removed or reordered record.
    Verify {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: TextOrJson,
        /// The witness file (`[audit] witness`, or a copy of it): also check that every
        /// witnessed checkpoint is still in the store with the same hash and that the log still
        /// reaches it (tail truncation, deleted or rewritten checkpoints).
        #[arg(long, value_name = "FILE")]
        witness: Option<PathBuf>,
    },
    /// Bring the log's subject and trace index up to date (SQLite keeps it beside the log, built
    /// off the commit path by the running sluis); with `--rebuild`, build it again from the log,
    /// as `verify` advises when it does not match.
    Reindex {
        /// Clear the index first and build it again from the log.
        #[arg(long)]
        rebuild: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: TextOrJson,
    },
    /// A citizen's overview (AVG art. 15) of the processing of their data: every processing
    /// recorded under the BSN (all subject keys, current and retired), joined with the register;
    /// confidential activities left out.
    Subject {
        /// The citizen's BSN (9 digits, passing the elfproef).
        #[arg(long, value_name = "BSN")]
        bsn: String,
        /// First day of the period (YYYY-MM-DD, Dutch local time, inclusive).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day of the period (YYYY-MM-DD, inclusive: up to the end of that day).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// `json` (the overview as data) or `html` (a printable letter).
        #[arg(long, value_enum, default_value = "json")]
        format: OverviewFormat,
    },
    /// Remove the records past their activity's retention (`retention_days` in the register);
    /// the purge itself is recorded in the log.
    Purge {
        /// Show what would be removed without removing anything.
        #[arg(long)]
        dry_run: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: TextOrJson,
    },
    /// Print the stored entries: JSON lines, or Logboek Dataverwerkingen spans as OTLP/JSON.
    Export {
        /// `jsonl`: one stored entry per line; `otlp`: one OTLP/JSON ExportTraceServiceRequest
        /// per line (up to 1,000 entries each), processing records only.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
        /// Start at this sequence number.
        #[arg(long, value_name = "N", default_value_t = 1)]
        from_seq: u64,
    },
    /// Evaluate the misuse-detection rules (D1-D13) over the log, or over a file `export`
    /// wrote, and print the alerts as JSON lines (a summary goes to stderr). Nothing is stored.
    Detect {
        /// The rules file (default: `[detection] rules`, else every rule with its defaults).
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        /// First day (YYYY-MM-DD, Dutch local time, inclusive).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day (YYYY-MM-DD, inclusive).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// Read the entries from this file (`sluis audit export` JSON lines) instead of the store.
        #[arg(long, value_name = "EXPORT.jsonl")]
        input: Option<PathBuf>,
    },
    /// Print the pseudonyms of BSNs (one per line in FILE, `-` for stdin) under every subject
    /// key, for watch lists and the user directory: those hold pseudonyms, never a BSN.
    Pseudonymize {
        #[arg(long, value_name = "FILE")]
        bsn_file: PathBuf,
    },
    /// Sign a checkpoint of the log's current head now (needs `audit.checkpoint_key`).
    Checkpoint {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: TextOrJson,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TextOrJson {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OverviewFormat {
    Json,
    Html,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportFormat {
    Jsonl,
    Otlp,
}

/// Runs `sluis audit ...`; the returned text goes to stdout.
pub fn run(args: &Args) -> Result<String, CliError> {
    let cfg = load(&args.config)?;
    match &args.command {
        AuditCommand::Verify { format, witness } => verify(&cfg, *format, witness.as_deref()),
        AuditCommand::Subject {
            bsn,
            from,
            to,
            format,
        } => subject(&cfg, bsn, from.as_deref(), to.as_deref(), *format),
        AuditCommand::Purge { dry_run, format } => purge(&cfg, *dry_run, *format),
        AuditCommand::Export { format, from_seq } => export(&cfg, *format, *from_seq),
        AuditCommand::Checkpoint { format } => checkpoint(&cfg, *format),
        AuditCommand::Reindex { rebuild, format } => reindex(&cfg, *rebuild, *format),
        AuditCommand::Detect {
            rules,
            from,
            to,
            input,
        } => crate::detect::detect(
            &cfg,
            rules.as_deref(),
            from.as_deref(),
            to.as_deref(),
            input.as_deref(),
        ),
        AuditCommand::Pseudonymize { bsn_file } => crate::detect::pseudonymize(&cfg, bsn_file),
    }
}

pub(crate) fn load(path: &Path) -> Result<Config, CliError> {
    Config::load(path).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        CliError::Usage(format!(
            "the configuration cannot be used:\n{}",
            lines.join("\n")
        ))
    })
}

pub(crate) fn store_error(what: &str) -> impl Fn(AuditError) -> CliError + '_ {
    move |e| CliError::Usage(format!("{what}: {e}"))
}

pub(crate) fn open(cfg: &Config) -> Result<Box<dyn AuditStore>, CliError> {
    open_store(&cfg.audit).map_err(store_error("cannot open the audit store"))
}

fn json_text(v: &impl serde::Serialize) -> Result<String, CliError> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| CliError::Usage(format!("cannot encode the output: {e}")))
}

fn kind_name(v: &impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// verify

fn verify(cfg: &Config, format: TextOrJson, witness: Option<&Path>) -> Result<String, CliError> {
    let keys = checkpoint_public_keys(&cfg.audit).map_err(store_error("audit.checkpoint_key"))?;
    // Read the witness first: a file that cannot be read is a usage error, not a verdict.
    let witnessed = witness
        .map(sluis_audit::read_witness)
        .transpose()
        .map_err(store_error("the witness"))?;
    let mut store = open(cfg)?;
    let total = store
        .head()
        .map_err(store_error("the audit log could not be read"))?
        .map_or(0, |(seq, _)| seq);
    let bar = crate::progress::bar("verifying", total);
    let mut report = store
        .verify_with_progress(&keys, &mut |n| bar.set_position(n))
        .map_err(store_error("the audit log could not be read"))?;
    bar.finish_and_clear();
    if let Some(witnessed) = &witnessed {
        let stored = store
            .chain_checkpoints()
            .map_err(store_error("the audit log could not be read"))?;
        let states = sluis_audit::chain_states(&report, &stored);
        let found = sluis_audit::check_witness(witnessed, &states, &keys);
        report.problems_total += found.len() as u64;
        report.problems.extend(found);
        report.problems.sort_by_key(|p| p.seq);
        report.problems.truncate(sluis_audit::MAX_PROBLEMS);
    }
    let out = match format {
        TextOrJson::Text => verify_text(&report, witnessed.as_ref().map(Vec::len)),
        TextOrJson::Json => {
            let mut v = serde_json::Map::new();
            v.insert("ok".into(), Value::Bool(report.is_ok()));
            v.insert(
                "first_problem".into(),
                serde_json::to_value(report.first_problem()).unwrap_or(Value::Null),
            );
            if let Ok(Value::Object(rest)) = serde_json::to_value(&report) {
                v.extend(rest);
            }
            if let Some(w) = &witnessed {
                v.insert("witnessed_checkpoints".into(), Value::from(w.len()));
            }
            json_text(&Value::Object(v))?
        }
    };
    match report.first_problem() {
        None if report.is_ok() => Ok(out),
        Some(p) => Err(CliError::Failed {
            report: out,
            message: format!(
                "audit log verification failed: first bad record at seq {} ({}): {}",
                p.seq,
                kind_name(&p.kind),
                p.detail
            ),
        }),
        None => Err(CliError::Failed {
            report: out,
            message: format!(
                "audit log verification failed: {} problems",
                report.problems_total
            ),
        }),
    }
}

fn verify_text(r: &VerifyReport, witnessed: Option<usize>) -> String {
    let mut s = String::new();
    let range = match (r.first_seq, r.last_seq) {
        (Some(a), Some(b)) => format!(" (seq {a}..={b})"),
        _ => String::new(),
    };
    if r.is_ok() {
        s.push_str("audit log intact\n");
    } else {
        s.push_str(&format!(
            "audit log NOT intact: {} problem{}\n",
            r.problems_total,
            if r.problems_total == 1 { "" } else { "s" }
        ));
        if let Some(p) = r.first_problem() {
            s.push_str(&format!(
                "first bad record: seq {} ({})\n  {}\n",
                p.seq,
                kind_name(&p.kind),
                p.detail
            ));
        }
    }
    s.push_str(&format!("  entries:      {}{range}\n", r.entries));
    if let Some(up_to) = r.purged_up_to {
        s.push_str(&format!(
            "  purged:       seq 1..={up_to}, covered by a purge record\n"
        ));
    }
    if r.signatures_checked {
        s.push_str(&format!(
            "  checkpoints:  {} signature(s) verified, {} compared with the log\n",
            r.checkpoints_verified, r.checkpoints_matched
        ));
    } else {
        s.push_str(&format!(
            "  checkpoints:  {} compared with the log; signatures NOT checked (no audit.checkpoint_key configured)\n",
            r.checkpoints_matched
        ));
    }
    if r.chains.is_empty() {
        s.push_str(&format!("  last hash:    {}\n", r.last_hash));
    }
    for c in &r.chains {
        let range = match (c.report.first_seq, c.report.last_seq) {
            (Some(a), Some(b)) => format!("seq {a}..={b}"),
            _ => "empty".to_owned(),
        };
        s.push_str(&format!(
            "  chain {:<12} {} entries ({range}), {} problem(s), last hash {}\n",
            c.chain, c.report.entries, c.report.problems_total, c.report.last_hash
        ));
    }
    if let Some(n) = witnessed {
        s.push_str(&format!(
            "  witness:      {n} witnessed checkpoint(s) compared with the store\n"
        ));
    }
    if r.problems.len() > 1 {
        s.push_str("all problems found:\n");
        for p in &r.problems {
            s.push_str(&format!(
                "  seq {:<8} {:<10} {}\n",
                p.seq,
                kind_name(&p.kind),
                p.detail
            ));
        }
        let shown = u64::try_from(r.problems.len()).unwrap_or(u64::MAX);
        if r.problems_total > shown {
            s.push_str(&format!("  ... and {} more\n", r.problems_total - shown));
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// subject

fn register(cfg: &Config) -> Vec<RegisterActivity> {
    sluis_proxy::auditing::register_activities(&cfg.activities)
}

fn subject(
    cfg: &Config,
    bsn: &str,
    from: Option<&str>,
    to: Option<&str>,
    format: OverviewFormat,
) -> Result<String, CliError> {
    // The BSN is never repeated in an error (it may end up in a shell history or a log).
    if bsn.len() != 9 || !bsn.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CliError::Usage("--bsn must be exactly 9 digits".into()));
    }
    if !bsn_is_valid(bsn) {
        return Err(CliError::Usage(
            "--bsn is not a valid BSN (it fails the elfproef): check it for a typing error".into(),
        ));
    }
    let (from_ms, to_ms) = period_args(from, to)?;
    let keys = subject_keys(&cfg.audit)
        .map_err(store_error("audit.subject_key"))?
        .ok_or_else(|| {
            CliError::Usage(
                "no audit.subject_key is configured: the processing log holds no subjects to look up"
                    .into(),
            )
        })?;
    let mut store = open(cfg)?;
    let mut rows = Vec::new();
    // Every key, current and retired: lines recorded before a rotation are found too.
    for pseudonym in keys.pseudonyms("BSN", bsn) {
        rows.extend(
            store
                .processing_by_subject(&pseudonym, from_ms.unwrap_or(0), to_ms.unwrap_or(u64::MAX))
                .map_err(store_error("the audit log could not be read"))?,
        );
    }
    let register = register(cfg);
    let overview = Overview::build(
        &OverviewRequest {
            controller: &cfg.audit.controller,
            register: &register,
            subject_label: Some(mask_bsn(bsn)),
            from_ms,
            to_ms,
            generated_ms: now_ms(),
        },
        &rows,
    );
    // Looking a citizen up is itself a processing of personal data: it is recorded before the
    // overview is shown, like any other access.
    let now = now_ms();
    let record = sluis_audit::AccessRecord {
        time_ms: now,
        trace_id: hex_id(now, 16),
        span_id: hex_id(now.rotate_left(17), 8),
        api: "cli".into(),
        operation: "audit.subject".into(),
        method: "CLI".into(),
        path: "sluis audit subject".into(),
        issuer: None,
        subject: None,
        user: std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .ok(),
        client_id: None,
        scopes: Vec::new(),
        purpose: Some("inzageverzoek (AVG art. 15)".into()),
        processing_activity: None,
        correlation_id: None,
        decision: sluis_audit::Decision::Permit,
        status: 200,
        code: None,
        reasons: Vec::new(),
        denied_params: Vec::new(),
        params: ["bsn", "from", "to"]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        field_levels: Vec::new(),
        records: rows.len() as u64,
        policy_version: None,
        upstream_status: None,
        duration_ms: 0,
        upstream_ms: None,
        user_source: None,
        flags: Vec::new(),
        application: None,
        scopes_dropped: Vec::new(),
    };
    store
        .append(&[sluis_audit::Entry::Access(record)], now)
        .map_err(store_error(
            "the look-up could not be recorded, so no overview is shown",
        ))?;
    match format {
        OverviewFormat::Json => json_text(&overview),
        OverviewFormat::Html => Ok(overview.to_html()),
    }
}

/// `--from` and `--to` (local days, both inclusive) as `[from_ms, to_ms)`.
pub(crate) fn period_args(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(Option<u64>, Option<u64>), CliError> {
    let date = |flag: &str, v: &str, f: fn(&str) -> Result<u64, AuditError>| {
        f(v).map_err(|_| {
            CliError::Usage(format!(
                "{flag} must be a date of the form YYYY-MM-DD (got {v:?})"
            ))
        })
    };
    let from_ms = from
        .map(|v| date("--from", v, local_day_start_ms))
        .transpose()?;
    let to_ms = to.map(|v| date("--to", v, local_day_end_ms)).transpose()?;
    if let (Some(f), Some(t)) = (from_ms, to_ms)
        && f >= t
    {
        return Err(CliError::Usage("--from must not be after --to".into()));
    }
    Ok((from_ms, to_ms))
}

/// A hex id for the look-up's record, unique enough without randomness: time plus process.
fn hex_id(seed: u64, bytes: usize) -> String {
    let mut x = seed ^ u64::from(std::process::id()).rotate_left(32) ^ 0x9E37_79B9_7F4A_7C15;
    let mut out = String::new();
    while out.len() < bytes * 2 {
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        out.push_str(&format!("{x:016x}"));
    }
    out.truncate(bytes * 2);
    out
}

// ---------------------------------------------------------------------------------------------
// purge

fn purge(cfg: &Config, dry_run: bool, format: TextOrJson) -> Result<String, CliError> {
    let register = register(cfg);
    let retention = |activity: &str| {
        cfg.activities
            .iter()
            .find(|a| a.id == activity || a.aliases.iter().any(|x| x == activity))
            .map(|a| u64::from(a.retention_days))
    };
    let mut store = open(cfg)?;
    let now = now_ms();
    let bar = crate::progress::step(if dry_run {
        "planning the purge"
    } else {
        "purging (one transaction)"
    });
    let record = if dry_run {
        plan_purge(store.as_mut(), &retention, now)
    } else {
        store.purge(&retention, now)
    }
    .map_err(store_error("the purge failed"))?;
    bar.finish_and_clear();

    let name = |id: &str| register.iter().find(|a| a.id == id).map(|a| a.name.clone());
    let activities: Vec<(&String, u64)> = record
        .removed
        .iter()
        .filter(|(a, _)| a != PURGE_RECORDS_KEY)
        .map(|(a, n)| (a, *n))
        .collect();
    let purge_records: u64 = record
        .removed
        .iter()
        .filter(|(a, _)| a == PURGE_RECORDS_KEY)
        .map(|(_, n)| *n)
        .sum();
    let total: u64 = record.removed.iter().map(|(_, n)| *n).sum::<u64>() + record.removed_access;
    match format {
        TextOrJson::Json => json_text(&json!({
            "dry_run": dry_run,
            "removed_total": total,
            "removed": activities
                .iter()
                .map(|(a, n)| json!({ "activity": a, "name": name(a), "count": n }))
                .collect::<Vec<_>>(),
            "removed_access": record.removed_access,
            "removed_purge_records": purge_records,
            "up_to_seq": record.up_to_seq,
            "anchor_hash": record.anchor_hash,
        })),
        TextOrJson::Text => {
            let verb = if dry_run { "would remove" } else { "removed" };
            let mut s = if total == 0 {
                format!("nothing is past its retention; {verb} 0 entries\n")
            } else {
                format!(
                    "{verb} {total} entr{} (every entry up to seq {})\n",
                    if total == 1 { "y" } else { "ies" },
                    record.up_to_seq
                )
            };
            if !activities.is_empty() {
                s.push_str("  processing records per activity:\n");
                for (a, n) in &activities {
                    match name(a) {
                        Some(nm) => s.push_str(&format!("    {a} ({nm}): {n}\n")),
                        None => s.push_str(&format!("    {a}: {n}\n")),
                    }
                }
            }
            if record.removed_access > 0 {
                s.push_str(&format!("  access records: {}\n", record.removed_access));
            }
            if purge_records > 0 {
                s.push_str(&format!("  earlier purge records: {purge_records}\n"));
            }
            s.push_str(if dry_run {
                "dry run: nothing was removed or recorded\n"
            } else {
                "the purge is recorded in the log; `sluis audit verify` accepts the gap it names\n"
            });
            Ok(s)
        }
    }
}

/// What [`AuditStore::purge`] would remove now, read-only: the same [`PurgePlanner`] over the
/// same rows (activities of the whole log first, then the prefix).
fn plan_purge(
    store: &mut dyn AuditStore,
    retention: &dyn Fn(&str) -> Option<u64>,
    now: u64,
) -> Result<PurgeRecord, AuditError> {
    let mut activities = BTreeSet::new();
    let mut first = None;
    let mut next = 0;
    loop {
        let page = store.export(next, PAGE)?;
        let Some(last) = page.last() else { break };
        next = last.seq.saturating_add(1);
        for e in &page {
            if !e.chain.is_empty() {
                return Err(AuditError::Invalid(
                    "a dry run plans one chain; this store keeps one chain per instance, whose \
                     purge runs per chain: run the purge itself, which records what it removed"
                        .into(),
                ));
            }
            if first.is_none() {
                first = Some((e.seq, e.prev_hash.clone()));
            }
            if let Some(a) = EntryIndex::of(&e.entry).activity {
                activities.insert(a);
            }
        }
        if page.len() < PAGE {
            break;
        }
    }
    let mut planner = PurgePlanner::new(retention, now, activities);
    let mut next = 0;
    'pages: while !planner.is_complete() {
        let page = store.export(next, PAGE)?;
        let Some(last) = page.last() else { break };
        next = last.seq.saturating_add(1);
        let full = page.len() >= PAGE;
        for e in page {
            let index = EntryIndex::of(&e.entry);
            let row = RawRow {
                seq: e.seq,
                time_ms: e.time_ms,
                kind: index.kind.as_str().to_owned(),
                trace_id: index.trace_id,
                activity: index.activity,
                subject: index.subject,
                body: String::new(),
                prev_hash: e.prev_hash,
                hash: e.hash,
            };
            if !planner.offer(&row) {
                break 'pages;
            }
        }
        if !full {
            break;
        }
    }
    Ok(planner.finish(first))
}

// ---------------------------------------------------------------------------------------------
// export

fn export(cfg: &Config, format: ExportFormat, from_seq: u64) -> Result<String, CliError> {
    let mut store = open(cfg)?;
    let total = store
        .head()
        .map_err(store_error("the audit log could not be read"))?
        .map_or(0, |(seq, _)| seq.saturating_sub(from_seq.saturating_sub(1)));
    let bar = crate::progress::bar("exporting", total);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut next = from_seq;
    loop {
        let page = store
            .export(next, PAGE)
            .map_err(store_error("the audit log could not be read"))?;
        bar.inc(page.len() as u64);
        let Some(last) = page.last() else { break };
        next = last.seq.saturating_add(1);
        let full = page.len() >= PAGE;
        let mut text = String::new();
        match format {
            ExportFormat::Jsonl => {
                for e in &page {
                    let line = serde_json::to_string(e)
                        .map_err(|e| CliError::Usage(format!("cannot encode an entry: {e}")))?;
                    text.push_str(&line);
                    text.push('\n');
                }
            }
            ExportFormat::Otlp => {
                if let Some(req) = otlp_request_from_entries(&page) {
                    text.push_str(&req.to_string());
                    text.push('\n');
                }
            }
        }
        if !write_out(&mut out, text.as_bytes())? {
            return Ok(String::new());
        }
        if !full {
            break;
        }
    }
    bar.finish_and_clear();
    write_out(&mut out, b"")?;
    Ok(String::new())
}

/// Writes and flushes; `false` when the reader went away (`| head`), which is not an error.
pub(crate) fn write_out(out: &mut impl Write, bytes: &[u8]) -> Result<bool, CliError> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(CliError::Usage(format!("cannot write the export: {e}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// checkpoint

fn reindex(cfg: &Config, rebuild: bool, format: TextOrJson) -> Result<String, CliError> {
    let mut store = open(cfg)?;
    let report = store
        .reindex(rebuild)
        .map_err(store_error("the index could not be built"))?;
    match (report, format) {
        (None, TextOrJson::Json) => json_text(&json!({ "index": null })),
        (None, TextOrJson::Text) => {
            Ok("this store indexes every record as it commits it: nothing to do\n".into())
        }
        (Some(r), TextOrJson::Json) => json_text(&json!({ "index": r })),
        (Some(r), TextOrJson::Text) => Ok(format!(
            "index {}: {} runs built; records up to seq {} indexed, {} after it in the tail \
             (queries scan it; a run is built once it is full)\n",
            if rebuild {
                "rebuilt"
            } else {
                "brought up to date"
            },
            r.runs_built,
            r.indexed_to,
            r.head.saturating_sub(r.indexed_to),
        )),
    }
}

fn checkpoint(cfg: &Config, format: TextOrJson) -> Result<String, CliError> {
    let Some(public) =
        checkpoint_public_key(&cfg.audit).map_err(store_error("audit.checkpoint_key"))?
    else {
        return Err(CliError::Usage(
            "no audit.checkpoint_key is configured: checkpoints cannot be signed".into(),
        ));
    };
    let mut store = open(cfg)?;
    let cp = store
        .checkpoint(now_ms())
        .map_err(store_error("the checkpoint could not be written"))?;
    match (cp, format) {
        (None, TextOrJson::Text) => Ok("the log is empty: nothing to sign\n".into()),
        (None, TextOrJson::Json) => json_text(&json!({ "checkpoint": null })),
        (Some(cp), TextOrJson::Json) => json_text(&json!({
            "checkpoint": cp,
            "public_key": public.to_string(),
        })),
        (Some(cp), TextOrJson::Text) => Ok(format!(
            "checkpoint signed\n  seq:        {}\n  hash:       {}\n  time_ms:    {}\n  signature:  {}\n  public key: {public}\nKeep a copy outside the database (a witness, a ticket, a mail to the FG): only an outside copy catches a rewrite of the checkpoints themselves.\n",
            cp.seq, cp.hash, cp.time_ms, cp.signature
        )),
    }
}
