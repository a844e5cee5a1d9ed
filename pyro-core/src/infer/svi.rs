//! Stochastic variational inference.

use super::{Elbo, GuideFor, Model};
use crate::error::{Error, Result};
use crate::handlers::{Context, StepStorage};
use crate::optim::Optimizer;
use crate::params::ParamStore;
use crate::rng::{rng_from_seed, Rng, RngState};
use crate::tensor::Tensor;

/// Stochastic variational inference: fits the parameters of `guide` (and of `model`) by
/// stochastic gradient steps on an ELBO.
///
/// `Svi` owns its parameter store, optimiser state and random generator: two `Svi`s never share
/// state, and an `Svi` can move to another thread.
/// ```
/// use pyro::prelude::*;
///
/// // mu ~ Normal(0, 10), x_i ~ Normal(mu, 1); the guide is Normal(loc, scale).
/// #[model]
/// fn model(x: &[f64]) {
///     let mu = sample!("mu", Normal::new(0.0, 10.0));
///     plate!("data", x.len(), |_| {
///         sample!("x", Normal::new(mu.clone(), 1.0), obs = x.to_vec());
///     });
/// }
///
/// #[guide(model = model)]
/// fn guide(_x: &[f64]) {
///     let loc = param!("loc", 0.0);
///     let scale = param!("scale", 1.0, constraint = positive);
///     sample!("mu", Normal::new(loc, scale));
/// }
///
/// # fn main() -> pyro::Result<()> {
/// let x = [0.9, 1.4, 1.1, 0.6];
/// let adam = Adam::new(AdamConfig { lr: 0.05, ..Default::default() })
///     .with_schedule(LrSchedule::Exponential { gamma: 0.995 });
/// let mut svi = Svi::new(model, guide, adam, TraceElbo::default()).seed(0);
/// for _ in 0..1000 {
///     svi.step(&x)?;
/// }
/// // The exact posterior is Normal(4 / 4.01, 1 / sqrt(4.01)), in the guide's family.
/// let (loc, scale) = (svi.params().scalar("loc")?, svi.params().scalar("scale")?);
/// assert!((loc - 4.0 / 4.01).abs() < 0.05, "{loc}");
/// assert!((scale - 1.0 / 4.01f64.sqrt()).abs() < 0.05, "{scale}");
/// # Ok(())
/// # }
/// ```
pub struct Svi<M, G, O, L> {
    pub(crate) model: M,
    pub(crate) guide: G,
    optim: O,
    pub(crate) loss: L,
    pub(crate) params: ParamStore,
    rng: Rng,
    storage: StepStorage,
    /// Scratch copies of the parameters a step updates, committed only when all are finite
    /// (kept between steps so that their buffers are reused).
    scratch: Vec<Vec<f64>>,
    /// Whether observed values are checked against their distribution's support.
    pub(super) validate: bool,
    /// Whether [`Svi::run`] draws a progress bar (when standard error is a terminal).
    pub(super) progress: bool,
}

impl<M: Model, G: Model, O: Optimizer, L: Elbo> Svi<M, G, O, L> {
    /// SVI of `model` with variational family `guide`, seeded with 0 (see [`Svi::seed`]).
    ///
    /// `guide` must be a guide of `model` ([`GuideFor`]): a guide of another model, or the two
    /// passed in the wrong order, do not compile.
    pub fn new(model: M, guide: G, optim: O, loss: L) -> Self
    where
        G: GuideFor<M>,
    {
        Svi {
            model,
            guide,
            optim,
            loss,
            params: ParamStore::new(),
            rng: rng_from_seed(0),
            storage: StepStorage::default(),
            scratch: Vec::new(),
            validate: true,
            progress: true,
        }
    }

    /// Reseeds the random generator.
    pub fn seed(mut self, seed: u64) -> Self {
        self.rng = rng_from_seed(seed);
        self
    }

    /// Switches the check of observed values against their distribution's support on (the
    /// default) or off, for every step (see [`Context::set_validation`]): on, a step with an
    /// observation outside the support fails with an error naming the site and the
    /// distribution; off saves a pass over the data per step and scores such values by the
    /// formula (e.g. soft Bernoulli targets, as Pyro's `validate_args=False`).
    pub fn validate(mut self, on: bool) -> Self {
        self.validate = on;
        self
    }

