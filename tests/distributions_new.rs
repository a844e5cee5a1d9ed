//! The distributions of issue #12 item 8 (Multinomial, NegativeBinomial, GammaPoisson,
//! LKJCholesky, TruncatedNormal, VonMises, MixtureSameFamily, ZeroInflatedPoisson) and
//! MultivariateNormal from a covariance or precision matrix, with the Cholesky tape op and the
//! corr_cholesky bijection.
//!
//! - log-densities against published values: scipy.stats / torch.distributions / Pyro, printed by
//!   `tests/reference/dists_new.py` (scipy 1.17.1, torch 2.15, pyro 1.9.2) and quoted here;
//! - sample moments within 5 standard errors computed from the exact variance and kurtosis (fixed
//!   seeds);
//! - gradients against central finite differences;
//! - invalid parameters give errors naming the distribution and the parameter.

// Reference values are quoted as the script prints them (17 significant digits).
#![allow(clippy::excessive_precision)]

use pyro::constraints::{self, Constraint};
use pyro::distributions::*;
use pyro::infer::{AutoDelta, AutoMultivariateNormal, AutoNormal, Svi, TraceElbo};
use pyro::optim::{Adam, AdamConfig};
use pyro::rng::rng_from_seed;
use pyro::tensor::{Tape, Tensor};
use pyro::transforms::{biject_to, constrained_shape, unconstrained_shape, Transform};
use pyro::{model, Error};

const N: usize = 20_000;
const LN_2PI: f64 = 1.837_877_066_409_345_5;

fn lp(d: &dyn Distribution, x: impl Into<Tensor>) -> f64 {
    d.log_prob(&x.into()).item().unwrap()
}

/// `|a - b| <= tol (1 + |b|)`.
fn close(what: &str, a: f64, b: f64, tol: f64) {
    assert!(
        (a - b).abs() <= tol * (1.0 + b.abs()),
        "{what}: {a} vs {b} (tol {tol})"
    );
}

/// Sample mean within 5 standard errors sqrt(var/N); sample variance within 5 standard errors
/// sqrt((m4 - var²)/N), m4 = var² (3 + excess kurtosis).
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
    d.sample(&mut rng_from_seed(seed)).to_vec().unwrap()
}

fn full(v: f64) -> Tensor {
    Tensor::full(&[N], v)
}

fn rows(r: &[Vec<f64>]) -> Tensor {
    Tensor::from_rows(r).unwrap()
}

fn param_error(r: Result<impl std::fmt::Debug, Error>, dist: &str, param: &str) {
    match r {
        Err(Error::InvalidParameter {
            dist: d, param: p, ..
        }) => {
            assert_eq!((d, p), (dist, param), "wrong error site");
        }
        other => panic!("{dist}.{param}: expected InvalidParameter, got {other:?}"),
    }
}

// ----- finite differences -----------------------------------------------------------------

/// Deterministic weights in ±[0.5, 1.5], so that every output element counts differently.
fn weights(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let u = ((i * 7919 + 17) % 97) as f64 / 97.0;
            if i % 3 == 1 {
                -(0.5 + u)
            } else {
                0.5 + u
            }
        })
        .collect()
}

fn weighted(f: &dyn Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) -> f64 {
    let v = f(inputs).to_vec().unwrap();
    v.iter().zip(weights(v.len())).map(|(a, w)| a * w).sum()
}

/// The tape gradient of `Σ w f(inputs)` against central differences, for every input entry;
/// `tol` relative to the larger of the two.
fn check_grad(name: &str, inputs: &[Tensor], tol: f64, f: impl Fn(&[Tensor]) -> Tensor) {
    let f: &dyn Fn(&[Tensor]) -> Tensor = &f;
    let tape = Tape::new();
    let leaves: Vec<Tensor> = inputs.iter().map(|t| tape.leaf(t.clone())).collect();
    let out = f(&leaves).check().unwrap();
    let w = Tensor::new(weights(out.numel()), out.shape()).unwrap();
    let grads = tape.backward(&(&out * &w).sum()).unwrap();
    let h = 1e-6;
    for (k, x) in inputs.iter().enumerate() {
        let g = grads
            .get(&leaves[k])
            .map(|g| g.to_vec().unwrap())
            .unwrap_or_else(|| vec![0.0; x.numel()]);
        let xv = x.to_vec().unwrap();
        for i in 0..xv.len() {
            let at = |d: f64| {
                let mut v = xv.clone();
                v[i] += d;
                let mut ins = inputs.to_vec();
                ins[k] = Tensor::new(v, x.shape()).unwrap();
                weighted(f, &ins)
            };
            let fd = (at(h) - at(-h)) / (2.0 * h);
            assert!(
                (g[i] - fd).abs() <= tol * (1.0 + g[i].abs().max(fd.abs())),
                "{name}: d/d input{k}[{i}]: tape {}, finite differences {fd}",
                g[i]
            );
        }
    }
}

// ----- published values -------------------------------------------------------------------

#[test]
fn multinomial_log_prob_matches_scipy() {
    let d = Multinomial::new(6, [0.1, 0.2, 0.3, 0.4]).unwrap();
    close(
        "2031",
        lp(&d, [2.0, 0.0, 3.0, 1.0]),
        -5.039_034_768_617_952_4,
        1e-14,
    );
    let d =
        Multinomial::from_logits(6, [0.1f64.ln(), 0.2f64.ln(), 0.3f64.ln(), 0.4f64.ln()]).unwrap();
    close(
        "logits",
        lp(&d, [2.0, 0.0, 3.0, 1.0]),
        -5.039_034_768_617_952_4,
        1e-14,
    );
    // A category of probability zero that is not drawn contributes nothing...
    let d = Multinomial::new(3, [0.5, 0.0, 0.5]).unwrap();
    close(
        "zero",
        lp(&d, [1.0, 0.0, 2.0]),
        -0.980_829_253_011_726_19,
        1e-14,
    );
    // ...and rules the value out when it is.
    assert_eq!(lp(&d, [1.0, 1.0, 1.0]), f64::NEG_INFINITY);
    // Not summing to n, negative, fractional: outside the support.
    let d = Multinomial::new(3, [0.2, 0.3, 0.5]).unwrap();
    for bad in [[1.0, 1.0, 0.0], [4.0, -1.0, 0.0], [1.5, 0.5, 1.0]] {
        assert_eq!(lp(&d, bad), f64::NEG_INFINITY, "{bad:?}");
    }
    // A batch of values against one distribution.
    let v = d.log_prob(&rows(&[vec![3.0, 0.0, 0.0], vec![0.0, 0.0, 3.0]]));
    let v = v.to_vec().unwrap();
    close("batch0", v[0], 3.0 * 0.2f64.ln(), 1e-14);
    close("batch1", v[1], 3.0 * 0.5f64.ln(), 1e-14);
}

