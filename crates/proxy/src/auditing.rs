//! The keys of the `[audit]` settings: the chain's checkpoint signer, the public keys
//! checkpoints verify with, and the subject pseudonymiser. Which store is opened is the
//! binary's choice (`sluis-stores`); the proxy records through [`sluis_audit::EntrySink`].

use sluis_audit::{AuditError, ChainConfig, CheckpointSigner, PublicKey, SubjectKey, SubjectKeys};

use crate::config::Audit;

/// The chain settings for a store: checkpoints signed every `checkpoint_every` entries when a
/// checkpoint key is configured.
pub fn chain(cfg: &Audit) -> Result<ChainConfig, AuditError> {
    let signer = match &cfg.checkpoint_key {
        Some(k) => Some(CheckpointSigner::from_seed_hex(k.expose_str())?),
        None => None,
    };
    Ok(ChainConfig {
        checkpoint_every: if signer.is_some() {
            cfg.checkpoint_every
        } else {
            0
        },
        signer,
    })
}

/// The public key checkpoints are verified with, when a checkpoint key is configured.
pub fn checkpoint_public_key(cfg: &Audit) -> Result<Option<PublicKey>, AuditError> {
    match &cfg.checkpoint_key {
        Some(k) => Ok(Some(
            CheckpointSigner::from_seed_hex(k.expose_str())?.public_key(),
        )),
        None => Ok(None),
    }
}

/// Every public key checkpoints may be signed with: the current key's and the retired ones.
pub fn checkpoint_public_keys(cfg: &Audit) -> Result<Vec<PublicKey>, AuditError> {
    let mut keys: Vec<PublicKey> = checkpoint_public_key(cfg)?.into_iter().collect();
    for k in &cfg.retired_checkpoint_public_keys {
        keys.push(PublicKey::from_hex(k)?);
    }
    Ok(keys)
}

/// The keyed pseudonymiser for subject ids, when a subject key is configured.
pub fn subject_keys(cfg: &Audit) -> Result<Option<SubjectKeys>, AuditError> {
    let mut keys = Vec::new();
    for (id, secret) in &cfg.subject_keys {
        keys.push(SubjectKey::new(id, secret.expose())?);
    }
    let mut keys = keys.into_iter();
    match keys.next() {
        None => Ok(None),
        Some(current) => Ok(Some(SubjectKeys::new(current, keys.collect())?)),
    }
}

/// The register's processing activities as the citizen's overview names them.
pub fn register_activities(
    activities: &[crate::config::Activity],
) -> Vec<sluis_audit::RegisterActivity> {
    activities
        .iter()
        .map(|a| sluis_audit::RegisterActivity {
            id: a.id.clone(),
            name: a.name.clone(),
            purpose: a.purpose.clone(),
            legal_basis: a.legal_basis.clone(),
            retention_days: a.retention_days,
            confidential: a.confidential,
        })
        .collect()
}
