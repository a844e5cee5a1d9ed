use pyro::prelude::*;

#[model]
fn prior(scale: f64) -> Tensor {
    sample!("z", Normal::new(0.0, scale))
}

#[model]
fn full(x: f64) {
    let z = call!(prior, 1.0);
    let w = sample!("w", Normal::new(0.0, 1.0));
    sample!("x", Normal::new(z + w, 1.0), obs = x);
}

// The sub-model's site `z` is part of `full`'s description.
#[guide(model = full)]
fn g(_x: f64) {
    sample!("w", Normal::new(0.0, 1.0));
}

fn main() {}
