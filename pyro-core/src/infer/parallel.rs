//! Data-parallel SVI on the cores of one machine: the particles of an ELBO, and the shards of a
//! data plate's rows, evaluated on worker threads.
//!
//! Tensors live on the tape of the thread that made them and never cross threads. So each
//! worker builds its own copy of the model's data (each shard from the rows it is given, once,
//! kept for the life of the driver), its own context and tape, and hands back plain numbers: a
//! loss and a gradient per parameter. The main thread sums them in a fixed order (particle by
//! particle, shard by shard) and takes one optimiser step. The work is cut into units (a
//! particle on a shard) that do not depend on the number of threads: the same seed gives the
//! same parameters, bit for bit, on 1, 2 or 16 threads.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rand::RngCore;

use super::shard::{particle_seed, run_unit, sum_grads, ShardRole, UnitResult};
use super::{Elbo, GuideFor, Model, Svi};
use crate::error::{Error, Result};
use crate::handlers::StepStorage;
use crate::optim::Optimizer;
use crate::params::ParamStore;

/// Builds the data of one shard (its rows `rows` of the sharded plate) on a worker thread.
type MakeShard<A> = dyn Fn(Range<usize>) -> Result<A> + Send + Sync;

/// How the model's data is split: the name of the plate whose rows are split, the number of
/// rows, the number of shards, and a function that builds the model's argument for a range of
/// rows (on the worker thread that scores them, once per shard).
///
/// The model and guide take that argument by reference (`#[model] fn m(data: &MyRows)`), and the
/// sharded plate's size is the number of rows they are given (for example `y.shape()[0]`). Sites
/// inside the plate are scored on every shard for its rows; sites outside it (global latent
/// variables) once. The number of shards fixes the result; the number of threads only how fast
/// it comes (see [`ParallelSvi::threads`]).
pub struct Shards<A> {
    plate: Option<String>,
    rows: usize,
    count: usize,
    make: Arc<MakeShard<A>>,
}

impl<A> Shards<A> {
    /// `count` shards (at least 1, at most `rows`) of plate `plate`'s `rows` rows, each as
    /// balanced as the division allows; `make(range)` builds the model's argument for the rows
    /// in `range`.
    pub fn new(
        plate: &str,
        rows: usize,
        count: usize,
        make: impl Fn(Range<usize>) -> Result<A> + Send + Sync + 'static,
    ) -> Shards<A> {
        Shards {
            plate: Some(plate.to_string()),
            rows,
            count: count.clamp(1, rows.max(1)),
            make: Arc::new(make),
        }
    }

    /// The data whole, unsplit (every worker builds its own copy with `make()`): for models
    /// without a data plate worth splitting, whose particles are evaluated in parallel.
    pub fn whole(make: impl Fn() -> Result<A> + Send + Sync + 'static) -> Shards<A> {
        Shards {
            plate: None,
            rows: 0,
            count: 1,
            make: Arc::new(move |_| make()),
        }
    }

    /// The number of shards.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The rows of shard `s`.
    pub fn rows_of(&self, s: usize) -> Range<usize> {
        let (n, k) = (self.rows, self.count);
        // u128: rows * shard index overflows u64 only for absurd sizes, never here.
        let at = |i: usize| (i as u128 * n as u128 / k as u128) as usize;
        at(s)..at(s + 1)
    }
}

