use pyro::prelude::*;

#[model]
fn m(data: &[f64]) {
    let w = sample!("w", Normal::new(0.0, 1.0));
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("x_{i}"), Normal::new(&w, 1.0), obs = x);
    }
}

#[guide(model = m)]
fn g(data: &[f64]) {
    sample!("w", Normal::new(0.0, 1.0));
    for i in 0..data.len() {
        sample!(format!("q_{i}"), Normal::new(0.0, 1.0));
    }
}

fn main() {}
