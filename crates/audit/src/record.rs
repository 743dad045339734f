//! The processing record (one per data subject per request, Logboek Dataverwerkingen shaped),
//! the purge record, and [`Entry`]: what the log stores, in order.

use serde::{Deserialize, Serialize};

use crate::AccessRecord;
use crate::alert::{AlertRecord, HandlingRecord};

/// A list of field paths, shared: the processing records of one request carry the same lists.
pub type FieldList = std::sync::Arc<[String]>;

/// LDV span status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanStatus {
    /// Handled correctly without a verdict (e.g. an upstream 400 `tooManyResults`).
    Unset,
    Ok,
    Error,
}

/// The role a data subject had in a processing (VNG `betrokkenheid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubjectRole {
    /// The subject was looked up directly (`geraadpleegd`).
    Geraadpleegd,
    /// The subject was one of the results of a search (`gevonden-in-zoekresultaat`).
    GevondenInZoekresultaat,
    /// A related person (partner, child, parent) whose data came along (`gerelateerd`).
    Gerelateerd,
}

/// One line per data subject per request. Never holds a BSN in clear: `data_subject_id` is a
/// keyed HMAC pseudonym. No request or response bodies, no parameter values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessingRecord {
    pub trace_id: String,
    /// This subject's span (a child of the request span).
    pub span_id: String,
    /// The request span (the access record's `span_id`).
    pub parent_span_id: String,
    /// The calling application (client id), when there is one.
    pub foreign_processor: Option<String>,
    /// e.g. "dataset raadplegen (brp.ingeschrevenpersonen.list)".
    pub name: String,
    pub start_time_ms: u64,
    pub end_time_ms: u64,
    pub status: SpanStatus,
    pub http_status: u16,
    pub upstream_error_code: Option<String>,
    /// Id of the registered processing activity; purpose, legal basis, retention and
    /// confidentiality are looked up in the register, not stored per line.
    pub processing_activity_id: String,
    /// Case or task reference (e.g. `X-Task-Description`, `x-verwerking`).
    pub case_ref: Option<String>,
    /// Keyed HMAC pseudonym of the subject's identifier; `None` for a line without a subject
    /// (a search with zero hits).
    pub data_subject_id: Option<String>,
    /// e.g. "BSN".
    pub data_subject_id_type: Option<String>,
    pub subject_role: Option<SubjectRole>,
    /// Field paths as sent upstream.
    #[serde(default)]
    pub fields_requested: FieldList,
    /// Field paths delivered to the client (after filtering).
    #[serde(default)]
    pub fields_delivered: FieldList,
    /// Search parameter names, never values.
    #[serde(default)]
    pub search_params: Vec<String>,
    /// sluis instance and version that processed the request.
    pub resource: String,
    pub client_app_id: Option<String>,
    /// `geheim`, `in_onderzoek`, `overleden`, `buiten_gemeente`, ...
    #[serde(default)]
    pub flags: Vec<String>,
}

/// A retention purge, recorded in the log it purged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurgeRecord {
    pub time_ms: u64,
    /// Entries removed, by processing activity.
    pub removed: Vec<(String, u64)>,
    /// Access records removed (past the longest retention).
    pub removed_access: u64,
    /// The sequence number up to which entries may have been removed.
    pub up_to_seq: u64,
    /// The chain hash of the last removed entry, so verification can resume after the gap.
    pub anchor_hash: String,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[allow(
    clippy::large_enum_variant,
    reason = "most entries are access records, built once per request and moved into the commit batch; boxing them would add an allocation per request"
)]
pub enum Entry {
    Access(AccessRecord),
    Processing(ProcessingRecord),
    Purge(PurgeRecord),
    /// A misuse-detection finding.
    Alert(AlertRecord),
    /// A reviewer's action on an alert (or a look at its identifying details).
    Handling(HandlingRecord),
}
