//! The multinomial distribution.

use rand_distr::Distribution as _;

use super::categorical::parse;
use super::log_density as ld;
use super::util::Bcast as _;
use super::util::{cat_shape, outside, tensor_of};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{broadcast_shapes, lgamma, masked_fill, Shape, Tensor};

/// Multinomial(total_count n, probs or logits): the counts of each of K categories in `n`
/// independent draws from a categorical distribution, `P(x) = n! / Π x_k! Π p_k^x_k` for whole
/// `x_k >= 0` with `Σ x_k = n`.
///
/// The categories are the last dimension of the parameter (event shape `[K]`), the rest is the
/// batch shape. Probabilities must be rows on the simplex (within 1e-6); logits are normalised.
/// `log_prob` is `-inf` for a value that is not a vector of whole numbers `>= 0` summing to `n`;
/// a category of probability zero contributes nothing when its count is zero (as in PyTorch).
/// Sampling draws the counts as a chain of binomials, `x_k ~ Binomial(n - Σ_{j<k} x_j,
/// p_k / Σ_{j>=k} p_j)`.
///
/// ```
/// use pyro_core::distributions::{Distribution, Multinomial};
/// let d = Multinomial::new(3, [0.2, 0.3, 0.5]).unwrap();
/// // 3! / (1! 1! 1!) 0.2 0.3 0.5
/// let lp = d.log_prob(&[1.0, 1.0, 1.0].into()).item().unwrap();
/// assert!((lp - (6.0f64 * 0.03).ln()).abs() < 1e-12);
/// assert_eq!(d.log_prob(&[1.0, 1.0, 0.0].into()).item().unwrap(), f64::NEG_INFINITY);
/// assert!(Multinomial::new(3, [0.2, 0.3]).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Multinomial {
    total_count: u64,
    /// Normalised logits (log-probabilities), `batch + [K]`.
    logits: Tensor,
    batch: Shape,
    k: usize,
}

impl Multinomial {
    /// From probabilities (last dimension: categories). Errors unless each row is on the simplex.
    pub fn new(total_count: u64, probs: impl Into<Tensor>) -> Result<Multinomial> {
        let (logits, batch, k) = parse("Multinomial", Some(probs.into()), None)?;
        Multinomial::build(total_count, logits, batch, k)
    }

    /// From unnormalised log-probabilities. Errors on NaN or `+inf`.
    pub fn from_logits(total_count: u64, logits: impl Into<Tensor>) -> Result<Multinomial> {
        let (logits, batch, k) = parse("Multinomial", None, Some(logits.into()))?;
        Multinomial::build(total_count, logits, batch, k)
    }

    fn build(total_count: u64, logits: Tensor, batch: Shape, k: usize) -> Result<Multinomial> {
        // Counts are carried as f64: beyond 2^53 they are no longer whole numbers.
        if total_count > 1 << 53 {
            return Err(Error::InvalidParameter {
                dist: "Multinomial",
                param: "total_count",
                reason: format!("must be at most 2^53, got {total_count}"),
            });
        }
        Ok(Multinomial {
            total_count,
            logits,
            batch,
            k,
        })
    }

    /// The number of draws.
    pub fn total_count(&self) -> u64 {
        self.total_count
    }
    /// The normalised logits (log-probabilities).
    pub fn logits(&self) -> &Tensor {
        &self.logits
    }
    /// The probabilities.
    pub fn probs(&self) -> Tensor {
        self.logits.exp()
    }
    /// The number of categories.
    pub fn num_categories(&self) -> usize {
        self.k
    }
}

/// Counts of one row: binomials along the categories on the remaining count and mass.
fn draw_row(rng: &mut Rng, n: u64, p: &[f64]) -> Vec<f64> {
    let mut left = n;
    let mut mass: f64 = p.iter().sum();
    let mut out = Vec::with_capacity(p.len());
    for (i, &pi) in p.iter().enumerate() {
        let x = if i + 1 == p.len() || left == 0 {
            left
        } else {
            let q = if mass > 0.0 {
                (pi / mass).clamp(0.0, 1.0)
            } else {
                0.0
            };
            rand_distr::Binomial::new(left, q).map_or(0, |b| b.sample(rng))
        };
        out.push(x as f64);
        left -= x;
        mass -= pi;
    }
    out
}

