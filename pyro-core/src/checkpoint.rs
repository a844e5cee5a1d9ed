//! Checkpoints: the parameter store (and optionally the optimiser state) in a JSON file.
//!
//! Format (version 1), chosen because it has a spec, is readable by any tool, and serde_json writes
//! every `f64` in its shortest form that reads back bit-identically:
//!
//! ```json
//! {
//!   "format": "pyro-rs-checkpoint",
//!   "version": 1,
//!   "params": [
//!     {"name": "alpha_q", "constraint": "Positive", "shape": [], "unconstrained": [2.708]}
//!   ],
//!   "optimizer": { ... optimiser-specific state, or null ... }
//! }
//! ```
//!
//! Values are stored in unconstrained space, in the store's order, so that per-parameter
//! optimiser state (keyed by position) lines up after a load. Files are written atomically: to a
//! temporary file in the same directory, flushed to disk, then renamed over the target, so a crash
//! never leaves a half-written checkpoint.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::params::ParamStore;
use crate::tensor::{numel, Shape};

const FORMAT: &str = "pyro-rs-checkpoint";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct ParamRecord {
    name: String,
    constraint: Constraint,
    shape: Vec<usize>,
    unconstrained: Vec<f64>,
}

#[derive(Serialize, Deserialize)]
struct Checkpoint {
    format: String,
    version: u32,
    params: Vec<ParamRecord>,
    #[serde(default)]
    optimizer: serde_json::Value,
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::file(path, "is not a file path"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::file(path, format!("cannot write: {e}"))
    })
}

impl ParamStore {
    /// Saves the parameters to `path` (see the module docs for the format).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        save(path.as_ref(), self, serde_json::Value::Null)
    }

    /// Loads parameters saved by [`ParamStore::save`], replacing the store's content. The file is
    /// validated completely before the store changes.
    pub fn load(&mut self, path: impl AsRef<Path>) -> Result<()> {
        load(path.as_ref(), self).map(|_| ())
    }
}

/// Saves a store and an optimiser state.
pub(crate) fn save(path: &Path, store: &ParamStore, optimizer: serde_json::Value) -> Result<()> {
    let params = store
        .entries()
        .iter()
        .map(|e| ParamRecord {
            name: e.name().to_string(),
            constraint: e.constraint().clone(),
            shape: e.shape.to_vec(),
            unconstrained: e.value.clone(),
        })
        .collect();
    let ck = Checkpoint {
        format: FORMAT.into(),
        version: VERSION,
        params,
        optimizer,
    };
    let bytes =
        serde_json::to_vec(&ck).map_err(|e| Error::file(path, format!("cannot encode: {e}")))?;
    write_atomically(path, &bytes)
}

/// Loads a checkpoint into `store` (replacing it) and returns the optimiser state.
pub(crate) fn load(path: &Path, store: &mut ParamStore) -> Result<serde_json::Value> {
    let bytes = fs::read(path).map_err(|e| Error::file(path, format!("cannot read: {e}")))?;
    let ck: Checkpoint = serde_json::from_slice(&bytes)
        .map_err(|e| Error::file(path, format!("is not a valid checkpoint: {e}")))?;
    if ck.format != FORMAT {
        return Err(Error::file(
            path,
            format!("has format `{}`, expected `{FORMAT}`", ck.format),
        ));
    }
    if ck.version != VERSION {
        return Err(Error::file(
            path,
            format!(
                "has version {}, this library reads version {VERSION}",
                ck.version
            ),
        ));
    }
    for (i, p) in ck.params.iter().enumerate() {
        if p.unconstrained.len() != numel(&p.shape) {
            return Err(Error::file(
                path,
                format!(
                    "parameter `{}` has {} values for shape {:?}",
                    p.name,
                    p.unconstrained.len(),
                    p.shape
                ),
            ));
        }
        if let Some(bad) = p.unconstrained.iter().find(|v| !v.is_finite()) {
            return Err(Error::file(
                path,
                format!("parameter `{}` holds the non-finite value {bad}", p.name),
            ));
        }
        if ck.params[..i].iter().any(|q| q.name == p.name) {
            return Err(Error::file(
                path,
                format!("parameter `{}` appears twice", p.name),
            ));
        }
    }
    store.clear();
    for p in ck.params {
        store.restore(
            p.name,
            p.unconstrained,
            Shape::from_vec(p.shape),
            p.constraint,
        );
    }
    Ok(ck.optimizer)
}
