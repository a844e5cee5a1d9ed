//! The potential energy of Hamiltonian Monte Carlo, built from the model itself.
//!
//! HMC moves a point `z` of unconstrained space, one coordinate per scalar entry of every latent
//! site. The potential energy at `z` is minus the log-density of the model with each latent site
//! set to the image of its slice of `z` under the bijection onto its support
//! ([`biject_to`](crate::transforms::biject_to)), plus the change of variables:
//!
//! `U(z) = -log p(x, T(z)) - Σ_sites log |det J_T(z_site)|`
//!
//! One evaluation runs the model once, on a tape, under a handler that hands each latent site its
//! value and scores every sample site (observed sites, masks, `scale` and `factor!` included),
//! then sweeps the tape backwards for `∇U`. Sites marked `enumerate` are summed out exactly by the
//! [`EnumMessenger`] of [`TraceEnumElbo`](crate::infer::TraceEnumElbo), so that mixtures and
//! hidden Markov models run under NUTS with their discrete states marginalised, as NumPyro does.
//!
//! The handler keeps no trace: it only adds up log-densities. The sites found by the first run of
//! the model (the prototype run that also picks the initial point) must be the latent sites of
//! every later run; a site that appears or disappears is an error naming it.

use std::rc::Rc;

use crate::error::{Error, Result};
use crate::handlers::{Context, EnumMessenger, Message, Messenger};
use crate::infer::autoguide::{discover_latent, LatentSite};
use crate::infer::{InitLoc, Model};
use crate::tensor::{Tape, Tensor};
use crate::trace::{scored_log_prob_sum, SiteKind, SiteName};
use crate::transforms::{Bijector, Transform};

/// A site of the recorded draws: a latent site (constrained value) or a `deterministic!` one.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteLayout {
    /// Site name.
    pub name: String,
    /// Shape of one draw of the site.
    pub shape: Vec<usize>,
    /// Whether the site is a `deterministic!` value (computed from the latent ones).
    pub deterministic: bool,
}

impl SiteLayout {
    /// Number of scalar entries of one draw.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// Whether a message is a `deterministic!` site (an observed site of the `Deterministic` kind).
fn is_deterministic(msg: &Message) -> bool {
    msg.is_observed
        && msg
            .dist
            .as_ref()
            .is_some_and(|d| d.name() == "Deterministic")
}

/// The handler of one potential evaluation: substitutes the latent values and (unless an
/// enumeration handler scores the run) adds up the log-densities of every sample site.
struct Substitute {
    names: Rc<[SiteName]>,
    values: Vec<Tensor>,
    /// Which latent sites this run has reached.
    seen: Vec<bool>,
    /// Next expected latent site: models visit their sites in the same order every run.
    next: usize,
    score: bool,
    log_joint: Tensor,
    /// `deterministic!` values, when recording.
    record: Option<Vec<(SiteName, Tensor)>>,
    model: &'static str,
}

impl Substitute {
    fn position(&self, name: &str) -> Option<usize> {
        if self.names.get(self.next).is_some_and(|n| n == name) {
            return Some(self.next);
        }
        self.names.iter().position(|n| n == name)
    }
}

impl Messenger for Substitute {
    fn process_message(&mut self, msg: &mut Message) {
        if msg.kind != SiteKind::Sample
            || msg.is_observed
            || msg.infer.enumerate
            || msg.value.is_some()
        {
            return;
        }
        match self.position(&msg.name) {
            Some(i) if !self.seen[i] => {
                self.seen[i] = true;
                self.next = i + 1;
                msg.value = Some(self.values[i].clone());
            }
            Some(_) => msg.error = Some(Error::DuplicateSite(msg.name.to_string())),
            None => {
                msg.error = Some(Error::Invalid(format!(
                    "latent site `{}` of the model `{}` was not sampled in its first run: under \
                     MCMC the latent sites must be the same on every run",
                    msg.name, self.model
                )))
            }
        }
    }

