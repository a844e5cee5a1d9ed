//! Attributes around the function and on its arguments, and `model = "path"` as a string.
use pyro::prelude::*;

/// The model.
#[model]
/// More docs after the attribute.
#[allow(unused_variables)]
pub fn m(x: f64) {
    let unused = 1;
    let z = sample!("z", Normal::new(0.0, 1.0));
    sample!("x", Normal::new(z, 1.0), obs = x);
}

/// The guide: the lint attribute on its argument applies.
#[guide(model = "m")]
#[inline]
pub fn g(#[allow(unused_variables)] x: f64) {
    sample!("z", Normal::new(0.0, 1.0));
}

fn main() {
    let mut svi = Svi::new(m, g, Adam::new(AdamConfig::default()), TraceElbo::default());
    assert!(svi.step(1.0).unwrap().is_finite());
}
