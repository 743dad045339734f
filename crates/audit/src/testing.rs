//! Test support (feature `testing`): record fixtures and the conformance scenarios every
//! [`AuditStore`] must pass, including tampering with the stored rows through raw SQL. The SQL
//! runs unchanged on SQLite and PostgreSQL (with `search_path` set to the store's schema).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_debug_implementations,
    reason = "test support: failing loudly is the point"
)]

use crate::chain::{ChainConfig, CheckpointSigner, EntryKind, GENESIS_HASH, PublicKey};
use crate::purge::DAY_MS;
use crate::store::{AuditStore, QueryFilter, export_each};
use crate::verify::{ProblemKind, VerifyReport};
use crate::{AccessRecord, Decision, Entry, ProcessingRecord, SpanStatus, SubjectRole};

/// Trace id of fixture request `i`.
pub fn trace_id(i: u64) -> String {
    format!("{i:032x}")
}

/// Pseudonymised subject `j` of fixture request `i` (two requests share subjects when
/// `j` repeats: subject ids depend on `j` only).
pub fn subject(j: u64) -> String {
    format!("hmac-v1:{j:064x}")
}

/// The access record of fixture request `i`.
pub fn access(i: u64) -> AccessRecord {
    AccessRecord {
        time_ms: 1_700_000_000_000 + i,
        trace_id: trace_id(i),
        span_id: format!("{i:016x}"),
        api: "brp".into(),
        operation: "brp.personen.RaadpleegMetBurgerservicenummer".into(),
        method: "POST".into(),
        path: "/haalcentraal/api/brp/personen".into(),
        issuer: Some("idp".into()),
        subject: Some("wmo-app".into()),
        user: Some("medewerker".into()),
        client_id: Some("wmo".into()),
        scopes: vec!["brp.raadplegen".into()],
        purpose: Some("Wmo-aanvraag".into()),
        processing_activity: Some("VA-12".into()),
        correlation_id: None,
        decision: Decision::Permit,
        status: 200,
        code: None,
        reasons: vec![],
        denied_params: vec![],
        params: vec![],
        field_levels: vec!["burgerservicenummer=encoded".into()],
        records: 1,
        policy_version: Some("v1".into()),
        upstream_status: Some(200),
        duration_ms: 3,
        upstream_ms: Some(2),
        user_source: None,
        flags: Vec::new(),
        application: None,
        scopes_dropped: Vec::new(),
    }
}

/// Processing record `j` of fixture request `i`.
pub fn processing(i: u64, j: u64) -> ProcessingRecord {
    ProcessingRecord {
        trace_id: trace_id(i),
        span_id: format!("{:016x}", i * 100 + j + 1),
        parent_span_id: format!("{i:016x}"),
        foreign_processor: Some("wmo".into()),
        name: "BRP raadplegen (RaadpleegMetBurgerservicenummer)".into(),
        start_time_ms: 1_700_000_000_000 + i,
        end_time_ms: 1_700_000_000_002 + i,
        status: SpanStatus::Ok,
        http_status: 200,
        upstream_error_code: None,
        processing_activity_id: "VA-12".into(),
        case_ref: Some("zaak-1".into()),
        data_subject_id: Some(subject(j)),
        data_subject_id_type: Some("BSN".into()),
        subject_role: Some(SubjectRole::Geraadpleegd),
        fields_requested: vec!["naam".into(), "adressering".into()].into(),
        fields_delivered: vec!["naam".into(), "adressering".into()].into(),
        search_params: vec![],
        resource: "sluis test".into(),
        client_app_id: Some("wmo".into()),
        flags: vec![],
    }
}

/// One request's entries: its access record and `subjects` processing records.
pub fn request(i: u64, subjects: u64) -> Vec<Entry> {
    let mut v = vec![Entry::Access(access(i))];
    v.extend((0..subjects).map(|j| Entry::Processing(processing(i, j))));
    v
}