/// SVI whose gradient is evaluated on worker threads: particles of the ELBO and shards of a data
/// plate (see [`Shards`]), summed in a fixed order so that the result does not depend on the
/// number of threads. Made by [`Svi::parallel`].
///
/// ```
/// use pyro_core::prelude::*;
/// use pyro_core::infer::Shards;
/// use pyro_core::constraints::Constraint;
/// use pyro_core::handlers::PlateOpts;
///
/// // y_i ~ N(mu, 1), mu ~ N(0, 10): the rows of plate "data" are split into 4 shards.
/// fn model(ctx: &mut Context, y: &Tensor) {
///     let mu = ctx.sample("mu", Normal::new(0.0, 10.0), None);
///     let n = y.shape()[0];
///     ctx.plate("data", n, PlateOpts::default(), |ctx, _| {
///         ctx.sample("y", Normal::new(mu, 1.0), Some(y.clone()));
///     });
/// }
/// fn guide(ctx: &mut Context, _y: &Tensor) {
///     let loc = ctx.param("loc", || 0.0, Constraint::Real);
///     let scale = ctx.param("scale", || 1.0, Constraint::Positive);
///     ctx.sample("mu", Normal::new(loc, scale), None);
/// }
/// # #[derive(Clone)] struct M;
/// # #[derive(Clone)] struct G;
/// # impl Model for M { type Args<'a> = &'a Tensor; type Output = (); const NAME: &'static str = "model";
/// #     fn call<'a>(&self, ctx: &mut Context, y: &'a Tensor) { model(ctx, y) } }
/// # impl Model for G { type Args<'a> = &'a Tensor; type Output = (); const NAME: &'static str = "guide";
/// #     fn call<'a>(&self, ctx: &mut Context, y: &'a Tensor) { guide(ctx, y) } }
/// # impl pyro_core::infer::GuideFor<M> for G {}
/// let ys: Vec<f64> = (0..1000).map(|i| (i % 7) as f64).collect();
/// let shards = Shards::new("data", ys.len(), 4, move |rows| Tensor::new(ys[rows.clone()].to_vec(), &[rows.len()]));
/// let adam = Adam::new(AdamConfig { lr: 0.05, ..Default::default() });
/// let mut svi = Svi::new(M, G, adam, TraceElbo::default()).seed(0).parallel(shards).threads(2);
/// for _ in 0..300 {
///     svi.step().unwrap();
/// }
/// let loc = svi.params().scalar("loc").unwrap();
/// assert!((loc - 3.0).abs() < 0.1); // the posterior mean is 2.997
/// ```
pub struct ParallelSvi<M, G, O, L, A> {
    svi: Svi<M, G, O, L>,
    shards: Shards<A>,
    threads: usize,
    pool: Option<rayon::ThreadPool>,
    /// Key of this driver's state in its workers' thread-local storage.
    id: u64,
}

/// The highest number of times a step is repeated because its units created parameters.
const MAX_PARAM_ROUNDS: usize = 8;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Each worker thread's state, by driver: its copies of model, guide, estimator and store,
    /// its tape, and the shards' data it has built.
    static WORKERS: RefCell<HashMap<u64, Box<dyn Any>>> = RefCell::new(HashMap::new());
}

struct Worker<M, G, L, A> {
    model: M,
    guide: G,
    elbo: L,
    params: ParamStore,
    storage: StepStorage,
    data: HashMap<usize, A>,
}

