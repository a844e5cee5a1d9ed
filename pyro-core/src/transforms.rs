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
//!
//! For `lower_cholesky` the unconstrained value is an `n x n` matrix as in Pyro's
//! `LowerCholeskyTransform`: its upper triangle is ignored by [`Transform::forward`] and set to
//! zero by [`Transform::inverse`]; the Jacobian determinant is the one of the map restricted to the
//! `n (n + 1) / 2` free entries (`Σ diag(x)`).
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
use crate::tensor::{Shape, Tensor};

/// A differentiable bijection between unconstrained and constrained values.
pub trait Transform {
    /// Unconstrained `x` to constrained `y`.
    fn forward(&self, x: &Tensor) -> Tensor;
    /// Constrained `y` back to unconstrained `x`.
    fn inverse(&self, y: &Tensor) -> Tensor;
    /// `ln |det dy/dx|`, summed over the event dimensions: its shape is `x`'s batch shape
    /// (`x`'s shape less [`Transform::event_dim`] rightmost dimensions).
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
        }
    }

    fn event_dim(&self) -> usize {
        match self {
            Bijector::Identity(e) => *e,
            Bijector::StickBreaking => 1,
            Bijector::LowerCholesky => 2,
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
        Constraint::Positive => Ok(Bijector::Exp),
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
        c => Err(Error::Invalid(format!(
            "there is no bijection from unconstrained space to {c:?}"
        ))),
    }
}

/// The shape of the unconstrained value for a constrained value of `shape`.
pub fn unconstrained_shape(constraint: &Constraint, shape: &[usize]) -> Result<Shape> {
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
