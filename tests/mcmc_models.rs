//! NUTS on models with enumerated discrete sites (a mixture, a hidden Markov model) against
//! posteriors computed by quadrature, plus what a run records and refuses: deterministic sites,
//! posterior predictive draws, exports and errors.

use pyro::infer::mcmc::{Mcmc, McmcSamples, Nuts};
use pyro::prelude::*;

const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
const Z: f64 = 4.0;

fn normal_lp(x: f64, loc: f64, scale: f64) -> f64 {
    let z = (x - loc) / scale;
    -0.5 * z * z - scale.ln() - LN_SQRT_2PI
}

fn log_add(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// Mean, variance and kurtosis of a 1-D density known up to a constant by its log on a grid.
fn quadrature(log_density: impl Fn(f64) -> f64, lo: f64, hi: f64) -> (f64, f64, f64) {
    let n = 20_001;
    let h = (hi - lo) / (n - 1) as f64;
    let xs: Vec<f64> = (0..n).map(|i| lo + i as f64 * h).collect();
    let lps: Vec<f64> = xs.iter().map(|&x| log_density(x)).collect();
    let m = lps.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = lps.iter().map(|l| (l - m).exp()).collect();
    let total: f64 = w.iter().sum();
    let mean = xs.iter().zip(&w).map(|(x, w)| x * w).sum::<f64>() / total;
    let moment = |k: i32| {
        xs.iter()
            .zip(&w)
            .map(|(x, w)| (x - mean).powi(k) * w)
            .sum::<f64>()
            / total
    };
    let var = moment(2);
    (mean, var, moment(4) / (var * var))
}

fn check_moments(s: &McmcSamples, site: &str, mean: f64, var: f64, kurtosis: f64) {
    let all: Vec<f64> = s.chain_values(site, 0).unwrap().concat();
    let n = all.len() as f64;
    let m = all.iter().sum::<f64>() / n;
    let v = all.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    let ess = s.ess_bulk(site).unwrap()[0];
    assert!(ess > 100.0, "{site}: ESS {ess}");
    let (se_m, se_v) = ((var / ess).sqrt(), var * ((kurtosis - 1.0) / ess).sqrt());
    assert!(
        (m - mean).abs() < Z * se_m,
        "{site}: mean {m} vs {mean} (se {se_m})"
    );
    assert!(
        (v - var).abs() < Z * se_v,
        "{site}: var {v} vs {var} (se {se_v})"
    );
}

// ---- A mixture with enumerated assignments -----------------------------------------------

/// x_i ~ 0.7 Normal(mu - 1, 1) + 0.3 Normal(mu + 2, 1), mu ~ Normal(0, 2); the assignments are
/// enumerated and summed out.
#[model]
fn mixture(data: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 2.0));
    plate!("data", data.len(), |_idx| {
        let z = sample!("z", Bernoulli::new(0.3), enumerate);
        let loc = &mu + z * 3.0 - 1.0;
        sample!("x", Normal::new(loc, 1.0), obs = data.to_vec());
    });
}

const MIX: [f64; 8] = [-0.4, 0.9, 3.8, 0.1, -1.2, 4.4, 0.6, 1.5];

#[test]
fn nuts_sums_out_enumerated_mixture_assignments() {
    let s = Mcmc::new(Nuts::new(mixture))
        .warmup(300)
        .samples(1000)
        .chains(2)
        .seed(11)
        .progress(false)
        .run(&MIX[..])
        .unwrap();
    assert_eq!(s.names().collect::<Vec<_>>(), ["mu"]);
    let (mean, var, kurt) = quadrature(
        |mu| {
            normal_lp(mu, 0.0, 2.0)
                + MIX
                    .iter()
                    .map(|&x| {
                        log_add(
                            0.7f64.ln() + normal_lp(x, mu - 1.0, 1.0),
                            0.3f64.ln() + normal_lp(x, mu + 2.0, 1.0),
                        )
                    })
                    .sum::<f64>()
        },
        -10.0,
        10.0,
    );
    check_moments(&s, "mu", mean, var, kurt);
}

// ---- A hidden Markov model with enumerated states ----------------------------------------

const TRANS: [[f64; 2]; 2] = [[0.8, 0.2], [0.3, 0.7]];
const HMM_Y: [f64; 8] = [0.2, -0.5, 2.9, 3.4, 2.2, 0.4, 3.1, -0.1];

