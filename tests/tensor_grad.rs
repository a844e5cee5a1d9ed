//! Every tensor operation's gradient against central finite differences, special functions
//! against published values, and the tape's reuse and allocation behaviour.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use pyro::tensor::{digamma, erf, lgamma, trigamma, Tape, Tensor};

// ----- allocation counting (per thread, so parallel tests do not interfere) -----------------

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> usize {
    ALLOCS.with(|c| c.get())
}

// ----- the finite-difference checker ----------------------------------------------------------

/// Deterministic weights in ±[0.5, 1.5] so that every output element matters differently.
fn weights(n: usize) -> Vec<f64> {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|i| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            let sign = if i % 3 == 1 { -1.0 } else { 1.0 };
            sign * (0.5 + u)
        })
        .collect()
}

/// `sum(w * f(inputs))` as a plain number, off any tape.
fn weighted(f: &dyn Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) -> f64 {
    let out = f(inputs);
    let v = out
        .to_vec()
        .unwrap_or_else(|e| panic!("forward failed: {e}"));
    v.iter().zip(weights(v.len())).map(|(a, w)| a * w).sum()
}

/// Checks the tape gradient of `sum(w * f(inputs))` with respect to every input against
/// central finite differences.
fn check(name: &str, inputs: &[Tensor], f: impl Fn(&[Tensor]) -> Tensor) {
    let f: &dyn Fn(&[Tensor]) -> Tensor = &f;
    let tape = Tape::new();
    let leaves: Vec<Tensor> = inputs.iter().map(|t| tape.leaf(t.clone())).collect();
    let out = f(&leaves);
    let out = out
        .check()
        .unwrap_or_else(|e| panic!("{name}: forward failed: {e}"));
    let w = Tensor::new(weights(out.numel()), out.shape()).unwrap();
    let loss = (&out * &w).sum();
    let grads = tape
        .backward(&loss)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let h = 1e-6;
    for (k, x) in inputs.iter().enumerate() {
        let tape_g = grads
            .get(&leaves[k])
            .map(|g| g.to_vec().unwrap())
            .unwrap_or_else(|| vec![0.0; x.numel()]);
        assert_eq!(
            tape_g.len(),
            x.numel(),
            "{name}: gradient size of input {k}"
        );
        let xv = x.to_vec().unwrap();
        for i in 0..xv.len() {
            let at = |d: f64| {
                let mut v = xv.clone();
                v[i] += d;
                let mut ins = inputs.to_vec();
                ins[k] = Tensor::new(v, x.shape()).unwrap();
                weighted(f, &ins)
            };
            let fd = (at(h) - at(-h)) / (2.0 * h);
            let tg = tape_g[i];
            let tol = 1e-6 * (1.0 + tg.abs().max(fd.abs()));
            assert!(
                (tg - fd).abs() <= tol,
                "{name}: d/d input{k}[{i}]: tape {tg}, finite differences {fd}"
            );
        }
    }
}

/// Values in `[lo, hi]`, spread and deterministic, in `shape`.
fn t(shape: &[usize], lo: f64, hi: f64) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|i| {
            let u = ((i * 7919 + 13) % 101) as f64 / 100.0;
            lo + (hi - lo) * u
        })
        .collect();
    Tensor::new(v, shape).unwrap()
}

/// Distinct values (no ties), for max and friends.
fn distinct(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|i| ((i * 37 + 11) % n.max(1)) as f64 * 0.37 - 1.3 + 0.001 * i as f64)
        .collect();
    Tensor::new(v, shape).unwrap()
}

// ----- elementwise ------------------------------------------------------------------------------

