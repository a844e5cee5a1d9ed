//! Posterior summary tables from samples (e.g. of [`Predictive`](super::Predictive)).

use super::Samples;
use crate::error::{Error, Result};

/// Summary statistics of one scalar component of a site.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// `site` for a scalar site, `site[i]` (row-major flat index) otherwise.
    pub name: String,
    /// Sample mean.
    pub mean: f64,
    /// Sample standard deviation (`n - 1` denominator).
    pub std: f64,
    /// 5% quantile (linear interpolation between order statistics).
    pub q05: f64,
    /// Median.
    pub median: f64,
    /// 95% quantile.
    pub q95: f64,
}

/// The `p` quantile of sorted values, interpolating linearly (numpy's default).
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Rows for draws of one site stacked along the first dimension (`[n, ...]`).
pub fn summarize(name: &str, draws: &crate::tensor::Tensor) -> Result<Vec<SummaryRow>> {
    let n = *draws.shape().first().ok_or_else(|| {
        Error::Invalid(format!(
            "site `{name}`: samples need a leading sample dimension"
        ))
    })?;
    let v = draws.to_vec()?;
    let k = v.len().checked_div(n).unwrap_or(0);
    let scalar = draws.ndim() == 1;
    Ok((0..k)
        .map(|j| {
            let mut col: Vec<f64> = (0..n).map(|i| v[i * k + j]).collect();
            let mean = col.iter().sum::<f64>() / n as f64;
            let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
            col.sort_by(|a, b| a.total_cmp(b));
            SummaryRow {
                name: if scalar {
                    name.to_string()
                } else {
                    format!("{name}[{j}]")
                },
                mean,
                std: var.sqrt(),
                q05: quantile_sorted(&col, 0.05),
                median: quantile_sorted(&col, 0.5),
                q95: quantile_sorted(&col, 0.95),
            }
        })
        .collect())
}

/// Rows for the named sites of `samples` (all sample sites when `sites` is empty).
pub fn summary<R>(samples: &Samples<R>, sites: &[&str]) -> Result<Vec<SummaryRow>> {
    let names: Vec<&str> = if sites.is_empty() {
        samples.names().collect()
    } else {
        sites.to_vec()
    };
    let mut rows = Vec::new();
    for s in names {
        rows.extend(summarize(s, samples.get(s)?)?);
    }
    Ok(rows)
}

/// A plain-text table of `rows`: site, mean, std, median, 5%, 95%.
pub fn format_table(rows: &[SummaryRow]) -> String {
    let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    let mut out = format!(
        "{:<w$} {:>10} {:>10} {:>10} {:>10} {:>10}\n",
        "site", "mean", "std", "median", "5%", "95%"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<w$} {:>10.4} {:>10.4} {:>10.4} {:>10.4} {:>10.4}\n",
            r.name, r.mean, r.std, r.median, r.q05, r.q95
        ));
    }
    out
}
