//! Warm-up adaptation as in Stan (reference manual, "HMC algorithm parameters") and NumPyro
//! (`hmc_util.warmup_adapter`): the step size by dual averaging towards a target acceptance
//! probability, and the inverse mass matrix from Welford estimates of the posterior covariance
//! over windows that double in length.
//!
//! The schedule of `n` warm-up iterations: an initial fast buffer of 75 iterations (step size
//! only, while the chain finds the typical set), slow windows of 25, 50, 100, ... iterations
//! (the last one stretched to the terminal buffer) at the end of each of which the mass matrix is
//! re-estimated from that window's draws and the step size search restarts, and a terminal fast
//! buffer of 50 iterations (step size only, for the final mass matrix). Below 150 iterations the
//! buffers shrink to 15% and 10% of the warm-up; below 20 only the step size adapts.

use super::integrator::{leapfrog, EnergyFn, PhasePoint};
use super::mass_matrix::MassMatrix;
use crate::error::Result;
use crate::rng::Rng;

/// Nesterov's dual averaging of `log(step size)`, with the constants of Hoffman and Gelman
/// (2014): `t0 = 10`, `kappa = 0.75`, `gamma = 0.05`, shrinking towards `mu = log(10 eps_0)`.
#[derive(Clone, Debug)]
pub(crate) struct DualAveraging {
    mu: f64,
    t: f64,
    g_avg: f64,
    x: f64,
    x_avg: f64,
}

impl DualAveraging {
    const T0: f64 = 10.0;
    const KAPPA: f64 = 0.75;
    const GAMMA: f64 = 0.05;

    pub(crate) fn new(step_size: f64) -> DualAveraging {
        DualAveraging {
            mu: (10.0 * step_size).ln(),
            t: 0.0,
            g_avg: 0.0,
            x: step_size.ln(),
            x_avg: 0.0,
        }
    }

    /// One update with the statistic `target - accept_prob`; returns the next step size.
    pub(crate) fn update(&mut self, g: f64) -> f64 {
        self.t += 1.0;
        let eta = 1.0 / (self.t + Self::T0);
        self.g_avg = (1.0 - eta) * self.g_avg + eta * g;
        self.x = self.mu - self.t.sqrt() / Self::GAMMA * self.g_avg;
        let w = self.t.powf(-Self::KAPPA);
        self.x_avg = (1.0 - w) * self.x_avg + w * self.x;
        clamp_step(self.x.exp())
    }

    /// The averaged step size, used after warm-up.
    pub(crate) fn final_step_size(&self) -> f64 {
        clamp_step(self.x_avg.exp())
    }
}

fn clamp_step(eps: f64) -> f64 {
    if eps.is_nan() {
        return f64::MIN_POSITIVE;
    }
    eps.clamp(f64::MIN_POSITIVE, f64::MAX)
}

/// Welford's streaming estimate of the mean and (co)variance of the draws of a window.
#[derive(Clone, Debug)]
pub(crate) struct Welford {
    n: usize,
    mean: Vec<f64>,
    /// Sum of squared deviations: `d` entries (diagonal) or `d * d` (dense).
    m2: Vec<f64>,
    dense: bool,
    delta: Vec<f64>,
}

impl Welford {
    pub(crate) fn new(d: usize, dense: bool) -> Welford {
        Welford {
            n: 0,
            mean: vec![0.0; d],
            m2: vec![0.0; if dense { d * d } else { d }],
            dense,
            delta: vec![0.0; d],
        }
    }

    pub(crate) fn reset(&mut self) {
        self.n = 0;
        self.mean.fill(0.0);
        self.m2.fill(0.0);
    }

    pub(crate) fn update(&mut self, z: &[f64]) {
        self.n += 1;
        let n = self.n as f64;
        for ((m, d), &x) in self.mean.iter_mut().zip(self.delta.iter_mut()).zip(z) {
            *d = x - *m;
            *m += *d / n;
        }
        let dim = self.mean.len();
        if self.dense {
            // m2 += (x - mean_new) (x - mean_old)ᵀ
            for ((row, &x), &m) in self.m2.chunks_mut(dim).zip(z).zip(&self.mean) {
                let post = x - m;
                for (r, d) in row.iter_mut().zip(&self.delta) {
                    *r += post * d;
                }
            }
        } else {
            for (((r, &x), &m), d) in self.m2.iter_mut().zip(z).zip(&self.mean).zip(&self.delta) {
                *r += (x - m) * d;
            }
        }
    }

