//! Convergence diagnostics as Stan and ArviZ compute them (Vehtari, Gelman, Simpson, Carpenter
//! and Bürkner, 2021, "Rank-normalization, folding, and localization: an improved R-hat"):
//! rank-normalised split R-hat, and bulk and tail effective sample sizes.
//!
//! Every function takes the draws of one scalar quantity as one slice per chain (all of the same
//! length, at least 4 draws). The chains are split in halves (the middle draw of an odd length
//! is dropped), so that a chain that drifts shows up as two chains that disagree.
//!
//! - [`rhat`]: the maximum of the split R-hat of the rank-normalised draws (bulk) and of the
//!   rank-normalised distances to the median (tails). Below 1.01 is the usual bar.
//! - [`ess_bulk`]: the effective sample size of the rank-normalised split chains, from their
//!   autocorrelations truncated by Geyer's initial monotone sequence.
//! - [`ess_tail`]: the smaller of the effective sample sizes of the indicators `x <= q05` and
//!   `x <= q95`: how well the 5% and 95% quantiles are estimated.
//!
//! The numbers agree with ArviZ (`arviz_stats`: `rhat(method="rank")`, `ess(method="bulk")`,
//! `ess(method="tail")`) to rounding; the autocovariances are summed directly, lag by lag, up to
//! the truncation lag, where ArviZ uses an FFT of all lags. One difference: a single chain gets
//! an R-hat (of its two halves), as in Stan, where ArviZ returns NaN.

use crate::infer::autoguide::normal_icdf;
use crate::infer::summary::quantile_sorted;

/// Blom's offset for the normal scores of ranks.
const BLOM: f64 = 3.0 / 8.0;

/// Whether the draws can be diagnosed: at least one chain, all of one length of at least 4.
fn valid(chains: &[&[f64]]) -> bool {
    let Some(first) = chains.first() else {
        return false;
    };
    first.len() >= 4 && chains.iter().all(|c| c.len() == first.len())
}

/// Each chain cut into its first and last halves.
fn split<'a>(chains: &[&'a [f64]]) -> Vec<&'a [f64]> {
    let mut out = Vec::with_capacity(2 * chains.len());
    for c in chains {
        let half = c.len() / 2;
        out.push(&c[..half]);
    }
    for c in chains {
        let half = c.len() / 2;
        out.push(&c[c.len() - half..]);
    }
    out
}

/// Average ranks (1-based; ties share the mean of their ranks) of all values pooled.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut r = vec![0.0; values.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && values[idx[j + 1]] == values[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Normal scores of the pooled ranks, chain by chain in the same layout.
fn z_scale(chains: &[&[f64]]) -> Vec<Vec<f64>> {
    let pooled: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
    let n = pooled.len() as f64;
    let r = ranks(&pooled);
    let mut out = Vec::with_capacity(chains.len());
    let mut k = 0;
    for c in chains {
        out.push(
            (0..c.len())
                .map(|i| normal_icdf((r[k + i] - BLOM) / (n - 2.0 * BLOM + 1.0)))
                .collect(),
        );
        k += c.len();
    }
    out
}

fn as_slices(v: &[Vec<f64>]) -> Vec<&[f64]> {
    v.iter().map(|c| c.as_slice()).collect()
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample variance with `n - 1` in the denominator.
fn var(x: &[f64]) -> f64 {
    let m = mean(x);
    x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0)
}

fn median(values: &[f64]) -> f64 {
    let mut s = values.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    quantile_sorted(&s, 0.5)
}

/// The potential scale reduction factor of the given chains (no splitting, no ranks): Gelman and
/// Rubin's `sqrt(((n - 1)/n W + B/n) / W)`.
pub fn rhat_basic(chains: &[&[f64]]) -> f64 {
    if !valid(chains) || chains.len() < 2 {
        return f64::NAN;
    }
    let n = chains[0].len() as f64;
    let means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    let b = n * var(&means);
    let w = chains.iter().map(|c| var(c)).sum::<f64>() / chains.len() as f64;
    ((b / w + n - 1.0) / n).sqrt()
}

/// Split R-hat without rank normalisation (Gelman et al., *BDA3*), as NumPyro's
/// `split_gelman_rubin`.
pub fn split_rhat(chains: &[&[f64]]) -> f64 {
    if !valid(chains) {
        return f64::NAN;
    }
    rhat_basic(&split(chains))
}

/// Rank-normalised split R-hat: the larger of the bulk and the tail (folded) R-hat.
pub fn rhat(chains: &[&[f64]]) -> f64 {
    if !valid(chains) {
        return f64::NAN;
    }
    let s = split(chains);
    let bulk = rhat_basic(&as_slices(&z_scale(&s)));
    let pooled: Vec<f64> = s.iter().flat_map(|c| c.iter().copied()).collect();
    let med = median(&pooled);
    let folded: Vec<Vec<f64>> = s
        .iter()
        .map(|c| c.iter().map(|v| (v - med).abs()).collect())
        .collect();
    let tail = rhat_basic(&as_slices(&z_scale(&as_slices(&folded))));
    bulk.max(tail)
}

/// Autocovariances of each chain (biased: divided by the chain length), computed lag by lag on
/// demand.
struct Autocov<'a> {
    centred: Vec<Vec<f64>>,
    _chains: std::marker::PhantomData<&'a ()>,
}