#[test]
fn binary_ops_with_broadcasting() {
    let a = t(&[3, 1], -2.0, 2.0);
    let b = t(&[4], -1.5, 2.5);
    check("add (3,1)+(4,)", &[a.clone(), b.clone()], |x| &x[0] + &x[1]);
    check("sub (3,1)-(4,)", &[a.clone(), b.clone()], |x| &x[0] - &x[1]);
    check("mul (3,1)*(4,)", &[a.clone(), b.clone()], |x| &x[0] * &x[1]);
    let pos = t(&[2, 3], 0.5, 3.0);
    check(
        "div (3,1)/(2,1,4)",
        &[a.clone(), t(&[2, 1, 4], 0.5, 2.0)],
        |x| &x[0] / &x[1],
    );
    check(
        "div (2,3)/(3,)",
        &[t(&[2, 3], -1.0, 1.0), t(&[3], 1.0, 2.0)],
        |x| &x[0] / &x[1],
    );
    check(
        "mul scalar*(2,3)",
        &[Tensor::scalar(1.7), pos.clone()],
        |x| &x[0] * &x[1],
    );
    check(
        "add (2,1,3)+(4,1)",
        &[t(&[2, 1, 3], -1.0, 1.0), t(&[4, 1], 0.0, 1.0)],
        |x| &x[0] + &x[1],
    );
    check("pow (2,3)^(3,)", &[pos.clone(), t(&[3], -1.5, 2.5)], |x| {
        x[0].pow(&x[1])
    });
    check(
        "pow scalar^scalar",
        &[Tensor::scalar(1.3), Tensor::scalar(2.2)],
        |x| x[0].pow(&x[1]),
    );
    check("powf", std::slice::from_ref(&pos), |x| x[0].powf(-0.7));
    check(
        "maximum",
        &[t(&[2, 3], -1.0, 1.0), t(&[3], -0.55, 0.45)],
        |x| x[0].maximum(&x[1]),
    );
    check(
        "minimum",
        &[t(&[2, 3], -1.0, 1.0), t(&[3], -0.55, 0.45)],
        |x| x[0].minimum(&x[1]),
    );
    check(
        "scalar ops",
        &[Tensor::scalar(0.4), Tensor::scalar(-1.3)],
        |x| (&x[0] * &x[1] + &x[0] / &x[1] - x[1].exp()) * 2.0,
    );
}

type UnaryCase = (&'static str, Tensor, fn(&Tensor) -> Tensor);

#[test]
fn unary_ops() {
    let any = t(&[2, 5], -3.0, 3.0);
    let pos = t(&[2, 5], 0.05, 6.0);
    let cases: Vec<UnaryCase> = vec![
        ("neg", any.clone(), |x| -x),
        ("exp", any.clone(), Tensor::exp),
        ("log", pos.clone(), Tensor::log),
        ("log1p", t(&[2, 5], -0.9, 3.0), Tensor::log1p),
        ("expm1", any.clone(), Tensor::expm1),
        ("sqrt", pos.clone(), Tensor::sqrt),
        ("abs", t(&[2, 5], -3.01, 2.99), Tensor::abs),
        ("square", any.clone(), Tensor::square),
        ("recip", pos.clone(), Tensor::recip),
        ("sigmoid", any.clone(), Tensor::sigmoid),
        ("log_sigmoid", t(&[2, 5], -30.0, 30.0), Tensor::log_sigmoid),
        ("softplus", t(&[2, 5], -30.0, 30.0), Tensor::softplus),
        ("tanh", any.clone(), Tensor::tanh),
        ("relu", t(&[2, 5], -3.01, 2.99), Tensor::relu),
        ("lgamma", pos.clone(), Tensor::lgamma),
        ("digamma", pos.clone(), Tensor::digamma),
        ("erf", any.clone(), Tensor::erf),
        ("sin", any.clone(), Tensor::sin),
        ("cos", any.clone(), Tensor::cos),
        ("logit", t(&[2, 5], 0.05, 0.95), Tensor::logit),
        ("clamp", t(&[2, 5], -3.01, 2.99), |x| x.clamp(-1.0, 1.5)),
    ];
    for (name, x, f) in cases {
        check(name, std::slice::from_ref(&x), |v| f(&v[0]));
        // 0-d input through the scalar fast path.
        let s = Tensor::scalar(x.to_vec().unwrap()[3]);
        check(&format!("{name} (0-d)"), &[s], |v| f(&v[0]));
    }
}

#[test]
fn where_and_masks() {
    let a = t(&[2, 3], -1.0, 1.0);
    let b = t(&[3], 2.0, 3.0);
    let mask = Tensor::new(vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0], &[2, 3]).unwrap();
    check("where_", &[a.clone(), b.clone()], |x| {
        Tensor::where_(&mask, &x[0], &x[1])
    });
    check("where_ with mask from gt", &[a.clone(), b.clone()], |x| {
        Tensor::where_(&x[0].gt(&Tensor::scalar(0.0)), &x[0], &x[1])
    });
    // A non-finite value in the branch not taken must not leak into the value or the gradient.
    let tape = Tape::new();
    let x = tape.leaf(Tensor::from_slice(&[0.0, 2.0]));
    let m = x.gt(&Tensor::scalar(0.0));
    let y = Tensor::where_(&m, &x.ln(), &Tensor::scalar(-5.0));
    assert_eq!(y.to_vec().unwrap(), vec![-5.0, 2f64.ln()]);
    let g = tape.backward(&y.sum()).unwrap();
    assert_eq!(g.get(&x).unwrap().to_vec().unwrap(), vec![0.0, 0.5]);
    // Masks.
    let p = Tensor::from_slice(&[1.0, 2.0, 3.0]);
    let q = Tensor::scalar(2.0);
    assert_eq!(p.gt(&q).to_vec().unwrap(), vec![0.0, 0.0, 1.0]);
    assert_eq!(p.ge(&q).to_vec().unwrap(), vec![0.0, 1.0, 1.0]);
    assert_eq!(p.lt(&q).to_vec().unwrap(), vec![1.0, 0.0, 0.0]);
    assert_eq!(p.le(&q).to_vec().unwrap(), vec![1.0, 1.0, 0.0]);
    assert_eq!(p.eq_mask(&q).to_vec().unwrap(), vec![0.0, 1.0, 0.0]);
}

