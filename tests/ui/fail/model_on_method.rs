// A #[model] on a method: one error, and the method is kept so that its callers add none.
use pyro::prelude::*;
struct S;
impl S { #[model] fn m(&self, x: f64) { sample!("x", Normal::new(0.0, 1.0), obs = x); } }
fn main() {
    S.m(1.0);
}
