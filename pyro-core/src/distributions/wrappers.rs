//! Wrappers that change how a distribution's dimensions are read: [`Independent`] (`to_event`),
//! [`Expanded`] (`expand`) and [`Masked`] (`mask`), reached through [`DistributionExt`].

use super::util::cat_shape;
use super::util::Bcast as _;
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{broadcast_shapes, masked_fill, numel, Shape, Tensor};

/// `.to_event(n)`, `.expand(shape)` and `.mask(mask)` for every distribution (boxed ones
/// included) and for the `Result` of a constructor, so that
/// `Normal::new(loc, scale).to_event(1)` works without `?`.
///
/// ```
/// use pyro_core::distributions::{Distribution, DistributionExt, Normal};
/// let d = Normal::new(0.0, 1.0).expand(&[3]).to_event(1).unwrap();
/// assert_eq!(d.batch_shape().as_slice(), &[] as &[usize]);
/// assert_eq!(d.event_shape().as_slice(), &[3]);
/// let lp = d.log_prob(&[0.0, 0.0, 0.0].into()).item().unwrap();
/// assert!((lp + 3.0 * 0.9189385332046727).abs() < 1e-12);
/// ```
pub trait DistributionExt: Sized {
    /// The wrapped distribution type.
    type Base: Distribution + Clone + 'static;

    /// Reinterprets the rightmost `n` batch dimensions as event dimensions (`log_prob` sums over
    /// them). Errors if the batch has fewer than `n` dimensions.
    fn to_event(self, n: usize) -> Result<Independent<Self::Base>>;

    /// Broadcasts the batch shape to `shape` (numpy rules, new dimensions on the left); draws
    /// along broadcast dimensions are independent. Errors if the batch shape does not broadcast
    /// to `shape`.
    fn expand(self, shape: &[usize]) -> Result<Expanded<Self::Base>>;

    /// Multiplies the log-density by a 0/1 mask broadcastable to the batch shape (0 where masked
    /// out, whatever the log-density there, `-inf` included).
    fn mask(self, mask: impl Into<Tensor>) -> Result<Masked<Self::Base>>;
}

impl<D: Distribution + Clone + 'static> DistributionExt for D {
    type Base = D;
    fn to_event(self, n: usize) -> Result<Independent<D>> {
        Independent::new(self, n)
    }
    fn expand(self, shape: &[usize]) -> Result<Expanded<D>> {
        Expanded::new(self, shape)
    }
    fn mask(self, mask: impl Into<Tensor>) -> Result<Masked<D>> {
        Masked::new(self, mask.into())
    }
}

impl<D: Distribution + Clone + 'static> DistributionExt for Result<D> {
    type Base = D;
    fn to_event(self, n: usize) -> Result<Independent<D>> {
        self?.to_event(n)
    }
    fn expand(self, shape: &[usize]) -> Result<Expanded<D>> {
        self?.expand(shape)
    }
    fn mask(self, mask: impl Into<Tensor>) -> Result<Masked<D>> {
        self?.mask(mask)
    }
}

/// A distribution whose rightmost `n` batch dimensions are read as event dimensions.
#[derive(Clone, Debug)]
pub struct Independent<D> {
    base: D,
    n: usize,
}

impl<D: Distribution + Clone + 'static> Independent<D> {
    /// Errors if `base` has fewer than `n` batch dimensions.
    pub fn new(base: D, n: usize) -> Result<Independent<D>> {
        let b = base.batch_shape();
        if b.len() < n {
            return Err(Error::Invalid(format!(
                "{}.to_event({n}): the batch shape {:?} has only {} dimensions",
                base.name(),
                b.as_slice(),
                b.len()
            )));
        }
        Ok(Independent { base, n })
    }
    /// The wrapped distribution.
    pub fn base(&self) -> &D {
        &self.base
    }
    /// The number of reinterpreted dimensions.
    pub fn reinterpreted_dims(&self) -> usize {
        self.n
    }
}

fn sum_last(mut t: Tensor, n: usize) -> Tensor {
    for _ in 0..n {
        t = if t.ndim() == 0 {
            t
        } else {
            t.sum_dim(-1, false)
        };
    }
    t
}

