//! The witness: a copy of the log's signed checkpoints kept outside the store.
//!
//! Whoever can delete rows from the store can also delete its newest entries together with the
//! checkpoints that cover them, or rewrite a stretch of the chain and re-sign nothing (they hold no
//! key) but drop the checkpoints that would betray it. The store alone cannot show that. A
//! witness can: every checkpoint the writer makes on its time cadence, on demand and at shutdown
//! is also appended to the witness, a file on another volume (or a mount of another machine) that
//! the database's administrators cannot write. `sluis audit verify --witness FILE` then compares:
//!
//! - a witnessed checkpoint past the head of its chain: the tail was truncated;
//! - a witnessed checkpoint absent from the store: a checkpoint was deleted;
//! - a witnessed checkpoint whose hash differs from the stored one at that seq: rewritten;
//! - a witnessed line whose signature no configured key verifies: the witness itself was forged.
//!
//! A witnessed seq inside a purged prefix is explained by the purge and not reported.
//!
//! The file is JSON lines, one [`Witnessed`] per line, each fsynced before the writer goes on;
//! a torn last line (a crash mid-write) is ignored, any other unreadable line is an error.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::AuditError;
use crate::chain::{Checkpoint, PublicKey};
use crate::verify::{Problem, ProblemKind, VerifyReport};

/// One witnessed checkpoint: the checkpoint and the chain it belongs to (empty for a store with
/// one chain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witnessed {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub chain: String,
    #[serde(flatten)]
    pub checkpoint: Checkpoint,
}

/// Where checkpoints are published as they are made.
pub trait Witness: Send + std::fmt::Debug {
    /// Records `checkpoint` of `chain` durably; an error is counted and retried with the next
    /// checkpoint, it never stops the log.
    fn publish(&mut self, chain: &str, checkpoint: &Checkpoint) -> Result<(), AuditError>;
}

/// An append-only JSON-lines file, fsynced per line.
#[derive(Debug)]
pub struct FileWitness {
    path: PathBuf,
    file: Option<File>,
}

impl FileWitness {
    /// Opens (or creates) the witness file for appending. Fails at once when it cannot be
    /// opened, so a misconfigured witness is found at start-up.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, AuditError> {
        let mut w = FileWitness {
            path: path.into(),
            file: None,
        };
        w.file()?;
        Ok(w)
    }

    fn file(&mut self) -> Result<&mut File, AuditError> {
        if self.file.is_none() {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| {
                    AuditError::Unavailable(format!(
                        "witness {} cannot be opened: {e}",
                        self.path.display()
                    ))
                })?;
            self.file = Some(f);
        }
        self.file
            .as_mut()
            .ok_or_else(|| AuditError::Unavailable("witness not open".into()))
    }
}

impl Witness for FileWitness {
    fn publish(&mut self, chain: &str, checkpoint: &Checkpoint) -> Result<(), AuditError> {
        let line = Witnessed {
            chain: chain.to_owned(),
            checkpoint: checkpoint.clone(),
        };
        let mut text = serde_json::to_string(&line)
            .map_err(|e| AuditError::Invalid(format!("witness line: {e}")))?;
        text.push('\n');
        let path = self.path.display().to_string();
        let file = self.file()?;
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_data());
        if let Err(e) = written {
            // Reopen next time: the volume may come back.
            self.file = None;
            return Err(AuditError::Unavailable(format!(
                "witness {path} cannot be written: {e}"
            )));
        }
        Ok(())
    }
}

/// Reads a witness file. A last line without its newline (torn by a crash) is skipped.
pub fn read_witness(path: &Path) -> Result<Vec<Witnessed>, AuditError> {
    let file = File::open(path).map_err(|e| {
        AuditError::Unavailable(format!("witness {} cannot be read: {e}", path.display()))
    })?;
    let mut reader = BufReader::new(file);
    let mut out = Vec::new();
    let mut line = String::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let n = reader.read_line(&mut line).map_err(|e| {
            AuditError::Unavailable(format!("witness {} cannot be read: {e}", path.display()))
        })?;
        if n == 0 {
            break;
        }
        number += 1;
        let complete = line.ends_with('\n');
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Witnessed>(text) {
            Ok(w) => out.push(w),
            Err(_) if !complete => break,
            Err(e) => {
                return Err(AuditError::Invalid(format!(
                    "witness {} line {number}: not a witnessed checkpoint ({e})",
                    path.display()
                )));
            }
        }
    }
    Ok(out)
}

