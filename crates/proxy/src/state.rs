//! The runtime built from one configuration version: policy, verifier, upstream clients. A
//! reload builds a new one and swaps it in atomically; a request keeps the one it started with.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use sluis_audit::{AuditError, AuditStore, EntrySink};
use sluis_policy::{EncodingKey, Policy, fs};

use crate::adapter::Mount;
use crate::adapter::brp::BrpAdapter;
use crate::adapter::dataset::DatasetAdapter;
use crate::adapter::zgw::{ZgwAdapter, ZgwShared};
use crate::auth::Authenticator;
use crate::config::{Api, ApiKind, Config};
use crate::error::{ConfigProblem, StartError};
use crate::upstream::UpstreamClient;

/// A mounted API: its settings, its upstream client and its adapter.
#[derive(Debug)]
pub struct Mounted {
    pub api: Api,
    pub(crate) upstream: UpstreamClient,
    pub(crate) adapter: Box<dyn Mount>,
}

/// The one place an API kind becomes its adapter.
fn adapter(
    api: &Api,
    i: usize,
    ctx: &AdapterInputs<'_>,
) -> Result<Box<dyn Mount>, Vec<ConfigProblem>> {
    let at = format!("apis[{i}]");
    match &api.kind {
        ApiKind::Dataset(d) => {
            if !ctx
                .policy
                .model()
                .datasets
                .iter()
                .any(|x| x.id == d.dataset)
            {
                return Err(vec![ConfigProblem::new(
                    ctx.src,
                    &format!("{at}.dataset"),
                    format!("dataset {:?} is not in the policy sources", d.dataset),
                )]);
            }
            Ok(Box::new(DatasetAdapter::new(
                d,
                Arc::clone(ctx.policy),
                ctx.encoding_key.clone(),
                format!("{}{}", ctx.public_url, api.prefix),
                api.upstream.base.clone(),
                ctx.policy_sources.to_vec(),
            )))
        }
        ApiKind::Brp(b) => Ok(Box::new(BrpAdapter::load(b, ctx.src, &at)?)),
        ApiKind::Zgw(z) => {
            let (Some(shared), Some(component)) =
                (ctx.zgw, sluis_zgw::Component::parse(&z.component))
            else {
                return Err(vec![ConfigProblem::new(
                    ctx.src,
                    &format!("{at}.component"),
                    "a zgw mount needs the [zgw] section and a known component".into(),
                )]);
            };
            Ok(Box::new(ZgwAdapter::new(
                component,
                Arc::clone(shared),
                format!("{}{}", ctx.public_url, api.prefix),
                api.name.clone(),
                ctx.encoding_key.clone(),
            )))
        }
    }
}

/// What adapters are built from besides their own settings.
struct AdapterInputs<'a> {
    src: &'a std::path::Path,
    policy: &'a Arc<Policy>,
    encoding_key: &'a EncodingKey,
    /// Scheme and authority links point at.
    public_url: &'a str,
    policy_sources: &'a [PathBuf],
    zgw: Option<&'a Arc<ZgwShared>>,
}

/// Everything one configuration version needs to serve requests.
#[derive(Debug)]
pub struct Runtime {
    pub config: Config,
    pub policy: Arc<Policy>,
    pub auth: Authenticator,
    pub mounts: Vec<Mounted>,
    /// What the ZGW mounts share (their autorisaties, rules, URL map), with `[zgw]`.
    pub zgw: Option<Arc<ZgwShared>>,
    /// The register and the policies, for the admin API's rights and the change on reload.
    pub rights: Arc<crate::rights::RightsSource>,
    /// What the reload that built this runtime changed in who can see what.
    pub rights_change: std::sync::OnceLock<sluis_rights::Diff>,
    /// `[[rate_limits]]`, this instance's share of each.
    pub rate_limits: crate::ratelimit::RateLimits,
    /// Dropped with this runtime (replaced by a reload, or the server stopped), which ends its
    /// scheduled JWKS refreshes.
    refresh_stop: tokio::sync::watch::Sender<bool>,
}

