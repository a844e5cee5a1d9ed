//! Writing draws out, shared by MCMC ([`McmcSamples`](super::mcmc::McmcSamples)) and
//! [`Predictive`](super::Predictive) ([`Samples`](super::Samples)): CSV with one column per
//! scalar entry of every site (`mu`, `theta[0]`, `theta[1]`, ...; Stan's naming), and JSON groups
//! of nested arrays `[chain, draw, ...site shape]` as ArviZ's `from_dict` reads them.
//!
//! One implementation for both: each of them presents its draws through [`Draws`].

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Map, Value};

use super::mcmc::entry_label;
use crate::checkpoint::write_atomically;
use crate::error::{Error, Result};

/// Draws of named sites, `num_chains x num_draws`, each holding the row-major values of every
/// site.
pub(crate) trait Draws {
    fn num_chains(&self) -> usize;
    fn num_draws(&self) -> usize;
    /// Name and shape of site `k`.
    fn site(&self, k: usize) -> (&str, &[usize]);
    /// The values of site `k` in draw `draw` of chain `chain`.
    fn values(&self, chain: usize, draw: usize, k: usize) -> &[f64];
}

/// The CSV of one chain: the `leading` columns (their names, and their values in draw `i` as
/// `lead_row(i)`, already comma-separated), then one column per scalar entry of each site of
/// `sites`, one row per draw.
pub(crate) fn csv<D: Draws + ?Sized>(
    d: &D,
    chain: usize,
    sites: &[usize],
    leading: &[&str],
    lead_row: impl Fn(usize) -> String,
) -> String {
    let mut header: Vec<String> = leading.iter().map(|s| s.to_string()).collect();
    for &k in sites {
        let (name, shape) = d.site(k);
        let numel: usize = shape.iter().product();
        header.extend((0..numel).map(|j| entry_label(name, shape, j)));
    }
    let mut out = header.join(",");
    out.push('\n');
    for i in 0..d.num_draws() {
        let mut first = leading.is_empty();
        if !first {
            out.push_str(&lead_row(i));
        }
        for &k in sites {
            for v in d.values(chain, i, k) {
                if first {
                    let _ = write!(out, "{v}");
                    first = false;
                } else {
                    let _ = write!(out, ",{v}");
                }
            }
        }
        out.push('\n');
    }
    out
}

/// One ArviZ group: each site of `sites` as nested arrays of shape `[chain, draw, ...shape]`.
pub(crate) fn arviz_group<D: Draws + ?Sized>(d: &D, sites: &[usize]) -> Map<String, Value> {
    let mut group = Map::new();
    for &k in sites {
        let (name, shape) = d.site(k);
        let chains: Vec<Value> = (0..d.num_chains())
            .map(|c| {
                Value::Array(
                    (0..d.num_draws())
                        .map(|i| nest(d.values(c, i, k), shape))
                        .collect(),
                )
            })
            .collect();
        group.insert(name.to_string(), Value::Array(chains));
    }
    group
}

/// Writes `text` to `path` atomically.
pub(crate) fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomically(path, text.as_bytes(), |_| Ok(()))
}

/// Writes a JSON value to `path` atomically.
pub(crate) fn write_json(path: &Path, value: &Value) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|e| Error::file(path, e.to_string()))?;
    write_text(path, &text)
}

/// A JSON number (`null` for a non-finite value, which JSON cannot hold; ArviZ reads it as NaN).
pub(crate) fn num(v: f64) -> Value {
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
