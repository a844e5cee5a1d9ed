//! Automatic guides: variational families built from a model's own latent sites, with no
//! hand-written guide (Pyro's `pyro.infer.autoguide`).
//!
//! An autoguide wraps the model it approximates and is itself a [`Model`] with the same
//! arguments, so it goes wherever a guide goes:
//!
//! ```
//! use pyro_core::prelude::*;
//! use pyro_core::infer::AutoNormal;
//!
//! struct Coin;
//! impl Model for Coin {
//!     type Args<'a> = &'a [f64];
//!     type Output = ();
//!     const NAME: &'static str = "coin";
//!     fn call<'a>(&self, ctx: &mut Context, data: &'a [f64]) {
//!         let f = ctx.sample("f", Beta::new(10.0, 10.0), None);
//!         for (i, &x) in data.iter().enumerate() {
//!             ctx.sample(format!("x_{i}"), Bernoulli::new(&f), Some(x.into()));
//!         }
//!     }
//! }
//! let data = [1.0, 1.0, 0.0];
//! let mut svi = Svi::new(Coin, AutoNormal::new(Coin), Adam::new(AdamConfig::default()), TraceElbo::default());
//! for _ in 0..10 {
//!     svi.step(&data).unwrap();
//! }
//! let median = svi.guide().median(svi.params()).unwrap();
//! assert_eq!(median[0].0, "f");
//! ```
//!
//! The first time a guide runs it traces its model once with no handlers (a *prototype* run,
//! [`Context::prototype_trace`]) and keeps the list of latent sites: name, support, shape, event
//! dimensions and plates. Later runs reuse that list, so a model whose latent sites change from
//! run to run needs a hand-written guide. Discrete latent sites are refused unless enumerated
//! (`sample!(.., enumerate)`), which the guide then leaves to the ELBO.
//!
//! Every guide works in unconstrained space: a site with support `S` is the image of an
//! unconstrained variable under [`biject_to`]`(S)`, and the log-density of the constrained value
//! carries the change-of-variables term `-ln |det J|`.
//!
//! | guide | family | sites in the guide trace |
//! |---|---|---|
//! | [`AutoDelta`] | point mass (MAP) | each site as `Delta` |
//! | [`AutoNormal`] | independent Normal per unconstrained entry | `<site>_unconstrained` (auxiliary) + `Delta`; a real site directly as `Normal` |
//! | [`AutoDiagonalNormal`] | one flat vector, diagonal Normal | `_AutoDiagonalNormal_latent` (auxiliary) + `Delta` per site |
//! | [`AutoMultivariateNormal`] | full-covariance Normal (`scale_tril`) | `_AutoMultivariateNormal_latent` + `Delta` per site |
//! | [`AutoLowRankMultivariateNormal`] | `W Wᵀ + diag(d)` covariance | `_AutoLowRankMultivariateNormal_latent` + `Delta` per site |

mod continuous;
mod local;

use std::rc::Rc;

pub use continuous::{AutoDiagonalNormal, AutoLowRankMultivariateNormal, AutoMultivariateNormal};
pub use local::{AutoDelta, AutoNormal};

use super::{GuideFor, Model};
use crate::constraints::Constraint;
use crate::distributions::Distribution;
use crate::error::{Error, Result};
use crate::handlers::{Context, PlateOpts};
use crate::params::ParamStore;
use crate::tensor::Tensor;
use crate::trace::{PlateFrame, SiteName};
use crate::transforms::{biject_to, unconstrained_shape, Bijector, Transform};

// Each autoguide guides the model it is built from, whatever that model is, and so does a
// reference to it (`Predictive::new(model, svi.guide(), ..)`).
impl<M: Model> GuideFor<M> for AutoNormal<M> {}
impl<M: Model> GuideFor<M> for AutoDelta<M> {}
impl<M: Model> GuideFor<M> for AutoDiagonalNormal<M> {}
impl<M: Model> GuideFor<M> for AutoMultivariateNormal<M> {}
impl<M: Model> GuideFor<M> for AutoLowRankMultivariateNormal<M> {}
impl<M: Model> GuideFor<M> for &AutoNormal<M> {}
impl<M: Model> GuideFor<M> for &AutoDelta<M> {}
impl<M: Model> GuideFor<M> for &AutoDiagonalNormal<M> {}
impl<M: Model> GuideFor<M> for &AutoMultivariateNormal<M> {}
impl<M: Model> GuideFor<M> for &AutoLowRankMultivariateNormal<M> {}

pub use super::init::InitLoc;

/// A latent site of the model, as an autoguide sees it.
#[derive(Clone, Debug)]
pub struct LatentSite {
    /// Site name.
    pub name: SiteName,
    /// Support of the site's distribution.
    pub support: Constraint,
    /// The bijection from unconstrained space onto the support.
    pub bijector: Bijector,
    /// Full shape of the constrained value (full plate sizes, even where the model subsamples).
    pub shape: Vec<usize>,
    /// Full shape of the unconstrained value.
    pub unconstrained_shape: Vec<usize>,
    /// Number of event dimensions of the site's distribution.
    pub event_dim: usize,
    /// The vectorised plates the site sits in, outermost first.
    pub plates: Vec<PlateFrame>,
    /// Initial unconstrained value (row-major, of `unconstrained_shape`).
    pub init: Vec<f64>,
}

