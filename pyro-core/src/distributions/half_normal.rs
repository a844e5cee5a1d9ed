//! The half-normal distribution.

use super::normal::LN_SQRT_2PI;
use super::util::Bcast as _;
use super::util::{affine, batch_of, check_param, inside, outside, standard_normal};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// HalfNormal(scale): `|X|` with `X ~ Normal(0, scale)`; density `2 φ(x / scale) / scale` on
/// `x >= 0`. `log_prob` is `-inf` for `x < 0`.
///
/// ```
/// use pyro_core::distributions::{Distribution, HalfNormal};
/// let d = HalfNormal::new(1.0).unwrap();
/// let lp = d.log_prob(&0.0.into()).item().unwrap();
/// assert!((lp - (2f64.ln() - 0.9189385332046727)).abs() < 1e-15);
/// assert!(HalfNormal::new(-2.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct HalfNormal {
    scale: Tensor,
    batch: Shape,
}

impl HalfNormal {
    /// Errors unless `scale` is positive and finite.
    pub fn new(scale: impl Into<Tensor>) -> Result<HalfNormal> {
        let scale = scale.into();
        check_param("HalfNormal", "scale", &scale, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        let batch = batch_of("HalfNormal", &[("scale", &scale)])?;
        Ok(HalfNormal { scale, batch })
    }

    /// The scale.
    pub fn scale(&self) -> &Tensor {
        &self.scale
    }
}

impl Distribution for HalfNormal {
    fn name(&self) -> &'static str {
        "HalfNormal"
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
        let eps = standard_normal(rng, &self.batch).abs();
        Ok(affine(&Tensor::scalar(0.0), &self.scale, &eps))
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// `-inf` for `x < 0`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let bad = value.lt(&Tensor::scalar(0.0));
        let z = inside(value, &bad, 0.0) / &self.scale;
        let lp = -(z.square() * 0.5) - self.scale.ln() - LN_SQRT_2PI + std::f64::consts::LN_2;
        outside(&lp, &bad)
    }
    fn support(&self) -> Constraint {
        Constraint::Nonnegative
    }
    fn mean(&self) -> Result<Tensor> {
        Ok((&self.scale * (2.0 / std::f64::consts::PI).sqrt()).bcast(&self.batch))
    }
    fn variance(&self) -> Result<Tensor> {
        Ok((self.scale.square() * (1.0 - 2.0 / std::f64::consts::PI)).bcast(&self.batch))
    }
    fn entropy(&self) -> Result<Tensor> {
        // ½ ln(π σ² / 2) + ½
        Ok((self.scale.ln() + 0.5 * (std::f64::consts::PI / 2.0).ln() + 0.5).bcast(&self.batch))
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
