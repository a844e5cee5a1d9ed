//! `TraceGraphElbo`: the ELBO with Pyro's `TraceGraph_ELBO` estimator, which lowers the variance of
//! score-function gradients by Rao-Blackwellisation and baselines.
//!
//! For a non-reparameterised guide site `s`, the learning signal that multiplies `∇ log q(s)` is
//! not the whole `log p - log q` but only its *downstream* part: the terms of the sites that run
//! at or after `s` (in the guide for guide sites, in the model from `s`'s position on for model
//! sites). Upstream terms cannot depend on `s`, so dropping them keeps the estimator unbiased and
//! removes their noise, as with Pyro's dense dependency graph. A baseline (a running average of
//! that signal, or a value you give) is subtracted too.

use std::collections::HashMap;

use super::elbo::{get_traces, non_finite_site, Elbo, ElboRun};
use super::Model;
use crate::error::{Error, Result};
use crate::handlers::Context;
use crate::tensor::Tensor;

/// A baseline for the score-function term of a site.
#[derive(Clone, Debug, PartialEq)]
pub enum Baseline {
    /// No baseline.
    None,
    /// An exponentially decaying average of the site's downstream cost, with this decay (Pyro's
    /// default: 0.9).
    DecayingAverage(f64),
    /// A fixed value.
    Value(f64),
}

/// The graph ELBO; see the module documentation.
/// ```
/// use pyro::prelude::*;
///
/// // b ~ Bernoulli(0.3), y ~ Normal(b, 1) observed at 1. The guide learns q(b = 1) through the
/// // score function; the exact posterior is 0.3 / (0.3 + 0.7 e^(-1/2)) = 0.414.
/// #[model]
/// fn model(y: f64) {
///     let b = sample!("b", Bernoulli::new(0.3));
///     sample!("y", Normal::new(b, 1.0), obs = y);
/// }
///
/// #[guide(model = model)]
/// fn guide(_y: f64) {
///     let p = param!("p", 0.5, constraint = unit_interval);
///     sample!("b", Bernoulli::new(p));
/// }
///
/// # fn main() -> pyro::Result<()> {
/// let adam = Adam::new(AdamConfig { lr: 0.05, ..Default::default() })
///     .with_schedule(LrSchedule::Exponential { gamma: 0.998 });
/// let elbo = TraceGraphElbo::new(4).with_baseline("b", Baseline::DecayingAverage(0.9));
/// let mut svi = Svi::new(model, guide, adam, elbo).seed(0);
/// svi.run(2000, 1.0)?;
/// let exact = 0.3 / (0.3 + 0.7 * (-0.5f64).exp());
/// let p = svi.params().scalar("p")?;
/// assert!((p - exact).abs() < 0.03, "{p} vs {exact}");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct TraceGraphElbo {
    /// Number of particles averaged per step.
    pub num_particles: usize,
    default_baseline: Baseline,
    baselines: HashMap<String, Baseline>,
    averages: HashMap<String, f64>,
}

impl Default for TraceGraphElbo {
    fn default() -> Self {
        TraceGraphElbo {
            num_particles: 1,
            default_baseline: Baseline::DecayingAverage(0.9),
            baselines: HashMap::new(),
            averages: HashMap::new(),
        }
    }
}

impl TraceGraphElbo {
    /// A graph ELBO over `num_particles` draws with decaying-average baselines (decay 0.9).
    pub fn new(num_particles: usize) -> TraceGraphElbo {
        TraceGraphElbo {
            num_particles: num_particles.max(1),
            ..Default::default()
        }
    }

    /// The baseline of every site without its own.
    pub fn with_default_baseline(mut self, b: Baseline) -> Self {
        self.default_baseline = b;
        self
    }

    /// The baseline of site `name`.
    pub fn with_baseline(mut self, name: &str, b: Baseline) -> Self {
        self.baselines.insert(name.to_string(), b);
        self
    }

    fn baseline(&mut self, name: &str, signal: f64) -> f64 {
        match self.baselines.get(name).unwrap_or(&self.default_baseline) {
            Baseline::None => 0.0,
            Baseline::Value(v) => *v,
            Baseline::DecayingAverage(beta) => {
                let beta = *beta;
                let avg = self.averages.entry(name.to_string()).or_insert(signal);
                let b = *avg;
                *avg = beta * *avg + (1.0 - beta) * signal;
                b
            }
        }
    }
}

impl Elbo for TraceGraphElbo {
    fn num_particles(&self) -> usize {
        self.num_particles.max(1)
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
            let model_lp: Vec<(usize, Tensor)> = mt
                .sample_sites()
                .enumerate()
                .map(|(i, s)| s.log_prob_sum().map(|lp| (i, lp)))
                .collect::<Result<_>>()?;
            let guide_lp: Vec<Tensor> = gt
                .sample_sites()
                .map(|s| s.log_prob_sum())
                .collect::<Result<_>>()?;
            let mut elbo = 0.0;
            let mut surr = Tensor::scalar(0.0);
            for (_, lp) in &model_lp {
                elbo += lp.item()?;
                surr = surr + lp;
            }
            // Position of each model site in model execution order, by name.
            let model_pos = |name: &str| mt.sample_sites().position(|s| s.name == name);
            for (k, (s, lq)) in gt.sample_sites().zip(&guide_lp).enumerate() {
                elbo -= lq.item()?;
                let reparam = s.dist.as_ref().is_some_and(|d| d.has_rsample());
                if reparam {
                    surr = surr - lq;
                    continue;
                }
                // Downstream cost: model terms from this site's position on, minus guide terms
                // from this site on.
                let start = model_pos(&s.name).unwrap_or(0);
                let mut cost: f64 = model_lp
                    .iter()
                    .filter(|(i, _)| *i >= start)
                    .map(|(_, lp)| lp.item().unwrap_or(f64::NAN))
                    .sum();
                cost -= guide_lp[k..]
                    .iter()
                    .map(|lq| lq.item().unwrap_or(f64::NAN))
                    .sum::<f64>();
                let b = self.baseline(&s.name, cost);
                surr = surr + lq * (cost - b);
            }
            if !elbo.is_finite() {
                return Err(non_finite_site(&[&mt, &gt]));
            }
            loss -= elbo / n as f64;
            surrogate = surrogate - surr * (1.0 / n as f64);
        }
        if let Some(e) = surrogate.error() {
            return Err(Error::clone(e));
        }
        Ok(ElboRun { loss, surrogate })
    }
}
