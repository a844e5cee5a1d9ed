//! Minnesota radon (Gelman and Hill 2007, ch. 12): 919 homes in 85 counties, varying intercepts
//! by county and a common floor effect, fitted with an `AutoNormal` guide.
//!
//! `cargo run --release --example radon`
//!
//! Model: `mu_a ~ Normal(0, 10)`, `sigma_a ~ HalfNormal(5)`, `a_c ~ Normal(mu_a, sigma_a)` in a
//! plate of counties, `b ~ Normal(0, 10)`, `sigma_y ~ HalfNormal(5)`, and for each home
//! `log_radon ~ Normal(a_county + b * floor, sigma_y)` with `floor` 0 for a measurement in the
//! basement, 1 on the first floor. The CSV's `basement` column *is* that floor indicator (HLMdiag
//! documents it as 0 = basement, 1 = first floor; its rows match Gelman and Hill's `floor`), so it
//! is used as is: `1 - basement` would flip the sign of `b`.
//! Gelman and Hill's multilevel fit: mu_a ≈ 1.46, b ≈ -0.69, sigma_a ≈ 0.33, sigma_y ≈ 0.76.

use pyro::data::load_table;
use pyro::infer::summary::{format_table, summary};
use pyro::plot::LinePlot;
use pyro::prelude::*;

#[path = "common/cli.rs"]
mod cli;

struct Radon {
    log_radon: Tensor,
    floor: Tensor,
    county: Vec<usize>,
    n_counties: usize,
}

#[model]
fn radon(d: &Radon) {
    let mu_a = sample!("mu_a", Normal::new(0.0, 10.0));
    let sigma_a = sample!("sigma_a", HalfNormal::new(5.0));
    let a = plate!("counties", d.n_counties, |_idx| {
        sample!("a", Normal::new(&mu_a, &sigma_a))
    });
    let b = sample!("b", Normal::new(0.0, 10.0));
    let sigma_y = sample!("sigma_y", HalfNormal::new(5.0));
    let n = d.county.len();
    plate!("homes", n, |_idx| {
        let mean = a.index_select(0, &d.county) + &b * &d.floor;
        sample!(
            "log_radon",
            Normal::new(mean, &sigma_y),
            obs = d.log_radon.clone()
        );
    });
}

fn load() -> pyro::Result<(Radon, Vec<String>)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/tables/HLMdiag__radon.csv"
    );
    let table = load_table(path)?;
    let y = table.column_f64("log.radon")?;
    let floor = table.column_f64("basement")?;
    // Counties are numbered from 1 in the file.
    let counties = table.column("county", "a county number from 1", |s| {
        s.parse::<usize>().ok().filter(|&c| c >= 1)
    })?;
    let mut county = Vec::with_capacity(counties.len());
    let mut names: Vec<String> = Vec::new();
    for (c, name) in counties.into_iter().zip(table.column_str("county.name")?) {
        county.push(c - 1);
        if names.len() < c {
            names.resize(c, String::new());
        }
        names[c - 1] = name;
    }
    let n_counties = names.len();
    Ok((
        Radon {
            log_radon: Tensor::from(y),
            floor: Tensor::from(floor),
            county,
            n_counties,
        },
        names,
    ))
}

fn main() -> pyro::Result<()> {
    cli::no_args("radon");
    let (data, names) = load()?;
    println!(
        "{} homes in {} counties",
        data.county.len(),
        data.n_counties
    );
    let adam = Adam::new(AdamConfig {
        lr: 0.02,
        ..Default::default()
    });
    let mut svi = Svi::new(radon, AutoNormal::new(radon), adam, TraceElbo::new(2)).seed(0);
    let losses = svi.run(5000, &data)?;
    for (step, loss) in losses.iter().enumerate().step_by(1000) {
        println!("step {step:>5}  loss {loss:.2}");
    }
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/target/radon/elbo.png");
    LinePlot::loss_curve("Radon: ELBO loss during SVI (AutoNormal)", &losses, 100).save(out)?;
    println!("ELBO curve: {out}");
    let samples = Predictive::new(radon, svi.guide(), svi.params(), 2000)
        .seed(1)
        .run(&data)?;
    let rows = summary(&samples, &["mu_a", "sigma_a", "b", "sigma_y"])?;
    println!(
        "\nPosterior (AutoNormal, 2000 draws):\n{}",
        format_table(&rows)
    );
    let mut county_rows = summary(&samples, &["a"])?;
    for (i, r) in county_rows.iter_mut().enumerate() {
        r.name = format!("a[{}]", names[i]);
    }
    println!("County intercepts (first 10 of {}):", names.len());
    println!("{}", format_table(&county_rows[..10]));
    Ok(())
}
