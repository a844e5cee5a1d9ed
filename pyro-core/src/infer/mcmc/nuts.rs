//! The No-U-Turn Sampler (Hoffman and Gelman, 2014) as Stan runs it (Betancourt, 2017,
//! appendix A): the trajectory doubles, forwards or backwards in time at random, until it makes a
//! U-turn by the generalised criterion; the draw is chosen among all its points with
//! probabilities proportional to `exp(-H)` (multinomial sampling), biased towards the newest
//! subtree at each doubling (progressive sampling), which is what keeps the chain moving far.
//!
//! U-turn criterion: with `ρ` the sum of the momenta of a (sub)tree and `p♯ = M⁻¹ p` the velocity
//! at either end, the tree keeps growing while `p♯⁻ · ρ > 0` and `p♯⁺ · ρ > 0`. As in Stan since
//! 2.21, it is checked on every subtree, on the subtree together with the first point of its
//! sibling (both ways) and on the whole tree, which catches U-turns that fall between two
//! subtrees. A trajectory whose energy error exceeds `max_delta_energy` is divergent and stops.
//!
//! The tree is built recursively, depth first, with one leapfrog step per leaf and memory
//! `O(depth)`: each recursion level owns its scratch vectors ([`NutsWorkspace`]), so a transition
//! allocates nothing.

use rand::Rng as _;

use super::integrator::{leapfrog, metropolis_prob, EnergyFn, PhasePoint};
use super::kernel::{DrawStats, HmcSettings, Kernel, Trajectory, Workspace};
use super::mass_matrix::{dot, MassMatrix};
use crate::error::Result;
use crate::infer::{InitLoc, Model};
use crate::rng::Rng;

/// The No-U-Turn Sampler over a model, with Stan's defaults: multinomial sampling, the
/// generalised U-turn criterion, maximum tree depth 10, divergence at an energy error above 1000;
/// warm-up adapts the step size (target acceptance 0.8) and a diagonal mass matrix.
///
/// ```
/// use pyro_core::prelude::*;
/// use pyro_core::infer::mcmc::{Mcmc, Nuts};
///
/// struct Gauss;
/// impl Model for Gauss {
///     type Args<'a> = f64;
///     type Output = ();
///     const NAME: &'static str = "gauss";
///     fn call<'a>(&self, ctx: &mut Context, y: f64) {
///         let mu = ctx.sample("mu", Normal::new(0.0, 1.0), None);
///         ctx.sample("y", Normal::new(mu, 1.0), Some(y.into()));
///     }
/// }
/// // Posterior of mu: Normal(y / 2, 1 / sqrt 2).
/// let samples = Mcmc::new(Nuts::new(Gauss)).warmup(300).samples(500).chains(2).seed(0)
///     .progress(false).run(2.0).unwrap();
/// let mu = samples.get("mu").unwrap().mean().item().unwrap();
/// assert!((mu - 1.0).abs() < 0.15);
/// ```
#[derive(Clone, Debug)]
pub struct Nuts<M> {
    pub(crate) model: M,
    pub(crate) settings: HmcSettings,
    pub(crate) max_tree_depth: usize,
}

impl<M: Model> Nuts<M> {
    /// NUTS over `model` with the default settings.
    pub fn new(model: M) -> Self {
        Nuts {
            model,
            settings: HmcSettings::default(),
            max_tree_depth: 10,
        }
    }

    /// The maximum tree depth (default 10: at most 1023 leapfrog steps per draw).
    pub fn max_tree_depth(mut self, depth: usize) -> Self {
        self.max_tree_depth = depth.clamp(1, 30);
        self
    }
}

