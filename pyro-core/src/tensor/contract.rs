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

use std::rc::Rc;

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
        let plan = match Plan::cached(&ash, &bsh, axis) {
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
        let keep = self.requires_grad() || other.requires_grad();
        let (v, saved) = plan.forward(self.raw(), other.raw(), keep);
        record(
            &[self, other],
            out_shape,
            Data::from_vec(v),
            logsumexp_add_bw,
            Aux::Values(saved, axis),
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
        let plan = match Plan::cached(&ash, &bsh, axis) {
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
        let keep = self.requires_grad() || other.requires_grad();
        let (v, saved) = plan.forward(self.raw(), other.raw(), keep);
        record(
            &[self, other],
            out_shape,
            Data::from_vec(v),
            log_matmul_exp_bw,
            Aux::Values(saved, axis),
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
    let Aux::Values(_, axis) = *args.aux else {
        unreachable!("logsumexp_add saves its exponentials and axis")
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
    let Ok(plan) = Plan::cached(ash, bsh, axis) else {
        unreachable!("the forward pass checked the shapes")
    };
    let Aux::Values(saved, _) = args.aux else {
        unreachable!("the log-space contraction saves its exponentials")
    };
    let (ga, gb) = plan.backward(
        args.inputs[0].0,
        args.inputs[1].0,
        saved,
        args.grad,
        args.out,
        [args.needs[0], args.needs[1]],
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
    /// Strides of `A` and `B` along the summed axis.
    a_j: usize,
    b_j: usize,
    /// The offset tables in one buffer, in the order of [`Table`].
    tables: Vec<usize>,
    ranges: [(usize, usize); 7],
    /// Whether the `k` offsets are `0, 1, 2, ...` in both `B` and the output: the `k` axes are
    /// the innermost ones, and rows along `k` are contiguous slices.
    k_unit: bool,
}

/// The offset tables of a [`Plan`].
#[derive(Clone, Copy)]
enum Table {
    /// Batch offsets in `A`, `B` and the output.
    AB,
    BB,
    OB,
    /// `i` offsets in `A` and the output.
    AI,
    OI,
    /// `k` offsets in `B` and the output.
    BK,
    OK,
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

/// Appends the offsets of every multi-index over `axes` (row-major) for a tensor with `strides`.
fn push_offsets(out: &mut Vec<usize>, axes: &[usize], sizes: &[usize], strides: &[usize]) {
    if let [d] = axes {
        // One axis (the common case): no index arithmetic.
        out.extend((0..sizes[*d]).map(|t| t * strides[*d]));
        return;
    }
    let start = out.len();
    let total: usize = axes.iter().map(|&d| sizes[d]).product();
    out.resize(start + total, 0);
    // Each axis adds its offset to blocks of `inner` entries, cycling through its size.
    let mut inner = total;
    for &d in axes {
        let (size, stride) = (sizes[d], strides[d]);
        inner /= size.max(1);
        for (q, o) in out[start..].iter_mut().enumerate() {
            *o += (q / inner) % size * stride;
        }
    }
}

/// How many recent plans each thread keeps (an HMM step uses one; a model with several chains
/// or factor shapes a few).
const PLANS_KEPT: usize = 8;

/// Plans whose offset tables are longer than this are not kept.
const PLAN_KEEP_LEN: usize = 1 << 12;

/// The shapes and axis a [`Plan`] was made for.
type PlanKey = (Shape, Shape, usize);

thread_local! {
    /// The most recently used plans, most recent first: a markov loop contracts factors of the
    /// same shapes at every step, forward and backward, and building the offset tables each time
    /// cost about a tenth of the contraction.
    static PLANS: std::cell::RefCell<Vec<(PlanKey, Rc<Plan>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
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
        let groups_len =
            |axes: &[usize], sizes: &[usize]| -> usize { axes.iter().map(|&d| sizes[d]).product() };
        let mut tables = Vec::with_capacity(
            3 * groups_len(&batch, &out_shape)
                + 2 * groups_len(&only_a, a)
                + 2 * groups_len(&only_b, b),
        );
        let mut ranges = [(0, 0); 7];
        let groups: [(&[usize], &[usize], &[usize]); 7] = [
            (&batch, a, &sa),
            (&batch, b, &sb),
            (&batch, &out_shape, &so),
            (&only_a, a, &sa),
            (&only_a, &out_shape, &so),
            (&only_b, b, &sb),
            (&only_b, &out_shape, &so),
        ];
        for (r, (axes, sizes, st)) in ranges.iter_mut().zip(groups) {
            let start = tables.len();
            push_offsets(&mut tables, axes, sizes, st);
            *r = (start, tables.len());
        }
        let mut plan = Plan {
            swapped,
            ni: only_a.iter().map(|&d| a[d]).product(),
            nj,
            nk: only_b.iter().map(|&d| b[d]).product(),
            a_j: sa[axis],
            b_j: sb[axis],
            tables,
            ranges,
            k_unit: false,
            out_shape,
        };
        let unit = |t: &[usize]| t.iter().enumerate().all(|(k, &o)| o == k);
        plan.k_unit = unit(plan.table(Table::BK)) && unit(plan.table(Table::OK));
        Ok(plan)
    }

    /// [`Plan::new`], reusing the plan of a recent call with the same shapes and axis.
    fn cached(x: &[usize], y: &[usize], axis: usize) -> Result<Rc<Plan>, String> {
        let hit = PLANS.with(|cell| {
            let mut plans = cell.try_borrow_mut().ok()?;
            let at = plans
                .iter()
                .position(|((a, b, d), _)| *d == axis && a.as_slice() == x && b.as_slice() == y)?;
            // Most recent first, so that the lookup usually stops at the first entry.
            plans[..=at].rotate_right(1);
            Some(Rc::clone(&plans[0].1))
        });
        if let Some(plan) = hit {
            return Ok(plan);
        }
        let plan = Rc::new(Plan::new(x, y, axis)?);
        if plan.tables.len() > PLAN_KEEP_LEN {
            // Large tables cost little next to their contraction; keeping them would hold memory.
            return Ok(plan);
        }
        PLANS.with(|cell| {
            if let Ok(mut plans) = cell.try_borrow_mut() {
                plans.truncate(PLANS_KEPT - 1);
                let key = (Shape::from_slice(x), Shape::from_slice(y), axis);
                plans.insert(0, (key, Rc::clone(&plan)));
            }
        });
        Ok(plan)
    }

    fn table(&self, t: Table) -> &[usize] {
        let (s, e) = self.ranges[t as usize];
        &self.tables[s..e]
    }

    fn batches(&self) -> usize {
        self.table(Table::AB).len()
    }

    /// Values of one batch element's exponentials and their product: `EA` (`[i, j]`), `EB`
    /// (`[j, k]`) and `C` (`[i, k]`), in that order.
    fn block_len(&self) -> usize {
        self.ni * self.nj + self.nj * self.nk + self.ni * self.nk
    }

    /// The output values and, with `keep`, every batch element's exponentials and their
    /// product for the backward pass (else an empty slice).
    fn forward(&self, x: &[f64], y: &[f64], keep: bool) -> (Vec<f64>, Rc<[f64]>) {
        let (a, b) = if self.swapped { (y, x) } else { (x, y) };
        let mut out = vec![f64::NEG_INFINITY; numel(&self.out_shape)];
        if self.nj == 0 || out.is_empty() {
            return (out, Rc::from(Vec::new()));
        }
        let per = self.block_len();
        // Written in place: collecting a sized iterator into an `Rc` allocates once.
        let mut saved: Rc<[f64]> =
            std::iter::repeat_n(0.0, if keep { per * self.batches() } else { 0 }).collect();
        let (ni, nk) = (self.ni, self.nk);
        let mut kept = Rc::get_mut(&mut saved).filter(|_| keep);
        let keep = kept.is_some();
        let work = ni + nk + ni * nk + if keep { 0 } else { per };
        with_scratch(work, |buf| {
            let (sa, rest) = buf.split_at_mut(ni);
            let (sb, rest) = rest.split_at_mut(nk);
            let (lnc, spare) = rest.split_at_mut(ni * nk);
            for beta in 0..self.batches() {
                let block = match kept.as_deref_mut() {
                    Some(all) => &mut all[beta * per..(beta + 1) * per],
                    None => &mut *spare,
                };
                let (ea, eb, c) = self.split_block_mut(block);
                self.fill(a, b, beta, ea, eb, c, sa, sb);
                self.write_out(a, b, beta, c, sa, sb, lnc, &mut out);
            }
        });
        (out, saved)
    }

    fn split_block_mut<'b>(
        &self,
        block: &'b mut [f64],
    ) -> (&'b mut [f64], &'b mut [f64], &'b mut [f64]) {
        let (ea, rest) = block.split_at_mut(self.ni * self.nj);
        let (eb, c) = rest.split_at_mut(self.nj * self.nk);
        (ea, eb, c)
    }

    fn split_block<'b>(&self, block: &'b [f64]) -> (&'b [f64], &'b [f64], &'b [f64]) {
        let (ea, rest) = block.split_at(self.ni * self.nj);
        let (eb, c) = rest.split_at(self.nj * self.nk);
        (ea, eb, c)
    }

    /// The shifted exponentials of batch element `beta`, their shifts and their product.
    #[allow(clippy::too_many_arguments)]
    fn fill(
        &self,
        a: &[f64],
        b: &[f64],
        beta: usize,
        ea: &mut [f64],
        eb: &mut [f64],
        c: &mut [f64],
        sa: &mut [f64],
        sb: &mut [f64],
    ) {
        let (nj, nk) = (self.nj, self.nk);
        let a0 = self.table(Table::AB)[beta];
        for (i, &oi) in self.table(Table::AI).iter().enumerate() {
            let row = &mut ea[i * nj..(i + 1) * nj];
            for (j, r) in row.iter_mut().enumerate() {
                *r = a[a0 + oi + j * self.a_j];
            }
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let shift = if m.is_finite() { m } else { 0.0 };
            sa[i] = shift;
            exp_minus(row, shift);
        }
        let b0 = self.table(Table::BB)[beta];
        sb.fill(f64::NEG_INFINITY);
        for j in 0..nj {
            let row = &mut eb[j * nk..(j + 1) * nk];
            let base = b0 + j * self.b_j;
            if self.k_unit {
                row.copy_from_slice(&b[base..base + nk]);
            } else {
                for (r, &o) in row.iter_mut().zip(self.table(Table::BK)) {
                    *r = b[base + o];
                }
            }
            max_into(sb, row);
        }
        for m in sb.iter_mut() {
            if !m.is_finite() {
                *m = 0.0;
            }
        }
        for j in 0..nj {
            sub_exp(&mut eb[j * nk..(j + 1) * nk], sb);
        }
        gemm_nn(self.ni, nj, nk, ea, eb, c);
    }

    /// `out = ln C + shifts` for batch element `beta`, term by term where `C` underflowed.
    #[allow(clippy::too_many_arguments)]
    fn write_out(
        &self,
        a: &[f64],
        b: &[f64],
        beta: usize,
        c: &[f64],
        sa: &[f64],
        sb: &[f64],
        lnc: &mut [f64],
        out: &mut [f64],
    ) {
        let nk = self.nk;
        let (ob, oi, ok) = (
            self.table(Table::OB)[beta],
            self.table(Table::OI),
            self.table(Table::OK),
        );
        // ln C, with C clamped into the range where the fast logarithm is exact; the entries
        // below it are recomputed just after.
        ln_clamped(lnc, c);
        for (i, &oi) in oi.iter().enumerate() {
            let o = ob + oi;
            let l = &lnc[i * nk..(i + 1) * nk];
            if self.k_unit {
                add_shifts(&mut out[o..o + nk], l, sa[i], sb);
            } else {
                for k in 0..nk {
                    out[o + ok[k]] = l[k] + sa[i] + sb[k];
                }
            }
        }
        if c.iter().any(|&c| !regular(c)) {
            for (idx, &cv) in c.iter().enumerate() {
                if !regular(cv) {
                    let (i, k) = (idx / nk, idx % nk);
                    out[ob + oi[i] + ok[k]] = self.exact(a, b, beta, i, k);
                }
            }
        }
    }

    /// `ln Σ_j exp(A[β, i, j] + B[β, j, k])` term by term: where the shifted product underflows.
    fn exact(&self, a: &[f64], b: &[f64], beta: usize, i: usize, k: usize) -> f64 {
        let ai = self.table(Table::AB)[beta] + self.table(Table::AI)[i];
        let bk = self.table(Table::BB)[beta] + self.table(Table::BK)[k];
        let term = |j: usize| a[ai + j * self.a_j] + b[bk + j * self.b_j];
        let m = (0..self.nj).map(term).fold(f64::NEG_INFINITY, f64::max);
        if !m.is_finite() {
            return m;
        }
        m + (0..self.nj).map(|j| (term(j) - m).exp()).sum::<f64>().ln()
    }

    /// The gradients of both inputs (where `need`ed) from the forward pass's `saved`
    /// exponentials (recomputed if it saved none).
    fn backward(
        &self,
        x: &[f64],
        y: &[f64],
        saved: &[f64],
        grad: &[f64],
        out: &[f64],
        need: [bool; 2],
    ) -> (Option<GradBuf>, Option<GradBuf>) {
        let (a, b, need_a, need_b) = if self.swapped {
            (y, x, need[1], need[0])
        } else {
            (x, y, need[0], need[1])
        };
        let mut ga: GradBuf = smallvec![0.0; if need_a { a.len() } else { 0 }];
        let mut gb: GradBuf = smallvec![0.0; if need_b { b.len() } else { 0 }];
        let per = self.block_len();
        if self.nj > 0 && !out.is_empty() && (need_a || need_b) {
            let recomputed;
            let saved = if saved.len() == per * self.batches() {
                saved
            } else {
                recomputed = self.forward(x, y, true).1;
                &recomputed[..]
            };
            let (ni, nj, nk) = (self.ni, self.nj, self.nk);
            with_scratch(ni * nk + ni.max(nk) * nj, |buf| {
                let (w, t) = buf.split_at_mut(ni * nk);
                for beta in 0..self.batches() {
                    let (ea, eb, c) = self.split_block(&saved[beta * per..(beta + 1) * per]);
                    self.weights(a, b, beta, c, grad, out, w, &mut ga, &mut gb);
                    if need_a {
                        // dA[i, j] = A[i, j] Σ_k w[i, k] B[j, k]
                        gemm_nt(ni, nk, nj, w, eb, t);
                        let a0 = self.table(Table::AB)[beta];
                        for (i, &ai) in self.table(Table::AI).iter().enumerate() {
                            for j in 0..nj {
                                ga[a0 + ai + j * self.a_j] += ea[i * nj + j] * t[i * nj + j];
                            }
                        }
                    }
                    if need_b {
                        // dB[j, k] = B[j, k] Σ_i A[i, j] w[i, k]
                        gemm_tn(ni, nj, nk, ea, w, t);
                        let (b0, bk) = (self.table(Table::BB)[beta], self.table(Table::BK));
                        for j in 0..nj {
                            let base = b0 + j * self.b_j;
                            let (e, t) = (&eb[j * nk..(j + 1) * nk], &t[j * nk..(j + 1) * nk]);
                            if self.k_unit {
                                add_product(&mut gb[base..base + nk], e, t);
                            } else {
                                for k in 0..nk {
                                    gb[base + bk[k]] += e[k] * t[k];
                                }
                            }
                        }
                    }
                }
            });
        }
        let (ga, gb) = (need_a.then_some(ga), need_b.then_some(gb));
        if self.swapped {
            (gb, ga)
        } else {
            (ga, gb)
        }
    }

    /// `w = dL/dout / C` for batch element `beta` (the softmax weight `exp(a + b - out)` is
    /// `A B / C`); where `C` underflowed, the gradient goes into `ga` and `gb` term by term and
    /// `w` is 0.
    #[allow(clippy::too_many_arguments)]
    fn weights(
        &self,
        a: &[f64],
        b: &[f64],
        beta: usize,
        c: &[f64],
        grad: &[f64],
        out: &[f64],
        w: &mut [f64],
        ga: &mut [f64],
        gb: &mut [f64],
    ) {
        let nk = self.nk;
        let (ob, oi, ok) = (
            self.table(Table::OB)[beta],
            self.table(Table::OI),
            self.table(Table::OK),
        );
        for (i, &oi) in oi.iter().enumerate() {
            let o = ob + oi;
            let (w, c) = (&mut w[i * nk..(i + 1) * nk], &c[i * nk..(i + 1) * nk]);
            if self.k_unit {
                divide(w, &grad[o..o + nk], c);
            } else {
                for k in 0..nk {
                    let g = grad[o + ok[k]];
                    w[k] = if g == 0.0 || !regular(c[k]) {
                        0.0
                    } else {
                        g / c[k]
                    };
                }
            }
        }
        if c.iter().any(|&c| !regular(c)) {
            for (idx, &cv) in c.iter().enumerate() {
                let (i, k) = (idx / nk, idx % nk);
                let o = ob + oi[i] + ok[k];
                if !regular(cv) && grad[o] != 0.0 {
                    self.exact_grad(a, b, beta, i, k, grad[o], out[o], ga, gb);
                }
            }
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
        let ai = self.table(Table::AB)[beta] + self.table(Table::AI)[i];
        let bk = self.table(Table::BB)[beta] + self.table(Table::BK)[k];
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

/// Largest working memory kept between calls (8 MB); bigger contractions allocate their own.
const SCRATCH_KEEP: usize = 1 << 20;

thread_local! {
    /// Working memory reused from call to call, so that a contraction allocates nothing for it
    /// after the first.
    static SCRATCH: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with `n` values of working memory (contents unspecified).
fn with_scratch<R>(n: usize, f: impl FnOnce(&mut [f64]) -> R) -> R {
    if n > SCRATCH_KEEP {
        return f(&mut vec![0.0; n]);
    }
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut v) => {
            if v.len() < n {
                v.resize(n, 0.0);
            }
            f(&mut v[..n])
        }
        // Only if a contraction ran inside another on this thread, which none does.
        Err(_) => f(&mut vec![0.0; n]),
    })
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
    *HAS.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
}

/// Defines a function whose body is also compiled with AVX2 and FMA enabled, and runs that copy
/// when the CPU has them.
macro_rules! avx2_dispatch {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$doc])*
        fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn imp($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) {
                    imp($($arg),*)
                }
                if has_avx2() {
                    // SAFETY: the CPU supports AVX2 and FMA (checked just now).
                    unsafe { avx2($($arg),*) };
                    return;
                }
            }
            imp($($arg),*)
        }
    };
}

