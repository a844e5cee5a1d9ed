use pyro::nn::Mlp;
use pyro::prelude::*;

#[model]
fn by_value(net: Mlp) -> Tensor {
    let net = module!("net", net);
    net.forward(&Tensor::zeros(&[1, 2]))
}

#[model]
fn not_a_network(scale: f64) {
    let _net = module!("net", &scale);
}

fn main() {
    let _ = (by_value, not_a_network);
}
