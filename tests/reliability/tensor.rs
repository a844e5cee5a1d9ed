//! Tensor shapes, unsafe kernels and reductions over empty dimensions.

use pyro::tensor::{checked_numel, numel, Tape, Tensor, MAX_NUMEL};

/// The shape of issue #10: its element count wraps to 0 in unchecked arithmetic.
const WRAPPING: [usize; 3] = [65536, 3, 1 << 48];

#[test]
fn element_counts_are_checked() {
    assert_eq!(65536usize.wrapping_mul(3).wrapping_mul(1 << 48), 0);
    assert_eq!(checked_numel(&WRAPPING), None);
    assert_eq!(numel(&WRAPPING), usize::MAX);
    assert_eq!(checked_numel(&[2, 3, 4]), Some(24));
    assert_eq!(checked_numel(&[]), Some(1));
    assert_eq!(checked_numel(&[MAX_NUMEL]), Some(MAX_NUMEL));
    assert_eq!(checked_numel(&[MAX_NUMEL, 2]), None);
    // A zero dimension does not excuse an overflowing rest: kernels take partial products.
    assert_eq!(checked_numel(&[0, 1 << 62, 1 << 62]), None);
    assert_eq!(checked_numel(&[0, 1 << 20]), Some(0));
}

#[test]
fn a_wrapping_shape_is_refused_by_every_constructor() {
    let e = Tensor::new(vec![], &WRAPPING).unwrap_err().to_string();
    assert!(e.contains("Tensor::new") && e.contains("65536"), "{e}");
    for t in [
        Tensor::zeros(&WRAPPING),
        Tensor::full(&WRAPPING, 1.0),
        Tensor::from(vec![1.0, 2.0]).reshape(&WRAPPING),
        Tensor::scalar(1.0).broadcast_to(&WRAPPING),
    ] {
        assert!(t.error().is_some(), "{t:?}");
    }
    // The matmul that segfaulted in release, now reached only through a poisoned tensor.
    let x = Tensor::new(vec![], &WRAPPING).unwrap_or_else(|_| Tensor::zeros(&WRAPPING));
    let y = x.matmul(&Tensor::ones(&[1 << 48, 2]));
    assert!(y.error().is_some());
}

/// 2^59 values (4 EiB): a valid shape that no allocator can serve (beyond any address space),
/// whatever the operating system's overcommit policy. Tests must never ask for sizes that might
/// succeed: the pages would then be written.
const UNALLOCATABLE: usize = 1 << 59;

#[test]
fn broadcasts_too_large_to_exist_or_allocate_are_errors() {
    // 2^40 x 2^40 overflows: a shape error before any allocation.
    let e = pyro::tensor::broadcast_shapes(&[1 << 40, 1], &[1, 1 << 40]).unwrap_err();
    assert!(e.to_string().contains("broadcast"), "{e}");
    // Valid shapes whose memory cannot be had: errors, not aborts.
    let e = Tensor::zeros(&[UNALLOCATABLE]);
    let e = e.error().expect("4 EiB cannot be allocated").to_string();
    assert!(e.contains("Tensor::full"), "{e}");
    assert!(Tensor::full(&[UNALLOCATABLE, 1], 2.0).error().is_some());
    assert!(Tensor::eye(1 << 30).error().is_some());
    assert!(Tensor::linspace(0.0, 1.0, UNALLOCATABLE).error().is_some());
    let one = Tensor::scalar(1.0);
    assert!(one.broadcast_to(&[UNALLOCATABLE]).error().is_some());
    // A binary op whose broadcast output cannot be allocated, from two tiny inputs.
    let col = one.broadcast_to(&[2, 1]);
    let big = col.add(&Tensor::zeros(&[0]).reshape(&[0])); // [2, 0]: fine, empty
    assert_eq!(big.shape(), &[2, 0]);
    let empty = Tensor::where_(&one, &one, &Tensor::zeros(&[0]));
    assert_eq!(empty.shape(), &[0]);
}

#[test]
fn valid_matmuls_are_unchanged() {
    // Through the blocked kernel (m k n > 512) and the small loops, batched and not.
    let a = Tensor::new((0..60).map(|i| i as f64).collect(), &[6, 10]).unwrap();
    let b = Tensor::new((0..120).map(|i| (i % 7) as f64).collect(), &[10, 12]).unwrap();
    let c = a.matmul(&b).to_vec().unwrap();
    let (av, bv) = (a.to_vec().unwrap(), b.to_vec().unwrap());
    for i in 0..6 {
        for j in 0..12 {
            let want: f64 = (0..10).map(|l| av[i * 10 + l] * bv[l * 12 + j]).sum();
            assert_eq!(c[i * 12 + j], want);
        }
    }
    let batched = Tensor::stack(&[a.clone(), a.clone()], 0).matmul(&b);
    assert_eq!(batched.shape(), &[2, 6, 12]);
    assert_eq!(&batched.to_vec().unwrap()[72..], &c[..]);
}