/// The checkpoint signer of the conformance scenarios.
pub fn signer() -> CheckpointSigner {
    CheckpointSigner::from_seed(&[42u8; 32])
}

/// The public key of [`signer`].
pub fn public_key() -> PublicKey {
    signer().public_key()
}

/// The chain configuration the scenarios expect: a checkpoint every 5 entries.
pub fn chain_config() -> ChainConfig {
    ChainConfig {
        checkpoint_every: 5,
        signer: Some(signer()),
    }
}

/// A fresh, empty store and a way to run raw SQL against its tables (`entries`, `checkpoints`).
pub struct Fixture {
    pub store: Box<dyn AuditStore>,
    pub sql: Box<dyn FnMut(&str)>,
}

/// Base time of the scenarios' entries.
pub const T0: u64 = 1_700_000_000_000;

/// Appends 4 requests of 1 access + 2 processing entries (12 entries, checkpoints at 5 and 10),
/// one batch per request, one second apart.
pub fn seed(store: &mut dyn AuditStore) {
    for i in 0..4u64 {
        let (first, last) = store.append(&request(i, 2), T0 + i * 1000).unwrap();
        assert_eq!((first, last), (i * 3 + 1, i * 3 + 3));
    }
}

fn verify(store: &mut dyn AuditStore) -> VerifyReport {
    store.verify(&[public_key()]).unwrap()
}

fn first_problem(store: &mut dyn AuditStore) -> (ProblemKind, u64, String) {
    let report = verify(store);
    let p = report
        .first_problem()
        .unwrap_or_else(|| panic!("tampering went unnoticed: {report:?}"));
    (p.kind, p.seq, p.detail.clone())
}

/// Append, verify, read back through every query.
pub fn scenario_append_verify_query(mut f: Fixture) {
    let s = f.store.as_mut();
    assert_eq!(s.head().unwrap(), None);
    assert!(verify(s).is_ok());
    assert!(s.ready());
    seed(s);
    let report = verify(s);
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.entries, 12);
    assert_eq!((report.first_seq, report.last_seq), (Some(1), Some(12)));
    assert_eq!(report.checkpoints_verified, 2);
    assert_eq!(report.checkpoints_matched, 2);
    let (head_seq, head_hash) = s.head().unwrap().unwrap();
    assert_eq!(
        (head_seq, head_hash.as_str()),
        (12, report.last_hash.as_str())
    );

    // Checkpoints at 5 and 10, plus one on demand at the head.
    let cp = s.checkpoint(T0 + 9_000).unwrap().unwrap();
    assert_eq!(cp.seq, 12);
    assert!(public_key().verifies(&cp));
    let cps = s.checkpoints().unwrap();
    assert_eq!(
        cps.iter().map(|c| c.seq).collect::<Vec<_>>(),
        vec![5, 10, 12]
    );
    assert_eq!(
        s.checkpoint(T0 + 9_500).unwrap().unwrap().seq,
        12,
        "idempotent at one head"
    );

    // LDV lezen: by trace id, activity, subject, time range.
    let by_trace = s
        .query(
            &QueryFilter {
                trace_id: Some(trace_id(2)),
                ..QueryFilter::default()
            },
            100,
        )
        .unwrap();
    assert_eq!(
        by_trace.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![7, 8, 9]
    );
    assert_eq!(by_trace[0].entry, Entry::Access(access(2)));
    assert_eq!(by_trace[0].time_ms, T0 + 2000);
    let by_subject = s
        .query(
            &QueryFilter {
                subject: Some(subject(1)),
                ..QueryFilter::default()
            },
            100,
        )
        .unwrap();
    assert_eq!(
        by_subject.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![3, 6, 9, 12]
    );
    let ranged = s
        .query(
            &QueryFilter {
                activity: Some("VA-12".into()),
                kind: Some(EntryKind::Processing),
                from_ms: Some(T0 + 1000),
                to_ms: Some(T0 + 3000),
                ..QueryFilter::default()
            },
            100,
        )
        .unwrap();
    assert_eq!(
        ranged.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![5, 6, 8, 9]
    );
    let limited = s
        .query(
            &QueryFilter {
                after_seq: Some(4),
                ..QueryFilter::default()
            },
            2,
        )
        .unwrap();
    assert_eq!(
        limited.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![5, 6]
    );
    assert!(
        s.query(
            &QueryFilter {
                trace_id: Some("nope".into()),
                ..QueryFilter::default()
            },
            10
        )
        .unwrap()
        .is_empty()
    );

    // The citizen's overview; "no end" is `u64::MAX`, beyond any stored integer.
    let whole = s.processing_by_subject(&subject(0), 0, u64::MAX).unwrap();
    assert!(whole.len() >= 3, "{whole:?}");
    let overview = s
        .processing_by_subject(&subject(0), T0 + 1000, T0 + 3001)
        .unwrap();
    assert_eq!(
        overview
            .iter()
            .map(|(seq, t, _)| (*seq, *t))
            .collect::<Vec<_>>(),
        vec![(5, T0 + 1000), (8, T0 + 2000), (11, T0 + 3000)]
    );
    assert_eq!(overview[0].2, processing(1, 0));

    // Export pages through everything.
    let page = s.export(11, 100).unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![11, 12]);
    let mut seqs = Vec::new();
    let n = export_each(s, 1, |e| {
        seqs.push(e.seq);
        Ok(())
    })
    .unwrap();
    assert_eq!(n, 12);
    assert_eq!(seqs, (1..=12).collect::<Vec<_>>());
    assert_eq!(page[1].prev_hash, page[0].hash);
    assert!(s.append(&[], T0).is_err(), "an empty batch is refused");
}

