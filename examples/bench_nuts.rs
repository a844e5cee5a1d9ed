//! The `nuts` benchmark workloads, as `bench/peers/nuts_numpyro.py` runs them in NumPyro:
//! NUTS (max tree depth 10, target acceptance 0.8, diagonal mass matrix adapted in Stan's
//! windows), 4 chains of 1000 warm-up iterations and 1000 draws.
//!
//! - `eight-schools`: non-centred eight schools on `data/tables/stevedata__eight_schools.csv`.
//! - `logreg`: Bayesian logistic regression on the data of `examples/bench_logreg.rs` (N = 10000,
//!   D = 20; generated from a seeded Rust generator, so not NumPyro's numbers, but the same
//!   sizes and distribution).
//!
//! Prints one JSON line per workload and thread setting with NumPyro's fields: wall seconds of
//! the run (we have no compilation), the minimum bulk ESS over all scalar latent entries
//! (rank-normalised, ArviZ's `ess_bulk`) and, for a like-for-like comparison, the minimum ESS by
//! NumPyro's own estimator (`numpyro.diagnostics.effective_sample_size`: no split, no ranks), ESS
//! per second for both, the largest rank-normalised R-hat, divergences and posterior means; plus
//! gradient evaluations and microseconds per gradient evaluation.
//!
//! `cargo run --release --example bench_nuts [-- --workload eight-schools|logreg] [--threads N]`
//! (default: both workloads, threads 1 then 4; chains always 4).

use std::time::Instant;

use pyro::infer::mcmc::{Mcmc, McmcSamples, Nuts};
use pyro::prelude::*;

#[path = "common/cli.rs"]
mod cli;
#[path = "common/logreg_data.rs"]
mod logreg_data;

#[model]
fn eight_schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    plate!("school", y.len(), |_idx| {
        let theta_tilde = sample!("theta_tilde", Normal::new(0.0, 1.0));
        let theta = deterministic!("theta", &mu + &tau * theta_tilde);
        sample!("y", Normal::new(theta, sigma.to_vec()), obs = y.to_vec());
    });
}

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

fn eight_schools_data() -> pyro::Result<(Vec<f64>, Vec<f64>)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/tables/stevedata__eight_schools.csv"
    );
    let table = pyro::data::load_table(path)?;
    Ok((table.column_f64("est")?, table.column_f64("se")?))
}

/// NumPyro's `effective_sample_size` (Geyer's initial monotone sequence on the chains as they
/// are, no split, no rank normalisation, biased autocovariances), for comparing like with like.
fn ess_numpyro(chains: &[Vec<f64>]) -> f64 {
    let m = chains.len();
    let n = chains[0].len();
    let nf = n as f64;
    let means: Vec<f64> = chains.iter().map(|c| c.iter().sum::<f64>() / nf).collect();
    let acov = |c: usize, k: usize| -> f64 {
        let x = &chains[c];
        (0..n - k)
            .map(|i| (x[i] - means[c]) * (x[i + k] - means[c]))
            .sum::<f64>()
            / nf
    };
    let var_within = (0..m).map(|c| acov(c, 0)).sum::<f64>() / m as f64 * nf / (nf - 1.0);
    let grand = means.iter().sum::<f64>() / m as f64;
    let var_between = if m > 1 {
        means.iter().map(|v| (v - grand).powi(2)).sum::<f64>() / (m as f64 - 1.0) * nf
    } else {
        0.0
    };
    let var_est = var_between / nf + var_within * (nf - 1.0) / nf;
    let rho = |k: usize| -> f64 {
        if k == 0 {
            return 1.0;
        }
        1.0 - (var_within - (0..m).map(|c| acov(c, k)).sum::<f64>() / m as f64) / var_est
    };
    // Pairs (rho_{2k} + rho_{2k+1}), clipped at 0 after the first and made non-increasing.
    let mut total = rho(0) + rho(1);
    let mut prev = f64::INFINITY;
    let mut k = 1;
    while 2 * k + 1 < n {
        let pair = (rho(2 * k) + rho(2 * k + 1)).max(0.0).min(prev);
        if pair == 0.0 {
            break;
        }
        total += pair;
        prev = pair;
        k += 1;
    }
    (m * n) as f64 / (-1.0 + 2.0 * total)
}

