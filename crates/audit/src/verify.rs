//! Verification of a stored log: pure logic over a [`RowSource`] that pages through the rows in
//! seq order, shared by every store.
//!
//! The walk recomputes every hash, checks seq continuity and every `prev_hash` link, checks the
//! indexed columns against the hashed body, checks each checkpoint's signature and that its hash
//! equals the entry at its seq, and accepts a missing prefix only when a recorded
//! [`PurgeRecord`](crate::PurgeRecord) names exactly that gap (`up_to_seq`) and the hash the first
//! remaining entry links to (`anchor_hash`). It keeps walking after a problem so that every
//! problem (up to [`MAX_PROBLEMS`]) is listed, in seq order; the first one is then classified
//! precisely (altered, removed, reordered) with one extra pass.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::chain::{Checkpoint, EntryIndex, GENESIS_HASH, PublicKey, RawRow, chain_hash};
use crate::fieldset::FieldSetSource;
use crate::{AuditError, Entry};

/// Problems listed in a report (the count goes on).
pub const MAX_PROBLEMS: usize = 100;
/// Rows fetched per page.
pub const PAGE: usize = 2_000;
/// How far from its position a moved entry is searched for by seq (beyond the neighbours the
/// chain links point at).
const REORDER_WINDOW: u64 = 64;

/// Pages through a stored log for [`verify_log`].
pub trait RowSource {
    /// Up to `limit` rows with `seq > after`, in ascending seq order.
    fn rows_after(&mut self, after: u64, limit: usize) -> Result<Vec<RawRow>, AuditError>;
    /// All checkpoints, in any order.
    fn checkpoints(&mut self) -> Result<Vec<Checkpoint>, AuditError>;
    /// The field set stored under `id` (see [`crate::fieldset`]); a store without the table has
    /// none.
    fn field_set(&mut self, _id: &str) -> Result<Option<String>, AuditError> {
        Ok(None)
    }
}

/// A [`RowSource`]'s field sets and shapes, as a [`FieldSetSource`], cached for the walk: a log
/// names few distinct ones, and almost every entry names one.
struct SourceSets<'a> {
    source: &'a mut dyn RowSource,
    cache: &'a mut std::collections::HashMap<String, Option<String>>,
}

impl FieldSetSource for SourceSets<'_> {
    fn field_set(&mut self, id: &str) -> Result<Option<String>, AuditError> {
        if let Some(hit) = self.cache.get(id) {
            return Ok(hit.clone());
        }
        let found = self.source.field_set(id)?;
        if self.cache.len() >= 65_536 {
            self.cache.clear();
        }
        self.cache.insert(id.to_owned(), found.clone());
        Ok(found)
    }
}

/// Decodes a verified body, resolving its field sets; `Err` says what is wrong with it.
fn decode_row(
    body: &str,
    source: &mut SourceSets<'_>,
) -> Result<Result<Entry, String>, AuditError> {
    if !crate::fieldset::has_references(body) {
        return Ok(crate::chain::decode_entry(body).map_err(|_| "body is not a valid entry".into()));
    }
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(body) else {
        return Ok(Err("body is not a valid entry".into()));
    };
    if let Err(u) = crate::fieldset::resolve(&mut value, source)? {
        return Ok(Err(u.to_string()));
    }
    Ok(serde_json::from_value(value).map_err(|_| "body is not a valid entry".into()))
}

/// What is wrong with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// The entry's content (or hash, or an indexed column) was changed.
    Altered,
    /// Entries are missing: a gap in seq, or a missing prefix no purge record explains.
    Removed,
    /// An intact entry sits at another seq than the one it was recorded at, or holds another
    /// entry's content.
    Reordered,
    /// The log ends before the last signed checkpoint.
    Truncated,
    /// A checkpoint's signature does not verify, or its hash differs from the entry at its seq.
    Checkpoint,
    /// A store's derived index (by subject, by trace) does not match the log it was built from:
    /// queries through it could miss records. The log itself may be intact; rebuilding the index
    /// (`sluis audit reindex`) repairs it.
    Index,
}

/// One problem, naming the seq of the first bad record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub seq: u64,
    pub detail: String,
}

