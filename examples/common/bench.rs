//! What the benchmark examples measure with (`#[path = "common/bench.rs"] mod bench;`): medians,
//! the CPU time of the thread, and the correlation of two estimates.

// Each includer uses a different part of this file.
#![allow(dead_code)]

/// The median of `v` (the mean of the middle two for an even count; NaN when empty). Sorts `v`.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// CPU time of this thread in nanoseconds (Linux `/proc/thread-self/schedstat`), so that a figure
/// measured on a loaded machine can be read apart from the time spent waiting for a core.
pub fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// CPU microseconds of this thread since the reading `start` of [`cpu_ns`], if the clock could be
/// read both times.
pub fn cpu_us_since(start: Option<u64>) -> Option<f64> {
    Some((cpu_ns()? - start?) as f64 / 1e3)
}

/// Pearson correlation of `a` and `b`.
pub fn corr(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    sab / (saa * sbb).sqrt()
}
