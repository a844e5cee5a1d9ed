//! Plates: conditionally independent batch dimensions, vectorised or sequential, with optional
//! subsampling; and the `factor` and `deterministic` sites.
//!
//! A vectorised plate owns one batch dimension (counted from the right, `-1` first, the next
//! nested plate `-2`, unless given). Every sample site inside has its distribution broadcast to
//! the plate size in that dimension, and a distribution whose batch size there is neither 1 nor
//! the plate size is an error naming the site, the plate and both shapes. A subsampled plate draws
//! `subsample_size` indices without replacement once per step (shared by guide and model) and
//! scales the log-density of the sites inside by `size / subsample_size`, which keeps the ELBO
//! estimate unbiased.

use std::rc::Rc;
use std::sync::Arc;

use rand::seq::index::sample as sample_indices;

use super::Context;
use crate::constraints::Constraint;
use crate::distributions::Distribution;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{broadcast_shapes, Shape, Tensor};
use crate::trace::{PlateFrame, SiteName};

/// The deepest batch dimension a plate may own (`dim = -64`): tensors have far fewer dimensions,
/// and a bound keeps the shape arithmetic of a user's `dim` (down to `isize::MIN`) in range.
pub const MAX_PLATE_DIM: isize = 64;

/// Options of a plate.
#[derive(Clone, Debug, Default)]
pub struct PlateOpts {
    /// Draw this many indices per step instead of using all `size`.
    pub subsample_size: Option<usize>,
    /// The batch dimension to own (negative); allocated automatically when `None`.
    pub dim: Option<isize>,
}

impl Context {
    /// Runs `f` inside a vectorised plate of `size` elements. `f` receives the indices of the
    /// (sub)sample in use: all of `0..size`, or `subsample_size` of them.
    pub fn plate<R>(
        &mut self,
        name: impl Into<SiteName>,
        size: usize,
        opts: PlateOpts,
        f: impl FnOnce(&mut Context, &[usize]) -> R,
    ) -> R {
        let name = name.into();
        // Inside a sharded plate, draws (its subsample too) come from the shard's own generator,
        // derived from the step's seed and the shard index: local latent variables of different
        // shards are independent, a shard's draws do not depend on how shards map to threads,
        // and the generator outside the plate, which draws the global latent variables, advances
        // alike on every shard.
        let shard_rng = match &mut self.shard {
            Some(role) if name == role.plate.as_str() => Some(role.plate_rng()),
            _ => None,
        };
        let outer_rng = shard_rng.map(|rng| std::mem::replace(&mut self.rng, rng));
        let (frame, idx) = match self.open_plate(name.clone(), size, &opts, true) {
            Ok(x) => x,
            Err(e) => {
                self.fail(e);
                (
                    PlateFrame {
                        name,
                        size,
                        subsample_size: 0,
                        dim: None,
                    },
                    Arc::from(Vec::new()),
                )
            }
        };
        let pushed = frame.subsample_size > 0;
        if pushed {
            self.plates.push(frame);
        }
        let r = f(self, &idx);
        if let Some(rng) = outer_rng {
            self.rng = rng;
        }
        if pushed {
            self.plates.pop();
        }
        r
    }

    /// A sequential plate: the indices to loop over (all of `0..size` or a subsample). Sites
    /// inside the loop body are marked with the plate by [`Context::enter_sequential`].
    pub fn sequential_indices(
        &mut self,
        name: impl Into<SiteName>,
        size: usize,
        subsample_size: Option<usize>,
    ) -> Rc<[usize]> {
        let opts = PlateOpts {
            subsample_size,
            dim: None,
        };
        match self.open_plate(name.into(), size, &opts, false) {
            Ok((_, idx)) => Rc::from(&idx[..]),
            Err(e) => {
                self.fail(e);
                Rc::from(Vec::new())
            }
        }
    }

    /// Marks the start of one iteration of a sequential plate (closing the previous one).
    pub fn enter_sequential(&mut self, name: &str, size: usize, subsample_size: usize) {
        self.exit_sequential(name);
        self.plates.push(PlateFrame {
            name: SiteName::new(name),
            size,
            subsample_size,
            dim: None,
        });
    }

    /// Closes a sequential plate (after its loop, or before its next iteration).
    pub fn exit_sequential(&mut self, name: &str) {
        if let Some(i) = self
            .plates
            .iter()
            .rposition(|p| p.dim.is_none() && p.name == name)
        {
            self.plates.truncate(i);
        }
    }

