//! Tensors of `f64` with numpy broadcasting and reverse-mode automatic differentiation.
//!
//! A [`Tensor`] is an immutable value: a shape, its data and, when it depends on a differentiable
//! leaf, a reference to the node of a [`Tape`] that produced it. Operations on tensors that are not
//! on any tape compute values only; an operation with at least one input on a tape records a node
//! on that tape, so that [`Tape::backward`] can later sweep the tape in reverse and accumulate
//! gradients into the leaves.
//!
//! Design choices (the repository's ARCHITECTURE.md says why an engine of our own):
//! - A tensor with one element keeps it inline (`Data::Scalar`): scalar models never touch the
//!   heap for values.
//! - A tape is an arena of nodes that is cleared and reused between SVI steps.
//! - Operations never panic on user input. A shape mismatch produces a *poisoned* tensor that
//!   carries the error; every later operation propagates it, and the sample site, loss or accessor
//!   that consumes it turns it into an `Err` that names the operation and both shapes. This keeps
//!   model code free of `?` on every arithmetic operation while never giving a silent wrong answer.
//!
//! ```
//! use pyro_core::tensor::{Tape, Tensor};
//! let tape = Tape::new();
//! let x = tape.leaf(Tensor::from(3.0));
//! let y = &x * &x + x.exp();
//! let grads = tape.backward(&y).unwrap();
//! let dx = grads.get(&x).unwrap().item().unwrap();
//! assert!((dx - (6.0 + 3f64.exp())).abs() < 1e-12);
//! ```

mod backward;
mod broadcast;
mod cholesky;
mod contract;
mod custom;
mod dtype;
mod elementwise;
pub(crate) mod fastmath;
mod index;
mod linalg;
mod matvec;
mod reduce;
mod special_fns;
mod tape;
mod vindex;

#[cfg(test)]
mod tests;

use std::fmt;
use std::rc::Rc;

use smallvec::SmallVec;

use crate::error::{Error, Result};

pub(crate) use backward::BackwardFn;
pub use backward::Gradients;
pub use broadcast::broadcast_shapes;
pub(crate) use cholesky::factor as cholesky_factor;
pub use custom::{custom_elementwise, masked_fill, solve_lower_triangular};
pub use dtype::DType;
pub(crate) use special_fns::bd0_diff;
pub use special_fns::{
    bd0, digamma, erf, lbeta, lgamma, lgamma1p, log1p_square, stirlerr, trigamma,
};
pub(crate) use tape::NodeRef;
pub use tape::Tape;
pub use tape::TapeStorage;
// For fused operations defined outside this module (nn::functional).
pub(crate) use backward::{Aux, BackwardArgs, GradBuf, InputGrads};
pub(crate) use broadcast::broadcast_strides;
#[cfg(test)]
pub(crate) use broadcast::reduce_to_shape as reduce_to;
pub(crate) use linalg::strided_extent;
pub(crate) use tape::record;

/// A tensor shape. Up to four dimensions are stored inline.
pub type Shape = SmallVec<[usize; 4]>;

/// The storage of a tensor's values (row-major).
#[derive(Clone)]
pub(crate) enum Data {
    /// A single value, whatever the shape (`[]`, `[1]`, `[1, 1]`...): no heap allocation.
    Scalar(f64),
    /// Several values, shared between tensors and tape nodes without copying.
    Buf(Rc<[f64]>),
    /// Values stored in single precision (see [`DType`]): kernels that know `f32` read them
    /// directly, the rest through a cached `f64` widening.
    F32(Rc<dtype::F32Buf>),
    /// The result of an operation that failed; carries the error to whoever consumes it.
    Poison(Rc<Error>),
}

impl Data {
    pub(crate) fn from_vec(v: Vec<f64>) -> Data {
        if v.len() == 1 {
            Data::Scalar(v[0])
        } else {
            Data::Buf(Rc::from(v))
        }
    }

    pub(crate) fn as_slice(&self) -> &[f64] {
        match self {
            Data::Scalar(v) => std::slice::from_ref(v),
            Data::Buf(b) => b,
            Data::F32(b) => b.wide(),
            Data::Poison(_) => &[],
        }
    }

    /// The `f32` values, for single-precision storage.
    pub(crate) fn as_f32(&self) -> Option<&[f32]> {
        match self {
            Data::F32(b) => Some(&b.values),
            _ => None,
        }
    }
}

/// The largest number of elements a tensor may hold: the most `f64`s one allocation can address
/// (`isize::MAX` bytes).
pub const MAX_NUMEL: usize = isize::MAX as usize / std::mem::size_of::<f64>();

/// Number of elements of a shape, or `None` if the shape is too large to exist: a shape is valid
/// when the product of its nonzero dimensions is at most [`MAX_NUMEL`], so that every partial
/// product taken by a kernel (the sizes before and after a dimension) fits too, even when another
/// dimension is 0.
pub fn checked_numel(shape: &[usize]) -> Option<usize> {
    let mut nonzero: usize = 1;
    let mut zero = false;
    for &d in shape {
        if d == 0 {
            zero = true;
        } else {
            nonzero = nonzero.checked_mul(d).filter(|&n| n <= MAX_NUMEL)?;
        }
    }
    Some(if zero { 0 } else { nonzero })
}

