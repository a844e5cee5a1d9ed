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

#[path = "common/bench.rs"]
mod bench;
#[path = "common/cli.rs"]
mod cli;
#[path = "common/logreg_data.rs"]
mod logreg_data;
use bench::median;
use logreg_data::{adam, generate, guide, logreg, rows, Generated, D, N};

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

fn parse_args() -> (usize, bool) {
    use lexopt::prelude::*;
    let (mut steps, mut mpi) = (200, true);
    cli::parse("bench_scale", USAGE, |arg, parser| {
        match arg {
            Long("steps") => steps = parser.value()?.parse()?,
            Long("no-mpi") => mpi = false,
            _ => return Ok(false),
        }
        Ok(true)
    });
    (steps.max(10), mpi)
}

fn main() -> pyro::Result<()> {
    let (steps, mpi) = parse_args();
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "null".into());
    let Generated { xs, ys, .. } = generate(N, D, 42);
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
    let (m1, m2) = (median(&mut t1), median(&mut t2));
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
