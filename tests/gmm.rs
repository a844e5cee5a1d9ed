//! The Gaussian mixture of Pyro's enumeration tutorial (`examples/gmm.rs`, run here as it is
//! shipped): the MAP it finds is the exact MAP, which for this data has a closed form.

#[allow(dead_code)]
#[path = "../examples/gmm.rs"]
mod gmm;

/// The exact MAP of the tutorial's model on `[0, 1, 10, 11, 12]`. The two clusters `{0, 1}`
/// and `{10, 11, 12}` lie about 14 scales apart, so at the MAP every point's responsibility for
/// the other component is below `exp(-90)`: the marginal likelihood is that of the hard
/// assignment to within 1e-38, and the stationary equations are those of the hard assignment:
/// - weights: `w_k ∝ n_k + α - 1` under Dirichlet(α = 1/2): `1.5 / 4` and `2.5 / 4`;
/// - locations: the Normal(0, 10) prior and the cluster's points,
///   `loc_k = (Σ x / σ²) / (n_k / σ² + 1 / 100)`;
/// - scale: with `S = Σ (x - loc_z)²` and the LogNormal(0, 2) prior, the log-density
///   `-(n + 1) ln σ - (ln σ)² / 8 - S / (2 σ²)` is stationary where `S / σ² = n + 1 + ln σ / 4`.
///
/// Solved by fixed-point iteration (a contraction here: it converges to 1e-15 in a few dozen
/// rounds).
fn exact_map() -> ([f64; 2], [f64; 2], f64) {
    let clusters: [&[f64]; 2] = [&[0.0, 1.0], &[10.0, 11.0, 12.0]];
    let n = 5.0;
    let weights = [1.5 / 4.0, 2.5 / 4.0];
    let mut sigma: f64 = 1.0;
    let mut locs = [0.0; 2];
    for _ in 0..200 {
        let s2 = sigma * sigma;
        for (k, c) in clusters.iter().enumerate() {
            locs[k] = (c.iter().sum::<f64>() / s2) / (c.len() as f64 / s2 + 0.01);
        }
        let ss: f64 = clusters
            .iter()
            .zip(locs)
            .map(|(c, l)| c.iter().map(|x| (x - l).powi(2)).sum::<f64>())
            .sum();
        sigma = (ss / (n + 1.0 + sigma.ln() / 4.0)).sqrt();
    }
    (weights, locs, sigma)
}

#[test]
fn the_closed_form_map_is_the_tutorials() {
    let (w, locs, sigma) = exact_map();
    // The tutorial prints weights [0.375, 0.625], locs [0.49887, 10.984463], scale 0.6514
    // after its 200 steps.
    assert_eq!(w, [0.375, 0.625]);
    assert!((locs[0] - 0.49887).abs() < 1e-3 && (locs[1] - 10.984463).abs() < 1e-3);
    assert!((sigma - 0.6514).abs() < 1e-3, "{sigma}");
}

#[test]
fn the_example_reproduces_the_tutorials_map() {
    let map = gmm::fit(&gmm::DATA, 200).unwrap();
    let (w, locs, sigma) = exact_map();
    // Label switching: the components are ordered by location.
    let order: Vec<usize> = if map.locs[0] <= map.locs[1] {
        vec![0, 1]
    } else {
        vec![1, 0]
    };
    let fit_w: Vec<f64> = order.iter().map(|&k| map.weights[k]).collect();
    let fit_locs: Vec<f64> = order.iter().map(|&k| map.locs[k]).collect();
    // The loss is deterministic (point masses and exact enumeration: no Monte Carlo noise), so
    // the only error is the optimiser's. TOL is what the tutorial reports to (its locations
    // differ from the exact MAP by 1e-4 after 200 steps of the same Adam): our run must agree
    // with the exact MAP to the same order, 1e-3.
    const TOL: f64 = 1e-3;
    for k in 0..2 {
        assert!((fit_w[k] - w[k]).abs() < TOL, "weights {fit_w:?} vs {w:?}");
        assert!(
            (fit_locs[k] - locs[k]).abs() < TOL,
            "locs {fit_locs:?} vs {locs:?}"
        );
    }
    assert!(
        (map.scale - sigma).abs() < TOL,
        "scale {} vs {sigma}",
        map.scale
    );
    // Converged: the loss of the last steps no longer moves at the scale of the tolerance.
    let tail = &map.losses[map.losses.len() - 10..];
    let spread = tail.iter().cloned().fold(f64::MIN, f64::max)
        - tail.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread < 1e-4, "loss still moving: {tail:?}");
}
