//! Handlers applied to models as values (Pyro's `poutine.condition(model, data)`): each
//! function here takes a model and returns a new value whose type implements [`Model`], so that
//! a conditioned, blocked, intervened on, scaled, masked, seeded or traced model goes wherever a
//! model goes: [`Svi`](crate::infer::Svi), [`Predictive`](crate::infer::Predictive), the
//! autoguides, `call!`, and other handlers.
//!
//! A guide written for a model (`#[guide(model = m)]`) guides the handled model too, through
//! the blanket [`GuideFor`] implementations below (see [`GuideFor`]'s documentation for why they
//! are coherent beside the autoguides'); an autoguide is built from the handled model itself:
//! `AutoNormal::new(condition(m, data))`. An autoguide built from a *blocked* model guides the
//! model itself (Pyro's `AutoDelta(poutine.block(model, expose=[..]))`): it guides the exposed
//! sites only.
//!
//! A handled model's description ([`Model::SITES`]) is its model's where the handler does not
//! change what the sites are (`scale`, `mask`, `seed`, `trace`), and "unknown" where it does
//! (`condition` and `do_` observe sites, `block` hides them): those are checked when inference
//! runs.
//!
//! ```
//! use pyro_core::prelude::*;
//! use pyro_core::handlers::{self, Context};
//!
//! struct Coin;
//! impl Model for Coin {
//!     type Args<'a> = ();
//!     type Output = Tensor;
//!     const NAME: &'static str = "coin";
//!     fn call<'a>(&self, ctx: &mut Context, _: ()) -> Tensor {
//!         ctx.sample("f", Beta::new(10.0, 10.0), None)
//!     }
//! }
//!
//! # fn main() -> pyro_core::Result<()> {
//! // Run a model outside inference: its output and its trace.
//! let (f, trace) = handlers::run(&Coin, (), 0)?;
//! assert_eq!(trace.site("f")?.value.item()?, f.item()?);
//! // Conditioned on `f = 0.3`, the site is observed with that value.
//! let (f, trace) = handlers::run(&handlers::condition(Coin, [("f", 0.3)]), (), 0)?;
//! assert_eq!(f.item()?, 0.3);
//! assert!(trace.site("f")?.is_observed);
//! # Ok(())
//! # }
//! ```

use super::{
    BlockMessenger, ConditionMessenger, Context, DoMessenger, MaskMessenger, ScaleMessenger,
    SeedMessenger, TraceMessenger,
};
use crate::error::Result;
use crate::infer::description::SiteDesc;
use crate::infer::{
    AutoDelta, AutoDiagonalNormal, AutoLowRankMultivariateNormal, AutoMultivariateNormal,
    AutoNormal, GuideFor, Model, WrittenGuide,
};
use crate::tensor::Tensor;
use crate::trace::Trace;

/// Runs `model` on `args` outside inference, with a generator seeded by `seed` and a fresh
/// parameter store (a `param!` takes its initial value), and returns its output and its trace.
/// The first error of the run (an invalid distribution parameter, a duplicate site, ...) is
/// returned instead, naming the site and the model.
pub fn run<'a, M: Model>(model: &M, args: M::Args<'a>, seed: u64) -> Result<(M::Output, Trace)> {
    let mut ctx = Context::new(seed);
    ctx.begin_run(true);
    let (out, tr) = ctx.with_handler(TraceMessenger::new(), |ctx| model.call(ctx, args));
    match ctx.take_error() {
        Some(e) => Err(e.in_function(M::NAME)),
        None => Ok((out, tr.into_trace())),
    }
}

