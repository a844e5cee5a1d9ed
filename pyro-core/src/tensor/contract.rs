//! Log-space contraction: `ln Σ_j exp(a_j + b_j)` along one dimension of two tensors that
//! broadcast together, computed as a product of exponentials (log-matmul-exp) without ever
//! forming `a + b`.
//!
//! Why: summing an enumerated state out of a hidden Markov model step is
//! `ln Σ_{x'} exp(α[x', s] + ln T[x', x])` for `K` states and `S` sequences. Formed as a broadcast
//! sum followed by a logsumexp it costs `K² S` exponentials forward and as many again backward.
//! Shifting each input by its own maximum over the summed dimension, exponentiating each input
//! once, multiplying the two as matrices and taking the logarithm costs `K S + K²` exponentials,
//! `K S` logarithms and `K² S` multiply-adds (Pyro's `_logmatmulexp`, funsor's sum-product
//! contraction). The backward pass is two more matrix products with the softmax weights
//! `exp(a + b - out)`, recomputed from the exponentials rather than stored.
//!
//! Exactness. Separate shifts can underflow: if `a` peaks at one `j` and `b` at another, the
//! shifted product may be tiny even though the true sum is not. Every output whose shifted sum
//! falls below `1e-250` (or is not finite) is recomputed directly as a shifted logsumexp of
//! `a + b`, in the forward and the backward pass, so the result is the logsumexp of the sum to
//! rounding whatever the inputs. `-inf` entries (masked states) weigh zero; an output whose terms
//! are all `-inf` is `-inf` with a zero gradient, never NaN.

use smallvec::{smallvec, SmallVec};

use super::backward::{Aux, BackwardArgs, GradBuf, InputGrads};
use super::reduce::resolve_dim;
use super::tape::record;
use super::{numel, Data, Shape, Tensor};
use crate::error::Error;

/// A shifted sum below this is recomputed exactly (see the module documentation).
const TINY: f64 = 1e-250;

/// Products at least this large (`i * j * k`) go through `matrixmultiply`'s blocked kernel; below
/// it, plain loops that vectorise along the contiguous dimension are faster.
const BLOCKED_MIN: usize = 1 << 16;

impl Tensor {
    /// `ln Σ exp(self + other)` along `dim` of the broadcast shape, without forming the sum: the
    /// log-space contraction of two factors over a shared dimension (see the module docs).
    /// Equal to `(self + other).logsumexp_dim(dim, keepdim)` to rounding, with its gradient.
    ///
    /// ```
    /// use pyro_core::tensor::Tensor;
    /// let alpha = Tensor::from_rows(&[vec![-1.0, -2.0], vec![-0.5, -3.0]]).unwrap(); // [x', s]
    /// let log_t = Tensor::from_rows(&[vec![0.9f64.ln(), 0.1f64.ln()], vec![0.2f64.ln(), 0.8f64.ln()]])
    ///     .unwrap()
    ///     .reshape(&[2, 2, 1]); // [x', x, 1]
    /// let next = alpha.unsqueeze(1).logsumexp_add(&log_t, 0, false); // [x, s]
    /// let naive = (&alpha.unsqueeze(1) + &log_t).logsumexp_dim(0, false);
    /// for (a, b) in next.to_vec().unwrap().iter().zip(naive.to_vec().unwrap()) {
    ///     assert!((a - b).abs() < 1e-14);
    /// }
    /// ```
    pub fn logsumexp_add(&self, other: &Tensor, dim: isize, keepdim: bool) -> Tensor {
        if let Some(e) = self.error().or(other.error()) {
            return Tensor::poisoned(e.clone());
        }
        let n = self.ndim().max(other.ndim());
        let axis = match resolve_dim(dim, n, "logsumexp_add") {
            Ok(d) => d,
            Err(e) => return Tensor::poisoned(e),
        };
        let (ash, bsh) = (pad(&self.shape, n), pad(&other.shape, n));
        let plan = match Plan::new(&ash, &bsh, axis) {
            Ok(p) => p,
            Err(msg) => {
                return Tensor::poisoned(Error::shape(
                    "logsumexp_add",
                    format!(
                        "shapes {:?} and {:?}: {msg}",
                        self.shape.as_slice(),
                        other.shape.as_slice()
                    ),
                ))
            }
        };
        let mut out_shape = plan.out_shape.clone();
        if !keepdim {
            out_shape.remove(axis);
        }
        let v = plan.forward(self.raw(), other.raw());
        record(
            &[self, other],
            out_shape,
            Data::from_vec(v),
            logsumexp_add_bw,
            Aux::Dim(axis),
        )
    }

