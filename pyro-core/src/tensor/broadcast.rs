//! Numpy broadcasting: shapes are aligned on the right; a dimension of size 1 stretches.

use super::{numel, Shape};
use crate::error::{Error, Result};

/// The broadcast shape of two shapes, or an error naming both.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Shape> {
    let n = a.len().max(b.len());
    let mut out = Shape::with_capacity(n);
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out.push(match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(Error::shape(
                    "broadcast",
                    format!("shapes {a:?} and {b:?} cannot be broadcast together (dimension {i}: {da} vs {db})"),
                ))
            }
        });
    }
    // Two valid shapes can broadcast to one too large to exist ([2^40, 1] with [1, 2^40]).
    super::shape_numel("broadcast", &out)?;
    Ok(out)
}

/// Strides (in elements) of `shape` viewed in the broadcast `out` shape: 0 where it stretches.
pub(crate) fn broadcast_strides(shape: &[usize], out: &[usize]) -> Shape {
    let mut strides = Shape::from_elem(0, out.len());
    let mut s = 1;
    for i in (0..shape.len()).rev() {
        let o = i + out.len() - shape.len();
        strides[o] = if shape[i] == 1 { 0 } else { s };
        s *= shape[i];
    }
    strides
}

/// Calls `f(out_index, a_index, b_index)` for every element of the broadcast shape `out`.
#[inline]
pub(crate) fn for_each_broadcast(
    out: &[usize],
    sa: &[usize],
    sb: &[usize],
    mut f: impl FnMut(usize, usize, usize),
) {
    let n = numel(out);
    if n == 0 {
        return;
    }
    let nd = out.len();
    if nd == 0 {
        f(0, 0, 0);
        return;
    }
    // Innermost dimension in a tight loop; the outer ones with an index counter.
    let inner = out[nd - 1];
    let (ia, ib) = (sa[nd - 1], sb[nd - 1]);
    let mut idx: Shape = Shape::from_elem(0, nd);
    let (mut oa, mut ob) = (0usize, 0usize);
    let mut o = 0;
    loop {
        for k in 0..inner {
            f(o + k, oa + k * ia, ob + k * ib);
        }
        o += inner;
        if o >= n {
            break;
        }
        // Increment the outer multi-index.
        let mut d = nd - 1;
        loop {
            d -= 1;
            idx[d] += 1;
            oa += sa[d];
            ob += sb[d];
            if idx[d] < out[d] {
                break;
            }
            oa -= sa[d] * out[d];
            ob -= sb[d] * out[d];
            idx[d] = 0;
        }
    }
}

/// Applies `f` elementwise with broadcasting. Fast paths for equal shapes and scalars.
///
/// Fails (naming `op`) only when the output cannot be allocated: a broadcast can be far larger
/// than its inputs, and a size chosen by a user must be an error, not an abort.
pub(crate) fn try_zip_broadcast(
    op: &str,
    a: &[f64],
    ashape: &[usize],
    b: &[f64],
    bshape: &[usize],
    out: &[usize],
    f: impl Fn(f64, f64) -> f64,
) -> Result<Vec<f64>> {
    let n = numel(out);
    let mut v = Vec::new();
    if v.try_reserve_exact(n).is_err() {
        return Err(alloc_error(op, out));
    }
    if a.len() == n && b.len() == n {
        v.extend(a.iter().zip(b).map(|(&x, &y)| f(x, y)));
    } else if b.len() == 1 && a.len() == n {
        let y = b[0];
        v.extend(a.iter().map(|&x| f(x, y)));
    } else if a.len() == 1 && b.len() == n {
        let x = a[0];
        v.extend(b.iter().map(|&y| f(x, y)));
    } else {
        let sa = broadcast_strides(ashape, out);
        let sb = broadcast_strides(bshape, out);
        v.resize(n, 0.0);
        for_each_broadcast(out, &sa, &sb, |o, i, j| v[o] = f(a[i], b[j]));
    }
    Ok(v)
}

/// [`try_zip_broadcast`] for backward passes, whose output is no larger than a buffer the forward
/// pass already allocated: running out of memory there is not a size a user chose.
pub(crate) fn zip_broadcast(
    a: &[f64],
    ashape: &[usize],
    b: &[f64],
    bshape: &[usize],
    out: &[usize],
    f: impl Fn(f64, f64) -> f64,
) -> Vec<f64> {
    try_zip_broadcast("backward", a, ashape, b, bshape, out, f)
        .unwrap_or_else(|_| std::alloc::handle_alloc_error(array_layout(numel(out))))
}

/// The values of `x` (of shape `xshape`) repeated into the broadcast shape `out`; fails (naming
/// `op`) when the output cannot be allocated.
pub(crate) fn try_expand(op: &str, x: &[f64], xshape: &[usize], out: &[usize]) -> Result<Vec<f64>> {
    let n = numel(out);
    let mut v = Vec::new();
    if v.try_reserve_exact(n).is_err() {
        return Err(alloc_error(op, out));
    }
    if x.len() == n {
        v.extend_from_slice(x);
    } else if x.len() == 1 {
        v.resize(n, x[0]);
    } else {
        let sx = broadcast_strides(xshape, out);
        let zero = Shape::from_elem(0, out.len());
        v.resize(n, 0.0);
        for_each_broadcast(out, &sx, &zero, |o, i, _| v[o] = x[i]);
    }
    Ok(v)
}

fn alloc_error(op: &str, shape: &[usize]) -> Error {
    Error::shape(
        op,
        format!(
            "cannot allocate a result of shape {shape:?} ({} values)",
            numel(shape)
        ),
    )
}

fn array_layout(n: usize) -> std::alloc::Layout {
    std::alloc::Layout::array::<f64>(n).unwrap_or(std::alloc::Layout::new::<f64>())
}

/// Sums a gradient of shape `from` down to the shape `to` it was broadcast from.
pub(crate) fn reduce_to_shape(g: &[f64], from: &[usize], to: &[usize]) -> super::backward::GradBuf {
    let n = numel(to);
    let mut out: super::backward::GradBuf = smallvec::smallvec![0.0; n];
    if n == 1 {
        out[0] = g.iter().sum();
        return out;
    }
    if n == g.len() {
        // Nothing was broadcast.
        out.copy_from_slice(g);
        return out;
    }
    let trimmed = {
        let lead = to.iter().take_while(|&&d| d == 1).count();
        &to[lead..]
    };
    if from.ends_with(trimmed) {
        // Broadcast along leading dims only: add up contiguous blocks.
        for block in g.chunks_exact(n) {
            for (o, &v) in out.iter_mut().zip(block) {
                *o += v;
            }
        }
        return out;
    }
    let st = broadcast_strides(to, from);
    let zero = Shape::from_elem(0, from.len());
    for_each_broadcast(from, &st, &zero, |o, i, _| out[i] += g[o]);
    out
}
