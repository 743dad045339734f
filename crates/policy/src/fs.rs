//! Reading policy sources from the file system: a file, or every `.json` file below a folder.
//! The only module of this crate that touches the file system.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::PolicyError;
use crate::load::{MAX_FILE_BYTES, Sources};
use crate::{Model, Policy};

/// Most files read below one folder; protects against pointing at the wrong tree.
pub const MAX_FILES: usize = 100_000;

/// Adds a file, or every `*.json` file below a folder (recursively, in name order).
pub fn read_into(sources: &mut Sources, path: &Path) -> Result<(), PolicyError> {
    let err = |e: std::io::Error| PolicyError::Read {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(err)?;
    if meta.is_file() {
        return read_file(sources, path);
    }
    let mut stack = vec![path.to_owned()];
    while let Some(dir) = stack.pop() {
        let rd = std::fs::read_dir(&dir).map_err(|e| PolicyError::Read {
            path: dir.clone(),
            message: e.to_string(),
        })?;
        let mut entries: Vec<PathBuf> = Vec::new();
        for e in rd {
            let e = e.map_err(|e| PolicyError::Read {
                path: dir.clone(),
                message: e.to_string(),
            })?;
            entries.push(e.path());
        }
        entries.sort();
        for p in entries.into_iter().rev() {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(".json") {
                if sources.len() >= MAX_FILES {
                    return Err(PolicyError::Read {
                        path: path.to_owned(),
                        message: format!("more than {MAX_FILES} files"),
                    });
                }
                read_file(sources, &p)?;
            }
        }
    }
    Ok(())
}

fn read_file(sources: &mut Sources, path: &Path) -> Result<(), PolicyError> {
    let err = |message: String| PolicyError::Read {
        path: path.to_owned(),
        message,
    };
    let len = std::fs::metadata(path)
        .map_err(|e| err(e.to_string()))?
        .len();
    if len > MAX_FILE_BYTES as u64 {
        return Err(err(format!("file is larger than {MAX_FILE_BYTES} bytes")));
    }
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    sources.insert(path, bytes);
    Ok(())
}

/// Reads every path into one source set.
pub fn read_all<P: AsRef<Path>>(paths: &[P]) -> Result<Sources, PolicyError> {
    let mut s = Sources::new();
    for p in paths {
        read_into(&mut s, p.as_ref())?;
    }
    Ok(s)
}

/// A short digest of the sources' names and contents, used as the policy version.
pub fn version_of(sets: &[&Sources]) -> String {
    let mut h = Sha256::new();
    for s in sets {
        for p in s.paths() {
            h.update(p.to_string_lossy().as_bytes());
            h.update([0]);
            if let Some(b) = s.get(p) {
                h.update((b.len() as u64).to_be_bytes());
                h.update(b);
            }
        }
        h.update([0xff]);
    }
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads, loads and compiles: the whole path from files to a [`Policy`].
pub fn load_policy<P: AsRef<Path>, Q: AsRef<Path>>(
    schemas: &[P],
    profiles: &[Q],
) -> Result<Policy, PolicyError> {
    let s = read_all(schemas)?;
    let p = read_all(profiles)?;
    let model: Model = crate::load(&s, &p)?;
    Ok(Policy::new(model, version_of(&[&s, &p])))
}
