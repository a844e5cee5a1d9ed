use pyro::prelude::*;

#[model]
fn m() {
    let _p = param!("p", 1.0, constrain = positive);
}

fn main() {
    let _ = m;
}
