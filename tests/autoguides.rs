//! Autoguides on models with known posteriors.
//!
//! Tolerances: after SVI with Adam the parameters keep fluctuating around the optimum by an
//! amount of order `lr x (gradient noise)`; the tests average the parameters over the last steps
//! (Polyak averaging) and compare with the exact posterior within a fraction of the posterior
//! standard deviation, which is far above that residual noise and far below the error of a guide
//! that does not converge (or has a wrong Jacobian: see `autonormal_elbo_matches_closed_form`).

use pyro::constraints;
use pyro::prelude::*;

const LN_2PI: f64 = 1.8378770664093453;

/// Conjugate Normal-Normal: z ~ N(0, 2), x_i ~ N(z, 1) in a plate.
#[model]
fn normal_normal(data: &[f64]) {
    let z = sample!("z", Normal::new(0.0, 2.0));
    let n = data.len();
    plate!("data", n, |_idx| {
        sample!("x", Normal::new(&z, 1.0), obs = data.to_vec());
    });
}

const DATA: [f64; 10] = [0.8, 1.9, 0.2, 1.4, 1.1, 2.3, 0.5, 1.7, 0.9, 1.2];

/// Exact posterior (mean, sd) of `normal_normal`.
fn nn_posterior() -> (f64, f64) {
    let prec = 1.0 / 4.0 + DATA.len() as f64;
    (DATA.iter().sum::<f64>() / prec, (1.0 / prec).sqrt())
}

fn adam(lr: f64) -> Adam {
    Adam::new(AdamConfig {
        lr,
        ..Default::default()
    })
}

/// Runs `steps` steps, then `avg` more while averaging the named parameters (constrained).
fn fit_avg<M, G, L>(
    svi: &mut Svi<M, G, Adam, L>,
    args: M::Args<'_>,
    steps: usize,
    avg: usize,
    names: &[&str],
) -> Vec<Vec<f64>>
where
    M: Model,
    G: pyro::infer::GuideFor<M>,
    for<'a> G: Model<Args<'a> = M::Args<'a>>,
    for<'a> M::Args<'a>: Clone + Copy,
    L: Elbo,
{
    for _ in 0..steps {
        svi.step(args).unwrap();
    }
    let mut acc: Vec<Vec<f64>> = Vec::new();
    for _ in 0..avg {
        svi.step(args).unwrap();
        for (k, n) in names.iter().enumerate() {
            let v = svi.params().get(n).unwrap().to_vec().unwrap();
            if acc.len() <= k {
                acc.push(vec![0.0; v.len()]);
            }
            for (a, x) in acc[k].iter_mut().zip(v) {
                *a += x / avg as f64;
            }
        }
    }
    acc
}

#[test]
fn autonormal_normal_normal_posterior() {
    let (mean, sd) = nn_posterior();
    let guide = AutoNormal::new(normal_normal);
    let mut svi = Svi::new(normal_normal, guide, adam(0.02), TraceElbo::new(4)).seed(1);
    let v = fit_avg(
        &mut svi,
        &DATA[..],
        1500,
        500,
        &["AutoNormal.locs.z", "AutoNormal.scales.z"],
    );
    // Posterior sd 0.31: 0.03 is a tenth of it.
    assert!((v[0][0] - mean).abs() < 0.03, "loc {} vs {mean}", v[0][0]);
    assert!((v[1][0] - sd).abs() < 0.1 * sd, "scale {} vs {sd}", v[1][0]);
    // The real site is sampled directly as a Normal (no auxiliary site).
    let med = svi.guide().median(svi.params()).unwrap();
    assert_eq!(med[0].0, "z");
}

#[test]
fn autodiagonalnormal_and_mvn_normal_normal_posterior() {
    let (mean, sd) = nn_posterior();
    let mut svi = Svi::new(
        normal_normal,
        AutoDiagonalNormal::new(normal_normal),
        adam(0.02),
        TraceElbo::new(4),
    )
    .seed(2);
    let v = fit_avg(
        &mut svi,
        &DATA[..],
        1500,
        500,
        &["AutoDiagonalNormal.loc", "AutoDiagonalNormal.scale"],
    );
    assert!((v[0][0] - mean).abs() < 0.03, "loc {} vs {mean}", v[0][0]);
    assert!((v[1][0] - sd).abs() < 0.1 * sd, "scale {} vs {sd}", v[1][0]);

    let mut svi = Svi::new(
        normal_normal,
        AutoMultivariateNormal::new(normal_normal),
        adam(0.02),
        TraceElbo::new(4),
    )
    .seed(3);
    let v = fit_avg(
        &mut svi,
        &DATA[..],
        1500,
        500,
        &[
            "AutoMultivariateNormal.loc",
            "AutoMultivariateNormal.scale_tril",
        ],
    );
    assert!((v[0][0] - mean).abs() < 0.03, "loc {} vs {mean}", v[0][0]);
    assert!((v[1][0] - sd).abs() < 0.1 * sd, "scale {} vs {sd}", v[1][0]);
}

