//! The beta distribution.

use super::fused::{log_density, log_density_sum, Kernel};
use super::gamma::{log_gamma_of, log_gamma_parts, pathwise_log_grad};
use super::log_density as ld;
use super::util::Bcast as _;
use super::util::{batch_of, check_param};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::Result;
use crate::rng::Rng;
use crate::tensor::{custom_elementwise, fastmath, numel, Data, Shape, Tensor};

/// Beta(concentration1 α, concentration0 β): density `x^(α-1) (1-x)^(β-1) / B(α, β)` on
/// `[0, 1]`. `log_prob` is `-inf` outside `[0, 1]`; at the ends it is the limit (`+inf`, `ln β`
/// or `-inf` at 0 for α below, at or above 1). It stays accurate for large concentrations
/// (the binomial saddle-point form of R's `dbeta`: `Beta(1e15, 1e15)` at 0.5 is 17.39).
///
/// `rsample` is `X / (X + Y)` with `X ~ Gamma(α, 1)`, `Y ~ Gamma(β, 1)` drawn with implicit
/// gradients, so it is differentiable in both concentrations. The gamma draws are made in log
/// space and the ratio is `sigmoid(ln X - ln Y)`, so that small concentrations give the right
/// U-shaped distribution (`Beta(1e-3, 1e-3)` puts 0.11% of its mass in `(0.25, 0.75)`) rather
/// than draws rounded to 0, 1 or 1/2; draws are clamped into `[f64::MIN_POSITIVE, 1 - 2^-53]`
/// (as PyTorch's `clamp_probs`), where `log_prob` is finite.
///
/// ```
/// use pyro_core::distributions::{Beta, Distribution};
/// let d = Beta::new(2.0, 3.0).unwrap();
/// // 12 x (1-x)^2 at x = 0.5
/// let lp = d.log_prob(&0.5.into()).item().unwrap();
/// assert!((lp - 1.5f64.ln()).abs() < 1e-12);
/// assert!(Beta::new(0.0, 1.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Beta {
    c1: Tensor,
    c0: Tensor,
    batch: Shape,
}

impl Beta {
    /// Errors unless both concentrations are positive and finite, with a finite sum.
    pub fn new(
        concentration1: impl Into<Tensor>,
        concentration0: impl Into<Tensor>,
    ) -> Result<Beta> {
        let (c1, c0) = (concentration1.into(), concentration0.into());
        check_param("Beta", "concentration1", &c1, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        check_param("Beta", "concentration0", &c0, "positive and finite", |x| {
            x > 0.0 && x.is_finite()
        })?;
        let batch = batch_of("Beta", &[("concentration1", &c1), ("concentration0", &c0)])?;
        if let Some(s) = (&c1.detach() + &c0.detach())
            .values()?
            .iter()
            .find(|s| !s.is_finite())
        {
            return Err(crate::Error::InvalidParameter {
                dist: "Beta",
                param: "concentration0",
                reason: format!("concentration1 + concentration0 must be finite, got {s}"),
            });
        }
        Ok(Beta { c1, c0, batch })
    }
    /// α, the exponent of `x`.
    pub fn concentration1(&self) -> &Tensor {
        &self.c1
    }
    /// β, the exponent of `1 - x`.
    pub fn concentration0(&self) -> &Tensor {
        &self.c0
    }
}

/// `ln B(a, b)`.
pub(crate) fn lbeta(a: &Tensor, b: &Tensor) -> Tensor {
    a.lgamma() + b.lgamma() - (a + b).lgamma()
}

/// The largest `f64` below 1.
const BELOW_ONE: f64 = 1.0 - f64::EPSILON / 2.0;

/// `ln X - ln Y` for gamma draws given in log space as `(c, u)` parts (`ln X = c + u / a`), scaled
/// by `s = min(a, b, 1)` before the difference so that it is never `inf - inf` (the parts
/// overflow only for subnormal concentrations; the result may be `±inf`).
pub(crate) fn log_odds((ca, ua): (f64, f64), a: f64, (cb, ub): (f64, f64), b: f64) -> f64 {
    let s = a.min(b).min(1.0);
    ((ca - cb) * s + ua * (s / a) - ub * (s / b)) / s
}

/// One Beta(a, b) draw and, where asked, its implicit reparameterisation derivatives in `a`
/// and `b`: `x = sigmoid(d)`, `d = ln X - ln Y`, `dx/da = x (1 - x) d ln X / da`.
fn beta_draw(rng: &mut Rng, a: f64, b: f64, need_a: bool, need_b: bool) -> (f64, f64, f64) {
    let (pa, pb) = (log_gamma_parts(rng, a), log_gamma_parts(rng, b));
    let d = log_odds(pa, a, pb, b);
    let x = fastmath::sigmoid(d).clamp(f64::MIN_POSITIVE, BELOW_ONE);
    if !(need_a || need_b) {
        return (x, 0.0, 0.0);
    }
    // x (1 - x) from d, without the cancellation of 1 - x.
    let e = fastmath::exp(-d.abs());
    let w = e / ((1.0 + e) * (1.0 + e));
    let da = if need_a {
        w * pathwise_log_grad(a, log_gamma_of(pa, a))
    } else {
        0.0
    };
    let db = if need_b {
        -w * pathwise_log_grad(b, log_gamma_of(pb, b))
    } else {
        0.0
    };
    (x, da, db)
}

/// Beta draws of `shape` with the implicit reparameterisation gradient in both concentrations
/// (one tape operation, see [`beta_draw`]).
fn beta_rsample(c1: &Tensor, c0: &Tensor, shape: &[usize], rng: &mut Rng) -> Tensor {
    let (need_a, need_b) = (c1.requires_grad(), c0.requires_grad());
    if let (Data::Scalar(a), Data::Scalar(b), 1) = (&c1.data, &c0.data, numel(shape)) {
        // One draw (the common case of small models): no buffer.
        let (x, da, db) = beta_draw(rng, *a, *b, need_a, need_b);
        let x = Tensor::full(shape, x);
        let (da, db) = (Tensor::full(shape, da), Tensor::full(shape, db));
        return match (need_a, need_b) {
            // Two one-input nodes (`x + 0` carrying the derivative in b): a node of four
            // inputs would spill the tape's inline input lists to the heap on every step.
            (true, true) => {
                custom_elementwise(&[c1], x, &[da])
                    + custom_elementwise(&[c0], Tensor::full(shape, 0.0), &[db])
            }
            (true, false) => custom_elementwise(&[c1], x, &[da]),
            (false, true) => custom_elementwise(&[c0], x, &[db]),
            (false, false) => x,
        };
    }
    let (a, b) = (c1.detach().bcast(shape), c0.detach().bcast(shape));
    let (av, bv) = match (a.values(), b.values()) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Tensor::poisoned(e),
    };
    let n = av.len();
    let mut x = Vec::with_capacity(n);
    let (mut da, mut db) = (Vec::new(), Vec::new());
    for (&a, &b) in av.iter().zip(bv) {
        let (xi, dai, dbi) = beta_draw(rng, a, b, need_a, need_b);
        x.push(xi);
        if need_a {
            da.push(dai);
        }
        if need_b {
            db.push(dbi);
        }
    }
    let x = super::util::tensor_of(x, shape);
    let mut inputs = Vec::new();
    let mut grads = Vec::new();
    if need_a {
        inputs.push(c1);
        grads.push(super::util::tensor_of(da, shape));
    }
    if need_b {
        inputs.push(c0);
        grads.push(super::util::tensor_of(db, shape));
    }
    custom_elementwise(&inputs, x, &grads)
}

