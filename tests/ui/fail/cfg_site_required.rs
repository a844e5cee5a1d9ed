use pyro::prelude::*;

#[model]
fn m(x: f64) {
    #[cfg(all())]
    let z = sample!("z", Normal::new(0.0, 1.0));
    #[cfg(any())]
    let z = Tensor::scalar(0.0);
    sample!("x", Normal::new(z, 1.0), obs = x);
}

#[guide(model = m)]
fn g(_x: f64) {}

fn main() {}