/// Gamma-Poisson: rate ~ Gamma(2, 1), counts ~ Poisson(rate). Posterior Gamma(2 + Σy, 1 + n).
#[model]
fn gamma_poisson(counts: &[f64]) {
    let rate = sample!("rate", Gamma::new(2.0, 1.0));
    plate!("data", counts.len(), |_idx| {
        sample!("y", Poisson::new(&rate), obs = counts.to_vec());
    });
}

const COUNTS: [f64; 20] = [
    3.0, 2.0, 4.0, 1.0, 3.0, 5.0, 2.0, 3.0, 4.0, 2.0, 3.0, 1.0, 4.0, 3.0, 2.0, 5.0, 3.0, 2.0, 3.0,
    2.0,
];

#[test]
fn autonormal_positive_latent_median() {
    let a = 2.0 + COUNTS.iter().sum::<f64>(); // 62
    let b = 1.0 + COUNTS.len() as f64; // 21
                                       // Gamma(a, b) median ≈ (a - 1/3) / b (accurate to O(1/a²)); the KL-optimal log-normal has its
                                       // median at about exp(E[ln rate]) = exp(ψ(a)) / b, within 0.3% of it for a = 62.
    let exact_median = (a - 1.0 / 3.0) / b;
    let sd = a.sqrt() / b; // 0.375
    let guide = AutoNormal::new(gamma_poisson);
    let mut svi = Svi::new(gamma_poisson, guide, adam(0.02), TraceElbo::new(4)).seed(4);
    let v = fit_avg(
        &mut svi,
        &COUNTS[..],
        1500,
        500,
        &["AutoNormal.locs.rate", "AutoNormal.scales.rate"],
    );
    let median = v[0][0].exp();
    assert!(
        (median - exact_median).abs() < 0.1 * sd,
        "median {median} vs {exact_median}"
    );
    // sd of ln(rate) under Gamma(a, b): sqrt(ψ'(a)) ≈ 1/sqrt(a - 1/2) = 0.1275.
    let log_sd = 1.0 / (a - 0.5f64).sqrt();
    assert!(
        (v[1][0] - log_sd).abs() < 0.12 * log_sd,
        "scale {}",
        v[1][0]
    );
    // The guide's median and quantiles come back in constrained space.
    let q = svi
        .guide()
        .quantiles(svi.params(), &[0.05, 0.5, 0.95])
        .unwrap();
    let m = svi.guide().median(svi.params()).unwrap();
    let (q05, q50, q95) = (
        q[0].1[0].item().unwrap(),
        q[0].1[1].item().unwrap(),
        q[0].1[2].item().unwrap(),
    );
    let m = m[0].1.item().unwrap();
    assert!(q05 < q50 && q50 < q95 && q05 > 0.0);
    assert!((q50 - m).abs() < 1e-12);
}

#[test]
fn autodelta_finds_the_map() {
    // MAP of Gamma(62, 21) in the rate parameterisation: (a - 1) / b (no Jacobian).
    let a = 2.0 + COUNTS.iter().sum::<f64>();
    let b = 1.0 + COUNTS.len() as f64;
    let guide = AutoDelta::new(gamma_poisson);
    let mut svi = Svi::new(gamma_poisson, guide, adam(0.02), TraceElbo::default()).seed(5);
    for _ in 0..2000 {
        svi.step(&COUNTS[..]).unwrap();
    }
    let map = svi.params().scalar("AutoDelta.rate").unwrap();
    assert!((map - (a - 1.0) / b).abs() < 1e-3, "MAP {map}");
    let q = svi.guide().quantiles(svi.params(), &[0.1, 0.9]).unwrap();
    assert_eq!(q[0].1[0].item().unwrap(), map);

    // Normal-Normal: the MAP is the posterior mean.
    let (mean, _) = nn_posterior();
    let mut svi = Svi::new(
        normal_normal,
        AutoDelta::new(normal_normal),
        adam(0.02),
        TraceElbo::default(),
    );
    for _ in 0..2000 {
        svi.step(&DATA[..]).unwrap();
    }
    let map = svi.params().scalar("AutoDelta.z").unwrap();
    assert!((map - mean).abs() < 1e-3, "MAP {map} vs {mean}");
}

