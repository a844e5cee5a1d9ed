//! The reverse sweep. Every operation registers a [`BackwardFn`]: a plain function pointer (no
//! allocation per node) that receives the output gradient and the input values and returns the
//! gradient for each input that needs one. Gradients that come back in the (broadcast) output shape
//! are summed down to the input's shape here, once, rather than in every operation.

use std::rc::Rc;

use smallvec::SmallVec;

use super::broadcast::reduce_to_shape;
use super::tape::NodeKind;
use super::{Data, Tape, Tensor};
use crate::error::{Error, Result};

/// A gradient buffer: one value inline, more on the heap.
pub(crate) type GradBuf = SmallVec<[f64; 1]>;

/// Gradients for the inputs of one operation, `None` where not needed.
pub(crate) type InputGrads = SmallVec<[Option<GradBuf>; 3]>;

/// Operation-specific data saved for the backward pass.
#[derive(Clone, Default)]
pub(crate) enum Aux {
    #[default]
    None,
    Dim(usize),
    Indices(Rc<[usize]>, usize),
    /// Intermediate values of the forward pass (and a dim), where recomputing them would cost
    /// as much as the forward pass (the log-space contraction's exponentials).
    Values(Rc<[f64]>, usize),
}

/// What a backward function sees.
pub(crate) struct BackwardArgs<'a> {
    /// dL/d(output), row-major in the output shape.
    pub grad: &'a [f64],
    /// The output value (empty for an `f32` output of an operation recorded with
    /// `record_f32`).
    pub out: &'a [f64],
    /// The output shape.
    pub out_shape: &'a [usize],
    /// Values and shapes of the inputs. For an operation recorded with `record_f32`, an input
    /// stored in `f32` has an empty slice here and its values in `inputs_f32`.
    pub inputs: SmallVec<[(&'a [f64], &'a [usize]); 3]>,
    /// The `f32` values of single-precision inputs (operations recorded with `record_f32`
    /// only; `None` elsewhere).
    pub inputs_f32: SmallVec<[Option<&'a [f32]>; 3]>,
    /// Which inputs need a gradient.
    pub needs: SmallVec<[bool; 3]>,
    /// Saved data.
    pub aux: &'a Aux,
}

pub(crate) type BackwardFn = fn(&BackwardArgs<'_>) -> InputGrads;

/// Gradients of a scalar with respect to the leaves of a tape.
pub struct Gradients {
    tape: Tape,
    grads: Vec<Option<GradBuf>>,
}

impl Gradients {
    /// The gradient with respect to a leaf (or any tracked tensor whose gradient was kept), in its
    /// shape; `None` if the tensor is not on this tape or nothing flowed into it.
    pub fn get(&self, leaf: &Tensor) -> Option<Tensor> {
        let node = leaf.node.as_ref()?;
        if !node.tape.same(&self.tape) {
            return None;
        }
        let g = self.grads.get(node.id as usize)?.as_ref()?;
        Some(Tensor::from_parts(
            leaf.shape.clone(),
            Data::from_vec(g.to_vec()),
        ))
    }

    /// The gradient as a slice, for leaf `id` on this tape.
    pub(crate) fn slice(&self, leaf: &Tensor) -> Option<&[f64]> {
        let node = leaf.node.as_ref()?;
        if !node.tape.same(&self.tape) {
            return None;
        }
        self.grads.get(node.id as usize)?.as_deref()
    }
}

impl Drop for Gradients {
    /// Hands the gradient slots back to the tape, for the next sweep to reuse.
    fn drop(&mut self) {
        let mut grads = std::mem::take(&mut self.grads);
        grads.clear();
        if let Ok(mut spare) = self.tape.inner.spare_grads.try_borrow_mut() {
            if spare.capacity() < grads.capacity() {
                *spare = grads;
            }
        }
    }
}

impl Tape {
    /// Reverse-mode sweep from a scalar `root`; returns the gradients of the leaves.
    ///
    /// Errors if `root` is poisoned, not a single value, or not recorded on this tape.
    pub fn backward(&self, root: &Tensor) -> Result<Gradients> {
        if let Some(e) = root.error() {
            return Err(e.clone());
        }
        if root.numel() != 1 {
            return Err(Error::shape(
                "backward",
                format!("the root must be a scalar, got shape {:?}", root.shape()),
            ));
        }
        let nodes = self.inner.nodes.borrow();
        let mut grads: Vec<Option<GradBuf>> =
            std::mem::take(&mut *self.inner.spare_grads.borrow_mut());
        grads.clear();
        grads.resize_with(nodes.len(), || None);
        let Some(root_ref) = root.node.as_ref().filter(|n| n.tape.same(self)) else {
            // A constant root: every gradient is zero (absent).
            return Ok(Gradients {
                tape: self.clone(),
                grads,
            });
        };
        grads[root_ref.id as usize] = Some(smallvec::smallvec![1.0]);
        for i in (0..=root_ref.id as usize).rev() {
            let NodeKind::Op {
                backward,
                parents,
                aux,
                f32_inputs,
            } = &nodes[i].kind
            else {
                continue;
            };
            let Some(g) = grads[i].take() else { continue };
            let node = &nodes[i];
            let args = BackwardArgs {
                grad: &g,
                out: match node.value.as_f32() {
                    Some(_) if *f32_inputs => &[],
                    _ => node.value.as_slice(),
                },
                out_shape: &node.shape,
                inputs: parents
                    .iter()
                    .map(|&p| {
                        let v = &nodes[p as usize].value;
                        let values = match v.as_f32() {
                            Some(_) if *f32_inputs => &[][..],
                            _ => v.as_slice(),
                        };
                        (values, &nodes[p as usize].shape[..])
                    })
                    .collect(),
                inputs_f32: parents
                    .iter()
                    .map(|&p| nodes[p as usize].value.as_f32().filter(|_| *f32_inputs))
                    .collect(),
                needs: parents
                    .iter()
                    .map(|&p| !matches!(nodes[p as usize].kind, NodeKind::Const))
                    .collect(),
                aux,
            };
            let input_grads = backward(&args);
            for (k, ig) in input_grads.into_iter().enumerate() {
                let (Some(ig), Some(&p)) = (ig, parents.get(k)) else {
                    continue;
                };
                if !args.needs[k] {
                    continue;
                }
                let pshape = &nodes[p as usize].shape;
                let ig = if ig.len() == super::numel(pshape) {
                    ig
                } else {
                    reduce_to_shape(&ig, node.shape.as_slice(), pshape)
                };
                accumulate(&mut grads[p as usize], ig);
            }
            // Keep the gradient of leaves only: drop intermediate buffers as soon as they are used.
        }
        Ok(Gradients {
            tape: self.clone(),
            grads,
        })
    }
}

fn accumulate(slot: &mut Option<GradBuf>, g: GradBuf) {
    match slot {
        None => *slot = Some(g),
        Some(acc) => {
            for (a, b) in acc.iter_mut().zip(g.iter()) {
                *a += b;
            }
        }
    }
}
