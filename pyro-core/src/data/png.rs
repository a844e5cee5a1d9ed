//! A minimal PNG writer (8-bit grayscale or RGB, zlib via `flate2`), enough to look at images
//! of digits, reconstructions and loss curves without an imaging crate; plus a grayscale canvas
//! with image tiles and line plots.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

fn crc32(chunks: &[&[u8]]) -> u32 {
    let mut table = [0u32; 256];
    for (n, t) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *t = c;
    }
    let mut c = 0xffff_ffffu32;
    for chunk in chunks {
        for &b in *chunk {
            c = table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
        }
    }
    c ^ 0xffff_ffff
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// Encodes 8-bit pixels (`channels` = 1 gray or 3 RGB, row-major) as PNG bytes.
pub fn encode(width: usize, height: usize, channels: usize, pixels: &[u8]) -> Result<Vec<u8>> {
    let color = match channels {
        1 => 0u8,
        3 => 2u8,
        _ => {
            return Err(Error::Invalid(format!(
                "PNG: {channels} channels, expected 1 or 3"
            )))
        }
    };
    // The PNG spec: width and height are 1..=2^31-1 (a zero-sized image is not a PNG).
    const MAX_SIDE: usize = (1 << 31) - 1;
    if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
        return Err(Error::Invalid(format!(
            "PNG: a {width}x{height} image; width and height must be between 1 and {MAX_SIDE}"
        )));
    }
    if width
        .checked_mul(height)
        .and_then(|n| n.checked_mul(channels))
        != Some(pixels.len())
    {
        return Err(Error::Invalid(format!(
            "PNG: {} bytes for a {width}x{height}x{channels} image",
            pixels.len()
        )));
    }
    let mut raw = Vec::with_capacity((width * channels + 1) * height);
    for row in pixels.chunks(width * channels) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw)
        .map_err(|e| Error::Invalid(format!("PNG: {e}")))?;
    let idat = z
        .finish()
        .map_err(|e| Error::Invalid(format!("PNG: {e}")))?;
    let mut out = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(width as u32).to_be_bytes());
    ihdr.extend_from_slice(&(height as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, color, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

/// A grayscale drawing surface (0 black .. 255 white).
#[derive(Clone, Debug)]
pub struct Canvas {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Row-major gray values.
    pub pixels: Vec<u8>,
}

impl Canvas {
    /// A canvas filled with `background`. A size whose pixel count overflows gives an empty
    /// 0x0 canvas (drawing on it does nothing, and saving it is an error that names the size).
    pub fn new(width: usize, height: usize, background: u8) -> Canvas {
        match width.checked_mul(height) {
            Some(n) => Canvas {
                width,
                height,
                pixels: vec![background; n],
            },
            None => Canvas {
                width: 0,
                height: 0,
                pixels: Vec::new(),
            },
        }
    }

    /// Sets one pixel (ignored outside the canvas).
    pub fn set(&mut self, x: isize, y: isize, v: u8) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            // `get_mut`: the fields are public, and a hand-made canvas may be short.
            if let Some(p) = self.pixels.get_mut(y as usize * self.width + x as usize) {
                *p = v;
            }
        }
    }

    /// Draws an image of values in `[0, 1]` (1 = ink, drawn black on white... or white on black
    /// per `invert`) at `(x0, y0)`, each source pixel as a `scale`x`scale` block.
    #[allow(clippy::too_many_arguments)]
    pub fn tile(
        &mut self,
        x0: usize,
        y0: usize,
        img: &[f64],
        rows: usize,
        cols: usize,
        scale: usize,
        invert: bool,
    ) {
        for r in 0..rows {
            for c in 0..cols {
                // Pixels missing from a short `img` are left as they are.
                let Some(&p) = r.checked_mul(cols).and_then(|i| img.get(i + c)) else {
                    continue;
                };
                let v = (p.clamp(0.0, 1.0) * 255.0).round() as u8;
                let v = if invert { 255 - v } else { v };
                // The block's top-left corner, and the part of it on the canvas (so that the work
                // is bounded by the canvas, whatever `scale` is).
                let corner = |o: usize, i: usize| i.checked_mul(scale)?.checked_add(o);
                let (Some(x), Some(y)) = (corner(x0, c), corner(y0, r)) else {
                    continue;
                };
                let xs = x..x.saturating_add(scale).min(self.width);
                let ys = y..y.saturating_add(scale).min(self.height);
                for yy in ys {
                    for xx in xs.clone() {
                        self.set(xx as isize, yy as isize, v);
                    }
                }
            }
        }
    }

    /// Draws a line from `(x0, y0)` to `(x1, y1)` (Bresenham). Only the part inside the canvas is
    /// drawn: end points far outside it are first pulled in (along the line), so the work is
    /// bounded by the canvas size, not by the coordinates.
    pub fn line(&mut self, from: (isize, isize), to: (isize, isize), v: u8) {
        let Some(((x0, y0), (x1, y1))) = self.clip(from, to) else {
            return;
        };
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            self.set(x, y, v);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// The segment `a`-`b` cut to the canvas (with a margin of one pixel), or `None` if it misses
    /// it (Liang-Barsky clipping in `f64`, so huge coordinates cannot overflow).
    #[allow(clippy::type_complexity)]
    fn clip(
        &self,
        a: (isize, isize),
        b: (isize, isize),
    ) -> Option<((isize, isize), (isize, isize))> {
        let (x0, y0, x1, y1) = (a.0 as f64, a.1 as f64, b.0 as f64, b.1 as f64);
        let (lo_x, hi_x) = (-1.0, self.width as f64);
        let (lo_y, hi_y) = (-1.0, self.height as f64);
        let (dx, dy) = (x1 - x0, y1 - y0);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        for (p, q) in [
            (-dx, x0 - lo_x),
            (dx, hi_x - x0),
            (-dy, y0 - lo_y),
            (dy, hi_y - y0),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    return None;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    t0 = t0.max(r);
                } else {
                    t1 = t1.min(r);
                }
            }
        }
        if t0 > t1 {
            return None;
        }
        let pt = |t: f64| {
            (
                (x0 + t * dx).round() as isize,
                (y0 + t * dy).round() as isize,
            )
        };
        Some((
            if t0 > 0.0 { pt(t0) } else { a },
            if t1 < 1.0 { pt(t1) } else { b },
        ))
    }

    /// A line plot of one or more series (each drawn in its own gray) with axes and a light
    /// grid; `y` limits are taken from the data.
    pub fn plot(width: usize, height: usize, series: &[&[f64]]) -> Canvas {
        let mut c = Canvas::new(width, height, 255);
        let (ml, mr, mt, mb) = (30isize, 10isize, 10isize, 20isize);
        let (w, h) = (width as isize - ml - mr, height as isize - mt - mb);
        let all = series
            .iter()
            .flat_map(|s| s.iter())
            .filter(|v| v.is_finite());
        let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
        let (lo, hi) = if lo < hi {
            (lo, hi)
        } else if lo.is_finite() {
            (lo - 1.0, lo + 1.0)
        } else {
            // No finite value at all.
            (-1.0, 1.0)
        };
        // Halves, so that a range such as [-1e308, 1e308] does not overflow to infinity.
        let span = hi / 2.0 - lo / 2.0;
        for k in 0..=4 {
            let y = mt + h * k / 4;
            for x in (ml..ml + w).step_by(3) {
                c.set(x, y, 210);
            }
        }
        c.line((ml, mt), (ml, mt + h), 0);
        c.line((ml, mt + h), (ml + w, mt + h), 0);
        let n = series.iter().map(|s| s.len()).max().unwrap_or(0);
        for (k, s) in series.iter().enumerate() {
            let gray = [0u8, 120, 180][k % 3];
            let pt = |i: usize, v: f64| {
                let x = ml
                    + if n > 1 {
                        w * i as isize / (n as isize - 1)
                    } else {
                        0
                    };
                let y = mt + ((hi / 2.0 - v / 2.0) / span * h as f64).round() as isize;
                (x, y)
            };
            // Non-finite values are gaps in the line: they have no place on the axis.
            for i in 1..s.len() {
                if s[i - 1].is_finite() && s[i].is_finite() {
                    c.line(pt(i - 1, s[i - 1]), pt(i, s[i]), gray);
                }
            }
            for (i, &v) in s.iter().enumerate().filter(|(_, v)| v.is_finite()) {
                let (x, y) = pt(i, v);
                for d in -1..=1 {
                    c.set(x + d, y, gray);
                    c.set(x, y + d, gray);
                }
            }
        }
        c
    }

    /// Writes the canvas as a grayscale PNG.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_gray(path, self.width, self.height, &self.pixels)
    }
}

/// Writes 8-bit grayscale pixels to a PNG file.
pub fn write_gray(
    path: impl AsRef<Path>,
    width: usize,
    height: usize,
    pixels: &[u8],
) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode(width, height, 1, pixels).map_err(|e| Error::file(path, e.to_string()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::file(dir, format!("cannot create directory: {e}")))?;
    }
    std::fs::write(path, bytes).map_err(|e| Error::file(path, format!("cannot write: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc_of_iend_matches_the_spec() {
        assert_eq!(super::crc32(&[b"IEND"]), 0xae42_6082);
    }
}