/// The outcome of [`verify_log`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Rows read.
    pub entries: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    /// Hash of the last row ([`GENESIS_HASH`] for an empty log).
    pub last_hash: String,
    /// Checkpoints whose signature verified (0 when no key was given).
    pub checkpoints_verified: u64,
    /// Checkpoints whose hash was compared with the entry at their seq.
    pub checkpoints_matched: u64,
    /// Whether checkpoint signatures were checked (a key was given).
    pub signatures_checked: bool,
    /// The end of the purged prefix, when the log starts after seq 1 and a purge record
    /// explains it.
    pub purged_up_to: Option<u64>,
    /// The first problems, in seq order; the first is the first bad record.
    pub problems: Vec<Problem>,
    /// How many problems were found in all.
    pub problems_total: u64,
    /// For a store that keeps one chain per instance: each chain's own report (the fields above
    /// then sum them, and `first_seq`, `last_seq`, `last_hash` and `purged_up_to` are empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chains: Vec<ChainReport>,
}

/// One chain's verification, in a store with one chain per instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    pub chain: String,
    pub report: VerifyReport,
}

impl VerifyReport {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems_total == 0
    }

    /// The first bad record, if any.
    pub fn first_problem(&self) -> Option<&Problem> {
        self.problems.first()
    }

    /// One report over several chains: counts are summed, each problem names its chain, and
    /// every chain's report is kept in `chains`.
    pub fn of_chains(chains: Vec<ChainReport>) -> VerifyReport {
        let mut all = VerifyReport {
            entries: 0,
            first_seq: None,
            last_seq: None,
            last_hash: GENESIS_HASH.to_owned(),
            checkpoints_verified: 0,
            checkpoints_matched: 0,
            signatures_checked: false,
            purged_up_to: None,
            problems: Vec::new(),
            problems_total: 0,
            chains: Vec::new(),
        };
        for c in &chains {
            let r = &c.report;
            all.entries += r.entries;
            all.checkpoints_verified += r.checkpoints_verified;
            all.checkpoints_matched += r.checkpoints_matched;
            all.signatures_checked |= r.signatures_checked;
            all.problems_total += r.problems_total;
            for p in &r.problems {
                if all.problems.len() < MAX_PROBLEMS {
                    all.problems.push(Problem {
                        kind: p.kind,
                        seq: p.seq,
                        detail: format!("chain {}: {}", c.chain, p.detail),
                    });
                }
            }
        }
        all.chains = chains;
        all
    }
}

struct Found {
    problems: Vec<Problem>,
    total: u64,
}

impl Found {
    fn push(&mut self, kind: ProblemKind, seq: u64, detail: String) {
        self.total += 1;
        if self.problems.len() < MAX_PROBLEMS * 2 {
            self.problems.push(Problem { kind, seq, detail });
        }
    }
}

/// A row whose hash or link failed, kept for precise classification.
struct Suspect {
    row: RawRow,
    prev: Option<(u64, String)>,
    hash_ok: bool,
}

/// Verifies a whole log. `keys` are the public keys checkpoints may be signed with (several during
/// a key rotation); with no keys, signatures are not checked but checkpoint hashes still are.
pub fn verify_log(
    source: &mut dyn RowSource,
    keys: &[PublicKey],
) -> Result<VerifyReport, AuditError> {
    verify_log_with(source, keys, &mut |_| {})
}

