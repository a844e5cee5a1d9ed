//! The Cauchy and half-Cauchy distributions.

use super::log_density as ld;
use super::util::Bcast as _;
use super::util::{affine, batch_of, check_param, fused, uniform};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// Standard Cauchy draws `tan(π (u - ½))`.
fn standard_cauchy(rng: &mut Rng, shape: &[usize]) -> Tensor {
    uniform(rng, shape).map_const(|u| (std::f64::consts::PI * (u - 0.5)).tan())
}

/// Cauchy(loc, scale): density `1 / (π scale (1 + z²))`, `z = (x - loc) / scale`. Mean and
/// variance are undefined (they return an error). Defined on all reals; `log_prob` is finite for
/// every finite value (`ln(1 + z²)` is taken as `2 ln|z| + ln(1 + 1/z²)` in the tails).
///
/// ```
/// use pyro_core::distributions::{Cauchy, Distribution};
/// let d = Cauchy::new(0.0, 1.0).unwrap();
/// let lp = d.log_prob(&1.0.into()).item().unwrap();
/// assert!((lp + (2.0 * std::f64::consts::PI).ln()).abs() < 1e-14);
/// assert!(Cauchy::new(0.0, 0.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Cauchy {
    loc: Tensor,
    scale: Tensor,
    batch: Shape,
}

impl Cauchy {
    /// Errors unless `loc` is finite and `scale` positive and finite.
    pub fn new(loc: impl Into<Tensor>, scale: impl Into<Tensor>) -> Result<Cauchy> {
        let (loc, scale) = (loc.into(), scale.into());
        check_param("Cauchy", "loc", &loc, "finite", f64::is_finite)?;
        check_param("Cauchy", "scale", &scale, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        let batch = batch_of("Cauchy", &[("loc", &loc), ("scale", &scale)])?;
        Ok(Cauchy { loc, scale, batch })
    }
    /// The location (median).
    pub fn loc(&self) -> &Tensor {
        &self.loc
    }
    /// The scale (half the interquartile range).
    pub fn scale(&self) -> &Tensor {
        &self.scale
    }
}

fn no_moment(name: &str, what: &str) -> Error {
    Error::Invalid(format!("{name} has no finite {what}"))
}

impl Distribution for Cauchy {
    fn name(&self) -> &'static str {
        "Cauchy"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        self.rsample(rng)
            .map(|t| t.detach())
            .unwrap_or_else(Tensor::poisoned)
    }
    fn rsample(&self, rng: &mut Rng) -> Result<Tensor> {
        Ok(affine(
            &self.loc,
            &self.scale,
            &standard_cauchy(rng, &self.batch),
        ))
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// Defined on all reals.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        fused(
            [value, &self.loc, &self.scale],
            |[x, l, s]| ld::cauchy(x, l, s),
            |[x, l, s], _| ld::cauchy_grad(x, l, s),
        )
    }
    fn support(&self) -> Constraint {
        Constraint::Real
    }
    fn mean(&self) -> Result<Tensor> {
        Err(no_moment("Cauchy", "mean"))
    }
    fn variance(&self) -> Result<Tensor> {
        Err(no_moment("Cauchy", "variance"))
    }
    fn entropy(&self) -> Result<Tensor> {
        Ok((self.scale.ln() + (4.0 * std::f64::consts::PI).ln()).bcast(&self.batch))
    }
    fn box_clone(&self) -> Box<dyn Distribution> {
        Box::new(self.clone())
    }
    fn clone_pooled(&self, pool: &mut crate::distributions::BoxPool) -> Box<dyn Distribution> {
        pool.boxed_dist(self.clone())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// HalfCauchy(scale): `|X|` with `X ~ Cauchy(0, scale)`; density `2 / (π scale (1 + (x/scale)²))`
/// on `x >= 0`. `log_prob` is `-inf` for `x < 0`.
///
/// ```
/// use pyro_core::distributions::{Distribution, HalfCauchy};
/// let d = HalfCauchy::new(1.0).unwrap();
/// let lp = d.log_prob(&0.0.into()).item().unwrap();
/// assert!((lp - (2.0 / std::f64::consts::PI).ln()).abs() < 1e-14);
/// assert!(HalfCauchy::new(-1.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct HalfCauchy {
    scale: Tensor,
    batch: Shape,
}

impl HalfCauchy {
    /// Errors unless `scale` is positive and finite.
    pub fn new(scale: impl Into<Tensor>) -> Result<HalfCauchy> {
        let scale = scale.into();
        check_param("HalfCauchy", "scale", &scale, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        let batch = batch_of("HalfCauchy", &[("scale", &scale)])?;
        Ok(HalfCauchy { scale, batch })
    }
    /// The scale.
    pub fn scale(&self) -> &Tensor {
        &self.scale
    }
}

impl Distribution for HalfCauchy {
    fn name(&self) -> &'static str {
        "HalfCauchy"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        self.rsample(rng)
            .map(|t| t.detach())
            .unwrap_or_else(Tensor::poisoned)
    }
    fn rsample(&self, rng: &mut Rng) -> Result<Tensor> {
        let e = standard_cauchy(rng, &self.batch).abs();
        Ok(affine(&Tensor::scalar(0.0), &self.scale, &e))
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// `-inf` for `x < 0`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        fused(
            [value, &self.scale],
            |[x, s]| ld::half_cauchy(x, s),
            |[x, s], _| ld::half_cauchy_grad(x, s),
        )
    }
    fn support(&self) -> Constraint {
        Constraint::Nonnegative
    }
    fn mean(&self) -> Result<Tensor> {
        Err(no_moment("HalfCauchy", "mean"))
    }
    fn variance(&self) -> Result<Tensor> {
        Err(no_moment("HalfCauchy", "variance"))
    }
    fn entropy(&self) -> Result<Tensor> {
        Ok((self.scale.ln() + (2.0 * std::f64::consts::PI).ln()).bcast(&self.batch))
    }
    fn box_clone(&self) -> Box<dyn Distribution> {
        Box::new(self.clone())
    }
    fn clone_pooled(&self, pool: &mut crate::distributions::BoxPool) -> Box<dyn Distribution> {
        pool.boxed_dist(self.clone())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
