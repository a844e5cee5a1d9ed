//! Dataset loaders: the shipped digits load; corrupt files give errors that name the file and say
//! what was expected; minibatches are seeded and cover every index once per epoch.

use std::path::{Path, PathBuf};

use pyro::data::{load_digits, load_idx_images, load_idx_labels, load_mnist, load_table, Batches};
use pyro::Error;

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pyro-data-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn idx(magic: u32, dims: &[u32], body: usize) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v.extend((0..body).map(|i| (i % 256) as u8));
    v
}

/// A gzip member with stored (uncompressed) deflate blocks: no compression crate needed.
fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let chunks: Vec<&[u8]> = bytes.chunks(65535).collect();
    let n = chunks.len().max(1);
    for i in 0..n {
        let c = chunks.get(i).copied().unwrap_or(&[]);
        out.push(u8::from(i + 1 == n));
        out.extend_from_slice(&(c.len() as u16).to_le_bytes());
        out.extend_from_slice(&(!(c.len() as u16)).to_le_bytes());
        out.extend_from_slice(c);
    }
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                0xedb8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    out.extend_from_slice(&(!crc).to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out
}

fn file_error(e: Error, path: &Path, words: &[&str]) {
    let msg = e.to_string();
    match &e {
        Error::File { path: p, .. } => assert_eq!(p, path, "{msg}"),
        other => panic!("expected a file error, got {other:?}"),
    }
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    for w in words {
        assert!(msg.contains(w), "`{w}` missing from: {msg}");
    }
}

#[test]
fn shipped_digits_load() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/digits/digits.csv.gz");
    let d = load_digits(&p).unwrap();
    assert_eq!((d.len(), d.rows, d.cols), (1797, 8, 8));
    assert!(d.pixels.iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert!(d.labels.iter().all(|&l| l <= 9));
    let b = d.binarize(0.5);
    assert!(b.pixels.iter().all(|&v| v == 0.0 || v == 1.0));
    let (train, test) = b.split(359, 0).unwrap();
    assert_eq!((train.len(), test.len()), (1438, 359));
}

#[test]
fn idx_round_trip_raw_and_gzipped() {
    let dir = tmp_dir("ok");
    let img = idx(0x803, &[3, 2, 2], 12);
    std::fs::write(dir.join("a-idx3-ubyte"), &img).unwrap();
    std::fs::write(dir.join("b-idx3-ubyte.gz"), gz(&img)).unwrap();
    let (p1, n, r, c) = load_idx_images(dir.join("a-idx3-ubyte")).unwrap();
    let (p2, ..) = load_idx_images(dir.join("b-idx3-ubyte.gz")).unwrap();
    assert_eq!((n, r, c), (3, 2, 2));
    assert_eq!(p1, p2);
    assert!((p1[11] - 11.0 / 255.0).abs() < 1e-15);
    std::fs::write(dir.join("l"), idx(0x801, &[4], 4)).unwrap();
    assert_eq!(load_idx_labels(dir.join("l")).unwrap(), [0, 1, 2, 3]);
}

#[test]
fn wrong_magic_names_the_file() {
    let dir = tmp_dir("magic");
    let p = dir.join("train-images-idx3-ubyte");
    std::fs::write(&p, idx(0x801, &[3, 2, 2], 12)).unwrap();
    file_error(
        load_idx_images(&p).unwrap_err(),
        &p,
        &["magic", "0x00000801", "0x00000803"],
    );
    // Gzipped labels where images are expected: the magic is checked after decompression.
    let q = dir.join("labels.gz");
    std::fs::write(&q, gz(&idx(0x801, &[3], 3))).unwrap();
    file_error(load_idx_images(&q).unwrap_err(), &q, &["magic"]);
}

