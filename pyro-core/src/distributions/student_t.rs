//! Student's t distribution.

use super::gamma::log_standard_gamma_rsample;
use super::log_density as ld;
use super::util::Bcast as _;
use super::util::{batch_of, check_param, fused, standard_normal};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{masked_fill, Shape, Tensor};

/// StudentT(df ν, loc, scale): density
/// `Γ((ν+1)/2) / (Γ(ν/2) sqrt(νπ) scale) (1 + z²/ν)^(-(ν+1)/2)`, `z = (x - loc) / scale`.
///
/// `rsample` is `loc + scale · X / sqrt(V / ν)` with `X ~ Normal(0, 1)` and `V ~ χ²(ν)` drawn as
/// `2 Gamma(ν/2, 1)` with implicit gradients, so it is differentiable in all three parameters.
/// The mean is NaN for `ν <= 1`, the variance `+inf` for `1 < ν <= 2` and NaN for `ν <= 1`.
/// Defined on all reals; `log_prob` is accurate for any `df` (the ratio of gamma functions
/// through Stirling-error terms: `df = 1e17` gives the normal limit) and finite in the tails.
///
/// ```
/// use pyro_core::distributions::{Distribution, StudentT};
/// let d = StudentT::new(1.0, 0.0, 1.0).unwrap(); // a standard Cauchy
/// let lp = d.log_prob(&0.0.into()).item().unwrap();
/// assert!((lp + std::f64::consts::PI.ln()).abs() < 1e-12);
/// assert!(StudentT::new(-1.0, 0.0, 1.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct StudentT {
    df: Tensor,
    loc: Tensor,
    scale: Tensor,
    batch: Shape,
}

impl StudentT {
    /// Errors unless `df` and `scale` are positive and finite and `loc` is finite.
    pub fn new(
        df: impl Into<Tensor>,
        loc: impl Into<Tensor>,
        scale: impl Into<Tensor>,
    ) -> Result<StudentT> {
        let (df, loc, scale) = (df.into(), loc.into(), scale.into());
        check_param("StudentT", "df", &df, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        check_param("StudentT", "loc", &loc, "finite", f64::is_finite)?;
        check_param("StudentT", "scale", &scale, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        let batch = batch_of("StudentT", &[("df", &df), ("loc", &loc), ("scale", &scale)])?;
        Ok(StudentT {
            df,
            loc,
            scale,
            batch,
        })
    }
    /// Degrees of freedom ν.
    pub fn df(&self) -> &Tensor {
        &self.df
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

impl Distribution for StudentT {
    fn name(&self) -> &'static str {
        "StudentT"
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
        let x = standard_normal(rng, &self.batch);
        let half = &self.df * 0.5;
        // V / ν = 2 G / ν = G / (ν/2), in log space: G underflows for a small df.
        let lg = log_standard_gamma_rsample(&half, &self.batch, rng);
        // scale · sqrt(ν / V) in log space, its exponent capped at 709 (e^709 = 8.2e307): for a
        // small df the draws reach beyond f64 (half of them above 1e300 at df = 1e-3), and an
        // infinite factor would make the gradient of the clamped draw NaN. The cap changes
        // only draws within a factor |z| of ±f64::MAX, where they are clamped anyway.
        let ln_factor = ((half.ln() - lg) * 0.5 + self.scale.ln()).clamp(-f64::MAX, 709.0);
        let y = x * ln_factor.exp();
        Ok((&self.loc + y).clamp(-f64::MAX, f64::MAX))
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// Defined on all reals.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        fused(
            [value, &self.df, &self.loc, &self.scale],
            |[x, n, l, s]| ld::student_t(x, n, l, s),
            |[x, n, l, s], needs| ld::student_t_grad(x, n, l, s, needs[1]),
        )
    }
    fn support(&self) -> Constraint {
        Constraint::Real
    }
    fn mean(&self) -> Result<Tensor> {
        let undefined = self.df.le(&Tensor::scalar(1.0));
        Ok(masked_fill(
            &self.loc.bcast(&self.batch),
            &undefined,
            f64::NAN,
        ))
    }
    fn variance(&self) -> Result<Tensor> {
        let nu = &self.df;
        let v = self.scale.square() * nu / (nu - 2.0);
        let v = masked_fill(&v, &nu.le(&Tensor::scalar(2.0)), f64::INFINITY);
        Ok(masked_fill(&v, &nu.le(&Tensor::scalar(1.0)), f64::NAN).bcast(&self.batch))
    }
    fn entropy(&self) -> Result<Tensor> {
        // (ν+1)/2 (ψ((ν+1)/2) - ψ(ν/2)) + ½ ln ν + ln B(ν/2, ½) + ln scale
        let nu = &self.df;
        let h = nu * 0.5;
        let h1 = (nu + 1.0) * 0.5;
        let lbeta = h.lgamma() + 0.572_364_942_924_700_1 - h1.lgamma(); // ln Γ(½) = ½ ln π
        Ok(
            (&h1 * (h1.digamma() - h.digamma()) + nu.ln() * 0.5 + lbeta + self.scale.ln())
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
