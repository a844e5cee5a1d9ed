use pyro::prelude::*;

#[guide]
fn g() {
    sample!("z", Normal::new(0.0, 1.0));
}

fn main() {
    let _ = g;
}
