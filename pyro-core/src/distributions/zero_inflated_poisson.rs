//! The zero-inflated Poisson distribution.

use rand::Rng as _;

use super::util::Bcast as _;
use super::util::{batch_of, check_param, draw, inside, not_integer_in, outside};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// How the gate was given: the log-mass is computed from what the user gave, so that neither a
/// gate of exactly 0 or 1 nor a large logit loses precision.
#[derive(Clone, Debug)]
enum Gate {
    Probs(Tensor),
    Logits(Tensor),
}

/// ZeroInflatedPoisson(gate g, rate λ): with probability `g` the value is an extra zero,
/// otherwise a `Poisson(λ)` draw: `P(0) = g + (1 - g) e^(-λ)`, `P(k) = (1 - g) λ^k e^(-λ) / k!`
/// for `k >= 1` (Pyro's `ZeroInflatedPoisson`).
///
/// The gate is given as a probability (`new`) or as logits (`from_logits`, computed stably as
/// `P(0) = σ(ℓ) (1 + e^(-ℓ-λ))` in log space). Differentiable in the gate and the rate. Mean
/// `(1 - g) λ`, variance `(1 - g) λ (1 + g λ)`. `log_prob` is `-inf` for a value that is not a
/// whole number `>= 0`.
///
/// ```
/// use pyro_core::distributions::{Distribution, ZeroInflatedPoisson};
/// let d = ZeroInflatedPoisson::new(0.25, 2.0).unwrap();
/// let p0 = d.log_prob(&0.0.into()).item().unwrap().exp();
/// assert!((p0 - (0.25 + 0.75 * (-2.0f64).exp())).abs() < 1e-14);
/// assert!(ZeroInflatedPoisson::new(1.5, 2.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct ZeroInflatedPoisson {
    gate: Gate,
    rate: Tensor,
    batch: Shape,
}

impl ZeroInflatedPoisson {
    /// Errors unless the gate lies in `[0, 1]` and the rate is positive and finite.
    pub fn new(gate: impl Into<Tensor>, rate: impl Into<Tensor>) -> Result<ZeroInflatedPoisson> {
        let gate = gate.into();
        check_param("ZeroInflatedPoisson", "gate", &gate, "in [0, 1]", |g| {
            (0.0..=1.0).contains(&g)
        })?;
        ZeroInflatedPoisson::build(Gate::Probs(gate), rate.into())
    }

    /// From the logits of the gate. Errors unless the logits are finite and the rate is
    /// positive and finite.
    pub fn from_logits(
        gate_logits: impl Into<Tensor>,
        rate: impl Into<Tensor>,
    ) -> Result<ZeroInflatedPoisson> {
        let l = gate_logits.into();
        check_param("ZeroInflatedPoisson", "gate_logits", &l, "finite", |x| {
            x.is_finite()
        })?;
        ZeroInflatedPoisson::build(Gate::Logits(l), rate.into())
    }

    fn build(gate: Gate, rate: Tensor) -> Result<ZeroInflatedPoisson> {
        check_param(
            "ZeroInflatedPoisson",
            "rate",
            &rate,
            "positive and finite",
            |x| x > 0.0 && x.is_finite(),
        )?;
        let batch = match &gate {
            Gate::Probs(g) => batch_of("ZeroInflatedPoisson", &[("gate", g), ("rate", &rate)]),
            Gate::Logits(l) => batch_of(
                "ZeroInflatedPoisson",
                &[("gate_logits", l), ("rate", &rate)],
            ),
        }?;
        Ok(ZeroInflatedPoisson { gate, rate, batch })
    }

    /// The probability of an extra zero.
    pub fn gate(&self) -> Tensor {
        match &self.gate {
            Gate::Probs(g) => g.clone(),
            Gate::Logits(l) => l.sigmoid(),
        }
    }
    /// The logits of the gate.
    pub fn gate_logits(&self) -> Tensor {
        match &self.gate {
            Gate::Probs(g) => g.logit(),
            Gate::Logits(l) => l.clone(),
        }
    }
    /// The Poisson rate λ.
    pub fn rate(&self) -> &Tensor {
        &self.rate
    }
}

impl Distribution for ZeroInflatedPoisson {
    fn name(&self) -> &'static str {
        "ZeroInflatedPoisson"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        let g = self.gate().detach();
        let rate = self.rate.detach();
        draw(rng, &self.batch, &[&g, &rate], |rng, a| {
            if rng.random::<f64>() < a[0] {
                0.0
            } else {
                super::poisson::poisson_draw(rng, a[1])
            }
        })
    }
    /// `-inf` unless the value is a whole number `>= 0`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let bad = not_integer_in(value, 0.0, f64::INFINITY);
        let k = inside(value, &bad, 0.0);
        let rate = &self.rate;
        let poisson = super::poisson::poisson_log_prob(rate, &k);
        let zero = k.eq_mask(&Tensor::scalar(0.0));
        // P(0) = 1 - c with c = (1 - g)(1 - e^(-λ)): where c < 1/2, ln P(0) = ln(1 - c) by
        // `ln_1p` (no cancellation when P(0) is near 1: g = 0.5, λ = 1e-10 lost 7 digits);
        // elsewhere the direct form, a sum of positive terms.
        let not_rate = rate.neg().expm1().neg();
        let lp = match &self.gate {
            Gate::Probs(g) => {
                let nonzero = g.neg().ln_1p() + poisson;
                let c = (g.neg() + 1.0) * &not_rate;
                // ln(g + (1 - g) e^(-λ)), finite for every g in [0, 1].
                let direct = (g + (g.neg() + 1.0) * rate.neg().exp()).ln();
                let at_zero =
                    Tensor::where_(&c.lt(&Tensor::scalar(0.5)), &c.neg().ln_1p(), &direct);
                Tensor::where_(&zero, &at_zero, &nonzero)
            }
            Gate::Logits(l) => {
                // ln(1 - g) = ln σ(-ℓ); ln P(0) = ln σ(ℓ) + softplus(-ℓ - λ).
                let nonzero = l.neg().log_sigmoid() + poisson;
                let c = l.neg().log_sigmoid().exp() * &not_rate;
                let direct = l.log_sigmoid() + (l.neg() - rate).softplus();
                let at_zero =
                    Tensor::where_(&c.lt(&Tensor::scalar(0.5)), &c.neg().ln_1p(), &direct);
                Tensor::where_(&zero, &at_zero, &nonzero)
            }
        };
        outside(&lp, &bad)
    }
    fn support(&self) -> Constraint {
        Constraint::NonnegativeInteger
    }
    fn mean(&self) -> Result<Tensor> {
        ((self.gate().neg() + 1.0) * &self.rate)
            .bcast(&self.batch)
            .check()
    }
    fn variance(&self) -> Result<Tensor> {
        let g = self.gate();
        ((g.neg() + 1.0) * &self.rate * (&g * &self.rate + 1.0))
            .bcast(&self.batch)
            .check()
    }
    fn box_clone(&self) -> Box<dyn Distribution> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