#[model]
fn coin(data: &[f64]) {
    let f = sample!("latent_fairness", Beta::new(10.0, 10.0));
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("obs_{i}"), Bernoulli::new(&f), obs = x);
    }
}

#[test]
fn coin_with_autodiagonalnormal() {
    let data = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    // Posterior Beta(16, 14): median ≈ (16 - 1/3) / (30 - 2/3) = 0.5341, sd 0.0896.
    let mut svi = Svi::new(
        coin,
        AutoDiagonalNormal::new(coin),
        adam(0.02),
        TraceElbo::new(4),
    )
    .seed(6);
    let _ = fit_avg(&mut svi, &data[..], 1500, 1, &["AutoDiagonalNormal.loc"]);
    let g = svi.guide();
    let med = g.median(svi.params()).unwrap();
    let q = g.quantiles(svi.params(), &[0.1587, 0.5, 0.8413]).unwrap();
    let m = med[0].1.item().unwrap();
    let (lo, mid, hi) = (
        q[0].1[0].item().unwrap(),
        q[0].1[1].item().unwrap(),
        q[0].1[2].item().unwrap(),
    );
    assert!(lo < mid && mid < hi);
    assert!((mid - m).abs() < 1e-12);
    // Within a quarter of a posterior sd (one Adam run with lr 0.02 wobbles by ~0.01).
    assert!((m - 0.5341).abs() < 0.025, "median {m}");
    let sd = (hi - lo) / 2.0;
    assert!((sd - 0.0896).abs() < 0.2 * 0.0896, "sd {sd}");
}

/// The ELBO of `AutoNormal` at fixed parameters on the positive latent: Monte-Carlo mean of the
/// loss against the closed form (log-normal guide q(rate) = LogNormal(m, s)).
#[test]
fn autonormal_elbo_matches_closed_form() {
    let (m, s) = (1.0, 0.3);
    let counts = &COUNTS[..5];
    let lgamma = |x: f64| pyro::tensor::lgamma(x);
    // E_q[rate] = exp(m + s²/2), E_q[ln rate] = m.
    let e_rate = (m + s * s / 2.0f64).exp();
    let e_log = m;
    let mut elbo = 0.0;
    for &y in counts {
        elbo += y * e_log - e_rate - lgamma(y + 1.0);
    }
    // Gamma(2, 1) prior: 2 ln 1 - lgamma(2) + (2 - 1) ln rate - rate.
    elbo += -lgamma(2.0) + e_log - e_rate;
    // Entropy of LogNormal(m, s).
    elbo += m + 0.5 + (s * (2.0 * std::f64::consts::PI).sqrt()).ln();
    let exact_loss = -elbo;

    for mean_field in [false, true] {
        let guide = AutoNormal::new(gamma_poisson);
        let n = 4000;
        let losses: Vec<f64> = if mean_field {
            let mut svi = Svi::new(
                gamma_poisson,
                guide,
                adam(0.01),
                TraceMeanFieldElbo::default(),
            )
            .seed(7);
            svi.evaluate_loss(counts).unwrap();
            let p = svi.params_mut();
            p.insert(
                "AutoNormal.locs.rate",
                Tensor::scalar(m),
                constraints::real(),
            )
            .unwrap();
            p.insert(
                "AutoNormal.scales.rate",
                Tensor::scalar(s),
                constraints::positive(),
            )
            .unwrap();
            (0..n).map(|_| svi.evaluate_loss(counts).unwrap()).collect()
        } else {
            let mut svi = Svi::new(gamma_poisson, guide, adam(0.01), TraceElbo::default()).seed(7);
            svi.evaluate_loss(counts).unwrap();
            let p = svi.params_mut();
            p.insert(
                "AutoNormal.locs.rate",
                Tensor::scalar(m),
                constraints::real(),
            )
            .unwrap();
            p.insert(
                "AutoNormal.scales.rate",
                Tensor::scalar(s),
                constraints::positive(),
            )
            .unwrap();
            (0..n).map(|_| svi.evaluate_loss(counts).unwrap()).collect()
        };
        let mean = losses.iter().sum::<f64>() / n as f64;
        let var = losses.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let se = (var / n as f64).sqrt();
        // 4 standard errors: a false failure has probability 6e-5. Forgetting the Jacobian would
        // shift the mean by E[ln rate] = 1.0, hundreds of standard errors.
        assert!(
            (mean - exact_loss).abs() < 4.0 * se,
            "mean loss {mean} vs exact {exact_loss} (se {se})"
        );
    }
    let _ = LN_2PI;
}

