//! Layers for amortised guides and neural likelihoods: [`Linear`], activations and [`Mlp`].
//!
//! Modules keep no weights themselves. Their weights live in the parameter store under the
//! module's name, like `pyro.module("decoder", net)` in Pyro: a layer named `decoder.0` reads
//! `decoder.0.weight` (`[out, in]`) and `decoder.0.bias` (`[out]`) through
//! [`Context::param`](crate::handlers::Context::param), so optimisers, checkpoints, handlers and
//! `Predictive` see them like any other parameter. The first read initialises them from a seed
//! derived from the parameter name (and the module's seed), so runs are reproducible.
//!
//! The forward pass is one fused tape node per layer ([`functional::linear`]).
//!
//! ```
//! use pyro_core::handlers::Context;
//! use pyro_core::nn::{Activation, Mlp, Module};
//! use pyro_core::tensor::Tensor;
//! let net = Mlp::new("decoder", &[2, 8, 3], Activation::Softplus, Activation::Identity);
//! let mut ctx = Context::new(0);
//! let y = net.forward(&mut ctx, &Tensor::zeros(&[5, 2]));
//! assert_eq!(y.shape(), &[5, 3]);
//! assert!(ctx.params().get("decoder.1.weight").is_ok());
//! ```

pub mod functional;
pub mod vae;

pub use functional::{bernoulli_logits_log_prob_sum, linear, Activation};

use rand_distr::{Distribution as _, Normal as RandNormal, Uniform};

use crate::constraints;
use crate::error::Result;
use crate::handlers::Context;
use crate::params::ParamStore;
use crate::rng::rng_from_seed;
use crate::tensor::Tensor;

/// How the weights of a [`Linear`] layer are initialised.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Init {
    /// PyTorch's default for `nn.Linear` (Kaiming-uniform with `a = sqrt(5)`): weights and bias
    /// uniform in `±1/sqrt(in)`.
    #[default]
    TorchDefault,
    /// Kaiming (He) normal for ReLU-like activations: weights `N(0, 2/in)`, bias zero.
    KaimingNormal,
    /// Xavier (Glorot) uniform: weights uniform in `±sqrt(6/(in + out))`, bias zero.
    XavierUniform,
}

/// A network that maps a tensor to a tensor, reading its weights through a context.
pub trait Module {
    /// The forward pass, with weights read (and on first use created) through `ctx.param`.
    fn forward(&self, ctx: &mut Context, x: &Tensor) -> Tensor;
    /// The forward pass with weights taken from a parameter store: no tape, no context (for
    /// evaluation, reconstructions and samples after training).
    fn forward_with(&self, params: &ParamStore, x: &Tensor) -> Result<Tensor>;
    /// The names of the module's parameters, in order.
    fn param_names(&self) -> Vec<String>;
}

/// A fully connected layer `act(x W^T + b)` with `W: [out, in]`, `b: [out]`.
#[derive(Clone, Debug)]
pub struct Linear {
    name: String,
    weight_name: String,
    bias_name: Option<String>,
    /// Input features.
    pub in_features: usize,
    /// Output features.
    pub out_features: usize,
    /// Activation applied to the output.
    pub activation: Activation,
    /// Weight initialisation.
    pub init: Init,
    /// Seed mixed into the per-parameter initialisation seed.
    pub seed: u64,
}

impl Linear {
    /// A layer named `name` (its parameters are `{name}.weight` and `{name}.bias`), with bias,
    /// no activation and PyTorch's default initialisation.
    pub fn new(name: impl Into<String>, in_features: usize, out_features: usize) -> Linear {
        let name = name.into();
        Linear {
            weight_name: format!("{name}.weight"),
            bias_name: Some(format!("{name}.bias")),
            name,
            in_features,
            out_features,
            activation: Activation::Identity,
            init: Init::TorchDefault,
            seed: 0,
        }
    }

    /// Sets the activation.
    pub fn activation(mut self, a: Activation) -> Linear {
        self.activation = a;
        self
    }

    /// Sets the initialisation.
    pub fn init(mut self, init: Init) -> Linear {
        self.init = init;
        self
    }

    /// Sets the initialisation seed.
    pub fn seed(mut self, seed: u64) -> Linear {
        self.seed = seed;
        self
    }

    /// Drops the bias.
    pub fn without_bias(mut self) -> Linear {
        self.bias_name = None;
        self
    }