// ----- reductions ------------------------------------------------------------------------------

#[test]
fn reductions_over_all_and_each_dim() {
    let x = distinct(&[2, 3, 4]);
    check("sum", std::slice::from_ref(&x), |v| v[0].sum());
    check("mean", std::slice::from_ref(&x), |v| v[0].mean());
    check("max", std::slice::from_ref(&x), |v| v[0].max());
    check("logsumexp", std::slice::from_ref(&x), |v| v[0].logsumexp());
    for dim in [-3isize, -2, -1, 0, 1, 2] {
        for keep in [false, true] {
            let tag = format!("dim {dim} keepdim {keep}");
            check(&format!("sum_dim {tag}"), std::slice::from_ref(&x), |v| {
                v[0].sum_dim(dim, keep)
            });
            check(&format!("mean_dim {tag}"), std::slice::from_ref(&x), |v| {
                v[0].mean_dim(dim, keep)
            });
            check(&format!("max_dim {tag}"), std::slice::from_ref(&x), |v| {
                v[0].max_dim(dim, keep)
            });
            check(
                &format!("logsumexp_dim {tag}"),
                std::slice::from_ref(&x),
                |v| v[0].logsumexp_dim(dim, keep),
            );
        }
        check(&format!("softmax {dim}"), std::slice::from_ref(&x), |v| {
            v[0].softmax(dim)
        });
        check(
            &format!("log_softmax {dim}"),
            std::slice::from_ref(&x),
            |v| v[0].log_softmax(dim),
        );
    }
    // Shapes of keepdim.
    assert_eq!(x.sum_dim(1, true).shape(), &[2, 1, 4]);
    assert_eq!(x.sum_dim(-1, false).shape(), &[2, 3]);
    assert!(x.sum_dim(3, false).error().is_some());
    // A 0-d tensor reduces to itself.
    check("sum 0-d", &[Tensor::scalar(0.7)], |v| v[0].sum());
    check("logsumexp 0-d", &[Tensor::scalar(0.7)], |v| {
        v[0].logsumexp()
    });
    // logsumexp is stable.
    let big = Tensor::from_slice(&[1000.0, 1000.0]);
    assert!((big.logsumexp().item().unwrap() - (1000.0 + 2f64.ln())).abs() < 1e-9);
}

// ----- fused log-densities -------------------------------------------------------------------

