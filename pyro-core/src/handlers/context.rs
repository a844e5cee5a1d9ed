//! The context that `#[model]` and `#[guide]` thread through user code: the handler stack, the
//! random generator, the parameter store and the autodiff tape of the current step.

use super::{Message, Messenger};
use crate::constraints::Constraint;
use crate::distributions::{Distribution, IntoDistribution};
use crate::error::{Error, Result};
use crate::params::ParamStore;
use crate::pool::BoxPool;
use crate::rng::{rng_from_seed, Rng};
use crate::spare::Spare;
use crate::tensor::{Tape, TapeStorage, Tensor};
use crate::trace::{InferConfig, PlateStack, SiteKind, SiteName, Trace, TraceStorage};
use crate::transforms::{biject_to, Transform};

/// The reusable allocations of a [`Context`] between two steps of an inference loop: the tape,
/// the blocks of boxed distributions and handlers, cleared traces and the vectors of one run.
/// [`crate::infer::Svi`] keeps one, so that a step after the first allocates (almost) nothing.
///
/// It is `Send` by construction: what it keeps of the step's tensors, traces and handlers is
/// the capacity of emptied vectors (`Spare`), raw blocks (`BoxPool`) and a cleared tape
/// that no tensor refers to ([`TapeStorage`]), so an `Svi` can move to another thread.
#[derive(Default)]
pub struct StepStorage {
    tape: TapeStorage,
    pool: BoxPool,
    stack: Spare<Box<dyn Messenger>>,
    leaves: Spare<(usize, Tensor)>,
    constrained: Spare<Option<Tensor>>,
    traces: Vec<TraceStorage>,
    subsamples: Vec<(SiteName, std::sync::Arc<[usize]>)>,
    ranges: Vec<std::sync::Arc<[usize]>>,
}

// `Svi` relies on this being `Send` with no `unsafe impl` of its own: checked at compile time.
const _: fn() = || {
    fn send<T: Send>() {}
    send::<StepStorage>();
};

impl From<TapeStorage> for StepStorage {
    fn from(tape: TapeStorage) -> StepStorage {
        StepStorage {
            tape,
            ..StepStorage::default()
        }
    }
}

/// The execution context of models and guides. The macros pass it implicitly; inference
/// algorithms create one per step.
pub struct Context {
    pub(crate) params: ParamStore,
    pub(crate) rng: Rng,
    pub(crate) tape: Tape,
    stack: Vec<Box<dyn Messenger>>,
    /// Blocks for boxed distributions and handlers, reused across sites and steps.
    pub(crate) pool: BoxPool,
    /// Cleared traces, for the next runs to record into.
    traces: Vec<Trace>,
    error: Option<Error>,
    /// Unconstrained leaves of the parameters read in this run: (store position, leaf).
    pub(crate) leaves: Vec<(usize, Tensor)>,
    /// Constrained value of each parameter read in this run, by store position.
    constrained: Vec<Option<Tensor>>,
    /// Active plates, outermost first.
    pub(crate) plates: PlateStack,
    /// Whether `param!` values are recorded as differentiable leaves.
    pub(crate) grad_params: bool,
    /// Subsample indices drawn in this step, by plate name.
    pub(crate) subsamples: Vec<(SiteName, std::sync::Arc<[usize]>)>,
    /// `0..n` for the sizes of full (not subsampled) plates, kept across steps.
    pub(crate) ranges: Vec<std::sync::Arc<[usize]>>,
    /// Set when this run evaluates one shard of a sharded plate (threads or MPI ranks).
    pub(crate) shard: Option<crate::infer::ShardRole>,
    /// Whether observed values are checked against their distribution's support.
    validate: bool,
}

impl Context {
    /// A standalone context with an empty parameter store and a seeded generator.
    pub fn new(seed: u64) -> Context {
        Context::from_step_parts(
            ParamStore::new(),
            rng_from_seed(seed),
            StepStorage::default(),
        )
    }

    /// A context over an existing parameter store and generator, reusing a recycled tape.
    pub fn from_parts(params: ParamStore, rng: Rng, storage: TapeStorage) -> Context {
        Context::from_step_parts(params, rng, StepStorage::from(storage))
    }

