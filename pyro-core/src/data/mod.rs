//! Dataset loaders and minibatching: MNIST in IDX format (raw or gzipped), the 8x8 UCI digits
//! (CSV, optionally gzipped), CSV tables with a header ([`load_table`]) and a seeded minibatch
//! iterator. Pictures of results are drawn by `crate::plot` (the `plots` feature).
//!
//! Every loader error is an [`Error::File`] that names the file and what was expected.

mod digits;
mod mnist;
mod table;

pub use digits::{load_digits, DIGITS_MAX_BYTES};
pub use mnist::{
    load_idx_images, load_idx_labels, load_idx_labels_in, load_mnist, Mnist, MNIST_CLASSES,
};
pub use table::{load_table, Table, TABLE_MAX_BYTES};

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

    /// Pixels per image (saturating: a `rows x cols` that overflows matches no pixel buffer).
    pub fn dim(&self) -> usize {
        self.rows.saturating_mul(self.cols)
    }

    /// Checks that the pixels hold `len() x dim()` values: the fields are public, so a dataset
    /// built by hand may not.
    fn check_layout(&self, op: &str) -> Result<()> {
        let want = self
            .len()
            .checked_mul(self.rows)
            .and_then(|n| n.checked_mul(self.cols));
        if want != Some(self.pixels.len()) {
            return Err(Error::Invalid(format!(
                "Dataset::{op}: {} pixel values do not hold {} images of {}x{}",
                self.pixels.len(),
                self.len(),
                self.rows,
                self.cols
            )));
        }
        Ok(())
    }

    /// Pixels of image `i`; an error if `i` is out of range.
    pub fn image(&self, i: usize) -> Result<&[f64]> {
        self.check_layout("image")?;
        if i >= self.len() {
            return Err(Error::Invalid(format!(
                "Dataset::image: index {i} is out of range for {} images",
                self.len()
            )));
        }
        let d = self.dim();
        Ok(&self.pixels[i * d..(i + 1) * d])
    }

    /// Sets every pixel to 1 if above `threshold`, else 0.
    pub fn binarize(mut self, threshold: f64) -> Dataset {
        for p in &mut self.pixels {
            *p = if *p > threshold { 1.0 } else { 0.0 };
        }
        self
    }

    /// The images at `indices`, as a tensor `[indices.len(), dim]`; a poisoned tensor naming the
    /// index if one is out of range.
    pub fn batch(&self, indices: &[usize]) -> Tensor {
        self.gather("batch", indices)
            .and_then(|v| Tensor::new(v, &[indices.len(), self.dim()]))
            .unwrap_or_else(Tensor::poisoned)
    }

    /// The pixels of the images at `indices`, checked.
    fn gather(&self, op: &str, indices: &[usize]) -> Result<Vec<f64>> {
        self.check_layout(op)?;
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(Error::Invalid(format!(
                "Dataset::{op}: index {bad} is out of range for {} images",
                self.len()
            )));
        }
        let d = self.dim();
        let mut v = Vec::new();
        indices
            .len()
            .checked_mul(d)
            .and_then(|n| v.try_reserve_exact(n).ok())
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "Dataset::{op}: cannot allocate {} images of {d} pixels",
                    indices.len()
                ))
            })?;
        for &i in indices {
            v.extend_from_slice(&self.pixels[i * d..(i + 1) * d]);
        }
        Ok(v)
    }

    /// All images as a tensor `[len, dim]`.
    pub fn tensor(&self) -> Tensor {
        Tensor::new(self.pixels.clone(), &[self.len(), self.dim()]).unwrap_or_else(Tensor::poisoned)
    }

    /// The subset at `indices`; an error naming the index if one is out of range.
    pub fn subset(&self, indices: &[usize]) -> Result<Dataset> {
        Ok(Dataset {
            pixels: self.gather("subset", indices)?,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            rows: self.rows,
            cols: self.cols,
        })
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
        Ok((self.subset(train)?, self.subset(test)?))
    }
}

/// Minibatches of indices `0..len`, reshuffled on every pass from a seeded generator (like a
/// PyTorch `DataLoader` over indices). The last partial batch is kept unless `drop_last`.
///
/// ```
/// use pyro_core::data::Batches;
/// let mut loader = Batches::new(10, 4).unwrap().shuffle(7);
/// let epoch: Vec<Vec<usize>> = loader.epoch().map(|b| b.to_vec()).collect();
/// assert_eq!(epoch.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
/// let mut all: Vec<usize> = epoch.concat();
/// all.sort();
/// assert_eq!(all, (0..10).collect::<Vec<_>>());
/// // A batch size of 0, or no data, is an error rather than an epoch without batches.
/// assert!(Batches::new(10, 0).is_err());
/// assert!(Batches::new(0, 4).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Batches {
    order: Vec<usize>,
    batch_size: usize,
    rng: Option<Rng>,
    drop_last: bool,
}

impl Batches {
    /// Batches of `batch_size` indices of `0..len`, in order (no shuffling).
    ///
    /// Errors (naming `Batches` and the argument) when `batch_size` is 0 or `len` is 0: either
    /// would give epochs without a single batch, so that a training loop over them would
    /// silently do nothing. Also an error when the `len` indices cannot be allocated.
    pub fn new(len: usize, batch_size: usize) -> Result<Batches> {
        if batch_size == 0 {
            return Err(Error::InvalidParameter {
                dist: "Batches",
                param: "batch_size",
                reason: "must be at least 1, got 0".into(),
            });
        }
        if len == 0 {
            return Err(Error::InvalidParameter {
                dist: "Batches",
                param: "len",
                reason: "no data to batch (0 rows)".into(),
            });
        }
        let mut order = Vec::new();
        order
            .try_reserve_exact(len)
            .map_err(|_| Error::InvalidParameter {
                dist: "Batches",
                param: "len",
                reason: format!("cannot allocate the indices of {len} rows"),
            })?;
        order.extend(0..len);
        Ok(Batches {
            order,
            batch_size,
            rng: None,
            drop_last: false,
        })
    }

    /// Reshuffles before every epoch, from a generator seeded with `seed`.
    pub fn shuffle(mut self, seed: u64) -> Batches {
        self.rng = Some(rng_from_seed(seed));
        self
    }

    /// Drops the last batch when it is smaller than the batch size (so that an epoch of fewer
    /// rows than the batch size has no batch: [`Batches::num_batches`] is then 0).
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
