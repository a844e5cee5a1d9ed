//! The inverse-gamma distribution.

use super::gamma::{log_standard_gamma_rsample, positive_from_log};
use super::log_density as ld;
use super::util::Bcast as _;
use super::util::{batch_of, check_param, fused};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{masked_fill, Shape, Tensor};

/// InverseGamma(concentration α, rate β): `1 / Y` with `Y ~ Gamma(α, β)`; density
/// `β^α x^(-α-1) e^(-β/x) / Γ(α)` on `x > 0`. `log_prob` is `-inf` for `x <= 0`.
/// `rsample` uses the implicit gamma gradients.
///
/// ```
/// use pyro_core::distributions::{Distribution, InverseGamma};
/// let d = InverseGamma::new(2.0, 3.0).unwrap();
/// let lp = d.log_prob(&1.0.into()).item().unwrap();
/// assert!((lp - (9f64.ln() - 3.0)).abs() < 1e-12);
/// assert!(InverseGamma::new(2.0, -3.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct InverseGamma {
    concentration: Tensor,
    rate: Tensor,
    batch: Shape,
}

impl InverseGamma {
    /// Errors unless `concentration` and `rate` are positive and finite.
    pub fn new(concentration: impl Into<Tensor>, rate: impl Into<Tensor>) -> Result<InverseGamma> {
        let (concentration, rate) = (concentration.into(), rate.into());
        check_param(
            "InverseGamma",
            "concentration",
            &concentration,
            "positive and finite",
            |x| x > 0.0 && x.is_finite(),
        )?;
        check_param("InverseGamma", "rate", &rate, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        let batch = batch_of(
            "InverseGamma",
            &[("concentration", &concentration), ("rate", &rate)],
        )?;
        Ok(InverseGamma {
            concentration,
            rate,
            batch,
        })
    }
    /// The concentration α.
    pub fn concentration(&self) -> &Tensor {
        &self.concentration
    }
    /// The rate β (a scale for `x`).
    pub fn rate(&self) -> &Tensor {
        &self.rate
    }
}

impl Distribution for InverseGamma {
    fn name(&self) -> &'static str {
        "InverseGamma"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    /// Drawn in log space and clamped into `[f64::MIN_POSITIVE, f64::MAX]`.
    fn sample(&self, rng: &mut Rng) -> Tensor {
        let lz = log_standard_gamma_rsample(&self.concentration.detach(), &self.batch, rng);
        positive_from_log(&(self.rate.detach().ln() - lz))
    }
    fn rsample(&self, rng: &mut Rng) -> Result<Tensor> {
        let lz = log_standard_gamma_rsample(&self.concentration, &self.batch, rng);
        Ok(positive_from_log(&(self.rate.ln() - lz)))
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// `-inf` for `x <= 0`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        fused(
            [value, &self.concentration, &self.rate],
            |[x, a, b]| ld::inverse_gamma(x, a, b),
            |[x, a, b], needs| ld::inverse_gamma_grad(x, a, b, needs[1]),
        )
    }
    fn support(&self) -> Constraint {
        Constraint::Positive
    }
    /// `β / (α - 1)`, NaN for `α <= 1`.
    fn mean(&self) -> Result<Tensor> {
        let a = &self.concentration;
        let m = (&self.rate / (a - 1.0)).bcast(&self.batch);
        Ok(masked_fill(&m, &a.le(&Tensor::scalar(1.0)), f64::NAN))
    }
    /// `β² / ((α - 1)² (α - 2))`, NaN for `α <= 2`.
    fn variance(&self) -> Result<Tensor> {
        let a = &self.concentration;
        let v = (self.rate.square() / ((a - 1.0).square() * (a - 2.0))).bcast(&self.batch);
        Ok(masked_fill(&v, &a.le(&Tensor::scalar(2.0)), f64::NAN))
    }
    fn entropy(&self) -> Result<Tensor> {
        let a = &self.concentration;
        Ok((a + self.rate.ln() + a.lgamma() - (a + 1.0) * a.digamma()).bcast(&self.batch))
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
