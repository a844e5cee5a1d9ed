//! Log-densities as single tape operations.
//!
//! Written with tensor operations, `Beta::log_prob` records about fifteen nodes (masks, logs,
//! three `lgamma`s, products, sums) and `Normal::log_prob` six; each makes its own pass over the
//! data and, for the gradient, another. Here a log-density is one elementwise kernel of its
//! (broadcast) inputs, `value(p)`, with the partial derivatives `partial(p, k)` written next to it:
//! one node, one pass forward, one pass back, and no heap allocation when every input is a scalar.

use smallvec::smallvec;

use crate::tensor::fastmath;
use crate::tensor::{
    broadcast_shapes, broadcast_strides, record, shape_numel, Aux, BackwardArgs, Data, GradBuf,
    InputGrads, Shape, Tensor,
};

/// An elementwise log-density of `N` inputs (parameters and value, in that order).
pub(crate) trait Kernel<const N: usize> {
    /// The distribution, for error messages.
    const NAME: &'static str;
    /// The log-density at one element.
    fn value(p: [f64; N]) -> f64;
    /// Its partial derivative with respect to input `k` at one element.
    fn partial(p: [f64; N], k: usize) -> f64;
    /// `out[i] = value(p_i)` along one row of the broadcast, each column either as long as `out`
    /// or one element (constant along the row). A kernel overrides it to hoist the work that
    /// depends only on the constant columns (`ln scale` of a Normal with one scale).
    #[inline]
    fn value_row(out: &mut [f64], cols: &[&[f64]; N]) {
        fill(out, cols, Self::value)
    }
    /// `out[i] = partial(p_i, k)` along one row, as [`Kernel::value_row`].
    #[inline]
    fn partial_row(out: &mut [f64], cols: &[&[f64]; N], k: usize) {
        fill(out, cols, |p| Self::partial(p, k))
    }
}

/// The kernel `K` applied to broadcast inputs, recorded as one node.
pub(crate) fn log_density<K: Kernel<N>, const N: usize>(inputs: [&Tensor; N]) -> Tensor {
    if let Some(e) = inputs.iter().find_map(|t| t.error()) {
        return Tensor::poisoned(e.clone());
    }
    // All scalars (the common case of small models): no shape work, no allocation.
    if inputs.iter().all(|t| t.numel() == 1) {
        let shape = inputs
            .iter()
            .map(|t| t.shape())
            .max_by_key(|s| s.len())
            .map(Shape::from_slice)
            .unwrap_or_default();
        let p: [f64; N] = std::array::from_fn(|k| inputs[k].raw()[0]);
        return record(
            &inputs,
            shape,
            Data::Scalar(K::value(p)),
            backward::<K, N>,
            Aux::None,
        );
    }
    let shape = match out_shape::<K, N>(&inputs) {
        Ok(s) => s,
        Err(e) => return Tensor::poisoned(e),
    };
    let mut out = match zeros(K::NAME, &shape) {
        Ok(v) => v,
        Err(e) => return Tensor::poisoned(e),
    };
    let rows = Rows::new(inputs.map(Tensor::shape), &shape);
    let vals = inputs.map(Tensor::raw);
    let inner = rows.inner;
    rows.for_each(|r, off| {
        K::value_row(&mut out[r * inner..(r + 1) * inner], &rows.cols(&vals, off));
    });
    record(
        &inputs,
        shape,
        Data::from_vec(out),
        backward::<K, N>,
        Aux::None,
    )
}

/// The broadcast of `N` inputs to an output shape, walked as rows: the output's dims of size 1
/// dropped and adjacent dims merged where every input steps through them as through one, so
/// that the innermost (`inner` elements, contiguous in the output) is as long as possible.
/// Along a row each input is either contiguous (`full`) or one element repeated; the outer dims
/// step each input by its own stride (0 where it is broadcast). Nothing is expanded: a `(K, 1)`
/// location against `(S,)` values is read in place, `K` rows of `S`.
struct Rows<const N: usize> {
    inner: usize,
    full: [bool; N],
    /// Sizes of the outer dims, outermost first.
    outer: Shape,
    /// Each input's element stride along each outer dim.
    strides: [Shape; N],
}

