//! Helpers shared by the distributions: parameter validation and broadcasting of parameters.

use rand::Rng as _;
use rand_distr::{Distribution as _, StandardNormal};

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{broadcast_shapes, Shape, Tensor};

/// Fails unless every value of `t` satisfies `ok`; the message names the distribution, the
/// parameter and the first offending value.
pub(crate) fn check_param(
    dist: &'static str,
    param: &'static str,
    t: &Tensor,
    what: &str,
    ok: impl Fn(f64) -> bool,
) -> Result<()> {
    let v = t.values().map_err(|e| Error::InvalidParameter {
        dist,
        param,
        reason: e.to_string(),
    })?;
    if let Some(bad) = v.iter().find(|&&x| !ok(x)) {
        return Err(Error::InvalidParameter {
            dist,
            param,
            reason: format!("must be {what}, got {bad}"),
        });
    }
    Ok(())
}

/// The broadcast batch shape of several parameters, or an error naming the distribution.
pub(crate) fn batch_of(dist: &'static str, params: &[(&'static str, &Tensor)]) -> Result<Shape> {
    let mut shape = Shape::new();
    for (name, p) in params {
        shape = broadcast_shapes(&shape, p.shape()).map_err(|_| Error::InvalidParameter {
            dist,
            param: name,
            reason: format!(
                "shape {:?} does not broadcast with the other parameters' shape {:?}",
                p.shape(),
                shape.as_slice()
            ),
        })?;
    }
    Ok(shape)
}

/// Standard normal draws of a shape, as a constant tensor.
pub(crate) fn standard_normal(rng: &mut Rng, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    if shape.is_empty() {
        return Tensor::scalar(StandardNormal.sample(rng));
    }
    let v: Vec<f64> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
    Tensor::new(v, shape).unwrap_or_else(Tensor::poisoned)
}

/// Uniform(0, 1) draws of a shape, as a constant tensor (open at 0).
#[allow(dead_code)] // used by the distributions that sample by inversion
pub(crate) fn uniform(rng: &mut Rng, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let draw = |rng: &mut Rng| loop {
        let u: f64 = rng.random();
        if u > 0.0 {
            break u;
        }
    };
    if shape.is_empty() {
        return Tensor::scalar(draw(rng));
    }
    let v: Vec<f64> = (0..n).map(|_| draw(rng)).collect();
    Tensor::new(v, shape).unwrap_or_else(Tensor::poisoned)
}
