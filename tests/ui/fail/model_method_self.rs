use pyro::prelude::*;

struct Vae {
    scale: f64,
}

impl Vae {
    #[model]
    fn model(&self, x: f64) {
        let z = sample!("z", Normal::new(0.0, self.scale));
        sample!("x", Normal::new(z, 1.0), obs = x);
    }
}

fn main() {
    Vae { scale: 1.0 }.model(0.5);
}
