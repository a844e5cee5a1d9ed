//! The 8x8 UCI optical digits as bundled with scikit-learn: one image per CSV line, 64 pixel
//! values `0..=16` then the label `0..=9`, read with the `csv` crate (quoted fields and CRLF line
//! ends as RFC 4180 says). The file may be gzipped.

use std::path::Path;

use super::mnist::read_maybe_gz;
use super::Dataset;
use crate::error::{Error, Result};

/// The most bytes [`load_digits`] reads from one (decompressed) file: 256 MiB, about 1.3 million
/// images of 65 fields, far more than the 1,797 of the UCI set (560 KB).
pub const DIGITS_MAX_BYTES: usize = 256 << 20;

/// Loads the digits from `digits.csv` or `digits.csv.gz`, pixels divided by 16 (so in `[0, 1]`;
/// binarise with [`Dataset::binarize`]`(0.5)` for a Bernoulli likelihood).
///
/// At most [`DIGITS_MAX_BYTES`] are read (after decompression): a CSV has no header that declares
/// its size, and a few kilobytes of gzip can otherwise expand to gigabytes.
pub fn load_digits(path: impl AsRef<Path>) -> Result<Dataset> {
    let path = path.as_ref();
    let bytes = read_maybe_gz(path, DIGITS_MAX_BYTES)?;
    let mut pixels = Vec::with_capacity(1797 * 64);
    let mut labels = Vec::with_capacity(1797);
    super::table::for_each_record(path, &bytes, |ln, fields| {
        if fields.len() != 65 {
            return Err(Error::file(
                path,
                format!(
                    "line {ln}: {} fields, expected 65 (64 pixels and a label)",
                    fields.len()
                ),
            ));
        }
        for (j, f) in fields.iter().enumerate() {
            let f = f.trim();
            let v: f64 = f.parse().map_err(|_| {
                Error::file(
                    path,
                    format!("line {ln}, field {}: `{f}` is not a number", j + 1),
                )
            })?;
            let max = if j == 64 { 9.0 } else { 16.0 };
            if !(0.0..=max).contains(&v) || v.fract() != 0.0 {
                return Err(Error::file(
                    path,
                    format!(
                        "line {ln}, field {}: {v} is not an integer in 0..={max}",
                        j + 1
                    ),
                ));
            }
            if j == 64 {
                labels.push(v as u8);
            } else {
                pixels.push(v / 16.0);
            }
        }
        Ok(())
    })?;
    if labels.is_empty() {
        return Err(Error::file(
            path,
            "no rows: expected lines of 64 pixels and a label",
        ));
    }
    Ok(Dataset {
        pixels,
        labels,
        rows: 8,
        cols: 8,
    })
}
