use pyro::prelude::*;

mod a {
    pub struct Batch(pub f64);
}
mod b {
    pub struct Batch(pub f64);
}

#[model]
fn m(batch: a::Batch) {
    sample!("x", Normal::new(0.0, 1.0), obs = batch.0);
}

use b::Batch;

#[guide(model = m)]
fn g(_batch: Batch) {}

fn main() {}
