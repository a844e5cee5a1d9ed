//! Dataset loaders and minibatching: MNIST in IDX format (raw or gzipped), the 8x8 UCI digits
//! (CSV, optionally gzipped), a seeded minibatch iterator, and a small grayscale PNG writer for
//! pictures of results.
//!
//! Every loader error is an [`Error::File`] that names the file and what was expected.

mod digits;
mod mnist;
pub mod png;

pub use digits::load_digits;
pub use mnist::{load_idx_images, load_idx_labels, load_mnist, Mnist};

use rand::seq::SliceRandom;

use crate::error::{Error, Result};
use crate::rng::{rng_from_seed, Rng};
use crate::tensor::Tensor;

/// Images as rows of `f64` pixels, with labels.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// Row-major pixels, `len() * dim()` values.
    pub pixels: Vec<f64>,
    /// One label per image.
    pub labels: Vec<u8>,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
}

impl Dataset {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image.
    pub fn dim(&self) -> usize {
        self.rows * self.cols
    }

    /// Pixels of image `i`.
    pub fn image(&self, i: usize) -> &[f64] {
        let d = self.dim();
        &self.pixels[i * d..(i + 1) * d]
    }

    /// Sets every pixel to 1 if above `threshold`, else 0.
    pub fn binarize(mut self, threshold: f64) -> Dataset {
        for p in &mut self.pixels {
            *p = if *p > threshold { 1.0 } else { 0.0 };
        }
        self
    }

    /// The images at `indices`, as a tensor `[indices.len(), dim]`.
    pub fn batch(&self, indices: &[usize]) -> Tensor {
        let d = self.dim();
        let mut v = Vec::with_capacity(indices.len() * d);
        for &i in indices {
            v.extend_from_slice(self.image(i));
        }
        Tensor::new(v, &[indices.len(), d]).unwrap_or_else(Tensor::poisoned)
    }

    /// All images as a tensor `[len, dim]`.
    pub fn tensor(&self) -> Tensor {
        Tensor::new(self.pixels.clone(), &[self.len(), self.dim()]).unwrap_or_else(Tensor::poisoned)
    }

    /// The subset at `indices`.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let d = self.dim();
        let mut pixels = Vec::with_capacity(indices.len() * d);
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        Dataset {
            pixels,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            rows: self.rows,
            cols: self.cols,
        }
    }

    /// A seeded random split into `(train, test)` with `n_test` test images: the first
    /// `n_test` indices of a permutation drawn from `seed` go to the test set.
    pub fn split(&self, n_test: usize, seed: u64) -> Result<(Dataset, Dataset)> {
        if n_test > self.len() {
            return Err(Error::Invalid(format!(
                "cannot split {n_test} test images off a dataset of {}",
                self.len()
            )));
        }
        let mut perm: Vec<usize> = (0..self.len()).collect();
        perm.shuffle(&mut rng_from_seed(seed));
        let (test, train) = perm.split_at(n_test);
        Ok((self.subset(train), self.subset(test)))
    }
}

/// Minibatches of indices `0..len`, reshuffled on every pass from a seeded generator (like a
/// PyTorch `DataLoader` over indices). The last partial batch is kept unless `drop_last`.
///
/// ```
/// use pyro_core::data::Batches;
/// let mut loader = Batches::new(10, 4).shuffle(7);
/// let epoch: Vec<Vec<usize>> = loader.epoch().map(|b| b.to_vec()).collect();
/// assert_eq!(epoch.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
/// let mut all: Vec<usize> = epoch.concat();
/// all.sort();
/// assert_eq!(all, (0..10).collect::<Vec<_>>());
/// ```
#[derive(Clone, Debug)]
pub struct Batches {
    order: Vec<usize>,
    batch_size: usize,
    rng: Option<Rng>,
    drop_last: bool,
}

impl Batches {
    /// Batches of `batch_size` (at least 1) indices of `0..len`, in order (no shuffling).
    pub fn new(len: usize, batch_size: usize) -> Batches {
        Batches {
            order: (0..len).collect(),
            batch_size: batch_size.max(1),
            rng: None,
            drop_last: false,
        }
    }

    /// Reshuffles before every epoch, from a generator seeded with `seed`.
    pub fn shuffle(mut self, seed: u64) -> Batches {
        self.rng = Some(rng_from_seed(seed));
        self
    }

    /// Drops the last batch when it is smaller than the batch size.
    pub fn drop_last(mut self, drop: bool) -> Batches {
        self.drop_last = drop;
        self
    }

    /// Number of batches per epoch.
    pub fn num_batches(&self) -> usize {
        let n = self.order.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// The batches of the next epoch (reshuffled first if shuffling is on).
    pub fn epoch(&mut self) -> impl Iterator<Item = &[usize]> + '_ {
        if let Some(rng) = &mut self.rng {
            self.order.shuffle(rng);
        }
        let keep = self.num_batches();
        self.order.chunks(self.batch_size).take(keep)
    }
}