impl Runtime {
    /// Loads the policy and builds clients and adapters. `listener` is the API listener's
    /// address: links point there unless `server.public_url` is set (never at a client's `Host`).
    pub fn build(config: Config, listener: SocketAddr) -> Result<Runtime, StartError> {
        let src = config.source.clone().unwrap_or_default();
        let policy = fs::load_policy(&config.schemas, &config.profiles).map_err(|e| {
            let problems = match e.diagnostics() {
                [] => vec![ConfigProblem::new(&src, "policy", e.to_string())],
                d => d
                    .iter()
                    .map(|d| ConfigProblem::new(&d.file, &d.path, d.message.clone()))
                    .collect(),
            };
            StartError::Config(problems)
        })?;
        let encoding_key =
            EncodingKey::new(config.encoding_key.expose().to_vec()).map_err(|e| {
                StartError::Config(vec![ConfigProblem::new(
                    &src,
                    "policy.encoding_key",
                    e.to_string(),
                )])
            })?;
        let policy = Arc::new(policy);
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{listener}"));
        let policy_sources: Vec<PathBuf> = config
            .schemas
            .iter()
            .chain(&config.profiles)
            .cloned()
            .collect();
        let zgw = match &config.zgw {
            Some(settings) => Some(Arc::new(ZgwShared::build(&config, settings, &public_url)?)),
            None => None,
        };
        let inputs = AdapterInputs {
            src: &src,
            policy: &policy,
            encoding_key: &encoding_key,
            public_url: &public_url,
            policy_sources: &policy_sources,
            zgw: zgw.as_ref(),
        };
        let mut problems = Vec::new();
        let mut adapters = Vec::new();
        for (i, a) in config.apis.iter().enumerate() {
            match adapter(a, i, &inputs) {
                Ok(m) => adapters.push(m),
                Err(ps) => problems.extend(ps),
            }
        }
        if !problems.is_empty() {
            return Err(StartError::Config(problems));
        }
        let auth = Authenticator::new(&config)?;
        let mut mounts = Vec::new();
        for (a, adapter) in config.apis.iter().zip(adapters) {
            mounts.push(Mounted {
                api: a.clone(),
                upstream: UpstreamClient::new(&a.upstream)?,
                adapter,
            });
        }
        // Longest prefix first, so nested mounts route to the most specific API.
        mounts.sort_by_key(|m| std::cmp::Reverse(m.api.prefix.len()));
        let rights = crate::rights::RightsSource::with_policy(config.clone(), Arc::clone(&policy))
            .map_err(StartError::Config)?;
        let rate_limits = crate::ratelimit::RateLimits::new(&config.rate_limits, config.instances);
        Ok(Runtime {
            config,
            policy,
            auth,
            mounts,
            zgw,
            rights: Arc::new(rights),
            rights_change: std::sync::OnceLock::new(),
            rate_limits,
            refresh_stop: tokio::sync::watch::channel(false).0,
        })
    }

    /// Starts this runtime's scheduled JWKS refreshes; they run as long as the runtime lives.
    pub fn spawn_refreshers(&self) {
        self.auth.spawn_refreshers(self.refresh_stop.subscribe());
        if let Some(z) = &self.zgw {
            z.spawn_refresher(self.refresh_stop.subscribe());
        }
    }

    /// Loads what must be there before serving: issuer keys, and live ZGW autorisaties
    /// (taken over from `previous` on a reload, then refreshed).
    pub async fn load(&self, previous: Option<&Runtime>) {
        self.auth.load_keys().await;
        if let Some(z) = &self.zgw {
            if let Some(old) = previous.and_then(|p| p.zgw.as_ref()) {
                z.adopt(old);
            }
            let _ = z.refresh().await;
        }
    }

    /// Every file the running policy comes from (dataset sources, each adapter's own and the
    /// register file), watched for hot reload.
    pub fn policy_sources(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = Vec::new();
        for m in &self.mounts {
            for f in m.adapter.sources() {
                if !files.contains(&f) {
                    files.push(f);
                }
            }
        }
        for f in self
            .config
            .schemas
            .iter()
            .chain(&self.config.profiles)
            .chain(&self.config.register_file)
        {
            if !files.contains(f) {
                files.push(f.clone());
            }
        }
        files
    }

    /// The mount serving `path`, and the rest of the path after its prefix.
    pub fn route<'p>(&self, path: &'p str) -> Option<(&Mounted, &'p str)> {
        self.mounts.iter().find_map(|m| {
            let rest = path.strip_prefix(m.api.prefix.as_str())?;
            (rest.is_empty() || rest.starts_with('/')).then_some((m, rest))
        })
    }
}

/// Opens the audit store for reads (the admin read endpoint), on a blocking thread.
pub type StoreOpener = Arc<dyn Fn() -> Result<Box<dyn AuditStore>, AuditError> + Send + Sync>;

/// The audit store as the binary built it: the sink requests commit to and, for stores that
/// can be queried, how to open it for reads. The proxy knows only the traits.
pub struct AuditWiring {
    pub sink: Arc<dyn EntrySink>,
    pub reader: Option<StoreOpener>,
    /// The committed batches for misuse detection (the sink was opened with the feed's
    /// observer); `None`: no detection in the server.
    pub feed: Option<crate::supervision::FeedReceiver>,
}

impl std::fmt::Debug for AuditWiring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditWiring")
            .field("sink", &self.sink)
            .field("reader", &self.reader.is_some())
            .finish()
    }
}

/// State shared by every request and the admin listener.
pub struct Shared {
    /// Misuse detection, when `[detection]` is configured.
    pub supervisor: Option<crate::supervision::Supervisor>,
    pub runtime: ArcSwap<Runtime>,
    pub audit: Arc<dyn EntrySink>,
    pub(crate) audit_reader: Option<StoreOpener>,
    /// Pseudonymises data subject ids for processing records (fixed until restart).
    pub subjects: Option<sluis_audit::SubjectKeys>,
    /// The `[audit]` settings the sink was opened with (fixed until restart).
    pub audit_settings: crate::config::Audit,
    /// The API listener's bound address (links point there without `public_url`).
    pub api_addr: SocketAddr,
    /// The `[limits]` the listeners were started with (fixed until restart).
    pub limits: crate::listener::Limits,
    /// The privacy officer's pages, with `[ui]` or the demo's sign-in (fixed until restart).
    pub ui: Option<crate::ui::UiState>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("runtime", &self.runtime)
            .field("audit", &self.audit)
            .field("audit_reader", &self.audit_reader.is_some())
            .field("api_addr", &self.api_addr)
            .finish_non_exhaustive()
    }
}
