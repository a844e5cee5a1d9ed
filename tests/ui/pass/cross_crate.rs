//! Guides of models defined in another crate (`tests/crates/models_dep`), checked at compile
//! time against their descriptions; a sub-model of that crate composed into a local model.

use models_dep::{coin, Batch};
use pyro::prelude::*;

#[guide(model = coin)]
fn coin_guide(_data: &[f64]) {
    let a = param!("alpha_q", 15.0, constraint = positive);
    let b = param!("beta_q", 15.0, constraint = positive);
    sample!("latent_fairness", Beta::new(a, b));
}

#[guide(model = models_dep::regression)]
fn regression_guide(_batch: Batch<'_>) {
    sample!("scale", LogNormal::new(param!("s", 0.0), 1.0));
    sample!("w", Normal::new(param!("w_loc", 0.0), 1.0));
}

#[model]
fn local(x: f64) {
    let s = call!(models_dep::scale_prior, 1.0);
    sample!("x", Normal::new(0.0, s), obs = x);
}

#[guide(model = local)]
fn local_guide(_x: f64) {
    sample!("scale", LogNormal::new(0.0, 1.0));
}

fn main() {
    let data = [1.0, 0.0, 1.0];
    let mut svi = Svi::new(coin, coin_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
    assert!(svi.step(&data[..]).unwrap().is_finite());
    let mut svi = Svi::new(models_dep::regression, regression_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
    assert!(svi.step(Batch { xs: &data }).unwrap().is_finite());
    let mut svi = Svi::new(local, local_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
    assert!(svi.step(0.5).unwrap().is_finite());
}
