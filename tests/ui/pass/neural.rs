//! Neural networks in models and guides: `module!` with a network passed as an argument, a field
//! of an argument, a network of several parts, names built at run time, inside plates and loops.

use pyro::nn::{Activation, Linear, Mlp, Module, Parameters, Weights};
use pyro::prelude::*;

struct Heads {
    body: Mlp,
    loc: Linear,
    scale: Linear,
}

impl Module for Heads {
    type Output = (Tensor, Tensor);
    fn parameters(&self, p: &mut Parameters<'_>) {
        p.module("body", &self.body);
        p.module("loc", &self.loc);
        p.module("scale", &self.scale);
    }
    fn forward(&self, w: &Weights<'_>, x: &Tensor) -> (Tensor, Tensor) {
        let h = self.body.forward(&w.module("body"), x);
        (
            self.loc.forward(&w.module("loc"), &h),
            self.scale.forward(&w.module("scale"), &h),
        )
    }
}

struct Nets {
    decoder: Mlp,
    encoder: Heads,
    layers: Vec<Linear>,
}

#[model]
fn model(nets: &Nets, x: &Tensor) {
    let decoder = module!("decoder", &nets.decoder);
    let n = x.shape()[0];
    let mut h = x.clone();
    for (i, layer) in nets.layers.iter().enumerate() {
        h = module!(format!("layer_{i}"), layer).forward(&h);
    }
    plate!("data", n, |_| {
        let z = sample!("z", Normal::new(Tensor::zeros(&[n, 2]), 1.0).to_event(1));
        let logits = decoder.forward(&z) + &h;
        sample!("x", Bernoulli::from_logits(logits).to_event(1), obs = x);
    });
}

#[guide(model = model)]
fn guide(nets: &Nets, x: &Tensor) {
    let encoder = module!("encoder", &nets.encoder);
    let n = x.shape()[0];
    plate!("data", n, |_| {
        let (loc, scale) = encoder.forward(x);
        sample!("z", Normal::new(loc, scale).to_event(1));
    });
}

/// A single network as the only argument.
#[model]
fn regression(net: &Mlp) -> Tensor {
    let net = module!("net", net);
    net.forward(&Tensor::zeros(&[1, 3]))
}

fn main() {
    let nets = Nets {
        decoder: Mlp::new(&[2, 4, 3], Activation::Softplus, Activation::Identity),
        encoder: Heads {
            body: Mlp::new(&[3, 4], Activation::Tanh, Activation::Tanh),
            loc: Linear::new(4, 2),
            scale: Linear::new(4, 2).activation(Activation::Exp),
        },
        layers: vec![Linear::new(3, 3), Linear::new(3, 3)],
    };
    let x = Tensor::new(vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0], &[2, 3]).unwrap();
    let mut svi = Svi::new(model, guide, Adam::new(AdamConfig::default()), TraceElbo::default());
    svi.step((&nets, &x)).unwrap();
    assert!(svi.params().get("encoder.body.0.weight").is_ok());
    assert!(svi.params().get("layer_1.bias").is_ok());
    let _ = regression;
}
