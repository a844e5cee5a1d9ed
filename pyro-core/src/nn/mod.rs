//! Layers for amortised guides and neural likelihoods: [`Linear`], activations and [`Mlp`], and
//! the [`Module`] trait through which a model or guide uses a network (`module!`).
//!
//! Modules keep no weights themselves. Their weights live in the parameter store under the name
//! the module is bound to, like `pyro.module("decoder", net)` in Pyro: an [`Mlp`] bound as
//! `decoder` reads `decoder.0.weight` (`[out, in]`), `decoder.0.bias` (`[out]`), `decoder.1.weight`
//! ... through [`Context::param`](crate::handlers::Context::param), so optimisers, checkpoints,
//! handlers and `Predictive` see them like any other parameter. The first read initialises them
//! from a generator seeded by the parameter's full name, so runs are reproducible. See
//! [`module`] for binding and for networks of several parts.
//!
//! The forward pass is one fused tape node per layer ([`functional::linear`]).
//!
//! ```
//! use pyro_core::handlers::Context;
//! use pyro_core::nn::{bind, Activation, Mlp};
//! use pyro_core::tensor::Tensor;
//! let net = Mlp::new(&[2, 8, 3], Activation::Softplus, Activation::Identity);
//! let mut ctx = Context::new(0);
//! let y = bind(&mut ctx, "decoder", &net).forward(&Tensor::zeros(&[5, 2]));
//! assert_eq!(y.shape(), &[5, 3]);
//! assert!(ctx.params().get("decoder.1.weight").is_ok());
//! ```

pub mod functional;
pub mod module;

pub use functional::{bernoulli_logits_log_prob_sum, linear, Activation};
pub use module::{bind, Bound, Module, Parameters, Weights};

use rand_distr::{Distribution as _, Normal as RandNormal, Uniform};

use crate::rng::Rng;
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

/// A fully connected layer `act(x W^T + b)` with parameters `weight: [out, in]` and
/// `bias: [out]` (Pyro's and PyTorch's names).
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    /// Input features.
    pub in_features: usize,
    /// Output features.
    pub out_features: usize,
    /// Whether the layer has a bias.
    pub bias: bool,
    /// Activation applied to the output.
    pub activation: Activation,
    /// Weight initialisation.
    pub init: Init,
}

impl Linear {
    /// A layer from `in_features` to `out_features`, with bias, no activation and PyTorch's
    /// default initialisation.
    pub fn new(in_features: usize, out_features: usize) -> Linear {
        Linear {
            in_features,
            out_features,
            bias: true,
            activation: Activation::Identity,
            init: Init::TorchDefault,
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

    /// Drops the bias.
    pub fn without_bias(mut self) -> Linear {
        self.bias = false;
        self
    }

    /// An initial weight `[out, in]`, drawn from `rng`.
    pub fn initial_weight(&self, rng: &mut Rng) -> Tensor {
        let (i, o) = (self.in_features, self.out_features);
        let v: Vec<f64> = match self.init {
            Init::TorchDefault => uniform(rng, 1.0 / (i.max(1) as f64).sqrt(), i * o),
            Init::XavierUniform => uniform(rng, (6.0 / (i + o).max(1) as f64).sqrt(), i * o),
            Init::KaimingNormal => match RandNormal::new(0.0, (2.0 / i.max(1) as f64).sqrt()) {
                Ok(d) => (0..i * o).map(|_| d.sample(rng)).collect(),
                Err(_) => vec![0.0; i * o],
            },
        };
        Tensor::new(v, &[o, i]).unwrap_or_else(Tensor::poisoned)
    }

    /// An initial bias `[out]`, drawn from `rng` (zero except for PyTorch's default).
    pub fn initial_bias(&self, rng: &mut Rng) -> Tensor {
        let (i, o) = (self.in_features, self.out_features);
        let v = match self.init {
            Init::TorchDefault => uniform(rng, 1.0 / (i.max(1) as f64).sqrt(), o),
            _ => vec![0.0; o],
        };
        Tensor::new(v, &[o]).unwrap_or_else(Tensor::poisoned)
    }
}

impl Module for Linear {
    type Output = Tensor;

    fn parameters(&self, p: &mut Parameters<'_>) {
        p.param("weight", &[self.out_features, self.in_features], |rng| {
            self.initial_weight(rng)
        });
        if self.bias {
            p.param("bias", &[self.out_features], |rng| self.initial_bias(rng));
        }
    }

    fn forward(&self, w: &Weights<'_>, x: &Tensor) -> Tensor {
        let b = self.bias.then(|| w.get("bias"));
        linear(x, &w.get("weight"), b.as_ref(), self.activation)
    }
}

/// A multilayer perceptron: [`Linear`] layers named `0`, `1`, ... (parameters `0.weight`,
/// `0.bias`, ...) with one activation after every hidden layer and another after the last.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    layers: Vec<Linear>,
    /// `"0"`, `"1"`, ...: made once, not on every forward pass.
    names: Vec<String>,
}

impl Mlp {
    /// Layers of widths `sizes[0] -> sizes[1] -> ... -> sizes[n]`.
    pub fn new(sizes: &[usize], hidden: Activation, output: Activation) -> Mlp {
        let n = sizes.len().saturating_sub(1);
        let layers = (0..n)
            .map(|i| {
                Linear::new(sizes[i], sizes[i + 1]).activation(if i + 1 == n {
                    output
                } else {
                    hidden
                })
            })
            .collect();
        Mlp::from_layers(layers)
    }

    /// A network from given layers (any sizes, any activations).
    pub fn from_layers(layers: Vec<Linear>) -> Mlp {
        let names = (0..layers.len()).map(|i| i.to_string()).collect();
        Mlp { layers, names }
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
}

impl Module for Mlp {
    type Output = Tensor;

    fn parameters(&self, p: &mut Parameters<'_>) {
        for (name, l) in self.names.iter().zip(&self.layers) {
            p.module(name, l);
        }
    }

    fn forward(&self, w: &Weights<'_>, x: &Tensor) -> Tensor {
        let mut h = x.clone();
        for (name, l) in self.names.iter().zip(&self.layers) {
            h = l.forward(&w.module(name), &h);
        }
        h
    }
}

fn uniform(rng: &mut crate::rng::Rng, bound: f64, n: usize) -> Vec<f64> {
    match Uniform::new_inclusive(-bound, bound) {
        Ok(d) => (0..n).map(|_| d.sample(rng)).collect(),
        Err(_) => vec![0.0; n],
    }
}
