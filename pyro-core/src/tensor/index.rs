//! Shape and indexing operations: reshape, broadcast, (un)squeeze, index_select, gather, narrow,
//! concat and stack.

use std::rc::Rc;

use smallvec::smallvec;

use super::backward::{Aux, BackwardArgs, GradBuf, InputGrads};
use super::broadcast::{broadcast_shapes, try_expand};
use super::reduce::{resolve_dim, split3};
use super::tape::record;
use super::{numel, Data, Shape, Tensor};
use crate::error::Error;

fn identity_bw(args: &BackwardArgs<'_>) -> InputGrads {
    smallvec![Some(GradBuf::from_slice(args.grad))]
}

fn index_select_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let Aux::Indices(idx, dim) = args.aux else {
        unreachable!("index_select saves its indices")
    };
    let xs = args.inputs[0].1;
    let (outer, n, inner) = split3(xs, *dim);
    let mut g: GradBuf = smallvec![0.0; outer * n * inner];
    let m = idx.len();
    for o in 0..outer {
        for (j, &k) in idx.iter().enumerate() {
            for i in 0..inner {
                g[(o * n + k) * inner + i] += args.grad[(o * m + j) * inner + i];
            }
        }
    }
    smallvec![Some(g)]
}

fn gather_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let Aux::Indices(idx, dim) = args.aux else {
        unreachable!("gather saves its indices")
    };
    let xs = args.inputs[0].1;
    let (outer, n, inner) = split3(xs, *dim);
    let m = args.out_shape[*dim];
    let mut g: GradBuf = smallvec![0.0; outer * n * inner];
    for o in 0..outer {
        for j in 0..m {
            for i in 0..inner {
                let src = (o * m + j) * inner + i;
                g[(o * n + idx[src]) * inner + i] += args.grad[src];
            }
        }
    }
    smallvec![Some(g)]
}

fn narrow_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let Aux::Indices(se, dim) = args.aux else {
        unreachable!("narrow saves its range")
    };
    let (start, len) = (se[0], se[1]);
    let (outer, n, inner) = split3(args.inputs[0].1, *dim);
    let mut g: GradBuf = smallvec![0.0; outer * n * inner];
    for o in 0..outer {
        let dst = (o * n + start) * inner;
        g[dst..dst + len * inner]
            .copy_from_slice(&args.grad[o * len * inner..(o + 1) * len * inner]);
    }
    smallvec![Some(g)]
}

fn concat_bw(args: &BackwardArgs<'_>) -> InputGrads {
    let Aux::Dim(dim) = *args.aux else {
        unreachable!("concat saves its dim")
    };
    let (outer, total, inner) = split3(args.out_shape, dim);
    let mut grads = InputGrads::new();
    let mut off = 0;
    for (k, (_, s)) in args.inputs.iter().enumerate() {
        let n = s[dim];
        grads.push(args.needs[k].then(|| {
            let mut g = GradBuf::with_capacity(outer * n * inner);
            for o in 0..outer {
                let src = (o * total + off) * inner;
                g.extend_from_slice(&args.grad[src..src + n * inner]);
            }
            g
        }));
        off += n;
    }
    let _ = numel(args.out_shape);
    grads
}

