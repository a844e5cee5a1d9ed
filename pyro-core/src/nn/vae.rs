//! The variational autoencoder of Pyro's VAE tutorial, as a model and an amortised guide.
//!
//! Model: `z ~ Normal(0, I)` per image (a plate over the minibatch), decoder
//! `z -> hidden (softplus) -> logits`, and a Bernoulli likelihood over all pixels of an image as
//! one event. The likelihood is added with a `factor` site `"x"` whose log-density is
//! `sum(x·l - softplus(l))` over the batch and pixels (computed by the fused
//! [`bernoulli_logits_log_prob_sum`]): the same quantity `Bernoulli(logits).to_event(1)` sums
//! inside the plate, in one pass. Guide: encoder `x -> hidden (softplus) -> (z_loc, z_scale = exp)`
//! and `z ~ Normal(z_loc, z_scale)` in the same plate.
//!
//! Parameters: `decoder.0.*`, `decoder.1.*` and `encoder.fc1.*`, `encoder.fc21.*`,
//! `encoder.fc22.*` (the tutorial's names). No minibatch rescaling: the loss of a step is the
//! negative ELBO summed over the images of the minibatch.

use super::{bernoulli_logits_log_prob_sum, Activation, Linear, Mlp, Module};
use crate::distributions::Normal;
use crate::error::Result;
use crate::handlers::{Context, PlateOpts};
use crate::infer::{Elbo, GuideFor, Model, TraceElbo, WrittenGuide};
use crate::params::ParamStore;
use crate::rng::{rng_from_seed, Rng};
use crate::tensor::{TapeStorage, Tensor};

/// Sizes of a VAE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VaeConfig {
    /// Pixels per image.
    pub x_dim: usize,
    /// Width of the hidden layer of encoder and decoder.
    pub hidden: usize,
    /// Latent dimension.
    pub z_dim: usize,
}

/// The generative model `p(x | z) p(z)`. Its argument is a minibatch `[batch, x_dim]` of values
/// in `[0, 1]`.
#[derive(Clone, Debug)]
pub struct VaeModel {
    /// The decoder `z -> logits`.
    pub decoder: Mlp,
    z_dim: usize,
}

/// The amortised guide `q(z | x)`.
#[derive(Clone, Debug)]
pub struct VaeGuide {
    fc1: Linear,
    fc21: Linear,
    fc22: Linear,
}

/// A VAE: model and guide together, plus helpers for evaluation.
#[derive(Clone, Debug)]
pub struct Vae {
    /// Sizes.
    pub config: VaeConfig,
    /// The model.
    pub model: VaeModel,
    /// The guide.
    pub guide: VaeGuide,
}

impl Vae {
    /// A VAE with the tutorial's architecture at the given sizes.
    pub fn new(config: VaeConfig) -> Vae {
        let VaeConfig {
            x_dim,
            hidden,
            z_dim,
        } = config;
        Vae {
            config,
            model: VaeModel {
                decoder: Mlp::new(
                    "decoder",
                    &[z_dim, hidden, x_dim],
                    Activation::Softplus,
                    Activation::Identity,
                ),
                z_dim,
            },
            guide: VaeGuide {
                fc1: Linear::new("encoder.fc1", x_dim, hidden).activation(Activation::Softplus),
                fc21: Linear::new("encoder.fc21", hidden, z_dim),
                fc22: Linear::new("encoder.fc22", hidden, z_dim).activation(Activation::Exp),
            },
        }
    }

    /// `(z_loc, z_scale)` of the guide for images `x`, from trained parameters.
    pub fn encode(&self, params: &ParamStore, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let h = self.guide.fc1.forward_with(params, x)?;
        Ok((
            self.guide.fc21.forward_with(params, &h)?,
            self.guide.fc22.forward_with(params, &h)?,
        ))
    }

    /// Pixel probabilities `sigmoid(decoder(z))`.
    pub fn decode(&self, params: &ParamStore, z: &Tensor) -> Result<Tensor> {
        Ok(self.model.decoder.forward_with(params, z)?.sigmoid())
    }

    /// Reconstructions of `x`: decoded at the guide's mean of `z`.
    pub fn reconstruct(&self, params: &ParamStore, x: &Tensor) -> Result<Tensor> {
        let (loc, _) = self.encode(params, x)?;
        self.decode(params, &loc)
    }

    /// Pixel probabilities of `n` images decoded from prior draws of `z`.
    pub fn sample_prior(&self, params: &ParamStore, n: usize, rng: &mut Rng) -> Result<Tensor> {
        let z = crate::distributions::Distribution::sample(
            &Normal::new(Tensor::zeros(&[n, self.config.z_dim]), 1.0)?,
            rng,
        );
        self.decode(params, &z)
    }

    /// The ELBO of images `x` (summed over them) estimated with `particles` draws of the guide,
    /// at the given parameters, in chunks of at most `chunk` images. Nothing is recorded for
    /// gradients.
    pub fn elbo(
        &self,
        params: &ParamStore,
        x: &Tensor,
        particles: usize,
        chunk: usize,
        seed: u64,
    ) -> Result<f64> {
        let n = x.shape().first().copied().unwrap_or(0);
        let mut ctx =
            Context::from_parts(params.clone(), rng_from_seed(seed), TapeStorage::default());
        ctx.grad_params = false;
        let mut elbo = TraceElbo::new(particles);
        let mut total = 0.0;
        let mut start = 0;
        while start < n {
            let len = chunk.max(1).min(n - start);
            let xb = x.narrow(0, start, len).check()?;
            total -= elbo
                .loss_and_surrogate(&mut ctx, &self.model, &self.guide, &xb)?
                .loss;
            start += len;
        }
        Ok(total)
    }
}

#[diagnostic::do_not_recommend]
impl Model for VaeModel {
    type Args<'a> = &'a Tensor;
    type Output = ();
    const NAME: &'static str = "vae_model";
    fn call(&self, ctx: &mut Context, x: &Tensor) {
        let b = x.shape().first().copied().unwrap_or(0);
        let opts = PlateOpts {
            subsample_size: None,
            dim: Some(-2),
        };
        let z = ctx.plate("data", b, opts, |ctx, _| {
            let prior = Normal::new(Tensor::zeros(&[b, self.z_dim]), 1.0);
            ctx.sample("z", prior, None)
        });
        let logits = self.decoder.forward(ctx, &z);
        ctx.factor("x", bernoulli_logits_log_prob_sum(&logits, x));
    }
}

#[diagnostic::do_not_recommend]
impl GuideFor<VaeModel> for VaeGuide {}
impl WrittenGuide for VaeGuide {}

#[diagnostic::do_not_recommend]
impl Model for VaeGuide {
    type Args<'a> = &'a Tensor;
    type Output = ();
    const NAME: &'static str = "vae_guide";
    fn call(&self, ctx: &mut Context, x: &Tensor) {
        let b = x.shape().first().copied().unwrap_or(0);
        let h = self.fc1.forward(ctx, x);
        let loc = self.fc21.forward(ctx, &h);
        let scale = self.fc22.forward(ctx, &h);
        let opts = PlateOpts {
            subsample_size: None,
            dim: Some(-2),
        };
        ctx.plate("data", b, opts, |ctx, _| {
            ctx.sample("z", Normal::new(loc, scale), None);
        });
    }
}
