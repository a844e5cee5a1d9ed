//! The *SVI Part I* tutorial of Pyro: is this coin fair?
//!
//! Ten flips (six heads, four tails), a Beta(10, 10) prior on the fairness `f`, and a Beta guide
//! whose two parameters are learned by stochastic variational inference. The exact posterior is
//! Beta(16, 14): mean 0.533, standard deviation 0.090.
//!
//! Run: `cargo run --release --example coin`

use pyro::plot::LinePlot;
use pyro::prelude::*;

#[path = "common/cli.rs"]
mod cli;

#[model]
fn coin(data: &[f64]) {
    // The prior: the coin is probably close to fair.
    let f = sample!("latent_fairness", Beta::new(10.0, 10.0));
    // Each flip is its own observed site, as in the tutorial.
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("obs_{i}"), Bernoulli::new(f.clone()), obs = x);
    }
}

#[guide(model = coin)]
fn coin_guide(_data: &[f64]) {
    let alpha_q = param!("alpha_q", 15.0, constraint = positive);
    let beta_q = param!("beta_q", 15.0, constraint = positive);
    sample!("latent_fairness", Beta::new(alpha_q, beta_q));
}

fn main() -> pyro::Result<()> {
    cli::no_args("coin");
    let data = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    let adam = Adam::new(AdamConfig {
        lr: 0.0005,
        betas: (0.90, 0.999),
        ..Default::default()
    });
    let mut svi = Svi::new(coin, coin_guide, adam, TraceElbo::default()).seed(0);

    // 5000 steps, with a progress bar on a terminal; it returns the loss of each step.
    let losses = svi.run(5000, &data)?;

    let alpha_q = svi.params().scalar("alpha_q")?;
    let beta_q = svi.params().scalar("beta_q")?;
    // Mean and standard deviation of Beta(alpha_q, beta_q).
    let mean = alpha_q / (alpha_q + beta_q);
    let factor = beta_q / (alpha_q * (1.0 + alpha_q + beta_q));
    let std = mean * factor.sqrt();
    println!("alpha_q = {alpha_q:.3}, beta_q = {beta_q:.3}");
    println!(
        "based on the data and our prior belief, the fairness of the coin is {mean:.3} +- {std:.3}"
    );
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/target/coin/elbo.png");
    LinePlot::loss_curve("Coin fairness: ELBO loss during SVI", &losses, 100).save(out)?;
    println!("ELBO curve: {out}");
    Ok(())
}
