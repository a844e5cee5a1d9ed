//! Line plots: loss or ELBO against step or epoch, one line per series, with a legend.

use std::path::Path;

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{draw, msg, span, Image, FONT, PALETTE};
use crate::error::Result;

/// One line of a [`LinePlot`].
#[derive(Clone, Debug)]
struct Series {
    label: String,
    points: Vec<(f64, f64)>,
    /// Drawn thin and pale (raw noisy values under their moving average).
    faint: bool,
}

/// A line plot with a title, axis labels, a legend and an optional logarithmic y axis.
/// Non-finite values (and, on a log scale, values that are not positive) are gaps in their line.
#[derive(Clone, Debug)]
pub struct LinePlot {
    title: String,
    x_label: String,
    y_label: String,
    log_y: bool,
    size: (usize, usize),
    series: Vec<Series>,
}

impl LinePlot {
    /// An empty plot, 720 x 440 pixels, with `title`.
    pub fn new(title: impl Into<String>) -> LinePlot {
        LinePlot {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            log_y: false,
            size: (720, 440),
            series: Vec::new(),
        }
    }

    /// The loss curve every SVI example draws: the loss of each step (faint) under its moving
    /// average over `window` steps, against the step, on a log scale when the loss falls over
    /// orders of magnitude ([`LinePlot::log_y_when_useful`]).
    ///
    /// ```
    /// use pyro_core::plot::LinePlot;
    /// let losses: Vec<f64> = (0..300).map(|i| 100.0 / (1.0 + i as f64)).collect();
    /// let image = LinePlot::loss_curve("Coin: ELBO loss", &losses, 100).render().unwrap();
    /// assert_eq!((image.width, image.height), (720, 440));
    /// ```
    pub fn loss_curve(title: impl Into<String>, losses: &[f64], window: usize) -> LinePlot {
        LinePlot::new(title)
            .x_label("step")
            .y_label("loss (-ELBO, nats)")
            .series_faint("loss per step", losses)
            .series(
                format!("moving average, {window} steps"),
                &moving_average(losses, window),
            )
            .log_y_when_useful()
    }

    /// The label of the x axis.
    pub fn x_label(mut self, label: impl Into<String>) -> LinePlot {
        self.x_label = label.into();
        self
    }

    /// The label of the y axis.
    pub fn y_label(mut self, label: impl Into<String>) -> LinePlot {
        self.y_label = label.into();
        self
    }

    /// A logarithmic y axis (for losses that fall over orders of magnitude).
    pub fn log_y(mut self, log: bool) -> LinePlot {
        self.log_y = log;
        self
    }

