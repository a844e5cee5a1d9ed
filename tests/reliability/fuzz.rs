//! A bounded, seeded fuzz of the loaders that read files a user did not write: the IDX loader,
//! the digits CSV loader and the checkpoint loader. Valid files are mutated (bytes flipped,
//! inserted and deleted, truncated, headers and numbers replaced by crafted ones); every case must
//! end in a typed error or a valid, consistent result, never a panic. Seeded, so a failure names
//! a case that reproduces.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use pyro::data::{load_digits, load_idx_images, load_idx_labels};
use pyro::params::ParamStore;
use pyro::prelude::*;

use super::data::{gzip, idx_header, tmp_dir};
use super::svi::{NormalGuide, NormalModel};

/// SplitMix64: a tiny generator of our own, so the cases do not move with the library's RNG.
struct Cases(u64);

impl Cases {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Values that break arithmetic: zero, one, powers of two near the limits, the maxima.
const CRAFTED_U32: [u32; 10] = [
    0,
    1,
    2,
    255,
    65536,
    1 << 24,
    1 << 31,
    u32::MAX - 1,
    u32::MAX,
    60000,
];

/// One mutation of `bytes`.
fn mutate(c: &mut Cases, bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    let rounds = 1 + c.below(4);
    for _ in 0..rounds {
        match c.below(6) {
            0 if !v.is_empty() => {
                let i = c.below(v.len());
                v[i] ^= 1 << c.below(8);
            }
            1 if !v.is_empty() => {
                let i = c.below(v.len());
                v[i] = c.next() as u8;
            }
            2 => {
                let at = c.below(v.len() + 1);
                v.truncate(at);
            }
            3 => {
                let at = c.below(v.len() + 1);
                let b = c.next() as u8;
                v.insert(at, b);
            }
            4 if !v.is_empty() => {
                let at = c.below(v.len());
                v.remove(at);
            }
            _ => {
                // A crafted big-endian u32 at a header position.
                let at = 4 * c.below(4);
                if v.len() >= at + 4 {
                    v[at..at + 4].copy_from_slice(&c.pick(&CRAFTED_U32).to_be_bytes());
                }
            }
        }
    }
    v
}

/// Runs `f`, turning a panic into a failure that names the case.
fn no_panic<R>(what: &str, case: usize, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => panic!("{what}: case {case} panicked (rerun the test to reproduce it)"),
    }
}

fn valid_idx_images() -> Vec<u8> {
    let mut v = idx_header(0x803, &[3, 4, 2]);
    v.extend((0..24).map(|i| (i * 10) as u8));
    v
}

fn valid_idx_labels() -> Vec<u8> {
    let mut v = idx_header(0x801, &[5]);
    v.extend_from_slice(&[0, 9, 3, 3, 1]);
    v
}

fn check_images(r: pyro::Result<(Vec<f64>, usize, usize, usize)>) {
    if let Ok((px, n, rows, cols)) = r {
        assert_eq!(px.len(), n * rows * cols);
        assert!(px.iter().all(|p| (0.0..=1.0).contains(p)));
    }
}

#[test]
fn idx_loader_survives_mutations() {
    let dir = tmp_dir("fuzz-idx");
    let mut c = Cases(1);
    let (images, labels) = (valid_idx_images(), valid_idx_labels());
    let mut oks = 0;
    for case in 0..1200 {
        let gz = case % 3 == 0;
        let base = if case % 2 == 0 { &images } else { &labels };
        let mut bytes = mutate(&mut c, base);
        if gz {
            // Mutate the compressed stream half of the time, the content the other half.
            bytes = if c.below(2) == 0 {
                mutate(&mut c, &gzip(base))
            } else {
                gzip(&bytes)
            };
        }
        let p = dir.join(if gz { "f.gz" } else { "f" });
        std::fs::write(&p, &bytes).unwrap();
        no_panic("IDX images", case, || check_images(load_idx_images(&p)));
        let labels = no_panic("IDX labels", case, || load_idx_labels(&p));
        if let Ok(l) = &labels {
            assert!(l.iter().all(|&x| x <= 9));
        }
        oks += usize::from(labels.is_ok());
    }
    // The mutations are not all fatal: some files stay valid (sanity of the fuzzer itself).
    assert!(oks > 0);
}

#[test]
fn idx_loader_survives_crafted_headers() {
    let dir = tmp_dir("fuzz-idx-headers");
    let p = dir.join("crafted");
    let mut c = Cases(2);
    for case in 0..600 {
        let magic = *c.pick(&[0x803u32, 0x801, 0x802, 0, u32::MAX]);
        let dims: Vec<u32> = (0..3).map(|_| *c.pick(&CRAFTED_U32)).collect();
        let mut bytes = idx_header(magic, &dims);
        let body = c.below(64);
        bytes.extend((0..body).map(|i| i as u8));
        std::fs::write(&p, &bytes).unwrap();
        no_panic("IDX crafted header", case, || {
            check_images(load_idx_images(&p))
        });
        no_panic("IDX crafted header", case, || {
            load_idx_labels(&p).map(|_| ()).ok()
        });
    }
}

