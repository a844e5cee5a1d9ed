//! The posterior summary table of an MCMC run, like NumPyro's `print_summary`: per scalar entry
//! of every site, mean, standard deviation, median, 5% and 95% quantiles, bulk and tail effective
//! sample sizes and rank-normalised R-hat, then the number of divergences.

use std::fmt;

use super::diagnostics::{ess_bulk, ess_tail, rhat};
use super::samples::{entry_label, McmcSamples};
use crate::infer::summary::quantile_sorted;

/// One row of [`McmcSummary`]: one scalar entry of a site, over all chains.
#[derive(Clone, Debug, PartialEq)]
pub struct McmcSummaryRow {
    /// `site`, `site[i]` or `site[i,j]`.
    pub name: String,
    /// Posterior mean.
    pub mean: f64,
    /// Posterior standard deviation (`n - 1` denominator).
    pub sd: f64,
    /// 5% quantile (linear interpolation, numpy's default).
    pub q05: f64,
    /// Median.
    pub median: f64,
    /// 95% quantile.
    pub q95: f64,
    /// Bulk effective sample size.
    pub ess_bulk: f64,
    /// Tail effective sample size.
    pub ess_tail: f64,
    /// Rank-normalised split R-hat.
    pub r_hat: f64,
}

/// The summary of an MCMC run: one [`McmcSummaryRow`] per scalar entry of every site, and the
/// divergence count. `Display` prints the table.
#[derive(Clone, Debug, PartialEq)]
pub struct McmcSummary {
    /// The rows, sites in model order.
    pub rows: Vec<McmcSummaryRow>,
    /// Divergent transitions after warm-up, all chains.
    pub divergences: usize,
    /// Number of chains.
    pub chains: usize,
    /// Draws per chain.
    pub draws: usize,
}

impl McmcSummary {
    /// The row called `name` (`"mu"`, `"theta[3]"`).
    pub fn row(&self, name: &str) -> Option<&McmcSummaryRow> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// The largest R-hat of all rows (NaN if any is NaN).
    pub fn max_rhat(&self) -> f64 {
        self.rows
            .iter()
            .map(|r| r.r_hat)
            .fold(f64::NEG_INFINITY, |a, b| {
                if a.is_nan() || b.is_nan() {
                    f64::NAN
                } else {
                    a.max(b)
                }
            })
    }

    /// The smallest bulk effective sample size of all rows.
    pub fn min_ess_bulk(&self) -> f64 {
        self.rows
            .iter()
            .map(|r| r.ess_bulk)
            .fold(f64::INFINITY, f64::min)
    }
}

impl McmcSamples {
    /// The summary of every site (see [`McmcSummary`]); `deterministic!` sites included.
    pub fn summary(&self) -> McmcSummary {
        self.summary_of(&[]).unwrap_or_else(|_| McmcSummary {
            rows: Vec::new(),
            divergences: self.divergences(),
            chains: self.num_chains(),
            draws: self.num_draws(),
        })
    }

    /// The summary of the named sites only (all sites when `sites` is empty); an unknown name is
    /// an error.
    pub fn summary_of(&self, sites: &[&str]) -> crate::Result<McmcSummary> {
        let ks: Vec<usize> = if sites.is_empty() {
            (0..self.layout.len()).collect()
        } else {
            sites
                .iter()
                .map(|s| self.site_index(s))
                .collect::<crate::Result<_>>()?
        };
        let mut rows = Vec::new();
        for k in ks {
            let l = &self.layout[k];
            for j in 0..l.numel() {
                let chains = self.entry(k, j);
                let slices: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
                let mut all: Vec<f64> = chains.iter().flatten().copied().collect();
                let n = all.len() as f64;
                let mean = all.iter().sum::<f64>() / n;
                let sd = (all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
                all.sort_by(|a, b| a.total_cmp(b));
                rows.push(McmcSummaryRow {
                    name: entry_label(&l.name, &l.shape, j),
                    mean,
                    sd,
                    q05: quantile_sorted(&all, 0.05),
                    median: quantile_sorted(&all, 0.5),
                    q95: quantile_sorted(&all, 0.95),
                    ess_bulk: ess_bulk(&slices),
                    ess_tail: ess_tail(&slices),
                    r_hat: rhat(&slices),
                });
            }
        }
        Ok(McmcSummary {
            rows,
            divergences: self.divergences(),
            chains: self.num_chains(),
            draws: self.num_draws(),
        })
    }
}

impl fmt::Display for McmcSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self
            .rows
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        writeln!(
            f,
            "{:>w$} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
            "", "mean", "std", "median", "5.0%", "95.0%", "ess_bulk", "ess_tail", "r_hat"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:>w$} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.1} {:>9.1} {:>7.3}",
                r.name, r.mean, r.sd, r.median, r.q05, r.q95, r.ess_bulk, r.ess_tail, r.r_hat
            )?;
        }
        writeln!(
            f,
            "\nNumber of divergences: {} ({} chains x {} draws)",
            self.divergences, self.chains, self.draws
        )
    }
}
