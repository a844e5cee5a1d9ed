//! [`Mcmc`]: runs chains of a kernel, with warm-up, on threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use rand::Rng as _;

use super::adaptation::{find_reasonable_step_size, AdaptEvent, WarmupAdapter};
use super::integrator::{EnergyFn, PhasePoint};
use super::kernel::{transition, DrawStats, Kernel, Workspace};
use super::mass_matrix::MassMatrix;
use super::potential::Potential;
use super::progress::{ChainBar, Progress};
use super::samples::{ChainOutput, McmcSamples};
use crate::error::{Error, Result};
use crate::handlers::Context;
use crate::infer::Model;
use crate::params::ParamStore;
use crate::rng::{rng_from_seed, Rng};
use crate::tensor::TapeStorage;

/// How many random initial points a chain tries before giving up (NumPyro's number).
const INIT_ATTEMPTS: usize = 100;

/// Runs Markov chains of an [`Hmc`](super::Hmc) or [`Nuts`](super::Nuts) kernel.
///
/// `Mcmc::new(Nuts::new(model)).warmup(1000).samples(1000).chains(4).seed(0).run(args)`
/// returns the draws of every latent site ([`McmcSamples`]), each chain warmed up on its own.
///
/// **Chains on threads.** [`Mcmc::run`] runs the chains on up to [`Mcmc::threads`] threads
/// (default: as many as the machine has, at most one per chain). Each thread builds its own
/// [`Context`]; nothing is shared but the kernel (read-only, hence `Sync`) and the arguments
/// (cloned into each thread, hence `Send`). Models whose arguments hold [`Tensor`]s (not `Send`)
/// use [`Mcmc::run_with`], which builds the arguments inside each thread, or
/// [`Mcmc::run_sequential`], which runs the chains one after the other on the calling thread.
///
/// **Determinism.** Chain `c` draws from its own generators, seeded from `(seed, c)` by
/// [`chain_seed`]: the samples depend on the seed only, never on the number of threads or on
/// which chain finishes first.
/// ```
/// use pyro::prelude::*;
///
/// // mu ~ Normal(0, 1), x_i ~ Normal(mu, 1): the posterior is Normal(sum(x) / (n + 1), 1 / sqrt(n + 1)).
/// #[model]
/// fn model(x: &[f64]) {
///     let mu = sample!("mu", Normal::new(0.0, 1.0));
///     plate!("data", x.len(), |_| {
///         sample!("x", Normal::new(mu.clone(), 1.0), obs = x.to_vec());
///     });
/// }
///
/// # fn main() -> pyro::Result<()> {
/// let x = [0.3, 1.1, 0.8, 1.9, 0.6];
/// // Hamiltonian Monte Carlo with 8 leapfrog steps; `Nuts::new(model)` chooses them itself.
/// let kernel = Hmc::new(model).num_steps(8);
/// let samples = Mcmc::new(kernel).warmup(300).samples(600).chains(2).seed(0).progress(false).run(&x)?;
/// let s = samples.summary();
/// let mu = s.row("mu").expect("a latent site");
/// // Within four Monte Carlo standard errors (sd / sqrt(ESS)) of the exact posterior mean.
/// assert!((mu.mean - 4.7 / 6.0).abs() < 4.0 * mu.sd / mu.ess_bulk.sqrt(), "{}", mu.mean);
/// assert!(mu.r_hat < 1.05);
/// # Ok(())
/// # }
/// ```
///
/// [`Tensor`]: crate::tensor::Tensor
#[derive(Clone, Debug)]
pub struct Mcmc<K> {
    kernel: K,
    warmup: usize,
    samples: usize,
    chains: usize,
    seed: u64,
    threads: Option<usize>,
    progress: bool,
    validate: bool,
}

