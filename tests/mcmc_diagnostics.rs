//! The diagnostics against ArviZ's own numbers. The reference values were computed once with
//! `arviz_stats` (`base/diagnostics.py`, NumPy 2.4, SciPy 1.17) on the arrays built below:
//!
//! ```python
//! from arviz_stats.base.diagnostics import _DiagnosticsBase
//! import numpy as np
//! d = _DiagnosticsBase()
//! a = np.array([[np.sin(0.9*i + 1.7*c) + 0.05*c*i + 0.3*np.cos(2.3*i*i + c)
//!                for i in range(20)] for c in range(3)])
//! ties = np.floor(3 * a)
//! ar = []                      # 4 chains of an AR(1)-like recursion, 200 draws each
//! for c in range(4):
//!     v, row = 0.0, []
//!     for i in range(200):
//!         v = 0.8 * v + np.sin(0.37*i*i + c); row.append(v)
//!     ar.append(row)
//! ar = np.array(ar)
//! for x in (a, ties, ar):
//!     print(d._rhat_rank(x), d._ess_bulk(x), d._ess_tail(x, 0.05), d._ess_mean(x),
//!           d._rhat_split(x))
//! ```
//!
//! ArviZ sums the autocovariances by FFT and we directly: the two agree to rounding (1e-10).

use pyro::infer::mcmc::diagnostics::{ess_bulk, ess_mean, ess_tail, rhat, split_rhat};

fn a() -> Vec<Vec<f64>> {
    (0..3)
        .map(|c| {
            let c = c as f64;
            (0..20)
                .map(|i| {
                    let i = i as f64;
                    (0.9 * i + 1.7 * c).sin() + 0.05 * c * i + 0.3 * (2.3 * i * i + c).cos()
                })
                .collect()
        })
        .collect()
}

fn ties() -> Vec<Vec<f64>> {
    a().into_iter()
        .map(|c| c.into_iter().map(|v| (3.0 * v).floor()).collect())
        .collect()
}

fn ar() -> Vec<Vec<f64>> {
    (0..4)
        .map(|c| {
            let mut v = 0.0;
            (0..200)
                .map(|i| {
                    let i = i as f64;
                    v = 0.8 * v + (0.37 * i * i + c as f64).sin();
                    v
                })
                .collect()
        })
        .collect()
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-10 * want.abs(),
        "{what}: {got} vs ArviZ {want}"
    );
}

fn check(x: &[Vec<f64>], name: &str, want: [f64; 5]) {
    let s: Vec<&[f64]> = x.iter().map(|c| c.as_slice()).collect();
    close(rhat(&s), want[0], &format!("{name} rhat"));
    close(ess_bulk(&s), want[1], &format!("{name} ess_bulk"));
    close(ess_tail(&s), want[2], &format!("{name} ess_tail"));
    close(ess_mean(&s), want[3], &format!("{name} ess_mean"));
    close(split_rhat(&s), want[4], &format!("{name} split rhat"));
}

#[test]
fn diagnostics_match_arviz() {
    check(
        &a(),
        "a",
        [
            1.2533797237172457,
            14.294060890683081,
            21.70418006430867,
            12.595875193478273,
            1.304812727573429,
        ],
    );
    check(
        &ties(),
        "ties",
        [
            1.2812978239515835,
            13.307492926258595,
            21.70418006430867,
            12.097858929789794,
            1.3245173799360468,
        ],
    );
    check(
        &ar(),
        "ar",
        [
            1.037374848893601,
            80.26696707753528,
            428.5413912286196,
            76.94792880300913,
            1.038902301244126,
        ],
    );
}

#[test]
fn diagnostics_refuse_too_few_draws() {
    let short = [1.0, 2.0, 3.0];
    assert!(rhat(&[&short]).is_nan());
    assert!(ess_bulk(&[&short]).is_nan());
    let uneven: [&[f64]; 2] = [&[1.0, 2.0, 3.0, 4.0, 5.0], &[1.0, 2.0, 3.0, 4.0]];
    assert!(rhat(&uneven).is_nan());
}
