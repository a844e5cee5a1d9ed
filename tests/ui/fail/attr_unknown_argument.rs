use pyro::prelude::*;

#[model(crat = pyro)]
fn m(x: f64) {
    sample!("x", Normal::new(0.0, 1.0), obs = x);
}

#[guide(model = m, strict = true)]
fn g(_x: f64) {}

fn main() {
    let _ = Svi::new(m, g, Adam::new(AdamConfig::default()), TraceElbo::default());
}
