//! A hidden Markov model of Bach chorales (Pyro's HMM example, model 1, vectorised).
//!
//! Each chorale is a sequence of quarter-note steps; each step is the set of the 51 MIDI pitches
//! (36..86) sounding. K hidden states follow a Markov chain with Dirichlet-distributed transition
//! rows; in state k each pitch sounds independently with probability `probs_y[k, pitch]`
//! (Beta(0.1, 0.9) prior). The hidden states are summed out exactly by enumeration
//! (`TraceEnumElbo`, `markov!`); the parameters are MAP estimates (Delta guide), trained with
//! ClippedAdam on minibatches of chorales.
//!
//! Prints the train and test log-likelihood per time step after each epoch and writes the
//! learned transition matrix to `target/hmm/transitions.png`.
//!
//! Run: `cargo run --release --example hmm -- [--epochs N] [--states K] [--batch B]`

use indicatif::{ProgressBar, ProgressStyle};
use pyro::plot::{moving_average, Heatmap, LinePlot};
use pyro::prelude::*;

#[path = "common/cli.rs"]
mod cli;
use rand::{Rng as _, SeedableRng};

const LOWEST: usize = 36;
const TONES: usize = 51;

/// One split of the chorales, as tensors per time step.
struct Chorales {
    /// `steps[t]`: (sequences, 51) 0/1 piano roll at step t (zeros past a sequence's end).
    steps: Vec<Tensor>,
    lengths: Vec<usize>,
}

/// What the model sees: a split, the number of hidden states, the minibatch size, and whether
/// the prior counts (not when measuring the likelihood).
struct Batch<'d> {
    data: &'d Chorales,
    states: usize,
    batch: usize,
    include_prior: bool,
}

fn load(split: &str) -> pyro::Result<Chorales> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/chorales/chorales.json");
    let text = std::fs::read_to_string(path).map_err(|e| pyro::Error::file(path, e.to_string()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| pyro::Error::file(path, e.to_string()))?;
    let seqs = json[split]
        .as_array()
        .ok_or_else(|| pyro::Error::file(path, format!("no split `{split}`")))?;
    let lengths: Vec<usize> = seqs
        .iter()
        .map(|s| s.as_array().map_or(0, Vec::len))
        .collect();
    let max_len = lengths.iter().copied().max().unwrap_or(0);
    let n = seqs.len();
    let mut rolls = vec![vec![0.0; n * TONES]; max_len];
    for (i, seq) in seqs.iter().enumerate() {
        for (t, step) in seq.as_array().into_iter().flatten().enumerate() {
            for p in step.as_array().into_iter().flatten() {
                let p = p.as_u64().unwrap_or(0) as usize;
                if !(LOWEST..LOWEST + TONES).contains(&p) {
                    return Err(pyro::Error::file(path, format!("pitch {p} outside 36..86")));
                }
                rolls[t][i * TONES + p - LOWEST] = 1.0;
            }
        }
    }
    let steps = rolls
        .into_iter()
        .map(|r| Tensor::new(r, &[n, TONES]))
        .collect::<pyro::Result<_>>()?;
    Ok(Chorales { steps, lengths })
}

fn transition_prior(k: usize) -> Tensor {
    let c: Vec<f64> = (0..k * k)
        .map(|i| if i % (k + 1) == 0 { 1.0 } else { 0.1 })
        .collect();
    Tensor::new(c, &[k, k]).unwrap_or_else(|_| Tensor::scalar(f64::NAN))
}

#[model]
fn hmm(b: &Batch<'_>) {
    let k = b.states;
    let prior = if b.include_prior { 1.0 } else { 0.0 };
    let probs_x = sample!(
        "probs_x",
        Dirichlet::new(transition_prior(k)).to_event(1).mask(prior)
    );
    let probs_y = sample!(
        "probs_y",
        Beta::new(0.1, 0.9)
            .expand(&[k, TONES])
            .to_event(2)
            .mask(prior)
    );
    let n = b.data.lengths.len();
    plate!(
        "sequences",
        n,
        subsample_size = b.batch.min(n),
        dim = -2,
        |idx| {
            let lengths: Vec<usize> = idx.iter().map(|&i| b.data.lengths[i]).collect();
            let horizon = lengths.iter().copied().max().unwrap_or(0);
            let mut x = Tensor::scalar(0.0);
            markov!(for t in 0..horizon {
                // Steps past a chorale's end are masked out.
                let live: Vec<f64> = lengths
                    .iter()
                    .map(|&l| f64::from(u8::from(t < l)))
                    .collect();
                let live =
                    Tensor::new(live, &[idx.len(), 1]).unwrap_or_else(|_| Tensor::scalar(0.0));
                x = sample!(
                    format!("x_{t}"),
                    Categorical::new(probs_x.index_by(&x)).mask(live.clone()),
                    enumerate
                );
                let y = b.data.steps[t].index_select(0, idx);
                // `x` is (K, 1, 1): its trailing 1 is the sequences dim. Indexing a (K, tones) table
                // appends a dim, so squeeze it first to keep the enumeration dim where it belongs
                // (as Pyro's `probs_y[x.squeeze(-1)]`).
                plate!("tones", TONES, dim = -1, |_| {
                    sample!(
                        format!("y_{t}"),
                        Bernoulli::new(probs_y.index_by(&x.squeeze(-1))).mask(live.clone()),
                        obs = y
                    );
                });
            });
        }
    );
}