/// What the store says about one chain, for [`check_witness`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainState {
    /// The last seq, `None` when the chain is empty.
    pub last_seq: Option<u64>,
    /// The end of the purged prefix, when a purge explains one.
    pub purged_up_to: Option<u64>,
    /// The stored checkpoints of the chain, by seq: their hash.
    pub checkpoints: BTreeMap<u64, String>,
}

/// Builds the per-chain state from a verification report and the stored checkpoints.
pub fn chain_states(
    report: &VerifyReport,
    checkpoints: &[(String, Checkpoint)],
) -> HashMap<String, ChainState> {
    let mut states: HashMap<String, ChainState> = HashMap::new();
    if report.chains.is_empty() {
        states.insert(
            String::new(),
            ChainState {
                last_seq: report.last_seq,
                purged_up_to: report.purged_up_to,
                checkpoints: BTreeMap::new(),
            },
        );
    } else {
        for c in &report.chains {
            states.insert(
                c.chain.clone(),
                ChainState {
                    last_seq: c.report.last_seq,
                    purged_up_to: c.report.purged_up_to,
                    checkpoints: BTreeMap::new(),
                },
            );
        }
    }
    for (chain, cp) in checkpoints {
        states
            .entry(chain.clone())
            .or_default()
            .checkpoints
            .insert(cp.seq, cp.hash.clone());
    }
    states
}

/// Compares the witness with the store; every problem names the chain and seq. `keys`: the
/// checkpoint public keys (none: signatures are not checked).
pub fn check_witness(
    witnessed: &[Witnessed],
    states: &HashMap<String, ChainState>,
    keys: &[PublicKey],
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let empty = ChainState::default();
    // Truncation is reported once per chain, for the highest witnessed seq.
    let mut truncated: BTreeMap<&str, u64> = BTreeMap::new();
    for w in witnessed {
        let cp = &w.checkpoint;
        let name = chain_name(&w.chain);
        if !keys.is_empty() && !keys.iter().any(|k| k.verifies(cp)) {
            problems.push(Problem {
                kind: ProblemKind::Checkpoint,
                seq: cp.seq,
                detail: format!(
                    "{name}: the witnessed checkpoint at seq {} is not signed by a configured key",
                    cp.seq
                ),
            });
            continue;
        }
        let state = states.get(&w.chain).unwrap_or(&empty);
        if state.purged_up_to.is_some_and(|p| cp.seq <= p) {
            continue;
        }
        if state.last_seq.is_none_or(|last| cp.seq > last) {
            let e = truncated.entry(w.chain.as_str()).or_insert(cp.seq);
            *e = (*e).max(cp.seq);
            continue;
        }
        match state.checkpoints.get(&cp.seq) {
            None => problems.push(Problem {
                kind: ProblemKind::Checkpoint,
                seq: cp.seq,
                detail: format!(
                    "{name}: the checkpoint at seq {} (witnessed at {} ms) is missing from the \
                     store: it was deleted",
                    cp.seq, cp.time_ms
                ),
            }),
            Some(h) if *h != cp.hash => problems.push(Problem {
                kind: ProblemKind::Checkpoint,
                seq: cp.seq,
                detail: format!(
                    "{name}: the stored checkpoint at seq {} differs from the witnessed one: it \
                     was rewritten",
                    cp.seq
                ),
            }),
            Some(_) => {}
        }
    }
    for (chain, seq) in truncated {
        let end = states.get(chain).and_then(|s| s.last_seq).unwrap_or(0);
        problems.push(Problem {
            kind: ProblemKind::Truncated,
            seq: end + 1,
            detail: format!(
                "{}: the log ends at seq {end} but seq {seq} was witnessed: entries from seq {} \
                 on were removed",
                chain_name(chain),
                end + 1
            ),
        });
    }
    problems.sort_by_key(|p| p.seq);
    problems
}

