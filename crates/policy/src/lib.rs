//! The sluis policy engine.
//!
//! It reads Amsterdam Schema datasets and profiles ([`load`]), compiles them into an immutable
//! [`Policy`], and answers, for a caller's scopes and a request, whether a table may be read,
//! which filters and sorts are allowed, and which fields are delivered at which representation
//! ([`Policy::decide`]). Plans are compiled once per (scope set, table, applicable profile
//! entries) and cached; projecting a record walks the plan ([`Projector`]). The engine does no
//! network I/O and reads no clock; [`fs`] is the only module that touches the file system.
//! `sluis explain` runs exactly this code ([`explain`]).

mod engine;
mod error;
pub mod explain;
pub mod fs;
mod handle;
mod level;
pub mod load;
pub mod model;
pub mod params;
mod project;

pub use engine::{
    DEFAULT_CACHE_CAPACITY, Decision, Denial, FieldPlan, FilterCheck, FilterVerdict, Policy,
    RelationPlan, Request, Source, TablePlan, Via,
};
pub use error::{Diagnostic, PolicyError};
pub use handle::PolicyHandle;
pub use level::{Level, MAX_LETTERS};
pub use load::{Sources, load};
pub use model::{Model, ScopeSet};
pub use project::{EncodingKey, Projector};