impl Tensor {
    /// The same values in another shape of equal size.
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        if self.error().is_some() {
            return self.clone();
        }
        if numel(shape) != self.numel() {
            return Tensor::poisoned(Error::shape(
                "reshape",
                format!(
                    "cannot reshape {:?} into {:?}",
                    self.shape.as_slice(),
                    shape
                ),
            ));
        }
        record(
            &[self],
            Shape::from_slice(shape),
            self.data.clone(),
            identity_bw,
            Aux::None,
        )
    }

    /// Broadcasts to `shape` (numpy rules); the gradient is summed back.
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        if self.error().is_some() || self.shape.as_slice() == shape {
            return self.clone();
        }
        match broadcast_shapes(&self.shape, shape) {
            Ok(s) if s.as_slice() == shape => {
                match try_expand("broadcast_to", self.raw(), &self.shape, &s) {
                    Ok(v) => record(&[self], s, Data::from_vec(v), identity_bw, Aux::None),
                    Err(e) => Tensor::poisoned(e),
                }
            }
            _ => Tensor::poisoned(Error::shape(
                "broadcast_to",
                format!(
                    "cannot broadcast {:?} to {:?}",
                    self.shape.as_slice(),
                    shape
                ),
            )),
        }
    }

    /// Inserts a dimension of size 1 at `dim` (negative counts from the end of the new shape).
    pub fn unsqueeze(&self, dim: isize) -> Tensor {
        let nd = self.ndim() + 1;
        match resolve_dim(dim, nd, "unsqueeze") {
            Ok(d) => {
                let mut s = self.shape.clone();
                s.insert(d, 1);
                self.reshape(&s)
            }
            Err(e) => Tensor::poisoned(e),
        }
    }

    /// Removes dimension `dim`, which must have size 1.
    pub fn squeeze(&self, dim: isize) -> Tensor {
        match resolve_dim(dim, self.ndim(), "squeeze") {
            Ok(d) if self.shape[d] == 1 => {
                let mut s = self.shape.clone();
                s.remove(d);
                self.reshape(&s)
            }
            Ok(d) => Tensor::poisoned(Error::shape(
                "squeeze",
                format!("dimension {d} of {:?} is not 1", self.shape.as_slice()),
            )),
            Err(e) => Tensor::poisoned(e),
        }
    }

    /// Selects entries `indices` along `dim`.
    pub fn index_select(&self, dim: isize, indices: &[usize]) -> Tensor {
        if self.error().is_some() {
            return self.clone();
        }
        let d = match resolve_dim(dim, self.ndim(), "index_select") {
            Ok(d) => d,
            Err(e) => return Tensor::poisoned(e),
        };
        let (outer, n, inner) = split3(&self.shape, d);
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Tensor::poisoned(Error::shape(
                "index_select",
                format!("index {bad} is out of range for dimension {d} of size {n}"),
            ));
        }
        let mut shape = self.shape.clone();
        shape[d] = indices.len();
        let mut v = match super::try_buffer("index_select", &shape) {
            Ok(v) => v,
            Err(e) => return Tensor::poisoned(e),
        };
        let x = self.raw();
        for o in 0..outer {
            for &k in indices {
                v.extend_from_slice(&x[(o * n + k) * inner..(o * n + k + 1) * inner]);
            }
        }
        record(
            &[self],
            shape,
            Data::from_vec(v),
            index_select_bw,
            Aux::Indices(Rc::from(indices), d),
        )
    }

    /// `out[.., j, ..] = self[.., index[.., j, ..], ..]` along `dim` (torch.gather): `index` holds
    /// whole numbers and has the shape of the output, equal to `self`'s except along `dim`.
    pub fn gather(&self, dim: isize, index: &Tensor) -> Tensor {
        if let Some(e) = self.error().or(index.error()) {
            return Tensor::poisoned(e.clone());
        }
        let d = match resolve_dim(dim, self.ndim(), "gather") {
            Ok(d) => d,
            Err(e) => return Tensor::poisoned(e),
        };
        let bad_shape = index.ndim() != self.ndim()
            || (0..self.ndim()).any(|i| i != d && index.shape[i] != self.shape[i]);
        if bad_shape {
            return Tensor::poisoned(Error::shape(
                "gather",
                format!(
                    "index of shape {:?} does not fit a tensor of shape {:?} along dimension {d}",
                    index.shape(),
                    self.shape()
                ),
            ));
        }
        let (outer, n, inner) = split3(&self.shape, d);
        let m = index.shape[d];
        let mut idx = Vec::with_capacity(index.numel());
        for &v in index.raw() {
            if v < 0.0 || v.fract() != 0.0 || v as usize >= n {
                return Tensor::poisoned(Error::shape(
                    "gather",
                    format!("index {v} is not a valid position in dimension {d} of size {n}"),
                ));
            }
            idx.push(v as usize);
        }
        let x = self.raw();
        let mut out = vec![0.0; outer * m * inner];
        for o in 0..outer {
            for j in 0..m {
                for i in 0..inner {
                    let p = (o * m + j) * inner + i;
                    out[p] = x[(o * n + idx[p]) * inner + i];
                }
            }
        }
        record(
            &[self],
            index.shape.clone(),
            Data::from_vec(out),
            gather_bw,
            Aux::Indices(Rc::from(idx), d),
        )
    }

    /// The slice `start..start + len` along `dim`.
    pub fn narrow(&self, dim: isize, start: usize, len: usize) -> Tensor {
        if self.error().is_some() {
            return self.clone();
        }
        let d = match resolve_dim(dim, self.ndim(), "narrow") {
            Ok(d) => d,
            Err(e) => return Tensor::poisoned(e),
        };
        let (outer, n, inner) = split3(&self.shape, d);
        // Checked: `start + len` must not wrap around to a small number (usize::MAX + 1 = 0).
        if !matches!(start.checked_add(len), Some(end) if end <= n) {
            return Tensor::poisoned(Error::shape(
                "narrow",
                format!("range of {len} from {start} exceeds dimension {d} of size {n}"),
            ));
        }
        let x = self.raw();
        let mut v = Vec::with_capacity(outer * len * inner);
        for o in 0..outer {
            v.extend_from_slice(&x[(o * n + start) * inner..(o * n + start + len) * inner]);
        }
        let mut shape = self.shape.clone();
        shape[d] = len;
        record(
            &[self],
            shape,
            Data::from_vec(v),
            narrow_bw,
            Aux::Indices(Rc::from(&[start, len][..]), d),
        )
    }

    /// Element `i` along the first dimension (the dimension is removed).
    pub fn get(&self, i: usize) -> Tensor {
        let t = self.narrow(0, i, 1);
        if t.error().is_some() {
            return t;
        }
        t.squeeze(0)
    }

    /// Concatenates tensors along `dim`; all other dimensions must agree.
    pub fn concat(tensors: &[Tensor], dim: isize) -> Tensor {
        let Some(first) = tensors.first() else {
            return Tensor::poisoned(Error::shape("concat", "no tensors to concatenate"));
        };
        if let Some(e) = tensors.iter().find_map(|t| t.error()) {
            return Tensor::poisoned(e.clone());
        }
        let d = match resolve_dim(dim, first.ndim(), "concat") {
            Ok(d) => d,
            Err(e) => return Tensor::poisoned(e),
        };
        for t in tensors {
            let ok = t.ndim() == first.ndim()
                && (0..t.ndim()).all(|i| i == d || t.shape[i] == first.shape[i]);
            if !ok {
                return Tensor::poisoned(Error::shape(
                    "concat",
                    format!(
                        "shapes {:?} and {:?} differ outside dimension {d}",
                        first.shape(),
                        t.shape()
                    ),
                ));
            }
        }
        let total = tensors
            .iter()
            .try_fold(0usize, |acc, t| acc.checked_add(t.shape[d]));
        let mut shape = first.shape.clone();
        shape[d] = total.unwrap_or(usize::MAX);
        let mut v = match super::try_buffer("concat", &shape) {
            Ok(v) => v,
            Err(e) => return Tensor::poisoned(e),
        };
        let (outer, _, inner) = split3(&first.shape, d);
        for o in 0..outer {
            for t in tensors {
                let n = t.shape[d];
                v.extend_from_slice(&t.raw()[o * n * inner..(o + 1) * n * inner]);
            }
        }
        let refs: Vec<&Tensor> = tensors.iter().collect();
        record(&refs, shape, Data::from_vec(v), concat_bw, Aux::Dim(d))
    }

    /// Stacks tensors of equal shape along a new dimension `dim`.
    pub fn stack(tensors: &[Tensor], dim: isize) -> Tensor {
        let Some(first) = tensors.first() else {
            return Tensor::poisoned(Error::shape("stack", "no tensors to stack"));
        };
        if let Some(t) = tensors
            .iter()
            .find(|t| t.shape != first.shape && t.error().is_none())
        {
            return Tensor::poisoned(Error::shape(
                "stack",
                format!("shapes {:?} and {:?} differ", first.shape(), t.shape()),
            ));
        }
        let expanded: Vec<Tensor> = tensors.iter().map(|t| t.unsqueeze(dim)).collect();
        Tensor::concat(&expanded, dim)
    }
}
