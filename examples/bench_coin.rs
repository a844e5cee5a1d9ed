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
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Instant;

use pyro::prelude::*;

#[path = "common/bench.rs"]
mod bench;
#[path = "common/cli.rs"]
mod cli;
use bench::{cpu_ns, cpu_us_since, median};

/// The system allocator, counting calls to `alloc`/`realloc` and the bytes requested.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// `--diag` only: while set, every allocation's call stack is recorded into `SITES`.
static CAPTURE: AtomicBool = AtomicBool::new(false);
static SITES: Mutex<Vec<String>> = Mutex::new(Vec::new());
thread_local! {
    static IN_CAPTURE: Cell<bool> = const { Cell::new(false) };
}

fn capture_site() {
    if !CAPTURE.load(Relaxed) || IN_CAPTURE.with(|c| c.replace(true)) {
        return;
    }
    let bt = std::backtrace::Backtrace::force_capture().to_string();
    // The first frames inside the library (skipping the allocator and std's collections).
    let frames: Vec<&str> = bt
        .lines()
        .map(str::trim)
        .filter(|l| l.contains(": ") && (l.contains("pyro_core::") || l.contains("bench_coin::")))
        .map(|l| l.split_once(": ").map_or(l, |x| x.1))
        .filter(|l| !l.contains("capture_site") && !l.contains("Counting"))
        .take(3)
        .collect();
    let site = frames.join(" <- ");
    if let Ok(mut v) = SITES.lock() {
        v.push(site);
    }
    IN_CAPTURE.with(|c| c.set(false));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        capture_site();
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        capture_site();
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        capture_site();
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

// Diagnostics only (`--diag`): the same model with a point-mass guide, i.e. without the Beta
// reparameterised draw, to measure the per-step cost of the framework itself (tracing, tape,
// backward, Adam) apart from the gamma implicit gradient.
#[model]
fn coin_loop_d(data: &[f64]) {
    let f = sample!("latent_fairness", Beta::new(10.0, 10.0));
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("obs_{i}"), Bernoulli::new(f.clone()), obs = x);
    }
}

#[guide(model = coin_loop_d)]
fn coin_loop_d_guide(_data: &[f64]) {
    let p = param!("p", 0.5, constraint = interval(0.0, 1.0));
    sample!("latent_fairness", Delta::new(p));
}

fn adam() -> Adam {
    Adam::new(AdamConfig {
        lr: 0.0005,
        betas: (0.90, 0.999),
        ..Default::default()
    })
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
    /// CPU microseconds per step (NaN where unavailable).
    cpu_us_per_step: f64,
    allocs_per_step: f64,
    bytes_per_step: f64,
    alpha: f64,
    beta: f64,
    final_loss: f64,
}

/// Runs `steps` SVI steps of one variant; every step after the first is timed.
fn run(variant: &str, steps: usize, seed: u64) -> pyro::Result<Outcome> {
    // `$alpha` and `$beta` name the guide's parameters reported as `alpha` and `beta` (None:
    // NaN).
    macro_rules! go {
        ($svi:expr, $args:expr, $alpha:expr, $beta:expr) => {{
            let mut svi = $svi;
            let mut loss = svi.step($args)?;
            let a0 = ALLOCS.load(Relaxed);
            let b0 = BYTES.load(Relaxed);
            let c0 = cpu_ns();
            let t0 = Instant::now();
            for _ in 1..steps {
                loss = svi.step($args)?;
            }
            let dt = t0.elapsed().as_secs_f64();
            let n = (steps - 1).max(1) as f64;
            let cpu = cpu_us_since(c0).map_or(f64::NAN, |us| us / n);
            let allocs = (ALLOCS.load(Relaxed) - a0) as f64 / n;
            let bytes = (BYTES.load(Relaxed) - b0) as f64 / n;
            let param = |name: Option<&str>| name.map_or(Ok(f64::NAN), |n| svi.params().scalar(n));
            Outcome {
                us_per_step: dt * 1e6 / n,
                cpu_us_per_step: cpu,
                allocs_per_step: allocs,
                bytes_per_step: bytes,
                alpha: param($alpha)?,
                beta: param($beta)?,
                final_loss: loss,
            }
        }};
    }
    Ok(match variant {
        "loop" => go!(
            Svi::new(coin_loop, coin_loop_guide, adam(), TraceElbo::default()).seed(seed),
            &DATA,
            Some("alpha_q"),
            Some("beta_q")
        ),
        "plate" => {
            let data = Tensor::from_slice(&DATA);
            go!(
                Svi::new(coin_plate, coin_plate_guide, adam(), TraceElbo::default()).seed(seed),
                &data,
                Some("alpha_q"),
                Some("beta_q")
            )
        }
        "loop_delta" => go!(
            Svi::new(coin_loop_d, coin_loop_d_guide, adam(), TraceElbo::default()).seed(seed),
            &DATA,
            Some("p"),
            None
        ),
        other => {
            eprintln!("unknown variant {other:?} (loop, plate)");
            std::process::exit(2);
        }
    })
}

