//! Inference: the [`Model`] trait and its static [`description`], the pairing of a guide with
//! its model ([`GuideFor`]), ELBO objectives and stochastic variational inference, MCMC, and
//! [`render_model`], the structure of a model as a picture.

pub mod autoguide;
pub mod description;
mod discrete;
#[cfg(feature = "mpi")]
mod distributed;
mod elbo;
mod export;
mod init;
pub mod language;
pub mod mcmc;
mod model;
mod parallel;
mod predictive;
pub mod render;
mod shard;
pub mod summary;
mod svi;
mod svi_run;
mod trace_elbo;
mod trace_enum_elbo;
mod trace_graph_elbo;
mod trace_mean_field_elbo;

pub use autoguide::{
    AutoDelta, AutoDiagonalNormal, AutoLowRankMultivariateNormal, AutoMultivariateNormal,
    AutoNormal,
};
pub use discrete::{infer_discrete, Decode, DiscreteValues};
#[cfg(feature = "mpi")]
pub use distributed::DistributedSvi;
pub use elbo::{Elbo, ElboRun};
pub use init::{init_to_median, init_to_uniform, init_to_value, InitLoc};
pub use model::{same_args, GuideFor, Model, SameArgs, WrittenGuide};
pub use parallel::{ParallelSvi, Shards};
pub use predictive::{McmcDraws, NoGuide, Predictive, Samples};
pub use render::{render_model, ModelGraph};
pub(crate) use shard::ShardRole;
pub use svi::Svi;
pub use svi_run::StepInfo;
pub use trace_elbo::TraceElbo;
pub use trace_enum_elbo::TraceEnumElbo;
pub use trace_graph_elbo::{Baseline, TraceGraphElbo};
pub use trace_mean_field_elbo::TraceMeanFieldElbo;
