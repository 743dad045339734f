//! sluis misuse detection: the rules D1–D13 of the protocollering domain (BKWI's generic and
//! specific reports, the Inspectie SZW BN'er check, the AP's patterns) over the access and
//! processing logs.
//!
//! The rules are declarative — a TOML file with thresholds, office hours, peer groups, watch
//! lists kept as pseudonyms and a user directory ([`parse_rules`]) — and evaluated by one
//! [`Detector`], entry by entry in log order and in bounded memory. The server feeds it the
//! entries it commits; `sluis audit detect` feeds it the store or an export. Both raise the same
//! [`AlertRecord`]s with the same ids. No I/O here: the caller reads, stores and delivers.
//!
//! [`AlertRecord`]: sluis_audit::AlertRecord

mod clock;
mod engine;
mod report;
mod rules;
#[cfg(any(test, feature = "testing"))]
pub mod synthetic;

pub use clock::{Clock, Local, parse_hhmm};
pub use engine::{DetectStats, Detector, evaluate};
pub use report::{MIN_UNIT_SIZE, MonthReport, ReportBuilder, month_text, parse_month};
pub use rules::{DirectoryUser, Limits, OpClass, PeriodKind, Rules, Watched, parse_rules};

/// The rule numbers and names, in order.
pub const RULES: [(&str, &str); 13] = [
    ("D1", "non_bsn_search"),
    ("D2", "office_hours"),
    ("D3", "volume"),
    ("D4", "subject_frequency"),
    ("D5", "watch_list"),
    ("D6", "case_binding"),
    ("D7", "self_family"),
    ("D8", "trend"),
    ("D9", "account_hygiene"),
    ("D10", "probing"),
    ("D11", "bulk_search"),
    ("D12", "scope"),
    ("D13", "sensitive"),
];

/// Errors of the detection crate.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// The rules file cannot be used; every problem found is listed.
    #[error("the rules in {origin} cannot be used:\n  {}", problems.join("\n  "))]
    Rules {
        origin: String,
        problems: Vec<String>,
    },
}
