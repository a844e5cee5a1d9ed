//! `Predictive`: posterior and posterior-predictive samples.

use super::Model;
use crate::error::{Error, Result};
use crate::handlers::{
    Context, ReplayMessenger, SubstituteMessenger, TraceMessenger, UnconditionMessenger,
};
use crate::infer::mcmc::McmcSamples;
use crate::params::ParamStore;
use crate::rng::rng_from_seed;
use crate::tensor::{TapeStorage, Tensor};
use crate::trace::{SiteKind, Trace};

/// Draws from the posterior predictive distribution: for each of `num_samples` draws, latent
/// sites come from the guide (or the prior when there is none), observed sites are drawn afresh
/// from the model given those latents, and the model's return value is kept.
///
/// Reproducible: the same seed gives the same samples.
pub struct Predictive<M, G> {
    model: M,
    guide: Option<G>,
    params: ParamStore,
    num_samples: usize,
    seed: u64,
    /// MCMC draws whose latent values replace the guide ([`Predictive::from_mcmc`]).
    posterior: Option<McmcSamples>,
}

/// The samples of a [`Predictive`] run.
#[derive(Debug)]
pub struct Samples<R> {
    sites: Vec<(String, Tensor)>,
    /// The model's return value of each draw.
    pub returns: Vec<R>,
}

impl<R> Samples<R> {
    /// The draws of site `name`, stacked along a new leading dimension of size `num_samples`.
    pub fn get(&self, name: &str) -> Result<&Tensor> {
        self.sites
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t)
            .ok_or_else(|| Error::Unknown {
                kind: "site",
                name: name.to_string(),
            })
    }

    /// Names of the sampled sites, in execution order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sites.iter().map(|(n, _)| n.as_str())
    }
}

/// A model with no guide, for prior predictive checks.
pub struct NoGuide;

impl Model for NoGuide {
    type Args<'a> = ();
    type Output = ();
    const NAME: &'static str = "no guide";
    fn call<'a>(&self, _ctx: &mut Context, _args: ()) {}
}

impl<M: Model> Predictive<M, NoGuide> {
    /// Prior predictive: latent sites from the prior, parameters from `params`.
    pub fn prior(model: M, params: &ParamStore, num_samples: usize) -> Self {
        Predictive {
            model,
            guide: None,
            params: params.clone(),
            num_samples,
            seed: 0,
            posterior: None,
        }
    }
}

/// The stand-in guide of a [`Predictive`] built from MCMC draws ([`Predictive::from_mcmc`]):
/// it samples nothing (the draws are substituted into the model) and takes the model's
/// arguments.
pub struct McmcDraws<M>(std::marker::PhantomData<fn() -> M>);

impl<M: Model> Model for McmcDraws<M> {
    type Args<'a> = M::Args<'a>;
    type Output = ();
    const NAME: &'static str = "MCMC draws";
    fn call<'a>(&self, _ctx: &mut Context, _args: M::Args<'a>) {}
}

impl<M: Model> Predictive<M, McmcDraws<M>> {
    /// Posterior predictive from MCMC draws: one run of the model per draw (all chains, in
    /// order), with the draw's latent values substituted and the observed sites drawn afresh.
    /// `deterministic!` sites are recomputed from the latent values.
    ///
    /// ```
    /// # use pyro_core::prelude::*;
    /// # use pyro_core::infer::mcmc::{Mcmc, Nuts};
    /// # struct Gauss;
    /// # impl Model for Gauss {
    /// #     type Args<'a> = Option<f64>;
    /// #     type Output = ();
    /// #     const NAME: &'static str = "gauss";
    /// #     fn call<'a>(&self, ctx: &mut Context, y: Option<f64>) {
    /// #         let mu = ctx.sample("mu", Normal::new(0.0, 1.0), None);
    /// #         ctx.sample("y", Normal::new(mu, 1.0), y.map(Tensor::from));
    /// #     }
    /// # }
    /// let draws = Mcmc::new(Nuts::new(Gauss)).warmup(100).samples(100).progress(false)
    ///     .run(Some(2.0)).unwrap();
    /// let pp = Predictive::from_mcmc(Gauss, &draws).seed(1).run(None).unwrap();
    /// assert_eq!(pp.get("y").unwrap().shape(), &[100]);
    /// ```
    pub fn from_mcmc(model: M, samples: &McmcSamples) -> Self {
        Predictive {
            model,
            guide: Some(McmcDraws(std::marker::PhantomData)),
            params: ParamStore::new(),
            num_samples: samples.num_chains() * samples.num_draws(),
            seed: 0,
            posterior: Some(samples.clone()),
        }
    }
}

