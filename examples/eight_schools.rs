//! Eight schools (Rubin 1981; Gelman et al., *Bayesian Data Analysis*, 5.5), non-centred, fitted
//! twice: with an `AutoNormal` guide (SVI), and by NUTS (4 chains of 1000 warm-up iterations and
//! 1000 draws); the two posteriors are printed side by side.
//!
//! `cargo run --release --example eight_schools`
//!
//! Model: `mu ~ Normal(0, 5)`, `tau ~ HalfCauchy(5)`, and in a plate of 8 schools
//! `theta_tilde ~ Normal(0, 1)`, `theta = mu + tau * theta_tilde`, `y ~ Normal(theta, sigma)`.
//! The published NUTS posterior is mu ≈ 4.4 ± 3.3, tau ≈ 3.6 ± 3.2 (median ≈ 2.7), which NUTS
//! reproduces here with no divergence and R-hat below 1.01; the mean-field guide underestimates
//! the spread of tau, as variational inference tends to.

use pyro::data::load_table;
use pyro::infer::mcmc::{Mcmc, Nuts};
use pyro::infer::summary::{format_table, summary};
use pyro::plot::LinePlot;
use pyro::prelude::*;

#[path = "common/cli.rs"]
mod cli;

#[model]
fn eight_schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    plate!("schools", y.len(), |_idx| {
        let theta_tilde = sample!("theta_tilde", Normal::new(0.0, 1.0));
        let theta = deterministic!("theta", &mu + &tau * theta_tilde);
        sample!("obs", Normal::new(theta, sigma.to_vec()), obs = y.to_vec());
    });
}

fn main() -> pyro::Result<()> {
    cli::no_args("eight_schools");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/tables/stevedata__eight_schools.csv"
    );
    let table = load_table(path)?;
    let y = table.column_f64("est")?;
    let sigma = table.column_f64("se")?;
    let schools = table.column_str("school")?;

    let guide = AutoNormal::new(eight_schools);
    let adam = Adam::new(AdamConfig {
        lr: 0.01,
        ..Default::default()
    });
    let mut svi = Svi::new(eight_schools, guide, adam, TraceElbo::new(4)).seed(0);
    let losses = svi.run(4000, (&y, &sigma))?;
    for (step, loss) in losses.iter().enumerate().step_by(1000) {
        println!("step {step:>5}  loss {loss:.3}");
    }

    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/target/eight_schools/elbo.png");
    LinePlot::loss_curve(
        "Eight schools: ELBO loss during SVI (AutoNormal)",
        &losses,
        100,
    )
    .save(out)?;
    println!("ELBO curve: {out}");

    let samples = Predictive::new(eight_schools, svi.guide(), svi.params(), 4000)
        .seed(1)
        .run((&y, &sigma))?;
    let mut rows = summary(&samples, &["mu", "tau", "theta"])?;
    for (i, r) in rows.iter_mut().enumerate().skip(2) {
        r.name = format!("theta[{}]", schools[i - 2]);
    }
    println!(
        "\nPosterior (AutoNormal, 4000 draws):\n{}",
        format_table(&rows)
    );

    // NUTS on the same model: 4 chains on threads, 1000 warm-up iterations and 1000 draws each.
    let t = std::time::Instant::now();
    let draws = Mcmc::new(Nuts::new(eight_schools))
        .warmup(1000)
        .samples(1000)
        .chains(4)
        .seed(0)
        .run((&y, &sigma))?;
    let secs = t.elapsed().as_secs_f64();
    let mut nuts = draws.summary_of(&["mu", "tau", "theta"])?;
    for (i, r) in nuts.rows.iter_mut().enumerate().skip(2) {
        r.name = format!("theta[{}]", schools[i - 2]);
    }
    println!("\nPosterior (NUTS, 4 chains x 1000 draws, {secs:.2} s):\n{nuts}");

    println!("\nSide by side (mean ± sd):");
    println!("{:<12} {:>18} {:>18}", "", "SVI (AutoNormal)", "NUTS");
    for (svi_row, nuts_row) in rows.iter().zip(&nuts.rows) {
        println!(
            "{:<12} {:>18} {:>18}",
            svi_row.name,
            pm(svi_row.mean, svi_row.std),
            pm(nuts_row.mean, nuts_row.sd)
        );
    }
    let tau = nuts.row("tau").map(|r| (r.mean, r.sd, r.median));
    if let Some((m, sd, med)) = tau {
        println!(
            "\nNUTS tau: {m:.2} ± {sd:.2} (median {med:.2}); published: 3.6 ± 3.2 (median 2.7)"
        );
    }
    Ok(())
}

fn pm(mean: f64, sd: f64) -> String {
    format!("{mean:.2} ± {sd:.2}")
}
