use pyro::prelude::*;

#[model]
fn m(data: &[f64], n: usize) {
    let _ = (data, n);
    sample!("z", Normal::new(0.0, 1.0));
}

#[guide(model = m)]
fn g(_data: &[f32], _n: usize) {
    sample!("z", Normal::new(0.0, 1.0));
}

fn main() {
    let _ = (m, g);
}