    /// The regularised covariance estimate as an inverse mass matrix (Stan's shrinkage towards
    /// `1e-3 I`: `n/(n+5) Σ + 1e-3 · 5/(n+5) I`); `None` with fewer than two draws, or if the
    /// dense estimate is not positive definite.
    pub(crate) fn mass_matrix(&self) -> Option<MassMatrix> {
        if self.n < 2 {
            return None;
        }
        let n = self.n as f64;
        let d = self.mean.len();
        let scale = n / (n + 5.0) / (n - 1.0);
        let shrink = 1e-3 * 5.0 / (n + 5.0);
        if self.dense {
            let mut cov: Vec<f64> = self.m2.iter().map(|v| v * scale).collect();
            // Symmetrise: the two triangles of the streaming sum differ by rounding.
            for i in 0..d {
                for j in 0..i {
                    let s = 0.5 * (cov[i * d + j] + cov[j * d + i]);
                    cov[i * d + j] = s;
                    cov[j * d + i] = s;
                }
                cov[i * d + i] += shrink;
            }
            MassMatrix::dense(cov, d)
        } else {
            let var: Vec<f64> = self.m2.iter().map(|v| v * scale + shrink).collect();
            var.iter()
                .all(|v| v.is_finite() && *v > 0.0)
                .then_some(MassMatrix::Diagonal(var))
        }
    }
}

/// The windows `[start, end]` (inclusive) of the warm-up schedule; the first and the last are
/// the fast buffers, those between are the slow windows.
pub(crate) fn adaptation_windows(num_warmup: usize) -> Vec<(usize, usize)> {
    if num_warmup == 0 {
        return Vec::new();
    }
    if num_warmup < 20 {
        return vec![(0, num_warmup - 1)];
    }
    let (mut init_buffer, mut term_buffer, mut base_window) = (75, 50, 25);
    if init_buffer + term_buffer + base_window > num_warmup {
        init_buffer = (0.15 * num_warmup as f64) as usize;
        term_buffer = (0.1 * num_warmup as f64) as usize;
        base_window = num_warmup - init_buffer - term_buffer;
    }
    let mut windows = vec![(0, init_buffer - 1)];
    let end_window_start = num_warmup - term_buffer;
    let mut next_size = base_window;
    let mut next_start = init_buffer;
    while next_start < end_window_start {
        let start = next_start;
        let mut size = next_size;
        // Double the next window if it still fits before the terminal buffer with room for
        // another of its size; otherwise stretch this one to the terminal buffer.
        if 3 * size <= end_window_start - start {
            next_size = 2 * size;
        } else {
            size = end_window_start - start;
        }
        next_start = start + size;
        windows.push((start, next_start - 1));
    }
    windows.push((end_window_start, num_warmup - 1));
    windows
}

/// Stan's heuristic for a first step size: double (or halve) it until the acceptance
/// probability of one leapfrog step from `point` with a fresh momentum crosses 0.8.
pub(crate) fn find_reasonable_step_size<E: EnergyFn + ?Sized>(
    point: &PhasePoint,
    step_size: f64,
    mass: &MassMatrix,
    energy: &mut E,
    rng: &mut Rng,
    scratch: &mut PhasePoint,
) -> Result<f64> {
    let target = 0.8f64.ln();
    let mut eps = step_size;
    let mut direction = 0;
    let mut v = vec![0.0; point.z.len()];
    for _ in 0..100 {
        scratch.assign(point);
        mass.sample_momentum(rng, &mut scratch.p);
        let h0 = scratch.hamiltonian(mass);
        leapfrog(scratch, eps, mass, energy, &mut v)?;
        let mut h = scratch.hamiltonian(mass);
        if h.is_nan() {
            h = f64::INFINITY;
        }
        let dir = if h0 - h > target { 1 } else { -1 };
        if direction == 0 {
            direction = dir;
        } else if dir != direction {
            break;
        }
        eps = if direction == 1 { eps * 2.0 } else { eps * 0.5 };
        if !(1e-10..=1e7).contains(&eps) {
            break;
        }
    }
    Ok(eps.clamp(1e-10, 1e7))
}

/// What warm-up asks of the sampler after an iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AdaptEvent {
    /// Nothing.
    None,
    /// The mass matrix changed at the end of a slow window: search a step size again and call
    /// [`WarmupAdapter::restart`].
    NewMetric,
}

/// Step size and mass matrix adaptation over the warm-up iterations.
#[derive(Clone, Debug)]
pub(crate) struct WarmupAdapter {
    num_warmup: usize,
    windows: Vec<(usize, usize)>,
    window: usize,
    target_accept: f64,
    adapt_step_size: bool,
    adapt_mass: bool,
    dual: DualAveraging,
    welford: Welford,
    pub(crate) step_size: f64,
    pub(crate) mass: MassMatrix,
}

impl WarmupAdapter {
    pub(crate) fn new(
        num_warmup: usize,
        step_size: f64,
        mass: MassMatrix,
        target_accept: f64,
        adapt_step_size: bool,
        adapt_mass: bool,
        dense: bool,
    ) -> WarmupAdapter {
        let d = mass.dim();
        WarmupAdapter {
            num_warmup,
            windows: adaptation_windows(num_warmup),
            window: 0,
            target_accept,
            adapt_step_size,
            adapt_mass,
            dual: DualAveraging::new(step_size),
            welford: Welford::new(d, dense),
            step_size,
            mass,
        }
    }

