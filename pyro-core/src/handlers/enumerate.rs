//! Parallel enumeration of discrete latent sites, with exact summation (variable elimination).
//!
//! A model site marked `enumerate` is not sampled: its value becomes the whole support of its
//! distribution, laid out along a tensor dimension of its own to the left of every plate
//! dimension (Pyro's parallel enumeration). Everything computed from it broadcasts along that
//! dimension, so each log-density that depends on it carries it. The handler collects these
//! log-factors and sums the enumerated variables out with `logsumexp`, one at a time:
//!
//! - inside a [`markov`](Context::markov) loop, as soon as the loop has moved more than `history`
//!   steps past a variable (its dimension is then free for the next step's variable, which is why
//!   an HMM of length `T` costs `O(T K^2)`);
//! - at the end of the run, the rest, innermost plates first.
//!
//! Before a variable is summed out, the factors that contain it are summed over the plates the
//! variable is not in (its children in those plates are conditionally independent given it), with
//! the plates' subsampling scale. The result is the exact `log p(observed, non-enumerated)`, on
//! the tape, so its gradient is exact too.

use super::{Context, MarkovEvent, Message, Messenger};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::trace::{SiteKind, SiteName};

/// An enumerated variable that has not been summed out yet.
#[derive(Clone, Debug)]
pub(crate) struct EnumVar {
    pub(crate) name: SiteName,
    /// Its dimension, counted from the right of the batch shape (negative).
    pub(crate) dim: isize,
    /// The dimensions of the vectorised plates it sits in.
    pub(crate) plates: Vec<isize>,
    /// Its support, laid out along `dim`.
    pub(crate) support: Tensor,
    /// (markov depth, step) where it was created, while that loop is open.
    scope: Option<(usize, usize)>,
    /// Creation order.
    pub(crate) order: usize,
}

/// A log-density term and the vectorised plates it has not been summed over yet, with the scale
/// each plate's sum takes (size / subsample size).
#[derive(Clone, Debug)]
struct Factor {
    log_density: Tensor,
    plates: Vec<(isize, f64)>,
}

/// One summed-out variable and the log-factor it was summed out of (for `infer_discrete`).
#[derive(Clone, Debug)]
pub(crate) struct Elimination {
    pub(crate) var: EnumVar,
    pub(crate) log_factor: Tensor,
    /// The other variables (creation order, dim) that `log_factor` still depends on; they are
    /// summed out later, so decoding assigns them first.
    pub(crate) others: Vec<(usize, isize)>,
}

#[derive(Clone, Copy, Debug)]
struct Scope {
    history: usize,
    step: Option<usize>,
}

/// The handler behind [`TraceEnumElbo`](crate::infer::TraceEnumElbo): enumerates the sites marked
/// `enumerate` and sums the model's log-density over them.
#[derive(Debug)]
pub struct EnumMessenger {
    /// Enumeration dims start left of this many plate dims.
    max_plate_nesting: usize,
    vars: Vec<EnumVar>,
    factors: Vec<Factor>,
    /// Sum of the terms that no longer depend on any enumerated variable.
    total: Tensor,
    scopes: Vec<Scope>,
    created: usize,
    record: bool,
    eliminated: Vec<Elimination>,
    error: Option<Error>,
}

impl EnumMessenger {
    /// Enumeration dims go left of `max_plate_nesting` plate dims.
    pub fn new(max_plate_nesting: usize) -> EnumMessenger {
        EnumMessenger {
            max_plate_nesting,
            vars: Vec::new(),
            factors: Vec::new(),
            total: Tensor::scalar(0.0),
            scopes: Vec::new(),
            created: 0,
            record: false,
            eliminated: Vec::new(),
            error: None,
        }
    }

    /// Also keeps each summed-out variable's log-factor, for decoding afterwards.
    pub(crate) fn recording(mut self) -> EnumMessenger {
        self.record = true;
        self
    }

    /// Sums out what is left and returns the log-density of the run, with every enumerated
    /// variable summed out.
    pub fn finish(mut self) -> Result<Tensor> {
        self.finish_all()?;
        Ok(self.total)
    }

