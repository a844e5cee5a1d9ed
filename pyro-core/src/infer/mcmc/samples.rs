//! The result of an MCMC run: the draws of every latent and deterministic site, chain by chain,
//! with the statistics of every draw and what warm-up settled on.

use super::diagnostics;
use super::kernel::DrawStats;
use super::mass_matrix::MassMatrix;
use super::potential::SiteLayout;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// What one chain produced.
#[derive(Clone, Debug)]
pub(crate) struct ChainOutput {
    pub(crate) layout: Vec<SiteLayout>,
    /// Draws, row-major `num_draws x width`.
    pub(crate) draws: Vec<f64>,
    pub(crate) stats: Vec<DrawStats>,
    pub(crate) warmup_stats: Vec<DrawStats>,
    pub(crate) step_size: f64,
    pub(crate) mass: MassMatrix,
    pub(crate) warmup_seconds: f64,
    pub(crate) sampling_seconds: f64,
    pub(crate) gradient_evaluations: u64,
}

/// Posterior draws of an [`Mcmc`](super::Mcmc) run, kept chain by chain in constrained space.
///
/// `get` flattens the chains (`[chains * draws, ...site shape]`, as NumPyro's `get_samples()`);
/// `get_by_chain` keeps them apart (`[chains, draws, ...]`). Every draw has its [`DrawStats`].
/// The type holds plain numbers only: it can move to another thread, be kept, or be written out
/// ([`McmcSamples::write_csv`], [`McmcSamples::write_arviz_json`]).
#[derive(Clone, Debug)]
pub struct McmcSamples {
    pub(crate) kernel: &'static str,
    pub(crate) layout: Vec<SiteLayout>,
    pub(crate) offsets: Vec<usize>,
    pub(crate) width: usize,
    pub(crate) num_draws: usize,
    pub(crate) chains: Vec<ChainOutput>,
}

impl McmcSamples {
    pub(crate) fn from_chains(kernel: &'static str, chains: Vec<ChainOutput>) -> Result<Self> {
        let first = chains
            .first()
            .ok_or_else(|| Error::Invalid(format!("{kernel}: no chain was run")))?;
        let layout = first.layout.clone();
        if let Some((c, _)) = chains
            .iter()
            .enumerate()
            .find(|(_, ch)| ch.layout != layout)
        {
            return Err(Error::Invalid(format!(
                "{kernel}: chain {c} found other sites or site shapes than chain 0: the model's \
                 sites must not depend on the random draws of its first run"
            )));
        }
        let mut offsets = Vec::with_capacity(layout.len() + 1);
        let mut width = 0;
        for l in &layout {
            offsets.push(width);
            width += l.numel();
        }
        offsets.push(width);
        let num_draws = first.stats.len();
        Ok(McmcSamples {
            kernel,
            layout,
            offsets,
            width,
            num_draws,
            chains,
        })
    }

    /// Number of chains.
    pub fn num_chains(&self) -> usize {
        self.chains.len()
    }

    /// Number of draws per chain (after warm-up).
    pub fn num_draws(&self) -> usize {
        self.num_draws
    }

    /// The recorded sites (latent ones in model order, then `deterministic!` ones) and the shape
    /// of one draw of each.
    pub fn sites(&self) -> &[SiteLayout] {
        &self.layout
    }

