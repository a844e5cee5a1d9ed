//! Writing MCMC draws out: one CSV file per chain (Stan's sampler columns, then one column per
//! scalar entry of every site), and a JSON file that ArviZ reads with `from_dict`.
//!
//! ```python
//! import json, arviz as az
//! d = json.load(open("draws.json"))
//! idata = az.from_dict(posterior=d["posterior"], sample_stats=d["sample_stats"])  # ArviZ 0.x
//! idata = az.from_dict(d)                                                          # ArviZ 1.x
//! az.summary(idata)
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::samples::{entry_label, McmcSamples};
use crate::checkpoint::write_atomically;
use crate::error::{Error, Result};

/// The sampler columns of the CSV files, as Stan names them.
const STAN_COLUMNS: [&str; 7] = [
    "lp__",
    "accept_stat__",
    "stepsize__",
    "treedepth__",
    "n_leapfrog__",
    "divergent__",
    "energy__",
];

impl McmcSamples {
    /// The draws of chain `chain` as CSV: a header, then one row per draw with Stan's sampler
    /// columns (`lp__` is the log-density in unconstrained space, `-potential_energy`) and one
    /// column per scalar entry of every site (`mu`, `theta[0]`, ...).
    pub fn to_csv(&self, chain: usize) -> Result<String> {
        let stats = self.stats(chain)?;
        let mut out = String::new();
        let mut header: Vec<String> = STAN_COLUMNS.iter().map(|s| s.to_string()).collect();
        for l in &self.layout {
            for j in 0..l.numel() {
                header.push(entry_label(&l.name, &l.shape, j));
            }
        }
        out.push_str(&header.join(","));
        out.push('\n');
        for (i, s) in stats.iter().enumerate() {
            let _ = write!(
                out,
                "{},{},{},{},{},{},{}",
                -s.potential_energy,
                s.accept_prob,
                s.step_size,
                s.tree_depth,
                s.num_steps,
                u8::from(s.diverging),
                s.energy
            );
            for k in 0..self.layout.len() {
                for v in self.draw(chain, i, k) {
                    let _ = write!(out, ",{v}");
                }
            }
            out.push('\n');
        }
        Ok(out)
    }

    /// Writes one CSV file per chain ([`McmcSamples::to_csv`]), `{prefix}_chain{c}.csv`, each
    /// atomically; returns their paths.
    pub fn write_csv(&self, prefix: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        let prefix = prefix.as_ref();
        let stem = prefix
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .ok_or_else(|| {
                Error::file(
                    prefix,
                    "the CSV prefix needs a file name part, e.g. out/draws",
                )
            })?;
        let dir = prefix.parent().unwrap_or(Path::new(""));
        (0..self.num_chains())
            .map(|c| {
                let path = dir.join(format!("{stem}_chain{c}.csv"));
                write_atomically(&path, self.to_csv(c)?.as_bytes(), |_| Ok(()))?;
                Ok(path)
            })
            .collect()
    }

    /// The draws as the JSON object that ArviZ's `from_dict` reads: `posterior` maps each site to
    /// nested arrays of shape `[chain, draw, ...site shape]`; `sample_stats` holds ArviZ's names
    /// `lp`, `acceptance_rate`, `step_size`, `tree_depth`, `n_steps`, `diverging`, `energy`
    /// (each `[chain, draw]`).
    pub fn to_arviz_json(&self) -> Value {
        let mut posterior = Map::new();
        for (k, l) in self.layout.iter().enumerate() {
            let chains: Vec<Value> = (0..self.num_chains())
                .map(|c| {
                    Value::Array(
                        (0..self.num_draws)
                            .map(|i| nest(self.draw(c, i, k), &l.shape))
                            .collect(),
                    )
                })
                .collect();
            posterior.insert(l.name.clone(), Value::Array(chains));
        }
        type Field = fn(&super::DrawStats) -> Value;
        let fields: [(&str, Field); 7] = [
            ("lp", |s| num(-s.potential_energy)),
            ("acceptance_rate", |s| num(s.accept_prob)),
            ("step_size", |s| num(s.step_size)),
            ("tree_depth", |s| Value::from(s.tree_depth)),
            ("n_steps", |s| Value::from(s.num_steps)),
            ("diverging", |s| Value::from(s.diverging)),
            ("energy", |s| num(s.energy)),
        ];
        let mut stats = Map::new();
        for (name, f) in fields {
            let v: Vec<Value> = self
                .chains
                .iter()
                .map(|c| Value::Array(c.stats.iter().map(f).collect()))
                .collect();
            stats.insert(name.to_string(), Value::Array(v));
        }
        let mut root = Map::new();
        root.insert("posterior".into(), Value::Object(posterior));
        root.insert("sample_stats".into(), Value::Object(stats));
        Value::Object(root)
    }

    /// Writes [`McmcSamples::to_arviz_json`] to `path`, atomically.
    pub fn write_arviz_json(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let text = serde_json::to_string(&self.to_arviz_json())
            .map_err(|e| Error::file(path, e.to_string()))?;
        write_atomically(path, text.as_bytes(), |_| Ok(()))
    }
}

/// A JSON number (`null` for a non-finite value, which JSON cannot hold).
fn num(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// Row-major values as nested arrays of `shape` (a bare number for a scalar).
fn nest(values: &[f64], shape: &[usize]) -> Value {
    match shape.split_first() {
        None => num(values.first().copied().unwrap_or(f64::NAN)),
        Some((&n, rest)) => {
            let step = rest.iter().product::<usize>();
            Value::Array(
                (0..n)
                    .map(|i| nest(&values[i * step..(i + 1) * step], rest))
                    .collect(),
            )
        }
    }
}
