//! # pyro-rs
//!
//! Probabilistic programming for Rust with Pyro's stochastic variational inference, where the
//! compiler checks what Pyro checks at run time (or never).
//!
//! A model and a guide are ordinary functions marked `#[model]` and `#[guide(model = ...)]`;
//! inside them `sample!` declares random sites and `param!` learnable parameters (with
//! `plate!`, `factor!`, `deterministic!` and `call!` for the rest).
//!
//! Start with [the guide](mod@guide): Pyro's tutorials (SVI, the VAE, enumeration and the HMM,
//! autoguides, MCMC) retold for pyro-rs, every example a doc test.

#![warn(missing_docs)]

// Lets the code that the macros generate (`::pyro::...`) resolve inside this crate too (doc
// tests and unit tests).
extern crate self as pyro;

pub mod guide;

pub use pyro_core::*;
pub use pyro_macros::{
    call, deterministic, factor, guide, markov, model, module, param, plate, sample,
};

/// The names most programs need: distributions, constraints, `Svi`, ELBOs, optimisers, tensors
/// and the macros.
pub mod prelude {
    pub use pyro_core::prelude::*;
    pub use pyro_macros::{
        call, deterministic, factor, guide, markov, model, module, param, plate, sample,
    };
}
