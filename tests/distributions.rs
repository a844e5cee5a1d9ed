//! Distributions: log-densities against closed forms written out here, sample moments within
//! CLT bounds, pathwise (incl. implicit) gradients against analytic values, constructor errors,
//! enumerate_support and the to_event / expand / mask wrappers. Fixed seeds throughout.

use pyro::distributions::*;
use pyro::rng::rng_from_seed;
use pyro::tensor::{lgamma, Tape, Tensor};
use pyro::Error;

const N: usize = 20_000;
const LN_2PI: f64 = 1.837_877_066_409_345_5;

fn lp(d: &dyn Distribution, x: f64) -> f64 {
    d.log_prob(&Tensor::from(x)).item().unwrap()
}

fn close(a: f64, b: f64, tol: f64) {
    assert!(
        (a - b).abs() <= tol * (1.0 + b.abs()),
        "{a} vs {b} (tol {tol})"
    );
}

/// Sample mean within 5 standard errors (sqrt(var/N)); sample variance within 5 standard errors
/// sqrt((m4 - var²)/N) with m4 = var² (3 + excess kurtosis).
fn check_moments(name: &str, xs: &[f64], mean: f64, var: f64, excess_kurtosis: f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let se_m = (var / n).sqrt();
    assert!(
        (m - mean).abs() < 5.0 * se_m,
        "{name}: sample mean {m} vs {mean} (se {se_m})"
    );
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    let m4 = var * var * (3.0 + excess_kurtosis);
    let se_v = ((m4 - var * var) / n).sqrt();
    assert!(
        (v - var).abs() < 5.0 * se_v,
        "{name}: sample variance {v} vs {var} (se {se_v})"
    );
}

fn draws(d: &dyn Distribution, seed: u64) -> Vec<f64> {
    let mut rng = rng_from_seed(seed);
    d.sample(&mut rng).to_vec().unwrap()
}

fn full(v: f64) -> Tensor {
    Tensor::full(&[N], v)
}

// ----- log_prob against closed forms ------------------------------------------------------

