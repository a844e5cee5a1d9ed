//! The multivariate normal distribution, parameterised by a Cholesky factor, a covariance or a
//! precision matrix.

use super::normal::LN_SQRT_2PI;
use super::util::Bcast as _;
use super::util::{cat_shape, check_param, outside, standard_normal};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{cholesky_factor, solve_lower_triangular, Shape, Tensor};

/// MultivariateNormal(loc, scale_tril): mean `loc` (shape `batch + [n]`), covariance `L Lᵀ` with
/// `L = scale_tril` a lower-triangular `[n, n]` matrix with a positive diagonal (shared across
/// the batch).
///
/// `log_prob(x) = -½ |L⁻¹(x - loc)|² - Σ ln L_ii - n ln sqrt(2π)`, on all of `Rⁿ`; `rsample` is
/// `loc + L ε`, differentiable in both parameters.
///
/// ```
/// use pyro_core::distributions::{Distribution, MultivariateNormal};
/// use pyro_core::Tensor;
/// let l = Tensor::from_rows(&[vec![2.0, 0.0], vec![0.0, 1.0]]).unwrap();
/// let d = MultivariateNormal::new([0.0, 0.0], l).unwrap();
/// let lp = d.log_prob(&[0.0, 0.0].into()).item().unwrap();
/// assert!((lp - (-2.0 * 0.9189385332046727 - 2f64.ln())).abs() < 1e-12);
/// let bad = Tensor::from_rows(&[vec![1.0, 1.0], vec![0.0, 1.0]]).unwrap();
/// assert!(MultivariateNormal::new([0.0, 0.0], bad).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct MultivariateNormal {
    loc: Tensor,
    scale_tril: Tensor,
    batch: Shape,
    n: usize,
}

impl MultivariateNormal {
    /// Errors unless `scale_tril` is `[n, n]`, lower-triangular with a positive diagonal, and
    /// `loc` ends in `n` with no NaN.
    pub fn new(
        loc: impl Into<Tensor>,
        scale_tril: impl Into<Tensor>,
    ) -> Result<MultivariateNormal> {
        let (loc, scale_tril) = (loc.into(), scale_tril.into());
        let err = |param, reason: String| Error::InvalidParameter {
            dist: "MultivariateNormal",
            param,
            reason,
        };
        check_param("MultivariateNormal", "loc", &loc, "finite", f64::is_finite)?;
        let n = match scale_tril.shape() {
            [r, c] if r == c && *r > 0 => *r,
            s => {
                return Err(err(
                    "scale_tril",
                    format!("must be a square [n, n] matrix, got shape {s:?}"),
                ))
            }
        };
        let v = scale_tril
            .values()
            .map_err(|e| err("scale_tril", e.to_string()))?;
        for i in 0..n {
            let d = v[i * n + i];
            if !(d > 0.0 && d.is_finite()) {
                return Err(err(
                    "scale_tril",
                    format!("must have a positive diagonal, got {d} at ({i}, {i})"),
                ));
            }
            for j in 0..n {
                let x = v[i * n + j];
                if j > i && x != 0.0 {
                    return Err(err(
                        "scale_tril",
                        format!("must be lower-triangular, got {x} at ({i}, {j})"),
                    ));
                }
                if !x.is_finite() {
                    return Err(err("scale_tril", format!("has {x} at ({i}, {j})")));
                }
            }
        }
        if loc.shape().last() != Some(&n) {
            return Err(err(
                "loc",
                format!(
                    "shape {:?} must end in {n}, the size of scale_tril",
                    loc.shape()
                ),
            ));
        }
        let batch = Shape::from_slice(&loc.shape()[..loc.ndim() - 1]);
        Ok(MultivariateNormal {
            loc,
            scale_tril,
            batch,
            n,
        })
    }

