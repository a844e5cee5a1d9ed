//! Indexing by a tensor of indices, as enumerated discrete values need it (Pyro's `Vindex`
//! for the common case `table[x]`).

use super::Tensor;
use crate::error::Error;

impl Tensor {
    /// `out[i.., ..] = self[index[i..], ..]`: picks entries of `self` along its first dimension at
    /// the whole numbers held in `index`; the result has shape `index.shape ++ self.shape[1..]`.
    /// Differentiable in `self`.
    ///
    /// This is how a model looks up a row of a transition matrix with an enumerated state: the
    /// state tensor carries its enumeration dimension, and so does the result.
    ///
    /// ```
    /// use pyro_core::Tensor;
    /// let table = Tensor::from_rows(&[vec![0.9, 0.1], vec![0.2, 0.8]]).unwrap();
    /// let state = Tensor::new(vec![1.0, 0.0, 1.0], &[3, 1]).unwrap();
    /// let rows = table.index_by(&state);
    /// assert_eq!(rows.shape(), &[3, 1, 2]);
    /// assert_eq!(rows.to_vec().unwrap(), vec![0.2, 0.8, 0.9, 0.1, 0.2, 0.8]);
    /// ```
    pub fn index_by(&self, index: &Tensor) -> Tensor {
        if self.error().is_some() {
            return self.clone();
        }
        let idx = match index.values() {
            Ok(v) => v,
            Err(e) => return Tensor::poisoned(e),
        };
        let Some(&n) = self.shape().first() else {
            return Tensor::poisoned(Error::shape(
                "index_by",
                "cannot index into a 0-d tensor".to_string(),
            ));
        };
        let mut rows = Vec::with_capacity(idx.len());
        for &x in idx {
            if x < 0.0 || x.fract() != 0.0 || x as usize >= n {
                return Tensor::poisoned(Error::shape(
                    "index_by",
                    format!("index {x} is not a whole number in 0..{n}"),
                ));
            }
            rows.push(x as usize);
        }
        let mut shape: Vec<usize> = index.shape().to_vec();
        shape.extend_from_slice(&self.shape()[1..]);
        self.index_select(0, &rows).reshape(&shape)
    }
}
