use pyro::prelude::*;

#[model]
fn m() {
    fn helper() {
        sample!("z", Normal::new(0.0, 1.0));
    }
    helper();
}

fn main() {}
