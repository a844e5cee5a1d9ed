//! `Predictive`: posterior and posterior-predictive samples, and their export as CSV and as the
//! JSON that ArviZ's `from_dict` reads (the writers of `infer/export.rs`, shared with MCMC).

use std::path::Path;

use serde_json::{Map, Value};

use super::export::{self, Draws};
use super::{GuideFor, Model};
use crate::error::{Error, Result};
use crate::handlers::{
    Context, Message, Messenger, ReplayMessenger, SubstituteMessenger, TraceMessenger,
    UnconditionMessenger,
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
/// ```
/// use pyro::prelude::*;
///
/// #[model]
/// fn model() {
///     let mu = sample!("mu", Normal::new(0.0, 1.0));
///     plate!("data", 3, |_| {
///         sample!("x", Normal::new(mu.clone(), 0.5));
///     });
/// }
///
/// # fn main() -> pyro::Result<()> {
/// // Prior predictive: 4000 draws of mu, and of 3 values of x given each.
/// let prior = Predictive::prior(model, &ParamStore::new(), 4000).seed(0).run(())?;
/// let x = prior.get("x")?;
/// assert_eq!(x.shape(), &[4000, 3]);
/// // Var x = Var mu + 0.5^2 = 1.25; the estimate's standard error here is about 0.03.
/// let v = x.to_vec()?;
/// let mean = v.iter().sum::<f64>() / v.len() as f64;
/// let var = v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
/// assert!((var - 1.25).abs() < 0.12, "{var}");
/// # Ok(())
/// # }
/// ```
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
///
/// Exportable as CSV ([`Samples::to_csv`]) and as the JSON that ArviZ's `from_dict` reads
/// ([`Samples::to_arviz_json`]), with the writers that MCMC's draws use.
#[derive(Debug)]
pub struct Samples<R> {
    sites: Vec<(String, Tensor)>,
    /// What each site of `sites` is in the model.
    roles: Vec<Role>,
    /// Drawn from the prior ([`Predictive::prior`]) rather than a posterior.
    prior: bool,
    /// The model's return value of each draw.
    pub returns: Vec<R>,
}

/// What a sampled site is in the model, for the ArviZ groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A latent site (or `deterministic!`): the `posterior` (or `prior`) group.
    Latent,
    /// An observed site, drawn afresh: `posterior_predictive` (or `prior_predictive`).
    Observed,
    /// A `factor!`: not a random variable, not exported.
    Factor,
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

    /// The number of draws.
    pub fn num_samples(&self) -> usize {
        self.returns.len()
    }

    /// The draws as a table the shared writers read (one chain), or an error naming a site
    /// whose values cannot be read.
    fn draws(&self) -> Result<SampleDraws<'_>> {
        let sites = self
            .sites
            .iter()
            .map(|(name, t)| {
                let values = t.values().map_err(|e| e.clone().at_site(name))?;
                Ok((name.as_str(), &t.shape()[1.min(t.shape().len())..], values))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SampleDraws {
            sites,
            num_draws: self.num_samples(),
        })
    }

    /// Indices of the exported sites of `role`.
    fn with_role(&self, role: Role) -> Vec<usize> {
        (0..self.sites.len())
            .filter(|&k| self.roles[k] == role)
            .collect()
    }

    /// The draws as CSV: a header, then one row per draw with one column per scalar entry of
    /// every site, latent sites first, then observed ones (`mu`, `theta[0]`, ..., `obs[0]`, ...;
    /// the names MCMC's CSV uses). `factor!` sites are left out.
    ///
    /// ```
    /// # use pyro_core::prelude::*;
    /// # struct Gauss;
    /// # impl Model for Gauss {
    /// #     type Args<'a> = ();
    /// #     type Output = ();
    /// #     const NAME: &'static str = "gauss";
    /// #     fn call<'a>(&self, ctx: &mut Context, _: ()) {
    /// #         let mu = ctx.sample("mu", Normal::new(0.0, 1.0), None);
    /// #         ctx.sample("y", Normal::new(mu, 1.0).expand(&[2]).unwrap(), Some(Tensor::from(vec![0.5, 1.5])));
    /// #     }
    /// # }
    /// // `Gauss`: mu ~ Normal(0, 1); y ~ Normal(mu, 1), two observations.
    /// let samples = Predictive::prior(Gauss, &ParamStore::new(), 3).run(()).unwrap();
    /// let csv = samples.to_csv().unwrap();
    /// assert_eq!(csv.lines().next(), Some("mu,y[0],y[1]"));
    /// assert_eq!(csv.lines().count(), 1 + 3);
    /// ```
    pub fn to_csv(&self) -> Result<String> {
        let d = self.draws()?;
        let mut sites = self.with_role(Role::Latent);
        sites.extend(self.with_role(Role::Observed));
        Ok(export::csv(&d, 0, &sites, &[], |_| String::new()))
    }

    /// Writes [`Samples::to_csv`] to `path`, atomically.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        export::write_text(path.as_ref(), &self.to_csv()?)
    }

    /// The draws as the JSON object that ArviZ's `from_dict` reads, one chain: latent and
    /// `deterministic!` sites in `posterior`, observed sites drawn afresh in
    /// `posterior_predictive` (`prior` and `prior_predictive` for [`Predictive::prior`]), each
    /// site as nested arrays of shape `[1, draw, ...site shape]`.
    ///
    /// ```python
    /// import json, arviz as az
    /// idata = az.from_dict(**json.load(open("predictive.json")))   # ArviZ 0.x
    /// idata = az.from_dict(json.load(open("predictive.json")))     # ArviZ 1.x
    /// ```
    pub fn to_arviz_json(&self) -> Result<Value> {
        let d = self.draws()?;
        let (latent, observed) = if self.prior {
            ("prior", "prior_predictive")
        } else {
            ("posterior", "posterior_predictive")
        };
        let mut root = Map::new();
        for (group, role) in [(latent, Role::Latent), (observed, Role::Observed)] {
            let sites = self.with_role(role);
            if !sites.is_empty() {
                root.insert(
                    group.to_string(),
                    Value::Object(export::arviz_group(&d, &sites)),
                );
            }
        }
        Ok(Value::Object(root))
    }

    /// Writes [`Samples::to_arviz_json`] to `path`, atomically.
    pub fn write_arviz_json(&self, path: impl AsRef<Path>) -> Result<()> {
        export::write_json(path.as_ref(), &self.to_arviz_json()?)
    }
}

