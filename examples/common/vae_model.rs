//! The variational autoencoder of Pyro's VAE tutorial, written in the model language: shared by
//! `examples/vae.rs`, `examples/bench_vae.rs` and the tests (`#[path = ...] mod vae_model;`).
//!
//! Model: for each image of the minibatch (`plate!("data", ..)`), `latent ~ Normal(0, I)` over
//! `z_dim` dimensions, the decoder `z -> hidden (softplus) -> logits`, and the pixels
//! `obs ~ Bernoulli(logits)` as one event. Guide: the encoder
//! `x -> hidden (softplus) -> (z_loc, z_scale = exp(..))` and `latent ~ Normal(z_loc, z_scale)` in
//! the same plate. The networks are passed to model and guide as an argument and bound with
//! `module!`, so their weights live in the parameter store as `decoder.0.*`, `decoder.1.*` and
//! `encoder.fc1.*`, `encoder.fc21.*`, `encoder.fc22.*` (the tutorial's names). No minibatch
//! rescaling: the loss of a step is the negative ELBO summed over the images of the minibatch.

// Each includer uses a different part of this file.
#![allow(dead_code)]

use pyro::nn::{Activation, Bound, Linear, Mlp, Module, Parameters, Weights};
use pyro::prelude::*;

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

/// The tutorial's encoder: `x -> h = softplus(fc1 x) -> (fc21 h, exp(fc22 h))`.
#[derive(Clone, Debug)]
pub struct Encoder {
    fc1: Linear,
    fc21: Linear,
    fc22: Linear,
}

impl Module for Encoder {
    type Output = (Tensor, Tensor);

    fn parameters(&self, p: &mut Parameters<'_>) {
        p.module("fc1", &self.fc1);
        p.module("fc21", &self.fc21);
        p.module("fc22", &self.fc22);
    }

    fn forward(&self, w: &Weights<'_>, x: &Tensor) -> (Tensor, Tensor) {
        let h = self.fc1.forward(&w.module("fc1"), x);
        let loc = self.fc21.forward(&w.module("fc21"), &h);
        let scale = self.fc22.forward(&w.module("fc22"), &h);
        (loc, scale)
    }
}

/// The networks of a VAE (descriptions: their weights live in the parameter store).
#[derive(Clone, Debug)]
pub struct Vae {
    /// Sizes.
    pub config: VaeConfig,
    /// `q(z | x)`'s network.
    pub encoder: Encoder,
    /// `p(x | z)`'s network, `z -> logits`.
    pub decoder: Mlp,
}

impl Vae {
    /// The tutorial's architecture at the given sizes.
    pub fn new(config: VaeConfig) -> Vae {
        let VaeConfig {
            x_dim,
            hidden,
            z_dim,
        } = config;
        Vae {
            config,
            encoder: Encoder {
                fc1: Linear::new(x_dim, hidden).activation(Activation::Softplus),
                fc21: Linear::new(hidden, z_dim),
                fc22: Linear::new(hidden, z_dim).activation(Activation::Exp),
            },
            decoder: Mlp::new(
                &[z_dim, hidden, x_dim],
                Activation::Softplus,
                Activation::Identity,
            ),
        }
    }
}

/// `p(x | z) p(z)` for a minibatch `x` (`[batch, x_dim]`, values in `{0, 1}`).
#[model]
pub fn model(vae: &Vae, x: &Tensor) {
    let decoder = module!("decoder", &vae.decoder);
    let batch = x.shape().first().copied().unwrap_or(0);
    plate!("data", batch, |_| {
        let prior = Normal::new(Tensor::zeros(&[batch, vae.config.z_dim]), 1.0);
        let z = sample!("latent", prior.to_event(1));
        let logits = decoder.forward(&z);
        sample!("obs", Bernoulli::from_logits(logits).to_event(1), obs = x);
    });
}

/// `q(z | x)`, amortised by the encoder.
#[guide(model = model)]
pub fn guide(vae: &Vae, x: &Tensor) {
    let encoder = module!("encoder", &vae.encoder);
    let batch = x.shape().first().copied().unwrap_or(0);
    plate!("data", batch, |_| {
        let (loc, scale) = encoder.forward(x);
        sample!("latent", Normal::new(loc, scale).to_event(1));
    });
}

/// The ELBO of images `x` summed over them, estimated with `particles` draws of the guide at the
/// given parameters, in chunks of at most `chunk` images (nothing is recorded for gradients).
pub fn elbo(
    vae: &Vae,
    params: &ParamStore,
    x: &Tensor,
    particles: usize,
    chunk: usize,
    seed: u64,
) -> pyro::Result<f64> {
    let adam = Adam::new(AdamConfig::default());
    let mut svi = Svi::new(model, guide, adam, TraceElbo::new(particles)).seed(seed);
    *svi.params_mut() = params.clone();
    let n = x.shape().first().copied().unwrap_or(0);
    let mut total = 0.0;
    let mut start = 0;
    while start < n {
        let len = chunk.max(1).min(n - start);
        let xb = x.narrow(0, start, len).check()?;
        total -= svi.evaluate_loss((vae, &xb))?;
        start += len;
    }
    Ok(total)
}

/// The decoder bound to trained weights.
fn decoder<'v>(vae: &'v Vae, params: &ParamStore) -> pyro::Result<Bound<'v, Mlp>> {
    Bound::from_store(params, "decoder", &vae.decoder)
}

/// Reconstructions of `x`: pixel probabilities decoded at the guide's mean of `z`.
pub fn reconstruct(vae: &Vae, params: &ParamStore, x: &Tensor) -> pyro::Result<Tensor> {
    let encoder = Bound::from_store(params, "encoder", &vae.encoder)?;
    let (loc, _) = encoder.forward(&x.detach());
    decoder(vae, params)?.forward(&loc).sigmoid().check()
}

/// Pixel probabilities of `n` images decoded from prior draws of `z`.
pub fn sample_prior(vae: &Vae, params: &ParamStore, n: usize, seed: u64) -> pyro::Result<Tensor> {
    let prior = Normal::new(Tensor::zeros(&[n, vae.config.z_dim]), 1.0)?;
    let z = prior.sample(&mut pyro::rng::rng_from_seed(seed));
    decoder(vae, params)?.forward(&z).sigmoid().check()
}
