//! `[zgw]`: what every ZGW mount shares — where the Applicaties (the ZGW Autorisaties) come
//! from, sluis's rules beyond the standard, the Notificaties webhook — and the settings of a
//! `kind = "zgw"` mount (its component).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::Validator;
use super::api::{RawUpstream, Upstream};
use super::secret::{RawSecret, Secret};

/// The ZGW components a mount can serve.
pub const COMPONENTS: [&str; 4] = ["zaken", "documenten", "catalogi", "besluiten"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawZgwMount {
    pub(super) component: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawZgw {
    autorisaties_file: Option<PathBuf>,
    autorisaties_api: Option<RawAutorisatiesApi>,
    rules: Option<PathBuf>,
    notifications: Option<RawNotifications>,
    #[serde(default = "default_involvement_cache")]
    involvement_cache_secs: u64,
    #[serde(default = "default_scan_pages")]
    max_scan_pages: usize,
    #[serde(default = "default_page_size")]
    page_size: usize,
}

fn default_involvement_cache() -> u64 {
    30
}
fn default_scan_pages() -> usize {
    20
}
fn default_page_size() -> usize {
    100
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAutorisatiesApi {
    upstream: RawUpstream,
    #[serde(default = "default_refresh")]
    refresh_secs: u64,
}

fn default_refresh() -> u64 {
    300
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotifications {
    /// The exact `Authorization` header value the Notificaties API sends (the abonnement's
    /// `auth`).
    auth: RawSecret,
}

/// Where the Applicaties come from.
#[derive(Debug, Clone)]
pub enum AutorisatiesSource {
    /// A JSON file in the Autorisaties API's own shape (an array of Applicatie, or a list page);
    /// hot reloaded like the policy.
    File(PathBuf),
    /// An Autorisaties API, read in full at start and every `refresh`, and again on a
    /// notification on kanaal `autorisaties`; the last good copy stays when it is down.
    Api {
        upstream: Box<Upstream>,
        refresh: Duration,
    },
}

/// The validated `[zgw]` section.
#[derive(Debug, Clone)]
pub struct ZgwSettings {
    pub autorisaties: AutorisatiesSource,
    /// sluis's rules beyond the standard (involvement, field levels, withheld objects, writes).
    pub rules: Option<PathBuf>,
    /// The `Authorization` value the Notificaties API's callbacks carry.
    pub notifications_auth: Option<Secret>,
    /// How long a rol lookup (the user's involvement in a zaak) is reused.
    pub involvement_cache: Duration,
    /// Most upstream pages read to filter one list the upstream cannot filter itself.
    pub max_scan_pages: usize,
    /// The page size of lists sluis paginates itself (the upstream's, 100 for Open Zaak).
    pub page_size: usize,
}

/// A ZGW mount's settings.
#[derive(Debug, Clone)]
pub struct ZgwApi {
    /// `zaken`, `documenten`, `catalogi` or `besluiten`.
    pub component: String,
}

impl Validator<'_> {
    pub(super) fn zgw(&mut self, raw: &RawZgw, default_max: usize) -> Option<ZgwSettings> {
        let autorisaties = match (&raw.autorisaties_file, &raw.autorisaties_api) {
            (Some(f), None) => {
                let f = self.rel(f);
                if !f.is_file() {
                    self.problem(
                        "zgw.autorisaties_file",
                        format!("{} is not a readable file", f.display()),
                    );
                }
                Some(AutorisatiesSource::File(f))
            }
            (None, Some(a)) => {
                if a.refresh_secs == 0 {
                    self.problem("zgw.autorisaties_api.refresh_secs", "must be above 0");
                }
                self.upstream("zgw.autorisaties_api.upstream", &a.upstream, default_max)
                    .map(|upstream| AutorisatiesSource::Api {
                        upstream: Box::new(upstream),
                        refresh: Duration::from_secs(a.refresh_secs.max(1)),
                    })
            }
            _ => {
                self.problem(
                    "zgw",
                    "name exactly one of autorisaties_file and autorisaties_api",
                );
                None
            }
        };
        let rules = raw.rules.as_ref().map(|r| self.rel(r));
        if let Some(r) = &rules
            && !r.is_file()
        {
            self.problem(
                "zgw.rules",
                format!("{} is not a readable file", r.display()),
            );
        }
        let notifications_auth = raw
            .notifications
            .as_ref()
            .and_then(|n| self.secret("zgw.notifications.auth", &n.auth));
        if raw.max_scan_pages == 0 {
            self.problem("zgw.max_scan_pages", "must be above 0");
        }
        if raw.page_size == 0 || raw.page_size > 1000 {
            self.problem("zgw.page_size", "must be from 1 to 1000");
        }
        Some(ZgwSettings {
            autorisaties: autorisaties?,
            rules,
            notifications_auth,
            involvement_cache: Duration::from_secs(raw.involvement_cache_secs),
            max_scan_pages: raw.max_scan_pages.max(1),
            page_size: raw.page_size.clamp(1, 1000),
        })
    }

    pub(super) fn zgw_mount(&mut self, at: &str, raw: &RawZgwMount) -> ZgwApi {
        if !COMPONENTS.contains(&raw.component.as_str()) {
            self.problem(
                &format!("{at}.component"),
                format!(
                    "{:?} is not a ZGW component; expected one of {}",
                    raw.component,
                    COMPONENTS.join(", ")
                ),
            );
        }
        ZgwApi {
            component: raw.component.clone(),
        }
    }
}