    /// A logarithmic y axis if the series added so far are positive and span more than a factor
    /// of 30 (a loss that falls from thousands to tens); a linear one otherwise.
    pub fn log_y_when_useful(mut self) -> LinePlot {
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .filter(|y| y.is_finite());
        let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
            (a.min(y), b.max(y))
        });
        self.log_y = lo > 0.0 && hi / lo > 30.0;
        self
    }

    /// The size of the picture in pixels.
    pub fn size(mut self, width: usize, height: usize) -> LinePlot {
        self.size = (width, height);
        self
    }

    /// A series `ys` at `x = 1, 2, ...` (steps or epochs counted from 1).
    pub fn series(self, label: impl Into<String>, ys: &[f64]) -> LinePlot {
        let xs: Vec<f64> = (1..=ys.len()).map(|i| i as f64).collect();
        self.add(label.into(), &xs, ys, false)
    }

    /// A series drawn thin and pale, for raw values under a smoothed line.
    pub fn series_faint(self, label: impl Into<String>, ys: &[f64]) -> LinePlot {
        let xs: Vec<f64> = (1..=ys.len()).map(|i| i as f64).collect();
        self.add(label.into(), &xs, ys, true)
    }

    /// A series of points `(xs[i], ys[i])` (the shorter slice sets the count).
    pub fn series_xy(self, label: impl Into<String>, xs: &[f64], ys: &[f64]) -> LinePlot {
        self.add(label.into(), xs, ys, false)
    }

    fn add(mut self, label: String, xs: &[f64], ys: &[f64], faint: bool) -> LinePlot {
        self.series.push(Series {
            label,
            points: xs.iter().copied().zip(ys.iter().copied()).collect(),
            faint,
        });
        self
    }

    /// Writes the plot as a PNG file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.render()?.save(path)
    }

    /// Draws the plot.
    pub fn render(&self) -> Result<Image> {
        let mut image = Image::white(self.size.0, self.size.1)?;
        let log = self.log_y;
        let all = || self.series.iter().flat_map(|s| s.points.iter());
        let (x0, x1) = span(all().filter(|p| p.1.is_finite()).map(|p| p.0), false);
        // Without padding on x: a curve starts at its first step.
        let (x0, x1) = {
            let (lo, hi) = all()
                .map(|p| p.0)
                .filter(|x| x.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                    (a.min(x), b.max(x))
                });
            if lo < hi && (hi - lo).is_finite() {
                (lo, hi)
            } else {
                (x0, x1)
            }
        };
        let (y0, y1) = span(all().map(|p| p.1), log);
        let corner = self.legend_corner((x0, x1), (y0, y1));
        // Steps and epochs are whole numbers: over a short range, one tick per whole number
        // rather than ticks at epoch 1.5.
        let whole = all().all(|p| !p.0.is_finite() || p.0.fract() == 0.0);
        let x_ticks = if whole && x1 - x0 < 8.0 {
            (x1 - x0) as usize + 1
        } else {
            8
        };
        let title = self.title.as_str();
        draw(&mut image, &format!("plot `{title}`"), |root| {
            root.fill(&WHITE).map_err(msg)?;
            let mut builder = ChartBuilder::on(root);
            builder
                .caption(title, (FONT, 22).into_font())
                .margin(14)
                .x_label_area_size(44)
                .y_label_area_size(72);
            if log {
                let mut chart = builder
                    .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
                    .map_err(msg)?;
                mesh(&mut chart, &self.x_label, &self.y_label, x_ticks)?;
                for (k, s) in self.series.iter().enumerate() {
                    line(&mut chart, k, s, |y| y > 0.0)?;
                }
                legend(&mut chart, &self.series, corner)
            } else {
                let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(msg)?;
                mesh(&mut chart, &self.x_label, &self.y_label, x_ticks)?;
                for (k, s) in self.series.iter().enumerate() {
                    line(&mut chart, k, s, |_| true)?;
                }
                legend(&mut chart, &self.series, corner)
            }
        })?;
        Ok(image)
    }

    /// The corner of the plot where the legend hides the fewest points: the upper right unless
    /// the lines run through it (a log-likelihood that rises, say) and another corner is emptier.
    fn legend_corner(&self, (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> SeriesLabelPosition {
        let to_unit = |v: f64, lo: f64, hi: f64, log: bool| {
            if log {
                (v.ln() - lo.ln()) / (hi.ln() - lo.ln())
            } else {
                (v - lo) / (hi - lo)
            }
        };
        // The legend box covers about the outer 45% of the width and 25% of the height.
        let mut counts = [0usize; 4];
        for &(x, y) in self.series.iter().flat_map(|s| s.points.iter()) {
            let (u, v) = (to_unit(x, x0, x1, false), to_unit(y, y0, y1, self.log_y));
            if !(u.is_finite() && v.is_finite()) {
                continue;
            }
            let (right, left, top, bottom) = (u > 0.55, u < 0.45, v > 0.75, v < 0.25);
            for (i, inside) in [right && top, right && bottom, left && top, left && bottom]
                .into_iter()
                .enumerate()
            {
                counts[i] += usize::from(inside);
            }
        }
        let corners = [
            SeriesLabelPosition::UpperRight,
            SeriesLabelPosition::LowerRight,
            SeriesLabelPosition::UpperLeft,
            SeriesLabelPosition::LowerLeft,
        ];
        // The first corner with the fewest points: ties go to the upper right.
        let best = (0..4).min_by_key(|&i| counts[i]).unwrap_or(0);
        corners[best].clone()
    }
}

type Chart<'a, 'b, Y> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, Y>>;

fn mesh<Y>(
    chart: &mut Chart<'_, '_, Y>,
    x_label: &str,
    y_label: &str,
    x_ticks: usize,
) -> Result<(), String>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 13))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(205, 205, 205))
        .x_labels(x_ticks)
        .y_labels(8)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()
        .map_err(msg)
}

