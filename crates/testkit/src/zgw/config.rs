//! ZGW fixture configuration.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};

/// Where the fixture posts a Notificaties API `Notificatie` when applicaties change.
#[derive(Clone, PartialEq, Eq)]
pub struct ZgwNotify {
    /// The webhook (callback) URL, `http://` only.
    pub webhook_url: String,
    /// The `Authorization` header value sent with each notification.
    pub authorization: String,
}

impl fmt::Debug for ZgwNotify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZgwNotify")
            .field("webhook_url", &self.webhook_url)
            .field("authorization", &"<redacted>")
            .finish()
    }
}

/// What the ZGW fixture generates and how it authenticates.
#[derive(Clone, PartialEq)]
pub struct ZgwFixtureConfig {
    /// Address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Seed of the generated data: the same seed and counts give the same data.
    pub seed: u64,
    /// Number of generated zaken (the benchmark uses 100,000).
    pub zaken: usize,
    /// Number of generated zaaktypen (at least 1 when `zaken > 0`).
    pub zaaktypen: usize,
    /// Number of generated informatieobjecttypen.
    pub informatieobjecttypen: usize,
    /// Number of generated documents (EnkelvoudigInformatieObjecten).
    pub documents: usize,
    /// The client_id of the superuser client every request may use (sluis's own credentials).
    pub client_id: String,
    /// Its HS256 secret.
    pub secret: String,
    /// Size in bytes of a generated document's content (`/download`).
    pub download_bytes: usize,
    /// JWT lifetime counted from `iat` (OZ `JWT_EXPIRY`, 3600 s).
    pub jwt_expiry_secs: u64,
    /// Clock leeway (OZ `TIME_LEEWAY`, 0 s).
    pub jwt_leeway_secs: u64,
    /// Authorities (`host:port`) besides the request's `Host` whose URLs in bodies and filters
    /// count as this fixture's own (Django's `ALLOWED_HOSTS` for local references).
    pub local_hosts: Vec<String>,
    /// Also accept `zaakinformatieobjecten.informatieobject` in `expand` and inline the
    /// document (Open Zaak refuses it: the document lives in another API). For tests of a
    /// proxy's expand filtering.
    pub expand_informatieobject: bool,
    /// Post an `autorisaties` notification to this webhook when applicaties change.
    pub notify: Option<ZgwNotify>,
}

impl Default for ZgwFixtureConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            seed: 0x2_6A7E,
            zaken: 2_000,
            zaaktypen: 200,
            informatieobjecttypen: 20,
            documents: 500,
            client_id: "sluis".to_owned(),
            secret: "sluis-zgw-secret".to_owned(),
            download_bytes: 64 * 1024,
            jwt_expiry_secs: 3600,
            jwt_leeway_secs: 0,
            local_hosts: Vec::new(),
            expand_informatieobject: false,
            notify: None,
        }
    }
}

// Hand-written so that secrets never reach a log line.
impl fmt::Debug for ZgwFixtureConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZgwFixtureConfig")
            .field("listen", &self.listen)
            .field("seed", &self.seed)
            .field("zaken", &self.zaken)
            .field("zaaktypen", &self.zaaktypen)
            .field("informatieobjecttypen", &self.informatieobjecttypen)
            .field("documents", &self.documents)
            .field("client_id", &self.client_id)
            .field("secret", &"<redacted>")
            .field("download_bytes", &self.download_bytes)
            .field("jwt_expiry_secs", &self.jwt_expiry_secs)
            .field("jwt_leeway_secs", &self.jwt_leeway_secs)
            .field("local_hosts", &self.local_hosts)
            .field("expand_informatieobject", &self.expand_informatieobject)
            .field("notify", &self.notify)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let cfg = ZgwFixtureConfig {
            secret: "geheim-123".into(),
            notify: Some(ZgwNotify {
                webhook_url: "http://127.0.0.1:1/cb".into(),
                authorization: "Bearer tok-456".into(),
            }),
            ..ZgwFixtureConfig::default()
        };
        let s = format!("{cfg:?}");
        assert!(!s.contains("geheim-123") && !s.contains("tok-456"), "{s}");
        assert!(s.contains("sluis") && s.contains("127.0.0.1:1/cb"));
    }
}