    fn open_plate(
        &mut self,
        name: SiteName,
        size: usize,
        opts: &PlateOpts,
        vectorised: bool,
    ) -> Result<(PlateFrame, Arc<[usize]>)> {
        if self.plates.iter().any(|p| p.name == name) {
            return Err(Error::Invalid(format!(
                "plate `{name}` is nested inside itself"
            )));
        }
        // The plate a sharded evaluation splits (vectorised or sequential) must have the
        // shard's rows.
        if let Some(role) = self.shard.as_mut().filter(|r| name == r.plate.as_str()) {
            role.open(size)?;
        }
        let sub = opts.subsample_size.unwrap_or(size);
        if sub > size || (sub == 0 && size > 0) {
            return Err(Error::Invalid(format!(
                "plate `{name}`: subsample_size {sub} must be between 1 and the size {size}"
            )));
        }
        let dim = if vectorised {
            Some(self.plate_dim(&name, opts.dim)?)
        } else {
            None
        };
        let idx = self.subsample(&name, size, sub)?;
        Ok((
            PlateFrame {
                name,
                size,
                subsample_size: sub,
                dim,
            },
            idx,
        ))
    }

    fn plate_dim(&self, name: &str, dim: Option<isize>) -> Result<isize> {
        let used: Vec<isize> = self.plates.iter().filter_map(|p| p.dim).collect();
        match dim {
            Some(d) if !(-MAX_PLATE_DIM..0).contains(&d) => Err(Error::Invalid(format!(
                "plate `{name}`: dim must be negative (counted from the right) and at least \
                 -{MAX_PLATE_DIM}, got {d}"
            ))),
            Some(d) if used.contains(&d) => Err(Error::Invalid(format!(
                "plate `{name}`: dim {d} is already used by an enclosing plate"
            ))),
            Some(d) => Ok(d),
            None => Ok((1..)
                .map(|k: isize| -k)
                .find(|d| !used.contains(d))
                .unwrap_or(-1)),
        }
    }

    /// The subsample indices of a plate in this step: drawn once, then shared by every run in the
    /// step (guide and model must score the same data points).
    fn subsample(&mut self, name: &str, size: usize, sub: usize) -> Result<Arc<[usize]>> {
        if let Some((_, idx)) = self.subsamples.iter().find(|(n, _)| n == name) {
            if idx.len() != sub {
                return Err(Error::Invalid(format!(
                    "plate `{name}` is used with subsample sizes {} and {sub} in one step",
                    idx.len()
                )));
            }
            return Ok(idx.clone());
        }
        let idx: Arc<[usize]> = if sub == size {
            self.full_range(name, size)?
        } else {
            draw_subsample(&mut self.rng, size, sub)
        };
        self.subsamples.push((SiteName::new(name), idx.clone()));
        Ok(idx)
    }

    /// `0..size`, shared with earlier steps (a plate without subsampling uses the same indices
    /// every step). The size is the user's: a plate of 2^40 without subsampling is an error, not
    /// an abort (8 TiB of indices).
    fn full_range(&mut self, name: &str, size: usize) -> Result<Arc<[usize]>> {
        if let Some(r) = self.ranges.iter().find(|r| r.len() == size) {
            return Ok(r.clone());
        }
        let mut all = Vec::new();
        all.try_reserve_exact(size).map_err(|_| {
            Error::Invalid(format!(
                "plate `{name}` of size {size}: cannot allocate its indices; use \
                 subsample_size for a plate this large"
            ))
        })?;
        all.extend(0..size);
        let r: Arc<[usize]> = Arc::from(all);
        if self.ranges.len() >= 8 {
            self.ranges.remove(0);
        }
        self.ranges.push(r.clone());
        Ok(r)
    }

    /// A `factor!` statement: adds `log_density` (summed) to the model's log-joint.
    pub fn factor(&mut self, name: impl Into<SiteName>, log_density: Tensor) -> Tensor {
        let value = Tensor::scalar(0.0);
        self.sample(name, Factor { log_density }, Some(value))
    }

    /// A `deterministic!` statement: records `value` as a site (for `Predictive` and traces)
    /// without adding to the log-joint; returns it.
    pub fn deterministic(&mut self, name: impl Into<SiteName>, value: Tensor) -> Tensor {
        let shape = Shape::from_slice(value.shape());
        self.sample(
            name,
            Factor {
                log_density: Tensor::zeros(&[]),
            }
            .with_event(shape),
            Some(value),
        )
    }
}

fn draw_subsample(rng: &mut Rng, size: usize, sub: usize) -> Arc<[usize]> {
    let mut v = sample_indices(rng, size, sub).into_vec();
    v.sort_unstable();
    Arc::from(v)
}

