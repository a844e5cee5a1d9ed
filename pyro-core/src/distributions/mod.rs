//! Probability distributions, after `torch.distributions` and rand_distr's small traits.
//!
//! Every distribution has a *batch shape* (independent, not identically distributed copies) and
//! an *event shape* (the shape of one draw); `log_prob` returns one log-density per batch element.
//! Constructors validate their parameters and return `Err(Error::InvalidParameter)` that names the
//! distribution and the parameter. Parameters may be tensors on a tape: `rsample` and `log_prob` are
//! then differentiable with respect to them.
//!
//! `log_prob` outside the support: each distribution documents it; the rule is `-inf` where the
//! density is zero (for example a negative value under `Exponential`), never a panic.

mod bernoulli;
mod beta;
mod binomial;
mod categorical;
mod cauchy;
mod delta;
mod dirichlet;
mod discrete;
mod exponential;
pub(crate) mod fused;
mod gamma;
mod half_normal;
mod inverse_gamma;
mod kl;
mod laplace;
mod lkj_cholesky;
pub(crate) mod log_density;
mod lognormal;
mod mixture_same_family;
mod multinomial;
mod multivariate_normal;
mod negative_binomial;
mod normal;
mod poisson;
mod student_t;
mod truncated_normal;
mod uniform;
pub(crate) mod util;
mod von_mises;
mod wrappers;
mod zero_inflated_poisson;

pub use bernoulli::Bernoulli;
pub use beta::Beta;
pub use binomial::Binomial;
pub use categorical::{Categorical, OneHotCategorical};
pub use cauchy::{Cauchy, HalfCauchy};
pub use delta::Delta;
pub use dirichlet::Dirichlet;
pub use discrete::Discrete;
pub use exponential::Exponential;
pub use gamma::{standard_gamma_grad, Gamma};
pub use half_normal::HalfNormal;
pub use inverse_gamma::InverseGamma;
pub use kl::kl_divergence;
pub use laplace::Laplace;
pub use lkj_cholesky::LKJCholesky;
pub use lognormal::LogNormal;
pub use mixture_same_family::MixtureSameFamily;
pub use multinomial::Multinomial;
pub use multivariate_normal::MultivariateNormal;
pub use negative_binomial::{GammaPoisson, NegativeBinomial};
pub use normal::Normal;
pub use poisson::Poisson;
pub use student_t::StudentT;
pub use truncated_normal::TruncatedNormal;
pub use uniform::Uniform;
pub use von_mises::VonMises;
pub use wrappers::{DistributionExt, Expanded, Independent, Masked};
pub use zero_inflated_poisson::ZeroInflatedPoisson;

use std::fmt;

#[doc(hidden)]
pub use crate::pool::BoxPool;

use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};

/// A probability distribution over tensors.
pub trait Distribution: fmt::Debug {
    /// The distribution's name, for error messages (`"Normal"`).
    fn name(&self) -> &'static str;

    /// Shape of the independent batch of distributions.
    fn batch_shape(&self) -> Shape;

    /// Shape of one event (one draw of one batch element).
    fn event_shape(&self) -> Shape {
        Shape::new()
    }

    /// A draw of shape `batch_shape + event_shape`, not differentiable (detached).
    fn sample(&self, rng: &mut Rng) -> Tensor;

    /// A reparameterised draw, differentiable with respect to the parameters. Errors for
    /// distributions without a reparameterisation (see [`Distribution::has_rsample`]).
    fn rsample(&self, rng: &mut Rng) -> Result<Tensor> {
        let _ = rng;
        Err(Error::Invalid(format!(
            "{} has no reparameterised sampler (rsample)",
            self.name()
        )))
    }

    /// Whether [`Distribution::rsample`] is available.
    fn has_rsample(&self) -> bool {
        false
    }

    /// Log-density (or log-mass) of `value`, of shape `batch_shape` (broadcast with the value's
    /// own batch dimensions).
    fn log_prob(&self, value: &Tensor) -> Tensor;

    /// The sum of [`Distribution::log_prob`] over all its elements: what a site adds to the
    /// ELBO. Distributions with a fused kernel compute it in one pass without the elementwise
    /// buffer.
    fn log_prob_sum(&self, value: &Tensor) -> Tensor {
        self.log_prob(value).sum()
    }

    /// The support, as a constraint.
    fn support(&self) -> Constraint;

    /// Checks that `value` lies in the support: an [`Error::OutOfSupport`] naming the
    /// distribution, the first value outside and the support. Sample sites call it on observed
    /// values unless validation is switched off (as Pyro's `validate_args`; see
    /// [`crate::handlers::Context::set_validation`] and `Svi::validate`). Distributions whose
    /// support varies across the batch (Binomial's `total_count`, Uniform's bounds) check each
    /// element against its own.
    fn check_support(&self, value: &Tensor) -> Result<()> {
        check_in(self.name(), &self.support(), value)
    }

    /// Whether the distribution is over discrete values.
    fn is_discrete(&self) -> bool {
        self.support().is_discrete()
    }