/// A tick label: integers without a decimal point, others with at most 3 decimals, very large
/// or small magnitudes in scientific notation.
fn tick(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&a) {
        format!("{v:.1e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The colour of series `k`.
fn colour(k: usize, faint: bool) -> RGBColor {
    let (r, g, b) = PALETTE[k % PALETTE.len()];
    if faint {
        // Mixed with white: a pale version of the same hue.
        let pale = |c: u8| (u16::from(c) + 2 * 255) / 3;
        RGBColor(pale(r) as u8, pale(g) as u8, pale(b) as u8)
    } else {
        RGBColor(r, g, b)
    }
}

/// Draws a series as segments between its gaps.
fn line<Y>(
    chart: &mut Chart<'_, '_, Y>,
    k: usize,
    s: &Series,
    on_axis: impl Fn(f64) -> bool,
) -> Result<(), String>
where
    Y: Ranged<ValueType = f64>,
{
    let style = ShapeStyle::from(&colour(k, s.faint)).stroke_width(if s.faint { 1 } else { 2 });
    let ok = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite() && on_axis(p.1);
    let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for p in &s.points {
        if ok(p) {
            if let Some(seg) = segments.last_mut() {
                seg.push(*p);
            }
        } else if segments.last().is_some_and(|seg| !seg.is_empty()) {
            segments.push(Vec::new());
        }
    }
    let mut first = true;
    for seg in segments.into_iter().filter(|seg| !seg.is_empty()) {
        let drawn = if seg.len() == 1 {
            // A lone point between gaps is a dot.
            chart
                .draw_series(std::iter::once(Circle::new(seg[0], 2, style.filled())))
                .map_err(msg)?
        } else {
            chart
                .draw_series(LineSeries::new(seg, style))
                .map_err(msg)?
        };
        if first && !s.label.is_empty() {
            drawn.label(s.label.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], style.stroke_width(3))
            });
            first = false;
        }
    }
    Ok(())
}

fn legend<'a, 'b: 'a, Y>(
    chart: &mut Chart<'a, 'b, Y>,
    series: &[Series],
    corner: SeriesLabelPosition,
) -> Result<(), String>
where
    Y: Ranged<ValueType = f64>,
{
    if series.iter().all(|s| s.label.is_empty()) {
        return Ok(());
    }
    chart
        .configure_series_labels()
        .position(corner)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(160, 160, 160))
        .draw()
        .map_err(msg)
}

/// The trailing moving average of `ys` over `window` values (fewer at the start); non-finite
/// values are left out of the averages they fall in.
///
/// ```
/// assert_eq!(pyro_core::plot::moving_average(&[1.0, 3.0, 5.0, f64::NAN], 2), [1.0, 2.0, 4.0, 5.0]);
/// ```
pub fn moving_average(ys: &[f64], window: usize) -> Vec<f64> {
    let window = window.max(1);
    let (mut sum, mut count) = (0.0, 0usize);
    let mut out = Vec::with_capacity(ys.len());
    for (i, &y) in ys.iter().enumerate() {
        if y.is_finite() {
            sum += y;
            count += 1;
        }
        if i >= window {
            let old = ys[i - window];
            if old.is_finite() {
                sum -= old;
                count -= 1;
            }
        }
        out.push(if count > 0 {
            sum / count as f64
        } else {
            f64::NAN
        });
    }
    out
}