    /// `ln(exp(self) @ exp(other))` for `self` of shape `[..., n, m]` and `other` of shape
    /// `[..., m, p]` (leading dimensions broadcast), computed stably as a log-space contraction
    /// over `m` (see [`Tensor::logsumexp_add`]).
    ///
    /// ```
    /// use pyro_core::tensor::Tensor;
    /// let a = Tensor::from_rows(&[vec![0.0, -1.0]]).unwrap();
    /// let b = Tensor::from_rows(&[vec![-2.0], vec![0.5]]).unwrap();
    /// let c = a.log_matmul_exp(&b).item().unwrap();
    /// assert!((c - ((-2.0f64).exp() + (-0.5f64).exp()).ln()).abs() < 1e-15);
    /// ```
    pub fn log_matmul_exp(&self, other: &Tensor) -> Tensor {
        if let Some(e) = self.error().or(other.error()) {
            return Tensor::poisoned(e.clone());
        }
        let fail = |msg: String| Tensor::poisoned(Error::shape("log_matmul_exp", msg));
        let Some((ash, bsh, axis)) = matmul_view(&self.shape, &other.shape) else {
            return fail(format!(
                "expected [..., n, m] and [..., m, p], got {:?} and {:?}",
                self.shape.as_slice(),
                other.shape.as_slice()
            ));
        };
        let plan = match Plan::new(&ash, &bsh, axis) {
            Ok(p) => p,
            Err(msg) => {
                return fail(format!(
                    "shapes {:?} and {:?}: {msg}",
                    self.shape.as_slice(),
                    other.shape.as_slice()
                ))
            }
        };
        let mut out_shape = plan.out_shape.clone();
        out_shape.remove(axis);
        let v = plan.forward(self.raw(), other.raw());
        record(
            &[self, other],
            out_shape,
            Data::from_vec(v),
            log_matmul_exp_bw,
            Aux::None,
        )
    }
}

/// `shape` with leading 1s up to `n` dimensions.
fn pad(shape: &[usize], n: usize) -> Shape {
    let mut s: Shape = smallvec![1; n - shape.len()];
    s.extend_from_slice(shape);
    s
}

/// The shapes of a log-matmul-exp as a contraction: `[..., n, m, 1]` and `[..., 1, m, p]`,
/// padded to one rank, summed over the second-to-last axis.
fn matmul_view(a: &[usize], b: &[usize]) -> Option<(Shape, Shape, usize)> {
    if a.len() < 2 || b.len() < 2 || a[a.len() - 1] != b[b.len() - 2] {
        return None;
    }
    let mut av = Shape::from_slice(a);
    av.push(1);
    let mut bv = Shape::from_slice(&b[..b.len() - 2]);
    bv.extend_from_slice(&[1, b[b.len() - 2], b[b.len() - 1]]);
    let n = av.len().max(bv.len());
    Some((pad(&av, n), pad(&bv, n), n - 2))
}

fn logsumexp_add_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let Aux::Dim(axis) = *args.aux else {
        unreachable!("logsumexp_add saves its axis")
    };
    let n = args.inputs[0].1.len().max(args.inputs[1].1.len());
    let (ash, bsh) = (pad(args.inputs[0].1, n), pad(args.inputs[1].1, n));
    backward_with(args, &ash, &bsh, axis)
}

fn log_matmul_exp_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let Some((ash, bsh, axis)) = matmul_view(args.inputs[0].1, args.inputs[1].1) else {
        unreachable!("log_matmul_exp records checked shapes")
    };
    backward_with(args, &ash, &bsh, axis)
}

fn backward_with(args: &BackwardArgs<'_>, ash: &[usize], bsh: &[usize], axis: usize) -> InputGrads {
    let Ok(plan) = Plan::new(ash, bsh, axis) else {
        unreachable!("the forward pass checked the shapes")
    };
    let (ga, gb) = plan.backward(
        args.inputs[0].0,
        args.inputs[1].0,
        args.grad,
        args.out,
        args.needs[0],
        args.needs[1],
    );
    smallvec![ga, gb]
}

