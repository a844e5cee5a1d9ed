use pyro::prelude::*;

#[model]
fn m(data: &[f64]) {
    let _ = data;
    sample!("z", Normal::new(0.0, 1.0));
}

#[guide(model = m)]
fn g() {
    sample!("z", Normal::new(0.0, 1.0));
}

fn main() {
    let _ = (m, g);
}
