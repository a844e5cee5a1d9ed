use pyro::prelude::*;

#[model]
fn m() {
    sample!("z", 1.0);
}

fn main() {}