fn chain_name(chain: &str) -> String {
    if chain.is_empty() {
        "log".to_owned()
    } else {
        format!("chain {chain}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::CheckpointSigner;

    fn signer() -> CheckpointSigner {
        CheckpointSigner::from_seed(&[7u8; 32])
    }

    fn hash(n: u8) -> String {
        crate::chain::to_hex(&[n; 32])
    }

    fn witnessed(chain: &str, seq: u64, h: u8) -> Witnessed {
        Witnessed {
            chain: chain.into(),
            checkpoint: signer().sign(seq, &hash(h), 1_000 + seq).unwrap(),
        }
    }

    fn state(last: u64, cps: &[(u64, u8)]) -> ChainState {
        ChainState {
            last_seq: Some(last),
            purged_up_to: None,
            checkpoints: cps.iter().map(|(s, h)| (*s, hash(*h))).collect(),
        }
    }

    #[test]
    fn an_intact_store_matches_its_witness() {
        let states = HashMap::from([(String::new(), state(30, &[(10, 1), (20, 2)]))]);
        let w = [witnessed("", 10, 1), witnessed("", 20, 2)];
        assert!(check_witness(&w, &states, &[signer().public_key()]).is_empty());
    }

    #[test]
    fn truncation_deletion_rewrite_and_forgery_are_each_named() {
        let states = HashMap::from([(String::new(), state(25, &[(10, 1), (20, 9)]))]);
        let mut forged = witnessed("", 5, 3);
        forged.checkpoint.signature = CheckpointSigner::from_seed(&[8u8; 32])
            .sign(5, &hash(3), 1)
            .unwrap()
            .signature;
        let w = [
            forged,
            witnessed("", 10, 1),
            witnessed("", 15, 4),
            witnessed("", 20, 2),
            witnessed("", 30, 5),
            witnessed("", 40, 6),
        ];
        let p = check_witness(&w, &states, &[signer().public_key()]);
        let got: Vec<(ProblemKind, u64)> = p.iter().map(|p| (p.kind, p.seq)).collect();
        assert_eq!(
            got,
            vec![
                (ProblemKind::Checkpoint, 5),
                (ProblemKind::Checkpoint, 15),
                (ProblemKind::Checkpoint, 20),
                (ProblemKind::Truncated, 26),
            ],
            "{p:#?}"
        );
        assert!(p[1].detail.contains("deleted"), "{}", p[1].detail);
        assert!(p[2].detail.contains("rewritten"), "{}", p[2].detail);
        assert!(
            p[3].detail.contains("seq 40 was witnessed"),
            "{}",
            p[3].detail
        );
    }

    #[test]
    fn purged_checkpoints_and_other_chains_are_judged_on_their_own() {
        let mut a = state(50, &[(40, 4)]);
        a.purged_up_to = Some(30);
        let states = HashMap::from([("a".to_owned(), a), ("b".to_owned(), state(5, &[]))]);
        let w = [
            witnessed("a", 20, 2),
            witnessed("a", 40, 4),
            witnessed("b", 9, 1),
            witnessed("c", 1, 1),
        ];
        let p = check_witness(&w, &states, &[]);
        let got: Vec<(ProblemKind, u64, bool)> = p
            .iter()
            .map(|p| (p.kind, p.seq, p.detail.starts_with("chain ")))
            .collect();
        assert_eq!(
            got,
            vec![
                (ProblemKind::Truncated, 1, true),
                (ProblemKind::Truncated, 6, true)
            ],
            "{p:#?}"
        );
    }

    #[test]
    fn the_file_round_trips_and_a_torn_last_line_is_skipped() {
        let dir = std::env::temp_dir().join(format!("sluis-witness-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("witness.jsonl");
        let _ = std::fs::remove_file(&path);
        let mut f = FileWitness::open(&path).unwrap();
        let a = witnessed("", 10, 1);
        let b = witnessed("i2", 20, 2);
        f.publish(&a.chain, &a.checkpoint).unwrap();
        f.publish(&b.chain, &b.checkpoint).unwrap();
        let mut raw = OpenOptions::new().append(true).open(&path).unwrap();
        raw.write_all(br#"{"seq":30,"ha"#).unwrap();
        assert_eq!(read_witness(&path).unwrap(), vec![a, b]);
        std::fs::write(&path, "not json\n{}\n").unwrap();
        let e = read_witness(&path).unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
