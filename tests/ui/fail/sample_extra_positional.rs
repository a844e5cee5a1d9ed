// An extra argument of `sample!` that the user meant to observe.
use pyro::prelude::*;
#[model] fn m(x: f64) { sample!("x", Normal::new(0.0, 1.0), x); }
fn main() { let _ = m; }