impl<D: Distribution + Clone + 'static> Distribution for Independent<D> {
    fn name(&self) -> &'static str {
        self.base.name()
    }
    fn batch_shape(&self) -> Shape {
        let b = self.base.batch_shape();
        Shape::from_slice(&b[..b.len() - self.n])
    }
    fn event_shape(&self) -> Shape {
        let b = self.base.batch_shape();
        cat_shape(&b[b.len() - self.n..], &self.base.event_shape())
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        self.base.sample(rng)
    }
    fn rsample(&self, rng: &mut Rng) -> Result<Tensor> {
        self.base.rsample(rng)
    }
    fn has_rsample(&self) -> bool {
        self.base.has_rsample()
    }
    /// The base log-density summed over the reinterpreted dimensions.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        sum_last(self.base.log_prob(value), self.n)
    }
    fn log_prob_sum(&self, value: &Tensor) -> Tensor {
        self.base.log_prob_sum(value)
    }
    fn support(&self) -> Constraint {
        match (self.n, self.base.support()) {
            (0, s) => s,
            (_, Constraint::Real) => Constraint::RealVector,
            (_, s) => s,
        }
    }
    fn check_support(&self, value: &Tensor) -> Result<()> {
        self.base.check_support(value)
    }
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        if self.n > 0 {
            return Err(Error::Invalid(format!(
                "{} with to_event({}) has no enumerable support (it would be a product space)",
                self.base.name(),
                self.n
            )));
        }
        self.base.enumerate_support(expand)
    }
    fn mean(&self) -> Result<Tensor> {
        self.base.mean()
    }
    fn variance(&self) -> Result<Tensor> {
        self.base.variance()
    }
    fn entropy(&self) -> Result<Tensor> {
        Ok(sum_last(self.base.entropy()?, self.n))
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
    fn as_independent(&self) -> Option<(&dyn Distribution, usize)> {
        Some((&self.base, self.n))
    }
}

/// A distribution broadcast to a bigger batch shape.
#[derive(Clone, Debug)]
pub struct Expanded<D> {
    base: D,
    shape: Shape,
}

impl<D: Distribution + Clone + 'static> Expanded<D> {
    /// Errors (naming the distribution and both shapes) unless the batch shape of `base`
    /// broadcasts to `shape`.
    pub fn new(base: D, shape: &[usize]) -> Result<Expanded<D>> {
        let b = base.batch_shape();
        match broadcast_shapes(&b, shape) {
            Ok(s) if s.as_slice() == shape => Ok(Expanded {
                base,
                shape: Shape::from_slice(shape),
            }),
            _ => Err(Error::shape(
                format!("{}.expand", base.name()),
                format!(
                    "batch shape {:?} cannot be expanded to {shape:?}",
                    b.as_slice()
                ),
            )),
        }
    }
    /// The wrapped distribution.
    pub fn base(&self) -> &D {
        &self.base
    }

    /// Draws `M` base samples (M = the product of the broadcast sizes) and places entry
    /// `(j, base index)` at every output position (a selection, so gradients flow back).
    fn draw(&self, rng: &mut Rng, f: impl Fn(&D, &mut Rng) -> Result<Tensor>) -> Result<Tensor> {
        let b = self.base.batch_shape();
        if b.as_slice() == self.shape.as_slice() {
            return f(&self.base, rng);
        }
        let nd = self.shape.len();
        let mut pb: Shape = Shape::from_elem(1, nd - b.len());
        pb.extend_from_slice(&b);
        let e = numel(&self.base.event_shape());
        let p = numel(&pb);
        let m: usize = self
            .shape
            .iter()
            .zip(&pb)
            .map(|(&s, &q)| if q == 1 { s } else { 1 })
            .product();
        let draws: Vec<Tensor> = (0..m)
            .map(|_| f(&self.base, rng).map(|t| t.reshape(&[p * e])))
            .collect::<Result<_>>()?;
        let all = Tensor::concat(&draws, 0);
        let total = numel(&self.shape);
        let mut idx = Vec::with_capacity(total * e);
        let mut multi = vec![0usize; nd];
        for _ in 0..total {
            let (mut j, mut pi) = (0usize, 0usize);
            for d in 0..nd {
                if pb[d] == 1 {
                    j = j * self.shape[d] + multi[d];
                } else {
                    pi = pi * pb[d] + multi[d];
                }
            }
            // strides of pb with the broadcast dims counted as size 1: pi is already its index
            for k in 0..e {
                idx.push(j * p * e + pi * e + k);
            }
            for d in (0..nd).rev() {
                multi[d] += 1;
                if multi[d] < self.shape[d] {
                    break;
                }
                multi[d] = 0;
            }
        }
        let out_shape = cat_shape(&self.shape, &self.base.event_shape());
        all.index_select(0, &idx).reshape(&out_shape).check()
    }
}

