//! The binomial distribution.

use rand_distr::Distribution as _;

use super::util::Bcast as _;
use super::util::{batch_of, check_param, draw, inside, not_integer_in, outside, tensor_of};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// Binomial(total_count n, probs p): the number of successes in `n` independent trials,
/// `P(k) = C(n, k) p^k (1-p)^(n-k)`.
///
/// Built from probabilities (`new`) or logits (`from_logits`); the log-mass is computed from
/// logits, `k l - n softplus(l) + ln C(n, k)`. `log_prob` is `-inf` for a value that is not a whole
/// number in `[0, n]`.
///
/// ```
/// use pyro_core::distributions::{Binomial, Distribution};
/// let d = Binomial::new(4.0, 0.5).unwrap();
/// let lp = d.log_prob(&2.0.into()).item().unwrap();
/// assert!((lp - (6.0f64 / 16.0).ln()).abs() < 1e-12);
/// assert!(Binomial::new(2.5, 0.5).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Binomial {
    total_count: Tensor,
    logits: Tensor,
    batch: Shape,
}

impl Binomial {
    /// Errors unless `total_count` is a whole number `>= 0` and every probability lies in `[0, 1]`.
    pub fn new(total_count: impl Into<Tensor>, probs: impl Into<Tensor>) -> Result<Binomial> {
        let probs = probs.into();
        check_param("Binomial", "probs", &probs, "in [0, 1]", |p| {
            (0.0..=1.0).contains(&p)
        })?;
        let logits = probs.ln() - (-&probs).ln_1p();
        Binomial::build(total_count.into(), logits, "probs")
    }

    /// Errors unless `total_count` is a whole number `>= 0` and no logit is NaN.
    pub fn from_logits(
        total_count: impl Into<Tensor>,
        logits: impl Into<Tensor>,
    ) -> Result<Binomial> {
        let logits = logits.into();
        check_param("Binomial", "logits", &logits, "a number", |x| !x.is_nan())?;
        Binomial::build(total_count.into(), logits, "logits")
    }

    fn build(total_count: Tensor, logits: Tensor, pname: &'static str) -> Result<Binomial> {
        check_param(
            "Binomial",
            "total_count",
            &total_count,
            "a whole number >= 0",
            |n| n >= 0.0 && n.fract() == 0.0 && n < 2f64.powi(53),
        )?;
        let total_count = total_count.detach();
        let batch = batch_of(
            "Binomial",
            &[("total_count", &total_count), (pname, &logits)],
        )?;
        Ok(Binomial {
            total_count,
            logits,
            batch,
        })
    }

    /// The number of trials.
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
    fn max_count(&self) -> f64 {
        self.total_count
            .values()
            .map_or(0.0, |v| v.iter().copied().fold(0.0, f64::max))
    }
}

impl Distribution for Binomial {
    fn name(&self) -> &'static str {
        "Binomial"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        let p = self.probs().detach();
        draw(rng, &self.batch, &[&self.total_count, &p], |rng, a| {
            rand_distr::Binomial::new(a[0] as u64, a[1]).map_or(f64::NAN, |b| b.sample(rng) as f64)
        })
    }
    /// `-inf` unless the value is a whole number in `[0, total_count]`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let n = &self.total_count;
        let bad = not_integer_in(value, 0.0, f64::INFINITY) + value.gt(n);
        let k = inside(value, &bad, 0.0);
        let l = &self.logits;
        let log_comb = (n + 1.0).lgamma() - (&k + 1.0).lgamma() - (n - &k + 1.0).lgamma();
        let ll = &k * l - n * l.softplus();
        outside(&(log_comb + ll), &bad)
    }
    fn support(&self) -> Constraint {
        Constraint::IntegerInterval(0, self.max_count() as i64)
    }
    /// Needs one `total_count` for the whole batch.
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        let counts = self.total_count.values()?;
        let n = counts[0];
        if counts.iter().any(|&c| c != n) {
            return Err(Error::Invalid(
                "Binomial::enumerate_support needs the same total_count across the batch".into(),
            ));
        }
        let m = n as usize + 1;
        let mut shape = Shape::from_slice(&[m]);
        shape.extend(std::iter::repeat_n(1, self.batch.len()));
        let values = tensor_of((0..m).map(|i| i as f64).collect(), &shape);
        if expand {
            let mut full = Shape::from_slice(&[m]);
            full.extend(self.batch.iter().copied());
            return values.bcast(&full).check();
        }
        values.check()
    }
    fn mean(&self) -> Result<Tensor> {
        Ok((&self.total_count * self.probs()).bcast(&self.batch))
    }
    fn variance(&self) -> Result<Tensor> {
        let p = self.probs();
        Ok((&self.total_count * &p * (1.0 - &p)).bcast(&self.batch))
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