/// The contraction as a batch of matrix products: the axes of the broadcast shape split into
/// batch axes (both inputs vary along them), `i` axes (only the left factor `A` does), `k` axes
/// (only `B` does) and the summed axis `j`; `C[β, i, k] = Σ_j A[β, i, j] B[β, j, k]`. The
/// offset tables map each group's row-major multi-index to an element offset in each tensor.
/// `A` and `B` are the two inputs in the order that puts the output's innermost varying axis on
/// the `k` side, so that the inner loops run along contiguous memory.
struct Plan {
    /// The output shape with the summed axis kept (size 1).
    out_shape: Shape,
    /// Whether `A` is the second input.
    swapped: bool,
    ni: usize,
    nj: usize,
    nk: usize,
    a_b: Vec<usize>,
    a_i: Vec<usize>,
    a_j: usize,
    b_b: Vec<usize>,
    b_k: Vec<usize>,
    b_j: usize,
    o_b: Vec<usize>,
    o_i: Vec<usize>,
    o_k: Vec<usize>,
}

/// Row-major strides of `shape`, 0 along dimensions of size 1 (broadcast).
fn strides(shape: &[usize]) -> SmallVec<[usize; 6]> {
    let mut st: SmallVec<[usize; 6]> = smallvec![0; shape.len()];
    let mut s = 1;
    for d in (0..shape.len()).rev() {
        st[d] = if shape[d] == 1 { 0 } else { s };
        s *= shape[d];
    }
    st
}

/// Offsets of every multi-index over `axes` (row-major), for a tensor with `strides`.
fn offsets(axes: &[usize], sizes: &[usize], strides: &[usize]) -> Vec<usize> {
    let mut out = vec![0usize];
    for &d in axes {
        out = out
            .iter()
            .flat_map(|&o| (0..sizes[d]).map(move |t| o + t * strides[d]))
            .collect();
    }
    out
}

impl Plan {
    fn new(x: &[usize], y: &[usize], axis: usize) -> Result<Plan, String> {
        let n = x.len();
        let mut out_shape = Shape::with_capacity(n);
        for d in 0..n {
            let (p, q) = (x[d], y[d]);
            if p != q && p != 1 && q != 1 {
                return Err(format!("dimension {d} has sizes {p} and {q}"));
            }
            out_shape.push(if d == axis { 1 } else { p.max(q) });
        }
        let nj = x[axis].max(y[axis]);
        let (mut batch, mut only_x, mut only_y): (Shape, Shape, Shape) =
            (Shape::new(), Shape::new(), Shape::new());
        for d in (0..n).filter(|&d| d != axis) {
            match (x[d] > 1, y[d] > 1) {
                (true, true) => batch.push(d),
                (true, false) => only_x.push(d),
                (false, true) => only_y.push(d),
                (false, false) => {}
            }
        }
        // The innermost axis of the output that varies should be a `k` axis.
        let last = (0..n).rev().find(|&d| d != axis && out_shape[d] > 1);
        let swapped = last.is_some_and(|d| only_x.contains(&d));
        let (a, b, only_a, only_b) = if swapped {
            (y, x, only_y, only_x)
        } else {
            (x, y, only_x, only_y)
        };
        let (sa, sb, so) = (strides(a), strides(b), strides(&out_shape));
        Ok(Plan {
            swapped,
            ni: only_a.iter().map(|&d| a[d]).product(),
            nj,
            nk: only_b.iter().map(|&d| b[d]).product(),
            a_b: offsets(&batch, a, &sa),
            a_i: offsets(&only_a, a, &sa),
            a_j: sa[axis],
            b_b: offsets(&batch, b, &sb),
            b_k: offsets(&only_b, b, &sb),
            b_j: sb[axis],
            o_b: offsets(&batch, &out_shape, &so),
            o_i: offsets(&only_a, &out_shape, &so),
            o_k: offsets(&only_b, &out_shape, &so),
            out_shape,
        })
    }

    fn forward(&self, x: &[f64], y: &[f64]) -> Vec<f64> {
        let (a, b) = if self.swapped { (y, x) } else { (x, y) };
        let mut out = vec![f64::NEG_INFINITY; numel(&self.out_shape)];
        if self.nj == 0 || out.is_empty() {
            return out;
        }
        let mut blk = Block::new(self);
        let mut lnc = vec![0.0; self.ni * self.nk];
        for beta in 0..self.a_b.len() {
            blk.fill(self, a, b, beta);
            lnc.copy_from_slice(&blk.c);
            map(&mut lnc, |c| ln_pos(c.max(TINY)));
            let ob = self.o_b[beta];
            for i in 0..self.ni {
                let oi = ob + self.o_i[i];
                for k in 0..self.nk {
                    let c = blk.c[i * self.nk + k];
                    out[oi + self.o_k[k]] = if regular(c) {
                        lnc[i * self.nk + k] + blk.sa[i] + blk.sb[k]
                    } else {
                        self.exact(a, b, beta, i, k)
                    };
                }
            }
        }
        out
    }