avx2_dispatch! {
    /// `row[j] = e^(row[j] - shift)`.
    fn exp_minus(row: &mut [f64], shift: f64) {
        for r in row.iter_mut() {
            *r = exp_shifted(*r - shift);
        }
    }
}

avx2_dispatch! {
    /// `row[k] = e^(row[k] - shift[k])`.
    fn sub_exp(row: &mut [f64], shift: &[f64]) {
        for (r, &s) in row.iter_mut().zip(shift) {
            *r = exp_shifted(*r - s);
        }
    }
}

avx2_dispatch! {
    /// `m[k] = max(m[k], row[k])`.
    fn max_into(m: &mut [f64], row: &[f64]) {
        for (m, &r) in m.iter_mut().zip(row) {
            *m = if r > *m { r } else { *m };
        }
    }
}

avx2_dispatch! {
    /// `dst = ln(max(src, TINY))`.
    fn ln_clamped(dst: &mut [f64], src: &[f64]) {
        for (d, &c) in dst.iter_mut().zip(src) {
            *d = ln_pos(if c > TINY { c } else { TINY });
        }
    }
}

avx2_dispatch! {
    /// `out[k] = lnc[k] + s + sb[k]`.
    fn add_shifts(out: &mut [f64], lnc: &[f64], s: f64, sb: &[f64]) {
        for ((o, &l), &t) in out.iter_mut().zip(lnc).zip(sb) {
            *o = l + s + t;
        }
    }
}