/// The sites of a [`Samples`] as the shared writers see them: `(name, site shape, values of all
/// draws)`, one chain.
struct SampleDraws<'a> {
    sites: Vec<(&'a str, &'a [usize], &'a [f64])>,
    num_draws: usize,
}

impl Draws for SampleDraws<'_> {
    fn num_chains(&self) -> usize {
        1
    }
    fn num_draws(&self) -> usize {
        self.num_draws
    }
    fn site(&self, k: usize) -> (&str, &[usize]) {
        (self.sites[k].0, self.sites[k].1)
    }
    fn values(&self, _chain: usize, draw: usize, k: usize) -> &[f64] {
        let (_, shape, values) = self.sites[k];
        let n: usize = shape.iter().product();
        &values[draw * n..(draw + 1) * n]
    }
}

/// Notes the names of the sites that the model observes, before `uncondition` (outside it) turns
/// them into drawn ones.
#[derive(Default)]
struct ObservedNames(Vec<String>);

impl Messenger for ObservedNames {
    fn process_message(&mut self, msg: &mut Message) {
        // `deterministic!` and `factor!` sites carry a value too, but are not observations.
        let observation = msg
            .dist
            .as_ref()
            .is_some_and(|d| d.name() != "Factor" && d.name() != "Deterministic");
        if msg.is_observed && observation && !self.0.iter().any(|n| *n == *msg.name) {
            self.0.push(msg.name.to_string());
        }
    }
}

/// The name of [`NoGuide`], whatever its model.
const NO_GUIDE: &str = "no guide";

/// The stand-in guide of a prior predictive ([`Predictive::prior`]): it samples nothing (the
/// latent sites are drawn from the model itself) and takes the model's arguments, so a model
/// with data arguments has a prior predictive too.
pub struct NoGuide<M>(std::marker::PhantomData<fn() -> M>);