/// Bayesian linear regression with known noise: the exact Gaussian posterior, computed here in
/// closed form, against `AutoMultivariateNormal` (and `AutoLowRankMultivariateNormal`'s mean).
#[model]
fn linreg(x: &Tensor, y: &Tensor) {
    let n = x.shape()[0];
    let w = sample!("w", Normal::new(Tensor::zeros(&[3]), 1.0).to_event(1));
    let mean = x.matmul(&w.unsqueeze(-1)).reshape(&[n]);
    plate!("data", n, |_idx| {
        sample!("y", Normal::new(&mean, 0.5), obs = y.clone());
    });
}

/// Inverse of a small symmetric positive definite matrix by Gauss-Jordan elimination.
fn inverse(a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut m: Vec<Vec<f64>> = a
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut row = r.clone();
            row.extend((0..n).map(|j| if i == j { 1.0 } else { 0.0 }));
            row
        })
        .collect();
    for c in 0..n {
        let p = m[c][c];
        for v in m[c].iter_mut() {
            *v /= p;
        }
        for r in 0..n {
            if r != c {
                let f = m[r][c];
                let pivot = m[c].clone();
                for (v, pv) in m[r].iter_mut().zip(pivot) {
                    *v -= f * pv;
                }
            }
        }
    }
    m.into_iter().map(|r| r[n..].to_vec()).collect()
}

fn regression_data() -> (Tensor, Tensor, Vec<f64>, Vec<Vec<f64>>) {
    use rand::SeedableRng;
    use rand_distr::{Distribution as _, StandardNormal};
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let (n, d) = (30, 3);
    let w_true = [0.7, -1.2, 0.3];
    let xs: Vec<f64> = (0..n * d)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let ys: Vec<f64> = (0..n)
        .map(|i| {
            let e: f64 = StandardNormal.sample(&mut rng);
            (0..d).map(|j| xs[i * d + j] * w_true[j]).sum::<f64>() + 0.5 * e
        })
        .collect();
    // Posterior precision I + XᵀX / σ², mean Σ Xᵀy / σ².
    let s2 = 0.25;
    let mut prec = vec![vec![0.0; d]; d];
    let mut xty = vec![0.0; d];
    for i in 0..n {
        for a in 0..d {
            xty[a] += xs[i * d + a] * ys[i] / s2;
            for b in 0..d {
                prec[a][b] += xs[i * d + a] * xs[i * d + b] / s2;
            }
        }
    }
    for (a, row) in prec.iter_mut().enumerate() {
        row[a] += 1.0;
    }
    let cov = inverse(&prec);
    let mean: Vec<f64> = (0..d)
        .map(|a| (0..d).map(|b| cov[a][b] * xty[b]).sum())
        .collect();
    (
        Tensor::new(xs, &[n, d]).unwrap(),
        Tensor::from(ys),
        mean,
        cov,
    )
}