/// `ln Beta(x; a, b)` (rel-dist's accurate `log_density::beta`) and its partial derivatives,
/// elementwise: one tape node (see [`super::fused`]).
struct BetaKernel;

impl Kernel<3> for BetaKernel {
    const NAME: &'static str = "Beta";
    #[inline]
    fn value([a, b, x]: [f64; 3]) -> f64 {
        ld::beta(x, a, b)
    }
    #[inline]
    fn partial([a, b, x]: [f64; 3], k: usize) -> f64 {
        // No gradient where the density is zero or infinite (outside or at the ends).
        if !ld::beta(x, a, b).is_finite() {
            return 0.0;
        }
        let [dx, da, db] = ld::beta_grad(x, a, b, k < 2);
        [da, db, dx][k]
    }
}

impl Distribution for Beta {
    fn name(&self) -> &'static str {
        "Beta"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        beta_rsample(&self.c1.detach(), &self.c0.detach(), &self.batch, rng)
    }
    fn rsample(&self, rng: &mut Rng) -> Result<Tensor> {
        beta_rsample(&self.c1, &self.c0, &self.batch, rng).check()
    }
    fn has_rsample(&self) -> bool {
        true
    }
    /// `-inf` outside `[0, 1]`; the limits at the ends.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        log_density::<BetaKernel, 3>([&self.c1, &self.c0, value])
    }
    fn log_prob_sum(&self, value: &Tensor) -> Tensor {
        log_density_sum::<BetaKernel, 3>([&self.c1, &self.c0, value])
    }
    fn support(&self) -> Constraint {
        Constraint::UnitInterval
    }
    fn mean(&self) -> Result<Tensor> {
        Ok((&self.c1 / (&self.c1 + &self.c0)).bcast(&self.batch))
    }
    fn variance(&self) -> Result<Tensor> {
        let s = &self.c1 + &self.c0;
        Ok((&self.c1 * &self.c0 / (s.square() * (&s + 1.0))).bcast(&self.batch))
    }
    fn entropy(&self) -> Result<Tensor> {
        let (a, b) = (&self.c1, &self.c0);
        let s = a + b;
        Ok(
            (lbeta(a, b) - (a - 1.0) * a.digamma() - (b - 1.0) * b.digamma()
                + (&s - 2.0) * s.digamma())
            .bcast(&self.batch),
        )
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