#[test]
fn negative_binomial_and_gamma_poisson_match_scipy_and_torch() {
    for (r, p, k, want) in [
        (3.5, 0.3, 0.0, -1.248_362_303_785_563_6),
        (3.5, 0.3, 4.0, -2.908_916_717_025_593_2),
        (3.5, 0.3, 17.0, -15.590_446_055_279_642),
        (0.5, 0.9, 1000.0, -110.538_175_786_734_14),
    ] {
        let d = NegativeBinomial::new(r, p).unwrap();
        close(&format!("NB({r}, {p}) at {k}"), lp(&d, k), want, 1e-13);
        let l = (p / (1.0 - p)).ln();
        let d = NegativeBinomial::from_logits(r, l).unwrap();
        close(
            &format!("NB logits ({r}, {p}) at {k}"),
            lp(&d, k),
            want,
            1e-13,
        );
    }
    let d = NegativeBinomial::new(3.5, 0.3).unwrap();
    close("NB mean", d.mean().unwrap().item().unwrap(), 1.5, 1e-14);
    close(
        "NB var",
        d.variance().unwrap().item().unwrap(),
        2.142_857_142_857_142_3,
        1e-14,
    );
    assert_eq!(lp(&d, -1.0), f64::NEG_INFINITY);
    assert_eq!(lp(&d, 1.5), f64::NEG_INFINITY);
    for (a, b, k, want) in [
        (2.5, 0.7, 0.0, -2.218_257_987_502_257_2),
        (2.5, 0.7, 3.0, -1.928_771_112_771_026_1),
        (0.3, 4.0, 12.0, -22.224_227_097_991_182),
    ] {
        let d = GammaPoisson::new(a, b).unwrap();
        close(
            &format!("GammaPoisson({a}, {b}) at {k}"),
            lp(&d, k),
            want,
            1e-13,
        );
    }
    let d = GammaPoisson::new(2.5, 0.7).unwrap();
    close(
        "GP mean",
        d.mean().unwrap().item().unwrap(),
        2.5 / 0.7,
        1e-14,
    );
    close(
        "GP var",
        d.variance().unwrap().item().unwrap(),
        8.673_469_387_755_103_5,
        1e-14,
    );
}

#[test]
fn zero_inflated_poisson_matches_pyro() {
    for (g, rate, k, want) in [
        (0.3, 2.5, 0.0, -1.028_733_212_673_555_1),
        (0.3, 2.5, 4.0, -2.369_565_846_790_057_8),
        (0.0, 2.5, 0.0, -2.5),
    ] {
        let d = ZeroInflatedPoisson::new(g, rate).unwrap();
        close(&format!("ZIP({g}, {rate}) at {k}"), lp(&d, k), want, 1e-14);
    }
    // A gate of one: all mass at zero.
    let d = ZeroInflatedPoisson::new(1.0, 2.5).unwrap();
    assert_eq!(lp(&d, 0.0), 0.0);
    assert_eq!(lp(&d, 2.0), f64::NEG_INFINITY);
    let d = ZeroInflatedPoisson::from_logits(-0.8, 2.5).unwrap();
    close("ZIP logits 0", lp(&d, 0.0), -1.003_314_636_561_512, 1e-14);
    close("ZIP logits 3", lp(&d, 3.0), -1.913_987_939_553_367_4, 1e-14);
    assert_eq!(lp(&d, -1.0), f64::NEG_INFINITY);
}

/// `(loc, scale, low, high, x, logpdf, mean, var)` at 60 digits (mpmath; scipy.stats.truncnorm
/// agrees to 1e-13 on the log-density but loses up to 7 digits of the variance in the far tails).
type TruncNormCase = (f64, f64, f64, f64, f64, f64, f64, f64);

const TRUNCNORM: [TruncNormCase; 7] = [
    (
        0.0,
        1.0,
        8.0,
        9.0,
        8.1,
        1.2896800602324783,
        8.1211889929797962,
        0.014148542782748111,
    ),
    (
        0.0,
        1.0,
        -9.0,
        -8.0,
        -8.5,
        -2.0303199397675247,
        -8.1211889929797962,
        0.014148542782748111,
    ),
    (
        0.0,
        1.0,
        30.0,
        31.0,
        30.02,
        2.8021054231385922,
        30.033259667433622,
        0.0011037715118352822,
    ),
    (
        1.0,
        2.0,
        -1.0,
        4.0,
        0.3,
        -1.4178465696422451,
        1.2903748943050524,
        1.6627400246295574,
    ),
    (
        0.5,
        1.5,
        0.0,
        f64::INFINITY,
        2.0,
        -1.3632545503917239,
        1.3977354171976091,
        0.99520341211023,
    ),
    (
        0.0,
        1.0,
        f64::NEG_INFINITY,
        -40.0,
        -40.01,
        3.2894534805491951,
        -40.024968847207262,
        0.00062266837859138876,
    ),
    (
        0.0,
        1.0,
        20.0,
        20.5,
        20.1,
        0.99325593140428003,
        20.04973356838186,
        0.00245353917693306,
    ),
];

#[test]
fn truncated_normal_matches_scipy_in_the_tails() {
    for (i, &(m, s, lo, hi, x, want, mean, var)) in TRUNCNORM.iter().enumerate() {
        let d = TruncatedNormal::new(m, s, lo, hi).unwrap();
        close(&format!("case {i} logpdf"), lp(&d, x), want, 1e-12);
        close(
            &format!("case {i} mean"),
            d.mean().unwrap().item().unwrap(),
            mean,
            1e-13,
        );
        // The variance loses digits to cancellation deep in the tails (1 + αφ/Z - (φ/Z)²).
        let tol = if lo.abs().max(hi.abs()) > 10.0 {
            1e-9
        } else {
            1e-12
        };
        close(
            &format!("case {i} var"),
            d.variance().unwrap().item().unwrap(),
            var,
            tol,
        );
        assert_eq!(lp(&d, lo - 1.0), f64::NEG_INFINITY);
        assert_eq!(lp(&d, hi + 1.0), f64::NEG_INFINITY);
    }
}

#[test]
fn von_mises_matches_scipy() {
    for (loc, kappa, x, want) in [
        (0.3, 0.5, -2.0, -2.232_564_796_234_738_6),
        (0.3, 5.0, 0.1, -0.242_225_953_025_670_52),
        (-1.0, 50.0, -1.2, 0.037_876_323_780_932_086),
        (2.0, 500.0, 2.01, 2.163_115_473_816_597_9),
    ] {
        let d = VonMises::new(loc, kappa).unwrap();
        close(
            &format!("VonMises({loc}, {kappa}) at {x}"),
            lp(&d, x),
            want,
            1e-13,
        );
        // Periodic in x.
        let tau = 2.0 * std::f64::consts::PI;
        close("periodic", lp(&d, x + tau), want, 1e-12);
    }
    // ln I₀(κ) (scipy: ln i0e(κ) + κ) through lp at the mode: κ - ln 2π - ln I₀(κ), across the
    // switch from the power series to the asymptotic expansion and up to κ = 1e6.
    for (kappa, log_i0, ratio) in [
        (
            1e-3,
            2.499_999_844_059_533_3e-7,
            0.000_499_999_937_500_010_34,
        ),
        (0.5, 0.061_549_719_185_481_189, 0.242_499_612_580_802_02),
        (5.0, 3.304_681_775_822_533_3, 0.893_383_137_044_085_23),
        (29.9, 27.286_385_310_555_094, 0.983_132_833_265_805_81),
        (30.1, 27.483_023_208_951_185, 0.983_245_897_153_711_02),
        (100.0, 96.779_732_689_942_577, 0.994_987_373_005_168_71),
        (1e4, 9_994.475_903_781_432_9, 0.999_949_998_749_875_11),
        (1e6, 999_992.173_306_312_76, 0.999_999_499_999_875_03),
    ] {
        let tape = Tape::new();
        let k = tape.leaf(Tensor::from(kappa));
        let d = VonMises::new(0.0, &k).unwrap();
        let l = d.log_prob(&Tensor::from(0.0));
        // κ - ln 2π - ln I₀ is computed from numbers of size κ: compare at that scale.
        let got = kappa - LN_2PI - l.item().unwrap();
        assert!(
            (got - log_i0).abs() <= 1e-14 * kappa.max(1.0) + 1e-15,
            "ln I0({kappa}) = {got}, scipy {log_i0}"
        );
        // d lp/dκ = cos(0) - I₁/I₀.
        let g = tape.backward(&l).unwrap().get(&k).unwrap().item().unwrap();
        close(&format!("I1/I0({kappa})"), 1.0 - g, ratio, 1e-14);
        close(
            "circular variance",
            d.variance().unwrap().item().unwrap(),
            1.0 - ratio,
            1e-12,
        );
    }
}

