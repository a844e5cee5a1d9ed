use pyro::prelude::*;

#[model]
fn m<T: Into<f64>>(x: T) {
    sample!("x", Normal::new(0.0, 1.0), obs = x.into());
}

fn main() {}
