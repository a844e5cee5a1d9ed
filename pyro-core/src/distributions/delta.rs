//! The Delta (point mass) distribution.

use super::util::{check_param, outside};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// Delta(v, log_density, event_dim): all mass at `v`. The rightmost `event_dim` dimensions of `v`
/// form the event, the rest the batch.
///
/// `log_prob(x)` is `log_density` where `x == v` (over the whole event) and `-inf` elsewhere;
/// `rsample` returns `v` itself, so gradients flow into it (this is how `AutoDelta` guides
/// work).
///
/// ```
/// use pyro_core::distributions::{Delta, Distribution};
/// let d = Delta::new(2.0).unwrap();
/// assert_eq!(d.log_prob(&2.0.into()).item().unwrap(), 0.0);
/// assert_eq!(d.log_prob(&1.0.into()).item().unwrap(), f64::NEG_INFINITY);
/// assert!(Delta::with_event_dim([1.0, 2.0], 0.0, 2).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Delta {
    v: Tensor,
    log_density: Tensor,
    event_dim: usize,
    batch: Shape,
}

impl Delta {
    /// A point mass at `v` with log-density 0 and scalar events.
    pub fn new(v: impl Into<Tensor>) -> Result<Delta> {
        Delta::with_event_dim(v, 0.0, 0)
    }

    /// A point mass at `v` whose rightmost `event_dim` dimensions are the event, with the given
    /// log-density (broadcastable to the batch shape). Errors if `v` has fewer than `event_dim`
    /// dimensions or `log_density` is NaN.
    pub fn with_event_dim(
        v: impl Into<Tensor>,
        log_density: impl Into<Tensor>,
        event_dim: usize,
    ) -> Result<Delta> {
        let (v, log_density) = (v.into(), log_density.into());
        v.clone().check().map_err(|e| Error::InvalidParameter {
            dist: "Delta",
            param: "v",
            reason: e.to_string(),
        })?;
        check_param("Delta", "v", &v, "finite", f64::is_finite)?;
        check_param("Delta", "log_density", &log_density, "a number", |x| {
            !x.is_nan()
        })?;
        if v.ndim() < event_dim {
            return Err(Error::InvalidParameter {
                dist: "Delta",
                param: "event_dim",
                reason: format!(
                    "{event_dim} exceeds the number of dimensions of v (shape {:?})",
                    v.shape()
                ),
            });
        }
        let batch = Shape::from_slice(&v.shape()[..v.ndim() - event_dim]);
        if crate::tensor::broadcast_shapes(log_density.shape(), &batch)
            .map(|b| b != batch)
            .unwrap_or(true)
        {
            return Err(Error::InvalidParameter {
                dist: "Delta",
                param: "log_density",
                reason: format!(
                    "shape {:?} does not broadcast to the batch shape {:?}",
                    log_density.shape(),
                    batch.as_slice()
                ),
            });
        }
        Ok(Delta {
            v,
            log_density,
            event_dim,
            batch,
        })
    }

    /// The point.
    pub fn v(&self) -> &Tensor {
        &self.v
    }
    /// The log-density at the point.
    pub fn log_density(&self) -> &Tensor {
        &self.log_density
    }
    /// Number of event dimensions.
    pub fn event_dim(&self) -> usize {
        self.event_dim
    }
}

impl Distribution for Delta {
    fn name(&self) -> &'static str {
        "Delta"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn event_shape(&self) -> Shape {
        Shape::from_slice(&self.v.shape()[self.batch.len()..])
    }
    fn sample(&self, _rng: &mut Rng) -> Tensor {
        self.v.detach()
    }
    fn rsample(&self, _rng: &mut Rng) -> Result<Tensor> {
        Ok(self.v.clone())
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// `-inf` wherever the value differs from `v` in any entry of the event.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let mut differs = value.eq_mask(&self.v).map_const(|e| 1.0 - e);
        for _ in 0..self.event_dim {
            differs = differs.sum_dim(-1, false);
        }
        let lp = &self.log_density + differs.map_const(|_| 0.0);
        outside(&lp, &differs)
    }
    fn support(&self) -> Constraint {
        if self.event_dim == 0 {
            Constraint::Real
        } else {
            Constraint::RealVector
        }
    }
    fn mean(&self) -> Result<Tensor> {
        Ok(self.v.clone())
    }
    fn variance(&self) -> Result<Tensor> {
        Ok(Tensor::zeros(self.v.shape()))
    }
    fn entropy(&self) -> Result<Tensor> {
        Ok(Tensor::zeros(&self.batch))
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
