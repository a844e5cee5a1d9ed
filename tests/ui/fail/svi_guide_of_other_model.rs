use pyro::prelude::*;

#[model]
fn m1(x: f64) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    sample!("x", Normal::new(z, 1.0), obs = x);
}

#[model]
fn m2(x: f64) {
    let z = sample!("z", Normal::new(0.0, 2.0));
    sample!("x", Normal::new(z, 1.0), obs = x);
}

#[guide(model = m2)]
fn g2(_x: f64) {
    sample!("z", Normal::new(0.0, 1.0));
}

fn main() {
    let _ = Svi::new(m1, g2, Adam::new(AdamConfig::default()), TraceElbo::default());
}
