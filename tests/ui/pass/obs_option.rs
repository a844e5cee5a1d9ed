//! `obs = Option<..>` (Pyro's `obs=None`): the site is maybe-observed, so a guide may leave it
//! out (it is observed when training) or sample it (it is latent when `obs` is `None`).

use pyro::prelude::*;

/// An argument declared `Option`, and what `Option`'s methods make of it.
#[model]
fn regression(x: &[f64], y: Option<&[f64]>) {
    let w = sample!("w", Normal::new(0.0, 1.0));
    let x = Tensor::from_slice(x);
    plate!("data", x.numel(), |_| {
        sample!("y", Normal::new(&w * &x, 0.5), obs = y);
    });
    sample!("first", Normal::new(&w, 1.0), obs = y.map(|y| y[0]));
    sample!("last", Normal::new(&w, 1.0), obs = y.and_then(|y| y.last().copied()));
}

/// Leaves the maybe-observed sites out: the guide of training runs.
#[guide(model = regression)]
fn training_guide(_x: &[f64], _y: Option<&[f64]>) {
    let loc = param!("w_loc", 0.0);
    sample!("w", Normal::new(loc, 1.0));
}

/// Samples them when they are missing.
#[guide(model = regression)]
fn imputing_guide(x: &[f64], y: Option<&[f64]>) {
    let loc = param!("w_loc", 0.0);
    sample!("w", Normal::new(loc, 1.0));
    if y.is_none() {
        plate!("data", x.len(), |_| {
            sample!("y", Normal::new(0.0, 1.0).expand(&[x.len()]));
        });
        sample!("first", Normal::new(0.0, 1.0));
        sample!("last", Normal::new(0.0, 1.0));
    }
}

/// A `let` declared `Option`, a `let` of `None`/`Some`, `None` itself, and a sequential use.
#[model]
fn locals(data: &[f64], missing: usize) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    for (i, &x) in data.iter().enumerate() {
        let obs: Option<f64> = if i == missing { None } else { Some(x) };
        sample!(format!("x_{i}"), Normal::new(&z, 1.0), obs = obs);
    }
    let nothing = None::<f64>;
    sample!("a", Normal::new(&z, 1.0), obs = nothing);
    let something = Some(1.0);
    sample!("b", Normal::new(&z, 1.0), obs = something);
    sample!("c", Normal::new(&z, 1.0), obs = None::<f64>);
    sample!("d", Normal::new(&z, 1.0), obs = Some(2.0));
}

#[guide(model = locals)]
fn locals_guide(data: &[f64], missing: usize) {
    sample!("z", Normal::new(0.0, 1.0));
    if missing < data.len() {
        sample!(format!("x_{missing}"), Normal::new(0.0, 1.0));
    }
    sample!("a", Normal::new(0.0, 1.0));
    sample!("c", Normal::new(0.0, 1.0));
}

fn main() {
    let adam = || Adam::new(AdamConfig::default());
    let _ = Svi::new(regression, training_guide, adam(), TraceElbo::default());
    let _ = Svi::new(regression, imputing_guide, adam(), TraceElbo::default());
    let _ = Svi::new(locals, locals_guide, adam(), TraceElbo::default());
}