#[test]
fn automvn_linear_regression_exact_posterior() {
    let (x, y, mean, cov) = regression_data();
    let guide = AutoMultivariateNormal::new(linreg);
    let mut svi = Svi::new(linreg, guide, adam(0.01), TraceElbo::new(4)).seed(8);
    for _ in 0..2000 {
        svi.step((&x, &y)).unwrap();
    }
    // Average loc and covariance over the last steps.
    let avg = 500;
    let mut loc = [0.0; 3];
    let mut c = [[0.0; 3]; 3];
    for _ in 0..avg {
        svi.step((&x, &y)).unwrap();
        let l = svi
            .params()
            .get("AutoMultivariateNormal.loc")
            .unwrap()
            .to_vec()
            .unwrap();
        let cv = svi
            .guide()
            .covariance(svi.params())
            .unwrap()
            .to_vec()
            .unwrap();
        for a in 0..3 {
            loc[a] += l[a] / avg as f64;
            for b in 0..3 {
                c[a][b] += cv[a * 3 + b] / avg as f64;
            }
        }
    }
    for a in 0..3 {
        let sd = cov[a][a].sqrt();
        assert!(
            (loc[a] - mean[a]).abs() < 0.15 * sd,
            "w[{a}]: {} vs {} (sd {sd})",
            loc[a],
            mean[a]
        );
        for b in 0..3 {
            let scale = (cov[a][a] * cov[b][b]).sqrt();
            assert!(
                (c[a][b] - cov[a][b]).abs() < 0.2 * scale,
                "cov[{a}][{b}]: {} vs {}",
                c[a][b],
                cov[a][b]
            );
        }
    }

    // The low-rank guide (rank 2 of 3) reaches the same mean.
    let guide = AutoLowRankMultivariateNormal::new(linreg).rank(2);
    let mut svi = Svi::new(linreg, guide, adam(0.01), TraceElbo::new(4)).seed(9);
    for _ in 0..2500 {
        svi.step((&x, &y)).unwrap();
    }
    let med = svi.guide().median(svi.params()).unwrap();
    let w = med[0].1.to_vec().unwrap();
    let sds = svi.guide().marginal_sd(svi.params()).unwrap();
    for a in 0..3 {
        let sd = cov[a][a].sqrt();
        assert!(
            (w[a] - mean[a]).abs() < 0.3 * sd,
            "low-rank w[{a}] {}",
            w[a]
        );
        assert!(
            (sds[a] - sd).abs() < 0.3 * sd,
            "low-rank sd[{a}] {}",
            sds[a]
        );
    }
}

/// The low-rank log-density (Woodbury + determinant lemma) equals the dense MVN's.
#[test]
fn lowrank_log_density_matches_dense() {
    let (x, y, _, _) = regression_data();
    let guide = AutoLowRankMultivariateNormal::new(linreg).rank(2);
    let mut svi = Svi::new(linreg, guide, adam(0.01), TraceElbo::default()).seed(10);
    for _ in 0..5 {
        svi.step((&x, &y)).unwrap();
    }
    let params = svi.params().clone();
    let cov = svi.guide().covariance(&params).unwrap();
    let loc = params.get("AutoLowRankMultivariateNormal.loc").unwrap();
    // Cholesky of the 3x3 covariance by hand.
    let c = cov.to_vec().unwrap();
    let mut l = [0.0f64; 9];
    for j in 0..3 {
        let s: f64 = c[j * 3 + j] - (0..j).map(|k| l[j * 3 + k].powi(2)).sum::<f64>();
        l[j * 3 + j] = s.sqrt();
        for i in j + 1..3 {
            let t: f64 = c[i * 3 + j] - (0..j).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum::<f64>();
            l[i * 3 + j] = t / l[j * 3 + j];
        }
    }
    let dense = MultivariateNormal::new(loc, Tensor::new(l.to_vec(), &[3, 3]).unwrap()).unwrap();
    // Trace the guide and compare the auxiliary site's log-density with the dense one.
    let mut ctx = Context::from_parts(params, pyro::rng::rng_from_seed(0), Default::default());
    let ((), tr) = ctx.with_handler(pyro::handlers::TraceMessenger::new(), |ctx| {
        svi.guide().call(ctx, (&x, &y));
    });
    let tr = tr.into_trace();
    let site = tr.site("_AutoLowRankMultivariateNormal_latent").unwrap();
    let lp = site.log_prob_sum().unwrap().item().unwrap();
    let lp_dense = dense.log_prob(&site.value).item().unwrap();
    assert!((lp - lp_dense).abs() < 1e-9, "{lp} vs {lp_dense}");
}

#[test]
fn discrete_latent_is_refused_and_median_before_run_errors() {
    #[model]
    fn discrete() {
        sample!("k", Bernoulli::new(0.5));
    }
    let guide = AutoNormal::new(discrete);
    assert!(guide.median(&ParamStore::new()).is_err());
    let mut svi = Svi::new(discrete, guide, adam(0.01), TraceElbo::default());
    let err = svi.step(()).unwrap_err().to_string();
    assert!(err.contains("discrete") && err.contains('k'), "{err}");
}

