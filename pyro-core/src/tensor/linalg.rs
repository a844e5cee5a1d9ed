//! Matrix products via `matrixmultiply` (threaded), and transposition.

use smallvec::smallvec;

use super::backward::{Aux, BackwardArgs, GradBuf, InputGrads};
use super::tape::record;
use super::{checked_numel, numel, Data, Shape, Tensor};
use crate::error::Error;

/// Dot product with independent partial sums (not one dependent chain of additions).
#[inline]
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for j in 0..8 {
            acc[j] += a[j] * b[j];
        }
    }
    let mut s: f64 = acc.iter().sum();
    for (a, b) in xr.iter().zip(yr) {
        s += a * b;
    }
    s
}

/// How many elements a strided `rows x cols` view with row stride `r` and column stride `c`
/// spans from its first element (0 for an empty view); `None` if a stride is negative or the
/// span overflows. The length check in front of every `unsafe` kernel call.
pub(crate) fn strided_extent(r: isize, c: isize, rows: usize, cols: usize) -> Option<usize> {
    if rows == 0 || cols == 0 {
        return Some(0);
    }
    let (r, c) = (usize::try_from(r).ok()?, usize::try_from(c).ok()?);
    r.checked_mul(rows - 1)?
        .checked_add(c.checked_mul(cols - 1)?)?
        .checked_add(1)
}

/// Row-major strided `C = A B + beta C` for `A: m x k`, `B: k x n`.
#[allow(clippy::too_many_arguments)]
fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f64],
    (ra, ca): (isize, isize),
    b: &[f64],
    (rb, cb): (isize, isize),
    c: &mut [f64],
    beta: f64,
) {
    if m == 0 || n == 0 {
        return;
    }
    // Tiny products are faster as plain loops than through the packing of a blocked kernel.
    if m.saturating_mul(k).saturating_mul(n) <= 512 {
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0;
                for l in 0..k {
                    s += a[(i as isize * ra + l as isize * ca) as usize]
                        * b[(l as isize * rb + j as isize * cb) as usize];
                }
                c[i * n + j] = s + beta * c[i * n + j];
            }
        }
        return;
    }
    // Matrix-vector products are memory-bound: the packing of a blocked kernel only costs there.
    if n == 1 && rb == 1 && k > 0 {
        let (mk, c) = (m * k, &mut c[..m]);
        if ca == 1 && ra == k as isize && a.len() >= mk {
            // Contiguous rows: X w.
            return super::matvec::rows_dot(&a[..mk], k, &b[..k], c, beta);
        }
        if ra == 1 && ca == m as isize && a.len() >= mk {
            // A is the transpose of a contiguous k x m matrix: Xᵀ g.
            return super::matvec::cols_axpy(&a[..mk], &b[..k], c, beta);
        }
    }
    if n == 1 {
        let at = |i: usize, l: usize| a[(i as isize * ra + l as isize * ca) as usize];
        let bt = |l: usize| b[(l as isize * rb) as usize];
        if ca == 1 {
            // Rows of A are contiguous: one dot product per output.
            for (i, ci) in c.iter_mut().enumerate().take(m) {
                let row = &a[(i as isize * ra) as usize..][..k];
                let mut s = 0.0;
                if rb == 1 {
                    s = dot(row, &b[..k]);
                } else {
                    for (l, x) in row.iter().enumerate() {
                        s += x * bt(l);
                    }
                }
                *ci = s + beta * *ci;
            }
        } else if ra == 1 {
            // Columns of A are contiguous (A is a transpose): accumulate one column at a time.
            let c = &mut c[..m];
            for ci in c.iter_mut() {
                *ci *= beta;
            }
            for l in 0..k {
                let bl = bt(l);
                let col = &a[(l as isize * ca) as usize..][..m];
                for (ci, x) in c.iter_mut().zip(col) {
                    *ci += x * bl;
                }
            }
        } else {
            for (i, ci) in c.iter_mut().enumerate().take(m) {
                let s: f64 = (0..k).map(|l| at(i, l) * bt(l)).sum();
                *ci = s + beta * *ci;
            }
        }
        return;
    }
    // The kernel reads and writes through raw pointers: check, right here, that every strided
    // access stays inside the slices (an `assert!`, not a `debug_assert!`: this guards soundness
    // in release builds, whatever a caller computed).
    let fits = |len: usize, r: isize, c: isize, rows: usize, cols: usize| {
        strided_extent(r, c, rows, cols).is_some_and(|e| e <= len)
    };
    assert!(
        fits(a.len(), ra, ca, m, k)
            && fits(b.len(), rb, cb, k, n)
            && fits(c.len(), n as isize, 1, m, n),
        "gemm: buffers of {}, {} and {} values are too short for a {m}x{k} by {k}x{n} product",
        a.len(),
        b.len(),
        c.len()
    );
    // SAFETY: the assertion above checks that A (m x k, strides ra, ca), B (k x n, strides rb, cb)
    // and C (m x n, row-major) lie inside `a`, `b` and `c`.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            ra,
            ca,
            b.as_ptr(),
            rb,
            cb,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// Shapes of a matmul normalised to (batch, m, k, n, batch_a, batch_b, out_shape).
