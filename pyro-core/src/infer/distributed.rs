//! Data-parallel SVI across processes and machines over MPI (the `mpi` feature), as Pyro's
//! `HorovodOptimizer` does it: every rank holds a shard of the data (its rows of one plate),
//! computes the loss and gradients of its shard, and one `MPI_Allreduce` per step sums them over
//! one flat buffer; every rank then takes the same optimiser step from the same sum, so the
//! parameters stay identical on all ranks without being sent again.
//!
//! The step's buffer: `[loss, failed ranks, presence of each parameter's gradient, gradients]`.
//! A rank whose shard fails (bad data, a non-finite log-density or gradient) still takes part in
//! the all-reduce, with its failure counted in the buffer: every rank sees it in the same call,
//! and all of them return the error of the lowest failing rank (sent to the others by
//! broadcast). No rank waits for one that has given up.

use mpi::collective::SystemOperation;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::{CommunicatorCollectives, Root};
use rand::RngCore;

use super::shard::{particle_seed, run_unit, sum_grads, ShardRole, UnitResult};
use super::{Elbo, GuideFor, Model, Svi};
use crate::error::{Error, Result};
use crate::handlers::StepStorage;
use crate::optim::Optimizer;
use crate::params::ParamStore;

/// SVI over MPI: each rank evaluates the ELBO on its shard of a data plate, and the gradients
/// and the loss are summed over the ranks with one all-reduce per step. Made by
/// [`Svi::distributed`].
///
/// Every rank runs the same program with the same seed, and passes its own rows to
/// [`DistributedSvi::step`]; the sharded plate's size on a rank is its number of rows (a
/// subsampled plate subsamples a rank's rows, scaled by its rows over its subsample size, so
/// the sum over ranks is an unbiased estimate of the whole ELBO). Sites outside the plate (global
/// latent variables) are scored on rank 0 only and drawn alike on every rank. The parameters
/// are broadcast from rank 0 at the first step (and after [`DistributedSvi::load`]); checkpoints
/// are written by rank 0 only.
pub struct DistributedSvi<M, G, O, L> {
    svi: Svi<M, G, O, L>,
    comm: SimpleCommunicator,
    plate: String,
    rank: usize,
    size: usize,
    /// Whether the ranks have agreed on the parameters since the store last changed shape.
    synced: bool,
    unit_elbo: Option<L>,
    /// The store the units run on (a copy of the parameters, kept to reuse its buffers).
    work: ParamStore,
    storage: StepStorage,
    send: Vec<f64>,
    recv: Vec<f64>,
}

impl<M: Model, G: Model, O: Optimizer, L: Elbo + Clone> Svi<M, G, O, L> {
    /// Data-parallel SVI over the ranks of `comm`, each holding its shard of the rows of plate
    /// `plate` (see [`DistributedSvi`]). Collective: every rank of `comm` calls it.
    pub fn distributed(self, comm: &impl Communicator, plate: &str) -> DistributedSvi<M, G, O, L> {
        let comm = comm.duplicate();
        DistributedSvi {
            rank: usize::try_from(comm.rank()).unwrap_or(0),
            size: usize::try_from(comm.size()).unwrap_or(1).max(1),
            comm,
            svi: self,
            plate: plate.to_string(),
            synced: false,
            unit_elbo: None,
            work: ParamStore::new(),
            storage: StepStorage::default(),
            send: Vec::new(),
            recv: Vec::new(),
        }
    }
}

impl<M: Model, G: Model, O: Optimizer, L: Elbo + Clone> DistributedSvi<M, G, O, L> {
    /// This process's rank.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The number of ranks.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The parameter store (the same on every rank).
    pub fn params(&self) -> &ParamStore {
        self.svi.params()
    }

    /// The underlying [`Svi`].
    pub fn svi(&self) -> &Svi<M, G, O, L> {
        &self.svi
    }

