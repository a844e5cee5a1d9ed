use pyro::prelude::*;

#[model]
fn m(data: &[f64]) {
    plate!("data", data.len(), subsample = 10, |_idx| {
        sample!("x", Normal::new(0.0, 1.0));
    });
}

fn main() {
    let _ = m;
}
