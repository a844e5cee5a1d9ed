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
    broadcast_shapes, numel, record, shape_numel, try_expand, Aux, BackwardArgs, Data, GradBuf,
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
    let cols = inputs.map(|t| (t.raw(), t.shape()));
    if let Err(e) = with_columns(K::NAME, &cols, &shape, |c| fill(&mut out, c, K::value)) {
        return Tensor::poisoned(e);
    }
    record(
        &inputs,
        shape,
        Data::from_vec(out),
        backward::<K, N>,
        Aux::None,
    )
}

/// Calls `f` with every input as a column of the output's length, or of length 1 (a scalar
/// that is broadcast), expanding only the inputs that need a general broadcast. Fails (naming
/// `op`) when an expanded column cannot be allocated.
fn with_columns<const N: usize, R>(
    op: &str,
    inputs: &[(&[f64], &[usize]); N],
    shape: &[usize],
    f: impl FnOnce(&[&[f64]; N]) -> R,
) -> crate::Result<R> {
    let n = numel(shape);
    let mut expanded: [Option<Vec<f64>>; N] = std::array::from_fn(|_| None);
    for (e, &(v, s)) in expanded.iter_mut().zip(inputs) {
        if v.len() != n && v.len() != 1 {
            *e = Some(try_expand(op, v, s, shape)?);
        }
    }
    let cols: [&[f64]; N] = std::array::from_fn(|k| match &expanded[k] {
        Some(v) => v.as_slice(),
        None => inputs[k].0,
    });
    Ok(f(&cols))
}

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

/// The backward passes expand the same columns as the forward pass did: failing to allocate
/// them there is not a size the user chose, and aborts like any failed allocation.
fn or_abort<R>(r: crate::Result<R>) -> R {
    r.unwrap_or_else(|_| std::alloc::handle_alloc_error(std::alloc::Layout::new::<f64>()))
}

/// `out[i] = g(p_i)` where `p_i` gathers element `i` of each column (or its only element).
#[inline]
fn fill<const N: usize>(out: &mut [f64], cols: &[&[f64]; N], g: impl Fn([f64; N]) -> f64) {
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
    // Separate loops for the common layouts, so that each one vectorises.
    if cols.iter().all(|c| c.len() == n) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = g(std::array::from_fn(|k| cols[k][i]));
        }
        return;
    }
    let full: [bool; N] = std::array::from_fn(|k| cols[k].len() == n);
    for (i, o) in out.iter_mut().enumerate() {
        let p: [f64; N] = std::array::from_fn(|k| if full[k] { cols[k][i] } else { cols[k][0] });
        *o = g(p);
    }
}

/// `sum_i g(p_i)`, in blocks (no buffer of the output's size).
fn fill_sum<const N: usize>(n: usize, cols: &[&[f64]; N], g: impl Fn([f64; N]) -> f64) -> f64 {
    const BLOCK: usize = 512;
    let mut buf = [0.0; BLOCK];
    let mut total = 0.0;
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
        let out = &mut buf[..end - start];
        if end - start == 1 {
            out[0] = g(std::array::from_fn(|k| part[k][0]));
        } else {
            fill(out, &part, &g);
        }
        total += fastmath::sum(out);
        start = end;
    }
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
    let n = numel(&shape);
    let cols = inputs.map(|t| (t.raw(), t.shape()));
    let total = match with_columns(K::NAME, &cols, &shape, |c| fill_sum(n, c, K::value)) {
        Ok(t) => t,
        Err(e) => return Tensor::poisoned(e),
    };
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
fn logits_row(l: f64, y: f64) -> (f64, f64) {
    let e = fastmath::exp(-l.abs());
    let lse = fastmath::log1p_unit(e);
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
    logits_rows_generic(l, y, deriv)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn logits_rows_avx2(l: &[f64], y: &[f64], deriv: &mut [f64]) -> f64 {
    logits_rows_generic(l, y, deriv)
}

#[inline(always)]
fn logits_rows_generic(l: &[f64], y: &[f64], deriv: &mut [f64]) -> f64 {
    const W: usize = 4;
    // Four partial sums, one per lane, so that the loop vectorises.
    let mut acc = [0.0f64; W];
    let mut lc = l.chunks_exact(W);
    let mut yc = y.chunks_exact(W);
    let mut dc = deriv.chunks_exact_mut(W);
    for ((lb, yb), db) in (&mut lc).zip(&mut yc).zip(&mut dc) {
        for j in 0..W {
            let (v, d) = logits_row(lb[j], yb[j]);
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
        let (v, dv) = logits_row(lv, yv);
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
    let inputs: [(&[f64], &[usize]); N] = std::array::from_fn(|k| args.inputs[k]);
    // The broadcast shape of the elementwise terms (checked in the forward pass).
    let mut shape = Shape::new();
    for (_, s) in &inputs {
        shape = broadcast_shapes(&shape, s).unwrap_or(shape);
    }
    let shape = &shape;
    let n = numel(shape);
    let mut out: [Option<GradBuf>; N] = std::array::from_fn(|_| None);
    or_abort(with_columns("backward", &inputs, shape, |cols| {
        for k in 0..N {
            if !args.needs[k] {
                continue;
            }
            let mut gk: GradBuf = smallvec![0.0; n];
            fill(&mut gk, cols, |p| g * K::partial(p, k));
            out[k] = Some(if inputs[k].0.len() == n {
                gk
            } else {
                // A broadcast input: the sum of its partials over the elements it reaches.
                crate::tensor::reduce_to(&gk, shape, inputs[k].1)
            });
        }
    }));
    let mut grads: InputGrads = smallvec![];
    grads.extend(out);
    grads
}

fn backward<K: Kernel<N>, const N: usize>(args: &BackwardArgs<'_>) -> InputGrads {
    let mut grads: InputGrads = smallvec![];
    if args.grad.len() == 1 && args.inputs.iter().all(|(v, _)| v.len() == 1) {
        let p: [f64; N] = std::array::from_fn(|k| args.inputs[k].0[0]);
        let g = args.grad[0];
        for k in 0..N {
            grads.push(
                args.needs[k].then(|| smallvec![if g == 0.0 { 0.0 } else { g * K::partial(p, k) }]),
            );
        }
        return grads;
    }
    let inputs: [(&[f64], &[usize]); N] = std::array::from_fn(|k| args.inputs[k]);
    let needs: [bool; N] = std::array::from_fn(|k| args.needs[k]);
    let mut out: [Option<GradBuf>; N] = std::array::from_fn(|_| None);
    or_abort(with_columns("backward", &inputs, args.out_shape, |cols| {
        for k in 0..N {
            if !needs[k] {
                continue;
            }
            // In the output shape; the sweep sums it down to the input's shape.
            let mut gk: GradBuf = smallvec![0.0; args.grad.len()];
            fill(&mut gk, cols, |p| K::partial(p, k));
            fastmath::zip_into_inplace(
                &mut gk,
                args.grad,
                |d, g| if g == 0.0 { 0.0 } else { g * d },
            );
            out[k] = Some(gk);
        }
    }));
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
}