    /// The parameter store.
    pub fn params(&self) -> &ParamStore {
        &self.params
    }

    /// The parameter store, mutably (e.g. to set initial values).
    pub fn params_mut(&mut self) -> &mut ParamStore {
        &mut self.params
    }

    /// The optimiser.
    pub fn optimizer(&self) -> &O {
        &self.optim
    }

    /// The optimiser, mutably.
    pub fn optimizer_mut(&mut self) -> &mut O {
        &mut self.optim
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The guide.
    pub fn guide(&self) -> &G {
        &self.guide
    }

    /// Runs `f` with a context over this `Svi`'s store and generator, then takes them back, also
    /// when `f` fails.
    fn with_context<R>(
        &mut self,
        grad: bool,
        f: impl FnOnce(&mut Self, &mut Context) -> Result<R>,
    ) -> Result<R> {
        let params = std::mem::take(&mut self.params);
        let rng = std::mem::replace(&mut self.rng, rng_from_seed(0));
        let mut ctx = Context::from_step_parts(params, rng, std::mem::take(&mut self.storage));
        ctx.grad_params = grad;
        ctx.set_validation(self.validate);
        let r = f(self, &mut ctx);
        let (params, rng, storage) = ctx.into_step_parts();
        self.params = params;
        self.rng = rng;
        self.storage = storage;
        r
    }

    /// One step: estimates the loss and its gradient and updates the parameters. Returns the loss.
    ///
    /// A step is all or nothing. It is refused, with an error naming the site or parameter, when
    /// the loss or a gradient is not finite, or when an updated parameter value or the
    /// optimiser's new state for it would not be finite (a learning rate too large for the
    /// gradient, Adam's second moment overflowing for a gradient above about 1.3e154). A refused
    /// step changes no parameter and no optimiser state (bit for bit): the updates are computed
    /// into scratch copies and committed only when every one is finite.
    pub fn step<'a>(&mut self, args: M::Args<'a>) -> Result<f64>
    where
        G: GuideFor<M> + Model<Args<'a> = M::Args<'a>>,
        M::Args<'a>: Clone,
    {
        self.with_context(true, |svi, ctx| {
            let run = svi
                .loss
                .loss_and_surrogate(ctx, &svi.model, &svi.guide, args)?;
            let grads = ctx.tape.backward(&run.surrogate)?;
            let by_param: Vec<(usize, &[f64])> = ctx
                .leaves
                .iter()
                .filter_map(|(i, leaf)| grads.slice(leaf).map(|g| (*i, g)))
                .collect();
            apply_update(&mut svi.optim, &mut ctx.params, &mut svi.scratch, &by_param)?;
            Ok(run.loss)
        })
    }

