use pyro::prelude::*;

#[model]
#[model]
fn m(x: f64) {
    sample!("x", Normal::new(0.0, 1.0), obs = x);
}

fn main() {
    let _ = m;
}
