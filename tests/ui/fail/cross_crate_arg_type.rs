use pyro::prelude::*;

#[guide(model = models_dep::regression)]
fn g(_xs: &[f64]) {
    sample!("scale", LogNormal::new(0.0, 1.0));
    sample!("w", Normal::new(0.0, 1.0));
}

fn main() {}
