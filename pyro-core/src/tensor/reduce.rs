//! Reductions over all elements or one dimension. Dimensions are `isize`: negative counts from the
//! end, as in Pyro (`-1` is the last dimension).

use smallvec::smallvec;

use super::backward::{Aux, BackwardArgs, GradBuf, InputGrads};
use super::tape::record;
use super::{Data, Shape, Tensor};
use crate::error::Error;

/// Resolves a possibly negative dimension against `ndim`.
pub(crate) fn resolve_dim(dim: isize, ndim: usize, op: &str) -> Result<usize, Error> {
    let d = if dim < 0 { dim + ndim as isize } else { dim };
    if d < 0 || d as usize >= ndim {
        return Err(Error::shape(
            op,
            format!("dimension {dim} is out of range for a tensor with {ndim} dimensions"),
        ));
    }
    Ok(d as usize)
}

/// (outer, n, inner) sizes of `shape` around `dim`.
pub(crate) fn split3(shape: &[usize], dim: usize) -> (usize, usize, usize) {
    let outer: usize = shape[..dim].iter().product();
    let inner: usize = shape[dim + 1..].iter().product();
    (outer, shape[dim], inner)
}

fn empty_reduction(op: &str, shape: &[usize], dim: Option<usize>) -> Error {
    let what = match dim {
        Some(d) => format!("dimension {d} of shape {shape:?} is empty"),
        None => format!("the tensor of shape {shape:?} has no elements"),
    };
    Error::shape(op, format!("{what}: {op} over no values is undefined"))
}

fn reduced_shape(shape: &[usize], dim: usize, keepdim: bool) -> Shape {
    let mut s: Shape = Shape::from_slice(shape);
    if keepdim {
        s[dim] = 1;
    } else {
        s.remove(dim);
    }
    s
}

fn sum_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let n = args.inputs[0].0.len();
    smallvec![Some(smallvec![args.grad[0]; n])]
}

fn sum_dim_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let Aux::Dim(dim) = *args.aux else {
        unreachable!("sum_dim saves its dim")
    };
    let (outer, n, inner) = split3(args.inputs[0].1, dim);
    let mut g: GradBuf = smallvec![0.0; outer * n * inner];
    for o in 0..outer {
        for k in 0..n {
            let dst = &mut g[(o * n + k) * inner..(o * n + k + 1) * inner];
            dst.copy_from_slice(&args.grad[o * inner..(o + 1) * inner]);
        }
    }
    smallvec![Some(g)]
}

fn logsumexp_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let Aux::Dim(dim) = *args.aux else {
        unreachable!("logsumexp saves its dim")
    };
    let (x, xs) = args.inputs[0];
    let (outer, n, inner) = split3(xs, dim);
    let mut g: GradBuf = smallvec![0.0; x.len()];
    // Row by row along the reduced dim, so that the inner loop is contiguous and vectorises.
    for o in 0..outer {
        let (go, yo) = (
            &args.grad[o * inner..(o + 1) * inner],
            &args.out[o * inner..(o + 1) * inner],
        );
        for k in 0..n {
            let j = (o * n + k) * inner;
            super::fastmath::grad_exp(&mut g[j..j + inner], go, &x[j..j + inner], yo);
        }
    }
    smallvec![Some(g)]
}

fn max_dim_bw(args: &BackwardArgs<'_>) -> InputGrads {
    // Ties share the gradient of the first maximum only.
    let Aux::Dim(dim) = *args.aux else {
        unreachable!("max saves its dim")
    };
    let (x, xs) = args.inputs[0];
    let (outer, n, inner) = split3(xs, dim);
    let mut g: GradBuf = smallvec![0.0; x.len()];
    for o in 0..outer {
        for i in 0..inner {
            let y = args.out[o * inner + i];
            if let Some(k) = (0..n).find(|&k| x[(o * n + k) * inner + i] == y) {
                g[(o * n + k) * inner + i] = args.grad[o * inner + i];
            }
        }
    }
    smallvec![Some(g)]
}

