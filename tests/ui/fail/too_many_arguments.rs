use pyro::prelude::*;

#[model]
fn m(x: f64) {
    factor!("f", x, x);
    deterministic!("d");
}

fn main() {}
