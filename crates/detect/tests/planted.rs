//! Every rule on a synthetic history with planted misuse: five months of ordinary traffic of
//! forty users, one planted case (or a few) per rule. Prints precision and recall per rule and
//! requires every planted case found and no alert on ordinary traffic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests: failing loudly is the point"
)]

use std::collections::BTreeMap;
use std::sync::Arc;

use sluis_audit::AlertRecord;
use sluis_detect::synthetic::{History, Planted, Who, history};
use sluis_detect::{Detector, RULES, evaluate, parse_rules};

fn finds(alert: &AlertRecord, p: &Planted) -> bool {
    alert.rule == p.rule
        && match &p.who {
            Who::User(u) => alert.user.as_deref() == Some(u),
            Who::Subject(s) => alert.subjects.iter().any(|x| x == s),
            Who::Unit(u) => alert.unit.as_deref() == Some(u),
        }
}

fn run(h: &History) -> Vec<AlertRecord> {
    let rules = Arc::new(parse_rules(&h.rules_toml, "synthetic").unwrap());
    let (alerts, stats) = evaluate(
        rules,
        h.entries.iter().map(|(s, t, e)| (*s, *t, e)),
        h.end_ms,
    );
    assert_eq!(stats.entries, h.entries.len() as u64);
    alerts
}

#[test]
fn every_planted_case_is_found_and_ordinary_traffic_raises_nothing() {
    let h = history(42);
    let alerts = run(&h);
    let mut table: BTreeMap<&str, (u64, u64, u64, u64)> = BTreeMap::new(); // tp, fp, found, planted
    for (rule, _) in RULES {
        table.insert(rule, (0, 0, 0, 0));
    }
    for a in &alerts {
        let row = table.get_mut(a.rule.as_str()).unwrap();
        if h.planted.iter().any(|p| finds(a, p)) {
            row.0 += 1;
        } else {
            row.1 += 1;
            eprintln!("false positive: {} {:?} {}", a.rule, a.user, a.summary);
        }
    }
    for p in &h.planted {
        let row = table.get_mut(p.rule).unwrap();
        row.3 += 1;
        if alerts.iter().any(|a| finds(a, p)) {
            row.2 += 1;
        } else {
            eprintln!("missed: {} {:?} ({})", p.rule, p.who, p.what);
        }
    }
    eprintln!(
        "{} entries, {} alerts\nrule  name               planted  found  alerts  precision  recall",
        h.entries.len(),
        alerts.len()
    );
    for (rule, name) in RULES {
        let (tp, fp, found, planted) = table[rule];
        let precision = if tp + fp == 0 {
            f64::NAN
        } else {
            tp as f64 / (tp + fp) as f64
        };
        let recall = found as f64 / planted.max(1) as f64;
        eprintln!(
            "{rule:<5} {name:<18} {planted:>7} {found:>6} {:>7} {precision:>10.2} {recall:>7.2}",
            tp + fp
        );
    }
    let missed: Vec<_> = h
        .planted
        .iter()
        .filter(|p| !alerts.iter().any(|a| finds(a, p)))
        .collect();
    assert!(missed.is_empty(), "missed: {missed:?}");
    let false_positives: Vec<_> = alerts
        .iter()
        .filter(|a| !h.planted.iter().any(|p| finds(a, p)))
        .map(|a| (&a.rule, &a.user, &a.summary))
        .collect();
    assert!(
        false_positives.is_empty(),
        "alerts on ordinary traffic: {false_positives:?}"
    );
}

#[test]
fn evaluating_twice_raises_the_same_ids_and_a_known_alert_is_not_raised_again() {
    let h = history(7);
    let first = run(&h);
    let second = run(&h);
    let ids = |v: &[AlertRecord]| v.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ids(&second));
    assert!(!first.is_empty());

    // A detector told about the alerts (as the server is, from the store) raises none of them.
    let rules = Arc::new(parse_rules(&h.rules_toml, "synthetic").unwrap());
    let mut d = Detector::new(rules);
    for a in &first {
        d.seen(&a.id, a.time_ms);
    }
    let mut again = Vec::new();
    for (s, t, e) in &h.entries {
        again.extend(d.observe(*s, *t, e));
    }
    again.extend(d.tick(h.end_ms));
    assert!(again.is_empty(), "raised again: {:?}", ids(&again));
    assert_eq!(d.stats().duplicates, first.len() as u64);
}

#[test]
fn alerts_carry_evidence_and_no_bsn() {
    let h = history(42);
    for a in run(&h) {
        assert!(a.count >= 1, "{a:?}");
        assert!(a.period_from_ms < a.period_to_ms, "{a:?}");
        if a.rule != "D8" && a.rule != "D1" {
            assert!(!a.evidence_seqs.is_empty(), "{a:?}");
            assert_eq!(a.evidence_seqs.len(), a.trace_ids.len());
        }
        for s in &a.subjects {
            assert!(s.starts_with("k1:"), "{s}");
        }
        let text = serde_json::to_string(&a).unwrap();
        assert!(!has_quoted_nine_digits(&text), "{text}");
    }
}

/// True when `text` holds a JSON string of exactly nine digits (what a BSN looks like).
fn has_quoted_nine_digits(text: &str) -> bool {
    text.split('"')
        .skip(1)
        .step_by(2)
        .any(|s| s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn memory_stays_within_the_limits() {
    let h = history(3);
    let text = format!(
        "{}\n[limits]\nmax_traces = 100\nmax_subjects = 1000\nmax_users = 30\n",
        h.rules_toml
    );
    let rules = Arc::new(parse_rules(&text, "synthetic").unwrap());
    let mut d = Detector::new(rules);
    for (s, t, e) in &h.entries {
        d.observe(*s, *t, e);
    }
    let st = d.stats();
    assert!(st.evicted > 0, "{st:?}");
    let (traces, subjects, users) = d.tracked();
    assert!(
        traces <= 100 && subjects <= 1000 && users <= 30,
        "{traces} {subjects} {users}"
    );
}
