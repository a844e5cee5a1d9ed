//! The von Mises distribution on the circle, with the logarithm of the modified Bessel function
//! `I₀` written here (no crate provides a log-Bessel function).

use rand::Rng as _;

use super::util::Bcast as _;
use super::util::{batch_of, check_param, draw, fused};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{custom_elementwise, Shape, Tensor};

/// Below this argument the power series of `I₀` and `I₁` are summed; above it, their asymptotic
/// expansions, whose terms shrink to 1e-17 within about twenty terms there.
const SERIES_MAX: f64 = 30.0;

/// `e^(-x) I_ν(x)` for `ν ∈ {0, 1}` and `x >= 0`, to about 1e-15 relative.
///
/// - `x <= 30`: the power series `I_ν(x) = Σ_k (x/2)^(2k+ν) / (k! (k+ν)!)`, of positive terms (no
///   cancellation), then scaled.
/// - `x > 30`: the asymptotic expansion (Abramowitz and Stegun 9.7.1)
///   `e^(-x) I_ν(x) ~ (2πx)^(-1/2) Σ_k (-1)^k a_k(ν) / x^k`,
///   `a_k(ν) = Π_{j<=k} (4ν² - (2j - 1)²) / (k! 8^k)`, summed until the terms fall below 1e-17.
fn bessel_i_scaled(nu: u8, x: f64) -> f64 {
    let x = x.abs();
    if x <= SERIES_MAX {
        let q = 0.25 * x * x;
        let mut term = if nu == 0 { 1.0 } else { 0.5 * x };
        let mut sum = term;
        let mut k = 1.0;
        while term > 1e-17 * sum {
            term *= q / (k * (k + f64::from(nu)));
            sum += term;
            k += 1.0;
        }
        return sum * (-x).exp();
    }
    let mu = 4.0 * f64::from(nu) * f64::from(nu);
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..40 {
        let odd = f64::from(2 * k - 1);
        term *= -(mu - odd * odd) / (f64::from(k) * 8.0 * x);
        sum += term;
        if term.abs() < 1e-17 * sum.abs() {
            break;
        }
    }
    // sqrt(2π) sqrt(x): the product 2πx overflows above 2.9e307.
    sum / ((2.0 * std::f64::consts::PI).sqrt() * x.sqrt())
}

/// `I₁(x) / I₀(x)`, the derivative of `ln I₀`.
pub(crate) fn i1_over_i0(x: f64) -> f64 {
    let r = bessel_i_scaled(1, x) / bessel_i_scaled(0, x);
    if x < 0.0 {
        -r
    } else {
        r
    }
}

/// `(sin(d/2), cos(d/2))` for `d = x - μ`, by the angle-difference formulas where `x - μ`
/// overflows for finite arguments.
fn half_angle(x: f64, mu: f64) -> (f64, f64) {
    let d = x - mu;
    if d.is_finite() || !x.is_finite() || !mu.is_finite() {
        return (0.5 * d).sin_cos();
    }
    let ((sa, ca), (sb, cb)) = ((0.5 * x).sin_cos(), (0.5 * mu).sin_cos());
    (sa * cb - ca * sb, ca * cb + sa * sb)
}

/// `ln 2π`.
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// VonMises(loc μ, concentration κ): the circular normal distribution,
/// `p(x) = e^(κ cos(x - μ)) / (2π I₀(κ))` on an interval of length 2π.
///
/// `log_prob` is defined for every real (periodic in `x`), differentiable in both parameters; the
/// normaliser `ln I₀(κ)` is computed without overflow for any `κ` (a power series below 30, the
/// asymptotic expansion of `e^(-κ) I₀(κ)` above). Samples lie in `[-π, π)`, drawn by the
/// Best–Fisher (1979) rejection sampler as in PyTorch (not reparameterised), and as the normal
/// `N(μ, 1/κ)` above κ = 1e10, where the two agree to 1e-10. The mean is `μ`;
/// `variance` is the circular variance `1 - I₁(κ)/I₀(κ)`, as in PyTorch.
///
/// ```
/// use pyro_core::distributions::{Distribution, VonMises};
/// let d = VonMises::new(0.0, 0.0).unwrap();
/// // κ = 0 is the uniform distribution on the circle.
/// let lp = d.log_prob(&1.0.into()).item().unwrap();
/// assert!((lp + (2.0 * std::f64::consts::PI).ln()).abs() < 1e-15);
/// assert!(VonMises::new(0.0, -1.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct VonMises {
    loc: Tensor,
    concentration: Tensor,
    batch: Shape,
}

impl VonMises {
    /// Errors unless `loc` is finite and `concentration >= 0` is finite.
    pub fn new(loc: impl Into<Tensor>, concentration: impl Into<Tensor>) -> Result<VonMises> {
        let (loc, concentration) = (loc.into(), concentration.into());
        check_param("VonMises", "loc", &loc, "finite", f64::is_finite)?;
        check_param(
            "VonMises",
            "concentration",
            &concentration,
            "non-negative and finite",
            |k| k >= 0.0 && k.is_finite(),
        )?;
        let batch = batch_of(
            "VonMises",
            &[("loc", &loc), ("concentration", &concentration)],
        )?;
        Ok(VonMises {
            loc,
            concentration,
            batch,
        })
    }
    /// The mean direction μ.
    pub fn loc(&self) -> &Tensor {
        &self.loc
    }
    /// The concentration κ.
    pub fn concentration(&self) -> &Tensor {
        &self.concentration
    }
}

