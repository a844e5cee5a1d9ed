use pyro::prelude::*;

const Z: &str = "z";

#[model]
fn m(x: f64) {
    let z = sample!(Z, Normal::new(0.0, 1.0));
    sample!("x", Normal::new(z, 1.0), obs = x);
}

#[guide(model = m)]
fn g(_x: f64) {
    sample!(concat!("z", "z"), Normal::new(0.0, 1.0));
}

fn main() {}
