//! Helpers shared by the distributions: parameter validation and broadcasting of parameters.

use rand::Rng as _;
use rand_distr::{Distribution as _, StandardNormal};

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{broadcast_shapes, custom_elementwise, numel, Shape, Tensor};

/// Fails unless every value of `t` satisfies `ok`; the message names the distribution, the
/// parameter and the first offending value.
pub(crate) fn check_param(
    dist: &'static str,
    param: &'static str,
    t: &Tensor,
    what: &str,
    ok: impl Fn(f64) -> bool,
) -> Result<()> {
    let v = t.values().map_err(|e| Error::InvalidParameter {
        dist,
        param,
        reason: e.to_string(),
    })?;
    if let Some(bad) = v.iter().find(|&&x| !ok(x)) {
        return Err(Error::InvalidParameter {
            dist,
            param,
            reason: format!("must be {what}, got {bad}"),
        });
    }
    Ok(())
}

/// The broadcast batch shape of several parameters, or an error naming the distribution.
pub(crate) fn batch_of(dist: &'static str, params: &[(&'static str, &Tensor)]) -> Result<Shape> {
    let mut shape = Shape::new();
    for (name, p) in params {
        shape = broadcast_shapes(&shape, p.shape()).map_err(|_| Error::InvalidParameter {
            dist,
            param: name,
            reason: format!(
                "shape {:?} does not broadcast with the other parameters' shape {:?}",
                p.shape(),
                shape.as_slice()
            ),
        })?;
    }
    Ok(shape)
}

/// Standard normal draws of a shape, as a constant tensor.
pub(crate) fn standard_normal(rng: &mut Rng, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    if shape.is_empty() {
        return Tensor::scalar(StandardNormal.sample(rng));
    }
    let v: Vec<f64> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
    Tensor::new(v, shape).unwrap_or_else(Tensor::poisoned)
}

/// Uniform(0, 1) draws of a shape, as a constant tensor (open at 0).
pub(crate) fn uniform(rng: &mut Rng, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let draw = |rng: &mut Rng| loop {
        let u: f64 = rng.random();
        if u > 0.0 {
            break u;
        }
    };
    if shape.is_empty() {
        return Tensor::scalar(draw(rng));
    }
    let v: Vec<f64> = (0..n).map(|_| draw(rng)).collect();
    Tensor::new(v, shape).unwrap_or_else(Tensor::poisoned)
}

/// A constant tensor from values and a shape (poisoned if they do not fit).
pub(crate) fn tensor_of(v: Vec<f64>, shape: &[usize]) -> Tensor {
    Tensor::new(v, shape).unwrap_or_else(Tensor::poisoned)
}

/// Draws one value per element of `shape`, from `f(rng, params at that element)`, where the
/// parameters are broadcast to `shape`. A constant tensor.
pub(crate) fn draw(
    rng: &mut Rng,
    shape: &[usize],
    params: &[&Tensor],
    mut f: impl FnMut(&mut Rng, &[f64]) -> f64,
) -> Tensor {
    if shape.iter().product::<usize>() == 1 && params.iter().all(|p| p.numel() == 1) {
        // One draw from scalar parameters: no vectors.
        let mut args = [0.0; 4];
        if params.len() <= args.len() {
            for (a, p) in args.iter_mut().zip(params) {
                match p.values() {
                    Ok(v) => *a = v[0],
                    Err(e) => return Tensor::poisoned(e),
                }
            }
            return Tensor::full(shape, f(rng, &args[..params.len()]));
        }
    }
    let mut cols = Vec::with_capacity(params.len());
    for p in params {
        let b = p.detach().bcast(shape);
        match b.to_vec() {
            Ok(v) => cols.push(v),
            Err(e) => return Tensor::poisoned(e),
        }
    }
    let n: usize = shape.iter().product();
    let mut args = vec![0.0; params.len()];
    let v: Vec<f64> = (0..n)
        .map(|i| {
            for (a, c) in args.iter_mut().zip(&cols) {
                *a = if c.len() == 1 { c[0] } else { c[i] };
            }
            f(rng, &args)
        })
        .collect();
    tensor_of(v, shape)
}

