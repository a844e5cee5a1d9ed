//! Evaluating an ELBO in pieces: one particle on one shard of a data plate's rows. The pieces'
//! losses and gradients, summed in a fixed order, are those of the whole ELBO. The threaded
//! ([`super::ParallelSvi`]) and the MPI ([`super::DistributedSvi`]) drivers both run their work
//! as such units; only plain numbers leave a unit (tensors stay on the tape of the thread that
//! made them).
//!
//! How a shard counts: a sample site inside the sharded plate is scored on every shard, for that
//! shard's rows; a site outside it (a global latent variable, its prior, its guide density) is
//! scored on the first shard only. The generator outside the plate is seeded alike on every
//! shard of a particle, so the global latent variables are the same draws everywhere; inside the
//! plate each shard draws from its own generator.

use super::{Elbo, GuideFor, Model};
use crate::distributions::Distribution;
use crate::error::{Error, Result};
use crate::handlers::{Context, StepStorage};
use crate::params::{ParamEntry, ParamStore};
use crate::rng::{rng_from_seed, Rng};
use crate::trace::PlateFrame;

/// The part a run plays in a sharded evaluation: which plate is split, and which of its shards
/// this run scores.
#[derive(Clone, Debug)]
pub(crate) struct ShardRole {
    pub(crate) plate: String,
    index: usize,
    count: usize,
    /// Seed of this particle; the plate's generator mixes in the shard index.
    seed: u64,
    /// Entries into the plate so far (guide and model each enter it).
    entries: u64,
    /// The rows this shard holds, where the driver knows them (threads: from `Shards`; MPI
    /// ranks pass their own data, so `None`): the plate must have exactly this size.
    rows: Option<std::ops::Range<usize>>,
    /// Whether the model or guide opened the plate (vectorised or sequential) in this run.
    opened: bool,
}

impl ShardRole {
    /// Shard `index` of `count` of plate `plate`, for the particle seeded with `seed`.
    pub(crate) fn new(plate: &str, index: usize, count: usize, seed: u64) -> ShardRole {
        ShardRole {
            plate: plate.to_string(),
            index,
            count,
            seed,
            entries: 0,
            rows: None,
            opened: false,
        }
    }

    /// The rows this shard holds: a plate of another size is an error (see
    /// [`ShardRole::open`]).
    pub(crate) fn with_rows(mut self, rows: std::ops::Range<usize>) -> ShardRole {
        self.rows = Some(rows);
        self
    }

    /// Notes that the sharded plate was opened with `size` elements: an error when the shard
    /// holds another number of rows (the model must size the plate from its shard's data, or
    /// the shards' sum would not be the whole data's ELBO).
    pub(crate) fn open(&mut self, size: usize) -> Result<()> {
        self.opened = true;
        match &self.rows {
            Some(rows) if rows.len() != size => Err(Error::Invalid(format!(
                "plate `{}` has size {size} on shard {} of {}, which holds rows {}..{} ({} \
                 rows): size the sharded plate from the shard's own data",
                self.plate,
                self.index,
                self.count,
                rows.start,
                rows.end,
                rows.len()
            ))),
            _ => Ok(()),
        }
    }

    /// After a run: splitting a plate the model never opened would count its data on the first
    /// shard only, a silently wrong ELBO; that is an error naming the plate.
    pub(crate) fn check_opened(&self) -> Result<()> {
        if self.count > 1 && !self.opened {
            return Err(Error::Invalid(format!(
                "plate `{}` is split into {} shards, but neither the model nor the guide opens a \
                 plate of that name",
                self.plate, self.count
            )));
        }
        Ok(())
    }

    /// Whether a site in `plates` counts in this shard: sites in the sharded plate always do,
    /// the others on the first shard only.
    pub(crate) fn counts(&self, plates: &[PlateFrame]) -> bool {
        self.index == 0 || plates.iter().any(|p| p.name == self.plate.as_str())
    }

    /// A draw without a reparameterised sampler cannot be sharded: its score-function term
    /// needs the ELBO of the whole data, which no shard has.
    pub(crate) fn refuse_draw(&self, d: &dyn Distribution) -> Option<Error> {
        (self.count > 1 && !d.has_rsample()).then(|| {
            Error::Invalid(format!(
                "{} has no reparameterised sampler, and plate `{}` is split into {} shards: \
                 the score-function gradient of such a site needs the whole ELBO; use one \
                 shard, or a reparameterised (or enumerated) site",
                d.name(),
                self.plate,
                self.count
            ))
        })
    }

