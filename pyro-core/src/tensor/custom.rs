//! Operations with a user-supplied gradient, for the few places where a value is computed
//! outside the tape (a sampler, a numerical solver) but its derivative is known: the implicit
//! reparameterisation of Gamma, Beta and Dirichlet draws (Figurnov et al., 2018), and the
//! triangular solve of the multivariate normal.

use smallvec::{smallvec, SmallVec};

use super::backward::{Aux, BackwardArgs, GradBuf, InputGrads};
use super::broadcast::{broadcast_shapes, try_zip_broadcast, zip_broadcast};
use super::tape::record;
use super::{numel, Data, Shape, Tensor};
use crate::error::Error;

/// An elementwise value with given local derivatives.
///
/// `value` is the output (its shape is the output shape); for each `inputs[k]` (broadcastable to
/// that shape) `local_grads[k]` holds `d value / d input_k` elementwise, in the output shape (or
/// broadcastable to it). The result carries `value`'s numbers and, when an input is on a tape, a
/// node whose backward pass multiplies the incoming gradient by the local derivatives (summed back
/// to each input's shape). `value` and `local_grads` are used as constants.
///
/// ```
/// use pyro_core::tensor::{custom_elementwise, Tape, Tensor};
/// let tape = Tape::new();
/// let a = tape.leaf(Tensor::from(2.0));
/// // y = a^3 computed "outside" the tape, with dy/da = 3 a^2 supplied by hand.
/// let y = custom_elementwise(&[&a], Tensor::from(8.0), &[Tensor::from(12.0)]);
/// let g = tape.backward(&(&y * 2.0)).unwrap().get(&a).unwrap().item().unwrap();
/// assert_eq!(g, 24.0);
/// ```
pub fn custom_elementwise(inputs: &[&Tensor], value: Tensor, local_grads: &[Tensor]) -> Tensor {
    if let Some(e) = inputs
        .iter()
        .copied()
        .chain(std::iter::once(&value))
        .chain(local_grads.iter())
        .find_map(|t| t.error())
    {
        return Tensor::poisoned(e.clone());
    }
    if inputs.len() != local_grads.len() {
        return Tensor::poisoned(Error::Invalid(format!(
            "custom_elementwise: {} inputs but {} local gradients",
            inputs.len(),
            local_grads.len()
        )));
    }
    let out_shape: Shape = value.shape.clone();
    for t in inputs.iter().copied().chain(local_grads.iter()) {
        match broadcast_shapes(&t.shape, &out_shape) {
            Ok(s) if s == out_shape => {}
            _ => {
                return Tensor::poisoned(Error::shape(
                    "custom_elementwise",
                    format!(
                        "shape {:?} does not broadcast to the output shape {:?}",
                        t.shape(),
                        out_shape.as_slice()
                    ),
                ))
            }
        }
    }
    if !inputs.iter().any(|t| t.requires_grad()) {
        return value.detach();
    }
    if let ([x], [g]) = (inputs, local_grads) {
        // The common case of one input, without the two vectors below.
        return record(
            &[x, &g.detach()],
            out_shape,
            value.data.clone(),
            custom_bw,
            Aux::None,
        );
    }
    let grads: Vec<Tensor> = local_grads.iter().map(Tensor::detach).collect();
    let mut all: Vec<&Tensor> = inputs.to_vec();
    all.extend(grads.iter());
    record(&all, out_shape, value.data.clone(), custom_bw, Aux::None)
}

fn custom_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let n = args.inputs.len() / 2;
    let mut out: InputGrads = SmallVec::new();
    for k in 0..n {
        if !args.needs[k] {
            out.push(None);
            continue;
        }
        let (lg, ls) = args.inputs[n + k];
        if lg.len() == args.grad.len() {
            // Same shape: no broadcasting, and a scalar gradient stays inline.
            out.push(Some(
                args.grad
                    .iter()
                    .zip(lg)
                    .map(|(&g, &d)| if g == 0.0 { 0.0 } else { g * d })
                    .collect(),
            ));
            continue;
        }
        out.push(Some(GradBuf::from_vec(zip_broadcast(
            args.grad,
            args.out_shape,
            lg,
            ls,
            args.out_shape,
            |g, d| if g == 0.0 { 0.0 } else { g * d },
        ))));
    }
    for _ in 0..n {
        out.push(None);
    }
    out
}

