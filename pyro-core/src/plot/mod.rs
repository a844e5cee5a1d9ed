//! Plots a person can read: line plots of losses (axes, tick labels, title, legend, optionally
//! a log scale), heatmaps with labelled rows and columns and a colour bar, and grids of images
//! with column titles and a caption. Drawn with [`plotters`] into an RGB buffer (the DejaVu Sans
//! font is embedded, so no system font is needed) and written as PNG with the `png` crate.
//!
//! Behind the `plots` feature (on by default in the `pyro-ppl` facade).
//!
//! ```
//! use pyro_core::plot::{moving_average, LinePlot};
//! let loss: Vec<f64> = (0..500).map(|i| 10.0 / (1.0 + i as f64) + 0.5).collect();
//! let image = LinePlot::new("ELBO loss")
//!     .x_label("step")
//!     .y_label("loss")
//!     .log_y(true)
//!     .series_faint("loss", &loss)
//!     .series("average of 50", &moving_average(&loss, 50))
//!     .render()
//!     .unwrap();
//! assert_eq!((image.width, image.height), (720, 440));
//! // image.save("target/loss.png") writes it.
//! ```

mod heatmap;
mod images;
mod line;

pub use heatmap::Heatmap;
pub use images::ImageGrid;
pub use line::{moving_average, LinePlot};

use std::path::Path;
use std::sync::Once;

use plotters::style::FontStyle;

use crate::error::{Error, Result};

/// The family name under which the embedded font is registered with plotters.
pub(crate) const FONT: &str = "sans-serif";

/// The largest side of an image these plots draw, in pixels.
pub const MAX_SIDE: usize = 16_384;

/// Registers the embedded DejaVu Sans (regular and bold) once per process.
pub(crate) fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // These are valid TrueType files shipped by the `dejavu` crate: registration cannot fail,
        // and if it did, text would be missing from the picture but nothing else would break.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// An 8-bit RGB picture, row-major, 3 bytes per pixel.
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height * 3` bytes: red, green, blue.
    pub rgb: Vec<u8>,
}

impl Image {
    /// A white image; an error if a side is 0 or above [`MAX_SIDE`].
    pub fn white(width: usize, height: usize) -> Result<Image> {
        if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
            return Err(Error::Invalid(format!(
                "plot: a {width}x{height} image; each side must be between 1 and {MAX_SIDE} pixels"
            )));
        }
        Ok(Image {
            width,
            height,
            rgb: vec![255; width * height * 3],
        })
    }

    /// The colour of pixel `(x, y)`, if it is inside the image.
    pub fn pixel(&self, x: usize, y: usize) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y * self.width + x) * 3;
        self.rgb.get(i..i + 3).map(|p| [p[0], p[1], p[2]])
    }

    /// Sets pixel `(x, y)` (ignored outside the image).
    pub(crate) fn set(&mut self, x: usize, y: usize, c: [u8; 3]) {
        if x < self.width && y < self.height {
            let i = (y * self.width + x) * 3;
            self.rgb[i..i + 3].copy_from_slice(&c);
        }
    }

    /// Encodes the image as PNG bytes.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let bad = |e: png::EncodingError| Error::Invalid(format!("PNG: {e}"));
        if self.rgb.len() != self.width.saturating_mul(self.height).saturating_mul(3) {
            return Err(Error::Invalid(format!(
                "PNG: {} bytes for a {}x{} RGB image",
                self.rgb.len(),
                self.width,
                self.height
            )));
        }
        let (w, h) = (
            u32::try_from(self.width).map_err(|_| Error::Invalid("PNG: too wide".into()))?,
            u32::try_from(self.height).map_err(|_| Error::Invalid("PNG: too high".into()))?,
        );
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(bad)?;
        writer.write_image_data(&self.rgb).map_err(bad)?;
        writer.finish().map_err(bad)?;
        Ok(out)
    }

    /// Writes the image as a PNG file (creating its directory), atomically: a reader never sees a
    /// half-written picture.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = self
            .to_png()
            .map_err(|e| Error::file(path, e.to_string()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::file(dir, format!("cannot create directory: {e}")))?;
        }
        crate::checkpoint::write_atomically(path, &bytes, |_| Ok(()))
    }
}

/// Draws on `image` with plotters; plotters' errors become `Error::Invalid` naming the plot.
pub(crate) fn draw(
    image: &mut Image,
    what: &str,
    f: impl FnOnce(
        &plotters::drawing::DrawingArea<
            plotters::backend::BitMapBackend<'_>,
            plotters::coord::Shift,
        >,
    ) -> std::result::Result<(), String>,
) -> Result<()> {
    use plotters::prelude::*;
    fonts();
    let (w, h) = (image.width as u32, image.height as u32);
    let backend = BitMapBackend::with_buffer_and_format(&mut image.rgb, (w, h))
        .map_err(|e| Error::Invalid(format!("{what}: {e}")))?;
    let root = backend.into_drawing_area();
    f(&root).map_err(|e| Error::Invalid(format!("{what}: {e}")))?;
    root.present()
        .map_err(|e| Error::Invalid(format!("{what}: {e}")))
}

/// A plotters error as text.
pub(crate) fn msg(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Colours for series, in order (matplotlib's `tab10`, distinguishable and colour-blind aware).
pub(crate) const PALETTE: [(u8, u8, u8); 6] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
];

/// `[lo, hi]` of the finite values (and, for a log scale, the positive ones), widened when empty
/// or a single point, and kept inside `f64`'s range so that its width is finite.
pub(crate) fn span(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let ok = |v: &f64| v.is_finite() && (!log || *v > 0.0);
    let (lo, hi) = values
        .filter(ok)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if lo > hi {
        return if log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        return if lo < hi {
            (lo, hi)
        } else {
            (lo / 2.0, (hi * 2.0).min(f64::MAX))
        };
    }
    // Half of f64::MAX either side: `hi - lo` stays finite.
    let limit = f64::MAX / 2.0;
    let (lo, hi) = (lo.max(-limit), hi.min(limit));
    if lo < hi {
        // A margin of 5% so that lines do not run along the frame.
        let pad = (hi / 2.0 - lo / 2.0) * 0.1;
        ((lo - pad).max(-limit), (hi + pad).min(limit))
    } else {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - d, hi + d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_finite_and_wide() {
        for (v, log) in [
            (vec![], false),
            (vec![f64::NAN, f64::INFINITY], false),
            (vec![3.0], false),
            (vec![0.0], false),
            (vec![-1e308, 1e308], false),
            (vec![f64::MAX, f64::MIN], false),
            (vec![-1.0, 0.0], true),
            (vec![5.0], true),
            (vec![1e308], true),
        ] {
            let (lo, hi) = span(v.iter().copied(), log);
            assert!(lo < hi && (hi - lo).is_finite(), "{v:?}: {lo} {hi}");
            if log {
                assert!(lo > 0.0);
            }
        }
        assert_eq!(span([1.0, 3.0].into_iter(), true), (1.0, 3.0));
    }

    #[test]
    fn png_round_trip() {
        let mut im = Image::white(3, 2).unwrap();
        im.set(1, 0, [10, 20, 30]);
        let bytes = im.to_png().unwrap();
        let dec = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = dec.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (3, 2));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(&buf[..info.buffer_size()], &im.rgb[..]);
        assert!(Image::white(0, 2).is_err());
        assert!(Image::white(MAX_SIDE + 1, 2).is_err());
    }
}
