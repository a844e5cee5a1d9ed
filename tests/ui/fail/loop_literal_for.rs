use pyro::prelude::*;

#[model]
fn m(data: &[f64]) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    for &x in data {
        sample!("x", Normal::new(&z, 1.0), obs = x);
    }
}

fn main() {}
