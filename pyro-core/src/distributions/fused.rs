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
}
