//! The ZGW core of sluis: what the ZGW standard authorizes, and the rules sluis adds beyond it.

pub mod rules;
