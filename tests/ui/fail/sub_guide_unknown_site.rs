use pyro::prelude::*;

#[model]
fn m(x: f64) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    sample!("x", Normal::new(z, 1.0), obs = x);
}

#[model]
fn other_prior() -> Tensor {
    sample!("v", Normal::new(0.0, 1.0))
}

#[guide(model = m)]
fn g(_x: f64) {
    sample!("z", Normal::new(0.0, 1.0));
    call!(other_prior);
}

fn main() {}
