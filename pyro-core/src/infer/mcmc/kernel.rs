//! What [`Hmc`](super::Hmc) and [`Nuts`](super::Nuts) share: the [`Kernel`] trait that
//! [`Mcmc`](super::Mcmc) drives, the warm-up settings, and the statistics of each draw.

use super::integrator::{EnergyFn, PhasePoint};
use super::mass_matrix::MassMatrix;
use crate::error::{Error, Result};
use crate::infer::{InitLoc, Model};
use crate::rng::Rng;

/// Statistics of one MCMC iteration (Stan's `sampler_params`, NumPyro's extra fields).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DrawStats {
    /// Whether the trajectory diverged: the energy error exceeded the kernel's
    /// `max_delta_energy` (1000 by default), or the model could not be evaluated along it.
    pub diverging: bool,
    /// NUTS: the depth of the tree (doublings that were kept); HMC: 0.
    pub tree_depth: u32,
    /// Number of leapfrog steps (gradient evaluations) of the iteration.
    pub num_steps: u32,
    /// The step size used.
    pub step_size: f64,
    /// Mean Metropolis acceptance probability over the trajectory (NUTS, as Stan's
    /// `accept_stat__`), or the acceptance probability of the proposal (HMC).
    pub accept_prob: f64,
    /// The Hamiltonian at the draw (potential plus kinetic energy).
    pub energy: f64,
    /// The potential energy at the draw: minus the log-density in unconstrained space.
    pub potential_energy: f64,
}

/// Settings shared by [`Hmc`](super::Hmc) and [`Nuts`](super::Nuts); set them with the kernels'
/// builder methods.
#[derive(Clone, Debug, PartialEq)]
pub struct HmcSettings {
    pub(crate) step_size: f64,
    pub(crate) adapt_step_size: bool,
    pub(crate) adapt_mass_matrix: bool,
    pub(crate) dense_mass: bool,
    pub(crate) target_accept_prob: f64,
    pub(crate) init: InitLoc,
    pub(crate) max_delta_energy: f64,
    pub(crate) max_plate_nesting: Option<usize>,
}

impl Default for HmcSettings {
    fn default() -> Self {
        HmcSettings {
            step_size: 1.0,
            adapt_step_size: true,
            adapt_mass_matrix: true,
            dense_mass: false,
            target_accept_prob: 0.8,
            init: InitLoc::Median,
            max_delta_energy: 1000.0,
            max_plate_nesting: None,
        }
    }
}

impl HmcSettings {
    pub(crate) fn validate(&self, kernel: &str) -> Result<()> {
        if !(self.step_size.is_finite() && self.step_size > 0.0) {
            return Err(Error::Invalid(format!(
                "{kernel}: the initial step size must be positive and finite, got {}",
                self.step_size
            )));
        }
        if !(self.target_accept_prob > 0.0 && self.target_accept_prob < 1.0) {
            return Err(Error::Invalid(format!(
                "{kernel}: target_accept_prob must lie in (0, 1), got {}",
                self.target_accept_prob
            )));
        }
        if self.max_delta_energy.is_nan() || self.max_delta_energy <= 0.0 {
            return Err(Error::Invalid(format!(
                "{kernel}: max_delta_energy must be positive, got {}",
                self.max_delta_energy
            )));
        }
        Ok(())
    }
}

/// The trajectory of a kernel (an implementation detail of the sealed [`Kernel`] trait).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trajectory {
    /// NUTS with this maximum tree depth.
    Nuts {
        /// Maximum tree depth.
        max_tree_depth: usize,
    },
    /// Static HMC: `num_steps` leapfrog steps, or `trajectory_length / step_size` of them.
    Static {
        /// Integration time.
        trajectory_length: f64,
        /// Or a fixed number of steps.
        num_steps: Option<usize>,
        /// Whether each trajectory takes a number of steps drawn uniformly from `1..=n`.
        randomize: bool,
    },
}

mod sealed {
    pub trait Sealed {}
    impl<M> Sealed for super::super::Hmc<M> {}
    impl<M> Sealed for super::super::Nuts<M> {}
}

/// A Hamiltonian transition kernel over a model: [`Hmc`](super::Hmc) or [`Nuts`](super::Nuts).
/// [`Mcmc`](super::Mcmc) runs chains of it.
pub trait Kernel: sealed::Sealed {
    /// The model.
    type Model: Model;
    /// The model sampled from.
    fn model(&self) -> &Self::Model;
    /// The warm-up and initialisation settings.
    fn settings(&self) -> &HmcSettings;
    /// The kernel's name, for messages (`"NUTS"`, `"HMC"`).
    fn name(&self) -> &'static str;
    #[doc(hidden)]
    fn trajectory(&self) -> Trajectory;
}

/// Scratch space of a chain: allocated once, reused by every transition.
pub(crate) struct Workspace {
    pub(crate) nuts: Option<super::nuts::NutsWorkspace>,
    pub(crate) proposal: PhasePoint,
    pub(crate) v: Vec<f64>,
}

impl Workspace {
    pub(crate) fn new(d: usize, trajectory: Trajectory) -> Workspace {
        Workspace {
            nuts: match trajectory {
                Trajectory::Nuts { max_tree_depth } => {
                    Some(super::nuts::NutsWorkspace::new(d, max_tree_depth))
                }
                Trajectory::Static { .. } => None,
            },
            proposal: PhasePoint::zeros(d),
            v: vec![0.0; d],
        }
    }
}

/// One transition of `trajectory` from `state` (which it replaces by the draw).
#[allow(clippy::too_many_arguments)]
pub(crate) fn transition<E: EnergyFn + ?Sized>(
    trajectory: Trajectory,
    state: &mut PhasePoint,
    step_size: f64,
    mass: &MassMatrix,
    max_delta_energy: f64,
    energy: &mut E,
    rng: &mut Rng,
    ws: &mut Workspace,
) -> Result<DrawStats> {
    match trajectory {
        Trajectory::Nuts { max_tree_depth } => super::nuts::transition(
            state,
            step_size,
            mass,
            max_delta_energy,
            max_tree_depth,
            energy,
            rng,
            ws,
        ),
        Trajectory::Static {
            trajectory_length,
            num_steps,
            randomize,
        } => super::hmc::transition(
            state,
            step_size,
            mass,
            max_delta_energy,
            num_steps,
            trajectory_length,
            randomize,
            energy,
            rng,
            ws,
        ),
    }
}
