//! Misuse-detection alerts and their handling, kept in the log like every other record: chained,
//! verified, exported, never updated. An alert is raised once (its id is derived from the rule,
//! who and the period, so the same finding is not raised twice); acknowledging, dismissing or
//! escalating it appends a [`HandlingRecord`] that names the alert.

use serde::{Deserialize, Serialize};

/// How urgently an alert needs a reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    /// `low`, `medium`, `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    /// Parses `low`, `medium` or `high`.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            _ => None,
        }
    }
}

/// The most evidence references one alert carries; the count says how many there were.
pub const MAX_EVIDENCE: usize = 20;

/// One finding of a detection rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Derived from rule, who, period (and subject): the same finding has the same id, so it is
    /// raised once however often the history is evaluated.
    pub id: String,
    /// The rule's number in the rule set, `D1` ... `D13`.
    pub rule: String,
    /// The rule's name in the rules file, e.g. `watch_list`.
    pub name: String,
    pub severity: Severity,
    /// When the finding was made (the time of the record that completed it).
    pub time_ms: u64,
    /// The user the finding is about (a client id prefixed `client:` when no user was known).
    pub user: Option<String>,
    /// The registered application (or client id) of the evidence.
    pub application: Option<String>,
    /// The organisation unit (from the user directory), for unit-level rules.
    pub unit: Option<String>,
    /// The period the finding covers, `[from, to)` in ms since the Unix epoch.
    pub period_from_ms: u64,
    pub period_to_ms: u64,
    /// What was found, in words (no BSN, no name of a citizen).
    pub summary: String,
    /// How many records make up the finding.
    pub count: u64,
    /// Sequence numbers of (up to [`MAX_EVIDENCE`]) records that make up the finding.
    pub evidence_seqs: Vec<u64>,
    /// Their trace ids (to join with the task application's own log).
    pub trace_ids: Vec<String>,
    /// Pseudonymised data subjects involved (never a BSN).
    pub subjects: Vec<String>,
}

/// What a reviewer did with an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HandlingAction {
    /// Seen and being looked into.
    Acknowledge,
    /// Not misuse (a reason is required).
    Dismiss,
    /// Handed on (to the FG, security officer or management; a reason is required).
    Escalate,
    /// The identifying details of the alert were shown to the reviewer.
    View,
}

impl HandlingAction {
    /// `acknowledge`, `dismiss`, `escalate`, `view`.
    pub fn as_str(self) -> &'static str {
        match self {
            HandlingAction::Acknowledge => "acknowledge",
            HandlingAction::Dismiss => "dismiss",
            HandlingAction::Escalate => "escalate",
            HandlingAction::View => "view",
        }
    }

    /// Parses an action name.
    pub fn parse(s: &str) -> Option<HandlingAction> {
        match s {
            "acknowledge" => Some(HandlingAction::Acknowledge),
            "dismiss" => Some(HandlingAction::Dismiss),
            "escalate" => Some(HandlingAction::Escalate),
            "view" => Some(HandlingAction::View),
            _ => None,
        }
    }

    /// Dismissing and escalating need a reason.
    pub fn needs_reason(self) -> bool {
        matches!(self, HandlingAction::Dismiss | HandlingAction::Escalate)
    }
}

/// A reviewer's action on an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlingRecord {
    pub alert_id: String,
    pub action: HandlingAction,
    pub reason: Option<String>,
    /// The reviewer (the signed-in user's subject).
    pub by: String,
    pub time_ms: u64,
}
