//! Guides before their model, and models in other modules addressed by path.

use pyro::prelude::*;

#[guide(model = later)]
fn early_guide(_x: f64) {
    sample!("z", Normal::new(param!("loc", 0.0), 1.0));
}

#[model]
fn later(x: f64) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    sample!("x", Normal::new(z, 1.0), obs = x);
}

mod models {
    use pyro::prelude::*;

    #[model]
    pub fn coin(data: &[f64]) {
        let f = sample!("fairness", Normal::new(0.5, 0.1));
        for (i, &x) in data.iter().enumerate() {
            sample!(format!("obs_{i}"), Normal::new(&f, 1.0), obs = x);
        }
    }

    pub mod guides {
        use pyro::prelude::*;

        #[guide(model = super::coin)]
        pub fn coin_guide(_data: &[f64]) {
            sample!("fairness", Normal::new(param!("loc", 0.5), 0.1));
        }
    }
}

mod guides {
    use pyro::prelude::*;

    #[guide(model = crate::models::coin)]
    pub fn coin_guide2(_data: &'_ [f64]) {
        sample!("fairness", Normal::new(param!("loc", 0.5), 0.1));
    }

    // Before the model it guides, in the same module.
    #[guide(model = local)]
    pub fn local_guide(_data: &[f64]) {
        sample!("w", Normal::new(0.0, 1.0));
    }

    #[model]
    pub fn local<'a>(data: &'a [f64]) {
        sample!("w", Normal::new(0.0, 1.0));
        let _ = data;
    }
}

// Through a glob import of the parent module.
mod glob {
    use super::*;

    #[guide(model = later)]
    pub fn glob_guide(_x: f64) {
        sample!("z", Normal::new(0.0, 1.0));
    }
}

fn main() {
    let _ = Svi::new(later, glob::glob_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
    let a = Adam::new(AdamConfig::default());
    let _ = Svi::new(later, early_guide, a, TraceElbo::default());
    let _ = Svi::new(models::coin, models::guides::coin_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
    let _ = Svi::new(models::coin, guides::coin_guide2, Adam::new(AdamConfig::default()), TraceElbo::default());
    let _ = Svi::new(guides::local, guides::local_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
}