/// UPDATE of a body: caught as altered at that seq.
pub fn scenario_altered(mut f: Fixture) {
    seed(f.store.as_mut());
    (f.sql)("UPDATE entries SET body = replace(body, 'medewerker', 'iemand') WHERE seq = 7");
    let (kind, seq, detail) = first_problem(f.store.as_mut());
    assert_eq!((kind, seq), (ProblemKind::Altered, 7), "{detail}");
}

/// UPDATE of an indexed column only (the hash covers the body): caught as altered.
pub fn scenario_altered_index(mut f: Fixture) {
    seed(f.store.as_mut());
    (f.sql)(&format!(
        "UPDATE entries SET subject = '{}' WHERE seq = 5",
        subject(7)
    ));
    let (kind, seq, detail) = first_problem(f.store.as_mut());
    assert_eq!((kind, seq), (ProblemKind::Altered, 5), "{detail}");
}

/// DELETE of a row: caught as removed at that seq.
pub fn scenario_removed(mut f: Fixture) {
    seed(f.store.as_mut());
    (f.sql)("DELETE FROM entries WHERE seq = 4");
    let (kind, seq, detail) = first_problem(f.store.as_mut());
    assert_eq!((kind, seq), (ProblemKind::Removed, 4), "{detail}");
}

/// Two rows swap seq: caught as reordered at the lower seq.
pub fn scenario_reordered_seq(mut f: Fixture) {
    seed(f.store.as_mut());
    (f.sql)("UPDATE entries SET seq = -1 WHERE seq = 3");
    (f.sql)("UPDATE entries SET seq = 3 WHERE seq = 8");
    (f.sql)("UPDATE entries SET seq = 8 WHERE seq = -1");
    let (kind, seq, detail) = first_problem(f.store.as_mut());
    assert_eq!((kind, seq), (ProblemKind::Reordered, 3), "{detail}");
    assert!(detail.contains("seq 8"), "{detail}");
}

