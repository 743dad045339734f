//! `sluis audit detect` (the rules over the store or an export, alerts as JSON lines) and
//! `sluis audit pseudonymize` (BSNs to the pseudonyms watch lists hold).

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, BufWriter};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use sluis_audit::{AlertRecord, StoredEntry, bsn_is_valid, export_each, now_ms};
use sluis_detect::{Detector, Rules, parse_rules};
use sluis_proxy::Config;
use sluis_proxy::auditing::subject_keys;

use crate::CliError;
use crate::audit::{open, period_args, store_error, write_out};

fn rules(cfg: &Config, file: Option<&Path>) -> Result<Arc<Rules>, CliError> {
    match file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", f.display())))?;
            parse_rules(&text, &f.display().to_string())
                .map(Arc::new)
                .map_err(|e| CliError::Usage(e.to_string()))
        }
        None => match &cfg.detection {
            Some(d) => Ok(Arc::clone(&d.rules)),
            None => parse_rules("", "the default rules")
                .map(Arc::new)
                .map_err(|e| CliError::Usage(e.to_string())),
        },
    }
}

struct Run<'a> {
    detector: Detector,
    out: BufWriter<io::StdoutLock<'a>>,
    from_ms: u64,
    to_ms: u64,
    alerts: u64,
    per_rule: BTreeMap<String, u64>,
    reader_gone: bool,
}

impl Run<'_> {
    fn emit(&mut self, alerts: Vec<AlertRecord>) -> Result<(), CliError> {
        for a in alerts {
            self.alerts += 1;
            *self.per_rule.entry(a.rule.clone()).or_insert(0) += 1;
            if self.reader_gone {
                continue;
            }
            let mut line = serde_json::to_string(&a)
                .map_err(|e| CliError::Usage(format!("cannot encode an alert: {e}")))?;
            line.push('\n');
            if !write_out(&mut self.out, line.as_bytes())? {
                self.reader_gone = true;
            }
        }
        Ok(())
    }

    fn offer(&mut self, e: &StoredEntry) -> Result<(), CliError> {
        if e.time_ms < self.from_ms || e.time_ms >= self.to_ms {
            return Ok(());
        }
        let alerts = self.detector.observe(e.seq, e.time_ms, &e.entry);
        self.emit(alerts)
    }
}

/// `sluis audit detect`.
pub fn detect(
    cfg: &Config,
    rules_file: Option<&Path>,
    from: Option<&str>,
    to: Option<&str>,
    input: Option<&Path>,
) -> Result<String, CliError> {
    let rules = rules(cfg, rules_file)?;
    let (from_ms, to_ms) = period_args(from, to)?;
    let stdout = io::stdout();
    let mut run = Run {
        detector: Detector::new(rules),
        out: BufWriter::new(stdout.lock()),
        from_ms: from_ms.unwrap_or(0),
        to_ms: to_ms.unwrap_or(u64::MAX),
        alerts: 0,
        per_rule: BTreeMap::new(),
        reader_gone: false,
    };
    let started = Instant::now();
    let bar = crate::progress::counter("evaluating");
    match input {
        Some(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
            for (i, line) in BufReader::new(file).lines().enumerate() {
                let line = line
                    .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
                if line.trim().is_empty() {
                    continue;
                }
                let e: StoredEntry = serde_json::from_str(&line).map_err(|e| {
                    CliError::Usage(format!(
                        "{} line {}: not an entry of `sluis audit export` (jsonl): {e}",
                        path.display(),
                        i + 1
                    ))
                })?;
                run.offer(&e)?;
                bar.inc(1);
            }
        }
        None => {
            let mut store = open(cfg)?;
            let mut failed = None;
            export_each(store.as_mut(), 1, |e| {
                if let Err(err) = run.offer(&e) {
                    failed = Some(err);
                    return Err(sluis_audit::AuditError::Invalid("stopped".into()));
                }
                bar.inc(1);
                Ok(())
            })
            .map_err(|e| match failed.take() {
                Some(err) => err,
                None => store_error("the audit log could not be read")(e),
            })?;
        }
    }
    // Periods that ended before the end of the range (or now) are judged.
    let end = to_ms.unwrap_or_else(now_ms);
    let closing = run.detector.tick(end);
    run.emit(closing)?;
    write_out(&mut run.out, b"")?;
    bar.finish_and_clear();
    let stats = run.detector.stats();
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let rules: Vec<String> = run
        .per_rule
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    eprintln!(
        "{} entries evaluated in {secs:.2} s ({:.0} entries/s); {} alert{}{}",
        stats.entries,
        stats.entries as f64 / secs,
        run.alerts,
        if run.alerts == 1 { "" } else { "s" },
        if rules.is_empty() {
            String::new()
        } else {
            format!(": {}", rules.join(", "))
        }
    );
    Ok(String::new())
}

/// `sluis audit pseudonymize`.
pub fn pseudonymize(cfg: &Config, file: &Path) -> Result<String, CliError> {
    let keys = subject_keys(&cfg.audit)
        .map_err(store_error("audit.subject_key"))?
        .ok_or_else(|| {
            CliError::Usage(
                "no audit.subject_key is configured: there is nothing to pseudonymise with".into(),
            )
        })?;
    let reader: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(BufReader::new(io::stdin()))
    } else {
        Box::new(BufReader::new(std::fs::File::open(file).map_err(|e| {
            CliError::Usage(format!("cannot read {}: {e}", file.display()))
        })?))
    };
    let mut out = String::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| CliError::Usage(format!("cannot read the BSNs: {e}")))?;
        let bsn = line.trim();
        if bsn.is_empty() || bsn.starts_with('#') {
            continue;
        }
        // The value is never repeated in an error: it may be a real BSN.
        if bsn.len() != 9 || !bsn.bytes().all(|b| b.is_ascii_digit()) || !bsn_is_valid(bsn) {
            return Err(CliError::Usage(format!(
                "line {} is not a valid BSN (9 digits passing the elfproef)",
                i + 1
            )));
        }
        for p in keys.pseudonyms("BSN", bsn) {
            out.push_str(&p);
            out.push('\n');
        }
    }
    let mut stdout = io::stdout().lock();
    write_out(&mut stdout, out.as_bytes())?;
    Ok(String::new())
}