/// Solves `L x = b` for a lower-triangular `L` of shape `[n, n]` and right-hand sides `b` of
/// shape `[..., n]` (one system per leading index), differentiable in both. Only the lower
/// triangle of `L` is read.
///
/// ```
/// use pyro_core::tensor::{solve_lower_triangular, Tensor};
/// let l = Tensor::from_rows(&[vec![2.0, 0.0], vec![1.0, 1.0]]).unwrap();
/// let x = solve_lower_triangular(&l, &Tensor::from(vec![2.0, 3.0]));
/// assert_eq!(x.to_vec().unwrap(), vec![1.0, 2.0]);
/// ```
pub fn solve_lower_triangular(l: &Tensor, b: &Tensor) -> Tensor {
    if let Some(e) = l.error().or(b.error()) {
        return Tensor::poisoned(e.clone());
    }
    let n = match l.shape() {
        [r, c] if r == c => *r,
        s => {
            return Tensor::poisoned(Error::shape(
                "solve_lower_triangular",
                format!("the matrix must be square [n, n], got {s:?}"),
            ))
        }
    };
    if b.shape().last() != Some(&n) {
        return Tensor::poisoned(Error::shape(
            "solve_lower_triangular",
            format!(
                "right-hand side of shape {:?} does not end in {n}, the matrix size",
                b.shape()
            ),
        ));
    }
    let lv = l.raw();
    let x: Vec<f64> = b
        .raw()
        .chunks(n.max(1))
        .flat_map(|rhs| forward_sub(lv, n, rhs))
        .collect();
    record(
        &[l, b],
        b.shape.clone(),
        Data::from_vec(x),
        tril_solve_bw,
        Aux::None,
    )
}

fn forward_sub(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut x = vec![0.0; n];
    for i in 0..n {
        let mut s = b[i];
        for j in 0..i {
            s -= l[i * n + j] * x[j];
        }
        x[i] = s / l[i * n + i];
    }
    x
}

/// Solves `Lᵀ y = g` (back substitution).
fn backward_sub(l: &[f64], n: usize, g: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = g[i];
        for j in i + 1..n {
            s -= l[j * n + i] * y[j];
        }
        y[i] = s / l[i * n + i];
    }
    y
}

fn tril_solve_bw(args: &BackwardArgs<'_>) -> InputGrads {
    // x = L⁻¹ b:  db = L⁻ᵀ g,  dL = -tril(db xᵀ), summed over the systems.
    let (l, ls) = args.inputs[0];
    let n = ls[0];
    let m = numel(args.out_shape) / n.max(1);
    let mut gb = Vec::with_capacity(m * n);
    let mut gl = vec![0.0; n * n];
    for s in 0..m {
        let y = backward_sub(l, n, &args.grad[s * n..(s + 1) * n]);
        let x = &args.out[s * n..(s + 1) * n];
        for i in 0..n {
            for j in 0..=i {
                gl[i * n + j] -= y[i] * x[j];
            }
        }
        gb.extend(y);
    }
    smallvec![
        args.needs[0].then(|| GradBuf::from_vec(gl)),
        args.needs[1].then(|| GradBuf::from_vec(gb))
    ]
}

/// `fill` where `mask` is nonzero, `t` elsewhere (shapes broadcast). Unlike arithmetic
/// selection, an infinite or NaN entry of `t` under the mask neither leaks into the value nor
/// into the gradient: no gradient flows through filled entries.
///
/// ```
/// use pyro_core::tensor::{masked_fill, Tensor};
/// let t = Tensor::from(vec![1.0, f64::NAN]);
/// let m = Tensor::from(vec![0.0, 1.0]);
/// assert_eq!(masked_fill(&t, &m, f64::NEG_INFINITY).to_vec().unwrap(), vec![1.0, f64::NEG_INFINITY]);
/// ```
pub fn masked_fill(t: &Tensor, mask: &Tensor, fill: f64) -> Tensor {
    if let Some(e) = t.error().or(mask.error()) {
        return Tensor::poisoned(e.clone());
    }
    let shape = match broadcast_shapes(&t.shape, &mask.shape) {
        Ok(s) => s,
        Err(e) => return Tensor::poisoned(Error::shape("masked_fill", e.to_string())),
    };
    let v = try_zip_broadcast(
        "masked_fill",
        t.raw(),
        &t.shape,
        mask.raw(),
        &mask.shape,
        &shape,
        |x, m| {
            if m != 0.0 {
                fill
            } else {
                x
            }
        },
    );
    let v = match v {
        Ok(v) => v,
        Err(e) => return Tensor::poisoned(e),
    };
    let value = Tensor::from_parts(shape.clone(), Data::from_vec(v));
    if !t.requires_grad() {
        return value;
    }
    let g = mask
        .map_const(|m| if m != 0.0 { 0.0 } else { 1.0 })
        .broadcast_to(&shape);
    custom_elementwise(&[t], value, &[g])
}
