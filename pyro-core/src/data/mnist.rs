//! MNIST in IDX format: big-endian `u32` magic (`0x00000803` images, `0x00000801` labels), `u32`
//! counts and sizes, then `u8` data. Files may be gzipped (detected by the gzip magic `1f 8b`).

use std::io::Read;
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

/// Reads a whole file, un-gzipping it if it starts with the gzip magic.
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::file(path, format!("cannot read: {e}")))?;
    if raw.len() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::file(path, format!("corrupt gzip stream: {e}")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn header(path: &Path, bytes: &[u8], magic: u32, ndims: usize, what: &str) -> Result<Vec<usize>> {
    let need = 4 + 4 * ndims;
    if bytes.len() < need {
        return Err(Error::file(
            path,
            format!(
                "truncated IDX header: {} bytes, expected at least {need} for an IDX {what} file",
                bytes.len()
            ),
        ));
    }
    let m = be_u32(bytes, 0);
    if m != magic {
        return Err(Error::file(
            path,
            format!("wrong magic number 0x{m:08x}, expected 0x{magic:08x} (IDX {what})"),
        ));
    }
    let dims: Vec<usize> = (0..ndims)
        .map(|i| be_u32(bytes, 4 + 4 * i) as usize)
        .collect();
    let body: usize = dims.iter().product();
    let have = bytes.len() - need;
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
            format!(
                "{} bytes after the {body} data bytes announced by the header {dims:?}",
                have - body
            ),
        ));
    }
    Ok(dims)
}

/// Images from an IDX3 file: `(pixels scaled to [0, 1], count, rows, cols)`.
pub fn load_idx_images(path: impl AsRef<Path>) -> Result<(Vec<f64>, usize, usize, usize)> {
    let path = path.as_ref();
    let bytes = read_maybe_gz(path)?;
    let d = header(path, &bytes, 0x0000_0803, 3, "images")?;
    let pixels = bytes[16..].iter().map(|&b| f64::from(b) / 255.0).collect();
    Ok((pixels, d[0], d[1], d[2]))
}

/// Labels from an IDX1 file.
pub fn load_idx_labels(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let bytes = read_maybe_gz(path)?;
    header(path, &bytes, 0x0000_0801, 1, "labels")?;
    Ok(bytes[8..].to_vec())
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