#[test]
fn log_prob_closed_forms() {
    let (x, m, s) = (0.7, 0.2, 1.5);
    let z: f64 = (x - m) / s;
    close(
        lp(&Normal::new(m, s).unwrap(), x),
        -0.5 * z * z - s.ln() - 0.5 * LN_2PI,
        1e-13,
    );
    let zl: f64 = (x.ln() - m) / s;
    close(
        lp(&LogNormal::new(m, s).unwrap(), x),
        -0.5 * zl * zl - s.ln() - 0.5 * LN_2PI - x.ln(),
        1e-13,
    );
    close(
        lp(&HalfNormal::new(s).unwrap(), x),
        (2.0f64).ln() - 0.5 * (x / s).powi(2) - s.ln() - 0.5 * LN_2PI,
        1e-13,
    );
    let pi = std::f64::consts::PI;
    close(
        lp(&Cauchy::new(m, s).unwrap(), x),
        -(pi * s * (1.0 + z * z)).ln(),
        1e-13,
    );
    close(
        lp(&HalfCauchy::new(s).unwrap(), x),
        (2.0 / (pi * s * (1.0 + (x / s).powi(2)))).ln(),
        1e-13,
    );
    let nu = 4.5;
    close(
        lp(&StudentT::new(nu, m, s).unwrap(), x),
        lgamma((nu + 1.0) / 2.0)
            - lgamma(nu / 2.0)
            - 0.5 * (nu * pi).ln()
            - s.ln()
            - (nu + 1.0) / 2.0 * (1.0 + z * z / nu).ln(),
        1e-12,
    );
    close(
        lp(&Laplace::new(m, s).unwrap(), x),
        -(2.0 * s).ln() - (x - m).abs() / s,
        1e-13,
    );
    close(
        lp(&Uniform::new(-1.0, 3.0).unwrap(), x),
        -(4f64.ln()),
        1e-13,
    );
    close(lp(&Exponential::new(s).unwrap(), x), s.ln() - s * x, 1e-13);
    let (a, b) = (2.3, 1.7);
    close(
        lp(&Gamma::new(a, b).unwrap(), x),
        a * b.ln() + (a - 1.0) * x.ln() - b * x - lgamma(a),
        1e-12,
    );
    close(
        lp(&InverseGamma::new(a, b).unwrap(), x),
        a * b.ln() - (a + 1.0) * x.ln() - b / x - lgamma(a),
        1e-12,
    );
    close(
        lp(&Beta::new(a, b).unwrap(), x),
        (a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln() - lgamma(a) - lgamma(b) + lgamma(a + b),
        1e-12,
    );
    let alpha = [1.5, 2.0, 0.7];
    let v = [0.2, 0.5, 0.3];
    let want = lgamma(4.2) - alpha.iter().map(|&a| lgamma(a)).sum::<f64>()
        + alpha
            .iter()
            .zip(&v)
            .map(|(a, x)| (a - 1.0) * f64::ln(*x))
            .sum::<f64>();
    close(
        Dirichlet::new(alpha)
            .unwrap()
            .log_prob(&v.into())
            .item()
            .unwrap(),
        want,
        1e-12,
    );
    close(lp(&Bernoulli::new(0.3).unwrap(), 1.0), 0.3f64.ln(), 1e-13);
    close(lp(&Bernoulli::new(0.3).unwrap(), 0.0), 0.7f64.ln(), 1e-13);
    // C(5,2) 0.3^2 0.7^3
    close(
        lp(&Binomial::new(5.0, 0.3).unwrap(), 2.0),
        (10.0 * 0.09 * 0.343f64).ln(),
        1e-12,
    );
    close(
        lp(&Binomial::from_logits(5.0, 0.0).unwrap(), 5.0),
        (1.0f64 / 32.0).ln(),
        1e-12,
    );
    close(
        lp(&Categorical::new([0.1, 0.6, 0.3]).unwrap(), 1.0),
        0.6f64.ln(),
        1e-13,
    );
    close(
        lp(
            &Categorical::from_logits([0.0, 0.0, 0.0, 0.0]).unwrap(),
            3.0,
        ),
        0.25f64.ln(),
        1e-13,
    );
    close(
        OneHotCategorical::new([0.1, 0.6, 0.3])
            .unwrap()
            .log_prob(&[0.0, 0.0, 1.0].into())
            .item()
            .unwrap(),
        0.3f64.ln(),
        1e-13,
    );
    // 3.5^4 e^-3.5 / 4!
    close(
        lp(&Poisson::new(3.5).unwrap(), 4.0),
        4.0 * 3.5f64.ln() - 3.5 - 24f64.ln(),
        1e-12,
    );
    // MVN with L = [[2, 0], [1, 3]]: Σ = [[4, 2], [2, 10]], det 36
    let l = Tensor::from_rows(&[vec![2.0, 0.0], vec![1.0, 3.0]]).unwrap();
    let mvn = MultivariateNormal::new([1.0, -1.0], l).unwrap();
    let d = [0.5 - 1.0, 0.5 + 1.0];
    // Σ⁻¹ = [[10, -2], [-2, 4]] / 36
    let q = (10.0 * d[0] * d[0] - 4.0 * d[0] * d[1] + 4.0 * d[1] * d[1]) / 36.0;
    close(
        mvn.log_prob(&[0.5, 0.5].into()).item().unwrap(),
        -0.5 * q - 0.5 * 36f64.ln() - LN_2PI,
        1e-12,
    );
    let delta = Delta::with_event_dim([1.0, 2.0], -0.5, 1).unwrap();
    close(
        delta.log_prob(&[1.0, 2.0].into()).item().unwrap(),
        -0.5,
        0.0,
    );
    assert_eq!(
        delta.log_prob(&[1.0, 2.5].into()).item().unwrap(),
        f64::NEG_INFINITY
    );
}

#[test]
fn log_prob_outside_support_is_minus_infinity() {
    let ninf = f64::NEG_INFINITY;
    assert_eq!(lp(&LogNormal::new(0.0, 1.0).unwrap(), -1.0), ninf);
    assert_eq!(lp(&HalfNormal::new(1.0).unwrap(), -0.1), ninf);
    assert_eq!(lp(&HalfCauchy::new(1.0).unwrap(), -0.1), ninf);
    assert_eq!(lp(&Uniform::new(0.0, 1.0).unwrap(), 1.0), ninf);
    assert_eq!(lp(&Exponential::new(1.0).unwrap(), -1.0), ninf);
    assert_eq!(lp(&Gamma::new(2.0, 1.0).unwrap(), 0.0), ninf);
    assert_eq!(lp(&InverseGamma::new(2.0, 1.0).unwrap(), -2.0), ninf);
    assert_eq!(lp(&Beta::new(2.0, 2.0).unwrap(), 1.5), ninf);
    assert_eq!(lp(&Binomial::new(3.0, 0.5).unwrap(), 4.0), ninf);
    assert_eq!(lp(&Binomial::new(3.0, 0.5).unwrap(), 1.5), ninf);
    assert_eq!(lp(&Poisson::new(1.0).unwrap(), -1.0), ninf);
    assert_eq!(lp(&Categorical::new([0.5, 0.5]).unwrap(), 2.0), ninf);
    // The gradient of a log-density with -inf entries stays finite (no NaN leaks).
    let tape = Tape::new();
    let rate = tape.leaf(Tensor::from(2.0));
    let d = Exponential::new(&rate).unwrap();
    let l = d.log_prob(&Tensor::from(vec![-1.0, 1.0]));
    let total =
        pyro::tensor::masked_fill(&l, &l.eq_mask(&Tensor::scalar(f64::NEG_INFINITY)), 0.0).sum();
    let g = tape
        .backward(&total)
        .unwrap()
        .get(&rate)
        .unwrap()
        .item()
        .unwrap();
    close(g, 0.5 - 1.0, 1e-12);
}

// ----- sample moments ---------------------------------------------------------------------

#[test]
fn sample_moments_continuous() {
    let (m, s) = (0.5, 1.3);
    check_moments(
        "Normal",
        &draws(&Normal::new(full(m), s).unwrap(), 1),
        m,
        s * s,
        0.0,
    );
    let (lm, ls) = (0.1, 0.4f64);
    let w = (ls * ls).exp();
    check_moments(
        "LogNormal",
        &draws(&LogNormal::new(full(lm), ls).unwrap(), 2),
        (lm + ls * ls / 2.0).exp(),
        (w - 1.0) * (2.0 * lm + ls * ls).exp(),
        w.powi(4) + 2.0 * w.powi(3) + 3.0 * w * w - 6.0,
    );
    let pi = std::f64::consts::PI;
    // HalfNormal(1): |Z|, E = sqrt(2/π), Var = 1 - 2/π, E|Z|^4 = 3.
    let hv = 1.0 - 2.0 / pi;
    let hm = (2.0 / pi).sqrt();
    // fourth central moment of |Z|: E(X-μ)^4 = 3 - 4μ E|Z|^3 + 6μ² - 3μ⁴, E|Z|³ = 2 sqrt(2/π)
    let m4 = 3.0 - 4.0 * hm * 2.0 * hm + 6.0 * hm * hm - 3.0 * hm.powi(4);
    check_moments(
        "HalfNormal",
        &draws(&HalfNormal::new(full(1.0)).unwrap(), 3),
        hm,
        hv,
        m4 / (hv * hv) - 3.0,
    );
    check_moments(
        "StudentT",
        &draws(&StudentT::new(full(10.0), 1.0, 2.0).unwrap(), 4),
        1.0,
        4.0 * 10.0 / 8.0,
        6.0 / 6.0,
    );
    check_moments(
        "Laplace",
        &draws(&Laplace::new(full(-1.0), 0.5).unwrap(), 5),
        -1.0,
        0.5,
        3.0,
    );
    check_moments(
        "Uniform",
        &draws(&Uniform::new(full(-1.0), 3.0).unwrap(), 6),
        1.0,
        16.0 / 12.0,
        -1.2,
    );
    check_moments(
        "Exponential",
        &draws(&Exponential::new(full(2.0)).unwrap(), 7),
        0.5,
        0.25,
        6.0,
    );
    for (seed, a) in [(8, 0.3), (9, 2.5), (10, 40.0)] {
        check_moments(
            &format!("Gamma({a}, 2)"),
            &draws(&Gamma::new(full(a), 2.0).unwrap(), seed),
            a / 2.0,
            a / 4.0,
            6.0 / a,
        );
    }
    let (a, b) = (7.0, 3.0);
    check_moments(
        "InverseGamma",
        &draws(&InverseGamma::new(full(a), b).unwrap(), 11),
        b / (a - 1.0),
        b * b / ((a - 1.0) * (a - 1.0) * (a - 2.0)),
        6.0 * (5.0 * a - 11.0) / ((a - 3.0) * (a - 4.0)),
    );
    for (seed, a, b) in [(12, 2.0, 3.0), (13, 0.5, 0.5)] {
        let s = a + b;
        check_moments(
            &format!("Beta({a}, {b})"),
            &draws(&Beta::new(full(a), b).unwrap(), seed),
            a / s,
            a * b / (s * s * (s + 1.0)),
            6.0 * ((a - b) * (a - b) * (s + 1.0) - a * b * (s + 2.0))
                / (a * b * (s + 2.0) * (s + 3.0)),
        );
    }
    // Cauchy: the sample median within 5 standard errors π s / (2 sqrt N).
    let mut xs = draws(&Cauchy::new(full(1.0), 2.0).unwrap(), 14);
    xs.sort_by(f64::total_cmp);
    let med = xs[N / 2];
    assert!(
        (med - 1.0).abs() < 5.0 * pi * 2.0 / (2.0 * (N as f64).sqrt()),
        "{med}"
    );
    let mut xs = draws(&HalfCauchy::new(full(2.0)).unwrap(), 15);
    xs.sort_by(f64::total_cmp);
    // median of HalfCauchy(s) is s; density there 1/(π s)
    let med = xs[N / 2];
    assert!(
        (med - 2.0).abs() < 5.0 * pi * 2.0 / (2.0 * (N as f64).sqrt()),
        "{med}"
    );
}

#[test]
fn sample_moments_discrete_and_multivariate() {
    let p = 0.3;
    check_moments(
        "Bernoulli",
        &draws(&Bernoulli::new(full(p)).unwrap(), 20),
        p,
        p * (1.0 - p),
        (1.0 - 6.0 * p * (1.0 - p)) / (p * (1.0 - p)),
    );
    let (n, p) = (12.0, 0.35);
    let q = n * p * (1.0 - p);
    check_moments(
        "Binomial",
        &draws(&Binomial::new(n, full(p)).unwrap(), 21),
        n * p,
        q,
        (1.0 - 6.0 * p * (1.0 - p)) / q,
    );
    check_moments(
        "Poisson",
        &draws(&Poisson::new(full(4.5)).unwrap(), 22),
        4.5,
        4.5,
        1.0 / 4.5,
    );
    // Categorical: each frequency within 5 binomial standard errors.
    let probs = [0.1, 0.6, 0.3];
    let d = Categorical::new(Tensor::from_rows(&vec![probs.to_vec(); N]).unwrap()).unwrap();
    assert_eq!(d.batch_shape().as_slice(), &[N]);
    let xs = draws(&d, 23);
    for (k, &pk) in probs.iter().enumerate() {
        let f = xs.iter().filter(|&&x| x == k as f64).count() as f64 / N as f64;
        assert!(
            (f - pk).abs() < 5.0 * (pk * (1.0 - pk) / N as f64).sqrt(),
            "{k}: {f}"
        );
    }
    let d = OneHotCategorical::new(Tensor::from_rows(&vec![probs.to_vec(); N]).unwrap()).unwrap();
    let s = d.sample(&mut rng_from_seed(24));
    assert_eq!(s.shape(), &[N, 3]);
    let freq = s.mean_dim(0, false).to_vec().unwrap();
    for (k, &pk) in probs.iter().enumerate() {
        assert!((freq[k] - pk).abs() < 5.0 * (pk * (1.0 - pk) / N as f64).sqrt());
    }
    // Dirichlet: each component is Beta(α_k, α0 - α_k).
    let alpha = [2.0, 3.0, 5.0];
    let d = Dirichlet::new(Tensor::from_rows(&vec![alpha.to_vec(); N]).unwrap()).unwrap();
    let s = d.sample(&mut rng_from_seed(25));
    let v = s.to_vec().unwrap();
    for (k, &a) in alpha.iter().enumerate() {
        let b = 10.0 - a;
        let comp: Vec<f64> = v.chunks(3).map(|r| r[k]).collect();
        let sum = 10.0;
        check_moments(
            "Dirichlet",
            &comp,
            a / sum,
            a * b / (sum * sum * (sum + 1.0)),
            6.0 * ((a - b) * (a - b) * (sum + 1.0) - a * b * (sum + 2.0))
                / (a * b * (sum + 2.0) * (sum + 3.0)),
        );
    }
    // MVN marginals: N(loc_i, Σ_ii).
    let l = Tensor::from_rows(&[vec![2.0, 0.0], vec![1.0, 3.0]]).unwrap();
    let loc = Tensor::from_rows(&vec![vec![1.0, -1.0]; N]).unwrap();
    let d = MultivariateNormal::new(loc, l).unwrap();
    let v = d.sample(&mut rng_from_seed(26)).to_vec().unwrap();
    let x0: Vec<f64> = v.chunks(2).map(|r| r[0]).collect();
    let x1: Vec<f64> = v.chunks(2).map(|r| r[1]).collect();
    check_moments("MVN[0]", &x0, 1.0, 4.0, 0.0);
    check_moments("MVN[1]", &x1, -1.0, 10.0, 0.0);
    // the covariance: x0 x1 products, E = Σ01 + μ0 μ1 = 2 - 1 = 1
    let cov = x0
        .iter()
        .zip(&x1)
        .map(|(a, b)| (a - 1.0) * (b + 1.0))
        .sum::<f64>()
        / N as f64;
    // Var((x0-μ0)(x1-μ1)) = Σ00 Σ11 + Σ01² = 40 + 4
    assert!((cov - 2.0).abs() < 5.0 * (44.0 / N as f64).sqrt(), "{cov}");
}

// ----- pathwise gradients -----------------------------------------------------------------

/// Mean of per-sample gradients `g` within 5 standard errors of `want`.
fn check_grad(name: &str, g: &[f64], want: f64) {
    let n = g.len() as f64;
    let m = g.iter().sum::<f64>() / n;
    let sd = (g.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    assert!(
        (m - want).abs() < 5.0 * sd / n.sqrt() + 1e-12,
        "{name}: mean pathwise gradient {m} vs {want} (sd {sd})"
    );
}

#[test]
fn implicit_reparameterisation_gradients() {
    // d/dα E[z] = 1 for z ~ Gamma(α, 1).
    for (seed, a) in [
        (30, 0.4),
        (31, 1.0),
        (32, 3.0),
        (33, 25.0),
        (38, 0.05),
        (39, 1e-3),
    ] {
        let tape = Tape::new();
        let alpha = tape.leaf(full(a));
        let z = Gamma::new(&alpha, 1.0)
            .unwrap()
            .rsample(&mut rng_from_seed(seed))
            .unwrap();
        let g = tape.backward(&z.sum()).unwrap().get(&alpha).unwrap();
        check_grad(&format!("Gamma({a})"), &g.to_vec().unwrap(), 1.0);
    }
    // Gamma(α, β): d/dβ E[z] = -α/β².
    let tape = Tape::new();
    let beta = tape.leaf(full(2.0));
    let z = Gamma::new(3.0, &beta)
        .unwrap()
        .rsample(&mut rng_from_seed(34))
        .unwrap();
    let g = tape.backward(&z.sum()).unwrap().get(&beta).unwrap();
    check_grad("Gamma rate", &g.to_vec().unwrap(), -3.0 / 4.0);
    // Beta(a, b): d/da E[z] = b / (a + b)², d/db E[z] = -a / (a + b)².
    for (seed, a, b) in [
        (35, 2.0, 3.0),
        (36, 0.5, 0.8),
        (40, 0.1, 0.1),
        (41, 0.01, 0.03),
    ] {
        let tape = Tape::new();
        let (ta, tb) = (tape.leaf(full(a)), tape.leaf(full(b)));
        let z = Beta::new(&ta, &tb)
            .unwrap()
            .rsample(&mut rng_from_seed(seed))
            .unwrap();
        let grads = tape.backward(&z.sum()).unwrap();
        let s2 = (a + b) * (a + b);
        check_grad("Beta a", &grads.get(&ta).unwrap().to_vec().unwrap(), b / s2);
        check_grad(
            "Beta b",
            &grads.get(&tb).unwrap().to_vec().unwrap(),
            -a / s2,
        );
    }
    // Dirichlet(α): d/dα_0 E[z_0] = (α0 - α_0) / α0², d/dα_1 E[z_0] = -α_0 / α0².
    let alpha = [1.5, 2.0, 0.5];
    let tape = Tape::new();
    let ta = tape.leaf(Tensor::from_rows(&vec![alpha.to_vec(); N]).unwrap());
    let z = Dirichlet::new(&ta)
        .unwrap()
        .rsample(&mut rng_from_seed(37))
        .unwrap();
    let g = tape
        .backward(&z.narrow(-1, 0, 1).sum())
        .unwrap()
        .get(&ta)
        .unwrap()
        .to_vec()
        .unwrap();
    let g0: Vec<f64> = g.chunks(3).map(|r| r[0]).collect();
    let g1: Vec<f64> = g.chunks(3).map(|r| r[1]).collect();
    check_grad("Dirichlet α0", &g0, 2.5 / 16.0);
    check_grad("Dirichlet α1", &g1, -1.5 / 16.0);
}

#[test]
fn location_scale_gradients() {
    // E[z²] for z ~ Normal(m, s) is m² + s²: gradients 2m and 2s.
    let (m, s) = (0.7, 1.2);
    let tape = Tape::new();
    let (tm, ts) = (tape.leaf(full(m)), tape.leaf(full(s)));
    let z = Normal::new(&tm, &ts)
        .unwrap()
        .rsample(&mut rng_from_seed(40))
        .unwrap();
    let grads = tape.backward(&z.square().sum()).unwrap();
    check_grad(
        "Normal loc",
        &grads.get(&tm).unwrap().to_vec().unwrap(),
        2.0 * m,
    );
    check_grad(
        "Normal scale",
        &grads.get(&ts).unwrap().to_vec().unwrap(),
        2.0 * s,
    );
    // E[z] for LogNormal(m, s) is exp(m + s²/2): d/dm = E, d/ds = s E.
    let (m, s) = (0.1, 0.5);
    let e = (m + s * s / 2.0f64).exp();
    let tape = Tape::new();
    let (tm, ts) = (tape.leaf(full(m)), tape.leaf(full(s)));
    let z = LogNormal::new(&tm, &ts)
        .unwrap()
        .rsample(&mut rng_from_seed(41))
        .unwrap();
    let grads = tape.backward(&z.sum()).unwrap();
    check_grad(
        "LogNormal loc",
        &grads.get(&tm).unwrap().to_vec().unwrap(),
        e,
    );
    check_grad(
        "LogNormal scale",
        &grads.get(&ts).unwrap().to_vec().unwrap(),
        s * e,
    );
    // MVN: d/dL E[|z|²] = d/dL tr(L Lᵀ) = 2 L (per draw: 2 z εᵀ, lower part).
    let tape = Tape::new();
    let l = tape.leaf(Tensor::from_rows(&[vec![1.0, 0.0], vec![0.5, 2.0]]).unwrap());
    let d = MultivariateNormal::new(Tensor::zeros(&[N, 2]), &l).unwrap();
    let z = d.rsample(&mut rng_from_seed(42)).unwrap();
    let g = tape.backward(&z.square().sum()).unwrap().get(&l).unwrap();
    let g = g.to_vec().unwrap();
    for (i, want) in [2.0, 0.0, 1.0, 4.0].iter().enumerate() {
        // loose: sd of one draw's gradient is a few units
        close(g[i] / N as f64, *want, 0.1);
    }
}

// ----- constructor errors -----------------------------------------------------------------

fn names(e: Error) -> (&'static str, &'static str) {
    match e {
        Error::InvalidParameter { dist, param, .. } => (dist, param),
        e => panic!("unexpected error {e}"),
    }
}

#[test]
fn constructor_errors_name_dist_and_param() {
    assert_eq!(
        names(Normal::new(0.0, -1.0).unwrap_err()),
        ("Normal", "scale")
    );
    assert_eq!(
        names(Normal::new(f64::NAN, 1.0).unwrap_err()),
        ("Normal", "loc")
    );
    assert_eq!(
        names(LogNormal::new(0.0, f64::NAN).unwrap_err()),
        ("LogNormal", "scale")
    );
    assert_eq!(
        names(HalfNormal::new(0.0).unwrap_err()),
        ("HalfNormal", "scale")
    );
    assert_eq!(
        names(Cauchy::new(0.0, -2.0).unwrap_err()),
        ("Cauchy", "scale")
    );
    assert_eq!(
        names(HalfCauchy::new(-2.0).unwrap_err()),
        ("HalfCauchy", "scale")
    );
    assert_eq!(
        names(StudentT::new(0.0, 0.0, 1.0).unwrap_err()),
        ("StudentT", "df")
    );
    assert_eq!(
        names(Laplace::new(0.0, 0.0).unwrap_err()),
        ("Laplace", "scale")
    );
    assert_eq!(
        names(Uniform::new(2.0, 1.0).unwrap_err()),
        ("Uniform", "high")
    );
    assert_eq!(
        names(Exponential::new(-1.0).unwrap_err()),
        ("Exponential", "rate")
    );
    assert_eq!(
        names(Gamma::new(-1.0, 1.0).unwrap_err()),
        ("Gamma", "concentration")
    );
    assert_eq!(
        names(Gamma::new(1.0, f64::NAN).unwrap_err()),
        ("Gamma", "rate")
    );
    assert_eq!(
        names(InverseGamma::new(1.0, 0.0).unwrap_err()),
        ("InverseGamma", "rate")
    );
    assert_eq!(
        names(Beta::new(1.0, 0.0).unwrap_err()),
        ("Beta", "concentration0")
    );
    assert_eq!(
        names(Dirichlet::new([1.0, 0.0, 2.0]).unwrap_err()),
        ("Dirichlet", "concentration")
    );
    assert_eq!(
        names(Dirichlet::new(1.0).unwrap_err()),
        ("Dirichlet", "concentration")
    );
    assert_eq!(
        names(Bernoulli::new(1.5).unwrap_err()),
        ("Bernoulli", "probs")
    );
    assert_eq!(
        names(Binomial::new(3.5, 0.5).unwrap_err()),
        ("Binomial", "total_count")
    );
    assert_eq!(
        names(Binomial::new(3.0, -0.5).unwrap_err()),
        ("Binomial", "probs")
    );
    assert_eq!(
        names(Categorical::new([0.5, 0.6]).unwrap_err()),
        ("Categorical", "probs")
    );
    assert!(Categorical::new([0.5, 0.5 + 5e-7]).is_ok());
    assert_eq!(
        names(OneHotCategorical::new([-0.5, 1.5]).unwrap_err()),
        ("OneHotCategorical", "probs")
    );
    assert_eq!(names(Poisson::new(-1.0).unwrap_err()), ("Poisson", "rate"));
    let e = Normal::new(Tensor::zeros(&[3]), Tensor::ones(&[2])).unwrap_err();
    assert_eq!(names(e), ("Normal", "scale"));
    let upper = Tensor::from_rows(&[vec![1.0, 0.5], vec![0.0, 1.0]]).unwrap();
    assert_eq!(
        names(MultivariateNormal::new([0.0, 0.0], upper).unwrap_err()),
        ("MultivariateNormal", "scale_tril")
    );
    let negdiag = Tensor::from_rows(&[vec![1.0, 0.0], vec![0.5, -1.0]]).unwrap();
    let e = MultivariateNormal::new([0.0, 0.0], negdiag).unwrap_err();
    assert!(e.to_string().contains("positive diagonal"), "{e}");
    let e = MultivariateNormal::new([0.0, 0.0, 0.0], Tensor::eye(2)).unwrap_err();
    assert_eq!(names(e), ("MultivariateNormal", "loc"));
    assert_eq!(
        names(Delta::with_event_dim(1.0, 0.0, 1).unwrap_err()),
        ("Delta", "event_dim")
    );
}

// ----- enumerate_support and wrappers -----------------------------------------------------

#[test]
fn enumerate_support_shapes() {
    let d = Categorical::new(Tensor::from_rows(&vec![vec![0.5, 0.5, 0.0]; 4]).unwrap()).unwrap();
    assert_eq!(d.enumerate_support(false).unwrap().shape(), &[3, 1]);
    assert_eq!(d.enumerate_support(true).unwrap().shape(), &[3, 4]);
    let d = OneHotCategorical::new(Tensor::from_rows(&vec![vec![0.5, 0.5]; 4]).unwrap()).unwrap();
    assert_eq!(d.enumerate_support(false).unwrap().shape(), &[2, 1, 2]);
    assert_eq!(d.enumerate_support(true).unwrap().shape(), &[2, 4, 2]);
    let d = Binomial::new(3.0, Tensor::full(&[2, 5], 0.5)).unwrap();
    let s = d.enumerate_support(true).unwrap();
    assert_eq!(s.shape(), &[4, 2, 5]);
    assert_eq!(
        d.enumerate_support(false).unwrap().to_vec().unwrap(),
        vec![0.0, 1.0, 2.0, 3.0]
    );
    let d = Bernoulli::new(0.3).unwrap().expand(&[2, 3]).unwrap();
    assert_eq!(d.enumerate_support(false).unwrap().shape(), &[2, 1, 1]);
    assert_eq!(d.enumerate_support(true).unwrap().shape(), &[2, 2, 3]);
    assert!(Normal::new(0.0, 1.0)
        .unwrap()
        .enumerate_support(true)
        .is_err());
    assert!(Bernoulli::new(Tensor::full(&[3], 0.5))
        .to_event(1)
        .unwrap()
        .enumerate_support(false)
        .is_err());
    // log_prob over the enumerated support sums to one
    let d = Categorical::new([0.2, 0.3, 0.5]).unwrap();
    let total = d.log_prob(&d.enumerate_support(false).unwrap()).exp().sum();
    close(total.item().unwrap(), 1.0, 1e-12);
}

#[test]
fn to_event_expand_mask() {
    let base = Normal::new(Tensor::zeros(&[2, 3]), 1.0).unwrap();
    let x = Tensor::full(&[2, 3], 0.5);
    let each = -0.125 - 0.5 * LN_2PI;
    let d = base.clone().to_event(1).unwrap();
    assert_eq!(d.batch_shape().as_slice(), &[2]);
    assert_eq!(d.event_shape().as_slice(), &[3]);
    assert_eq!(d.log_prob(&x).to_vec().unwrap(), vec![3.0 * each; 2]);
    let d2 = base.clone().to_event(2).unwrap();
    close(d2.log_prob(&x).item().unwrap(), 6.0 * each, 1e-12);
    let e = base.clone().to_event(3).unwrap_err();
    assert!(e.to_string().contains("Normal"), "{e}");

    let d = Normal::new(0.0, 1.0).expand(&[4, 2]).unwrap();
    assert_eq!(d.batch_shape().as_slice(), &[4, 2]);
    let s = d.sample(&mut rng_from_seed(50));
    assert_eq!(s.shape(), &[4, 2]);
    let v = s.to_vec().unwrap();
    assert!(
        v.iter().all(|a| v.iter().filter(|b| *b == a).count() == 1),
        "independent draws"
    );
    assert_eq!(d.log_prob(&Tensor::from(0.0)).shape(), &[4, 2]);
    let d = Normal::new(Tensor::from(vec![0.0, 100.0]), 1.0)
        .expand(&[3, 2])
        .unwrap();
    let v = d.sample(&mut rng_from_seed(51)).to_vec().unwrap();
    for r in v.chunks(2) {
        assert!(r[0].abs() < 10.0 && (r[1] - 100.0).abs() < 10.0, "{r:?}");
    }
    let e = Normal::new(Tensor::zeros(&[3]), 1.0)
        .expand(&[4, 2])
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("Normal") && msg.contains("[3]") && msg.contains("[4, 2]"),
        "{msg}"
    );
    // expanded rsample stays differentiable
    let tape = Tape::new();
    let loc = tape.leaf(Tensor::from(1.0));
    let d = Normal::new(&loc, 1.0).expand(&[5]).unwrap();
    let z = d.rsample(&mut rng_from_seed(52)).unwrap();
    let g = tape
        .backward(&z.sum())
        .unwrap()
        .get(&loc)
        .unwrap()
        .item()
        .unwrap();
    close(g, 5.0, 1e-12);
    // vector events expand too
    let d = Dirichlet::new([1.0, 2.0, 3.0]).expand(&[4]).unwrap();
    assert_eq!(d.sample(&mut rng_from_seed(53)).shape(), &[4, 3]);
    assert_eq!(d.log_prob(&Tensor::from([0.2, 0.3, 0.5])).shape(), &[4]);

    let d = Normal::new(Tensor::zeros(&[3]), 1.0)
        .mask(Tensor::from(vec![1.0, 0.0, 1.0]))
        .unwrap();
    assert_eq!(
        d.log_prob(&Tensor::full(&[3], 0.5)).to_vec().unwrap(),
        vec![each, 0.0, each]
    );
    let d = Exponential::new(Tensor::ones(&[2]))
        .mask(Tensor::from(vec![0.0, 1.0]))
        .unwrap();
    assert_eq!(
        d.log_prob(&Tensor::from(vec![-1.0, 1.0])).to_vec().unwrap(),
        vec![0.0, -1.0]
    );
    assert!(Normal::new(Tensor::zeros(&[3]), 1.0)
        .mask(Tensor::ones(&[2]))
        .is_err());
    // boxed distributions get the same methods
    let boxed: Box<dyn Distribution> = Box::new(Normal::new(Tensor::zeros(&[3]), 1.0).unwrap());
    let d = boxed.to_event(1).unwrap();
    assert_eq!(d.event_shape().as_slice(), &[3]);
}
