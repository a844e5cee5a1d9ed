//! The negative binomial distribution, in PyTorch's parameterisation (`NegativeBinomial`) and in
//! Pyro's gamma-Poisson one (`GammaPoisson`): the same family, a Poisson whose rate is
//! gamma-distributed.

use super::gamma::{log_gamma_of, log_gamma_parts};
use super::log_density as ld;
use super::poisson::poisson_draw;
use super::util::Bcast as _;
use super::util::{batch_of, check_param, draw, fused};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// A draw from `Poisson(λ)` with `λ ~ Gamma(shape, 1) · scale`.
/// A Poisson draw at a gamma-distributed rate `G scale`, `G ~ Gamma(shape, 1)`, with the gamma
/// draw in log space (so that a small shape gives rate 0, not NaN) and the Poisson draw valid
/// for any rate (see [`poisson_draw`]).
fn gamma_poisson_draw(rng: &mut Rng, shape: f64, scale: f64) -> f64 {
    let ln_g = log_gamma_of(log_gamma_parts(rng, shape), shape);
    poisson_draw(rng, (ln_g + scale.ln()).exp())
}

/// NegativeBinomial(total_count r, probs p): the number of successes before the `r`-th failure
/// in independent trials that succeed with probability `p`,
/// `P(k) = Γ(k + r) / (k! Γ(r)) p^k (1 - p)^r` on `k = 0, 1, 2, ...` (PyTorch's
/// `NegativeBinomial`; `r` need not be a whole number).
///
/// Built from probabilities (`new`) or logits (`from_logits`); the log-mass is computed from the
/// logits `l`, `r ln σ(-l) + k ln σ(l) + ln Γ(k + r) - ln Γ(k + 1) - ln Γ(r)`, differentiable in
/// `r` and `l`. Mean `r e^l`, variance `r e^l / σ(-l)`. Sampling is `Poisson(λ)` with
/// `λ ~ Gamma(r, scale p / (1 - p))`. `log_prob` is `-inf` for a value that is not a whole
/// number `>= 0`.
///
/// ```
/// use pyro_core::distributions::{Distribution, NegativeBinomial};
/// let d = NegativeBinomial::new(2.0, 0.5).unwrap();
/// // Γ(3 + 2) / (3! Γ(2)) 0.5^3 0.5^2 = 4 / 32
/// let lp = d.log_prob(&3.0.into()).item().unwrap();
/// assert!((lp - (4.0f64 / 32.0).ln()).abs() < 1e-12);
/// assert!(NegativeBinomial::new(0.0, 0.5).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct NegativeBinomial {
    total_count: Tensor,
    logits: Tensor,
    batch: Shape,
}

impl NegativeBinomial {
    /// Errors unless `total_count > 0` (finite) and every probability lies in `(0, 1)`.
    pub fn new(
        total_count: impl Into<Tensor>,
        probs: impl Into<Tensor>,
    ) -> Result<NegativeBinomial> {
        let probs = probs.into();
        check_param("NegativeBinomial", "probs", &probs, "in (0, 1)", |p| {
            p > 0.0 && p < 1.0
        })?;
        let logits = probs.ln() - (-&probs).ln_1p();
        NegativeBinomial::build(total_count.into(), logits, "probs")
    }

    /// Errors unless `total_count > 0` (finite) and every logit is finite.
    pub fn from_logits(
        total_count: impl Into<Tensor>,
        logits: impl Into<Tensor>,
    ) -> Result<NegativeBinomial> {
        let logits = logits.into();
        check_param("NegativeBinomial", "logits", &logits, "finite", |x| {
            x.is_finite()
        })?;
        NegativeBinomial::build(total_count.into(), logits, "logits")
    }

    fn build(total_count: Tensor, logits: Tensor, pname: &'static str) -> Result<NegativeBinomial> {
        check_param(
            "NegativeBinomial",
            "total_count",
            &total_count,
            "positive and finite",
            |r| r > 0.0 && r.is_finite(),
        )?;
        let batch = batch_of(
            "NegativeBinomial",
            &[("total_count", &total_count), (pname, &logits)],
        )?;
        Ok(NegativeBinomial {
            total_count,
            logits,
            batch,
        })
    }

    /// The number of failures `r`.
    pub fn total_count(&self) -> &Tensor {
        &self.total_count
    }
    /// The logits of the success probability.
    pub fn logits(&self) -> &Tensor {
        &self.logits
    }
    /// The success probability.
    pub fn probs(&self) -> Tensor {
        self.logits.sigmoid()
    }
}

