//! The sluis data plane — the only networking crate: the HTTP server with its request phases
//! (authenticate, identify, route, authorize, forward, filter, record), the dataset adapter, the
//! upstream client, JWKS refresh, metrics, the admin listener and hot reload.

pub mod audit_read;
pub mod auditing;
pub mod auth;
mod brp;
pub mod config;
pub mod error;
pub mod metrics;
pub mod pipeline;
pub mod problem;
pub mod query;
pub mod server;
pub mod state;
pub mod trace;
pub mod upstream;

pub use config::Config;
pub use error::{ConfigProblem, ProxyError, StartError};
pub use server::{ServerHandle, start, start_with_audit};