avx2_dispatch! {
    /// `w[k] = g[k] / c[k]`, 0 where `g[k]` is 0 or `c[k]` is not [`regular`].
    fn divide(w: &mut [f64], g: &[f64], c: &[f64]) {
        for ((w, &g), &c) in w.iter_mut().zip(g).zip(c) {
            let q = g / c;
            *w = if g == 0.0 || !regular(c) { 0.0 } else { q };
        }
    }
}

avx2_dispatch! {
    /// `acc[k] += e[k] t[k]`.
    fn add_product(acc: &mut [f64], e: &[f64], t: &[f64]) {
        for ((a, &e), &t) in acc.iter_mut().zip(e).zip(t) {
            *a += e * t;
        }
    }
}

/// `C[m, n] = A[m, k] B[k, n]`: each row of `C` a combination of the rows of `B`.
fn gemm_nn_small(m: usize, k: usize, n: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
    for i in 0..m {
        combine_rows(&mut c[i * n..(i + 1) * n], &a[i * k..], 1, b, k);
    }
}

/// `T[m, k] = W[m, n] B[k, n]ᵀ`: dot products of rows.
fn gemm_nt_small(m: usize, n: usize, k: usize, w: &[f64], b: &[f64], t: &mut [f64]) {
    for i in 0..m {
        let wi = &w[i * n..(i + 1) * n];
        for l in 0..k {
            t[i * k + l] = dot(wi, &b[l * n..(l + 1) * n]);
        }
    }
}