/// Correlation matrices of the reference script.
fn c3() -> Tensor {
    rows(&[
        vec![1.0, 0.3, -0.2],
        vec![0.3, 1.0, 0.5],
        vec![-0.2, 0.5, 1.0],
    ])
}

fn c4() -> Tensor {
    rows(&[
        vec![1.0, 0.3, -0.2, 0.1],
        vec![0.3, 1.0, 0.5, 0.0],
        vec![-0.2, 0.5, 1.0, -0.4],
        vec![0.1, 0.0, -0.4, 1.0],
    ])
}

#[test]
fn lkj_cholesky_matches_torch() {
    for (c, n, eta, want) in [
        (c3(), 3, 2.5, -1.209_860_757_727_85),
        (c3(), 3, 1.0, -1.643_467_930_874_475_5),
        (c4(), 4, 0.5, -3.806_517_370_510_475_1),
    ] {
        let l = c.cholesky();
        let d = LKJCholesky::new(n, eta).unwrap();
        close(&format!("LKJ({n}, {eta})"), lp(&d, l), want, 1e-13);
    }
    // η = 1 in two dimensions: r uniform on (-1, 1), and |dr/dL_10| = 1, so p(L) = 1/2; for
    // other η, p(r) ∝ (1 - r²)^(η - 1) with the Beta(η, η) normaliser on (r + 1)/2.
    for eta in [1.0, 0.4, 3.0] {
        let r: f64 = -0.35;
        let l = rows(&[vec![1.0, 0.0], vec![r, (1.0 - r * r).sqrt()]]);
        let lbeta = 2.0 * pyro::tensor::lgamma(eta) - pyro::tensor::lgamma(2.0 * eta);
        let want = (eta - 1.0) * (1.0 - r * r).ln() - (2.0 * eta - 1.0) * 2f64.ln() - lbeta;
        close(
            &format!("LKJ(2, {eta})"),
            lp(&LKJCholesky::new(2, eta).unwrap(), l),
            want,
            1e-13,
        );
    }
    // Not a correlation Cholesky factor: -inf.
    let d = LKJCholesky::new(2, 1.5).unwrap();
    assert_eq!(
        lp(&d, rows(&[vec![1.0, 0.0], vec![0.5, 0.5]])),
        f64::NEG_INFINITY
    );
    assert_eq!(
        lp(&d, rows(&[vec![1.0, 0.1], vec![0.6, 0.8]])),
        f64::NEG_INFINITY
    );
    // A batch of η.
    let d = LKJCholesky::new(3, Tensor::from(vec![2.5, 1.0])).unwrap();
    let v = d.log_prob(&c3().cholesky()).to_vec().unwrap();
    close("batch 0", v[0], -1.209_860_757_727_85, 1e-13);
    close("batch 1", v[1], -1.643_467_930_874_475_5, 1e-13);
}

#[test]
fn mixture_same_family_matches_torch() {
    let mix = Categorical::new([0.2, 0.5, 0.3]).unwrap();
    let comp = Normal::new([-2.0, 0.0, 3.0], [0.5, 1.0, 2.0]).unwrap();
    let d = MixtureSameFamily::new(mix.clone(), comp).unwrap();
    close("normal", lp(&d, 1.2), -1.987_731_907_485_898_1, 1e-14);
    // Event shape [2]: Independent normals as components.
    let comp = Normal::new(
        rows(&[vec![-1.0, 0.0], vec![1.0, 2.0], vec![0.0, -3.0]]),
        rows(&[vec![1.0, 0.5], vec![2.0, 1.0], vec![0.7, 0.7]]),
    )
    .to_event(1)
    .unwrap();
    let d = MixtureSameFamily::new(mix, comp).unwrap();
    assert_eq!(d.event_shape().as_slice(), &[2]);
    close(
        "independent",
        lp(&d, [0.5, -0.5]),
        -4.243_413_626_502_497_3,
        1e-14,
    );
    // A batch of values.
    let v = d.log_prob(&rows(&[vec![0.5, -0.5], vec![0.5, -0.5]]));
    assert_eq!(v.shape(), &[2]);
}

#[test]
fn multivariate_normal_from_covariance_and_precision_match_scipy() {
    let cov = rows(&[
        vec![2.0, 0.3, -0.4],
        vec![0.3, 1.0, 0.2],
        vec![-0.4, 0.2, 1.5],
    ]);
    let loc = [0.1, -0.2, 0.3];
    let x = [0.5, 0.5, -1.0];
    let d = MultivariateNormal::from_covariance(loc, cov.clone()).unwrap();
    close("cov", lp(&d, x), -4.204_963_644_998_995_8, 1e-13);
    let back = d.covariance_matrix().to_vec().unwrap();
    for (a, b) in back.iter().zip(cov.to_vec().unwrap()) {
        close("L Lᵀ = Σ", *a, b, 1e-14);
    }
    // The precision parameterisation: here `cov` is read as Σ⁻¹.
    let d = MultivariateNormal::from_precision(loc, cov).unwrap();
    close("precision", lp(&d, x), -4.066_002_633_778_904_1, 1e-13);
}

// ----- the Cholesky op ----------------------------------------------------------------------

#[test]
fn cholesky_gradient_matches_torch_and_finite_differences() {
    let a = rows(&[
        vec![2.0, 0.3, -0.4],
        vec![0.3, 1.0, 0.2],
        vec![-0.4, 0.2, 1.5],
    ]);
    let w = rows(&[
        vec![0.7, 0.0, 0.0],
        vec![-1.1, 0.4, 0.0],
        vec![0.5, 1.3, -0.9],
    ]);
    let tape = Tape::new();
    let leaf = tape.leaf(a.clone());
    let l = leaf.cholesky();
    let g = tape.backward(&(&l * &w).sum()).unwrap().get(&leaf).unwrap();
    let want = [
        0.279_330_222_733_698_56,
        -0.234_015_216_283_980_2,
        -0.016_297_165_620_950_391,
        -0.234_015_216_283_980_2,
        -0.005_142_056_106_336_174_1,
        0.770_611_024_763_352_64,
        -0.016_297_165_620_950_391,
        0.770_611_024_763_352_64,
        -0.387_411_036_015_421_93,
    ];
    for (i, (a, b)) in g.to_vec().unwrap().iter().zip(want).enumerate() {
        close(&format!("dA[{i}]"), *a, b, 1e-13);
    }
    // Finite differences in every entry (the op factorises the symmetric part, so an entry
    // perturbed alone moves the matrix it reads by half in two places), batched.
    let b = rows(&[vec![1.0, 0.5], vec![0.5, 3.0]]);
    let batch = Tensor::stack(&[a.narrow(0, 0, 2).narrow(1, 0, 2), b], 0);
    check_grad("cholesky 3x3", std::slice::from_ref(&a), 1e-7, |x| {
        x[0].cholesky()
    });
    check_grad("cholesky batch", &[batch], 1e-7, |x| x[0].cholesky());
    // Through a log-density: MVN from a covariance built from a free matrix B: Σ = B Bᵀ + I.
    let bmat = rows(&[vec![0.4, -0.3], vec![0.8, 0.1]]);
    let x = Tensor::from(vec![0.3, -1.2]);
    check_grad(
        "MVN from_covariance",
        std::slice::from_ref(&bmat),
        1e-7,
        |p| {
            let cov = p[0].matmul(&p[0].t()) + Tensor::eye(2);
            MultivariateNormal::from_covariance([0.1, 0.2], cov)
                .unwrap()
                .log_prob(&x)
        },
    );
    check_grad("MVN from_precision", &[bmat], 1e-7, |p| {
        let prec = p[0].matmul(&p[0].t()) + Tensor::eye(2);
        MultivariateNormal::from_precision([0.1, 0.2], prec)
            .unwrap()
            .log_prob(&x)
    });
}

