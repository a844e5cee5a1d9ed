//! `TraceElbo`: the Monte-Carlo ELBO with Pyro's `Trace_ELBO` gradient estimator.

use super::elbo::{get_traces, non_finite_site, Elbo, ElboRun};
use super::Model;
use crate::error::{Error, Result};
use crate::handlers::Context;
use crate::tensor::Tensor;
use crate::trace::Trace;

/// The evidence lower bound estimated from `num_particles` joint draws of the guide.
///
/// Gradients: pathwise through reparameterised guide sites; for the others the score-function
/// (REINFORCE) term `log q(z) * (log p - log q)` with the learning signal detached, exactly as
/// Pyro's `Trace_ELBO`. The loss value is computed apart from this surrogate.
/// When the guide is the exact posterior, `ln p(x, z) - ln q(z) = ln p(x)` for every draw `z`: the
/// loss is then the negative log evidence, without noise.
///
/// ```
/// use pyro::prelude::*;
///
/// // mu ~ Normal(0, 1), x ~ Normal(mu, 1) observed at 1: the posterior is Normal(1/2, 1/sqrt(2))
/// // and the evidence p(x) is Normal(1; 0, sqrt(2)).
/// #[model]
/// fn model(x: f64) {
///     let mu = sample!("mu", Normal::new(0.0, 1.0));
///     sample!("x", Normal::new(mu, 1.0), obs = x);
/// }
///
/// #[guide(model = model)]
/// fn exact_posterior(_x: f64) {
///     sample!("mu", Normal::new(0.5, 0.5f64.sqrt()));
/// }
///
/// # fn main() -> pyro::Result<()> {
/// let adam = Adam::new(AdamConfig::default());
/// let mut svi = Svi::new(model, exact_posterior, adam, TraceElbo::new(3)).seed(0);
/// let ln_evidence = -0.25 - 0.5 * (4.0 * std::f64::consts::PI).ln();
/// for _ in 0..5 {
///     assert!((svi.evaluate_loss(1.0)? + ln_evidence).abs() < 1e-12);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct TraceElbo {
    /// Number of particles (joint draws) averaged per step.
    pub num_particles: usize,
}

impl Default for TraceElbo {
    fn default() -> Self {
        TraceElbo { num_particles: 1 }
    }
}

impl TraceElbo {
    /// An ELBO averaged over `num_particles` draws.
    pub fn new(num_particles: usize) -> TraceElbo {
        TraceElbo {
            num_particles: num_particles.max(1),
        }
    }
}

/// ELBO and surrogate ELBO of one particle.
pub(crate) fn particle(model: &Trace, guide: &Trace) -> Result<(Tensor, Tensor)> {
    let mut log_p = Tensor::scalar(0.0);
    for s in model.sample_sites() {
        log_p = log_p + s.log_prob_sum()?;
    }
    with_guide_terms(log_p, guide)
}

/// ELBO and surrogate ELBO of one particle, given the model's log-density `log_p`: subtracts the
/// guide's log-density, pathwise for reparameterised sites and by the score function for the
/// others.
pub(crate) fn with_guide_terms(log_p: Tensor, guide: &Trace) -> Result<(Tensor, Tensor)> {
    let mut elbo = log_p.clone();
    let mut surrogate = log_p;
    let mut score = Tensor::scalar(0.0);
    for s in guide.sample_sites() {
        let lq = s.log_prob_sum()?;
        elbo = elbo - &lq;
        let reparam = s.dist.as_ref().is_some_and(|d| d.has_rsample());
        if reparam {
            surrogate = surrogate - &lq;
        } else {
            score = score + lq;
        }
    }
    if score.requires_grad() {
        surrogate = surrogate + score * elbo.detach();
    }
    Ok((elbo, surrogate))
}

impl Elbo for TraceElbo {
    fn num_particles(&self) -> usize {
        self.num_particles.max(1)
    }

    fn one_particle(&self) -> Option<Self> {
        Some(TraceElbo { num_particles: 1 })
    }

    fn loss_and_surrogate<'a, M, G>(
        &mut self,
        ctx: &mut Context,
        model: &M,
        guide: &G,
        args: M::Args<'a>,
    ) -> Result<ElboRun>
    where
        M: Model,
        G: Model<Args<'a> = M::Args<'a>>,
        M::Args<'a>: Clone,
    {
        let n = self.num_particles.max(1);
        let mut loss = 0.0;
        let mut surrogate = Tensor::scalar(0.0);
        for _ in 0..n {
            let (mt, gt) = get_traces(ctx, model, guide, args.clone())?;
            let (elbo, surr) = particle(&mt, &gt)?;
            let e = elbo.item()?;
            if !e.is_finite() {
                return Err(non_finite_site(&[&mt, &gt]));
            }
            loss -= e / n as f64;
            surrogate = if n == 1 {
                -surr
            } else {
                surrogate - surr * (1.0 / n as f64)
            };
            ctx.recycle_trace(mt);
            ctx.recycle_trace(gt);
        }
        if let Some(e) = surrogate.error() {
            return Err(Error::clone(e));
        }
        Ok(ElboRun { loss, surrogate })
    }
}