    /// `ln Σ_j exp(A[β, i, j] + B[β, j, k])` term by term: where the shifted product underflows.
    fn exact(&self, a: &[f64], b: &[f64], beta: usize, i: usize, k: usize) -> f64 {
        let (ai, bk) = (self.a_b[beta] + self.a_i[i], self.b_b[beta] + self.b_k[k]);
        let term = |j: usize| a[ai + j * self.a_j] + b[bk + j * self.b_j];
        let m = (0..self.nj).map(term).fold(f64::NEG_INFINITY, f64::max);
        if !m.is_finite() {
            return m;
        }
        m + (0..self.nj).map(|j| (term(j) - m).exp()).sum::<f64>().ln()
    }

    #[allow(clippy::type_complexity)]
    fn backward(
        &self,
        x: &[f64],
        y: &[f64],
        grad: &[f64],
        out: &[f64],
        need_x: bool,
        need_y: bool,
    ) -> (Option<GradBuf>, Option<GradBuf>) {
        let (a, b, need_a, need_b) = if self.swapped {
            (y, x, need_y, need_x)
        } else {
            (x, y, need_x, need_y)
        };
        let mut ga: GradBuf = smallvec![0.0; if need_a { a.len() } else { 0 }];
        let mut gb: GradBuf = smallvec![0.0; if need_b { b.len() } else { 0 }];
        if self.nj > 0 && !out.is_empty() && (need_a || need_b) {
            let (ni, nj, nk) = (self.ni, self.nj, self.nk);
            let mut blk = Block::new(self);
            let mut w = vec![0.0; ni * nk];
            let mut t = vec![0.0; ni.max(nk) * nj];
            for beta in 0..self.a_b.len() {
                blk.fill(self, a, b, beta);
                // w = dL/dout / C: the softmax weight exp(a + b - out) is A B / C.
                let ob = self.o_b[beta];
                for i in 0..ni {
                    for k in 0..nk {
                        let o = ob + self.o_i[i] + self.o_k[k];
                        let (g, c) = (grad[o], blk.c[i * nk + k]);
                        w[i * nk + k] = if g == 0.0 || !regular(c) {
                            if g != 0.0 {
                                self.exact_grad(a, b, beta, i, k, g, out[o], &mut ga, &mut gb);
                            }
                            0.0
                        } else {
                            g / c
                        };
                    }
                }
                let (a0, b0) = (self.a_b[beta], self.b_b[beta]);
                if need_a {
                    // dA[i, j] = A[i, j] Σ_k w[i, k] B[j, k]
                    gemm_nt(ni, nk, nj, &w, &blk.eb, &mut t);
                    for i in 0..ni {
                        let ai = a0 + self.a_i[i];
                        for j in 0..nj {
                            ga[ai + j * self.a_j] += blk.ea[i * nj + j] * t[i * nj + j];
                        }
                    }
                }
                if need_b {
                    // dB[j, k] = B[j, k] Σ_i A[i, j] w[i, k]
                    gemm_tn(ni, nj, nk, &blk.ea, &w, &mut t);
                    for j in 0..nj {
                        let bj = b0 + j * self.b_j;
                        for k in 0..nk {
                            gb[bj + self.b_k[k]] += blk.eb[j * nk + k] * t[j * nk + k];
                        }
                    }
                }
            }
        }
        let (ga, gb) = (need_a.then_some(ga), need_b.then_some(gb));
        if self.swapped {
            (gb, ga)
        } else {
            (ga, gb)
        }
    }

