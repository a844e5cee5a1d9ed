//! Runtime of pyro-rs: tensors with reverse-mode autodiff, distributions, constraints and
//! transforms, effect handlers, traces, the parameter store, inference and optimisers.
//!
//! Most users depend on the `pyro` facade crate, which re-exports this one together with the
//! `#[model]`/`#[guide]` macros.

#![warn(missing_docs)]

mod checkpoint;
pub mod constraints;
pub mod data;
pub mod distributions;
pub mod error;
pub mod handlers;
pub mod infer;
pub mod nn;
pub mod optim;
pub mod params;
#[cfg(feature = "plots")]
pub mod plot;
mod pool;
pub mod rng;
mod site_name;
mod spare;
pub mod tensor;
pub mod trace;
pub mod transforms;

pub use error::{Error, Result};
pub use handlers::run;
pub use tensor::{Tape, Tensor};

/// The MPI bindings (rsmpi) that [`infer::DistributedSvi`] runs on: `mpi::initialize()` starts
/// MPI and gives the world communicator.
#[cfg(feature = "mpi")]
pub use mpi;

/// The names most programs need.
pub mod prelude {
    pub use crate::constraints;
    pub use crate::distributions::*;
    pub use crate::error::{Error, Result};
    pub use crate::handlers::Context;
    pub use crate::infer::mcmc::{Hmc, Mcmc, McmcSamples, Nuts};
    pub use crate::infer::{
        infer_discrete, init_loc_fn, init_to_median, init_to_sample, init_to_uniform,
        init_to_value, AutoDelta, AutoDiagonalNormal, AutoLowRankMultivariateNormal,
        AutoMultivariateNormal, AutoNormal, Baseline, Decode, Elbo, InitLoc, Model, ParallelSvi,
        Predictive, Shards, Svi, TraceElbo, TraceEnumElbo, TraceGraphElbo, TraceMeanFieldElbo,
    };
    pub use crate::optim::*;
    pub use crate::params::ParamStore;
    pub use crate::tensor::Tensor;
}