/// Two rows swap their content (body and indexed columns): caught as reordered.
pub fn scenario_reordered_body(mut f: Fixture) {
    seed(f.store.as_mut());
    (f.sql)(
        "CREATE TEMP TABLE swap AS SELECT seq, kind, trace_id, activity, subject, body \
         FROM entries WHERE seq IN (2, 10)",
    );
    (f.sql)(
        "UPDATE entries SET \
           kind = (SELECT kind FROM swap WHERE swap.seq = 12 - entries.seq), \
           trace_id = (SELECT trace_id FROM swap WHERE swap.seq = 12 - entries.seq), \
           activity = (SELECT activity FROM swap WHERE swap.seq = 12 - entries.seq), \
           subject = (SELECT subject FROM swap WHERE swap.seq = 12 - entries.seq), \
           body = (SELECT body FROM swap WHERE swap.seq = 12 - entries.seq) \
         WHERE seq IN (2, 10)",
    );
    (f.sql)("DROP TABLE swap");
    let (kind, seq, detail) = first_problem(f.store.as_mut());
    assert_eq!((kind, seq), (ProblemKind::Reordered, 2), "{detail}");
    assert!(detail.contains("seq 10"), "{detail}");
}

/// The last rows deleted after a checkpoint: caught as truncated from the first missing seq.
pub fn scenario_truncated(mut f: Fixture) {
    seed(f.store.as_mut());
    (f.sql)("DELETE FROM entries WHERE seq > 8");
    let (kind, seq, detail) = first_problem(f.store.as_mut());
    assert_eq!((kind, seq), (ProblemKind::Truncated, 9), "{detail}");
}

/// A checkpoint re-signed with another key: caught at the checkpoint's seq.
pub fn scenario_forged_checkpoint(mut f: Fixture) {
    let s = f.store.as_mut();
    seed(s);
    let cp = s
        .checkpoints()
        .unwrap()
        .into_iter()
        .find(|c| c.seq == 5)
        .unwrap();
    let forged = CheckpointSigner::from_seed(&[66u8; 32])
        .sign(cp.seq, &cp.hash, cp.time_ms)
        .unwrap();
    (f.sql)(&format!(
        "UPDATE checkpoints SET signature = '{}' WHERE seq = 5",
        forged.signature
    ));
    let (kind, seq, detail) = first_problem(f.store.as_mut());
    assert_eq!((kind, seq), (ProblemKind::Checkpoint, 5), "{detail}");
}

/// A checkpoint moved to another entry's hash (re-signed by someone holding no key cannot
/// happen; with the hash changed the signature fails).
pub fn scenario_checkpoint_hash_changed(mut f: Fixture) {
    let s = f.store.as_mut();
    seed(s);
    let fourth = s.export(4, 1).unwrap().remove(0).hash;
    (f.sql)(&format!(
        "UPDATE checkpoints SET hash = '{fourth}' WHERE seq = 10"
    ));
    let (kind, seq, detail) = first_problem(f.store.as_mut());
    assert_eq!((kind, seq), (ProblemKind::Checkpoint, 10), "{detail}");
}