/// The seed of chain `chain` of a run seeded with `seed`: SplitMix64 of
/// `seed + (chain + 1) · 0x9E3779B97F4A7C15`. The chain's kernel generator (momenta, tree
/// directions, proposals) is seeded with it, and its model context (initialisation) with the
/// SplitMix64 of it.
pub fn chain_seed(seed: u64, chain: usize) -> u64 {
    splitmix64(seed.wrapping_add((chain as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl<K: Kernel> Mcmc<K> {
    /// A run of `kernel`: 1000 warm-up iterations and 1000 draws, one chain, seed 0, progress
    /// bars on a terminal.
    pub fn new(kernel: K) -> Self {
        Mcmc {
            kernel,
            warmup: 1000,
            samples: 1000,
            chains: 1,
            seed: 0,
            threads: None,
            progress: true,
            validate: true,
        }
    }

    /// Warm-up (adaptation) iterations per chain; their draws are discarded.
    pub fn warmup(mut self, n: usize) -> Self {
        self.warmup = n;
        self
    }

    /// Draws kept per chain.
    pub fn samples(mut self, n: usize) -> Self {
        self.samples = n;
        self
    }

    /// Number of chains (at least 1).
    pub fn chains(mut self, n: usize) -> Self {
        self.chains = n.max(1);
        self
    }

    /// The seed (see [`chain_seed`]).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The most threads [`Mcmc::run`] uses (default: the machine's parallelism); 1 runs the
    /// chains one after the other on the calling thread. The samples do not depend on it.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n.max(1));
        self
    }

    /// Whether to draw a progress bar per chain (default true; never drawn when standard error
    /// is not a terminal).
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// Switches the check of observed values against their distribution's support on (the
    /// default) or off, for every run of the model (see
    /// [`Context::set_validation`](crate::handlers::Context::set_validation)): on, a run with an
    /// observation outside the support fails with an error naming the site and the
    /// distribution; off scores such values by the formula.
    pub fn validate(mut self, on: bool) -> Self {
        self.validate = on;
        self
    }

    /// The kernel.
    pub fn kernel(&self) -> &K {
        &self.kernel
    }

    fn num_threads(&self) -> usize {
        let avail = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.threads.unwrap_or(avail).min(self.chains).max(1)
    }

    /// Runs the chains on threads (see the type's documentation), each with a clone of `args`.
    pub fn run<'a>(&self, args: <K::Model as Model>::Args<'a>) -> Result<McmcSamples>
    where
        K: Sync,
        <K::Model as Model>::Args<'a>: Clone + Send,
    {
        let progress = Progress::new(self.progress);
        let threads = self.num_threads();
        let outputs = if threads == 1 {
            (0..self.chains)
                .map(|c| self.run_chain(args.clone(), c, &progress))
                .collect()
        } else {
            let inputs = (0..self.chains).map(|_| args.clone()).collect();
            self.on_threads(threads, inputs, |c, args| {
                self.run_chain(args, c, &progress)
            })
        };
        self.collect(outputs)
    }

    /// Runs the chains on threads, each with the arguments that `make_args` builds inside its
    /// thread: for models whose arguments are not `Send` (they hold [`Tensor`]s), given as owned
    /// values (`Args<'static>`, e.g. a model of `(x: Tensor, y: Tensor)`).
    ///
    /// [`Tensor`]: crate::tensor::Tensor
    pub fn run_with<F>(&self, make_args: F) -> Result<McmcSamples>
    where
        K: Sync,
        F: Fn() -> <K::Model as Model>::Args<'static> + Sync,
        <K::Model as Model>::Args<'static>: Clone,
    {
        let progress = Progress::new(self.progress);
        let threads = self.num_threads();
        let outputs = if threads == 1 {
            (0..self.chains)
                .map(|c| self.run_chain(make_args(), c, &progress))
                .collect()
        } else {
            let inputs = vec![(); self.chains];
            self.on_threads(threads, inputs, |c, ()| {
                self.run_chain(make_args(), c, &progress)
            })
        };
        self.collect(outputs)
    }

    /// Runs the chains one after the other on the calling thread; for arguments that cannot
    /// cross threads. Same samples as [`Mcmc::run`] for the same seed.
    pub fn run_sequential<'a>(&self, args: <K::Model as Model>::Args<'a>) -> Result<McmcSamples>
    where
        <K::Model as Model>::Args<'a>: Clone,
    {
        let progress = Progress::new(self.progress);
        let outputs = (0..self.chains)
            .map(|c| self.run_chain(args.clone(), c, &progress))
            .collect();
        self.collect(outputs)
    }

    /// Runs `chain(c, inputs[c])` for every chain on `threads` scoped threads, which take the
    /// next chain as they finish one.
    fn on_threads<T: Send, F>(
        &self,
        threads: usize,
        inputs: Vec<T>,
        chain: F,
    ) -> Vec<Result<ChainOutput>>
    where
        F: Fn(usize, T) -> Result<ChainOutput> + Sync,
        K: Sync,
    {
        let inputs: Vec<Mutex<Option<T>>> =
            inputs.into_iter().map(|t| Mutex::new(Some(t))).collect();
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Result<ChainOutput>>>> =
            Mutex::new((0..self.chains).map(|_| None).collect());
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let c = next.fetch_add(1, Ordering::Relaxed);
                    if c >= self.chains {
                        break;
                    }
                    let input = inputs[c].lock().ok().and_then(|mut t| t.take());
                    let Some(input) = input else { break };
                    let r = chain(c, input);
                    if let Ok(mut v) = results.lock() {
                        v[c] = Some(r);
                    }
                });
            }
        });
        let v = results.into_inner().unwrap_or_else(|e| e.into_inner());
        v.into_iter()
            .enumerate()
            .map(|(c, r)| {
                r.unwrap_or_else(|| {
                    Err(Error::Invalid(format!(
                        "{}: chain {c} did not finish (its thread panicked)",
                        self.kernel.name()
                    )))
                })
            })
            .collect()
    }

    fn collect(&self, outputs: Vec<Result<ChainOutput>>) -> Result<McmcSamples> {
        let chains = outputs.into_iter().collect::<Result<Vec<_>>>()?;
        McmcSamples::from_chains(self.kernel.name(), chains)
    }

    /// One chain: initialisation, warm-up, sampling.
    fn run_chain<'a>(
        &self,
        args: <K::Model as Model>::Args<'a>,
        chain: usize,
        progress: &Progress,
    ) -> Result<ChainOutput>
    where
        <K::Model as Model>::Args<'a>: Clone,
    {
        let mut bar = progress.chain(chain, self.warmup + self.samples, self.warmup);
        let r = self.chain_body(args, chain, &mut bar);
        bar.finish();
        r
    }

    fn chain_body<'a>(
        &self,
        args: <K::Model as Model>::Args<'a>,
        chain: usize,
        bar: &mut ChainBar,
    ) -> Result<ChainOutput>
    where
        <K::Model as Model>::Args<'a>: Clone,
    {
        let name = self.kernel.name();
        let settings = self.kernel.settings();
        settings.validate(name)?;
        let seed = chain_seed(self.seed, chain);
        let mut rng = rng_from_seed(seed);
        let mut ctx = Context::from_parts(
            ParamStore::new(),
            rng_from_seed(splitmix64(seed)),
            TapeStorage::default(),
        );
        ctx.set_validation(self.validate);
        let (mut potential, z0) = Potential::new(
            ctx,
            self.kernel.model(),
            args,
            &settings.init,
            settings.max_plate_nesting,
            name,
        )?;
        let d = potential.dim();
        if d == 0 {
            return Err(Error::Invalid(format!(
                "{name}: the model `{}` has no continuous latent site to sample",
                <K::Model as Model>::NAME
            )));
        }
        let mut counter = Counting {
            inner: &mut potential,
            evals: 0,
        };
        let mut state = initial_point(&mut counter, z0, &mut rng, name)?;

        let trajectory = self.kernel.trajectory();
        let mut ws = Workspace::new(d, trajectory);
        let mut adapter = WarmupAdapter::new(
            self.warmup,
            settings.step_size,
            MassMatrix::identity(d, settings.dense_mass),
            settings.target_accept_prob,
            settings.adapt_step_size,
            settings.adapt_mass_matrix,
            settings.dense_mass,
        );
        let mut scratch = PhasePoint::zeros(d);
        let started = Instant::now();
        if self.warmup > 0 && settings.adapt_step_size {
            let eps = find_reasonable_step_size(
                &state,
                settings.step_size,
                &adapter.mass,
                &mut counter,
                &mut rng,
                &mut scratch,
            )?;
            adapter.restart(eps);
        }
        let mut warmup_stats = Vec::with_capacity(self.warmup);
        for t in 0..self.warmup {
            let stats = transition(
                trajectory,
                &mut state,
                adapter.step_size,
                &adapter.mass,
                settings.max_delta_energy,
                &mut counter,
                &mut rng,
                &mut ws,
            )?;
            bar.tick(&stats);
            warmup_stats.push(stats);
            if adapter.update(t, stats.accept_prob, &state.z) == AdaptEvent::NewMetric
                && settings.adapt_step_size
            {
                let eps = find_reasonable_step_size(
                    &state,
                    adapter.step_size,
                    &adapter.mass,
                    &mut counter,
                    &mut rng,
                    &mut scratch,
                )?;
                adapter.restart(eps);
            }
        }
        let warmup_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let (step_size, mass) = (adapter.step_size, adapter.mass);
        let mut stats_out: Vec<DrawStats> = Vec::with_capacity(self.samples);
        let mut draws = Vec::with_capacity(self.samples * d);
        for _ in 0..self.samples {
            let stats = transition(
                trajectory,
                &mut state,
                step_size,
                &mass,
                settings.max_delta_energy,
                &mut counter,
                &mut rng,
                &mut ws,
            )?;
            bar.tick(&stats);
            stats_out.push(stats);
            counter.inner.record(&state.z, &mut draws)?;
        }
        let sampling_seconds = started.elapsed().as_secs_f64();
        let gradient_evaluations = counter.evals;
        Ok(ChainOutput {
            layout: potential.layout().to_vec(),
            draws,
            stats: stats_out,
            warmup_stats,
            step_size,
            mass,
            warmup_seconds,
            sampling_seconds,
            gradient_evaluations,
        })
    }
}

