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

use pyro::infer::summary::{format_table, summary};
use pyro::prelude::*;

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
    let text = std::fs::read_to_string(path).map_err(|e| pyro::Error::file(path, e.to_string()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let (il, ib, ic, iname) = (
        col("log.radon"),
        col("basement"),
        col("county"),
        col("county.name"),
    );
    let (mut y, mut floor, mut county) = (Vec::new(), Vec::new(), Vec::new());
    let mut names: Vec<String> = Vec::new();
    for l in lines.filter(|l| !l.trim().is_empty()) {
        let r: Vec<&str> = l.split(',').collect();
        y.push(r[il].parse::<f64>().expect("log.radon"));
        floor.push(r[ib].parse::<f64>().expect("basement"));
        let c: usize = r[ic].parse().expect("county");
        county.push(c - 1);
        if names.len() < c {
            names.resize(c, String::new());
        }
        names[c - 1] = r[iname].to_string();
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
    for step in 0..5000 {
        let loss = svi.step(&data)?;
        if step % 1000 == 0 {
            println!("step {step:>5}  loss {loss:.2}");
        }
    }
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
