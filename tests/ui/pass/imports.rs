//! The model is found like any path: through `use`, `use .. as ..`, `super::`, `crate::`, and
//! a glob import.

use pyro::prelude::*;

mod models {
    use pyro::prelude::*;

    #[model]
    pub fn m(x: f64) {
        let z = sample!("z", Normal::new(0.0, 1.0));
        sample!("x", Normal::new(z, 1.0), obs = x);
    }

    pub mod nested {
        use pyro::prelude::*;

        #[guide(model = super::m)]
        pub fn through_super(_x: f64) {
            sample!("z", Normal::new(param!("a", 0.0), 1.0));
        }
    }
}

mod by_use {
    use crate::models::m;
    use pyro::prelude::*;

    #[guide(model = m)]
    pub fn g(_x: f64) {
        sample!("z", Normal::new(param!("b", 0.0), 1.0));
    }
}

mod by_rename {
    use crate::models::m as other;
    use pyro::prelude::*;

    #[guide(model = other)]
    pub fn g(_x: f64) {
        sample!("z", Normal::new(param!("c", 0.0), 1.0));
    }
}

mod by_glob {
    use crate::models::*;
    use pyro::prelude::*;

    #[guide(model = m)]
    pub fn g(_x: f64) {
        sample!("z", Normal::new(param!("d", 0.0), 1.0));
    }
}

#[guide(model = crate::models::m)]
fn by_crate(_x: f64) {
    sample!("z", Normal::new(param!("e", 0.0), 1.0));
}

fn main() {
    let adam = || Adam::new(AdamConfig::default());
    let mut svi = Svi::new(models::m, by_use::g, adam(), TraceElbo::default());
    assert!(svi.step(1.0).unwrap().is_finite());
    let _ = Svi::new(models::m, by_rename::g, adam(), TraceElbo::default());
    let _ = Svi::new(models::m, by_glob::g, adam(), TraceElbo::default());
    let _ = Svi::new(models::m, by_crate, adam(), TraceElbo::default());
    let _ = Svi::new(models::m, models::nested::through_super, adam(), TraceElbo::default());
}
