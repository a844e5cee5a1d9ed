//! The [`Model`] trait, what `#[model]` and `#[guide]` turn a function into, and
//! [`GuideFor`], the pairing of a guide with its model that inference requires.

use super::description::SiteDesc;
use crate::handlers::Context;

/// A model or guide: a stochastic function of its arguments, run inside a [`Context`].
///
/// `#[model]` and `#[guide]` implement this trait for you: `#[model] fn coin(data: &[f64])`
/// becomes a constant `coin` of a unit type whose `Args<'a>` is `&'a [f64]`. A function of several
/// arguments takes them as a tuple; a function of none takes `()`. Autoguides and hand-written
/// types implement it directly.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model",
    label = "not a model",
    note = "a model is a function marked `#[model]` (or `#[guide(model = ...)]`), an autoguide, or a type that implements `Model` by hand"
)]
pub trait Model {
    /// The arguments, as one value (a tuple for several).
    type Args<'a>;
    /// What the function returns.
    type Output;
    /// The function's name, for error messages.
    const NAME: &'static str;
    /// The function's static description: its sites, with their names as far as they are known
    /// at compile time and their roles (see [`description`](super::description)). `#[model]`
    /// and `#[guide]` write it; `#[guide(model = M)]` compares its own with `M`'s while
    /// compiling. The default, for types that implement `Model` by hand, says "any site": such
    /// a model or guide is checked when inference runs.
    const SITES: &'static [SiteDesc] = &[SiteDesc::UNKNOWN];
    /// Runs the function.
    fn call<'a>(&self, ctx: &mut Context, args: Self::Args<'a>) -> Self::Output;
}

impl<M: Model> Model for &M {
    type Args<'a> = M::Args<'a>;
    type Output = M::Output;
    const NAME: &'static str = M::NAME;
    const SITES: &'static [SiteDesc] = M::SITES;
    fn call<'a>(&self, ctx: &mut Context, args: Self::Args<'a>) -> Self::Output {
        (**self).call(ctx, args)
    }
}

/// A guide of model `M`: what [`Svi`](super::Svi), [`Predictive`](super::Predictive) and the
/// ELBOs require of their guide, so that a guide of another model, or a model and guide passed
/// in the wrong order, do not compile. (`M: Model` is required where the pair is used, not by
/// the trait: a `#[guide(model = NotAModel)]` then reports one error, not two.)
///
/// Implemented by
/// - `#[guide(model = M)]`, after checking at compile time that the guide samples every latent
///   site of `M` that has a known name, samples no site that `M` does not have as a latent one,
///   and takes the same arguments;
/// - the autoguides, for every model (an autoguide is built from the model it guides);
/// - by hand, for a guide type written by hand: `impl GuideFor<MyModel> for MyGuide {}` (and
///   [`WrittenGuide`], see below). Its sites are then checked when inference runs.
///
/// A reference to a guide guides the same model (`Predictive::new(model, svi.guide(), ..)`):
/// `#[guide]` and the autoguides also implement `GuideFor<M>` for `&Guide`. There is no blanket
/// `impl GuideFor<M> for &G`: it would overlap the wrappers' blanket below.
///
/// Composition: a handler that wraps a model into a new model type (`condition`, `block`,
/// `scale`, ...) passes the guides of the inner model on with a blanket implementation over
/// guides written for one model, in this crate (where the wrapper type is defined; the unit test
/// `a_wrapper_passes_written_guides_on` compiles exactly this beside the autoguides):
///
/// ```ignore
/// /// A model with some sites conditioned on data.
/// pub struct Conditioned<M>(M);
/// impl<M: Model> Model for Conditioned<M> { /* runs `M` under a condition handler */ }
/// // Every guide written for `M` guides `Conditioned<M>`. Coherent beside the autoguides'
/// // `impl<M: Model> GuideFor<M> for AutoNormal<M>` (and for `&AutoNormal<M>`) because no
/// // autoguide is a `WrittenGuide`, and no downstream crate can make one; an autoguide of the
/// // wrapped model is built from it: `AutoNormal::new(Conditioned(m))`.
/// impl<M: Model, G: GuideFor<M> + WrittenGuide> GuideFor<Conditioned<M>> for G {}
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a guide of model `{M}`",
    label = "not a guide of `{M}`",
    note = "a guide declares its model with `#[guide(model = ...)]`; an autoguide (`AutoNormal::new(model)`) guides the model it is built from",
    note = "`Svi::new`, `Predictive::new` and the ELBOs take the model first, then its guide"
)]
pub trait GuideFor<M>: Model {}

