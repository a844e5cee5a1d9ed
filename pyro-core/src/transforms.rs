//! Bijections from unconstrained space onto each continuous [`Constraint`], with their log
//! absolute Jacobian determinants. This is how `param!(.., constraint = ..)` and the autoguides
//! optimise constrained values in unconstrained space (Pyro's `biject_to`).
//!
//! | constraint | bijector | unconstrained shape |
//! |---|---|---|
//! | real, real_vector | identity | same |
//! | positive | `exp` | same |
//! | greater_than(a) | `a + exp(x)` | same |
//! | less_than(b) | `b - exp(x)` | same |
//! | unit_interval | `sigmoid` | same |
//! | interval(a, b) | `a + (b - a) sigmoid(x)` | same |
//! | simplex | stick-breaking (Pyro's `StickBreakingTransform`) | `(.., K - 1)` for `(.., K)` |
//! | lower_cholesky | strict lower triangle kept, `exp` on the diagonal | same `(.., n, n)` |
//! | corr_cholesky | `tanh`, then stick-breaking along each row (PyTorch's `CorrCholeskyTransform`) | `(.., n (n - 1) / 2)` for `(.., n, n)` |
//!
//! For `lower_cholesky` the unconstrained value is an `n x n` matrix as in Pyro's
//! `LowerCholeskyTransform`: its upper triangle is ignored by [`Transform::forward`] and set to
//! zero by [`Transform::inverse`]; the Jacobian determinant is the one of the map restricted to the
//! `n (n + 1) / 2` free entries (`Σ diag(x)`).
//!
//! For `corr_cholesky` the unconstrained value is the vector of the `n (n - 1) / 2` entries below
//! the diagonal, row by row (`(1, 0), (2, 0), (2, 1), (3, 0), ..`). Each becomes a partial
//! correlation `r = tanh(x)` in `(-1, 1)`, and row `i` of the factor is built by stick-breaking:
//! `L_ij = r_ij sqrt(1 - Σ_{k<j} L_ik²)` below the diagonal, `L_ii = sqrt(1 - Σ_{k<i} L_ik²)`, so
//! that every row has unit norm. The log-Jacobian is the one of the map onto the strictly lower
//! triangle (the diagonal is determined by it), as in PyTorch and NumPyro:
//! `Σ ln(1 - tanh² x) + ½ Σ_{i, 1 <= j < i} ln(1 - Σ_{k<j} L_ik²)`; its shape is the batch shape,
//! `x`'s shape less one dimension.
//!
//! ```
//! use pyro_core::constraints::simplex;
//! use pyro_core::transforms::{biject_to, Transform};
//! use pyro_core::Tensor;
//! let t = biject_to(&simplex()).unwrap();
//! let y = t.forward(&Tensor::from_slice(&[0.3, -1.0]));
//! assert_eq!(y.shape(), &[3]);
//! assert!((y.sum().item().unwrap() - 1.0).abs() < 1e-12);
//! ```

use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::tensor::{masked_fill, Shape, Tensor};

/// A differentiable bijection between unconstrained and constrained values.
pub trait Transform {
    /// Unconstrained `x` to constrained `y`.
    fn forward(&self, x: &Tensor) -> Tensor;
    /// Constrained `y` back to unconstrained `x`.
    fn inverse(&self, y: &Tensor) -> Tensor;
    /// `ln |det dy/dx|`, summed over the event dimensions: its shape is the batch shape of `y`
    /// (`y`'s shape less [`Transform::event_dim`] rightmost dimensions).
    fn log_abs_det_jacobian(&self, x: &Tensor, y: &Tensor) -> Tensor;
    /// Number of rightmost dimensions that form one event of the constrained value.
    fn event_dim(&self) -> usize;
}

