//! The sluis data plane — the only networking crate: the HTTP server with its request phases
//! (authenticate, identify, route, authorize, forward, filter, record), the adapter seam and the
//! adapters (dataset, BRP), the upstream client, JWKS refresh, metrics, the admin listener and
//! hot reload, and the privacy officer's pages (`/ui/`). The audit store is given to it as a trait object: the binary chooses it.

pub mod adapter;
pub mod admin_read;
pub mod audit_read;
pub mod auditing;
pub mod auth;
pub mod config;
pub mod context;
pub mod error;
pub mod listener;
pub mod metrics;
pub mod pipeline;
pub mod problem;
pub mod query;
pub mod ratelimit;
pub mod record;
pub mod rights;
pub mod server;
pub mod state;
pub mod supervision;
pub mod trace;
pub mod ui;
mod upstream;

pub use config::Config;
pub use error::{ConfigProblem, ProxyError, StartError};
pub use server::{ServerHandle, start};
pub use state::{AuditWiring, StoreOpener};
