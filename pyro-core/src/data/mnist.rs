//! MNIST in IDX format: big-endian `u32` magic (`0x00000803` images, `0x00000801` labels), `u32`
//! counts and sizes, then `u8` data. Files may be gzipped (detected by the gzip magic `1f 8b`).
//!
//! The header is read first and bounds everything after it: the loader never decompresses or
//! allocates more than the data size it declares (plus one byte, to detect trailing data), so a
//! small crafted file cannot make it read gigabytes (a "gzip bomb"), and a header whose sizes
//! multiply past what memory can address is an error, not a wrapped-around count.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::Dataset;
use crate::error::{Error, Result};

/// The MNIST train and test sets, pixels scaled to `[0, 1]`.
#[derive(Clone, Debug)]
pub struct Mnist {
    /// 60,000 training images.
    pub train: Dataset,
    /// 10,000 test images.
    pub test: Dataset,
}

/// The number of MNIST classes: labels are digits `0..=9`.
pub const MNIST_CLASSES: usize = 10;

/// Opens a file for reading, transparently un-gzipping it if it starts with the gzip magic.
pub(crate) fn open_maybe_gz(path: &Path) -> Result<Box<dyn Read>> {
    let mut f = BufReader::new(
        File::open(path).map_err(|e| Error::file(path, format!("cannot read: {e}")))?,
    );
    let mut magic = [0u8; 2];
    let got = read_full(&mut f, &mut magic).map_err(|e| io_error(path, e))?;
    let head = std::io::Cursor::new(magic[..got].to_vec());
    let stream = head.chain(f);
    Ok(if got == 2 && magic == [0x1f, 0x8b] {
        Box::new(flate2::read::MultiGzDecoder::new(stream))
    } else {
        Box::new(stream)
    })
}

/// Reads up to `limit` bytes of a (possibly gzipped) file, and errors if there are more: the
/// bound on what a loader without a header (the digits CSV) decompresses.
pub(crate) fn read_maybe_gz(path: &Path, limit: usize) -> Result<Vec<u8>> {
    let mut r = open_maybe_gz(path)?;
    let mut out = Vec::new();
    r.by_ref()
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| io_error(path, e))?;
    if out.len() > limit {
        return Err(Error::file(
            path,
            format!("is larger than the {limit} bytes this loader reads (after decompression)"),
        ));
    }
    Ok(out)
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::InvalidInput || e.kind() == std::io::ErrorKind::InvalidData {
        Error::file(path, format!("corrupt gzip stream: {e}"))
    } else {
        Error::file(path, format!("cannot read: {e} (a corrupt gzip stream?)"))
    }
}

/// Fills `buf` as far as the stream allows; returns how many bytes were read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads an IDX file with `ndims` dimensions: its sizes and its data, exactly as many bytes as
/// the header declares.
fn read_idx(path: &Path, magic: u32, ndims: usize, what: &str) -> Result<(Vec<usize>, Vec<u8>)> {
    let mut r = open_maybe_gz(path)?;
    let need = 4 + 4 * ndims;
    let mut head = vec![0u8; need];
    let got = read_full(&mut r, &mut head).map_err(|e| io_error(path, e))?;
    if got < need {
        return Err(Error::file(
            path,
            format!(
                "truncated IDX header: {got} bytes, expected at least {need} for an IDX {what} file"
            ),
        ));
    }
    let be_u32 =
        |at: usize| u32::from_be_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
    let m = be_u32(0);
    if m != magic {
        return Err(Error::file(
            path,
            format!("wrong magic number 0x{m:08x}, expected 0x{magic:08x} (IDX {what})"),
        ));
    }
    let dims: Vec<usize> = (0..ndims).map(|i| be_u32(4 + 4 * i) as usize).collect();
    // Checked: three u32 sizes multiply past 64 bits, and a wrapped product could match a short
    // body. The f64 pixels take 8 bytes per data byte, so that is the bound that must fit.
    let body = crate::tensor::checked_numel(&dims).ok_or_else(|| {
        Error::file(
            path,
            format!("the header announces {dims:?} values, more than fit in memory"),
        )
    })?;
    let mut data = Vec::new();
    data.try_reserve_exact(body).map_err(|_| {
        Error::file(
            path,
            format!("the header announces {dims:?} = {body} data bytes, which cannot be allocated"),
        )
    })?;
    // At most one byte past the declared size is read: enough to tell that there is more.
    r.take(body as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| io_error(path, e))?;
    let have = data.len();
    if have < body {
        return Err(Error::file(
            path,
            format!(
                "truncated: the header announces {dims:?} = {body} data bytes but {have} follow"
            ),
        ));
    }
    if have > body {
        return Err(Error::file(
            path,
            format!("more bytes after the {body} data bytes announced by the header {dims:?}"),
        ));
    }
    Ok((dims, data))
}

/// Images from an IDX3 file: `(pixels scaled to [0, 1], count, rows, cols)`.
pub fn load_idx_images(path: impl AsRef<Path>) -> Result<(Vec<f64>, usize, usize, usize)> {
    let path = path.as_ref();
    let (d, bytes) = read_idx(path, 0x0000_0803, 3, "images")?;
    let mut pixels = Vec::new();
    pixels
        .try_reserve_exact(bytes.len())
        .map_err(|_| Error::file(path, format!("cannot allocate {} pixels", bytes.len())))?;
    pixels.extend(bytes.iter().map(|&b| f64::from(b) / 255.0));
    Ok((pixels, d[0], d[1], d[2]))
}

/// Labels from an IDX1 file, each checked to be a digit `0..=9` (the [`MNIST_CLASSES`]; use
/// [`load_idx_labels_in`] for another number of classes).
pub fn load_idx_labels(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    load_idx_labels_in(path, MNIST_CLASSES)
}

/// Labels from an IDX1 file, each checked to be a class in `0..num_classes`.
pub fn load_idx_labels_in(path: impl AsRef<Path>, num_classes: usize) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let (_, labels) = read_idx(path, 0x0000_0801, 1, "labels")?;
    if let Some((i, &l)) = labels
        .iter()
        .enumerate()
        .find(|(_, &l)| usize::from(l) >= num_classes)
    {
        return Err(Error::file(
            path,
            format!("label {i} is {l}, outside the {num_classes} classes 0..{num_classes}"),
        ));
    }
    Ok(labels)
}

fn find(dir: &Path, stem: &str) -> Result<PathBuf> {
    for name in [format!("{stem}.gz"), stem.to_string()] {
        let p = dir.join(&name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(Error::file(
        dir.join(stem),
        format!(
            "not found (looked for {stem} and {stem}.gz in {})",
            dir.display()
        ),
    ))
}

fn load_pair(dir: &Path, images: &str, labels: &str) -> Result<Dataset> {
    let ipath = find(dir, images)?;
    let lpath = find(dir, labels)?;
    let (pixels, n, rows, cols) = load_idx_images(&ipath)?;
    let labels = load_idx_labels(&lpath)?;
    if labels.len() != n {
        return Err(Error::file(
            &lpath,
            format!(
                "count mismatch: {} labels but {} holds {n} images",
                labels.len(),
                ipath.display()
            ),
        ));
    }
    Ok(Dataset {
        pixels,
        labels,
        rows,
        cols,
    })
}

/// Loads MNIST from a directory holding `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each raw or with `.gz`.
pub fn load_mnist(dir: impl AsRef<Path>) -> Result<Mnist> {
    let dir = dir.as_ref();
    Ok(Mnist {
        train: load_pair(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")?,
        test: load_pair(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")?,
    })
}
