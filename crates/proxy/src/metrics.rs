//! Prometheus metrics. One process-wide recorder; the admin listener renders it at `/metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the recorder (once per process) and returns its handle.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(
        "sluis_requests_total",
        "Requests by api, operation, status and decision."
    );
    metrics::describe_histogram!(
        "sluis_request_duration_seconds",
        "Time from request to response, by api."
    );
    metrics::describe_histogram!(
        "sluis_upstream_duration_seconds",
        "Upstream call latency, by api."
    );
    metrics::describe_counter!(
        "sluis_jwks_refreshes_total",
        "JWKS fetches by issuer and result."
    );
    metrics::describe_counter!(
        "sluis_reloads_total",
        "Configuration and policy reloads by result."
    );
    metrics::describe_gauge!(
        "sluis_policy_info",
        "The policy version in force (label), value 1."
    );
    metrics::describe_gauge!(
        "sluis_audit_queue_depth",
        "Audit records waiting to be committed."
    );
    metrics::describe_counter!(
        "sluis_audit_failures_total",
        "Requests refused because their record could not be committed."
    );
    for (name, help) in [
        (
            "sluis_audit_last_batch_entries",
            "Entries in the audit store's last transaction (group commit).",
        ),
        (
            "sluis_audit_max_batch_entries",
            "Largest audit transaction so far, in entries.",
        ),
        (
            "sluis_audit_last_commit_seconds",
            "Duration of the last audit commit.",
        ),
        (
            "sluis_audit_busy_seconds",
            "Time the audit writer spent committing since start.",
        ),
        (
            "sluis_audit_committed_entries",
            "Audit entries committed since start.",
        ),
        (
            "sluis_audit_committed_batches",
            "Audit transactions committed since start.",
        ),
        (
            "sluis_audit_failed_batches",
            "Audit transactions that failed since start.",
        ),
        (
            "sluis_audit_rejected_commits",
            "Commits refused because the audit queue was full.",
        ),
    ] {
        metrics::describe_gauge!(name, help);
    }
}

/// Renders the current metrics in Prometheus text format.
pub fn render() -> String {
    handle().map(PrometheusHandle::render).unwrap_or_default()
}