/// Implements `Model` for a wrapper that runs its inner model under one handler, and passes the
/// guides written for the inner model on to it.
macro_rules! handled_model {
    ($wrapper:ident, $sites:expr, |$this:ident| $handler:expr) => {
        #[diagnostic::do_not_recommend]
        impl<M: Model> Model for $wrapper<M> {
            type Args<'a> = M::Args<'a>;
            type Output = M::Output;
            const NAME: &'static str = M::NAME;
            const SITES: &'static [SiteDesc] = $sites;
            fn call<'a>(&self, ctx: &mut Context, args: M::Args<'a>) -> M::Output {
                let $this = self;
                ctx.with_handler($handler, |ctx| $this.model.call(ctx, args))
                    .0
            }
        }

        #[diagnostic::do_not_recommend]
        impl<M: Model, G: GuideFor<M> + WrittenGuide> GuideFor<$wrapper<M>> for G {}
    };
}

/// Pairs of site name and value, converted into tensors.
fn named_values<K: Into<String>, V: Into<Tensor>>(
    data: impl IntoIterator<Item = (K, V)>,
) -> Vec<(String, Tensor)> {
    data.into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

/// A model with some sites observed at given values: [`condition`].
#[derive(Clone, Debug)]
pub struct Conditioned<M> {
    model: M,
    data: Vec<(String, Tensor)>,
}

/// `model` with the sites named in `data` observed at the given values (Pyro's
/// `poutine.condition(model, data)`): a latent site becomes an observed one, so it is scored
/// by the model and the guide must no longer sample it.
pub fn condition<M: Model, K: Into<String>, V: Into<Tensor>>(
    model: M,
    data: impl IntoIterator<Item = (K, V)>,
) -> Conditioned<M> {
    Conditioned {
        model,
        data: named_values(data),
    }
}

handled_model!(Conditioned, &[SiteDesc::UNKNOWN], |this| {
    ConditionMessenger::new(this.data.iter().cloned())
});

/// A model with some sites fixed by intervention: [`do_`].
#[derive(Clone, Debug)]
pub struct Intervened<M> {
    model: M,
    data: Vec<(String, Tensor)>,
}

/// `model` with the sites named in `data` set to the given values by intervention (Pyro's
/// `poutine.do(model, data)`): unlike [`condition`], the values are not scored, and what
/// follows the site sees the value as if it had been chosen from outside the model.
pub fn do_<M: Model, K: Into<String>, V: Into<Tensor>>(
    model: M,
    data: impl IntoIterator<Item = (K, V)>,
) -> Intervened<M> {
    Intervened {
        model,
        data: named_values(data),
    }
}

handled_model!(Intervened, &[SiteDesc::UNKNOWN], |this| {
    DoMessenger::new(this.data.iter().cloned())
});

/// Which sites a [`Blocked`] model hides.
#[derive(Clone, Debug, PartialEq)]
enum Hidden {
    All,
    Named(Vec<String>),
    AllBut(Vec<String>),
}

/// A model whose sites are hidden from the handlers outside it: [`block`].
#[derive(Clone, Debug)]
pub struct Blocked<M> {
    model: M,
    hidden: Hidden,
}

/// `model` with its sites hidden from the handlers outside it (Pyro's `poutine.block`): all of
/// them, or, with [`Blocked::hide`] and [`Blocked::expose`], the named ones or all but the
/// named ones. Hidden sites still run (and draw); an outer trace, an autoguide built from the
/// blocked model, or a condition outside do not see them.
pub fn block<M: Model>(model: M) -> Blocked<M> {
    Blocked {
        model,
        hidden: Hidden::All,
    }
}

impl<M> Blocked<M> {
    /// Hides only the named sites (Pyro's `hide=`).
    pub fn hide<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.hidden = Hidden::Named(names.into_iter().map(Into::into).collect());
        self
    }

    /// Hides every site but the named ones (Pyro's `expose=`).
    pub fn expose<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.hidden = Hidden::AllBut(names.into_iter().map(Into::into).collect());
        self
    }
}

handled_model!(Blocked, &[SiteDesc::UNKNOWN], |this| match &this.hidden {
    Hidden::All => BlockMessenger::all(),
    Hidden::Named(n) => BlockMessenger::hide(n.iter().cloned()),
    Hidden::AllBut(n) => BlockMessenger::expose(n.iter().cloned()),
});

