//! The context that `#[model]` and `#[guide]` thread through user code: the handler stack, the
//! random generator, the parameter store and the autodiff tape of the current step.

use super::{Message, Messenger};
use crate::constraints::Constraint;
use crate::distributions::{Distribution, IntoDistribution};
use crate::error::{Error, Result};
use crate::params::ParamStore;
use crate::rng::{rng_from_seed, Rng};
use crate::tensor::{Tape, TapeStorage, Tensor};
use crate::trace::{InferConfig, PlateFrame, SiteKind, SiteName};
use crate::transforms::{biject_to, Transform};

/// The execution context of models and guides. The macros pass it implicitly; inference
/// algorithms create one per step.
pub struct Context {
    pub(crate) params: ParamStore,
    pub(crate) rng: Rng,
    pub(crate) tape: Tape,
    stack: Vec<Box<dyn Messenger>>,
    error: Option<Error>,
    /// Unconstrained leaves of the parameters read in this run: (store position, leaf).
    pub(crate) leaves: Vec<(usize, Tensor)>,
    /// Constrained value of each parameter read in this run, by store position.
    constrained: Vec<Option<Tensor>>,
    /// Active plates, outermost first.
    pub(crate) plates: Vec<PlateFrame>,
    /// Whether `param!` values are recorded as differentiable leaves.
    pub(crate) grad_params: bool,
    /// Subsample indices drawn in this step, by plate name.
    pub(crate) subsamples: Vec<(String, std::rc::Rc<[usize]>)>,
    /// Whether observed values are checked against their distribution's support.
    validate: bool,
}

impl Context {
    /// A standalone context with an empty parameter store and a seeded generator.
    pub fn new(seed: u64) -> Context {
        Context::from_parts(
            ParamStore::new(),
            rng_from_seed(seed),
            TapeStorage::default(),
        )
    }

    /// A context over an existing parameter store and generator.
    pub fn from_parts(params: ParamStore, rng: Rng, storage: TapeStorage) -> Context {
        Context {
            params,
            rng,
            tape: Tape::from_storage(storage),
            stack: Vec::new(),
            error: None,
            leaves: Vec::new(),
            constrained: Vec::new(),
            plates: Vec::new(),
            grad_params: true,
            subsamples: Vec::new(),
            validate: true,
        }
    }

    /// Takes the context apart again (the tape is recycled for reuse).
    pub fn into_parts(self) -> (ParamStore, Rng, TapeStorage) {
        let Context {
            params,
            rng,
            tape,
            leaves,
            constrained,
            ..
        } = self;
        drop(leaves);
        drop(constrained);
        (params, rng, tape.recycle())
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
        self.stack.push(Box::new(handler));
        let r = f(self);
        let h = self
            .stack
            .pop()
            .and_then(|b| b.into_any().downcast::<H>().ok());
        match h {
            Some(h) => (r, *h),
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
        let dist = match super::plate::fit_to_plates(&name, Box::new(dist), &self.plates) {
            Ok(d) => d,
            Err(e) => return self.fail(e),
        };
        let mut msg = Message {
            kind: SiteKind::Sample,
            is_observed: obs.is_some(),
            name,
            dist: Some(dist),
            value: obs,
            // Subsampled plates scale the log-density by size / subsample_size: unbiased.
            scale: self
                .plates
                .iter()
                .map(|p| p.size as f64 / p.subsample_size as f64)
                .product(),
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
            plates: Vec::new(),
            infer: InferConfig::default(),
            stop: false,
            error: None,
        };
        self.apply_stack(&mut msg);
        self.finish(msg)
    }

    fn finish(&mut self, msg: Message) -> Tensor {
        if let Some(e) = msg.error {
            return self.fail(e.at_site(&msg.name));
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

        match msg.value {
            Some(v) => match v.error() {
                Some(e) => {
                    let e = e.clone().at_site(&msg.name);
                    self.fail(e)
                }
                None => v,
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
