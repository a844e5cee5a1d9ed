//! The [`Model`] trait: what `#[model]` and `#[guide]` turn a function into.

use crate::handlers::Context;

/// A model or guide: a stochastic function of its arguments, run inside a [`Context`].
///
/// `#[model]` and `#[guide]` implement this trait for you: `#[model] fn coin(data: &[f64])`
/// becomes a constant `coin` of a unit type whose `Args<'a>` is `&'a [f64]`. A function of several
/// arguments takes them as a tuple; a function of none takes `()`. Autoguides and hand-written
/// types implement it directly.
pub trait Model {
    /// The arguments, as one value (a tuple for several).
    type Args<'a>;
    /// What the function returns.
    type Output;
    /// The function's name, for error messages.
    const NAME: &'static str;
    /// Runs the function.
    fn call<'a>(&self, ctx: &mut Context, args: Self::Args<'a>) -> Self::Output;
}

impl<M: Model> Model for &M {
    type Args<'a> = M::Args<'a>;
    type Output = M::Output;
    const NAME: &'static str = M::NAME;
    fn call<'a>(&self, ctx: &mut Context, args: Self::Args<'a>) -> Self::Output {
        (**self).call(ctx, args)
    }
}