/// An autoguide built from a blocked model guides the model itself: Pyro's
/// `AutoDelta(poutine.block(model, expose=[..]))`, which guides only the exposed sites and
/// leaves the others to the model (enumerated, or observed) or to another guide.
macro_rules! autoguide_of_blocked {
    ($($guide:ident),*) => {$(
        #[diagnostic::do_not_recommend]
        impl<M: Model> GuideFor<M> for $guide<Blocked<M>> {}
        #[diagnostic::do_not_recommend]
        impl<M: Model> GuideFor<M> for &$guide<Blocked<M>> {}
    )*};
}

autoguide_of_blocked!(
    AutoDelta,
    AutoNormal,
    AutoDiagonalNormal,
    AutoMultivariateNormal,
    AutoLowRankMultivariateNormal
);

/// A model whose log-density is multiplied by a factor: [`scale`].
#[derive(Clone, Debug)]
pub struct Scaled<M> {
    model: M,
    factor: f64,
}

/// `model` with the log-density of every sample site multiplied by `factor` (Pyro's
/// `poutine.scale`), e.g. to weigh a minibatch likelihood by `N / batch`.
pub fn scale<M: Model>(model: M, factor: f64) -> Scaled<M> {
    Scaled { model, factor }
}

handled_model!(Scaled, M::SITES, |this| ScaleMessenger(this.factor));

/// A model whose log-density is masked: [`mask`].
#[derive(Clone, Debug)]
pub struct Masked<M> {
    model: M,
    mask: Tensor,
}

/// `model` with the log-density of every sample site multiplied by a 0/1 `mask`, broadcast
/// against the site's batch shape (Pyro's `poutine.mask`), e.g. to leave missing observations
/// out.
pub fn mask<M: Model>(model: M, mask: impl Into<Tensor>) -> Masked<M> {
    Masked {
        model,
        mask: mask.into(),
    }
}

handled_model!(Masked, M::SITES, |this| MaskMessenger(this.mask.clone()));

/// A model with a generator of its own: [`seed`].
#[derive(Clone, Debug)]
pub struct Seeded<M> {
    model: M,
    seed: u64,
}

/// `model` drawing its sites from a generator seeded with `seed` at every call (Pyro's
/// `poutine.seed`): its draws are the same on every run and do not disturb the caller's
/// generator.
pub fn seed<M: Model>(model: M, seed: u64) -> Seeded<M> {
    Seeded { model, seed }
}

handled_model!(Seeded, M::SITES, |this| SeedMessenger::new(this.seed));

/// A model that returns its trace with its output: [`trace`].
#[derive(Clone, Debug)]
pub struct Traced<M> {
    model: M,
}

/// `model` returning `(output, trace)` (Pyro's `poutine.trace(model)`); with
/// [`Traced::get_trace`] it runs on its own.
pub fn trace<M: Model>(model: M) -> Traced<M> {
    Traced { model }
}

impl<M: Model> Traced<M> {
    /// Runs the model outside inference, seeded with `seed`, and returns its trace (Pyro's
    /// `poutine.trace(model).get_trace(*args)`).
    pub fn get_trace<'a>(&self, args: M::Args<'a>, seed: u64) -> Result<Trace> {
        Ok(run(&self.model, args, seed)?.1)
    }
}

#[diagnostic::do_not_recommend]
impl<M: Model> Model for Traced<M> {
    type Args<'a> = M::Args<'a>;
    type Output = (M::Output, Trace);
    const NAME: &'static str = M::NAME;
    const SITES: &'static [SiteDesc] = M::SITES;
    fn call<'a>(&self, ctx: &mut Context, args: M::Args<'a>) -> (M::Output, Trace) {
        let (out, tr) = ctx.with_handler(TraceMessenger::new(), |ctx| self.model.call(ctx, args));
        (out, tr.into_trace())
    }
}

#[diagnostic::do_not_recommend]
impl<M: Model, G: GuideFor<M> + WrittenGuide> GuideFor<Traced<M>> for G {}
