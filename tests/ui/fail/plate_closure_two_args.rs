use pyro::prelude::*;

#[model]
fn m(data: &[f64]) {
    plate!("data", data.len(), |idx, extra| {
        sample!("x", Normal::new(0.0, 1.0), obs = idx.len() as f64 + extra);
    });
}

fn main() {}
