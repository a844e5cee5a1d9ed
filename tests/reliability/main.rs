//! Reliability: what an adversarial user can do with ordinary (or crafted) input must end in a
//! typed error or the mathematically right value, never a crash, a hang, an abort, a lost file or
//! a silent non-finite parameter (issue #10).
//!
//! One test binary, one module per area, so that CI links it once.

mod checkpoint;
mod data;
mod fuzz;
mod panics;
mod svi;
mod tensor;
