//! Fused kernels for small networks: `act(x W^T + b)` recorded as one tape node.
//!
//! One node instead of four (transpose, matmul, broadcast add, activation) saves three full
//! passes over the activations and three buffers per layer, in the forward and the reverse sweep.
//! The products go straight to `matrixmultiply` (threaded over the physical cores for large
//! enough products) with the weight read transposed through its strides, never copied.

use smallvec::smallvec;

use crate::error::Error;
use crate::tensor::fastmath;
use crate::tensor::{record, Aux, BackwardArgs, GradBuf, InputGrads, Shape, Tensor};

/// An elementwise activation applied by a fused layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Activation {
    /// No activation.
    #[default]
    Identity,
    /// `max(x, 0)`.
    Relu,
    /// `ln(1 + e^x)`.
    Softplus,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh x`.
    Tanh,
    /// `e^x` (e.g. for a positive scale head).
    Exp,
}

impl Activation {
    /// Applies the activation to a tensor (tracked as usual).
    pub fn apply(self, x: &Tensor) -> Tensor {
        match self {
            Activation::Identity => x.clone(),
            Activation::Relu => x.relu(),
            Activation::Softplus => x.softplus(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Exp => x.exp(),
        }
    }
}

/// Row-major `C = alpha A B + beta C` with strided operands, through `matrixmultiply`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dgemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f64],
    (ra, ca): (isize, isize),
    b: &[f64],
    (rb, cb): (isize, isize),
    beta: f64,
    c: &mut [f64],
) {
    if m == 0 || n == 0 {
        return;
    }
    // Checked arithmetic: an extent that overflows must fail the check, not wrap past it.
    let fits = |len: usize, r: isize, cc: isize, rows: usize, cols: usize| {
        crate::tensor::strided_extent(r, cc, rows, cols).is_some_and(|e| e <= len)
    };
    assert!(
        fits(c.len(), n as isize, 1, m, n),
        "dgemm: output too small"
    );
    assert!(fits(a.len(), ra, ca, m, k), "dgemm: A too small");
    assert!(fits(b.len(), rb, cb, k, n), "dgemm: B too small");
    // SAFETY: the asserts above check that every strided access stays inside the slices.
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

/// `act(x W^T + b)` as one tape node: `x` of shape `[..., in]`, `weight` `[out, in]`, `bias`
/// `[out]` (optional). The output has shape `[..., out]`. A shape mismatch gives a poisoned
/// tensor naming both shapes.
pub fn linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>, act: Activation) -> Tensor {
    if let Some(e) = x
        .error()
        .or(weight.error())
        .or(bias.and_then(|b| b.error()))
    {
        return Tensor::poisoned(e.clone());
    }
    let (xs, ws) = (x.shape(), weight.shape());
    let bad = ws.len() != 2
        || xs.is_empty()
        || xs[xs.len() - 1] != ws[1]
        || bias.is_some_and(|b| b.shape() != [ws[0]]);
    if bad {
        return Tensor::poisoned(Error::shape(
            "linear",
            format!(
                "input {:?}, weight {:?} (expected [out, in]) and bias {:?} (expected [out]) do not fit",
                xs,
                ws,
                bias.map(|b| b.shape().to_vec())
            ),
        ));
    }
    let (out_f, in_f) = (ws[0], ws[1]);
    let rows = x.numel() / in_f.max(1);
    let mut y = vec![0.0; rows * out_f];
    let beta = match bias {
        Some(b) => {
            let bv = b.raw();
            for r in y.chunks_exact_mut(out_f.max(1)) {
                r.copy_from_slice(bv);
            }
            1.0
        }
        None => 0.0,
    };
    // y[rows, out] = x[rows, in] · W^T  (W^T read through strides (1, in)).
    dgemm(
        rows,
        in_f,
        out_f,
        x.raw(),
        (in_f as isize, 1),
        weight.raw(),
        (1, in_f as isize),
        beta,
        &mut y,
    );
    apply_inplace(act, &mut y);
    let mut shape: Shape = Shape::from_slice(&xs[..xs.len() - 1]);
    shape.push(out_f);
    let data = crate::tensor::Data::from_vec(y);
    let bw = match act {
        Activation::Identity => linear_bw::<0>,
        Activation::Relu => linear_bw::<1>,
        Activation::Softplus => linear_bw::<2>,
        Activation::Sigmoid => linear_bw::<3>,
        Activation::Tanh => linear_bw::<4>,
        Activation::Exp => linear_bw::<5>,
    };
    match bias {
        Some(b) => record(&[x, weight, b], shape, data, bw, Aux::None),
        None => record(&[x, weight], shape, data, bw, Aux::None),
    }
}

const ACTS: [Activation; 6] = [
    Activation::Identity,
    Activation::Relu,
    Activation::Softplus,
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Exp,
];

fn linear_bw<const A: usize>(args: &BackwardArgs<'_>) -> InputGrads {
    let act = ACTS[A];
    let (x, _) = args.inputs[0];
    let (w, wshape) = args.inputs[1];
    let (out_f, in_f) = (wshape[0], wshape[1]);
    let rows = args.grad.len() / out_f.max(1);
    // Gradient with respect to the pre-activation.
    let gz_owned;
    let gz: &[f64] = if act == Activation::Identity {
        args.grad
    } else {
        let mut buf = vec![0.0; args.grad.len()];
        scale_by_derivative(act, &mut buf, args.grad, args.out);
        gz_owned = buf;
        &gz_owned
    };
    let gx = args.needs[0].then(|| {
        // dx[rows, in] = gz[rows, out] · W[out, in]
        let mut dx: GradBuf = smallvec![0.0; rows * in_f];
        dgemm(
            rows,
            out_f,
            in_f,
            gz,
            (out_f as isize, 1),
            w,
            (in_f as isize, 1),
            0.0,
            &mut dx,
        );
        dx
    });
    let gw = args.needs[1].then(|| {
        // dW[out, in] = gz^T[out, rows] · x[rows, in]
        let mut dw: GradBuf = smallvec![0.0; out_f * in_f];
        dgemm(
            out_f,
            rows,
            in_f,
            gz,
            (1, out_f as isize),
            x,
            (in_f as isize, 1),
            0.0,
            &mut dw,
        );
        dw
    });
    if args.inputs.len() == 3 {
        let gb = args.needs[2].then(|| {
            let mut db: GradBuf = smallvec![0.0; out_f];
            for r in gz.chunks_exact(out_f.max(1)) {
                for (d, g) in db.iter_mut().zip(r) {
                    *d += g;
                }
            }
            db
        });
        smallvec![gx, gw, gb]
    } else {
        smallvec![gx, gw]
    }
}

/// Sum over all elements of the Bernoulli log-likelihood `x·l - softplus(l)` of `x` given
/// logits `l` (same shape), as one tape node whose gradient is `x - sigmoid(l)`.
///
/// This is what a Bernoulli likelihood with the pixels as one event contributes to the ELBO;
/// fused, it costs one pass instead of four.
pub fn bernoulli_logits_log_prob_sum(logits: &Tensor, x: &Tensor) -> Tensor {
    if let Some(e) = logits.error().or(x.error()) {
        return Tensor::poisoned(e.clone());
    }
    if logits.shape() != x.shape() {
        return Tensor::poisoned(Error::shape(
            "bernoulli_logits_log_prob_sum",
            format!(
                "logits {:?} and values {:?} differ",
                logits.shape(),
                x.shape()
            ),
        ));
    }
    let mut terms = vec![0.0; x.numel()];
    fastmath::zip_into(&mut terms, logits.raw(), x.raw(), |l, v| {
        v * l - fastmath::softplus(l)
    });
    let s = fastmath::sum(&terms);
    record(
        &[logits, x],
        Shape::new(),
        crate::tensor::Data::Scalar(s),
        bern_bw,
        Aux::None,
    )
}

fn bern_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let g = args.grad[0];
    let (l, _) = args.inputs[0];
    let (x, _) = args.inputs[1];
    let gl = args.needs[0].then(|| {
        let mut out: GradBuf = smallvec![0.0; l.len()];
        fastmath::zip_into(&mut out, l, x, |l, v| g * (v - fastmath::sigmoid(l)));
        out
    });
    let gx = args.needs[1].then(|| l.iter().map(|&l| g * l).collect::<GradBuf>());
    smallvec![gl, gx]
}

/// Applies `act` to every element in place (vectorised where the activation allows).
fn apply_inplace(act: Activation, y: &mut [f64]) {
    match act {
        Activation::Identity => {}
        Activation::Relu => fastmath::map_inplace(y, |v| v.max(0.0)),
        Activation::Softplus => fastmath::map_inplace(y, fastmath::softplus),
        Activation::Sigmoid => fastmath::map_inplace(y, fastmath::sigmoid),
        Activation::Exp => fastmath::map_inplace(y, fastmath::exp),
        Activation::Tanh => y.iter_mut().for_each(|v| *v = v.tanh()),
    }
}

/// `out = g * act'(x)` with the derivative written in terms of the output `y = act(x)`.
fn scale_by_derivative(act: Activation, out: &mut [f64], g: &[f64], y: &[f64]) {
    match act {
        Activation::Identity => out.copy_from_slice(g),
        Activation::Relu => fastmath::zip_into(out, g, y, |g, y| if y > 0.0 { g } else { 0.0 }),
        // softplus'(x) = sigmoid(x) = 1 - e^{-y}
        Activation::Softplus => fastmath::zip_into(out, g, y, |g, y| g * (1.0 - fastmath::exp(-y))),
        Activation::Sigmoid => fastmath::zip_into(out, g, y, |g, y| g * y * (1.0 - y)),
        Activation::Tanh => fastmath::zip_into(out, g, y, |g, y| g * (1.0 - y * y)),
        Activation::Exp => fastmath::zip_into(out, g, y, |g, y| g * y),
    }
}
