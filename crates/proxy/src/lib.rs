//! The sluis data plane — the only networking crate.
pub mod config;
pub mod error;
pub mod problem;
pub mod upstream;
