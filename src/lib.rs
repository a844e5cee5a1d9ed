//! pyro-rs: probabilistic programming for Rust.
pub use pyro_core::*;
