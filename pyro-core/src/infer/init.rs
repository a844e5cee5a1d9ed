//! Initialisation strategies for latent sites, shared by the autoguides (where each site's
//! location starts) and by MCMC (where each chain starts): Pyro's `init_to_median`,
//! `init_to_sample`, `init_to_value` and `init_to_uniform`.
//!
//! Every strategy yields a value in *unconstrained* space (the preimage under
//! [`biject_to`](crate::transforms::biject_to) of the site's support), which is where both the
//! autoguides and Hamiltonian Monte Carlo work.

use rand::Rng as _;

use crate::constraints::Constraint;
use crate::distributions::Distribution;
use crate::error::{Error, Result};
use crate::handlers::Context;
use crate::tensor::Tensor;
use crate::transforms::{unconstrained_shape, Bijector, Transform};

/// How a latent site's initial value is chosen.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum InitLoc {
    /// The elementwise median of 15 draws from the prior (Pyro's `init_to_median`); sites with
    /// event dimensions use one prior draw.
    #[default]
    Median,
    /// The value drawn in the prototype run (one prior draw, Pyro's `init_to_sample`).
    Sample,
    /// Zero in unconstrained space (0 for a real site, 1 for a positive one, 1/2 for a unit
    /// interval one).
    Zero,
    /// Uniform in `(-radius, radius)` in unconstrained space, independently per entry (Pyro's
    /// `init_to_uniform`, whose default radius is 2).
    Uniform(f64),
    /// The given constrained values, by site name, each flattened row-major (Pyro's
    /// `init_to_value`); a site not listed starts uniform in `(-2, 2)` unconstrained.
    Value(Vec<(String, Vec<f64>)>),
}

/// [`InitLoc::Median`]: the elementwise median of 15 prior draws.
pub fn init_to_median() -> InitLoc {
    InitLoc::Median
}

/// [`InitLoc::Uniform`]: uniform in `(-radius, radius)` in unconstrained space.
pub fn init_to_uniform(radius: f64) -> InitLoc {
    InitLoc::Uniform(radius)
}

/// [`InitLoc::Value`]: the given constrained values (flattened row-major) by site name, the other
/// sites uniform in `(-2, 2)` unconstrained.
///
/// ```
/// use pyro_core::infer::{init_to_value, InitLoc};
/// let init = init_to_value([("mu", vec![0.5]), ("theta", vec![1.0, 2.0])]);
/// assert!(matches!(init, InitLoc::Value(ref v) if v.len() == 2));
/// ```
pub fn init_to_value<K: Into<String>>(values: impl IntoIterator<Item = (K, Vec<f64>)>) -> InitLoc {
    InitLoc::Value(values.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

impl InitLoc {
    /// The initial unconstrained value of site `name` with distribution `dist`, support
    /// `support` (mapped by `bijector`) and prototype draw `value`.
    pub(crate) fn unconstrained(
        &self,
        ctx: &mut Context,
        name: &str,
        dist: &dyn Distribution,
        value: &Tensor,
        support: &Constraint,
        bijector: &Bijector,
    ) -> Result<Tensor> {
        let event_dim = dist.event_shape().len();
        match self {
            InitLoc::Zero => Ok(Tensor::zeros(&unconstrained_shape(support, value.shape())?)),
            InitLoc::Sample => Ok(bijector.inverse(value)),
            InitLoc::Median => {
                if event_dim == 0 {
                    Ok(bijector.inverse(&median_of_draws(ctx, dist, value)?))
                } else {
                    Ok(bijector.inverse(value))
                }
            }
            InitLoc::Uniform(radius) => uniform(ctx, support, value, *radius, name),
            InitLoc::Value(values) => match values.iter().find(|(n, _)| n == name) {
                Some((_, v)) => {
                    let y = Tensor::new(v.clone(), value.shape()).map_err(|_| {
                        Error::Invalid(format!(
                            "init_to_value: site `{name}` has shape {:?} ({} values), but {} \
                             initial values were given",
                            value.shape(),
                            value.numel(),
                            v.len()
                        ))
                    })?;
                    if !support.check(&y) {
                        return Err(Error::Invalid(format!(
                            "init_to_value: the initial value of site `{name}` lies outside its \
                             support {support:?}"
                        )));
                    }
                    Ok(bijector.inverse(&y))
                }
                None => uniform(ctx, support, value, 2.0, name),
            },
        }
    }
}

fn uniform(
    ctx: &mut Context,
    support: &Constraint,
    value: &Tensor,
    radius: f64,
    name: &str,
) -> Result<Tensor> {
    if !(radius.is_finite() && radius > 0.0) {
        return Err(Error::Invalid(format!(
            "init_to_uniform at site `{name}`: the radius must be positive and finite, got \
             {radius}"
        )));
    }
    let shape = unconstrained_shape(support, value.shape())?;
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|_| ctx.rng().random_range(-radius..radius))
        .collect();
    Tensor::new(v, &shape)
}

/// Elementwise median of 15 draws of `dist` (same shape as `like`).
fn median_of_draws(ctx: &mut Context, dist: &dyn Distribution, like: &Tensor) -> Result<Tensor> {
    const N: usize = 15;
    let draws: Vec<Vec<f64>> = (0..N)
        .map(|_| dist.sample(ctx.rng()).to_vec())
        .collect::<Result<_>>()?;
    let n = like.numel();
    if draws.iter().any(|d| d.len() != n) {
        return Ok(like.clone());
    }
    let mut out = Vec::with_capacity(n);
    let mut col = [0.0; N];
    for i in 0..n {
        for (k, d) in draws.iter().enumerate() {
            col[k] = d[i];
        }
        col.sort_by(|a, b| a.total_cmp(b));
        out.push(col[N / 2]);
    }
    Tensor::new(out, like.shape())
}