const USAGE: &str =
    "usage: bench_coin [--steps N (2000)] [--runs R (5)] [--variant loop|plate] [--diag]";

struct Args {
    steps: usize,
    runs: usize,
    diag: bool,
    variant: Option<String>,
}

fn parse_args() -> Args {
    use lexopt::prelude::*;
    let mut args = Args {
        steps: 2000,
        runs: 5,
        diag: false,
        variant: None,
    };
    cli::parse("bench_coin", USAGE, |arg, parser| {
        match arg {
            Long("steps") => args.steps = parser.value()?.parse()?,
            Long("runs") => args.runs = parser.value()?.parse()?,
            Long("diag") => args.diag = true,
            Long("variant") => args.variant = Some(parser.value()?.string()?),
            _ => return Ok(false),
        }
        Ok(true)
    });
    args
}

fn main() -> pyro::Result<()> {
    let args = parse_args();
    let (steps, runs) = (args.steps, args.runs);
    if args.diag {
        return diag(steps);
    }
    let variants: Vec<String> = match args.variant {
        Some(v) => vec![v],
        None => vec!["loop".into(), "plate".into()],
    };

    for variant in &variants {
        // Warm-up run (page faults, caches), not counted.
        run(variant, steps.min(200), 100)?;
        let mut us = Vec::with_capacity(runs);
        let mut cpu = Vec::with_capacity(runs);
        let mut last = None;
        for r in 0..runs {
            let o = run(variant, steps, r as u64)?;
            us.push(o.us_per_step);
            cpu.push(o.cpu_us_per_step);
            last = Some(o);
        }
        let last = last.expect("--runs >= 1");
        let us_runs = us
            .iter()
            .map(|x| format!("{x:.3}"))
            .collect::<Vec<_>>()
            .join(",");
        let med = median(&mut us);
        let cpu_med = median(&mut cpu);
        let cpu_med = if cpu_med.is_finite() { cpu_med } else { -1.0 };
        // Accuracy: the tutorial's 5000 steps.
        let acc = run(variant, 5000, 0)?;
        let (mean, std) = beta_summary(acc.alpha, acc.beta);
        let ok = (mean - 16.0 / 30.0).abs() < 0.01 && (std - 0.0896).abs() < 0.01;
        println!(
            "{{\"bench\":\"coin\",\"variant\":\"{variant}\",\"us_per_step\":{med:.3},\"us_per_step_runs\":[{us_runs}],\"cpu_us_per_step\":{cpu_med:.3},\"steps\":{steps},\"runs\":{runs},\"allocs_per_step\":{:.1},\"bytes_per_step\":{:.0},\"final_loss\":{:.4},\"alpha_q\":{:.4},\"beta_q\":{:.4},\"post_mean\":{mean:.4},\"post_std\":{std:.4},\"accuracy_ok\":{ok}}}",
            last.allocs_per_step, last.bytes_per_step, last.final_loss, acc.alpha, acc.beta
        );
    }
    Ok(())
}