    /// Names of the recorded sites.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.layout.iter().map(|l| l.name.as_str())
    }

    pub(crate) fn site_index(&self, name: &str) -> Result<usize> {
        self.layout
            .iter()
            .position(|l| l.name == name)
            .ok_or_else(|| Error::Unknown {
                kind: "MCMC site",
                name: name.to_string(),
            })
    }

    /// The values of site `k` in draw `i` of chain `c`.
    pub(crate) fn draw(&self, c: usize, i: usize, k: usize) -> &[f64] {
        let row = &self.chains[c].draws[i * self.width..(i + 1) * self.width];
        &row[self.offsets[k]..self.offsets[k + 1]]
    }

    /// The draws of site `name` of all chains, one after the other: shape
    /// `[chains * draws, ...site shape]`.
    pub fn get(&self, name: &str) -> Result<Tensor> {
        let k = self.site_index(name)?;
        let mut shape = vec![self.num_chains() * self.num_draws];
        shape.extend_from_slice(&self.layout[k].shape);
        Tensor::new(self.collect(k), &shape)
    }

    /// The draws of site `name` chain by chain: shape `[chains, draws, ...site shape]`.
    pub fn get_by_chain(&self, name: &str) -> Result<Tensor> {
        let k = self.site_index(name)?;
        let mut shape = vec![self.num_chains(), self.num_draws];
        shape.extend_from_slice(&self.layout[k].shape);
        Tensor::new(self.collect(k), &shape)
    }

    fn collect(&self, k: usize) -> Vec<f64> {
        let mut v = Vec::with_capacity(self.num_chains() * self.num_draws * self.layout[k].numel());
        for c in 0..self.num_chains() {
            for i in 0..self.num_draws {
                v.extend_from_slice(self.draw(c, i, k));
            }
        }
        v
    }

    /// The latent (not deterministic) site values of draw `index`, counting the draws of all
    /// chains one after the other, as tensors: what a substitution handler needs to replay it.
    pub(crate) fn latent_values(&self, index: usize) -> Result<Vec<(String, Tensor)>> {
        let (c, i) = (index / self.num_draws.max(1), index % self.num_draws.max(1));
        if c >= self.num_chains() {
            return Err(Error::Invalid(format!(
                "there is no draw {index}: the run has {} draws",
                self.num_chains() * self.num_draws
            )));
        }
        self.layout
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.deterministic)
            .map(|(k, l)| {
                Ok((
                    l.name.clone(),
                    Tensor::new(self.draw(c, i, k).to_vec(), &l.shape)?,
                ))
            })
            .collect()
    }

    /// The draws of scalar entry `j` (row-major) of site `name`, one vector per chain: the input
    /// of the [`diagnostics`] functions.
    pub fn chain_values(&self, name: &str, j: usize) -> Result<Vec<Vec<f64>>> {
        let k = self.site_index(name)?;
        let n = self.layout[k].numel();
        if j >= n {
            return Err(Error::Invalid(format!(
                "site `{name}` has {n} entries, there is no entry {j}"
            )));
        }
        Ok(self.entry(k, j))
    }

    pub(crate) fn entry(&self, k: usize, j: usize) -> Vec<Vec<f64>> {
        (0..self.num_chains())
            .map(|c| (0..self.num_draws).map(|i| self.draw(c, i, k)[j]).collect())
            .collect()
    }

    /// Rank-normalised split R-hat of every entry of site `name` (see [`diagnostics::rhat`]).
    pub fn rhat(&self, name: &str) -> Result<Vec<f64>> {
        self.per_entry(name, diagnostics::rhat)
    }

    /// Bulk effective sample size of every entry of site `name` (see
    /// [`diagnostics::ess_bulk`]).
    pub fn ess_bulk(&self, name: &str) -> Result<Vec<f64>> {
        self.per_entry(name, diagnostics::ess_bulk)
    }

    /// Tail effective sample size of every entry of site `name` (see
    /// [`diagnostics::ess_tail`]).
    pub fn ess_tail(&self, name: &str) -> Result<Vec<f64>> {
        self.per_entry(name, diagnostics::ess_tail)
    }

    fn per_entry(&self, name: &str, f: fn(&[&[f64]]) -> f64) -> Result<Vec<f64>> {
        let k = self.site_index(name)?;
        Ok((0..self.layout[k].numel())
            .map(|j| {
                let e = self.entry(k, j);
                let s: Vec<&[f64]> = e.iter().map(|c| c.as_slice()).collect();
                f(&s)
            })
            .collect())
    }

    /// The statistics of every draw of chain `chain` (after warm-up).
    pub fn stats(&self, chain: usize) -> Result<&[DrawStats]> {
        self.chain(chain).map(|c| c.stats.as_slice())
    }

    /// The statistics of every warm-up iteration of chain `chain`.
    pub fn warmup_stats(&self, chain: usize) -> Result<&[DrawStats]> {
        self.chain(chain).map(|c| c.warmup_stats.as_slice())
    }

    fn chain(&self, chain: usize) -> Result<&ChainOutput> {
        self.chains.get(chain).ok_or_else(|| {
            Error::Invalid(format!(
                "there is no chain {chain}: the run has {} chains",
                self.num_chains()
            ))
        })
    }

    /// Number of divergent transitions after warm-up, over all chains.
    pub fn divergences(&self) -> usize {
        self.chains
            .iter()
            .flat_map(|c| c.stats.iter())
            .filter(|s| s.diverging)
            .count()
    }

    /// The step size of chain `chain` after warm-up.
    pub fn step_size(&self, chain: usize) -> Result<f64> {
        self.chain(chain).map(|c| c.step_size)
    }

    /// The inverse mass matrix of chain `chain` after warm-up (in unconstrained space).
    pub fn inverse_mass_matrix(&self, chain: usize) -> Result<&MassMatrix> {
        self.chain(chain).map(|c| &c.mass)
    }

    /// Wall-clock seconds of warm-up and of sampling of chain `chain`.
    pub fn seconds(&self, chain: usize) -> Result<(f64, f64)> {
        self.chain(chain)
            .map(|c| (c.warmup_seconds, c.sampling_seconds))
    }

    /// Number of potential-energy gradient evaluations of chain `chain` (warm-up included).
    pub fn gradient_evaluations(&self, chain: usize) -> Result<u64> {
        self.chain(chain).map(|c| c.gradient_evaluations)
    }

    /// The name of the kernel that drew the samples (`"NUTS"`, `"HMC"`).
    pub fn kernel(&self) -> &'static str {
        self.kernel
    }
}

/// The label of scalar entry `j` of a site of shape `shape`: `name` for a scalar, `name[i]` for a
/// vector, `name[i,k]` for a matrix.
pub(crate) fn entry_label(name: &str, shape: &[usize], j: usize) -> String {
    if shape.iter().product::<usize>() == 1 && shape.iter().all(|&s| s == 1) {
        return name.to_string();
    }
    let mut idx = vec![0; shape.len()];
    let mut rest = j;
    for (d, &s) in shape.iter().enumerate().rev() {
        idx[d] = rest % s.max(1);
        rest /= s.max(1);
    }
    let idx: Vec<String> = idx.iter().map(|i| i.to_string()).collect();
    format!("{name}[{}]", idx.join(","))
}

#[cfg(test)]
mod tests {
    use super::entry_label;

    #[test]
    fn labels() {
        assert_eq!(entry_label("mu", &[], 0), "mu");
        assert_eq!(entry_label("theta", &[8], 3), "theta[3]");
        assert_eq!(entry_label("L", &[2, 3], 4), "L[1,1]");
    }
}
