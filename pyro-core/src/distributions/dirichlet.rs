//! The Dirichlet distribution.

use super::gamma::standard_gamma_rsample;
use super::util::check_param;
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// Dirichlet(concentration α) over the simplex: `α` has shape `batch + [K]` (K >= 2), density
/// `Γ(Σα) / ΠΓ(α_k) Π x_k^(α_k - 1)`.
///
/// `rsample` normalises independent `Gamma(α_k, 1)` draws made with implicit gradients, so it is
/// differentiable in α. `log_prob` does not check that the value lies on the simplex (it evaluates
/// the formula; a negative entry gives NaN).
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
    /// Errors unless every concentration is positive and the last dimension has size >= 2.
    pub fn new(concentration: impl Into<Tensor>) -> Result<Dirichlet> {
        let concentration = concentration.into();
        check_param(
            "Dirichlet",
            "concentration",
            &concentration,
            "positive",
            |x| x > 0.0,
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
        let g = standard_gamma_rsample(
            &self.concentration.detach(),
            self.concentration.shape(),
            rng,
        );
        &g / g.sum_dim(-1, true)
    }
    fn rsample(&self, rng: &mut Rng) -> Result<Tensor> {
        let g = standard_gamma_rsample(&self.concentration, self.concentration.shape(), rng);
        Ok(&g / g.sum_dim(-1, true))
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// Evaluates the formula for any value (no simplex check).
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let a = &self.concentration;
        ((a - 1.0) * value.ln()).sum_dim(-1, false) + a.sum_dim(-1, false).lgamma()
            - a.lgamma().sum_dim(-1, false)
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