/// The builder methods of the settings that both kernels share.
macro_rules! hmc_settings_builder {
    ($kernel:ident) => {
        impl<M: Model> $kernel<M> {
            /// The initial step size (default 1; warm-up searches a reasonable one from it).
            pub fn step_size(mut self, step_size: f64) -> Self {
                self.settings.step_size = step_size;
                self
            }

            /// Whether warm-up adapts the step size by dual averaging (default true).
            pub fn adapt_step_size(mut self, adapt: bool) -> Self {
                self.settings.adapt_step_size = adapt;
                self
            }

            /// Whether warm-up adapts the mass matrix (default true).
            pub fn adapt_mass_matrix(mut self, adapt: bool) -> Self {
                self.settings.adapt_mass_matrix = adapt;
                self
            }

            /// A dense mass matrix (the full posterior covariance) instead of a diagonal one.
            pub fn dense_mass(mut self, dense: bool) -> Self {
                self.settings.dense_mass = dense;
                self
            }

            /// The acceptance probability that step size adaptation aims at (default 0.8;
            /// higher gives smaller steps, fewer divergences, longer trajectories).
            pub fn target_accept_prob(mut self, p: f64) -> Self {
                self.settings.target_accept_prob = p;
                self
            }

            /// How each chain's initial point is chosen (default [`InitLoc::Median`]).
            pub fn init_strategy(mut self, init: InitLoc) -> Self {
                self.settings.init = init;
                self
            }

            /// The energy error above which a trajectory counts as divergent (default 1000).
            pub fn max_delta_energy(mut self, max: f64) -> Self {
                self.settings.max_delta_energy = max;
                self
            }

            /// How many plate dimensions the model nests, for enumerated sites (default: found
            /// from the model's first run).
            pub fn max_plate_nesting(mut self, n: usize) -> Self {
                self.settings.max_plate_nesting = Some(n);
                self
            }
        }
    };
}
pub(crate) use hmc_settings_builder;

hmc_settings_builder!(Nuts);

impl<M: Model> Kernel for Nuts<M> {
    type Model = M;
    fn model(&self) -> &M {
        &self.model
    }
    fn settings(&self) -> &HmcSettings {
        &self.settings
    }
    fn name(&self) -> &'static str {
        "NUTS"
    }
    fn trajectory(&self) -> Trajectory {
        Trajectory::Nuts {
            max_tree_depth: self.max_tree_depth,
        }
    }
}

/// The scratch vectors of one recursion level of [`build_tree`].
struct Level {
    p_init_end: Vec<f64>,
    p_sharp_init_end: Vec<f64>,
    rho_init: Vec<f64>,
    p_final_beg: Vec<f64>,
    p_sharp_final_beg: Vec<f64>,
    rho_final: Vec<f64>,
    z_propose_final: PhasePoint,
}

impl Level {
    fn new(d: usize) -> Level {
        Level {
            p_init_end: vec![0.0; d],
            p_sharp_init_end: vec![0.0; d],
            rho_init: vec![0.0; d],
            p_final_beg: vec![0.0; d],
            p_sharp_final_beg: vec![0.0; d],
            rho_final: vec![0.0; d],
            z_propose_final: PhasePoint::zeros(d),
        }
    }
}

/// Everything a NUTS transition needs besides the state: both ends of the trajectory, the
/// momenta and velocities next to each end, and one [`Level`] per tree depth.
pub(crate) struct NutsWorkspace {
    z_fwd: PhasePoint,
    z_bck: PhasePoint,
    z_sample: PhasePoint,
    z_propose: PhasePoint,
    p_sharp_fwd_fwd: Vec<f64>,
    p_sharp_fwd_bck: Vec<f64>,
    p_sharp_bck_fwd: Vec<f64>,
    p_sharp_bck_bck: Vec<f64>,
    p_fwd_fwd: Vec<f64>,
    p_fwd_bck: Vec<f64>,
    p_bck_fwd: Vec<f64>,
    p_bck_bck: Vec<f64>,
    rho: Vec<f64>,
    rho_fwd: Vec<f64>,
    rho_bck: Vec<f64>,
    rho_extended: Vec<f64>,
    levels: Vec<Level>,
}

impl NutsWorkspace {
    pub(crate) fn new(d: usize, max_depth: usize) -> NutsWorkspace {
        let v = || vec![0.0; d];
        NutsWorkspace {
            z_fwd: PhasePoint::zeros(d),
            z_bck: PhasePoint::zeros(d),
            z_sample: PhasePoint::zeros(d),
            z_propose: PhasePoint::zeros(d),
            p_sharp_fwd_fwd: v(),
            p_sharp_fwd_bck: v(),
            p_sharp_bck_fwd: v(),
            p_sharp_bck_bck: v(),
            p_fwd_fwd: v(),
            p_fwd_bck: v(),
            p_bck_fwd: v(),
            p_bck_bck: v(),
            rho: v(),
            rho_fwd: v(),
            rho_bck: v(),
            rho_extended: v(),
            levels: (0..max_depth).map(|_| Level::new(d)).collect(),
        }
    }
}

/// What the leaves of a trajectory share: the integrator's inputs and running totals.
struct Tree<'e, E: ?Sized> {
    step_size: f64,
    mass: &'e MassMatrix,
    energy: &'e mut E,
    rng: &'e mut Rng,
    h0: f64,
    max_delta_energy: f64,
    n_leapfrog: u32,
    sum_metro_prob: f64,
    divergent: bool,
    v: &'e mut [f64],
}