impl<const N: usize> Rows<N> {
    /// `shapes` must broadcast to `out` (checked by the caller).
    fn new(shapes: [&[usize]; N], out: &[usize]) -> Rows<N> {
        let bstrides = shapes.map(|s| broadcast_strides(s, out));
        // (size, strides) of the output dims of size > 1, merged where contiguous for all.
        // Inline storage: built on every fused log-density and its backward, so a heap vector
        // here was two of the coin plate step's allocations.
        let mut dims: smallvec::SmallVec<[(usize, [usize; N]); 4]> = smallvec::SmallVec::new();
        for (d, &size) in out.iter().enumerate() {
            if size == 1 {
                continue;
            }
            let st: [usize; N] = std::array::from_fn(|k| bstrides[k][d]);
            match dims.last_mut() {
                Some((ps, pst)) if (0..N).all(|k| pst[k] == st[k] * size) => {
                    *ps *= size;
                    *pst = st;
                }
                _ => dims.push((size, st)),
            }
        }
        // The innermost dim is the row when every input runs along it contiguously or not at
        // all (always so for row-major inputs; kept general).
        let (inner, full) = match dims.last() {
            Some(&(size, st)) if st.iter().all(|&s| s <= 1) => {
                dims.pop();
                (size, st.map(|s| s == 1))
            }
            _ => (1, [true; N]),
        };
        Rows {
            inner,
            full,
            outer: dims.iter().map(|d| d.0).collect(),
            strides: std::array::from_fn(|k| dims.iter().map(|d| d.1[k]).collect()),
        }
    }

    /// Calls `f(row, offsets)` for every row, with each input's offset at the row's start.
    fn for_each(&self, mut f: impl FnMut(usize, &[usize; N])) {
        let rows: usize = self.outer.iter().product();
        let nd = self.outer.len();
        let mut idx: Shape = smallvec![0; nd];
        let mut off = [0usize; N];
        for r in 0..rows {
            f(r, &off);
            for d in (0..nd).rev() {
                idx[d] += 1;
                for (o, st) in off.iter_mut().zip(&self.strides) {
                    *o += st[d];
                }
                if idx[d] < self.outer[d] {
                    break;
                }
                for (o, st) in off.iter_mut().zip(&self.strides) {
                    *o -= st[d] * self.outer[d];
                }
                idx[d] = 0;
            }
        }
    }

    /// The inputs' columns for the row at `off`: `inner` elements or one.
    #[inline]
    fn cols<'a>(&self, vals: &[&'a [f64]; N], off: &[usize; N]) -> [&'a [f64]; N] {
        std::array::from_fn(|k| {
            let len = if self.full[k] { self.inner } else { 1 };
            &vals[k][off[k]..off[k] + len]
        })
    }
}

/// Splits a row of `n` elements into blocks of at most [`BLOCK`] and calls `f(start, end,
/// columns)` with the columns cut to each block.
#[inline]
fn for_each_block<const N: usize>(
    n: usize,
    cols: &[&[f64]; N],
    mut f: impl FnMut(usize, usize, &[&[f64]; N]),
) {
    let mut start = 0;
    while start < n {
        let end = (start + BLOCK).min(n);
        let part: [&[f64]; N] = std::array::from_fn(|k| {
            if cols[k].len() == n {
                &cols[k][start..end]
            } else {
                cols[k]
            }
        });
        f(start, end, &part);
        start = end;
    }
}

/// Elements per block of the blocked passes (a stack buffer of partial derivatives or values).
const BLOCK: usize = 512;

/// A zeroed buffer for `shape`, or an error naming `op` and the shape.
fn zeros(op: &str, shape: &[usize]) -> crate::Result<Vec<f64>> {
    let n = shape_numel(op, shape)?;
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        crate::Error::shape(op, format!("cannot allocate a result of shape {shape:?}"))
    })?;
    v.resize(n, 0.0);
    Ok(v)
}

/// `out[i] = g(p_i)` where `p_i` gathers element `i` of each column (or its only element).
#[inline]
pub(crate) fn fill<const N: usize>(
    out: &mut [f64],
    cols: &[&[f64]; N],
    g: impl Fn([f64; N]) -> f64,
) {
    #[cfg(target_arch = "x86_64")]
    if fastmath::has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked above).
        unsafe { fill_avx2(out, cols, g) };
        return;
    }
    fill_generic(out, cols, g)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fill_avx2<const N: usize>(
    out: &mut [f64],
    cols: &[&[f64]; N],
    g: impl Fn([f64; N]) -> f64,
) {
    fill_generic(out, cols, g)
}

