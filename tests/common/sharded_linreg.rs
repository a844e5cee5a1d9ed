//! The sharded-model fixture of `tests/scale.rs` (threads, `ParallelSvi`) and `tests/mpi.rs`
//! (ranks, `DistributedSvi`): linear regression with known noise scale 1 and global latents
//! `a`, `b`, on rows `y_i = 0.7 + 1.5 x_i + noise` that any shard or rank can rebuild from the
//! row indices alone.

use pyro::prelude::*;

/// Some rows: covariates `x` (one column) and responses `y`.
pub struct Rows {
    pub x: Tensor,
    pub y: Tensor,
}

/// Row `i`, made without a generator (deterministic trigonometric noise) so that every shard
/// can rebuild its rows anywhere.
pub fn row(i: usize) -> (f64, f64) {
    let x = ((i * 37 % 101) as f64 / 101.0 - 0.5) * 4.0;
    let noise = (i as f64 * 1.7).sin() * 0.8;
    (x, 0.7 + 1.5 * x + noise)
}

/// The rows `range` as tensors.
pub fn rows(range: std::ops::Range<usize>) -> pyro::Result<Rows> {
    let (xs, ys): (Vec<f64>, Vec<f64>) = range.map(row).unzip();
    let n = xs.len();
    Ok(Rows {
        x: Tensor::new(xs, &[n])?,
        y: Tensor::new(ys, &[n])?,
    })
}

/// `y ~ Normal(a + b x, 1)` in the plate `data`, with `a, b ~ Normal(0, 10)`.
#[model]
pub fn linreg(d: &Rows) {
    let a = sample!("a", Normal::new(0.0, 10.0));
    let b = sample!("b", Normal::new(0.0, 10.0));
    let n = d.y.shape()[0];
    let mean = &a + &b * &d.x;
    plate!("data", n, |_idx| {
        sample!("y", Normal::new(mean, 1.0), obs = d.y.clone());
    });
}

/// Mean-field normal guide for `a` and `b`.
#[guide(model = linreg)]
pub fn linreg_guide(_d: &Rows) {
    let a_loc = param!("a_loc", 0.0);
    let a_scale = param!("a_scale", 1.0, constraint = positive);
    let b_loc = param!("b_loc", 0.0);
    let b_scale = param!("b_scale", 1.0, constraint = positive);
    sample!("a", Normal::new(a_loc, a_scale));
    sample!("b", Normal::new(b_loc, b_scale));
}

/// Adam with learning rate 0.05.
pub fn adam() -> Adam {
    Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    })
}
