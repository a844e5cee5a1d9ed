//! Checkpoints as [safetensors](https://github.com/huggingface/safetensors) files, which PyTorch
//! (`safetensors.torch.load_file`), NumPy/JAX (`safetensors.numpy`) and every Hugging Face tool
//! read directly: much smaller than JSON for large models (4 or 8 bytes a value instead of about
//! 20 characters) and loaded without parsing numbers.
//!
//! Layout of a checkpoint written by [`ParamStore::save_safetensors`] or
//! [`crate::infer::Svi::save_safetensors`]:
//!
//! - one tensor per parameter, named as the parameter, with its shape, holding its
//!   **unconstrained** values (what the optimiser updates; the constraint of each parameter says
//!   how to map it to the constrained value);
//! - with an optimiser state, its per-parameter buffers as the tensors
//!   `optimizer.<a|b>.<parameter>` (for Adam `a` is the first moment `exp_avg`, `b` the second
//!   `exp_avg_sq`; for SGD `a` is the momentum buffer; for Adagrad `b` the sum of squares; for
//!   RMSprop `a` the momentum and `b` the mean square), each with its parameter's shape;
//! - `F32` or `F64` for every tensor, as asked ([`Dtype`]); loading accepts both (and `F16`
//!   `BF16` are refused with an error that names the tensor);
//! - the string-to-string `__metadata__` of the format: `format` = `pyro-rs-checkpoint`,
//!   `version` = `1`, `params` = a JSON list of `{"name", "constraint"}` in the store's order,
//!   and, when saved, `optimizer` (the optimiser's state without its buffers: name, step count
//!   and per-parameter update counts, as JSON) and `rng` (the generator's state, as JSON).
//!
//! In Python:
//!
//! ```python
//! from safetensors.torch import load_file
//! from safetensors import safe_open
//! tensors = load_file("vae.safetensors")          # {"encoder.fc1.weight": tensor(...), ...}
//! with safe_open("vae.safetensors", "pt") as f:
//!     meta = f.metadata()                          # {"format": "pyro-rs-checkpoint", ...}
//! ```
//!
//! Saving has the guarantees of the JSON checkpoints: the file is written to a temporary file,
//! read back and checked to hold exactly what was meant (after rounding to `f32` when asked),
//! and only then renamed over the old file.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::TensorView;
use safetensors::{Dtype as StDtype, SafeTensors};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{same_values, write_atomically, Extras};
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::params::ParamStore;
use crate::rng::RngState;
use crate::tensor::{checked_numel, Shape};

const FORMAT: &str = "pyro-rs-checkpoint";
const VERSION: &str = "1";
/// The two optimiser buffers and the prefixes of their tensors.
const BUFFERS: [(&str, &str); 2] = [("a", "optimizer.a."), ("b", "optimizer.b.")];

/// The floating-point type of the tensors of a safetensors checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// 32-bit floats: half the size; values are rounded to the nearest `f32` (a resumed run
    /// then differs from the uninterrupted one by that rounding).
    F32,
    /// 64-bit floats: exact, a resumed run is bit-identical.
    F64,
}

impl Dtype {
    fn st(self) -> StDtype {
        match self {
            Dtype::F32 => StDtype::F32,
            Dtype::F64 => StDtype::F64,
        }
    }

    fn encode(self, values: &[f64]) -> Vec<u8> {
        match self {
            Dtype::F32 => values
                .iter()
                .flat_map(|&v| (v as f32).to_le_bytes())
                .collect(),
            Dtype::F64 => values.iter().flat_map(|&v| v.to_le_bytes()).collect(),
        }
    }