    /// From a covariance matrix `Σ` (`[n, n]`, symmetric positive definite): `scale_tril` is its
    /// Cholesky factor, computed on the tape (differentiable in `Σ`, with the closed-form
    /// backward pass of [`Tensor::cholesky`]).
    ///
    /// Errors name `covariance_matrix` when it is not square, not finite, not symmetric (within
    /// `1e-10` relative to its largest entry) or not positive definite.
    ///
    /// ```
    /// use pyro_core::distributions::{Distribution, MultivariateNormal};
    /// use pyro_core::Tensor;
    /// let cov = Tensor::from_rows(&[vec![4.0, 2.0], vec![2.0, 10.0]]).unwrap();
    /// let d = MultivariateNormal::from_covariance([0.0, 0.0], cov).unwrap();
    /// assert_eq!(d.scale_tril().to_vec().unwrap(), vec![2.0, 0.0, 1.0, 3.0]);
    /// let not_pd = Tensor::from_rows(&[vec![1.0, 2.0], vec![2.0, 1.0]]).unwrap();
    /// assert!(MultivariateNormal::from_covariance([0.0, 0.0], not_pd).is_err());
    /// ```
    pub fn from_covariance(
        loc: impl Into<Tensor>,
        covariance_matrix: impl Into<Tensor>,
    ) -> Result<MultivariateNormal> {
        let cov = covariance_matrix.into();
        check_spd("covariance_matrix", &cov)?;
        MultivariateNormal::new(loc, cov.cholesky())
    }

    /// From a precision matrix `P = Σ⁻¹` (`[n, n]`, symmetric positive definite): with
    /// `P = Lₚ Lₚᵀ`, the covariance is `Lₚ⁻ᵀ Lₚ⁻¹`, whose Cholesky factor becomes `scale_tril`;
    /// differentiable in `P`. Errors name `precision_matrix` as [`Self::from_covariance`] does.
    ///
    /// ```
    /// use pyro_core::distributions::{Distribution, MultivariateNormal};
    /// use pyro_core::Tensor;
    /// let p = Tensor::from_rows(&[vec![0.25, 0.0], vec![0.0, 1.0]]).unwrap();
    /// let d = MultivariateNormal::from_precision([0.0, 0.0], p).unwrap();
    /// let l = d.scale_tril().to_vec().unwrap();
    /// assert!((l[0] - 2.0).abs() < 1e-15 && (l[3] - 1.0).abs() < 1e-15);
    /// ```
    pub fn from_precision(
        loc: impl Into<Tensor>,
        precision_matrix: impl Into<Tensor>,
    ) -> Result<MultivariateNormal> {
        let p = precision_matrix.into();
        let n = check_spd("precision_matrix", &p)?;
        // Rows of solve(Lₚ, I) are the columns of Lₚ⁻¹, so it is Lₚ⁻ᵀ, and Σ = Lₚ⁻ᵀ Lₚ⁻¹.
        let m = solve_lower_triangular(&p.cholesky(), &Tensor::eye(n));
        let cov = m.matmul(&m.t());
        let l = cov.cholesky();
        if let Some(e) = l.error() {
            return Err(Error::InvalidParameter {
                dist: "MultivariateNormal",
                param: "precision_matrix",
                reason: format!("its inverse cannot be factorised ({e})"),
            });
        }
        MultivariateNormal::new(loc, l)
    }

    /// The mean.
    pub fn loc(&self) -> &Tensor {
        &self.loc
    }
    /// The Cholesky factor of the covariance.
    pub fn scale_tril(&self) -> &Tensor {
        &self.scale_tril
    }
    /// The covariance `L Lᵀ`.
    pub fn covariance_matrix(&self) -> Tensor {
        self.scale_tril.matmul(&self.scale_tril.t())
    }
    fn half_log_det(&self) -> Tensor {
        let n = self.n;
        let diag: Vec<usize> = (0..n).map(|i| i * n + i).collect();
        self.scale_tril
            .reshape(&[n * n])
            .index_select(0, &diag)
            .ln()
            .sum()
    }
}