fn cumsum_bw(args: &BackwardArgs<'_>) -> InputGrads {
    // d(cumsum)/dx: each input feeds every later output, so its gradient is the reverse
    // cumulative sum of the output gradient.
    let Aux::Dim(dim) = *args.aux else {
        unreachable!("cumsum saves its dim")
    };
    let (outer, n, inner) = split3(args.out_shape, dim);
    let mut g: GradBuf = smallvec![0.0; args.grad.len()];
    for o in 0..outer {
        for i in 0..inner {
            let mut acc = 0.0;
            for k in (0..n).rev() {
                let j = (o * n + k) * inner + i;
                acc += args.grad[j];
                g[j] = acc;
            }
        }
    }
    smallvec![Some(g)]
}

impl Tensor {
    /// Inclusive cumulative sum along `dim` (`out[k] = x[0] + ... + x[k]`), in O(n) time and
    /// memory.
    pub fn cumsum(&self, dim: isize) -> Tensor {
        if self.error().is_some() {
            return self.clone();
        }
        let d = match resolve_dim(dim, self.ndim(), "cumsum") {
            Ok(d) => d,
            Err(e) => return Tensor::poisoned(e),
        };
        let (outer, n, inner) = split3(&self.shape, d);
        let mut out = self.raw().to_vec();
        for o in 0..outer {
            for k in 1..n {
                let (prev, cur) = ((o * n + k - 1) * inner, (o * n + k) * inner);
                for i in 0..inner {
                    out[cur + i] += out[prev + i];
                }
            }
        }
        record(
            &[self],
            self.shape.clone(),
            Data::from_vec(out),
            cumsum_bw,
            Aux::Dim(d),
        )
    }

    /// Sum of all elements (0-d).
    pub fn sum(&self) -> Tensor {
        if self.error().is_some() {
            return self.clone();
        }
        let s = match &self.data {
            Data::Scalar(v) => *v,
            d => d.as_slice().iter().sum(),
        };
        record(&[self], Shape::new(), Data::Scalar(s), sum_bw, Aux::None)
    }

    /// Mean of all elements (0-d). The mean of no elements is undefined: a poisoned tensor that
    /// says so (as torch's `max` refuses an empty reduction; numpy returns NaN with a warning, but
    /// a silent NaN would only surface later as a refused step far from its cause).
    pub fn mean(&self) -> Tensor {
        if self.error().is_none() && self.numel() == 0 {
            return Tensor::poisoned(empty_reduction("mean", self.shape(), None));
        }
        let n = self.numel().max(1) as f64;
        self.sum().mul(&Tensor::scalar(1.0 / n))
    }

    fn reduce_dim(
        &self,
        dim: isize,
        keepdim: bool,
        op: &str,
        f: impl Fn(&[f64], usize, usize) -> f64,
        bw: super::BackwardFn,
    ) -> Tensor {
        if self.error().is_some() {
            return self.clone();
        }
        let d = match resolve_dim(dim, self.ndim(), op) {
            Ok(d) => d,
            Err(e) => return Tensor::poisoned(e),
        };
        let (outer, n, inner) = split3(&self.shape, d);
        let x = self.raw();
        let mut out = Vec::with_capacity(outer * inner);
        for o in 0..outer {
            for i in 0..inner {
                // An empty dimension (n = 0) reduces nothing: `f` sees an empty slice.
                let start = if n == 0 { 0 } else { o * n * inner + i };
                out.push(f(&x[start..], n, inner));
            }
        }
        record(
            &[self],
            reduced_shape(&self.shape, d, keepdim),
            Data::from_vec(out),
            bw,
            Aux::Dim(d),
        )
    }

    /// Sum along `dim` (negative counts from the end). The sum over an empty dimension is 0.
    pub fn sum_dim(&self, dim: isize, keepdim: bool) -> Tensor {
        self.reduce_dim(
            dim,
            keepdim,
            "sum_dim",
            |x, n, s| (0..n).map(|k| x[k * s]).sum(),
            sum_dim_bw,
        )
    }

    /// Mean along `dim`. The mean over an empty dimension is undefined: a poisoned tensor that
    /// names the dimension (see [`Tensor::mean`]).
    pub fn mean_dim(&self, dim: isize, keepdim: bool) -> Tensor {
        let d = resolve_dim(dim, self.ndim(), "mean_dim");
        if let (Ok(d), None) = (&d, self.error()) {
            if self.shape[*d] == 0 {
                return Tensor::poisoned(empty_reduction("mean_dim", self.shape(), Some(*d)));
            }
        }
        let n = d.map_or(1, |d| self.shape[d]).max(1);
        self.sum_dim(dim, keepdim)
            .mul(&Tensor::scalar(1.0 / n as f64))
    }