impl LatentSite {
    /// Number of unconstrained entries.
    pub fn numel(&self) -> usize {
        self.unconstrained_shape.iter().product()
    }

    fn init_tensor(&self) -> Tensor {
        Tensor::new(self.init.clone(), &self.unconstrained_shape).unwrap_or_else(Tensor::poisoned)
    }

    /// Number of event dimensions of the unconstrained value: the site's, less the dimension
    /// that the bijection removes (`corr_cholesky`: an `n x n` factor from a vector).
    pub fn unconstrained_event_dim(&self) -> usize {
        (self.event_dim + self.unconstrained_shape.len()).saturating_sub(self.shape.len())
    }

    /// Whether some plate of the site is subsampled.
    pub fn is_subsampled(&self) -> bool {
        self.plates.iter().any(|p| p.subsample_size < p.size)
    }

    /// The constrained value of unconstrained `x` and its log-density correction
    /// `-ln |det J|`, summed over the event (shape: the batch shape of the site).
    fn forward_with_log_density(&self, x: &Tensor) -> (Tensor, Option<Tensor>) {
        let y = self.bijector.forward(x);
        if matches!(self.bijector, Bijector::Identity(_)) {
            return (y, None);
        }
        let mut ladj = self.bijector.log_abs_det_jacobian(x, &y);
        for _ in self.bijector.event_dim()..self.event_dim {
            ladj = ladj.sum_dim(-1, false);
        }
        (y, Some(ladj.neg()))
    }

    /// Emits the site as a point mass at the image of unconstrained `x` with the Jacobian
    /// correction as its log-density.
    fn emit_delta(&self, ctx: &mut Context, x: &Tensor) -> Tensor {
        let (y, log_density) = self.forward_with_log_density(x);
        let d = match log_density {
            Some(ld) => crate::distributions::Delta::with_event_dim(y, ld, self.event_dim),
            None => crate::distributions::Delta::with_event_dim(y, 0.0, self.event_dim),
        };
        ctx.sample(self.name.clone(), d, None)
    }
}

/// The latent sites of a model, found by a prototype run in `ctx`.
pub(crate) fn discover<M: Model>(
    ctx: &mut Context,
    model: &M,
    args: M::Args<'_>,
    init: &InitLoc,
    guide: &str,
) -> Result<Vec<LatentSite>> {
    discover_latent(
        ctx,
        model,
        args,
        init,
        guide,
        "cannot guide",
        "mark it `enumerate` and use TraceEnumElbo, or write a guide",
    )
}

/// The latent sites of a model, found by a prototype run in `ctx`, for the inference algorithm
/// `who`; a discrete latent site that is not enumerated is an error that says `who` `cannot` it,
/// with `advice`.
pub(crate) fn discover_latent<M: Model>(
    ctx: &mut Context,
    model: &M,
    args: M::Args<'_>,
    init: &InitLoc,
    who: &str,
    cannot: &str,
    advice: &str,
) -> Result<Vec<LatentSite>> {
    let guide = who;
    let (_, trace, err) = ctx.prototype_trace(|ctx| {
        model.call(ctx, args);
    });
    if let Some(e) = err {
        return Err(e);
    }
    let mut out = Vec::new();
    for site in trace.sample_sites() {
        if !site.is_latent() || site.infer.enumerate || site.infer.is_auxiliary {
            continue;
        }
        let Some(dist) = site.dist.as_ref() else {
            continue;
        };
        let support = dist.support();
        if support.is_discrete() {
            return Err(Error::Invalid(format!(
                "{who} {cannot} the discrete latent site `{}` of the model `{}`: {advice}",
                site.name,
                M::NAME
            )));
        }
        let bijector = biject_to(&support).map_err(|e| e.at_site(&site.name))?;
        let value = site.value.detach();
        let event_dim = dist.event_shape().len();
        let plates: Vec<PlateFrame> = site
            .plates
            .iter()
            .filter(|p| p.dim.is_some())
            .cloned()
            .collect();
        let nd = value.ndim();
        let mut shape = value.shape().to_vec();
        // Subsampled plates: the full size along the plate's dimension.
        let mut sub_dims = Vec::new();
        for p in &plates {
            let d = p.dim.unwrap_or(-1);
            let pos = nd as isize - event_dim as isize + d;
            if pos < 0 {
                return Err(Error::shape(
                    guide,
                    format!(
                        "site `{}` of shape {:?} has no dimension {d} for plate `{}`",
                        site.name,
                        value.shape(),
                        p.name
                    ),
                ));
            }
            if p.subsample_size < p.size {
                shape[pos as usize] = p.size;
                sub_dims.push(pos as usize);
            }
        }
        let ushape = unconstrained_shape(&support, &shape)?.to_vec();
        let mut x =
            init.unconstrained(ctx, &site.name, dist.as_ref(), &value, &support, &bijector)?;
        for &pos in &sub_dims {
            let mut full = x.shape().to_vec();
            full[pos] = shape[pos];
            x = x.narrow(pos as isize, 0, 1).broadcast_to(&full);
        }
        let mut init_v = x.detach().to_vec().map_err(|e| e.at_site(&site.name))?;
        if init_v.iter().any(|v| !v.is_finite()) || init_v.len() != ushape.iter().product::<usize>()
        {
            init_v = vec![0.0; ushape.iter().product()];
        }
        out.push(LatentSite {
            name: site.name.clone(),
            support,
            bijector,
            shape,
            unconstrained_shape: ushape,
            event_dim,
            plates,
            init: init_v,
        });
    }
    Ok(out)
}

