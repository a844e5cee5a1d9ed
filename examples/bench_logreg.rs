//! The `logreg` workload of the benchmark suite: Bayesian logistic regression, N = 10000 rows,
//! D = 20 features, fitted with an `AutoNormal` guide (loc 0, scale 0.1), Adam lr 0.01, 1000
//! steps. Prints one JSON line with the median time per step and the correlation of the posterior
//! location with the MAP (L2-regularised logistic regression, C = 1, no intercept, by Newton's
//! method).
//!
//! Options: `--rows N --features D` (default 10000 x 20: the ratio to NumPyro must hold as the
//! data grows), `--dtype f32|f64` (the storage of the design matrix, default f32 as in the
//! NumPyro peer; the parameters and sums stay f64), `--steps S` (default 1000).
//!
//! `cargo run --release --example bench_logreg [-- --rows 100000 --features 60 --dtype f64]`

use std::time::Instant;

use pyro::prelude::*;
use pyro::tensor::DType;

#[path = "common/bench.rs"]
mod bench;
#[path = "common/cli.rs"]
mod cli;
#[path = "common/logreg_data.rs"]
mod logreg_data;
use bench::{corr, cpu_ns, cpu_us_since};
use logreg_data::{generate, Generated};

#[model]
fn logreg(x: &Tensor, y: &Tensor) {
    let (n, d) = (x.shape()[0], x.shape()[1]);
    let w = sample!("w", Normal::new(0.0, 1.0).expand(&[d]).to_event(1));
    let logits = x.matmul(&w.unsqueeze(-1)).reshape(&[n]);
    plate!("data", n, |_idx| {
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
fn map_newton(x: &[f64], y: &[f64], d: usize) -> Vec<f64> {
    #[allow(non_snake_case)]
    let (N, D) = (y.len(), d);
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

const USAGE: &str = "usage: bench_logreg [--rows N] [--features D] [--dtype f32|f64] [--steps S]";

/// Options: data size, storage of the design matrix, number of steps.
struct Opts {
    rows: usize,
    features: usize,
    dtype: DType,
    steps: usize,
}

/// Parses the options; anything else is refused with the usage line.
fn parse_args() -> Opts {
    use lexopt::prelude::*;
    let mut o = Opts {
        rows: 10_000,
        features: 20,
        dtype: DType::F32,
        steps: 1000,
    };
    cli::parse("bench_logreg", USAGE, |arg, parser| {
        match arg {
            Long("rows") => o.rows = parser.value()?.parse()?,
            Long("features") => o.features = parser.value()?.parse()?,
            Long("steps") => o.steps = parser.value()?.parse()?,
            Long("dtype") => {
                o.dtype = match parser.value()?.string()?.as_str() {
                    "f32" => DType::F32,
                    "f64" => DType::F64,
                    other => return Err(format!("--dtype f32 or f64, not {other}").into()),
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    });
    o
}

fn main() -> pyro::Result<()> {
    let opts = parse_args();
    #[allow(non_snake_case)]
    let (N, D, steps, dtype) = (opts.rows, opts.features, opts.steps, opts.dtype);
    let Generated { xs, ys, .. } = generate(N, D, 0);
    let x = Tensor::new(xs.clone(), &[N, D])?.to_dtype(dtype);
    let y = Tensor::from(ys.clone());

    let guide = AutoNormal::new(logreg)
        .init_loc(InitLoc::Zero)
        .init_scale(0.1);
    let adam = Adam::new(AdamConfig {
        lr: 0.01,
        ..Default::default()
    });
    let mut svi = Svi::new(logreg, guide, adam, TraceElbo::default()).seed(0);
    let mut times = Vec::with_capacity(steps);
    let mut loss = 0.0;
    let c0 = cpu_ns();
    for _ in 0..steps {
        let t = Instant::now();
        loss = svi.step((&x, &y))?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let cpu = cpu_us_since(c0).map_or(-1.0, |us| us / steps as f64);
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times[steps / 2];

    let loc = svi.params().get("AutoNormal.locs.w")?.to_vec()?;
    let map = map_newton(&xs, &ys, D);
    let c = corr(&loc, &map);
    eprintln!("final loss {loss:.2}; posterior loc vs MAP correlation {c:.6}");
    println!(
        "{{\"bench\":\"logreg\",\"rows\":{N},\"features\":{D},\"dtype\":\"{}\",\"us_per_step\":{median:.1},\"cpu_us_per_step\":{cpu:.1},\"steps\":{steps},\"corr_with_map\":{c:.6}}}",
        if dtype == DType::F32 { "f32" } else { "f64" }
    );
    Ok(())
}
