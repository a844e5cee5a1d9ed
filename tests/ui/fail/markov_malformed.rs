use pyro::prelude::*;

#[model]
fn m(n: usize) {
    markov!(n, |t| {
        sample!(format!("x_{t}"), Normal::new(0.0, 1.0));
    });
}

fn main() {}
