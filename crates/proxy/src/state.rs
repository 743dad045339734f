//! The runtime built from one configuration version: policy, verifier, upstream clients. A
//! reload builds a new one and swaps it in atomically; a request keeps the one it started with.

use std::sync::Arc;

use arc_swap::ArcSwap;
use sluis_audit::EntrySink;
use sluis_policy::{EncodingKey, Policy, fs};

use crate::auth::Authenticator;
use crate::config::{Api, Config};
use crate::error::{ConfigProblem, StartError};
use crate::upstream::UpstreamClient;

/// A mounted API with its upstream client.
#[derive(Debug)]
pub struct Mounted {
    pub api: Api,
    pub upstream: UpstreamClient,
    /// BRP APIs: their policy and the keys for sealed BSNs.
    pub brp: Option<BrpMount>,
}

/// What a BRP mount needs besides its upstream.
#[derive(Debug)]
pub struct BrpMount {
    pub policy: sluis_brp::BrpPolicy,
    pub keyring: Option<sluis_brp::Keyring>,
}

fn brp_mount(
    api: &Api,
    src: &std::path::Path,
    i: usize,
    problems: &mut Vec<ConfigProblem>,
) -> Option<BrpMount> {
    let path = api.brp_policy.as_ref()?;
    let policy = match sluis_brp::BrpPolicy::load(path) {
        Ok(p) => p,
        Err(e) => {
            match e.problems() {
                [] => problems.push(ConfigProblem::new(path, "", e.to_string())),
                ps => problems.extend(ps.iter().map(|p| {
                    ConfigProblem::new(std::path::Path::new(&p.file), &p.key, p.message.clone())
                })),
            }
            return None;
        }
    };
    let mut keys = Vec::new();
    for (j, (id, secret)) in api.seal_keys.iter().enumerate() {
        match sluis_brp::SealKey::from_base64(id, secret.expose_str().trim()) {
            Ok(k) => keys.push(k),
            Err(e) => problems.push(ConfigProblem::new(
                src,
                &format!("apis[{i}].seal_keys[{j}]"),
                e.to_string(),
            )),
        }
    }
    if policy.special_scopes().pseudonymous_bsn.is_some() && keys.is_empty() {
        problems.push(ConfigProblem::new(
            src,
            &format!("apis[{i}].seal_keys"),
            "the BRP policy has a pseudonymous_bsn scope, so seal_keys are required".into(),
        ));
    }
    let mut keys = keys.into_iter();
    let keyring = match keys.next() {
        None => None,
        Some(current) => match sluis_brp::Keyring::new(current, keys.collect()) {
            Ok(k) => Some(k),
            Err(e) => {
                problems.push(ConfigProblem::new(
                    src,
                    &format!("apis[{i}].seal_keys"),
                    e.to_string(),
                ));
                None
            }
        },
    };
    Some(BrpMount { policy, keyring })
}

/// Everything one configuration version needs to serve requests.
#[derive(Debug)]
pub struct Runtime {
    pub config: Config,
    pub policy: Arc<Policy>,
    pub encoding_key: EncodingKey,
    pub auth: Authenticator,
    pub mounts: Vec<Mounted>,
    /// Dropped with this runtime (replaced by a reload, or the server stopped), which ends its
    /// scheduled JWKS refreshes.
    refresh_stop: tokio::sync::watch::Sender<bool>,
}

impl Runtime {
    /// Loads the policy and builds clients; validates that each API's dataset exists.
    pub fn build(config: Config) -> Result<Runtime, StartError> {
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
        let mut problems = Vec::new();
        let mut brp = Vec::new();
        for (i, a) in config.apis.iter().enumerate() {
            brp.push(brp_mount(a, &src, i, &mut problems));
            if a.kind != crate::config::ApiKind::Dataset {
                continue;
            }
            if !policy.model().datasets.iter().any(|d| d.id == a.dataset) {
                problems.push(ConfigProblem::new(
                    &src,
                    &format!("apis[{i}].dataset"),
                    format!("dataset {:?} is not in the policy sources", a.dataset),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(StartError::Config(problems));
        }
        let encoding_key =
            EncodingKey::new(config.encoding_key.expose().to_vec()).map_err(|e| {
                StartError::Config(vec![ConfigProblem::new(
                    &src,
                    "policy.encoding_key",
                    e.to_string(),
                )])
            })?;
        let auth = Authenticator::new(&config)?;
        let mut mounts = Vec::new();
        for (a, brp) in config.apis.iter().zip(brp) {
            mounts.push(Mounted {
                api: a.clone(),
                upstream: UpstreamClient::new(&a.upstream)?,
                brp,
            });
        }
        // Longest prefix first, so nested mounts route to the most specific API.
        mounts.sort_by_key(|m| std::cmp::Reverse(m.api.prefix.len()));
        Ok(Runtime {
            config,
            policy: Arc::new(policy),
            encoding_key,
            auth,
            mounts,
            refresh_stop: tokio::sync::watch::channel(false).0,
        })
    }

    /// Starts this runtime's scheduled JWKS refreshes; they run as long as the runtime lives.
    pub fn spawn_refreshers(&self) {
        self.auth.spawn_refreshers(self.refresh_stop.subscribe());
    }

    /// The mount serving `path`, and the rest of the path after its prefix.
    pub fn route<'p>(&self, path: &'p str) -> Option<(&Mounted, &'p str)> {
        self.mounts.iter().find_map(|m| {
            let rest = path.strip_prefix(m.api.prefix.as_str())?;
            (rest.is_empty() || rest.starts_with('/')).then_some((m, rest))
        })
    }
}

/// State shared by every request and the admin listener.
#[derive(Debug)]
pub struct Shared {
    pub runtime: ArcSwap<Runtime>,
    pub audit: Arc<dyn EntrySink>,
    /// Pseudonymises data subject ids for processing records (fixed until restart).
    pub subjects: Option<sluis_audit::SubjectKeys>,
    /// The `[audit]` settings the sink was opened with (fixed until restart).
    pub audit_settings: crate::config::Audit,
}