    /// The loss and the gradient estimate of every parameter that received one (with respect to
    /// its *unconstrained* value), without a step.
    pub fn loss_and_grads<'a>(&mut self, args: M::Args<'a>) -> Result<(f64, Vec<(String, Tensor)>)>
    where
        G: GuideFor<M> + Model<Args<'a> = M::Args<'a>>,
        M::Args<'a>: Clone,
    {
        self.with_context(true, |svi, ctx| {
            let run = svi
                .loss
                .loss_and_surrogate(ctx, &svi.model, &svi.guide, args)?;
            let grads = ctx.tape.backward(&run.surrogate)?;
            let out = ctx
                .leaves
                .iter()
                .filter_map(|(i, leaf)| {
                    grads
                        .get(leaf)
                        .map(|g| (ctx.params.at(*i).name().to_string(), g))
                })
                .collect();
            Ok((run.loss, out))
        })
    }

    /// Saves the parameters, the optimiser state and the random generator's state to `path`,
    /// atomically and verified (see [`ParamStore::save`] for the format and guarantees). A run
    /// resumed from the file with [`Svi::load`] continues exactly as the uninterrupted run.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        crate::checkpoint::save(
            path.as_ref(),
            &self.params,
            crate::checkpoint::Extras {
                optimizer: self.optim.state(),
                rng: Some(RngState::of(&self.rng)),
            },
        )
    }

    /// Saves what [`Svi::save`] saves as a safetensors file (parameters and optimiser buffers as
    /// tensors that PyTorch and NumPy read, the rest in its metadata; see [`crate::params`]), in
    /// `f32` or `f64`. [`Svi::load`] reads it back. With [`Dtype::F64`] a resumed run is
    /// bit-identical to the uninterrupted one.
    ///
    /// [`Dtype::F64`]: crate::params::Dtype::F64
    pub fn save_safetensors(
        &self,
        path: impl AsRef<std::path::Path>,
        dtype: crate::params::Dtype,
    ) -> Result<()> {
        crate::checkpoint::save_safetensors(
            path.as_ref(),
            &self.params,
            crate::checkpoint::Extras {
                optimizer: self.optim.state(),
                rng: Some(RngState::of(&self.rng)),
            },
            dtype,
        )
    }

    /// Restores parameters, optimiser state and (when the file has it) the random generator's
    /// state saved by [`Svi::save`] or [`Svi::save_safetensors`]. On error nothing changes.
    pub fn load(&mut self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        let (store, extras) = crate::checkpoint::load(path)?;
        let rng = extras
            .rng
            .as_ref()
            .map(RngState::restore)
            .transpose()
            .map_err(|e| Error::file(path, format!("rng: {e}")))?;
        self.optim
            .load_state(&extras.optimizer)
            .map_err(|e| Error::file(path, format!("optimiser state: {e}")))?;
        self.params = store;
        if let Some(rng) = rng {
            self.rng = rng;
        }
        Ok(())
    }

    /// Applies one optimiser step with the given gradients (by store position), all or nothing,
    /// as [`Svi::step`] does: the drivers that compute gradients elsewhere (threads, MPI ranks)
    /// end their steps here.
    pub(crate) fn apply_gradients(&mut self, grads: &[(usize, &[f64])]) -> Result<()> {
        apply_update(&mut self.optim, &mut self.params, &mut self.scratch, grads)
    }

    /// The generator, for drivers that derive the seeds of a step from it.
    pub(crate) fn rng_mut(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// The loss at the current parameters, without a step.
    pub fn evaluate_loss<'a>(&mut self, args: M::Args<'a>) -> Result<f64>
    where
        G: GuideFor<M> + Model<Args<'a> = M::Args<'a>>,
        M::Args<'a>: Clone,
    {
        self.with_context(false, |svi, ctx| {
            Ok(svi
                .loss
                .loss_and_surrogate(ctx, &svi.model, &svi.guide, args)?
                .loss)
        })
    }
}

/// One optimiser step on `params` from `grads` (unconstrained, by store position). Every gradient
/// is checked before any parameter changes; the updates are staged in `scratch` and committed only
/// when every new value and optimiser state is finite and admissible.
fn apply_update<O: Optimizer>(
    optim: &mut O,
    params: &mut ParamStore,
    scratch: &mut Vec<Vec<f64>>,
    grads: &[(usize, &[f64])],
) -> Result<()> {
    for (i, g) in grads {
        optim.check_param(*i, params.at(*i).name())?;
        if g.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "gradient",
                name: params.at(*i).name().to_string(),
            });
        }
    }
    optim.begin_step();
    if scratch.len() < grads.len() {
        scratch.resize_with(grads.len(), Vec::new);
    }
    let mut refused = None;
    for ((i, g), scratch) in grads.iter().zip(scratch.iter_mut()) {
        let entry = params.at(*i);
        scratch.clear();
        scratch.extend_from_slice(&entry.value);
        optim.stage(*i, entry.name(), scratch, g);
        if refused.is_some() {
            continue;
        }
        let name = entry.name();
        if scratch.iter().any(|v| !v.is_finite()) {
            refused = Some(Error::NonFinite {
                what: "updated value",
                name: name.to_string(),
            });
        } else if !optim.staged_state_is_finite(*i) {
            refused = Some(Error::NonFinite {
                what: "optimiser state",
                name: name.to_string(),
            });
        } else if !params.admissible(*i, scratch) {
            refused = Some(Error::Invalid(format!(
                "the update of parameter `{name}` would take its constrained value outside \
                 {:?} or to infinity (the transform from unconstrained space overflows or \
                 underflows); the step was refused and no parameter was changed",
                entry.constraint()
            )));
        }
    }
    if let Some(e) = refused {
        optim.rollback_step();
        return Err(e);
    }
    optim.commit_step();
    for ((i, _), scratch) in grads.iter().zip(scratch.iter()) {
        params.values_mut(*i).1.copy_from_slice(scratch);
    }
    Ok(())
}