    /// The gradient of an output computed by [`Plan::exact`]: `g exp(a + b - out)` into both.
    #[allow(clippy::too_many_arguments)]
    fn exact_grad(
        &self,
        a: &[f64],
        b: &[f64],
        beta: usize,
        i: usize,
        k: usize,
        g: f64,
        out: f64,
        ga: &mut [f64],
        gb: &mut [f64],
    ) {
        if !out.is_finite() {
            // -inf: every term has zero weight. +inf or NaN: no meaningful gradient.
            return;
        }
        let (ai, bk) = (self.a_b[beta] + self.a_i[i], self.b_b[beta] + self.b_k[k]);
        for j in 0..self.nj {
            let (pa, pb) = (ai + j * self.a_j, bk + j * self.b_j);
            let wt = g * (a[pa] + b[pb] - out).exp();
            if wt != 0.0 && wt.is_finite() {
                if !ga.is_empty() {
                    ga[pa] += wt;
                }
                if !gb.is_empty() {
                    gb[pb] += wt;
                }
            }
        }
    }
}

/// Whether a shifted sum is trusted (else the output is recomputed term by term).
#[inline(always)]
fn regular(c: f64) -> bool {
    (TINY..=f64::MAX).contains(&c)
}

/// The shifted exponentials of one batch element and their product.
struct Block {
    /// `exp(A[i, j] - sa[i])`, row-major `[i, j]`.
    ea: Vec<f64>,
    /// `exp(B[j, k] - sb[k])`, row-major `[j, k]`.
    eb: Vec<f64>,
    /// The shifts: each row's (column's) maximum over `j`, or 0 where it is not finite.
    sa: Vec<f64>,
    sb: Vec<f64>,
    /// `C = ea eb`, `[i, k]`.
    c: Vec<f64>,
}

impl Block {
    fn new(p: &Plan) -> Block {
        Block {
            ea: vec![0.0; p.ni * p.nj],
            eb: vec![0.0; p.nj * p.nk],
            sa: vec![0.0; p.ni],
            sb: vec![0.0; p.nk],
            c: vec![0.0; p.ni * p.nk],
        }
    }

    fn fill(&mut self, p: &Plan, a: &[f64], b: &[f64], beta: usize) {
        let (ni, nj, nk) = (p.ni, p.nj, p.nk);
        let a0 = p.a_b[beta];
        for i in 0..ni {
            let row = &mut self.ea[i * nj..(i + 1) * nj];
            let ai = a0 + p.a_i[i];
            for (j, r) in row.iter_mut().enumerate() {
                *r = a[ai + j * p.a_j];
            }
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let s = if m.is_finite() { m } else { 0.0 };
            self.sa[i] = s;
            map(row, |v| exp_shifted(v - s));
        }
        let b0 = p.b_b[beta];
        self.sb.fill(f64::NEG_INFINITY);
        for j in 0..nj {
            let row = &mut self.eb[j * nk..(j + 1) * nk];
            let bj = b0 + j * p.b_j;
            for ((r, &o), m) in row.iter_mut().zip(&p.b_k).zip(self.sb.iter_mut()) {
                *r = b[bj + o];
                *m = m.max(*r);
            }
        }
        for m in &mut self.sb {
            if !m.is_finite() {
                *m = 0.0;
            }
        }
        for j in 0..nj {
            sub_exp(&mut self.eb[j * nk..(j + 1) * nk], &self.sb);
        }
        gemm_nn(ni, nj, nk, &self.ea, &self.eb, &mut self.c);
    }
}

/// `e^x` for `x <= 0`, exactly 0 below -708 (where `exp` would leave the normal range).
#[inline(always)]
fn exp_shifted(x: f64) -> f64 {
    let y = super::fastmath::exp(x);
    if x < -708.0 {
        0.0
    } else {
        y
    }
}

/// `ln x` for positive normal `x`, branch-free so that it vectorises; within 2 ulp of `f64::ln`
/// (checked in the tests below).
#[inline(always)]
fn ln_pos(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const TWO52: f64 = 4_503_599_627_370_496.0;
    let bits = x.to_bits();
    // x = 2^e m with m in [1, 2); the biased exponent as a float without an int conversion.
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let e = f64::from_bits(0x4330_0000_0000_0000 | (bits >> 52)) - TWO52 - 1023.0;
    // Reduce m to [sqrt(2)/2, sqrt(2)).
    let big = m > std::f64::consts::SQRT_2;
    let m = if big { m * 0.5 } else { m };
    let e = if big { e + 1.0 } else { e };
    // ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.1716: series to s^21.
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let mut p = 1.0 / 21.0;
    p = p * z + 1.0 / 19.0;
    p = p * z + 1.0 / 17.0;
    p = p * z + 1.0 / 15.0;
    p = p * z + 1.0 / 13.0;
    p = p * z + 1.0 / 11.0;
    p = p * z + 1.0 / 9.0;
    p = p * z + 1.0 / 7.0;
    p = p * z + 1.0 / 5.0;
    p = p * z + 1.0 / 3.0;
    let r = 2.0 * s + 2.0 * s * z * p;
    e * LN2_HI + (e * LN2_LO + r)
}