/// Broadcasts a site's distribution over the active vectorised plates, and checks that it fits
/// them. Returns the distribution to use (expanded if needed).
pub(crate) fn fit_to_plates(
    name: &str,
    dist: Box<dyn Distribution>,
    plates: &[PlateFrame],
    pool: &mut crate::pool::BoxPool,
) -> Result<Box<dyn Distribution>> {
    let batch = dist.batch_shape();
    let Some(min_dim) = plates.iter().filter_map(|p| p.dim).min() else {
        return Ok(dist);
    };
    let width = (-min_dim as usize).max(batch.len());
    let mut target: Shape = Shape::from_elem(1, width);
    target[width - batch.len()..].copy_from_slice(&batch);
    for p in plates {
        let Some(d) = p.dim else { continue };
        let pos = (width as isize + d) as usize;
        match target[pos] {
            1 => target[pos] = p.subsample_size,
            n if n == p.subsample_size => {}
            n => {
                return Err(Error::shape(
                    format!("site `{name}` in plate `{}`", p.name),
                    format!(
                        "the distribution's batch shape {:?} has size {n} in dim {d}, which plate `{}` owns with size {}",
                        batch.as_slice(),
                        p.name,
                        p.subsample_size
                    ),
                ))
            }
        }
    }
    if target.as_slice() == batch.as_slice() {
        return Ok(dist);
    }
    crate::distributions::expand_boxed_in(dist, &target, pool).map_err(|e| e.at_site(name))
}

/// Checks that a given value (observed, replayed, conditioned) fits the site's batch and event
/// shape without broadcasting it into a bigger shape: an observation of shape (N, 1) against a
/// batch of (N,) is an error, not a silent (N, N) log-density.
pub(crate) fn check_value(
    name: &str,
    dist: &dyn Distribution,
    value: &Tensor,
    plates: &[PlateFrame],
) -> Result<()> {
    let mut full: Shape = dist.batch_shape();
    full.extend_from_slice(&dist.event_shape());
    let ok = match broadcast_shapes(value.shape(), &full) {
        Ok(b) => b.as_slice() == full.as_slice() || b.as_slice() == value.shape(),
        Err(_) => false,
    };
    if ok {
        return Ok(());
    }
    let owners: Vec<String> = plates
        .iter()
        .filter_map(|p| {
            p.dim.map(|d| {
                format!(
                    "plate `{}` owns dim {d} (size {})",
                    p.name, p.subsample_size
                )
            })
        })
        .collect();
    let plates = if owners.is_empty() {
        String::new()
    } else {
        format!("; {}", owners.join(", "))
    };
    Err(Error::shape(
        format!("site `{name}`"),
        format!(
            "value of shape {:?} does not fit the distribution's batch + event shape {:?}{plates}",
            value.shape(),
            full.as_slice()
        ),
    ))
}

/// The distribution behind `factor!` and `deterministic!`: its log-density is a given tensor,
/// whatever the value.
#[derive(Clone, Debug)]
pub(crate) struct Factor {
    log_density: Tensor,
}

impl Factor {
    fn with_event(self, shape: Shape) -> FactorWithEvent {
        FactorWithEvent {
            inner: self,
            event: shape,
        }
    }
}

impl Distribution for Factor {
    fn name(&self) -> &'static str {
        "Factor"
    }
    fn batch_shape(&self) -> Shape {
        Shape::new()
    }
    fn sample(&self, _rng: &mut Rng) -> Tensor {
        Tensor::scalar(0.0)
    }
    fn log_prob(&self, _value: &Tensor) -> Tensor {
        self.log_density.sum()
    }
    fn support(&self) -> Constraint {
        Constraint::Real
    }
    fn box_clone(&self) -> Box<dyn Distribution> {
        Box::new(self.clone())
    }
    fn clone_pooled(&self, pool: &mut crate::distributions::BoxPool) -> Box<dyn Distribution> {
        pool.boxed_dist(self.clone())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `Factor` with the event shape of a recorded deterministic value.
#[derive(Clone, Debug)]
pub(crate) struct FactorWithEvent {
    inner: Factor,
    event: Shape,
}

impl Distribution for FactorWithEvent {
    fn name(&self) -> &'static str {
        "Deterministic"
    }
    fn batch_shape(&self) -> Shape {
        Shape::new()
    }
    fn event_shape(&self) -> Shape {
        self.event.clone()
    }
    fn sample(&self, _rng: &mut Rng) -> Tensor {
        Tensor::zeros(&self.event)
    }
    fn log_prob(&self, value: &Tensor) -> Tensor {
        self.inner.log_prob(value)
    }
    fn support(&self) -> Constraint {
        Constraint::Real
    }
    fn box_clone(&self) -> Box<dyn Distribution> {
        Box::new(self.clone())
    }
    fn clone_pooled(&self, pool: &mut crate::distributions::BoxPool) -> Box<dyn Distribution> {
        pool.boxed_dist(self.clone())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