/// `T[k, n] = A[m, k]ᵀ W[m, n]`: each row of `T` a combination of the rows of `W`.
fn gemm_tn_small(m: usize, k: usize, n: usize, a: &[f64], w: &[f64], t: &mut [f64]) {
    for l in 0..k {
        combine_rows(&mut t[l * n..(l + 1) * n], &a[l..], k, w, m);
    }
}

/// `out[q] = Σ_l coef[l cs] rows[l n + q]` for `q < n = out.len()` and `l < count`.
fn combine_rows(out: &mut [f64], coef: &[f64], cs: usize, rows: &[f64], count: usize) {
    let n = out.len();
    assert!(
        count == 0 || (coef.len() > (count - 1) * cs && rows.len() >= count * n),
        "log-space contraction: row combination out of bounds"
    );
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has AVX2 and FMA (checked just now); the assertion above bounds every
        // element read.
        unsafe { simd::combine_rows(out, coef, cs, rows, count) };
        return;
    }
    out.fill(0.0);
    for l in 0..count {
        let x = coef[l * cs];
        for (o, &r) in out.iter_mut().zip(&rows[l * n..(l + 1) * n]) {
            *o += x * r;
        }
    }
}

/// `Σ x[q] y[q]`.
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has AVX2 and FMA (checked just now); both slices hold `n` values.
        return unsafe { simd::dot(&x[..n], &y[..n]) };
    }
    x[..n].iter().zip(&y[..n]).map(|(a, b)| a * b).sum()
}