#[test]
fn cholesky_errors_name_the_pivot_and_the_parameter() {
    let not_pd = rows(&[vec![1.0, 2.0], vec![2.0, 1.0]]);
    let e = not_pd.cholesky().check().unwrap_err().to_string();
    assert!(
        e.contains("not positive definite") && e.contains("2x2"),
        "{e}"
    );
    assert!(rows(&[vec![1.0, 2.0, 3.0]]).cholesky().error().is_some());
    param_error(
        MultivariateNormal::from_covariance([0.0, 0.0], not_pd.clone()),
        "MultivariateNormal",
        "covariance_matrix",
    );
    param_error(
        MultivariateNormal::from_precision([0.0, 0.0], not_pd),
        "MultivariateNormal",
        "precision_matrix",
    );
    param_error(
        MultivariateNormal::from_covariance([0.0, 0.0], rows(&[vec![1.0, 0.5], vec![0.4, 1.0]])),
        "MultivariateNormal",
        "covariance_matrix",
    );
    param_error(
        MultivariateNormal::from_covariance(
            [0.0, 0.0],
            rows(&[vec![1.0, f64::NAN], vec![0.0, 1.0]]),
        ),
        "MultivariateNormal",
        "covariance_matrix",
    );
    param_error(
        MultivariateNormal::from_covariance([0.0, 0.0, 0.0], Tensor::eye(2)),
        "MultivariateNormal",
        "loc",
    );
}

// ----- the corr_cholesky bijection ----------------------------------------------------------

/// ln |det| of a square matrix by Gaussian elimination with partial pivoting.
fn log_abs_det(mut m: Vec<Vec<f64>>) -> f64 {
    let n = m.len();
    let mut acc = 0.0;
    for c in 0..n {
        let p = (c..n)
            .max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs()))
            .unwrap();
        m.swap(c, p);
        let piv = m[c][c];
        acc += piv.abs().ln();
        for r in c + 1..n {
            let f = m[r][c] / piv;
            let pivot_row = m[c].clone();
            for (dst, src) in m[r].iter_mut().zip(&pivot_row).skip(c) {
                *dst -= f * src;
            }
        }
    }
    acc
}

#[test]
fn corr_cholesky_bijection() {
    let t = biject_to(&constraints::corr_cholesky()).unwrap();
    assert_eq!(t.event_dim(), 2);
    for n in [2usize, 3, 4, 5] {
        let m = n * (n - 1) / 2;
        assert_eq!(
            unconstrained_shape(&Constraint::CorrCholesky, &[7, n, n])
                .unwrap()
                .as_slice(),
            &[7, m]
        );
        assert_eq!(
            constrained_shape(&Constraint::CorrCholesky, &[7, m])
                .unwrap()
                .as_slice(),
            &[7, n, n]
        );
        let xv: Vec<f64> = (0..m)
            .map(|i| ((i * 5 + 2) % 7) as f64 * 0.5 - 1.4)
            .collect();
        let x = Tensor::from(xv.clone());
        let y = t.forward(&x).check().unwrap();
        assert_eq!(y.shape(), &[n, n]);
        assert!(Constraint::CorrCholesky.check(&y), "n = {n}: {y:?}");
        // Round trip.
        let x2 = t.inverse(&y).to_vec().unwrap();
        for (a, b) in xv.iter().zip(&x2) {
            close("inverse(forward(x))", *b, *a, 1e-12);
        }
        // log |det J| of x -> the strictly lower triangle, against finite differences.
        let lower: Vec<usize> = (0..n)
            .flat_map(|i| (0..i).map(move |j| i * n + j))
            .collect();
        let h = 1e-6;
        let mut jac = vec![vec![0.0; m]; m];
        for col in 0..m {
            let at = |d: f64| {
                let mut v = xv.clone();
                v[col] += d;
                t.forward(&Tensor::from(v)).to_vec().unwrap()
            };
            let (p, q) = (at(h), at(-h));
            for (row, &o) in lower.iter().enumerate() {
                jac[row][col] = (p[o] - q[o]) / (2.0 * h);
            }
        }
        let ladj = t.log_abs_det_jacobian(&x, &y).item().unwrap();
        close(&format!("log|det J| n = {n}"), ladj, log_abs_det(jac), 1e-7);
    }
    // Batched: the log-Jacobian has the batch shape; extreme inputs stay in the support.
    let x = Tensor::new(vec![0.3, -40.0, 2.0, 40.0, 0.0, -0.5], &[2, 3]).unwrap();
    let y = t.forward(&x);
    assert_eq!(y.shape(), &[2, 3, 3]);
    assert!(Constraint::CorrCholesky.check(&y));
    let l = t.log_abs_det_jacobian(&x, &y);
    assert_eq!(l.shape(), &[2]);
    assert!(l.is_finite(), "{l:?}");
    // Shapes that are not n (n - 1) / 2 are errors, not panics.
    assert!(t.forward(&Tensor::from(vec![0.0, 0.0])).error().is_some());
    assert!(constrained_shape(&Constraint::CorrCholesky, &[4]).is_err());
    assert!(unconstrained_shape(&Constraint::CorrCholesky, &[3, 2]).is_err());
}

#[test]
fn corr_cholesky_parameter_in_the_store() {
    let mut store = pyro::params::ParamStore::new();
    let l = c3().cholesky();
    store
        .insert("L", l.clone(), constraints::corr_cholesky())
        .unwrap();
    assert_eq!(store.unconstrained("L").unwrap().shape(), &[3]);
    for (a, b) in store
        .get("L")
        .unwrap()
        .to_vec()
        .unwrap()
        .iter()
        .zip(l.to_vec().unwrap())
    {
        close("stored", *a, b, 1e-12);
    }
    assert!(store
        .insert("bad", Tensor::eye(3) * 2.0, constraints::corr_cholesky())
        .is_err());
}

// ----- sample moments -----------------------------------------------------------------------