// ----- kernels: plain loops along the contiguous dimension, compiled for AVX2 when present -----

#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    use std::sync::OnceLock;
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| is_x86_feature_detected!("avx2"))
}

/// Runs `$body` (an expression using only its arguments) through a copy compiled with AVX2 when
/// the CPU has it.
macro_rules! avx2_dispatch {
    (fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn imp($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) {
                    imp($($arg),*)
                }
                if has_avx2() {
                    // SAFETY: the CPU supports AVX2 (checked just now).
                    unsafe { avx2($($arg),*) };
                    return;
                }
            }
            imp($($arg),*)
        }
    };
}

/// `xs[i] = f(xs[i])`.
#[inline(always)]
fn map(xs: &mut [f64], f: impl Fn(f64) -> f64) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn avx2(xs: &mut [f64], f: impl Fn(f64) -> f64) {
            for x in xs {
                *x = f(*x);
            }
        }
        if has_avx2() {
            // SAFETY: the CPU supports AVX2 (checked just now).
            unsafe { avx2(xs, f) };
            return;
        }
    }
    for x in xs {
        *x = f(*x);
    }
}

avx2_dispatch! {
    fn sub_exp(row: &mut [f64], shift: &[f64]) {
        for (r, &s) in row.iter_mut().zip(shift) {
            *r = exp_shifted(*r - s);
        }
    }
}

avx2_dispatch! {
    fn gemm_nn_small(m: usize, k: usize, n: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
        for i in 0..m {
            let ci = &mut c[i * n..(i + 1) * n];
            ci.fill(0.0);
            for l in 0..k {
                let x = a[i * k + l];
                for (cv, &bv) in ci.iter_mut().zip(&b[l * n..(l + 1) * n]) {
                    *cv += x * bv;
                }
            }
        }
    }
}

