use pyro::prelude::*;

fn not_a_model() {
    let _z = sample!("z", Normal::new(0.0, 1.0));
}

fn main() {
    not_a_model();
}
