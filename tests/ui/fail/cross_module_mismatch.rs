use pyro::prelude::*;

mod models {
    use pyro::prelude::*;

    #[model]
    pub fn m(x: f64) {
        let z = sample!("z", Normal::new(0.0, 1.0));
        let w = sample!("w", Normal::new(0.0, 1.0));
        sample!("x", Normal::new(z + w, 1.0), obs = x);
    }
}

#[guide(model = models::m)]
fn g(_x: f64) {
    sample!("z", Normal::new(0.0, 1.0));
    sample!("v", Normal::new(0.0, 1.0));
}

fn main() {
    let _ = Svi::new(models::m, g, Adam::new(AdamConfig::default()), TraceElbo::default());
}
