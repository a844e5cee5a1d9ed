use pyro::prelude::*;

#[model]
fn m(data: &[f64]) {
    plate!("seq", data.len(), for i {
        sample!("x", Normal::new(0.0, 1.0), obs = data[i]);
    });
    markov!(for t in 0..data.len() {
        deterministic!("h", data[t]);
    });
}

fn main() {}