/// Number of elements of a shape. A shape too large to exist (see [`checked_numel`]) counts as
/// `usize::MAX` elements, a count no buffer has: it can never wrap around to a small number that
/// matches a short buffer.
pub fn numel(shape: &[usize]) -> usize {
    checked_numel(shape).unwrap_or(usize::MAX)
}

/// The element count of `shape`, or an error naming the operation and the shape if the shape is
/// too large to exist.
pub(crate) fn shape_numel(op: &str, shape: &[usize]) -> Result<usize> {
    checked_numel(shape).ok_or_else(|| {
        Error::shape(
            op,
            format!("shape {shape:?} has more elements than fit in memory (at most {MAX_NUMEL})"),
        )
    })
}

/// An empty vector with room for the elements of `shape`, or an error naming the operation if the
/// shape is too large to exist or its memory cannot be had.
pub(crate) fn try_buffer(op: &str, shape: &[usize]) -> Result<Vec<f64>> {
    let n = shape_numel(op, shape)?;
    let mut out = Vec::new();
    out.try_reserve_exact(n).map_err(|_| {
        Error::shape(
            op,
            format!("cannot allocate a result of shape {shape:?} ({n} values)"),
        )
    })?;
    Ok(out)
}

/// A vector of `n` copies of `v`, or an error naming the operation if the memory cannot be had:
/// sizes chosen by users (plates, `Tensor::full`) must fail as errors, not abort the process.
pub(crate) fn try_filled(op: &str, n: usize, v: f64) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    if n > MAX_NUMEL || out.try_reserve_exact(n).is_err() {
        return Err(Error::Invalid(format!(
            "{op}: cannot allocate {n} values ({} bytes)",
            n.saturating_mul(std::mem::size_of::<f64>())
        )));
    }
    out.resize(n, v);
    Ok(out)
}

/// An n-dimensional array of `f64`, optionally tracked on an autodiff [`Tape`].
#[derive(Clone)]
pub struct Tensor {
    pub(crate) shape: Shape,
    pub(crate) data: Data,
    pub(crate) node: Option<NodeRef>,
}

impl Tensor {
    // ----- construction -------------------------------------------------------------------

    /// A 0-d tensor.
    pub fn scalar(v: f64) -> Tensor {
        Tensor {
            shape: Shape::new(),
            data: Data::Scalar(v),
            node: None,
        }
    }

    /// A tensor from values and a shape; errors if their sizes differ or if the shape is too
    /// large to exist (its element count overflows: see [`checked_numel`]).
    pub fn new(values: Vec<f64>, shape: &[usize]) -> Result<Tensor> {
        if values.len() != shape_numel("Tensor::new", shape)? {
            return Err(Error::shape(
                "Tensor::new",
                format!("{} values do not fill shape {:?}", values.len(), shape),
            ));
        }
        Ok(Tensor::from_parts(
            Shape::from_slice(shape),
            Data::from_vec(values),
        ))
    }

    /// A 1-d tensor from a slice.
    pub fn from_slice(values: &[f64]) -> Tensor {
        Tensor::from_parts(
            Shape::from_slice(&[values.len()]),
            Data::from_vec(values.to_vec()),
        )
    }