/// `-inf` where `bad` is nonzero (the density is zero there), `lp` elsewhere.
pub(crate) fn outside(lp: &Tensor, bad: &Tensor) -> Tensor {
    crate::tensor::masked_fill(lp, bad, f64::NEG_INFINITY)
}

/// `x` with the entries where `bad` is nonzero replaced by `fill` (a point inside the support),
/// so that the density formula stays finite there (and so do its gradients) before
/// [`outside`] masks it.
pub(crate) fn inside(x: &Tensor, bad: &Tensor, fill: f64) -> Tensor {
    crate::tensor::masked_fill(x, bad, fill)
}

/// `batch + event` as one shape.
pub(crate) fn cat_shape(a: &[usize], b: &[usize]) -> Shape {
    let mut s = Shape::from_slice(a);
    s.extend_from_slice(b);
    s
}

/// A mask (1.0/0.0) of entries that are not whole numbers in `[lo, hi]`.
pub(crate) fn not_integer_in(x: &Tensor, lo: f64, hi: f64) -> Tensor {
    x.map_const(|v| f64::from(u8::from(!(v >= lo && v <= hi && v.fract() == 0.0))))
}

/// `broadcast_to` that also handles 0-d tensors (works around `Tensor::broadcast_to` returning a
/// single value for a 0-d input).
pub(crate) trait Bcast {
    fn bcast(&self, shape: &[usize]) -> Tensor;
}

impl Bcast for Tensor {
    fn bcast(&self, shape: &[usize]) -> Tensor {
        if self.ndim() == 0 && !shape.is_empty() {
            self.reshape(&[1]).broadcast_to(shape)
        } else {
            self.broadcast_to(shape)
        }
    }
}

/// An elementwise function of broadcast inputs (a log-density of the value and the parameters)
/// as one tape operation: `f(args)` gives the value at each element, `df(args, needs)` the
/// partial derivatives with respect to each argument (only those whose `needs` flag is set
/// are read: the inputs on a tape). Where the value is not finite the derivatives are taken as
/// 0 (a step with such a term is refused anyway, and a masked-out one must not spread NaN).
///
/// This is how the numerically careful scalar formulas of [`super::log_density`] become
/// differentiable `log_prob`s.
pub(crate) fn fused<const N: usize>(
    inputs: [&Tensor; N],
    f: impl Fn([f64; N]) -> f64,
    df: impl Fn([f64; N], [bool; N]) -> [f64; N],
) -> Tensor {
    if let Some(e) = inputs.iter().find_map(|t| t.error()) {
        return Tensor::poisoned(e.clone());
    }
    let mut shape = Shape::new();
    for t in inputs {
        match broadcast_shapes(&shape, t.shape()) {
            Ok(s) => shape = s,
            Err(e) => return Tensor::poisoned(e),
        }
    }
    let needs: [bool; N] = inputs.map(Tensor::requires_grad);
    let on_tape: Vec<&Tensor> = inputs
        .iter()
        .zip(needs)
        .filter(|(_, n)| *n)
        .map(|(t, _)| *t)
        .collect();
    if shape.is_empty() {
        let args: [f64; N] = inputs.map(|t| t.raw()[0]);
        let v = f(args);
        if on_tape.is_empty() {
            return Tensor::scalar(v);
        }
        let g = if v.is_finite() {
            df(args, needs)
        } else {
            [0.0; N]
        };
        let grads: Vec<Tensor> = (0..N)
            .filter(|&i| needs[i])
            .map(|i| Tensor::scalar(g[i]))
            .collect();
        return custom_elementwise(&on_tape, Tensor::scalar(v), &grads);
    }
    // Each input as a column read with stride 0 (one value) or 1 (one per element).
    let n = numel(&shape);
    let mut owned: Vec<Vec<f64>> = Vec::new();
    let mut which = [usize::MAX; N];
    for (i, t) in inputs.iter().enumerate() {
        if t.numel() != 1 && t.shape() != shape.as_slice() {
            match t.detach().bcast(&shape).to_vec() {
                Ok(v) => {
                    which[i] = owned.len();
                    owned.push(v);
                }
                Err(e) => return Tensor::poisoned(e),
            }
        }
    }
    let cols: [(&[f64], usize); N] = std::array::from_fn(|i| {
        let c: &[f64] = if which[i] == usize::MAX {
            inputs[i].raw()
        } else {
            &owned[which[i]]
        };
        (c, usize::from(c.len() != 1))
    });
    let at = |k: usize| -> [f64; N] { std::array::from_fn(|i| cols[i].0[k * cols[i].1]) };
    let values: Vec<f64> = (0..n).map(|k| f(at(k))).collect();
    if on_tape.is_empty() {
        return tensor_of(values, &shape);
    }
    let mut grads: Vec<Vec<f64>> = (0..N)
        .filter(|&i| needs[i])
        .map(|_| Vec::with_capacity(n))
        .collect();
    for (k, v) in values.iter().enumerate() {
        let g = if v.is_finite() {
            df(at(k), needs)
        } else {
            [0.0; N]
        };
        for (slot, i) in (0..N).filter(|&i| needs[i]).enumerate() {
            grads[slot].push(g[i]);
        }
    }
    let grads: Vec<Tensor> = grads.into_iter().map(|g| tensor_of(g, &shape)).collect();
    custom_elementwise(&on_tape, tensor_of(values, &shape), &grads)
}

