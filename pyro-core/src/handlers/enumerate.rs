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
//!
//! Two things keep this cheap:
//!
//! - A log-density is kept in the shape its distribution computes it, not broadcast over the
//!   plates the site sits in: a factor that does not vary along a plate stands for each of the
//!   plate's elements, and counts that many times when the plate is summed. An HMM transition
//!   factor stays `K x K` rather than `K x K x S`.
//! - Summing a variable out of several factors splits them into two groups (the split whose
//!   broadcast sums are smallest) and contracts the groups in log space
//!   ([`Tensor::logsumexp_add`]): for an HMM step, the `K x S` message and the `K x K` transition
//!   become a `K x S` result through `K² S` multiply-adds instead of `K² S` exponentials.

use super::{Context, MarkovEvent, Message, Messenger};
use crate::distributions::Distribution;
use crate::error::{Error, Result};
use crate::tensor::{broadcast_shapes, Shape, Tensor};
use crate::trace::{SiteKind, SiteName};

/// An enumerated variable that has not been summed out yet.
#[derive(Clone, Debug)]
pub(crate) struct EnumVar {
    pub(crate) name: SiteName,
    /// Its dimension, counted from the right of the batch shape (negative).
    pub(crate) dim: isize,
    /// The dimensions of the vectorised plates it sits in.
    pub(crate) plates: Vec<isize>,
    /// Those plates' dimensions with their (subsample) sizes.
    plate_sizes: Vec<(isize, usize)>,
    /// Its support, laid out along `dim`.
    pub(crate) support: Tensor,
    /// (markov depth, step) where it was created, while that loop is open.
    scope: Option<(usize, usize)>,
    /// Creation order.
    pub(crate) order: usize,
}

/// A log-density term and the vectorised plates it has not been summed over yet.
#[derive(Clone, Debug)]
struct Factor {
    log_density: Tensor,
    plates: Vec<PlateSum>,
}

/// A vectorised plate that a factor is still to be summed over.
#[derive(Clone, Copy, Debug, PartialEq)]
struct PlateSum {
    dim: isize,
    /// How many elements it has in this run (the subsample size): the multiplicity of a factor
    /// that does not vary along it.
    count: f64,
    /// The scale its sum takes (size / subsample size).
    scale: f64,
}

impl PlateSum {
    /// The factor `lp` summed over this plate (keeping the dim, as size 1).
    fn sum(&self, lp: Tensor) -> Tensor {
        match axis_of(&lp, self.dim) {
            Some(axis) if lp.shape()[axis] > 1 => {
                scaled(lp.sum_dim(axis as isize, true), self.scale)
            }
            // The same value for every element of the plate.
            _ => scaled(lp, self.count * self.scale),
        }
    }
}

fn scaled(t: Tensor, s: f64) -> Tensor {
    if s != 1.0 {
        t * s
    } else {
        t
    }
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
            plate_sizes: msg
                .plates
                .iter()
                .filter_map(|p| p.dim.map(|d| (d, p.subsample_size)))
                .collect(),
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
        let plates: Vec<PlateSum> = msg
            .plates
            .iter()
            .filter_map(|p| {
                p.dim.map(|dim| PlateSum {
                    dim,
                    count: p.subsample_size as f64,
                    scale: p.size as f64 / p.subsample_size.max(1) as f64,
                })
            })
            .collect();
        let mut lp = unexpanded_log_prob(dist.as_ref(), value, &plates);
        if let Some(m) = &msg.mask {
            lp = Tensor::where_(m, &lp, &Tensor::scalar(0.0));
        }
        // The plates' scales apply when their dims are summed; the rest (sequential plates,
        // `scale` handlers) applies to the term as a whole.
        let plate_scale: f64 = plates.iter().map(|p| p.scale).product();
        let lp = scaled(lp, msg.scale / plate_scale);
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
        let mut terms: Vec<Tensor> = Vec::with_capacity(hit.len());
        let mut plates: Vec<PlateSum> = Vec::new();
        for f in hit {
            let mut lp = f.log_density;
            for p in f.plates {
                if var.plates.contains(&p.dim) {
                    if !plates.iter().any(|q| q.dim == p.dim) {
                        plates.push(p);
                    }
                    continue;
                }
                // A plate the variable is not in: its elements are independent given the
                // variable, so their log-densities add up before the variable is summed out.
                lp = p.sum(lp);
            }
            terms.push(lp);
        }
        if terms.is_empty() {
            return;
        }
        let (left, right) = split_for_contraction(&terms);
        let sum_of = |group: &[usize]| group.iter().map(|&k| terms[k].clone()).reduce(|a, b| a + b);
        let (a, b) = (sum_of(&left), sum_of(&right));
        let reduced = match (&a, &b) {
            (Some(a), Some(b)) => a.logsumexp_add(b, var.dim, true),
            (Some(c), None) | (None, Some(c)) => match axis_of(c, var.dim) {
                Some(axis) => c.logsumexp_dim(axis as isize, true),
                None => c.clone(),
            },
            (None, None) => return,
        };
        if let Some(e) = reduced.error() {
            self.error
                .get_or_insert_with(|| e.clone().at_site(&var.name));
        }
        if self.record {
            let combined = match (a, b) {
                (Some(a), Some(b)) => &a.detach() + &b.detach(),
                (Some(c), None) | (None, Some(c)) => c.detach(),
                (None, None) => unreachable!("handled above"),
            };
            // Decoding draws one value per element of the variable's plates: give the factor
            // their dims even where it does not vary along them.
            let combined = over_plates(combined, &var.plate_sizes);
            let others = self
                .vars
                .iter()
                .filter(|v| has_dim(&combined, v.dim))
                .map(|v| (v.order, v.dim))
                .collect();
            self.eliminated.push(Elimination {
                var,
                log_factor: combined,
                others,
            });
        }
        self.add_factor(Factor {
            log_density: reduced,
            plates,
        });
    }
}