#[test]
fn narrow_and_get_with_huge_offsets_are_errors() {
    let t = Tensor::from(vec![1.0, 2.0, 3.0]);
    for r in [
        t.narrow(0, usize::MAX, 1),
        t.narrow(0, 1, usize::MAX),
        t.narrow(0, usize::MAX, usize::MAX),
        t.get(usize::MAX),
        t.get(3),
    ] {
        let e = r.error().expect("out of range").to_string();
        assert!(e.contains("narrow"), "{e}");
    }
    assert_eq!(t.get(2).item().unwrap(), 3.0);
    assert_eq!(t.narrow(0, 3, 0).shape(), &[0]);
}

#[test]
fn index_select_and_concat_of_large_index_lists() {
    // An output of 2^59 rows cannot be allocated: the index list is long, the source tiny.
    let t = Tensor::from(vec![1.0, 2.0]).reshape(&[1, 2]);
    let rows = t.broadcast_to(&[1 << 20, 2]);
    let e = rows.narrow(0, 0, 1).index_select(1, &vec![0; 1 << 20]);
    assert_eq!(e.shape(), &[1, 1 << 20]);
    let x = Tensor::from(vec![1.0, 2.0]);
    assert_eq!(
        Tensor::concat(&[x.clone(), x.clone()], 0).to_vec().unwrap(),
        vec![1.0, 2.0, 1.0, 2.0]
    );
}

#[test]
fn reductions_over_an_empty_dimension() {
    let x = Tensor::zeros(&[0, 3]);
    // Sum over nothing is 0, in the right shape.
    let s = x.sum_dim(0, false);
    assert_eq!(s.shape(), &[3]);
    assert_eq!(s.to_vec().unwrap(), vec![0.0; 3]);
    assert_eq!(x.sum_dim(0, true).shape(), &[1, 3]);
    assert_eq!(x.sum().item().unwrap(), 0.0);
    // Reducing the non-empty dimension of an empty tensor gives an empty result.
    assert_eq!(x.sum_dim(1, false).shape(), &[0]);
    assert_eq!(x.max_dim(1, false).shape(), &[0]);
    assert_eq!(x.mean_dim(1, false).shape(), &[0]);
    // log of an empty sum is -inf.
    let l = x.logsumexp_dim(0, false).to_vec().unwrap();
    assert_eq!(l, vec![f64::NEG_INFINITY; 3]);
    let l = Tensor::zeros(&[3, 0])
        .logsumexp_dim(1, false)
        .to_vec()
        .unwrap();
    assert_eq!(l, vec![f64::NEG_INFINITY; 3]);
    let l = Tensor::zeros(&[2, 0, 3]).logsumexp_dim(1, false);
    assert_eq!(l.to_vec().unwrap(), vec![f64::NEG_INFINITY; 6]);
    // Mean and max of nothing are undefined: errors that say so.
    for (r, op) in [
        (x.mean_dim(0, false), "mean_dim"),
        (x.max_dim(0, false), "max_dim"),
        (x.mean(), "mean"),
        (x.max(), "max"),
        (Tensor::zeros(&[0]).mean(), "mean"),
    ] {
        let e = r.error().expect("undefined").to_string();
        assert!(
            e.contains(op) && e.contains("empty") || e.contains("no elements"),
            "{e}"
        );
    }
}

#[test]
fn backward_through_empty_reductions() {
    let tape = Tape::new();
    let x = tape.leaf(Tensor::zeros(&[0, 3]));
    let w = tape.leaf(Tensor::from(vec![1.0, 2.0, 3.0]));
    let y = (x.sum_dim(0, false) + &w).sum() + x.logsumexp_dim(1, false).sum();
    let g = tape.backward(&y).unwrap();
    assert_eq!(g.get(&x).unwrap().shape(), &[0, 3]);
    assert_eq!(g.get(&w).unwrap().to_vec().unwrap(), vec![1.0; 3]);
    // An empty minibatch: the sum of its log-densities is 0 and its gradient empty.
    let z = tape.leaf(Tensor::zeros(&[0]));
    let lp = (&z * &z).sum();
    let g = tape.backward(&lp).unwrap();
    assert_eq!(g.get(&z).map(|t| t.numel()).unwrap_or(0), 0);
}
