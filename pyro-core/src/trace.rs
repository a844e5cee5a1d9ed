//! The trace of one execution of a model or guide: an ordered map from site name to [`Site`].

use std::collections::HashMap;

use smallvec::SmallVec;

use crate::distributions::Distribution;
use crate::error::{Error, Result};
use crate::pool::BoxPool;
use crate::spare::Spare;
use crate::tensor::Tensor;

pub use crate::site_name::SiteName;

/// What kind of statement produced a site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiteKind {
    /// `sample!`, latent or observed.
    Sample,
    /// `param!`.
    Param,
}

/// A plate (conditionally independent batch dimension) a site sits in.
#[derive(Clone, Debug, PartialEq)]
pub struct PlateFrame {
    /// Plate name.
    pub name: SiteName,
    /// Full size of the plate.
    pub size: usize,
    /// Size of the subsample actually drawn (equals `size` without subsampling).
    pub subsample_size: usize,
    /// The batch dimension it owns (negative, counted from the right), or `None` for a
    /// sequential plate.
    pub dim: Option<isize>,
}

/// The plates a site sits in, outermost first (two kept inline: no allocation per site).
pub type PlateStack = SmallVec<[PlateFrame; 2]>;

/// Per-site inference settings (Pyro's `infer` dict).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InferConfig {
    /// Enumerate this discrete site in parallel (`sample!(.., enumerate)`).
    pub enumerate: bool,
    /// A guide-only site (e.g. the joint latent of `AutoDiagonalNormal`): scored in the guide,
    /// absent from the model.
    pub is_auxiliary: bool,
    /// The site's `obs` is an `Option` (`sample!(.., obs = y)` with `y: Option<..>`, Pyro's
    /// `obs=None`): observed when `Some`, latent when `None`.
    pub maybe_observed: bool,
}

/// One site of a trace.
#[derive(Clone, Debug)]
pub struct Site {
    /// Site name.
    pub name: SiteName,
    /// Sample or param.
    pub kind: SiteKind,
    /// The distribution (sample sites).
    pub dist: Option<Box<dyn Distribution>>,
    /// The value: the draw, the observation, or the parameter's constrained value.
    pub value: Tensor,
    /// Whether the value was observed (`obs =`) or conditioned.
    pub is_observed: bool,
    /// Multiplier of the log-density (from `scale` handlers and subsampled plates).
    pub scale: f64,
    /// A 0/1 mask applied to the log-density (from `mask` handlers).
    pub mask: Option<Tensor>,
    /// The plates the site is in, outermost first.
    pub plates: PlateStack,
    /// Inference settings.
    pub infer: InferConfig,
}

impl Site {
    /// The log-density of the value, masked and scaled, with the batch shape of the site.
    pub fn log_prob(&self) -> Result<Tensor> {
        let Some(d) = &self.dist else {
            return Err(Error::Invalid(format!(
                "site `{}` is not a sample site",
                self.name
            )));
        };
        let mut lp = d.log_prob(&self.value);
        if let Some(m) = &self.mask {
            lp = Tensor::where_(m, &lp, &Tensor::scalar(0.0));
        }
        if self.scale != 1.0 {
            lp = lp * self.scale;
        }
        lp.check().map_err(|e| e.at_site(&self.name))
    }

    /// The summed log-density of the site.
    pub fn log_prob_sum(&self) -> Result<Tensor> {
        let Some(d) = &self.dist else {
            return Ok(self.log_prob()?.sum());
        };
        scored_log_prob_sum(d.as_ref(), &self.value, self.mask.as_ref(), self.scale)
            .check()
            .map_err(|e| e.at_site(&self.name))
    }

    /// Whether this is a latent (sampled, not observed) sample site.
    pub fn is_latent(&self) -> bool {
        self.kind == SiteKind::Sample && !self.is_observed
    }
}

/// The summed log-density of `value` under `dist`, masked and scaled as a site's is: through
/// the distribution's fused `log_prob_sum` (one pass, no elementwise buffer) when nothing is
/// masked, else elementwise, masked and scaled, then summed. Shared by traces and the MCMC
/// potential, which scores sites without recording them.
pub(crate) fn scored_log_prob_sum(
    dist: &dyn Distribution,
    value: &Tensor,
    mask: Option<&Tensor>,
    scale: f64,
) -> Tensor {
    let scaled = |lp: Tensor| if scale != 1.0 { lp * scale } else { lp };
    match mask {
        None => scaled(dist.log_prob_sum(value)),
        Some(m) => scaled(Tensor::where_(
            m,
            &dist.log_prob(value),
            &Tensor::scalar(0.0),
        ))
        .sum(),
    }
}