    /// All values of the support along a new leftmost dimension, for discrete distributions with a
    /// finite support (shape `[n] + batch_shape + event_shape` when `expand`, else
    /// `[n] + [1]*len(batch_shape) + event_shape`).
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        let _ = expand;
        Err(Error::Invalid(format!(
            "{} has no enumerable support",
            self.name()
        )))
    }

    /// The mean, where defined.
    fn mean(&self) -> Result<Tensor> {
        Err(Error::Invalid(format!(
            "{} has no closed-form mean",
            self.name()
        )))
    }

    /// The variance, where defined.
    fn variance(&self) -> Result<Tensor> {
        Err(Error::Invalid(format!(
            "{} has no closed-form variance",
            self.name()
        )))
    }

    /// Entropy, where known in closed form.
    fn entropy(&self) -> Result<Tensor> {
        Err(Error::Invalid(format!(
            "{} has no closed-form entropy",
            self.name()
        )))
    }

    /// A boxed copy (distributions are stored in traces as trait objects).
    fn box_clone(&self) -> Box<dyn Distribution>;

    /// A boxed copy in a recycled block of `pool`: how traces keep each site's distribution
    /// without a heap allocation per step. The default allocates through
    /// [`Distribution::box_clone`].
    #[doc(hidden)]
    fn clone_pooled(&self, pool: &mut BoxPool) -> Box<dyn Distribution> {
        let _ = pool;
        self.box_clone()
    }

    /// Downcasting support, for analytic KL divergences between known pairs.
    fn as_any(&self) -> &dyn std::any::Any;

    /// For [`Independent`]: the base distribution and the number of reinterpreted dimensions
    /// (used by [`kl_divergence`], which cannot downcast a generic wrapper).
    #[doc(hidden)]
    fn as_independent(&self) -> Option<(&dyn Distribution, usize)> {
        None
    }

    /// For [`Expanded`]: the base distribution and the expanded batch shape.
    #[doc(hidden)]
    fn as_expanded(&self) -> Option<(&dyn Distribution, &[usize])> {
        None
    }
}

impl Clone for Box<dyn Distribution> {
    fn clone(&self) -> Self {
        self.box_clone()
    }
}

/// What `sample!` accepts as its distribution: a distribution or the `Result` of its constructor,
/// so that model code needs no `?` and an invalid parameter becomes an error naming the site.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a distribution",
    label = "expected a distribution",
    note = "`sample!` takes a distribution such as `Normal::new(0.0, 1.0)` (or the `Result` its constructor returns)"
)]
pub trait IntoDistribution {
    /// The distribution type.
    type Dist: Distribution + 'static;
    /// The distribution, or the constructor's error.
    fn into_distribution(self) -> Result<Self::Dist>;
}

impl<D: Distribution + 'static> IntoDistribution for D {
    type Dist = D;
    fn into_distribution(self) -> Result<D> {
        Ok(self)
    }
}

impl<D: Distribution + 'static> IntoDistribution for Result<D> {
    type Dist = D;
    fn into_distribution(self) -> Result<D> {
        self
    }
}

impl Distribution for Box<dyn Distribution> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn batch_shape(&self) -> Shape {
        (**self).batch_shape()
    }
    fn event_shape(&self) -> Shape {
        (**self).event_shape()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        (**self).sample(rng)
    }
    fn rsample(&self, rng: &mut Rng) -> Result<Tensor> {
        (**self).rsample(rng)
    }
    fn has_rsample(&self) -> bool {
        (**self).has_rsample()
    }
    fn log_prob(&self, value: &Tensor) -> Tensor {
        (**self).log_prob(value)
    }
    fn log_prob_sum(&self, value: &Tensor) -> Tensor {
        (**self).log_prob_sum(value)
    }
    fn support(&self) -> Constraint {
        (**self).support()
    }
    fn check_support(&self, value: &Tensor) -> Result<()> {
        (**self).check_support(value)
    }
    fn is_discrete(&self) -> bool {
        (**self).is_discrete()
    }
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        (**self).enumerate_support(expand)
    }
    fn mean(&self) -> Result<Tensor> {
        (**self).mean()
    }
    fn variance(&self) -> Result<Tensor> {
        (**self).variance()
    }
    fn entropy(&self) -> Result<Tensor> {
        (**self).entropy()
    }
    fn box_clone(&self) -> Box<dyn Distribution> {
        (**self).box_clone()
    }
    fn clone_pooled(&self, pool: &mut BoxPool) -> Box<dyn Distribution> {
        (**self).clone_pooled(pool)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        (**self).as_any()
    }
    fn as_independent(&self) -> Option<(&dyn Distribution, usize)> {
        (**self).as_independent()
    }
    fn as_expanded(&self) -> Option<(&dyn Distribution, &[usize])> {
        (**self).as_expanded()
    }
}

/// `Ok` if every value of `value` satisfies `support`, else an [`Error::OutOfSupport`] naming
/// `dist` and the first value outside.
pub(crate) fn check_in(dist: &'static str, support: &Constraint, value: &Tensor) -> Result<()> {
    if let Some(e) = value.error() {
        return Err(e.clone());
    }
    match support.first_violation(value) {
        None => Ok(()),
        Some(v) => Err(Error::OutOfSupport {
            dist,
            value: v,
            support: support.to_string(),
        }),
    }
}

/// [`expand_boxed`], boxing the expanded distribution in a block of `pool`.
pub(crate) fn expand_boxed_in(
    d: Box<dyn Distribution>,
    shape: &[usize],
    pool: &mut BoxPool,
) -> Result<Box<dyn Distribution>> {
    if d.batch_shape().as_slice() == shape {
        return Ok(d);
    }
    Ok(pool.boxed_dist(Expanded::new(d, shape)?))
}

/// Expands a boxed distribution to a batch shape (how plates broadcast a site's distribution);
/// errors name the distribution and both shapes.
pub(crate) fn expand_boxed(
    d: Box<dyn Distribution>,
    shape: &[usize],
) -> Result<Box<dyn Distribution>> {
    if d.batch_shape().as_slice() == shape {
        return Ok(d);
    }
    Ok(Box::new(Expanded::new(d, shape)?))
}