    pub(crate) fn finish_recorded(mut self) -> Result<(Tensor, Vec<Elimination>)> {
        self.finish_all()?;
        Ok((self.total, self.eliminated))
    }

    fn finish_all(&mut self) -> Result<()> {
        // Innermost plates first, then the most recent variable first.
        while let Some(i) =
            (0..self.vars.len()).max_by_key(|&i| (self.vars[i].plates.len(), self.vars[i].order))
        {
            self.eliminate(i);
        }
        // Whatever factor is left has no enumerated dim (e.g. a variable whose values all
        // collapsed): reduce it.
        for f in std::mem::take(&mut self.factors) {
            self.total = &self.total + reduce(f);
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => self.total.clone().check().map(|_| ()),
        }
    }

    fn free_dim(&self) -> isize {
        let base = self.max_plate_nesting as isize + 1;
        (0..)
            .map(|j: isize| -(base + j))
            .find(|d| self.vars.iter().all(|v| v.dim != *d))
            .unwrap_or(-base)
    }

    fn enumerate(&mut self, msg: &mut Message) -> Result<()> {
        let Some(dist) = &msg.dist else {
            return Ok(());
        };
        if !dist.is_discrete() {
            return Err(Error::Invalid(format!(
                "site `{}` is marked for enumeration but its distribution {} is continuous",
                msg.name,
                dist.name()
            )));
        }
        let support = dist.enumerate_support(false).map_err(|e| {
            Error::Invalid(format!(
                "site `{}` is marked for enumeration but {} cannot enumerate its support: {e}",
                msg.name,
                dist.name()
            ))
        })?;
        let k = support.shape().first().copied().unwrap_or(1);
        let dim = self.free_dim();
        let mut shape = vec![k];
        shape.extend(std::iter::repeat_n(1, (-dim - 1) as usize));
        shape.extend_from_slice(&dist.event_shape());
        let value = support.reshape(&shape).check()?;
        let depth = self.scopes.len();
        let scope = self
            .scopes
            .last()
            .and_then(|s| s.step.map(|step| (depth, step)));
        self.vars.push(EnumVar {
            name: msg.name.clone(),
            dim,
            plates: msg.plates.iter().filter_map(|p| p.dim).collect(),
            support: value.clone(),
            scope,
            order: self.created,
        });
        self.created += 1;
        msg.value = Some(value);
        Ok(())
    }

    fn add_site(&mut self, msg: &Message) -> Result<()> {
        let (Some(dist), Some(value)) = (&msg.dist, &msg.value) else {
            return Ok(());
        };
        let mut lp = dist.log_prob(value);
        if let Some(m) = &msg.mask {
            lp = Tensor::where_(m, &lp, &Tensor::scalar(0.0));
        }
        let plates: Vec<(isize, f64)> = msg
            .plates
            .iter()
            .filter_map(|p| {
                p.dim
                    .map(|d| (d, p.size as f64 / p.subsample_size.max(1) as f64))
            })
            .collect();
        // The plates' scales apply when their dims are summed; the rest (sequential plates,
        // `scale` handlers) applies to the term as a whole.
        let plate_scale: f64 = plates.iter().map(|p| p.1).product();
        let rest = msg.scale / plate_scale;
        if rest != 1.0 {
            lp = lp * rest;
        }
        let lp = lp.check().map_err(|e| e.at_site(&msg.name))?;
        self.add_factor(Factor {
            log_density: lp,
            plates,
        });
        Ok(())
    }

    fn add_factor(&mut self, f: Factor) {
        if self.vars.iter().any(|v| has_dim(&f.log_density, v.dim)) {
            self.factors.push(f);
        } else {
            self.total = &self.total + reduce(f);
        }
    }

