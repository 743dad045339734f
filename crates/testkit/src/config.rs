//! Fixture configuration.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};

/// What the dataset fixture serves and where.
#[derive(Clone, PartialEq, Eq)]
pub struct FixtureConfig {
    /// Address to bind; port 0 picks a free port (see [`crate::FixtureHandle::addr`]).
    pub listen: SocketAddr,
    /// Seed of all generated data: the same seed gives the same records.
    pub seed: u64,
    /// Number of `afvalwegingen/containers` records (ids `1..=containers`).
    pub containers: usize,
    /// Number of `afvalwegingen/clusters` records (ids `C0001`, `C0002`, ...).
    pub clusters: usize,
    /// Number of `brp/ingeschrevenpersonen` records (ids `1..=persons`).
    pub persons: usize,
    /// Number of `parkeervakken/parkeervakken` records (12-digit string ids).
    pub parkeervakken: usize,
    /// When set, `(header name, value)` every request must carry exactly; others get 401.
    pub api_key: Option<(String, String)>,
}

impl Default for FixtureConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            seed: 0x5_1015,
            containers: 200,
            clusters: 20,
            persons: 500,
            parkeervakken: 100,
            api_key: None,
        }
    }
}

// Hand-written so that the API key's value never reaches a log line.
impl fmt::Debug for FixtureConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixtureConfig")
            .field("listen", &self.listen)
            .field("seed", &self.seed)
            .field("containers", &self.containers)
            .field("clusters", &self.clusters)
            .field("persons", &self.persons)
            .field("parkeervakken", &self.parkeervakken)
            .field(
                "api_key",
                &self.api_key.as_ref().map(|(name, _)| (name, "<redacted>")),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_api_key() {
        let cfg = FixtureConfig {
            api_key: Some(("x-api-key".into(), "s3cr3t-value".into())),
            ..FixtureConfig::default()
        };
        let s = format!("{cfg:?}");
        assert!(s.contains("x-api-key"));
        assert!(!s.contains("s3cr3t-value"));
    }
}
