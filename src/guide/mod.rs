//! The guide: pyro-rs from first model to MCMC, following Pyro's tutorials.
//!
//! This module holds no code. Each chapter is a page of documentation (written in
//! `src/guide/*.md`), and every Rust code block in it is compiled and run by `cargo test --doc`,
//! so the guide cannot drift from the library.
#![doc = include_str!("index.md")]

#[doc = include_str!("svi_part_i.md")]
pub mod svi_part_i {}

#[doc = include_str!("svi_part_ii.md")]
pub mod svi_part_ii {}

#[doc = include_str!("svi_part_iii.md")]
pub mod svi_part_iii {}

#[doc = include_str!("vae.md")]
pub mod vae {}

#[doc = include_str!("enumeration.md")]
pub mod enumeration {}

#[doc = include_str!("autoguides.md")]
pub mod autoguides {}

#[doc = include_str!("mcmc.md")]
pub mod mcmc {}

#[doc = include_str!("checkpoints.md")]
pub mod checkpoints {}

#[doc = include_str!("compile_checks.md")]
pub mod compile_checks {}

#[doc = include_str!("models_as_values.md")]
pub mod models_as_values {}
