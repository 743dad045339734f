//! A JSON-lines file sink with group commit: a writer thread takes every record queued, appends
//! them, syncs the file once, then acknowledges each. Concurrent requests share one fsync.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use tokio::sync::oneshot;

use crate::{
    AccessRecord, AuditError, AuditSink, CommitFuture, Entry, EntrySink, GroupCommitStats,
};

/// Records that may wait for the writer before commits are refused.
pub const MAX_QUEUE: usize = 65_536;

type Job = (Vec<Entry>, oneshot::Sender<Result<(), String>>);

/// Appends records as JSON lines to a file, fsynced in batches.
#[derive(Debug)]
pub struct JsonLinesSink {
    tx: SyncSender<Job>,
    healthy: Arc<AtomicBool>,
    depth: Arc<AtomicUsize>,
    path: PathBuf,
}

impl JsonLinesSink {
    /// Opens (creating if needed) the file and starts the writer thread.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| AuditError::Unavailable(e.to_string()))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| AuditError::Unavailable(format!("{}: {e}", path.display())))?;
        let (tx, rx) = sync_channel::<Job>(MAX_QUEUE);
        let healthy = Arc::new(AtomicBool::new(true));
        let depth = Arc::new(AtomicUsize::new(0));
        let (h, d) = (Arc::clone(&healthy), Arc::clone(&depth));
        std::thread::Builder::new()
            .name("sluis-audit-jsonl".into())
            .spawn(move || writer(file, rx, h, d))
            .map_err(|e| AuditError::Unavailable(e.to_string()))?;
        Ok(JsonLinesSink {
            tx,
            healthy,
            depth,
            path: path.to_owned(),
        })
    }

    /// The file records are appended to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn writer(mut file: File, rx: Receiver<Job>, healthy: Arc<AtomicBool>, depth: Arc<AtomicUsize>) {
    let mut buf = Vec::with_capacity(64 * 1024);
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
            if batch.len() >= 4096 {
                break;
            }
        }
        buf.clear();
        'encode: for (entries, _) in &batch {
            for rec in entries {
                // Serialising plain records cannot fail; if it ever did the whole batch is
                // refused below rather than half-written.
                if serde_json::to_writer(&mut buf, rec).is_err() {
                    buf.clear();
                    break 'encode;
                }
                buf.push(b'\n');
            }
        }
        let result = if buf.is_empty() {
            Err("record could not be encoded".to_owned())
        } else {
            file.write_all(&buf)
                .and_then(|()| file.sync_data())
                .map_err(|e| e.to_string())
        };
        healthy.store(result.is_ok(), Ordering::Relaxed);
        depth.fetch_sub(batch.len(), Ordering::Relaxed);
        for (_, ack) in batch {
            let _ = ack.send(result.clone());
        }
    }
}

impl AuditSink for JsonLinesSink {
    fn commit(&self, record: AccessRecord) -> CommitFuture<'_> {
        self.commit_entries(vec![Entry::Access(record)])
    }

    fn ready(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    fn queue_depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }
}

impl EntrySink for JsonLinesSink {
    fn commit_entries(&self, entries: Vec<Entry>) -> CommitFuture<'_> {
        let (ack, wait) = oneshot::channel();
        let sent = match self.tx.try_send((entries, ack)) {
            Ok(()) => {
                self.depth.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(AuditError::QueueFull),
            Err(TrySendError::Disconnected(_)) => Err(AuditError::Stopped),
        };
        Box::pin(async move {
            sent?;
            match wait.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(AuditError::Unavailable(e)),
                Err(_) => Err(AuditError::Stopped),
            }
        })
    }

    fn stats(&self) -> GroupCommitStats {
        GroupCommitStats {
            queue_depth: self.depth.load(Ordering::Relaxed),
            ready: self.healthy.load(Ordering::Relaxed),
            ..GroupCommitStats::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decision;

    fn record(i: u64) -> AccessRecord {
        AccessRecord {
            time_ms: i,
            trace_id: format!("{i:032x}"),
            span_id: format!("{i:016x}"),
            api: "afval".into(),
            operation: "dataset.afvalwegingen.containers.list".into(),
            method: "GET".into(),
            path: "/v1/afvalwegingen/containers".into(),
            issuer: None,
            subject: None,
            user: Some("medewerker".into()),
            client_id: None,
            scopes: vec![],
            purpose: None,
            processing_activity: None,
            correlation_id: None,
            decision: Decision::Permit,
            status: 200,
            code: None,
            reasons: vec![],
            denied_params: vec![],
            params: vec![],
            field_levels: vec![],
            records: 1,
            policy_version: None,
            upstream_status: Some(200),
            duration_ms: 1,
            upstream_ms: Some(1),
            user_source: None,
            flags: Vec::new(),
            application: None,
            scopes_dropped: Vec::new(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_commits_are_all_durable() {
        let dir = std::env::temp_dir().join(format!("sluis-audit-test-{}", std::process::id()));
        let path = dir.join("audit.jsonl");
        let _ = std::fs::remove_file(&path);
        let sink = Arc::new(JsonLinesSink::open(&path).unwrap());
        let mut tasks = Vec::new();
        for i in 0..200 {
            let s = Arc::clone(&sink);
            tasks.push(tokio::spawn(async move { s.commit(record(i)).await }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut times: Vec<u64> = text
            .lines()
            .map(|l| serde_json::from_str::<AccessRecord>(l).unwrap().time_ms)
            .collect();
        times.sort_unstable();
        assert_eq!(times, (0..200).collect::<Vec<_>>());
        assert_eq!(sink.queue_depth(), 0);
        assert!(sink.ready());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unwritable_path_is_an_error() {
        let e = JsonLinesSink::open(Path::new("/proc/sluis-cannot-write/audit.jsonl"));
        assert!(e.is_err());
    }
}
