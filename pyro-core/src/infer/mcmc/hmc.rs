//! Hamiltonian Monte Carlo with a static trajectory (Duane et al., 1987; Neal, 2011): a fixed
//! number of leapfrog steps from a fresh momentum, then a Metropolis accept/reject of the end
//! point.

use rand::Rng as _;

use super::integrator::{leapfrog, metropolis_prob, EnergyFn, PhasePoint};
use super::kernel::{DrawStats, HmcSettings, Kernel, Trajectory, Workspace};
use super::mass_matrix::MassMatrix;
use super::nuts::hmc_settings_builder;
use crate::error::Result;
use crate::infer::{InitLoc, Model};
use crate::rng::Rng;

/// Most leapfrog steps of one static HMC trajectory (when derived from the trajectory length
/// and a small step size).
const MAX_STEPS: usize = 1024;

/// Hamiltonian Monte Carlo with a static trajectory: up to `num_steps` leapfrog steps, or (the
/// default) up to as many as cover `trajectory_length = 2π` at the adapted step size, then a
/// Metropolis correction.
///
/// Each trajectory takes a number of steps drawn uniformly from `1..=n` (randomised HMC, as
/// Neal 2011, section 5.4.2.2, and Bou-Rabee and Sanz-Serna 2017 recommend): a fixed length can
/// be periodic, and is for the default, since after mass-matrix adaptation a Gaussian posterior
/// has period 2π, so that every trajectory of that length ends near its start and the chain
/// hardly moves. [`Hmc::randomize_steps`]`(false)` takes exactly `n` steps every time. Warm-up adapts the step size and the mass matrix as for
/// [`Nuts`](super::Nuts), which is usually the better choice: a fixed trajectory length is
/// either too short (random walk) or too long (wasted work) for most posteriors.
#[derive(Clone, Debug)]
pub struct Hmc<M> {
    pub(crate) model: M,
    pub(crate) settings: HmcSettings,
    pub(crate) trajectory_length: f64,
    pub(crate) num_steps: Option<usize>,
    pub(crate) randomize: bool,
}

impl<M: Model> Hmc<M> {
    /// HMC over `model`, trajectory length `2π`.
    pub fn new(model: M) -> Self {
        Hmc {
            model,
            settings: HmcSettings::default(),
            trajectory_length: 2.0 * std::f64::consts::PI,
            num_steps: None,
            randomize: true,
        }
    }

    /// The length of each trajectory in time (`num_steps = ceil(length / step_size)`).
    pub fn trajectory_length(mut self, length: f64) -> Self {
        self.trajectory_length = length;
        self.num_steps = None;
        self
    }

    /// The number of leapfrog steps per trajectory (at most, see [`Hmc::randomize_steps`]),
    /// whatever the step size.
    pub fn num_steps(mut self, n: usize) -> Self {
        self.num_steps = Some(n.max(1));
        self
    }

    /// Whether each trajectory draws its number of steps uniformly from `1..=n` (the default,
    /// see [`Hmc`]) or takes exactly `n`.
    pub fn randomize_steps(mut self, on: bool) -> Self {
        self.randomize = on;
        self
    }
}

hmc_settings_builder!(Hmc);

impl<M: Model> Kernel for Hmc<M> {
    type Model = M;
    fn model(&self) -> &M {
        &self.model
    }
    fn settings(&self) -> &HmcSettings {
        &self.settings
    }
    fn name(&self) -> &'static str {
        "HMC"
    }
    fn trajectory(&self) -> Trajectory {
        Trajectory::Static {
            trajectory_length: self.trajectory_length,
            num_steps: self.num_steps,
            randomize: self.randomize,
        }
    }
}

/// One static HMC transition from `state`, which becomes the draw.
#[allow(clippy::too_many_arguments)]
pub(crate) fn transition<E: EnergyFn + ?Sized>(
    state: &mut PhasePoint,
    step_size: f64,
    mass: &MassMatrix,
    max_delta_energy: f64,
    num_steps: Option<usize>,
    trajectory_length: f64,
    randomize: bool,
    energy: &mut E,
    rng: &mut Rng,
    ws: &mut Workspace,
) -> Result<DrawStats> {
    let steps = num_steps.unwrap_or_else(|| {
        let n = (trajectory_length / step_size).ceil();
        if n.is_finite() {
            (n as usize).clamp(1, MAX_STEPS)
        } else {
            MAX_STEPS
        }
    });
    let steps = if randomize {
        // From the chain's generator, so runs stay reproducible.
        rng.random_range(1..=steps)
    } else {
        steps
    };
    mass.sample_momentum(rng, &mut state.p);
    let h0 = state.hamiltonian(mass);
    let proposal = &mut ws.proposal;
    proposal.assign(state);
    let mut taken = 0;
    for _ in 0..steps {
        leapfrog(proposal, step_size, mass, energy, &mut ws.v)?;
        taken += 1;
        if !proposal.potential.is_finite() {
            break;
        }
    }
    let delta = proposal.energy_error(mass, h0);
    let accept_prob = metropolis_prob(delta);
    if rng.random::<f64>() < accept_prob {
        state.assign(proposal);
    }
    Ok(DrawStats {
        diverging: delta > max_delta_energy,
        tree_depth: 0,
        num_steps: taken,
        step_size,
        accept_prob,
        energy: state.hamiltonian(mass),
        potential_energy: state.potential,
    })
}
