//! Grids of small grayscale images (digits, reconstructions, samples) with a title, column
//! titles and a caption.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{draw, msg, Image, FONT, MAX_SIDE};
use crate::error::{Error, Result};

/// A grid of `height x width` grayscale images with values in `[0, 1]` (1 = ink, drawn black on
/// white), `columns` per row, in groups of `group` columns separated by a wider gap (e.g. pairs
/// of an input and its reconstruction), with column titles repeated over every group.
#[derive(Clone, Debug)]
pub struct ImageGrid {
    title: String,
    caption: Vec<String>,
    height: usize,
    width: usize,
    columns: usize,
    group: usize,
    column_titles: Vec<String>,
    images: Vec<Vec<f64>>,
}

impl ImageGrid {
    /// An empty grid of images of `height x width` pixels, 8 per row.
    pub fn new(title: impl Into<String>, height: usize, width: usize) -> ImageGrid {
        ImageGrid {
            title: title.into(),
            caption: Vec::new(),
            height,
            width,
            columns: 8,
            group: 1,
            column_titles: Vec::new(),
            images: Vec::new(),
        }
    }

    /// Images per row of the grid.
    pub fn columns(mut self, n: usize) -> ImageGrid {
        self.columns = n.max(1);
        self
    }

    /// Columns come in groups of `n` (a wider gap between groups), titled by
    /// [`ImageGrid::column_titles`].
    pub fn group(mut self, n: usize) -> ImageGrid {
        self.group = n.max(1);
        self
    }

    /// Titles over the columns of every group.
    pub fn column_titles<S: ToString>(mut self, titles: &[S]) -> ImageGrid {
        self.column_titles = titles.iter().map(ToString::to_string).collect();
        self
    }

    /// A caption under the grid, one line per call.
    pub fn caption(mut self, line: impl Into<String>) -> ImageGrid {
        self.caption.push(line.into());
        self
    }

    /// Adds an image (`height * width` values, row-major).
    pub fn image(mut self, pixels: &[f64]) -> ImageGrid {
        self.images.push(pixels.to_vec());
        self
    }

    /// Writes the grid as a PNG file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.render()?.save(path)
    }

    /// Draws the grid; an error if an image has the wrong number of pixels.
    pub fn render(&self) -> Result<Image> {
        let (h, w) = (self.height, self.width);
        let n = h
            .checked_mul(w)
            .filter(|&n| n > 0)
            .ok_or_else(|| Error::Invalid(format!("ImageGrid: images of {h}x{w} pixels")))?;
        if let Some((i, im)) = self.images.iter().enumerate().find(|(_, im)| im.len() != n) {
            return Err(Error::Invalid(format!(
                "ImageGrid: image {i} has {} pixels, expected {h}x{w} = {n}",
                im.len()
            )));
        }
        // Each source pixel as a block of `scale` pixels: about 56 pixels per image.
        let scale = (56 / h.max(w)).max(1);
        let (cw, ch) = (w * scale, h * scale);
        let (gap, group_gap) = (4, 18);
        let cols = self.columns;
        let rows = self.images.len().div_ceil(cols).max(1);
        let groups = cols.div_ceil(self.group);
        let grid_w = cols * cw + (cols - 1) * gap + (groups - 1) * (group_gap - gap);
        let grid_h = rows * ch + (rows - 1) * gap;
        let (top, headers) = (44, if self.column_titles.is_empty() { 0 } else { 22 });
        let bottom = 14 + 20 * self.caption.len();
        let width = (grid_w + 40).max(420);
        let height = top + headers + grid_h + bottom + 10;
        if width > MAX_SIDE || height > MAX_SIDE {
            return Err(Error::Invalid(format!(
                "ImageGrid: {} images make a {width}x{height} picture, larger than {MAX_SIDE}",
                self.images.len()
            )));
        }
        let mut image = Image::white(width, height)?;
        let x0 = (width - grid_w) / 2;
        let y0 = top + headers;
        let col_x = |c: usize| x0 + c * (cw + gap) + (c / self.group) * (group_gap - gap);
        // The pixels first, then the text over the white margins.
        for (k, im) in self.images.iter().enumerate() {
            let (gx, gy) = (col_x(k % cols), y0 + (k / cols) * (ch + gap));
            for (i, &v) in im.iter().enumerate() {
                let ink = if v.is_finite() {
                    v.clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let g = (255.0 * (1.0 - ink)).round() as u8;
                let (py, px) = (i / w, i % w);
                for dy in 0..scale {
                    for dx in 0..scale {
                        image.set(gx + px * scale + dx, gy + py * scale + dy, [g, g, g]);
                    }
                }
            }
            // A thin frame, so that a blank image still shows where it is.
            for t in 0..cw {
                image.set(gx + t, gy, frame(&image, gx + t, gy));
                image.set(gx + t, gy + ch - 1, frame(&image, gx + t, gy + ch - 1));
            }
            for t in 0..ch {
                image.set(gx, gy + t, frame(&image, gx, gy + t));
                image.set(gx + cw - 1, gy + t, frame(&image, gx + cw - 1, gy + t));
            }
        }
        let title = self.title.as_str();
        draw(&mut image, &format!("image grid `{title}`"), |root| {
            let centred = |size: u32| {
                (FONT, size)
                    .into_font()
                    .into_text_style(root)
                    .pos(Pos::new(HPos::Center, VPos::Top))
            };
            root.draw(&Text::new(title, ((width / 2) as i32, 12), centred(20)))
                .map_err(msg)?;
            if !self.column_titles.is_empty() {
                for c in 0..cols {
                    if let Some(t) = self.column_titles.get(c % self.group) {
                        let x = (col_x(c) + cw / 2) as i32;
                        root.draw(&Text::new(t.as_str(), (x, top as i32), centred(13)))
                            .map_err(msg)?;
                    }
                }
            }
            for (i, line) in self.caption.iter().enumerate() {
                let y = (y0 + grid_h + 12 + 20 * i) as i32;
                root.draw(&Text::new(
                    line.as_str(),
                    ((width / 2) as i32, y),
                    centred(14),
                ))
                .map_err(msg)?;
            }
            Ok(())
        })?;
        Ok(image)
    }
}

/// The frame colour over a pixel: mid gray, darker over ink.
fn frame(image: &Image, x: usize, y: usize) -> [u8; 3] {
    let g = image.pixel(x, y).map_or(255, |p| p[0]);
    let f = (u16::from(g) * 3 / 4) as u8;
    [f.min(190), f.min(190), f.min(190)]
}
