use pyro::prelude::*;

#[model]
fn m() {
    let scale = 2.0;
    let _p = param!("p", 1.0, constraint = scale);
}

fn main() {}
