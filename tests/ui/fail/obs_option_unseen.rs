use pyro::prelude::*;

fn lookup(data: &[f64], i: usize) -> Option<f64> {
    data.get(i).copied()
}

// An `Option` the macro cannot see as one (the return value of a function): the message says
// how to declare it.
#[model]
fn m(data: &[f64]) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    let y = lookup(data, 3);
    sample!("y", Normal::new(z, 1.0), obs = y);
}

fn main() {
    let _ = m;
}