#[test]
fn sample_moments_counts() {
    // Multinomial: each count is Binomial(n, p_k).
    let (n, probs) = (10u64, [0.1, 0.6, 0.3]);
    let d = Multinomial::new(n, Tensor::from_rows(&vec![probs.to_vec(); N]).unwrap()).unwrap();
    let v = draws(&d, 1);
    assert!(v.chunks(3).all(|r| r.iter().sum::<f64>() == n as f64));
    for (k, &p) in probs.iter().enumerate() {
        let xs: Vec<f64> = v.chunks(3).map(|r| r[k]).collect();
        let q = n as f64 * p * (1.0 - p);
        check_moments(
            &format!("Multinomial[{k}]"),
            &xs,
            n as f64 * p,
            q,
            (1.0 - 6.0 * p * (1.0 - p)) / q,
        );
    }
    // Moments from scipy.stats.nbinom (the reference script).
    check_moments(
        "NegativeBinomial(3.5, 0.3)",
        &draws(&NegativeBinomial::new(full(3.5), 0.3).unwrap(), 2),
        1.5,
        2.142_857_142_857_143_7,
        2.180_952_380_952_380_8,
    );
    check_moments(
        "GammaPoisson(2.5, 0.7)",
        &draws(&GammaPoisson::new(full(2.5), 0.7).unwrap(), 3),
        3.571_428_571_428_572_1,
        8.673_469_387_755_103_5,
        2.515_294_117_647_058_7,
    );
    for (seed, d) in [
        (4, ZeroInflatedPoisson::new(full(0.3), 2.5).unwrap()),
        (
            5,
            ZeroInflatedPoisson::from_logits(full((0.3f64 / 0.7).ln()), 2.5).unwrap(),
        ),
    ] {
        check_moments(
            "ZeroInflatedPoisson(0.3, 2.5)",
            &draws(&d, seed),
            1.75,
            3.0625,
            0.099_125_364_431_486_673,
        );
        close(
            "ZIP mean",
            d.mean().unwrap().to_vec().unwrap()[0],
            1.75,
            1e-14,
        );
        close(
            "ZIP var",
            d.variance().unwrap().to_vec().unwrap()[0],
            3.0625,
            1e-14,
        );
    }
}

#[test]
fn sample_moments_truncated_normal() {
    // (case of TRUNCNORM, excess kurtosis from scipy)
    for (seed, case, kurt) in [
        (6, 0, 4.678_063_308_114_428_9),
        (7, 3, -0.940_514_469_011_915_82),
        (8, 4, 0.527_479_000_739_347_28),
        (9, 2, 5.885_913_986_048_615_6),
    ] {
        let (m, s, lo, hi, _, _, mean, var) = TRUNCNORM[case];
        let d = TruncatedNormal::new(full(m), s, lo, hi).unwrap();
        let xs = draws(&d, seed);
        assert!(xs.iter().all(|&x| x >= lo && x <= hi));
        check_moments(
            &format!("TruncatedNormal case {case}"),
            &xs,
            mean,
            var,
            kurt,
        );
    }
}

#[test]
fn sample_moments_von_mises() {
    // E cos(x - μ) = A(κ) = I₁/I₀, E cos²(x - μ) = (1 + I₂/I₀)/2 with I₂/I₀ = 1 - 2A/κ;
    // E sin(x - μ) = 0, E sin² = (1 - I₂/I₀)/2.
    let pi = std::f64::consts::PI;
    for (seed, loc, kappa, a) in [
        (10, 0.5, 0.5, 0.242_499_612_580_802_02),
        (11, -3.0, 5.0, 0.893_383_137_044_085_23),
        (12, 3.0, 100.0, 0.994_987_373_005_168_71),
    ] {
        let d = VonMises::new(full(loc), kappa).unwrap();
        let xs = draws(&d, seed);
        assert!(xs.iter().all(|&x| (-pi..pi).contains(&x)));
        let i2 = 1.0 - 2.0 * a / kappa;
        let n = N as f64;
        let c: f64 = xs.iter().map(|x| (x - loc).cos()).sum::<f64>() / n;
        let se_c = (((1.0 + i2) / 2.0 - a * a) / n).sqrt();
        assert!((c - a).abs() < 5.0 * se_c, "κ = {kappa}: E cos {c} vs {a}");
        let s: f64 = xs.iter().map(|x| (x - loc).sin()).sum::<f64>() / n;
        let se_s = ((1.0 - i2) / 2.0 / n).sqrt();
        assert!(s.abs() < 5.0 * se_s, "κ = {kappa}: E sin {s}");
    }
    // κ = 0: uniform on the circle.
    let xs = draws(&VonMises::new(full(1.0), 0.0).unwrap(), 13);
    check_moments("VonMises(κ = 0)", &xs, 0.0, pi * pi / 3.0, -1.2);
    // Large κ: sqrt(κ) (x - μ) is standard normal up to O(1/κ), far below the standard errors
    // (μ = 0 for the largest κ, whose deviations only f64 values near 0 can hold).
    for (seed, loc, kappa) in [
        (19, 0.25, 1e4),
        (20, 0.25, 1e8),
        (21, 0.25, 1e12),
        (22, 0.0, 1e300),
    ] {
        let xs: Vec<f64> = draws(&VonMises::new(full(loc), kappa).unwrap(), seed)
            .iter()
            .map(|x| (x - loc) * f64::sqrt(kappa))
            .collect();
        check_moments(&format!("VonMises(κ = {kappa})"), &xs, 0.0, 1.0, 0.0);
    }
}

#[test]
fn sample_moments_lkj_cholesky() {
    // Each off-diagonal correlation r of C = L Lᵀ has (r + 1)/2 ~ Beta(a, a) with
    // a = η - 1 + n/2: mean 0, variance 1/(2a + 1), excess kurtosis -6/(2a + 3).
    for (seed, n, eta) in [(14u64, 3usize, 0.5), (15, 4, 2.0), (16, 2, 1.0)] {
        let d = LKJCholesky::new(n, Tensor::full(&[N / 2], eta)).unwrap();
        let s = d.sample(&mut rng_from_seed(seed));
        assert_eq!(s.shape(), &[N / 2, n, n]);
        assert!(Constraint::CorrCholesky.check(&s));
        let c = s.matmul(&s.transpose()).to_vec().unwrap();
        let a = eta - 1.0 + n as f64 / 2.0;
        for i in 1..n {
            for j in 0..i {
                let r: Vec<f64> = c.chunks(n * n).map(|m| m[i * n + j]).collect();
                check_moments(
                    &format!("LKJ({n}, {eta}) r[{i}{j}]"),
                    &r,
                    0.0,
                    1.0 / (2.0 * a + 1.0),
                    -6.0 / (2.0 * a + 3.0),
                );
            }
        }
    }
}