#[test]
fn truncated_files_name_the_file() {
    let dir = tmp_dir("trunc");
    let p = dir.join("short-header");
    std::fs::write(&p, &idx(0x803, &[3, 2, 2], 0)[..10]).unwrap();
    file_error(
        load_idx_images(&p).unwrap_err(),
        &p,
        &["truncated", "header"],
    );
    let q = dir.join("short-body.gz");
    std::fs::write(&q, gz(&idx(0x803, &[3, 2, 2], 7))).unwrap();
    file_error(
        load_idx_images(&q).unwrap_err(),
        &q,
        &["truncated", "12", "7"],
    );
    // A gzip stream cut in the middle.
    let r = dir.join("cut.gz");
    let z = gz(&idx(0x803, &[30, 20, 20], 12000));
    std::fs::write(&r, &z[..z.len() / 2]).unwrap();
    file_error(load_idx_images(&r).unwrap_err(), &r, &["gzip"]);
}

#[test]
fn count_mismatch_names_the_labels_file() {
    let dir = tmp_dir("count");
    std::fs::write(
        dir.join("train-images-idx3-ubyte.gz"),
        gz(&idx(0x803, &[3, 2, 2], 12)),
    )
    .unwrap();
    std::fs::write(
        dir.join("train-labels-idx1-ubyte.gz"),
        gz(&idx(0x801, &[2], 2)),
    )
    .unwrap();
    let err = load_mnist(&dir).unwrap_err();
    file_error(
        err,
        &dir.join("train-labels-idx1-ubyte.gz"),
        &["count mismatch", "2 labels", "3 images"],
    );
}

#[test]
fn missing_mnist_names_what_was_looked_for() {
    let dir = tmp_dir("missing");
    let msg = load_mnist(&dir).unwrap_err().to_string();
    assert!(
        msg.contains("train-images-idx3-ubyte") && msg.contains("not found"),
        "{msg}"
    );
}

#[test]
fn bad_digits_rows_name_file_and_line() {
    let dir = tmp_dir("digits");
    let p = dir.join("digits.csv");
    let good = vec!["0"; 65].join(",");
    std::fs::write(&p, format!("{good}\n1,2,3\n")).unwrap();
    file_error(
        load_digits(&p).unwrap_err(),
        &p,
        &["line 2", "3 fields", "expected 65"],
    );
    let mut row = vec!["0"; 65];
    row[5] = "17";
    std::fs::write(&p, row.join(",")).unwrap();
    file_error(
        load_digits(&p).unwrap_err(),
        &p,
        &["line 1", "field 6", "0..=16"],
    );
}

#[test]
fn digits_with_crlf_quotes_and_blank_lines_load_as_plain_ones() {
    let dir = tmp_dir("digits-crlf");
    let row = |label: u8| {
        let mut r: Vec<String> = (0..64).map(|j| (j % 17).to_string()).collect();
        r.push(label.to_string());
        r
    };
    let plain = dir.join("plain.csv");
    std::fs::write(
        &plain,
        format!("{}\n{}\n", row(3).join(","), row(7).join(",")),
    )
    .unwrap();
    // The same records with CRLF line ends, a quoted field, a blank line and a trailing CRLF.
    let mut quoted = row(7);
    quoted[10] = format!("\"{}\"", quoted[10]);
    let crlf = dir.join("crlf.csv");
    std::fs::write(
        &crlf,
        format!("{}\r\n\r\n{}\r\n", row(3).join(","), quoted.join(",")),
    )
    .unwrap();
    let (a, b) = (load_digits(&plain).unwrap(), load_digits(&crlf).unwrap());
    assert_eq!(a.labels, [3, 7]);
    assert_eq!((a.labels, a.pixels), (b.labels, b.pixels));
    // An unterminated quote is an error naming the file, not a panic or a silent misread.
    std::fs::write(&crlf, format!("{}\r\n\"1,2\r\n", row(3).join(","))).unwrap();
    file_error(load_digits(&crlf).unwrap_err(), &crlf, &["line 2"]);
}

