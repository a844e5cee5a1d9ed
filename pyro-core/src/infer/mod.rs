//! Inference: the [`Model`] trait, ELBO objectives and stochastic variational inference.

pub mod autoguide;
mod discrete;
mod elbo;
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
    AutoNormal, InitLoc,
};
pub use discrete::{infer_discrete, Decode, DiscreteValues};
pub use elbo::{Elbo, ElboRun};
pub use model::Model;
pub use predictive::{NoGuide, Predictive, Samples};
pub use svi::Svi;
pub use trace_elbo::TraceElbo;
pub use trace_enum_elbo::TraceEnumElbo;
pub use trace_graph_elbo::{Baseline, TraceGraphElbo};
pub use trace_mean_field_elbo::TraceMeanFieldElbo;
