//! Constraints: the sets that parameters and distribution supports live in. Each continuous
//! constraint has a bijection from unconstrained space ([`crate::transforms::biject_to`]), which
//! is how `param!(.., constraint = positive)` and the autoguides optimise in unconstrained space.

use serde::{Deserialize, Serialize};

use crate::tensor::Tensor;

/// A constraint on values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Constraint {
    /// All reals.
    Real,
    /// Real vectors (event dimension 1), e.g. the support of a multivariate normal.
    RealVector,
    /// `x > 0`.
    Positive,
    /// `x > lower`.
    GreaterThan(f64),
    /// `x < upper`.
    LessThan(f64),
    /// `0 < x < 1`.
    UnitInterval,
    /// `lower < x < upper`.
    Interval(f64, f64),
    /// Vectors of nonnegative entries summing to one (event dimension 1).
    Simplex,
    /// Lower-triangular matrices with a positive diagonal (event dimension 2).
    LowerCholesky,
    /// Cholesky factors of correlation matrices: lower-triangular with a positive diagonal and
    /// rows of unit Euclidean norm (event dimension 2), the support of `LKJCholesky`.
    CorrCholesky,
    /// `{0, 1}`.
    Boolean,
    /// `{0, 1, 2, ...}`.
    NonnegativeInteger,
    /// `{lower, ..., upper}`.
    IntegerInterval(i64, i64),
    /// One-hot vectors (event dimension 1).
    OneHot,
    /// Vectors of whole numbers `>= 0` summing to the given total (event dimension 1), the
    /// support of `Multinomial`.
    Multinomial(u64),
}

/// All reals.
pub fn real() -> Constraint {
    Constraint::Real
}
/// Real vectors.
pub fn real_vector() -> Constraint {
    Constraint::RealVector
}
/// `x > 0`.
pub fn positive() -> Constraint {
    Constraint::Positive
}
/// `x > lower`.
pub fn greater_than(lower: f64) -> Constraint {
    Constraint::GreaterThan(lower)
}
/// `x < upper`.
pub fn less_than(upper: f64) -> Constraint {
    Constraint::LessThan(upper)
}
/// `0 < x < 1`.
pub fn unit_interval() -> Constraint {
    Constraint::UnitInterval
}
/// `lower < x < upper`.
pub fn interval(lower: f64, upper: f64) -> Constraint {
    Constraint::Interval(lower, upper)
}
/// The probability simplex.
pub fn simplex() -> Constraint {
    Constraint::Simplex
}
/// Lower Cholesky factors.
pub fn lower_cholesky() -> Constraint {
    Constraint::LowerCholesky
}
/// Cholesky factors of correlation matrices.
pub fn corr_cholesky() -> Constraint {
    Constraint::CorrCholesky
}
/// Count vectors summing to `total_count`.
pub fn multinomial(total_count: u64) -> Constraint {
    Constraint::Multinomial(total_count)
}
/// `{0, 1}`.
pub fn boolean() -> Constraint {
    Constraint::Boolean
}
/// `{0, 1, 2, ...}`.
pub fn nonnegative_integer() -> Constraint {
    Constraint::NonnegativeInteger
}
/// `{lower, ..., upper}`.
pub fn integer_interval(lower: i64, upper: i64) -> Constraint {
    Constraint::IntegerInterval(lower, upper)
}

impl Constraint {
    /// Whether the constrained set is discrete.
    pub fn is_discrete(&self) -> bool {
        matches!(
            self,
            Constraint::Boolean
                | Constraint::NonnegativeInteger
                | Constraint::IntegerInterval(..)
                | Constraint::OneHot
                | Constraint::Multinomial(_)
        )
    }

    /// Number of rightmost dimensions that form one constrained event.
    pub fn event_dim(&self) -> usize {
        match self {
            Constraint::RealVector
            | Constraint::Simplex
            | Constraint::OneHot
            | Constraint::Multinomial(_) => 1,
            Constraint::LowerCholesky | Constraint::CorrCholesky => 2,
            _ => 0,
        }
    }

    /// Whether every value of `x` satisfies the constraint.
    pub fn check(&self, x: &Tensor) -> bool {
        let Ok(v) = x.values() else { return false };
        let tol = 1e-6;
        match self {
            Constraint::Real | Constraint::RealVector => v.iter().all(|x| !x.is_nan()),
            Constraint::Positive => v.iter().all(|&x| x > 0.0),
            Constraint::GreaterThan(a) => v.iter().all(|x| x > a),
            Constraint::LessThan(b) => v.iter().all(|x| x < b),
            Constraint::UnitInterval => v.iter().all(|&x| (0.0..=1.0).contains(&x)),
            Constraint::Interval(a, b) => v.iter().all(|x| x >= a && x <= b),
            Constraint::Boolean => v.iter().all(|&x| x == 0.0 || x == 1.0),
            Constraint::NonnegativeInteger => v.iter().all(|&x| x >= 0.0 && x.fract() == 0.0),
            Constraint::IntegerInterval(a, b) => v
                .iter()
                .all(|&x| x.fract() == 0.0 && x >= *a as f64 && x <= *b as f64),
            Constraint::Simplex | Constraint::OneHot => {
                let k = x.shape().last().copied().unwrap_or(1).max(1);
                v.chunks(k).all(|row| {
                    row.iter().all(|&p| p >= 0.0) && (row.iter().sum::<f64>() - 1.0).abs() < tol
                }) && (!matches!(self, Constraint::OneHot)
                    || v.iter().all(|&x| x == 0.0 || x == 1.0))
            }
            Constraint::LowerCholesky => {
                let s = x.shape();
                if s.len() < 2 || s[s.len() - 1] != s[s.len() - 2] {
                    return false;
                }
                let n = s[s.len() - 1];
                if n == 0 {
                    return true;
                }
                v.chunks_exact(n * n).all(|m| {
                    (0..n).all(|i| m[i * n + i] > 0.0 && (i + 1..n).all(|j| m[i * n + j] == 0.0))
                })
            }
            Constraint::CorrCholesky => {
                let s = x.shape();
                let n = s.last().copied().unwrap_or(0);
                s.len() >= 2
                    && s[s.len() - 2] == n
                    && n > 0
                    && v.chunks_exact(n * n).all(|m| {
                        (0..n).all(|i| {
                            let row = &m[i * n..(i + 1) * n];
                            row[i] > 0.0
                                && row[i + 1..].iter().all(|&x| x == 0.0)
                                && (row.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < tol
                        })
                    })
            }
            Constraint::Multinomial(total) => {
                let k = x.shape().last().copied().unwrap_or(1).max(1);
                v.chunks(k).all(|row| {
                    row.iter().all(|&c| c >= 0.0 && c.fract() == 0.0)
                        && row.iter().sum::<f64>() == *total as f64
                })
            }
        }
    }
}