    /// The layer's name (the prefix of its parameters).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The initial weight `[out, in]`.
    pub fn initial_weight(&self) -> Tensor {
        let (i, o) = (self.in_features, self.out_features);
        let mut rng = rng_from_seed(name_seed(&self.weight_name, self.seed));
        let v: Vec<f64> = match self.init {
            Init::TorchDefault => uniform(&mut rng, 1.0 / (i.max(1) as f64).sqrt(), i * o),
            Init::XavierUniform => uniform(&mut rng, (6.0 / (i + o).max(1) as f64).sqrt(), i * o),
            Init::KaimingNormal => {
                let d = RandNormal::new(0.0, (2.0 / i.max(1) as f64).sqrt())
                    .unwrap_or_else(|_| RandNormal::new(0.0, 1.0).expect("valid"));
                (0..i * o).map(|_| d.sample(&mut rng)).collect()
            }
        };
        Tensor::new(v, &[o, i]).unwrap_or_else(Tensor::poisoned)
    }

    /// The initial bias `[out]`.
    pub fn initial_bias(&self) -> Tensor {
        let (i, o) = (self.in_features, self.out_features);
        let v = match self.init {
            Init::TorchDefault => {
                let name = self.bias_name.as_deref().unwrap_or(&self.name);
                let mut rng = rng_from_seed(name_seed(name, self.seed));
                uniform(&mut rng, 1.0 / (i.max(1) as f64).sqrt(), o)
            }
            _ => vec![0.0; o],
        };
        Tensor::new(v, &[o]).unwrap_or_else(Tensor::poisoned)
    }
}

impl Module for Linear {
    fn forward(&self, ctx: &mut Context, x: &Tensor) -> Tensor {
        let w = ctx.param(
            self.weight_name.clone(),
            || self.initial_weight(),
            constraints::real(),
        );
        let b = self
            .bias_name
            .as_ref()
            .map(|n| ctx.param(n.clone(), || self.initial_bias(), constraints::real()));
        linear(x, &w, b.as_ref(), self.activation)
    }

    fn forward_with(&self, params: &ParamStore, x: &Tensor) -> Result<Tensor> {
        let w = params.get(&self.weight_name)?;
        let b = match &self.bias_name {
            Some(n) => Some(params.get(n)?),
            None => None,
        };
        linear(&x.detach(), &w, b.as_ref(), self.activation).check()
    }

    fn param_names(&self) -> Vec<String> {
        let mut v = vec![self.weight_name.clone()];
        v.extend(self.bias_name.clone());
        v
    }
}

/// A multilayer perceptron: [`Linear`] layers named `{prefix}.0`, `{prefix}.1`, ... with one
/// activation after every hidden layer and another after the last.
#[derive(Clone, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
}

impl Mlp {
    /// Layers of widths `sizes[0] -> sizes[1] -> ... -> sizes[n]`.
    pub fn new(prefix: &str, sizes: &[usize], hidden: Activation, output: Activation) -> Mlp {
        let n = sizes.len().saturating_sub(1);
        let layers = (0..n)
            .map(|i| {
                Linear::new(format!("{prefix}.{i}"), sizes[i], sizes[i + 1])
                    .activation(if i + 1 == n { output } else { hidden })
            })
            .collect();
        Mlp { layers }
    }

    /// A network from given layers (any names, any activations).
    pub fn from_layers(layers: Vec<Linear>) -> Mlp {
        Mlp { layers }
    }

    /// The layers.
    pub fn layers(&self) -> &[Linear] {
        &self.layers
    }

    /// Sets the initialisation of every layer.
    pub fn init(mut self, init: Init) -> Mlp {
        for l in &mut self.layers {
            l.init = init;
        }
        self
    }

    /// Sets the initialisation seed of every layer.
    pub fn seed(mut self, seed: u64) -> Mlp {
        for l in &mut self.layers {
            l.seed = seed;
        }
        self
    }
}

impl Module for Mlp {
    fn forward(&self, ctx: &mut Context, x: &Tensor) -> Tensor {
        let mut h = x.clone();
        for l in &self.layers {
            h = l.forward(ctx, &h);
        }
        h
    }

    fn forward_with(&self, params: &ParamStore, x: &Tensor) -> Result<Tensor> {
        let mut h = x.detach();
        for l in &self.layers {
            h = l.forward_with(params, &h)?;
        }
        Ok(h)
    }

    fn param_names(&self) -> Vec<String> {
        self.layers.iter().flat_map(|l| l.param_names()).collect()
    }
}

fn uniform(rng: &mut crate::rng::Rng, bound: f64, n: usize) -> Vec<f64> {
    match Uniform::new_inclusive(-bound, bound) {
        Ok(d) => (0..n).map(|_| d.sample(rng)).collect(),
        Err(_) => vec![0.0; n],
    }
}

/// FNV-1a of the parameter name, mixed with a seed: each parameter gets its own stream.
fn name_seed(name: &str, seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}
