//! Safetensors checkpoints: the bytes follow the format's specification, a file written by
//! Python's `safetensors` loads, an `Svi` resumed from an f64 file continues bit-identically, and
//! an f32 file holds the values rounded to f32.

use std::path::{Path, PathBuf};

use pyro::params::{Dtype, ParamStore};
use pyro::prelude::*;
use serde_json::Value;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pyro-safetensors-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[model]
fn normal_model(data: &[f64]) {
    let loc = sample!("loc", Normal::new(0.0, 10.0));
    plate!("data", data.len(), |_i| {
        sample!("x", Normal::new(loc, 1.0), obs = data.to_vec());
    });
}

#[guide(model = normal_model)]
fn normal_guide(_data: &[f64]) {
    let m = param!("m", 0.0);
    let s = param!("s", Tensor::from(vec![1.0]), constraint = positive);
    sample!("loc", Normal::new(m, s.sum()));
}

type Fit = Svi<normal_model, normal_guide, Adam, TraceElbo>;

fn fit(seed: u64, steps: usize) -> Fit {
    let mut svi = Svi::new(
        normal_model,
        normal_guide,
        Adam::new(AdamConfig {
            lr: 0.05,
            ..Default::default()
        }),
        TraceElbo::default(),
    )
    .seed(seed);
    for _ in 0..steps {
        svi.step(&[1.0, 2.5, 0.5]).unwrap();
    }
    svi
}

fn unconstrained(s: &ParamStore, name: &str) -> Vec<f64> {
    s.unconstrained(name).unwrap().to_vec().unwrap()
}

/// The header of a safetensors file, checked against the specification
/// (https://github.com/huggingface/safetensors#format): 8 bytes of little-endian header size
/// `N`, `N` bytes of UTF-8 JSON, then the data buffer; every tensor's `data_offsets` are relative
/// to the buffer, in bounds, of `numel * dtype size` bytes, together covering the buffer with no
/// gap or overlap; the data starts on an 8-byte boundary.
fn check_spec(bytes: &[u8]) -> (serde_json::Map<String, Value>, usize) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert!(8 + n <= bytes.len());
    assert_eq!((8 + n) % 8, 0, "the data buffer is 8-byte aligned");
    let text = std::str::from_utf8(&bytes[8..8 + n]).expect("the header is UTF-8");
    assert!(text.starts_with('{'), "the header is a JSON object");
    let header: serde_json::Map<String, Value> = serde_json::from_str(text.trim_end()).unwrap();
    let buffer = bytes.len() - 8 - n;
    let mut spans = Vec::new();
    for (name, info) in &header {
        if name == "__metadata__" {
            // String to string only.
            assert!(info.as_object().unwrap().values().all(Value::is_string));
            continue;
        }
        let dtype = info["dtype"].as_str().unwrap();
        let size = match dtype {
            "F64" => 8,
            "F32" => 4,
            other => panic!("unexpected dtype {other}"),
        };
        let shape: Vec<usize> = info["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let off = info["data_offsets"].as_array().unwrap();
        let (b, e) = (
            off[0].as_u64().unwrap() as usize,
            off[1].as_u64().unwrap() as usize,
        );
        assert!(
            b <= e && e <= buffer,
            "{name}: offsets {b}..{e} in a buffer of {buffer}"
        );
        assert_eq!(e - b, shape.iter().product::<usize>() * size, "{name}");
        spans.push((b, e));
    }
    spans.sort();
    let mut at = 0;
    for (b, e) in spans {
        assert_eq!(b, at, "no gap or overlap between tensors");
        at = e;
    }
    assert_eq!(at, buffer, "the tensors fill the buffer");
    (header, 8 + n)
}

