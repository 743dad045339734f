//! The acceptance scenarios of the protocollering domain that concern detection (E15: a
//! synthetic "VIP lookup at 23:30" triggers the watch-list and office-hours rules at once), and
//! single-rule behaviour a reviewer relies on.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests: failing loudly is the point"
)]

use std::sync::Arc;

use sluis_audit::testing::{access, processing, subject};
use sluis_audit::{AlertRecord, Entry, Severity};
use sluis_detect::{Detector, parse_rules};

/// 2026-12-02T23:30:00+01:00, a Wednesday.
const WED_2330: u64 = 1_796_250_600_000;
/// 2026-12-02T10:00:00+01:00.
const WED_1000: u64 = 1_796_202_000_000;

fn detector(extra: &str) -> Detector {
    let text = format!(
        "[[watch_lists]]\nname = \"bekende Nederlanders\"\nsubjects = [\"{}\"]\n{extra}",
        subject(77)
    );
    Detector::new(Arc::new(parse_rules(&text, "rules.toml").unwrap()))
}

/// Observes request `i` at `t` by `user` for `subject_j`; returns the alerts.
fn lookup(
    d: &mut Detector,
    seq: &mut u64,
    i: u64,
    t: u64,
    user: &str,
    subject_j: u64,
) -> Vec<AlertRecord> {
    let mut a = access(i);
    a.time_ms = t;
    a.user = Some(user.into());
    let mut p = processing(i, subject_j);
    p.start_time_ms = t;
    let mut out = Vec::new();
    *seq += 1;
    out.extend(d.observe(*seq, t, &Entry::Access(a)));
    *seq += 1;
    out.extend(d.observe(*seq, t, &Entry::Processing(p)));
    out
}

#[test]
fn e15_a_vip_lookup_at_half_past_eleven_raises_watch_list_and_office_hours_at_once() {
    let mut d = detector("");
    let mut seq = 0;
    assert!(lookup(&mut d, &mut seq, 1, WED_1000, "ann", 3).is_empty());
    let alerts = lookup(&mut d, &mut seq, 2, WED_2330, "ann", 77);
    let rules: Vec<&str> = alerts.iter().map(|a| a.rule.as_str()).collect();
    assert!(rules.contains(&"D5") && rules.contains(&"D2"), "{rules:?}");
    let d5 = alerts.iter().find(|a| a.rule == "D5").unwrap();
    assert_eq!(d5.severity, Severity::High);
    assert_eq!(d5.user.as_deref(), Some("ann"));
    assert_eq!(d5.subjects, vec![subject(77)]);
    assert_eq!(
        d5.evidence_seqs,
        vec![4],
        "the processing record is the evidence"
    );
    assert!(
        d5.summary.contains("bekende Nederlanders"),
        "{}",
        d5.summary
    );
    let d2 = alerts.iter().find(|a| a.rule == "D2").unwrap();
    assert!(d2.summary.contains("23:30"), "{}", d2.summary);
    // The same day again: no second alert of either rule.
    assert!(lookup(&mut d, &mut seq, 3, WED_2330 + 60_000, "ann", 77).is_empty());
    // Another user looking the same person up is a finding of its own.
    let bob = lookup(&mut d, &mut seq, 4, WED_2330 + 120_000, "bob", 77);
    assert!(
        bob.iter()
            .any(|a| a.rule == "D5" && a.user.as_deref() == Some("bob"))
    );
}

#[test]
fn a_disabled_rule_raises_nothing() {
    let mut d =
        detector("[rules.watch_list]\nenabled = false\n[rules.office_hours]\nenabled = false\n");
    let mut seq = 0;
    assert!(lookup(&mut d, &mut seq, 2, WED_2330, "ann", 77).is_empty());
}

#[test]
fn probing_needs_the_threshold_within_the_window() {
    let mut d = detector("[rules.probing]\nmax_denials = 3\nwindow_minutes = 10\n");
    let deny = |i: u64, t: u64| {
        let mut a = access(i);
        a.time_ms = t;
        a.user = Some("eve".into());
        a.decision = sluis_audit::Decision::Deny;
        a.status = 403;
        Entry::Access(a)
    };
    // Two refusals, then a third eleven minutes later: not within ten minutes.
    assert!(d.observe(1, WED_1000, &deny(1, WED_1000)).is_empty());
    assert!(
        d.observe(2, WED_1000 + 60_000, &deny(2, WED_1000 + 60_000))
            .is_empty()
    );
    assert!(
        d.observe(3, WED_1000 + 660_000, &deny(3, WED_1000 + 660_000))
            .is_empty()
    );
    // Two more within the window of the third: the alert, with the three as evidence.
    assert!(
        d.observe(4, WED_1000 + 700_000, &deny(4, WED_1000 + 700_000))
            .is_empty()
    );
    let a = d.observe(5, WED_1000 + 720_000, &deny(5, WED_1000 + 720_000));
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].rule, "D10");
    assert_eq!(a[0].evidence_seqs, vec![3, 4, 5]);
}