    /// One step on this rank's shard `args`; collective: every rank calls it with its own rows.
    /// Returns the loss of the whole data (summed over the ranks). On error, every rank returns
    /// the error of the lowest failing rank, naming it.
    pub fn step<'a>(&mut self, args: M::Args<'a>) -> Result<f64>
    where
        G: GuideFor<M> + Model<Args<'a> = M::Args<'a>>,
        M::Args<'a>: Clone,
    {
        let step_seed = self.svi.rng_mut().next_u64();
        if !self.synced {
            self.sync(step_seed, args.clone())?;
        }
        let local = self.units(step_seed, args).and_then(|units| {
            match units.iter().flat_map(|u| &u.new_params).next() {
                Some(e) => Err(Error::Invalid(format!(
                    "parameter `{}` was first created after the first step; distributed SVI \
                     needs every parameter created in the first step",
                    e.name()
                ))),
                None => Ok(units),
            }
        });
        let n = self.svi.params.len();
        let sizes: Vec<usize> = self
            .svi
            .params
            .entries()
            .iter()
            .map(|e| e.value.len())
            .collect();
        let total = 2 + n + sizes.iter().sum::<usize>();
        self.send.clear();
        self.send.resize(total, 0.0);
        let local_error = match local {
            Ok(units) => {
                let (particles, _) = self.particles();
                let (loss, grads) = sum_grads(n, &units, 1.0 / particles as f64);
                self.send[0] = loss;
                let mut at = 2 + n;
                for (i, g) in grads.iter().enumerate() {
                    if let Some(g) = g {
                        self.send[2 + i] = 1.0;
                        self.send[at..at + g.len()].copy_from_slice(g);
                    }
                    at += sizes[i];
                }
                None
            }
            Err(e) => {
                self.send[1] = 1.0;
                Some(e)
            }
        };
        self.recv.clear();
        self.recv.resize(total, 0.0);
        self.comm
            .all_reduce_into(&self.send[..], &mut self.recv[..], SystemOperation::sum());
        if self.recv[1] > 0.0 {
            self.synced = false;
            return Err(self.shared_error(local_error.as_ref()));
        }
        let mut by_param: Vec<(usize, &[f64])> = Vec::with_capacity(n);
        let mut at = 2 + n;
        for (i, len) in sizes.iter().enumerate() {
            if self.recv[2 + i] > 0.0 {
                by_param.push((i, &self.recv[at..at + len]));
            }
            at += len;
        }
        let loss = self.recv[0];
        self.svi.apply_gradients(&by_param)?;
        Ok(loss)
    }

    /// Saves a checkpoint (see [`Svi::save`]) from rank 0; the other ranks write nothing.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        if self.rank == 0 {
            self.svi.save(path)
        } else {
            Ok(())
        }
    }

    /// Restores a checkpoint (see [`Svi::load`]) on every rank (the file must be readable by
    /// all); the parameters are broadcast from rank 0 again at the next step.
    pub fn load(&mut self, path: impl AsRef<std::path::Path>) -> Result<()> {
        self.svi.load(path)?;
        self.synced = false;
        Ok(())
    }

    fn particles(&self) -> (usize, L) {
        match self.svi.loss.one_particle() {
            Some(one) => (self.svi.loss.num_particles().max(1), one),
            None => (1, self.svi.loss.clone()),
        }
    }

    /// This rank's units (one per particle), at the current parameters.
    fn units<'a>(&mut self, step_seed: u64, args: M::Args<'a>) -> Result<Vec<UnitResult>>
    where
        G: GuideFor<M> + Model<Args<'a> = M::Args<'a>>,
        M::Args<'a>: Clone,
    {
        let (particles, one) = self.particles();
        let mut elbo = self.unit_elbo.take().unwrap_or(one);
        let mut out = Vec::with_capacity(particles);
        let mut result = Ok(());
        for p in 0..particles {
            let seed = particle_seed(step_seed, p);
            let role = ShardRole::new(&self.plate, self.rank, self.size, seed);
            self.work.sync_from(&self.svi.params);
            let (r, work, storage) = run_unit(
                &mut elbo,
                &self.svi.model,
                &self.svi.guide,
                std::mem::take(&mut self.work),
                std::mem::take(&mut self.storage),
                seed,
                Some(role),
                self.svi.validate,
                args.clone(),
            );
            self.storage = storage;
            self.work = work;
            match r {
                Ok(u) => out.push(u),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.unit_elbo = Some(elbo);
        result.map(|()| out)
    }

    /// The first step (and the first after a failure or a load): runs the units once so that
    /// every rank creates its parameters, checks that all ranks have the same parameters and
    /// the same seed, and broadcasts rank 0's values.
    fn sync<'a>(&mut self, step_seed: u64, args: M::Args<'a>) -> Result<()>
    where
        G: GuideFor<M> + Model<Args<'a> = M::Args<'a>>,
        M::Args<'a>: Clone,
    {
        let local = self.units(step_seed, args).map(|units| {
            for e in units.into_iter().flat_map(|u| u.new_params) {
                self.svi.params.adopt(e);
            }
        });
        let digest = structure_digest(&self.svi.params, step_seed);
        let mine = [u64::from(local.is_err()), digest, u64::MAX - digest];
        let mut most = [0u64; 3];
        self.comm
            .all_reduce_into(&mine[..], &mut most[..], SystemOperation::max());
        if most[0] > 0 {
            return Err(self.shared_error(local.err().as_ref()));
        }
        // max(d) == d and max(MAX - d) == MAX - d on every rank: all digests are equal.
        if most[1] != digest || most[2] != u64::MAX - digest {
            return Err(Error::Invalid(format!(
                "rank {} of {}: the ranks differ in their parameters (names, shapes, \
                 constraints) or in their seed; every rank must run the same model and guide \
                 with the same seed",
                self.rank, self.size
            )));
        }
        let mut values: Vec<f64> = self
            .svi
            .params
            .entries()
            .iter()
            .flat_map(|e| e.value.iter().copied())
            .collect();
        self.comm.process_at_rank(0).broadcast_into(&mut values[..]);
        let mut at = 0;
        for i in 0..self.svi.params.len() {
            let (_, v) = self.svi.params.values_mut(i);
            v.copy_from_slice(&values[at..at + v.len()]);
            at += v.len();
        }
        self.synced = true;
        Ok(())
    }

    /// The error of the lowest failing rank, on every rank (collective: called by all ranks
    /// once they know that one failed).
    fn shared_error(&self, local: Option<&Error>) -> Error {
        let mine = if local.is_some() {
            self.rank as u64
        } else {
            u64::MAX
        };
        let mut first = u64::MAX;
        self.comm
            .all_reduce_into(&mine, &mut first, SystemOperation::min());
        let root = first.min(self.size as u64 - 1);
        let message = match local {
            Some(e) if self.rank as u64 == root => e.to_string(),
            _ => String::new(),
        };
        let mut len = message.len() as u64;
        let root_process = self.comm.process_at_rank(root as i32);
        root_process.broadcast_into(&mut len);
        let mut bytes = message.into_bytes();
        bytes.resize(usize::try_from(len).unwrap_or(0), 0);
        root_process.broadcast_into(&mut bytes[..]);
        Error::Invalid(format!(
            "distributed SVI: rank {root} of {} failed: {}",
            self.size,
            String::from_utf8_lossy(&bytes)
        ))
    }
}

/// FNV-1a over the parameters' names, shapes and constraints and the step's seed: equal on all
/// ranks that run the same model with the same seed.
fn structure_digest(params: &ParamStore, seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(&seed.to_le_bytes());
    for e in params.entries() {
        eat(e.name().as_bytes());
        for d in e.shape.iter() {
            eat(&(*d as u64).to_le_bytes());
        }
        eat(format!("{:?}", e.constraint()).as_bytes());
    }
    h
}
