use pyro::prelude::*;

// A signature the macro cannot use is the only error: the unit struct is still emitted.
#[model]
async fn m(x: f64) {
    sample!("x", Normal::new(0.0, 1.0), obs = x);
}

#[guide(model = m)]
fn g(_x: f64) {}

fn main() {
    let _ = Svi::new(m, g, Adam::new(AdamConfig::default()), TraceElbo::default());
}
