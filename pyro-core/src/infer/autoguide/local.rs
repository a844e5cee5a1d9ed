//! Guides with parameters per site: `AutoNormal` and `AutoDelta`.

use std::sync::OnceLock;

use super::{
    discover, in_plates, param_values, select_subsample, site_quantiles, site_value, sites_or_err,
    InitLoc, LatentSite,
};
use crate::constraints::Constraint;
use crate::distributions::{Delta, DistributionExt, Normal};
use crate::error::Result;
use crate::handlers::Context;
use crate::infer::Model;
use crate::params::ParamStore;
use crate::tensor::Tensor;
use crate::trace::InferConfig;
use crate::transforms::{Bijector, Transform};

/// Finds (once) and returns the latent sites of `model`, failing the run on error.
pub(super) fn ensure_sites<'s, M: Model>(
    cell: &'s OnceLock<Vec<LatentSite>>,
    ctx: &mut Context,
    model: &M,
    args: M::Args<'_>,
    init: &InitLoc,
    guide: &str,
) -> Option<&'s [LatentSite]> {
    if cell.get().is_none() {
        match discover(ctx, model, args, init, guide) {
            Ok(v) => {
                let _ = cell.set(v);
            }
            Err(e) => {
                ctx.fail(e);
                return None;
            }
        }
    }
    cell.get().map(|v| v.as_slice())
}

/// A mean-field Normal guide in unconstrained space (Pyro's `AutoNormal`).
///
/// Each latent site `s` of support `S` gets parameters `AutoNormal.locs.<s>` and
/// `AutoNormal.scales.<s>` (positive) of the site's unconstrained shape, initialised by
/// [`InitLoc`] (default: prior median) and `init_scale` (default 0.1). A guide run draws
/// `x ~ Normal(loc, scale)` as the auxiliary site `<s>_unconstrained` and emits `s` as a point mass
/// at `biject_to(S)(x)` with log-density `-ln |det J|`: the guide's total log-density is then that
/// of the pushed-forward Normal, as Pyro's `AutoNormal` computes it. A site with real support
/// (identity bijection) is sampled directly as `Normal(loc, scale)`, the same distribution with
/// one site less, which lets [`TraceMeanFieldElbo`](crate::infer::TraceMeanFieldElbo) use the
/// analytic KL divergence there.
///
/// The guide opens the plates of each site, so that subsampled plates subsample the parameters
/// too (local latent variables) and the guide's log-density is scaled as the model's.
#[derive(Debug)]
pub struct AutoNormal<M> {
    model: M,
    init_loc: InitLoc,
    init_scale: f64,
    sites: OnceLock<Vec<LatentSite>>,
}

impl<M: Clone> Clone for AutoNormal<M> {
    fn clone(&self) -> Self {
        AutoNormal {
            model: self.model.clone(),
            init_loc: self.init_loc.clone(),
            init_scale: self.init_scale,
            sites: self.sites.clone(),
        }
    }
}

impl<M: Model> AutoNormal<M> {
    /// An `AutoNormal` guide for `model` (init: prior median, scale 0.1).
    pub fn new(model: M) -> Self {
        AutoNormal {
            model,
            init_loc: InitLoc::Median,
            init_scale: 0.1,
            sites: OnceLock::new(),
        }
    }

    /// Sets how locations are initialised.
    pub fn init_loc(mut self, init: InitLoc) -> Self {
        self.init_loc = init;
        self
    }

    /// Sets the initial scale (positive).
    pub fn init_scale(mut self, scale: f64) -> Self {
        self.init_scale = scale;
        self
    }

    /// The latent sites found on the first run (an error before it).
    pub fn sites(&self) -> Result<&[LatentSite]> {
        sites_or_err(&self.sites, "AutoNormal")
    }

    fn names(site: &LatentSite) -> (String, String) {
        (
            format!("AutoNormal.locs.{}", site.name),
            format!("AutoNormal.scales.{}", site.name),
        )
    }

    /// The posterior median of every latent site, in constrained space: `biject_to(S)(loc)`.
    pub fn median(&self, params: &ParamStore) -> Result<Vec<(String, Tensor)>> {
        self.sites()?
            .iter()
            .map(|s| {
                let loc = param_values(params, &Self::names(s).0)?;
                Ok((s.name.to_string(), site_value(s, &loc)?))
            })
            .collect()
    }

    /// Marginal quantiles of every latent site: for each site, one tensor per probability in
    /// `probs`, `biject_to(S)(loc + scale Φ⁻¹(p))` (exact for elementwise bijections).
    pub fn quantiles(
        &self,
        params: &ParamStore,
        probs: &[f64],
    ) -> Result<Vec<(String, Vec<Tensor>)>> {
        self.sites()?
            .iter()
            .map(|s| {
                let (ln, sn) = Self::names(s);
                let loc = param_values(params, &ln)?;
                let sd = param_values(params, &sn)?;
                Ok((s.name.to_string(), site_quantiles(s, &loc, &sd, probs)?))
            })
            .collect()
    }
}

#[diagnostic::do_not_recommend]
impl<M: Model> Model for AutoNormal<M> {
    type Args<'a> = M::Args<'a>;
    type Output = ();
    const NAME: &'static str = "AutoNormal";