    fn postprocess_message(&mut self, msg: &mut Message) {
        if msg.kind != SiteKind::Sample || msg.error.is_some() {
            return;
        }
        if let Some(p) = msg.plates.iter().find(|p| p.subsample_size < p.size) {
            msg.error = Some(Error::Invalid(format!(
                "site `{}` of the model `{}` sits in the subsampled plate `{}`: HMC needs the \
                 exact log-density, drop `subsample_size`",
                msg.name, self.model, p.name
            )));
            return;
        }
        if is_deterministic(msg) {
            if let (Some(rec), Some(v)) = (self.record.as_mut(), msg.value.as_ref()) {
                rec.push((msg.name.clone(), v.detach()));
            }
            return;
        }
        if !self.score {
            return;
        }
        let (Some(dist), Some(value)) = (&msg.dist, &msg.value) else {
            return;
        };
        // As a trace scores a site: unmasked sites through the distribution's fused kernel (the
        // elementwise path made a 10,000-row likelihood 60 % of a NUTS gradient).
        let lp = scored_log_prob_sum(dist.as_ref(), value, msg.mask.as_ref(), msg.scale);
        match lp.error() {
            Some(e) => msg.error = Some(e.clone()),
            None => self.log_joint = &self.log_joint + &lp,
        }
    }
}

/// The potential energy `U(z)` of a model and its gradient, evaluated by running the model.
pub(crate) struct Potential<'m, 'a, M: Model> {
    model: &'m M,
    args: M::Args<'a>,
    sites: Vec<LatentSite>,
    names: Rc<[SiteName]>,
    offsets: Vec<usize>,
    dim: usize,
    /// Plate nesting for enumeration, if the model has enumerated sites.
    enum_nesting: Option<usize>,
    layout: Vec<SiteLayout>,
    ctx: Context,
    leaves: Vec<Tensor>,
}

impl<'m, 'a, M: Model> Potential<'m, 'a, M>
where
    M::Args<'a>: Clone,
{
    /// Runs the model once (a prototype run in `ctx`) to find its latent sites and their initial
    /// values by `init`. Returns the potential and the initial point.
    pub(crate) fn new(
        mut ctx: Context,
        model: &'m M,
        args: M::Args<'a>,
        init: &InitLoc,
        max_plate_nesting: Option<usize>,
        who: &str,
    ) -> Result<(Self, Vec<f64>)> {
        ctx.grad_params = false;
        let sites = discover_latent(
            &mut ctx,
            model,
            args.clone(),
            init,
            who,
            "cannot sample",
            "mark it `enumerate` to sum it out",
        )?;
        if let Some(s) = sites.iter().find(|s| s.is_subsampled()) {
            return Err(Error::Invalid(format!(
                "{who} cannot sample site `{}` of the model `{}`: it sits in a subsampled plate, \
                 and HMC needs the full log-density (drop `subsample_size`)",
                s.name,
                M::NAME
            )));
        }
        // A second prototype run, to see the sites that `discover_latent` leaves out: enumerated
        // ones (how deep the plates go) and deterministic ones (what the draws record).
        ctx.begin_run(true);
        let (_, trace, err) = ctx.prototype_trace(|ctx| {
            model.call(ctx, args.clone());
        });
        if let Some(e) = err {
            return Err(e);
        }
        let enumerated = trace.sample_sites().any(|s| s.infer.enumerate);
        let enum_nesting = enumerated.then(|| {
            max_plate_nesting.unwrap_or_else(|| {
                trace
                    .sites()
                    .iter()
                    .flat_map(|s| s.plates.iter().filter_map(|p| p.dim))
                    .map(|d| (-d) as usize)
                    .max()
                    .unwrap_or(0)
            })
        });
        let mut layout: Vec<SiteLayout> = sites
            .iter()
            .map(|s| SiteLayout {
                name: s.name.to_string(),
                shape: s.shape.clone(),
                deterministic: false,
            })
            .collect();
        for s in trace.sample_sites() {
            if s.is_observed && s.dist.as_ref().is_some_and(|d| d.name() == "Deterministic") {
                layout.push(SiteLayout {
                    name: s.name.to_string(),
                    shape: s.value.shape().to_vec(),
                    deterministic: true,
                });
            }
        }
        let mut offsets = Vec::with_capacity(sites.len() + 1);
        let mut dim = 0;
        for s in &sites {
            offsets.push(dim);
            dim += s.numel();
        }
        offsets.push(dim);
        let init: Vec<f64> = sites.iter().flat_map(|s| s.init.iter().copied()).collect();
        let names: Rc<[SiteName]> = sites.iter().map(|s| s.name.clone()).collect();
        Ok((
            Potential {
                model,
                args,
                sites,
                names,
                offsets,
                dim,
                enum_nesting,
                layout,
                ctx,
                leaves: Vec::new(),
            },
            init,
        ))
    }

    /// Number of unconstrained coordinates.
    pub(crate) fn dim(&self) -> usize {
        self.dim
    }

    /// The sites of a recorded draw: latent sites first (in model order), then deterministic ones.
    pub(crate) fn layout(&self) -> &[SiteLayout] {
        &self.layout
    }

    /// Whether the model has `deterministic!` sites (recording a draw then runs the model).
    fn has_deterministic(&self) -> bool {
        self.layout.iter().any(|l| l.deterministic)
    }

    /// Runs the model once with the latent sites at `z` and returns the handler (holding the log
    /// joint, unless `score` is off) and the enumerated log-density, if any.
    fn run(&mut self, z: &[f64], tape: bool, record: bool) -> Result<(Substitute, Tensor)> {
        if z.len() != self.dim {
            return Err(Error::shape(
                "MCMC potential",
                format!(
                    "point of {} coordinates for {} latent entries",
                    z.len(),
                    self.dim
                ),
            ));
        }
        let mut values = Vec::with_capacity(self.sites.len());
        let mut log_det = Tensor::scalar(0.0);
        self.leaves.clear();
        for (k, site) in self.sites.iter().enumerate() {
            let slice = &z[self.offsets[k]..self.offsets[k + 1]];
            let x = if site.unconstrained_shape.is_empty() {
                Tensor::scalar(slice[0])
            } else {
                Tensor::new(slice.to_vec(), &site.unconstrained_shape)?
            };
            let x = if tape { self.ctx.tape.leaf(x) } else { x };
            let y = site.bijector.forward(&x);
            if !matches!(site.bijector, Bijector::Identity(_)) && tape {
                let ladj = site.bijector.log_abs_det_jacobian(&x, &y).sum();
                log_det = &log_det + &ladj;
            }
            if tape {
                self.leaves.push(x);
            }
            values.push(y);
        }
        let handler = Substitute {
            names: self.names.clone(),
            seen: vec![false; values.len()],
            values,
            next: 0,
            score: self.enum_nesting.is_none() && tape,
            log_joint: log_det,
            record: record.then(Vec::new),
            model: M::NAME,
        };
        let ctx = &mut self.ctx;
        ctx.begin_run(true);
        let model = self.model;
        let args = self.args.clone();
        let (handler, enumerated) = match self.enum_nesting {
            Some(nesting) if tape => {
                let ((_, h), en) = ctx.with_handler(EnumMessenger::new(nesting), |ctx| {
                    ctx.with_handler(handler, |ctx| model.call(ctx, args))
                });
                if let Some(e) = ctx.take_error() {
                    return Err(e.in_function(M::NAME));
                }
                let total = en.finish()?;
                (h, total)
            }
            _ => {
                let (_, h) = ctx.with_handler(handler, |ctx| {
                    model.call(ctx, args);
                });
                (h, Tensor::scalar(0.0))
            }
        };
        if let Some(e) = self.ctx.take_error() {
            return Err(e.in_function(M::NAME));
        }
        if let Some(i) = handler.seen.iter().position(|s| !s) {
            return Err(Error::Invalid(format!(
                "latent site `{}` of the model `{}` was sampled in its first run but not in a \
                 later one: under MCMC the latent sites must be the same on every run",
                self.names[i],
                M::NAME
            )));
        }
        Ok((handler, enumerated))
    }

    /// `U(z)`, with `∇U(z)` written into `grad`. Every error is returned (see
    /// [`Potential::energy`] for the version that treats invalid regions as infinite energy).
    pub(crate) fn try_energy(&mut self, z: &[f64], grad: &mut [f64]) -> Result<f64> {
        let storage = std::mem::take(&mut self.ctx.tape).recycle();
        self.ctx.tape = Tape::from_storage(storage);
        let result = self.run(z, true, false).and_then(|(h, enumerated)| {
            let log_density = &h.log_joint + &enumerated;
            let u = log_density.neg().check()?;
            let value = u.item()?;
            let grads = self.ctx.tape.backward(&u)?;
            for (k, leaf) in self.leaves.iter().enumerate() {
                let out = &mut grad[self.offsets[k]..self.offsets[k + 1]];
                match grads.slice(leaf) {
                    Some(g) => out.copy_from_slice(g),
                    None => out.fill(0.0),
                }
            }
            Ok(value)
        });
        self.leaves.clear();
        result
    }

    /// `U(z)` and `∇U(z)` (into `grad`), where a point at which the model cannot be evaluated
    /// (a distribution parameter out of its domain, a non-finite log-density) has infinite
    /// energy: the integrator stepped out of the typical set and the trajectory is divergent.
    /// Other errors (shapes, site names) are the model's and are returned.
    pub(crate) fn energy(&mut self, z: &[f64], grad: &mut [f64]) -> Result<f64> {
        match self.try_energy(z, grad) {
            Ok(u) if u.is_nan() => Ok(f64::INFINITY),
            Ok(u) => Ok(u),
            Err(e) if is_numerical(&e) => Ok(f64::INFINITY),
            Err(e) => Err(e),
        }
    }

    /// The recorded draw at `z`: every site of [`Potential::layout`], flattened, appended to
    /// `out`.
    pub(crate) fn record(&mut self, z: &[f64], out: &mut Vec<f64>) -> Result<()> {
        if self.has_deterministic() {
            let (h, _) = self.run(z, false, true)?;
            for v in &h.values {
                out.extend_from_slice(v.values()?);
            }
            let rec = h.record.unwrap_or_default();
            for l in self.layout.iter().filter(|l| l.deterministic) {
                match rec.iter().find(|(n, _)| n == l.name.as_str()) {
                    Some((_, v)) if v.numel() == l.numel() => out.extend_from_slice(v.values()?),
                    _ => {
                        return Err(Error::Invalid(format!(
                            "deterministic site `{}` of the model `{}` changed shape or \
                             disappeared between runs",
                            l.name,
                            M::NAME
                        )))
                    }
                }
            }
            return Ok(());
        }
        for (k, site) in self.sites.iter().enumerate() {
            let slice = &z[self.offsets[k]..self.offsets[k + 1]];
            if matches!(site.bijector, Bijector::Identity(_)) {
                out.extend_from_slice(slice);
            } else {
                let x = Tensor::new(slice.to_vec(), &site.unconstrained_shape)?;
                out.extend_from_slice(site.bijector.forward(&x).values()?);
            }
        }
        Ok(())
    }
}

/// Whether an error says that the model cannot be evaluated at this point (rather than that the
/// model is wrong): such points have infinite potential energy.
fn is_numerical(e: &Error) -> bool {
    match e {
        Error::InvalidParameter { .. } | Error::NonFinite { .. } => true,
        Error::Site { source, .. } => is_numerical(source),
        _ => false,
    }
}