impl<M: Model, G: Model> Predictive<M, G> {
    /// Posterior predictive with `guide` and the fitted `params` (e.g. `svi.params()`).
    pub fn new(model: M, guide: G, params: &ParamStore, num_samples: usize) -> Self {
        Predictive {
            model,
            guide: Some(guide),
            params: params.clone(),
            num_samples,
            seed: 0,
            posterior: None,
        }
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Draws the samples.
    pub fn run<'a>(&self, args: M::Args<'a>) -> Result<Samples<M::Output>>
    where
        G: Model<Args<'a> = M::Args<'a>>,
        M::Args<'a>: Clone,
    {
        let mut ctx = Context::from_parts(
            self.params.clone(),
            rng_from_seed(self.seed),
            TapeStorage::default(),
        );
        ctx.grad_params = false;
        let mut traces = Vec::with_capacity(self.num_samples);
        let mut returns = Vec::with_capacity(self.num_samples);
        for draw in 0..self.num_samples {
            ctx.begin_run(true);
            let guide_trace = match &self.guide {
                Some(g) if is_guided::<G>() => {
                    let (_, tr) =
                        ctx.with_handler(TraceMessenger::new(), |ctx| g.call(ctx, args.clone()));
                    if let Some(e) = ctx.take_error() {
                        return Err(e);
                    }
                    tr.into_trace()
                }
                _ => Trace::new(),
            };
            let substitute = match &self.posterior {
                Some(p) => Some(SubstituteMessenger::new(p.latent_values(draw)?)),
                None => None,
            };
            ctx.begin_run(false);
            let ((r, _), tr) = ctx.with_handler(TraceMessenger::new(), |ctx| {
                ctx.with_handler(ReplayMessenger::new(guide_trace), |ctx| {
                    ctx.with_handler(UnconditionMessenger, |ctx| match substitute {
                        Some(sub) => {
                            ctx.with_handler(sub, |ctx| self.model.call(ctx, args.clone()))
                                .0
                        }
                        None => self.model.call(ctx, args.clone()),
                    })
                    .0
                })
            });
            if let Some(e) = ctx.take_error() {
                return Err(e);
            }
            traces.push(tr.into_trace());
            returns.push(r);
        }
        Ok(Samples {
            sites: stack_sites(&traces)?,
            returns,
        })
    }
}

fn is_guided<G: Model>() -> bool {
    G::NAME != NoGuide::NAME && G::NAME != "MCMC draws"
}

/// Stacks each sample site's values across draws (sites present in every draw).
fn stack_sites(traces: &[Trace]) -> Result<Vec<(String, Tensor)>> {
    let Some(first) = traces.first() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for site in first.sites().iter().filter(|s| s.kind == SiteKind::Sample) {
        let values: Option<Vec<Tensor>> = traces
            .iter()
            .map(|t| t.get(&site.name).map(|s| s.value.detach()))
            .collect();
        if let Some(values) = values {
            let stacked = Tensor::stack(&values, 0)
                .check()
                .map_err(|e| e.at_site(&site.name))?;
            out.push((site.name.to_string(), stacked));
        }
    }
    Ok(out)
}