fn report(workload: &str, threads: usize, wall: f64, s: &McmcSamples, skip: &[&str]) -> String {
    let mut min_bulk = f64::INFINITY;
    let mut min_np = f64::INFINITY;
    let mut max_rhat: f64 = 0.0;
    for site in s
        .sites()
        .iter()
        .filter(|l| !skip.contains(&l.name.as_str()))
    {
        for j in 0..site.numel() {
            let chains = s.chain_values(&site.name, j).unwrap_or_default();
            let sl: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
            min_bulk = min_bulk.min(pyro::infer::mcmc::diagnostics::ess_bulk(&sl));
            max_rhat = max_rhat.max(pyro::infer::mcmc::diagnostics::rhat(&sl));
            min_np = min_np.min(ess_numpyro(&chains));
        }
    }
    let grads: u64 = (0..s.num_chains())
        .map(|c| s.gradient_evaluations(c).unwrap_or(0))
        .sum();
    let means: Vec<String> = s
        .sites()
        .iter()
        .map(|l| {
            let m = s
                .get(&l.name)
                .map(|t| {
                    let v = t.to_vec().unwrap_or_default();
                    let k = l.numel();
                    let n = v.len() / k.max(1);
                    (0..k.min(4))
                        .map(|j| {
                            let mean = (0..n).map(|i| v[i * k + j]).sum::<f64>() / n as f64;
                            format!("{mean:.4}")
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            format!("\"{}\":[{m}]", l.name)
        })
        .collect();
    format!(
        "{{\"bench\":\"nuts\",\"workload\":\"{workload}\",\"chains\":{},\"warmup\":1000,\
         \"samples\":{},\"threads\":{threads},\"wall_s\":{wall:.3},\"min_ess_bulk\":{min_bulk:.1},\
         \"ess_per_s\":{:.1},\"min_ess_numpyro\":{min_np:.1},\"ess_per_s_numpyro\":{:.1},\
         \"max_rhat\":{max_rhat:.4},\"divergences\":{},\"grad_evals\":{grads},\
         \"us_per_grad\":{:.2},\"means\":{{{}}}}}",
        s.num_chains(),
        s.num_draws(),
        min_bulk / wall,
        min_np / wall,
        s.divergences(),
        wall * 1e6 / grads.max(1) as f64,
        means.join(",")
    )
}

fn mcmc_of<M: Model>(model: Nuts<M>, threads: usize) -> Mcmc<Nuts<M>> {
    Mcmc::new(model)
        .warmup(1000)
        .samples(1000)
        .chains(4)
        .seed(0)
        .threads(threads)
        .progress(false)
}

const USAGE: &str =
    "usage: bench_nuts [--workload eight-schools|logreg]... [--threads N]... (default: both \
     workloads, threads 1 then 4)";

struct Args {
    workloads: Vec<String>,
    threads: Vec<usize>,
}

fn parse_args() -> Args {
    use lexopt::prelude::*;
    let mut args = Args {
        workloads: Vec::new(),
        threads: Vec::new(),
    };
    cli::parse("bench_nuts", USAGE, |arg, parser| {
        match arg {
            Long("workload") => {
                let w: String = parser.value()?.parse()?;
                if w != "eight-schools" && w != "logreg" {
                    return Err(format!("unknown workload {w}: eight-schools or logreg").into());
                }
                args.workloads.push(w);
            }
            Long("threads") => args.threads.push(parser.value()?.parse()?),
            _ => return Ok(false),
        }
        Ok(true)
    });
    if args.workloads.is_empty() {
        args.workloads = vec!["eight-schools".into(), "logreg".into()];
    }
    if args.threads.is_empty() {
        args.threads = vec![1, 4];
    }
    args
}

fn main() -> pyro::Result<()> {
    let args = parse_args();
    let (workloads, thread_settings) = (args.workloads, args.threads);
    for w in &workloads {
        for &threads in &thread_settings {
            match w.as_str() {
                "eight-schools" => {
                    let (y, sigma) = eight_schools_data()?;
                    let t = Instant::now();
                    let s = mcmc_of(Nuts::new(eight_schools), threads).run((&y, &sigma))?;
                    let wall = t.elapsed().as_secs_f64();
                    println!("{}", report(w, threads, wall, &s, &["theta"]));
                }
                "logreg" => {
                    let logreg_data::Generated { xs, ys, .. } = logreg_data::generate(N, D, 0);
                    let t = Instant::now();
                    let s = mcmc_of(Nuts::new(logreg), threads).run_with(|| {
                        (
                            Tensor::new(xs.clone(), &[N, D]).unwrap_or_else(|e| {
                                panic!("the logreg data have N x D values: {e}")
                            }),
                            Tensor::from(ys.clone()),
                        )
                    })?;
                    let wall = t.elapsed().as_secs_f64();
                    println!("{}", report(w, threads, wall, &s, &[]));
                }
                _ => unreachable!("workloads are checked by parse_args"),
            }
        }
    }
    Ok(())
}