/// The bijections that [`biject_to`] returns.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Bijector {
    /// `y = x`, with the given event dimension (0 for real, 1 for real_vector).
    Identity(usize),
    /// `y = exp(x)`.
    Exp,
    /// `y = sigmoid(x)`.
    Sigmoid,
    /// `y = lower + (upper - lower) sigmoid(x)`.
    Interval(f64, f64),
    /// `y = lower + exp(x)`.
    GreaterThan(f64),
    /// `y = upper - exp(x)`.
    LessThan(f64),
    /// Stick-breaking: `(.., K - 1)` reals to the `K`-simplex.
    StickBreaking,
    /// `(.., n, n)` reals to lower-triangular matrices with a positive (exponentiated) diagonal.
    LowerCholesky,
    /// `(.., n (n - 1) / 2)` reals to Cholesky factors of correlation matrices `(.., n, n)`.
    CorrCholesky,
}

/// Sums the last `k` dimensions.
fn sum_last(t: &Tensor, k: usize) -> Tensor {
    let mut t = t.clone();
    for _ in 0..k {
        t = t.sum_dim(-1, false);
    }
    t
}

/// `ln sigmoid(x) + ln sigmoid(-x)`: the log-derivative of the sigmoid.
fn log_dsigmoid(x: &Tensor) -> Tensor {
    x.log_sigmoid() + x.neg().log_sigmoid()
}

/// The stick-breaking offsets `ln(K - 1 - i)` for `i < K - 1` (so that `x = 0` maps to the
/// centre of the simplex).
fn stick_offset(km1: usize) -> Tensor {
    Tensor::from(
        (0..km1)
            .map(|i| ((km1 - i) as f64).ln())
            .collect::<Vec<_>>(),
    )
}

/// Masks (diagonal, strictly lower) for `n x n` matrices.
fn tri_masks(n: usize) -> (Tensor, Tensor) {
    let mut d = vec![0.0; n * n];
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        d[i * n + i] = 1.0;
        for j in 0..i {
            l[i * n + j] = 1.0;
        }
    }
    (
        Tensor::new(d, &[n, n]).unwrap_or_else(Tensor::poisoned),
        Tensor::new(l, &[n, n]).unwrap_or_else(Tensor::poisoned),
    )
}

fn need_vector(t: &Tensor, op: &str) -> Option<Tensor> {
    if t.error().is_some() {
        return Some(t.clone());
    }
    (t.ndim() == 0).then(|| {
        Tensor::poisoned(Error::shape(
            op,
            "a simplex value needs at least one dimension, got a 0-d tensor",
        ))
    })
}

fn need_square(t: &Tensor, op: &str) -> Option<Tensor> {
    if t.error().is_some() {
        return Some(t.clone());
    }
    let s = t.shape();
    (s.len() < 2 || s[s.len() - 1] != s[s.len() - 2]).then(|| {
        Tensor::poisoned(Error::shape(
            op,
            format!("lower_cholesky needs square matrices (.., n, n), got shape {s:?}"),
        ))
    })
}

/// The matrix size `n` with `n (n - 1) / 2 = m`, if there is one.
fn corr_size(m: usize) -> Option<usize> {
    let n = ((1.0 + (1.0 + 8.0 * m as f64).sqrt()) / 2.0).round() as usize;
    (n >= 1 && n * (n - 1) / 2 == m).then_some(n)
}

/// Flat indices `i n + j` of the entries with `j <= i - offset` of an `n x n` matrix, row by row
/// (`offset = 1`: strictly below the diagonal).
fn strict_lower_indices(n: usize, offset: usize) -> Vec<usize> {
    (0..n)
        .flat_map(|i| (0..i.saturating_sub(offset - 1)).map(move |j| i * n + j))
        .collect()
}

/// `m x n²` matrix scattering a row-major strict-lower vector into a flattened `n x n` matrix.
fn corr_scatter(n: usize) -> Tensor {
    let idx = strict_lower_indices(n, 1);
    let mut v = vec![0.0; idx.len() * n * n];
    for (p, &f) in idx.iter().enumerate() {
        v[p * n * n + f] = 1.0;
    }
    Tensor::new(v, &[idx.len(), n * n]).unwrap_or_else(Tensor::poisoned)
}

/// `x`'s shape with its last dimension replaced by `tail`.
fn with_tail(x: &Tensor, drop: usize, tail: &[usize]) -> Shape {
    let s = x.shape();
    let mut out = Shape::from_slice(&s[..s.len() - drop]);
    out.extend_from_slice(tail);
    out
}

