//! Heatmaps: a matrix drawn as coloured cells (viridis) with labelled rows and columns and a
//! colour bar, e.g. an HMM's transition matrix.

use std::path::Path;

use plotters::prelude::*;

use super::{draw, msg, span, Image, FONT};
use crate::error::{Error, Result};

/// A heatmap of a `rows x cols` matrix (row 0 at the top), with a colour bar giving the scale.
/// Non-finite entries are drawn in light gray.
#[derive(Clone, Debug)]
pub struct Heatmap {
    title: String,
    values: Vec<f64>,
    rows: usize,
    cols: usize,
    row_labels: Vec<String>,
    col_labels: Vec<String>,
    x_label: String,
    y_label: String,
    scale_label: String,
    range: Option<(f64, f64)>,
    cell: usize,
}

impl Heatmap {
    /// A heatmap of `values` (row-major, `rows * cols` of them), rows and columns labelled by
    /// their index; an error if the counts disagree.
    pub fn new(
        title: impl Into<String>,
        values: &[f64],
        rows: usize,
        cols: usize,
    ) -> Result<Heatmap> {
        if rows.checked_mul(cols) != Some(values.len()) || rows == 0 || cols == 0 {
            return Err(Error::Invalid(format!(
                "Heatmap: {} values for a {rows}x{cols} matrix",
                values.len()
            )));
        }
        Ok(Heatmap {
            title: title.into(),
            values: values.to_vec(),
            rows,
            cols,
            row_labels: (0..rows).map(|i| i.to_string()).collect(),
            col_labels: (0..cols).map(|j| j.to_string()).collect(),
            x_label: String::new(),
            y_label: String::new(),
            scale_label: String::new(),
            range: None,
            cell: 0,
        })
    }

    /// Labels of the rows (top to bottom); missing ones stay the indices.
    pub fn row_labels<S: ToString>(mut self, labels: &[S]) -> Heatmap {
        for (l, s) in self.row_labels.iter_mut().zip(labels) {
            *l = s.to_string();
        }
        self
    }

    /// Labels of the columns (left to right); missing ones stay the indices.
    pub fn col_labels<S: ToString>(mut self, labels: &[S]) -> Heatmap {
        for (l, s) in self.col_labels.iter_mut().zip(labels) {
            *l = s.to_string();
        }
        self
    }

    /// The label under the columns.
    pub fn x_label(mut self, label: impl Into<String>) -> Heatmap {
        self.x_label = label.into();
        self
    }

    /// The label beside the rows.
    pub fn y_label(mut self, label: impl Into<String>) -> Heatmap {
        self.y_label = label.into();
        self
    }

    /// The label of the colour bar (what the colours measure).
    pub fn scale_label(mut self, label: impl Into<String>) -> Heatmap {
        self.scale_label = label.into();
        self
    }

    /// The values at the two ends of the colour scale (default: the finite minimum and maximum).
    pub fn range(mut self, lo: f64, hi: f64) -> Heatmap {
        self.range = Some((lo, hi));
        self
    }

    /// Writes the heatmap as a PNG file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.render()?.save(path)
    }

    /// Draws the heatmap.
    pub fn render(&self) -> Result<Image> {
        let (rows, cols) = (self.rows, self.cols);
        // Cells of about 36 pixels for a small matrix, smaller for a large one.
        let cell = if self.cell > 0 {
            self.cell
        } else {
            (720 / rows.max(cols)).clamp(4, 40)
        };
        let width = cols.saturating_mul(cell).saturating_add(260);
        let height = rows.saturating_mul(cell).saturating_add(150);
        let mut image = Image::white(width, height)?;
        let (lo, hi) = match self.range {
            Some((lo, hi)) if lo < hi && (hi - lo).is_finite() => (lo, hi),
            _ => {
                let (lo, hi) = span(self.values.iter().copied(), false);
                // `span` pads by 5%: the bar should end at the data's extremes.
                let finite = self.values.iter().copied().filter(|v| v.is_finite());
                let (a, b) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(v), b.max(v))
                });
                if a < b && (b - a).is_finite() {
                    (a, b)
                } else {
                    (lo, hi)
                }
            }
        };
        let colour = |v: f64| {
            if v.is_finite() {
                ViridisRGB::get_color_normalized(v.clamp(lo, hi), lo, hi)
            } else {
                RGBColor(220, 220, 220)
            }
        };
        // Tick labels of every cell while they fit, else of every k-th.
        let every = (18 / cell).max(1);
        let title = self.title.as_str();
        draw(&mut image, &format!("heatmap `{title}`"), |root| {
            root.fill(&WHITE).map_err(msg)?;
            let root = root.titled(title, (FONT, 22).into_font()).map_err(msg)?;
            let (main, bar) = root.split_horizontally(width as i32 - 150);
            let mut chart = ChartBuilder::on(&main)
                .margin(10)
                .x_label_area_size(50)
                .y_label_area_size(60)
                .build_cartesian_2d(
                    // A segmented `0..n` has n + 1 segments (its end is included).
                    (0..cols - 1).into_segmented(),
                    // Rows run downwards: the y coordinate of row r is rows - 1 - r.
                    (0..rows - 1).into_segmented(),
                )
                .map_err(msg)?;
            let label = |labels: &[String], i: &SegmentValue<usize>, flip: bool| match i {
                SegmentValue::CenterOf(i) if *i < labels.len() => {
                    let idx = if flip { labels.len() - 1 - i } else { *i };
                    if idx % every == 0 {
                        labels[idx].clone()
                    } else {
                        String::new()
                    }
                }
                _ => String::new(),
            };
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(self.x_label.as_str())
                .y_desc(self.y_label.as_str())
                .axis_desc_style((FONT, 16))
                .label_style((FONT, 13))
                .x_labels(cols + 1)
                .y_labels(rows + 1)
                .x_label_formatter(&|i| label(&self.col_labels, i, false))
                .y_label_formatter(&|i| label(&self.row_labels, i, true))
                .draw()
                .map_err(msg)?;
            chart
                .draw_series((0..rows).flat_map(|r| {
                    (0..cols).map(move |c| {
                        let y = rows - 1 - r;
                        Rectangle::new(
                            [
                                (SegmentValue::Exact(c), SegmentValue::Exact(y)),
                                (SegmentValue::Exact(c + 1), SegmentValue::Exact(y + 1)),
                            ],
                            colour(self.values[r * cols + c]).filled(),
                        )
                    })
                }))
                .map_err(msg)?;

            // The colour bar: the scale from `lo` (bottom) to `hi` (top).
            let mut scale = ChartBuilder::on(&bar)
                .margin_top(10)
                .margin_bottom(60)
                .margin_right(60)
                .y_label_area_size(0)
                .right_y_label_area_size(60)
                .build_cartesian_2d(0.0..1.0, lo..hi)
                .map_err(msg)?;
            scale
                .configure_mesh()
                .disable_mesh()
                .disable_x_axis()
                .y_desc(self.scale_label.as_str())
                .axis_desc_style((FONT, 14))
                .label_style((FONT, 12))
                .y_labels(6)
                .draw()
                .map_err(msg)?;
            let steps = 256;
            scale
                .draw_series((0..steps).map(|k| {
                    let a = lo + (hi - lo) * k as f64 / steps as f64;
                    let b = lo + (hi - lo) * (k + 1) as f64 / steps as f64;
                    Rectangle::new([(0.0, a), (1.0, b)], colour((a + b) / 2.0).filled())
                }))
                .map_err(msg)?;
            Ok(())
        })?;
        Ok(image)
    }
}
