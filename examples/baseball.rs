//! Efron and Morris (1975) baseball: batting averages of 18 players after their first 45 at-bats,
//! with partial pooling on the logit scale, fitted with an `AutoDiagonalNormal` guide; the
//! predictions are compared with each player's average over the rest of the season.
//!
//! `cargo run --release --example baseball`
//!
//! Data (`data/tables/pscl__EfronMorris.csv`): `r` hits in the first 45 at-bats, `y = r / 45`,
//! `n` at-bats in the rest of the season and `p` the batting average over them.
//!
//! Model: `mu ~ Normal(-1, 1)`, `sigma ~ HalfNormal(1)`, and per player
//! `alpha ~ Normal(mu, sigma)`, `r ~ Binomial(45, sigmoid(alpha))`.

use pyro::data::load_table;
use pyro::infer::summary::{format_table, summarize};
use pyro::plot::LinePlot;
use pyro::prelude::*;

#[path = "common/cli.rs"]
mod cli;

#[model]
fn partial_pooling(hits: &[f64], at_bats: f64) {
    let mu = sample!("mu", Normal::new(-1.0, 1.0));
    let sigma = sample!("sigma", HalfNormal::new(1.0));
    plate!("players", hits.len(), |_idx| {
        let alpha = sample!("alpha", Normal::new(&mu, &sigma));
        let p = deterministic!("p", alpha.sigmoid());
        sample!("r", Binomial::new(at_bats, p), obs = hits.to_vec());
    });
}

fn main() -> pyro::Result<()> {
    cli::no_args("baseball");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/tables/pscl__EfronMorris.csv"
    );
    let table = load_table(path)?;
    let hits = table.column_f64("r")?;
    let rest = table.column_f64("p")?;
    let names = table.column_str("name")?;
    let at_bats = 45.0;

    let guide = AutoDiagonalNormal::new(partial_pooling);
    let adam = Adam::new(AdamConfig {
        lr: 0.01,
        ..Default::default()
    });
    let mut svi = Svi::new(partial_pooling, guide, adam, TraceElbo::new(4)).seed(0);
    let losses = svi.run(4000, (&hits, at_bats))?;
    for (step, loss) in losses.iter().enumerate().step_by(1000) {
        println!("step {step:>5}  loss {loss:.3}");
    }

    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/target/baseball/elbo.png");
    LinePlot::loss_curve(
        "Baseball partial pooling: ELBO loss during SVI",
        &losses,
        100,
    )
    .save(out)?;
    println!("ELBO curve: {out}");

    let samples = Predictive::new(partial_pooling, svi.guide(), svi.params(), 4000)
        .seed(1)
        .run((&hits, at_bats))?;
    let mut table = summarize("mu", samples.get("mu")?)?;
    table.extend(summarize("sigma", samples.get("sigma")?)?);
    let p_rows = summarize("p", samples.get("p")?)?;
    println!(
        "\nPosterior (AutoDiagonalNormal, 4000 draws):\n{}",
        format_table(&table)
    );

    println!(
        "{:<20} {:>8} {:>10} {:>16} {:>10}",
        "player", "45 AB", "pooled", "90% interval", "rest"
    );
    let (mut se_raw, mut se_pooled) = (0.0, 0.0);
    for (i, row) in p_rows.iter().enumerate() {
        let raw = hits[i] / at_bats;
        se_raw += (raw - rest[i]).powi(2);
        se_pooled += (row.mean - rest[i]).powi(2);
        println!(
            "{:<20} {:>8.3} {:>10.3}   [{:.3}, {:.3}] {:>10.3}",
            names[i], raw, row.mean, row.q05, row.q95, rest[i]
        );
    }
    let n = hits.len() as f64;
    println!(
        "\nroot mean squared error against the rest of the season: raw {:.4}, partial pooling {:.4}",
        (se_raw / n).sqrt(),
        (se_pooled / n).sqrt()
    );
    Ok(())
}
