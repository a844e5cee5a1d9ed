//! Mixtures whose components are one batched distribution.

use super::util::{cat_shape, tensor_of};
use super::{Categorical, Distribution};
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{numel, Shape, Tensor};

/// MixtureSameFamily(mixing, components): a finite mixture whose `K` components are the
/// rightmost batch dimension of one distribution (PyTorch's `MixtureSameFamily`):
/// `p(x) = Σ_k π_k p_k(x)`, with `π` the probabilities of the [`Categorical`] `mixing`.
///
/// The components' batch shape must be the mixing distribution's batch shape followed by `K`, the
/// number of categories. The mixture has the mixing batch shape and the components' event shape.
/// `log_prob` is `logsumexp_k(ln π_k + ln p_k(x))`, differentiable in the mixing logits and the
/// components' parameters; sampling draws a component index, then that component's value (not
/// reparameterised). Mean `Σ π_k μ_k`, variance `Σ π_k (σ²_k + μ_k²) - μ²` where the components
/// have them.
///
/// ```
/// use pyro_core::distributions::{Categorical, Distribution, MixtureSameFamily, Normal};
/// let mix = Categorical::new([0.3, 0.7]).unwrap();
/// let comp = Normal::new([-1.0, 2.0], [1.0, 0.5]).unwrap();
/// let d = MixtureSameFamily::new(mix, comp).unwrap();
/// let x = 0.5;
/// let p = |m: f64, s: f64| (-(x - m) * (x - m) / (2.0 * s * s)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt());
/// let want = (0.3 * p(-1.0, 1.0) + 0.7 * p(2.0, 0.5)).ln();
/// assert!((d.log_prob(&x.into()).item().unwrap() - want).abs() < 1e-14);
/// ```
#[derive(Clone, Debug)]
pub struct MixtureSameFamily<D> {
    mixing: Categorical,
    components: D,
    batch: Shape,
    event: Shape,
}

impl<D: Distribution + Clone + 'static> MixtureSameFamily<D> {
    /// Errors unless the components' batch shape is the mixing batch shape followed by the
    /// number of categories.
    pub fn new(mixing: Categorical, components: D) -> Result<MixtureSameFamily<D>> {
        let k = mixing.num_categories();
        let mb = mixing.batch_shape();
        let cb = components.batch_shape();
        if cb.last() != Some(&k) || cb[..cb.len() - 1] != mb[..] {
            return Err(Error::InvalidParameter {
                dist: "MixtureSameFamily",
                param: "component_distribution",
                reason: format!(
                    "{}'s batch shape {:?} must be the mixing batch shape {:?} followed by the {k} \
                     components",
                    components.name(),
                    cb.as_slice(),
                    mb.as_slice()
                ),
            });
        }
        let event = components.event_shape();
        Ok(MixtureSameFamily {
            mixing,
            components,
            batch: mb,
            event,
        })
    }

    /// The mixing distribution.
    pub fn mixture_distribution(&self) -> &Categorical {
        &self.mixing
    }
    /// The batched components.
    pub fn component_distribution(&self) -> &D {
        &self.components
    }

    /// The mixing probabilities shaped `batch + [K] + [1] * event_ndims`, to weigh component
    /// moments.
    fn weights(&self) -> Tensor {
        let k = self.mixing.num_categories();
        let mut shape = cat_shape(&self.batch, &[k]);
        shape.extend(std::iter::repeat_n(1, self.event.len()));
        self.mixing.probs().reshape(&shape)
    }

    /// Sums out the component dimension of a `batch + [K] + event` tensor.
    fn sum_components(&self, t: &Tensor) -> Tensor {
        t.sum_dim(-1 - self.event.len() as isize, false)
    }
}

impl<D: Distribution + Clone + 'static> Distribution for MixtureSameFamily<D> {
    fn name(&self) -> &'static str {
        "MixtureSameFamily"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn event_shape(&self) -> Shape {
        self.event.clone()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        let k = self.mixing.num_categories();
        let idx = self.mixing.sample(rng);
        let all = self.components.sample(rng);
        let (Ok(idx), Ok(all)) = (idx.values(), all.values()) else {
            return Tensor::poisoned(
                idx.error()
                    .or(all.error())
                    .cloned()
                    .unwrap_or_else(|| Error::Invalid("MixtureSameFamily: no draw".into())),
            );
        };
        let e = numel(&self.event);
        let mut out = Vec::with_capacity(idx.len() * e);
        for (b, &i) in idx.iter().enumerate() {
            let start = (b * k + i as usize) * e;
            out.extend_from_slice(&all[start..start + e]);
        }
        tensor_of(out, &cat_shape(&self.batch, &self.event))
    }
    /// As the components' `log_prob`: outside their support the mixture has density zero.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        // Broadcast the value against the K components: a new dimension left of the event.
        let x = value.unsqueeze(-1 - self.event.len() as isize);
        let lp = self.components.log_prob(&x);
        (lp + self.mixing.logits()).logsumexp_dim(-1, false)
    }
    fn support(&self) -> Constraint {
        self.components.support()
    }
    fn mean(&self) -> Result<Tensor> {
        let m = self.components.mean()?;
        self.sum_components(&(self.weights() * m)).check()
    }
    fn variance(&self) -> Result<Tensor> {
        let m = self.components.mean()?;
        let v = self.components.variance()?;
        let w = self.weights();
        let mean = self.sum_components(&(&w * &m));
        let second = self.sum_components(&(&w * (v + m.square())));
        (second - mean.square()).check()
    }
    fn box_clone(&self) -> Box<dyn Distribution> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
