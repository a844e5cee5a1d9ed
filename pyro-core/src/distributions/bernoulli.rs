//! The Bernoulli distribution, parameterised by probabilities or by logits.

use std::cell::OnceCell;

use rand::Rng as _;

use super::fused::{log_density, log_density_sum, Kernel};
use super::log_density as ld;
use super::util::Bcast as _;
use super::util::{batch_of, check_param};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// Bernoulli(p): `P(x = 1) = p`, `P(x = 0) = 1 - p`.
///
/// Built from probabilities (`new`) or from logits (`from_logits`). The log-density is one fused
/// tape operation: `ln p` or `ln(1 - p)` from probabilities (exact at p = 0 or 1 where the value
/// has probability 1), `-softplus(-l)` or `-softplus(l)` from logits (exact for any logit,
/// infinite ones included). `log_prob` of a value outside `{0, 1}` is the cross-entropy
/// `x ln p + (1 - x) ln(1 - p)` (soft targets), not `-inf`: sample sites refuse such observations
/// unless validation is switched off.
///
/// ```
/// use pyro_core::distributions::{Bernoulli, Distribution};
/// let d = Bernoulli::new(0.25).unwrap();
/// let lp = d.log_prob(&1.0.into()).item().unwrap();
/// assert!((lp - 0.25f64.ln()).abs() < 1e-12);
/// assert!(Bernoulli::new(1.5).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Bernoulli {
    /// Given probabilities (`new`), if any.
    probs: Option<Tensor>,
    /// Given logits (`from_logits`), or derived from the probabilities on first use.
    logits: OnceCell<Tensor>,
    batch: Shape,
}

impl Bernoulli {
    /// Errors unless every probability lies in `[0, 1]`.
    pub fn new(probs: impl Into<Tensor>) -> Result<Bernoulli> {
        let probs = probs.into();
        check_param("Bernoulli", "probs", &probs, "in [0, 1]", |p| {
            (0.0..=1.0).contains(&p)
        })?;
        let batch = batch_of("Bernoulli", &[("probs", &probs)])?;
        Ok(Bernoulli {
            probs: Some(probs),
            logits: OnceCell::new(),
            batch,
        })
    }

    /// Errors if a logit is NaN.
    pub fn from_logits(logits: impl Into<Tensor>) -> Result<Bernoulli> {
        let logits = logits.into();
        check_param("Bernoulli", "logits", &logits, "a number", |x| !x.is_nan())?;
        let batch = batch_of("Bernoulli", &[("logits", &logits)])?;
        Ok(Bernoulli {
            probs: None,
            logits: OnceCell::from(logits),
            batch,
        })
    }

    /// The logits `ln(p / (1 - p))`.
    pub fn logits(&self) -> &Tensor {
        self.logits.get_or_init(|| match &self.probs {
            // logit(p) = ln p - ln(1 - p); ±inf at the ends.
            Some(p) => p.ln() - (-p).ln_1p(),
            None => Tensor::scalar(f64::NAN),
        })
    }

    /// The probabilities `P(x = 1)`.
    pub fn probs(&self) -> Tensor {
        match &self.probs {
            Some(p) => p.clone(),
            None => self.logits().sigmoid(),
        }
    }
}

impl Distribution for Bernoulli {
    fn name(&self) -> &'static str {
        "Bernoulli"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        let p = self.probs().bcast(&self.batch);
        match p.values() {
            Ok(ps) => {
                let v: Vec<f64> = ps
                    .iter()
                    .map(|&p| f64::from(u8::from(rng.random::<f64>() < p)))
                    .collect();
                if self.batch.is_empty() {
                    Tensor::scalar(v[0])
                } else {
                    Tensor::new(v, &self.batch).unwrap_or_else(Tensor::poisoned)
                }
            }
            Err(e) => Tensor::poisoned(e),
        }
    }
    fn log_prob(&self, value: &Tensor) -> Tensor {
        match &self.probs {
            Some(p) => log_density::<FromProbs, 2>([p, value]),
            None => log_density::<FromLogits, 2>([self.logits(), value]),
        }
    }
    fn log_prob_sum(&self, value: &Tensor) -> Tensor {
        match &self.probs {
            Some(p) => log_density_sum::<FromProbs, 2>([p, value]),
            // Logits and values of one shape (a likelihood over a plate): value and gradient
            // in one pass.
            None if self.logits().shape() == value.shape() => {
                super::fused::bernoulli_logits_sum(self.logits(), value)
            }
            None => log_density_sum::<FromLogits, 2>([self.logits(), value]),
        }
    }
    fn support(&self) -> Constraint {
        Constraint::Boolean
    }
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        // Values along a new leftmost dim, shaped (2, 1, ..., 1) or expanded to (2, batch...).
        let mut shape: Shape = Shape::from_slice(&[2]);
        shape.extend(std::iter::repeat_n(1, self.batch.len()));
        let values = Tensor::new(vec![0.0, 1.0], &shape)?;
        if expand {
            let mut full = Shape::from_slice(&[2]);
            full.extend(self.batch.iter().copied());
            return values.bcast(&full).check();
        }
        Ok(values)
    }
    fn mean(&self) -> Result<Tensor> {
        Ok(self.probs())
    }
    fn variance(&self) -> Result<Tensor> {
        let p = self.probs();
        Ok(&p * (-&p + 1.0))
    }
    fn entropy(&self) -> Result<Tensor> {
        let p = self.probs();
        Ok(self.logits().softplus() - &p * self.logits())
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

/// rel-dist's `log_density::bernoulli_probs`: `ln p` at 1, `ln(1 - p)` at 0 (exact, also at
/// `p = 0` or 1), the cross-entropy elsewhere.
struct FromProbs;

impl Kernel<2> for FromProbs {
    const NAME: &'static str = "Bernoulli";
    #[inline]
    fn value([p, x]: [f64; 2]) -> f64 {
        ld::bernoulli_probs(p, x)
    }
    #[inline]
    fn partial([p, x]: [f64; 2], k: usize) -> f64 {
        if !ld::bernoulli_probs(p, x).is_finite() {
            return 0.0;
        }
        if k == 1 {
            p.ln() - (-p).ln_1p()
        } else {
            ld::bernoulli_probs_grad(p, x)
        }
    }
}

/// rel-dist's `log_density::bernoulli_logits`: `-softplus(-l)` at 1, `-softplus(l)` at 0, exact
/// for infinite logits.
struct FromLogits;

impl Kernel<2> for FromLogits {
    const NAME: &'static str = "Bernoulli";
    #[inline]
    fn value([l, x]: [f64; 2]) -> f64 {
        ld::bernoulli_logits(l, x)
    }
    #[inline]
    fn partial([l, x]: [f64; 2], k: usize) -> f64 {
        if k == 1 {
            l
        } else {
            ld::bernoulli_logits_grad(l, x)
        }
    }
}
