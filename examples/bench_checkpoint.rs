//! Checkpoint sizes and save/load times of the tutorial's MNIST VAE (784 -> 400 -> 50, 689k
//! parameters) after one Adam step, as JSON and as safetensors (f32 and f64), with and without
//! the optimiser's state. One JSON line.
//!
//! `bytes_*` are file sizes; `save_ms_*` / `load_ms_*` are medians over `--runs` (default 3).
//! Saving includes the read-back check that every checkpoint save does.
//!
//! Run: `cargo run --release --example bench_checkpoint [-- --runs 3]`

use std::path::Path;
use std::time::Instant;

#[path = "common/cli.rs"]
mod cli;
#[path = "common/vae_model.rs"]
mod vae_model;
use pyro::params::Dtype;
use pyro::prelude::*;
use vae_model::{guide, model, Vae, VaeConfig};

const USAGE: &str = "usage: bench_checkpoint [--runs N]";

fn parse_args() -> usize {
    use lexopt::prelude::*;
    let mut runs = 3;
    cli::parse("bench_checkpoint", USAGE, |arg, parser| {
        match arg {
            Long("runs") => runs = parser.value()?.parse()?,
            _ => return Ok(false),
        }
        Ok(true)
    });
    runs.max(1)
}

/// Median of `runs` timings of `f`, in milliseconds.
fn median_ms(runs: usize, mut f: impl FnMut() -> pyro::Result<()>) -> pyro::Result<f64> {
    let mut t = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        t.push(start.elapsed().as_secs_f64() * 1e3);
    }
    t.sort_by(f64::total_cmp);
    Ok(t[t.len() / 2])
}

fn size(p: &Path) -> pyro::Result<u64> {
    std::fs::metadata(p)
        .map(|m| m.len())
        .map_err(|e| pyro::Error::file(p, e.to_string()))
}

fn main() -> pyro::Result<()> {
    let runs = parse_args();
    let vae = Vae::new(VaeConfig {
        x_dim: 784,
        hidden: 400,
        z_dim: 50,
    });
    let mut svi = Svi::new(
        model,
        guide,
        Adam::new(AdamConfig::default()),
        TraceElbo::default(),
    )
    .seed(0);
    let x = Tensor::new((0..784 * 8).map(|i| (i % 2) as f64).collect(), &[8, 784])?;
    svi.step((&vae, &x))?;
    let n: usize = svi
        .params()
        .entries()
        .iter()
        .map(|e| e.unconstrained().numel())
        .sum();

    let dir = std::env::temp_dir().join(format!("pyro-bench-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| pyro::Error::file(&dir, e.to_string()))?;
    let mut fields = vec![
        r#""bench":"checkpoint""#.to_string(),
        r#""model":"vae-784-400-50""#.to_string(),
        format!(r#""params":{n}"#),
    ];
    // (tag, file name, save)
    type Save<'a> = Box<dyn Fn(&Path) -> pyro::Result<()> + 'a>;
    let formats: Vec<(&str, &str, Save)> = vec![
        ("json", "svi.json", Box::new(|p| svi.save(p))),
        (
            "st_f32",
            "svi32.safetensors",
            Box::new(|p| svi.save_safetensors(p, Dtype::F32)),
        ),
        (
            "st_f64",
            "svi64.safetensors",
            Box::new(|p| svi.save_safetensors(p, Dtype::F64)),
        ),
        (
            "params_json",
            "params.json",
            Box::new(|p| svi.params().save(p)),
        ),
        (
            "params_st_f32",
            "params32.safetensors",
            Box::new(|p| svi.params().save_safetensors(p, Dtype::F32)),
        ),
    ];
    for (tag, file, save) in &formats {
        let path = dir.join(file);
        let save_ms = median_ms(runs, || save(&path))?;
        let mut store = pyro::params::ParamStore::new();
        let load_ms = median_ms(runs, || store.load(&path))?;
        fields.push(format!(r#""bytes_{tag}":{}"#, size(&path)?));
        fields.push(format!(r#""save_ms_{tag}":{save_ms:.1}"#));
        fields.push(format!(r#""load_ms_{tag}":{load_ms:.1}"#));
    }
    println!("{{{}}}", fields.join(","));
    // Best effort: the files are in a private temporary directory.
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
