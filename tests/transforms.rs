//! Bijections onto every constraint: round trips, log |det J| against finite-difference Jacobians,
//! shapes, and the parameter store with each constraint.

use pyro::constraints::{self, Constraint};
use pyro::params::ParamStore;
use pyro::tensor::Tensor;
use pyro::transforms::{biject_to, constrained_shape, unconstrained_shape, Transform};

fn all() -> Vec<(Constraint, Vec<usize>)> {
    vec![
        (constraints::real(), vec![3]),
        (constraints::real_vector(), vec![2, 3]),
        (constraints::positive(), vec![3]),
        (constraints::unit_interval(), vec![3]),
        (constraints::interval(-2.0, 5.0), vec![3]),
        (constraints::greater_than(1.5), vec![3]),
        (constraints::less_than(-0.5), vec![3]),
        (constraints::simplex(), vec![4]),
        (constraints::simplex(), vec![2, 3]),
        (constraints::lower_cholesky(), vec![3, 3]),
    ]
}

/// Unconstrained values of `shape`, deterministic.
fn u(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| ((i * 5 + 2) % 7) as f64 * 0.4 - 1.2)
        .collect();
    Tensor::new(v, shape).unwrap()
}

#[test]
fn round_trips() {
    for (c, cshape) in all() {
        let t = biject_to(&c).unwrap();
        let ushape = unconstrained_shape(&c, &cshape).unwrap();
        assert_eq!(
            constrained_shape(&c, &ushape).unwrap().as_slice(),
            &cshape[..]
        );
        let x = u(&ushape);
        let y = t.forward(&x).check().unwrap();
        assert_eq!(y.shape(), &cshape[..], "{c:?}");
        assert!(c.check(&y), "{c:?}: forward leaves the support: {y:?}");
        let x2 = t.inverse(&y).check().unwrap();
        let y2 = t.forward(&x2).check().unwrap();
        for (a, b) in y.to_vec().unwrap().iter().zip(y2.to_vec().unwrap()) {
            assert!(
                (a - b).abs() < 1e-12,
                "{c:?}: forward(inverse(y)) = {b}, y = {a}"
            );
        }
        if !matches!(c, Constraint::LowerCholesky) {
            for (a, b) in x.to_vec().unwrap().iter().zip(x2.to_vec().unwrap()) {
                assert!(
                    (a - b).abs() < 1e-9,
                    "{c:?}: inverse(forward(x)) = {b}, x = {a}"
                );
            }
        }
    }
}

/// ln |det| of a square matrix by Gaussian elimination with partial pivoting.
fn log_abs_det(mut m: Vec<Vec<f64>>) -> f64 {
    let n = m.len();
    let mut acc = 0.0;
    for c in 0..n {
        let p = (c..n)
            .max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs()))
            .unwrap();
        m.swap(c, p);
        let piv = m[c][c];
        acc += piv.abs().ln();
        for r in c + 1..n {
            let f = m[r][c] / piv;
            let pivot_row = m[c].clone();
            for (dst, src) in m[r].iter_mut().zip(&pivot_row).skip(c) {
                *dst -= f * src;
            }
        }
    }
    acc
}

/// Checks log |det J| of one event (the whole tensor) against the finite-difference Jacobian of
/// the flattened map, restricted to `free` input and `out` output coordinates.
fn check_ladj(c: &Constraint, ushape: &[usize], free: &[usize], out: &[usize]) {
    let t = biject_to(c).unwrap();
    let x = u(ushape);
    let y = t.forward(&x);
    let ladj = t.log_abs_det_jacobian(&x, &y).sum().item().unwrap();
    let xv = x.to_vec().unwrap();
    let h = 1e-6;
    let mut jac = vec![vec![0.0; free.len()]; out.len()];
    for (col, &i) in free.iter().enumerate() {
        let at = |d: f64| {
            let mut v = xv.clone();
            v[i] += d;
            t.forward(&Tensor::new(v, ushape).unwrap())
                .to_vec()
                .unwrap()
        };
        let (p, m) = (at(h), at(-h));
        for (row, &o) in out.iter().enumerate() {
            jac[row][col] = (p[o] - m[o]) / (2.0 * h);
        }
    }
    let fd = log_abs_det(jac);
    assert!(
        (ladj - fd).abs() < 1e-6 * (1.0 + fd.abs()),
        "{c:?}: log|det J| {ladj}, finite differences {fd}"
    );
}