    /// A 2-d tensor from rows of equal length.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Tensor> {
        let ncol = rows.first().map_or(0, |r| r.len());
        if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != ncol) {
            return Err(Error::shape(
                "Tensor::from_rows",
                format!("row {i} has {} values, row 0 has {ncol}", r.len()),
            ));
        }
        let values: Vec<f64> = rows.iter().flatten().copied().collect();
        Tensor::new(values, &[rows.len(), ncol])
    }

    /// A tensor filled with one value. A shape too large to exist or to allocate gives a
    /// poisoned tensor that names it.
    pub fn full(shape: &[usize], v: f64) -> Tensor {
        let n = match shape_numel("Tensor::full", shape) {
            Ok(n) => n,
            Err(e) => return Tensor::poisoned(e),
        };
        let data = if n == 1 {
            Data::Scalar(v)
        } else {
            match try_filled("Tensor::full", n, v) {
                Ok(buf) => Data::Buf(Rc::from(buf)),
                Err(e) => return Tensor::poisoned(e),
            }
        };
        Tensor::from_parts(Shape::from_slice(shape), data)
    }

    /// Zeros of a shape.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// Ones of a shape.
    pub fn ones(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// `n` evenly spaced values from `start` to `end` inclusive.
    pub fn linspace(start: f64, end: f64, n: usize) -> Tensor {
        let step = if n > 1 {
            (end - start) / (n - 1) as f64
        } else {
            0.0
        };
        let mut v = match try_filled("Tensor::linspace", n, 0.0) {
            Ok(v) => v,
            Err(e) => return Tensor::poisoned(e),
        };
        for (i, x) in v.iter_mut().enumerate() {
            *x = start + step * i as f64;
        }
        Tensor::from(v)
    }

    /// The identity matrix (poisoned if `n x n` is too large to allocate).
    pub fn eye(n: usize) -> Tensor {
        let mut v = match shape_numel("Tensor::eye", &[n, n])
            .and_then(|nn| try_filled("Tensor::eye", nn, 0.0))
        {
            Ok(v) => v,
            Err(e) => return Tensor::poisoned(e),
        };
        for i in 0..n {
            v[i * n + i] = 1.0;
        }
        Tensor::from_parts(Shape::from_slice(&[n, n]), Data::from_vec(v))
    }

    pub(crate) fn from_parts(shape: Shape, data: Data) -> Tensor {
        // The invariant every kernel relies on: the buffer holds exactly the shape's elements.
        debug_assert!(
            matches!(data, Data::Poison(_)) || data.as_slice().len() == numel(&shape),
            "buffer of {} values for shape {:?}",
            data.as_slice().len(),
            shape
        );
        Tensor {
            shape,
            data,
            node: None,
        }
    }

    pub(crate) fn poisoned(err: Error) -> Tensor {
        Tensor {
            shape: Shape::new(),
            data: Data::Poison(Rc::new(err)),
            node: None,
        }
    }

    // ----- inspection ---------------------------------------------------------------------

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }

    /// The error this tensor carries, if an operation that produced it failed.
    pub fn error(&self) -> Option<&Error> {
        match &self.data {
            Data::Poison(e) => Some(e),
            _ => None,
        }
    }

    /// `Ok(self)` unless this tensor carries an error from a failed operation.
    pub fn check(self) -> Result<Tensor> {
        match &self.data {
            Data::Poison(e) => Err((**e).clone()),
            _ => Ok(self),
        }
    }

    /// The values, row-major.
    pub fn values(&self) -> Result<&[f64]> {
        match &self.data {
            Data::Poison(e) => Err((**e).clone()),
            d => Ok(d.as_slice()),
        }
    }

    /// The values as a vector, row-major.
    pub fn to_vec(&self) -> Result<Vec<f64>> {
        self.values().map(|v| v.to_vec())
    }

    /// The single value of a one-element tensor.
    pub fn item(&self) -> Result<f64> {
        match &self.data {
            Data::Scalar(v) => Ok(*v),
            Data::Poison(e) => Err((**e).clone()),
            Data::F32(b) if b.values.len() == 1 => Ok(f64::from(b.values[0])),
            d => Err(Error::shape(
                "Tensor::item",
                format!(
                    "tensor of shape {:?} has {} elements, not one",
                    self.shape,
                    d.as_slice().len()
                ),
            )),
        }
    }

    /// Values without the poison check: empty for a poisoned tensor. For kernels.
    pub(crate) fn raw(&self) -> &[f64] {
        self.data.as_slice()
    }

    /// Whether this tensor is recorded on a tape (depends on a differentiable leaf).
    pub fn requires_grad(&self) -> bool {
        self.node.is_some()
    }

    /// The same values, cut off from the tape: a constant for differentiation.
    pub fn detach(&self) -> Tensor {
        Tensor {
            shape: self.shape.clone(),
            data: self.data.clone(),
            node: None,
        }
    }

    /// Whether every value is finite (false for a poisoned tensor).
    pub fn is_finite(&self) -> bool {
        !matches!(self.data, Data::Poison(_)) && self.raw().iter().all(|v| v.is_finite())
    }
}

impl From<f64> for Tensor {
    fn from(v: f64) -> Tensor {
        Tensor::scalar(v)
    }
}

impl From<&Tensor> for Tensor {
    fn from(t: &Tensor) -> Tensor {
        t.clone()
    }
}

impl From<Vec<f64>> for Tensor {
    fn from(v: Vec<f64>) -> Tensor {
        let n = v.len();
        Tensor::from_parts(Shape::from_slice(&[n]), Data::from_vec(v))
    }
}

impl From<&[f64]> for Tensor {
    fn from(v: &[f64]) -> Tensor {
        Tensor::from_slice(v)
    }
}

impl<const N: usize> From<[f64; N]> for Tensor {
    fn from(v: [f64; N]) -> Tensor {
        Tensor::from_slice(&v)
    }
}

impl<const N: usize> From<&[f64; N]> for Tensor {
    fn from(v: &[f64; N]) -> Tensor {
        Tensor::from_slice(v)
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.data {
            Data::Poison(e) => write!(f, "Tensor(error: {e})"),
            Data::Scalar(v) if self.shape.is_empty() => write!(f, "Tensor({v})"),
            d => {
                let v = d.as_slice();
                write!(f, "Tensor(shape={:?}, ", self.shape.as_slice())?;
                if v.len() <= 12 {
                    write!(f, "{v:?}")?;
                } else {
                    write!(f, "[{}, {}, ..., {}]", v[0], v[1], v[v.len() - 1])?;
                }
                if self.node.is_some() {
                    write!(f, ", grad")?;
                }
                write!(f, ")")
            }
        }
    }
}
