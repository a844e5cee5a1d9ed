//! Procedural macros of pyro-rs: `#[model]`, `#[guide]` and the site macros (`sample!`,
//! `param!`, `plate!`, `factor!`, `deterministic!`, `call!`) that they rewrite.
//!
//! Use them through the `pyro` facade crate (`use pyro::prelude::*;`): the generated code refers
//! to `::pyro::__private`.
//!
//! The crate is organised like `serde_derive`: `parse` reads the function and the attribute,
//! `rewrite` rewrites the site macros of the body at the token level and records the static
//! description of the function (its sites), `check` holds the compile-time checks (duplicate
//! sites within a function, guide against model), and `expand` generates the `Model`
//! implementation and the model's description macro.

use proc_macro::TokenStream;

mod check;
mod expand;
mod parse;
mod rewrite;

/// Turns a function into a model: a unit value implementing `pyro::infer::Model`.
///
/// `#[model] fn coin(data: &[f64]) { ... }` defines a constant-like unit struct `coin` (same
/// visibility and docs) with `Args<'a> = &'a [f64]` (several arguments become a tuple, none
/// `()`), `Output` the return type and `NAME = "coin"`. Inside the body, `sample!`, `param!`,
/// `plate!`, `factor!`, `deterministic!` and `call!` are rewritten into calls on a hidden handler
/// context that user code cannot name.
///
/// The model also records its static description (literal site names, observed sites, argument
/// types) so that a `#[guide(model = coin)]` is checked against it at compile time.
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
    expand::model(attr.into(), item.into()).into()
}

/// Turns a function into the guide of a model: `#[guide(model = path::to::model)]`.
///
/// It expands like [`macro@model`] (a unit value implementing `Model`), and checks itself
/// against the model's static description at compile time: every latent model site with a
/// literal name must be sampled by the guide (unless the guide builds names at run time or calls
/// sub-guides), every guide site must exist in the model and be latent there and not enumerated,
/// the arguments must have the same types, and a guide may not observe (`obs =`). Names built at
/// run time (`format!`) are checked when inference runs instead.
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
    expand::guide(attr.into(), item.into()).into()
}

/// A random site: `sample!(name, dist)`, `sample!(name, dist, obs = value)` or
/// `sample!(name, dist, enumerate)`; returns the value as a `Tensor`.
///
/// `name` is a string literal (checked at compile time against the guide or model) or any
/// expression that converts into a site name, e.g. `format!("x_{i}")` (checked at run time).
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

/// Runs another `#[model]` (or `#[guide]`) with the same handler context:
/// `call!(sub_model, arg1, arg2, ...)`, returning its output. Its sites become sites of the
/// caller (so the caller's sites can no longer be checked exhaustively at compile time: the check
/// happens at run time).
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

/// Not a public API: compares a guide with its model's static description (invoked by the
/// description macro that `#[model]` emits).
#[doc(hidden)]
#[proc_macro]
pub fn check_guide(input: TokenStream) -> TokenStream {
    check::check_guide(input.into()).into()
}

#[cfg(test)]
mod tests;
