//! Writing MCMC draws out: one CSV file per chain (Stan's sampler columns, then one column per
//! scalar entry of every site), and a JSON file that ArviZ reads with `from_dict`. The writers
//! are [`crate::infer`]'s shared ones (also used by `Predictive`'s samples).
//!
//! ```python
//! import json, arviz as az
//! d = json.load(open("draws.json"))
//! idata = az.from_dict(posterior=d["posterior"], sample_stats=d["sample_stats"])  # ArviZ 0.x
//! idata = az.from_dict(d)                                                          # ArviZ 1.x
//! az.summary(idata)
//! ```

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::samples::McmcSamples;
use crate::error::{Error, Result};
use crate::infer::export::{self, num, Draws};

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

impl Draws for McmcSamples {
    fn num_chains(&self) -> usize {
        self.chains.len()
    }
    fn num_draws(&self) -> usize {
        self.num_draws
    }
    fn site(&self, k: usize) -> (&str, &[usize]) {
        (&self.layout[k].name, &self.layout[k].shape)
    }
    fn values(&self, chain: usize, draw: usize, k: usize) -> &[f64] {
        self.draw(chain, draw, k)
    }
}

impl McmcSamples {
    /// The draws of chain `chain` as CSV: a header, then one row per draw with Stan's sampler
    /// columns (`lp__` is the log-density in unconstrained space, `-potential_energy`) and one
    /// column per scalar entry of every site (`mu`, `theta[0]`, ...).
    pub fn to_csv(&self, chain: usize) -> Result<String> {
        let stats = self.stats(chain)?;
        let sites: Vec<usize> = (0..self.layout.len()).collect();
        Ok(export::csv(self, chain, &sites, &STAN_COLUMNS, |i| {
            let s = &stats[i];
            format!(
                "{},{},{},{},{},{},{}",
                -s.potential_energy,
                s.accept_prob,
                s.step_size,
                s.tree_depth,
                s.num_steps,
                u8::from(s.diverging),
                s.energy
            )
        }))
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
                export::write_text(&path, &self.to_csv(c)?)?;
                Ok(path)
            })
            .collect()
    }

    /// The draws as the JSON object that ArviZ's `from_dict` reads: `posterior` maps each site to
    /// nested arrays of shape `[chain, draw, ...site shape]`; `sample_stats` holds ArviZ's names
    /// `lp`, `acceptance_rate`, `step_size`, `tree_depth`, `n_steps`, `diverging`, `energy`
    /// (each `[chain, draw]`).
    pub fn to_arviz_json(&self) -> Value {
        let sites: Vec<usize> = (0..self.layout.len()).collect();
        let posterior = export::arviz_group(self, &sites);
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
        export::write_json(path.as_ref(), &self.to_arviz_json())
    }
}