/// Local latent variables in a subsampled plate: the guide opens the plate, draws the same
/// subsample and index-selects its full-size parameters, so every z_i is fitted although each
/// step sees half of them. Posterior z_i ~ N(x_i / 2, 1/√2).
#[model]
fn local_latents(data: &[f64]) {
    plate!("data", data.len(), subsample_size = 5, |idx| {
        let x: Vec<f64> = idx.iter().map(|&i| data[i]).collect();
        let z = sample!("z", Normal::new(0.0, 1.0));
        sample!("x", Normal::new(z, 1.0), obs = x);
    });
}

#[test]
fn autonormal_subsampled_local_latents() {
    let mut svi = Svi::new(
        local_latents,
        AutoNormal::new(local_latents),
        adam(0.02),
        TraceElbo::new(2),
    )
    .seed(12);
    let v = fit_avg(
        &mut svi,
        &DATA[..],
        2500,
        1000,
        &["AutoNormal.locs.z", "AutoNormal.scales.z"],
    );
    assert_eq!(v[0].len(), DATA.len());
    let sd = 0.5f64.sqrt();
    for (i, x) in DATA.iter().enumerate() {
        assert!(
            (v[0][i] - x / 2.0).abs() < 0.1 * 2.0 * sd,
            "loc[{i}] {}",
            v[0][i]
        );
        assert!((v[1][i] - sd).abs() < 0.15 * sd, "scale[{i}] {}", v[1][i]);
    }
    // The flat-vector guides refuse subsampled sites.
    let mut svi = Svi::new(
        local_latents,
        AutoDiagonalNormal::new(local_latents),
        adam(0.02),
        TraceElbo::default(),
    );
    let err = svi.step(&DATA[..]).unwrap_err().to_string();
    assert!(err.contains("subsampled"), "{err}");
}

/// A Gaussian mixture with enumerated assignments: `AutoDelta` guides the continuous latent only
/// and leaves the enumerated site to `TraceEnumElbo`; the loss is then exactly
/// `-ln p(x, mu)` with the assignments summed out.
struct Mixture;
impl Model for Mixture {
    type Args<'a> = &'a [f64];
    type Output = ();
    const NAME: &'static str = "mixture";
    fn call(&self, ctx: &mut Context, data: &[f64]) {
        let mu = ctx.sample("mu", Normal::new(0.0, 5.0).expand(&[2]).to_event(1), None);
        let x = Tensor::from_slice(data);
        ctx.plate("data", data.len(), Default::default(), |ctx, _| {
            let z = ctx.sample_with(
                "z",
                Bernoulli::new(0.3),
                None,
                pyro::trace::InferConfig {
                    enumerate: true,
                    ..Default::default()
                },
            );
            ctx.sample("x", Normal::new(mu.index_by(&z), 1.0), Some(x.clone()));
        });
    }
}

#[test]
fn autodelta_with_enumerated_sites() {
    let data = [-1.3, 0.2, 2.5, 1.9, -0.4];
    let mut svi = Svi::new(
        Mixture,
        AutoDelta::new(Mixture),
        adam(0.01),
        TraceEnumElbo::default(),
    );
    svi.evaluate_loss(&data).unwrap();
    assert_eq!(svi.guide().sites().unwrap().len(), 1);
    svi.params_mut()
        .insert(
            "AutoDelta.mu",
            Tensor::from_slice(&[-1.0, 2.0]),
            constraints::real_vector(),
        )
        .unwrap();
    let loss = svi.evaluate_loss(&data).unwrap();
    let lp = |x: f64, m: f64, s: f64| -0.5 * LN_2PI - s.ln() - 0.5 * ((x - m) / s).powi(2);
    let mut exact = lp(-1.0, 0.0, 5.0) + lp(2.0, 0.0, 5.0);
    for &x in &data {
        let (a, b) = (
            0.7f64.ln() + lp(x, -1.0, 1.0),
            0.3f64.ln() + lp(x, 2.0, 1.0),
        );
        let m = a.max(b);
        exact += m + ((a - m).exp() + (b - m).exp()).ln();
    }
    assert!((loss + exact).abs() < 1e-9, "{loss} vs {}", -exact);
    for _ in 0..300 {
        svi.step(&data).unwrap();
    }
}
