//! Draws of Gamma, Beta and Dirichlet (its marginals) across concentrations 1e-3..1e3 against
//! their exact CDFs: a Kolmogorov-Smirnov test with a fixed seed per case, at a level set from
//! the statistic's null distribution (Bonferroni over the cases), and the SVI run with a
//! Beta(0.1, 0.1) guide that used to be refused at draws rounded to exactly 0 or 1.
//!
//! The samplers clamp draws into the open support (at `f64::MIN_POSITIVE`, and for Beta at
//! `1 - 2^-53`): the mass beyond is an atom there, which the statistic accounts for (the CDF of
//! the clamped draws is the exact CDF between the clamps).

use pyro::distributions::*;
use pyro::prelude::*;
use pyro::rng::rng_from_seed;
use pyro::tensor::{lbeta, lgamma};

const N: usize = 2000;
/// Cases below, for the Bonferroni level.
const CASES: f64 = 26.0;
const BELOW_ONE: f64 = 1.0 - f64::EPSILON / 2.0;

/// The critical value of the Kolmogorov-Smirnov statistic at level `alpha` for `n` draws
/// (Kolmogorov's limit law with Stephens' small-sample correction; conservative where the
/// distribution has atoms).
fn ks_critical(n: usize, alpha: f64) -> f64 {
    let c = (-0.5 * (alpha / 2.0).ln()).sqrt();
    let rn = (n as f64).sqrt();
    c / (rn + 0.12 + 0.11 / rn)
}

/// The KS statistic of `draws` against the CDF `cdf`, for draws clamped into `[lo, hi]`: the
/// CDF of the clamped variable is 0 below `lo`, `cdf` between, 1 from `hi` (atoms at the
/// clamps; the top one holds the draws that round to `hi` too, so its lower end is taken at the
/// double below `hi`). Ties are counted as steps.
fn ks_statistic(mut draws: Vec<f64>, cdf: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    draws.sort_by(f64::total_cmp);
    let n = draws.len() as f64;
    let mut d: f64 = 0.0;
    let mut i = 0;
    while i < draws.len() {
        let v = draws[i];
        let mut j = i;
        while j < draws.len() && draws[j] == v {
            j += 1;
        }
        let (at, before) = if v >= hi {
            (1.0, cdf(f64::from_bits(v.to_bits() - 1)))
        } else if v <= lo {
            (cdf(v), 0.0)
        } else {
            (cdf(v), cdf(v))
        };
        d = d
            .max((j as f64 / n - at).abs())
            .max((i as f64 / n - before).abs());
        i = j;
    }
    d
}

/// The regularised lower incomplete gamma function P(a, x): the series in log space for
/// x < a + 1 (it keeps its accuracy for tiny a and x), Lentz's continued fraction for Q above.
fn gamma_cdf(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x < a + 1.0 {
        let (mut term, mut sum, mut n) = (1.0, 1.0, 1.0);
        while term > 1e-17 * sum {
            term *= x / (a + n);
            sum += term;
            n += 1.0;
        }
        return (a * x.ln() - x - lgamma(a + 1.0) + sum.ln()).exp().min(1.0);
    }
    let tiny = 1e-300;
    let mut b = x + 1.0 - a;
    let (mut c, mut d) = (1.0 / tiny, 1.0 / b);
    let mut h = d;
    for i in 1..100_000 {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        d = if d.abs() < tiny { tiny } else { d };
        c = b + an / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-16 {
            break;
        }
    }
    1.0 - (a * x.ln() - x - lgamma(a) + h.ln()).exp()
}