    /// Starts a new dual-averaging run from `step_size` (after a new metric, or at the start).
    pub(crate) fn restart(&mut self, step_size: f64) {
        self.step_size = step_size;
        self.dual = DualAveraging::new(step_size);
    }

    /// Takes iteration `t` (0-based) of warm-up, with its mean acceptance probability and the
    /// point it ended at.
    pub(crate) fn update(&mut self, t: usize, accept_prob: f64, z: &[f64]) -> AdaptEvent {
        if self.adapt_step_size {
            let a = if accept_prob.is_nan() {
                0.0
            } else {
                accept_prob.min(1.0)
            };
            self.step_size = self.dual.update(self.target_accept - a);
            if t + 1 == self.num_warmup {
                self.step_size = self.dual.final_step_size();
            }
        }
        let Some(&(_, end)) = self.windows.get(self.window) else {
            return AdaptEvent::None;
        };
        let middle = self.window > 0 && self.window + 1 < self.windows.len();
        if middle && self.adapt_mass {
            self.welford.update(z);
        }
        if t != end {
            return AdaptEvent::None;
        }
        self.window += 1;
        if middle && self.adapt_mass {
            if let Some(m) = self.welford.mass_matrix() {
                self.mass = m;
            }
            self.welford.reset();
            return AdaptEvent::NewMetric;
        }
        AdaptEvent::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_stan() {
        // 1000 iterations: 75 | 25 50 100 200 500 | 50 (the last slow window stretched).
        let w = adaptation_windows(1000);
        assert_eq!(
            w,
            vec![
                (0, 74),
                (75, 99),
                (100, 149),
                (150, 249),
                (250, 449),
                (450, 949),
                (950, 999)
            ]
        );
        // 100 iterations: buffers of 15 and 10, one slow window of 75.
        assert_eq!(adaptation_windows(100), vec![(0, 14), (15, 89), (90, 99)]);
        assert_eq!(adaptation_windows(10), vec![(0, 9)]);
        assert!(adaptation_windows(0).is_empty());
        for n in [20, 21, 149, 150, 151, 500, 2000, 5000] {
            let w = adaptation_windows(n);
            assert_eq!(w[0].0, 0);
            assert_eq!(w.last().unwrap().1, n - 1);
            for p in w.windows(2) {
                assert_eq!(p[0].1 + 1, p[1].0, "windows of {n} are contiguous");
            }
        }
    }

    #[test]
    fn welford_matches_two_pass_estimates() {
        let xs = [[1.0, 2.0], [2.0, 1.5], [4.0, 3.0], [0.5, -1.0], [3.0, 2.2]];
        let mut wd = Welford::new(2, false);
        let mut wf = Welford::new(2, true);
        for x in &xs {
            wd.update(x);
            wf.update(x);
        }
        let n = xs.len() as f64;
        let mean = [
            xs.iter().map(|x| x[0]).sum::<f64>() / n,
            xs.iter().map(|x| x[1]).sum::<f64>() / n,
        ];
        let cov = |i: usize, j: usize| {
            xs.iter()
                .map(|x| (x[i] - mean[i]) * (x[j] - mean[j]))
                .sum::<f64>()
                / (n - 1.0)
        };
        let reg = |c: f64, diag: bool| {
            n / (n + 5.0) * c + if diag { 1e-3 * 5.0 / (n + 5.0) } else { 0.0 }
        };
        let MassMatrix::Diagonal(v) = wd.mass_matrix().unwrap() else {
            panic!("diagonal expected")
        };
        assert!((v[0] - reg(cov(0, 0), true)).abs() < 1e-12);
        assert!((v[1] - reg(cov(1, 1), true)).abs() < 1e-12);
        let MassMatrix::Dense { inverse, .. } = wf.mass_matrix().unwrap() else {
            panic!("dense expected")
        };
        for i in 0..2 {
            for j in 0..2 {
                assert!((inverse[i * 2 + j] - reg(cov(i, j), i == j)).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn dual_averaging_converges_to_the_target() {
        // A toy acceptance curve a(eps) = exp(-eps): the target 0.8 is met at eps = -ln 0.8.
        let mut da = DualAveraging::new(1.0);
        let mut eps: f64 = 1.0;
        for _ in 0..2000 {
            eps = da.update(0.8 - (-eps).exp());
        }
        let want = -(0.8f64.ln());
        // Deterministic: the averaged iterate is 1.3% off after 2000 updates (its early iterates
        // still weigh t^-0.75) and closing in.
        assert!((da.final_step_size() - want).abs() < 0.02 * want);
        assert!((eps - want).abs() < 0.05 * want);
    }
}