/// The log-densities recorded as one tape node (`distributions::fused`), in every argument, with
/// scalar, equal and broadcast shapes.
#[test]
fn fused_log_densities() {
    use pyro::distributions::{Bernoulli, Beta, Distribution, Normal};
    let shapes: [(&[usize], &[usize], &[usize]); 4] = [
        (&[], &[], &[]),
        (&[5], &[5], &[5]),
        (&[], &[3, 1], &[4]),
        (&[3, 4], &[], &[4]),
    ];
    for (sa, sb, sx) in shapes {
        let case = format!("{sa:?} {sb:?} {sx:?}");
        check(
            &format!("Normal log_prob {case}"),
            &[t(sa, -1.0, 1.0), t(sb, 0.5, 2.0), t(sx, -2.0, 2.0)],
            |x| Normal::new(&x[0], &x[1]).unwrap().log_prob(&x[2]),
        );
        check(
            &format!("Beta log_prob {case}"),
            &[t(sa, 0.5, 3.0), t(sb, 1.5, 4.0), t(sx, 0.1, 0.9)],
            |x| Beta::new(&x[0], &x[1]).unwrap().log_prob(&x[2]),
        );
        let y = t(sx, 0.0, 1.0).map_const(f64::round);
        check(
            &format!("Bernoulli logits log_prob {case}"),
            &[t(sa, -3.0, 3.0)],
            |x| Bernoulli::from_logits(&x[0]).unwrap().log_prob(&y),
        );
        check(
            &format!("Bernoulli probs log_prob {case}"),
            &[t(sa, 0.1, 0.9)],
            |x| Bernoulli::new(&x[0]).unwrap().log_prob(&y),
        );
    }
    // Outside the support: -inf and no gradient.
    let tape = Tape::new();
    let a = tape.leaf(Tensor::from(2.0));
    let lp = Beta::new(&a, 3.0)
        .unwrap()
        .log_prob(&Tensor::from(vec![0.0, 0.5, 1.0]));
    let v = lp.to_vec().unwrap();
    assert_eq!((v[0], v[2]), (f64::NEG_INFINITY, f64::NEG_INFINITY));
    let g = tape
        .backward(&lp.sum())
        .unwrap()
        .get(&a)
        .unwrap()
        .item()
        .unwrap();
    // Only x = 0.5 contributes: ln x - digamma(a) + digamma(a + b).
    let want = 0.5f64.ln() - digamma(2.0) + digamma(5.0);
    assert!((g - want).abs() < 1e-12, "{g} vs {want}");
}

// ----- single precision -----------------------------------------------------------------------

/// An `f32` design matrix times an `f64` vector (the matrix-vector kernels, summed in `f64`)
/// against the `f64` path on the same (rounded) values, and its gradient against finite
/// differences; other operations widen `f32` tensors.
#[test]
fn f32_data_matches_the_f64_path() {
    use pyro::tensor::DType;
    for rows in [1, 7, 37] {
        let x64 = t(&[rows, 20], -1.0, 1.0)
            .to_dtype(DType::F32)
            .to_dtype(DType::F64);
        let x32 = x64.to_dtype(DType::F32);
        assert_eq!(x32.dtype(), DType::F32);
        let w0 = t(&[20], -0.5, 1.5);
        let tape = Tape::new();
        let w = tape.leaf(w0.clone());
        let (y64, y32) = (x64.matmul(&w), x32.matmul(&w));
        assert_eq!(y32.shape(), y64.shape());
        for (a, b) in y32.to_vec().unwrap().iter().zip(y64.to_vec().unwrap()) {
            assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{a} vs {b}");
        }
        let g = Tensor::new(weights(rows), &[rows]).unwrap();
        let grads = tape.backward(&(&y32 * &g).sum()).unwrap();
        let g32 = grads.get(&w).unwrap().to_vec().unwrap();
        let grads = tape.backward(&(&y64 * &g).sum()).unwrap();
        let g64 = grads.get(&w).unwrap().to_vec().unwrap();
        for (a, b) in g32.iter().zip(&g64) {
            assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{a} vs {b}");
        }
        let xc = x32.clone();
        check(&format!("f32 matmul {rows}x20"), &[w0], move |v| {
            xc.matmul(&v[0])
        });
    }
    // Any other operation sees the values widened.
    let x = Tensor::from_f32(vec![0.5, -2.0], &[2]).unwrap();
    assert_eq!(
        x.exp().to_vec().unwrap(),
        vec![0.5f64.exp(), (-2.0f64).exp()]
    );
    assert_eq!(x.sum().item().unwrap(), -1.5);
}

