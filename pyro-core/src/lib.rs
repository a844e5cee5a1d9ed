//! Runtime of pyro-rs: tensors with reverse-mode autodiff, distributions, constraints and
//! transforms, effect handlers, traces, the parameter store, inference and optimisers.
//!
//! Most users depend on the `pyro` facade crate, which re-exports this one together with the
//! `#[model]`/`#[guide]` macros.

#![warn(missing_docs)]

pub mod constraints;
pub mod distributions;
pub mod error;
pub mod rng;
pub mod tensor;

pub use error::{Error, Result};
pub use tensor::{Tape, Tensor};
