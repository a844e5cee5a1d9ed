use pyro::prelude::*;

#[model]
fn m(data: &[f64]) {
    let w = sample!("w", Normal::new(0.0, 1.0));
    for (i, &x) in data.iter().enumerate() {
        let c = sample!(format!("c_{i}"), Normal::new(&w, 1.0));
        sample!(format!("x_{i}"), Normal::new(c, 1.0), obs = x);
    }
}

// A `format!` site of the guide covers the model's `c_...` sites, not `w`.
#[guide(model = m)]
fn g(data: &[f64]) {
    for i in 0..data.len() {
        sample!(format!("c_{i}"), Normal::new(0.0, 1.0));
    }
}

fn main() {}
