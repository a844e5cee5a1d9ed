use pyro::prelude::*;

#[model]
fn m1(x: f64) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    sample!("x", Normal::new(z, 1.0), obs = x);
}

#[model]
fn m2(x: f64) {
    let z = sample!("z", Normal::new(0.0, 2.0));
    sample!("x", Normal::new(z, 1.0), obs = x);
}

fn main() {
    let params = ParamStore::new();
    let _ = Predictive::new(m1, AutoNormal::new(m2), &params, 10);
}