#[inline(always)]
fn fill_generic<const N: usize>(out: &mut [f64], cols: &[&[f64]; N], g: impl Fn([f64; N]) -> f64) {
    let n = out.len();
    if cols.iter().all(|c| c.len() == n) {
        fill_contiguous(out, cols, g);
        return;
    }
    // A column of one element is repeated into a stack block, so that every block runs the
    // contiguous loop, which vectorises (a select between a load at `i` and one at 0 does not).
    const REP: usize = 64;
    let rep: [[f64; REP]; N] =
        std::array::from_fn(|k| [if cols[k].len() == n { 0.0 } else { cols[k][0] }; REP]);
    let mut start = 0;
    while start < n {
        let end = (start + REP).min(n);
        let part: [&[f64]; N] = std::array::from_fn(|k| {
            if cols[k].len() == n {
                &cols[k][start..end]
            } else {
                &rep[k][..end - start]
            }
        });
        fill_contiguous(&mut out[start..end], &part, &g);
        start = end;
    }
}

/// `out[i] = g(p_i)` for columns as long as `out`.
#[inline(always)]
fn fill_contiguous<const N: usize>(
    out: &mut [f64],
    cols: &[&[f64]; N],
    g: impl Fn([f64; N]) -> f64,
) {
    let n = out.len();
    // Cut to `n` first, so that the indexing below needs no bounds checks.
    let cols: [&[f64]; N] = std::array::from_fn(|k| &cols[k][..n]);
    for (i, o) in out.iter_mut().enumerate() {
        *o = g(std::array::from_fn(|k| cols[k][i]));
    }
}

/// `sum_i value(p_i)` along one row, in blocks (no buffer of the row's size).
fn row_sum<K: Kernel<N>, const N: usize>(n: usize, cols: &[&[f64]; N]) -> f64 {
    let mut buf = [0.0; BLOCK];
    let mut total = 0.0;
    for_each_block(n, cols, |start, end, part| {
        let out = &mut buf[..end - start];
        K::value_row(out, part);
        total += fastmath::sum(out);
    });
    total
}

/// `sum(K(inputs))` as one node: the log-density summed over every element, without a buffer
/// for the elementwise values (what a likelihood contributes to the ELBO). The gradient is one
/// pass over the partial derivatives.
pub(crate) fn log_density_sum<K: Kernel<N>, const N: usize>(inputs: [&Tensor; N]) -> Tensor {
    if let Some(e) = inputs.iter().find_map(|t| t.error()) {
        return Tensor::poisoned(e.clone());
    }
    if inputs.iter().all(|t| t.numel() == 1) {
        return log_density::<K, N>(inputs).sum();
    }
    let shape = match out_shape::<K, N>(&inputs) {
        Ok(s) => s,
        Err(e) => return Tensor::poisoned(e),
    };
    let rows = Rows::new(inputs.map(Tensor::shape), &shape);
    let vals = inputs.map(Tensor::raw);
    let mut total = 0.0;
    rows.for_each(|_, off| total += row_sum::<K, N>(rows.inner, &rows.cols(&vals, off)));
    record(
        &inputs,
        Shape::new(),
        Data::Scalar(total),
        backward_sum::<K, N>,
        Aux::None,
    )
}

