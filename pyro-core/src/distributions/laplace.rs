//! The Laplace (double exponential) distribution.

use super::log_density as ld;
use super::util::Bcast as _;
use super::util::{affine, batch_of, check_param, fused, uniform};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// Laplace(loc, scale): density `exp(-|x - loc| / scale) / (2 scale)`. Defined on all reals.
///
/// ```
/// use pyro_core::distributions::{Distribution, Laplace};
/// let d = Laplace::new(0.0, 2.0).unwrap();
/// let lp = d.log_prob(&1.0.into()).item().unwrap();
/// assert!((lp - (-(4f64.ln()) - 0.5)).abs() < 1e-15);
/// assert!(Laplace::new(0.0, -1.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Laplace {
    loc: Tensor,
    scale: Tensor,
    batch: Shape,
}

impl Laplace {
    /// Errors unless `loc` is finite and `scale` positive and finite.
    pub fn new(loc: impl Into<Tensor>, scale: impl Into<Tensor>) -> Result<Laplace> {
        let (loc, scale) = (loc.into(), scale.into());
        check_param("Laplace", "loc", &loc, "finite", f64::is_finite)?;
        check_param("Laplace", "scale", &scale, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        let batch = batch_of("Laplace", &[("loc", &loc), ("scale", &scale)])?;
        Ok(Laplace { loc, scale, batch })
    }
    /// The location.
    pub fn loc(&self) -> &Tensor {
        &self.loc
    }
    /// The scale.
    pub fn scale(&self) -> &Tensor {
        &self.scale
    }
}

impl Distribution for Laplace {
    fn name(&self) -> &'static str {
        "Laplace"
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
        // u uniform on (-1, 1): x = loc - scale sign(u) ln(1 - |u|)
        let e = uniform(rng, &self.batch).map_const(|u| {
            let v = 2.0 * u - 1.0;
            -v.signum() * (-v.abs()).ln_1p()
        });
        Ok(affine(&self.loc, &self.scale, &e))
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// Defined on all reals.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        fused(
            [value, &self.loc, &self.scale],
            |[x, l, s]| ld::laplace(x, l, s),
            |[x, l, s], _| ld::laplace_grad(x, l, s),
        )
    }
    fn support(&self) -> Constraint {
        Constraint::Real
    }
    fn mean(&self) -> Result<Tensor> {
        Ok(self.loc.bcast(&self.batch))
    }
    fn variance(&self) -> Result<Tensor> {
        Ok((self.scale.square() * 2.0).bcast(&self.batch))
    }
    fn entropy(&self) -> Result<Tensor> {
        Ok(((&self.scale * 2.0).ln() + 1.0).bcast(&self.batch))
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