fn need_corr_vector(t: &Tensor, op: &str) -> std::result::Result<usize, Tensor> {
    if t.error().is_some() {
        return Err(t.clone());
    }
    let s = t.shape();
    match s.last().and_then(|&m| corr_size(m)) {
        Some(n) => Ok(n),
        None => Err(Tensor::poisoned(Error::shape(
            op,
            format!(
                "corr_cholesky needs a last dimension of n (n - 1) / 2 unconstrained entries, got \
                 shape {s:?}"
            ),
        ))),
    }
}

impl Bijector {
    /// The corr_cholesky factor of unconstrained `x` (`(.., n (n - 1) / 2)`), `n` known.
    fn corr_forward(x: &Tensor, n: usize) -> Tensor {
        let shape = with_tail(x, 1, &[n, n]);
        if n == 1 {
            return Tensor::ones(&shape);
        }
        // Partial correlations, kept inside (-1, 1) so that the factor stays full rank.
        let eps = f64::EPSILON;
        let r = x
            .tanh()
            .clamp(-1.0 + eps, 1.0 - eps)
            .matmul(&corr_scatter(n))
            .reshape(&shape);
        // ln Π_{k<j} sqrt(1 - r_ik²), an exclusive cumulative sum along each row.
        let half_log = (r.square().neg() + 1.0).ln() * 0.5;
        let log_stick = half_log.cumsum(-1) - &half_log;
        (r + Tensor::eye(n)) * log_stick.exp()
    }
}

impl Bijector {
    /// `ln y` of the stick-breaking map for unconstrained `x` (last dim `K - 1`).
    fn stick_log_y(x: &Tensor) -> (Tensor, Tensor) {
        let km1 = x.shape().last().copied().unwrap_or(0);
        let xo = x - stick_offset(km1);
        let log_1mz = xo.neg().log_sigmoid();
        // The exclusive cumulative sum: O(K), where a product with a dense triangular matrix
        // took K^2 memory (2 GB at K = 16,000).
        let prefix = if km1 == 0 {
            log_1mz.clone()
        } else {
            log_1mz.cumsum(-1) - &log_1mz
        };
        let log_head = xo.log_sigmoid() + prefix;
        let log_last = log_1mz.sum_dim(-1, true);
        (Tensor::concat(&[log_head, log_last], -1), xo)
    }
}

impl Transform for Bijector {
    fn forward(&self, x: &Tensor) -> Tensor {
        match self {
            Bijector::Identity(_) => x.clone(),
            Bijector::Exp => x.exp(),
            Bijector::Sigmoid => x.sigmoid(),
            Bijector::Interval(a, b) => x.sigmoid() * (b - a) + *a,
            Bijector::GreaterThan(a) => x.exp() + *a,
            Bijector::LessThan(b) => x.exp().neg() + *b,
            Bijector::StickBreaking => {
                if let Some(p) = need_vector(x, "stick-breaking forward") {
                    return p;
                }
                Self::stick_log_y(x).0.exp()
            }
            Bijector::LowerCholesky => {
                if let Some(p) = need_square(x, "lower_cholesky forward") {
                    return p;
                }
                let (d, l) = tri_masks(x.shape()[x.ndim() - 1]);
                Tensor::where_(&d, &x.exp(), &(x * &l))
            }
            Bijector::CorrCholesky => match need_corr_vector(x, "corr_cholesky forward") {
                Ok(n) => Self::corr_forward(x, n),
                Err(p) => p,
            },
        }
    }

