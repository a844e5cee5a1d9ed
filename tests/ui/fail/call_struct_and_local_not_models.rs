// `call!` of a unit struct and of a local closure that are not models: one error each.
use pyro::prelude::*;
struct Plain;
#[model] fn m(x: f64) { call!(Plain, x); let f = |v: f64| v; call!(f, x); }
fn main() { let _ = m; }