/// `sum_i ln Bernoulli(y_i | logit l_i)` over logits and values of one shape (an error
/// otherwise: the caller broadcasts through [`log_density_sum`]), as one node that
/// saves `y_i - sigmoid(l_i)`, the derivative in the logit, for the backward pass.
///
/// The value and the derivative share their transcendental work: with `e = exp(-|l|)`,
/// `softplus(±l) = max(±l, 0) + ln(1 + e)` and `sigmoid(l) = (l >= 0 ? 1 : e) / (1 + e)`, so a
/// row costs one `exp`, one `log1p` and one division, in a single pass with no branch (the
/// loop vectorises), where the generic kernel spends an `exp` and a `log1p` forward and
/// another `exp` and a division backward. The value is the same expression as
/// [`ld::bernoulli_logits`] term for term (exact for infinite logits: a term whose weight `y`
/// or `1 - y` is 0 counts 0), so the sums agree to the bit.
///
/// [`ld::bernoulli_logits`]: super::log_density::bernoulli_logits
pub(crate) fn bernoulli_logits_sum(logits: &Tensor, y: &Tensor) -> Tensor {
    if let Some(e) = logits.error().or(y.error()) {
        return Tensor::poisoned(e.clone());
    }
    let (l, v) = (logits.raw(), y.raw());
    let n = l.len();
    if logits.shape() != y.shape() || v.len() != n {
        return Tensor::poisoned(crate::Error::shape(
            "Bernoulli",
            format!(
                "logits {:?} and values {:?} differ in shape",
                logits.shape(),
                y.shape()
            ),
        ));
    }
    let mut deriv = match crate::tensor::try_filled("Bernoulli", n, 0.0) {
        Ok(d) => d,
        Err(e) => return Tensor::poisoned(e),
    };
    let total = logits_rows(l, v, &mut deriv);
    record(
        &[logits, y],
        Shape::new(),
        Data::Scalar(total),
        bernoulli_logits_sum_bw,
        Aux::Values(deriv.into(), 0),
    )
}

/// One row: the log-density and `y - sigmoid(l)`.
#[inline(always)]
fn logits_row<const FMA: bool>(l: f64, y: f64) -> (f64, f64) {
    let e = fastmath::exp_with::<FMA>(-l.abs());
    let lse = fastmath::log1p_unit_with::<FMA>(e);
    let one = if y == 0.0 {
        0.0
    } else {
        y * ((-l).max(0.0) + lse)
    };
    let zero = if y == 1.0 {
        0.0
    } else {
        (1.0 - y) * (l.max(0.0) + lse)
    };
    let sig = if l >= 0.0 { 1.0 } else { e } / (1.0 + e);
    (-(one + zero), y - sig)
}

/// Sum of the rows' log-densities; their derivatives into `deriv`.
fn logits_rows(l: &[f64], y: &[f64], deriv: &mut [f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if fastmath::has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked above).
        return unsafe { logits_rows_avx2(l, y, deriv) };
    }
    logits_rows_generic::<false>(l, y, deriv)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn logits_rows_avx2(l: &[f64], y: &[f64], deriv: &mut [f64]) -> f64 {
    logits_rows_generic::<true>(l, y, deriv)
}

#[inline(always)]
fn logits_rows_generic<const FMA: bool>(l: &[f64], y: &[f64], deriv: &mut [f64]) -> f64 {
    const W: usize = 4;
    // Four partial sums, one per lane, so that the loop vectorises.
    let mut acc = [0.0f64; W];
    let mut lc = l.chunks_exact(W);
    let mut yc = y.chunks_exact(W);
    let mut dc = deriv.chunks_exact_mut(W);
    for ((lb, yb), db) in (&mut lc).zip(&mut yc).zip(&mut dc) {
        for j in 0..W {
            let (v, d) = logits_row::<FMA>(lb[j], yb[j]);
            acc[j] += v;
            db[j] = d;
        }
    }
    let mut total = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for ((&lv, &yv), d) in lc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .zip(dc.into_remainder())
    {
        let (v, dv) = logits_row::<FMA>(lv, yv);
        total += v;
        *d = dv;
    }
    total
}

fn bernoulli_logits_sum_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let g = args.grad[0];
    let Aux::Values(deriv, _) = args.aux else {
        unreachable!("bernoulli_logits_sum saves the derivatives")
    };
    let scaled = |d: &[f64]| -> GradBuf {
        if g == 0.0 {
            smallvec![0.0; d.len()]
        } else {
            d.iter().map(|&x| g * x).collect()
        }
    };
    let dl = args.needs[0].then(|| scaled(deriv));
    // d/dy of -(y softplus(-l) + (1 - y) softplus(l)) is l.
    let dy = args.needs[1].then(|| scaled(args.inputs[0].0));
    smallvec![dl, dy]
}

