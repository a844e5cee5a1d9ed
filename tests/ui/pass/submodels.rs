//! `call!`: a sub-model's description is composed into its caller's, so a guide of the caller
//! is checked against the sub-model's sites; sub-guides; a recursive model; a model held in a
//! local variable (checked at run time).

use pyro::prelude::*;

#[model]
fn prior(scale: f64) -> Tensor {
    sample!("z", Normal::new(0.0, scale))
}

#[model]
fn full(x: f64) {
    let z = call!(prior, 1.0);
    sample!("x", Normal::new(z, 1.0), obs = x);
}

#[guide(model = prior)]
fn prior_guide(_scale: f64) -> Tensor {
    sample!("z", Normal::new(param!("loc", 0.0), 1.0))
}

#[guide(model = full)]
fn full_guide(_x: f64) {
    call!(prior_guide, 1.0);
}

#[guide(model = full)]
fn flat_guide(_x: f64) {
    sample!("z", Normal::new(param!("loc2", 0.0), 1.0));
}

/// Recursion: the model's own sites, by `format!`.
#[model]
fn chain(depth: usize) {
    sample!(format!("step_{depth}"), Normal::new(0.0, 1.0), obs = 0.0);
    if depth > 0 {
        call!(chain, depth - 1);
    }
}

#[model]
fn via_local(x: f64) {
    let sub = prior;
    let z = call!(sub, 1.0);
    sample!("x", Normal::new(z, 1.0), obs = x);
}

#[guide(model = via_local)]
fn via_local_guide(_x: f64) {
    sample!("z", Normal::new(0.0, 1.0));
}

fn main() {
    let adam = || Adam::new(AdamConfig::default());
    let mut svi = Svi::new(full, full_guide, adam(), TraceElbo::default());
    assert!(svi.step(1.0).unwrap().is_finite());
    let mut svi = Svi::new(full, flat_guide, adam(), TraceElbo::default());
    assert!(svi.step(1.0).unwrap().is_finite());
    let mut svi = Svi::new(via_local, via_local_guide, adam(), TraceElbo::default());
    assert!(svi.step(1.0).unwrap().is_finite());
    let mut ctx = Context::new(0);
    chain.call(&mut ctx, 3);
    assert!(ctx.take_error().is_none());
}
