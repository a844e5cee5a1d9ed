//! The `logreg` workload of the benchmark suite: Bayesian logistic regression, N = 10000 rows,
//! D = 20 features, fitted with an `AutoNormal` guide (loc 0, scale 0.1), Adam lr 0.01, 1000
//! steps. Prints one JSON line with the median time per step and the correlation of the posterior
//! location with the MAP (L2-regularised logistic regression, C = 1, no intercept, by Newton's
//! method).
//!
//! `cargo run --release --example bench_logreg`

use std::time::Instant;

use pyro::prelude::*;
use rand::SeedableRng;
use rand_distr::{Distribution as _, StandardNormal, Uniform};

const N: usize = 10_000;
const D: usize = 20;

#[model]
fn logreg(x: &Tensor, y: &Tensor) {
    let w = sample!("w", Normal::new(0.0, 1.0).expand(&[D]).to_event(1));
    let logits = x.matmul(&w.unsqueeze(-1)).reshape(&[N]);
    plate!("data", N, |_idx| {
        sample!("y", Bernoulli::from_logits(logits), obs = y.clone());
    });
}

fn sigmoid(t: f64) -> f64 {
    1.0 / (1.0 + (-t).exp())
}

/// Solves `a x = b` (a symmetric positive definite) by Gaussian elimination.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let (pivot_rows, rest) = a.split_at_mut(c + 1);
        let pivot = &pivot_rows[c];
        for (i, row) in rest.iter_mut().enumerate() {
            let f = row[c] / pivot[c];
            for (x, p) in row[c..].iter_mut().zip(&pivot[c..]) {
                *x -= f * p;
            }
            b[c + 1 + i] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    x
}

/// MAP of `w` under a N(0, 1) prior (L2 penalty ½‖w‖², C = 1) by Newton's method.
fn map_newton(x: &[f64], y: &[f64]) -> Vec<f64> {
    let mut w = vec![0.0; D];
    for _ in 0..50 {
        let mut g: Vec<f64> = w.iter().map(|v| -v).collect();
        let mut h = vec![vec![0.0; D]; D];
        for (i, hrow) in h.iter_mut().enumerate() {
            hrow[i] = 1.0;
        }
        for i in 0..N {
            let row = &x[i * D..(i + 1) * D];
            let p = sigmoid(row.iter().zip(&w).map(|(a, b)| a * b).sum());
            let s = p * (1.0 - p);
            for a in 0..D {
                g[a] += (y[i] - p) * row[a];
                for b in 0..D {
                    h[a][b] += s * row[a] * row[b];
                }
            }
        }
        let step = solve(h, g);
        let mut norm = 0.0;
        for (wa, sa) in w.iter_mut().zip(&step) {
            *wa += sa;
            norm += sa * sa;
        }
        if norm.sqrt() < 1e-12 {
            break;
        }
    }
    w
}

fn corr(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    sab / (saa * sbb).sqrt()
}

const USAGE: &str = "usage: bench_logreg (no arguments)";

/// This example takes no arguments: any is refused with the usage line.
fn parse_args() -> Result<(), lexopt::Error> {
    use lexopt::prelude::*;
    if let Some(arg) = lexopt::Parser::from_env().next()? {
        if matches!(arg, Short('h') | Long("help")) {
            println!("{USAGE}");
            std::process::exit(0);
        }
        return Err(arg.unexpected());
    }
    Ok(())
}

fn main() -> pyro::Result<()> {
    parse_args().unwrap_or_else(|e| {
        eprintln!("bench_logreg: {e}\n{USAGE}");
        std::process::exit(2)
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let xs: Vec<f64> = (0..N * D)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let w_true: Vec<f64> = (0..D).map(|_| StandardNormal.sample(&mut rng)).collect();
    let u = Uniform::new(0.0, 1.0).expect("valid range");
    let ys: Vec<f64> = (0..N)
        .map(|i| {
            let t: f64 = (0..D).map(|j| xs[i * D + j] * w_true[j]).sum();
            f64::from(u.sample(&mut rng) < sigmoid(t))
        })
        .collect();
    let x = Tensor::new(xs.clone(), &[N, D])?;
    let y = Tensor::from(ys.clone());

    let guide = AutoNormal::new(logreg)
        .init_loc(InitLoc::Zero)
        .init_scale(0.1);
    let adam = Adam::new(AdamConfig {
        lr: 0.01,
        ..Default::default()
    });
    let mut svi = Svi::new(logreg, guide, adam, TraceElbo::default()).seed(0);
    let steps = 1000;
    let mut times = Vec::with_capacity(steps);
    let mut loss = 0.0;
    for _ in 0..steps {
        let t = Instant::now();
        loss = svi.step((&x, &y))?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times[steps / 2];

    let loc = svi.params().get("AutoNormal.locs.w")?.to_vec()?;
    let map = map_newton(&xs, &ys);
    let c = corr(&loc, &map);
    eprintln!("final loss {loss:.2}; posterior loc vs MAP correlation {c:.6}");
    println!(
        "{{\"bench\":\"logreg\",\"us_per_step\":{median:.1},\"steps\":{steps},\"corr_with_map\":{c:.6}}}"
    );
    Ok(())
}
