use pyro::prelude::*;

#[model]
fn m(flag: bool) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    if flag {
        sample!("w", Normal::new(&z, 1.0));
    } else {
        sample!("w", Normal::new(&z, 2.0));
    }
    sample!("z", Normal::new(z, 1.0));
}

fn main() {
    let _ = m;
}
