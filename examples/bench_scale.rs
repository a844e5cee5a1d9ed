//! The `scale` benchmark: Bayesian logistic regression, N = 200,000 rows, D = 20 features
//! (`AutoNormal`, Adam), time per SVI step on 1 thread, on 2 threads (`ParallelSvi`, the data
//! plate in 2 shards) and on 2 MPI ranks (`DistributedSvi`, by running the
//! `distributed_logreg` example under `mpirun` when it is built and `mpirun` exists). Prints one
//! JSON line with the medians, the speed-ups over one thread, and the load average at the start
//! (the machine is shared: read the figures with it).
//!
//! ```sh
//! cargo build --release --features mpi --example distributed_logreg   # for the MPI figure
//! cargo run --release --example bench_scale
//! ```
//!
//! One thread is the plain serial `Svi::step` on the whole data. The thread configurations run in
//! alternating blocks (1, 2, 1, 2, ...) so that a change of load hits both alike.

use std::process::Command;
use std::time::Instant;

use pyro::infer::Shards;
use pyro::prelude::*;
use rand::SeedableRng;
use rand_distr::{Distribution as _, StandardNormal, Uniform};

const N: usize = 200_000;
const D: usize = 20;

struct Rows {
    x: Tensor,
    y: Tensor,
}

#[model]
fn logreg(d: &Rows) {
    let w = sample!("w", Normal::new(0.0, 1.0).expand(&[D]).to_event(1));
    let n = d.y.shape()[0];
    let logits = d.x.matmul(&w.unsqueeze(-1)).reshape(&[n]);
    plate!("data", n, |_idx| {
        sample!("y", Bernoulli::from_logits(logits), obs = d.y.clone());
    });
}

/// The data of `distributed_logreg` (same seed, same draws).
fn generate(seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let xs: Vec<f64> = (0..N * D)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let w_true: Vec<f64> = (0..D).map(|_| StandardNormal.sample(&mut rng)).collect();
    let u = Uniform::new(0.0, 1.0).expect("valid range");
    let ys = (0..N)
        .map(|i| {
            let t: f64 = (0..D).map(|j| xs[i * D + j] * w_true[j]).sum();
            f64::from(u.sample(&mut rng) < 1.0 / (1.0 + (-t).exp()))
        })
        .collect();
    (xs, ys)
}

fn rows(xs: &[f64], ys: &[f64], range: std::ops::Range<usize>) -> pyro::Result<Rows> {
    let n = range.len();
    Ok(Rows {
        x: Tensor::new(xs[range.start * D..range.end * D].to_vec(), &[n, D])?,
        y: Tensor::new(ys[range].to_vec(), &[n])?,
    })
}

fn adam() -> Adam {
    Adam::new(AdamConfig {
        lr: 0.01,
        ..Default::default()
    })
}

fn guide() -> AutoNormal<logreg> {
    AutoNormal::new(logreg)
        .init_loc(InitLoc::Zero)
        .init_scale(0.1)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `mpirun -np 2 distributed_logreg --json`: its (1-rank, 2-rank) ms per step, or why not.
fn mpi_figures(steps: usize) -> Result<(f64, f64), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let bin = exe.with_file_name("distributed_logreg");
    if !bin.exists() {
        return Err(format!(
            "{} not built (cargo build --release --features mpi --example distributed_logreg)",
            bin.display()
        ));
    }
    let out = Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-np", "2"])
        .arg(&bin)
        .args(["--json", "--steps", &steps.to_string()])
        .output()
        .map_err(|e| format!("mpirun: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| format!("no JSON line from distributed_logreg ({})", out.status))?;
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    match (v["ms_per_step_1_rank"].as_f64(), v["ms_per_step"].as_f64()) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(format!("unexpected line: {line}")),
    }
}

const USAGE: &str = "usage: bench_scale [--steps N] [--no-mpi]";

fn parse_args() -> Result<(usize, bool), lexopt::Error> {
    use lexopt::prelude::*;
    let (mut steps, mut mpi) = (200, true);
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("steps") => steps = parser.value()?.parse()?,
            Long("no-mpi") => mpi = false,
            Short('h') | Long("help") => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    Ok((steps.max(10), mpi))
}

fn main() -> pyro::Result<()> {
    let (steps, mpi) = parse_args().unwrap_or_else(|e| {
        eprintln!("bench_scale: {e}\n{USAGE}");
        std::process::exit(2)
    });
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "null".into());
    let (xs, ys) = generate(42);
    let whole = rows(&xs, &ys, 0..N)?;
    let data = std::sync::Arc::new((xs, ys));

    let mut serial = Svi::new(logreg, guide(), adam(), TraceElbo::default()).seed(0);
    let d = data.clone();
    let mut threaded = Svi::new(logreg, guide(), adam(), TraceElbo::default())
        .seed(0)
        .parallel(Shards::new("data", N, 2, move |r| rows(&d.0, &d.1, r)))
        .threads(2);
    // Warm-up: parameters created, shards built, caches warm.
    for _ in 0..5 {
        serial.step(&whole)?;
        threaded.step()?;
    }
    let (mut t1, mut t2) = (Vec::new(), Vec::new());
    let block = 10;
    for _ in 0..steps.div_ceil(block) {
        for _ in 0..block {
            let t = Instant::now();
            serial.step(&whole)?;
            t1.push(t.elapsed().as_secs_f64() * 1e3);
        }
        for _ in 0..block {
            let t = Instant::now();
            threaded.step()?;
            t2.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let (m1, m2) = (median(t1), median(t2));
    let (r1, r2, note) = if mpi {
        match mpi_figures(steps) {
            Ok((a, b)) => (format!("{a:.3}"), format!("{b:.3}"), String::new()),
            Err(e) => ("null".into(), "null".into(), e),
        }
    } else {
        ("null".into(), "null".into(), "--no-mpi".into())
    };
    let speedup_ranks = match (r1.parse::<f64>(), r2.parse::<f64>()) {
        (Ok(a), Ok(b)) => format!("{:.3}", a / b),
        _ => "null".into(),
    };
    if !note.is_empty() {
        eprintln!("bench_scale: no MPI figure: {note}");
    }
    println!(
        "{{\"bench\":\"scale\",\"n\":{N},\"d\":{D},\"steps\":{steps},\"load_avg_1min\":{load},\"ms_per_step_1_thread\":{m1:.3},\"ms_per_step_2_threads\":{m2:.3},\"speedup_threads\":{:.3},\"ms_per_step_1_rank\":{r1},\"ms_per_step_2_ranks\":{r2},\"speedup_ranks\":{speedup_ranks}}}",
        m1 / m2
    );
    Ok(())
}
