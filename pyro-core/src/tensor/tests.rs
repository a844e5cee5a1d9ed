//! Finite-difference checks of every operation's gradient live in `tests/tensor_grad.rs`; here are
//! the engine's own unit tests.

use super::*;

#[test]
fn scalar_chain_rule() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::from(0.3));
    let y = (&x * 2.0).exp().ln_1p();
    let g = tape.backward(&y).unwrap();
    let e = (0.6f64).exp();
    assert!((g.get(&x).unwrap().item().unwrap() - 2.0 * e / (1.0 + e)).abs() < 1e-12);
}

#[test]
fn broadcast_gradient_is_summed() {
    let tape = Tape::new();
    let a = tape.leaf(Tensor::new(vec![1.0, 2.0, 3.0], &[3, 1]).unwrap());
    let b = tape.leaf(Tensor::new(vec![10.0, 20.0], &[2]).unwrap());
    let y = (&a * &b).sum();
    assert_eq!(y.item().unwrap(), 180.0);
    let g = tape.backward(&y).unwrap();
    assert_eq!(g.get(&a).unwrap().to_vec().unwrap(), vec![30.0, 30.0, 30.0]);
    assert_eq!(g.get(&b).unwrap().to_vec().unwrap(), vec![6.0, 6.0]);
}

#[test]
fn shape_mismatch_poisons_instead_of_panicking() {
    let a = Tensor::from_slice(&[1.0, 2.0, 3.0]);
    let b = Tensor::from_slice(&[1.0, 2.0]);
    let c = (&a + &b).exp().sum();
    let err = c.item().unwrap_err();
    assert!(
        err.to_string().contains("[3]") && err.to_string().contains("[2]"),
        "{err}"
    );
}

#[test]
fn tensors_from_another_tape_are_constants() {
    let t1 = Tape::new();
    let t2 = Tape::new();
    let x = t1.leaf(Tensor::from(2.0));
    let y = t2.leaf(Tensor::from(3.0));
    let z = &x * &y;
    // The first tracked operand's tape records the product; `y` enters it as a constant.
    let g = t1.backward(&z).unwrap();
    assert_eq!(g.get(&x).unwrap().item().unwrap(), 3.0);
    assert!(g.get(&y).is_none());
}
