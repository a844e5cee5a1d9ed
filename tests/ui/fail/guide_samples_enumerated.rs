use pyro::prelude::*;

#[model]
fn m(x: f64) {
    let b = sample!("b", Bernoulli::new(0.5), enumerate);
    sample!("x", Normal::new(b, 1.0), obs = x);
}

#[guide(model = m)]
fn g(_x: f64) {
    sample!("b", Bernoulli::new(0.5));
}

fn main() {
    let _ = (m, g);
}