/// The log-masses of the rows of counts `x` (broadcast with the normalised `logits` to
/// `shape + [k]`) as a chain of binomials, `x_j ~ Binomial(n - Σ_{i<j} x_i, p_j / S_j)` with
/// `S_j = Σ_{i>=j} p_i`, each in Loader's saddle-point form ([`ld::binomial_raw`]), which has no
/// cancellation between `ln n!` and `Σ x_j ln p_j`. A row whose terms are not all finite (not a
/// count vector, or a probability that underflows where its count is not 0) keeps the direct
/// value: the second tensor is 1 where the first holds a chain value. `None` when the values
/// cannot be read.
fn accurate_rows(
    x: &Tensor,
    logits: &Tensor,
    k: usize,
    n: f64,
    shape: &[usize],
) -> Option<(Tensor, Tensor)> {
    let full = cat_shape(shape, &[k]);
    let xv = x.bcast(&full).to_vec().ok()?;
    let lv = logits.detach().bcast(&full).to_vec().ok()?;
    let mut out = Vec::with_capacity(xv.len() / k.max(1));
    let mut ok = Vec::with_capacity(out.capacity());
    let mut p = vec![0.0; k];
    let mut tail = vec![0.0; k + 1];
    for (xr, lr) in xv.chunks(k).zip(lv.chunks(k)) {
        for (pj, &l) in p.iter_mut().zip(lr) {
            *pj = l.exp();
        }
        for j in (0..k).rev() {
            tail[j] = tail[j + 1] + p[j];
        }
        let mut m = n;
        let mut total = 0.0;
        for j in 0..k {
            let xj = xr[j];
            if (p[j] == 0.0 && xj > 0.0) || tail[j] == 0.0 {
                total = f64::NAN;
                break;
            }
            total += ld::binomial_raw(xj, m - xj, p[j] / tail[j], tail[j + 1] / tail[j]);
            m -= xj;
        }
        ok.push(if total.is_finite() { 1.0 } else { 0.0 });
        out.push(if total.is_finite() { total } else { 0.0 });
    }
    Some((tensor_of(out, shape), tensor_of(ok, shape)))
}

impl Distribution for Multinomial {
    fn name(&self) -> &'static str {
        "Multinomial"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn event_shape(&self) -> Shape {
        Shape::from_slice(&[self.k])
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        let p = match self.logits.detach().exp().to_vec() {
            Ok(p) => p,
            Err(e) => return Tensor::poisoned(e),
        };
        let v: Vec<f64> = p
            .chunks(self.k)
            .flat_map(|row| draw_row(rng, self.total_count, row))
            .collect();
        tensor_of(v, &cat_shape(&self.batch, &[self.k]))
    }
    /// `-inf` unless the value is a vector of whole numbers `>= 0` summing to `total_count`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let k = self.k;
        if value.error().is_some() {
            return value.clone();
        }
        if value.shape().last() != Some(&k) {
            return Tensor::poisoned(Error::shape(
                "Multinomial::log_prob",
                format!(
                    "value of shape {:?} does not end in {k}, the number of categories",
                    value.shape()
                ),
            ));
        }
        let vb = &value.shape()[..value.ndim() - 1];
        if let Err(e) = broadcast_shapes(vb, &self.batch) {
            return Tensor::poisoned(Error::shape("Multinomial::log_prob", e.to_string()));
        }
        let n = self.total_count as f64;
        let x = value.detach();
        let bad_entry = super::util::not_integer_in(&x, 0.0, n);
        let bad = bad_entry.sum_dim(-1, false).gt(&Tensor::scalar(0.0))
            + (x.sum_dim(-1, false) - n).abs().gt(&Tensor::scalar(0.0));
        let x = super::util::inside(&x, &bad_entry, 0.0);
        // 0 · ln 0 = 0: a zero-probability category adds nothing when it is not drawn, and rules
        // the value out when it is.
        let neg_inf = self.logits.eq_mask(&Tensor::scalar(f64::NEG_INFINITY));
        let logits = masked_fill(&self.logits, &neg_inf, 0.0);
        let impossible = (&neg_inf * x.gt(&Tensor::scalar(0.0))).sum_dim(-1, false);
        let log_comb = lgamma(n + 1.0) - (&x + 1.0).lgamma().sum_dim(-1, false);
        let naive = log_comb + (&x * logits).sum_dim(-1, false);
        // The value from the chain of binomials (accurate where the two terms above cancel:
        // for n = 1e15 they are near 7e14 apart from a result near -17), the gradient from
        // `naive` (exact: it is linear in the logits): `accurate + (naive - naive)`.
        let lp = match accurate_rows(&x, &self.logits, self.k, n, naive.shape()) {
            Some((acc, ok)) => Tensor::where_(&ok, &(&naive - naive.detach() + acc), &naive),
            None => naive,
        };
        outside(&lp, &(bad + impossible))
    }
    fn support(&self) -> Constraint {
        Constraint::Multinomial(self.total_count)
    }
    fn mean(&self) -> Result<Tensor> {
        (self.probs() * self.total_count as f64).check()
    }
    fn variance(&self) -> Result<Tensor> {
        let p = self.probs();
        (&p * (1.0 - &p) * self.total_count as f64).check()
    }
    fn box_clone(&self) -> Box<dyn Distribution> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