impl<M: Model, G: Model, O: Optimizer, L: Elbo> Svi<M, G, O, L> {
    /// Evaluates each step's gradient on worker threads, over the data `shards` (see
    /// [`ParallelSvi`]); as many threads as the machine has cores, unless
    /// [`ParallelSvi::threads`] says otherwise.
    pub fn parallel<A>(self, shards: Shards<A>) -> ParallelSvi<M, G, O, L, A> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        ParallelSvi {
            svi: self,
            shards,
            threads,
            pool: None,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl<M, G, O, L, A> ParallelSvi<M, G, O, L, A>
where
    M: for<'a> Model<Args<'a> = &'a A> + Clone + Sync + 'static,
    G: GuideFor<M> + for<'a> Model<Args<'a> = &'a A> + Clone + Sync + 'static,
    O: Optimizer,
    L: Elbo + Clone + Sync + 'static,
    A: 'static,
{
    /// Uses `n` worker threads (at least 1). The result does not depend on it.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self.pool = None;
        self
    }

    /// The number of worker threads.
    pub fn num_threads(&self) -> usize {
        self.threads
    }

    /// The parameter store.
    pub fn params(&self) -> &ParamStore {
        self.svi.params()
    }

    /// The underlying [`Svi`] (its optimiser, checkpoints, a serial step).
    pub fn svi(&self) -> &Svi<M, G, O, L> {
        &self.svi
    }

    /// The underlying [`Svi`], mutably.
    pub fn svi_mut(&mut self) -> &mut Svi<M, G, O, L> {
        &mut self.svi
    }

    /// One step: every unit (particle, shard) on the workers, their gradients summed in unit
    /// order, one optimiser step (all or nothing, as [`Svi::step`]). Returns the loss. The first
    /// error in unit order is returned, naming the site or parameter.
    pub fn step(&mut self) -> Result<f64> {
        let (loss, grads) = self.loss_and_grads()?;
        let by_param: Vec<(usize, &[f64])> = grads
            .iter()
            .enumerate()
            .filter_map(|(i, g)| g.as_deref().map(|g| (i, g)))
            .collect();
        self.svi.apply_gradients(&by_param)?;
        Ok(loss)
    }

    /// The loss and the summed gradient of every parameter (unconstrained, by store position;
    /// `None` where none was computed), without a step. Parameters created in the step are
    /// added to the store first (from the first unit that made them), and the step repeated.
    pub(crate) fn loss_and_grads(&mut self) -> Result<(f64, Vec<Option<Vec<f64>>>)> {
        let step_seed = self.svi.rng_mut().next_u64();
        for _ in 0..MAX_PARAM_ROUNDS {
            let units = self.run_units(step_seed)?;
            let mut created = false;
            for u in &units {
                let u = u.as_ref().map_err(Clone::clone)?;
                for e in &u.new_params {
                    self.svi.params.adopt(e.clone());
                    created = true;
                }
            }
            if created {
                continue;
            }
            let particles = self.particles().0;
            let ok = units.iter().filter_map(|u| u.as_ref().ok());
            return Ok(sum_grads(self.svi.params.len(), ok, 1.0 / particles as f64));
        }
        Err(Error::Invalid(format!(
            "parallel SVI: the model and guide kept creating parameters in {MAX_PARAM_ROUNDS} \
             rounds of one step"
        )))
    }

    /// The number of particles evaluated apart, and the estimator of one unit.
    fn particles(&self) -> (usize, L) {
        match self.svi.loss.one_particle() {
            Some(one) => (self.svi.loss.num_particles().max(1), one),
            None => (1, self.svi.loss.clone()),
        }
    }

    /// Runs every unit on the pool; results in unit order (particle-major).
    fn run_units(&mut self, step_seed: u64) -> Result<Vec<Result<UnitResult>>> {
        if self.pool.is_none() {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(self.threads)
                .thread_name(|i| format!("pyro-svi-{i}"))
                .build()
                .map_err(|e| Error::Invalid(format!("parallel SVI: no thread pool: {e}")))?;
            self.pool = Some(pool);
        }
        let (particles, unit_elbo) = self.particles();
        let n_shards = self.shards.count;
        let n_units = particles * n_shards;
        let (id, shards) = (self.id, &self.shards);
        let (model, guide, params) = (&self.svi.model, &self.svi.guide, &self.svi.params);
        let validate = self.svi.validate;
        let Some(pool) = &self.pool else {
            unreachable!("the pool was built above")
        };
        let per_thread = pool.broadcast(|b| {
            let (w, t) = (b.index(), b.num_threads());
            WORKERS.with(|cell| {
                let mut map = cell.borrow_mut();
                let state = map.entry(id).or_insert_with(|| {
                    Box::new(Worker::<M, G, L, A> {
                        model: model.clone(),
                        guide: guide.clone(),
                        elbo: unit_elbo.clone(),
                        params: ParamStore::new(),
                        storage: StepStorage::default(),
                        data: HashMap::new(),
                    })
                });
                let Some(state) = state.downcast_mut::<Worker<M, G, L, A>>() else {
                    unreachable!("a driver's key holds its own worker type")
                };
                (w..n_units)
                    .step_by(t)
                    .map(|u| {
                        (
                            u,
                            state.unit(u, n_shards, step_seed, params, shards, validate),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        });
        let mut slots: Vec<Option<Result<UnitResult>>> = (0..n_units).map(|_| None).collect();
        for (u, r) in per_thread.into_iter().flatten() {
            slots[u] = Some(r);
        }
        Ok(slots
            .into_iter()
            .enumerate()
            .map(|(u, r)| {
                r.unwrap_or_else(|| {
                    Err(Error::Invalid(format!(
                        "parallel SVI: unit {u} was not evaluated"
                    )))
                })
            })
            .collect())
    }
}

impl<M, G, L, A> Worker<M, G, L, A>
where
    M: for<'a> Model<Args<'a> = &'a A>,
    G: GuideFor<M> + for<'a> Model<Args<'a> = &'a A>,
    L: Elbo,
{
    /// Unit `u`: particle `u / n_shards` on shard `u % n_shards`, at the parameters `params`.
    fn unit(
        &mut self,
        u: usize,
        n_shards: usize,
        step_seed: u64,
        params: &ParamStore,
        shards: &Shards<A>,
        validate: bool,
    ) -> Result<UnitResult> {
        let (p, s) = (u / n_shards, u % n_shards);
        let data = match self.data.entry(s) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let rows = shards.rows_of(s);
                let d = (shards.make)(rows.clone()).map_err(|e| {
                    Error::Invalid(format!(
                        "building shard {s} (rows {}..{}) of the data: {e}",
                        rows.start, rows.end
                    ))
                })?;
                v.insert(d)
            }
        };
        self.params.sync_from(params);
        let seed = particle_seed(step_seed, p);
        let role = shards
            .plate
            .as_deref()
            .map(|plate| ShardRole::new(plate, s, n_shards, seed).with_rows(shards.rows_of(s)));
        let (r, store, storage) = run_unit(
            &mut self.elbo,
            &self.model,
            &self.guide,
            std::mem::take(&mut self.params),
            std::mem::take(&mut self.storage),
            seed,
            role,
            validate,
            data,
        );
        self.params = store;
        self.storage = storage;
        r
    }
}