// ----- linear algebra --------------------------------------------------------------------------

#[test]
fn matmul_all_shapes() {
    let cases: Vec<(&[usize], &[usize])> = vec![
        (&[3, 4], &[4, 5]),
        (&[4], &[4, 5]),
        (&[3, 4], &[4]),
        (&[4], &[4]),
        (&[2, 3, 4], &[4, 5]),
        (&[3, 4], &[2, 4, 5]),
        (&[2, 3, 4], &[2, 4, 5]),
        (&[10, 20], &[20, 8]),   // through matrixmultiply
        (&[2, 9, 12], &[12, 7]), // batched, through matrixmultiply
        (&[9, 12], &[3, 12, 7]),
        (&[40, 20], &[20]), // matrix-vector, no packing; backward through A^T g
        (&[40, 20], &[20, 1]),
        (&[3, 40, 20], &[20]),
        (&[30], &[30, 40]),
    ];
    for (sa, sb) in cases {
        let a = t(sa, -1.0, 1.0);
        let b = t(sb, -1.0, 1.5);
        check(&format!("matmul {sa:?} @ {sb:?}"), &[a, b], |x| {
            x[0].matmul(&x[1])
        });
    }
    // Values.
    let a = Tensor::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
    let b = Tensor::from_rows(&[vec![5.0, 6.0], vec![7.0, 8.0]]).unwrap();
    assert_eq!(a.matmul(&b).to_vec().unwrap(), vec![19.0, 22.0, 43.0, 50.0]);
    assert!(a
        .matmul(&Tensor::from_slice(&[1.0, 2.0, 3.0]))
        .error()
        .is_some());
}

#[test]
fn transpose_and_permute() {
    check("transpose 2-d", &[t(&[3, 4], -1.0, 1.0)], |x| {
        x[0].transpose()
    });
    check("transpose 3-d", &[t(&[2, 3, 4], -1.0, 1.0)], |x| x[0].t());
    check("permute", &[t(&[2, 3, 4], -1.0, 1.0)], |x| {
        x[0].permute(&[2, 0, 1])
    });
    check("transpose_dims", &[t(&[2, 3, 4], -1.0, 1.0)], |x| {
        x[0].transpose_dims(0, 2)
    });
    let a = Tensor::new((0..6).map(f64::from).collect(), &[2, 3]).unwrap();
    assert_eq!(
        a.transpose().to_vec().unwrap(),
        vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    );
    let p = Tensor::new((0..24).map(f64::from).collect(), &[2, 3, 4])
        .unwrap()
        .permute(&[2, 0, 1]);
    assert_eq!(p.shape(), &[4, 2, 3]);
    // p[i, j, k] = x[j, k, i] = 12 j + 4 k + i; at (1, 1, 2): 12 + 8 + 1.
    let v = p.to_vec().unwrap();
    assert_eq!(v[(2 + 1) * 3 + 2], 21.0);
    assert!(a.permute(&[0, 0]).error().is_some());
    assert!(a.permute(&[0]).error().is_some());
}

// ----- shapes and indexing ---------------------------------------------------------------------

