use pyro::prelude::*;

#[model]
fn m() {
    sample!("x", Normal::new(0.0, 1.0), obs =);
}

fn main() {}