impl Distribution for MultivariateNormal {
    fn name(&self) -> &'static str {
        "MultivariateNormal"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn event_shape(&self) -> Shape {
        Shape::from_slice(&[self.n])
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        self.rsample(rng)
            .map(|t| t.detach())
            .unwrap_or_else(Tensor::poisoned)
    }
    fn rsample(&self, rng: &mut Rng) -> Result<Tensor> {
        let shape = cat_shape(&self.batch, &[self.n]);
        let eps = standard_normal(rng, &shape);
        let eps2 = eps.reshape(&[shape.iter().product::<usize>() / self.n, self.n]);
        let le = eps2.matmul(&self.scale_tril.t()).reshape(&shape);
        (&self.loc + le).clamp(-f64::MAX, f64::MAX).check()
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// Defined on all of `Rⁿ`.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let diff = value - &self.loc;
        // Where `x - loc` overflows for finite arguments (1e308 - -1e308), the halves are
        // solved instead: z = 2 L⁻¹((x - loc)/2), so ½|z|² = 2 |L⁻¹((x - loc)/2)|².
        let overflows = |t: &Tensor| t.values().is_ok_and(|v| v.iter().any(|x| x.is_infinite()));
        let (diff, half_sq) = if overflows(&diff) && !overflows(value) && !overflows(&self.loc) {
            (value * 0.5 - &self.loc * 0.5, 2.0)
        } else {
            (diff, 0.5)
        };
        let z = solve_lower_triangular(&self.scale_tril, &diff);
        let mut lp = -(z.square().sum_dim(-1, false) * half_sq)
            - self.half_log_det()
            - self.n as f64 * LN_SQRT_2PI;
        let finite = |t: &Tensor| t.values().is_ok_and(|v| v.iter().all(|x| x.is_finite()));
        if finite(value) && finite(&self.loc) && !finite(&lp) {
            // An intermediate of the solve overflowed (`L_10 z_0` near 2e308 while z is (-2, 4)):
            // solve for the difference scaled by 2^-16 (exact), z = 2^16 L⁻¹(2^-16 (x - loc)).
            const S: f64 = 1.0 / 65536.0;
            let z = solve_lower_triangular(&self.scale_tril, &(value * S - &self.loc * S));
            let scaled = -(z.square().sum_dim(-1, false) * (0.5 / (S * S)))
                - self.half_log_det()
                - self.n as f64 * LN_SQRT_2PI;
            if finite(&scaled) {
                lp = scaled;
            }
        }
        // With finite arguments, NaN is left only where the solve overflows even so (inf - inf,
        // 0 · inf): some |z_i| exceeds f64::MAX, ½|z|² does too and the density underflows to 0.
        if finite(value) && finite(&self.loc) {
            let nan = lp.map_const(|v| if v.is_nan() { 1.0 } else { 0.0 });
            return outside(&lp, &nan);
        }
        lp
    }
    fn support(&self) -> Constraint {
        Constraint::RealVector
    }
    fn mean(&self) -> Result<Tensor> {
        Ok(self.loc.clone())
    }
    fn variance(&self) -> Result<Tensor> {
        let var = self.scale_tril.square().sum_dim(-1, false);
        Ok(var.bcast(&cat_shape(&self.batch, &[self.n])))
    }
    fn entropy(&self) -> Result<Tensor> {
        let h = self.half_log_det() + self.n as f64 * (0.5 + LN_SQRT_2PI);
        Ok(h.bcast(&self.batch))
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

/// Checks that `m` is a square, finite, symmetric positive-definite matrix; returns its size.
fn check_spd(param: &'static str, m: &Tensor) -> Result<usize> {
    let err = |reason: String| Error::InvalidParameter {
        dist: "MultivariateNormal",
        param,
        reason,
    };
    let n = match m.shape() {
        [r, c] if r == c && *r > 0 => *r,
        s => {
            return Err(err(format!(
                "must be a square [n, n] matrix, got shape {s:?}"
            )))
        }
    };
    let v = m.values().map_err(|e| err(e.to_string()))?;
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(err(format!(
            "must be finite, got {} at ({}, {})",
            v[i],
            i / n,
            i % n
        )));
    }
    let scale = v.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    for i in 0..n {
        for j in 0..i {
            let (a, b) = (v[i * n + j], v[j * n + i]);
            if (a - b).abs() > 1e-10 * scale {
                return Err(err(format!(
                    "must be symmetric, got {a} at ({i}, {j}) and {b} at ({j}, {i})"
                )));
            }
        }
    }
    if let Err(e) = cholesky_factor(v, n) {
        return Err(err(format!(
            "must be positive definite, but its leading {k}x{k} minor is not (Cholesky pivot \
             {p}: {x})",
            k = e.pivot + 1,
            p = e.pivot,
            x = e.value
        )));
    }
    Ok(n)
}