#[test]
fn log_abs_det_jacobian_matches_finite_differences() {
    // Elementwise: the Jacobian is diagonal; check each element as a 1-d map.
    for c in [
        constraints::real(),
        constraints::positive(),
        constraints::unit_interval(),
        constraints::interval(-2.0, 5.0),
        constraints::greater_than(1.5),
        constraints::less_than(-0.5),
    ] {
        let t = biject_to(&c).unwrap();
        assert_eq!(t.event_dim(), 0);
        let x = u(&[4]);
        let y = t.forward(&x);
        let l = t.log_abs_det_jacobian(&x, &y);
        assert_eq!(l.shape(), &[4]);
        check_ladj(&c, &[4], &[0, 1, 2, 3], &[0, 1, 2, 3]);
    }
    check_ladj(&constraints::real_vector(), &[3], &[0, 1, 2], &[0, 1, 2]);
    // Simplex: K - 1 inputs to the first K - 1 outputs (the last is determined by them).
    for k in [2usize, 3, 5] {
        let free: Vec<usize> = (0..k - 1).collect();
        check_ladj(&constraints::simplex(), &[k - 1], &free, &free);
    }
    // Lower Cholesky: the n (n + 1) / 2 entries on or below the diagonal.
    let n = 3;
    let tril: Vec<usize> = (0..n)
        .flat_map(|i| (0..=i).map(move |j| i * n + j))
        .collect();
    check_ladj(&constraints::lower_cholesky(), &[n, n], &tril, &tril);
}

#[test]
fn batched_log_abs_det_jacobian_has_batch_shape() {
    let t = biject_to(&constraints::simplex()).unwrap();
    let x = u(&[5, 3]);
    let y = t.forward(&x);
    assert_eq!(y.shape(), &[5, 4]);
    assert_eq!(t.log_abs_det_jacobian(&x, &y).shape(), &[5]);
    let t = biject_to(&constraints::lower_cholesky()).unwrap();
    let x = u(&[2, 3, 3]);
    let y = t.forward(&x);
    assert_eq!(t.log_abs_det_jacobian(&x, &y).shape(), &[2]);
    let t = biject_to(&constraints::real_vector()).unwrap();
    assert_eq!(t.log_abs_det_jacobian(&x, &x).shape(), &[2, 3]);
}

#[test]
fn errors_instead_of_panics() {
    assert!(biject_to(&constraints::boolean()).is_err());
    assert!(biject_to(&constraints::nonnegative_integer()).is_err());
    assert!(biject_to(&constraints::interval(2.0, 1.0)).is_err());
    assert!(biject_to(&constraints::interval(0.0, f64::INFINITY)).is_err());
    let s = biject_to(&constraints::simplex()).unwrap();
    assert!(s.forward(&Tensor::scalar(1.0)).error().is_some());
    let l = biject_to(&constraints::lower_cholesky()).unwrap();
    assert!(l.forward(&u(&[2, 3])).error().is_some());
    assert!(l.inverse(&u(&[3])).error().is_some());
    assert!(unconstrained_shape(&constraints::simplex(), &[]).is_err());
}

#[test]
fn param_store_with_every_constraint() {
    let values: Vec<(Constraint, Tensor)> = vec![
        (constraints::real(), Tensor::from_slice(&[-1.0, 2.0])),
        (constraints::real_vector(), Tensor::from_slice(&[-1.0, 2.0])),
        (constraints::positive(), Tensor::from_slice(&[0.5, 2.0])),
        (
            constraints::unit_interval(),
            Tensor::from_slice(&[0.25, 0.9]),
        ),
        (
            constraints::interval(-2.0, 5.0),
            Tensor::from_slice(&[-1.0, 4.0]),
        ),
        (
            constraints::greater_than(1.5),
            Tensor::from_slice(&[2.0, 7.0]),
        ),
        (
            constraints::less_than(-0.5),
            Tensor::from_slice(&[-1.0, -9.0]),
        ),
        (constraints::simplex(), Tensor::from_slice(&[0.2, 0.3, 0.5])),
        (
            constraints::lower_cholesky(),
            Tensor::from_rows(&[vec![2.0, 0.0], vec![-0.5, 0.3]]).unwrap(),
        ),
    ];
    let mut store = ParamStore::new();
    for (k, (c, v)) in values.iter().enumerate() {
        let name = format!("p{k}");
        store.insert(&name, v.clone(), c.clone()).unwrap();
        let got = store.get(&name).unwrap();
        assert_eq!(got.shape(), v.shape(), "{c:?}");
        for (a, b) in got.to_vec().unwrap().iter().zip(v.to_vec().unwrap()) {
            assert!((a - b).abs() < 1e-12, "{c:?}: stored {b}, read back {a}");
        }
        let un = store.unconstrained(&name).unwrap();
        let want = unconstrained_shape(c, v.shape()).unwrap();
        assert_eq!(un.shape(), want.as_slice());
    }
    // Values outside the support are refused.
    assert!(store
        .insert("bad", Tensor::from(-1.0), constraints::positive())
        .is_err());
    assert!(store
        .insert(
            "bad",
            Tensor::from_slice(&[0.5, 0.6]),
            constraints::simplex()
        )
        .is_err());
}
