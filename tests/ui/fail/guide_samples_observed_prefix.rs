use pyro::prelude::*;

#[model]
fn m(data: &[f64]) {
    let w = sample!("w", Normal::new(0.0, 1.0));
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("obs_{i}"), Normal::new(&w, 1.0), obs = x);
    }
}

#[guide(model = m)]
fn g(_data: &[f64]) {
    sample!("w", Normal::new(0.0, 1.0));
    sample!("obs_0", Normal::new(0.0, 1.0));
}

fn main() {}
