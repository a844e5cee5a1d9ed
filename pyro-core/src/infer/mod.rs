//! Inference: the [`Model`] trait, ELBO objectives and stochastic variational inference.

pub mod autoguide;
mod discrete;
mod elbo;
mod init;
pub mod mcmc;
mod model;
mod predictive;
pub mod summary;
mod svi;
mod trace_elbo;
mod trace_enum_elbo;
mod trace_graph_elbo;
mod trace_mean_field_elbo;

pub use autoguide::{
    AutoDelta, AutoDiagonalNormal, AutoLowRankMultivariateNormal, AutoMultivariateNormal,
    AutoNormal,
};
pub use discrete::{infer_discrete, Decode, DiscreteValues};
pub use elbo::{Elbo, ElboRun};
pub use init::{init_to_median, init_to_uniform, init_to_value, InitLoc};
pub use model::Model;
pub use predictive::{McmcDraws, NoGuide, Predictive, Samples};
pub use svi::Svi;
pub use trace_elbo::TraceElbo;
pub use trace_enum_elbo::TraceEnumElbo;
pub use trace_graph_elbo::{Baseline, TraceGraphElbo};
pub use trace_mean_field_elbo::TraceMeanFieldElbo;