#[diagnostic::do_not_recommend]
impl<M: Model> Model for NoGuide<M> {
    type Args<'a> = M::Args<'a>;
    type Output = ();
    const NAME: &'static str = NO_GUIDE;
    fn call<'a>(&self, _ctx: &mut Context, _args: M::Args<'a>) {}
}

/// The prior guides every model: its latent sites are drawn from the model itself.
#[diagnostic::do_not_recommend]
impl<M: Model> GuideFor<M> for NoGuide<M> {}

impl<M: Model> Predictive<M, NoGuide<M>> {
    /// Prior predictive: latent sites from the prior, parameters from `params`. The model may
    /// take any arguments; [`Predictive::run`] passes them.
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

#[diagnostic::do_not_recommend]
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
    /// Posterior predictive with `guide` and the fitted `params` (e.g. `svi.params()`). `guide`
    /// must be a guide of `model` ([`GuideFor`]).
    /// ```
    /// use pyro::prelude::*;
    ///
    /// #[model]
    /// fn model(x: f64) {
    ///     let mu = sample!("mu", Normal::new(0.0, 1.0));
    ///     sample!("x", Normal::new(mu, 1.0), obs = x);
    /// }
    ///
    /// #[guide(model = model)]
    /// fn guide(_x: f64) {
    ///     let loc = param!("loc", 0.5);
    ///     sample!("mu", Normal::new(loc, 0.1));
    /// }
    ///
    /// # fn main() -> pyro::Result<()> {
    /// // Parameters are read from the store, created from their initial values when missing
    /// // (here loc = 0.5; after training, pass `svi.params()`).
    /// let samples = Predictive::new(model, guide, &ParamStore::new(), 1000).seed(0).run(1.0)?;
    /// let mu = samples.get("mu")?.to_vec()?;
    /// let x = samples.get("x")?.to_vec()?; // drawn afresh: x ~ Normal(mu, 1)
    /// assert_eq!((mu.len(), x.len()), (1000, 1000));
    /// let m = mu.iter().sum::<f64>() / 1000.0;
    /// assert!((m - 0.5).abs() < 4.0 * 0.1 / 1000f64.sqrt());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(model: M, guide: G, params: &ParamStore, num_samples: usize) -> Self
    where
        G: GuideFor<M>,
    {
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
        let mut observed = ObservedNames::default();
        for draw in 0..self.num_samples {
            ctx.begin_run(true);
            let guide_trace = match &self.guide {
                Some(g) if is_guided::<G>() => {
                    let (_, tr) =
                        ctx.with_handler(TraceMessenger::new(), |ctx| g.call(ctx, args.clone()));
                    if let Some(e) = ctx.take_error() {
                        return Err(e.in_function(G::NAME));
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
            let names = std::mem::take(&mut observed);
            let ((r, _), tr) = ctx.with_handler(TraceMessenger::new(), |ctx| {
                ctx.with_handler(ReplayMessenger::new(guide_trace), |ctx| {
                    ctx.with_handler(UnconditionMessenger, |ctx| {
                        ctx.with_handler(names, |ctx| match substitute {
                            Some(sub) => {
                                ctx.with_handler(sub, |ctx| self.model.call(ctx, args.clone()))
                                    .0
                            }
                            None => self.model.call(ctx, args.clone()),
                        })
                    })
                    .0
                })
            });
            let (r, names) = r;
            observed = names;
            if let Some(e) = ctx.take_error() {
                return Err(e.in_function(M::NAME));
            }
            traces.push(tr.into_trace());
            returns.push(r);
        }
        let sites = stack_sites(&traces)?;
        let roles = sites
            .iter()
            .map(|(name, _)| {
                let site = traces.first().and_then(|t| t.get(name));
                if site
                    .and_then(|s| s.dist.as_ref())
                    .is_some_and(|d| d.name() == "Factor")
                {
                    Role::Factor
                } else if observed.0.iter().any(|n| n == name) {
                    Role::Observed
                } else {
                    Role::Latent
                }
            })
            .collect();
        Ok(Samples {
            sites,
            roles,
            prior: self.guide.is_none(),
            returns,
        })
    }
}

fn is_guided<G: Model>() -> bool {
    G::NAME != NO_GUIDE && G::NAME != "MCMC draws"
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
