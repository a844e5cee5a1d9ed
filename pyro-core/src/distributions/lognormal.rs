//! The log-normal distribution.

use super::normal::LN_SQRT_2PI;
use super::util::Bcast as _;
use super::util::{batch_of, check_param, exp_affine, inside, outside, standard_normal};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// LogNormal(loc, scale): `exp(X)` with `X ~ Normal(loc, scale)`.
///
/// `log_prob` is `-inf` for `x <= 0`.
///
/// ```
/// use pyro_core::distributions::{Distribution, LogNormal};
/// let d = LogNormal::new(0.0, 1.0).unwrap();
/// let lp = d.log_prob(&1.0.into()).item().unwrap();
/// assert!((lp + 0.9189385332046727).abs() < 1e-15);
/// assert!(LogNormal::new(0.0, f64::NAN).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct LogNormal {
    loc: Tensor,
    scale: Tensor,
    batch: Shape,
}

impl LogNormal {
    /// Errors unless `loc` is finite and `scale` positive and finite.
    pub fn new(loc: impl Into<Tensor>, scale: impl Into<Tensor>) -> Result<LogNormal> {
        let (loc, scale) = (loc.into(), scale.into());
        check_param("LogNormal", "loc", &loc, "finite", f64::is_finite)?;
        check_param("LogNormal", "scale", &scale, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        let batch = batch_of("LogNormal", &[("loc", &loc), ("scale", &scale)])?;
        Ok(LogNormal { loc, scale, batch })
    }

    /// The location of the underlying normal.
    pub fn loc(&self) -> &Tensor {
        &self.loc
    }

    /// The scale of the underlying normal.
    pub fn scale(&self) -> &Tensor {
        &self.scale
    }
}

impl Distribution for LogNormal {
    fn name(&self) -> &'static str {
        "LogNormal"
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
        let eps = standard_normal(rng, &self.batch);
        Ok(exp_affine(&self.loc, &self.scale, &eps))
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// `-inf` for `x <= 0`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let bad = value.le(&Tensor::scalar(0.0));
        let lx = inside(value, &bad, 1.0).ln();
        let z = (&lx - &self.loc) / &self.scale;
        let lp = -(z.square() * 0.5) - self.scale.ln() - LN_SQRT_2PI - lx;
        outside(&lp, &bad)
    }
    fn support(&self) -> Constraint {
        Constraint::Positive
    }
    fn mean(&self) -> Result<Tensor> {
        Ok((&self.loc + self.scale.square() * 0.5)
            .exp()
            .bcast(&self.batch))
    }
    fn variance(&self) -> Result<Tensor> {
        let s2 = self.scale.square();
        Ok((s2.exp_m1() * (&self.loc * 2.0 + s2).exp()).bcast(&self.batch))
    }
    fn entropy(&self) -> Result<Tensor> {
        Ok((&self.loc + self.scale.ln() + 0.5 + LN_SQRT_2PI).bcast(&self.batch))
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
