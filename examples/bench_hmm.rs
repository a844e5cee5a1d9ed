//! The `hmm` workload of the benchmark suite: a discrete HMM with K = 8 enumerated hidden states,
//! 50 sequences of length 100, MAP point estimates of the transition matrix and the emission
//! locations, `TraceEnumElbo` (whose loss is exactly `-log p(y, θ)`), Adam lr 0.05, 200 steps.
//!
//! The data are the peers' (`bench/data/hmm_y.csv`, written from the same numpy generator as the
//! Pyro and NumPyro scripts), so the loss at the initial values can be checked against theirs
//! (17624.07) as well as against an independent forward algorithm computed here in plain f64.
//!
//! Run: `cargo run --release --example bench_hmm` (prints one JSON line). `--steps N` times N
//! steps instead of 200 (the final-loss anchor, 10393.586, is for 200), e.g. under
//! `valgrind --tool=callgrind`, whose instruction counts are repeatable on a loaded machine.
//! `cpu_us_per_step` is this thread's CPU time (Linux), `allocs_per_step` the heap allocations
//! (a counting global allocator).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use pyro::handlers::Context;
use pyro::prelude::*;

#[path = "common/cli.rs"]
mod cli;
use pyro::tensor::lgamma;
use pyro::trace::InferConfig;

const K: usize = 8;

/// The system allocator, counting calls to `alloc` and `realloc`.
struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to the system allocator; only counts them.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// CPU time of this thread in nanoseconds (Linux `/proc/thread-self/schedstat`), so that a figure
/// measured on a loaded machine can be read apart from the time spent waiting for a core.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Observations per time step, each of shape (sequences,).
struct Data {
    y: Vec<Tensor>,
    raw: Vec<Vec<f64>>,
}

fn load() -> pyro::Result<Data> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/data/hmm_y.csv");
    let text = std::fs::read_to_string(path).map_err(|e| pyro::Error::file(path, e.to_string()))?;
    let mut raw = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let row: Result<Vec<f64>, _> = line.split(',').map(str::parse::<f64>).collect();
        raw.push(row.map_err(|e| pyro::Error::file(path, format!("line {}: {e}", i + 1)))?);
    }
    let y = raw.iter().map(|r| Tensor::from_slice(r)).collect();
    Ok(Data { y, raw })
}

fn prior_concentration() -> Tensor {
    let mut c = vec![0.1; K * K];
    for i in 0..K {
        c[i * K + i] += 0.9;
    }
    Tensor::new(c, &[K, K]).expect("K x K")
}

struct HmmModel;
impl Model for HmmModel {
    type Args<'a> = &'a Data;
    type Output = ();
    const NAME: &'static str = "hmm";
    fn call(&self, ctx: &mut Context, data: &Data) {
        let probs_x = ctx.sample(
            "probs_x",
            Dirichlet::new(prior_concentration()).and_then(|d| d.to_event(1)),
            None,
        );
        let locs = ctx.sample(
            "locs",
            Normal::new(0.0, 10.0)
                .and_then(|d| d.expand(&[K]))
                .and_then(|d| d.to_event(1)),
            None,
        );
        let enumerate = InferConfig {
            enumerate: true,
            ..Default::default()
        };
        let sequences = data.y[0].numel();
        ctx.plate("sequences", sequences, Default::default(), |ctx, _| {
            let mut x = Tensor::scalar(0.0);
            ctx.markov(0..data.y.len(), |ctx, t| {
                x = ctx.sample_with(
                    format!("x_{t}"),
                    Categorical::new(probs_x.index_by(&x)),
                    None,
                    enumerate.clone(),
                );
                ctx.sample(
                    format!("y_{t}"),
                    Normal::new(locs.index_by(&x), 1.0),
                    Some(data.y[t].clone()),
                );
            });
        });
    }
}

fn init_probs() -> Vec<f64> {
    let mut p = vec![0.5 / K as f64; K * K];
    for i in 0..K {
        p[i * K + i] += 0.5;
    }
    p
}

fn init_locs() -> Vec<f64> {
    (0..K)
        .map(|i| -4.0 + 8.0 * i as f64 / (K - 1) as f64)
        .collect()
}

struct HmmGuide;
impl pyro::infer::GuideFor<HmmModel> for HmmGuide {}

