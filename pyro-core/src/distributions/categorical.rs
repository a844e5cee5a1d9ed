//! The categorical and one-hot categorical distributions.

use rand::Rng as _;

use super::util::Bcast as _;
use super::util::{cat_shape, check_param, outside, tensor_of};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{record, Aux, BackwardArgs, Data, GradBuf, InputGrads, Shape, Tensor};

/// Normalised logits from probabilities or logits along the last dimension, with the batch
/// shape and the number of categories.
pub(super) fn parse(
    dist: &'static str,
    probs: Option<Tensor>,
    logits: Option<Tensor>,
) -> Result<(Tensor, Shape, usize)> {
    let (t, pname) = match (&probs, &logits) {
        (Some(p), _) => (p, "probs"),
        (_, Some(l)) => (l, "logits"),
        _ => unreachable!(),
    };
    let shape = t.shape();
    let k = match shape.last() {
        Some(&k) if k >= 1 => k,
        _ => {
            return Err(Error::InvalidParameter {
                dist,
                param: pname,
                reason: format!("must have a last dimension (the categories), got shape {shape:?}"),
            })
        }
    };
    let batch = Shape::from_slice(&shape[..shape.len() - 1]);
    let logits = if let Some(p) = probs {
        check_param(dist, "probs", &p, "in [0, 1]", |x| (0.0..=1.0).contains(&x))?;
        let sums: Vec<f64> = p.raw().chunks(k).map(|row| row.iter().sum()).collect();
        if let Some(s) = sums.iter().find(|s| s.is_nan() || (*s - 1.0).abs() > 1e-6) {
            return Err(Error::InvalidParameter {
                dist,
                param: "probs",
                reason: format!(
                    "must be a simplex (rows summing to 1 within 1e-6; row sum, got a row \
                     summing to {s})"
                ),
            });
        }
        log_normalized(&p, k, &sums)
    } else {
        let l = logits.unwrap_or_else(|| Tensor::scalar(0.0));
        check_param(dist, "logits", &l, "a number below +inf", |x| {
            !x.is_nan() && x < f64::INFINITY
        })?;
        // A row of -inf only has no normalisation (every probability would be 0/0).
        if l.detach()
            .logsumexp_dim(-1, false)
            .values()?
            .iter()
            .any(|s| !s.is_finite())
        {
            return Err(Error::InvalidParameter {
                dist,
                param: "logits",
                reason: "must have a finite logit in every row, got a row of -inf".into(),
            });
        }
        &l - l.logsumexp_dim(-1, true)
    };
    Ok((logits, batch, k))
}

/// `ln p - ln Σ p` along the last dim (of size `k`, with the row sums given), as one tape node:
/// one pass forward and one backward, where `ln` then `logsumexp` took four nodes and an
/// exponential per entry each way.
fn log_normalized(p: &Tensor, k: usize, sums: &[f64]) -> Tensor {
    // Written into a buffer of the known size (a `flat_map` collect grows it entry by entry).
    let raw = p.raw();
    let mut v = vec![0.0; raw.len()];
    for ((out, row), s) in v.chunks_mut(k).zip(raw.chunks(k)).zip(sums) {
        let ls = ln_sum(row, *s);
        for (o, &x) in out.iter_mut().zip(row) {
            *o = x.ln() - ls;
        }
    }
    record(
        &[p],
        Shape::from_slice(p.shape()),
        Data::from_vec(v),
        log_normalized_bw,
        Aux::None,
    )
}

/// `ln Σ p` for a row summing to `s` (within 1e-6 of 1): `ln p_max + ln_1p(Σ_{others} / p_max)`,
/// so that the small probabilities still count where `s` rounds to the largest one
/// (`[1e-300, 1]` sums to 1, but `ln(1 + 1e-300)` is 1e-300, the log-probability of category 1).
fn ln_sum(row: &[f64], s: f64) -> f64 {
    let Some((m, &pm)) = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) else {
        return s.ln();
    };
    if pm <= 0.0 {
        return s.ln();
    }
    let rest: f64 = row
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != m)
        .map(|(_, &x)| x)
        .sum();
    pm.ln() + (rest / pm).ln_1p()
}

fn log_normalized_bw(args: &BackwardArgs<'_>) -> InputGrads {
    // d/dp_j (ln p_i - ln S) = [i = j] / p_i - 1 / S.
    let (p, _) = args.inputs[0];
    let k = args.out_shape.last().copied().unwrap_or(1).max(1);
    let mut g = GradBuf::with_capacity(p.len());
    for (row, grow) in p.chunks(k).zip(args.grad.chunks(k)) {
        let s: f64 = row.iter().sum();
        let mean = grow.iter().sum::<f64>() / s;
        g.extend(
            row.iter()
                .zip(grow)
                .map(|(&x, &gi)| if gi == 0.0 { -mean } else { gi / x - mean }),
        );
    }
    smallvec::smallvec![Some(g)]
}