fn log_sum_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// The generalised no-U-turn criterion: the trajectory has not turned back on itself.
fn no_u_turn(p_sharp_minus: &[f64], p_sharp_plus: &[f64], rho: &[f64]) -> bool {
    dot(p_sharp_plus, rho) > 0.0 && dot(p_sharp_minus, rho) > 0.0
}

fn add_into(out: &mut [f64], a: &[f64], b: &[f64]) {
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x + y;
    }
}

/// Builds a subtree of `2^depth` leaves from `z` in direction `sign`, Stan's `build_tree`. `z`
/// ends at the far end; `z_propose` receives the subtree's multinomial draw; the momenta and
/// velocities at both ends and the momentum sum are written to the `*_beg`, `*_end` and `rho`
/// arguments (`rho` is added to). Returns whether the subtree is valid (no divergence, no
/// U-turn).
#[allow(clippy::too_many_arguments)]
fn build_tree<E: EnergyFn + ?Sized>(
    t: &mut Tree<'_, E>,
    depth: usize,
    z: &mut PhasePoint,
    z_propose: &mut PhasePoint,
    p_sharp_beg: &mut [f64],
    p_sharp_end: &mut [f64],
    rho: &mut [f64],
    p_beg: &mut [f64],
    p_end: &mut [f64],
    sign: f64,
    log_sum_weight: &mut f64,
    levels: &mut [Level],
) -> Result<bool> {
    if depth == 0 {
        leapfrog(z, sign * t.step_size, t.mass, t.energy, t.v)?;
        t.n_leapfrog += 1;
        let delta = z.energy_error(t.mass, t.h0);
        if delta > t.max_delta_energy {
            t.divergent = true;
        }
        *log_sum_weight = log_sum_exp(*log_sum_weight, -delta);
        t.sum_metro_prob += metropolis_prob(delta);
        z_propose.assign(z);
        t.mass.velocity(&z.p, p_sharp_beg);
        p_sharp_end.copy_from_slice(p_sharp_beg);
        for (r, p) in rho.iter_mut().zip(&z.p) {
            *r += p;
        }
        p_beg.copy_from_slice(&z.p);
        p_end.copy_from_slice(&z.p);
        return Ok(!t.divergent);
    }
    let (lower, level) = levels.split_at_mut(depth - 1);
    let level = &mut level[0];

    // The initial subtree.
    let mut log_sum_weight_init = f64::NEG_INFINITY;
    level.rho_init.fill(0.0);
    let valid_init = build_tree(
        t,
        depth - 1,
        z,
        z_propose,
        p_sharp_beg,
        &mut level.p_sharp_init_end,
        &mut level.rho_init,
        p_beg,
        &mut level.p_init_end,
        sign,
        &mut log_sum_weight_init,
        lower,
    )?;
    if !valid_init {
        return Ok(false);
    }

    // The final subtree.
    level.z_propose_final.assign(z);
    let mut log_sum_weight_final = f64::NEG_INFINITY;
    level.rho_final.fill(0.0);
    let valid_final = build_tree(
        t,
        depth - 1,
        z,
        &mut level.z_propose_final,
        &mut level.p_sharp_final_beg,
        p_sharp_end,
        &mut level.rho_final,
        &mut level.p_final_beg,
        p_end,
        sign,
        &mut log_sum_weight_final,
        lower,
    )?;
    if !valid_final {
        return Ok(false);
    }

    // Multinomial sample from the right subtree (uniform within the subtree: not biased).
    let log_sum_weight_subtree = log_sum_exp(log_sum_weight_init, log_sum_weight_final);
    *log_sum_weight = log_sum_exp(*log_sum_weight, log_sum_weight_subtree);
    if log_sum_weight_final > log_sum_weight_subtree {
        z_propose.assign(&level.z_propose_final);
    } else {
        let accept = (log_sum_weight_final - log_sum_weight_subtree).exp();
        if t.rng.random::<f64>() < accept {
            z_propose.assign(&level.z_propose_final);
        }
    }

    // The subtree's momentum sum, added to the caller's.
    let d = rho.len();
    let mut persist = true;
    {
        let rho_init = &level.rho_init;
        let rho_final = &level.rho_final;
        // rho_subtree = rho_init + rho_final, kept in rho_init.
        let mut dot_beg = 0.0;
        let mut dot_end = 0.0;
        for i in 0..d {
            let s = rho_init[i] + rho_final[i];
            rho[i] += s;
            dot_beg += p_sharp_beg[i] * s;
            dot_end += p_sharp_end[i] * s;
        }
        persist &= dot_beg > 0.0 && dot_end > 0.0;
    }
    // Demand satisfaction between the subtrees: each extended by the first point of the other.
    let mut dot_a = 0.0;
    let mut dot_b = 0.0;
    let mut dot_c = 0.0;
    let mut dot_e = 0.0;
    for i in 0..d {
        let ext1 = level.rho_init[i] + level.p_final_beg[i];
        dot_a += p_sharp_beg[i] * ext1;
        dot_b += level.p_sharp_final_beg[i] * ext1;
        let ext2 = level.rho_final[i] + level.p_init_end[i];
        dot_c += level.p_sharp_init_end[i] * ext2;
        dot_e += p_sharp_end[i] * ext2;
    }
    persist &= dot_a > 0.0 && dot_b > 0.0 && dot_c > 0.0 && dot_e > 0.0;
    Ok(persist)
}