/// [`super::Distribution::check_support`] for a support that varies across the batch: `ok(value,
/// params)` for each value against its own (broadcast) parameters; the error names the first
/// value outside and the support at its element (`support_of(params)`).
pub(crate) fn check_elementwise<const N: usize>(
    d: &dyn super::Distribution,
    value: &Tensor,
    params: [&Tensor; N],
    ok: impl Fn(f64, [f64; N]) -> bool,
    support_of: impl Fn([f64; N]) -> crate::constraints::Constraint,
) -> Result<()> {
    let mut shape = Shape::from_slice(value.shape());
    for p in params {
        shape = broadcast_shapes(&shape, p.shape())?;
    }
    let v = value.detach().bcast(&shape).to_vec()?;
    let cols: Vec<Vec<f64>> = params
        .iter()
        .map(|p| p.detach().bcast(&shape).to_vec())
        .collect::<Result<_>>()?;
    for (i, &x) in v.iter().enumerate() {
        let at: [f64; N] = std::array::from_fn(|k| cols[k][i]);
        if !ok(x, at) {
            return Err(Error::OutOfSupport {
                dist: d.name(),
                value: x,
                support: support_of(at).to_string(),
            });
        }
    }
    Ok(())
}

/// `loc + scale * eps` (a reparameterised draw of a location-scale family, differentiable in
/// `loc` and `scale`) as one tape operation, kept within `±f64::MAX`: draws of a distribution
/// on the reals are finite even when its parameters are near the end of the range
/// (`Normal(1e308, 1e308)`).
pub(crate) fn affine(loc: &Tensor, scale: &Tensor, eps: &Tensor) -> Tensor {
    fused(
        [loc, scale, eps],
        |[l, s, e]| s.mul_add(e, l).clamp(-f64::MAX, f64::MAX),
        |[_, _, e], _| [1.0, e, 0.0],
    )
}

/// `exp(loc + scale * eps)` (a log-normal draw) as one tape operation, clamped into
/// `[f64::MIN_POSITIVE, f64::MAX]` so that it stays inside the (positive) support.
pub(crate) fn exp_affine(loc: &Tensor, scale: &Tensor, eps: &Tensor) -> Tensor {
    let y = |l: f64, s: f64, e: f64| {
        crate::tensor::fastmath::exp(s.mul_add(e, l)).clamp(f64::MIN_POSITIVE, f64::MAX)
    };
    fused(
        [loc, scale, eps],
        move |[l, s, e]| y(l, s, e),
        move |[l, s, e], _| {
            let v = y(l, s, e);
            [v, v * e, 0.0]
        },
    )
}
