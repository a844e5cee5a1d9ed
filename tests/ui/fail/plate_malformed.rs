use pyro::prelude::*;

#[model]
fn m(data: &[f64]) {
    plate!("data", data.len());
}

fn main() {
    let _ = m;
}