/// One NUTS transition from `state`, which becomes the draw.
#[allow(clippy::too_many_arguments)]
pub(crate) fn transition<E: EnergyFn + ?Sized>(
    state: &mut PhasePoint,
    step_size: f64,
    mass: &MassMatrix,
    max_delta_energy: f64,
    max_depth: usize,
    energy: &mut E,
    rng: &mut Rng,
    ws: &mut Workspace,
) -> Result<DrawStats> {
    let Workspace { nuts, v, .. } = ws;
    let w = match nuts {
        Some(w) if w.levels.len() >= max_depth => w,
        _ => nuts.insert(NutsWorkspace::new(state.z.len(), max_depth)),
    };
    mass.sample_momentum(rng, &mut state.p);
    w.z_fwd.assign(state);
    w.z_bck.assign(state);
    w.z_sample.assign(state);
    w.z_propose.assign(state);
    mass.velocity(&state.p, &mut w.p_sharp_fwd_fwd);
    w.p_sharp_fwd_bck.copy_from_slice(&w.p_sharp_fwd_fwd);
    w.p_sharp_bck_fwd.copy_from_slice(&w.p_sharp_fwd_fwd);
    w.p_sharp_bck_bck.copy_from_slice(&w.p_sharp_fwd_fwd);
    w.p_fwd_fwd.copy_from_slice(&state.p);
    w.p_fwd_bck.copy_from_slice(&state.p);
    w.p_bck_fwd.copy_from_slice(&state.p);
    w.p_bck_bck.copy_from_slice(&state.p);
    w.rho.copy_from_slice(&state.p);

    let h0 = state.hamiltonian(mass);
    let mut t = Tree {
        step_size,
        mass,
        energy,
        rng,
        h0,
        max_delta_energy,
        n_leapfrog: 0,
        sum_metro_prob: 0.0,
        divergent: false,
        v,
    };
    let mut log_sum_weight = 0.0;
    let mut depth = 0;
    while depth < max_depth {
        w.rho_fwd.fill(0.0);
        w.rho_bck.fill(0.0);
        let mut log_sum_weight_subtree = f64::NEG_INFINITY;
        let valid = if t.rng.random::<f64>() > 0.5 {
            // Extend forwards in time from the forward end.
            w.rho_bck.copy_from_slice(&w.rho);
            w.p_bck_fwd.copy_from_slice(&w.p_fwd_bck);
            w.p_sharp_bck_fwd.copy_from_slice(&w.p_sharp_fwd_bck);
            build_tree(
                &mut t,
                depth,
                &mut w.z_fwd,
                &mut w.z_propose,
                &mut w.p_sharp_fwd_bck,
                &mut w.p_sharp_fwd_fwd,
                &mut w.rho_fwd,
                &mut w.p_fwd_bck,
                &mut w.p_fwd_fwd,
                1.0,
                &mut log_sum_weight_subtree,
                &mut w.levels,
            )?
        } else {
            // Extend backwards in time from the backward end.
            w.rho_fwd.copy_from_slice(&w.rho);
            w.p_fwd_bck.copy_from_slice(&w.p_bck_fwd);
            w.p_sharp_fwd_bck.copy_from_slice(&w.p_sharp_bck_fwd);
            build_tree(
                &mut t,
                depth,
                &mut w.z_bck,
                &mut w.z_propose,
                &mut w.p_sharp_bck_fwd,
                &mut w.p_sharp_bck_bck,
                &mut w.rho_bck,
                &mut w.p_bck_fwd,
                &mut w.p_bck_bck,
                -1.0,
                &mut log_sum_weight_subtree,
                &mut w.levels,
            )?
        };
        if !valid {
            break;
        }
        depth += 1;

        // Progressive sampling, biased towards the new subtree.
        if log_sum_weight_subtree > log_sum_weight {
            w.z_sample.assign(&w.z_propose);
        } else {
            let accept = (log_sum_weight_subtree - log_sum_weight).exp();
            if t.rng.random::<f64>() < accept {
                w.z_sample.assign(&w.z_propose);
            }
        }
        log_sum_weight = log_sum_exp(log_sum_weight, log_sum_weight_subtree);

        add_into(&mut w.rho, &w.rho_bck, &w.rho_fwd);
        let mut persist = no_u_turn(&w.p_sharp_bck_bck, &w.p_sharp_fwd_fwd, &w.rho);
        add_into(&mut w.rho_extended, &w.rho_bck, &w.p_fwd_bck);
        persist &= no_u_turn(&w.p_sharp_bck_bck, &w.p_sharp_fwd_bck, &w.rho_extended);
        add_into(&mut w.rho_extended, &w.rho_fwd, &w.p_bck_fwd);
        persist &= no_u_turn(&w.p_sharp_bck_fwd, &w.p_sharp_fwd_fwd, &w.rho_extended);
        if !persist {
            break;
        }
    }
    let (n_leapfrog, sum_metro_prob, divergent) = (t.n_leapfrog, t.sum_metro_prob, t.divergent);
    state.assign(&w.z_sample);
    Ok(DrawStats {
        diverging: divergent,
        tree_depth: depth as u32,
        num_steps: n_leapfrog,
        step_size,
        accept_prob: if n_leapfrog > 0 {
            sum_metro_prob / n_leapfrog as f64
        } else {
            0.0
        },
        energy: state.hamiltonian(mass),
        potential_energy: state.potential,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infer::mcmc::integrator::tests::Gaussian;
    use crate::rng::rng_from_seed;

    /// NUTS alone (no model, no adaptation) on a correlated 2-D Gaussian: moments within
    /// Monte-Carlo error.
    #[test]
    fn nuts_samples_a_correlated_gaussian() {
        // Covariance [[1, 0.8], [0.8, 1]] -> precision 1/0.36 [[1, -0.8], [-0.8, 1]].
        let c = 1.0 / 0.36;
        let mut g = Gaussian {
            mean: vec![1.0, -2.0],
            precision: vec![c, -0.8 * c, -0.8 * c, c],
            evals: 0,
        };
        let mass = MassMatrix::Diagonal(vec![1.0, 1.0]);
        let mut rng = rng_from_seed(3);
        let mut ws = Workspace::new(2, Trajectory::Nuts { max_tree_depth: 10 });
        let mut state = PhasePoint::zeros(2);
        state.potential = g.energy(&[0.0, 0.0], &mut state.grad).unwrap();
        let n = 20_000;
        let mut xs = Vec::with_capacity(n);
        let mut divergences = 0;
        for _ in 0..n {
            let s = transition(
                &mut state, 0.3, &mass, 1000.0, 10, &mut g, &mut rng, &mut ws,
            )
            .unwrap();
            divergences += s.diverging as usize;
            xs.push((state.z[0], state.z[1]));
        }
        assert_eq!(divergences, 0);
        let nf = n as f64;
        let m0 = xs.iter().map(|x| x.0).sum::<f64>() / nf;
        let m1 = xs.iter().map(|x| x.1).sum::<f64>() / nf;
        let v0 = xs.iter().map(|x| (x.0 - m0).powi(2)).sum::<f64>() / nf;
        let v1 = xs.iter().map(|x| (x.1 - m1).powi(2)).sum::<f64>() / nf;
        let c01 = xs.iter().map(|x| (x.0 - m0) * (x.1 - m1)).sum::<f64>() / nf;
        // NUTS draws of a Gaussian are nearly independent: even at an ESS of a quarter of n
        // (5000), the bounds are 4 standard errors of the means (0.014) and of the second
        // moments (0.02).
        assert!((m0 - 1.0).abs() < 0.06, "mean {m0}");
        assert!((m1 + 2.0).abs() < 0.06, "mean {m1}");
        assert!((v0 - 1.0).abs() < 0.08, "var {v0}");
        assert!((v1 - 1.0).abs() < 0.08, "var {v1}");
        assert!((c01 - 0.8).abs() < 0.08, "cov {c01}");
    }
}
