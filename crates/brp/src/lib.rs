//! sluis's core for the Haal Centraal BRP Personen API v2 (`POST /personen`).
//!
//! This crate decides; it does no I/O (apart from [`BrpPolicy::load`] reading one file), reads
//! no clock and draws no randomness. The proxy's BRP adapter drives it per request:
//!
//! 1. pseudonymous callers only: [`open_request`] unseals tokens in `burgerservicenummer`;
//! 2. [`validate`] checks the body against the BRP contract → [`Query`], or the invalid
//!    parameters for a 400 ([`Denial::params_validation`]);
//! 3. [`BrpPolicy::decide`] applies the policy → a [`Plan`] (the rewritten upstream body and
//!    what to do with the answer), or a [`Denial`] (400/403);
//! 4. the adapter forwards [`Plan::upstream_body`];
//! 5. [`filter_response`] withholds geheim persons, strips injected identifiers and disallowed
//!    flags, and returns a [`ResponseSummary`] for the audit (subjects, roles, flags, fields);
//! 6. pseudonymous callers only ([`Plan::pseudonymize`]): [`seal_response`] replaces every BSN.
//!
//! The lists sluis needs — query types and parameters ([`QueryType`]), `fields` paths per
//! response shape ([`ResponseShape`]), auto-delivered flags ([`AutoField`]) and municipality
//! codes ([`gemeenten`]) — are Rust data derived from the v2.7.0 specification; tests
//! cross-check them against the reference files.

mod contract;
mod decide;
pub mod doc;
mod error;
pub mod gemeenten;
mod paths;
mod policy;
mod response;
mod seal;

pub use contract::{
    FIELD_PATTERN, MAX_BSNS, MAX_FIELDS, ParamKind, ParamSpec, Query, QueryType, all_parameters,
    sample_body, validate,
};
pub use decide::Plan;
pub use error::{BrpError, Denial, InvalidParam, PARAMS_VALIDATION_TITLE, PolicyProblem};
pub use paths::{AutoField, ResponseShape, names_auto_field};
pub use policy::{BrpPolicy, ParameterRule, Pattern, SpecialScopes, Who};
pub use response::{
    DeliveredPerson, PersonFlags, RelatedPerson, Relation, ResponseSummary, Subject, SubjectRole,
    WithheldPerson, filter_response,
};
pub use seal::{
    KEY_LEN, Keyring, NONCE_LEN, SealKey, TOKEN_PREFIX, is_sealed, open_request, seal_response,
};

/// The response header the adapter sets to the number of persons withheld
/// ([`ResponseSummary::withheld`]), so a client can tell "nobody found" from "withheld".
pub const WITHHELD_HEADER: &str = "X-Sluis-Withheld";
