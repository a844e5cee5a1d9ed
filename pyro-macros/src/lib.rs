//! Procedural macros of pyro-rs: `#[model]`, `#[guide]` and the site macros (`sample!`,
//! `param!`, `plate!`, `factor!`, `deterministic!`, `call!`, `markov!`, `module!`) that they
//! rewrite.
//!
//! Use them through the `pyro` facade crate (`use pyro::prelude::*;`): the generated code refers
//! to `::pyro` (or to the path given by `#[model(crate = path)]` for a renamed dependency).
//!
//! The crate is organised like thiserror and serde_derive: `attr` reads the attribute's
//! arguments, `ast` the function (a typed view over syn's tree), `walk` goes over the parsed body
//! with syn's `VisitMut` (`foreign` for the arguments of other macros), rewriting each of this
//! crate's site macros (`kind` tells which they are, `site` parses their arguments, `name` reads
//! a site's name, `emit` writes the code) and recording the sites, their `#[cfg]`s and their
//! place in the control flow (`flow`, with `scope` for the names bound on the way); `valid`
//! holds the checks the macro makes itself (a fixed name twice on one path, a fixed name in a
//! loop), `expand` generates the `Model` implementation with the static description and, for a
//! guide, the comparisons rustc evaluates, and `fallback` what is emitted when the function
//! cannot be expanded. Errors are collected (`ctxt`) and reported together.

use proc_macro::TokenStream;

mod ast;
mod attr;
mod ctxt;
mod emit;
mod expand;
mod fallback;
mod flow;
mod foreign;
mod kind;
mod name;
mod obs;
mod scope;
mod site;
mod valid;
mod walk;

/// Turns a function into a model: a unit value implementing `pyro::infer::Model`.
///
/// `#[model] fn coin(data: &[f64]) { ... }` defines a constant-like unit struct `coin` (same
/// visibility and docs) with `Args<'a> = &'a [f64]` (several arguments become a tuple, none
/// `()`), `Output` the return type and `NAME = "coin"`. Inside the body, `sample!`, `param!`,
/// `plate!`, `factor!`, `deterministic!` and `call!` are rewritten into calls on a hidden handler
/// context that user code cannot name.
///
/// The model also carries its static description, `<coin as Model>::SITES`: each site with its
/// name as far as it is known at compile time (a literal, a `const`, a `concat!`, or the literal
/// prefix of a `format!`) and its role (latent, observed, enumerated, factor, deterministic),
/// under the `#[cfg]`s it sits under, with the descriptions of `call!`ed sub-models composed in.
/// A `#[guide(model = coin)]` is compared with it at compile time.
///
/// `#[model(crate = path)]` names the `pyro` crate when the dependency is renamed in
/// `Cargo.toml` (`pp = { package = "pyro-ppl", .. }`: `#[model(crate = pp)]`).
///
/// ```
/// use pyro::prelude::*;
///
/// #[model]
/// fn coin(data: &[f64]) {
///     let f = sample!("fairness", Normal::new(0.5, 0.1));
///     for (i, &x) in data.iter().enumerate() {
///         sample!(format!("obs_{i}"), Normal::new(&f, 1.0), obs = x);
///     }
/// }
///
/// #[guide(model = coin)]
/// fn coin_guide(_data: &[f64]) {
///     let loc = param!("loc", 0.5);
///     let scale = param!("scale", 0.1, constraint = positive);
///     sample!("fairness", Normal::new(loc, scale));
/// }
///
/// let mut svi = Svi::new(coin, coin_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
/// svi.step(&[1.0, 0.0][..]).unwrap();
/// assert_eq!(<coin as Model>::NAME, "coin");
/// ```
#[proc_macro_attribute]
pub fn model(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(attr::Which::Model, attr.into(), item.into()).into()
}

/// Turns a function into the guide of a model: `#[guide(model = path::to::model)]`.
///
/// It expands like [`macro@model`] (a unit value implementing `Model`), implements
/// `GuideFor<path::to::model>` (what `Svi`, `Predictive` and the ELBOs require), and compares
/// itself with the model's static description while compiling:
/// - every latent site of the model with a known name must be sampled by the guide (a guide site
///   named at run time covers the names its literal prefix allows, no others);
/// - every site of the guide must be able to be a latent site of the model (not observed,
///   enumerated, a factor or a deterministic site, nor absent);
/// - the arguments must have the same types, as the type checker sees them (aliases agree);
/// - a guide may not observe (`obs =`).
///
/// The model is found like any path: through `use`, `as`, `super::` and from other crates.
/// What the descriptions cannot decide (names from variables, sub-models that are not paths,
/// models written by hand) is checked when inference runs.
///
/// ```
/// use pyro::prelude::*;
///
/// #[guide(model = normal_model)] // the guide may come before the model
/// fn normal_guide(_x: f64) {
///     let loc = param!("loc", 0.0);
///     sample!("z", Normal::new(loc, 1.0));
/// }
///
/// #[model]
/// fn normal_model(x: f64) {
///     let z = sample!("z", Normal::new(0.0, 1.0));
///     sample!("x", Normal::new(z, 1.0), obs = x);
/// }
/// # let _ = (normal_model, normal_guide);
/// ```
#[proc_macro_attribute]
pub fn guide(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(attr::Which::Guide, attr.into(), item.into()).into()
}