/// The subsample indices of each subsampled plate: (batch dimension, indices).
pub(crate) type Subsamples = [(isize, Rc<[usize]>)];

/// Runs `f` inside the vectorised plates `plates` (outermost first), as the model does, so that
/// guide sites get the same subsample and the same log-density scale. `f` receives, for each
/// subsampled plate, its batch dimension and the indices of this step.
pub(crate) fn in_plates(
    ctx: &mut Context,
    plates: &[PlateFrame],
    acc: &mut Vec<(isize, Rc<[usize]>)>,
    f: &mut dyn FnMut(&mut Context, &Subsamples),
) {
    match plates.split_first() {
        None => f(ctx, acc),
        Some((p, rest)) => {
            let sub = p.subsample_size < p.size;
            let opts = PlateOpts {
                subsample_size: sub.then_some(p.subsample_size),
                dim: p.dim,
            };
            ctx.plate(p.name.clone(), p.size, opts, |ctx, idx| {
                if sub {
                    acc.push((p.dim.unwrap_or(-1), Rc::from(idx)));
                }
                in_plates(ctx, rest, acc, f);
                if sub {
                    acc.pop();
                }
            });
        }
    }
}

/// Selects the subsample of a full-size per-site tensor along each subsampled plate dimension
/// (`event_dim` rightmost dimensions are the event).
pub(crate) fn select_subsample(
    t: &Tensor,
    subs: &[(isize, Rc<[usize]>)],
    event_dim: usize,
) -> Tensor {
    let mut t = t.clone();
    for (d, idx) in subs {
        t = t.index_select(d - event_dim as isize, idx);
    }
    t
}

/// The sites found by the guide's first run, or an error if it has not run yet.
pub(crate) fn sites_or_err<'s>(
    sites: &'s std::sync::OnceLock<Vec<LatentSite>>,
    guide: &str,
) -> Result<&'s [LatentSite]> {
    sites.get().map(|v| v.as_slice()).ok_or_else(|| {
        Error::Invalid(format!(
            "{guide} has not run yet: its latent sites are found on its first run (an SVI step, \
             or a Predictive run)"
        ))
    })
}

/// Reads the constrained value of a parameter as an f64 vector.
pub(crate) fn param_values(params: &ParamStore, name: &str) -> Result<Vec<f64>> {
    params.get(name)?.to_vec()
}

/// The standard normal quantile function `Φ⁻¹(p)` (Acklam's rational approximation refined by
/// one Halley step on `erf`: about 1e-15 relative accuracy). `p` must lie in `(0, 1)`.
pub fn normal_icdf(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.383_577_518_672_69e2,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e+00,
        3.754408661907416e+00,
    ];
    let pl = 0.02425;
    let x = if p < pl {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - pl {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley refinement step.
    let e = 0.5 * erfc_(-x / std::f64::consts::SQRT_2) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

fn erfc_(x: f64) -> f64 {
    1.0 - crate::tensor::erf(x)
}

/// Transforms per-site unconstrained quantiles (`loc + sd * z`) to constrained ones. Exact for
/// the elementwise bijections (real, positive, intervals); for simplex and lower-Cholesky sites
/// the result is the image of the unconstrained quantile vector, not a marginal quantile.
pub(crate) fn site_quantiles(
    site: &LatentSite,
    loc: &[f64],
    sd: &[f64],
    probs: &[f64],
) -> Result<Vec<Tensor>> {
    probs
        .iter()
        .map(|&p| {
            let z = normal_icdf(p);
            let v: Vec<f64> = loc.iter().zip(sd).map(|(m, s)| m + s * z).collect();
            let x = Tensor::new(v, &site.unconstrained_shape)?;
            site.bijector.forward(&x).check()
        })
        .collect()
}

/// The constrained value of one site from its unconstrained entries.
pub(crate) fn site_value(site: &LatentSite, x: &[f64]) -> Result<Tensor> {
    let x = Tensor::new(x.to_vec(), &site.unconstrained_shape)?;
    site.bijector.forward(&x).check()
}
