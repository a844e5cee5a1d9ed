//! The Cholesky factorisation `A = L Lᵀ` as a tape operation, with the closed-form backward pass
//! of Murray (2016), "Differentiation of the Cholesky decomposition", as PyTorch uses it.

use smallvec::smallvec;

use super::backward::{Aux, BackwardArgs, GradBuf, InputGrads};
use super::tape::record;
use super::{Data, Tensor};
use crate::error::Error;

/// Where a factorisation failed: the batch element, the pivot (0-based) and the value that
/// should have been positive there.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NotPositiveDefinite {
    pub(crate) batch: usize,
    pub(crate) pivot: usize,
    pub(crate) value: f64,
}

/// Factorises one symmetric `n x n` matrix (row-major, only its symmetric part `(A + Aᵀ)/2` read)
/// into its lower-triangular Cholesky factor, row-major with zeros above the diagonal.
///
/// Errors with the pivot where `A` is not (numerically) positive definite.
fn factor_one(a: &[f64], n: usize) -> Result<Vec<f64>, (usize, f64)> {
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        // Cholesky–Banachiewicz by columns of the symmetric part: row j of L, then column j.
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= l[j * n + k] * l[j * n + k];
        }
        if !(d > 0.0 && d.is_finite()) {
            return Err((j, d));
        }
        let djj = d.sqrt();
        l[j * n + j] = djj;
        for i in j + 1..n {
            let mut s = 0.5 * (a[i * n + j] + a[j * n + i]);
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            l[i * n + j] = s / djj;
        }
    }
    Ok(l)
}

/// The Cholesky factors of a batch of `n x n` matrices stored row-major back to back.
pub(crate) fn factor(a: &[f64], n: usize) -> Result<Vec<f64>, NotPositiveDefinite> {
    let mut out = Vec::with_capacity(a.len());
    for (batch, m) in a.chunks(n * n).enumerate() {
        let l = factor_one(m, n).map_err(|(pivot, value)| NotPositiveDefinite {
            batch,
            pivot,
            value,
        })?;
        out.extend(l);
    }
    Ok(out)
}

/// Solves `Lᵀ X = B` in place for lower-triangular `L` (`n x n`) and `B` (`n x n`), by columns.
fn solve_upper_t_matrix(l: &[f64], n: usize, b: &mut [f64]) {
    for c in 0..n {
        for i in (0..n).rev() {
            let mut s = b[i * n + c];
            for k in i + 1..n {
                s -= l[k * n + i] * b[k * n + c];
            }
            b[i * n + c] = s / l[i * n + i];
        }
    }
}

/// The gradient with respect to `A` of one factorisation, from `L` and `Ḡ = dLoss/dL`:
/// `S = L⁻ᵀ Φ(Lᵀ Ḡ) L⁻¹` with `Φ` taking the lower triangle and halving the diagonal, then its
/// symmetric part (the forward pass reads `(A + Aᵀ)/2`).
fn backward_one(l: &[f64], g: &[f64], n: usize) -> Vec<f64> {
    // Only the lower triangle of L is an output: what flows into the upper one is ignored.
    let mut p = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            // (Lᵀ Ḡ)_ij = Σ_k L_ki Ḡ_kj over k >= i (L lower), with Ḡ read on its lower triangle
            // (k >= j).
            let mut s = 0.0;
            for k in i.max(j)..n {
                s += l[k * n + i] * g[k * n + j];
            }
            p[i * n + j] = if i == j { 0.5 * s } else { s };
        }
    }
    // S = L⁻ᵀ P L⁻¹: first Y = L⁻ᵀ P, then S = Y L⁻¹, i.e. Sᵀ = L⁻ᵀ Yᵀ.
    solve_upper_t_matrix(l, n, &mut p);
    let mut yt = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            yt[j * n + i] = p[i * n + j];
        }
    }
    solve_upper_t_matrix(l, n, &mut yt);
    // yt now holds Sᵀ; return (S + Sᵀ) / 2.
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = 0.5 * (yt[i * n + j] + yt[j * n + i]);
        }
    }
    out
}

fn cholesky_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let s = args.out_shape;
    let n = s[s.len() - 1];
    let mut ga = Vec::with_capacity(args.out.len());
    for (l, g) in args.out.chunks(n * n).zip(args.grad.chunks(n * n)) {
        ga.extend(backward_one(l, g, n));
    }
    smallvec![args.needs[0].then(|| GradBuf::from_vec(ga))]
}

impl Tensor {
    /// The lower-triangular Cholesky factor `L` of a symmetric positive-definite matrix
    /// (`A = L Lᵀ`), for a square matrix `[n, n]` or a batch `[.., n, n]`; differentiable.
    ///
    /// The factorisation reads the symmetric part `(A + Aᵀ) / 2` (equal to `A` for a symmetric
    /// input), so the gradient it returns is symmetric: Murray's (2016) closed form
    /// `sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)`, with `Φ` the lower triangle with a halved diagonal.
    ///
    /// A matrix that is not positive definite yields a tensor carrying an error that names the
    /// pivot where the factorisation failed (the first leading minor that is not positive).
    ///
    /// ```
    /// use pyro_core::Tensor;
    /// let a = Tensor::from_rows(&[vec![4.0, 2.0], vec![2.0, 10.0]]).unwrap();
    /// let l = a.cholesky();
    /// assert_eq!(l.to_vec().unwrap(), vec![2.0, 0.0, 1.0, 3.0]);
    /// let not_pd = Tensor::from_rows(&[vec![1.0, 2.0], vec![2.0, 1.0]]).unwrap();
    /// assert!(not_pd.cholesky().error().is_some());
    /// ```
    pub fn cholesky(&self) -> Tensor {
        if self.error().is_some() {
            return self.clone();
        }
        let s = self.shape();
        let n = match s {
            [.., r, c] if r == c => *r,
            _ => {
                return Tensor::poisoned(Error::shape(
                    "cholesky",
                    format!("needs square matrices [.., n, n], got shape {s:?}"),
                ))
            }
        };
        if n == 0 {
            return self.clone();
        }
        match factor(self.raw(), n) {
            Ok(l) => record(
                &[self],
                self.shape.clone(),
                Data::from_vec(l),
                cholesky_bw,
                Aux::None,
            ),
            Err(e) => Tensor::poisoned(not_pd_error(&e, s)),
        }
    }
}

/// The error for a matrix that is not positive definite.
pub(crate) fn not_pd_error(e: &NotPositiveDefinite, shape: &[usize]) -> Error {
    let at = if shape.len() > 2 {
        format!(" (batch element {})", e.batch)
    } else {
        String::new()
    };
    Error::Invalid(format!(
        "cholesky: the matrix{at} is not positive definite: the leading {k}x{k} minor is not \
         (pivot {p} would be the square root of {v})",
        k = e.pivot + 1,
        p = e.pivot,
        v = e.value
    ))
}