avx2_dispatch! {
    fn gemm_nt_small(m: usize, n: usize, k: usize, w: &[f64], b: &[f64], t: &mut [f64]) {
        for i in 0..m {
            let wi = &w[i * n..(i + 1) * n];
            for l in 0..k {
                let bl = &b[l * n..(l + 1) * n];
                let mut acc = [0.0; 4];
                let (wc, bc) = (wi.chunks_exact(4), bl.chunks_exact(4));
                let tail: f64 = wc.remainder().iter().zip(bc.remainder()).map(|(x, y)| x * y).sum();
                for (x, y) in wc.zip(bc) {
                    for q in 0..4 {
                        acc[q] += x[q] * y[q];
                    }
                }
                t[i * k + l] = (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail;
            }
        }
    }
}

avx2_dispatch! {
    fn gemm_tn_small(m: usize, k: usize, n: usize, a: &[f64], w: &[f64], t: &mut [f64]) {
        t[..k * n].fill(0.0);
        for i in 0..m {
            let wi = &w[i * n..(i + 1) * n];
            for l in 0..k {
                let x = a[i * k + l];
                if x == 0.0 {
                    continue;
                }
                for (tv, &wv) in t[l * n..(l + 1) * n].iter_mut().zip(wi) {
                    *tv += x * wv;
                }
            }
        }
    }
}

/// `C[m, n] = A[m, k] B[k, n]`, all row-major.
fn gemm_nn(m: usize, k: usize, n: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
    if m * k * n < BLOCKED_MIN {
        return gemm_nn_small(m, k, n, a, b, c);
    }
    blocked(m, k, n, a, (k, 1), b, (n, 1), c);
}

/// `T[m, k] = W[m, n] B[k, n]ᵀ`.
fn gemm_nt(m: usize, n: usize, k: usize, w: &[f64], b: &[f64], t: &mut [f64]) {
    if m * k * n < BLOCKED_MIN {
        return gemm_nt_small(m, n, k, w, b, t);
    }
    blocked(m, n, k, w, (n, 1), b, (1, n), t);
}

/// `T[k, n] = A[m, k]ᵀ W[m, n]`.
fn gemm_tn(m: usize, k: usize, n: usize, a: &[f64], w: &[f64], t: &mut [f64]) {
    if m * k * n < BLOCKED_MIN {
        return gemm_tn_small(m, k, n, a, w, t);
    }
    blocked(k, m, n, a, (1, k), w, (n, 1), t);
}

/// `C[m, n] = A B` through `matrixmultiply` with the given (row, column) strides.
#[allow(clippy::too_many_arguments)]
fn blocked(
    m: usize,
    k: usize,
    n: usize,
    a: &[f64],
    (ra, ca): (usize, usize),
    b: &[f64],
    (rb, cb): (usize, usize),
    c: &mut [f64],
) {
    assert!(
        a.len() >= (m - 1) * ra + (k - 1) * ca + 1
            && b.len() >= (k - 1) * rb + (n - 1) * cb + 1
            && c.len() >= m * n,
        "log-space contraction: buffer sizes"
    );
    // SAFETY: the assertion above bounds every element the strides reach; m, k, n >= 1 because
    // the product is at least BLOCKED_MIN.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            ra as isize,
            ca as isize,
            b.as_ptr(),
            rb as isize,
            cb as isize,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_pos_matches_std() {
        let mut x = 1e-300;
        let mut worst: f64 = 0.0;
        while x < 1e300 {
            for y in [
                x,
                x * 1.000_000_1,
                x * 1.414_213_56,
                x * 1.414_213_57,
                x * 1.9,
            ] {
                let (got, want) = (ln_pos(y), y.ln());
                worst = worst.max((got - want).abs() / want.abs().max(1.0));
            }
            x *= 1.37;
        }
        for y in [1.0, 1.0 + 1e-15, 1.0 - 1e-15, 0.5, 2.0, std::f64::consts::E] {
            let (got, want) = (ln_pos(y), y.ln());
            worst = worst.max((got - want).abs() / want.abs().max(1e-300));
        }
        assert!(worst < 4.5e-16, "worst relative error {worst}");
    }

    fn naive(a: &Tensor, b: &Tensor, dim: isize) -> Vec<f64> {
        (a + b).logsumexp_dim(dim, false).to_vec().unwrap()
    }

    #[test]
    fn agrees_with_the_broadcast_logsumexp_in_every_layout() {
        let v = |shape: &[usize], seed: usize| {
            let n: usize = shape.iter().product();
            let vals = (0..n)
                .map(|i| (((i + seed) * 7919 + 13) % 101) as f64 / 10.0 - 5.0)
                .collect();
            Tensor::new(vals, shape).unwrap()
        };
        let cases: &[(&[usize], &[usize], isize)] = &[
            (&[4, 1, 6], &[4, 3, 1], 0),
            (&[4, 3, 1], &[4, 1, 6], 0),
            (&[1, 4, 6], &[3, 4, 1], 1),
            (&[2, 4, 6], &[2, 4, 1], 1),
            (&[5], &[5], 0),
            (&[5, 1], &[1, 3], 0),
            (&[3, 5], &[5], -1),
            (&[2, 3, 4, 5], &[3, 1, 5], -3),
            (&[1, 7], &[7, 1], 1),
        ];
        for (k, &(sa, sb, dim)) in cases.iter().enumerate() {
            let (a, b) = (v(sa, k), v(sb, 3 * k + 1));
            let got = a.logsumexp_add(&b, dim, false).to_vec().unwrap();
            let want = naive(&a, &b, dim);
            assert_eq!(got.len(), want.len(), "{sa:?} {sb:?}");
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() < 1e-13 * (1.0 + w.abs()),
                    "{sa:?} {sb:?}: {g} vs {w}"
                );
            }
        }
    }

    #[test]
    fn large_products_take_the_blocked_kernel() {
        let (n, m, p) = (40, 50, 40);
        let a = Tensor::new((0..n * m).map(|i| (i % 17) as f64 * 0.3).collect(), &[n, m]).unwrap();
        let b = Tensor::new(
            (0..m * p).map(|i| -((i % 13) as f64) * 0.2).collect(),
            &[m, p],
        )
        .unwrap();
        assert!(n * m * p >= BLOCKED_MIN);
        let got = a.log_matmul_exp(&b).to_vec().unwrap();
        let want = naive(&a.unsqueeze(-1), &b.unsqueeze(0), 1);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-12 * (1.0 + w.abs()));
        }
    }
}
