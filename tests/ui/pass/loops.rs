//! Loops that are not Pyro's duplicate-site bug: a literal site after which the loop always
//! ends, names built from the index, a vectorised plate, a site in a closure.

use pyro::prelude::*;

#[model]
fn rejection(x: f64) -> Tensor {
    loop {
        let z = sample!("z", Normal::new(0.0, 1.0));
        sample!("x", Normal::new(&z, 1.0), obs = x);
        break z;
    }
}

#[model]
fn indexed(data: &[f64]) {
    let mut i = 0;
    while i < data.len() {
        sample!(format!("x_{i}"), Normal::new(0.0, 1.0), obs = data[i]);
        i += 1;
    }
    for (j, &x) in data.iter().enumerate() {
        if j > 0 {
            continue;
        }
        sample!(format!("y_{j}"), Normal::new(0.0, 1.0), obs = x);
    }
}

#[model]
fn plated(data: &[f64]) {
    let draw = |n: usize| -> Vec<f64> { (0..n).map(|i| i as f64).collect() };
    plate!("data", data.len(), |idx| {
        sample!("x", Normal::new(0.0, 1.0), obs = draw(idx.len()));
    });
}

fn main() {
    let mut ctx = Context::new(0);
    rejection.call(&mut ctx, 1.0);
    indexed.call(&mut ctx, &[1.0, 2.0][..]);
    plated.call(&mut ctx, &[1.0, 2.0][..]);
    assert!(ctx.take_error().is_none());
}