/// A random site: `sample!(name, dist)`, `sample!(name, dist, obs = value)` or
/// `sample!(name, dist, enumerate)`; returns the value as a `Tensor`.
///
/// `name` is a string literal, a `const` or a `concat!` (checked at compile time against the
/// guide or model), or a `String` built at run time, e.g. `format!("x_{i}")` (its literal prefix
/// `x_` is checked at compile time, the full name at run time). A literal name inside a loop is a
/// compile error: every iteration would sample the same site again.
/// `dist` is a distribution or a `Result` of one (constructors validate their parameters).
/// `obs = value` observes the site (any value that converts into a tensor); `enumerate` marks a
/// discrete latent site for parallel enumeration (it must then not appear in the guide).
///
/// Only valid inside a `#[model]` or `#[guide]` function: anywhere else it is a compile error.
///
/// ```
/// use pyro::prelude::*;
///
/// #[model]
/// fn m(x: f64) -> Tensor {
///     let b = sample!("b", Bernoulli::new(0.3), enumerate);
///     let z = sample!("z", Normal::new(0.0, 1.0));
///     sample!("x", Normal::new(&z, 1.0), obs = x);
///     b
/// }
/// # let _ = m;
/// ```
#[proc_macro]
pub fn sample(_input: TokenStream) -> TokenStream {
    expand::outside("sample").into()
}

/// A learnable parameter: `param!(name, init)` or `param!(name, init, constraint = c)`; returns
/// its constrained value as a `Tensor`.
///
/// `init` (a constrained value, anything that converts into a tensor) is evaluated lazily, the
/// first time the parameter is seen. `c` is one of the constraint names `real` (the default),
/// `positive`, `unit_interval`, `simplex`, `lower_cholesky`, ..., a call such as
/// `interval(0.0, 1.0)` or `greater_than(2.0)`, or any expression of type `Constraint`.
///
/// Only valid inside a `#[model]` or `#[guide]` function.
///
/// ```
/// use pyro::prelude::*;
///
/// #[model]
/// fn g() {
///     let loc = param!("loc", 0.0);
///     let scale = param!("scale", 1.0, constraint = positive);
///     let p = param!("p", 0.5, constraint = interval(0.0, 1.0));
///     sample!("z", Normal::new(loc, scale));
///     let _ = p;
/// }
/// # let _ = g;
/// ```
#[proc_macro]
pub fn param(_input: TokenStream) -> TokenStream {
    expand::outside("param").into()
}

/// A neural network in a model or guide (Pyro's `pyro.module`): `module!(name, &network)` binds
/// the network's parameters under `name.*` in the parameter store (created on first sight from
/// the network's initialisation, read through the context like `param!`, so optimisers,
/// handlers and checkpoints see them) and returns the bound network, whose `forward` records on
/// the tape.
///
/// `network` is a reference to a value implementing `pyro::nn::Module` (`Linear`, `Mlp`, or a
/// type of yours), usually passed to the model as an argument. A stored weight whose shape
/// differs from the one the network declares is an error naming the parameter. Binding the same
/// name twice in one run reads the same parameters (like `param!`).
///
/// Only valid inside a `#[model]` or `#[guide]` function.
///
/// ```
/// use pyro::nn::{Activation, Mlp};
/// use pyro::prelude::*;
///
/// #[model]
/// fn regression(net: &Mlp, x: &Tensor, y: &Tensor) {
///     let net = module!("net", net);
///     let n = x.shape()[0];
///     plate!("data", n, |_| {
///         let loc = net.forward(x).reshape(&[n]);
///         sample!("y", Normal::new(loc, 0.1), obs = y);
///     });
/// }
///
/// #[guide(model = regression)]
/// fn no_latents(_net: &Mlp, _x: &Tensor, _y: &Tensor) {}
///
/// let net = Mlp::new(&[1, 8, 1], Activation::Tanh, Activation::Identity);
/// let x = Tensor::new(vec![0.0, 0.5, 1.0], &[3, 1]).unwrap();
/// let y = Tensor::from_slice(&[0.0, 0.25, 1.0]);
/// let adam = Adam::new(AdamConfig::default());
/// let mut svi = Svi::new(regression, no_latents, adam, TraceElbo::default());
/// svi.step((&net, &x, &y)).unwrap();
/// assert_eq!(svi.params().get("net.0.weight").unwrap().shape(), &[8, 1]);
/// ```
#[proc_macro]
pub fn module(_input: TokenStream) -> TokenStream {
    expand::outside("module").into()
}

