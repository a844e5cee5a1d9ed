//! The binomial distribution.

use rand_distr::Distribution as _;

use super::log_density as ld;
use super::util::Bcast as _;
use super::util::{batch_of, check_elementwise, check_param, draw, fused, tensor_of};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// Binomial(total_count n, probs p): the number of successes in `n` independent trials,
/// `P(k) = C(n, k) p^k (1-p)^(n-k)`.
///
/// Built from probabilities (`new`) or logits (`from_logits`). `log_prob` is `-inf` for a value
/// that is not a whole number in `[0, n]`; it is computed with Loader's saddle-point form
/// (accurate for any `n`: `Binomial(1e15, 0.5)` at `5e14` is `-17.495`, where the textbook
/// difference of `lgamma`s is off by several nats) and exact at `p = 0` and `p = 1`.
/// `enumerate_support` needs one `total_count` for the whole batch and at most
/// [`Binomial::MAX_ENUMERATED`] values.
///
/// ```
/// use pyro_core::distributions::{Binomial, Distribution};
/// let d = Binomial::new(4.0, 0.5).unwrap();
/// let lp = d.log_prob(&2.0.into()).item().unwrap();
/// assert!((lp - (6.0f64 / 16.0).ln()).abs() < 1e-12);
/// assert_eq!(Binomial::new(10.0, 1.0).unwrap().log_prob(&10.0.into()).item().unwrap(), 0.0);
/// assert!(Binomial::new(2.5, 0.5).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Binomial {
    total_count: Tensor,
    /// Given probabilities (`new`), if any: the log-mass then uses them (and `1 - p`) directly.
    probs: Option<Tensor>,
    logits: Tensor,
    batch: Shape,
}

impl Binomial {
    /// The most values [`Distribution::enumerate_support`] produces (`total_count + 1`).
    pub const MAX_ENUMERATED: usize = 1 << 20;

    /// Errors unless `total_count` is a whole number `>= 0` and every probability lies in `[0, 1]`.
    pub fn new(total_count: impl Into<Tensor>, probs: impl Into<Tensor>) -> Result<Binomial> {
        let probs = probs.into();
        check_param("Binomial", "probs", &probs, "in [0, 1]", |p| {
            (0.0..=1.0).contains(&p)
        })?;
        let logits = probs.ln() - (-&probs).ln_1p();
        Binomial::build(total_count.into(), Some(probs), logits, "probs")
    }

    /// Errors unless `total_count` is a whole number `>= 0` and no logit is NaN.
    pub fn from_logits(
        total_count: impl Into<Tensor>,
        logits: impl Into<Tensor>,
    ) -> Result<Binomial> {
        let logits = logits.into();
        check_param("Binomial", "logits", &logits, "a number", |x| !x.is_nan())?;
        Binomial::build(total_count.into(), None, logits, "logits")
    }

    fn build(
        total_count: Tensor,
        probs: Option<Tensor>,
        logits: Tensor,
        pname: &'static str,
    ) -> Result<Binomial> {
        check_param(
            "Binomial",
            "total_count",
            &total_count,
            "a whole number in [0, 2^53]",
            |n| n >= 0.0 && n.fract() == 0.0 && n <= 2f64.powi(53),
        )?;
        let total_count = total_count.detach();
        let batch = batch_of(
            "Binomial",
            &[("total_count", &total_count), (pname, &logits)],
        )?;
        Ok(Binomial {
            total_count,
            probs,
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
        match &self.probs {
            Some(p) => p.clone(),
            None => self.logits.sigmoid(),
        }
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
            // total_count <= 2^53 and p in [0, 1] (checked at construction): always valid.
            rand_distr::Binomial::new(a[0] as u64, a[1].clamp(0.0, 1.0))
                .map_or(0.0, |b| b.sample(rng) as f64)
        })
    }
    /// `-inf` unless the value is a whole number in `[0, total_count]`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let k = value.detach();
        match &self.probs {
            Some(p) => fused(
                [&k, &self.total_count, p],
                |[k, n, p]| ld::binomial(k, n, p, 1.0 - p),
                |[k, n, p], _| [0.0, 0.0, ld::binomial_d_probs(k, n, p, 1.0 - p)],
            ),
            None => fused(
                [&k, &self.total_count, &self.logits],
                |[k, n, l]| ld::binomial_logits(k, n, l),
                |[k, n, l], _| [0.0, 0.0, ld::binomial_logits_d_logits(k, n, l)],
            ),
        }
    }
    fn support(&self) -> Constraint {
        Constraint::IntegerInterval(0, self.max_count() as i64)
    }
    /// Each value against its own `total_count`.
    fn check_support(&self, value: &Tensor) -> Result<()> {
        check_elementwise(
            self,
            value,
            [&self.total_count],
            |k, [n]| ld::is_count(k, n),
            |[n]| Constraint::IntegerInterval(0, n as i64),
        )
    }
    /// Needs one `total_count` for the whole batch (and a non-empty batch), and at most
    /// [`Binomial::MAX_ENUMERATED`] values: otherwise an error, before anything is allocated.
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        let counts = self.total_count.values()?;
        let Some(&n) = counts.first() else {
            return Err(Error::Invalid(
                "Binomial::enumerate_support of an empty batch: there is no total_count to \
                 enumerate"
                    .into(),
            ));
        };
        if counts.iter().any(|&c| c != n) {
            return Err(Error::Invalid(
                "Binomial::enumerate_support needs the same total_count across the batch".into(),
            ));
        }
        if n >= Self::MAX_ENUMERATED as f64 {
            return Err(Error::Invalid(format!(
                "Binomial::enumerate_support with total_count {n} would enumerate {} values; \
                 at most {} are supported",
                n + 1.0,
                Self::MAX_ENUMERATED
            )));
        }
        let m = n as usize + 1;
        let mut shape = Shape::from_slice(&[m]);
        shape.extend(std::iter::repeat_n(1, self.batch.len()));
        let values = tensor_of((0..m).map(|i| i as f64).collect(), &shape);
        if expand {
            let mut full = Shape::from_slice(&[m]);
            full.extend(self.batch.iter().copied());
            let total = full
                .iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d))
                .filter(|&t| t <= Self::MAX_ENUMERATED.saturating_mul(64));
            if total.is_none() {
                return Err(Error::Invalid(format!(
                    "Binomial::enumerate_support(expand = true) of shape {:?} is too large",
                    full.as_slice()
                )));
            }
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
