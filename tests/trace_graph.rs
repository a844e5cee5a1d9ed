//! TraceGraphElbo: unbiased like TraceElbo, with lower score-function gradient variance.
//!
//! Model: z ~ N(0, 1); x ~ N(z, 1) observed at 2 (upstream noise: log p(x | z) varies with z);
//! then a discrete b ~ Bernoulli(0.3) and y ~ N(b, 1) observed at 1. Guide: z ~ N(0, 1) (no
//! parameters), b ~ Bernoulli(sigmoid(θ)). Trace ELBO multiplies ∇ log q(b) by the whole
//! log p - log q, including the upstream noise; the graph ELBO only by b's downstream terms.

use pyro::handlers::Context;
use pyro::infer::{Baseline, TraceGraphElbo};
use pyro::prelude::*;

struct M;
impl Model for M {
    type Args<'a> = ();
    type Output = ();
    const NAME: &'static str = "m";
    fn call<'a>(&self, ctx: &mut Context, _: ()) {
        let z = ctx.sample("z", Normal::new(0.0, 1.0), None);
        ctx.sample("x", Normal::new(z, 1.0), Some(2.0.into()));
        let b = ctx.sample("b", Bernoulli::new(0.3), None);
        ctx.sample("y", Normal::new(b, 1.0), Some(1.0.into()));
    }
}

struct G;
impl pyro::infer::GuideFor<M> for G {}

impl Model for G {
    type Args<'a> = ();
    type Output = ();
    const NAME: &'static str = "g";
    fn call<'a>(&self, ctx: &mut Context, _: ()) {
        ctx.sample("z", Normal::new(0.0, 1.0), None);
        let theta = ctx.param("theta", || 0.0, constraints::real());
        ctx.sample("b", Bernoulli::from_logits(theta), None);
    }
}

fn grads<L: Elbo>(loss: L, n: usize) -> (f64, f64) {
    let mut svi = Svi::new(M, G, Adam::new(AdamConfig::default()), loss).seed(3);
    let g: Vec<f64> = (0..n)
        .map(|_| svi.loss_and_grads(()).unwrap().1[0].1.item().unwrap())
        .collect();
    let mean = g.iter().sum::<f64>() / n as f64;
    let var = g.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, var)
}

#[test]
fn graph_elbo_is_unbiased_with_lower_variance() {
    // Exact gradient of the loss w.r.t. θ at θ = 0 (q(b=1) = 1/2): the ELBO's b-part is
    //   E_q[log p(b) + log p(y|b) - log q(b)] = Σ_b q_b (log p_b + log N(1; b, 1) - log q_b),
    // and d q_1/dθ = q_1 q_0 = 1/4, so dLoss/dθ = -(1/4) [(log .3 + log N(1;1,1) - log .5)
    //                                                 - (log .7 + log N(1;0,1) - log .5)].
    let ln_n = |d: f64| -0.5 * d * d - 0.918_938_533_204_672_8;
    let exact = -0.25 * ((0.3f64.ln() + ln_n(0.0)) - (0.7f64.ln() + ln_n(1.0)));
    let n = 20_000;
    let (m_trace, v_trace) = grads(TraceElbo::default(), n);
    let (m_graph, v_graph) = grads(
        TraceGraphElbo::new(1).with_default_baseline(Baseline::None),
        n,
    );
    let (m_base, v_base) = grads(TraceGraphElbo::new(1), n);
    for (name, m, v) in [
        ("trace", m_trace, v_trace),
        ("graph", m_graph, v_graph),
        ("graph+baseline", m_base, v_base),
    ] {
        assert!(
            (m - exact).abs() < 5.0 * (v / n as f64).sqrt(),
            "{name}: mean {m} vs exact {exact}"
        );
    }
    assert!(
        v_graph < 0.5 * v_trace,
        "graph variance {v_graph} vs trace {v_trace}"
    );
    assert!(
        v_base < v_graph,
        "baseline variance {v_base} vs graph {v_graph}"
    );
}
