use pyro::prelude::*;

#[model]
fn m(x: f64) {
    sample!("a", Normal::new(0.0, 1.0), obs = x, obs = x);
    sample!("b", Bernoulli::new(0.5), obs = 1.0, enumerate);
}

fn main() {}
