//! Bayesian logistic regression by NUTS on the data of the `logreg` benchmark
//! (`examples/bench_logreg.rs`): N = 10000 rows, D = 20 standard normal features, true weights
//! drawn from N(0, 1), labels Bernoulli(sigmoid(x w)); prior w ~ N(0, I).
//!
//! `cargo run --release --example nuts_logreg`
//!
//! Four chains of 500 warm-up iterations and 500 draws, on threads. The model takes its data as
//! owned tensors, which cannot cross threads (`Tensor` is reference-counted), so `Mcmc::run_with`
//! builds them inside each chain's thread. Prints the posterior summary of the first weights, the
//! correlation of the posterior mean with the true weights, and the timing.

use std::time::Instant;

use pyro::infer::mcmc::{Mcmc, Nuts};
use pyro::prelude::*;

#[path = "common/bench.rs"]
mod bench;
#[path = "common/cli.rs"]
mod cli;
#[path = "common/logreg_data.rs"]
mod logreg_data;
use bench::corr;
use logreg_data::{generate, Generated};

const N: usize = 10_000;
const D: usize = 20;

#[model]
fn logreg(x: Tensor, y: Tensor) {
    let w = sample!("w", Normal::new(0.0, 1.0).expand(&[D]).to_event(1));
    let logits = x.matmul(&w.unsqueeze(-1)).reshape(&[N]);
    plate!("data", N, |_idx| {
        sample!("y", Bernoulli::from_logits(logits), obs = y.clone());
    });
}

fn main() -> pyro::Result<()> {
    cli::no_args("nuts_logreg");
    // The benchmark's data (same generator and seed as examples/bench_logreg.rs).
    let Generated { xs, ys, w_true } = generate(N, D, 0);

    let t = Instant::now();
    let draws = Mcmc::new(Nuts::new(logreg))
        .warmup(500)
        .samples(500)
        .chains(4)
        .seed(0)
        .run_with(|| {
            let x = Tensor::new(xs.clone(), &[N, D]).expect("N x D values");
            (x, Tensor::from(ys.clone()))
        })?;
    let secs = t.elapsed().as_secs_f64();

    let summary = draws.summary_of(&["w"])?;
    let mut head = summary.clone();
    head.rows.truncate(6);
    println!("{head}");
    let mean: Vec<f64> = summary.rows.iter().map(|r| r.mean).collect();
    let grads: u64 = (0..draws.num_chains())
        .map(|c| draws.gradient_evaluations(c).unwrap_or(0))
        .sum();
    println!(
        "all {D} weights: min bulk ESS {:.0}, max R-hat {:.4}, {} divergences",
        summary.min_ess_bulk(),
        summary.max_rhat(),
        summary.divergences
    );
    println!(
        "correlation of the posterior mean with the true weights: {:.4}",
        corr(&mean, &w_true)
    );
    println!(
        "{secs:.1} s for 4 x 1000 iterations ({grads} gradient evaluations, {:.0} us each)",
        secs * 1e6 / grads as f64
    );
    Ok(())
}