/// Two hidden states with the transition matrix `TRANS` (the first state drawn from its first
/// row), emissions y_t ~ Normal(mu + 2.5 x_t, 1), mu ~ Normal(0, 3).
#[model]
fn hmm(ys: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 3.0));
    let trans = Tensor::from_rows(&[TRANS[0].to_vec(), TRANS[1].to_vec()]).unwrap();
    let mut x = Tensor::scalar(0.0);
    markov!(for t in 0..ys.len() {
        x = sample!(
            format!("x_{t}"),
            Categorical::new(trans.index_by(&x)),
            enumerate
        );
        sample!(
            format!("y_{t}"),
            Normal::new(&mu + &x * 2.5, 1.0),
            obs = ys[t]
        );
    });
}

/// log p(y | mu) by the forward algorithm.
fn hmm_loglik(mu: f64) -> f64 {
    let emit = |s: usize, y: f64| normal_lp(y, mu + 2.5 * s as f64, 1.0);
    let mut alpha = [
        TRANS[0][0].ln() + emit(0, HMM_Y[0]),
        TRANS[0][1].ln() + emit(1, HMM_Y[0]),
    ];
    for &y in &HMM_Y[1..] {
        alpha = [0, 1].map(|s| {
            log_add(alpha[0] + TRANS[0][s].ln(), alpha[1] + TRANS[1][s].ln()) + emit(s, y)
        });
    }
    log_add(alpha[0], alpha[1])
}

#[test]
fn nuts_sums_out_hmm_states_with_markov() {
    let s = Mcmc::new(Nuts::new(hmm))
        .warmup(300)
        .samples(1000)
        .chains(2)
        .seed(12)
        .progress(false)
        .run(&HMM_Y[..])
        .unwrap();
    let (mean, var, kurt) = quadrature(|mu| normal_lp(mu, 0.0, 3.0) + hmm_loglik(mu), -12.0, 12.0);
    check_moments(&s, "mu", mean, var, kurt);
}

// ---- What a run records -------------------------------------------------------------------

#[model]
fn schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    plate!("school", y.len(), |_idx| {
        let theta_tilde = sample!("theta_tilde", Normal::new(0.0, 1.0));
        let theta = deterministic!("theta", &mu + &tau * theta_tilde);
        sample!("obs", Normal::new(theta, sigma.to_vec()), obs = y.to_vec());
    });
}

const Y8: [f64; 8] = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
const S8: [f64; 8] = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];

fn schools_run() -> McmcSamples {
    Mcmc::new(Nuts::new(schools))
        .warmup(200)
        .samples(200)
        .chains(2)
        .seed(13)
        .progress(false)
        .run((&Y8[..], &S8[..]))
        .unwrap()
}

#[test]
fn deterministic_sites_are_recorded_from_the_latent_draws() {
    let s = schools_run();
    assert_eq!(
        s.names().collect::<Vec<_>>(),
        ["mu", "tau", "theta_tilde", "theta"]
    );
    assert_eq!(s.get("theta").unwrap().shape(), &[400, 8]);
    assert_eq!(s.get_by_chain("theta_tilde").unwrap().shape(), &[2, 200, 8]);
    let (mu, tau) = (
        s.get("mu").unwrap().to_vec().unwrap(),
        s.get("tau").unwrap().to_vec().unwrap(),
    );
    let tt = s.get("theta_tilde").unwrap().to_vec().unwrap();
    let th = s.get("theta").unwrap().to_vec().unwrap();
    for i in 0..400 {
        assert!(tau[i] > 0.0);
        for j in 0..8 {
            let want = mu[i] + tau[i] * tt[i * 8 + j];
            assert!((th[i * 8 + j] - want).abs() < 1e-12 * (1.0 + want.abs()));
        }
    }
    let summary = s.summary();
    assert_eq!(summary.rows.len(), 1 + 1 + 8 + 8);
    assert_eq!(summary.rows[2].name, "theta_tilde[0]");
    let text = summary.to_string();
    assert!(
        text.contains("r_hat") && text.contains("Number of divergences"),
        "{text}"
    );
}

#[test]
fn posterior_predictive_from_mcmc_draws() {
    let s = schools_run();
    let pp = Predictive::from_mcmc(schools, &s)
        .seed(3)
        .run((&Y8[..], &S8[..]))
        .unwrap();
    let obs = pp.get("obs").unwrap();
    assert_eq!(obs.shape(), &[400, 8]);
    // The latent sites are the draws themselves; observations scatter around theta with sd
    // sigma: their mean over 400 draws is within 4 standard errors of theta's mean.
    assert_eq!(
        pp.get("mu").unwrap().to_vec().unwrap(),
        s.get("mu").unwrap().to_vec().unwrap()
    );
    let o = obs.to_vec().unwrap();
    let th = s.get("theta").unwrap().to_vec().unwrap();
    for j in 0..8 {
        let diff: f64 = (0..400).map(|i| o[i * 8 + j] - th[i * 8 + j]).sum::<f64>() / 400.0;
        assert!(diff.abs() < Z * S8[j] / 20.0, "school {j}: {diff}");
    }
}

