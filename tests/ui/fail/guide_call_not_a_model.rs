// A guide that `call!`s a plain function: one error, on the `call!` tokens.
use pyro::prelude::*;
fn helper() {}
#[model] fn m(x: f64) { let z = sample!("z", Normal::new(0.0, 1.0)); sample!("x", Normal::new(z, 1.0), obs = x); }
#[guide(model = m)] fn g(_x: f64) { sample!("z", Normal::new(0.0, 1.0)); call!(helper); }
fn main() { let _ = Svi::new(m, g, Adam::new(AdamConfig::default()), TraceElbo::default()); }
