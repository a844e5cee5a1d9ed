//! `obs = Option<..>` (Pyro's `obs=None`): `Some(v)` observes the site, `None` samples it, so one
//! model serves training and prediction.

use pyro::prelude::*;

/// y_i ~ N(w x_i, 1/2), w ~ N(0, 1); `y` observed when given.
#[model]
fn regression(x: &[f64], y: Option<&[f64]>) {
    let w = sample!("w", Normal::new(0.0, 1.0));
    let x = Tensor::from_slice(x);
    plate!("data", x.numel(), |_| {
        sample!("y", Normal::new(&w * &x, 0.5), obs = y);
    });
}

/// The guide of the training runs: `y` is observed there, so the guide does not sample it.
#[guide(model = regression)]
fn regression_guide(_x: &[f64], _y: Option<&[f64]>) {
    let loc = param!("w_loc", 0.0);
    let scale = param!("w_scale", 1.0, constraint = positive);
    sample!("w", Normal::new(loc, scale));
}

/// A guide that imputes `y` when it is missing (the site is latent then).
#[guide(model = regression)]
fn imputing_guide(x: &[f64], y: Option<&[f64]>) {
    let loc = param!("w_loc", 0.0);
    sample!("w", Normal::new(loc, 0.1));
    if y.is_none() {
        let y_loc = param!("y_loc", Tensor::zeros(&[x.len()]));
        plate!("data", x.len(), |_| {
            sample!("y", Normal::new(y_loc, 0.5));
        });
    }
}

const X: [f64; 4] = [-1.0, 0.0, 1.0, 2.0];
const Y: [f64; 4] = [-2.1, 0.1, 1.9, 4.2];

#[test]
fn some_observes_and_none_samples() {
    let (_, trace) = pyro::handlers::run(&regression, (&X[..], Some(&Y[..])), 0).unwrap();
    let y = trace.site("y").unwrap();
    assert!(y.is_observed);
    assert_eq!(y.value.to_vec().unwrap(), Y.to_vec());
    let (_, trace) = pyro::handlers::run(&regression, (&X[..], None), 0).unwrap();
    let y = trace.site("y").unwrap();
    assert!(!y.is_observed);
    assert_eq!(y.value.shape(), &[4]);
    assert!(y.infer.maybe_observed);
}

#[test]
fn one_model_trains_with_data_and_predicts_without() {
    let adam = Adam::new(AdamConfig {
        lr: 0.02,
        ..Default::default()
    });
    let mut svi = Svi::new(regression, regression_guide, adam, TraceElbo::new(4)).seed(0);
    svi.run(3000, (&X[..], Some(&Y[..]))).unwrap();
    // Conjugate: the posterior of w has precision 1 + Σx²/σ² = 25 and mean (Σxy/σ²) / 25.
    let sxy: f64 = X.iter().zip(Y).map(|(x, y)| x * y).sum();
    let exact = (sxy / 0.25) / 25.0;
    let w = svi.params().scalar("w_loc").unwrap();
    // Posterior sd 0.2; the SVI iterate jitters by a few percent of it at lr 0.02.
    assert!((w - exact).abs() < 0.05, "w {w} vs {exact}");
    // Prediction: the same model with `None` samples `y` around w x.
    let samples = Predictive::new(regression, svi.guide(), svi.params(), 4000)
        .seed(1)
        .run((&X[..], None))
        .unwrap();
    let y = samples.get("y").unwrap();
    assert_eq!(y.shape(), &[4000, 4]);
    let draws = y.to_vec().unwrap();
    let mean3: f64 = draws.chunks(4).map(|r| r[3]).sum::<f64>() / 4000.0;
    // y_3 = 2 w + N(0, 1/2): sd about sqrt(4 * 0.04 + 0.25) = 0.64; 4000 draws: 4 sd = 0.04.
    assert!((mean3 - 2.0 * w).abs() < 0.05, "{mean3} vs {}", 2.0 * w);
}

#[test]
fn a_guide_lacking_a_site_whose_obs_is_none_is_told_why_it_is_latent() {
    let mut svi = Svi::new(
        regression,
        regression_guide,
        Adam::new(AdamConfig::default()),
        TraceElbo::default(),
    );
    let err = svi.step((&X[..], None)).unwrap_err();
    assert!(
        matches!(&err, Error::MissingGuideSite { site, obs_none: true, .. } if site == "y"),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("`obs` is `None`"), "{msg}");
    assert!(msg.contains("regression_guide"), "{msg}");
}

#[test]
fn a_guide_may_sample_the_site_when_obs_is_none() {
    let mut svi = Svi::new(
        regression,
        imputing_guide,
        Adam::new(AdamConfig::default()),
        TraceElbo::default(),
    );
    svi.step((&X[..], None)).unwrap();
    svi.step((&X[..], Some(&Y[..]))).unwrap();
}

/// The prior predictive of a model with data arguments (`Predictive::prior` takes the model's
/// own arguments): w ~ N(0, 1) and y_i ~ N(w x_i, 1/2), so y_i has mean 0, variance
/// x_i^2 + 1/4 and covariance x_i x_j with y_j. Tolerances: 4 standard errors of each estimator
/// at n = 4000 draws.
#[test]
fn the_prior_predictive_of_a_model_with_data_arguments() {
    let n = 4000;
    let samples = Predictive::prior(regression, &pyro::params::ParamStore::new(), n)
        .seed(3)
        .run((&X[..], None))
        .unwrap();
    let y = samples.get("y").unwrap();
    assert_eq!(y.shape(), &[n, 4]);
    let y = y.to_vec().unwrap();
    let w = samples.get("w").unwrap().to_vec().unwrap();
    let nf = n as f64;
    for (j, &x) in X.iter().enumerate() {
        let col: Vec<f64> = (0..n).map(|i| y[i * 4 + j]).collect();
        let mean = col.iter().sum::<f64>() / nf;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (nf - 1.0);
        let exact = x * x + 0.25;
        assert!(mean.abs() < 4.0 * (exact / nf).sqrt(), "y[{j}] mean {mean}");
        // Var of the sample variance of a normal: 2 sigma^4 / (n - 1).
        let se = exact * (2.0 / (nf - 1.0)).sqrt();
        assert!(
            (var - exact).abs() < 4.0 * se,
            "y[{j}] variance {var} vs {exact}"
        );
        // Each row's y comes from that row's w: the residual y - w x has variance 1/4.
        let resid: f64 = (0..n).map(|i| (col[i] - w[i] * x).powi(2)).sum::<f64>() / nf;
        assert!(
            (resid - 0.25).abs() < 4.0 * 0.25 * (2.0 / nf).sqrt(),
            "y[{j}] residual {resid}"
        );
    }
}