fn out_shape<K: Kernel<N>, const N: usize>(inputs: &[&Tensor; N]) -> crate::Result<Shape> {
    let mut shape = Shape::new();
    for t in inputs {
        shape = broadcast_shapes(&shape, t.shape()).map_err(|_| {
            crate::Error::shape(
                K::NAME,
                format!(
                    "the parameters and the value (shapes {:?}) cannot be broadcast together",
                    inputs
                        .iter()
                        .map(|t| t.shape().to_vec())
                        .collect::<Vec<_>>()
                ),
            )
        })?;
    }
    Ok(shape)
}

fn backward_sum<K: Kernel<N>, const N: usize>(args: &BackwardArgs<'_>) -> InputGrads {
    let g = args.grad[0];
    // The broadcast shape of the elementwise terms (checked in the forward pass).
    let mut shape = Shape::new();
    for (_, s) in &args.inputs {
        shape = broadcast_shapes(&shape, s).unwrap_or(shape);
    }
    input_grads::<K, N>(args, &shape, &[g])
}

fn backward<K: Kernel<N>, const N: usize>(args: &BackwardArgs<'_>) -> InputGrads {
    if args.grad.len() == 1 && args.inputs.iter().all(|(v, _)| v.len() == 1) {
        let p: [f64; N] = std::array::from_fn(|k| args.inputs[k].0[0]);
        let g = args.grad[0];
        let mut grads: InputGrads = smallvec![];
        for k in 0..N {
            grads.push(
                args.needs[k].then(|| smallvec![if g == 0.0 { 0.0 } else { g * K::partial(p, k) }]),
            );
        }
        return grads;
    }
    input_grads::<K, N>(args, args.out_shape, args.grad)
}