/// The log-density of `value`, without the broadcast over `plates` that fitting the site to its
/// plates added (see the module docs); any other expansion is kept.
fn unexpanded_log_prob(dist: &dyn Distribution, value: &Tensor, plates: &[PlateSum]) -> Tensor {
    let Some((base, shape)) = dist.as_expanded() else {
        return dist.log_prob(value);
    };
    let lp = base.log_prob(value);
    // The expanded batch shape with the plates' dims left at 1.
    let n = shape.len() as isize;
    let target: Shape = shape
        .iter()
        .enumerate()
        .map(|(d, &size)| {
            if plates.iter().any(|p| p.dim == d as isize - n) {
                1
            } else {
                size
            }
        })
        .collect();
    match broadcast_shapes(lp.shape(), &target) {
        Ok(s) if s.as_slice() == lp.shape() => lp,
        Ok(s) => lp.broadcast_to(&s),
        // The expanded distribution would fail the same way: let it report.
        Err(_) => dist.log_prob(value),
    }
}

/// `t` broadcast so that it has each of `plates`' dims at its size.
fn over_plates(t: Tensor, plates: &[(isize, usize)]) -> Tensor {
    let n = plates
        .iter()
        .map(|&(d, _)| (-d) as usize)
        .max()
        .unwrap_or(0)
        .max(t.ndim());
    let mut shape: Shape = std::iter::repeat_n(1, n - t.ndim()).collect();
    shape.extend_from_slice(t.shape());
    for &(d, size) in plates {
        let axis = (n as isize + d) as usize;
        if shape[axis] == 1 {
            shape[axis] = size;
        }
    }
    if shape.as_slice() == t.shape() {
        t
    } else {
        t.broadcast_to(&shape)
    }
}

/// Splits the log-factors that contain a variable into two groups whose broadcast sums
/// are then contracted over its dim ([`Tensor::logsumexp_add`]): the split that makes the two sums
/// smallest. Everything goes into the first group (a plain logsumexp) when no split beats forming
/// the whole broadcast sum, as when one factor already spans every dim.
fn split_for_contraction(terms: &[Tensor]) -> (Vec<usize>, Vec<usize>) {
    let all: Vec<usize> = (0..terms.len()).collect();
    // Too many to try every split (2^(n-1)); also a bound on the work here.
    const MAX_TERMS: usize = 12;
    if terms.len() < 2 || terms.len() > MAX_TERMS {
        return (all, Vec::new());
    }
    let n = terms.iter().map(Tensor::ndim).max().unwrap_or(0);
    // Each term's size along each dim of the broadcast shape (right-aligned).
    let sizes: Vec<Shape> = terms
        .iter()
        .map(|t| {
            let mut s: Shape = std::iter::repeat_n(1, n - t.ndim()).collect();
            s.extend_from_slice(t.shape());
            s
        })
        .collect();
    let numel_of = |mask: u32| -> usize {
        (0..n)
            .map(|d| {
                (0..terms.len())
                    .filter(|k| mask >> k & 1 == 1)
                    .map(|k| sizes[k][d])
                    .max()
                    .unwrap_or(1)
            })
            .product()
    };
    let full_mask = (1u32 << terms.len()) - 1;
    let full = numel_of(full_mask);
    // The first term always goes left, which halves the splits to try.
    let best = (1..=full_mask)
        .filter(|m| m & 1 == 1 && *m != full_mask)
        .map(|m| (numel_of(m) + numel_of(full_mask & !m), m))
        .min();
    match best {
        Some((cost, mask)) if cost < full => (
            all.iter().copied().filter(|k| mask >> k & 1 == 1).collect(),
            all.iter().copied().filter(|k| mask >> k & 1 == 0).collect(),
        ),
        _ => (all, Vec::new()),
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

/// A factor with no enumerated dim, summed over everything, each plate with its scale (and its
/// size where the factor does not vary along it).
fn reduce(f: Factor) -> Tensor {
    let lp = &f.log_density;
    let scale: f64 = f
        .plates
        .iter()
        .map(|p| match axis_of(lp, p.dim) {
            Some(axis) if lp.shape()[axis] > 1 => p.scale,
            _ => p.count * p.scale,
        })
        .product();
    scaled(lp.sum(), scale)
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
