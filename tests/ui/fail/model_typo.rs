use pyro::prelude::*;

#[model]
fn model_fn(x: f64) {
    sample!("x", Normal::new(0.0, 1.0), obs = x);
}

#[guide(model = modle_fn)]
fn g(_x: f64) {}

fn main() {
    let _ = g;
}
