//! Models as values with handlers applied: each is a `Model`, goes to `Svi`, `Predictive` and
//! the autoguides, and takes the guides written for the model it wraps.

use pyro::handlers::{self, block, condition, do_, mask, scale, seed, trace};
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
    let a = param!("alpha_q", 15.0, constraint = positive);
    let b = param!("beta_q", 15.0, constraint = positive);
    sample!("latent_fairness", Beta::new(a, b));
}

/// A model that calls a handled model as a sub-model.
#[model]
fn twice(data: &[f64]) {
    call!(scale(coin, 2.0), data);
}

fn main() -> pyro::Result<()> {
    let data = [1.0, 0.0, 1.0];
    let adam = || Adam::new(AdamConfig::default());
    // Written guides guide the handled model.
    let mut svi = Svi::new(scale(coin, 0.5), coin_guide, adam(), TraceElbo::default());
    svi.step(&data)?;
    let _ = Svi::new(mask(coin, 1.0), coin_guide, adam(), TraceElbo::default());
    let _ = Svi::new(seed(coin, 3), coin_guide, adam(), TraceElbo::default());
    let _ = Svi::new(trace(coin), coin_guide, adam(), TraceElbo::default());
    // Autoguides are built from the handled model.
    let conditioned = condition(coin, [("obs_0", 1.0)]);
    let _ = Svi::new(conditioned.clone(), AutoNormal::new(conditioned), adam(), TraceElbo::default());
    let intervened = do_(coin, [("latent_fairness", 0.5)]);
    let _ = Svi::new(intervened.clone(), AutoDelta::new(intervened), adam(), TraceElbo::default());
    // An autoguide of a blocked model guides the model itself (Pyro's
    // `AutoDelta(poutine.block(model, expose=[..]))`).
    let exposed = AutoDelta::new(block(coin).expose(["latent_fairness"]));
    let _ = Svi::new(coin, exposed, adam(), TraceElbo::default());
    // Predictive.
    let _ = Predictive::new(scale(coin, 1.0), coin_guide, svi.params(), 10).run(&data)?;
    // Run on its own: output and trace.
    let ((), tr) = pyro::run(&coin, &data, 0)?;
    let _ = tr.site("latent_fairness")?;
    let _ = handlers::trace(coin).get_trace(&data, 0)?;
    let _ = pyro::run(&twice, &data, 0)?;
    Ok(())
}
