use pyro::prelude::*;

fn main() {
    let _loc = param!("loc", 0.0);
}