#[test]
fn tables_read_quoted_fields_crlf_and_name_bad_fields() {
    let dir = tmp_dir("table");
    let p = dir.join("t.csv");
    // A byte-order mark, CRLF line ends, a quoted comma and an escaped quote.
    std::fs::write(
        &p,
        "\u{feff}name,\"x\",n\r\n\"Smith, \"\"Babe\"\"\",1.5,3\r\nJones,-2,4\r\n",
    )
    .unwrap();
    let t = load_table(&p).unwrap();
    assert_eq!(t.columns(), ["name", "x", "n"]);
    assert_eq!(t.column_str("name").unwrap(), ["Smith, \"Babe\"", "Jones"]);
    assert_eq!(t.column_f64("x").unwrap(), [1.5, -2.0]);
    assert_eq!(t.column_usize("n").unwrap(), [3, 4]);
    file_error(
        t.column_f64("y").unwrap_err(),
        &p,
        &["no column `y`", "name, x, n"],
    );
    file_error(
        t.column_usize("x").unwrap_err(),
        &p,
        &["line 2", "column `x`", "`1.5`", "non-negative integer"],
    );
    // A short record names its line; a table with no header line is an error.
    std::fs::write(&p, "a,b\n1,2\n3\n").unwrap();
    file_error(
        load_table(&p).unwrap_err(),
        &p,
        &["line 3", "1 fields", "header has 2"],
    );
    std::fs::write(&p, "").unwrap();
    file_error(load_table(&p).unwrap_err(), &p, &["empty"]);
    std::fs::write(&p, "a,a\n1,2\n").unwrap();
    file_error(load_table(&p).unwrap_err(), &p, &["`a` appears twice"]);
}

#[test]
fn shipped_tables_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/tables");
    let schools = load_table(root.join("stevedata__eight_schools.csv")).unwrap();
    assert_eq!(schools.len(), 8);
    assert_eq!(schools.column_f64("est").unwrap()[0], 28.39);
    let radon = load_table(root.join("HLMdiag__radon.csv")).unwrap();
    assert_eq!(radon.len(), 919);
    let counties = radon.column_usize("county").unwrap();
    assert_eq!(counties.iter().max(), Some(&85));
    let baseball = load_table(root.join("pscl__EfronMorris.csv")).unwrap();
    assert_eq!(baseball.len(), 18);
}

#[test]
fn batches_are_seeded_and_cover_every_index() {
    let run = |seed| {
        let mut b = Batches::new(10, 4).unwrap().shuffle(seed);
        let e1: Vec<Vec<usize>> = b.epoch().map(<[usize]>::to_vec).collect();
        let e2: Vec<Vec<usize>> = b.epoch().map(<[usize]>::to_vec).collect();
        (e1, e2)
    };
    let (a1, a2) = run(3);
    assert_eq!(run(3), (a1.clone(), a2.clone()));
    assert_ne!(a1, a2, "each epoch is reshuffled");
    for e in [&a1, &a2] {
        assert_eq!(e.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
        let mut all = e.concat();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }
    let mut d = Batches::new(10, 4).unwrap().drop_last(true);
    assert_eq!(d.num_batches(), 2);
    assert_eq!(d.epoch().count(), 2);
}

#[test]
fn batches_of_bad_sizes_are_errors_naming_the_argument() {
    let e = Batches::new(10, 0).unwrap_err().to_string();
    assert!(e.contains("batch_size") && e.contains("Batches"), "{e}");
    let e = Batches::new(0, 4).unwrap_err().to_string();
    assert!(e.contains("`len`") && e.contains("no data"), "{e}");
    // More rows than memory holds indices for: an error, not an abort.
    let e = Batches::new(usize::MAX, 4).unwrap_err().to_string();
    assert!(e.contains("cannot allocate"), "{e}");
    // A batch larger than the data is one short batch, or none with drop_last.
    let mut b = Batches::new(3, 8).unwrap();
    assert_eq!(b.epoch().map(<[usize]>::len).collect::<Vec<_>>(), [3]);
    assert_eq!(b.drop_last(true).num_batches(), 0);
}
