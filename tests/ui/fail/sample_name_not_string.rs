use pyro::prelude::*;

#[model]
fn m() {
    sample!(42, Normal::new(0.0, 1.0));
}

fn main() {}
