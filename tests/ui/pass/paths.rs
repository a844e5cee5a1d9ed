//! The site macros written through paths: `pyro::sample!`, `::pyro::param!`, an alias of the
//! crate (`use pyro as p`), `pyro::prelude::plate!`.

use pyro as p;
use pyro::prelude::*;

#[p::model]
fn m(data: &[f64]) {
    let z = p::sample!("z", Normal::new(0.0, 1.0));
    pyro::prelude::plate!("data", data.len(), |idx| {
        let xs: Vec<f64> = idx.iter().map(|&i| data[i]).collect();
        ::pyro::sample!("x", Normal::new(&z, 1.0), obs = xs);
    });
}

#[pyro::guide(model = m)]
fn g(_data: &[f64]) {
    let loc = ::pyro::param!("loc", 0.0);
    let scale = p::param!("scale", 1.0, constraint = positive);
    pyro::sample!("z", Normal::new(loc, scale));
}

fn main() {
    let mut svi = Svi::new(m, g, Adam::new(AdamConfig::default()), TraceElbo::default());
    assert!(svi.step(&[1.0, 2.0][..]).unwrap().is_finite());
    assert!(svi.params().scalar("scale").is_ok());
}
