use pyro::prelude::*;

// A guide of a model of another crate, checked at compile time across the crate boundary.
#[guide(model = models_dep::coin)]
fn g(_data: &[f64]) {
    sample!("fairness", Beta::new(1.0, 1.0));
}

fn main() {}
