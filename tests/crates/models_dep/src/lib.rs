//! Models in a crate of their own: the UI tests of the root crate write guides for them
//! (`#[guide(model = models_dep::coin)]`), which are checked at compile time against these
//! descriptions across the crate boundary.

use pyro::prelude::*;

/// The coin of the SVI tutorial: a latent fairness, one observed flip per datum.
#[model]
pub fn coin(data: &[f64]) {
    let f = sample!("latent_fairness", Beta::new(10.0, 10.0));
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("obs_{i}"), Bernoulli::new(&f), obs = x);
    }
}

/// A prior to be run with `call!` from another crate's model.
#[model]
pub fn scale_prior(s: f64) -> Tensor {
    sample!("scale", LogNormal::new(0.0, s))
}

/// A data type, to compare argument types across crates.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    /// The observations.
    pub xs: &'a [f64],
}

/// A regression over a batch, with a sub-model.
#[model]
pub fn regression(batch: Batch<'_>) {
    let scale = call!(scale_prior, 1.0);
    let w = sample!("w", Normal::new(0.0, 1.0));
    for (i, &x) in batch.xs.iter().enumerate() {
        sample!(format!("y_{i}"), Normal::new(&w, &scale), obs = x);
    }
}