    /// The generator for the next entry into the sharded plate.
    pub(crate) fn plate_rng(&mut self) -> Rng {
        self.entries += 1;
        rng_from_seed(mix(mix(self.seed, self.index as u64 + 1), self.entries))
    }
}

/// SplitMix64's finaliser over `a` and `b`: seeds of sub-streams (particles, shards) that are
/// far apart for neighbouring indices.
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of particle `p` in a step whose seed is `step_seed`.
pub(crate) fn particle_seed(step_seed: u64, p: usize) -> u64 {
    mix(step_seed, p as u64)
}

/// What one unit (a particle on a shard) contributes: its loss and the gradient of its
/// surrogate with respect to each parameter it read (by store position, unconstrained).
#[derive(Debug, Default)]
pub(crate) struct UnitResult {
    pub loss: f64,
    pub grads: Vec<(usize, Vec<f64>)>,
    /// Parameters this unit created (positions from the store's length before the run on).
    pub new_params: Vec<ParamEntry>,
}

/// Runs `elbo` for one unit on a context over `params` (whose values the caller has set) with
/// a generator seeded from `seed`, observations checked against their support when `validate`
/// (the driver's [`Svi::validate`](super::Svi::validate) setting), and takes the gradients off
/// the tape. Gives the store and the
/// tape storage back for reuse, also on error.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_unit<'a, M, G, L>(
    elbo: &mut L,
    model: &M,
    guide: &G,
    params: ParamStore,
    storage: StepStorage,
    seed: u64,
    role: Option<ShardRole>,
    validate: bool,
    args: M::Args<'a>,
) -> (Result<UnitResult>, ParamStore, StepStorage)
where
    M: Model,
    G: GuideFor<M> + Model<Args<'a> = M::Args<'a>>,
    M::Args<'a>: Clone,
    L: Elbo,
{
    let known = params.len();
    // The whole step storage, not only the tape: a full plate's indices, traces and boxes are
    // reused across steps as in the serial `Svi::step` (the tape alone cost a 1.6 MB index
    // array per step on the `scale` benchmark's 200,000-row plate).
    let mut ctx = Context::from_step_parts(params, rng_from_seed(seed), storage);
    ctx.shard = role;
    ctx.set_validation(validate);
    let r = unit_in(&mut ctx, elbo, model, guide, args, known).and_then(|u| {
        ctx.shard.as_ref().map_or(Ok(()), ShardRole::check_opened)?;
        Ok(u)
    });
    let (params, _, storage) = ctx.into_step_parts();
    (r, params, storage)
}

fn unit_in<'a, M, G, L>(
    ctx: &mut Context,
    elbo: &mut L,
    model: &M,
    guide: &G,
    args: M::Args<'a>,
    known: usize,
) -> Result<UnitResult>
where
    M: Model,
    G: GuideFor<M> + Model<Args<'a> = M::Args<'a>>,
    M::Args<'a>: Clone,
    L: Elbo,
{
    let run = elbo.loss_and_surrogate(ctx, model, guide, args)?;
    let grads = ctx.tape.backward(&run.surrogate)?;
    let mut out = Vec::with_capacity(ctx.leaves.len());
    for (i, leaf) in &ctx.leaves {
        if let Some(g) = grads.slice(leaf) {
            if g.iter().any(|v| !v.is_finite()) {
                return Err(Error::NonFinite {
                    what: "gradient",
                    name: ctx.params.at(*i).name().to_string(),
                });
            }
            out.push((*i, g.to_vec()));
        }
    }
    Ok(UnitResult {
        loss: run.loss,
        grads: out,
        new_params: ctx.params.entries()[known..].to_vec(),
    })
}

/// Sums the units' gradients, unit by unit in the order given (a fixed order, whatever thread
/// computed each), each weighted by `weight`, into one buffer per store position (`None` where
/// no unit had a gradient).
pub(crate) fn sum_grads<'r>(
    n_params: usize,
    units: impl IntoIterator<Item = &'r UnitResult>,
    weight: f64,
) -> (f64, Vec<Option<Vec<f64>>>) {
    let mut loss = 0.0;
    let mut acc: Vec<Option<Vec<f64>>> = vec![None; n_params];
    for u in units {
        loss += u.loss * weight;
        for (i, g) in &u.grads {
            let Some(slot) = acc.get_mut(*i) else {
                continue;
            };
            match slot {
                Some(a) => a.iter_mut().zip(g).for_each(|(a, g)| *a += g * weight),
                None => *slot = Some(g.iter().map(|g| g * weight).collect()),
            }
        }
    }
    (loss, acc)
}
