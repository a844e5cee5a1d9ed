//! The `coin` workload of `../shared/bench/WORKLOADS.md`, one JSON line per variant.
//!
//! Data: six ones then four zeros. Model: `latent_fairness ~ Beta(10, 10)`, Bernoulli
//! observations either as ten separate sites `obs_0..obs_9` (variant `loop`) or as one vectorised
//! site in a plate of 10 (variant `plate`). Guide: `Beta(alpha_q, beta_q)`, both parameters
//! initialised at 15 with a positive constraint. Adam lr 0.0005, betas (0.9, 0.999), Trace ELBO with
//! one particle. 2000 steps are timed (`--steps`), `--runs` times (default 5); `us_per_step` is the
//! median over the runs. The posterior mean and standard deviation are taken after 5000 steps
//! (a separate run, seed 0) and must be within 0.01 of Beta(16, 14): 0.5333 and 0.0896.
//!
//! A counting global allocator reports `allocs_per_step` (heap allocations per SVI step, measured
//! over the timed steps of the last run) and `bytes_per_step`.
//!
//! Run: `cargo run --release --example bench_coin [-- --variant loop --runs 5 --steps 2000]`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use pyro::prelude::*;

/// The system allocator, counting calls to `alloc`/`realloc` and the bytes requested.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size as u64, Relaxed);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const DATA: [f64; 10] = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];

#[model]
fn coin_loop(data: &[f64]) {
    let f = sample!("latent_fairness", Beta::new(10.0, 10.0));
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("obs_{i}"), Bernoulli::new(f.clone()), obs = x);
    }
}

#[guide(model = coin_loop)]
fn coin_loop_guide(_data: &[f64]) {
    let alpha_q = param!("alpha_q", 15.0, constraint = positive);
    let beta_q = param!("beta_q", 15.0, constraint = positive);
    sample!("latent_fairness", Beta::new(alpha_q, beta_q));
}

#[model]
fn coin_plate(data: &Tensor) {
    let f = sample!("latent_fairness", Beta::new(10.0, 10.0));
    plate!("data", 10, |_idx| {
        sample!("obs", Bernoulli::new(f.clone()), obs = data.clone());
    });
}

#[guide(model = coin_plate)]
fn coin_plate_guide(_data: &Tensor) {
    let alpha_q = param!("alpha_q", 15.0, constraint = positive);
    let beta_q = param!("beta_q", 15.0, constraint = positive);
    sample!("latent_fairness", Beta::new(alpha_q, beta_q));
}

fn adam() -> Adam {
    Adam::new(AdamConfig {
        lr: 0.0005,
        betas: (0.90, 0.999),
        ..Default::default()
    })
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Mean and standard deviation of Beta(a, b).
fn beta_summary(a: f64, b: f64) -> (f64, f64) {
    let mean = a / (a + b);
    let std = (a * b / ((a + b) * (a + b) * (a + b + 1.0))).sqrt();
    (mean, std)
}

struct Outcome {
    /// Microseconds per step over the timed steps (the first step, which creates the
    /// parameters, is not timed).
    us_per_step: f64,
    allocs_per_step: f64,
    bytes_per_step: f64,
    alpha: f64,
    beta: f64,
    final_loss: f64,
}

/// Runs `steps` SVI steps of one variant; every step after the first is timed.
fn run(variant: &str, steps: usize, seed: u64) -> pyro::Result<Outcome> {
    macro_rules! go {
        ($svi:expr, $args:expr) => {{
            let mut svi = $svi;
            let mut loss = svi.step($args)?;
            let a0 = ALLOCS.load(Relaxed);
            let b0 = BYTES.load(Relaxed);
            let t0 = Instant::now();
            for _ in 1..steps {
                loss = svi.step($args)?;
            }
            let dt = t0.elapsed().as_secs_f64();
            let n = (steps - 1).max(1) as f64;
            let allocs = (ALLOCS.load(Relaxed) - a0) as f64 / n;
            let bytes = (BYTES.load(Relaxed) - b0) as f64 / n;
            Outcome {
                us_per_step: dt * 1e6 / n,
                allocs_per_step: allocs,
                bytes_per_step: bytes,
                alpha: svi.params().scalar("alpha_q")?,
                beta: svi.params().scalar("beta_q")?,
                final_loss: loss,
            }
        }};
    }
    Ok(match variant {
        "loop" => go!(
            Svi::new(coin_loop, coin_loop_guide, adam(), TraceElbo::default()).seed(seed),
            &DATA
        ),
        "plate" => {
            let data = Tensor::from_slice(&DATA);
            go!(
                Svi::new(coin_plate, coin_plate_guide, adam(), TraceElbo::default()).seed(seed),
                &data
            )
        }
        other => {
            eprintln!("unknown variant {other:?} (loop, plate)");
            std::process::exit(2);
        }
    })
}

fn main() -> pyro::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let steps: usize = flag("--steps").map_or(2000, |s| s.parse().expect("--steps N"));
    let runs: usize = flag("--runs").map_or(5, |s| s.parse().expect("--runs N"));
    let variants: Vec<String> = match flag("--variant") {
        Some(v) => vec![v],
        None => vec!["loop".into(), "plate".into()],
    };

    for variant in &variants {
        // Warm-up run (page faults, caches), not counted.
        run(variant, steps.min(200), 100)?;
        let mut us = Vec::with_capacity(runs);
        let mut last = None;
        for r in 0..runs {
            let o = run(variant, steps, r as u64)?;
            us.push(o.us_per_step);
            last = Some(o);
        }
        let last = last.expect("--runs >= 1");
        let us_runs = us
            .iter()
            .map(|x| format!("{x:.3}"))
            .collect::<Vec<_>>()
            .join(",");
        let med = median(&mut us);
        // Accuracy: the tutorial's 5000 steps.
        let acc = run(variant, 5000, 0)?;
        let (mean, std) = beta_summary(acc.alpha, acc.beta);
        let ok = (mean - 16.0 / 30.0).abs() < 0.01 && (std - 0.0896).abs() < 0.01;
        println!(
            "{{\"bench\":\"coin\",\"variant\":\"{variant}\",\"us_per_step\":{med:.3},\"us_per_step_runs\":[{us_runs}],\"steps\":{steps},\"runs\":{runs},\"allocs_per_step\":{:.1},\"bytes_per_step\":{:.0},\"final_loss\":{:.4},\"alpha_q\":{:.4},\"beta_q\":{:.4},\"post_mean\":{mean:.4},\"post_std\":{std:.4},\"accuracy_ok\":{ok}}}",
            last.allocs_per_step, last.bytes_per_step, last.final_loss, acc.alpha, acc.beta
        );
    }
    Ok(())
}
