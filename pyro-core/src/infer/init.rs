//! Initialisation strategies for latent sites, shared by the autoguides (where each site's
//! location starts) and by MCMC (where each chain starts): Pyro's `init_to_median`,
//! `init_to_sample`, `init_to_value`, `init_to_uniform`, and a function of the site
//! (`init_loc_fn`).
//!
//! Every strategy yields a value in *unconstrained* space (the preimage under
//! [`biject_to`](crate::transforms::biject_to) of the site's support), which is where both the
//! autoguides and Hamiltonian Monte Carlo work.

use std::fmt;
use std::sync::Arc;

use rand::Rng as _;

use crate::constraints::Constraint;
use crate::distributions::Distribution;
use crate::error::{Error, Result};
use crate::handlers::Context;
use crate::rng::Rng;
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
    /// A function of the site that returns its constrained initial value, or `None` for the
    /// prior median (Pyro's `init_loc_fn`): see [`init_loc_fn`].
    Fn(InitFn),
}

/// The function of an [`InitLoc::Fn`] (shared, so that the strategy clones cheaply and goes to
/// every MCMC chain). Two are equal when they are the same function object.
#[derive(Clone)]
pub struct InitFn(Arc<InitFnBody>);

/// The function itself: a site in, its constrained initial value (or `None`) out.
type InitFnBody = dyn Fn(&mut InitSite<'_>) -> Option<Tensor> + Send + Sync;

impl fmt::Debug for InitFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InitFn(..)")
    }
}

impl PartialEq for InitFn {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What an [`init_loc_fn`] function sees of a latent site: Pyro's `site` dict.
pub struct InitSite<'a> {
    name: &'a str,
    dist: &'a dyn Distribution,
    prototype: &'a Tensor,
    rng: &'a mut Rng,
}

impl InitSite<'_> {
    /// The site's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The site's distribution (its prior, as the model wrote it).
    pub fn dist(&self) -> &dyn Distribution {
        self.dist
    }

    /// A draw of the site from the model's run that found it: the shape the initial value must
    /// have.
    pub fn prototype(&self) -> &Tensor {
        self.prototype
    }

    /// The generator of the inference that initialises (seeded by it: e.g. [`Svi::seed`]), for
    /// initial values drawn at random.
    ///
    /// [`Svi::seed`]: crate::infer::Svi::seed
    pub fn rng(&mut self) -> &mut Rng {
        self.rng
    }
}

/// [`InitLoc::Median`]: the elementwise median of 15 prior draws.
pub fn init_to_median() -> InitLoc {
    InitLoc::Median
}

/// [`InitLoc::Sample`]: the site's value in one prior run (Pyro's `init_to_sample`).
pub fn init_to_sample() -> InitLoc {
    InitLoc::Sample
}

/// [`InitLoc::Fn`]: the initial value of each latent site is what `f` returns for it, a
/// constrained value of the site's shape (Pyro's `init_loc_fn`); where `f` returns `None`, the
/// prior median ([`init_to_median`]). A value of the wrong shape or outside the site's support
/// is an error naming the site.
///
/// ```
/// use pyro_core::infer::{init_loc_fn, InitLoc};
/// use pyro_core::tensor::Tensor;
///
/// // Pyro's `init_loc_fn` of the Gaussian-mixture tutorial, in part.
/// let init: InitLoc = init_loc_fn(|site| match site.name() {
///     "weights" => Some(Tensor::from_slice(&[0.5, 0.5])),
///     "scale" => Some(Tensor::scalar(2.0)),
///     _ => None,
/// });
/// assert!(matches!(init, InitLoc::Fn(_)));
/// ```
pub fn init_loc_fn(
    f: impl Fn(&mut InitSite<'_>) -> Option<Tensor> + Send + Sync + 'static,
) -> InitLoc {
    InitLoc::Fn(InitFn(Arc::new(f)))
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
                    constrained("init_to_value", name, v.clone(), value, support, bijector)
                }
                None => uniform(ctx, support, value, 2.0, name),
            },
            InitLoc::Fn(f) => {
                let mut site = InitSite {
                    name,
                    dist,
                    prototype: value,
                    rng: ctx.rng(),
                };
                match (f.0)(&mut site) {
                    Some(y) => {
                        let v = y.to_vec().map_err(|e| e.at_site(name))?;
                        constrained("init_loc_fn", name, v, value, support, bijector)
                    }
                    None => {
                        InitLoc::Median.unconstrained(ctx, name, dist, value, support, bijector)
                    }
                }
            }
        }
    }
}

/// The unconstrained preimage of the initial value `v` (flattened) that `strategy` gives site
/// `name`, after checking it against the site's shape (that of `like`) and support.
fn constrained(
    strategy: &str,
    name: &str,
    v: Vec<f64>,
    like: &Tensor,
    support: &Constraint,
    bijector: &Bijector,
) -> Result<Tensor> {
    let n = v.len();
    let y = Tensor::new(v, like.shape()).map_err(|_| {
        Error::Invalid(format!(
            "{strategy}: site `{name}` has shape {:?} ({} values), but {n} initial values were \
             given",
            like.shape(),
            like.numel(),
        ))
    })?;
    if !support.check(&y) {
        return Err(Error::Invalid(format!(
            "{strategy}: the initial value of site `{name}` lies outside its support {support:?}"
        )));
    }
    Ok(bijector.inverse(&y))
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