    /// Sums variable `i` out of the factors that contain it.
    fn eliminate(&mut self, i: usize) {
        let var = self.vars.remove(i);
        let (hit, rest): (Vec<Factor>, Vec<Factor>) = std::mem::take(&mut self.factors)
            .into_iter()
            .partition(|f| has_dim(&f.log_density, var.dim));
        self.factors = rest;
        let mut combined: Option<Tensor> = None;
        let mut plates: Vec<(isize, f64)> = Vec::new();
        for f in hit {
            let mut lp = f.log_density;
            for (d, s) in f.plates {
                if var.plates.contains(&d) {
                    if !plates.iter().any(|p| p.0 == d) {
                        plates.push((d, s));
                    }
                    continue;
                }
                // A plate the variable is not in: its elements are independent given the
                // variable, so their log-densities add up before the variable is summed out.
                if let Some(axis) = axis_of(&lp, d) {
                    lp = lp.sum_dim(axis as isize, true);
                }
                if s != 1.0 {
                    lp = lp * s;
                }
            }
            combined = Some(match combined {
                None => lp,
                Some(c) => c + lp,
            });
        }
        let Some(combined) = combined else {
            return;
        };
        let reduced = match axis_of(&combined, var.dim) {
            Some(axis) => combined.logsumexp_dim(axis as isize, true),
            None => combined.clone(),
        };
        if let Some(e) = reduced.error() {
            self.error
                .get_or_insert_with(|| e.clone().at_site(&var.name));
        }
        if self.record {
            let others = self
                .vars
                .iter()
                .filter(|v| has_dim(&combined, v.dim))
                .map(|v| (v.order, v.dim))
                .collect();
            self.eliminated.push(Elimination {
                var,
                log_factor: combined.detach(),
                others,
            });
        }
        self.add_factor(Factor {
            log_density: reduced,
            plates,
        });
    }
}

/// The axis of `t` that batch dim `dim` (negative) maps to, if `t` has it.
fn axis_of(t: &Tensor, dim: isize) -> Option<usize> {
    let nd = t.ndim() as isize;
    (nd + dim >= 0).then(|| (nd + dim) as usize)
}

/// Whether `t` varies along batch dim `dim`.
fn has_dim(t: &Tensor, dim: isize) -> bool {
    axis_of(t, dim).is_some_and(|a| t.shape()[a] > 1)
}

/// A factor with no enumerated dim, summed over everything, each plate with its scale.
fn reduce(f: Factor) -> Tensor {
    let scale: f64 = f.plates.iter().map(|p| p.1).product();
    let s = f.log_density.sum();
    if scale != 1.0 {
        s * scale
    } else {
        s
    }
}

impl Messenger for EnumMessenger {
    fn process_message(&mut self, msg: &mut Message) {
        if msg.kind != SiteKind::Sample
            || !msg.infer.enumerate
            || msg.is_observed
            || msg.value.is_some()
        {
            return;
        }
        if let Err(e) = self.enumerate(msg) {
            msg.error.get_or_insert(e);
        }
    }

    fn postprocess_message(&mut self, msg: &mut Message) {
        if msg.kind != SiteKind::Sample || msg.error.is_some() {
            return;
        }
        if let Err(e) = self.add_site(msg) {
            self.error.get_or_insert(e);
        }
    }

    fn markov(&mut self, event: MarkovEvent) {
        match event {
            MarkovEvent::Enter { history } => self.scopes.push(Scope {
                history,
                step: None,
            }),
            MarkovEvent::Step => {
                let depth = self.scopes.len();
                let Some(scope) = self.scopes.last_mut() else {
                    return;
                };
                let step = scope.step.map_or(0, |s| s + 1);
                scope.step = Some(step);
                let history = scope.history;
                // Variables more than `history` steps back can no longer be used: sum them out.
                while let Some(i) = self.vars.iter().position(|v| {
                    v.scope
                        .is_some_and(|(d, s)| d == depth && s + history < step)
                }) {
                    self.eliminate(i);
                }
            }
            MarkovEvent::Exit => {
                let depth = self.scopes.len();
                for v in &mut self.vars {
                    if v.scope.is_some_and(|(d, _)| d == depth) {
                        v.scope = None;
                    }
                }
                self.scopes.pop();
            }
        }
    }
}

impl Context {
    /// Runs `f` with the sites marked `enumerate` enumerated and summed out, returning its result
    /// and the log-density of the run (every sample site, enumerated variables summed out).
    pub fn enumerated<R>(
        &mut self,
        max_plate_nesting: usize,
        f: impl FnOnce(&mut Context) -> R,
    ) -> (R, Result<Tensor>) {
        let (r, h) = self.with_handler(EnumMessenger::new(max_plate_nesting), f);
        (r, h.finish())
    }
}
