//! The parameter store: learnable parameters by name, kept in unconstrained space together with
//! their constraint. `param!` returns the constrained value; optimisers update the unconstrained
//! one. Each `Svi` owns its store: nothing is global.
//!
//! # Checkpoints
//!
//! A store (and, through [`Svi::save`](crate::infer::Svi::save), the optimiser's state and the
//! random generator's) is saved in one of two formats; [`ParamStore::load`] and
//! [`Svi::load`](crate::infer::Svi::load) tell them apart by their first bytes.
//!
//! | | JSON ([`ParamStore::save`]) | safetensors ([`ParamStore::save_safetensors`]) |
//! |---|---|---|
//! | for | small stores, reading and diffing by eye | large models; PyTorch, NumPy, JAX |
//! | values | exact `f64` (shortest round-trip text) | `f32` or `f64` ([`Dtype`]) |
//! | size, 689k-parameter VAE with Adam state | 37.8 MB | 8.3 MB (`f32`), 16.5 MB (`f64`) |
//!
//! Both hold every parameter's **unconstrained** value (what the optimiser updates) with its
//! name, shape and constraint, in the store's order.
//!
//! **JSON** (version 2): `{"format": "pyro-rs-checkpoint", "version": 2, "params": [{"name",
//! "constraint", "shape", "unconstrained": [...]}, ...], "optimizer": {...} or null, "rng":
//! {...}}`; infinities and NaN are the strings `"inf"`, `"-inf"`, `"nan"`.
//!
//! **Safetensors** (the [format](https://github.com/huggingface/safetensors#format): an 8-byte
//! little-endian header length, a JSON header giving each tensor's `dtype`, `shape` and
//! `data_offsets`, then the data, 8-byte aligned): one tensor per parameter, named as the
//! parameter; with an optimiser state, its per-parameter buffers as the tensors
//! `optimizer.a.<parameter>` and `optimizer.b.<parameter>` (Adam: `exp_avg` and `exp_avg_sq`;
//! SGD: `a` the momentum; Adagrad: `b` the sum of squares; RMSprop: `a` the momentum, `b` the
//! mean square); the string-to-string `__metadata__` holds `format` = `pyro-rs-checkpoint`,
//! `version` = `1`, `params` (a JSON list of `{"name", "constraint"}`), and when saved
//! `optimizer` (the rest of the optimiser's state, JSON) and `rng` (the generator's state, JSON).
//! Loading accepts `F32` and `F64` tensors; a file written by Python's `safetensors` with that
//! metadata loads.
//!
//! ```python
//! from safetensors.torch import load_file
//! from safetensors import safe_open
//! tensors = load_file("vae.safetensors")       # {"decoder.fc1.weight": tensor(...), ...}
//! with safe_open("vae.safetensors", "pt") as f:
//!     meta = f.metadata()                       # {"format": "pyro-rs-checkpoint", ...}
//! ```
//!
//! Saving, in either format, never loses the previous file: the new one is written to a
//! temporary file beside it, read back and checked to hold exactly what was meant (after
//! rounding to `f32` when asked), and only then renamed over the old one.

use std::collections::HashMap;

pub use crate::checkpoint::Dtype;

use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::tensor::{Shape, Tensor};
use crate::transforms::{biject_to, Transform};

/// One learnable parameter.
#[derive(Clone, Debug)]
pub struct ParamEntry {
    name: String,
    /// Unconstrained values, row-major.
    pub(crate) value: Vec<f64>,
    /// Shape of the unconstrained values.
    pub(crate) shape: Shape,
    constraint: Constraint,
    /// Whether the shape has been checked against an `init` in this process (false after `load`).
    pub(crate) verified: bool,
}

impl ParamEntry {
    /// Parameter name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The constraint.
    pub fn constraint(&self) -> &Constraint {
        &self.constraint
    }
    /// The unconstrained value.
    pub fn unconstrained(&self) -> Tensor {
        if let [v] = self.value[..] {
            // One value: kept inline, no copy of the vector.
            return Tensor::full(&self.shape, v);
        }
        Tensor::new(self.value.clone(), &self.shape).unwrap_or_else(Tensor::poisoned)
    }
    /// The constrained value.
    pub fn constrained(&self) -> Result<Tensor> {
        let t = biject_to(&self.constraint)?;
        t.forward(&self.unconstrained())
            .check()
            .map_err(|e| e.at_site(&self.name))
    }
}

