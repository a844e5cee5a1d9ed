//! Simulated data for Bayesian logistic regression, `w ~ Normal(0, I)`,
//! `y ~ Bernoulli(sigmoid(X w))` (`#[path = "common/logreg_data.rs"] mod logreg_data;`): the
//! generator of every logreg example, and the workload of the `scale` benchmark, shared by
//! `examples/bench_scale.rs` and `examples/distributed_logreg.rs` so that both fit the same model
//! to the same draws: N = 200,000 rows, D = 20 features, `AutoNormal` and Adam.

// Each includer uses a different part of this file.
#![allow(dead_code)]

use pyro::prelude::*;
use rand::SeedableRng;
use rand_distr::{Distribution as _, StandardNormal, Uniform};

/// Rows of the `scale` data set.
pub const N: usize = 200_000;
/// Features per row.
pub const D: usize = 20;

/// Some rows: covariates (rows x D) and labels.
pub struct Rows {
    pub x: Tensor,
    pub y: Tensor,
}

#[model]
pub fn logreg(d: &Rows) {
    let w = sample!("w", Normal::new(0.0, 1.0).expand(&[D]).to_event(1));
    let n = d.y.shape()[0];
    let logits = d.x.matmul(&w.unsqueeze(-1)).reshape(&[n]);
    plate!("data", n, |_idx| {
        sample!("y", Bernoulli::from_logits(logits), obs = d.y.clone());
    });
}

/// A simulated logistic regression data set.
pub struct Generated {
    /// Covariates, `n x d` row-major, standard normal.
    pub xs: Vec<f64>,
    /// Labels, 0 or 1: `y_i ~ Bernoulli(sigmoid(x_i . w_true))`.
    pub ys: Vec<f64>,
    /// The weights that generated the labels, standard normal.
    pub w_true: Vec<f64>,
}

/// `n` rows of `d` features from `StdRng::seed_from_u64(seed)`: the same draws for the same
/// arguments, on every MPI rank and in every example (the `logreg` and `nuts` benchmarks use
/// 10000 x 20 with seed 0, the `scale` benchmark N x D with seed 42).
pub fn generate(n: usize, d: usize, seed: u64) -> Generated {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let xs: Vec<f64> = (0..n * d)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let w_true: Vec<f64> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
    let u = Uniform::new(0.0, 1.0).expect("valid range");
    let ys = (0..n)
        .map(|i| {
            let t: f64 = (0..d).map(|j| xs[i * d + j] * w_true[j]).sum();
            f64::from(u.sample(&mut rng) < 1.0 / (1.0 + (-t).exp()))
        })
        .collect();
    Generated { xs, ys, w_true }
}

/// The rows `range` of the data set `(xs, ys)` as tensors.
pub fn rows(xs: &[f64], ys: &[f64], range: std::ops::Range<usize>) -> pyro::Result<Rows> {
    let n = range.len();
    Ok(Rows {
        x: Tensor::new(xs[range.start * D..range.end * D].to_vec(), &[n, D])?,
        y: Tensor::new(ys[range].to_vec(), &[n])?,
    })
}

/// The optimiser: Adam, learning rate 0.01.
pub fn adam() -> Adam {
    Adam::new(AdamConfig {
        lr: 0.01,
        ..Default::default()
    })
}

/// The guide: `AutoNormal` from w = 0 with scale 0.1.
pub fn guide() -> AutoNormal<logreg> {
    AutoNormal::new(logreg)
        .init_loc(InitLoc::Zero)
        .init_scale(0.1)
}
