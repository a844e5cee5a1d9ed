//! Argument types are compared by the type checker: an alias of the model's type is the same
//! type, in the guide or in the model.

use pyro::prelude::*;

type Data<'a> = &'a [f64];
type Weights = Vec<f64>;

mod data {
    pub type Rows<'a> = &'a [f64];
}

#[model]
fn m(data: Data<'_>, w: Weights) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    for (i, (&x, &wi)) in data.iter().zip(&w).enumerate() {
        sample!(format!("x_{i}"), Normal::new(&z * wi, 1.0), obs = x);
    }
}

#[guide(model = m)]
fn g(_data: &[f64], _w: Vec<f64>) {
    sample!("z", Normal::new(param!("loc", 0.0), 1.0));
}

#[guide(model = m)]
fn g2(_data: data::Rows<'_>, _w: self::Weights) {
    sample!("z", Normal::new(param!("loc2", 0.0), 1.0));
}

fn main() {
    let mut svi = Svi::new(m, g, Adam::new(AdamConfig::default()), TraceElbo::default());
    assert!(svi.step((&[1.0][..], vec![2.0])).unwrap().is_finite());
    let _ = Svi::new(m, g2, Adam::new(AdamConfig::default()), TraceElbo::default());
}
