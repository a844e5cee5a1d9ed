//! Enumeration at the size of the `hmm` benchmark (K = 8 states, 50 sequences of 100 steps, the
//! benchmark's data): the `TraceEnumElbo` loss against an independent forward algorithm to 1e-12
//! relative, its gradient against finite differences of that forward algorithm, and a transition
//! matrix with impossible moves (log-probabilities of -inf) summed out without NaN.

use pyro::handlers::Context;
use pyro::prelude::*;
use pyro::tensor::lgamma;
use pyro::trace::InferConfig;

const K: usize = 8;
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// `y[t][s]`: 100 rows of 50 observations (`bench/data/hmm_y.csv`).
fn data() -> Vec<Vec<f64>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/data/hmm_y.csv");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}

fn logsumexp(v: &[f64]) -> f64 {
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

fn normal_lp(x: f64, mu: f64, sigma: f64) -> f64 {
    -0.5 * ((x - mu) / sigma).powi(2) - sigma.ln() - LN_SQRT_2PI
}

/// `log p(y | probs, locs)` by the forward algorithm in plain f64, with `x_{-1} = 0`.
fn forward(probs: &[f64], locs: &[f64], y: &[Vec<f64>]) -> f64 {
    let logp: Vec<f64> = probs.iter().map(|p| p.ln()).collect();
    (0..y[0].len())
        .map(|s| {
            let mut alpha = [0.0; K];
            for k in 0..K {
                alpha[k] = logp[k] + normal_lp(y[0][s], locs[k], 1.0);
            }
            for yt in &y[1..] {
                let mut next = [0.0; K];
                for (k, n) in next.iter_mut().enumerate() {
                    let mut terms = [0.0; K];
                    for j in 0..K {
                        terms[j] = alpha[j] + logp[j * K + k];
                    }
                    *n = logsumexp(&terms) + normal_lp(yt[s], locs[k], 1.0);
                }
                alpha = next;
            }
            logsumexp(&alpha)
        })
        .sum()
}

fn enumerated() -> InferConfig {
    InferConfig {
        enumerate: true,
        ..Default::default()
    }
}

/// The hidden chain and its emissions, given the transition matrix and the emission locations.
fn chain(ctx: &mut Context, probs: &Tensor, locs: &Tensor, y: &[Tensor]) {
    ctx.plate("sequences", y[0].numel(), Default::default(), |ctx, _| {
        let mut x = Tensor::scalar(0.0);
        ctx.markov(0..y.len(), |ctx, t| {
            x = ctx.sample_with(
                format!("x_{t}"),
                Categorical::new(probs.index_by(&x)),
                None,
                enumerated(),
            );
            ctx.sample(
                format!("y_{t}"),
                Normal::new(locs.index_by(&x), 1.0),
                Some(y[t].clone()),
            );
        });
    });
}

fn rows(y: &[Vec<f64>]) -> Vec<Tensor> {
    y.iter().map(|r| Tensor::from_slice(r)).collect()
}

// ----- the benchmark's model: Dirichlet and Normal priors, point-mass guide -----------------

fn init_probs() -> Vec<f64> {
    let mut p = vec![0.5 / K as f64; K * K];
    for i in 0..K {
        p[i * K + i] += 0.5;
    }
    p
}

fn init_locs() -> Vec<f64> {
    (0..K).map(|i| -4.0 + 8.0 * i as f64 / 7.0).collect()
}

struct BenchModel;
impl Model for BenchModel {
    type Args<'a> = &'a [Tensor];
    type Output = ();
    const NAME: &'static str = "hmm";
    fn call(&self, ctx: &mut Context, y: &[Tensor]) {
        let mut c = vec![0.1; K * K];
        for i in 0..K {
            c[i * K + i] += 0.9;
        }
        let probs = ctx.sample(
            "probs_x",
            Dirichlet::new(Tensor::new(c, &[K, K]).unwrap()).and_then(|d| d.to_event(1)),
            None,
        );
        let locs = ctx.sample(
            "locs",
            Normal::new(0.0, 10.0)
                .and_then(|d| d.expand(&[K]))
                .and_then(|d| d.to_event(1)),
            None,
        );
        chain(ctx, &probs, &locs, y);
    }
}

struct BenchGuide;
impl pyro::infer::GuideFor<BenchModel> for BenchGuide {}
impl Model for BenchGuide {
    type Args<'a> = &'a [Tensor];
    type Output = ();
    const NAME: &'static str = "hmm_guide";
    fn call(&self, ctx: &mut Context, _: &[Tensor]) {
        let p = ctx.param(
            "probs_x_map",
            || Tensor::new(init_probs(), &[K, K]).unwrap(),
            constraints::simplex(),
        );
        let l = ctx.param(
            "locs_map",
            || Tensor::from_slice(&init_locs()),
            constraints::real(),
        );
        ctx.sample("probs_x", Delta::with_event_dim(p, 0.0, 2), None);
        ctx.sample("locs", Delta::with_event_dim(l, 0.0, 1), None);
    }
}

#[test]
fn benchmark_loss_equals_the_forward_algorithm_to_1e_12() {
    let y = data();
    assert_eq!((y.len(), y[0].len()), (100, 50));
    let ys = rows(&y);
    let mut svi = Svi::new(
        BenchModel,
        BenchGuide,
        Adam::new(AdamConfig::default()),
        TraceEnumElbo::default().with_max_plate_nesting(1),
    );
    let loss = svi.evaluate_loss(&ys).unwrap();
    let (probs, locs) = (init_probs(), init_locs());
    let mut log_prior: f64 = locs.iter().map(|&l| normal_lp(l, 0.0, 10.0)).sum();
    for i in 0..K {
        let c: Vec<f64> = (0..K).map(|j| if i == j { 1.0 } else { 0.1 }).collect();
        log_prior += lgamma(c.iter().sum()) - c.iter().map(|&a| lgamma(a)).sum::<f64>()
            + (0..K)
                .map(|j| (c[j] - 1.0) * probs[i * K + j].ln())
                .sum::<f64>();
    }
    let exact = -(forward(&probs, &locs, &y) + log_prior);
    assert!(
        ((loss - exact) / exact).abs() < 1e-12,
        "{loss} vs {exact}: relative error {:e}",
        ((loss - exact) / exact).abs()
    );
    // The peers' figure at these values (bench/README.md).
    assert!((loss - 17624.0677).abs() < 1e-3, "{loss}");
}

// ----- transition logits as a parameter: gradients --------------------------------------------

fn softmax_rows(logits: &[f64]) -> Vec<f64> {
    logits
        .chunks(K)
        .flat_map(|r| {
            let m = r.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = r.iter().map(|v| (v - m).exp()).sum();
            r.iter().map(move |v| (v - m).exp() / z).collect::<Vec<_>>()
        })
        .collect()
}

fn init_logits() -> Vec<f64> {
    (0..K * K)
        .map(|i| {
            if i / K == i % K {
                1.5
            } else {
                0.1 * (i % 5) as f64
            }
        })
        .collect()
}

struct LogitsModel;
impl Model for LogitsModel {
    type Args<'a> = &'a [Tensor];
    type Output = ();
    const NAME: &'static str = "hmm_logits";
    fn call(&self, ctx: &mut Context, y: &[Tensor]) {
        let logits = ctx.param(
            "logits",
            || Tensor::new(init_logits(), &[K, K]).unwrap(),
            constraints::real(),
        );
        let locs = ctx.param(
            "locs",
            || Tensor::from_slice(&init_locs()),
            constraints::real(),
        );
        chain(ctx, &logits.softmax(-1), &locs, y);
    }
}

struct NoGuide;
impl pyro::infer::GuideFor<LogitsModel> for NoGuide {}
impl pyro::infer::GuideFor<Banded> for NoGuide {}
impl Model for NoGuide {
    type Args<'a> = &'a [Tensor];
    type Output = ();
    const NAME: &'static str = "no_guide";
    fn call(&self, _ctx: &mut Context, _: &[Tensor]) {}
}

#[test]
fn gradient_matches_finite_differences_of_the_forward_algorithm() {
    let y = data();
    let ys = rows(&y);
    let mut svi = Svi::new(
        LogitsModel,
        NoGuide,
        Adam::new(AdamConfig::default()),
        TraceEnumElbo::default().with_max_plate_nesting(1),
    );
    let (loss, grads) = svi.loss_and_grads(&ys).unwrap();
    let (logits, locs) = (init_logits(), init_locs());
    let f = |lg: &[f64], lc: &[f64]| -forward(&softmax_rows(lg), lc, &y);
    let exact = f(&logits, &locs);
    assert!(((loss - exact) / exact).abs() < 1e-12, "{loss} vs {exact}");
    let get = |name: &str| {
        grads
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .to_vec()
            .unwrap()
    };
    // Central differences: truncation ~h² and rounding ~1e-16 |f| / h, about 2e-6 here.
    let h = 1e-5;
    let tol = |fd: f64| 1e-5 * fd.abs().max(1.0);
    // Every third logit (all rows and columns), every location.
    let g = get("logits");
    for i in (0..K * K).step_by(3) {
        let (mut up, mut down) = (logits.clone(), logits.clone());
        up[i] += h;
        down[i] -= h;
        let fd = (f(&up, &locs) - f(&down, &locs)) / (2.0 * h);
        assert!((g[i] - fd).abs() < tol(fd), "logits[{i}]: {} vs {fd}", g[i]);
    }
    let g = get("locs");
    for k in 0..K {
        let (mut up, mut down) = (locs.clone(), locs.clone());
        up[k] += h;
        down[k] -= h;
        let fd = (f(&logits, &up) - f(&logits, &down)) / (2.0 * h);
        assert!((g[k] - fd).abs() < tol(fd), "locs[{k}]: {} vs {fd}", g[k]);
    }
}

// ----- impossible moves ---------------------------------------------------------------------

/// A left-to-right chain: from state `i` only to `i` or `i + 1` (the last state stays), so most
/// transition log-probabilities are -inf; emission locations as a parameter.
fn banded() -> Vec<f64> {
    let mut p = vec![0.0; K * K];
    for i in 0..K {
        if i + 1 < K {
            p[i * K + i] = 0.7;
            p[i * K + i + 1] = 0.3;
        } else {
            p[i * K + i] = 1.0;
        }
    }
    p
}

struct Banded;
impl Model for Banded {
    type Args<'a> = &'a [Tensor];
    type Output = ();
    const NAME: &'static str = "hmm_banded";
    fn call(&self, ctx: &mut Context, y: &[Tensor]) {
        let locs = ctx.param(
            "locs",
            || Tensor::from_slice(&init_locs()),
            constraints::real(),
        );
        let probs = Tensor::new(banded(), &[K, K]).unwrap();
        chain(ctx, &probs, &locs, y);
    }
}

#[test]
fn impossible_transitions_are_summed_out_without_nan() {
    // Twelve steps, so that every state is reachable from state 0 and every sequence has paths.
    let y: Vec<Vec<f64>> = data().into_iter().take(12).collect();
    let ys = rows(&y);
    let mut svi = Svi::new(
        Banded,
        NoGuide,
        Adam::new(AdamConfig::default()),
        TraceEnumElbo::default().with_max_plate_nesting(1),
    );
    let (loss, grads) = svi.loss_and_grads(&ys).unwrap();
    let locs = init_locs();
    let f = |lc: &[f64]| -forward(&banded(), lc, &y);
    let exact = f(&locs);
    assert!(exact.is_finite());
    assert!(((loss - exact) / exact).abs() < 1e-12, "{loss} vs {exact}");
    let g = grads[0].1.to_vec().unwrap();
    let h = 1e-5;
    for k in 0..K {
        let (mut up, mut down) = (locs.clone(), locs.clone());
        up[k] += h;
        down[k] -= h;
        let fd = (f(&up) - f(&down)) / (2.0 * h);
        assert!(
            g[k].is_finite() && (g[k] - fd).abs() < 1e-5 * fd.abs().max(1.0),
            "locs[{k}]: {} vs {fd}",
            g[k]
        );
    }
}

// ----- the Categorical log-density of an enumerated support ----------------------------------

#[test]
fn categorical_log_prob_of_the_enumerated_support_equals_the_gathered_one() {
    use pyro::tensor::Tape;
    let k = 4;
    let tape = Tape::new();
    // Batch [3, 1, 2]: the enumerated values go in the size-1 dim (-2) or left of the batch (a
    // transpose of the logits); batch [3, 1, 1]: in dim -2 with nothing varying to its right (a
    // reshape).
    for (batch, values) in [
        (vec![3, 1, 2], vec![vec![k, 1], vec![k, 1, 1, 1]]),
        (vec![3, 1, 1], vec![vec![k, 1], vec![k, 1, 1, 1]]),
    ] {
        let n: usize = batch.iter().product();
        let raw: Vec<f64> = (0..n * k).map(|i| 0.3 + ((i * 7) % 5) as f64).collect();
        let mut full = batch.clone();
        full.push(k);
        let w = tape.leaf(Tensor::new(raw, &full).unwrap());
        let probs = &w / &w.sum_dim(-1, true);
        let d = Categorical::new(probs).unwrap();
        for shape in values {
            let support = Tensor::new((0..k).map(|i| i as f64).collect(), &shape).unwrap();
            // The same values in reverse order take the general (gather) path.
            let reversed = Tensor::new((0..k).rev().map(|i| i as f64).collect(), &shape).unwrap();
            let (fast, slow) = (d.log_prob(&support), d.log_prob(&reversed));
            assert_eq!(fast.shape(), slow.shape());
            let n = fast.shape()[fast.ndim() - shape.len()];
            assert_eq!(n, k);
            let rev: Vec<usize> = (0..k).rev().collect();
            let slow_flipped = slow.index_select((fast.ndim() - shape.len()) as isize, &rev);
            let (fv, sv) = (fast.to_vec().unwrap(), slow_flipped.to_vec().unwrap());
            assert_eq!(fv, sv);
            let wts = Tensor::new(
                (0..fast.numel()).map(|i| 1.0 + (i % 3) as f64).collect(),
                fast.shape(),
            )
            .unwrap();
            let gf = tape
                .backward(&(&fast * &wts).sum())
                .unwrap()
                .get(&w)
                .unwrap();
            let gs = tape
                .backward(&(&slow_flipped * &wts).sum())
                .unwrap()
                .get(&w)
                .unwrap();
            for (a, b) in gf.to_vec().unwrap().iter().zip(gs.to_vec().unwrap()) {
                assert!((a - b).abs() < 1e-14, "{a} vs {b}");
            }
        }
    }
}

#[test]
fn categorical_probs_gradient_includes_the_normalisation() {
    use pyro::tensor::Tape;
    // d/dp_j log p(i) = [i = j] / p_i - 1 / Σp, also off the simplex (within its 1e-6 tolerance).
    let p0 = [0.2, 0.3, 0.5];
    let lp = |p: &[f64], i: f64| {
        Categorical::new(Tensor::from_slice(p))
            .unwrap()
            .log_prob(&Tensor::scalar(i))
            .item()
            .unwrap()
    };
    for i in 0..3 {
        let tape = Tape::new();
        let p = tape.leaf(Tensor::from_slice(&p0));
        let out = Categorical::new(p.clone())
            .unwrap()
            .log_prob(&Tensor::scalar(i as f64));
        let g = tape
            .backward(&out)
            .unwrap()
            .get(&p)
            .unwrap()
            .to_vec()
            .unwrap();
        let h = 1e-7;
        for j in 0..3 {
            let (mut up, mut down) = (p0, p0);
            up[j] += h;
            down[j] -= h;
            let fd = (lp(&up, i as f64) - lp(&down, i as f64)) / (2.0 * h);
            let exact = if i == j { 1.0 / p0[i] } else { 0.0 } - 1.0;
            assert!(
                (g[j] - exact).abs() < 1e-12,
                "d/dp{j} log p({i}): {} vs {exact}",
                g[j]
            );
            assert!(
                (fd - exact).abs() < 1e-6,
                "finite differences {fd} vs {exact}"
            );
        }
    }
}