    /// The values as they read back (rounded through `f32` for `F32`).
    fn round(self, values: &[f64]) -> Vec<f64> {
        match self {
            Dtype::F32 => values.iter().map(|&v| f64::from(v as f32)).collect(),
            Dtype::F64 => values.to_vec(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ParamMeta {
    name: String,
    constraint: Constraint,
}

/// Encodes a store (and what else a checkpoint holds) as safetensors bytes.
fn encode(store: &ParamStore, extras: &Extras, dtype: Dtype) -> Result<Vec<u8>> {
    let fail = |e: String| Error::Invalid(format!("safetensors checkpoint: {e}"));
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut params = Vec::new();
    for e in store.entries() {
        tensors.push((
            e.name().to_string(),
            e.shape.to_vec(),
            dtype.encode(&e.value),
        ));
        params.push(ParamMeta {
            name: e.name().to_string(),
            constraint: e.constraint().clone(),
        });
    }
    let mut meta = HashMap::new();
    meta.insert("format".to_string(), FORMAT.to_string());
    meta.insert("version".to_string(), VERSION.to_string());
    meta.insert(
        "params".to_string(),
        serde_json::to_string(&params).map_err(|e| fail(e.to_string()))?,
    );
    if !extras.optimizer.is_null() {
        let (state, buffers) = split_optimizer(&extras.optimizer, store)?;
        for (name, shape, values) in buffers {
            tensors.push((name, shape, dtype.encode(&values)));
        }
        meta.insert("optimizer".to_string(), state.to_string());
    }
    if let Some(rng) = &extras.rng {
        meta.insert(
            "rng".to_string(),
            serde_json::to_string(rng).map_err(|e| fail(e.to_string()))?,
        );
    }
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(dtype.st(), shape.clone(), bytes)
                .map(|v| (name.as_str(), v))
                .map_err(|e| fail(format!("tensor `{name}`: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, Some(meta)).map_err(|e| fail(e.to_string()))
}

/// Takes the buffers out of an optimiser state: the state without them, and the buffers as
/// `(tensor name, shape, values)`. A buffer whose length differs from its parameter's is kept
/// flat.
#[allow(clippy::type_complexity)]
fn split_optimizer(
    state: &Value,
    store: &ParamStore,
) -> Result<(Value, Vec<(String, Vec<usize>, Vec<f64>)>)> {
    let mut state = state.clone();
    let mut buffers = Vec::new();
    for_each_buffer(&mut state, |name, tensor, slot| {
        // The buffer's place in the JSON state is left null: filled again on load.
        let values: Vec<f64> = super::floats::deserialize(slot.take())
            .map_err(|e| Error::Invalid(format!("optimiser state of `{name}`: {e}")))?;
        let shape = store
            .position(name)
            .map(|i| store.entries()[i].shape.to_vec())
            .filter(|s| checked_numel(s) == Some(values.len()))
            .unwrap_or_else(|| vec![values.len()]);
        buffers.push((tensor, shape, values));
        Ok(())
    })?;
    Ok((state, buffers))
}

/// Calls `f(parameter name, tensor name, slot)` for each optimiser buffer of an optimiser state
/// (`params[i].a` and `params[i].b`, where present), the one walk that writing, reading and
/// verifying a checkpoint share. The tensor name is the buffer's prefix and the parameter's name.
fn for_each_buffer(
    state: &mut Value,
    mut f: impl FnMut(&str, String, &mut Value) -> Result<()>,
) -> Result<()> {
    let Some(params) = state.get_mut("params").and_then(Value::as_array_mut) else {
        return Ok(());
    };
    for p in params.iter_mut().filter(|p| p.is_object()) {
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        for (key, prefix) in BUFFERS {
            if let Some(slot) = p.get_mut(key) {
                f(&name, format!("{prefix}{name}"), slot)?;
            }
        }
    }
    Ok(())
}

/// Reads the values of a tensor as `f64`, checking its dtype.
fn values(path: &Path, name: &str, view: &TensorView<'_>) -> Result<Vec<f64>> {
    let data = view.data();
    match view.dtype() {
        StDtype::F64 => Ok(data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect()),
        StDtype::F32 => Ok(data
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect()),
        other => Err(Error::file(
            path,
            format!("tensor `{name}` has dtype {other:?}; this library reads F32 and F64"),
        )),
    }
}

/// Whether `bytes` look like a safetensors file rather than JSON: an 8-byte little-endian header
/// length that fits in the file, followed by `{`.
pub(crate) fn sniff(bytes: &[u8]) -> bool {
    let Some(n) = bytes.get(..8) else {
        return false;
    };
    let n = u64::from_le_bytes([n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]]);
    n >= 2 && n <= (bytes.len() as u64).saturating_sub(8) && bytes.get(8) == Some(&b'{')
}

/// Decodes a safetensors checkpoint. Every check happens before anything is returned.
pub(crate) fn decode(path: &Path, bytes: &[u8]) -> Result<(ParamStore, Extras)> {
    let bad = |e: String| Error::file(path, e);
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| bad(format!("is not a valid safetensors file: {e}")))?;
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(format!("is not a valid safetensors file: {e}")))?;
    let empty = HashMap::new();
    let meta = header.metadata().as_ref().unwrap_or(&empty);
    let get = |key: &str| meta.get(key).map(String::as_str);
    if get("format") != Some(FORMAT) {
        return Err(bad(format!(
            "is a safetensors file without `format: {FORMAT}` in its metadata (a checkpoint of \
             another program?)"
        )));
    }
    if get("version") != Some(VERSION) {
        return Err(bad(format!(
            "has checkpoint version {:?}, this library reads version {VERSION}",
            get("version").unwrap_or("none")
        )));
    }
    let params: Vec<ParamMeta> = serde_json::from_str(get("params").unwrap_or("null"))
        .map_err(|e| bad(format!("metadata `params`: {e}")))?;
    let mut seen = std::collections::HashSet::new();
    let mut store = ParamStore::new();
    let mut restored = Vec::with_capacity(params.len());
    for p in params {
        if !seen.insert(p.name.clone()) {
            return Err(bad(format!("parameter `{}` appears twice", p.name)));
        }
        let view = st
            .tensor(&p.name)
            .map_err(|_| bad(format!("parameter `{}` has no tensor", p.name)))?;
        let v = values(path, &p.name, &view)?;
        restored.push((
            p.name,
            v,
            Shape::from_vec(view.shape().to_vec()),
            p.constraint,
        ));
    }
    for (name, v, shape, constraint) in restored {
        store.restore(name, v, shape, constraint);
    }
    let optimizer = match get("optimizer") {
        None => Value::Null,
        Some(text) => {
            let mut state: Value = serde_json::from_str(text)
                .map_err(|e| bad(format!("metadata `optimizer`: {e}")))?;
            for_each_buffer(&mut state, |_, tensor, slot| {
                let view = st
                    .tensor(&tensor)
                    .map_err(|_| bad(format!("the optimiser state has no tensor `{tensor}`")))?;
                let v = values(path, &tensor, &view)?;
                *slot = super::floats::serialize(&v, serde_json::value::Serializer)
                    .map_err(|e| bad(format!("tensor `{tensor}`: {e}")))?;
                Ok(())
            })?;
            state
        }
    };
    let rng = match get("rng") {
        None => None,
        Some(text) => {
            let r: RngState =
                serde_json::from_str(text).map_err(|e| bad(format!("metadata `rng`: {e}")))?;
            r.restore().map_err(|e| bad(format!("rng: {e}")))?;
            Some(r)
        }
    };
    Ok((store, Extras { optimizer, rng }))
}

/// Saves a store (with an optimiser and a generator state) as safetensors, verified and atomic.
pub(crate) fn save(path: &Path, store: &ParamStore, extras: Extras, dtype: Dtype) -> Result<()> {
    let bytes = encode(store, &extras, dtype).map_err(|e| Error::file(path, e.to_string()))?;
    // What a load must give back: the values rounded to the dtype.
    let mut expected = ParamStore::new();
    for e in store.entries() {
        expected.restore(
            e.name().to_string(),
            dtype.round(&e.value),
            e.shape.clone(),
            e.constraint().clone(),
        );
    }
    let expected_optimizer = if extras.optimizer.is_null() {
        Value::Null
    } else {
        // The buffers rounded as they are written.
        let (mut state, buffers) = split_optimizer(&extras.optimizer, store)?;
        let rounded: HashMap<String, Vec<f64>> = buffers
            .into_iter()
            .map(|(name, _, v)| (name, dtype.round(&v)))
            .collect();
        for_each_buffer(&mut state, |_, tensor, slot| {
            if let Some(v) = rounded.get(&tensor) {
                *slot = super::floats::serialize(v, serde_json::value::Serializer)
                    .map_err(|e| Error::file(path, e.to_string()))?;
            }
            Ok(())
        })?;
        state
    };
    write_atomically(path, &bytes, |tmp| {
        let read = std::fs::read(tmp)
            .map_err(|e| Error::file(path, format!("not saved: cannot read it back: {e}")))?;
        let (back, back_extras) = decode(tmp, &read).map_err(|e| {
            Error::file(
                path,
                format!("not saved: the written file does not load: {e}"),
            )
        })?;
        let same_params = back.entries().len() == expected.entries().len()
            && back.entries().iter().zip(expected.entries()).all(|(a, b)| {
                a.name() == b.name()
                    && a.constraint() == b.constraint()
                    && a.shape == b.shape
                    && same_values(&a.value, &b.value)
            });
        // (Non-finite buffer values are the strings "inf", "-inf", "nan" on both sides.)
        let same_optimizer = back_extras.optimizer == expected_optimizer;
        if !same_params || !same_optimizer || back_extras.rng != extras.rng {
            return Err(Error::file(
                path,
                "not saved: the written file does not read back as what was meant",
            ));
        }
        Ok(())
    })
}

impl ParamStore {
    /// Saves the parameters as a safetensors file that PyTorch and NumPy read (layout: the
    /// "Checkpoints" section of the [`crate::params`] docs), with the guarantees of
    /// [`ParamStore::save`]. [`ParamStore::load`] reads it back (it tells the two formats apart
    /// by their first bytes).
    pub fn save_safetensors(&self, path: impl AsRef<Path>, dtype: Dtype) -> Result<()> {
        save(path.as_ref(), self, Extras::default(), dtype)
    }
}