/// Prints the call sites of the allocations captured since the last call.
fn report_sites(variant: &str) {
    let sites = std::mem::take(&mut *SITES.lock().expect("sites"));
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for s in &sites {
        *counts.entry(s.as_str()).or_default() += 1;
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    eprintln!("# allocations in one coin {variant} step: {}", sites.len());
    for (site, n) in &counts {
        eprintln!("# {n:4}  {site}");
    }
}

/// `--diag`: where the time of a coin step goes. Prints one `coin-diag` JSON line: the cost of one
/// `standard_gamma_grad` call at the values the coin's guide draws (two per step: Beta is a ratio of
/// two gammas), and the step time of the same model with a point-mass guide.
fn diag(steps: usize) -> pyro::Result<()> {
    use pyro::distributions::standard_gamma_grad;
    use rand_distr::{Distribution as _, Gamma as G};
    let mut rng = rand::rng();
    let mut per_call = Vec::new();
    for a in [15.0, 16.0, 14.0] {
        let g = G::new(a, 1.0).expect("gamma");
        let xs: Vec<f64> = (0..2000).map(|_| g.sample(&mut rng)).collect();
        let t0 = Instant::now();
        let mut acc = 0.0;
        for &x in &xs {
            acc += standard_gamma_grad(a, x);
        }
        let dt = t0.elapsed().as_secs_f64() * 1e6 / xs.len() as f64;
        std::hint::black_box(acc);
        per_call.push(dt);
        // Split by branch: x <= a (series) and x > a (quadrature).
    }
    let mut below = Vec::new();
    let mut above = Vec::new();
    let g = G::new(15.0, 1.0).expect("gamma");
    for _ in 0..2000 {
        let x: f64 = g.sample(&mut rng);
        let t0 = Instant::now();
        std::hint::black_box(standard_gamma_grad(15.0, x));
        let dt = t0.elapsed().as_secs_f64() * 1e6;
        if x <= 15.0 {
            below.push(dt)
        } else {
            above.push(dt)
        }
    }
    let mut us = Vec::new();
    let mut cpu = Vec::new();
    let mut last = None;
    for r in 0..3 {
        let o = run("loop_delta", steps, r)?;
        us.push(o.us_per_step);
        cpu.push(o.cpu_us_per_step);
        last = Some(o);
    }
    let last = last.expect("3 runs");
    // Where the allocations of one step of the real (Beta-guide) variants come from.
    let mut svi = Svi::new(coin_loop, coin_loop_guide, adam(), TraceElbo::default()).seed(0);
    for _ in 0..10 {
        svi.step(&DATA)?;
    }
    CAPTURE.store(true, Relaxed);
    svi.step(&DATA)?;
    CAPTURE.store(false, Relaxed);
    report_sites("loop");
    let data = Tensor::from_slice(&DATA);
    let mut svi = Svi::new(coin_plate, coin_plate_guide, adam(), TraceElbo::default()).seed(0);
    for _ in 0..10 {
        svi.step(&data)?;
    }
    CAPTURE.store(true, Relaxed);
    svi.step(&data)?;
    CAPTURE.store(false, Relaxed);
    report_sites("plate");
    println!(
        "{{\"bench\":\"coin-diag\",\"gamma_grad_us_per_call\":{:.3},\"gamma_grad_us_series_branch\":{:.3},\"gamma_grad_us_quadrature_branch\":{:.3},\"loop_delta_us_per_step\":{:.3},\"loop_delta_cpu_us_per_step\":{:.3},\"loop_delta_allocs_per_step\":{:.1},\"loop_delta_map\":{:.4}}}",
        median(&mut per_call),
        median(&mut below),
        median(&mut above),
        median(&mut us),
        median(&mut cpu),
        last.allocs_per_step,
        last.alpha
    );
    Ok(())
}