#[test]
fn exports_csv_per_chain_and_arviz_json() {
    let s = schools_run();
    let csv = s.to_csv(1).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..3], ["lp__", "accept_stat__", "stepsize__"]);
    assert!(header.contains(&"theta_tilde[7]") && header.contains(&"theta[0]"));
    assert_eq!(header.len(), 7 + 1 + 1 + 8 + 8);
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 200);
    let mu_col = header.iter().position(|h| *h == "mu").unwrap();
    let first: f64 = rows[0].split(',').nth(mu_col).unwrap().parse().unwrap();
    assert_eq!(first, s.get_by_chain("mu").unwrap().to_vec().unwrap()[200]);

    let dir = std::env::temp_dir().join(format!("pyro_mcmc_export_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let paths = s.write_csv(dir.join("schools")).unwrap();
    assert_eq!(paths.len(), 2);
    assert_eq!(std::fs::read_to_string(&paths[1]).unwrap(), csv);

    let json_path = dir.join("schools.json");
    s.write_arviz_json(&json_path).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let theta = &v["posterior"]["theta"];
    assert_eq!(theta.as_array().unwrap().len(), 2);
    assert_eq!(theta[0].as_array().unwrap().len(), 200);
    assert_eq!(theta[0][0].as_array().unwrap().len(), 8);
    assert_eq!(
        v["sample_stats"]["diverging"][1].as_array().unwrap().len(),
        200
    );
    assert!(v["posterior"]["mu"][0][0].is_number());
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- Refusals ---------------------------------------------------------------------------

#[model]
fn discrete_latent() {
    let z = sample!("z", Bernoulli::new(0.5));
    sample!("x", Normal::new(z, 1.0), obs = 0.3);
}

#[model]
fn subsampled(y: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 1.0));
    plate!("data", y.len(), subsample_size = 2, |idx| {
        let obs: Vec<f64> = idx.iter().map(|&i| y[i]).collect();
        sample!("y", Normal::new(mu, 1.0), obs = obs);
    });
}

#[model]
fn nothing_latent(y: f64) {
    sample!("y", Normal::new(0.0, 1.0), obs = y);
}

fn quick<K: pyro::infer::mcmc::Kernel + Sync>(k: K) -> Mcmc<K> {
    Mcmc::new(k).warmup(10).samples(10).progress(false)
}

#[test]
fn refuses_what_hmc_cannot_sample_naming_the_site() {
    let e = quick(Nuts::new(discrete_latent))
        .run(())
        .unwrap_err()
        .to_string();
    assert!(e.contains("`z`") && e.contains("enumerate"), "{e}");
    let e = quick(Nuts::new(subsampled))
        .run(&[1.0, 2.0, 3.0][..])
        .unwrap_err()
        .to_string();
    assert!(e.contains("`mu`") || e.contains("subsampled"), "{e}");
    let e = quick(Nuts::new(nothing_latent))
        .run(1.0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no continuous latent site"), "{e}");
    let e = quick(Nuts::new(nothing_latent).target_accept_prob(1.5))
        .run(1.0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("target_accept_prob"), "{e}");
}

#[test]
fn init_to_value_starts_there() {
    let s = Mcmc::new(
        Nuts::new(schools)
            .init_strategy(init_to_value([("mu", vec![3.0]), ("tau", vec![2.0])]))
            .adapt_step_size(false)
            .step_size(1e-9),
    )
    .warmup(0)
    .samples(1)
    .progress(false)
    .run((&Y8[..], &S8[..]))
    .unwrap();
    // A step of 1e-9 moves nowhere: the single draw is the initial point.
    assert!((s.get("mu").unwrap().item().unwrap() - 3.0).abs() < 1e-6);
    assert!((s.get("tau").unwrap().item().unwrap() - 2.0).abs() < 1e-6);
    let e = quick(Nuts::new(schools).init_strategy(init_to_value([("tau", vec![-1.0])])))
        .run((&Y8[..], &S8[..]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`tau`") && e.contains("support"), "{e}");
}