impl<'a> Autocov<'a> {
    fn new(chains: &[&'a [f64]]) -> Self {
        Autocov {
            centred: chains
                .iter()
                .map(|c| {
                    let m = mean(c);
                    c.iter().map(|v| v - m).collect()
                })
                .collect(),
            _chains: std::marker::PhantomData,
        }
    }

    /// The autocovariance at `lag`, averaged over chains.
    fn mean_at(&self, lag: usize) -> f64 {
        let total: f64 = self
            .centred
            .iter()
            .map(|c| {
                let n = c.len();
                c[..n - lag]
                    .iter()
                    .zip(&c[lag..])
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
                    / n as f64
            })
            .sum();
        total / self.centred.len() as f64
    }
}

/// The effective sample size of the given chains (no splitting, no ranks), Stan's estimator:
/// autocorrelations combined across chains, truncated by Geyer's initial positive sequence and
/// made monotone.
pub fn ess(chains: &[&[f64]]) -> f64 {
    if !valid(chains) {
        return f64::NAN;
    }
    let m = chains.len();
    let n = chains[0].len();
    let size = (m * n) as f64;
    let (lo, hi) = chains
        .iter()
        .flat_map(|c| c.iter())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if hi - lo < 1e-15 {
        return size;
    }
    let nf = n as f64;
    let acov = Autocov::new(chains);
    let chain_means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    let mean_var = acov.mean_at(0) * nf / (nf - 1.0);
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if m > 1 {
        var_plus += var(&chain_means);
    }
    let rho = |lag: usize| 1.0 - (mean_var - acov.mean_at(lag)) / var_plus;

    let mut rho_hat = vec![0.0; n];
    let mut rho_even = 1.0;
    rho_hat[0] = rho_even;
    let mut rho_odd = rho(1);
    rho_hat[1] = rho_odd;
    // Geyer's initial positive sequence.
    let mut t = 1;
    while t < n - 3 && rho_even + rho_odd > 0.0 {
        rho_even = rho(t + 1);
        rho_odd = rho(t + 2);
        if rho_even + rho_odd >= 0.0 {
            rho_hat[t + 1] = rho_even;
            rho_hat[t + 2] = rho_odd;
        }
        t += 2;
    }
    // `max_t` is -1 when the sequence stopped at once (fewer than 5 draws per chain).
    let max_t = t as isize - 2;
    let after = (max_t + 1) as usize;
    if rho_even > 0.0 {
        rho_hat[after] = rho_even;
    }
    // Geyer's initial monotone sequence.
    let mut t = 1;
    while t as isize + 2 <= max_t {
        if rho_hat[t + 1] + rho_hat[t + 2] > rho_hat[t - 1] + rho_hat[t] {
            rho_hat[t + 1] = (rho_hat[t - 1] + rho_hat[t]) / 2.0;
            rho_hat[t + 2] = rho_hat[t + 1];
        }
        t += 2;
    }
    let tau = -1.0 + 2.0 * rho_hat[..after].iter().sum::<f64>() + rho_hat[after];
    let tau = tau.max(1.0 / size.log10());
    if rho_hat.iter().any(|r| r.is_nan()) {
        return f64::NAN;
    }
    size / tau
}

/// Bulk effective sample size: [`ess`] of the rank-normalised split chains.
pub fn ess_bulk(chains: &[&[f64]]) -> f64 {
    if !valid(chains) {
        return f64::NAN;
    }
    ess(&as_slices(&z_scale(&split(chains))))
}

/// Effective sample size of the estimate of the `prob` quantile: [`ess`] of the split chains of
/// the indicator `x <= quantile`.
pub fn ess_quantile(chains: &[&[f64]], prob: f64) -> f64 {
    if !valid(chains) {
        return f64::NAN;
    }
    let mut pooled: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
    pooled.sort_by(|a, b| a.total_cmp(b));
    let q = quantile_sorted(&pooled, prob);
    let ind: Vec<Vec<f64>> = chains
        .iter()
        .map(|c| c.iter().map(|&v| f64::from(u8::from(v <= q))).collect())
        .collect();
    ess(&split(&as_slices(&ind)))
}

/// Tail effective sample size: the smaller of [`ess_quantile`] at 5% and at 95%.
pub fn ess_tail(chains: &[&[f64]]) -> f64 {
    ess_quantile(chains, 0.05).min(ess_quantile(chains, 0.95))
}

/// Effective sample size of the mean: [`ess`] of the split chains, without ranks.
pub fn ess_mean(chains: &[&[f64]]) -> f64 {
    if !valid(chains) {
        return f64::NAN;
    }
    ess(&split(chains))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn independent_draws_have_ess_near_n_and_rhat_near_one() {
        use rand::SeedableRng;
        use rand_distr::{Distribution as _, StandardNormal};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let chains: Vec<Vec<f64>> = (0..4)
            .map(|_| (0..1000).map(|_| StandardNormal.sample(&mut rng)).collect())
            .collect();
        let c = as_slices(&chains);
        // For iid draws the ESS estimate has a relative spread of a few percent around n.
        let e = ess_bulk(&c);
        assert!((e / 4000.0 - 1.0).abs() < 0.1, "{e}");
        assert!(rhat(&c) < 1.01);
        // An AR(1) chain with coefficient 0.9 has ESS n (1 - 0.9) / (1 + 0.9) = n / 19.
        let mut x = 0.0;
        let ar: Vec<Vec<f64>> = (0..4)
            .map(|_| {
                (0..5000)
                    .map(|_| {
                        let e: f64 = StandardNormal.sample(&mut rng);
                        x = 0.9 * x + e;
                        x
                    })
                    .collect()
            })
            .collect();
        let e = ess_mean(&as_slices(&ar));
        assert!((e / (20000.0 / 19.0) - 1.0).abs() < 0.25, "{e}");
    }

    #[test]
    fn disagreeing_chains_have_large_rhat() {
        let a: Vec<f64> = (0..100).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = a.iter().map(|v| v + 3.0).collect();
        assert!(rhat(&[&a, &b]) > 1.5);
        assert!(rhat(&[&a[..3]]).is_nan());
    }
}