/// A guide written for one particular model: by `#[guide(model = M)]`, or by hand (then also
/// implement this marker). Autoguides are not: each is a guide of the model it was built from.
///
/// The marker is what lets a handler wrapper pass written guides on to the wrapped model without
/// overlapping the autoguides' implementations (see [`GuideFor`]).
pub trait WrittenGuide: Model {}

/// The type-level comparison behind `#[guide(model = M)]`'s argument check: implemented only
/// when `Self` (the guide's arguments) is `A` (the model's). `M` and `G` name the model and the
/// guide in the message.
#[diagnostic::on_unimplemented(
    message = "guide `{G}` takes `{Self}`, but its model `{M}` takes `{A}`",
    label = "the arguments of guide `{G}`",
    note = "a guide takes the same arguments as its model (several arguments as one tuple)"
)]
pub trait SameArgs<A, M, G> {}

impl<A, M, G> SameArgs<A, M, G> for A {}

/// Compiles only when the guide `G` takes the arguments `GA` of its model `M`, which take `MA`:
/// emitted by `#[guide(model = M)]`, so that rustc compares the types (aliases agree; two
/// different types of the same name do not).
pub const fn same_args<GA: SameArgs<MA, M, G>, MA, M, G>() {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::Normal;
    use crate::infer::AutoNormal;

    /// A stand-in for the handler wrappers of a later change (`condition(model, data)`).
    struct Conditioned<M>(M);

    impl<M: Model> Model for Conditioned<M> {
        type Args<'a> = M::Args<'a>;
        type Output = M::Output;
        const NAME: &'static str = M::NAME;
        fn call<'a>(&self, ctx: &mut Context, args: M::Args<'a>) -> M::Output {
            self.0.call(ctx, args)
        }
    }

    // The blanket that such a wrapper needs: coherent beside the autoguides' implementations.
    impl<M: Model, G: GuideFor<M> + WrittenGuide> GuideFor<Conditioned<M>> for G {}

    struct Coin;
    impl Model for Coin {
        type Args<'a> = f64;
        type Output = ();
        const NAME: &'static str = "coin";
        fn call<'a>(&self, ctx: &mut Context, x: f64) {
            let z = ctx.sample("z", Normal::new(0.0, 1.0), None);
            ctx.sample("x", Normal::new(z, 1.0), Some(x.into()));
        }
    }

    struct CoinGuide;
    impl Model for CoinGuide {
        type Args<'a> = f64;
        type Output = ();
        const NAME: &'static str = "coin_guide";
        fn call<'a>(&self, ctx: &mut Context, _x: f64) {
            ctx.sample("z", Normal::new(0.0, 1.0), None);
        }
    }
    impl GuideFor<Coin> for CoinGuide {}
    impl GuideFor<Coin> for &CoinGuide {}
    impl WrittenGuide for CoinGuide {}

    fn pair<M: Model, G: GuideFor<M>>(_: &M, _: &G) -> (&'static str, &'static str) {
        (M::NAME, G::NAME)
    }

    #[test]
    fn a_wrapper_passes_written_guides_on() {
        let wrapped = Conditioned(Coin);
        assert_eq!(pair(&wrapped, &CoinGuide), ("coin", "coin_guide"));
        assert_eq!(pair(&Coin, &&CoinGuide), ("coin", "coin_guide"));
        // An autoguide guides the model it is built from, wrapped or not.
        let auto = AutoNormal::new(Conditioned(Coin));
        assert_eq!(pair(&wrapped, &auto), ("coin", "AutoNormal"));
        assert_eq!(pair(&Coin, &&AutoNormal::new(Coin)), ("coin", "AutoNormal"));
    }

    #[test]
    fn a_model_written_by_hand_describes_itself_as_unknown() {
        assert!(matches!(
            <Coin as Model>::SITES,
            [SiteDesc::Site {
                role: crate::infer::description::SiteRole::Unknown,
                ..
            }]
        ));
        assert_eq!(<&Coin as Model>::SITES.len(), 1);
    }
}