/// The gradient of each input that needs one, in its own shape: `Σ grad_i ∂value(p_i)/∂p_k`
/// over the elements `i` of the broadcast `shape` that input `k` reaches, summed row by row as
/// the partial derivatives are computed (no buffer of the broadcast shape, no reduction
/// afterwards). `grad` is in `shape`, or one value for every element (a summed log-density).
fn input_grads<K: Kernel<N>, const N: usize>(
    args: &BackwardArgs<'_>,
    shape: &[usize],
    grad: &[f64],
) -> InputGrads {
    let vals: [&[f64]; N] = std::array::from_fn(|k| args.inputs[k].0);
    let rows = Rows::new(std::array::from_fn(|k| args.inputs[k].1), shape);
    let needs: [bool; N] = std::array::from_fn(|k| args.needs[k]);
    let mut out: [Option<GradBuf>; N] =
        std::array::from_fn(|k| needs[k].then(|| smallvec![0.0; vals[k].len()]));
    let mut buf = [0.0; BLOCK];
    let inner = rows.inner;
    rows.for_each(|r, off| {
        let cols = rows.cols(&vals, off);
        for_each_block(inner, &cols, |start, end, part| {
            let g: &[f64] = if grad.len() == 1 {
                grad
            } else {
                &grad[r * inner + start..r * inner + end]
            };
            for k in 0..N {
                let Some(gk) = out[k].as_mut() else { continue };
                let d = &mut buf[..end - start];
                K::partial_row(d, part, k);
                // A zero output gradient contributes nothing, even where a partial is infinite.
                let term = |gi: f64, di: f64| if gi == 0.0 { 0.0 } else { gi * di };
                if rows.full[k] {
                    let dst = &mut gk[off[k] + start..off[k] + end];
                    if g.len() == 1 {
                        dst.iter_mut()
                            .zip(d.iter())
                            .for_each(|(o, &di)| *o += term(g[0], di));
                    } else {
                        dst.iter_mut()
                            .zip(g.iter().zip(d.iter()))
                            .for_each(|(o, (&gi, &di))| *o += term(gi, di));
                    }
                } else if g.len() == 1 {
                    gk[off[k]] += d.iter().map(|&di| term(g[0], di)).sum::<f64>();
                } else {
                    gk[off[k]] += g
                        .iter()
                        .zip(d.iter())
                        .map(|(&gi, &di)| term(gi, di))
                        .sum::<f64>();
                }
            }
        });
    });
    let mut grads: InputGrads = smallvec![];
    grads.extend(out);
    grads
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tape;

    struct Poly;
    impl Kernel<2> for Poly {
        const NAME: &'static str = "Poly";
        fn value([a, x]: [f64; 2]) -> f64 {
            a * x * x
        }
        fn partial([a, x]: [f64; 2], k: usize) -> f64 {
            if k == 0 {
                x * x
            } else {
                2.0 * a * x
            }
        }
    }

    #[test]
    fn scalar_and_broadcast_inputs_give_the_kernel_and_its_gradient() {
        let tape = Tape::new();
        let a = tape.leaf(Tensor::from(3.0));
        let x = tape.leaf(Tensor::from(vec![1.0, 2.0]));
        let y = log_density::<Poly, 2>([&a, &x]);
        assert_eq!(y.to_vec().unwrap(), vec![3.0, 12.0]);
        let g = tape.backward(&y.sum()).unwrap();
        assert_eq!(g.get(&a).unwrap().item().unwrap(), 5.0);
        assert_eq!(g.get(&x).unwrap().to_vec().unwrap(), vec![6.0, 12.0]);
        // (2, 1) against (3,): a general broadcast.
        let tape = Tape::new();
        let a = tape.leaf(Tensor::new(vec![1.0, 2.0], &[2, 1]).unwrap());
        let x = Tensor::from(vec![1.0, 2.0, 3.0]);
        let y = log_density::<Poly, 2>([&a, &x]);
        assert_eq!(y.shape(), &[2, 3]);
        assert_eq!(y.to_vec().unwrap(), vec![1.0, 4.0, 9.0, 2.0, 8.0, 18.0]);
        let g = tape.backward(&y.sum()).unwrap();
        assert_eq!(g.get(&a).unwrap().to_vec().unwrap(), vec![14.0, 14.0]);
    }
    #[test]
    fn bernoulli_logits_sum_matches_the_generic_kernel_and_its_gradient() {
        let ls = vec![
            -800.0, -30.0, -2.5, -0.1, 0.0, 0.3, 4.0, 40.0, 900.0, 1.5, -1.5,
        ];
        let ys = vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.25, 0.0, 1.0, 0.0, 1.0, 0.0];
        for (l, y) in [
            (ls.clone(), ys.clone()),
            (ls[..4].to_vec(), ys[..4].to_vec()),
        ] {
            let tape = Tape::new();
            let lt = tape.leaf(Tensor::from(l.clone()));
            let yt = tape.leaf(Tensor::from(y.clone()));
            let fused = bernoulli_logits_sum(&lt, &yt);
            let gen: f64 = l
                .iter()
                .zip(&y)
                .map(|(&l, &y)| crate::distributions::log_density::bernoulli_logits(l, y))
                .sum();
            let f = fused.item().unwrap();
            assert!((f - gen).abs() <= 1e-12 * gen.abs(), "{f} vs {gen}");
            let g = tape.backward(&(fused * 2.0)).unwrap();
            let dl = g.get(&lt).unwrap().to_vec().unwrap();
            let dy = g.get(&yt).unwrap().to_vec().unwrap();
            for i in 0..l.len() {
                let sig = 1.0 / (1.0 + (-l[i]).exp());
                let want = 2.0 * (y[i] - sig);
                assert!(
                    (dl[i] - want).abs() <= 1e-15 + 1e-13 * want.abs(),
                    "dl {i}: {} vs {want}",
                    dl[i]
                );
                assert_eq!(dy[i], 2.0 * l[i]);
            }
        }
        // A value at an infinite logit on its own side is certain: 0, not NaN.
        let t = bernoulli_logits_sum(
            &Tensor::from(vec![f64::INFINITY, f64::NEG_INFINITY]),
            &Tensor::from(vec![1.0, 0.0]),
        );
        assert_eq!(t.item().unwrap(), 0.0);
        let t = bernoulli_logits_sum(
            &Tensor::from(vec![f64::INFINITY, 0.0]),
            &Tensor::from(vec![0.0, 1.0]),
        );
        assert_eq!(t.item().unwrap(), f64::NEG_INFINITY);
    }

    /// Normal's log-density and its gradients over a broadcast read in place (rows, strides,
    /// merged dims, one scale per row or per element), against the formula at each element of
    /// the broadcast and the gradients summed over the elements each input reaches.
    #[test]
    fn broadcast_rows_match_the_elementwise_formula_and_summed_gradients() {
        use crate::distributions::{Distribution, Normal};
        let cases: [(&[usize], &[usize], &[usize]); 6] = [
            (&[3, 1, 1], &[], &[5]),        // an enumerated emission: K rows of S
            (&[3, 1, 1], &[1, 4, 1], &[5]), // a scale per middle index
            (&[2, 3], &[2, 3], &[2, 3]),    // no broadcast
            (&[4], &[], &[3, 1]),           // the value varies along the outer dim
            (&[1], &[2, 1], &[]),           // everything but the scale is one value
            (&[2, 1, 3], &[3], &[2, 4, 1]), // mixed strides along every dim
        ];
        let fill = |shape: &[usize], a: f64, b: f64| {
            let n: usize = shape.iter().product();
            let v: Vec<f64> = (0..n).map(|i| a + b * ((i * 7 % 11) as f64)).collect();
            Tensor::new(v, shape).unwrap()
        };
        for (ls, ss, xs) in cases {
            let tape = Tape::new();
            let loc = tape.leaf(fill(ls, -1.0, 0.3));
            let scale = tape.leaf(fill(ss, 0.5, 0.2));
            let x = tape.leaf(fill(xs, 0.7, -0.25));
            let d = Normal::new(loc.clone(), scale.clone()).unwrap();
            let lp = d.log_prob(&x);
            let out = broadcast_shapes(&broadcast_shapes(ls, ss).unwrap(), xs).unwrap();
            assert_eq!(lp.shape(), out.as_slice());
            // The reference: every input expanded to the output shape.
            let e = |t: &Tensor| t.detach().broadcast_to(&out).to_vec().unwrap();
            let (le, se, xe) = (e(&loc), e(&scale), e(&x));
            let got = lp.to_vec().unwrap();
            // Weights for the gradient: a different weight per element.
            let w: Vec<f64> = (0..got.len()).map(|i| 1.0 + (i % 3) as f64).collect();
            let mut want_g = [
                vec![0.0; got.len()],
                vec![0.0; got.len()],
                vec![0.0; got.len()],
            ];
            for i in 0..got.len() {
                let z = (xe[i] - le[i]) / se[i];
                let want = -0.5 * z * z - se[i].ln() - 0.918_938_533_204_672_8;
                assert!((got[i] - want).abs() <= 1e-14 * want.abs().max(1.0));
                want_g[0][i] = w[i] * z / se[i];
                want_g[1][i] = w[i] * (z * z - 1.0) / se[i];
                want_g[2][i] = -w[i] * z / se[i];
            }
            let wt = Tensor::new(w, &out).unwrap();
            let g = tape.backward(&(&lp * &wt).sum()).unwrap();
            for (t, want) in [&loc, &scale, &x].into_iter().zip(want_g) {
                let want = crate::tensor::reduce_to(&want, &out, t.shape());
                let got = g.get(t).unwrap().to_vec().unwrap();
                assert_eq!(got.len(), want.len());
                for (a, b) in got.iter().zip(want.iter()) {
                    assert!(
                        (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                        "{ls:?} {ss:?} {xs:?}: {a} vs {b}"
                    );
                }
            }
            // The summed form: the same total and gradients.
            let tape2 = Tape::new();
            let (l2, s2, x2) = (
                tape2.leaf(loc.detach()),
                tape2.leaf(scale.detach()),
                tape2.leaf(x.detach()),
            );
            let sum = Normal::new(l2.clone(), s2.clone())
                .unwrap()
                .log_prob_sum(&x2);
            let total: f64 = got.iter().sum();
            assert!((sum.item().unwrap() - total).abs() <= 1e-12 * total.abs());
            let g2 = tape2.backward(&sum).unwrap();
            let g1 = tape.backward(&lp.sum()).unwrap();
            for (a, b) in [(&l2, &loc), (&s2, &scale), (&x2, &x)] {
                let (u, v) = (
                    g2.get(a).unwrap().to_vec().unwrap(),
                    g1.get(b).unwrap().to_vec().unwrap(),
                );
                for (p, q) in u.iter().zip(&v) {
                    assert!((p - q).abs() <= 1e-12 * q.abs().max(1.0));
                }
            }
        }
    }
}