#[test]
fn digits_loader_survives_mutations() {
    let dir = tmp_dir("fuzz-digits");
    let mut c = Cases(3);
    let row = |label: u8| {
        let mut f: Vec<String> = (0..64).map(|i| (i % 17).to_string()).collect();
        f.push(label.to_string());
        f.join(",")
    };
    let valid = format!("{}\n{}\n\n{}\n", row(0), row(7), row(9)).into_bytes();
    let tokens: [&[u8]; 8] = [
        b"1e400",
        b"-1",
        b"NaN",
        b"inf",
        b"16.5",
        b",",
        b"\n",
        b"\xff\xfe",
    ];
    for case in 0..1000 {
        let mut bytes = mutate(&mut c, &valid);
        if c.below(2) == 0 {
            let at = c.below(bytes.len() + 1);
            let t = c.pick(&tokens);
            bytes.splice(at..at, t.iter().copied());
        }
        if case % 4 == 0 {
            bytes = gzip(&bytes);
        }
        let p = dir.join(if case % 4 == 0 { "d.csv.gz" } else { "d.csv" });
        std::fs::write(&p, &bytes).unwrap();
        let r = no_panic("digits", case, || load_digits(&p));
        if let Ok(d) = r {
            assert_eq!(d.pixels.len(), d.len() * 64);
            assert!(d.labels.iter().all(|&l| l <= 9));
            assert!(d.pixels.iter().all(|p| (0.0..=1.0).contains(p)));
        }
    }
}

/// A valid checkpoint with parameters, Adam state and the generator state.
fn valid_checkpoint(path: &Path) -> Vec<u8> {
    let mut svi = Svi::new(
        NormalModel,
        NormalGuide,
        Adam::new(AdamConfig::default()),
        TraceElbo::default(),
    );
    for _ in 0..3 {
        svi.step(&[1.0, 2.0]).unwrap();
    }
    svi.params_mut()
        .insert(
            "m",
            Tensor::new(vec![1.0, 0.0, 0.5, 2.0], &[2, 2]).unwrap(),
            constraints::real(),
        )
        .unwrap();
    svi.save(path).unwrap();
    std::fs::read(path).unwrap()
}

/// Replaces one JSON number or string in `text` by a crafted token.
fn mutate_json(c: &mut Cases, text: &str) -> String {
    let tokens = [
        "18446744073709551615",
        "281474976710656",
        "-1",
        "1e999",
        "\"inf\"",
        "\"nan\"",
        "null",
        "[]",
        "{}",
        "\"\"",
        "[65536,3,281474976710656]",
        "0",
        "1.5",
        "\"LowerCholesky\"",
        "\"Simplex\"",
    ];
    // Positions where a value starts: after ':' or '[' or ','.
    let starts: Vec<usize> = text
        .char_indices()
        .filter(|&(_, ch)| ch == ':' || ch == '[' || ch == ',')
        .map(|(i, _)| i + 1)
        .collect();
    let at = *c.pick(&starts);
    let end = text[at..]
        .find([',', ']', '}'])
        .map_or(text.len(), |k| at + k);
    format!("{}{}{}", &text[..at], c.pick(&tokens), &text[end..])
}

#[test]
fn checkpoint_loader_survives_mutations() {
    let dir = tmp_dir("fuzz-ck");
    let p = dir.join("ck.json");
    let valid = valid_checkpoint(&p);
    let text = String::from_utf8(valid.clone()).unwrap();
    let mut c = Cases(4);
    let mut loaded = 0;
    for case in 0..1500 {
        let bytes = match case % 3 {
            0 => mutate(&mut c, &valid),
            1 => mutate_json(&mut c, &text).into_bytes(),
            _ => {
                let once = mutate_json(&mut c, &text);
                mutate_json(&mut c, &once).into_bytes()
            }
        };
        std::fs::write(&p, &bytes).unwrap();
        no_panic("checkpoint", case, || {
            let mut store = ParamStore::new();
            if store.load(&p).is_ok() {
                loaded += 1;
                // Whatever loaded can be used: read every parameter and compute with it.
                for name in store.names().map(str::to_string).collect::<Vec<_>>() {
                    if let Ok(t) = store.get(&name) {
                        let _ = t.sum().item();
                        let _ = t.matmul(&t).check();
                    }
                }
            }
            let mut svi = Svi::new(
                NormalModel,
                NormalGuide,
                Adam::new(AdamConfig::default()),
                TraceElbo::default(),
            );
            if svi.load(&p).is_ok() {
                let _ = svi.step(&[1.0, 2.0]);
            }
        });
    }
    assert!(loaded > 0);
}
