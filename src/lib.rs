//! # pyro-rs
//!
//! Probabilistic programming for Rust with Pyro's stochastic variational inference, where the
//! compiler checks what Pyro checks at run time (or never).
//!
//! A model and a guide are ordinary functions marked `#[model]` and `#[guide(model = ...)]`;
//! inside them `sample!` declares random sites and `param!` learnable parameters (with
//! `plate!`, `factor!`, `deterministic!` and `call!` for the rest). See the README and
//! `examples/coin.rs` for the SVI tutorial.

// Lets the code that the macros generate (`::pyro::__private::...`) resolve inside this crate
// too (doc tests and unit tests).
extern crate self as pyro;

pub use pyro_core::*;
pub use pyro_macros::{call, deterministic, factor, guide, markov, model, param, plate, sample};

/// The names most programs need: distributions, constraints, `Svi`, ELBOs, optimisers, tensors
/// and the macros.
pub mod prelude {
    pub use pyro_core::prelude::*;
    pub use pyro_macros::{
        call, deterministic, factor, guide, markov, model, param, plate, sample,
    };
}

/// Support for the code that the macros generate. Not a public API: it may change at any time.
#[doc(hidden)]
pub mod __private {
    pub use pyro_core::constraints;
    pub use pyro_core::handlers::{Context, PlateOpts};
    pub use pyro_core::infer::Model;
    pub use pyro_core::tensor::Tensor;
    pub use pyro_core::trace::{InferConfig, SiteName};
    pub use pyro_macros::check_guide;

    /// The names a `constraint = ...` argument of `param!` may use unqualified.
    pub mod constraint_names {
        pub use pyro_core::constraints::{
            boolean, greater_than, integer_interval, interval, less_than, lower_cholesky,
            nonnegative, nonnegative_integer, positive, real, real_vector, simplex, unit_interval,
        };
    }

    /// Converts an `obs = ...` value (or a `factor!`/`deterministic!` value) into a tensor.
    #[inline]
    pub fn to_tensor<T: Into<Tensor>>(value: T) -> Tensor {
        value.into()
    }

    /// Passes a distribution through, requiring it to be discrete: what makes
    /// `sample!(.., enumerate)` of a continuous distribution a compile error.
    #[inline]
    pub fn discrete<D: pyro_core::distributions::Discrete>(d: D) -> D {
        d
    }

    /// The inference settings of `sample!(.., enumerate)`.
    #[inline]
    pub fn enumerated() -> InferConfig {
        InferConfig {
            enumerate: true,
            ..InferConfig::default()
        }
    }
}