/// An ordered record of the sites of one execution.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    sites: Vec<Site>,
    /// Name -> position, built once the trace outgrows a linear scan.
    index: HashMap<SiteName, usize>,
    /// Blocks of the distributions of cleared sites, reused for the next ones.
    pool: BoxPool,
}

/// The allocations of a cleared [`Trace`], kept between steps: `Send` by construction, since
/// no site (hence no tensor or distribution) is left in it.
#[derive(Default)]
pub(crate) struct TraceStorage {
    sites: Spare<Site>,
    index: HashMap<SiteName, usize>,
    pool: BoxPool,
}

/// Below this many sites, lookups scan linearly: cheaper than hashing for small models.
const LINEAR_LOOKUP: usize = 16;

impl Trace {
    /// An empty trace.
    pub fn new() -> Trace {
        Trace::default()
    }

    /// Adds a site; a second sample site with the same name is an error.
    pub fn add(&mut self, site: Site) -> Result<()> {
        if let Some(i) = self.position(&site.name) {
            if site.kind == SiteKind::Param && self.sites[i].kind == SiteKind::Param {
                return Ok(()); // the same parameter read twice is the same site
            }
            return Err(Error::DuplicateSite(site.name.to_string()));
        }
        if self.sites.len() >= LINEAR_LOOKUP {
            if self.index.is_empty() {
                for (i, s) in self.sites.iter().enumerate() {
                    self.index.insert(s.name.clone(), i);
                }
            }
            self.index.insert(site.name.clone(), self.sites.len());
        }
        self.sites.push(site);
        Ok(())
    }

    fn position(&self, name: &str) -> Option<usize> {
        if self.index.is_empty() {
            self.sites.iter().position(|s| s.name == name)
        } else {
            self.index.get(name).copied()
        }
    }

    /// The site called `name`.
    pub fn get(&self, name: &str) -> Option<&Site> {
        self.position(name).map(|i| &self.sites[i])
    }

    /// The site called `name`, or an error naming it.
    pub fn site(&self, name: &str) -> Result<&Site> {
        self.get(name).ok_or_else(|| Error::Unknown {
            kind: "site",
            name: name.to_string(),
        })
    }

    /// Whether the trace has a site called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// All sites in execution order.
    pub fn sites(&self) -> &[Site] {
        &self.sites
    }

    /// Sample sites (latent and observed) in execution order.
    pub fn sample_sites(&self) -> impl Iterator<Item = &Site> {
        self.sites.iter().filter(|s| s.kind == SiteKind::Sample)
    }

    /// Number of sites.
    pub fn len(&self) -> usize {
        self.sites.len()
    }

    /// Whether the trace is empty.
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// Sum of the log-densities of all sample sites: `log p(x, z)` for a model trace.
    pub fn log_prob_sum(&self) -> Result<Tensor> {
        let mut total = Tensor::scalar(0.0);
        for s in self.sample_sites() {
            total = total + s.log_prob_sum()?;
        }
        Ok(total)
    }

    /// Removes every site, keeping the allocations (also those of the sites' distributions, for
    /// the next sites added through a [`crate::handlers::TraceMessenger`]).
    pub fn clear(&mut self) {
        for s in self.sites.drain(..) {
            if let Some(d) = s.dist {
                self.pool.recycle(d);
            }
        }
        self.index.clear();
    }

    /// Clears the trace and keeps its allocations.
    pub(crate) fn into_storage(mut self) -> TraceStorage {
        self.clear();
        TraceStorage {
            sites: Spare::new(self.sites),
            index: self.index,
            pool: self.pool,
        }
    }

    /// An empty trace over the allocations of a cleared one.
    pub(crate) fn from_storage(storage: TraceStorage) -> Trace {
        Trace {
            sites: storage.sites.into_vec(),
            index: storage.index,
            pool: storage.pool,
        }
    }

    /// The pool that distributions of new sites are copied into.
    pub(crate) fn pool_mut(&mut self) -> &mut BoxPool {
        &mut self.pool
    }
}
