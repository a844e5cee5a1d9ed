//! What the site macros of the model language expand to: `sample!(name, dist)` becomes
//! `language::sample(name, dist, ctx)`, and so on. The user's expressions are passed straight
//! as arguments, so the trait bounds of these functions carry the compile errors a user should
//! see, spanned on the user's own tokens (`sample!(42, ..)`: "`{integer}` is not a site name";
//! `sample!("z", 1.0)`: "`{float}` is not a distribution"). The context comes last: the other
//! arguments, which may hold site macros of their own, are evaluated before it is borrowed.
//!
//! These functions are public so that the generated code can name them; a model written by
//! hand calls the methods of [`Context`] instead.

use super::Model;
use crate::constraints::Constraint;
use crate::distributions::{Discrete, IntoDistribution};
use crate::handlers::{Context, PlateOpts};
use crate::nn::{Bound, Module};
use crate::tensor::Tensor;
use crate::trace::{InferConfig, SiteName};

/// What a site name may be: a string literal or other `&'static str`, a `String` (from
/// `format!`), or a [`SiteName`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a site name",
    label = "expected a string",
    note = "a site name is a string literal (`\"z\"`), a `const` or `concat!` of them, or a `String` built at run time (`format!(\"x_{{i}}\")`)"
)]
pub trait IntoSiteName {
    /// The name.
    fn into_site_name(self) -> SiteName;
}

impl IntoSiteName for &'static str {
    fn into_site_name(self) -> SiteName {
        SiteName::new_static(self)
    }
}

impl IntoSiteName for String {
    fn into_site_name(self) -> SiteName {
        SiteName::from(self)
    }
}

impl IntoSiteName for SiteName {
    fn into_site_name(self) -> SiteName {
        self
    }
}

/// A site name (of a sequential `plate!`).
#[inline]
pub fn site_name<N: IntoSiteName>(name: N) -> SiteName {
    name.into_site_name()
}

/// `sample!(name, dist)`.
#[inline]
pub fn sample<N: IntoSiteName, D: IntoDistribution>(name: N, dist: D, ctx: &mut Context) -> Tensor {
    ctx.sample(name.into_site_name(), dist, None)
}

/// `sample!(name, dist, obs = value)`: `value` is anything that converts into a tensor (a
/// number, a `Vec` or slice of numbers, a `Tensor`).
#[inline]
pub fn sample_observed<N: IntoSiteName, D: IntoDistribution, V: Into<Tensor>>(
    name: N,
    dist: D,
    value: V,
    ctx: &mut Context,
) -> Tensor {
    ctx.sample(name.into_site_name(), dist, Some(value.into()))
}

/// `sample!(name, dist, enumerate)`: the distribution must be discrete, which makes enumerating
/// a continuous distribution a compile error.
#[inline]
pub fn sample_enumerated<N: IntoSiteName, D: IntoDistribution + Discrete>(
    name: N,
    dist: D,
    ctx: &mut Context,
) -> Tensor {
    let infer = InferConfig {
        enumerate: true,
        ..InferConfig::default()
    };
    ctx.sample_with(name.into_site_name(), dist, None, infer)
}

/// `param!(name, init, constraint = c)`: `init` is evaluated the first time the parameter is
/// seen.
#[inline]
pub fn param<N: IntoSiteName, T: Into<Tensor>>(
    name: N,
    init: impl FnOnce() -> T,
    constraint: Constraint,
    ctx: &mut Context,
) -> Tensor {
    ctx.param(name.into_site_name(), init, constraint)
}

/// `module!(name, &net)`: binds the network's parameters under `name.*` (see
/// [`nn::module`](crate::nn::module)) and returns the bound network, whose `forward` records on
/// the tape.
#[inline]
pub fn module<'m, N: IntoSiteName, M: Module + ?Sized>(
    name: N,
    module: &'m M,
    ctx: &mut Context,
) -> Bound<'m, M> {
    crate::nn::bind(ctx, name.into_site_name(), module)
}

/// `factor!(name, log_density)`.
#[inline]
pub fn factor<N: IntoSiteName, V: Into<Tensor>>(
    name: N,
    log_density: V,
    ctx: &mut Context,
) -> Tensor {
    ctx.factor(name.into_site_name(), log_density.into())
}

/// `deterministic!(name, value)`.
#[inline]
pub fn deterministic<N: IntoSiteName, V: Into<Tensor>>(
    name: N,
    value: V,
    ctx: &mut Context,
) -> Tensor {
    ctx.deterministic(name.into_site_name(), value.into())
}

/// `call!(model, args..)`: runs `model` with the caller's context.
#[inline]
pub fn call<'a, M: Model>(model: &M, args: M::Args<'a>, ctx: &mut Context) -> M::Output {
    model.call(ctx, args)
}

/// `plate!(name, size, [subsample_size = k,] [dim = d,] |idx| body)`.
#[inline]
pub fn plate<N: IntoSiteName, R>(
    name: N,
    size: usize,
    subsample_size: Option<usize>,
    dim: Option<isize>,
    body: impl FnOnce(&mut Context, &[usize]) -> R,
    ctx: &mut Context,
) -> R {
    let opts = PlateOpts {
        subsample_size,
        dim,
    };
    ctx.plate(name.into_site_name(), size, opts, body)
}

/// `markov!([history = h,] for t in steps { body })`.
#[inline]
pub fn markov<I: IntoIterator>(
    history: usize,
    steps: I,
    body: impl FnMut(&mut Context, I::Item),
    ctx: &mut Context,
) {
    ctx.markov_with_history(history, steps, body);
}