impl Model for HmmGuide {
    type Args<'a> = &'a Data;
    type Output = ();
    const NAME: &'static str = "hmm_guide";
    fn call(&self, ctx: &mut Context, _data: &Data) {
        let p = ctx.param(
            "probs_x_map",
            || Tensor::new(init_probs(), &[K, K]).expect("K x K"),
            constraints::simplex(),
        );
        let l = ctx.param(
            "locs_map",
            || Tensor::from_slice(&init_locs()),
            constraints::real(),
        );
        ctx.sample("probs_x", Delta::with_event_dim(p, 0.0, 2), None);
        ctx.sample("locs", Delta::with_event_dim(l, 0.0, 1), None);
    }
}

/// `-log p(y, θ)` by the forward algorithm, in plain f64: the independent check.
fn forward_neg_log_joint(probs: &[f64], locs: &[f64], y: &[Vec<f64>]) -> f64 {
    let lse = |v: &[f64]| {
        let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
    };
    let norm =
        |x: f64, m: f64, s: f64| -0.5 * ((x - m) / s).powi(2) - s.ln() - 0.918_938_533_204_672_8;
    let logp: Vec<f64> = probs.iter().map(|p| p.ln()).collect();
    let mut total = 0.0;
    for s in 0..y[0].len() {
        let mut alpha: Vec<f64> = (0..K)
            .map(|k| logp[k] + norm(y[0][s], locs[k], 1.0))
            .collect();
        for yt in &y[1..] {
            alpha = (0..K)
                .map(|k| {
                    let terms: Vec<f64> = (0..K).map(|j| alpha[j] + logp[j * K + k]).collect();
                    lse(&terms) + norm(yt[s], locs[k], 1.0)
                })
                .collect();
        }
        total += lse(&alpha);
    }
    for i in 0..K {
        let c: Vec<f64> = (0..K).map(|j| if i == j { 1.0 } else { 0.1 }).collect();
        let sum: f64 = c.iter().sum();
        total += lgamma(sum) - c.iter().map(|&a| lgamma(a)).sum::<f64>()
            + (0..K).map(|j| (c[j] - 1.0) * logp[i * K + j]).sum::<f64>();
    }
    total += locs.iter().map(|&l| norm(l, 0.0, 10.0)).sum::<f64>();
    -total
}

const USAGE: &str = "usage: bench_hmm [--steps N]";

/// `--steps N` (a positive number of timed steps, 200 by default); anything else is refused
/// with the usage line.
fn parse_args() -> usize {
    use lexopt::prelude::*;
    let mut steps = 200;
    cli::parse("bench_hmm", USAGE, |arg, parser| {
        match arg {
            Long("steps") => {
                steps = parser.value()?.parse()?;
                if steps == 0 {
                    return Err("--steps must be positive".into());
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    });
    steps
}

fn main() -> pyro::Result<()> {
    let steps = parse_args();
    let data = load()?;
    let adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    let mut svi = Svi::new(
        HmmModel,
        HmmGuide,
        adam,
        TraceEnumElbo::default().with_max_plate_nesting(1),
    );
    let first_loss = svi.evaluate_loss(&data)?;
    let exact_first = forward_neg_log_joint(&init_probs(), &init_locs(), &data.raw);
    let mut times = Vec::with_capacity(steps);
    let mut loss = first_loss;
    let (cpu0, allocs0) = (cpu_ns(), ALLOCS.load(Relaxed));
    for _ in 0..steps {
        let t0 = Instant::now();
        loss = svi.step(&data)?;
        times.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    let allocs = (ALLOCS.load(Relaxed) - allocs0) as f64 / steps as f64;
    let cpu = match (cpu0, cpu_ns()) {
        (Some(a), Some(b)) => format!("{:.1}", (b - a) as f64 / 1e3 / steps as f64),
        _ => "null".into(),
    };
    let final_loss = svi.evaluate_loss(&data)?;
    let probs = svi.params().get("probs_x_map")?.to_vec()?;
    let locs = svi.params().get("locs_map")?.to_vec()?;
    let exact_final = forward_neg_log_joint(&probs, &locs, &data.raw);
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"bench\":\"hmm\",\"us_per_step\":{:.1},\"cpu_us_per_step\":{cpu},\"allocs_per_step\":{allocs:.0},\"steps\":{steps},\"first_loss\":{first_loss:.4},\"first_loss_forward\":{exact_first:.4},\"last_step_loss\":{loss:.4},\"final_loss\":{final_loss:.4},\"final_loss_forward\":{exact_final:.4},\"rel_err\":{:.2e}}}",
        times[steps / 2],
        ((final_loss - exact_final) / exact_final).abs().max(((first_loss - exact_first) / exact_first).abs())
    );
    Ok(())
}