#[test]
fn sample_moments_mixture_and_mvn_from_covariance() {
    // Mixture of normals: mean Σ π μ, variance Σ π (σ² + μ²) - m², fourth central moment
    // Σ π ((μ - m)⁴ + 6 (μ - m)² σ² + 3 σ⁴).
    let (pi, mu, sd) = ([0.2, 0.5, 0.3], [-2.0, 0.0, 3.0], [0.5, 1.0, 2.0]);
    let mix = Categorical::new(Tensor::from_rows(&vec![pi.to_vec(); N]).unwrap()).unwrap();
    let comp = Normal::new(
        Tensor::from_rows(&vec![mu.to_vec(); N]).unwrap(),
        Tensor::from(sd.to_vec()),
    )
    .unwrap();
    let d = MixtureSameFamily::new(mix, comp).unwrap();
    let m: f64 = (0..3).map(|k| pi[k] * mu[k]).sum();
    let v: f64 = (0..3)
        .map(|k| pi[k] * (sd[k] * sd[k] + mu[k] * mu[k]))
        .sum::<f64>()
        - m * m;
    let m4: f64 = (0..3)
        .map(|k| {
            let dm = mu[k] - m;
            pi[k] * (dm.powi(4) + 6.0 * dm * dm * sd[k] * sd[k] + 3.0 * sd[k].powi(4))
        })
        .sum();
    check_moments("mixture", &draws(&d, 17), m, v, m4 / (v * v) - 3.0);
    close(
        "mixture mean",
        d.mean().unwrap().to_vec().unwrap()[0],
        m,
        1e-14,
    );
    close(
        "mixture var",
        d.variance().unwrap().to_vec().unwrap()[0],
        v,
        1e-13,
    );
    // MVN from a covariance: marginals and one covariance.
    let cov = rows(&[
        vec![2.0, 0.3, -0.4],
        vec![0.3, 1.0, 0.2],
        vec![-0.4, 0.2, 1.5],
    ]);
    let loc = Tensor::from_rows(&vec![vec![0.1, -0.2, 0.3]; N]).unwrap();
    let d = MultivariateNormal::from_covariance(loc, cov).unwrap();
    let s = draws(&d, 18);
    let col = |k: usize| -> Vec<f64> { s.chunks(3).map(|r| r[k]).collect() };
    check_moments("MVN[0]", &col(0), 0.1, 2.0, 0.0);
    check_moments("MVN[2]", &col(2), 0.3, 1.5, 0.0);
    let (x0, x2) = (col(0), col(2));
    let c02: f64 = x0
        .iter()
        .zip(&x2)
        .map(|(a, b)| (a - 0.1) * (b - 0.3))
        .sum::<f64>()
        / N as f64;
    // Var((x0 - μ0)(x2 - μ2)) = Σ00 Σ22 + Σ02².
    let se = ((2.0 * 1.5 + 0.16) / N as f64).sqrt();
    assert!((c02 + 0.4).abs() < 5.0 * se, "cov02 {c02}");
}

// ----- gradients ----------------------------------------------------------------------------

#[test]
fn log_prob_gradients_match_finite_differences() {
    let tol = 1e-6;
    let counts = Tensor::from(vec![0.0, 3.0, 17.0]);
    check_grad(
        "NegativeBinomial (total_count, logits)",
        &[
            Tensor::from(vec![3.5, 0.4, 12.0]),
            Tensor::from(vec![-0.8, 1.5, 0.1]),
        ],
        tol,
        |p| {
            NegativeBinomial::from_logits(&p[0], &p[1])
                .unwrap()
                .log_prob(&counts)
        },
    );
    check_grad(
        "NegativeBinomial (total_count, probs)",
        &[
            Tensor::from(vec![3.5, 0.4, 12.0]),
            Tensor::from(vec![0.3, 0.8, 0.5]),
        ],
        tol,
        |p| {
            NegativeBinomial::new(&p[0], &p[1])
                .unwrap()
                .log_prob(&counts)
        },
    );
    check_grad(
        "GammaPoisson",
        &[
            Tensor::from(vec![2.5, 0.3, 7.0]),
            Tensor::from(vec![0.7, 4.0, 1.0]),
        ],
        tol,
        |p| GammaPoisson::new(&p[0], &p[1]).unwrap().log_prob(&counts),
    );
    let zk = Tensor::from(vec![0.0, 2.0, 0.0, 5.0]);
    check_grad(
        "ZeroInflatedPoisson (gate, rate)",
        &[
            Tensor::from(vec![0.3, 0.6, 0.05, 0.9]),
            Tensor::from(vec![2.5, 0.4, 7.0, 1.0]),
        ],
        tol,
        |p| {
            ZeroInflatedPoisson::new(&p[0], &p[1])
                .unwrap()
                .log_prob(&zk)
        },
    );
    check_grad(
        "ZeroInflatedPoisson (gate_logits, rate)",
        &[
            Tensor::from(vec![-0.8, 2.0, -6.0, 0.1]),
            Tensor::from(vec![2.5, 0.4, 7.0, 1.0]),
        ],
        tol,
        |p| {
            ZeroInflatedPoisson::from_logits(&p[0], &p[1])
                .unwrap()
                .log_prob(&zk)
        },
    );
    let mk = Tensor::from(vec![2.0, 0.0, 3.0, 1.0]);
    check_grad(
        "Multinomial logits",
        &[Tensor::from(vec![0.3, -1.0, 0.5, 2.0])],
        tol,
        |p| Multinomial::from_logits(6, &p[0]).unwrap().log_prob(&mk),
    );
    // Truncated normal: all four parameters, the centre and both tails.
    let tn_x = Tensor::from(vec![0.3, 8.1, -8.5, 2.0, 30.02]);
    check_grad(
        "TruncatedNormal",
        &[
            Tensor::from(vec![1.0, 0.0, 0.1, 0.5, 0.0]),
            Tensor::from(vec![2.0, 1.0, 0.9, 1.5, 1.0]),
            Tensor::from(vec![-1.0, 8.0, -9.0, 0.0, 30.0]),
            Tensor::from(vec![4.0, 9.0, -8.0, 5.0, 31.0]),
        ],
        1e-5,
        |p| {
            TruncatedNormal::new(&p[0], &p[1], &p[2], &p[3])
                .unwrap()
                .log_prob(&tn_x)
        },
    );
    let vm_x = Tensor::from(vec![-2.0, 0.1, -1.2, 2.01, 3.0]);
    check_grad(
        "VonMises",
        &[
            Tensor::from(vec![0.3, 0.3, -1.0, 2.0, -2.0]),
            Tensor::from(vec![0.5, 5.0, 50.0, 29.99, 30.01]),
        ],
        tol,
        |p| VonMises::new(&p[0], &p[1]).unwrap().log_prob(&vm_x),
    );
    // LKJ: in η and in the factor.
    let l3 = c3().cholesky();
    check_grad(
        "LKJCholesky η",
        &[Tensor::from(vec![2.5, 0.7])],
        tol,
        |p| LKJCholesky::new(3, &p[0]).unwrap().log_prob(&l3),
    );
    let x = Tensor::from(vec![0.3, -0.4, 1.1]);
    let corr = biject_to(&constraints::corr_cholesky()).unwrap();
    check_grad("LKJCholesky through corr_cholesky", &[x], tol, |p| {
        let l = corr.forward(&p[0]);
        LKJCholesky::new(3, 1.7).unwrap().log_prob(&l) + corr.log_abs_det_jacobian(&p[0], &l)
    });
    // Mixture: mixing logits and component parameters.
    let mx = Tensor::from(vec![1.2, -0.3]);
    check_grad(
        "MixtureSameFamily",
        &[
            Tensor::from(vec![0.2, -0.5, 1.0]),
            Tensor::from(vec![-2.0, 0.0, 3.0]),
            Tensor::from(vec![0.5, 1.0, 2.0]),
        ],
        tol,
        |p| {
            let mix = Categorical::from_logits(&p[0]).unwrap();
            let comp = Normal::new(&p[1], &p[2]).unwrap();
            MixtureSameFamily::new(mix, comp)
                .unwrap()
                .log_prob(&mx.unsqueeze(-1))
        },
    );
}

#[test]
fn truncated_normal_rsample_gradients_match_finite_differences() {
    // A fixed seed fixes the uniforms, so the draw is a smooth function of the parameters.
    for (m, s, lo, hi) in [
        (1.0, 2.0, -1.0, 4.0),
        (0.0, 1.0, 8.0, 9.0),
        (0.0, 1.0, -9.0, -8.0),
        (0.5, 1.5, 0.0, f64::INFINITY),
        (0.2, 0.7, f64::NEG_INFINITY, -0.5),
    ] {
        let params = [m, s, lo, hi].map(|v| Tensor::from(vec![v; 3]));
        let (finite_lo, finite_hi) = (lo.is_finite(), hi.is_finite());
        // Differentiate in the finite parameters only.
        let free: Vec<usize> = (0..4)
            .filter(|&i| (i != 2 || finite_lo) && (i != 3 || finite_hi))
            .collect();
        let inputs: Vec<Tensor> = free.iter().map(|&i| params[i].clone()).collect();
        check_grad(&format!("rsample [{lo}, {hi}]"), &inputs, 1e-5, |p| {
            let mut all = params.clone();
            for (k, &i) in free.iter().enumerate() {
                all[i] = p[k].clone();
            }
            let d = TruncatedNormal::new(&all[0], &all[1], &all[2], &all[3]).unwrap();
            d.rsample(&mut rng_from_seed(99)).unwrap()
        });
    }
}

