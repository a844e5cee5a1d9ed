//! The mass matrix (the metric) of the kinetic energy `K(p) = ½ pᵀ M⁻¹ p`.
//!
//! HMC works best when `M⁻¹` matches the posterior covariance in unconstrained space: the
//! trajectory then moves as far in every direction. Warm-up estimates it (see
//! [`adaptation`](super::adaptation)); it is kept as the *inverse* mass matrix `Σ = M⁻¹`, diagonal
//! (the default, as in Stan and NumPyro) or dense.

use rand_distr::{Distribution as _, StandardNormal};

use crate::rng::Rng;

/// The inverse mass matrix `Σ = M⁻¹` of the kinetic energy.
#[derive(Clone, Debug, PartialEq)]
pub enum MassMatrix {
    /// A diagonal `Σ`: one variance per coordinate.
    Diagonal(Vec<f64>),
    /// A dense `Σ` (row-major `d x d`) with its lower Cholesky factor `L` (`Σ = L Lᵀ`).
    Dense {
        /// `Σ`, row-major.
        inverse: Vec<f64>,
        /// `L`, row-major lower triangular.
        cholesky: Vec<f64>,
    },
}

impl MassMatrix {
    /// The identity of dimension `d`, diagonal or dense.
    pub fn identity(d: usize, dense: bool) -> MassMatrix {
        if dense {
            let mut eye = vec![0.0; d * d];
            for i in 0..d {
                eye[i * d + i] = 1.0;
            }
            MassMatrix::Dense {
                inverse: eye.clone(),
                cholesky: eye,
            }
        } else {
            MassMatrix::Diagonal(vec![1.0; d])
        }
    }

    /// A dense inverse mass matrix from a symmetric positive definite `Σ` (row-major `d x d`);
    /// `None` if its Cholesky factorisation fails.
    pub fn dense(inverse: Vec<f64>, d: usize) -> Option<MassMatrix> {
        let cholesky = cholesky(&inverse, d)?;
        Some(MassMatrix::Dense { inverse, cholesky })
    }

    /// Number of coordinates.
    pub fn dim(&self) -> usize {
        match self {
            MassMatrix::Diagonal(v) => v.len(),
            MassMatrix::Dense { inverse, .. } => (inverse.len() as f64).sqrt().round() as usize,
        }
    }

    /// The diagonal of `Σ` (the estimated variances).
    pub fn variances(&self) -> Vec<f64> {
        match self {
            MassMatrix::Diagonal(v) => v.clone(),
            MassMatrix::Dense { inverse, .. } => {
                let d = self.dim();
                (0..d).map(|i| inverse[i * d + i]).collect()
            }
        }
    }

    /// The velocity `dz/dt = Σ p`, into `out`.
    pub(crate) fn velocity(&self, p: &[f64], out: &mut [f64]) {
        match self {
            MassMatrix::Diagonal(inv) => {
                for ((o, &m), &pi) in out.iter_mut().zip(inv).zip(p) {
                    *o = m * pi;
                }
            }
            MassMatrix::Dense { inverse, .. } => {
                let d = p.len();
                for (i, o) in out.iter_mut().enumerate() {
                    *o = dot(&inverse[i * d..(i + 1) * d], p);
                }
            }
        }
    }

    /// The kinetic energy `½ pᵀ Σ p`.
    pub(crate) fn kinetic(&self, p: &[f64]) -> f64 {
        match self {
            MassMatrix::Diagonal(inv) => {
                0.5 * inv.iter().zip(p).map(|(m, pi)| m * pi * pi).sum::<f64>()
            }
            MassMatrix::Dense { inverse, .. } => {
                let d = p.len();
                0.5 * (0..d)
                    .map(|i| p[i] * dot(&inverse[i * d..(i + 1) * d], p))
                    .sum::<f64>()
            }
        }
    }

    /// A momentum `p ~ Normal(0, M)`, into `out`.
    pub(crate) fn sample_momentum(&self, rng: &mut Rng, out: &mut [f64]) {
        for o in out.iter_mut() {
            *o = StandardNormal.sample(rng);
        }
        match self {
            MassMatrix::Diagonal(inv) => {
                for (o, m) in out.iter_mut().zip(inv) {
                    *o /= m.sqrt();
                }
            }
            MassMatrix::Dense { cholesky, .. } => {
                // p = L⁻ᵀ ε has covariance (L Lᵀ)⁻¹ = M: solve Lᵀ p = ε by back substitution.
                let d = out.len();
                for i in (0..d).rev() {
                    let mut s = out[i];
                    for j in i + 1..d {
                        s -= cholesky[j * d + i] * out[j];
                    }
                    out[i] = s / cholesky[i * d + i];
                }
            }
        }
    }
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The lower Cholesky factor of a symmetric positive definite row-major `d x d` matrix, or
/// `None` if it is not (numerically) positive definite.
pub(crate) fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    if a.len() != d * d {
        return None;
    }
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s = a[i * d + j] - dot(&l[i * d..i * d + j], &l[j * d..j * d + j]);
            if i == j {
                if !(s > 0.0 && s.is_finite()) {
                    return None;
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    Some(l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::rng_from_seed;

    #[test]
    fn dense_momentum_has_covariance_m() {
        // Σ = [[2, 0.6], [0.6, 1]]: p ~ N(0, Σ⁻¹), so Cov(p) = Σ⁻¹ and E[pᵀ Σ p] = d = 2.
        let m = MassMatrix::dense(vec![2.0, 0.6, 0.6, 1.0], 2).unwrap();
        let mut rng = rng_from_seed(1);
        let n = 200_000;
        let (mut s00, mut s01, mut s11, mut k) = (0.0, 0.0, 0.0, 0.0);
        let mut p = [0.0; 2];
        for _ in 0..n {
            m.sample_momentum(&mut rng, &mut p);
            s00 += p[0] * p[0];
            s01 += p[0] * p[1];
            s11 += p[1] * p[1];
            k += 2.0 * m.kinetic(&p);
        }
        let det = 2.0 - 0.36;
        let inv = [1.0 / det, -0.6 / det, 2.0 / det];
        let nf = n as f64;
        // Standard error of a second moment of a normal: about sqrt(2) var / sqrt(n) < 0.003.
        assert!((s00 / nf - inv[0]).abs() < 0.015, "{}", s00 / nf);
        assert!((s01 / nf - inv[1]).abs() < 0.015, "{}", s01 / nf);
        assert!((s11 / nf - inv[2]).abs() < 0.015, "{}", s11 / nf);
        assert!((k / nf - 2.0).abs() < 0.02, "{}", k / nf);
    }

    #[test]
    fn cholesky_reconstructs_and_refuses_indefinite() {
        let a = [4.0, 2.0, 0.4, 2.0, 5.0, 1.0, 0.4, 1.0, 3.0];
        let l = cholesky(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((v - a[i * 3 + j]).abs() < 1e-12);
            }
        }
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }
}