impl<D: Distribution + Clone + 'static> Distribution for Expanded<D> {
    fn name(&self) -> &'static str {
        self.base.name()
    }
    fn batch_shape(&self) -> Shape {
        self.shape.clone()
    }
    fn event_shape(&self) -> Shape {
        self.base.event_shape()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        self.draw(rng, |d, rng| Ok(d.sample(rng)))
            .unwrap_or_else(Tensor::poisoned)
    }
    fn rsample(&self, rng: &mut Rng) -> Result<Tensor> {
        self.draw(rng, |d, rng| d.rsample(rng))
    }
    fn has_rsample(&self) -> bool {
        self.base.has_rsample()
    }
    fn log_prob_sum(&self, value: &Tensor) -> Tensor {
        // When the value already spans the expanded batch shape, the base log-density has that
        // shape and nothing is repeated: its own sum is the sum.
        let event = self.base.event_shape().len();
        let vs = value.shape();
        let covers = vs.len() >= event
            && broadcast_shapes(&vs[..vs.len() - event], &self.base.batch_shape())
                .is_ok_and(|b| b.as_slice() == self.shape.as_slice());
        if covers {
            self.base.log_prob_sum(value)
        } else {
            self.log_prob(value).sum()
        }
    }
    /// The base log-density, broadcast to the expanded batch shape.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let lp = self.base.log_prob(value);
        match broadcast_shapes(lp.shape(), &self.shape) {
            Ok(s) => lp.bcast(&s),
            Err(e) => Tensor::poisoned(Error::shape(
                format!("{}.log_prob", self.base.name()),
                e.to_string(),
            )),
        }
    }
    fn support(&self) -> Constraint {
        self.base.support()
    }
    fn check_support(&self, value: &Tensor) -> Result<()> {
        self.base.check_support(value)
    }
    fn is_discrete(&self) -> bool {
        self.base.is_discrete()
    }
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        let v = self.base.enumerate_support(false)?;
        let k = v.shape()[0];
        let event = self.base.event_shape();
        let mut s = Shape::from_slice(&[k]);
        s.extend(std::iter::repeat_n(1, self.shape.len()));
        s.extend_from_slice(&event);
        let v = v.reshape(&s);
        if expand {
            let full = cat_shape(&cat_shape(&[k], &self.shape), &event);
            return v.bcast(&full).check();
        }
        v.check()
    }
    fn mean(&self) -> Result<Tensor> {
        self.base
            .mean()?
            .bcast(&cat_shape(&self.shape, &self.base.event_shape()))
            .check()
    }
    fn variance(&self) -> Result<Tensor> {
        self.base
            .variance()?
            .bcast(&cat_shape(&self.shape, &self.base.event_shape()))
            .check()
    }
    fn entropy(&self) -> Result<Tensor> {
        self.base.entropy()?.bcast(&self.shape).check()
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
    fn as_expanded(&self) -> Option<(&dyn Distribution, &[usize])> {
        Some((&self.base, &self.shape))
    }
}

/// A distribution whose log-density is zeroed where a 0/1 mask is 0.
#[derive(Clone, Debug)]
pub struct Masked<D> {
    base: D,
    mask: Tensor,
    /// `base` expanded to the broadcast of its batch shape and the mask's, where they differ
    /// (Pyro's semantics: a mask can add batch dims, e.g. a per-sequence mask on a shared prior).
    expanded: Option<Box<dyn Distribution>>,
}

impl<D: Distribution + Clone + 'static> Masked<D> {
    /// Errors unless `mask` holds only 0 and 1 and broadcasts with the batch shape of `base`; the
    /// batch shape is the broadcast of the two.
    pub fn new(base: D, mask: Tensor) -> Result<Masked<D>> {
        let b = base.batch_shape();
        let mask = mask.detach();
        super::util::check_param(base.name(), "mask", &mask, "0 or 1", |m| {
            m == 0.0 || m == 1.0
        })?;
        match broadcast_shapes(mask.shape(), &b) {
            Ok(s) if s == b => Ok(Masked {
                base,
                mask,
                expanded: None,
            }),
            Ok(s) => {
                let expanded = super::expand_boxed(Box::new(base.clone()), &s)?;
                Ok(Masked {
                    base,
                    mask,
                    expanded: Some(expanded),
                })
            }
            _ => Err(Error::shape(
                format!("{}.mask", base.name()),
                format!(
                    "mask of shape {:?} does not broadcast to the batch shape {:?}",
                    mask.shape(),
                    b.as_slice()
                ),
            )),
        }
    }
    /// The wrapped distribution.
    pub fn base(&self) -> &D {
        &self.base
    }
    fn inner(&self) -> &dyn Distribution {
        match &self.expanded {
            Some(e) => e.as_ref(),
            None => &self.base,
        }
    }
    /// The mask.
    pub fn mask_tensor(&self) -> &Tensor {
        &self.mask
    }
}

impl<D: Distribution + Clone + 'static> Distribution for Masked<D> {
    fn name(&self) -> &'static str {
        self.base.name()
    }
    fn batch_shape(&self) -> Shape {
        self.inner().batch_shape()
    }
    fn event_shape(&self) -> Shape {
        self.inner().event_shape()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        self.inner().sample(rng)
    }
    fn rsample(&self, rng: &mut Rng) -> Result<Tensor> {
        self.inner().rsample(rng)
    }
    fn has_rsample(&self) -> bool {
        self.inner().has_rsample()
    }
    /// The base log-density where the mask is 1, exactly 0 where it is 0.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let off = self.mask.map_const(|m| 1.0 - m);
        masked_fill(&self.inner().log_prob(value), &off, 0.0)
    }
    fn support(&self) -> Constraint {
        self.inner().support()
    }
    /// Checks every value, masked out or not (as Pyro does): fill masked-out observations with
    /// a value of the support, or switch validation off.
    fn check_support(&self, value: &Tensor) -> Result<()> {
        self.inner().check_support(value)
    }
    fn is_discrete(&self) -> bool {
        self.inner().is_discrete()
    }
    fn enumerate_support(&self, expand: bool) -> Result<Tensor> {
        self.inner().enumerate_support(expand)
    }
    fn mean(&self) -> Result<Tensor> {
        self.inner().mean()
    }
    fn variance(&self) -> Result<Tensor> {
        self.inner().variance()
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