#[guide(model = hmm)]
fn hmm_guide(b: &Batch<'_>) {
    let k = b.states;
    let probs_x = param!(
        "probs_x_map",
        {
            let p: Vec<f64> = (0..k * k)
                .map(|i| {
                    if i % (k + 1) == 0 {
                        0.5 + 0.5 / k as f64
                    } else {
                        0.5 / k as f64
                    }
                })
                .collect();
            Tensor::new(p, &[k, k]).unwrap_or_else(|_| Tensor::scalar(f64::NAN))
        },
        constraint = simplex
    );
    let probs_y = param!(
        "probs_y_map",
        {
            // A seeded random start breaks the symmetry between states.
            let mut rng = rand::rngs::StdRng::seed_from_u64(0);
            let p: Vec<f64> = (0..k * TONES)
                .map(|_| rng.random_range(0.05..0.3))
                .collect();
            Tensor::new(p, &[k, TONES]).unwrap_or_else(|_| Tensor::scalar(f64::NAN))
        },
        constraint = unit_interval
    );
    sample!("probs_x", Delta::with_event_dim(probs_x, 0.0, 2));
    sample!("probs_y", Delta::with_event_dim(probs_y, 0.0, 2));
}

/// Log-likelihood per time step of a whole split at the current parameters. The masked steps
/// past each chorale's end contribute `ln K` each when the states are summed out (every value of
/// a masked state has log-density 0); that constant is taken off.
fn log_likelihood_per_step(
    svi: &mut Svi<hmm, hmm_guide, ClippedAdam, TraceEnumElbo>,
    data: &Chorales,
    k: usize,
) -> pyro::Result<f64> {
    let n = data.lengths.len();
    let b = Batch {
        data,
        states: k,
        batch: n,
        include_prior: false,
    };
    let loss = svi.evaluate_loss(&b)?;
    let horizon = data.lengths.iter().copied().max().unwrap_or(0);
    let masked: usize = data.lengths.iter().map(|&l| horizon - l).sum();
    let steps: usize = data.lengths.iter().sum();
    Ok((-loss - masked as f64 * (k as f64).ln()) / steps as f64)
}

const USAGE: &str = "usage: hmm [--epochs N (10)] [--states K (16)] [--batch B (20)]";

/// `(epochs, states, batch)` from the command line.
fn parse_args() -> (usize, usize, usize) {
    use lexopt::prelude::*;
    let (mut epochs, mut k, mut batch) = (10, 16, 20);
    cli::parse("hmm", USAGE, |arg, parser| {
        match arg {
            Long("epochs") => epochs = parser.value()?.parse()?,
            Long("states") => k = parser.value()?.parse()?,
            Long("batch") => batch = parser.value()?.parse()?,
            _ => return Ok(false),
        }
        Ok(true)
    });
    (epochs, k, batch)
}

fn main() -> pyro::Result<()> {
    let (epochs, k, batch) = parse_args();
    let train = load("train")?;
    let test = load("test")?;
    println!(
        "Bach chorales: {} train and {} test sequences, {} tones, {k} hidden states",
        train.lengths.len(),
        test.lengths.len(),
        TONES
    );
    let optim = ClippedAdam::new(ClippedAdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    let elbo = TraceEnumElbo::default().with_max_plate_nesting(2);
    let mut svi = Svi::new(hmm, hmm_guide, optim, elbo).seed(0);
    let steps_per_epoch = train.lengths.len().div_ceil(batch);
    let (mut losses, mut curves) = (Vec::new(), Vec::new());
    for epoch in 1..=epochs {
        let bar = ProgressBar::new(steps_per_epoch as u64);
        bar.set_style(
            ProgressStyle::with_template("epoch {msg} {bar:30} {pos}/{len} steps")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(epoch.to_string());
        for _ in 0..steps_per_epoch {
            let loss = svi.step(&Batch {
                data: &train,
                states: k,
                batch,
                include_prior: true,
            })?;
            losses.push(loss);
            bar.inc(1);
        }
        bar.finish_and_clear();
        let tr = log_likelihood_per_step(&mut svi, &train, k)?;
        let te = log_likelihood_per_step(&mut svi, &test, k)?;
        println!("epoch {epoch:>3}  train log-lik/step {tr:>8.4}  test log-lik/step {te:>8.4}");
        curves.push((epoch as f64, tr, te));
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target/hmm");
    // The learned transition matrix: row i is the distribution of the next state from state i.
    let probs = svi.params().get("probs_x_map")?.to_vec()?;
    Heatmap::new(
        format!("HMM: learned transition probabilities ({k} hidden states)"),
        &probs,
        k,
        k,
    )?
    .x_label("next state")
    .y_label("current state")
    .scale_label("P(next state | current state)")
    .save(format!("{dir}/transitions.png"))?;
    LinePlot::new("HMM: ELBO loss per minibatch step (states summed out)")
        .x_label("step")
        .y_label("loss (-ELBO, nats)")
        .series_faint("loss per step", &losses)
        .series(
            format!("moving average, {steps_per_epoch} steps (one epoch)"),
            &moving_average(&losses, steps_per_epoch),
        )
        .log_y_when_useful()
        .save(format!("{dir}/elbo.png"))?;
    let epochs_x: Vec<f64> = curves.iter().map(|c| c.0).collect();
    let train_ll: Vec<f64> = curves.iter().map(|c| c.1).collect();
    let test_ll: Vec<f64> = curves.iter().map(|c| c.2).collect();
    LinePlot::new("HMM: log-likelihood per time step")
        .x_label("epoch")
        .y_label("log-likelihood / step (nats)")
        .series_xy("train", &epochs_x, &train_ll)
        .series_xy("test", &epochs_x, &test_ll)
        .save(format!("{dir}/log_likelihood.png"))?;
    println!(
        "pictures in {dir}: transitions.png (the learned transition matrix), elbo.png, \
         log_likelihood.png"
    );
    Ok(())
}
