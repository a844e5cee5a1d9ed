//! A local variable shadows a built-in constraint name, as in Rust; a `macro_rules! call`
//! defined in the body is the user's, not this crate's.

use pyro::prelude::*;

#[model]
fn m() -> Tensor {
    let positive = constraints::greater_than(1.0);
    // The local `positive` (values above 1), not the built-in one.
    param!("s", 2.0, constraint = positive)
}

#[model]
fn with_own_call(x: f64) {
    macro_rules! call {
        ($e:expr) => {
            $e * 2.0
        };
    }
    let twice = call!(x);
    sample!("x", Normal::new(0.0, 1.0), obs = twice);
}

fn main() {
    let mut ctx = Context::new(0);
    let s = m.call(&mut ctx, ());
    assert_eq!(s.item().unwrap(), 2.0);
    let c = ctx.params().constraint("s").unwrap();
    assert_eq!(c, &constraints::greater_than(1.0));
    let mut ctx = Context::new(0);
    with_own_call.call(&mut ctx, 1.5);
    assert!(ctx.take_error().is_none());
}
