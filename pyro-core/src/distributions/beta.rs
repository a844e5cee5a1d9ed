//! The beta distribution.

use super::fused::{log_density, log_density_sum, Kernel};
use super::gamma::standard_gamma_rsample;
use super::log_density as ld;
use super::util::Bcast as _;
use super::util::{batch_of, check_param};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// Beta(concentration1 α, concentration0 β): density `x^(α-1) (1-x)^(β-1) / B(α, β)` on
/// `[0, 1]`. `log_prob` is `-inf` outside `[0, 1]`; at the ends it is the limit (`+inf`, `ln β`
/// or `-inf` at 0 for α below, at or above 1). It stays accurate for large concentrations
/// (the binomial saddle-point form of R's `dbeta`: `Beta(1e15, 1e15)` at 0.5 is 17.39).
///
/// `rsample` is `X / (X + Y)` with `X ~ Gamma(α, 1)`, `Y ~ Gamma(β, 1)` drawn with implicit
/// gradients, so it is differentiable in both concentrations.
///
/// ```
/// use pyro_core::distributions::{Beta, Distribution};
/// let d = Beta::new(2.0, 3.0).unwrap();
/// // 12 x (1-x)^2 at x = 0.5
/// let lp = d.log_prob(&0.5.into()).item().unwrap();
/// assert!((lp - 1.5f64.ln()).abs() < 1e-12);
/// assert!(Beta::new(0.0, 1.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Beta {
    c1: Tensor,
    c0: Tensor,
    batch: Shape,
}

impl Beta {
    /// Errors unless both concentrations are positive and finite, with a finite sum.
    pub fn new(
        concentration1: impl Into<Tensor>,
        concentration0: impl Into<Tensor>,
    ) -> Result<Beta> {
        let (c1, c0) = (concentration1.into(), concentration0.into());
        check_param("Beta", "concentration1", &c1, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        check_param("Beta", "concentration0", &c0, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        let batch = batch_of("Beta", &[("concentration1", &c1), ("concentration0", &c0)])?;
        if let Some(s) = (&c1.detach() + &c0.detach())
            .values()?
            .iter()
            .find(|s| !s.is_finite())
        {
            return Err(crate::Error::InvalidParameter {
                dist: "Beta",
                param: "concentration0",
                reason: format!("concentration1 + concentration0 must be finite, got {s}"),
            });
        }
        Ok(Beta { c1, c0, batch })
    }
    /// α, the exponent of `x`.
    pub fn concentration1(&self) -> &Tensor {
        &self.c1
    }
    /// β, the exponent of `1 - x`.
    pub fn concentration0(&self) -> &Tensor {
        &self.c0
    }
}

/// `ln B(a, b)`.
pub(crate) fn lbeta(a: &Tensor, b: &Tensor) -> Tensor {
    a.lgamma() + b.lgamma() - (a + b).lgamma()
}

/// `ln Beta(x; a, b)` (rel-dist's accurate `log_density::beta`) and its partial derivatives,
/// elementwise: one tape node (see [`super::fused`]).
struct BetaKernel;

impl Kernel<3> for BetaKernel {
    const NAME: &'static str = "Beta";
    #[inline]
    fn value([a, b, x]: [f64; 3]) -> f64 {
        ld::beta(x, a, b)
    }
    #[inline]
    fn partial([a, b, x]: [f64; 3], k: usize) -> f64 {
        // No gradient where the density is zero or infinite (outside or at the ends).
        if !ld::beta(x, a, b).is_finite() {
            return 0.0;
        }
        let [dx, da, db] = ld::beta_grad(x, a, b, k < 2);
        [da, db, dx][k]
    }
}

impl Distribution for Beta {
    fn name(&self) -> &'static str {
        "Beta"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        let x = standard_gamma_rsample(&self.c1.detach(), &self.batch, rng);
        let y = standard_gamma_rsample(&self.c0.detach(), &self.batch, rng);
        &x / (&x + y)
    }
    fn rsample(&self, rng: &mut Rng) -> Result<Tensor> {
        let x = standard_gamma_rsample(&self.c1, &self.batch, rng);
        let y = standard_gamma_rsample(&self.c0, &self.batch, rng);
        Ok(&x / (&x + y))
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// `-inf` outside `[0, 1]`; the limits at the ends.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        log_density::<BetaKernel, 3>([&self.c1, &self.c0, value])
    }
    fn log_prob_sum(&self, value: &Tensor) -> Tensor {
        log_density_sum::<BetaKernel, 3>([&self.c1, &self.c0, value])
    }
    fn support(&self) -> Constraint {
        Constraint::UnitInterval
    }
    fn mean(&self) -> Result<Tensor> {
        Ok((&self.c1 / (&self.c1 + &self.c0)).bcast(&self.batch))
    }
    fn variance(&self) -> Result<Tensor> {
        let s = &self.c1 + &self.c0;
        Ok((&self.c1 * &self.c0 / (s.square() * (&s + 1.0))).bcast(&self.batch))
    }
    fn entropy(&self) -> Result<Tensor> {
        let (a, b) = (&self.c1, &self.c0);
        let s = a + b;
        Ok(
            (lbeta(a, b) - (a - 1.0) * a.digamma() - (b - 1.0) * b.digamma()
                + (&s - 2.0) * s.digamma())
            .bcast(&self.batch),
        )
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