struct Plan {
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    a_batched: bool,
    b_batched: bool,
}

fn plan(a: &[usize], b: &[usize]) -> Result<(Plan, Shape), Error> {
    let err = || Error::shape("matmul", format!("cannot multiply shapes {a:?} and {b:?}"));
    if a.is_empty() || b.is_empty() {
        return Err(err());
    }
    let (am, ak) = if a.len() == 1 {
        (1, a[0])
    } else {
        (a[a.len() - 2], a[a.len() - 1])
    };
    let (bk, bn) = if b.len() == 1 {
        (b[0], 1)
    } else {
        (b[b.len() - 2], b[b.len() - 1])
    };
    if ak != bk {
        return Err(err());
    }
    let abatch = if a.len() > 2 {
        &a[..a.len() - 2]
    } else {
        &[][..]
    };
    let bbatch = if b.len() > 2 {
        &b[..b.len() - 2]
    } else {
        &[][..]
    };
    if !abatch.is_empty() && !bbatch.is_empty() && abatch != bbatch {
        return Err(err());
    }
    let batch_shape = if abatch.is_empty() { bbatch } else { abatch };
    let mut out: Shape = Shape::from_slice(batch_shape);
    if a.len() > 1 {
        out.push(am);
    }
    if b.len() > 1 {
        out.push(bn);
    }
    let p = Plan {
        batch: numel(batch_shape),
        m: am,
        k: ak,
        n: bn,
        a_batched: !abatch.is_empty(),
        b_batched: !bbatch.is_empty(),
    };
    Ok((p, out))
}

fn matmul_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let (_, ashape) = args.inputs[0];
    let (b, bshape) = args.inputs[1];
    if let (Some(a32), Some(&k)) = (args.inputs_f32[0], ashape.last()) {
        // Single-precision data times a vector (`[k]` or `[k, 1]`, recorded by `matmul` only
        // then): Xᵀ g streams X in f32.
        let _ = bshape;
        let mut db: GradBuf = smallvec![0.0; k];
        if args.needs[1] {
            super::matvec::cols_axpy(a32, args.grad, &mut db, 0.0);
        }
        let da = args.needs[0].then(|| {
            // dA = g bᵀ (an f32 matrix is data, rarely a leaf).
            let mut da: GradBuf = smallvec![0.0; a32.len()];
            for (row, &gi) in da.chunks_exact_mut(k).zip(args.grad) {
                for (d, &bv) in row.iter_mut().zip(b) {
                    *d = gi * bv;
                }
            }
            da
        });
        return smallvec![da, args.needs[1].then_some(db)];
    }
    let (a, _) = args.inputs[0];
    let Ok((p, _)) = plan(ashape, bshape) else {
        unreachable!("shapes were checked in the forward pass")
    };
    let (m, k, n) = (p.m, p.k, p.n);
    let g = args.grad;
    let ga = args.needs[0].then(|| {
        // dA = G B^T, summed over the batch if A was broadcast.
        let mut da: GradBuf = smallvec![0.0; a.len()];
        for t in 0..p.batch {
            let bo = if p.b_batched { t * k * n } else { 0 };
            let ao = if p.a_batched { t * m * k } else { 0 };
            let beta = if p.a_batched || t == 0 { 0.0 } else { 1.0 };
            gemm(
                m,
                n,
                k,
                &g[t * m * n..],
                (n as isize, 1),
                &b[bo..],
                (1, n as isize),
                &mut da[ao..ao + m * k],
                beta,
            );
        }
        da
    });
    let gb = args.needs[1].then(|| {
        // dB = A^T G
        let mut db: GradBuf = smallvec![0.0; b.len()];
        for t in 0..p.batch {
            let ao = if p.a_batched { t * m * k } else { 0 };
            let bo = if p.b_batched { t * k * n } else { 0 };
            let beta = if p.b_batched || t == 0 { 0.0 } else { 1.0 };
            gemm(
                k,
                m,
                n,
                &a[ao..],
                (1, k as isize),
                &g[t * m * n..],
                (n as isize, 1),
                &mut db[bo..bo + k * n],
                beta,
            );
        }
        db
    });
    smallvec![ga, gb]
}