#[test]
fn shape_ops() {
    let x = t(&[2, 3, 4], -1.0, 1.0);
    check("reshape", std::slice::from_ref(&x), |v| {
        v[0].reshape(&[6, 4])
    });
    check("unsqueeze/squeeze", std::slice::from_ref(&x), |v| {
        v[0].unsqueeze(1)
            .mul(&t(&[2, 1, 3, 4], 0.5, 1.0))
            .squeeze(1)
    });
    check(
        "broadcast_to (3,1)->(2,3,4)",
        &[t(&[3, 1], -1.0, 1.0)],
        |v| v[0].broadcast_to(&[2, 3, 4]),
    );
    check("broadcast_to 0-d->(3,)", &[Tensor::scalar(0.3)], |v| {
        v[0].broadcast_to(&[3])
    });
    check("broadcast_to (4,)->(3,4)", &[t(&[4], -1.0, 1.0)], |v| {
        v[0].broadcast_to(&[3, 4])
    });
    // The suspect: a 0-d tensor broadcast to [3] has three values.
    let b = Tensor::scalar(2.0).broadcast_to(&[3]);
    assert_eq!(b.shape(), &[3]);
    assert_eq!(b.to_vec().unwrap(), vec![2.0, 2.0, 2.0]);
    let b = Tensor::from_slice(&[1.0]).broadcast_to(&[2, 2]);
    assert_eq!(b.to_vec().unwrap(), vec![1.0; 4]);
    let b = Tensor::new(vec![1.0, 2.0], &[2, 1])
        .unwrap()
        .broadcast_to(&[2, 3]);
    assert_eq!(b.to_vec().unwrap(), vec![1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    assert!(t(&[3], 0.0, 1.0).broadcast_to(&[4]).error().is_some());
    assert!(t(&[3, 4], 0.0, 1.0).broadcast_to(&[4]).error().is_some());
    assert!(x.reshape(&[5]).error().is_some());
}

#[test]
fn indexing_ops() {
    let x = t(&[3, 4], -1.0, 1.0);
    for dim in [0isize, 1, -1] {
        check(
            &format!("index_select dim {dim}"),
            std::slice::from_ref(&x),
            |v| v[0].index_select(dim, &[2, 0, 2]),
        );
        check(
            &format!("narrow dim {dim}"),
            std::slice::from_ref(&x),
            |v| v[0].narrow(dim, 1, 2),
        );
    }
    let idx0 = Tensor::new(vec![2.0, 0.0, 1.0, 1.0, 0.0, 0.0, 2.0, 2.0], &[2, 4]).unwrap();
    check("gather dim 0", std::slice::from_ref(&x), |v| {
        v[0].gather(0, &idx0)
    });
    let idx1 = Tensor::new(vec![3.0, 3.0, 0.0, 1.0, 2.0, 1.0], &[3, 2]).unwrap();
    check("gather dim 1", std::slice::from_ref(&x), |v| {
        v[0].gather(1, &idx1)
    });
    check("get", std::slice::from_ref(&x), |v| v[0].get(1));
    let y = t(&[3, 2], 0.0, 2.0);
    let z = t(&[2, 4], 0.0, 2.0);
    check("concat dim 1", &[x.clone(), y.clone()], |v| {
        Tensor::concat(&[v[0].clone(), v[1].clone(), v[0].clone()], 1)
    });
    check("concat dim 0", &[x.clone(), z.clone()], |v| {
        Tensor::concat(&[v[0].clone(), v[1].clone()], 0)
    });
    for dim in [0isize, 1, 2, -1] {
        check(&format!("stack dim {dim}"), &[x.clone(), x.exp()], |v| {
            Tensor::stack(&[v[0].clone(), v[1].clone()], dim)
        });
    }
    check(
        "stack scalars",
        &[Tensor::scalar(1.0), Tensor::scalar(2.0)],
        |v| Tensor::stack(&[v[0].clone(), v[1].clone(), v[0].clone()], 0),
    );
    // Errors, not panics.
    assert!(x.index_select(0, &[3]).error().is_some());
    assert!(x.narrow(1, 3, 2).error().is_some());
    assert!(x
        .gather(0, &Tensor::new(vec![3.0; 4], &[1, 4]).unwrap())
        .error()
        .is_some());
    assert!(Tensor::concat(&[x.clone(), y.clone()], 0).error().is_some());
    assert!(Tensor::stack(&[x.clone(), y], 0).error().is_some());
    assert!(Tensor::concat(&[], 0).error().is_some());
}

#[test]
fn composite_graph_with_reuse() {
    // A node used several times accumulates its gradient.
    check(
        "composite",
        &[t(&[3, 2], -1.0, 1.0), t(&[2], 0.5, 1.5)],
        |x| {
            let h = x[0].matmul(&x[1]).tanh();
            let s = (&h * &h).sum_dim(0, true) + h.logsumexp();
            s * x[1].sum() + x[0].sigmoid().mean()
        },
    );
}

// ----- special functions -----------------------------------------------------------------------

fn close(got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs(),
        "got {got}, want {want}"
    );
}

#[test]
fn special_functions_match_published_values() {
    close(lgamma(0.5), 0.572_364_942_924_700_1, 1e-12);
    close(lgamma(1000.0), 5_905.220_423_209_181, 1e-12);
    close(digamma(1.0), -0.577_215_664_901_532_9, 1e-12);
    close(digamma(0.1), -10.423_754_940_411_076, 1e-12);
    close(trigamma(1.0), 1.644_934_066_848_226_4, 1e-12);
    close(trigamma(0.1), 101.433_299_150_792_76, 1e-12);
    close(erf(0.5), 0.520_499_877_813_046_5, 1e-12);
    assert_eq!(lgamma(1.0), 0.0);
    // Through tensors.
    let x = Tensor::from_slice(&[0.5, 1000.0]);
    let v = x.lgamma().to_vec().unwrap();
    close(v[0], 0.572_364_942_924_700_1, 1e-12);
    close(v[1], 5_905.220_423_209_181, 1e-12);
    // digamma's gradient is trigamma.
    let tape = Tape::new();
    let z = tape.leaf(Tensor::from(0.1));
    let g = tape.backward(&z.digamma()).unwrap();
    close(
        g.get(&z).unwrap().item().unwrap(),
        101.433_299_150_792_76,
        1e-12,
    );
}

// ----- the tape ----------------------------------------------------------------------------------

#[test]
fn tape_is_cleared_and_reused() {
    let mut storage = pyro::tensor::TapeStorage::default();
    let mut lens = Vec::new();
    for step in 0..3 {
        let tape = Tape::from_storage(storage);
        assert!(tape.is_empty(), "a recycled tape starts empty");
        let x = tape.leaf(Tensor::from(1.0 + step as f64));
        let y = (&x * &x).exp().ln();
        let g = tape.backward(&y).unwrap();
        assert!((g.get(&x).unwrap().item().unwrap() - 2.0 * (1.0 + step as f64)).abs() < 1e-12);
        lens.push(tape.len());
        drop((x, y, g));
        storage = tape.recycle();
    }
    assert_eq!(lens, vec![lens[0]; 3]);
    // If a tracked tensor outlives the step, recycling does not clear it from under it.
    let tape = Tape::from_storage(storage);
    let x = tape.leaf(Tensor::from(2.0));
    let y = &x * 3.0;
    let _storage = tape.clone().recycle();
    let g = tape.backward(&y).unwrap();
    assert_eq!(g.get(&x).unwrap().item().unwrap(), 3.0);
}

#[test]
fn scalar_ops_do_not_allocate() {
    // Warm up: a tape whose storage has capacity.
    let tape = Tape::new();
    {
        let x = tape.leaf(Tensor::from(0.5));
        let mut y = x.clone();
        for _ in 0..64 {
            y = (&y * 1.01).sin() + 0.1;
        }
        let _ = tape.backward(&y).unwrap();
    }
    let tape = Tape::from_storage(tape.recycle());
    let x = tape.leaf(Tensor::from(0.5));
    let before = allocs();
    let w = Tensor::scalar(0.3);
    let mut y = x.clone();
    for _ in 0..10 {
        y = (&y * &w + 1.0).exp().ln_1p().lgamma() - y.sigmoid().ln() + y.square().sum();
    }
    let during = allocs() - before;
    assert_eq!(during, 0, "0-d forward ops allocated {during} times");
    let s = Tensor::scalar(2.0) * Tensor::scalar(3.0);
    assert!(s.shape().is_empty() && s.item().unwrap() == 6.0);
    let before = allocs();
    let g = tape.backward(&y).unwrap();
    let during = allocs() - before;
    assert!(
        during <= 2,
        "backward over 0-d ops allocated {during} times"
    );
    assert!(g.get(&x).unwrap().item().unwrap().is_finite());
}

#[test]
fn errors_propagate_and_backward_checks_root() {
    let tape = Tape::new();
    let x = tape.leaf(t(&[3], 0.0, 1.0));
    assert!(tape.backward(&x).is_err(), "non-scalar root");
    let bad = &x + &t(&[2], 0.0, 1.0);
    assert!(tape.backward(&bad.sum()).is_err());
    // A root that is not on the tape gives empty gradients, not an error.
    let g = tape.backward(&Tensor::scalar(1.0)).unwrap();
    assert!(g.get(&x).is_none());
}