/// The values of tensor `name` read straight from the bytes.
fn read_tensor(
    bytes: &[u8],
    header: &serde_json::Map<String, Value>,
    start: usize,
    name: &str,
) -> Vec<f64> {
    let info = &header[name];
    let off = info["data_offsets"].as_array().unwrap();
    let (b, e) = (
        off[0].as_u64().unwrap() as usize,
        off[1].as_u64().unwrap() as usize,
    );
    let data = &bytes[start + b..start + e];
    match info["dtype"].as_str().unwrap() {
        "F64" => data
            .chunks(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect(),
        _ => data
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
            .collect(),
    }
}

#[test]
fn a_checkpoint_follows_the_safetensors_specification() {
    let svi = fit(0, 30);
    for (dtype, tag) in [(Dtype::F64, "F64"), (Dtype::F32, "F32")] {
        let path = tmp(&format!("spec-{tag}.safetensors"));
        svi.save_safetensors(&path, dtype).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (header, start) = check_spec(&bytes);
        // Parameters and Adam's two buffers, each with the parameter's shape.
        for name in [
            "m",
            "s",
            "optimizer.a.m",
            "optimizer.b.m",
            "optimizer.a.s",
            "optimizer.b.s",
        ] {
            assert_eq!(header[name]["dtype"], tag, "{name}");
        }
        assert_eq!(header["m"]["shape"], serde_json::json!([]));
        assert_eq!(header["s"]["shape"], serde_json::json!([1]));
        assert_eq!(header["optimizer.b.s"]["shape"], serde_json::json!([1]));
        // The values are the unconstrained parameters (rounded to f32 for F32).
        for name in ["m", "s"] {
            let want: Vec<f64> = unconstrained(svi.params(), name)
                .iter()
                .map(|&v| if tag == "F32" { v as f32 as f64 } else { v })
                .collect();
            assert_eq!(read_tensor(&bytes, &header, start, name), want, "{name}");
        }
        let meta = header["__metadata__"].as_object().unwrap();
        assert_eq!(meta["format"], "pyro-rs-checkpoint");
        let params: Value = serde_json::from_str(meta["params"].as_str().unwrap()).unwrap();
        assert_eq!(params[1]["name"], "s");
        assert_eq!(params[1]["constraint"], "Positive");
        let opt: Value = serde_json::from_str(meta["optimizer"].as_str().unwrap()).unwrap();
        assert_eq!(opt["optimizer"], "Adam");
        assert_eq!(opt["step"], 30);
        assert!(meta["rng"].as_str().unwrap().contains("ChaCha12"));
    }
}

#[test]
fn a_file_written_by_python_safetensors_loads() {
    // tests/fixtures/make_safetensors_fixture.py wrote it with safetensors 0.8 (numpy).
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python_checkpoint.safetensors");
    let mut store = ParamStore::new();
    store.load(&path).unwrap();
    assert_eq!(store.names().collect::<Vec<_>>(), ["loc", "scale", "w"]);
    assert_eq!(unconstrained(&store, "loc"), [0.5, -1.25, 3.0]);
    let scale = store.get("scale").unwrap();
    assert_eq!(scale.shape(), [2, 1]);
    let v = scale.to_vec().unwrap();
    assert!(
        (v[0] - 2.0).abs() < 1e-15 && (v[1] - 0.5).abs() < 1e-15,
        "{v:?}"
    );
    assert_eq!(store.scalar("w").unwrap(), 0.25); // an f32 tensor, widened exactly
}

#[test]
fn an_svi_resumed_from_f64_safetensors_continues_bit_identically() {
    let mut straight = fit(7, 20);
    let first = fit(7, 20);
    let path = tmp("resume.safetensors");
    first.save_safetensors(&path, Dtype::F64).unwrap();
    let mut resumed = fit(99, 0);
    resumed.load(&path).unwrap();
    for _ in 0..15 {
        let (a, b) = (
            straight.step(&[1.0, 2.5, 0.5]).unwrap(),
            resumed.step(&[1.0, 2.5, 0.5]).unwrap(),
        );
        assert_eq!(a.to_bits(), b.to_bits());
    }
    for name in ["m", "s"] {
        assert_eq!(
            unconstrained(straight.params(), name),
            unconstrained(resumed.params(), name)
        );
    }
    // Saving the resumed state again (same step count) gives the same file as a save of the
    // straight run: the same header (as JSON: the metadata's key order is a hash map's) and the
    // same data bytes.
    let (p1, p2) = (tmp("again1.safetensors"), tmp("again2.safetensors"));
    straight.save_safetensors(&p1, Dtype::F64).unwrap();
    resumed.save_safetensors(&p2, Dtype::F64).unwrap();
    let (b1, b2) = (std::fs::read(p1).unwrap(), std::fs::read(p2).unwrap());
    let ((h1, s1), (h2, s2)) = (check_spec(&b1), check_spec(&b2));
    assert_eq!(h1, h2);
    assert_eq!(b1[s1..], b2[s2..]);
}

#[test]
fn an_f32_checkpoint_holds_the_values_rounded_to_f32_and_is_half_the_size() {
    let svi = fit(3, 10);
    let (p32, p64) = (tmp("r32.safetensors"), tmp("r64.safetensors"));
    svi.save_safetensors(&p32, Dtype::F32).unwrap();
    svi.save_safetensors(&p64, Dtype::F64).unwrap();
    let mut store = ParamStore::new();
    store.load(&p32).unwrap();
    for name in ["m", "s"] {
        let want: Vec<f64> = unconstrained(svi.params(), name)
            .iter()
            .map(|&v| v as f32 as f64)
            .collect();
        assert_eq!(unconstrained(&store, name), want);
    }
    // Data: 2 parameters and 4 buffers of one value each: 24 bytes in f32, 48 in f64.
    let len = |p: &Path| std::fs::metadata(p).unwrap().len();
    let (l32, l64) = (len(&p32), len(&p64));
    let header = |p: &Path| {
        let b = std::fs::read(p).unwrap();
        u64::from_le_bytes(b[..8].try_into().unwrap())
    };
    assert_eq!(l32 - 8 - header(&p32), 24);
    assert_eq!(l64 - 8 - header(&p64), 48);
}

/// `bytes` with every `from` replaced by `to` (of the same length).
fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
    assert_ne!(out, bytes, "nothing replaced");
    out
}

#[test]
fn non_finite_values_and_bad_files() {
    let mut store = ParamStore::new();
    let values = [f64::INFINITY, f64::NEG_INFINITY, -0.0, 5e-324];
    store
        .insert(
            "w",
            Tensor::from(values.to_vec()),
            pyro::constraints::real(),
        )
        .unwrap();
    let path = tmp("nonfinite.safetensors");
    store.save_safetensors(&path, Dtype::F64).unwrap();
    let mut back = ParamStore::new();
    back.load(&path).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&unconstrained(&back, "w")), bits(&values));

    // A safetensors file of another program, a truncated file, a missing tensor: errors that
    // name the file, and the store is untouched.
    let bytes = std::fs::read(&path).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated",
            bytes[..bytes.len() - 3].to_vec(),
            "not a valid safetensors",
        ),
        (
            "foreign",
            replace(&bytes, b"pyro-rs-checkpoint", b"other-program-file"),
            "format",
        ),
        (
            "missing",
            replace(&bytes, br#"\"name\":\"w\""#, br#"\"name\":\"v\""#),
            "no tensor",
        ),
    ];
    for (name, b, words) in cases {
        let p = tmp(&format!("{name}.safetensors"));
        std::fs::write(&p, b).unwrap();
        let e = back.load(&p).unwrap_err().to_string();
        assert!(
            e.contains(&p.display().to_string()) && e.contains(words),
            "{name}: {e}"
        );
        assert_eq!(back.names().collect::<Vec<_>>(), ["w"]);
    }
}