    fn inverse(&self, y: &Tensor) -> Tensor {
        match self {
            Bijector::Identity(_) => y.clone(),
            Bijector::Exp => y.ln(),
            Bijector::Sigmoid => y.logit(),
            Bijector::Interval(a, b) => ((y - *a) / (b - a)).logit(),
            Bijector::GreaterThan(a) => (y - *a).ln(),
            Bijector::LessThan(b) => (y.neg() + *b).ln(),
            Bijector::StickBreaking => {
                if let Some(p) = need_vector(y, "stick-breaking inverse") {
                    return p;
                }
                let k = y.shape()[y.ndim() - 1];
                if k == 0 {
                    return Tensor::poisoned(Error::shape(
                        "stick-breaking inverse",
                        "a simplex needs at least one entry",
                    ));
                }
                let km1 = k - 1;
                let crop = y.narrow(-1, 0, km1);
                if km1 == 0 {
                    return crop;
                }
                // Survival 1 - cumsum(crop), clamped away from 0 as Pyro does.
                let sf = (crop.cumsum(-1).neg() + 1.0).maximum(&Tensor::scalar(f64::MIN_POSITIVE));
                crop.ln() - sf.ln() + stick_offset(km1)
            }
            Bijector::LowerCholesky => {
                if let Some(p) = need_square(y, "lower_cholesky inverse") {
                    return p;
                }
                let (d, l) = tri_masks(y.shape()[y.ndim() - 1]);
                Tensor::where_(&d, &y.ln(), &(y * &l))
            }
            Bijector::CorrCholesky => {
                if let Some(p) = need_square(y, "corr_cholesky inverse") {
                    return p;
                }
                let n = y.shape()[y.ndim() - 1];
                let flat = with_tail(y, 2, &[n * n]);
                let lower = strict_lower_indices(n, 1);
                if n == 1 {
                    return Tensor::zeros(&with_tail(y, 2, &[0]));
                }
                // r_ij = L_ij / sqrt(1 - Σ_{k<j} L_ik²), read below the diagonal only (elsewhere
                // the remaining length can be 0).
                let sq = y.square();
                let used = sq.cumsum(-1) - &sq;
                let (_, strict) = tri_masks(n);
                let used = masked_fill(&used, &(strict.neg() + 1.0), 0.0);
                let r = (y / (used.neg() + 1.0).sqrt())
                    .reshape(&flat)
                    .index_select(-1, &lower);
                // atanh
                (r.ln_1p() - r.neg().ln_1p()) * 0.5
            }
        }
    }

    fn log_abs_det_jacobian(&self, x: &Tensor, y: &Tensor) -> Tensor {
        match self {
            Bijector::Identity(e) => sum_last(&Tensor::zeros(x.shape()), *e),
            Bijector::Exp | Bijector::GreaterThan(_) | Bijector::LessThan(_) => x.clone(),
            Bijector::Sigmoid => log_dsigmoid(x),
            Bijector::Interval(a, b) => log_dsigmoid(x) + (b - a).ln(),
            Bijector::StickBreaking => {
                if let Some(p) = need_vector(x, "stick-breaking log_abs_det_jacobian") {
                    return p;
                }
                let _ = y;
                let (log_y, xo) = Self::stick_log_y(x);
                let km1 = x.shape()[x.ndim() - 1];
                let log_crop = log_y.narrow(-1, 0, km1);
                (xo.neg() + xo.log_sigmoid() + log_crop).sum_dim(-1, false)
            }
            Bijector::LowerCholesky => {
                if let Some(p) = need_square(x, "lower_cholesky log_abs_det_jacobian") {
                    return p;
                }
                let (d, _) = tri_masks(x.shape()[x.ndim() - 1]);
                sum_last(&(x * &d), 2)
            }
            Bijector::CorrCholesky => {
                let n = match need_corr_vector(x, "corr_cholesky log_abs_det_jacobian") {
                    Ok(n) => n,
                    Err(p) => return p,
                };
                // ln(1 - tanh² x) = 2 (ln 2 - x - softplus(-2x)), stable for large |x|.
                let tanh_part = ((x + (x * -2.0).softplus()).neg() + std::f64::consts::LN_2)
                    .sum_dim(-1, false)
                    * 2.0;
                if n <= 2 {
                    return tanh_part;
                }
                // ½ ln(1 - Σ_{k<=j} L_ik²) for j <= i - 2: the remaining stick length in front of
                // each entry (i, j + 1) with j + 1 < i.
                let left = (y.square().cumsum(-1).neg() + 1.0)
                    .reshape(&with_tail(y, 2, &[n * n]))
                    .index_select(-1, &strict_lower_indices(n, 2));
                tanh_part + left.ln().sum_dim(-1, false) * 0.5
            }
        }
    }

