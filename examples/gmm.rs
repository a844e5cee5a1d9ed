//! The Gaussian mixture of Pyro's enumeration tutorial ("Gaussian Mixture Model"): five points
//! `[0, 1, 10, 11, 12]`, two components, the assignments summed out exactly by `TraceEnumElbo`
//! and a MAP estimate of the globals (weights, locations, shared scale) by `AutoDelta`.
//!
//! As in the tutorial, the guide is built from the model with only the globals exposed
//! (`handlers::block(gmm).expose(..)`), initialised by a function of the site
//! (`init_loc_fn`: uniform weights, the scale from the data's variance, the locations at two
//! data points drawn at random), and the best of 100 seeded initialisations is trained for 200
//! Adam steps. The tutorial prints weights `[0.375, 0.625]`, locations `[0.49887, 10.984]` and
//! scale 0.65; these are the MAP: with the clusters `{0, 1}` and `{10, 11, 12}` far apart, the
//! weights are `(n_k - 1/2) / (n - 1)` under the Dirichlet(1/2) prior, exactly 0.375 and 0.625.
//!
//! Run: `cargo run --release --example gmm`

use pyro::handlers::{self, Blocked};
use pyro::prelude::*;
use rand::seq::index::sample as choose_indices;

/// The number of components.
pub const K: usize = 2;

/// The tutorial's data.
pub const DATA: [f64; 5] = [0.0, 1.0, 10.0, 11.0, 12.0];

#[model]
pub fn gmm(data: &[f64]) {
    // Global variables.
    let weights = sample!("weights", Dirichlet::new(Tensor::full(&[K], 0.5)));
    let scale = sample!("scale", LogNormal::new(0.0, 2.0));
    let locs = plate!("components", K, |_| {
        sample!("locs", Normal::new(0.0, 10.0).expand(&[K]))
    });
    // Local variables: each point's component, summed out.
    plate!("data", data.len(), |_| {
        let assignment = sample!("assignment", Categorical::new(weights), enumerate);
        sample!(
            "obs",
            Normal::new(locs.index_by(&assignment), scale),
            obs = data.to_vec()
        );
    });
}

/// The tutorial's `init_loc_fn`: uniform weights, `sqrt(var(data) / 2)` for the scale, and
/// the locations at `K` distinct data points drawn at random (with the guide's generator, so
/// that each seed gives another initialisation).
pub fn init(data: &[f64]) -> InitLoc {
    let data = data.to_vec();
    let n = data.len() as f64;
    let mean = data.iter().sum::<f64>() / n;
    // torch's `var` is the unbiased one.
    let var = data.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    init_loc_fn(move |site| match site.name() {
        "weights" => Some(Tensor::full(&[K], 1.0 / K as f64)),
        "scale" => Some(Tensor::scalar((var / 2.0).sqrt())),
        "locs" => {
            let picked = choose_indices(site.rng(), data.len(), K);
            Some(Tensor::from_slice(
                &picked.iter().map(|i| data[i]).collect::<Vec<_>>(),
            ))
        }
        _ => None,
    })
}

/// The SVI of the tutorial, seeded with `seed`: `AutoDelta` on the exposed globals,
/// `TraceEnumElbo`, Adam with learning rate 0.1 and betas (0.8, 0.99).
pub fn svi(data: &[f64], seed: u64) -> Svi<gmm, AutoDelta<Blocked<gmm>>, Adam, TraceEnumElbo> {
    let exposed = handlers::block(gmm).expose(["weights", "locs", "scale"]);
    let guide = AutoDelta::new(exposed).init_loc(init(data));
    let adam = Adam::new(AdamConfig {
        lr: 0.1,
        betas: (0.8, 0.99),
        ..Default::default()
    });
    let elbo = TraceEnumElbo::default().with_max_plate_nesting(1);
    Svi::new(gmm, guide, adam, elbo).seed(seed)
}

/// The MAP estimate: weights, locations and scale.
pub struct Map {
    /// Mixture weights.
    pub weights: Vec<f64>,
    /// Component locations.
    pub locs: Vec<f64>,
    /// The shared scale.
    pub scale: f64,
    /// The seed of the chosen initialisation and its initial loss.
    pub seed: u64,
    /// The loss of each training step.
    pub losses: Vec<f64>,
}

/// The tutorial's procedure: the initialisation with the lowest loss among seeds 0..100, then
/// `steps` steps.
pub fn fit(data: &[f64], steps: usize) -> pyro::Result<Map> {
    let mut best: Option<(f64, u64)> = None;
    for seed in 0..100 {
        let loss = svi(data, seed).evaluate_loss(data)?;
        if best.is_none_or(|(l, _)| loss < l) {
            best = Some((loss, seed));
        }
    }
    let seed = best.map_or(0, |(_, s)| s);
    let mut svi = svi(data, seed);
    let losses = svi.run(steps, data)?;
    let map = svi.guide().median(svi.params())?;
    let get = |name: &str| -> pyro::Result<Vec<f64>> {
        match map.iter().find(|(n, _)| n == name) {
            Some((_, v)) => v.to_vec(),
            None => Err(pyro::Error::Unknown {
                kind: "site",
                name: name.to_string(),
            }),
        }
    };
    Ok(Map {
        weights: get("weights")?,
        locs: get("locs")?,
        scale: get("scale")?[0],
        seed,
        losses,
    })
}

#[allow(dead_code)]
fn main() -> pyro::Result<()> {
    let map = fit(&DATA, 200)?;
    println!("seed = {}, initial loss = {:.4}", map.seed, map.losses[0]);
    println!("weights = {:.3?}", map.weights);
    println!("locs = {:.3?}", map.locs);
    println!("scale = {:.3}", map.scale);
    Ok(())
}
