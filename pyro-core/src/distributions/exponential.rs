//! The exponential distribution.

use super::util::Bcast as _;
use super::util::{batch_of, check_param, inside, outside, uniform};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// Exponential(rate): density `rate e^(-rate x)` on `x >= 0`. `log_prob` is `-inf` for `x < 0`.
///
/// ```
/// use pyro_core::distributions::{Distribution, Exponential};
/// let d = Exponential::new(2.0).unwrap();
/// assert!((d.log_prob(&1.0.into()).item().unwrap() - (2f64.ln() - 2.0)).abs() < 1e-15);
/// assert_eq!(d.log_prob(&(-1.0).into()).item().unwrap(), f64::NEG_INFINITY);
/// assert!(Exponential::new(0.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Exponential {
    rate: Tensor,
    batch: Shape,
}

impl Exponential {
    /// Errors unless `rate` is positive and finite.
    pub fn new(rate: impl Into<Tensor>) -> Result<Exponential> {
        let rate = rate.into();
        check_param("Exponential", "rate", &rate, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        let batch = batch_of("Exponential", &[("rate", &rate)])?;
        Ok(Exponential { rate, batch })
    }
    /// The rate.
    pub fn rate(&self) -> &Tensor {
        &self.rate
    }
}

impl Distribution for Exponential {
    fn name(&self) -> &'static str {
        "Exponential"
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
        let e = uniform(rng, &self.batch).map_const(|u| -u.ln());
        // e / rate, kept finite for a tiny rate.
        Ok(super::util::fused(
            [&e, &self.rate],
            |[e, r]| (e / r).min(f64::MAX),
            |[e, r], _| [0.0, -e / (r * r)],
        ))
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// `-inf` for `x < 0`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let bad = value.lt(&Tensor::scalar(0.0));
        let x = inside(value, &bad, 0.0);
        outside(&(self.rate.ln() - &self.rate * x), &bad)
    }
    fn support(&self) -> Constraint {
        Constraint::Nonnegative
    }
    fn mean(&self) -> Result<Tensor> {
        Ok(self.rate.recip().bcast(&self.batch))
    }
    fn variance(&self) -> Result<Tensor> {
        Ok(self.rate.square().recip().bcast(&self.batch))
    }
    fn entropy(&self) -> Result<Tensor> {
        Ok((1.0 - self.rate.ln()).bcast(&self.batch))
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
