//! The tape: an arena of nodes recorded during a forward pass and swept in reverse by
//! [`Tape::backward`]. One tape serves one SVI step; it is then recycled (cleared, capacity kept).

use std::cell::RefCell;
use std::rc::Rc;

use smallvec::SmallVec;

use super::backward::{Aux, BackwardFn, GradBuf};
use super::{Data, Shape, Tensor};

pub(crate) enum NodeKind {
    /// A differentiable input: gradients are kept for it.
    Leaf,
    /// A value that entered an operation from outside the tape: no gradient flows into it.
    Const,
    /// The output of an operation.
    Op {
        backward: BackwardFn,
        parents: SmallVec<[u32; 3]>,
        aux: Aux,
        /// The backward function reads single-precision inputs through
        /// `BackwardArgs::inputs_f32` (their `f64` slices are then left empty, not widened).
        f32_inputs: bool,
    },
}

pub(crate) struct Node {
    pub(crate) shape: Shape,
    pub(crate) value: Data,
    pub(crate) kind: NodeKind,
}

/// What a tape handle shares: the nodes, and the gradient slots of the last sweep (kept so that
/// the next sweep reuses their allocation).
pub(crate) struct TapeInner {
    pub(crate) nodes: RefCell<Vec<Node>>,
    pub(crate) spare_grads: RefCell<Vec<Option<GradBuf>>>,
}

/// A handle on an autodiff tape. Cloning the handle shares the tape.
#[derive(Clone)]
pub struct Tape {
    pub(crate) inner: Rc<TapeInner>,
}

/// Where a tracked tensor lives on its tape.
#[derive(Clone)]
pub(crate) struct NodeRef {
    pub(crate) tape: Tape,
    pub(crate) id: u32,
}

/// The storage of a cleared tape, kept between steps so that its allocations (the shared handle
/// and the node and gradient vectors) are reused.
///
/// The invariant that makes it `Send` is kept by the type, not by its callers: the field is
/// private and the only way to fill it is [`Tape::recycle`], which takes the tape only when
/// its handle is the last one (no strong or weak handle elsewhere: `Rc::get_mut`) and empties
/// both vectors. What it holds is then one `Rc` that nothing else can reach and vectors with no
/// element, so no reference count or tensor is shared with the thread it came from.
#[derive(Default)]
pub struct TapeStorage(Option<Rc<TapeInner>>);

// SAFETY: see above: the `Rc` is unique (checked by `Rc::get_mut` in `Tape::recycle`, the only
// constructor of a non-empty storage) and its vectors are empty, so moving the storage to
// another thread moves sole ownership of an allocation and nothing else.
unsafe impl Send for TapeStorage {}

impl Default for Tape {
    fn default() -> Self {
        Tape::new()
    }
}

impl Tape {
    /// A new, empty tape.
    pub fn new() -> Tape {
        Tape {
            inner: Rc::new(TapeInner {
                nodes: RefCell::new(Vec::new()),
                spare_grads: RefCell::new(Vec::new()),
            }),
        }
    }

    /// A tape that reuses the allocations of a recycled one.
    pub fn from_storage(storage: TapeStorage) -> Tape {
        match storage.0 {
            Some(inner) => Tape { inner },
            None => Tape::new(),
        }
    }

    /// Clears the tape and returns its storage for reuse. If tensors recorded on it are still
    /// alive elsewhere, the tape stays with them and empty storage is returned.
    pub fn recycle(self) -> TapeStorage {
        let mut inner = self.inner;
        match Rc::get_mut(&mut inner) {
            Some(t) => {
                t.nodes.get_mut().clear();
                t.spare_grads.get_mut().clear();
                TapeStorage(Some(inner))
            }
            None => TapeStorage::default(),
        }
    }

    /// Number of recorded nodes.
    pub fn len(&self) -> usize {
        self.inner.nodes.borrow().len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether two handles refer to the same tape.
    pub fn same(&self, other: &Tape) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }

    /// Records `value` as a differentiable leaf and returns the tracked tensor.
    pub fn leaf(&self, value: Tensor) -> Tensor {
        if value.error().is_some() {
            return value;
        }
        let id = self.push(Node {
            shape: value.shape.clone(),
            value: value.data.clone(),
            kind: NodeKind::Leaf,
        });
        Tensor {
            shape: value.shape,
            data: value.data,
            node: Some(NodeRef {
                tape: self.clone(),
                id,
            }),
        }
    }

    fn push(&self, node: Node) -> u32 {
        let mut nodes = self.inner.nodes.borrow_mut();
        nodes.push(node);
        (nodes.len() - 1) as u32
    }