/// Counts gradient evaluations.
struct Counting<'p, E> {
    inner: &'p mut E,
    evals: u64,
}

impl<E: EnergyFn> EnergyFn for Counting<'_, E> {
    fn energy(&mut self, z: &[f64], grad: &mut [f64]) -> Result<f64> {
        self.evals += 1;
        self.inner.energy(z, grad)
    }
}

impl<'a, M: Model> EnergyFn for Potential<'_, 'a, M>
where
    M::Args<'a>: Clone,
{
    fn energy(&mut self, z: &[f64], grad: &mut [f64]) -> Result<f64> {
        Potential::energy(self, z, grad)
    }
}

/// The chain's first point: `z0` from the initialisation strategy if the potential and its
/// gradient are finite there, otherwise uniform draws in `(-2, 2)` until one is (at most
/// [`INIT_ATTEMPTS`]), as NumPyro does.
fn initial_point<'a, M: Model>(
    potential: &mut Counting<'_, Potential<'_, 'a, M>>,
    z0: Vec<f64>,
    rng: &mut Rng,
    name: &str,
) -> Result<PhasePoint>
where
    M::Args<'a>: Clone,
{
    let d = z0.len();
    let mut point = PhasePoint::zeros(d);
    point.z = z0;
    let mut last_error = None;
    for attempt in 0..INIT_ATTEMPTS {
        if attempt > 0 {
            for z in point.z.iter_mut() {
                *z = rng.random_range(-2.0..2.0);
            }
        }
        potential.evals += 1;
        match potential.inner.try_energy(&point.z, &mut point.grad) {
            Ok(u) if u.is_finite() && point.grad.iter().all(|g| g.is_finite()) => {
                point.potential = u;
                return Ok(point);
            }
            Ok(_) => {}
            Err(e) if is_fatal(&e) => return Err(e),
            Err(e) => last_error = Some(e),
        }
    }
    Err(match last_error {
        Some(e) => Error::Invalid(format!(
            "{name}: no initial point with a finite log-density and gradient in \
             {INIT_ATTEMPTS} attempts; the last one failed with: {e}"
        )),
        None => Error::NonFinite {
            what: "log-density or gradient",
            name: format!(
                "every one of {INIT_ATTEMPTS} initial points of {name} (check the model's \
                 supports and data)"
            ),
        },
    })
}

/// Errors that no other initial point can fix: the model itself is wrong.
fn is_fatal(e: &Error) -> bool {
    match e {
        Error::InvalidParameter { .. } | Error::NonFinite { .. } => false,
        Error::Site { source, .. } => is_fatal(source),
        _ => true,
    }
}