impl Distribution for NegativeBinomial {
    fn name(&self) -> &'static str {
        "NegativeBinomial"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        let odds = self.logits.detach().exp();
        let r = self.total_count.detach();
        draw(rng, &self.batch, &[&r, &odds], |rng, a| {
            gamma_poisson_draw(rng, a[0], a[1])
        })
    }
    /// `-inf` unless the value is a whole number `>= 0`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        fused(
            [&value.detach(), &self.total_count, &self.logits],
            |[k, r, l]| ld::negative_binomial(k, r, l),
            |[k, r, l], needs| {
                let [dr, dl] = ld::negative_binomial_grad(k, r, l, needs[1]);
                [0.0, dr, dl]
            },
        )
    }
    fn support(&self) -> Constraint {
        Constraint::NonnegativeInteger
    }
    fn mean(&self) -> Result<Tensor> {
        (&self.total_count * self.logits.exp())
            .bcast(&self.batch)
            .check()
    }
    fn variance(&self) -> Result<Tensor> {
        let mean = &self.total_count * self.logits.exp();
        (mean / self.logits.neg().sigmoid())
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

/// GammaPoisson(concentration α, rate β): `Poisson(λ)` with `λ ~ Gamma(α, β)` summed out, as in
/// Pyro and NumPyro: `P(k) = Γ(α + k) / (k! Γ(α)) β^α / (1 + β)^(α + k)` on `k = 0, 1, ...`.
///
/// The same family as [`NegativeBinomial`] with `total_count = α`, `probs = 1 / (1 + β)`.
/// Differentiable in both parameters. Mean `α / β`, variance `α (1 + β) / β²`. `log_prob` is
/// `-inf` for a value that is not a whole number `>= 0`.
///
/// ```
/// use pyro_core::distributions::{Distribution, GammaPoisson};
/// let d = GammaPoisson::new(2.0, 1.0).unwrap();
/// // Γ(5) / (3! Γ(2)) 1 / 2^5
/// let lp = d.log_prob(&3.0.into()).item().unwrap();
/// assert!((lp - (4.0f64 / 32.0).ln()).abs() < 1e-12);
/// assert!(GammaPoisson::new(2.0, -1.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct GammaPoisson {
    concentration: Tensor,
    rate: Tensor,
    batch: Shape,
}

impl GammaPoisson {
    /// Errors unless `concentration > 0` and `rate > 0`, both finite.
    pub fn new(concentration: impl Into<Tensor>, rate: impl Into<Tensor>) -> Result<GammaPoisson> {
        let (concentration, rate) = (concentration.into(), rate.into());
        check_param(
            "GammaPoisson",
            "concentration",
            &concentration,
            "positive and finite",
            |x| x > 0.0 && x.is_finite(),
        )?;
        check_param("GammaPoisson", "rate", &rate, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        let batch = batch_of(
            "GammaPoisson",
            &[("concentration", &concentration), ("rate", &rate)],
        )?;
        Ok(GammaPoisson {
            concentration,
            rate,
            batch,
        })
    }
    /// The concentration α of the gamma-distributed rate.
    pub fn concentration(&self) -> &Tensor {
        &self.concentration
    }
    /// The rate β of the gamma-distributed rate.
    pub fn rate(&self) -> &Tensor {
        &self.rate
    }
}

impl Distribution for GammaPoisson {
    fn name(&self) -> &'static str {
        "GammaPoisson"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        let a = self.concentration.detach();
        let scale = self.rate.detach().recip();
        draw(rng, &self.batch, &[&a, &scale], |rng, p| {
            gamma_poisson_draw(rng, p[0], p[1])
        })
    }
    /// `-inf` unless the value is a whole number `>= 0`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        fused(
            [&value.detach(), &self.concentration, &self.rate],
            |[k, a, b]| ld::gamma_poisson(k, a, b),
            |[k, a, b], needs| {
                let [da, db] = ld::gamma_poisson_grad(k, a, b, needs[1]);
                [0.0, da, db]
            },
        )
    }
    fn support(&self) -> Constraint {
        Constraint::NonnegativeInteger
    }
    fn mean(&self) -> Result<Tensor> {
        (&self.concentration / &self.rate)
            .bcast(&self.batch)
            .check()
    }
    fn variance(&self) -> Result<Tensor> {
        (&self.concentration * (&self.rate + 1.0) / self.rate.square())
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
