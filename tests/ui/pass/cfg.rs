//! `#[cfg]` is respected: a site that is compiled out is not required of the guide, and a site
//! present under one configuration and absent under another is not a duplicate.

use pyro::prelude::*;

#[model]
fn m(x: f64) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    #[cfg(any())]
    sample!("off", Normal::new(0.0, 1.0));
    #[cfg(any())]
    let _w = sample!("z", Normal::new(0.0, 1.0));
    #[cfg(all())]
    {
        sample!("x", Normal::new(&z, 1.0), obs = x);
    }
    #[cfg(not(all()))]
    {
        sample!("x", Normal::new(&z, 2.0), obs = x);
    }
}

#[guide(model = m)]
fn g(_x: f64) {
    sample!("z", Normal::new(0.0, 1.0));
    #[cfg(any())]
    sample!("absent_from_the_model", Normal::new(0.0, 1.0));
}

fn main() {
    let mut svi = Svi::new(m, g, Adam::new(AdamConfig::default()), TraceElbo::default());
    assert!(svi.step(1.0).unwrap().is_finite());
}
