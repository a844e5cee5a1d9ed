//! Bayesian logistic regression on 200,000 rows and 20 features, fitted by data-parallel SVI over
//! MPI (`DistributedSvi`): every rank generates the same data from a seed, keeps its own rows,
//! and the ranks sum their gradients with one all-reduce per step.
//!
//! ```sh
//! cargo build --release --features mpi --example distributed_logreg
//! mpirun -np 2 target/release/examples/distributed_logreg
//! ```
//!
//! Rank 0 then fits the whole data alone (the same driver on a one-rank communicator, while the
//! other ranks wait without spinning) and checks that both fits give the same posterior to 1e-10,
//! and that every rank holds the same parameters. It prints the posterior, the time per step on
//! 1 rank and on all ranks, and, with `--json`, one JSON line with those figures (read by
//! `bench_scale`). Needs Open MPI (README, "Scaling").

use std::time::{Duration, Instant};

use pyro::mpi::collective::SystemOperation;
use pyro::mpi::topology::{Communicator, SimpleCommunicator};
use pyro::mpi::traits::CommunicatorCollectives;
use pyro::prelude::*;

#[path = "common/cli.rs"]
mod cli;
#[path = "common/logreg_data.rs"]
mod logreg_data;
use logreg_data::{adam, generate, guide, logreg, rows, Generated, Rows, D, N};

/// Fits on `comm` (each rank with `data`, its rows): the posterior's unconstrained parameters
/// (locations, then log-scales) and the median time per step.
fn fit(comm: &SimpleCommunicator, data: &Rows, steps: usize) -> pyro::Result<(Vec<f64>, f64)> {
    let mut svi = Svi::new(logreg, guide(), adam(), TraceElbo::default())
        .seed(0)
        .distributed(comm, "data");
    let mut times = Vec::with_capacity(steps);
    for _ in 0..steps {
        let t = Instant::now();
        svi.step(data)?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let mut params = svi.params().unconstrained("AutoNormal.locs.w")?.to_vec()?;
    params.extend(
        svi.params()
            .unconstrained("AutoNormal.scales.w")?
            .to_vec()?,
    );
    Ok((params, times[steps / 2]))
}

const USAGE: &str = "usage: distributed_logreg [--steps N] [--json]";

fn parse_args() -> (usize, bool) {
    use lexopt::prelude::*;
    let (mut steps, mut json) = (300, false);
    cli::parse("distributed_logreg", USAGE, |arg, parser| {
        match arg {
            Long("steps") => steps = parser.value()?.parse()?,
            Long("json") => json = true,
            _ => return Ok(false),
        }
        Ok(true)
    });
    (steps.max(1), json)
}

fn main() -> pyro::Result<()> {
    let (steps, json) = parse_args();
    let Some(universe) = pyro::mpi::initialize() else {
        eprintln!("distributed_logreg: MPI was already initialised");
        std::process::exit(1)
    };
    let world = universe.world();
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    let Generated { xs, ys, .. } = generate(N, D, 42);
    let mine = rows(&xs, &ys, rank * N / size..(rank + 1) * N / size)?;
    let (dist, t_dist) = fit(&world, &mine, steps)?;

    // Every rank holds the same parameters: their maximum and minimum over ranks agree.
    let (mut hi, mut lo) = (vec![0.0; dist.len()], vec![0.0; dist.len()]);
    world.all_reduce_into(&dist[..], &mut hi[..], SystemOperation::max());
    world.all_reduce_into(&dist[..], &mut lo[..], SystemOperation::min());
    let identical = hi == lo;

    // Rank 0 fits the whole data alone; the others wait in a non-blocking barrier, polling
    // slowly, so that they leave its core alone.
    let barrier = world.immediate_barrier();
    let mut outcome = Ok(());
    if rank == 0 {
        let whole = rows(&xs, &ys, 0..N)?;
        let (single, t_single) = fit(&SimpleCommunicator::self_comm(), &whole, steps)?;
        let diff = dist
            .iter()
            .zip(&single)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        println!("posterior of w on {size} rank(s) (mean, sd), {steps} steps:");
        for j in 0..D {
            println!("  w[{j:2}] {:+.6} {:.6}", dist[j], dist[D + j].exp());
        }
        println!("largest difference from the single-process fit: {diff:.3e}");
        println!("parameters identical on all ranks: {identical}");
        println!(
            "time per step: 1 rank {:.2} ms, {size} ranks {:.2} ms, speed-up {:.2}x",
            t_single * 1e3,
            t_dist * 1e3,
            t_single / t_dist
        );
        if json {
            println!(
                "{{\"bench\":\"distributed_logreg\",\"ranks\":{size},\"ms_per_step_1_rank\":{:.3},\"ms_per_step\":{:.3},\"speedup\":{:.3},\"max_diff\":{diff:.3e}}}",
                t_single * 1e3,
                t_dist * 1e3,
                t_single / t_dist
            );
        }
        if diff > 1e-10 || !identical {
            outcome = Err(pyro::Error::Invalid(format!(
                "the distributed fit differs from the single-process fit by {diff:.3e} (or the \
                 ranks disagree: identical = {identical})"
            )));
        }
    }
    let mut pending = barrier;
    loop {
        match pending.test() {
            Ok(_) => break,
            Err(p) => {
                pending = p;
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    outcome
}
