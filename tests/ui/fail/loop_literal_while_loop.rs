use pyro::prelude::*;

#[model]
fn m(n: usize) {
    let mut i = 0;
    while i < n {
        factor!("penalty", -1.0);
        i += 1;
    }
    loop {
        let z = sample!("z", Normal::new(0.0, 1.0));
        if z.item().unwrap() > 0.0 {
            break;
        }
    }
}

fn main() {}