    /// The id of `t` on this tape, recording it as a constant if it is not on it.
    fn id_of(&self, t: &Tensor) -> u32 {
        match &t.node {
            Some(n) if n.tape.same(self) => n.id,
            _ => self.push(Node {
                shape: t.shape.clone(),
                value: t.data.clone(),
                kind: NodeKind::Const,
            }),
        }
    }
}

/// Builds the output tensor of an operation, recording it on the tape of its inputs if any input
/// is tracked. Inputs from another tape (e.g. kept from an earlier step) count as constants.
pub(crate) fn record(
    inputs: &[&Tensor],
    shape: Shape,
    data: Data,
    backward: BackwardFn,
    aux: Aux,
) -> Tensor {
    record_op(inputs, shape, data, backward, aux, false)
}

/// [`record`] for an operation whose backward function reads `f32` inputs itself, through
/// `BackwardArgs::inputs_f32`, so that the sweep does not widen them.
pub(crate) fn record_f32(
    inputs: &[&Tensor],
    shape: Shape,
    data: Data,
    backward: BackwardFn,
    aux: Aux,
) -> Tensor {
    record_op(inputs, shape, data, backward, aux, true)
}

fn record_op(
    inputs: &[&Tensor],
    shape: Shape,
    data: Data,
    backward: BackwardFn,
    aux: Aux,
    f32_inputs: bool,
) -> Tensor {
    if matches!(data, Data::Poison(_)) {
        return Tensor {
            shape,
            data,
            node: None,
        };
    }
    let Some(tape) = inputs
        .iter()
        .find_map(|t| t.node.as_ref().map(|n| n.tape.clone()))
    else {
        return Tensor {
            shape,
            data,
            node: None,
        };
    };
    let parents: SmallVec<[u32; 3]> = inputs.iter().map(|t| tape.id_of(t)).collect();
    let id = tape.push(Node {
        shape: shape.clone(),
        value: data.clone(),
        kind: NodeKind::Op {
            backward,
            parents,
            aux,
            f32_inputs,
        },
    });
    Tensor {
        shape,
        data,
        node: Some(NodeRef { tape, id }),
    }
}

impl Tape {
    /// The id of `t` on this tape, if it is recorded here.
    pub(crate) fn id(&self, t: &Tensor) -> Option<u32> {
        t.node.as_ref().filter(|n| n.tape.same(self)).map(|n| n.id)
    }

    /// What node `start` was computed from, as far as `stop` says: walks the recorded operations
    /// back from `start` and returns `stop(id)` of every node on the way for which it is `Some`,
    /// without looking further back than those nodes (`render_model`: the sites a site's
    /// distribution depends on directly, not through other sites). In the order first reached.
    pub(crate) fn sources<T: PartialEq>(
        &self,
        start: u32,
        stop: impl Fn(u32) -> Option<T>,
    ) -> Vec<T> {
        let nodes = self.inner.nodes.borrow();
        let mut seen = vec![false; nodes.len()];
        let mut todo = vec![start];
        let mut found = Vec::new();
        while let Some(id) = todo.pop() {
            let Some(s) = seen.get_mut(id as usize) else {
                continue;
            };
            if std::mem::replace(s, true) {
                continue;
            }
            if id != start {
                if let Some(t) = stop(id) {
                    if !found.contains(&t) {
                        found.push(t);
                    }
                    continue;
                }
            }
            if let NodeKind::Op { parents, .. } = &nodes[id as usize].kind {
                todo.extend(parents.iter().rev());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_is_kept_only_from_the_last_handle_and_empty() {
        fn assert_send<S: Send>(_: &S) {}
        let tape = Tape::new();
        let x = tape.leaf(Tensor::from(vec![1.0, 2.0]));
        let y = &x * &x;
        // A tensor still refers to the tape: the tape stays with it, the storage is empty.
        let storage = tape.clone().recycle();
        assert!(storage.0.is_none());
        assert_eq!(tape.len(), 2, "the live tape is untouched");
        drop((x, y));
        let storage = tape.recycle();
        assert_send(&storage);
        let inner = storage
            .0
            .as_ref()
            .expect("the last handle gives its storage");
        assert_eq!(Rc::strong_count(inner), 1);
        assert_eq!(Rc::weak_count(inner), 0);
        assert!(inner.nodes.borrow().is_empty() && inner.nodes.borrow().capacity() >= 2);
        assert!(inner.spare_grads.borrow().is_empty());
        // It crosses threads and comes back as a usable tape.
        let storage = std::thread::spawn(move || storage).join().unwrap();
        let tape = Tape::from_storage(storage);
        let z = tape.leaf(Tensor::from(3.0));
        let g = tape.backward(&(&z * &z)).unwrap();
        assert_eq!(g.get(&z).unwrap().item().unwrap(), 6.0);
    }
}