/// The continued fraction of the incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    d = if d.abs() < tiny { tiny } else { d };
    d = 1.0 / d;
    let mut h = d;
    for m in 1..100_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        for aa in [
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ] {
            d = 1.0 + aa * d;
            d = if d.abs() < tiny { tiny } else { d };
            c = 1.0 + aa / c;
            c = if c.abs() < tiny { tiny } else { c };
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The regularised incomplete beta function I_x(a, b), its prefactor in log space.
fn beta_cdf(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = a * x.ln() + b * (-x).ln_1p() - lbeta(a, b);
    if x < (a + 1.0) / (a + b + 2.0) {
        (ln_front - a.ln()).exp() * beta_cf(a, b, x)
    } else {
        1.0 - (ln_front - b.ln()).exp() * beta_cf(b, a, 1.0 - x)
    }
}

fn draws(d: &dyn Distribution, seed: u64) -> Vec<f64> {
    let mut rng = rng_from_seed(seed);
    d.sample(&mut rng).to_vec().unwrap()
}

fn assert_ks(what: &str, d: f64, n: usize) {
    let crit = ks_critical(n, 1e-3 / CASES);
    assert!(d < crit, "{what}: KS statistic {d:.4} >= {crit:.4}");
}

#[test]
fn gamma_draws_follow_the_exact_cdf() {
    for (i, &a) in [1e-3, 1e-2, 0.1, 0.5, 1.0, 3.0, 30.0, 1e3]
        .iter()
        .enumerate()
    {
        let d = Gamma::new(vec![a; N], 1.0).unwrap();
        let x = draws(&d, 100 + i as u64);
        assert!(x.iter().all(|&v| v > 0.0 && v.is_finite()), "Gamma({a})");
        let ks = ks_statistic(x, |t| gamma_cdf(a, t), f64::MIN_POSITIVE, f64::MAX);
        assert_ks(&format!("Gamma({a}, 1)"), ks, N);
    }
}

#[test]
fn beta_draws_follow_the_exact_cdf() {
    let cases = [
        (1e-3, 1e-3),
        (1e-2, 1e-2),
        (0.1, 0.1),
        (0.1, 5.0),
        (0.5, 0.5),
        (1.0, 1.0),
        (2.0, 5.0),
        (30.0, 10.0),
        (1e3, 1e3),
    ];
    for (i, &(a, b)) in cases.iter().enumerate() {
        let d = Beta::new(vec![a; N], vec![b; N]).unwrap();
        let x = draws(&d, 200 + i as u64);
        // Never exactly 0 or 1, where the log-density of a small concentration is infinite.
        assert!(x.iter().all(|&v| v > 0.0 && v < 1.0), "Beta({a}, {b})");
        let ks = ks_statistic(x, |t| beta_cdf(a, b, t), f64::MIN_POSITIVE, BELOW_ONE);
        assert_ks(&format!("Beta({a}, {b})"), ks, N);
    }
    // The defect of issue 10: 23.8% of Beta(1e-3, 1e-3) draws in (0.25, 0.75), exactly 0.11%.
    let d = Beta::new(vec![1e-3; 20_000], vec![1e-3; 20_000]).unwrap();
    let mid = draws(&d, 299)
        .iter()
        .filter(|&&v| v > 0.25 && v < 0.75)
        .count() as f64
        / 20_000.0;
    let p = beta_cdf(1e-3, 1e-3, 0.75) - beta_cdf(1e-3, 1e-3, 0.25);
    assert!((p - 0.0011).abs() < 1e-4, "{p}");
    assert!(
        (mid - p).abs() < 5.0 * (p / 20_000.0).sqrt(),
        "{mid} vs {p}"
    );
}

#[test]
fn dirichlet_marginals_follow_the_exact_cdf() {
    let cases: [[f64; 3]; 4] = [
        [1e-3, 1e-3, 1e-3],
        [0.1, 0.2, 0.3],
        [1.0, 2.0, 3.0],
        [1e3, 1e3, 2e3],
    ];
    for (i, alpha) in cases.iter().enumerate() {
        let rows: Vec<Vec<f64>> = vec![alpha.to_vec(); N];
        let d = Dirichlet::new(Tensor::from_rows(&rows).unwrap()).unwrap();
        let x = draws(&d, 300 + i as u64);
        let a0: f64 = alpha.iter().sum();
        for row in x.chunks(3) {
            let s: f64 = row.iter().sum();
            assert!(row.iter().all(|&v| v > 0.0 && v <= 1.0), "{row:?}");
            assert!((s - 1.0).abs() < 1e-12, "{row:?}");
        }
        // Two marginals: X_k ~ Beta(α_k, α0 - α_k).
        for k in [0, 2] {
            let xk: Vec<f64> = x.chunks(3).map(|r| r[k]).collect();
            let (a, b) = (alpha[k], a0 - alpha[k]);
            let ks = ks_statistic(xk, |t| beta_cdf(a, b, t), f64::MIN_POSITIVE, 1.0);
            assert_ks(&format!("Dirichlet({alpha:?}) marginal {k}"), ks, N);
        }
    }
}

#[model]
fn fair(data: &[f64]) {
    let f = sample!("f", Beta::new(0.1, 0.1));
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("x{i}"), Bernoulli::new(f.clone()), obs = x);
    }
}

#[guide(model = fair)]
fn fair_guide(_data: &[f64]) {
    let a = param!("a", 0.1, constraint = positive);
    let b = param!("b", 0.1, constraint = positive);
    sample!("f", Beta::new(a, b));
}

/// Issue 10: with draws rounded to exactly 0 or 1, 61 of 300 steps of this guide were refused.
#[test]
fn svi_with_a_small_concentration_beta_guide_takes_every_step() {
    let data = [1.0, 0.0, 1.0];
    let adam = Adam::new(AdamConfig {
        lr: 1e-3,
        ..Default::default()
    });
    let mut svi = Svi::new(fair, fair_guide, adam, TraceElbo::default()).seed(7);
    for step in 0..300 {
        if let Err(e) = svi.step(&data) {
            panic!("step {step} refused: {e}");
        }
    }
}