    fn event_dim(&self) -> usize {
        match self {
            Bijector::Identity(e) => *e,
            Bijector::StickBreaking => 1,
            Bijector::LowerCholesky | Bijector::CorrCholesky => 2,
            _ => 0,
        }
    }
}

/// The bijection from unconstrained space onto `constraint`. Errors for discrete constraints and
/// for an interval whose bounds are not finite with `lower < upper`.
pub fn biject_to(constraint: &Constraint) -> Result<Bijector> {
    match constraint {
        Constraint::Real => Ok(Bijector::Identity(0)),
        Constraint::RealVector => Ok(Bijector::Identity(1)),
        Constraint::Positive | Constraint::Nonnegative => Ok(Bijector::Exp),
        Constraint::UnitInterval => Ok(Bijector::Sigmoid),
        Constraint::Interval(a, b) => {
            if a.is_finite() && b.is_finite() && a < b {
                Ok(Bijector::Interval(*a, *b))
            } else {
                Err(Error::Invalid(format!(
                    "interval({a}, {b}) needs finite bounds with lower < upper"
                )))
            }
        }
        Constraint::GreaterThan(a) if a.is_finite() => Ok(Bijector::GreaterThan(*a)),
        Constraint::LessThan(b) if b.is_finite() => Ok(Bijector::LessThan(*b)),
        Constraint::Simplex => Ok(Bijector::StickBreaking),
        Constraint::LowerCholesky => Ok(Bijector::LowerCholesky),
        Constraint::CorrCholesky => Ok(Bijector::CorrCholesky),
        c => Err(Error::Invalid(format!(
            "there is no bijection from unconstrained space to {c:?}"
        ))),
    }
}

/// The shape of the unconstrained value for a constrained value of `shape`.
pub fn unconstrained_shape(constraint: &Constraint, shape: &[usize]) -> Result<Shape> {
    if matches!(constraint, Constraint::CorrCholesky) {
        return match shape {
            [b @ .., r, c] if r == c && *r >= 1 => {
                let mut s = Shape::from_slice(b);
                s.push(r * (r - 1) / 2);
                Ok(s)
            }
            _ => Err(Error::shape(
                "unconstrained_shape",
                format!("a corr_cholesky value needs square matrices (.., n, n), got {shape:?}"),
            )),
        };
    }
    let mut s = Shape::from_slice(shape);
    if matches!(constraint, Constraint::LowerCholesky)
        && (s.len() < 2 || s[s.len() - 1] != s[s.len() - 2])
    {
        return Err(Error::shape(
            "unconstrained_shape",
            format!("a lower_cholesky value needs square matrices (.., n, n), got {shape:?}"),
        ));
    }
    if matches!(constraint, Constraint::Simplex) {
        match s.last_mut() {
            Some(k) if *k >= 1 => *k -= 1,
            _ => {
                return Err(Error::shape(
                    "unconstrained_shape",
                    format!("a simplex value needs a last dimension of at least 1, got {shape:?}"),
                ))
            }
        }
    }
    Ok(s)
}

/// The shape of the constrained value for an unconstrained value of `shape`.
pub fn constrained_shape(constraint: &Constraint, shape: &[usize]) -> Result<Shape> {
    if matches!(constraint, Constraint::CorrCholesky) {
        return match shape.split_last() {
            Some((&m, b)) if corr_size(m).is_some() => {
                let n = corr_size(m).unwrap_or(1);
                let mut s = Shape::from_slice(b);
                s.extend_from_slice(&[n, n]);
                Ok(s)
            }
            _ => Err(Error::shape(
                "constrained_shape",
                format!(
                    "an unconstrained corr_cholesky value needs a last dimension n (n - 1) / 2, got \
                     {shape:?}"
                ),
            )),
        };
    }
    let mut s = Shape::from_slice(shape);
    if matches!(constraint, Constraint::Simplex) {
        match s.last_mut() {
            Some(k) => *k += 1,
            None => {
                return Err(Error::shape(
                    "constrained_shape",
                    "an unconstrained simplex value needs at least one dimension",
                ))
            }
        }
    }
    Ok(s)
}
