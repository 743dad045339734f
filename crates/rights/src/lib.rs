//! sluis's rights management, pure: the register of applications and processing activities,
//! the effective rights of a request (the token's scopes within the ceiling of an activity the
//! application is registered for), the who-can-see-what matrix, policy tests and change impact.
//!
//! The proxy calls [`Register::admit`] on every request; `sluis rights`, `sluis policy test` and
//! `sluis policy diff` call the same function and the same policy engines, so what they report is
//! what the server does.

mod diff;
mod glob;
mod matrix;
mod policytest;
mod register;

pub use diff::{Change, Diff, diff};
pub use glob::{Glob, any_matches};
pub use matrix::{
    ANY_APPLICATION, Cell, Filter, MountInfo, MountKind, Rights, brp_level, level_name,
};
pub use policytest::{Case, CaseResult, Expect, Outcome, TestFile, dataset_code, parse};
pub use register::{
    ActivityDraft, Admission, Application, Caller, Ceiling, ClientRef, Known, RawApplication,
    RawCeiling, RawClient, Register, RegisterDenial, RegisterProblem, RegisteredActivity,
};