fn transpose_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let s = args.out_shape;
    let (r, c) = (s[s.len() - 2], s[s.len() - 1]);
    smallvec![Some(GradBuf::from_vec(transpose_last2(
        args.grad,
        numel(s) / (r * c).max(1),
        r,
        c
    )))]
}

fn transpose_last2(x: &[f64], batch: usize, r: usize, c: usize) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    for t in 0..batch {
        let (src, dst) = (&x[t * r * c..], &mut out[t * r * c..]);
        for i in 0..r {
            for j in 0..c {
                dst[j * r + i] = src[i * c + j];
            }
        }
    }
    out
}

/// Moves axis `perm[i]` of `x` (shape `shape`) to position `i`.
fn permute_data(x: &[f64], shape: &[usize], perm: &[usize]) -> Vec<f64> {
    let nd = shape.len();
    let mut in_strides: Shape = Shape::from_elem(1, nd);
    for i in (0..nd.saturating_sub(1)).rev() {
        in_strides[i] = in_strides[i + 1] * shape[i + 1];
    }
    let out_shape: Shape = perm.iter().map(|&p| shape[p]).collect();
    let strides: Shape = perm.iter().map(|&p| in_strides[p]).collect();
    let n = x.len();
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let mut idx: Shape = Shape::from_elem(0, nd);
    let mut off = 0usize;
    for _ in 0..n {
        out.push(x[off]);
        // Increment the output multi-index, tracking the input offset.
        let mut d = nd;
        while d > 0 {
            d -= 1;
            idx[d] += 1;
            off += strides[d];
            if idx[d] < out_shape[d] {
                break;
            }
            off -= strides[d] * out_shape[d];
            idx[d] = 0;
        }
    }
    out
}

fn permute_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let Aux::Indices(perm, _) = args.aux else {
        unreachable!("permute saves its permutation")
    };
    let mut inv = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inv[p] = i;
    }
    smallvec![Some(GradBuf::from_vec(permute_data(
        args.grad,
        args.out_shape,
        &inv
    )))]
}

impl Tensor {
    /// Reorders the dimensions: dimension `i` of the result is dimension `perm[i]` of `self`
    /// (torch's `permute`). `perm` must be a permutation of `0..ndim`.
    pub fn permute(&self, perm: &[usize]) -> Tensor {
        if self.error().is_some() {
            return self.clone();
        }
        let nd = self.ndim();
        let mut seen = vec![false; nd];
        let valid = perm.len() == nd
            && perm
                .iter()
                .all(|&p| p < nd && !std::mem::replace(&mut seen[p], true));
        if !valid {
            return Tensor::poisoned(Error::shape(
                "permute",
                format!(
                    "{perm:?} is not a permutation of the dimensions of a tensor of shape {:?}",
                    self.shape()
                ),
            ));
        }
        let shape: Shape = perm.iter().map(|&p| self.shape[p]).collect();
        let data = match &self.data {
            Data::Scalar(v) => Data::Scalar(*v),
            d => Data::from_vec(permute_data(d.as_slice(), &self.shape, perm)),
        };
        record(
            &[self],
            shape,
            data,
            permute_bw,
            Aux::Indices(std::rc::Rc::from(perm), 0),
        )
    }

