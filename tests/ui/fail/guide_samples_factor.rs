use pyro::prelude::*;

#[model]
fn m() {
    let z = sample!("z", Normal::new(0.0, 1.0));
    factor!("penalty", -(&z * &z));
    deterministic!("z2", &z * &z);
}

#[guide(model = m)]
fn g() {
    sample!("z", Normal::new(0.0, 1.0));
    sample!("penalty", Normal::new(0.0, 1.0));
}

#[guide(model = m)]
fn g2() {
    sample!("z", Normal::new(0.0, 1.0));
    sample!("z2", Normal::new(0.0, 1.0));
}

fn main() {}
