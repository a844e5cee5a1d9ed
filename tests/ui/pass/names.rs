//! Names from a `const` or a `concat!` are seen at compile time (rustc evaluates them in the
//! description); `String::from` and `.to_string()` of a literal are that literal.

use pyro::prelude::*;

const SCALE: &str = "scale";
mod names {
    pub const LOC: &str = "loc";
}

#[model]
fn m(x: f64) {
    let s = sample!(SCALE, LogNormal::new(0.0, 1.0));
    let l = sample!(names::LOC, Normal::new(0.0, 1.0));
    let k = sample!(concat!("k", "_", 1), Normal::new(0.0, 1.0));
    let j = sample!(String::from("j"), Normal::new(0.0, 1.0));
    sample!("x".to_string(), Normal::new(l + k + j, s), obs = x);
}

#[guide(model = m)]
fn g(_x: f64) {
    sample!("scale", LogNormal::new(0.0, 1.0));
    sample!(concat!("l", "oc"), Normal::new(0.0, 1.0));
    sample!("k_1", Normal::new(0.0, 1.0));
    sample!("j", Normal::new(0.0, 1.0));
}

fn main() {
    let mut svi = Svi::new(m, g, Adam::new(AdamConfig::default()), TraceElbo::default());
    assert!(svi.step(1.0).unwrap().is_finite());
}
