//! The LKJ distribution over Cholesky factors of correlation matrices.

use rand_distr::Distribution as _;

use super::util::{cat_shape, check_param, outside, tensor_of};
use super::Distribution;
use crate::constraints::Constraint;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{broadcast_shapes, custom_elementwise, digamma, lbeta, lgamma, Shape, Tensor};

/// LKJCholesky(dim n, concentration η): the distribution of the Cholesky factor `L` of a
/// correlation matrix `C = L Lᵀ` whose density is proportional to `det(C)^(η - 1)` (Lewandowski,
/// Kurowicka and Joe 2009). `η = 1` is uniform over correlation matrices; larger `η` favours the
/// identity, smaller `η` strong correlations.
///
/// In terms of the factor the density is `Π_{i=1}^{n-1} L_ii^(n - i - 1 + 2(η - 1))` (rows indexed
/// from 0) divided by the LKJ normaliser, as in PyTorch, NumPyro and Stan; `log_prob` is
/// differentiable in `η` and in the value, and `-inf` for a matrix that is not a correlation
/// Cholesky factor (lower-triangular, positive diagonal, rows of unit norm within 1e-6).
/// Sampling uses the onion method (LKJ 2009 section 3.2) as NumPyro does: row `i >= 1` has a
/// squared norm below the diagonal `y_i ~ Beta(i/2, η + (n - 1 - i)/2)` and a uniformly
/// distributed direction, and its diagonal entry completes it to unit norm. (PyTorch 2.15 draws
/// `y_i ~ Beta(i - 1/2, ..)`, which agrees only for `i = 1`: its correlations with rows `i >= 2`
/// are too dispersed, variance 0.374 instead of 1/3 for `n = 3, η = 1/2`.) The support is [`Constraint::CorrCholesky`]; the batch shape is the shape of `η`.
///
/// ```
/// use pyro_core::distributions::{Distribution, LKJCholesky};
/// use pyro_core::Tensor;
/// // η = 1 in dimension 2: the correlation is uniform on (-1, 1), L_11 = sqrt(1 - r²).
/// let d = LKJCholesky::new(2, 1.0).unwrap();
/// let r: f64 = 0.6;
/// let l = Tensor::from_rows(&[vec![1.0, 0.0], vec![r, (1.0 - r * r).sqrt()]]).unwrap();
/// // p(L) = p(r) |dr/dL_10| = 1/2.
/// assert!((d.log_prob(&l).item().unwrap() - 0.5f64.ln()).abs() < 1e-14);
/// assert!(LKJCholesky::new(1, 1.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct LKJCholesky {
    dim: usize,
    concentration: Tensor,
    batch: Shape,
}

impl LKJCholesky {
    /// Errors unless `dim >= 2` and `concentration > 0` is finite.
    pub fn new(dim: usize, concentration: impl Into<Tensor>) -> Result<LKJCholesky> {
        let concentration = concentration.into();
        if dim < 2 {
            return Err(Error::InvalidParameter {
                dist: "LKJCholesky",
                param: "dim",
                reason: format!("must be at least 2, got {dim}"),
            });
        }
        check_param(
            "LKJCholesky",
            "concentration",
            &concentration,
            "positive and finite",
            |x| x > 0.0 && x.is_finite(),
        )?;
        let batch = Shape::from_slice(concentration.shape());
        Ok(LKJCholesky {
            dim,
            concentration,
            batch,
        })
    }
    /// The matrix size `n`.
    pub fn dim(&self) -> usize {
        self.dim
    }
    /// The concentration η.
    pub fn concentration(&self) -> &Tensor {
        &self.concentration
    }

    /// The log normaliser per batch element, as a function of η on the tape:
    /// `(n - 1) ln Γ(α) - ln Γ_{n-1}(α - 1/2) - (n - 1)/2 ln π` with `α = η + (n - 1)/2` and
    /// `Γ_p` the multivariate gamma function (LKJ 2009 p. 1999, PyTorch's form).
    fn log_normaliser(&self) -> Tensor {
        let dm1 = (self.dim - 1) as f64;
        let ln_pi = std::f64::consts::PI.ln();
        // ln Γ_p(α - 1/2) = p (p - 1)/4 ln π + Σ_{j=1}^{p} ln Γ(α - 1/2 + (1 - j)/2), p = n - 1,
        // whose arguments are η + k/2 for k = n - 2, .., 0 (formed from η directly, so that the
        // last one is η itself even where α - 1 would round it away, η = 1e-300). Paired with
        // the p copies of ln Γ(α), each difference ln Γ(η + k/2) - ln Γ(η + (n - 1)/2) is
        // ln B(η + k/2, d) - ln Γ(d), d = (n - 1 - k)/2: the lgamma difference cancels for a
        // large η (400 nats lost at 1e17, inf - inf at 1e308), lbeta does not.
        let dim = self.dim;
        let eta = &self.concentration;
        let value = eta.map_const(|e| {
            (0..dim - 1)
                .map(|k| {
                    let d = 0.5 * (dm1 - k as f64);
                    lbeta(e + 0.5 * k as f64, d) - lgamma(d)
                })
                .sum()
        });
        let diffs = if eta.requires_grad() {
            let grad = eta.map_const(|e| {
                (0..dim - 1)
                    .map(|k| digamma(e + 0.5 * k as f64) - digamma(e + 0.5 * dm1))
                    .sum()
            });
            custom_elementwise(&[eta], value, &[grad])
        } else {
            value
        };
        diffs + (0.5 * dm1 * ln_pi + dm1 * (dm1 - 1.0) / 4.0 * ln_pi)
    }
}