/// [`verify_log`], telling `progress` how many entries have been read after every page (for a
/// progress bar on long walks).
pub fn verify_log_with(
    source: &mut dyn RowSource,
    keys: &[PublicKey],
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport, AuditError> {
    let mut found = Found {
        problems: Vec::new(),
        total: 0,
    };
    let mut checkpoints = source.checkpoints()?;
    checkpoints.sort_by_key(|c| c.seq);

    let mut verified = 0u64;
    let mut trusted: BTreeMap<u64, &Checkpoint> = BTreeMap::new();
    for cp in &checkpoints {
        if keys.is_empty() || keys.iter().any(|k| k.verifies(cp)) {
            if !keys.is_empty() {
                verified += 1;
            }
            trusted.insert(cp.seq, cp);
        } else {
            found.push(
                ProblemKind::Checkpoint,
                cp.seq,
                format!("checkpoint at seq {} has an invalid signature", cp.seq),
            );
        }
    }

    let mut entries = 0u64;
    let mut first: Option<(u64, String)> = None;
    let mut prev: Option<(u64, String)> = None;
    let mut purges: Vec<(u64, String)> = Vec::new();
    let mut suspect: Option<Suspect> = None;
    let mut matched = 0u64;
    let mut after = 0u64;
    let mut set_cache = std::collections::HashMap::new();

    loop {
        let page = source.rows_after(after, PAGE)?;
        let Some(last) = page.last() else { break };
        if last.seq <= after {
            return Err(AuditError::Invalid(
                "store returned rows out of order".into(),
            ));
        }
        after = last.seq;
        for row in page {
            entries += 1;
            if first.is_none() {
                first = Some((row.seq, row.prev_hash.clone()));
            }
            let computed = chain_hash(&row.prev_hash, row.seq, row.time_ms, &row.body).ok();
            let hash_ok = computed.as_deref() == Some(row.hash.as_str());
            let link_ok = match &prev {
                Some((_, h)) => row.prev_hash == *h,
                // The first row of an unpurged log links to genesis; a purged log's first row is
                // checked against the purge record after the walk.
                None => row.seq > 1 || row.prev_hash == GENESIS_HASH,
            };
            let gap = prev.as_ref().is_some_and(|(s, _)| row.seq != s + 1);
            let prev_seq = prev.as_ref().map(|(s, _)| *s);

            let mut bad = false;
            if gap && !link_ok {
                let missing = prev_seq.map_or(1, |s| s + 1);
                let detail = if missing + 1 == row.seq {
                    format!("entry at seq {missing} is missing")
                } else {
                    format!("entries at seq {missing}..={} are missing", row.seq - 1)
                };
                found.push(ProblemKind::Removed, missing, detail);
            } else if !hash_ok || !link_ok {
                bad = true;
                let detail = if !hash_ok {
                    format!(
                        "entry at seq {}: stored hash does not match its content",
                        row.seq
                    )
                } else {
                    format!(
                        "entry at seq {}: prev_hash does not match the hash of seq {}",
                        row.seq,
                        prev_seq.unwrap_or(0)
                    )
                };
                found.push(ProblemKind::Altered, row.seq, detail);
            } else {
                let mut sets = SourceSets {
                    source: &mut *source,
                    cache: &mut set_cache,
                };
                match decode_row(&row.body, &mut sets)? {
                    Ok(entry) => {
                        let index = EntryIndex::of(&entry);
                        let columns_ok = index.kind.as_str() == row.kind
                            && index.trace_id == row.trace_id
                            && index.activity == row.activity
                            && index.subject == row.subject;
                        if !columns_ok {
                            found.push(
                                ProblemKind::Altered,
                                row.seq,
                                format!(
                                    "entry at seq {}: indexed columns differ from the hashed entry",
                                    row.seq
                                ),
                            );
                        }
                        if let Entry::Purge(p) = entry {
                            purges.push((p.up_to_seq, p.anchor_hash));
                        }
                    }
                    Err(why) => found.push(
                        ProblemKind::Altered,
                        row.seq,
                        format!("entry at seq {}: {why}", row.seq),
                    ),
                }
            }
            if bad && suspect.is_none() {
                suspect = Some(Suspect {
                    row: row.clone(),
                    prev: prev.clone(),
                    hash_ok,
                });
            }
            if let Some(cp) = trusted.get(&row.seq) {
                matched += 1;
                if cp.hash != row.hash {
                    found.push(
                        ProblemKind::Checkpoint,
                        row.seq,
                        format!(
                            "entry at seq {} does not match the signed checkpoint at that seq \
                             (the chain was rewritten up to here)",
                            row.seq
                        ),
                    );
                }
            }
            prev = Some((row.seq, row.hash));
        }
        progress(entries);
    }

    // A missing prefix must be explained by a purge record naming its end and anchor.
    let mut purged_up_to = None;
    if let Some((first_seq, first_prev)) = first.as_ref().filter(|(s, _)| *s > 1) {
        let end = first_seq - 1;
        if purges
            .iter()
            .any(|(up_to, anchor)| *up_to == end && anchor == first_prev)
        {
            purged_up_to = Some(end);
            if let Some(cp) = trusted.get(&end) {
                matched += 1;
                if cp.hash != *first_prev {
                    found.push(
                        ProblemKind::Checkpoint,
                        end,
                        format!("purge anchor at seq {end} does not match the signed checkpoint"),
                    );
                }
            }
        } else {
            let detail = if end == 1 {
                "entry at seq 1 is missing and no purge record covers it".to_owned()
            } else {
                format!("entries at seq 1..={end} are missing and no purge record covers them")
            };
            found.push(ProblemKind::Removed, 1, detail);
        }
    }

    // Checkpoints past the end: the log was truncated.
    let last_seq = prev.as_ref().map(|(s, _)| *s);
    let end = last_seq.unwrap_or(0);
    if let Some(cp) = checkpoints.iter().rev().find(|c| c.seq > end) {
        found.push(
            ProblemKind::Truncated,
            end + 1,
            format!(
                "log ends at seq {end} but a checkpoint covers seq {}: entries from seq {} on \
                 were removed",
                cp.seq,
                end + 1
            ),
        );
    }

    found.problems.sort_by_key(|p| p.seq);
    if let Some(s) = suspect {
        let is_first = found
            .problems
            .first()
            .is_some_and(|p| p.seq == s.row.seq && p.kind == ProblemKind::Altered);
        if is_first {
            let precise = classify(source, &s)?;
            if let Some(p) = found.problems.first_mut() {
                *p = precise;
            }
            found.problems.sort_by_key(|p| p.seq);
        }
    }
    found.problems.truncate(MAX_PROBLEMS);

    Ok(VerifyReport {
        entries,
        first_seq: first.map(|(s, _)| s),
        last_seq,
        last_hash: prev.map_or_else(|| GENESIS_HASH.to_owned(), |(_, h)| h),
        checkpoints_verified: verified,
        checkpoints_matched: matched,
        signatures_checked: !keys.is_empty(),
        purged_up_to,
        problems: found.problems,
        problems_total: found.total,
        chains: Vec::new(),
    })
}

/// Tells an altered entry from a moved one with one more pass over the log.
fn classify(source: &mut dyn RowSource, s: &Suspect) -> Result<Problem, AuditError> {
    let r = &s.row;
    // The row whose hash this one links to, the row that links to this one, and a row whose
    // recorded hash this row's content reproduces.
    let mut linked_from: Option<u64> = None;
    let mut linked_to: Option<u64> = None;
    let mut content_of: Option<u64> = None;
    // The hashes stored around this row: where a store keeps no prev_hash of its own (it is the
    // hash of the entry before), a moved row links to the row before the seq it was recorded at.
    let window = r.seq.saturating_sub(REORDER_WINDOW + 1)..=r.seq.saturating_add(REORDER_WINDOW);
    let mut near: BTreeMap<u64, String> = BTreeMap::new();
    let mut after = 0u64;
    loop {
        let page = source.rows_after(after, PAGE)?;
        let Some(last) = page.last() else { break };
        if last.seq <= after {
            break;
        }
        after = last.seq;
        for x in page {
            if window.contains(&x.seq) {
                near.insert(x.seq, x.hash.clone());
            }
            if x.seq == r.seq {
                continue;
            }
            if linked_from.is_none() && x.hash == r.prev_hash {
                linked_from = Some(x.seq);
            }
            if linked_to.is_none() && x.prev_hash == r.hash {
                linked_to = Some(x.seq);
            }
            if !s.hash_ok && content_of.is_none() {
                let same =
                    |t: u64| chain_hash(&x.prev_hash, x.seq, t, &r.body).is_ok_and(|h| h == x.hash);
                if same(x.time_ms) || same(r.time_ms) {
                    content_of = Some(x.seq);
                }
            }
        }
    }

    if s.hash_ok {
        // Intact entry, wrong predecessor.
        if let Some(q) = linked_from {
            return Ok(Problem {
                kind: ProblemKind::Reordered,
                seq: r.seq,
                detail: format!(
                    "entry at seq {} follows the entry stored at seq {q}, not seq {} (reordered)",
                    r.seq,
                    s.prev.as_ref().map_or(0, |(p, _)| *p)
                ),
            });
        }
        let (p, _) = s.prev.clone().unwrap_or((r.seq, String::new()));
        return Ok(Problem {
            kind: ProblemKind::Altered,
            seq: p,
            detail: format!(
                "entry at seq {p} was changed and re-hashed: the entry at seq {} links to a \
                 different hash",
                r.seq
            ),
        });
    }

    // Try the seqs this intact entry may have been recorded at.
    let mut candidates: Vec<u64> = Vec::new();
    if r.prev_hash == GENESIS_HASH {
        candidates.push(1);
    }
    candidates.extend(linked_from.map(|q| q + 1));
    candidates.extend(linked_to.and_then(|n| n.checked_sub(1)));
    candidates.extend(r.seq.saturating_sub(REORDER_WINDOW).max(1)..=r.seq + REORDER_WINDOW);
    let original = candidates.into_iter().find(|&c| {
        let before = if c == 1 {
            Some(GENESIS_HASH)
        } else {
            near.get(&(c - 1)).map(String::as_str)
        };
        c != r.seq
            && std::iter::once(r.prev_hash.as_str())
                .chain(before)
                .any(|p| chain_hash(p, c, r.time_ms, &r.body).is_ok_and(|h| h == r.hash))
    });
    if let Some(c) = original {
        return Ok(Problem {
            kind: ProblemKind::Reordered,
            seq: r.seq,
            detail: format!(
                "the entry recorded at seq {c} is stored at seq {} (reordered)",
                r.seq
            ),
        });
    }
    if let Some(x) = content_of {
        return Ok(Problem {
            kind: ProblemKind::Reordered,
            seq: r.seq,
            detail: format!(
                "entry at seq {} holds the content recorded at seq {x} (reordered)",
                r.seq
            ),
        });
    }
    Ok(Problem {
        kind: ProblemKind::Altered,
        seq: r.seq,
        detail: format!(
            "entry at seq {}: stored hash does not match its content (altered)",
            r.seq
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{ChainConfig, CheckpointSigner, seal_with_sets};
    use crate::testing;

    struct Mem {
        rows: Vec<RawRow>,
        cps: Vec<Checkpoint>,
        sets: std::collections::HashMap<String, String>,
    }

    impl RowSource for Mem {
        fn rows_after(&mut self, after: u64, limit: usize) -> Result<Vec<RawRow>, AuditError> {
            let mut rows: Vec<RawRow> = self
                .rows
                .iter()
                .filter(|r| r.seq > after)
                .cloned()
                .collect();
            rows.sort_by_key(|r| r.seq);
            rows.truncate(limit);
            Ok(rows)
        }
        fn checkpoints(&mut self) -> Result<Vec<Checkpoint>, AuditError> {
            Ok(self.cps.clone())
        }
        fn field_set(&mut self, id: &str) -> Result<Option<String>, AuditError> {
            Ok(self.sets.get(id).cloned())
        }
    }

    fn log(n: u64) -> (Mem, PublicKey) {
        let cfg = ChainConfig {
            checkpoint_every: 5,
            signer: Some(CheckpointSigner::from_seed(&[3u8; 32])),
        };
        let mut rows: Vec<RawRow> = Vec::new();
        let mut cps = Vec::new();
        let mut sets = std::collections::HashMap::new();
        for i in 0..n {
            let last = rows.last().map(|r| (r.seq, r.hash.as_str()));
            let (batch, new) = seal_with_sets(last, &testing::request(i, 0), 1000 + i).unwrap();
            cps.extend(cfg.checkpoints_for(&batch, 1000 + i).unwrap());
            rows.extend(batch);
            sets.extend(new.into_iter().map(|s| (s.id, s.paths)));
        }
        let key = cfg.signer.unwrap().public_key();
        (Mem { rows, cps, sets }, key)
    }

    fn first(m: &mut Mem, key: PublicKey) -> Problem {
        let report = verify_log(m, &[key]).unwrap();
        assert!(!report.is_ok());
        report.first_problem().unwrap().clone()
    }

    #[test]
    fn intact_log_verifies() {
        let (mut m, key) = log(12);
        let report = verify_log(&mut m, &[key]).unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.entries, 12);
        assert_eq!(report.last_seq, Some(12));
        assert_eq!(report.checkpoints_verified, 2);
        assert_eq!(report.checkpoints_matched, 2);
    }

    #[test]
    fn empty_log_verifies() {
        let mut m = Mem {
            rows: vec![],
            cps: vec![],
            sets: std::collections::HashMap::new(),
        };
        let report = verify_log(&mut m, &[]).unwrap();
        assert!(report.is_ok());
        assert_eq!(report.last_hash, GENESIS_HASH);
    }

    #[test]
    fn altered_body_is_named() {
        let (mut m, key) = log(12);
        m.rows[6].body = m.rows[6].body.replace("medewerker", "iemand");
        let p = first(&mut m, key);
        assert_eq!((p.kind, p.seq), (ProblemKind::Altered, 7), "{p:?}");
    }

    #[test]
    fn altered_index_column_is_named() {
        let (mut m, key) = log(12);
        m.rows[3].trace_id = Some("other".into());
        let p = first(&mut m, key);
        assert_eq!((p.kind, p.seq), (ProblemKind::Altered, 4), "{p:?}");
    }

    #[test]
    fn removed_entry_is_named() {
        let (mut m, key) = log(12);
        m.rows.remove(4);
        let p = first(&mut m, key);
        assert_eq!((p.kind, p.seq), (ProblemKind::Removed, 5), "{p:?}");
    }

    #[test]
    fn removed_prefix_without_purge_is_named() {
        let (mut m, key) = log(12);
        m.rows.drain(0..3);
        let p = first(&mut m, key);
        assert_eq!((p.kind, p.seq), (ProblemKind::Removed, 1), "{p:?}");
    }

    #[test]
    fn swapped_rows_are_reordered() {
        for (a, b) in [(2usize, 7usize), (3, 4)] {
            let (mut m, key) = log(12);
            let (sa, sb) = (m.rows[a].seq, m.rows[b].seq);
            m.rows[a].seq = sb;
            m.rows[b].seq = sa;
            let p = first(&mut m, key);
            assert_eq!((p.kind, p.seq), (ProblemKind::Reordered, sa), "{p:?}");
        }
    }

    #[test]
    fn swapped_bodies_are_reordered() {
        let (mut m, key) = log(12);
        let body = m.rows[2].body.clone();
        m.rows[2].body = m.rows[8].body.clone();
        m.rows[8].body = body;
        let p = first(&mut m, key);
        assert_eq!((p.kind, p.seq), (ProblemKind::Reordered, 3), "{p:?}");
        assert!(p.detail.contains("seq 9"), "{p:?}");
    }

    #[test]
    fn rehashed_rewrite_is_caught_by_the_checkpoint() {
        let (mut m, key) = log(12);
        // Rewrite seq 7 and recompute every later hash: links and hashes are consistent again.
        m.rows[6].body = m.rows[6].body.replace("medewerker", "iemand");
        for i in 6..m.rows.len() {
            let prev = m.rows[i - 1].hash.clone();
            let r = &mut m.rows[i];
            r.prev_hash = prev;
            r.hash = chain_hash(&r.prev_hash, r.seq, r.time_ms, &r.body).unwrap();
        }
        let p = first(&mut m, key);
        assert_eq!((p.kind, p.seq), (ProblemKind::Checkpoint, 10), "{p:?}");
    }

    #[test]
    fn truncation_after_a_checkpoint_is_caught() {
        let (mut m, key) = log(12);
        m.rows.truncate(8);
        let p = first(&mut m, key);
        assert_eq!((p.kind, p.seq), (ProblemKind::Truncated, 9), "{p:?}");
    }

    #[test]
    fn forged_checkpoint_is_caught() {
        let (mut m, key) = log(12);
        let forger = CheckpointSigner::from_seed(&[9u8; 32]);
        let cp = m.cps[0].clone();
        m.cps[0] = forger.sign(cp.seq, &cp.hash, cp.time_ms).unwrap();
        let p = first(&mut m, key);
        assert_eq!((p.kind, p.seq), (ProblemKind::Checkpoint, 5), "{p:?}");
        // Without keys only hashes are compared, and they still match.
        assert!(verify_log(&mut m, &[]).unwrap().is_ok());
    }

    #[test]
    fn several_problems_are_listed_in_order() {
        let (mut m, key) = log(12);
        m.rows[9].body.push(' ');
        m.rows.remove(2);
        let report = verify_log(&mut m, &[key]).unwrap();
        let seqs: Vec<u64> = report.problems.iter().map(|p| p.seq).collect();
        assert_eq!(seqs.first(), Some(&3));
        assert!(seqs.contains(&10));
    }
}
