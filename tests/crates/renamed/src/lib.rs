//! Models written against a renamed dependency (`pp = { package = "pyro-ppl", .. }` in
//! `Cargo.toml`): `#[model(crate = pp)]` tells the macros where the crate is. The crate denies
//! `clippy::pedantic`, so CI's clippy run checks that the generated code is lint-free.
#![deny(clippy::pedantic)]

use pp::prelude::*;

/// The coin of the SVI tutorial.
#[model(crate = pp)]
pub fn coin(data: &[f64]) {
    let f = sample!("latent_fairness", Beta::new(10.0, 10.0));
    for (i, &x) in data.iter().enumerate() {
        pp::sample!(format!("obs_{i}"), Bernoulli::new(&f), obs = x);
    }
}

/// A Beta guide of [`coin`].
#[guide(model = coin, crate = pp)]
pub fn coin_guide(_data: &[f64]) {
    let alpha_q = param!("alpha_q", 15.0, constraint = positive);
    let beta_q = param!("beta_q", 15.0, constraint = positive);
    sample!("latent_fairness", Beta::new(alpha_q, beta_q));
}

/// Every site macro once, with the constraint forms, a plate, a sequential plate, a Markov loop
/// and a sub-model.
#[model(crate = "pp")]
pub fn everything(data: &[f64]) -> Tensor {
    let z = sample!("z", Normal::new(0.0, 1.0));
    let b = sample!("b", Bernoulli::new(0.5), enumerate);
    let loc = param!("loc", 0.0);
    let _p = param!("p", 0.5, constraint = interval(0.0, 1.0));
    plate!("data", data.len(), |idx| {
        let xs: Vec<f64> = idx.iter().map(|&i| data[i]).collect();
        sample!("x", Normal::new(&z + &loc, 1.0), obs = xs);
    });
    plate!("seq", 2, for i {
        sample!(format!("s_{i}"), Normal::new(&b, 1.0), obs = 0.0);
    });
    markov!(for t in 0..2 {
        sample!(format!("m_{t}"), Normal::new(0.0, 1.0), obs = 0.0);
    });
    factor!("f", -(&z * &z));
    call!(coin, data);
    deterministic!("d", &z * 2.0)
}