fn draw_categories(logits: &Tensor, k: usize, rng: &mut Rng) -> Result<Vec<usize>> {
    let p = logits.detach().exp();
    let v = p.values()?;
    Ok(v.chunks(k)
        .map(|row| {
            let u: f64 = rng.random::<f64>() * row.iter().sum::<f64>();
            let mut acc = 0.0;
            for (i, &pi) in row.iter().enumerate() {
                acc += pi;
                if u < acc {
                    return i;
                }
            }
            row.iter().rposition(|&x| x > 0.0).unwrap_or(k - 1)
        })
        .collect())
}

/// The log-probabilities `logits[..., value]` for category indices `value` (shape broadcast with
/// the batch); `-inf` where the value is not a whole number in `[0, k)`.
fn log_prob_index(logits: &Tensor, batch: &[usize], k: usize, value: &Tensor) -> Tensor {
    if let Some(lp) = log_prob_enumerated(logits, batch, k, value) {
        return lp;
    }
    let b = match crate::tensor::broadcast_shapes(value.shape(), batch) {
        Ok(b) => b,
        Err(e) => return Tensor::poisoned(Error::shape("Categorical::log_prob", e.to_string())),
    };
    let bad = super::util::not_integer_in(value, 0.0, (k - 1) as f64).bcast(&b);
    let idx = value
        .detach()
        .map_const(|v| {
            if v >= 0.0 && v < k as f64 {
                v.floor()
            } else {
                0.0
            }
        })
        .bcast(&b)
        .unsqueeze(-1);
    let l = logits.bcast(&cat_shape(&b, &[k]));
    let lp = l.gather(-1, &idx).squeeze(-1);
    outside(&lp, &bad)
}

/// The log-probabilities of the enumerated support (the values `0..k` along the first dim of
/// `value`, every other dim 1, as enumeration lays them out) where the batch has size 1 along
/// that dim: the logits with their category axis moved there. No gather, and no broadcast of the
/// logits to `k` times their size (Pyro's `Categorical.log_prob` does the same for enumerated
/// values). `None` for any other value.
fn log_prob_enumerated(
    logits: &Tensor,
    batch: &[usize],
    k: usize,
    value: &Tensor,
) -> Option<Tensor> {
    let vs = value.shape();
    if vs.first() != Some(&k) || vs[1..].iter().any(|&d| d != 1) {
        return None;
    }
    let v = value.values().ok()?;
    if v.iter().enumerate().any(|(i, &x)| x != i as f64) {
        return None;
    }
    let n = batch.len().max(vs.len());
    let at = n - vs.len();
    let mut shape: Shape = std::iter::repeat_n(1, n - batch.len()).collect();
    shape.extend_from_slice(batch);
    if shape[at] != 1 {
        return None;
    }
    // [before, 1, after, k] -> [before, k, after]: a transpose of the last two axes of
    // [before, after, k], and no data movement at all where nothing comes after.
    let before: usize = shape[..at].iter().product();
    let after: usize = shape[at + 1..].iter().product();
    shape[at] = k;
    let lp = if after == 1 {
        logits.reshape(&shape)
    } else {
        logits
            .reshape(&[before, after, k])
            .transpose()
            .reshape(&shape)
    };
    Some(lp)
}

/// `-Σ p ln p` along the last dimension, 0 where `p = 0`.
fn entropy_of(logits: &Tensor) -> Tensor {
    let p = logits.exp();
    let plogp = crate::tensor::masked_fill(&(&p * logits), &p.eq_mask(&Tensor::scalar(0.0)), 0.0);
    -plogp.sum_dim(-1, false)
}

/// Categorical(probs or logits): values `0..K` (as `f64`), with `P(k) = probs[..., k]`; the
/// categories are the last dimension of the parameter, the rest is the batch shape.
///
/// Probabilities must be non-negative rows summing to one within 1e-6; logits are normalised
/// (`logits - logsumexp(logits)`). `log_prob` is `-inf` for a value that is not a whole number in
/// `[0, K)`. Mean and variance are undefined (an error).
///
/// ```
/// use pyro_core::distributions::{Categorical, Distribution};
/// let d = Categorical::new([0.2, 0.3, 0.5]).unwrap();
/// assert!((d.log_prob(&2.0.into()).item().unwrap() - 0.5f64.ln()).abs() < 1e-12);
/// assert_eq!(d.enumerate_support(true).unwrap().shape(), &[3]);
/// assert!(Categorical::new([0.2, 0.3]).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Categorical {
    logits: Tensor,
    batch: Shape,
    k: usize,
}