    /// Swaps dimensions `d0` and `d1` (negative counts from the end).
    pub fn transpose_dims(&self, d0: isize, d1: isize) -> Tensor {
        let nd = self.ndim();
        let r = super::reduce::resolve_dim(d0, nd, "transpose_dims")
            .and_then(|a| super::reduce::resolve_dim(d1, nd, "transpose_dims").map(|b| (a, b)));
        match r {
            Ok((a, b)) => {
                let mut perm: Vec<usize> = (0..nd).collect();
                perm.swap(a, b);
                self.permute(&perm)
            }
            Err(e) => Tensor::poisoned(e),
        }
    }

    /// Matrix product with numpy's rules: 1-d operands are vectors, leading (batch) dimensions of
    /// one operand apply to the other (equal batch shapes when both have them).
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        if let Some(e) = self.error().or(other.error()) {
            return Tensor::poisoned(e.clone());
        }
        let (p, out_shape) = match plan(&self.shape, &other.shape) {
            Ok(x) => x,
            Err(e) => return Tensor::poisoned(e),
        };
        let (m, k, n) = (p.m, p.k, p.n);
        if let (Some(a32), 1, false) = (self.data.as_f32(), n, p.b_batched) {
            // Single-precision data (`m x k`, or batches of it) times a vector (`[k]` or
            // `[k, 1]`): streamed in f32, summed in f64; the backward pass streams it in f32 too.
            let b = other.raw();
            if a32.len() == p.batch * m * k && b.len() == k {
                let mut c = match super::try_filled("matmul", p.batch * m, 0.0) {
                    Ok(c) => c,
                    Err(e) => return Tensor::poisoned(e),
                };
                super::matvec::rows_dot(a32, k, b, &mut c, 0.0);
                return super::tape::record_f32(
                    &[self, other],
                    out_shape,
                    Data::from_vec(c),
                    matmul_bw,
                    Aux::None,
                );
            }
        }
        let (a, b) = (self.raw(), other.raw());
        // Every buffer must hold exactly what its shape says (the kernel below trusts it), and
        // the output must be allocatable.
        let len = |batched: bool, rows: usize, cols: usize| {
            checked_numel(&[if batched { p.batch } else { 1 }, rows, cols])
        };
        let total = match checked_numel(&out_shape) {
            Some(t)
                if len(p.a_batched, m, k) == Some(a.len())
                    && len(p.b_batched, k, n) == Some(b.len()) =>
            {
                t
            }
            _ => {
                return Tensor::poisoned(Error::shape(
                    "matmul",
                    format!(
                        "shapes {:?} and {:?} ({} and {} values) do not describe a product",
                        self.shape(),
                        other.shape(),
                        a.len(),
                        b.len()
                    ),
                ))
            }
        };
        let mut c = match super::try_filled("matmul", total, 0.0) {
            Ok(c) => c,
            Err(e) => return Tensor::poisoned(e),
        };
        for t in 0..p.batch {
            let ao = if p.a_batched { t * m * k } else { 0 };
            let bo = if p.b_batched { t * k * n } else { 0 };
            gemm(
                m,
                k,
                n,
                &a[ao..],
                (k as isize, 1),
                &b[bo..],
                (n as isize, 1),
                &mut c[t * m * n..(t + 1) * m * n],
                0.0,
            );
        }
        record(
            &[self, other],
            out_shape,
            Data::from_vec(c),
            matmul_bw,
            Aux::None,
        )
    }

    /// Swaps the last two dimensions (the matrix transpose for a 2-d tensor; a 1-d tensor is
    /// returned as it is).
    pub fn transpose(&self) -> Tensor {
        if self.error().is_some() || self.ndim() < 2 {
            return self.clone();
        }
        let nd = self.ndim();
        let (r, c) = (self.shape[nd - 2], self.shape[nd - 1]);
        let batch = self.numel() / (r * c).max(1);
        let mut shape = self.shape.clone();
        shape.swap(nd - 2, nd - 1);
        let v = transpose_last2(self.raw(), batch, r, c);
        record(&[self], shape, Data::from_vec(v), transpose_bw, Aux::None)
    }

    /// Alias of [`Tensor::transpose`].
    pub fn t(&self) -> Tensor {
        self.transpose()
    }
}
