//! The Dirichlet distribution.

use super::gamma::{log_gamma_of, log_gamma_parts, pathwise_log_grad};
use super::log_density as ld;
use super::util::Bcast as _;
use super::util::{check_param, tensor_of};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{broadcast_shapes, custom_elementwise, Shape, Tensor};

/// Dirichlet(concentration α) over the simplex: `α` has shape `batch + [K]` (K >= 2), density
/// `Γ(Σα) / ΠΓ(α_k) Π x_k^(α_k - 1)`.
///
/// `rsample` normalises independent `Gamma(α_k, 1)` draws made with implicit gradients, so it is
/// differentiable in α; the draws and the normalisation are in log space (a softmax of the log
/// draws), so that small concentrations do not round the draws to 0 (then NaN), and the result
/// is clamped to at least `f64::MIN_POSITIVE`. `log_prob` is `-inf` off the simplex (an entry outside `[0, 1]`, or a sum
/// further than 1e-6 from 1) and accurate for large concentrations (a multinomial form of
/// Loader's saddle-point formula, see `log_density::dirichlet`).
///
/// ```
/// use pyro_core::distributions::{Dirichlet, Distribution};
/// let d = Dirichlet::new([1.0, 1.0, 1.0]).unwrap();
/// // uniform on the 2-simplex: density Γ(3) = 2
/// let lp = d.log_prob(&[0.2, 0.3, 0.5].into()).item().unwrap();
/// assert!((lp - 2f64.ln()).abs() < 1e-12);
/// assert!(Dirichlet::new([1.0, 0.0]).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Dirichlet {
    concentration: Tensor,
    batch: Shape,
    k: usize,
}

impl Dirichlet {
    /// Errors unless every concentration is positive and finite, with finite sums, and the last
    /// dimension has size >= 2.
    pub fn new(concentration: impl Into<Tensor>) -> Result<Dirichlet> {
        let concentration = concentration.into();
        check_param(
            "Dirichlet",
            "concentration",
            &concentration,
            "positive and finite",
            |x| x > 0.0 && x.is_finite(),
        )?;
        let shape = concentration.shape();
        let k = match shape.last() {
            Some(&k) if k >= 2 => k,
            _ => {
                return Err(Error::InvalidParameter {
                    dist: "Dirichlet",
                    param: "concentration",
                    reason: format!(
                        "must have a last (event) dimension of size >= 2, got shape {shape:?}"
                    ),
                })
            }
        };
        let batch = Shape::from_slice(&shape[..shape.len() - 1]);
        if let Some(s) = concentration
            .detach()
            .sum_dim(-1, false)
            .values()?
            .iter()
            .find(|s| !s.is_finite())
        {
            return Err(Error::InvalidParameter {
                dist: "Dirichlet",
                param: "concentration",
                reason: format!("must have finite sums over the last dimension, got {s}"),
            });
        }
        Ok(Dirichlet {
            concentration,
            batch,
            k,
        })
    }
    /// The concentration α.
    pub fn concentration(&self) -> &Tensor {
        &self.concentration
    }

    /// A draw: the log gamma draws of each row shifted by their maximum (a constant, so the
    /// softmax and its gradient are unchanged) with their implicit gradients, then a softmax.
    /// The shift is taken on the draws scaled by `s = min(1, min_k α_k)` (see
    /// `beta::log_odds`), so that no difference is `inf - inf`.
    fn draw(&self, alpha: &Tensor, rng: &mut Rng) -> Tensor {
        let k = self.k;
        let av = match alpha.values() {
            Ok(v) => v,
            Err(e) => return Tensor::poisoned(e),
        };
        let mut shifted = Vec::with_capacity(av.len());
        let mut grads = Vec::with_capacity(if alpha.requires_grad() { av.len() } else { 0 });
        let mut parts = Vec::with_capacity(k);
        for row in av.chunks(k) {
            parts.clear();
            parts.extend(row.iter().map(|&a| log_gamma_parts(rng, a)));
            let s = row.iter().copied().fold(1.0, f64::min);
            let scaled = |(c, u): (f64, f64), a: f64| c * s + u * (s / a);
            let top = parts
                .iter()
                .zip(row)
                .map(|(&p, &a)| scaled(p, a))
                .fold(f64::NEG_INFINITY, f64::max);
            for (&p, &a) in parts.iter().zip(row) {
                shifted.push((scaled(p, a) - top) / s);
                if alpha.requires_grad() {
                    grads.push(pathwise_log_grad(a, log_gamma_of(p, a)));
                }
            }
        }
        let shape = alpha.shape();
        let lz = tensor_of(shifted, shape);
        let lz = if alpha.requires_grad() {
            custom_elementwise(&[alpha], lz, &[tensor_of(grads, shape)])
        } else {
            lz
        };
        (&lz - lz.logsumexp_dim(-1, true))
            .exp()
            .clamp(f64::MIN_POSITIVE, 1.0)
    }
}

