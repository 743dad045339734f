//! The inputs of rights management, loaded from a configuration: the register, the compiled
//! dataset policy and each BRP mount's policy, as [`sluis_rights::Rights`] for `sluis rights`,
//! `sluis policy test`, `sluis policy diff`, the admin API and the change summary on reload.

use std::sync::Arc;

use sluis_brp::BrpPolicy;
use sluis_policy::{Policy, fs};
use sluis_rights::{MountInfo, MountKind, Rights};

use crate::config::{ApiKind, Config};
use crate::error::ConfigProblem;

/// A configuration with the policies its mounts decide by.
#[derive(Debug)]
pub struct RightsSource {
    pub config: Config,
    pub policy: Arc<Policy>,
    brp: Vec<(String, BrpPolicy)>,
}

impl RightsSource {
    /// Loads the dataset policy and every BRP policy the configuration names.
    pub fn load(config: Config) -> Result<RightsSource, Vec<ConfigProblem>> {
        let src = config.source.clone().unwrap_or_default();
        let policy = fs::load_policy(&config.schemas, &config.profiles).map_err(|e| {
            match e.diagnostics() {
                [] => vec![ConfigProblem::new(&src, "policy", e.to_string())],
                d => d
                    .iter()
                    .map(|d| ConfigProblem::new(&d.file, &d.path, d.message.clone()))
                    .collect(),
            }
        })?;
        Self::with_policy(config, Arc::new(policy))
    }

    /// As [`RightsSource::load`], with the dataset policy already loaded.
    pub fn with_policy(
        config: Config,
        policy: Arc<Policy>,
    ) -> Result<RightsSource, Vec<ConfigProblem>> {
        let src = config.source.clone().unwrap_or_default();
        let mut brp = Vec::new();
        let mut problems = Vec::new();
        for (i, a) in config.apis.iter().enumerate() {
            if let ApiKind::Brp(b) = &a.kind {
                match BrpPolicy::load(&b.policy) {
                    Ok(p) => brp.push((a.name.clone(), p)),
                    Err(e) => problems.push(ConfigProblem::new(
                        &src,
                        &format!("apis[{i}].brp_policy"),
                        e.to_string(),
                    )),
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(RightsSource {
            config,
            policy,
            brp,
        })
    }

    /// The register, the policies and the mounts, for the pure rights functions.
    pub fn rights(&self) -> Rights<'_> {
        let mounts = self
            .config
            .apis
            .iter()
            .map(|a| MountInfo {
                name: a.name.clone(),
                kind: match &a.kind {
                    ApiKind::Dataset(d) => MountKind::Dataset {
                        dataset: d.dataset.clone(),
                    },
                    ApiKind::Brp(_) => match self.brp.iter().find(|(n, _)| n == &a.name) {
                        Some((_, p)) => MountKind::Brp { policy: p },
                        None => MountKind::Other { kind: "brp" },
                    },
                    ApiKind::Zgw(_) => MountKind::Other { kind: "zgw" },
                },
                enforce: a.enforce_register,
                required_scopes: a.required_scopes.clone(),
            })
            .collect();
        Rights {
            register: &self.config.register,
            policy: &self.policy,
            mounts,
        }
    }
}
