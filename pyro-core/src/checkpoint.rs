//! Checkpoints: the parameter store, optionally the optimiser state and the random generator's
//! state, in a JSON file.
//!
//! Format (version 2), chosen because it has a spec, is readable by any tool, and serde_json writes
//! every finite `f64` in its shortest form that reads back bit-identically:
//!
//! ```json
//! {
//!   "format": "pyro-rs-checkpoint",
//!   "version": 2,
//!   "params": [
//!     {"name": "alpha_q", "constraint": "Positive", "shape": [], "unconstrained": [2.708]},
//!     {"name": "w", "constraint": "Real", "shape": [3], "unconstrained": [1.5, "inf", "nan"]}
//!   ],
//!   "optimizer": { ... optimiser-specific state, or null ... },
//!   "rng": {"algorithm": "ChaCha12", "seed": "<64 hex digits>", "stream": 0, "word_pos": "1234"}
//! }
//! ```
//!
//! - **Non-finite values.** JSON has no infinities or NaN (serde_json would write them as `null`,
//!   a file that then fails to load). Every array of values (parameters and optimiser buffers)
//!   holds finite numbers as JSON numbers and the non-finite ones as the strings `"inf"`,
//!   `"-inf"` and `"nan"` (the payload and sign of a NaN are not kept). Version 1 files (numbers
//!   only) load unchanged.
//! - **Order.** Values are stored in unconstrained space, in the store's order, so that
//!   per-parameter optimiser state (keyed by position) lines up after a load.
//! - **`rng`** (optional): the generator's complete state (see [`crate::rng::RngState`]), so that a
//!   resumed stochastic run continues exactly as the uninterrupted one would have.
//!
//! # Saving never loses the previous file
//!
//! A save writes a new temporary file in the target's directory (a unique name from the
//! `tempfile` crate, `.NAME.pyro-tmp-XXXXXX`, so concurrent saves from threads or processes never
//! share one), flushes it to disk, **reads it back and checks that it loads and holds exactly
//! what was meant**, and only then renames it over the target (atomic on POSIX file systems) and
//! flushes the directory so that the rename itself survives a crash. On any failure the temporary
//! file is removed and the old checkpoint is untouched. A process killed in the middle of a save
//! (SIGKILL, power loss) can leave its temporary file behind: each save removes temporary files of
//! the same target older than [`STALE_TEMP_AGE`], so such orphans never accumulate beyond the
//! saves killed within that window.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::params::ParamStore;
use crate::rng::RngState;
use crate::tensor::{checked_numel, Shape};

mod safetensors_file;

pub(crate) use safetensors_file::save as save_safetensors;
pub use safetensors_file::Dtype;

const FORMAT: &str = "pyro-rs-checkpoint";
const VERSION: u32 = 2;

/// Temporary files of a save older than this are taken to be left by a killed process and are
/// removed by the next save to the same path. An hour is far longer than any save takes, so a
/// save in progress elsewhere is never removed.
pub const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// The (de)serialisation of arrays of `f64` that keeps non-finite values: finite values as
/// numbers, the others as `"inf"`, `"-inf"` and `"nan"`.
pub(crate) mod floats {
    use serde::de::{self, SeqAccess, Visitor};
    use serde::ser::SerializeSeq;
    use serde::{Deserializer, Serializer};

    /// Serialises a slice of values.
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for &x in v {
            if x.is_finite() {
                seq.serialize_element(&x)?;
            } else if x.is_nan() {
                seq.serialize_element("nan")?;
            } else if x > 0.0 {
                seq.serialize_element("inf")?;
            } else {
                seq.serialize_element("-inf")?;
            }
        }
        seq.end()
    }

    /// One value: a number or one of the three strings.
    struct Float(f64);

    impl<'de> serde::Deserialize<'de> for Float {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Float, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Float;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(r#"a number or one of "inf", "-inf", "nan""#)
                }
                fn visit_f64<E: de::Error>(self, v: f64) -> Result<Float, E> {
                    Ok(Float(v))
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<Float, E> {
                    Ok(Float(v as f64))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Float, E> {
                    Ok(Float(v as f64))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Float, E> {
                    match v {
                        "inf" => Ok(Float(f64::INFINITY)),
                        "-inf" => Ok(Float(f64::NEG_INFINITY)),
                        "nan" => Ok(Float(f64::NAN)),
                        _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                    }
                }
            }
            d.deserialize_any(V)
        }
    }

    /// Deserialises a vector of values.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<f64>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of numbers")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f64>, A::Error> {
                // The size hint comes from the file: never trust it for an allocation.
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(Float(x)) = seq.next_element()? {
                    out.push(x);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V)
    }
}

