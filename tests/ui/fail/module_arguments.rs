use pyro::nn::Mlp;
use pyro::prelude::*;

#[model]
fn too_few(_net: &Mlp) {
    let _ = module!("net");
}

#[model]
fn too_many(net: &Mlp) {
    let _ = module!("net", net, 3);
}

#[model]
fn keyword(net: &Mlp) {
    let _ = module!("net", net, lr = 3);
}

fn main() {
    let net = Mlp::new(&[1, 1], Default::default(), Default::default());
    let _n = module!("net", &net);
    let _ = (too_few, too_many, keyword);
}