    fn call<'a>(&self, ctx: &mut Context, args: Self::Args<'a>) {
        let Some(sites) = ensure_sites(
            &self.sites,
            ctx,
            &self.model,
            args,
            &self.init_loc,
            "AutoNormal",
        ) else {
            return;
        };
        let init_scale = self.init_scale;
        for site in sites {
            let (ln, sn) = Self::names(site);
            let loc = ctx.param(ln, || site.init_tensor(), Constraint::Real);
            let scale = ctx.param(
                sn,
                || Tensor::full(&site.unconstrained_shape, init_scale),
                Constraint::Positive,
            );
            let mut acc = Vec::new();
            in_plates(ctx, &site.plates, &mut acc, &mut |ctx, subs| {
                let ue = site.unconstrained_event_dim();
                let loc = select_subsample(&loc, subs, ue);
                let scale = select_subsample(&scale, subs, ue);
                let normal = match Normal::new(loc, scale).to_event(ue) {
                    Ok(d) => d,
                    Err(e) => {
                        ctx.fail(e.at_site(&site.name));
                        return;
                    }
                };
                if matches!(site.bijector, Bijector::Identity(_)) {
                    ctx.sample(site.name.clone(), normal, None);
                } else {
                    let x = ctx.sample_with(
                        format!("{}_unconstrained", site.name),
                        normal,
                        None,
                        InferConfig {
                            is_auxiliary: true,
                            ..InferConfig::default()
                        },
                    );
                    site.emit_delta(ctx, &x);
                }
            });
        }
    }
}

/// A point-mass guide: maximum a posteriori estimation (Pyro's `AutoDelta`).
///
/// Each latent site `s` of support `S` gets one parameter `AutoDelta.<s>`, constrained to `S`,
/// and is emitted as `Delta(value)` with log-density 0, so that the ELBO is `ln p(x, θ)`: its
/// maximiser is the MAP estimate *in the constrained parameterisation* (no Jacobian, as in Pyro).
/// ```
/// use pyro::prelude::*;
///
/// // mu ~ Normal(0, 10), x_i ~ Normal(mu, 1): the MAP is sum(x) / (n + 1/100).
/// #[model]
/// fn model(x: &[f64]) {
///     let mu = sample!("mu", Normal::new(0.0, 10.0));
///     plate!("data", x.len(), |_| {
///         sample!("x", Normal::new(mu.clone(), 1.0), obs = x.to_vec());
///     });
/// }
///
/// # fn main() -> pyro::Result<()> {
/// let x = [0.9, 1.4, 1.1, 0.6];
/// let adam = Adam::new(AdamConfig { lr: 0.05, ..Default::default() })
///     .with_schedule(LrSchedule::Exponential { gamma: 0.995 });
/// let mut svi = Svi::new(model, AutoDelta::new(model), adam, TraceElbo::default());
/// svi.run(1000, &x)?;
/// // No sampling noise (a point mass), so the optimiser converges.
/// let mu = svi.params().scalar("AutoDelta.mu")?;
/// assert!((mu - 4.0 / 4.01).abs() < 1e-3, "{mu}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct AutoDelta<M> {
    model: M,
    init_loc: InitLoc,
    sites: OnceLock<Vec<LatentSite>>,
}

impl<M: Clone> Clone for AutoDelta<M> {
    fn clone(&self) -> Self {
        AutoDelta {
            model: self.model.clone(),
            init_loc: self.init_loc.clone(),
            sites: self.sites.clone(),
        }
    }
}

impl<M: Model> AutoDelta<M> {
    /// An `AutoDelta` guide for `model` (init: prior median).
    pub fn new(model: M) -> Self {
        AutoDelta {
            model,
            init_loc: InitLoc::Median,
            sites: OnceLock::new(),
        }
    }

    /// Sets how values are initialised.
    pub fn init_loc(mut self, init: InitLoc) -> Self {
        self.init_loc = init;
        self
    }

    /// The latent sites found on the first run (an error before it).
    pub fn sites(&self) -> Result<&[LatentSite]> {
        sites_or_err(&self.sites, "AutoDelta")
    }

    fn name(site: &LatentSite) -> String {
        format!("AutoDelta.{}", site.name)
    }

    /// The point estimate of every latent site.
    pub fn median(&self, params: &ParamStore) -> Result<Vec<(String, Tensor)>> {
        self.sites()?
            .iter()
            .map(|s| Ok((s.name.to_string(), params.get(&Self::name(s))?)))
            .collect()
    }

    /// The point estimate once per probability (a point mass has every quantile at its point).
    pub fn quantiles(
        &self,
        params: &ParamStore,
        probs: &[f64],
    ) -> Result<Vec<(String, Vec<Tensor>)>> {
        Ok(self
            .median(params)?
            .into_iter()
            .map(|(n, v)| (n, vec![v; probs.len()]))
            .collect())
    }
}

#[diagnostic::do_not_recommend]
impl<M: Model> Model for AutoDelta<M> {
    type Args<'a> = M::Args<'a>;
    type Output = ();
    const NAME: &'static str = "AutoDelta";

    fn call<'a>(&self, ctx: &mut Context, args: Self::Args<'a>) {
        let Some(sites) = ensure_sites(
            &self.sites,
            ctx,
            &self.model,
            args,
            &self.init_loc,
            "AutoDelta",
        ) else {
            return;
        };
        for site in sites {
            let value = ctx.param(
                Self::name(site),
                || site.bijector.forward(&site.init_tensor()),
                site.support.clone(),
            );
            let mut acc = Vec::new();
            in_plates(ctx, &site.plates, &mut acc, &mut |ctx, subs| {
                let v = select_subsample(&value, subs, site.event_dim);
                ctx.sample(
                    site.name.clone(),
                    Delta::with_event_dim(v, 0.0, site.event_dim),
                    None,
                );
            });
        }
    }
}