    /// A context over an existing parameter store and generator, reusing the allocations of an
    /// earlier step (see [`Context::into_step_parts`]).
    pub fn from_step_parts(params: ParamStore, rng: Rng, storage: StepStorage) -> Context {
        let StepStorage {
            tape,
            pool,
            stack,
            leaves,
            constrained,
            traces,
            subsamples,
            ranges,
        } = storage;
        Context {
            params,
            rng,
            tape: Tape::from_storage(tape),
            stack: stack.into_vec(),
            pool,
            traces: traces.into_iter().map(Trace::from_storage).collect(),
            error: None,
            leaves: leaves.into_vec(),
            constrained: constrained.into_vec(),
            plates: PlateStack::new(),
            grad_params: true,
            subsamples,
            ranges,
            shard: None,
            validate: true,
        }
    }

    /// Takes the context apart again (the tape is recycled for reuse).
    pub fn into_parts(self) -> (ParamStore, Rng, TapeStorage) {
        let (params, rng, storage) = self.into_step_parts();
        (params, rng, storage.tape)
    }

    /// Takes the context apart, keeping all its reusable allocations for the next step.
    pub fn into_step_parts(self) -> (ParamStore, Rng, StepStorage) {
        let Context {
            params,
            rng,
            tape,
            stack,
            pool,
            traces,
            leaves,
            constrained,
            mut subsamples,
            ranges,
            ..
        } = self;
        // Everything that refers to the tape goes before it is recycled.
        let stack = Spare::new(stack);
        let leaves = Spare::new(leaves);
        let constrained = Spare::new(constrained);
        subsamples.clear();
        let traces = traces.into_iter().map(Trace::into_storage).collect();
        let storage = StepStorage {
            tape: tape.recycle(),
            pool,
            stack,
            leaves,
            constrained,
            traces,
            subsamples,
            ranges,
        };
        (params, rng, storage)
    }

    /// A cleared trace to record a run into (recycled from an earlier run when there is one).
    pub(crate) fn take_trace(&mut self) -> Trace {
        self.traces.pop().unwrap_or_default()
    }

    /// Gives a trace back for a later run to reuse its allocations.
    pub(crate) fn recycle_trace(&mut self, mut trace: Trace) {
        if self.traces.len() < 8 {
            trace.clear();
            self.traces.push(trace);
        }
    }

    /// The parameter store.
    pub fn params(&self) -> &ParamStore {
        &self.params
    }

    /// The parameter store, mutably.
    pub fn params_mut(&mut self) -> &mut ParamStore {
        &mut self.params
    }

    /// Whether sample sites check observed values against the support of their distribution
    /// (on by default, as Pyro's `validate_args`).
    pub fn validation(&self) -> bool {
        self.validate
    }

    /// Switches the check of observed values against their distribution's support on or off.
    ///
    /// On (the default), an observation outside the support (a Bernoulli observation of 2 or
    /// 0.5, a negative or fractional count, a Beta observation outside `[0, 1]`, a simplex row
    /// not summing to 1) is an [`Error::OutOfSupport`] naming the site and the distribution.
    /// Off saves a pass over every observation per step; such an observation is then scored by
    /// the distribution's formula (`-inf`, or for Bernoulli the cross-entropy of a soft target).
    /// The setting belongs to this context only; `Svi::validate` sets it for every step.
    ///
    /// ```
    /// use pyro_core::prelude::*;
    /// use pyro_core::handlers::Context;
    /// let mut ctx = Context::new(0);
    /// ctx.sample("x", Bernoulli::new(0.3), Some(Tensor::from(2.0)));
    /// assert!(ctx.take_error().unwrap().to_string().contains("outside the support of Bernoulli"));
    /// ctx.set_validation(false);
    /// ctx.sample("y", Bernoulli::new(0.3), Some(Tensor::from(2.0)));
    /// assert!(ctx.take_error().is_none());
    /// ```
    pub fn set_validation(&mut self, on: bool) {
        self.validate = on;
    }

    /// The random generator.
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// The autodiff tape of this run.
    pub fn tape(&self) -> &Tape {
        &self.tape
    }