/// Above this concentration the draw is normal with variance `1/κ`: the densities differ by
/// `O(1/κ)` (the quartic term `κ x⁴/24` at `x ~ κ^(-1/2)`), below 1e-10, while the envelope of
/// the rejection sampler degenerates (`r - 1 ≈ 1/(2κ)` rounds to 0 near κ = 1e16).
const NORMAL_LIMIT: f64 = 1e10;

/// One draw of the von Mises distribution centred at 0 (Best and Fisher 1979, as PyTorch).
fn best_fisher(rng: &mut Rng, kappa: f64) -> f64 {
    let pi = std::f64::consts::PI;
    if kappa > NORMAL_LIMIT {
        let z: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, rng);
        return z / kappa.sqrt();
    }
    // The wrapped Cauchy envelope's parameter; second-order Taylor expansion near κ = 0.
    let r = if kappa < 1e-5 {
        1.0 / kappa + kappa
    } else {
        let tau = 1.0 + (1.0 + 4.0 * kappa * kappa).sqrt();
        let rho = (tau - (2.0 * tau).sqrt()) / (2.0 * kappa);
        (1.0 + rho * rho) / (2.0 * rho)
    };
    if !r.is_finite() {
        // κ = 0: uniform on the circle.
        return pi * (2.0 * rng.random::<f64>() - 1.0);
    }
    loop {
        let (u1, u2, u3): (f64, f64, f64) = (rng.random(), rng.random(), rng.random());
        let z = (pi * u1).cos();
        let f = (1.0 + r * z) / (r + z);
        let c = kappa * (r - f);
        if c * (2.0 - c) - u2 > 0.0 || (c / u2).ln() + 1.0 - c >= 0.0 {
            let angle = f.clamp(-1.0, 1.0).acos();
            return if u3 < 0.5 { -angle } else { angle };
        }
    }
}

impl Distribution for VonMises {
    fn name(&self) -> &'static str {
        "VonMises"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        let two_pi = 2.0 * std::f64::consts::PI;
        let (loc, kappa) = (self.loc.detach(), self.concentration.detach());
        let pi = std::f64::consts::PI;
        draw(rng, &self.batch, &[&loc, &kappa], |rng, a| {
            let x = best_fisher(rng, a[1]) + a[0];
            // Wrap into [-π, π), only when needed: the shift by π would round tiny deviations
            // (large κ) away.
            if (-pi..pi).contains(&x) {
                x
            } else {
                (x + pi).rem_euclid(two_pi) - pi
            }
        })
    }
    /// Defined for every real value (the density is periodic).
    /// `-2κ sin²((x - μ)/2) - ln 2π - ln(e^(-κ) I₀(κ))`: the textbook `κ cos(x - μ) - ln(2π
    /// I₀(κ))` rearranged so that `κ cos` does not cancel against `ln I₀(κ) ≈ κ` at large κ,
    /// with the half angle taken without overflow of `x - μ`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        fused(
            [value, &self.loc, &self.concentration],
            |[x, mu, k]| {
                let (s, _) = half_angle(x, mu);
                // (κ s) s, not (2κ) s s: 2κ overflows, and inf · 0 at s = 0 is NaN.
                -2.0 * (k * s * s) - LN_2PI - bessel_i_scaled(0, k).ln()
            },
            |[x, mu, k], _| {
                let (s, c) = half_angle(x, mu);
                let dx = -2.0 * (k * s * c);
                [dx, -dx, 1.0 - 2.0 * s * s - i1_over_i0(k)]
            },
        )
    }
    fn support(&self) -> Constraint {
        Constraint::Real
    }
    fn mean(&self) -> Result<Tensor> {
        self.loc.bcast(&self.batch).check()
    }
    /// The circular variance `1 - I₁(κ)/I₀(κ)`.
    fn variance(&self) -> Result<Tensor> {
        let k = &self.concentration;
        let ratio = k.map_const(i1_over_i0);
        let ratio = if k.requires_grad() {
            // d/dκ (I₁/I₀) = 1 - (I₁/I₀)/κ - (I₁/I₀)² (from I₁' = I₀ - I₁/κ); 1/2 at κ = 0.
            let d = k.map_const(|x| {
                let r = i1_over_i0(x);
                if x == 0.0 {
                    0.5
                } else {
                    1.0 - r / x - r * r
                }
            });
            custom_elementwise(&[k], ratio, &[d])
        } else {
            ratio
        };
        (ratio.neg() + 1.0).bcast(&self.batch).check()
    }
    fn box_clone(&self) -> Box<dyn Distribution> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
