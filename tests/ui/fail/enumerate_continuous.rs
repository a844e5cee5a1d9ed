use pyro::prelude::*;

#[model]
fn mixture(x: f64) {
    let z = sample!("z", Normal::new(0.0, 1.0), enumerate);
    sample!("x", Normal::new(z, 1.0), obs = x);
}

fn main() {
    let _ = mixture;
}
