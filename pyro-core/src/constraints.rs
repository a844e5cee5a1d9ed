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
    /// `x >= 0` (the support of Exponential, Gamma, HalfNormal, HalfCauchy, as in PyTorch; its
    /// bijection is `exp`, so 0 itself is only a limit of the unconstrained values).
    Nonnegative,
    /// `x > lower`.
    GreaterThan(f64),
    /// `x < upper`.
    LessThan(f64),
    /// `0 <= x <= 1`.
    UnitInterval,
    /// `lower <= x <= upper`.
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
/// `x >= 0`.
pub fn nonnegative() -> Constraint {
    Constraint::Nonnegative
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

    /// Whether every value of `x` satisfies the constraint (NaN never does; the unbounded
    /// continuous constraints admit `±inf`, where densities are 0).
    pub fn check(&self, x: &Tensor) -> bool {
        x.values().is_ok() && self.first_violation(x).is_none()
    }

    /// The first value of `x` (an entry, or for a simplex the sum of a row that is not 1) that
    /// breaks the constraint, if any; NaN for a poisoned tensor or a misshapen matrix.
    pub fn first_violation(&self, x: &Tensor) -> Option<f64> {
        let Ok(v) = x.values() else {
            return Some(f64::NAN);
        };
        let tol = 1e-6;
        // Every observed value of every step is checked: blocks folded without branches (so
        // they vectorise), searched only when one fails.
        fn first_in_blocks(v: &[f64], ok: impl Fn(f64) -> bool) -> Option<f64> {
            v.chunks(256)
                .find(|block| !block.iter().fold(true, |all, &x| all & ok(x)))
                .and_then(|block| block.iter().copied().find(|&x| !ok(x)))
        }
        match self {
            Constraint::Real | Constraint::RealVector => first_in_blocks(v, |x| !x.is_nan()),
            Constraint::Positive => first_in_blocks(v, |x| x > 0.0),
            Constraint::Nonnegative => first_in_blocks(v, |x| x >= 0.0),
            Constraint::GreaterThan(a) => first_in_blocks(v, |x| x > *a),
            Constraint::LessThan(b) => first_in_blocks(v, |x| x < *b),
            Constraint::UnitInterval => first_in_blocks(v, |x| (0.0..=1.0).contains(&x)),
            Constraint::Interval(a, b) => first_in_blocks(v, |x| (x >= *a) & (x <= *b)),
            Constraint::Boolean => first_in_blocks(v, |x| (x == 0.0) | (x == 1.0)),
            Constraint::NonnegativeInteger => {
                first_in_blocks(v, |x| (x >= 0.0) & (x.floor() == x) & (x < f64::INFINITY))
            }
            Constraint::IntegerInterval(a, b) => first_in_blocks(v, |x| {
                (x.floor() == x) & (x >= *a as f64) & (x <= *b as f64)
            }),
            Constraint::Simplex | Constraint::OneHot => {
                if matches!(self, Constraint::OneHot) {
                    if let Some(bad) = first_in_blocks(v, |x| x == 0.0 || x == 1.0) {
                        return Some(bad);
                    }
                }
                if let Some(bad) = first_in_blocks(v, |x| x >= 0.0 && x.is_finite()) {
                    return Some(bad);
                }
                let k = x.shape().last().copied().unwrap_or(1).max(1);
                v.chunks(k)
                    .map(|row| row.iter().sum::<f64>())
                    .find(|s| (s - 1.0).abs() >= tol)
            }
            Constraint::LowerCholesky => {
                let s = x.shape();
                if s.len() < 2 || s[s.len() - 1] != s[s.len() - 2] {
                    return Some(f64::NAN);
                }
                let n = s[s.len() - 1];
                if n == 0 {
                    return None;
                }
                v.chunks_exact(n * n).find_map(|m| {
                    (0..n).find_map(|i| {
                        let d = m[i * n + i];
                        if !(d > 0.0 && d.is_finite()) {
                            return Some(d);
                        }
                        (0..n)
                            .map(|j| m[i * n + j])
                            .enumerate()
                            .find(|&(j, x)| (j > i && x != 0.0) || !x.is_finite())
                            .map(|(_, x)| x)
                    })
                })
            }
            Constraint::CorrCholesky => {
                let s = x.shape();
                let n = s.last().copied().unwrap_or(0);
                if s.len() < 2 || s[s.len() - 2] != n || n == 0 {
                    return Some(f64::NAN);
                }
                v.chunks_exact(n * n).find_map(|m| {
                    (0..n).find_map(|i| {
                        let row = &m[i * n..(i + 1) * n];
                        if row[i].is_nan() || row[i] <= 0.0 {
                            return Some(row[i]);
                        }
                        if let Some(&x) = row[i + 1..].iter().find(|&&x| x != 0.0) {
                            return Some(x);
                        }
                        let norm = row.iter().map(|x| x * x).sum::<f64>();
                        ((norm - 1.0).abs() >= tol || !norm.is_finite()).then_some(norm)
                    })
                })
            }
            Constraint::Multinomial(total) => {
                if let Some(bad) = first_in_blocks(v, |c| c >= 0.0 && c.fract() == 0.0) {
                    return Some(bad);
                }
                let k = x.shape().last().copied().unwrap_or(1).max(1);
                v.chunks(k)
                    .map(|row| row.iter().sum::<f64>())
                    .find(|&s| s != *total as f64)
            }
        }
    }
}