impl Categorical {
    /// From probabilities (last dimension: categories). Errors unless each row is on the simplex.
    pub fn new(probs: impl Into<Tensor>) -> Result<Categorical> {
        let (logits, batch, k) = parse("Categorical", Some(probs.into()), None)?;
        Ok(Categorical { logits, batch, k })
    }
    /// From unnormalised log-probabilities. Errors on NaN or `+inf`.
    pub fn from_logits(logits: impl Into<Tensor>) -> Result<Categorical> {
        let (logits, batch, k) = parse("Categorical", None, Some(logits.into()))?;
        Ok(Categorical { logits, batch, k })
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

impl Distribution for Categorical {
    fn name(&self) -> &'static str {
        "Categorical"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        match draw_categories(&self.logits, self.k, rng) {
            Ok(ix) => tensor_of(ix.into_iter().map(|i| i as f64).collect(), &self.batch),
            Err(e) => Tensor::poisoned(e),
        }
    }
    /// `-inf` unless the value is a whole number in `[0, K)`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        log_prob_index(&self.logits, &self.batch, self.k, value)
    }
    fn support(&self) -> Constraint {
        Constraint::IntegerInterval(0, self.k as i64 - 1)
    }
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        let mut shape = Shape::from_slice(&[self.k]);
        shape.extend(std::iter::repeat_n(1, self.batch.len()));
        let values = tensor_of((0..self.k).map(|i| i as f64).collect(), &shape);
        if expand {
            return values.bcast(&cat_shape(&[self.k], &self.batch)).check();
        }
        values.check()
    }
    fn entropy(&self) -> Result<Tensor> {
        Ok(entropy_of(&self.logits))
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

/// OneHotCategorical(probs or logits): like [`Categorical`] but each value is a one-hot vector of
/// length K (event shape `[K]`).
///
/// `log_prob` reads the category of the (first) 1 in each vector; it is `-inf` for a vector that
/// is not one-hot.
///
/// ```
/// use pyro_core::distributions::{Distribution, OneHotCategorical};
/// let d = OneHotCategorical::new([0.2, 0.8]).unwrap();
/// assert!((d.log_prob(&[0.0, 1.0].into()).item().unwrap() - 0.8f64.ln()).abs() < 1e-12);
/// assert_eq!(d.enumerate_support(false).unwrap().shape(), &[2, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct OneHotCategorical {
    cat: Categorical,
}

impl OneHotCategorical {
    /// From probabilities; errors unless each row is on the simplex.
    pub fn new(probs: impl Into<Tensor>) -> Result<OneHotCategorical> {
        let (logits, batch, k) = parse("OneHotCategorical", Some(probs.into()), None)?;
        Ok(OneHotCategorical {
            cat: Categorical { logits, batch, k },
        })
    }
    /// From unnormalised log-probabilities. Errors on NaN or `+inf`.
    pub fn from_logits(logits: impl Into<Tensor>) -> Result<OneHotCategorical> {
        let (logits, batch, k) = parse("OneHotCategorical", None, Some(logits.into()))?;
        Ok(OneHotCategorical {
            cat: Categorical { logits, batch, k },
        })
    }
    /// The normalised logits.
    pub fn logits(&self) -> &Tensor {
        &self.cat.logits
    }
    /// The probabilities.
    pub fn probs(&self) -> Tensor {
        self.cat.probs()
    }
}

impl Distribution for OneHotCategorical {
    fn name(&self) -> &'static str {
        "OneHotCategorical"
    }
    fn batch_shape(&self) -> Shape {
        self.cat.batch.clone()
    }
    fn event_shape(&self) -> Shape {
        Shape::from_slice(&[self.cat.k])
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        let k = self.cat.k;
        match draw_categories(&self.cat.logits, k, rng) {
            Ok(ix) => {
                let mut v = vec![0.0; ix.len() * k];
                for (r, i) in ix.into_iter().enumerate() {
                    v[r * k + i] = 1.0;
                }
                tensor_of(v, &cat_shape(&self.cat.batch, &[k]))
            }
            Err(e) => Tensor::poisoned(e),
        }
    }
    /// `-inf` unless the value is one-hot.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let k = self.cat.k;
        let Ok(v) = value.values() else {
            return value.clone();
        };
        if value.shape().last() != Some(&k) {
            return Tensor::poisoned(Error::shape(
                "OneHotCategorical::log_prob",
                format!("value of shape {:?} does not end in {k}", value.shape()),
            ));
        }
        let rows: Vec<f64> = v
            .chunks(k)
            .map(|row| {
                let ones = row.iter().filter(|&&x| x == 1.0).count();
                let zeros = row.iter().filter(|&&x| x == 0.0).count();
                if ones == 1 && zeros == k - 1 {
                    row.iter().position(|&x| x == 1.0).unwrap_or(0) as f64
                } else {
                    -1.0
                }
            })
            .collect();
        let s = value.shape();
        let index = tensor_of(rows, &s[..s.len() - 1]);
        log_prob_index(&self.cat.logits, &self.cat.batch, k, &index)
    }
    fn support(&self) -> Constraint {
        Constraint::OneHot
    }
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        let k = self.cat.k;
        let mut shape = Shape::from_slice(&[k]);
        shape.extend(std::iter::repeat_n(1, self.cat.batch.len()));
        shape.push(k);
        let values = Tensor::eye(k).reshape(&shape);
        if expand {
            let full = cat_shape(&cat_shape(&[k], &self.cat.batch), &[k]);
            return values.bcast(&full).check();
        }
        values.check()
    }
    fn mean(&self) -> Result<Tensor> {
        Ok(self.cat.probs())
    }
    fn variance(&self) -> Result<Tensor> {
        let p = self.cat.probs();
        Ok(&p * (1.0 - &p))
    }
    fn entropy(&self) -> Result<Tensor> {
        Ok(entropy_of(&self.cat.logits))
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