impl Distribution for Dirichlet {
    fn name(&self) -> &'static str {
        "Dirichlet"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn event_shape(&self) -> Shape {
        Shape::from_slice(&[self.k])
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        self.draw(&self.concentration.detach(), rng)
    }
    fn rsample(&self, rng: &mut Rng) -> Result<Tensor> {
        self.draw(&self.concentration, rng).check()
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// `-inf` off the simplex.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let a = &self.concentration;
        if let Some(e) = a.error().or(value.error()) {
            return Tensor::poisoned(e.clone());
        }
        let shape = match broadcast_shapes(a.shape(), value.shape()) {
            Ok(s) if s.last() == Some(&self.k) => s,
            _ => {
                return Tensor::poisoned(Error::shape(
                    "Dirichlet::log_prob",
                    format!(
                        "value of shape {:?} does not fit the concentration's shape {:?}",
                        value.shape(),
                        a.shape()
                    ),
                ))
            }
        };
        let (av, xv) = match (
            a.detach().bcast(&shape).to_vec(),
            value.detach().bcast(&shape).to_vec(),
        ) {
            (Ok(a), Ok(x)) => (a, x),
            (Err(e), _) | (_, Err(e)) => return Tensor::poisoned(e),
        };
        // One entry per element whose sum over the event is the log-density (the whole value
        // sits on the first entry of each row); the local derivatives are the total ones, which
        // is exact because the entries are only ever summed.
        let k = self.k;
        let (need_a, need_x) = (a.requires_grad(), value.requires_grad());
        let mut terms = vec![0.0; av.len()];
        let mut da = vec![0.0; if need_a { av.len() } else { 0 }];
        let mut dx = vec![0.0; if need_x { av.len() } else { 0 }];
        for (r, (ar, xr)) in av.chunks(k).zip(xv.chunks(k)).enumerate() {
            let lp = ld::dirichlet(ar, xr);
            terms[r * k] = lp;
            if lp.is_finite() && (need_a || need_x) {
                let ra = if need_a {
                    &mut da[r * k..(r + 1) * k]
                } else {
                    &mut [][..]
                };
                let rx = if need_x {
                    &mut dx[r * k..(r + 1) * k]
                } else {
                    &mut [][..]
                };
                ld::dirichlet_grad(ar, xr, ra, rx);
            }
        }
        let terms = tensor_of(terms, &shape);
        let mut inputs = Vec::new();
        let mut grads = Vec::new();
        if need_a {
            inputs.push(a);
            grads.push(tensor_of(da, &shape));
        }
        if need_x {
            inputs.push(value);
            grads.push(tensor_of(dx, &shape));
        }
        custom_elementwise(&inputs, terms, &grads).sum_dim(-1, false)
    }
    fn support(&self) -> Constraint {
        Constraint::Simplex
    }
    fn mean(&self) -> Result<Tensor> {
        let a = &self.concentration;
        Ok(a / a.sum_dim(-1, true))
    }
    fn variance(&self) -> Result<Tensor> {
        let a = &self.concentration;
        let a0 = a.sum_dim(-1, true);
        Ok(a * (&a0 - a) / (a0.square() * (&a0 + 1.0)))
    }
    fn entropy(&self) -> Result<Tensor> {
        let a = &self.concentration;
        let a0 = a.sum_dim(-1, false);
        let lnb = a.lgamma().sum_dim(-1, false) - a0.lgamma();
        Ok(lnb + (&a0 - self.k as f64) * a0.digamma()
            - ((a - 1.0) * a.digamma()).sum_dim(-1, false))
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
