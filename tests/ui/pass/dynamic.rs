//! Names built at run time narrow the check instead of disabling it: the README's coin (observed
//! `format!` sites), a guide whose `format!` sites match the model's by prefix, a guide with a
//! name from a variable.

use pyro::prelude::*;

#[model]
fn coin(data: &[f64]) {
    let f = sample!("latent_fairness", Beta::new(10.0, 10.0));
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("obs_{i}"), Bernoulli::new(&f), obs = x);
    }
}

#[guide(model = coin)]
fn coin_guide(_data: &[f64]) {
    let alpha_q = param!("alpha_q", 15.0, constraint = positive);
    let beta_q = param!("beta_q", 15.0, constraint = positive);
    sample!("latent_fairness", Beta::new(alpha_q, beta_q));
}

#[model]
fn groups(data: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    for (i, &x) in data.iter().enumerate() {
        let c = sample!(format!("c_{i}"), Normal::new(&mu, 1.0));
        sample!(format!("x_{i}"), Normal::new(c, 1.0), obs = x);
    }
}

#[guide(model = groups)]
fn groups_guide(data: &[f64]) {
    sample!("mu", Normal::new(param!("mu_loc", 0.0), 1.0));
    for i in 0..data.len() {
        sample!(format!("c_{}", i), Normal::new(0.0, 1.0));
    }
}

#[guide(model = groups)]
fn groups_guide_by_variable(data: &[f64]) {
    sample!("mu", Normal::new(0.0, 1.0));
    for i in 0..data.len() {
        let name = format!("c_{i}");
        sample!(name, Normal::new(0.0, 1.0));
    }
}

fn main() {
    let data = [1.0, 0.0];
    let mut svi = Svi::new(coin, coin_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
    assert!(svi.step(&data[..]).unwrap().is_finite());
    let mut svi = Svi::new(groups, groups_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
    assert!(svi.step(&data[..]).unwrap().is_finite());
    let mut svi = Svi::new(groups, groups_guide_by_variable, Adam::new(AdamConfig::default()), TraceElbo::default());
    assert!(svi.step(&data[..]).unwrap().is_finite());
}
