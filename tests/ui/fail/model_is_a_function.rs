use pyro::prelude::*;

fn helper(x: f64) -> f64 {
    x
}

#[guide(model = helper)]
fn g(_x: f64) {}

fn main() {}
