//! Exactness of parallel enumeration: `TraceEnumElbo` with no latent guide sites must equal the
//! brute-force log-likelihood, `log Σ_z p(x, z)`, computed here independently in plain f64.

use pyro::handlers::Context;
use pyro::prelude::*;

const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

fn normal_lp(x: f64, mu: f64) -> f64 {
    -0.5 * (x - mu) * (x - mu) - LN_SQRT_2PI
}

fn logsumexp(v: &[f64]) -> f64 {
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

struct EmptyGuide;
// Guides every model of this file (they have no latent site outside enumeration).
impl<Mo: Model> pyro::infer::GuideFor<Mo> for EmptyGuide {}

impl Model for EmptyGuide {
    type Args<'a> = &'a [f64];
    type Output = ();
    const NAME: &'static str = "empty_guide";
    fn call(&self, _ctx: &mut Context, _data: &[f64]) {}
}

fn enumerated(x: f64) -> InferConfig {
    let _ = x;
    InferConfig {
        enumerate: true,
        ..Default::default()
    }
}

use pyro::trace::InferConfig;

/// A two-component mixture: z_n ~ Bernoulli(p), x_n ~ Normal(mu[z_n], 1), in a plate.
struct Mixture;
impl Model for Mixture {
    type Args<'a> = &'a [f64];
    type Output = ();
    const NAME: &'static str = "mixture";
    fn call(&self, ctx: &mut Context, data: &[f64]) {
        let p = ctx.param("p", || 0.3, constraints::unit_interval());
        let mu = ctx.param(
            "mu",
            || Tensor::from_slice(&[-1.0, 2.0]),
            constraints::real(),
        );
        let x = Tensor::from_slice(data);
        ctx.plate("data", data.len(), Default::default(), |ctx, _| {
            let z = ctx.sample_with("z", Bernoulli::new(p.clone()), None, enumerated(0.0));
            ctx.sample("x", Normal::new(mu.index_by(&z), 1.0), Some(x.clone()));
        });
    }
}

const DATA: [f64; 5] = [-1.3, 0.2, 2.5, 1.9, -0.4];

fn mixture_exact(p: f64, mu: [f64; 2]) -> f64 {
    DATA.iter()
        .map(|&x| {
            logsumexp(&[
                (1.0 - p).ln() + normal_lp(x, mu[0]),
                p.ln() + normal_lp(x, mu[1]),
            ])
        })
        .sum()
}

#[test]
fn mixture_loss_is_the_exact_marginal_likelihood_and_its_gradient_too() {
    let adam = Adam::new(AdamConfig::default());
    let mut svi = Svi::new(Mixture, EmptyGuide, adam, TraceEnumElbo::default());
    let loss = svi.evaluate_loss(&DATA).unwrap();
    let exact = -mixture_exact(0.3, [-1.0, 2.0]);
    assert!(
        (loss - exact).abs() < 1e-10 * exact.abs(),
        "{loss} vs {exact}"
    );

    // Gradient with respect to the unconstrained values (logit p, mu), against central
    // differences of the exact marginal likelihood.
    let (_, grads) = svi.loss_and_grads(&DATA).unwrap();
    let g = |name: &str| {
        grads
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .to_vec()
            .unwrap()
    };
    let h = 1e-6;
    let logit = (0.3f64 / 0.7).ln();
    let sig = |u: f64| 1.0 / (1.0 + (-u).exp());
    let fd_p = -(mixture_exact(sig(logit + h), [-1.0, 2.0])
        - mixture_exact(sig(logit - h), [-1.0, 2.0]))
        / (2.0 * h);
    assert!((g("p")[0] - fd_p).abs() < 1e-6, "{:?} vs {fd_p}", g("p"));
    for k in 0..2 {
        let mut up = [-1.0, 2.0];
        let mut down = up;
        up[k] += h;
        down[k] -= h;
        let fd = -(mixture_exact(0.3, up) - mixture_exact(0.3, down)) / (2.0 * h);
        assert!(
            (g("mu")[k] - fd).abs() < 1e-6,
            "mu[{k}]: {:?} vs {fd}",
            g("mu")
        );
    }
}

/// A global discrete g outside the plate and local z_n inside it: g must be summed out after
/// the plate has been multiplied out, not per data point.
struct GlobalLocal;
impl Model for GlobalLocal {
    type Args<'a> = &'a [f64];
    type Output = ();
    const NAME: &'static str = "global_local";
    fn call(&self, ctx: &mut Context, data: &[f64]) {
        let q = Tensor::from_slice(&[0.2, 0.7]);
        let mu = Tensor::from_slice(&[-1.0, 2.0]);
        let x = Tensor::from_slice(data);
        let g = ctx.sample_with("g", Bernoulli::new(0.3), None, enumerated(0.0));
        ctx.plate("data", data.len(), Default::default(), |ctx, _| {
            let z = ctx.sample_with("z", Bernoulli::new(q.index_by(&g)), None, enumerated(0.0));
            ctx.sample("x", Normal::new(mu.index_by(&z), 1.0), Some(x.clone()));
        });
    }
}

#[test]
fn global_and_local_discrete_latents_are_summed_in_the_right_order() {
    let q: [f64; 2] = [0.2, 0.7];
    let mu = [-1.0, 2.0];
    let per_g: Vec<f64> = (0..2)
        .map(|g| {
            let pg: f64 = if g == 1 { 0.3 } else { 0.7 };
            pg.ln()
                + DATA
                    .iter()
                    .map(|&x| {
                        logsumexp(&[
                            (1.0 - q[g]).ln() + normal_lp(x, mu[0]),
                            q[g].ln() + normal_lp(x, mu[1]),
                        ])
                    })
                    .sum::<f64>()
        })
        .collect();
    let exact = -logsumexp(&per_g);
    let mut svi = Svi::new(
        GlobalLocal,
        EmptyGuide,
        Adam::new(AdamConfig::default()),
        TraceEnumElbo::default(),
    );
    let loss = svi.evaluate_loss(&DATA).unwrap();
    assert!(
        (loss - exact).abs() < 1e-10 * exact.abs(),
        "{loss} vs {exact}"
    );
}

/// A two-state HMM over `T` steps for three sequences in a plate, with or without `markov`.
struct Hmm {
    markov: bool,
}
const T: usize = 7;
const SEQS: [[f64; T]; 3] = [
    [0.1, -0.5, 2.2, 1.8, 2.5, -0.9, 0.3],
    [1.9, 2.1, 2.3, -1.0, -0.2, 0.4, 2.0],
    [-0.3, -1.1, 0.2, 2.4, 1.6, 1.7, -0.8],
];
const INIT: f64 = 0.4; // P(x_0 = 1)
const TRANS: [f64; 2] = [0.25, 0.8]; // P(x_t = 1 | x_{t-1})
const MU: [f64; 2] = [-0.5, 2.0];

impl Model for Hmm {
    type Args<'a> = ();
    type Output = ();
    const NAME: &'static str = "hmm";
    fn call(&self, ctx: &mut Context, _: ()) {
        let trans = ctx.param(
            "trans",
            || Tensor::from_slice(&TRANS),
            constraints::unit_interval(),
        );
        let mu = ctx.param("mu", || Tensor::from_slice(&MU), constraints::real());
        let ys: Vec<Tensor> = (0..T)
            .map(|t| Tensor::from_slice(&[SEQS[0][t], SEQS[1][t], SEQS[2][t]]))
            .collect();
        ctx.plate("sequences", 3, Default::default(), |ctx, _| {
            let mut x = ctx.sample_with("x_0", Bernoulli::new(INIT), None, enumerated(0.0));
            ctx.sample(
                "y_0",
                Normal::new(mu.index_by(&x), 1.0),
                Some(ys[0].clone()),
            );
            let mut step = |ctx: &mut Context, t: usize| {
                x = ctx.sample_with(
                    format!("x_{t}"),
                    Bernoulli::new(trans.index_by(&x)),
                    None,
                    enumerated(0.0),
                );
                ctx.sample(
                    format!("y_{t}"),
                    Normal::new(mu.index_by(&x), 1.0),
                    Some(ys[t].clone()),
                );
            };
            if self.markov {
                ctx.markov(1..T, &mut step);
            } else {
                for t in 1..T {
                    step(ctx, t);
                }
            }
        });
    }
}

struct NoArgs;
// The empty guide of the argument-less models of this file.
impl<Mo: Model> pyro::infer::GuideFor<Mo> for NoArgs {}
impl Model for NoArgs {
    type Args<'a> = ();
    type Output = ();
    const NAME: &'static str = "no_guide";
    fn call(&self, _ctx: &mut Context, _: ()) {}
}

/// The forward algorithm, in plain f64.
fn forward(trans: [f64; 2], mu: [f64; 2]) -> f64 {
    let p1 = |prev: usize| trans[prev];
    SEQS.iter()
        .map(|y| {
            let mut alpha = [
                (1.0 - INIT).ln() + normal_lp(y[0], mu[0]),
                INIT.ln() + normal_lp(y[0], mu[1]),
            ];
            for &yt in &y[1..] {
                let mut next = [0.0; 2];
                for (k, n) in next.iter_mut().enumerate() {
                    let terms: Vec<f64> = (0..2)
                        .map(|j| {
                            let pk = if k == 1 { p1(j) } else { 1.0 - p1(j) };
                            alpha[j] + pk.ln()
                        })
                        .collect();
                    *n = logsumexp(&terms) + normal_lp(yt, mu[k]);
                }
                alpha = next;
            }
            logsumexp(&alpha)
        })
        .sum()
}

#[test]
fn hmm_loss_equals_the_forward_algorithm_with_and_without_markov() {
    let exact = -forward(TRANS, MU);
    for markov in [true, false] {
        let mut svi = Svi::new(
            Hmm { markov },
            NoArgs,
            Adam::new(AdamConfig::default()),
            TraceEnumElbo::default(),
        );
        let loss = svi.evaluate_loss(()).unwrap();
        assert!(
            (loss - exact).abs() < 1e-9 * exact.abs(),
            "markov={markov}: {loss} vs {exact}"
        );
    }
}

#[test]
fn hmm_gradients_match_finite_differences() {
    let mut svi = Svi::new(
        Hmm { markov: true },
        NoArgs,
        Adam::new(AdamConfig::default()),
        TraceEnumElbo::default(),
    );
    let (_, grads) = svi.loss_and_grads(()).unwrap();
    let get = |name: &str| {
        grads
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .to_vec()
            .unwrap()
    };
    let (g_trans, g_mu) = (get("trans"), get("mu"));
    let h = 1e-6;
    let sig = |u: f64| 1.0 / (1.0 + (-u).exp());
    let logit = |p: f64| (p / (1.0 - p)).ln();
    for k in 0..2 {
        let (mut up, mut down) = (TRANS, TRANS);
        up[k] = sig(logit(TRANS[k]) + h);
        down[k] = sig(logit(TRANS[k]) - h);
        let fd = -(forward(up, MU) - forward(down, MU)) / (2.0 * h);
        assert!(
            (g_trans[k] - fd).abs() < 1e-5 * fd.abs().max(1.0),
            "trans[{k}]: {} vs {fd}",
            g_trans[k]
        );
        let (mut up, mut down) = (MU, MU);
        up[k] += h;
        down[k] -= h;
        let fd = -(forward(TRANS, up) - forward(TRANS, down)) / (2.0 * h);
        assert!(
            (g_mu[k] - fd).abs() < 1e-5 * fd.abs().max(1.0),
            "mu[{k}]: {} vs {fd}",
            g_mu[k]
        );
    }
}

struct ContinuousEnumerated;
impl Model for ContinuousEnumerated {
    type Args<'a> = ();
    type Output = ();
    const NAME: &'static str = "continuous_enumerated";
    fn call(&self, ctx: &mut Context, _: ()) {
        ctx.sample_with("z", Normal::new(0.0, 1.0), None, enumerated(0.0));
    }
}

#[test]
fn enumerating_a_continuous_site_is_an_error_naming_it() {
    let mut svi = Svi::new(
        ContinuousEnumerated,
        NoArgs,
        Adam::new(AdamConfig::default()),
        TraceEnumElbo::default().with_max_plate_nesting(0),
    );
    let err = svi.evaluate_loss(()).unwrap_err().to_string();
    assert!(err.contains("`z`") && err.contains("continuous"), "{err}");
}

/// Log-joint of one sequence and one state path, in plain f64.
fn path_log_joint(y: &[f64; T], path: &[usize]) -> f64 {
    let mut lp = if path[0] == 1 {
        INIT.ln()
    } else {
        (1.0 - INIT).ln()
    } + normal_lp(y[0], MU[path[0]]);
    for t in 1..T {
        let p1 = TRANS[path[t - 1]];
        lp += if path[t] == 1 {
            p1.ln()
        } else {
            (1.0 - p1).ln()
        } + normal_lp(y[t], MU[path[t]]);
    }
    lp
}

fn all_paths() -> Vec<Vec<usize>> {
    (0..1usize << T)
        .map(|bits| (0..T).map(|t| (bits >> t) & 1).collect())
        .collect()
}

#[test]
fn viterbi_decoding_is_the_brute_force_most_probable_path() {
    let params = {
        let mut svi = Svi::new(
            Hmm { markov: true },
            NoArgs,
            Adam::new(AdamConfig::default()),
            TraceEnumElbo::default(),
        );
        svi.evaluate_loss(()).unwrap();
        svi.params().clone()
    };
    let map = pyro::infer::infer_discrete(
        &Hmm { markov: true },
        &NoArgs,
        &params,
        (),
        pyro::infer::Decode::Map,
        0,
    )
    .unwrap();
    for (s, y) in SEQS.iter().enumerate() {
        let best = all_paths()
            .into_iter()
            .max_by(|a, b| path_log_joint(y, a).total_cmp(&path_log_joint(y, b)))
            .unwrap();
        for (t, &want) in best.iter().enumerate() {
            let got = map.get(&format!("x_{t}")).unwrap().to_vec().unwrap();
            assert_eq!(got.len(), 3, "x_{t} has one state per sequence");
            assert_eq!(got[s], want as f64, "sequence {s}, step {t}");
        }
    }
}

#[test]
fn backward_sampling_draws_from_the_exact_posterior() {
    let params = {
        let mut svi = Svi::new(
            Hmm { markov: true },
            NoArgs,
            Adam::new(AdamConfig::default()),
            TraceEnumElbo::default(),
        );
        svi.evaluate_loss(()).unwrap();
        svi.params().clone()
    };
    // Exact posterior marginals P(x_t = 1 | y) of sequence 0, by brute force.
    let y = &SEQS[0];
    let paths = all_paths();
    let w: Vec<f64> = paths.iter().map(|p| path_log_joint(y, p)).collect();
    let z = logsumexp(&w);
    let exact: Vec<f64> = (0..T)
        .map(|t| {
            paths
                .iter()
                .zip(&w)
                .filter(|(p, _)| p[t] == 1)
                .map(|(_, lw)| (lw - z).exp())
                .sum()
        })
        .collect();
    let n = 1500;
    let mut freq = [0.0; T];
    for seed in 0..n {
        let d = pyro::infer::infer_discrete(
            &Hmm { markov: true },
            &NoArgs,
            &params,
            (),
            pyro::infer::Decode::Sample,
            seed,
        )
        .unwrap();
        for (t, f) in freq.iter_mut().enumerate() {
            *f += d.get(&format!("x_{t}")).unwrap().to_vec().unwrap()[0] / n as f64;
        }
    }
    for t in 0..T {
        // Binomial standard error; 5 of them keeps a false alarm below 1e-6 per step.
        let se = (exact[t] * (1.0 - exact[t]) / n as f64).sqrt();
        assert!(
            (freq[t] - exact[t]).abs() < 5.0 * se + 1e-9,
            "x_{t}: {} vs {}",
            freq[t],
            exact[t]
        );
    }
}