// ----- validation ---------------------------------------------------------------------------

#[test]
fn invalid_parameters_name_distribution_and_parameter() {
    param_error(Multinomial::new(3, [0.2, 0.3]), "Multinomial", "probs");
    param_error(Multinomial::new(3, [-0.2, 1.2]), "Multinomial", "probs");
    param_error(
        Multinomial::from_logits(3, [0.0, f64::NAN]),
        "Multinomial",
        "logits",
    );
    param_error(
        Multinomial::new(1 << 60, [0.5, 0.5]),
        "Multinomial",
        "total_count",
    );
    param_error(
        NegativeBinomial::new(0.0, 0.5),
        "NegativeBinomial",
        "total_count",
    );
    param_error(NegativeBinomial::new(2.0, 1.0), "NegativeBinomial", "probs");
    param_error(
        NegativeBinomial::from_logits(2.0, f64::INFINITY),
        "NegativeBinomial",
        "logits",
    );
    param_error(
        NegativeBinomial::new([1.0, 2.0], [0.5, 0.5, 0.5]),
        "NegativeBinomial",
        "probs",
    );
    param_error(
        GammaPoisson::new(-1.0, 1.0),
        "GammaPoisson",
        "concentration",
    );
    param_error(GammaPoisson::new(1.0, 0.0), "GammaPoisson", "rate");
    param_error(LKJCholesky::new(1, 1.0), "LKJCholesky", "dim");
    param_error(LKJCholesky::new(3, 0.0), "LKJCholesky", "concentration");
    param_error(
        TruncatedNormal::new(0.0, 0.0, -1.0, 1.0),
        "TruncatedNormal",
        "scale",
    );
    param_error(
        TruncatedNormal::new(f64::NAN, 1.0, -1.0, 1.0),
        "TruncatedNormal",
        "loc",
    );
    param_error(
        TruncatedNormal::new(0.0, 1.0, 1.0, -1.0),
        "TruncatedNormal",
        "high",
    );
    param_error(
        TruncatedNormal::new(0.0, 1.0, f64::INFINITY, f64::INFINITY),
        "TruncatedNormal",
        "low",
    );
    param_error(
        TruncatedNormal::new(0.0, 1.0, 0.0, f64::NAN),
        "TruncatedNormal",
        "high",
    );
    param_error(VonMises::new(0.0, -0.1), "VonMises", "concentration");
    param_error(VonMises::new(f64::INFINITY, 1.0), "VonMises", "loc");
    param_error(
        ZeroInflatedPoisson::new(1.1, 1.0),
        "ZeroInflatedPoisson",
        "gate",
    );
    param_error(
        ZeroInflatedPoisson::new(0.1, 0.0),
        "ZeroInflatedPoisson",
        "rate",
    );
    param_error(
        ZeroInflatedPoisson::from_logits(f64::NAN, 1.0),
        "ZeroInflatedPoisson",
        "gate_logits",
    );
    // Components whose batch does not end in the number of categories.
    let mix = Categorical::new([0.5, 0.5]).unwrap();
    param_error(
        MixtureSameFamily::new(mix.clone(), Normal::new([0.0, 1.0, 2.0], 1.0).unwrap()),
        "MixtureSameFamily",
        "component_distribution",
    );
    param_error(
        MixtureSameFamily::new(mix, Normal::new(0.0, 1.0).unwrap()),
        "MixtureSameFamily",
        "component_distribution",
    );
    // Shape errors at log_prob are carried, not panicked.
    let d = Multinomial::new(3, [0.2, 0.3, 0.5]).unwrap();
    assert!(d.log_prob(&Tensor::from(vec![1.0, 2.0])).error().is_some());
    let d = LKJCholesky::new(3, 1.0).unwrap();
    assert!(d.log_prob(&Tensor::eye(2)).error().is_some());
}

// ----- a seeded property test over the new distributions ------------------------------------

/// Small deterministic generator for parameters (not the sampler's RNG).
struct Params(u64);

impl Params {
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        lo + (hi - lo) * ((self.0 >> 11) as f64 / (1u64 << 53) as f64)
    }
    fn vec(&mut self, n: usize, lo: f64, hi: f64) -> Tensor {
        Tensor::from((0..n).map(|_| self.uniform(lo, hi)).collect::<Vec<_>>())
    }
    fn simplex(&mut self, batch: usize, k: usize) -> Tensor {
        let r: Vec<Vec<f64>> = (0..batch)
            .map(|_| {
                let v: Vec<f64> = (0..k).map(|_| self.uniform(0.05, 1.0)).collect();
                let s: f64 = v.iter().sum();
                v.iter().map(|x| x / s).collect()
            })
            .collect();
        rows(&r)
    }
}

fn new_distributions(p: &mut Params) -> Vec<Box<dyn Distribution>> {
    let b = 4;
    let lo = p.vec(b, -3.0, 1.0);
    let hi = &lo + p.vec(b, 0.1, 4.0);
    let cov = {
        let m = rows(&[
            vec![p.uniform(-1.0, 1.0), p.uniform(-1.0, 1.0), 0.0],
            vec![
                p.uniform(-1.0, 1.0),
                p.uniform(-1.0, 1.0),
                p.uniform(-1.0, 1.0),
            ],
            vec![0.0, p.uniform(-1.0, 1.0), p.uniform(-1.0, 1.0)],
        ]);
        m.matmul(&m.t()) + Tensor::eye(3) * 0.5
    };
    vec![
        Box::new(Multinomial::new(7, p.simplex(b, 3)).unwrap()),
        Box::new(Multinomial::from_logits(0, p.vec(5, -2.0, 2.0)).unwrap()),
        Box::new(NegativeBinomial::new(p.vec(b, 0.2, 20.0), p.vec(b, 0.05, 0.95)).unwrap()),
        Box::new(GammaPoisson::new(p.vec(b, 0.2, 20.0), p.vec(b, 0.05, 5.0)).unwrap()),
        Box::new(ZeroInflatedPoisson::new(p.vec(b, 0.0, 1.0), p.vec(b, 0.1, 30.0)).unwrap()),
        Box::new(
            ZeroInflatedPoisson::from_logits(p.vec(b, -4.0, 4.0), p.vec(b, 0.1, 30.0)).unwrap(),
        ),
        Box::new(TruncatedNormal::new(p.vec(b, -2.0, 2.0), p.vec(b, 0.1, 3.0), lo, hi).unwrap()),
        Box::new(
            TruncatedNormal::new(p.vec(b, -2.0, 2.0), p.vec(b, 0.1, 3.0), 5.0, f64::INFINITY)
                .unwrap(),
        ),
        Box::new(VonMises::new(p.vec(b, -3.0, 3.0), p.vec(b, 0.0, 200.0)).unwrap()),
        Box::new(LKJCholesky::new(4, p.vec(b, 0.1, 10.0)).unwrap()),
        Box::new(
            MixtureSameFamily::new(
                Categorical::new(p.simplex(b, 3)).unwrap(),
                Gamma::new(p.vec(3, 0.5, 5.0), p.vec(3, 0.5, 5.0))
                    .unwrap()
                    .expand(&[b, 3])
                    .unwrap(),
            )
            .unwrap(),
        ),
        Box::new(MultivariateNormal::from_covariance(p.vec(3, -1.0, 1.0), cov).unwrap()),
    ]
}