impl std::fmt::Display for Constraint {
    /// The set in words, for error messages (`{0, 1}`, `x >= 0`, `[0, 1]`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Constraint::Real => write!(f, "real numbers"),
            Constraint::RealVector => write!(f, "real vectors"),
            Constraint::Positive => write!(f, "x > 0"),
            Constraint::Nonnegative => write!(f, "x >= 0"),
            Constraint::GreaterThan(a) => write!(f, "x > {a}"),
            Constraint::LessThan(b) => write!(f, "x < {b}"),
            Constraint::UnitInterval => write!(f, "[0, 1]"),
            Constraint::Interval(a, b) => write!(f, "[{a}, {b}]"),
            Constraint::Simplex => write!(f, "the simplex (entries >= 0 summing to 1)"),
            Constraint::LowerCholesky => {
                write!(f, "lower-triangular matrices with a positive diagonal")
            }
            Constraint::Boolean => write!(f, "{{0, 1}}"),
            Constraint::NonnegativeInteger => write!(f, "{{0, 1, 2, ...}}"),
            Constraint::IntegerInterval(a, b) => write!(f, "{{{a}, ..., {b}}}"),
            Constraint::OneHot => write!(f, "one-hot vectors"),
            Constraint::CorrCholesky => write!(
                f,
                "Cholesky factors of correlation matrices (lower-triangular, positive diagonal, \
                 unit rows)"
            ),
            Constraint::Multinomial(n) => {
                write!(f, "vectors of whole numbers >= 0 summing to {n}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block-folded checks find the first violation wherever it sits (first, middle or last
    /// block, a partial last block) and report its value; a clean tensor has none.
    #[test]
    fn first_violation_is_found_in_every_block_position() {
        let cases: [(Constraint, f64, f64); 8] = [
            (Constraint::Real, 0.5, f64::NAN),
            (Constraint::Positive, 0.5, 0.0),
            (Constraint::Nonnegative, 0.0, -1e-300),
            (Constraint::UnitInterval, 1.0, 1.0 + f64::EPSILON),
            (Constraint::Interval(-1.0, 2.0), 2.0, f64::NAN),
            (Constraint::Boolean, 1.0, 0.5),
            (Constraint::NonnegativeInteger, 3.0, f64::INFINITY),
            (Constraint::IntegerInterval(0, 4), 4.0, 2.5),
        ];
        for n in [1, 255, 256, 257, 1000] {
            for (c, good, bad) in &cases {
                let clean = Tensor::from(vec![*good; n]);
                assert_eq!(
                    c.first_violation(&clean).map(f64::to_bits),
                    None,
                    "{c} n={n}"
                );
                for at in [0, n / 2, n - 1] {
                    let mut v = vec![*good; n];
                    v[at] = *bad;
                    if at + 1 < n {
                        // A later violation must not be reported first.
                        v[n - 1] = if bad.is_nan() { -7.0 } else { f64::NAN };
                    }
                    let got = c.first_violation(&Tensor::from(v));
                    assert_eq!(
                        got.map(f64::to_bits),
                        Some(bad.to_bits()),
                        "{c} n={n} at={at}"
                    );
                }
            }
        }
    }
}
