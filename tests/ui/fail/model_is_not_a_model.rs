use pyro::prelude::*;

struct Plain;

#[guide(model = Plain)]
fn g(_x: f64) {}

fn main() {
    let _ = Plain;
}
