//! Engine benchmarks (ARCHITECTURE.md, "Decisions and their reasons"): forward + backward + Adam
//! update per step, with the tape recycled between steps. Prints one JSON line per case.
//!
//! ```sh
//! cargo run --release --example bench_engine
//! ```

use std::time::Instant;

use pyro::optim::{Adam, AdamConfig, Optimizer};
use pyro::tensor::{Tape, TapeStorage, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

#[path = "common/cli.rs"]
mod cli;

/// Parameters as an SVI step sees them: unconstrained values and shapes.
struct Params {
    values: Vec<Vec<f64>>,
    shapes: Vec<Vec<usize>>,
}

impl Params {
    fn leaves(&self, tape: &Tape) -> Vec<Tensor> {
        self.values
            .iter()
            .zip(&self.shapes)
            .map(|(v, s)| {
                let t = if s.is_empty() {
                    Tensor::scalar(v[0])
                } else {
                    Tensor::new(v.clone(), s).expect("shape fits")
                };
                tape.leaf(t)
            })
            .collect()
    }
}

/// Runs `step` (which records on the tape and returns the loss) `steps` times with backward and an
/// Adam update, `reps` times; returns the best microseconds per step.
fn bench(
    params: &mut Params,
    steps: usize,
    reps: usize,
    mut step: impl FnMut(&[Tensor]) -> Tensor,
) -> f64 {
    let mut adam = Adam::new(AdamConfig {
        lr: 1e-3,
        ..Default::default()
    });
    let mut storage = TapeStorage::default();
    let mut best = f64::INFINITY;
    for _ in 0..reps + 1 {
        let start = Instant::now();
        for _ in 0..steps {
            let tape = Tape::from_storage(storage);
            let leaves = params.leaves(&tape);
            let loss = step(&leaves);
            let grads = tape.backward(&loss).expect("backward");
            adam.begin_step();
            for (i, leaf) in leaves.iter().enumerate() {
                if let Some(g) = grads.get(leaf) {
                    let g = g.values().expect("finite gradient");
                    adam.update(i, "p", &mut params.values[i], g);
                }
            }
            drop((leaves, loss, grads));
            storage = tape.recycle();
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / steps as f64;
        best = best.min(us);
    }
    best
}

fn report(name: &str, us: f64, steps: usize, target_us: f64) {
    println!(
        "{{\"bench\":\"{name}\",\"us_per_step\":{us:.3},\"steps\":{steps},\"target_us\":{target_us}}}"
    );
}

fn coin() {
    // The SVI tutorial: 6 heads and 4 tails, Beta(10, 10) prior on the fairness f, guide
    // Normal(loc, exp(log_scale)) on logit(f), one reparameterised draw per step.
    let data = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    let mut rng = StdRng::seed_from_u64(0);
    let mut params = Params {
        values: vec![vec![0.0], vec![-1.0]],
        shapes: vec![vec![], vec![]],
    };
    let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    let lbeta = 2.0 * pyro::tensor::lgamma(10.0) - pyro::tensor::lgamma(20.0);
    let steps = 20_000;
    let us = bench(&mut params, steps, 3, |p| {
        let eps: f64 = rng.sample(StandardNormal);
        let (loc, log_scale) = (&p[0], &p[1]);
        let eps = Tensor::scalar(eps);
        let z = loc + &(log_scale.exp() * &eps);
        // ln q(z) of the guide.
        let log_q = (&eps * &eps) * -0.5 - log_scale - half_ln_2pi;
        // Model on f = sigmoid(z): Beta(10, 10) prior with the Jacobian of the sigmoid.
        let ln_f = z.log_sigmoid();
        let ln_1mf = z.neg().log_sigmoid();
        let mut log_p = &ln_f * 9.0 + &ln_1mf * 9.0 - lbeta + &ln_f + &ln_1mf;
        for &x in &data {
            log_p = log_p + &ln_f * x + &ln_1mf * (1.0 - x);
        }
        log_q - log_p
    });
    report("engine-coin", us, steps, 2.0);
}

fn logistic() {
    let (n, d) = (10_000, 20);
    let mut rng = StdRng::seed_from_u64(1);
    let w_true: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
    let mut x = Vec::with_capacity(n * d);
    let mut sign = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
        let logit: f64 = row.iter().zip(&w_true).map(|(a, b)| a * b).sum();
        let y = rng.random::<f64>() < 1.0 / (1.0 + (-logit).exp());
        sign.push(if y { 1.0 } else { -1.0 });
        x.extend(row);
    }
    let x = Tensor::new(x, &[n, d]).expect("shape");
    // y ∈ {0, 1} enters the Bernoulli likelihood as ln sigmoid((2y - 1) logit).
    let sign = Tensor::from(sign);
    let mut params = Params {
        values: vec![vec![0.0; d], vec![-1.0; d]],
        shapes: vec![vec![d], vec![d]],
    };
    let steps = 300;
    let us = bench(&mut params, steps, 3, |p| {
        let eps: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
        let eps = Tensor::from(eps);
        let (loc, log_scale) = (&p[0], &p[1]);
        let w = loc + &(log_scale.exp() * &eps);
        let log_q = ((&eps * &eps) * -0.5 - log_scale).sum();
        let log_prior = (&w * &w).sum() * -0.5;
        let log_lik = x.matmul(&w).mul(&sign).log_sigmoid().sum();
        log_q - log_prior - log_lik
    });
    report("engine-plate-logistic", us, steps, 150.0);
}

fn mlp() {
    let (b, i, h, o) = (128, 784, 400, 20);
    let mut rng = StdRng::seed_from_u64(2);
    let mut randn = |n: usize, s: f64| -> Vec<f64> {
        (0..n)
            .map(|_| s * rng.sample::<f64, _>(StandardNormal))
            .collect()
    };
    let x = Tensor::new(randn(b * i, 1.0), &[b, i]).expect("shape");
    let target = Tensor::new(randn(b * o, 1.0), &[b, o]).expect("shape");
    let mut params = Params {
        values: vec![
            randn(i * h, (1.0 / i as f64).sqrt()),
            vec![0.0; h],
            randn(h * o, (1.0 / h as f64).sqrt()),
            vec![0.0; o],
        ],
        shapes: vec![vec![i, h], vec![h], vec![h, o], vec![o]],
    };
    let steps = 30;
    let us = bench(&mut params, steps, 3, |p| {
        let hidden = (x.matmul(&p[0]) + &p[1]).relu();
        let out = hidden.matmul(&p[2]) + &p[3];
        (&out - &target).square().mean()
    });
    report("engine-mlp-784-400-20-b128", us, steps, 15_000.0);
}

/// The vectorised elementwise kernels (exp, softplus, sigmoid) on 100,000 values spread over the
/// whole finite range of `exp`, forward and backward.
fn elementwise_exp() {
    let n = 100_000;
    let x: Vec<f64> = (0..n)
        .map(|i| -740.0 + 1450.0 * i as f64 / n as f64)
        .collect();
    let mut params = Params {
        values: vec![x],
        shapes: vec![vec![n]],
    };
    let steps = 50;
    let us = bench(&mut params, steps, 3, |p| {
        let x = &p[0] * 0.01;
        (x.exp() + x.softplus() + x.sigmoid()).sum()
    });
    report("engine-exp-softplus-sigmoid-100k", us, steps, 1_000.0);
}

const USAGE: &str = "usage: bench_engine [coin|plate|mlp|exp]";

/// The one case to run, if the command line names one.
fn parse_args() -> Option<String> {
    use lexopt::prelude::*;
    let mut only = None;
    cli::parse("bench_engine", USAGE, |arg, _| {
        match arg {
            Value(v) if only.is_none() => {
                let v = v.string()?;
                if !["coin", "plate", "mlp", "exp"].contains(&v.as_str()) {
                    return Err(format!("unknown case `{v}`").into());
                }
                only = Some(v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    });
    only
}

fn main() {
    let only = parse_args();
    let run = |name: &str| only.as_deref().is_none_or(|o| o == name);
    if run("coin") {
        coin();
    }
    if run("plate") {
        logistic();
    }
    if run("mlp") {
        mlp();
    }
    if run("exp") {
        elementwise_exp();
    }
}