    /// The first error raised in this run (invalid distribution parameters, shape errors,
    /// duplicate sites, ...), taken out of the context.
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }

    /// Records an error (the first one wins) and returns a poisoned tensor carrying it.
    pub fn fail(&mut self, e: Error) -> Tensor {
        if self.error.is_none() {
            self.error = Some(e.clone());
        }
        Tensor::poisoned(e)
    }

    /// Runs `f` with `handler` pushed on the handler stack, then hands the handler back.
    pub fn with_handler<H: Messenger, R>(
        &mut self,
        handler: H,
        f: impl FnOnce(&mut Context) -> R,
    ) -> (R, H) {
        let boxed: Box<dyn Messenger> = self.pool.alloc(handler);
        self.stack.push(boxed);
        let r = f(self);
        let h = self
            .stack
            .pop()
            .and_then(|b| b.into_any().downcast::<H>().ok());
        match h {
            Some(h) => (r, self.pool.unbox(h)),
            // Only reachable if `f` unbalanced the stack, which the public API cannot do.
            None => unreachable!("handler stack unbalanced"),
        }
    }

    /// Runs `f` out of sight of the current handlers (an empty stack, no open plate) and returns
    /// its trace and error: how autoguides discover the latent sites of their model.
    pub fn prototype_trace<R>(
        &mut self,
        f: impl FnOnce(&mut Context) -> R,
    ) -> (R, crate::trace::Trace, Option<Error>) {
        let stack = std::mem::take(&mut self.stack);
        let plates = std::mem::take(&mut self.plates);
        let outer_error = self.error.take();
        let (r, tr) = self.with_handler(super::TraceMessenger::new(), f);
        let error = self.error.take();
        self.stack = stack;
        self.plates = plates;
        self.error = outer_error;
        (r, tr.into_trace(), error)
    }

    /// Prepares a run of a model or guide: no plate is open; with `new_subsample`, plates draw
    /// fresh subsample indices (a new particle), otherwise they reuse this particle's.
    pub(crate) fn begin_run(&mut self, new_subsample: bool) {
        self.plates.clear();
        if new_subsample {
            self.subsamples.clear();
        }
    }

    /// Tells every handler about a `markov` loop boundary.
    pub(crate) fn notify_markov(&mut self, event: super::MarkovEvent) {
        for h in self.stack.iter_mut() {
            h.markov(event);
        }
    }

    fn apply_stack(&mut self, msg: &mut Message) {
        let n = self.stack.len();
        let mut reached = 0;
        for h in self.stack.iter_mut().rev() {
            reached += 1;
            h.process_message(msg);
            if msg.stop {
                break;
            }
        }
        if msg.value.is_none() && msg.error.is_none() {
            if let Some(d) = &msg.dist {
                if let Some(e) = self.shard.as_ref().and_then(|r| r.refuse_draw(d.as_ref())) {
                    msg.error = Some(e);
                    return;
                }
                match draw(d.as_ref(), &mut self.rng) {
                    Ok(v) => msg.value = Some(v),
                    Err(e) => msg.error = Some(e),
                }
            }
        }
        for h in self.stack[n - reached..].iter_mut() {
            h.postprocess_message(msg);
        }
    }

    /// A `sample!` statement: draws (or observes, with `obs`) a value from `dist` at site `name`.
    pub fn sample<D: IntoDistribution>(
        &mut self,
        name: impl Into<SiteName>,
        dist: D,
        obs: Option<Tensor>,
    ) -> Tensor {
        self.sample_with(name, dist, obs, InferConfig::default())
    }

    /// [`Context::sample`] with inference settings.
    pub fn sample_with<D: IntoDistribution>(
        &mut self,
        name: impl Into<SiteName>,
        dist: D,
        obs: Option<Tensor>,
        infer: InferConfig,
    ) -> Tensor {
        let name = name.into();
        let dist = match dist.into_distribution() {
            Ok(d) => d,
            Err(e) => return self.fail(e.at_site(&name)),
        };
        if let Some(e) = obs.as_ref().and_then(|o| o.error()) {
            let e = e.clone().at_site(&name);
            return self.fail(e);
        }
        let dist = self.pool.boxed_dist(dist);
        let dist = match super::plate::fit_to_plates(&name, dist, &self.plates, &mut self.pool) {
            Ok(d) => d,
            Err(e) => return self.fail(e),
        };
        let mut msg = Message {
            kind: SiteKind::Sample,
            is_observed: obs.is_some(),
            name,
            dist: Some(dist),
            value: obs,
            // Subsampled plates scale the log-density by size / subsample_size: unbiased. A site
            // outside a sharded plate counts on the first shard only (scale 0 on the others), so
            // that the shards' sums are the ELBO of the whole data.
            scale: match &self.shard {
                Some(r) if !r.counts(&self.plates) => 0.0,
                _ => self
                    .plates
                    .iter()
                    .map(|p| p.size as f64 / p.subsample_size as f64)
                    .product(),
            },
            mask: None,
            plates: self.plates.clone(),
            infer,
            stop: false,
            error: None,
        };
        self.apply_stack(&mut msg);
        self.finish(msg)
    }

    /// A `param!` statement: the constrained value of parameter `name`, initialised from `init`
    /// (a constrained value) the first time the name is seen.
    pub fn param<T: Into<Tensor>>(
        &mut self,
        name: impl Into<SiteName>,
        init: impl FnOnce() -> T,
        constraint: Constraint,
    ) -> Tensor {
        let name = name.into();
        let value = match self.param_value(&name, init, &constraint) {
            Ok(v) => v,
            Err(e) => return self.fail(e.at_site(&name)),
        };
        let mut msg = Message {
            kind: SiteKind::Param,
            name,
            dist: None,
            value: Some(value),
            is_observed: false,
            scale: 1.0,
            mask: None,
            plates: PlateStack::new(),
            infer: InferConfig::default(),
            stop: false,
            error: None,
        };
        self.apply_stack(&mut msg);
        self.finish(msg)
    }

    fn finish(&mut self, mut msg: Message) -> Tensor {
        let value = self.finish_value(&msg);
        if let Some(d) = msg.dist.take() {
            self.pool.recycle(d);
        }
        value
    }

    fn finish_value(&mut self, msg: &Message) -> Tensor {
        if let Some(e) = &msg.error {
            return self.fail(e.clone().at_site(&msg.name));
        }
        // An enumerated value carries its own dimension left of the batch: not a misfit.
        if let (Some(d), Some(v), false) = (&msg.dist, &msg.value, msg.infer.enumerate) {
            if let Err(e) = super::plate::check_value(&msg.name, d.as_ref(), v, &msg.plates) {
                return self.fail(e);
            }
            if msg.is_observed && self.validate {
                if let Err(e) = d.check_support(v) {
                    return self.fail(e.at_site(&msg.name));
                }
            }
        }

        match &msg.value {
            Some(v) => match v.error() {
                Some(e) => {
                    let e = e.clone().at_site(&msg.name);
                    self.fail(e)
                }
                None => v.clone(),
            },
            None => self.fail(Error::Invalid("no value was produced".into()).at_site(&msg.name)),
        }
    }

    fn param_value<T: Into<Tensor>>(
        &mut self,
        name: &str,
        init: impl FnOnce() -> T,
        constraint: &Constraint,
    ) -> Result<Tensor> {
        let i = self
            .params
            .get_or_init(name, || init().into(), constraint)?;
        if let Some(Some(v)) = self.constrained.get(i) {
            return Ok(v.clone());
        }
        let unconstrained = self.params.at(i).unconstrained();
        let leaf = if self.grad_params {
            self.tape.leaf(unconstrained)
        } else {
            unconstrained
        };
        let value = biject_to(constraint)?.forward(&leaf).check()?;
        if self.grad_params {
            self.leaves.push((i, leaf));
        }
        if self.constrained.len() <= i {
            self.constrained.resize(i + 1, None);
        }
        self.constrained[i] = Some(value.clone());
        Ok(value)
    }
}

/// The default behaviour of a sample site: a reparameterised draw where the distribution has one,
/// so that gradients flow through it, otherwise a plain draw.
pub(crate) fn draw(d: &dyn Distribution, rng: &mut Rng) -> Result<Tensor> {
    if d.has_rsample() {
        d.rsample(rng)
    } else {
        Ok(d.sample(rng))
    }
}
