//! `DistributedSvi` on 2 MPI ranks (the `mpi` feature): `cargo test --features mpi --test mpi`.
//!
//! This test has its own `main` (`harness = false`): started by cargo, it launches itself under
//! `mpirun -np 2` (with a time limit, so that a hang fails instead of blocking CI); started by
//! `mpirun`, it is a rank and runs the checks. Without `mpirun` it is skipped with a message,
//! except under CI (`CI` set), where that is a failure.

use std::process::Command;

use pyro::infer::DistributedSvi;
use pyro::mpi::collective::SystemOperation;
use pyro::mpi::topology::{Communicator, SimpleCommunicator};
use pyro::mpi::traits::CommunicatorCollectives;
use pyro::prelude::*;

mod common;
use common::sharded_linreg::{adam, linreg, linreg_guide, rows, Rows};

fn main() {
    let under_mpirun = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if under_mpirun {
        rank_main();
    } else {
        launch();
    }
}

fn launch() {
    if Command::new("mpirun").arg("--version").output().is_err() {
        let msg = "mpi test skipped: `mpirun` not found (install Open MPI: apt-get install \
                   libopenmpi-dev openmpi-bin; README, \"Scaling\")";
        if std::env::var_os("CI").is_some() {
            eprintln!("{msg}; under CI this is a failure");
            std::process::exit(1);
        }
        println!("{msg}");
        return;
    }
    let exe = std::env::current_exe().expect("the test knows its own path");
    let out = Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "--timeout", "300"])
        .args(["-np", "2"])
        .arg(exe)
        .output()
        .expect("mpirun starts");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the 2-rank run failed: {}",
        out.status
    );
    println!("mpi test: 2 ranks ok");
}

/// A rank's rows of the fixture's data; `poison` puts a NaN into its fourth response.
fn rank_rows(range: std::ops::Range<usize>, poison: bool) -> Rows {
    let mut r = rows(range).unwrap();
    if poison {
        let mut ys = r.y.to_vec().unwrap();
        ys[3] = f64::NAN;
        let n = ys.len();
        r.y = Tensor::new(ys, &[n]).unwrap();
    }
    r
}

fn svi(comm: &SimpleCommunicator) -> DistributedSvi<linreg, linreg_guide, Adam, TraceElbo> {
    Svi::new(linreg, linreg_guide, adam(), TraceElbo::new(2))
        .seed(7)
        .distributed(comm, "data")
}

fn unconstrained(store: &ParamStore) -> Vec<f64> {
    store
        .entries()
        .iter()
        .flat_map(|e| e.unconstrained().to_vec().unwrap())
        .collect()
}

fn rank_main() {
    let universe = pyro::mpi::initialize().expect("MPI starts once");
    let world = universe.world();
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    assert_eq!(size, 2, "run with 2 ranks");
    let n = 1001;
    let mine = rank_rows(rank * n / size..(rank + 1) * n / size, false);

    // 1. The same fit as one process on the whole data (rank 0 checks, on a one-rank
    //    communicator), and the same parameters on every rank.
    let mut dist = svi(&world);
    let losses: Vec<f64> = (0..60).map(|_| dist.step(&mine).unwrap()).collect();
    let p = unconstrained(dist.params());
    let (mut hi, mut lo) = (vec![0.0; p.len()], vec![0.0; p.len()]);
    world.all_reduce_into(&p[..], &mut hi[..], SystemOperation::max());
    world.all_reduce_into(&p[..], &mut lo[..], SystemOperation::min());
    assert_eq!(hi, lo, "ranks hold different parameters");
    if rank == 0 {
        let whole = rank_rows(0..n, false);
        let mut single = svi(&SimpleCommunicator::self_comm());
        let single_losses: Vec<f64> = (0..60).map(|_| single.step(&whole).unwrap()).collect();
        for (a, b) in losses.iter().zip(&single_losses) {
            assert!((a - b).abs() <= 1e-11 * a.abs(), "loss {a} vs {b}");
        }
        for (a, b) in p.iter().zip(unconstrained(single.params())) {
            assert!((a - b).abs() < 1e-10, "parameter {a} vs {b}");
        }
    }
    world.barrier();

    // 2. A rank's bad data stops every rank with that rank's error, and no rank hangs; the
    //    next step with good data goes on.
    let bad = rank_rows(rank * n / size..(rank + 1) * n / size, rank == 1);
    let e = dist.step(&bad).unwrap_err().to_string();
    assert!(e.contains("rank 1 of 2") && e.contains("`y`"), "{e}");
    let before = unconstrained(dist.params());
    assert_eq!(before, p, "a failed step changed the parameters");
    dist.step(&mine).unwrap();

    // 3. Checkpoints come from rank 0 only.
    let dir = std::env::temp_dir().join(format!("pyro-mpi-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("ckpt-rank{rank}.json"));
    dist.save(&path).unwrap();
    assert_eq!(path.exists(), rank == 0, "rank {rank} wrote a checkpoint");
    let _ = std::fs::remove_dir_all(&dir);
    world.barrier();
    if rank == 0 {
        println!(
            "rank 0: distributed fit equals the single-process fit; errors and checkpoints ok"
        );
    }
}
