use pyro::prelude::*;

#[model]
fn m(flag: bool) {
    if flag {
        sample!("z", Normal::new(0.0, 1.0));
    }
    sample!("z", Normal::new(1.0, 1.0));
}

fn main() {}
