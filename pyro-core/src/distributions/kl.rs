//! Analytic Kullback-Leibler divergences between known pairs of distributions.

use super::beta::lbeta;
use super::util::Bcast as _;
use super::{
    Bernoulli, Beta, Categorical, Delta, Dirichlet, Distribution, Gamma, LogNormal, Normal,
};
use crate::error::{Error, Result};
use crate::tensor::{masked_fill, Tensor};

/// `KL(p ‖ q) = E_p[ln p(x) - ln q(x)]` in closed form, one value per batch element.
///
/// Known pairs: Normal–Normal, LogNormal–LogNormal, Gamma–Gamma, Beta–Beta, Dirichlet–Dirichlet,
/// Bernoulli–Bernoulli, Categorical–Categorical, Delta–anything (`-ln q(v)`, as in Pyro),
/// Independent–Independent with the same number of reinterpreted dimensions (the base KL summed
/// over them) and Expanded–Expanded (the base KL broadcast). Any other pair is an error, so that
/// a caller can fall back to a Monte-Carlo estimate. Boxed distributions are looked through.
///
/// ```
/// use pyro_core::distributions::{kl_divergence, Normal};
/// let p = Normal::new(0.0, 1.0).unwrap();
/// let q = Normal::new(1.0, 1.0).unwrap();
/// assert!((kl_divergence(&p, &q).unwrap().item().unwrap() - 0.5).abs() < 1e-15);
/// ```
pub fn kl_divergence(p: &dyn Distribution, q: &dyn Distribution) -> Result<Tensor> {
    if let Some(d) = p.as_any().downcast_ref::<Delta>() {
        return q.log_prob(d.v()).neg().check();
    }
    if let (Some((pb, pn)), Some((qb, qn))) = (p.as_independent(), q.as_independent()) {
        if pn == qn {
            let mut k = kl_divergence(pb, qb)?;
            for _ in 0..pn {
                k = k.sum_dim(-1, false);
            }
            return k.check();
        }
    }
    if let (Some((pb, ps)), Some((qb, qs))) = (p.as_expanded(), q.as_expanded()) {
        if ps == qs {
            return kl_divergence(pb, qb)?.bcast(ps).check();
        }
    }
    if let (Some(p), Some(q)) = (
        p.as_any().downcast_ref::<Normal>(),
        q.as_any().downcast_ref::<Normal>(),
    ) {
        return kl_normal(p.loc(), p.scale(), q.loc(), q.scale()).check();
    }
    if let (Some(p), Some(q)) = (
        p.as_any().downcast_ref::<LogNormal>(),
        q.as_any().downcast_ref::<LogNormal>(),
    ) {
        return kl_normal(p.loc(), p.scale(), q.loc(), q.scale()).check();
    }
    if let (Some(p), Some(q)) = (
        p.as_any().downcast_ref::<Gamma>(),
        q.as_any().downcast_ref::<Gamma>(),
    ) {
        let (a1, b1) = (p.concentration(), p.rate());
        let (a2, b2) = (q.concentration(), q.rate());
        let k = (a1 - a2) * a1.digamma() - a1.lgamma()
            + a2.lgamma()
            + a2 * (b1.ln() - b2.ln())
            + a1 * (b2 - b1) / b1;
        return k.check();
    }
    if let (Some(p), Some(q)) = (
        p.as_any().downcast_ref::<Beta>(),
        q.as_any().downcast_ref::<Beta>(),
    ) {
        let (a1, b1) = (p.concentration1(), p.concentration0());
        let (a2, b2) = (q.concentration1(), q.concentration0());
        let s1 = a1 + b1;
        let k = lbeta(a2, b2) - lbeta(a1, b1)
            + (a1 - a2) * a1.digamma()
            + (b1 - b2) * b1.digamma()
            + (a2 - a1 + b2 - b1) * s1.digamma();
        return k.check();
    }
    if let (Some(p), Some(q)) = (
        p.as_any().downcast_ref::<Dirichlet>(),
        q.as_any().downcast_ref::<Dirichlet>(),
    ) {
        let (a, b) = (p.concentration(), q.concentration());
        let a0 = a.sum_dim(-1, false);
        let b0 = b.sum_dim(-1, false);
        let k = a0.lgamma() - a.lgamma().sum_dim(-1, false) - b0.lgamma()
            + b.lgamma().sum_dim(-1, false)
            + ((a - b) * (a.digamma() - a0.unsqueeze(-1).digamma())).sum_dim(-1, false);
        return k.check();
    }
    if let (Some(p), Some(q)) = (
        p.as_any().downcast_ref::<Bernoulli>(),
        q.as_any().downcast_ref::<Bernoulli>(),
    ) {
        let (lp, lq) = (p.logits(), q.logits());
        let pp = p.probs();
        let one = &pp * (lp.log_sigmoid() - lq.log_sigmoid());
        let zero = (1.0 - &pp) * (lp.neg().log_sigmoid() - lq.neg().log_sigmoid());
        let one = masked_fill(&one, &pp.eq_mask(&Tensor::scalar(0.0)), 0.0);
        let zero = masked_fill(&zero, &pp.eq_mask(&Tensor::scalar(1.0)), 0.0);
        return (one + zero).check();
    }
    if let (Some(p), Some(q)) = (
        p.as_any().downcast_ref::<Categorical>(),
        q.as_any().downcast_ref::<Categorical>(),
    ) {
        let pp = p.probs();
        let t = &pp * (p.logits() - q.logits());
        let t = masked_fill(&t, &pp.eq_mask(&Tensor::scalar(0.0)), 0.0);
        return t.sum_dim(-1, false).check();
    }
    Err(Error::Invalid(format!(
        "no analytic KL divergence is known between {} and {}",
        p.name(),
        q.name()
    )))
}

fn kl_normal(m1: &Tensor, s1: &Tensor, m2: &Tensor, s2: &Tensor) -> Tensor {
    let r = (s1 / s2).square();
    let d = ((m1 - m2) / s2).square();
    (&r + d - r.ln() - 1.0) * 0.5
}
