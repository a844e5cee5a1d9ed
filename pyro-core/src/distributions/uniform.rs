//! The continuous uniform distribution.

use super::log_density as ld;
use super::util::Bcast as _;
use super::util::{batch_of, check_elementwise, check_param, fused, uniform};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// Uniform(low, high): density `1 / (high - low)` on `[low, high)`.
///
/// `log_prob` is `-inf` outside `[low, high)`. `rsample` is differentiable in both bounds.
/// The support constraint is `Interval(min low, max high)` over the batch.
///
/// ```
/// use pyro_core::distributions::{Distribution, Uniform};
/// let d = Uniform::new(0.0, 4.0).unwrap();
/// assert!((d.log_prob(&1.0.into()).item().unwrap() + 4f64.ln()).abs() < 1e-15);
/// assert_eq!(d.log_prob(&5.0.into()).item().unwrap(), f64::NEG_INFINITY);
/// assert!(Uniform::new(1.0, 1.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Uniform {
    low: Tensor,
    high: Tensor,
    batch: Shape,
}

impl Uniform {
    /// Errors unless `low < high` everywhere and both are finite.
    pub fn new(low: impl Into<Tensor>, high: impl Into<Tensor>) -> Result<Uniform> {
        let (low, high) = (low.into(), high.into());
        check_param("Uniform", "low", &low, "finite", f64::is_finite)?;
        check_param("Uniform", "high", &high, "finite", f64::is_finite)?;
        let batch = batch_of("Uniform", &[("low", &low), ("high", &high)])?;
        let gap = (&high - &low).detach();
        check_param(
            "Uniform",
            "high",
            &gap,
            "greater than low (high - low > 0)",
            |x| x > 0.0,
        )
        .map_err(|e| match e {
            Error::InvalidParameter { dist, param, .. } => Error::InvalidParameter {
                dist,
                param,
                reason: "must be greater than low everywhere".into(),
            },
            e => e,
        })?;
        Ok(Uniform { low, high, batch })
    }
    /// The lower bound.
    pub fn low(&self) -> &Tensor {
        &self.low
    }
    /// The upper bound.
    pub fn high(&self) -> &Tensor {
        &self.high
    }
}

impl Distribution for Uniform {
    fn name(&self) -> &'static str {
        "Uniform"
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
        let u = uniform(rng, &self.batch);
        // low + (high - low) u, with the width taken without overflow and the draw kept
        // inside [low, high).
        Ok(fused(
            [&self.low, &self.high, &u],
            |[lo, hi, u]| {
                let w = hi - lo;
                let x = if w.is_finite() {
                    w.mul_add(u, lo)
                } else {
                    lo * (1.0 - u) + hi * u
                };
                if x >= hi {
                    lo.max(f64::from_bits(hi.to_bits().wrapping_sub(1)))
                } else {
                    x.max(lo)
                }
            },
            |[_, _, u], _| [1.0 - u, u, 0.0],
        ))
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// `-inf` outside `[low, high)`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        fused(
            [value, &self.low, &self.high],
            |[x, lo, hi]| ld::uniform(x, lo, hi),
            |[_, lo, hi], _| {
                let [dlo, dhi] = ld::uniform_grad(lo, hi);
                [0.0, dlo, dhi]
            },
        )
    }
    fn support(&self) -> Constraint {
        let lo = self.low.values().map_or(f64::NEG_INFINITY, |v| {
            v.iter().copied().fold(f64::INFINITY, f64::min)
        });
        let hi = self.high.values().map_or(f64::INFINITY, |v| {
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        });
        Constraint::Interval(lo, hi)
    }
    /// Each value against its own bounds, `[low, high]`.
    fn check_support(&self, value: &Tensor) -> Result<()> {
        check_elementwise(
            self,
            value,
            [&self.low, &self.high],
            |x, [lo, hi]| (lo..=hi).contains(&x),
            |[lo, hi]| Constraint::Interval(lo, hi),
        )
    }
    fn mean(&self) -> Result<Tensor> {
        Ok(((&self.low + &self.high) * 0.5).bcast(&self.batch))
    }
    fn variance(&self) -> Result<Tensor> {
        Ok(((&self.high - &self.low).square() / 12.0).bcast(&self.batch))
    }
    fn entropy(&self) -> Result<Tensor> {
        Ok((&self.high - &self.low).ln().bcast(&self.batch))
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
