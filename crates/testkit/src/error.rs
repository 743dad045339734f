//! The crate's one error type.

use std::net::SocketAddr;

/// Errors starting or stopping a fixture, or building a BRP contract checker. Request-level problems (unknown table, bad filter)
/// are not errors here: they are problem+json responses, as a real upstream would send.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// The listen address could not be bound.
    #[error("cannot bind fixture listener on {addr}")]
    Bind {
        /// The configured address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is unusable (the message never contains a secret value).
    #[error("invalid fixture configuration: {0}")]
    Config(String),
    /// Other socket-level failure.
    #[error("fixture I/O error")]
    Io(#[from] std::io::Error),
    /// An OpenAPI document handed to [`crate::brp::contract::Spec`] is unusable.
    #[error("unusable OpenAPI document: {0}")]
    Spec(String),
    /// The server task ended abnormally.
    #[error("fixture server task failed: {0}")]
    Task(String),
}
