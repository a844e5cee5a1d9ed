//! The Poisson distribution.

use rand_distr::Distribution as _;

use super::log_density as ld;
use super::util::Bcast as _;
use super::util::{batch_of, check_param, draw, fused};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// Poisson(rate λ): `P(k) = λ^k e^(-λ) / k!` on `k = 0, 1, 2, ...`.
///
/// `log_prob` is `-inf` for a value that is not a whole number `>= 0`; it stays accurate for
/// any rate (`Poisson(1e17)` at `1e17` is `-20.49`, through Loader's saddle-point form, where
/// the textbook `k ln λ - λ - ln k!` cancels to 0). Rates beyond `rand_distr`'s limit (1.8e19)
/// are sampled from the normal approximation, rounded (its error is far below what the draws
/// can resolve there).
///
/// ```
/// use pyro_core::distributions::{Distribution, Poisson};
/// let d = Poisson::new(2.0).unwrap();
/// let lp = d.log_prob(&3.0.into()).item().unwrap();
/// assert!((lp - (8.0f64 / 6.0).ln() + 2.0).abs() < 1e-12);
/// assert!(Poisson::new(-1.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Poisson {
    rate: Tensor,
    batch: Shape,
}

impl Poisson {
    /// Errors unless `rate > 0` (and finite).
    pub fn new(rate: impl Into<Tensor>) -> Result<Poisson> {
        let rate = rate.into();
        check_param("Poisson", "rate", &rate, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        let batch = batch_of("Poisson", &[("rate", &rate)])?;
        Ok(Poisson { rate, batch })
    }
    /// The rate λ.
    pub fn rate(&self) -> &Tensor {
        &self.rate
    }
}

/// The Poisson log-mass of `value` at `rate` (differentiable in the rate), accurate for any
/// rate; `-inf` unless the value is a whole number `>= 0`.
pub(crate) fn poisson_log_prob(rate: &Tensor, value: &Tensor) -> Tensor {
    fused(
        [&value.detach(), rate],
        |[k, r]| ld::poisson(k, r),
        |[k, r], _| [0.0, ld::poisson_d_rate(k, r)],
    )
}

/// A Poisson draw for any rate: 0 for a rate that is 0 (or not a number), `rand_distr`'s
/// sampler up to its limit (1.8e19), the normal approximation rounded above it (its error is
/// far below what the draws can resolve there), `f64::MAX` for an infinite rate.
pub(crate) fn poisson_draw(rng: &mut Rng, lambda: f64) -> f64 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 0.0;
    }
    if lambda == f64::INFINITY {
        return f64::MAX;
    }
    match rand_distr::Poisson::new(lambda) {
        Ok(p) => p.sample(rng),
        Err(_) => {
            let z: f64 = rand_distr::StandardNormal.sample(rng);
            (lambda + lambda.sqrt() * z).round().clamp(0.0, f64::MAX)
        }
    }
}

impl Distribution for Poisson {
    fn name(&self) -> &'static str {
        "Poisson"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        draw(rng, &self.batch, &[&self.rate], |rng, a| {
            poisson_draw(rng, a[0])
        })
    }
    /// `-inf` unless the value is a whole number `>= 0`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        poisson_log_prob(&self.rate, value)
    }
    fn support(&self) -> Constraint {
        Constraint::NonnegativeInteger
    }
    fn mean(&self) -> Result<Tensor> {
        Ok(self.rate.bcast(&self.batch))
    }
    fn variance(&self) -> Result<Tensor> {
        Ok(self.rate.bcast(&self.batch))
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