    /// Maximum along `dim`. The maximum over an empty dimension does not exist: a poisoned tensor
    /// that names the dimension (as torch refuses it).
    pub fn max_dim(&self, dim: isize, keepdim: bool) -> Tensor {
        if let (Ok(d), None) = (resolve_dim(dim, self.ndim(), "max_dim"), self.error()) {
            if self.shape[d] == 0 {
                return Tensor::poisoned(empty_reduction("max_dim", self.shape(), Some(d)));
            }
        }
        self.reduce_dim(
            dim,
            keepdim,
            "max_dim",
            |x, n, s| (0..n).map(|k| x[k * s]).fold(f64::NEG_INFINITY, f64::max),
            max_dim_bw,
        )
    }

    /// Maximum of all elements (0-d); poisoned for a tensor without elements.
    pub fn max(&self) -> Tensor {
        if self.error().is_none() && self.numel() == 0 {
            return Tensor::poisoned(empty_reduction("max", self.shape(), None));
        }
        self.reshape(&[self.numel()]).max_dim(0, false)
    }

    /// `ln Σ exp(x)` along `dim`, computed stably (shifted by the maximum). Over an empty
    /// dimension it is `ln 0 = -inf`, as in torch.
    pub fn logsumexp_dim(&self, dim: isize, keepdim: bool) -> Tensor {
        if self.error().is_some() {
            return self.clone();
        }
        let d = match resolve_dim(dim, self.ndim(), "logsumexp") {
            Ok(d) => d,
            Err(e) => return Tensor::poisoned(e),
        };
        let (outer, n, inner) = split3(&self.shape, d);
        if inner == 1 {
            return self.reduce_dim(dim, keepdim, "logsumexp", logsumexp_strided, logsumexp_bw);
        }
        // Row by row along the reduced dim: contiguous inner loops that vectorise.
        let x = self.raw();
        let mut out = vec![f64::NEG_INFINITY; outer * inner];
        let mut acc = vec![0.0; inner];
        for o in 0..outer {
            let m = &mut out[o * inner..(o + 1) * inner];
            for k in 0..n {
                let row = &x[(o * n + k) * inner..(o * n + k + 1) * inner];
                for (mi, &v) in m.iter_mut().zip(row) {
                    *mi = mi.max(v);
                }
            }
            // Shift by the maximum where it is finite (all -inf stays -inf, +inf stays +inf).
            let shift: Vec<f64> = m
                .iter()
                .map(|&v| if v.is_finite() { v } else { 0.0 })
                .collect();
            acc.iter_mut().for_each(|a| *a = 0.0);
            for k in 0..n {
                let row = &x[(o * n + k) * inner..(o * n + k + 1) * inner];
                super::fastmath::acc_exp(&mut acc, row, &shift);
            }
            for ((mi, &a), &sh) in m.iter_mut().zip(&acc).zip(&shift) {
                *mi = sh + a.ln();
            }
        }
        record(
            &[self],
            reduced_shape(&self.shape, d, keepdim),
            Data::from_vec(out),
            logsumexp_bw,
            Aux::Dim(d),
        )
    }

    /// `ln Σ exp(x)` over all elements (0-d).
    pub fn logsumexp(&self) -> Tensor {
        self.reshape(&[self.numel()]).logsumexp_dim(0, false)
    }

    /// `x - logsumexp(x)` along `dim`.
    pub fn log_softmax(&self, dim: isize) -> Tensor {
        self.sub(&self.logsumexp_dim(dim, true))
    }

    /// `softmax(x)` along `dim`.
    pub fn softmax(&self, dim: isize) -> Tensor {
        self.log_softmax(dim).exp()
    }
}

fn logsumexp_strided(x: &[f64], n: usize, s: usize) -> f64 {
    let m = (0..n).map(|k| x[k * s]).fold(f64::NEG_INFINITY, f64::max);
    if m.is_infinite() {
        return m;
    }
    m + (0..n)
        .map(|k| super::fastmath::exp(x[k * s] - m))
        .sum::<f64>()
        .ln()
}
