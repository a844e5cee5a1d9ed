//! `TraceMeanFieldElbo`: the ELBO with analytic KL divergences where they are known (Pyro's
//! `TraceMeanField_ELBO`).

use super::elbo::{get_traces, non_finite_site, Elbo, ElboRun};
use super::Model;
use crate::distributions::{kl_divergence, Delta, Distribution};
use crate::error::{Error, Result};
use crate::handlers::Context;
use crate::tensor::{broadcast_shapes, Tensor};
use crate::trace::Site;

/// The evidence lower bound `E_q[ln p(x | z)] - Σ_s KL(q_s ‖ p_s)`, for guides whose sites are
/// independent of one another and whose model sites' prior parameters do not depend on other
/// latent sites (the mean-field requirement; as in Pyro it is not checked).
///
/// For each latent site sampled by the guide, the KL divergence between the guide's and the
/// model's distribution is computed in closed form by [`kl_divergence`] (looking through `expand`
/// on either side, scaled as the site); where no closed form exists, where the site is masked,
/// or where the guide's distribution is a point mass (a `Delta` of an autoguide, whose
/// log-density carries a Jacobian that Pyro's `Delta` KL would drop), the Monte-Carlo term
/// `ln p(z) - ln q(z)` of [`TraceElbo`](super::TraceElbo) is used instead. Observed sites
/// contribute `ln p(x | z)`; guide-only (auxiliary) sites `-ln q`.
///
/// The estimate has the same mean as `TraceElbo`'s (the KL is the exact expectation of the
/// Monte-Carlo term) and lower variance. Gradients: pathwise through reparameterised guide sites,
/// score function for the others (the signal being this particle's ELBO, detached).
#[derive(Clone, Debug)]
pub struct TraceMeanFieldElbo {
    /// Number of particles averaged per step.
    pub num_particles: usize,
}

impl Default for TraceMeanFieldElbo {
    fn default() -> Self {
        TraceMeanFieldElbo { num_particles: 1 }
    }
}

impl TraceMeanFieldElbo {
    /// A mean-field ELBO averaged over `num_particles` draws.
    pub fn new(num_particles: usize) -> TraceMeanFieldElbo {
        TraceMeanFieldElbo {
            num_particles: num_particles.max(1),
        }
    }
}

/// `KL(p ‖ q)`, looking through `Expanded` wrappers and matching `Independent` ones, with the
/// batch shape of `p` and `q` broadcast together.
pub(crate) fn kl_lenient(p: &dyn Distribution, q: &dyn Distribution) -> Result<Tensor> {
    let batch = broadcast_shapes(&p.batch_shape(), &q.batch_shape())?;
    if let Ok(k) = kl_divergence(p, q) {
        return k.broadcast_to(&batch).check();
    }
    if let (Some((pb, pn)), Some((qb, qn))) = (p.as_independent(), q.as_independent()) {
        if pn == qn {
            let mut k = kl_lenient(pb, qb)?;
            for _ in 0..pn {
                k = k.sum_dim(-1, false);
            }
            return k.broadcast_to(&batch).check();
        }
    }
    if let Some((qb, _)) = q.as_expanded() {
        return kl_lenient(p, qb)?.broadcast_to(&batch).check();
    }
    if let Some((pb, _)) = p.as_expanded() {
        return kl_lenient(pb, q)?.broadcast_to(&batch).check();
    }
    Err(Error::Invalid(format!(
        "no analytic KL divergence between {} and {}",
        p.name(),
        q.name()
    )))
}

/// The analytic `KL(q_site ‖ p_site)` summed and scaled as the model site, if there is one.
fn site_kl(model_site: &Site, guide_site: &Site) -> Option<Tensor> {
    if model_site.mask.is_some() || guide_site.mask.is_some() {
        return None;
    }
    let (p, q) = (model_site.dist.as_ref()?, guide_site.dist.as_ref()?);
    if q.as_any().downcast_ref::<Delta>().is_some() {
        return None;
    }
    let k = kl_lenient(q.as_ref(), p.as_ref()).ok()?;
    let k = k.sum();
    Some(if model_site.scale != 1.0 {
        k * model_site.scale
    } else {
        k
    })
}

impl Elbo for TraceMeanFieldElbo {
    fn num_particles(&self) -> usize {
        self.num_particles.max(1)
    }

    fn one_particle(&self) -> Option<Self> {
        Some(TraceMeanFieldElbo { num_particles: 1 })
    }

    fn loss_and_surrogate<'a, M, G>(
        &mut self,
        ctx: &mut Context,
        model: &M,
        guide: &G,
        args: M::Args<'a>,
    ) -> Result<ElboRun>
    where
        M: Model,
        G: Model<Args<'a> = M::Args<'a>>,
        M::Args<'a>: Clone,
    {
        let n = self.num_particles.max(1);
        let mut loss = 0.0;
        let mut surrogate = Tensor::scalar(0.0);
        for _ in 0..n {
            let (mt, gt) = get_traces(ctx, model, guide, args.clone())?;
            let mut elbo = Tensor::scalar(0.0);
            let mut surr = Tensor::scalar(0.0);
            let mut score = Tensor::scalar(0.0);
            let mut analytic: Vec<&str> = Vec::new();
            for s in mt.sample_sites() {
                if s.is_latent() {
                    if let Some(g) = gt.get(&s.name) {
                        if let Some(k) = site_kl(s, g) {
                            elbo = elbo - &k;
                            surr = surr - k;
                            analytic.push(&s.name);
                            continue;
                        }
                    }
                }
                let lp = s.log_prob_sum()?;
                elbo = elbo + &lp;
                surr = surr + lp;
            }
            for s in gt.sample_sites() {
                let reparam = s.dist.as_ref().is_some_and(|d| d.has_rsample());
                let is_analytic = analytic.iter().any(|a| *a == s.name);
                if is_analytic && reparam {
                    continue;
                }
                let lq = s.log_prob_sum()?;
                if !is_analytic {
                    elbo = elbo - &lq;
                    if reparam {
                        surr = surr - &lq;
                    }
                }
                if !reparam {
                    score = score + lq;
                }
            }
            if score.requires_grad() {
                surr = surr + score * elbo.detach();
            }
            let e = elbo.item()?;
            if !e.is_finite() {
                return Err(non_finite_site(&[&mt, &gt]));
            }
            loss -= e / n as f64;
            surrogate = surrogate - surr * (1.0 / n as f64);
        }
        if let Some(e) = surrogate.error() {
            return Err(Error::clone(e));
        }
        Ok(ElboRun { loss, surrogate })
    }
}