/// Retention: purge removes the expired prefix, records itself, and verify still passes; a
/// second purge and a purge of everything keep it verifiable.
pub fn scenario_purge(mut f: Fixture) {
    let s = f.store.as_mut();
    // Day 0..4: one request per day, activity VA-12 except day 2 (VA-99: kept 60 days).
    for day in 0..5u64 {
        let mut batch = request(day, 2);
        if day == 2 {
            for e in &mut batch {
                match e {
                    Entry::Processing(p) => p.processing_activity_id = "VA-99".into(),
                    Entry::Access(a) => a.processing_activity = Some("VA-99".into()),
                    Entry::Purge(_) | Entry::Alert(_) | Entry::Handling(_) => {}
                }
            }
        }
        s.append(&batch, T0 + day * DAY_MS).unwrap();
    }
    let retention = |a: &str| match a {
        "VA-12" => Some(10),
        "VA-99" => Some(60),
        _ => None,
    };
    // Day 20: VA-12 entries of days 0 and 1 expired, access entries not (longest is 60 days).
    let rec = s.purge(&retention, T0 + 20 * DAY_MS).unwrap();
    assert_eq!(rec.up_to_seq, 0, "access entries keep 60 days: {rec:?}");
    assert!(rec.removed.is_empty());
    assert_eq!(rec.anchor_hash, GENESIS_HASH);
    let report = verify(s);
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(s.head().unwrap().unwrap().0, 16);

    // Day 62: access entries of days 0 and 1 are past the longest retention (60 days) and the
    // VA-12 processing entries past theirs (10 days); day 2's access entry is exactly 60 days
    // old, not older: the prefix stops there (seq 7).
    let rec = s.purge(&retention, T0 + 62 * DAY_MS).unwrap();
    assert_eq!(rec.up_to_seq, 6, "{rec:?}");
    assert_eq!(rec.removed, vec![("VA-12".to_owned(), 4)]);
    assert_eq!(rec.removed_access, 2);
    let report = verify(s);
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.purged_up_to, Some(6));
    assert_eq!(report.first_seq, Some(7));
    // The purge record is in the log, and the removed entries are gone.
    let purges = s
        .query(
            &QueryFilter {
                kind: Some(EntryKind::Purge),
                ..QueryFilter::default()
            },
            10,
        )
        .unwrap();
    assert_eq!(purges.len(), 2);
    assert_eq!(purges[1].entry, Entry::Purge(rec.clone()));
    assert!(
        s.query(
            &QueryFilter {
                trace_id: Some(trace_id(0)),
                ..QueryFilter::default()
            },
            10
        )
        .unwrap()
        .is_empty()
    );

    // A purge that removes nothing names the existing gap.
    let again = s.purge(&retention, T0 + 62 * DAY_MS).unwrap();
    assert_eq!(
        (again.up_to_seq, again.anchor_hash.as_str()),
        (6, rec.anchor_hash.as_str())
    );
    assert!(verify(s).is_ok());

    // A year later everything goes, purge records included; the log restarts from the anchor.
    let all = s.purge(&retention, T0 + 400 * DAY_MS).unwrap();
    let last_before = s.head().unwrap().unwrap().0 - 1;
    assert_eq!(all.up_to_seq, last_before);
    assert!(
        all.removed
            .iter()
            .any(|(k, _)| k == crate::PURGE_RECORDS_KEY)
    );
    let report = verify(s);
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.entries, 1);

    // The chain goes on after a purge.
    s.append(&request(9, 1), T0 + 400 * DAY_MS).unwrap();
    assert!(verify(s).is_ok());

    // Deleting rows beyond the purged prefix is still caught.
    (f.sql)(&format!(
        "DELETE FROM entries WHERE seq = {}",
        all.up_to_seq + 1
    ));
    let (kind, _, detail) = first_problem(f.store.as_mut());
    assert_eq!(kind, ProblemKind::Removed, "{detail}");
}

/// A prefix deleted by hand (not by purge) is caught as removed from seq 1.
pub fn scenario_prefix_deleted_by_hand(mut f: Fixture) {
    seed(f.store.as_mut());
    (f.sql)("DELETE FROM entries WHERE seq <= 3");
    let (kind, seq, detail) = first_problem(f.store.as_mut());
    assert_eq!((kind, seq), (ProblemKind::Removed, 1), "{detail}");
}