/// The two product kernels with explicit AVX2/FMA vectors: eight (or four) output columns held
/// in registers while the products are added in.
#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    /// See [`super::combine_rows`]; the caller checks the bounds and the CPU features.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn combine_rows(
        out: &mut [f64],
        coef: &[f64],
        cs: usize,
        rows: &[f64],
        count: usize,
    ) {
        let n = out.len();
        let (o, r, c) = (out.as_mut_ptr(), rows.as_ptr(), coef.as_ptr());
        let mut q = 0;
        while q + 8 <= n {
            let (mut a0, mut a1) = (_mm256_setzero_pd(), _mm256_setzero_pd());
            for l in 0..count {
                let x = _mm256_set1_pd(*c.add(l * cs));
                let p = r.add(l * n + q);
                a0 = _mm256_fmadd_pd(x, _mm256_loadu_pd(p), a0);
                a1 = _mm256_fmadd_pd(x, _mm256_loadu_pd(p.add(4)), a1);
            }
            _mm256_storeu_pd(o.add(q), a0);
            _mm256_storeu_pd(o.add(q + 4), a1);
            q += 8;
        }
        if q + 4 <= n {
            let mut a0 = _mm256_setzero_pd();
            for l in 0..count {
                let x = _mm256_set1_pd(*c.add(l * cs));
                a0 = _mm256_fmadd_pd(x, _mm256_loadu_pd(r.add(l * n + q)), a0);
            }
            _mm256_storeu_pd(o.add(q), a0);
            q += 4;
        }
        while q < n {
            let mut s = 0.0;
            for l in 0..count {
                s = (*c.add(l * cs)).mul_add(*r.add(l * n + q), s);
            }
            *o.add(q) = s;
            q += 1;
        }
    }

    /// See [`super::dot`]; `x` and `y` have the same length.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot(x: &[f64], y: &[f64]) -> f64 {
        let n = x.len();
        let (px, py) = (x.as_ptr(), y.as_ptr());
        let (mut a0, mut a1) = (_mm256_setzero_pd(), _mm256_setzero_pd());
        let mut q = 0;
        while q + 8 <= n {
            a0 = _mm256_fmadd_pd(_mm256_loadu_pd(px.add(q)), _mm256_loadu_pd(py.add(q)), a0);
            a1 = _mm256_fmadd_pd(
                _mm256_loadu_pd(px.add(q + 4)),
                _mm256_loadu_pd(py.add(q + 4)),
                a1,
            );
            q += 8;
        }
        if q + 4 <= n {
            a0 = _mm256_fmadd_pd(_mm256_loadu_pd(px.add(q)), _mm256_loadu_pd(py.add(q)), a0);
            q += 4;
        }
        let v = _mm256_add_pd(a0, a1);
        let h = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
        let mut s = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
        while q < n {
            s = (*px.add(q)).mul_add(*py.add(q), s);
            q += 1;
        }
        s
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
        a.len() > (m - 1) * ra + (k - 1) * ca
            && b.len() > (k - 1) * rb + (n - 1) * cb
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
                // Either side of the reduction's switch at sqrt(2).
                x * (std::f64::consts::SQRT_2 - 1e-9),
                x * (std::f64::consts::SQRT_2 + 1e-9),
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
            // The output's innermost axis is a batch axis: rows along k are strided.
            (&[1, 4, 5, 2], &[3, 4, 1, 2], 1),
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

    /// The small kernels against plain sums, for every width: the vector paths take eight
    /// columns, then four, then one at a time, and each remainder must be right.
    #[test]
    fn small_kernels_agree_with_plain_sums_at_every_width() {
        let val = |i: usize| ((i * 7919 + 13) % 101) as f64 / 17.0 - 3.0;
        for (m, k) in [(1, 1), (3, 2), (2, 5)] {
            for n in 0..21 {
                let a: Vec<f64> = (0..m * k).map(val).collect();
                let b: Vec<f64> = (0..k * n).map(|i| val(i + 5)).collect();
                let w: Vec<f64> = (0..m * n).map(|i| val(i + 11)).collect();
                let close = |g: f64, want: f64| (g - want).abs() < 1e-12 * (1.0 + want.abs());
                let mut c = vec![f64::NAN; m * n];
                gemm_nn_small(m, k, n, &a, &b, &mut c);
                for i in 0..m {
                    for q in 0..n {
                        let want: f64 = (0..k).map(|l| a[i * k + l] * b[l * n + q]).sum();
                        assert!(close(c[i * n + q], want), "nn {m} {k} {n}");
                    }
                }
                let bt: Vec<f64> = (0..k * n).map(|i| val(i + 7)).collect(); // [k, n]
                let mut t = vec![f64::NAN; m * k];
                gemm_nt_small(m, n, k, &w, &bt, &mut t);
                for i in 0..m {
                    for l in 0..k {
                        let want: f64 = (0..n).map(|q| w[i * n + q] * bt[l * n + q]).sum();
                        assert!(close(t[i * k + l], want), "nt {m} {k} {n}");
                    }
                }
                let mut t = vec![f64::NAN; k * n];
                gemm_tn_small(m, k, n, &a, &w, &mut t);
                for l in 0..k {
                    for q in 0..n {
                        let want: f64 = (0..m).map(|i| a[i * k + l] * w[i * n + q]).sum();
                        assert!(close(t[l * n + q], want), "tn {m} {k} {n}");
                    }
                }
            }
        }
    }

    /// Plans are kept per (shapes, axis): the same shapes summed over another axis, and more
    /// shapes than are kept, still give the right sums; a repeated call reuses its plan.
    #[test]
    fn kept_plans_are_told_apart_by_shapes_and_axis() {
        let v = |shape: &[usize], seed: usize| {
            let n: usize = shape.iter().product();
            let vals = (0..n)
                .map(|i| ((i * 31 + seed * 7) % 23) as f64 / 4.0 - 3.0)
                .collect();
            Tensor::new(vals, shape).unwrap()
        };
        let (a, b) = (v(&[3, 3, 1], 1), v(&[3, 1, 3], 2));
        for _ in 0..2 {
            for dim in 0..2 {
                let got = a.logsumexp_add(&b, dim, false).to_vec().unwrap();
                for (g, w) in got.iter().zip(naive(&a, &b, dim)) {
                    assert!((g - w).abs() < 1e-13 * (1.0 + w.abs()), "dim {dim}");
                }
            }
            // More distinct shapes than are kept, in between.
            for n in 1..=PLANS_KEPT + 2 {
                let (x, y) = (v(&[n, 2], n), v(&[n, 1], n + 1));
                let got = x.logsumexp_add(&y, 0, false).to_vec().unwrap();
                for (g, w) in got.iter().zip(naive(&x, &y, 0)) {
                    assert!((g - w).abs() < 1e-13 * (1.0 + w.abs()), "n {n}");
                }
            }
        }
        let key = |p: &Rc<Plan>| Rc::as_ptr(p);
        let (p1, p2) = (
            Plan::cached(&[3, 3, 1], &[3, 1, 3], 1).unwrap(),
            Plan::cached(&[3, 3, 1], &[3, 1, 3], 1).unwrap(),
        );
        assert_eq!(key(&p1), key(&p2));
        let p3 = Plan::cached(&[3, 3, 1], &[3, 1, 3], 0).unwrap();
        assert_ne!(key(&p1), key(&p3));
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
