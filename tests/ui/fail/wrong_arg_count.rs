use pyro::prelude::*;

#[model]
fn m() {
    let _z = sample!("z");
}

fn main() {
    let _ = m;
}