/// Runs another `#[model]` (or `#[guide]`) with the same handler context:
/// `call!(sub_model, arg1, arg2, ...)`, returning its output. Its sites become sites of the
/// caller: when the sub-model is named by a path, its description is composed into the
/// caller's, so a guide of the caller is checked against the sub-model's sites at compile time
/// too.
///
/// Only valid inside a `#[model]` or `#[guide]` function.
///
/// ```
/// use pyro::prelude::*;
///
/// #[model]
/// fn prior(scale: f64) -> Tensor {
///     sample!("z", Normal::new(0.0, scale))
/// }
///
/// #[model]
/// fn full(x: f64) {
///     let z = call!(prior, 1.0);
///     sample!("x", Normal::new(z, 1.0), obs = x);
/// }
/// # let _ = full;
/// ```
#[proc_macro]
pub fn call(_input: TokenStream) -> TokenStream {
    expand::outside("call").into()
}

/// A plate: conditionally independent data, vectorised or sequential, optionally subsampled.
///
/// - Vectorised: `plate!(name, size, |idx| body)`, with the options
///   `subsample_size = k` and `dim = -2` before the closure. The sites in `body` are batched over
///   the plate's dimension; `idx` (a `&[usize]`) holds the indices in use (`0..size`, or a
///   subsample of `k` of them, whose log-density is scaled by `size / k`). Returns what `body`
///   returns. The body is a closure: `return` inside it leaves the plate, not the model.
/// - Sequential: `plate!(name, size, for i { body })` (also with `subsample_size = k`) runs `body`
///   once per index `i` (a `usize`), each iteration marked as independent of the others.
///
/// Only valid inside a `#[model]` or `#[guide]` function.
///
/// ```
/// use pyro::prelude::*;
///
/// #[model]
/// fn m(data: &[f64]) {
///     let z = sample!("z", Normal::new(0.0, 1.0));
///     plate!("data", data.len(), subsample_size = 2, |idx| {
///         let x: Vec<f64> = idx.iter().map(|&i| data[i]).collect();
///         sample!("x", Normal::new(&z, 1.0), obs = x);
///     });
///     plate!("seq", 2, for i {
///         sample!(format!("y_{i}"), Normal::new(&z, 1.0), obs = data[i]);
///     });
/// }
/// # let _ = m;
/// ```
#[proc_macro]
pub fn plate(_input: TokenStream) -> TokenStream {
    expand::outside("plate").into()
}

/// A Markov loop: `markov!(for t in steps { body })`, where step `t` may use values of step `t - 1`
/// only (`markov!(history = h, for t in steps { body })` for `h` steps back).
///
/// An ordinary loop, except under enumeration ([`TraceEnumElbo`](../pyro/infer/struct.TraceEnumElbo.html)):
/// each enumerated state is summed out as soon as the loop has moved past it, so a hidden Markov
/// chain of length `T` with `K` states costs `O(T K^2)`, not `O(K^T)` (Pyro's `pyro.markov`).
/// The body is a closure: `return` leaves the step, not the model.
///
/// Only valid inside a `#[model]` or `#[guide]` function.
///
/// ```
/// use pyro::prelude::*;
///
/// #[model]
/// fn hmm(ys: &[f64]) {
///     let trans = Tensor::from_rows(&[vec![0.9, 0.1], vec![0.2, 0.8]]).unwrap();
///     let locs = Tensor::from_slice(&[-1.0, 1.0]);
///     let mut x = Tensor::scalar(0.0);
///     markov!(for t in 0..ys.len() {
///         x = sample!(format!("x_{t}"), Categorical::new(trans.index_by(&x)), enumerate);
///         sample!(format!("y_{t}"), Normal::new(locs.index_by(&x), 1.0), obs = ys[t]);
///     });
/// }
/// # let _ = hmm;
/// ```
#[proc_macro]
pub fn markov(_input: TokenStream) -> TokenStream {
    expand::outside("markov").into()
}

/// Adds a term to the log-density of the model: `factor!(name, log_density)` (summed).
///
/// Only valid inside a `#[model]` or `#[guide]` function.
///
/// ```
/// use pyro::prelude::*;
///
/// #[model]
/// fn m() {
///     let z = sample!("z", Normal::new(0.0, 1.0));
///     factor!("penalty", -(&z * &z));
/// }
/// # let _ = m;
/// ```
#[proc_macro]
pub fn factor(_input: TokenStream) -> TokenStream {
    expand::outside("factor").into()
}

/// Records a value as a site without adding to the log-density: `deterministic!(name, value)`
/// (seen by traces and `Predictive`); returns the value as a `Tensor`.
///
/// Only valid inside a `#[model]` or `#[guide]` function.
///
/// ```
/// use pyro::prelude::*;
///
/// #[model]
/// fn m() {
///     let z = sample!("z", Normal::new(0.0, 1.0));
///     deterministic!("z2", &z * &z);
/// }
/// # let _ = m;
/// ```
#[proc_macro]
pub fn deterministic(_input: TokenStream) -> TokenStream {
    expand::outside("deterministic").into()
}

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod tests;
