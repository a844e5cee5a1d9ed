use pyro::prelude::*;

fn helper(x: f64) -> f64 {
    x
}

#[model]
fn m(x: f64) {
    call!(helper, x);
}

fn main() {}
