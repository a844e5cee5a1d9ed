use pyro::prelude::*;

const Z: &str = "z";

#[model]
fn m() {
    sample!(Z, Normal::new(0.0, 1.0));
    sample!(Z, Normal::new(1.0, 1.0));
}

fn main() {}
