//! The Bernoulli distribution, parameterised by probabilities or by logits.

use std::cell::OnceCell;

use rand::Rng as _;

use super::log_density;
use super::util::Bcast as _;
use super::util::{batch_of, check_param};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{broadcast_shapes, custom_elementwise, fastmath, Shape, Tensor};

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
            Some(p) => fused(
                p,
                value,
                log_density::bernoulli_probs,
                log_density::bernoulli_probs_grad,
            ),
            None => fused(
                self.logits(),
                value,
                log_density::bernoulli_logits,
                log_density::bernoulli_logits_grad,
            ),
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
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The log-density `f(param, x)` as one tape operation whose derivative in `param` is
/// `df(param, x)` (the value is discrete: no gradient flows into it).
fn fused(
    param: &Tensor,
    value: &Tensor,
    f: impl Fn(f64, f64) -> f64,
    df: impl Fn(f64, f64) -> f64,
) -> Tensor {
    let shape = match broadcast_shapes(param.shape(), value.shape()) {
        Ok(s) => s,
        Err(e) => return Tensor::poisoned(e),
    };
    let (pb, xb) = (param.detach().bcast(&shape), value.detach().bcast(&shape));
    let (pv, xv) = match (pb.values(), xb.values()) {
        (Ok(p), Ok(x)) => (p, x),
        (Err(e), _) | (_, Err(e)) => return Tensor::poisoned(e),
    };
    if shape.is_empty() {
        let (lp, g) = (f(pv[0], xv[0]), df(pv[0], xv[0]));
        return custom_elementwise(&[param], Tensor::scalar(lp), &[Tensor::scalar(g)]);
    }
    // Two vectorised passes rather than one that builds pairs.
    let (mut lp, mut g) = (vec![0.0; pv.len()], vec![0.0; pv.len()]);
    fastmath::zip_into(&mut lp, pv, xv, f);
    fastmath::zip_into(&mut g, pv, xv, df);
    match (Tensor::new(lp, &shape), Tensor::new(g, &shape)) {
        (Ok(lp), Ok(g)) => custom_elementwise(&[param], lp, &[g]),
        (Err(e), _) | (_, Err(e)) => Tensor::poisoned(e),
    }
}