#[derive(Serialize, Deserialize)]
struct ParamRecord {
    name: String,
    constraint: Constraint,
    shape: Vec<usize>,
    #[serde(with = "floats")]
    unconstrained: Vec<f64>,
}

#[derive(Serialize, Deserialize)]
struct Checkpoint {
    format: String,
    version: u32,
    params: Vec<ParamRecord>,
    #[serde(default)]
    optimizer: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rng: Option<RngState>,
}

/// What a checkpoint holds besides the parameters.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Extras {
    /// The optimiser state (`null` for none).
    pub optimizer: serde_json::Value,
    /// The random generator's state, if saved.
    pub rng: Option<RngState>,
}

/// The directory and the temporary-file prefix of a save to `path`.
fn temp_location(path: &Path) -> Result<(PathBuf, String)> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::file(path, "is not a file path"))?;
    Ok((
        dir.to_path_buf(),
        format!(".{}.pyro-tmp-", file_name.to_string_lossy()),
    ))
}

/// Removes temporary files of saves to the same target that are older than [`STALE_TEMP_AGE`]:
/// left behind by a process killed while saving. Best effort: errors are ignored.
fn remove_stale_temps(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let stale = e.file_name().to_string_lossy().starts_with(prefix)
            && e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_TEMP_AGE);
        if stale {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Writes `bytes` to `path` atomically: a unique temporary file in the same directory, flushed,
/// checked by `verify` (which receives the path of the temporary file), renamed over `path`, and
/// the directory flushed. On failure the temporary file is removed and `path` is untouched.
pub(crate) fn write_atomically(
    path: &Path,
    bytes: &[u8],
    verify: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let (dir, prefix) = temp_location(path)?;
    remove_stale_temps(&dir, &prefix);
    let io = |what: &str, e: std::io::Error| Error::file(path, format!("cannot {what}: {e}"));
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    // A checkpoint is an ordinary file: created with the mode `File::create` gives (0o666 less
    // the umask), not the temporary file's owner-only 0o600, which would make a shared
    // checkpoint unreadable by the rest of a team.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder
        .tempfile_in(&dir)
        .map_err(|e| io("create a temporary file", e))?;
    // Replacing a file keeps its permissions, as writing over it would.
    if let Ok(old) = fs::metadata(path) {
        tmp.as_file()
            .set_permissions(old.permissions())
            .map_err(|e| io("keep the permissions of the file it replaces", e))?;
    }
    tmp.write_all(bytes).map_err(|e| io("write", e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| io("flush to disk", e))?;
    // Dropping `tmp` on any error below removes the temporary file.
    verify(tmp.path())?;
    tmp.persist(path)
        .map_err(|e| io("rename into place", e.error))?;
    // The rename is an entry of the directory: flush it too, or a crash could undo it. Some file
    // systems cannot flush a directory (they report it as invalid or unsupported): then the
    // rename is as durable as they make it.
    if let Ok(d) = fs::File::open(&dir) {
        match d.sync_all() {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported
                ) => {}
            Err(e) => return Err(io("flush the directory", e)),
        }
    }
    Ok(())
}

impl ParamStore {
    /// Saves the parameters to `path` (see the module docs for the format and the guarantees:
    /// the previous file is replaced only by a file that has been read back and verified).
    /// ```
    /// use pyro::constraints::{positive, Constraint};
    /// use pyro::prelude::*;
    ///
    /// # fn main() -> pyro::Result<()> {
    /// let mut store = ParamStore::new();
    /// store.insert("scale", Tensor::from(2.5), positive())?;
    /// store.insert("w", Tensor::from(vec![1.0, f64::INFINITY]), constraints::real())?;
    /// let path = std::env::temp_dir().join(format!("pyro-store-{}.json", std::process::id()));
    /// store.save(&path)?;
    ///
    /// let mut loaded = ParamStore::new();
    /// loaded.load(&path)?;
    /// assert_eq!(loaded.scalar("scale")?, store.scalar("scale")?); // exact: shortest round-trip text
    /// assert_eq!(loaded.get("w")?.to_vec()?, vec![1.0, f64::INFINITY]); // "inf" in the file
    /// assert!(matches!(loaded.constraint("scale")?, Constraint::Positive));
    /// std::fs::remove_file(&path).map_err(|e| pyro::Error::file(&path, e.to_string()))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        save(path.as_ref(), self, Extras::default())
    }

    /// Loads parameters saved by [`ParamStore::save`] (JSON) or [`ParamStore::save_safetensors`]
    /// (told apart by their first bytes), replacing the store's content. The file is validated
    /// completely before the store changes.
    pub fn load(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let (store, _) = load(path.as_ref())?;
        *self = store;
        Ok(())
    }
}