/// A BRP-like request: an access record and `subjects` processing records that each deliver the
/// same long field list (interned as one field set).
pub fn brp_request(i: u64, subjects: u64) -> Vec<Entry> {
    let delivered: Vec<String> = [
        "burgerservicenummer",
        "naam.voornamen",
        "naam.geslachtsnaam",
        "naam.voorletters",
        "geboorte.datum.datum",
        "geboorte.plaats.omschrijving",
        "verblijfplaats.verblijfadres.officieleStraatnaam",
        "verblijfplaats.verblijfadres.huisnummer",
        "verblijfplaats.verblijfadres.postcode",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut v = vec![Entry::Access(access(i))];
    v.extend((0..subjects).map(|j| {
        let mut p = processing(i, j);
        p.fields_requested = vec!["naam".into(), "geboorte".into(), "verblijfplaats".into()].into();
        p.fields_delivered = delivered.as_slice().into();
        Entry::Processing(p)
    }));
    v
}

/// Long field lists are stored once (as a field set) and read back whole; a field set altered or
/// deleted behind the store's back is caught at every entry that references it.
pub fn scenario_field_sets(mut f: Fixture) {
    let s = f.store.as_mut();
    for i in 0..3u64 {
        s.append(&brp_request(i, 2), T0 + i).unwrap();
    }
    let report = verify(s);
    assert!(report.is_ok(), "{report:?}");
    let all = s.export(1, 100).unwrap();
    assert_eq!(all.len(), 9);
    let Entry::Processing(p) = &all[1].entry else {
        panic!("seq 2 is a processing record: {:?}", all[1]);
    };
    assert_eq!(p.fields_delivered.len(), 9);
    assert_eq!(p.fields_delivered[0], "burgerservicenummer");
    assert_eq!(
        p.fields_requested[..],
        ["naam", "geboorte", "verblijfplaats"]
    );
    let by_subject = s
        .processing_by_subject(&subject(1), 0, T0 + 1_000_000)
        .unwrap();
    assert_eq!(by_subject.len(), 3);
    assert!(
        by_subject
            .iter()
            .all(|(_, _, p)| p.fields_delivered.len() == 9)
    );
    // One list, one row, however many entries use it.
    (f.sql)(
        "UPDATE field_sets SET paths = replace(paths, '\"naam.voornamen\",', '') WHERE paths LIKE '%voornamen%'",
    );
    let report = verify(f.store.as_mut());
    assert_eq!(report.problems_total, 6, "{report:#?}");
    let p = report.first_problem().unwrap();
    assert_eq!((p.kind, p.seq), (ProblemKind::Altered, 2), "{p:?}");
    assert!(
        p.detail.contains("does not match its content"),
        "{}",
        p.detail
    );
    // A shape is as tamper-evident: turning the access records' decision around is caught on
    // every entry that names the shape.
    (f.sql)(
        "UPDATE field_sets SET paths = replace(paths, '\"permit\"', '\"deny\"') WHERE id LIKE 'sh1:%'",
    );
    let p = first_problem(f.store.as_mut());
    assert_eq!((p.0, p.1), (ProblemKind::Altered, 1));
    assert!(p.2.contains("shape sh1:"), "{}", p.2);
    (f.sql)("DELETE FROM field_sets");
    let p = first_problem(f.store.as_mut());
    assert_eq!((p.0, p.1), (ProblemKind::Altered, 1));
    assert!(p.2.contains("missing"), "{}", p.2);
    assert!(
        f.store.export(1, 100).is_err(),
        "an unresolvable entry must not read as empty"
    );
}

/// Runs every scenario, each on a fresh fixture.
pub fn run_all(fresh: &mut dyn FnMut(&str) -> Fixture) {
    scenario_append_verify_query(fresh("append"));
    scenario_altered(fresh("altered"));
    scenario_altered_index(fresh("altered_index"));
    scenario_removed(fresh("removed"));
    scenario_reordered_seq(fresh("reordered_seq"));
    scenario_reordered_body(fresh("reordered_body"));
    scenario_truncated(fresh("truncated"));
    scenario_forged_checkpoint(fresh("forged"));
    scenario_checkpoint_hash_changed(fresh("cp_hash"));
    scenario_purge(fresh("purge"));
    scenario_prefix_deleted_by_hand(fresh("prefix"));
    scenario_field_sets(fresh("field_sets"));
}
