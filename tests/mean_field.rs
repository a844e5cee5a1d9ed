//! `TraceMeanFieldElbo` against the closed-form ELBO of a Normal-Normal model, and against
//! `TraceElbo`: same mean, lower variance.

use pyro::prelude::*;

const X: f64 = 1.3;
const M: f64 = 0.4;
const S: f64 = 0.3;

#[model]
fn nn(x: f64) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    sample!("x", Normal::new(z, 1.0), obs = x);
}

#[guide(model = nn)]
fn nn_guide(_x: f64) {
    let m = param!("m", M);
    let s = param!("s", S, constraint = positive);
    sample!("z", Normal::new(m, s));
}

/// -ELBO for q = N(m, s): E_q[-ln N(x | z, 1)] + KL(N(m, s) ‖ N(0, 1)).
fn exact_loss() -> f64 {
    let ln_2pi = (2.0 * std::f64::consts::PI).ln();
    let nll = 0.5 * ln_2pi + 0.5 * ((X - M).powi(2) + S * S);
    let kl = -S.ln() + (S * S + M * M) / 2.0 - 0.5;
    nll + kl
}

fn losses<L: Elbo>(elbo: L, n: usize) -> (f64, f64) {
    let mut svi = Svi::new(nn, nn_guide, Adam::new(AdamConfig::default()), elbo).seed(3);
    let v: Vec<f64> = (0..n).map(|_| svi.evaluate_loss(X).unwrap()).collect();
    let mean = v.iter().sum::<f64>() / n as f64;
    let var = v.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, var)
}

#[test]
fn mean_field_loss_is_unbiased_with_lower_variance() {
    let n = 4000;
    let exact = exact_loss();
    let (m_mf, v_mf) = losses(TraceMeanFieldElbo::default(), n);
    let (m_te, v_te) = losses(TraceElbo::default(), n);
    // 4 standard errors of the mean (false failure probability 6e-5 each).
    assert!(
        (m_mf - exact).abs() < 4.0 * (v_mf / n as f64).sqrt(),
        "{m_mf} vs {exact}"
    );
    assert!(
        (m_te - exact).abs() < 4.0 * (v_te / n as f64).sqrt(),
        "{m_te} vs {exact}"
    );
    // With z = m + s e, e ~ N(0, 1), a loss `a e² + b e + c` has variance 2a² + b².
    // Mean-field: only -ln N(x | z, 1) is sampled: a = s²/2, b = -s (x - m): 0.0769.
    let v_mf_exact = 0.5 * S.powi(4) + (X - M).powi(2) * S * S;
    // TraceElbo: -ln p(x, z) + ln q(z): a = s² - 1/2, b = -s (x - 2m): 0.3587. (Not a law: the
    // two can cross near the optimum, where the Monte-Carlo terms of TraceElbo cancel; with
    // s = 0.7 TraceElbo's variance would be 0.12 against 0.52.)
    let v_te_exact = 2.0 * (S * S - 0.5).powi(2) + (S * (X - 2.0 * M)).powi(2);
    assert!(
        (v_mf - v_mf_exact).abs() < 0.1 * v_mf_exact,
        "var {v_mf} vs {v_mf_exact}"
    );
    assert!(
        (v_te - v_te_exact).abs() < 0.1 * v_te_exact,
        "var {v_te} vs {v_te_exact}"
    );
    assert!(v_mf < v_te, "mean-field variance {v_mf} not below {v_te}");
}

#[test]
fn mean_field_gradient_matches_closed_form() {
    // d(-ELBO)/dm = -(x - m) + m; the KL part is exact, only the likelihood term is sampled.
    let mut svi = Svi::new(
        nn,
        nn_guide,
        Adam::new(AdamConfig::default()),
        TraceMeanFieldElbo::new(1),
    )
    .seed(5);
    let n = 2000;
    let mut g = 0.0;
    let mut g2 = 0.0;
    for _ in 0..n {
        let (_, grads) = svi.loss_and_grads(X).unwrap();
        let gm = grads
            .iter()
            .find(|(k, _)| k == "m")
            .unwrap()
            .1
            .item()
            .unwrap();
        g += gm / n as f64;
        g2 += gm * gm / n as f64;
    }
    let se = ((g2 - g * g) / n as f64).sqrt();
    let exact = -(X - M) + M;
    assert!(
        (g - exact).abs() < 4.0 * se + 1e-12,
        "{g} vs {exact} (se {se})"
    );
}

/// With an autoguide on a model whose latent is expanded and reinterpreted, the KL is found
/// through `expand` and `to_event` (a Normal guide against an expanded Normal prior).
#[model]
fn vec_model(x: &Tensor) {
    let w = sample!("w", Normal::new(0.0, 1.0).expand(&[3]).to_event(1));
    sample!("x", Normal::new(w, 1.0).to_event(1), obs = x.clone());
}

#[test]
fn mean_field_autonormal_expanded_prior() {
    let x = Tensor::from_slice(&[0.5, -1.0, 2.0]);
    let mut svi = Svi::new(
        vec_model,
        AutoNormal::new(vec_model).init_loc(InitLoc::Zero),
        Adam::new(AdamConfig::default()),
        TraceMeanFieldElbo::default(),
    );
    svi.evaluate_loss(&x).unwrap();
    // loc 0, scale 0.1: exact loss = Σ_i [0.5 ln 2π + 0.5 (x_i² + s²)] + 3 KL(N(0, s) ‖ N(0, 1)).
    let s: f64 = 0.1;
    let ln_2pi = (2.0 * std::f64::consts::PI).ln();
    let xs = [0.5, -1.0, 2.0];
    let exact: f64 = xs
        .iter()
        .map(|xi| 0.5 * ln_2pi + 0.5 * (xi * xi + s * s))
        .sum::<f64>()
        + 3.0 * (-s.ln() + s * s / 2.0 - 0.5);
    let n = 2000;
    let v: Vec<f64> = (0..n).map(|_| svi.evaluate_loss(&x).unwrap()).collect();
    let mean = v.iter().sum::<f64>() / n as f64;
    let var = v.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    assert!(
        (mean - exact).abs() < 4.0 * (var / n as f64).sqrt() + 1e-9,
        "{mean} vs {exact}"
    );
    // Only the likelihood is sampled: variance Σ_i (0.5 s⁴ + x_i² s²) = 0.05265.
    let v_exact: f64 = xs.iter().map(|xi| 0.5 * s.powi(4) + xi * xi * s * s).sum();
    assert!(
        (var - v_exact).abs() < 0.15 * v_exact,
        "var {var} vs {v_exact}"
    );
}
