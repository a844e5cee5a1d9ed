//! Loaders and datasets: crafted headers, gzip bombs, labels out of range, indices out of range
//! (plots of extreme values: tests/plots.rs).

use std::io::Write;
use std::path::PathBuf;

use pyro::data::{
    load_digits, load_idx_images, load_idx_labels, load_idx_labels_in, Dataset, DIGITS_MAX_BYTES,
};
use pyro::Error;

pub fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pyro-reliability-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn idx_header(magic: u32, dims: &[u32]) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

fn file_error(e: &Error, words: &[&str]) {
    assert!(
        matches!(e, Error::File { .. }),
        "expected a file error: {e:?}"
    );
    let msg = e.to_string();
    for w in words {
        assert!(msg.contains(w), "`{w}` missing from: {msg}");
    }
}

#[test]
fn idx_dims_whose_product_wraps_are_errors() {
    let dir = tmp_dir("idx-wrap");
    // 65536 x 3 x 2^48 does not fit in u32 dims; these do, and multiply past 2^64:
    // (2^32 - 1)^3 wraps, and 2^16 * 2^24 * 2^24 = 2^64 wraps to exactly 0 = the empty body.
    for dims in [[u32::MAX, u32::MAX, u32::MAX], [1 << 16, 1 << 24, 1 << 24]] {
        let p = dir.join("wrap-idx3-ubyte");
        std::fs::write(&p, idx_header(0x803, &dims)).unwrap();
        let e = load_idx_images(&p).unwrap_err();
        file_error(&e, &["header", "memory"]);
    }
    // A product that fits but cannot be allocated (2^59 bytes): an error, not an abort.
    let p = dir.join("huge-idx3-ubyte");
    std::fs::write(&p, idx_header(0x803, &[1 << 27, 1 << 16, 1 << 16])).unwrap();
    file_error(&load_idx_images(&p).unwrap_err(), &["allocat"]);
}

#[test]
fn a_gzip_bomb_is_read_no_further_than_its_header_declares() {
    let dir = tmp_dir("bomb");
    // The header declares 10 images of 2x2 pixels (40 bytes); the stream holds 64 MiB of zeros
    // (64 KiB compressed). Only 41 bytes may be decompressed.
    let mut raw = idx_header(0x803, &[10, 2, 2]);
    raw.resize(raw.len() + (64 << 20), 0);
    let z = gzip(&raw);
    assert!(z.len() < 100_000, "{}", z.len());
    let p = dir.join("bomb-idx3-ubyte.gz");
    std::fs::write(&p, &z).unwrap();
    file_error(&load_idx_images(&p).unwrap_err(), &["more bytes", "40"]);
    // The digits CSV has no header: it is bounded by DIGITS_MAX_BYTES.
    let row = format!("{}\n", vec!["0"; 65].join(","));
    let rows = DIGITS_MAX_BYTES / row.len() + 1;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for _ in 0..rows {
        z.write_all(row.as_bytes()).unwrap();
    }
    let p = dir.join("digits-bomb.csv.gz");
    std::fs::write(&p, z.finish().unwrap()).unwrap();
    file_error(&load_digits(&p).unwrap_err(), &["larger than"]);
}

#[test]
fn idx_labels_are_range_checked() {
    let dir = tmp_dir("labels");
    let p = dir.join("labels-idx1-ubyte");
    let mut f = idx_header(0x801, &[4]);
    f.extend_from_slice(&[3, 9, 10, 1]);
    std::fs::write(&p, &f).unwrap();
    file_error(
        &load_idx_labels(&p).unwrap_err(),
        &["label 2 is 10", "0..10"],
    );
    assert_eq!(load_idx_labels_in(&p, 11).unwrap(), [3, 9, 10, 1]);
    file_error(&load_idx_labels_in(&p, 4).unwrap_err(), &["label 1 is 9"]);
}

fn dataset() -> Dataset {
    Dataset {
        pixels: (0..12).map(f64::from).collect(),
        labels: vec![0, 1, 2],
        rows: 2,
        cols: 2,
    }
}

#[test]
fn dataset_indices_out_of_range_are_errors() {
    let d = dataset();
    assert_eq!(d.image(2).unwrap(), &[8.0, 9.0, 10.0, 11.0]);
    for i in [3, usize::MAX] {
        let e = d.image(i).unwrap_err().to_string();
        assert!(e.contains("image") && e.contains(&i.to_string()), "{e}");
        let e = d.batch(&[0, i]).error().expect("poisoned").to_string();
        assert!(e.contains("batch") && e.contains(&i.to_string()), "{e}");
        assert!(d.subset(&[i]).is_err());
    }
    assert_eq!(d.batch(&[2, 0]).shape(), &[2, 4]);
    assert_eq!(d.subset(&[1]).unwrap().labels, [1]);
    // A hand-built dataset whose fields disagree, including a rows x cols that overflows.
    for bad in [
        Dataset {
            pixels: vec![0.0; 5],
            ..dataset()
        },
        Dataset {
            rows: usize::MAX,
            cols: 3,
            ..dataset()
        },
        Dataset {
            rows: 1 << 33,
            cols: 1 << 31,
            ..dataset()
        },
    ] {
        assert!(bad.image(0).is_err());
        assert!(bad.batch(&[0]).error().is_some());
        assert!(bad.subset(&[0]).is_err());
        assert!(bad.tensor().error().is_some());
    }
}
