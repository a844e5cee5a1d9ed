//! The normal (Gaussian) distribution.

use super::fused::{fill, log_density, log_density_sum, Kernel};
use super::util::Bcast as _;
use super::util::{affine, batch_of, check_param, standard_normal};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// `ln sqrt(2π)`.
pub(crate) const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Normal(loc, scale): density `exp(-(x - loc)² / 2 scale²) / (scale sqrt(2π))`.
///
/// ```
/// use pyro_core::distributions::{Distribution, Normal};
/// let d = Normal::new(0.0, 1.0).unwrap();
/// let lp = d.log_prob(&0.0.into()).item().unwrap();
/// assert!((lp + 0.9189385332046727).abs() < 1e-15);
/// assert!(Normal::new(0.0, -1.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Normal {
    loc: Tensor,
    scale: Tensor,
    batch: Shape,
}

impl Normal {
    /// Errors unless `loc` is finite and `scale` positive and finite.
    pub fn new(loc: impl Into<Tensor>, scale: impl Into<Tensor>) -> Result<Normal> {
        let (loc, scale) = (loc.into(), scale.into());
        check_param("Normal", "loc", &loc, "finite", f64::is_finite)?;
        check_param("Normal", "scale", &scale, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        let batch = batch_of("Normal", &[("loc", &loc), ("scale", &scale)])?;
        Ok(Normal { loc, scale, batch })
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

/// `ln Normal(x; loc, scale)` and its partial derivatives, elementwise: one tape node (see
/// [`super::fused`]).
struct NormalKernel;

/// `(x - loc) / scale`, without the spurious overflow of `x - loc` for far-apart finite values
/// (the `z` of [`super::log_density::standardize`], without its logarithm).
#[inline(always)]
fn z_of(x: f64, loc: f64, scale: f64) -> f64 {
    let d = x - loc;
    if d.is_infinite() && x.is_finite() && loc.is_finite() {
        2.0 * ((0.5 * x - 0.5 * loc) / scale)
    } else {
        d / scale
    }
}

impl Kernel<3> for NormalKernel {
    const NAME: &'static str = "Normal";
    #[inline]
    fn value([loc, scale, x]: [f64; 3]) -> f64 {
        let z = z_of(x, loc, scale);
        -0.5 * z * z - scale.ln() - LN_SQRT_2PI
    }
    #[inline]
    fn partial([loc, scale, x]: [f64; 3], k: usize) -> f64 {
        let z = z_of(x, loc, scale);
        match k {
            0 => z / scale,
            1 => (z * z - 1.0) / scale,
            _ => -z / scale,
        }
    }
    /// One scale along the row (the usual `Normal(loc, 1.0)`, or a scale per row of a
    /// broadcast): its logarithm once per row, not per element. The same operations in the same
    /// order as [`Kernel::value`], so the same values to the bit.
    #[inline]
    fn value_row(out: &mut [f64], [loc, scale, x]: &[&[f64]; 3]) {
        if let [s] = **scale {
            let ln_s = s.ln();
            let value = |l: f64, x: f64| {
                let z = z_of(x, l, s);
                -0.5 * z * z - ln_s - LN_SQRT_2PI
            };
            match **loc {
                // One location too (a row of an enumerated emission): one column left.
                [l] if out.len() > 1 => fill(out, &[x], |[x]| value(l, x)),
                _ => fill(out, &[loc, x], |[l, x]| value(l, x)),
            }
        } else {
            fill(out, &[loc, scale, x], Self::value)
        }
    }
    #[inline]
    fn partial_row(out: &mut [f64], [loc, scale, x]: &[&[f64]; 3], k: usize) {
        let [s] = **scale else {
            return fill(out, &[loc, scale, x], |p| Self::partial(p, k));
        };
        if let (&[l], 0) = (*loc, k) {
            if out.len() > 1 {
                return fill(out, &[x], |[x]| z_of(x, l, s) / s);
            }
        }
        match k {
            0 => fill(out, &[loc, x], |[l, x]| z_of(x, l, s) / s),
            1 => fill(out, &[loc, x], |[l, x]| {
                let z = z_of(x, l, s);
                (z * z - 1.0) / s
            }),
            _ => fill(out, &[loc, x], |[l, x]| -z_of(x, l, s) / s),
        }
    }
}

impl Distribution for Normal {
    fn name(&self) -> &'static str {
        "Normal"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        self.rsample(rng)
            .map(|t| t.detach())
            .unwrap_or_else(crate::tensor::Tensor::poisoned)
    }
    fn rsample(&self, rng: &mut Rng) -> Result<Tensor> {
        let eps = standard_normal(rng, &self.batch);
        Ok(affine(&self.loc, &self.scale, &eps))
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// Defined on all reals.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        log_density::<NormalKernel, 3>([&self.loc, &self.scale, value])
    }
    fn log_prob_sum(&self, value: &Tensor) -> Tensor {
        log_density_sum::<NormalKernel, 3>([&self.loc, &self.scale, value])
    }
    fn support(&self) -> Constraint {
        Constraint::Real
    }
    fn mean(&self) -> Result<Tensor> {
        Ok(self.loc.bcast(&self.batch))
    }
    fn variance(&self) -> Result<Tensor> {
        Ok(self.scale.square().bcast(&self.batch))
    }
    fn entropy(&self) -> Result<Tensor> {
        Ok((self.scale.ln() + 0.5 + LN_SQRT_2PI).bcast(&self.batch))
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
