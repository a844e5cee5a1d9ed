//! Markov chain Monte Carlo on the same models as SVI: Hamiltonian Monte Carlo ([`Hmc`]) and the
//! No-U-Turn Sampler ([`Nuts`]), run by [`Mcmc`] with Stan's warm-up, chains on threads, and
//! Stan/ArviZ diagnostics.
//!
//! ```
//! use pyro_core::prelude::*;
//! use pyro_core::infer::mcmc::{Mcmc, Nuts};
//!
//! // The coin of the SVI tutorial: Beta(10, 10) prior, 6 heads in 10 tosses.
//! struct Coin;
//! impl Model for Coin {
//!     type Args<'a> = &'a [f64];
//!     type Output = ();
//!     const NAME: &'static str = "coin";
//!     fn call<'a>(&self, ctx: &mut Context, data: &'a [f64]) {
//!         let f = ctx.sample("f", Beta::new(10.0, 10.0), None);
//!         for (i, &x) in data.iter().enumerate() {
//!             ctx.sample(format!("x_{i}"), Bernoulli::new(&f), Some(x.into()));
//!         }
//!     }
//! }
//! let data = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
//! let samples = Mcmc::new(Nuts::new(Coin))
//!     .warmup(500)
//!     .samples(500)
//!     .chains(2)
//!     .seed(0)
//!     .progress(false)
//!     .run(&data[..])
//!     .unwrap();
//! let summary = samples.summary();
//! let f = summary.row("f").unwrap();
//! // The exact posterior is Beta(16, 14): mean 0.533, sd 0.090.
//! assert!((f.mean - 0.533).abs() < 0.03);
//! assert!(f.r_hat < 1.05);
//! println!("{summary}");
//! ```
//!
//! How it works, file by file:
//!
//! | file | what |
//! |---|---|
//! | `potential.rs` | `U(z)`: the model run with each latent site at `biject_to(support)(z)`, observed sites scored, enumerated sites summed out; `∇U` from the tape |
//! | `integrator.rs` | the leapfrog integrator |
//! | `mass_matrix.rs` | diagonal or dense inverse mass matrix: kinetic energy, momenta |
//! | `adaptation.rs` | dual averaging, Welford estimates, Stan's windowed warm-up schedule |
//! | `hmc.rs`, `nuts.rs` | the kernels |
//! | `kernel.rs` | their shared settings and per-draw statistics |
//! | `driver.rs` | [`Mcmc`]: chains, threads, seeds |
//! | `samples.rs`, `summary.rs`, `export.rs` | the draws, the summary table, CSV and ArviZ JSON |
//! | `diagnostics.rs` | rank-normalised R-hat, bulk and tail ESS |
//! | `progress.rs` | progress bars |

mod adaptation;
pub mod diagnostics;
mod driver;
mod export;
mod hmc;
mod integrator;
mod kernel;
mod mass_matrix;
mod nuts;
mod potential;
mod progress;
mod samples;
mod summary;

pub use driver::{chain_seed, Mcmc};
pub use hmc::Hmc;
pub use kernel::{DrawStats, HmcSettings, Kernel};
pub use mass_matrix::MassMatrix;
pub use nuts::Nuts;
pub use potential::SiteLayout;
pub(crate) use samples::entry_label;
pub use samples::McmcSamples;
pub use summary::{McmcSummary, McmcSummaryRow};