#[test]
fn extreme_parameters_give_finite_draws_and_log_probs() {
    let mut rng = rng_from_seed(5);
    let ds: Vec<Box<dyn Distribution>> = vec![
        Box::new(LKJCholesky::new(3, 1e300).unwrap()),
        Box::new(LKJCholesky::new(3, 1e-300).unwrap()),
        Box::new(VonMises::new(1.0, 1e-300).unwrap()),
        Box::new(NegativeBinomial::new(1e-300, 0.5).unwrap()),
        Box::new(NegativeBinomial::new(1e15, 1e-10).unwrap()),
        Box::new(GammaPoisson::new(1e-3, 1e-6).unwrap()),
        Box::new(ZeroInflatedPoisson::from_logits(-700.0, 1e-300).unwrap()),
        Box::new(TruncatedNormal::new(0.0, 1.0, 1e3, 1e3 + 1e-9).unwrap()),
        Box::new(TruncatedNormal::new(0.0, 1e-300, -1.0, 1.0).unwrap()),
        Box::new(TruncatedNormal::new(0.0, 1.0, f64::NEG_INFINITY, f64::INFINITY).unwrap()),
        Box::new(Multinomial::new(1 << 40, [0.5, 1e-300, 0.5]).unwrap()),
    ];
    for d in ds {
        for _ in 0..20 {
            let x = d.sample(&mut rng);
            assert!(d.support().check(&x), "{d:?}: {x:?} outside the support");
            let l = d.log_prob(&x);
            assert!(l.is_finite(), "{d:?}: log_prob {l:?} at {x:?}");
        }
    }
}

#[test]
fn property_samples_are_in_the_support_and_have_finite_log_prob() {
    for seed in 0..25u64 {
        let mut p = Params(seed * 7 + 1);
        let mut rng = rng_from_seed(seed);
        for d in new_distributions(&mut p) {
            let name = d.name();
            let want: Vec<usize> = d
                .batch_shape()
                .iter()
                .chain(d.event_shape().iter())
                .copied()
                .collect();
            for _ in 0..4 {
                let x = d.sample(&mut rng);
                assert_eq!(x.shape(), &want[..], "{name}: sample shape");
                assert!(
                    d.support().check(&x),
                    "{name} (seed {seed}): {x:?} outside support"
                );
                let l = d.log_prob(&x);
                assert_eq!(
                    l.shape(),
                    d.batch_shape().as_slice(),
                    "{name}: log_prob shape"
                );
                assert!(
                    l.is_finite(),
                    "{name} (seed {seed}): log_prob {l:?} at {x:?}"
                );
            }
            for m in [d.mean(), d.variance()].into_iter().flatten() {
                assert_eq!(m.shape(), &want[..], "{name}: moment shape");
                assert!(m.is_finite(), "{name}: moment {m:?}");
            }
        }
    }
}

// ----- corr_cholesky in inference -------------------------------------------------------------

/// Bivariate normal with unit variances and an LKJ(η = 1) prior on the Cholesky factor of its
/// correlation. In two dimensions `p(L)` is then constant, so the MAP (in the constrained
/// parameterisation, as `AutoDelta` computes it) is the maximum-likelihood correlation.
#[model]
fn correlated(data: &Tensor) {
    let l = sample!("L", LKJCholesky::new(2, 1.0));
    plate!("data", data.shape()[0], |_idx| {
        sample!(
            "x",
            MultivariateNormal::new([0.0, 0.0], &l),
            obs = data.clone()
        );
    });
}

/// 200 fixed draws from N(0, [[1, 0.6], [0.6, 1]]).
fn correlated_data() -> Tensor {
    let l = rows(&[vec![1.0, 0.0], vec![0.6, 0.8]]);
    MultivariateNormal::new(Tensor::zeros(&[200, 2]), l)
        .unwrap()
        .sample(&mut rng_from_seed(3))
}

fn adam(lr: f64) -> Adam {
    Adam::new(AdamConfig {
        lr,
        ..Default::default()
    })
}

#[test]
fn lkj_map_with_autodelta_is_the_likelihood_maximum() {
    let data = correlated_data();
    let guide = AutoDelta::new(correlated);
    let mut svi = Svi::new(correlated, guide, adam(0.01), TraceElbo::default()).seed(0);
    for _ in 0..2000 {
        svi.step(&data).unwrap();
    }
    let l = svi.params().get("AutoDelta.L").unwrap();
    assert!(Constraint::CorrCholesky.check(&l), "{l:?}");
    let r = l.to_vec().unwrap()[2];
    // The score of the correlation with unit variances, S = Σ x xᵀ / N (zero at the MLE):
    // r (1 - r²) + (1 + r²) S01 - r (S00 + S11).
    let v = data.to_vec().unwrap();
    let n = v.len() as f64 / 2.0;
    let s = |i: usize, j: usize| v.chunks(2).map(|x| x[i] * x[j]).sum::<f64>() / n;
    let score = r * (1.0 - r * r) + (1.0 + r * r) * s(0, 1) - r * (s(0, 0) + s(1, 1));
    assert!(score.abs() < 1e-4, "r = {r}, score {score}");
}

#[test]
fn lkj_site_with_continuous_autoguides_trains() {
    let data = correlated_data();
    let guide = AutoMultivariateNormal::new(correlated);
    let mut svi = Svi::new(correlated, guide, adam(0.02), TraceElbo::default()).seed(0);
    let mut loss = f64::NAN;
    for _ in 0..1500 {
        loss = svi.step(&data).unwrap();
    }
    assert!(loss.is_finite());
    let loc = svi.params().get("AutoMultivariateNormal.loc").unwrap();
    assert_eq!(loc.shape(), &[1]);
    let r = loc.to_vec().unwrap()[0].tanh();
    assert!((r - 0.6).abs() < 0.2, "r = {r}");
}

#[test]
fn lkj_site_with_autonormal_trains() {
    let data = correlated_data();
    let guide = AutoNormal::new(correlated);
    let mut svi = Svi::new(correlated, guide, adam(0.02), TraceElbo::default()).seed(0);
    let mut loss = f64::NAN;
    for _ in 0..1500 {
        loss = svi.step(&data).unwrap();
    }
    assert!(loss.is_finite());
    // One unconstrained coordinate (the partial correlation's atanh) for a 2x2 factor.
    let loc = svi.params().get("AutoNormal.locs.L").unwrap();
    assert_eq!(loc.shape(), &[1]);
    // tanh(loc), the guide's median correlation, is near the sample correlation (posterior sd
    // about (1 - r²)/sqrt(N) = 0.045 here).
    let r = loc.to_vec().unwrap()[0].tanh();
    let v = data.to_vec().unwrap();
    let n = v.len() as f64 / 2.0;
    let s = |i: usize, j: usize| v.chunks(2).map(|x| x[i] * x[j]).sum::<f64>() / n;
    let sample_r = s(0, 1) / (s(0, 0) * s(1, 1)).sqrt();
    assert!(
        (r - sample_r).abs() < 0.1,
        "r = {r}, sample correlation {sample_r}"
    );
}
