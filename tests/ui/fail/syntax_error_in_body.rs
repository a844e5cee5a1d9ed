use pyro::prelude::*;

#[model]
fn m(x: f64) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    let y = ;
    sample!("x", Normal::new(z, 1.0), obs = x);
}

#[guide(model = m)]
fn g(_x: f64) {
    sample!("z", Normal::new(0.0, 1.0));
}

fn main() {
    let _ = Svi::new(m, g, Adam::new(AdamConfig::default()), TraceElbo::default());
}
