//! Plots (`pyro::plot`): the pictures hold what a reader needs (title text, lines in the series'
//! colours, the heatmap's colour scale, every image of a grid), survive extreme values, and are
//! valid PNG files.
#![cfg(feature = "plots")]

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use pyro::plot::{moving_average, Heatmap, Image, ImageGrid, LinePlot};

fn out_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("pyro-plots-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Pixels of `image` inside the rectangle `x0..x1, y0..y1` for which `f` holds.
fn count(
    image: &Image,
    (x0, x1): (usize, usize),
    (y0, y1): (usize, usize),
    f: impl Fn([u8; 3]) -> bool,
) -> usize {
    let mut n = 0;
    for y in y0..y1.min(image.height) {
        for x in x0..x1.min(image.width) {
            if image.pixel(x, y).is_some_and(&f) {
                n += 1;
            }
        }
    }
    n
}

fn dark(p: [u8; 3]) -> bool {
    p.iter().all(|&c| c < 100)
}

/// Reads a PNG file back with the `png` crate: `(width, height, RGB bytes)`.
fn read_png(path: &std::path::Path) -> (u32, u32, Vec<u8>) {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn a_line_plot_has_its_title_axes_and_coloured_lines() {
    let loss: Vec<f64> = (0..400)
        .map(|i| 50.0 * (-(i as f64) / 80.0).exp() + 1.0)
        .collect();
    let plot = LinePlot::new("ELBO loss")
        .x_label("step")
        .y_label("loss")
        .series_faint("loss", &loss)
        .series("average", &moving_average(&loss, 20));
    let im = plot.render().unwrap();
    assert_eq!((im.width, im.height), (720, 440));
    // The title is text: dark pixels in the top band, centred.
    assert!(count(&im, (250, 470), (0, 40), dark) > 30);
    // Tick labels and the axis description left of the plotting area.
    assert!(count(&im, (0, 80), (40, 400), dark) > 100);
    // The second series' colour (orange) is drawn.
    let orange = |p: [u8; 3]| p == [255, 127, 14];
    assert!(count(&im, (0, 720), (0, 440), orange) > 200);
    // Written as a PNG that reads back as the same picture.
    let path = out_dir().join("line.png");
    plot.save(&path).unwrap();
    let (w, h, rgb) = read_png(&path);
    assert_eq!((w, h), (720, 440));
    assert_eq!(rgb, im.rgb);

    // On a log scale the curve's decay is a straight line: the orange pixels in the right half of
    // the plotting area lie lower than in the left half on a linear scale, not on a log one.
    let log = LinePlot::new("log")
        .log_y(true)
        .series("loss", &loss)
        .render()
        .unwrap();
    assert!(count(&log, (0, 720), (0, 440), |p| p == [31, 119, 180]) > 200);
}

#[test]
fn the_legend_goes_where_the_lines_are_not() {
    // The legend's frame is the only grey of (160, 160, 160) in a line plot.
    let frame = |p: [u8; 3]| p == [160, 160, 160];
    let (top, bottom) = ((0, 220), (220, 440));
    // A falling loss leaves the upper right free: the legend is drawn there.
    let falling: Vec<f64> = (0..100).map(|i| 100.0 - i as f64).collect();
    let im = LinePlot::new("falling")
        .series("loss", &falling)
        .render()
        .unwrap();
    assert!(count(&im, (360, 720), top, frame) > 50);
    assert_eq!(count(&im, (360, 720), bottom, frame), 0);
    // A rising log-likelihood runs through the upper right: the legend moves to the lower right.
    let rising: Vec<f64> = falling.iter().map(|v| -v).collect();
    let im = LinePlot::new("rising")
        .series("log-likelihood", &rising)
        .render()
        .unwrap();
    assert_eq!(count(&im, (360, 720), top, frame), 0);
    assert!(count(&im, (360, 720), bottom, frame) > 50);
}

#[test]
fn whole_epochs_get_whole_ticks() {
    // Three epochs: tick labels 1, 2, 3 under the axis and nothing between them (no "1.5").
    let im = LinePlot::new("per epoch")
        .x_label("epoch")
        .series("test", &[-13.0, -11.5, -10.5])
        .render()
        .unwrap();
    // The plotting area runs from x = 86 to x = 706; its tick labels lie in y = 385..405.
    let labels = (385, 405);
    let at = |x: f64| 86.0 + (x - 1.0) / 2.0 * 620.0;
    let around = |x: f64| ((at(x) - 12.0) as usize, (at(x) + 12.0) as usize);
    assert!(count(&im, around(2.0), labels, dark) > 5);
    assert_eq!(count(&im, around(1.5), labels, dark), 0);
    assert_eq!(count(&im, around(2.5), labels, dark), 0);
}

#[test]
fn a_heatmap_has_a_colour_bar_from_the_minimum_to_the_maximum() {
    let k = 4;
    let m: Vec<f64> = (0..k * k).map(|i| i as f64 / (k * k - 1) as f64).collect();
    let hm = Heatmap::new("transitions", &m, k, k)
        .unwrap()
        .x_label("to state")
        .y_label("from state")
        .scale_label("probability")
        .row_labels(&["a", "b", "c", "d"]);
    let im = hm.render().unwrap();
    hm.save(out_dir().join("heatmap.png")).unwrap();
    // Viridis' two ends: dark purple (68, 1, 84) for the minimum, yellow (254, 232, 37) for the
    // maximum, each in a cell and in the colour bar.
    let purple = |p: [u8; 3]| p[0].abs_diff(68) < 6 && p[1] < 10 && p[2].abs_diff(84) < 6;
    let yellow = |p: [u8; 3]| p[0] > 240 && p[1].abs_diff(232) < 8 && p[2] < 50;
    let (w, h) = (im.width, im.height);
    let bar = (w - 150, w);
    assert!(count(&im, (0, w - 150), (0, h), purple) > 400, "min cell");
    assert!(count(&im, (0, w - 150), (0, h), yellow) > 400, "max cell");
    assert!(count(&im, bar, (0, h), purple) > 10, "bar bottom");
    assert!(count(&im, bar, (0, h), yellow) > 10, "bar top");
    // Row 0 (minimum) is at the top, row 3 (maximum) at the bottom.
    let first_purple_row = (0..h).find(|&y| count(&im, (0, w - 150), (y, y + 1), purple) > 0);
    let first_yellow_row = (0..h).find(|&y| count(&im, (0, w - 150), (y, y + 1), yellow) > 0);
    assert!(first_purple_row < first_yellow_row);
    assert!(Heatmap::new("bad", &m, 3, 3).is_err());
}

#[test]
fn an_image_grid_draws_every_image_and_its_caption() {
    let (h, w) = (8, 8);
    let full = vec![1.0; h * w];
    let empty = vec![0.0; h * w];
    let mut grid = ImageGrid::new("pairs", h, w)
        .columns(4)
        .group(2)
        .column_titles(&["input", "output"])
        .caption("left: input, right: output");
    for i in 0..8 {
        grid = grid.image(if i % 2 == 0 { &full } else { &empty });
    }
    let im = grid.render().unwrap();
    grid.save(out_dir().join("grid.png")).unwrap();
    // 4 full images of 8x8 pixels scaled by 7: 56x56 black blocks (less the frame).
    let black = count(&im, (0, im.width), (0, im.height), |p| p == [0, 0, 0]);
    assert!(black >= 4 * 54 * 54, "{black}");
    // Caption text at the bottom.
    assert!(count(&im, (0, im.width), (im.height - 30, im.height), dark) > 50);
    let bad = ImageGrid::new("bad", 2, 2).image(&[0.0; 3]);
    assert!(bad
        .render()
        .unwrap_err()
        .to_string()
        .contains("image 0 has 3 pixels"));
}

#[test]
fn plots_of_extreme_values_finish() {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let series: [&[f64]; 5] = [
            &[0.0, f64::INFINITY, 1.0, f64::NEG_INFINITY, f64::NAN, 2.0],
            &[-1e308, 1e308, -1e308],
            &[f64::MAX, f64::MIN],
            &[f64::INFINITY],
            &[],
        ];
        let mut out = Vec::new();
        for log in [false, true] {
            for s in series {
                out.push(
                    LinePlot::new("x")
                        .log_y(log)
                        .series("s", s)
                        .render()
                        .is_ok(),
                );
            }
            out.push(LinePlot::new("empty").log_y(log).render().is_ok());
        }
        let hm = Heatmap::new("h", &[f64::NAN, 1e308, -1e308, 0.0], 2, 2)
            .unwrap()
            .render()
            .is_ok();
        out.push(hm);
        out.push(
            ImageGrid::new("g", 2, 2)
                .image(&[f64::NAN, 9.0, -3.0, 0.5])
                .render()
                .is_ok(),
        );
        tx.send(out).unwrap();
    });
    let ok = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("plotting extreme values hangs");
    assert!(ok.iter().all(|&b| b), "{ok:?}");
}

#[test]
fn impossible_sizes_are_errors() {
    for (w, h) in [
        (0, 5),
        (5, 0),
        (usize::MAX, 2),
        (pyro::plot::MAX_SIDE + 1, 10),
    ] {
        let e = LinePlot::new("t")
            .size(w, h)
            .render()
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("{w}x{h}")), "{e}");
    }
    let e = ImageGrid::new("t", usize::MAX, 2)
        .render()
        .unwrap_err()
        .to_string();
    assert!(e.contains("ImageGrid"), "{e}");
}
