use pyro::prelude::*;

#[model]
struct NotAFunction;

fn main() {
    let _ = NotAFunction;
}
