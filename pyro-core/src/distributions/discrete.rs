//! The `Discrete` marker: distributions whose support can be enumerated. `sample!(.., enumerate)`
//! requires it, so enumerating a continuous distribution is a compile error rather than a run-time
//! one.

use super::{
    Bernoulli, Binomial, Categorical, Distribution, Expanded, Independent, Masked,
    OneHotCategorical, Poisson,
};
use crate::error::Result;

/// A distribution over a countable support, which a site marked `enumerate` may use.
///
/// A `Box<dyn Distribution>` is accepted too and checked when inference runs.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a discrete distribution, so its site cannot be marked `enumerate`",
    label = "a continuous distribution at an enumerated site",
    note = "only discrete distributions (Bernoulli, Categorical, OneHotCategorical, Binomial, Poisson, and `to_event`/`expand`/`mask` of them) can be enumerated"
)]
pub trait Discrete {}

impl Discrete for Bernoulli {}
impl Discrete for Binomial {}
impl Discrete for Categorical {}
impl Discrete for OneHotCategorical {}
impl Discrete for Poisson {}
impl<D: Discrete> Discrete for Independent<D> {}
impl<D: Discrete> Discrete for Expanded<D> {}
impl<D: Discrete> Discrete for Masked<D> {}
impl<D: Discrete> Discrete for Result<D> {}
impl Discrete for Box<dyn Distribution> {}
