use pyro::prelude::*;

#[model]
fn m() {
    sample!("b", Bernoulli::new(0.5), enumerat);
}

fn main() {}