fn records(store: &ParamStore) -> Vec<ParamRecord> {
    store
        .entries()
        .iter()
        .map(|e| ParamRecord {
            name: e.name().to_string(),
            constraint: e.constraint().clone(),
            shape: e.shape.to_vec(),
            unconstrained: e.value.clone(),
        })
        .collect()
}

/// Saves a store with an optimiser state and a generator state.
pub(crate) fn save(path: &Path, store: &ParamStore, extras: Extras) -> Result<()> {
    let ck = Checkpoint {
        format: FORMAT.into(),
        version: VERSION,
        params: records(store),
        optimizer: extras.optimizer,
        rng: extras.rng,
    };
    let bytes =
        serde_json::to_vec(&ck).map_err(|e| Error::file(path, format!("cannot encode: {e}")))?;
    write_atomically(path, &bytes, |tmp| {
        // Read back from the file system, decode as `load` would, and compare with what was meant.
        let (back, back_extras) = load(tmp).map_err(|e| {
            Error::file(
                path,
                format!("not saved: the written file does not load: {e}"),
            )
        })?;
        let same_params = back.entries().len() == store.entries().len()
            && back.entries().iter().zip(store.entries()).all(|(a, b)| {
                a.name() == b.name()
                    && a.constraint() == b.constraint()
                    && a.shape == b.shape
                    && same_values(&a.value, &b.value)
            });
        if !same_params || back_extras.optimizer != ck.optimizer || back_extras.rng != ck.rng {
            return Err(Error::file(
                path,
                "not saved: the written file does not read back as what was meant",
            ));
        }
        Ok(())
    })
}

/// Bitwise equality, except that any NaN equals any NaN (the format keeps no NaN payload).
fn same_values(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

/// Loads a checkpoint: a new store and what else the file holds. Every check happens before
/// anything is returned.
pub(crate) fn load(path: &Path) -> Result<(ParamStore, Extras)> {
    let bytes = fs::read(path).map_err(|e| Error::file(path, format!("cannot read: {e}")))?;
    if safetensors_file::sniff(&bytes) {
        return safetensors_file::decode(path, &bytes);
    }
    let ck: Checkpoint = serde_json::from_slice(&bytes)
        .map_err(|e| Error::file(path, format!("is not a valid checkpoint: {e}")))?;
    if ck.format != FORMAT {
        return Err(Error::file(
            path,
            format!("has format `{}`, expected `{FORMAT}`", ck.format),
        ));
    }
    if !(1..=VERSION).contains(&ck.version) {
        return Err(Error::file(
            path,
            format!(
                "has version {}, this library reads versions 1 to {VERSION}",
                ck.version
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for p in &ck.params {
        // A shape whose element count overflows would wrap to a small number that a short value
        // list could match: checked, as everywhere.
        let n = checked_numel(&p.shape).ok_or_else(|| {
            Error::file(
                path,
                format!(
                    "parameter `{}` has shape {:?}, too large to exist",
                    p.name, p.shape
                ),
            )
        })?;
        if p.unconstrained.len() != n {
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
        if !seen.insert(p.name.as_str()) {
            return Err(Error::file(
                path,
                format!("parameter `{}` appears twice", p.name),
            ));
        }
    }
    if let Some(r) = &ck.rng {
        r.restore()
            .map_err(|e| Error::file(path, format!("rng: {e}")))?;
    }
    let mut store = ParamStore::new();
    for p in ck.params {
        store.restore(
            p.name,
            p.unconstrained,
            Shape::from_vec(p.shape),
            p.constraint,
        );
    }
    Ok((
        store,
        Extras {
            optimizer: ck.optimizer,
            rng: ck.rng,
        },
    ))
}