/// A `Beta(a, b)` draw as `G_a / (G_a + G_b)` from two gamma draws, which stays a number for
/// any positive `a` and `b` (rand_distr's Beta sampler returns NaN for `b` near 1e-300, where
/// `G_b` underflows to 0 and the ratio is correctly 1).
fn beta_draw(rng: &mut Rng, a: f64, b: f64) -> f64 {
    let g =
        |rng: &mut Rng, s: f64| rand_distr::Gamma::new(s, 1.0).map_or(f64::NAN, |g| g.sample(rng));
    let (ga, gb) = (g(rng, a), g(rng, b));
    if ga + gb > 0.0 {
        ga / (ga + gb)
    } else {
        // Both underflowed: the shapes are tiny, and the draw is 0 or 1 with odds a : b.
        f64::from(u8::from(rand::Rng::random::<f64>(rng) * (a + b) < a))
    }
}

/// 1.0 for each `n x n` matrix of `v` that is not a correlation Cholesky factor.
fn not_corr_cholesky(v: &[f64], n: usize) -> Vec<f64> {
    v.chunks(n * n)
        .map(|m| {
            let ok = (0..n).all(|i| {
                let row = &m[i * n..(i + 1) * n];
                row[i] > 0.0
                    && row[i + 1..].iter().all(|&x| x == 0.0)
                    && (row.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() <= 1e-6
            });
            f64::from(u8::from(!ok))
        })
        .collect()
}

impl Distribution for LKJCholesky {
    fn name(&self) -> &'static str {
        "LKJCholesky"
    }
    fn batch_shape(&self) -> Shape {
        self.batch.clone()
    }
    fn event_shape(&self) -> Shape {
        Shape::from_slice(&[self.dim, self.dim])
    }
    fn sample(&self, rng: &mut Rng) -> Tensor {
        let n = self.dim;
        let eta = match self.concentration.detach().to_vec() {
            Ok(v) => v,
            Err(e) => return Tensor::poisoned(e),
        };
        let mut out = Vec::with_capacity(eta.len() * n * n);
        for &eta in &eta {
            let marginal = eta + 0.5 * (n as f64 - 2.0);
            let mut m = vec![0.0; n * n];
            m[0] = 1.0;
            for i in 1..n {
                let half = 0.5 * (i - 1) as f64;
                // Squared length of the row below the diagonal, then a uniform direction.
                let y = beta_draw(rng, half + 0.5, marginal - half);
                let row = &mut m[i * n..(i + 1) * n];
                let mut norm2 = 0.0;
                for x in row.iter_mut().take(i) {
                    *x = rand_distr::StandardNormal.sample(rng);
                    norm2 += *x * *x;
                }
                let scale = (y / norm2).sqrt();
                let mut w2 = 0.0;
                for x in row.iter_mut().take(i) {
                    *x *= scale;
                    w2 += *x * *x;
                }
                row[i] = (1.0 - w2).max(f64::MIN_POSITIVE).sqrt();
            }
            out.extend(m);
        }
        tensor_of(out, &cat_shape(&self.batch, &[n, n]))
    }
    /// `-inf` unless the value is a correlation Cholesky factor.
    fn log_prob(&self, value: &Tensor) -> Tensor {
        let n = self.dim;
        let s = value.shape();
        if value.error().is_some() {
            return value.clone();
        }
        if s.len() < 2 || s[s.len() - 1] != n || s[s.len() - 2] != n {
            return Tensor::poisoned(Error::shape(
                "LKJCholesky::log_prob",
                format!("value of shape {s:?} does not end in [{n}, {n}]"),
            ));
        }
        let vb = &s[..s.len() - 2];
        if let Err(e) = broadcast_shapes(vb, &self.batch) {
            return Tensor::poisoned(Error::shape("LKJCholesky::log_prob", e.to_string()));
        }
        let bad = tensor_of(not_corr_cholesky(value.raw(), n), vb);
        let flat = cat_shape(vb, &[n * n]);
        let diag: Vec<usize> = (1..n).map(|i| i * n + i).collect();
        // Outside the support the diagonal may be <= 0: read 1 there (masked below).
        let d = value.reshape(&flat).index_select(-1, &diag);
        let d = crate::tensor::masked_fill(&d, &d.le(&Tensor::scalar(0.0)), 1.0);
        // Exponent of L_ii: 2(η - 1) + n - i - 1 for i = 1..n-1.
        let base = Tensor::from((1..n).map(|i| (n - i - 1) as f64).collect::<Vec<_>>());
        let eta = self.concentration.unsqueeze(-1);
        // Halved, and doubled after the product: 2(η - 1) overflows for η near f64::MAX, and
        // inf · ln 1 is NaN.
        let half_order = (eta - 1.0) + base * 0.5;
        let lp = (half_order * d.ln()).sum_dim(-1, false) * 2.0 - self.log_normaliser();
        outside(&lp, &bad)
    }
    fn support(&self) -> Constraint {
        Constraint::CorrCholesky
    }
    fn box_clone(&self) -> Box<dyn Distribution> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