/// Learnable parameters by name.
///
/// ```
/// use pyro_core::params::ParamStore;
/// use pyro_core::constraints::positive;
/// let mut store = ParamStore::new();
/// store.insert("scale", 2.0.into(), positive()).unwrap();
/// assert!((store.scalar("scale").unwrap() - 2.0).abs() < 1e-12);
/// assert!(store.scalar("loc").is_err());
/// ```
#[derive(Clone, Debug, Default)]
pub struct ParamStore {
    entries: Vec<ParamEntry>,
    index: HashMap<String, usize>,
}

impl ParamStore {
    /// An empty store.
    pub fn new() -> ParamStore {
        ParamStore::default()
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Parameter names in order of first appearance.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    /// All entries in order of first appearance.
    pub fn entries(&self) -> &[ParamEntry] {
        &self.entries
    }

    /// Position of a parameter, stable for the life of the store.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    fn entry(&self, name: &str) -> Result<&ParamEntry> {
        self.position(name)
            .map(|i| &self.entries[i])
            .ok_or_else(|| Error::Unknown {
                kind: "parameter",
                name: name.to_string(),
            })
    }

    /// The constrained value of a parameter.
    pub fn get(&self, name: &str) -> Result<Tensor> {
        self.entry(name)?.constrained()
    }

    /// The constrained value of a one-element parameter.
    pub fn scalar(&self, name: &str) -> Result<f64> {
        self.get(name)?.item().map_err(|e| e.at_site(name))
    }

    /// The unconstrained value of a parameter.
    pub fn unconstrained(&self, name: &str) -> Result<Tensor> {
        Ok(self.entry(name)?.unconstrained())
    }

    /// The constraint of a parameter.
    pub fn constraint(&self, name: &str) -> Result<&Constraint> {
        Ok(&self.entry(name)?.constraint)
    }

    /// Inserts or replaces a parameter from its constrained value.
    pub fn insert(&mut self, name: &str, value: Tensor, constraint: Constraint) -> Result<usize> {
        let entry = Self::make_entry(name, value, constraint)?;
        Ok(match self.position(name) {
            Some(i) => {
                self.entries[i] = entry;
                i
            }
            None => self.push(entry),
        })
    }

    /// Removes a parameter. Positions of later parameters shift, so optimiser state keyed by
    /// position should be reset after removals.
    pub fn remove(&mut self, name: &str) -> Result<()> {
        let i = self.position(name).ok_or_else(|| Error::Unknown {
            kind: "parameter",
            name: name.to_string(),
        })?;
        self.entries.remove(i);
        self.reindex();
        Ok(())
    }

