//! Alternatives are not duplicates: the same site in both arms of `if let` with a struct
//! pattern, of a `match`, of `let .. else`, and after an early `return`.

use pyro::prelude::*;

#[derive(Clone, Copy)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[model]
fn if_let_struct(p: Option<Point>) {
    if let Some(Point { x, .. }) = p {
        sample!("z", Normal::new(x, 1.0));
    } else {
        sample!("z", Normal::new(0.0, 1.0));
    }
}

#[guide(model = if_let_struct)]
fn if_let_struct_guide(_p: Option<Point>) {
    sample!("z", Normal::new(0.0, 1.0));
}

#[model]
fn early_return(flag: bool) -> Tensor {
    if flag {
        let z = sample!("z", Normal::new(0.0, 1.0));
        return z;
    }
    let z = sample!("z", Normal::new(1.0, 1.0));
    sample!("x", Normal::new(&z, 1.0), obs = 0.0);
    z
}

#[guide(model = early_return)]
fn early_return_guide(flag: bool) -> Tensor {
    match flag {
        true => sample!("z", Normal::new(0.0, 1.0)),
        false => sample!("z", Normal::new(1.0, 1.0)),
    }
}

#[model]
fn let_else(p: Option<Point>) {
    let Some(Point { y, .. }) = p else {
        sample!("w", Normal::new(0.0, 1.0));
        return;
    };
    sample!("w", Normal::new(y, 1.0));
}

#[guide(model = let_else)]
fn let_else_guide(_p: Option<Point>) {
    sample!("w", Normal::new(0.0, 1.0));
}

#[model]
fn nested_match(k: u8, flag: bool) {
    match (k, flag) {
        (0, true) => {
            sample!("a", Normal::new(0.0, 1.0));
        }
        (0, false) => {
            if k == 0 {
                sample!("a", Normal::new(1.0, 1.0));
            } else {
                sample!("a", Normal::new(2.0, 1.0));
            }
        }
        _ if flag => return,
        _ => {
            sample!("a", Normal::new(3.0, 1.0));
        }
    }
    sample!("b", Normal::new(0.0, 1.0));
}

#[guide(model = nested_match)]
fn nested_match_guide(_k: u8, _flag: bool) {
    sample!("a", Normal::new(0.0, 1.0));
    sample!("b", Normal::new(0.0, 1.0));
}

fn main() {
    let adam = || Adam::new(AdamConfig::default());
    let mut svi = Svi::new(if_let_struct, if_let_struct_guide, adam(), TraceElbo::default());
    assert!(svi.step(Some(Point { x: 1.0, y: 2.0 })).unwrap().is_finite());
    assert!(svi.step(None).unwrap().is_finite());
    let mut svi = Svi::new(early_return, early_return_guide, adam(), TraceElbo::default());
    assert!(svi.step(true).unwrap().is_finite());
    assert!(svi.step(false).unwrap().is_finite());
    let mut svi = Svi::new(let_else, let_else_guide, adam(), TraceElbo::default());
    assert!(svi.step(None).unwrap().is_finite());
    let mut svi = Svi::new(nested_match, nested_match_guide, adam(), TraceElbo::default());
    assert!(svi.step((0, true)).unwrap().is_finite());
}