    /// Removes every parameter.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.index.clear();
    }

    fn reindex(&mut self) {
        self.index = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
    }

    fn push(&mut self, entry: ParamEntry) -> usize {
        self.index.insert(entry.name.clone(), self.entries.len());
        self.entries.push(entry);
        self.entries.len() - 1
    }

    fn make_entry(name: &str, value: Tensor, constraint: Constraint) -> Result<ParamEntry> {
        let value = value.check().map_err(|e| e.at_site(name))?;
        // A value of the wrong shape for its constraint (a non-square lower_cholesky) is a shape
        // error that says so, before any check that assumes the shape.
        crate::transforms::unconstrained_shape(&constraint, value.shape())
            .map_err(|e| e.at_site(name))?;
        if !constraint.check(&value) {
            return Err(Error::Invalid(format!(
                "initial value of parameter `{name}` is outside its constraint {constraint:?}"
            ))
            .at_site(name));
        }
        let u = biject_to(&constraint)
            .map_err(|e| e.at_site(name))?
            .inverse(&value.detach());
        let u = u.check().map_err(|e| e.at_site(name))?;
        Ok(ParamEntry {
            name: name.to_string(),
            value: u.to_vec()?,
            shape: Shape::from_slice(u.shape()),
            constraint,
            verified: true,
        })
    }

    /// The position of `name`, initialising it from `init` (a constrained value) on first sight.
    /// After a [`ParamStore::load`], the first call checks that `init` has the stored shape.
    pub(crate) fn get_or_init(
        &mut self,
        name: &str,
        init: impl FnOnce() -> Tensor,
        constraint: &Constraint,
    ) -> Result<usize> {
        if let Some(i) = self.position(name) {
            let e = &self.entries[i];
            if e.constraint != *constraint {
                return Err(Error::Invalid(format!("parameter `{name}` was created with constraint {:?} and is now requested with {constraint:?}", e.constraint)));
            }
            if !e.verified {
                let fresh = Self::make_entry(name, init(), constraint.clone())?;
                let e = &mut self.entries[i];
                if fresh.shape != e.shape {
                    return Err(Error::shape(
                        format!("parameter `{name}`"),
                        format!(
                            "stored shape {:?} differs from the shape {:?} of its initial value",
                            e.shape.as_slice(),
                            fresh.shape.as_slice()
                        ),
                    ));
                }
                e.verified = true;
            }
            return Ok(i);
        }
        let entry = Self::make_entry(name, init(), constraint.clone())?;
        Ok(self.push(entry))
    }

    /// Mutable access to unconstrained values by position, for optimisers.
    pub(crate) fn values_mut(&mut self, i: usize) -> (&str, &mut [f64]) {
        let e = &mut self.entries[i];
        (&e.name, &mut e.value)
    }

    /// Whether unconstrained `values` for parameter `i` map to a finite constrained value inside
    /// its constraint: a finite unconstrained value can still leave it (`exp(-1000) = 0` is not
    /// positive, `exp(1000)` is infinite). Allocates nothing for a real or one-element parameter.
    pub(crate) fn admissible(&self, i: usize, values: &[f64]) -> bool {
        let e = &self.entries[i];
        if matches!(e.constraint, Constraint::Real | Constraint::RealVector) {
            return values.iter().all(|v| v.is_finite());
        }
        let Ok(t) = biject_to(&e.constraint) else {
            return false;
        };
        let u = match values {
            [v] => Tensor::scalar(*v).reshape(&e.shape),
            _ => Tensor::new(values.to_vec(), &e.shape).unwrap_or_else(Tensor::poisoned),
        };
        let c = t.forward(&u);
        c.is_finite() && e.constraint.check(&c)
    }

    /// Adds `entry` (made by another store over the same model) unless its name is taken.
    pub(crate) fn adopt(&mut self, entry: ParamEntry) {
        if self.position(&entry.name).is_none() {
            self.push(entry);
        }
    }

    /// Makes this store a copy of `other`: by copying values alone when both hold the same
    /// parameters in the same order (the common case, no allocation), by cloning otherwise.
    pub(crate) fn sync_from(&mut self, other: &ParamStore) {
        let same = self.entries.len() == other.entries.len()
            && self
                .entries
                .iter()
                .zip(&other.entries)
                .all(|(a, b)| a.name == b.name && a.shape == b.shape);
        if same {
            for (a, b) in self.entries.iter_mut().zip(&other.entries) {
                a.value.copy_from_slice(&b.value);
                a.verified = b.verified;
            }
        } else {
            *self = other.clone();
        }
    }

    /// Entry by position.
    pub(crate) fn at(&self, i: usize) -> &ParamEntry {
        &self.entries[i]
    }

    /// Adds an entry restored from a file (unconstrained values), marked unverified.
    pub(crate) fn restore(
        &mut self,
        name: String,
        value: Vec<f64>,
        shape: Shape,
        constraint: Constraint,
    ) -> usize {
        let entry = ParamEntry {
            name,
            value,
            shape,
            constraint,
            verified: false,
        };
        match self.position(&entry.name) {
            Some(i) => {
                self.entries[i] = entry;
                i
            }
            None => self.push(entry),
        }
    }
}
