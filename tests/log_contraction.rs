//! The log-space contraction (`logsumexp_add`, `log_matmul_exp`): values against the broadcast
//! logsumexp they replace, gradients against central finite differences and against the tape
//! gradient of that broadcast logsumexp, with `-inf` entries (masked states) and with inputs whose
//! separately shifted exponentials underflow.

use pyro::tensor::{Tape, Tensor};

/// Deterministic weights in ±[0.5, 1.5], so that every output element matters differently.
fn weights(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let u = ((i * 7919 + 17) % 97) as f64 / 97.0;
            if i % 3 == 1 {
                -(0.5 + u)
            } else {
                0.5 + u
            }
        })
        .collect()
}

/// Spread deterministic values in `[lo, hi]`.
fn t(shape: &[usize], lo: f64, hi: f64, seed: usize) -> Tensor {
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|i| lo + (hi - lo) * (((i + seed) * 7919 + 13) % 101) as f64 / 100.0)
        .collect();
    Tensor::new(v, shape).unwrap()
}

type Op = dyn Fn(&Tensor, &Tensor) -> Tensor;

fn weighted(f: &Op, a: &Tensor, b: &Tensor) -> f64 {
    // Outputs that are -inf stay -inf when a finite input moves: leave them out.
    let v = f(a, b).to_vec().unwrap();
    v.iter()
        .zip(weights(v.len()))
        .filter(|(x, _)| x.is_finite())
        .map(|(x, w)| x * w)
        .sum()
}

/// Tape gradients of `sum(w * f(a, b))` with respect to `a` and `b`.
fn tape_grads(f: &Op, a: &Tensor, b: &Tensor) -> (Vec<f64>, Vec<f64>) {
    let tape = Tape::new();
    let (la, lb) = (tape.leaf(a.clone()), tape.leaf(b.clone()));
    let out = f(&la, &lb).check().unwrap();
    let w = Tensor::new(weights(out.numel()), out.shape()).unwrap();
    let g = tape.backward(&(&out * &w).sum()).unwrap();
    let get = |x: &Tensor, n: usize| {
        g.get(x)
            .map(|t| t.to_vec().unwrap())
            .unwrap_or_else(|| vec![0.0; n])
    };
    (get(&la, a.numel()), get(&lb, b.numel()))
}

/// Checks the tape gradient against central differences for every finite input entry, and that
/// every gradient is finite (0 at `-inf` entries).
fn check_fd(name: &str, f: &Op, a: &Tensor, b: &Tensor) {
    let (ga, gb) = tape_grads(f, a, b);
    let h = 1e-6;
    for (k, (x, g)) in [(a, &ga), (b, &gb)].into_iter().enumerate() {
        let xv = x.to_vec().unwrap();
        for i in 0..xv.len() {
            assert!(g[i].is_finite(), "{name}: d/d input{k}[{i}] = {}", g[i]);
            if xv[i] == f64::NEG_INFINITY {
                assert_eq!(g[i], 0.0, "{name}: d/d input{k}[{i}] at -inf");
                continue;
            }
            let at = |d: f64| {
                let mut v = xv.clone();
                v[i] += d;
                let moved = Tensor::new(v, x.shape()).unwrap();
                if k == 0 {
                    weighted(f, &moved, b)
                } else {
                    weighted(f, a, &moved)
                }
            };
            let fd = (at(h) - at(-h)) / (2.0 * h);
            let tol = 1e-6 * (1.0 + g[i].abs().max(fd.abs()));
            assert!(
                (g[i] - fd).abs() <= tol,
                "{name}: d/d input{k}[{i}]: tape {}, finite differences {fd}",
                g[i]
            );
        }
    }
}

/// The contraction against the broadcast logsumexp: values to 1e-13 and tape gradients to 1e-12.
fn check_against_naive(name: &str, a: &Tensor, b: &Tensor, dim: isize) {
    let fast = move |x: &Tensor, y: &Tensor| x.logsumexp_add(y, dim, false);
    let slow = move |x: &Tensor, y: &Tensor| (x + y).logsumexp_dim(dim, false);
    let (got, want) = (fast(a, b).to_vec().unwrap(), slow(a, b).to_vec().unwrap());
    assert_eq!(got.len(), want.len(), "{name}");
    for (g, w) in got.iter().zip(&want) {
        if w.is_infinite() {
            assert_eq!(g, w, "{name}");
        } else {
            assert!(
                (g - w).abs() <= 1e-13 * (1.0 + w.abs()),
                "{name}: {g} vs {w}"
            );
        }
    }
    // Where a whole slice is -inf the broadcast logsumexp's gradient is NaN, and the broadcast
    // sums spread it to every entry: compare only where it is defined (the finite differences
    // check the rest).
    let (fa, fb) = tape_grads(&fast, a, b);
    let (sa, sb) = tape_grads(&slow, a, b);
    if sa.iter().chain(&sb).all(|g| g.is_finite()) {
        for (x, y) in fa.iter().zip(&sa).chain(fb.iter().zip(&sb)) {
            assert!(
                (x - y).abs() <= 1e-12 * (1.0 + y.abs()),
                "{name}: {x} vs {y}"
            );
        }
    }
}

#[test]
fn gradients_match_finite_differences_in_every_layout() {
    let cases: &[(&[usize], &[usize], isize)] = &[
        // An HMM step: message [x', 1, s] and transition [x', x, 1], summing x' out.
        (&[3, 1, 4], &[3, 2, 1], 0),
        // The same with the roles of the dims swapped (the enumeration alternates them).
        (&[1, 3, 4], &[2, 3, 1], 1),
        // A batch dim shared by both, and a summed dim that only one input varies along.
        (&[2, 3, 4], &[2, 3, 1], -2),
        (&[2, 1, 4], &[2, 3, 1], -2),
        // Batch innermost: the rows along the other factor's dims are strided.
        (&[1, 4, 5, 2], &[3, 4, 1, 2], 1),
        // Plain vectors, and different ranks.
        (&[5], &[5], 0),
        (&[3, 5], &[5], -1),
    ];
    for (n, &(sa, sb, dim)) in cases.iter().enumerate() {
        let (a, b) = (t(sa, -3.0, 1.0, n), t(sb, -2.0, 0.5, 5 * n + 2));
        let name = format!("logsumexp_add {sa:?} {sb:?} dim {dim}");
        check_fd(&name, &move |x, y| x.logsumexp_add(y, dim, false), &a, &b);
        check_against_naive(&name, &a, &b, dim);
    }
    let (a, b) = (t(&[2, 3, 4], -1.0, 1.0, 1), t(&[4, 5], -2.0, 1.0, 2));
    check_fd(
        "log_matmul_exp, batch broadcast",
        &|x, y| x.log_matmul_exp(y),
        &a,
        &b,
    );
    let direct = a.log_matmul_exp(&b).to_vec().unwrap();
    let via_sum = (&a.unsqueeze(-1) + &b.unsqueeze(0))
        .logsumexp_dim(-2, false)
        .to_vec()
        .unwrap();
    for (x, y) in direct.iter().zip(&via_sum) {
        assert!((x - y).abs() < 1e-13 * (1.0 + y.abs()));
    }
}

#[test]
fn masked_states_give_zero_weight_and_no_nan() {
    let ninf = f64::NEG_INFINITY;
    // Message [x', 1, s]: state 1 masked everywhere, state 2 masked for sequence 0.
    let msg = Tensor::new(
        vec![-1.0, -2.0, -0.5, ninf, ninf, ninf, ninf, -1.5, -3.0],
        &[3, 1, 3],
    )
    .unwrap();
    // Transition [x', x, 1]: from state 0 to state 1 impossible.
    let trans = Tensor::new(vec![-0.1, ninf, -1.2, -0.4, -0.7, -0.8], &[3, 2, 1]).unwrap();
    check_fd("masked", &|x, y| x.logsumexp_add(y, 0, false), &msg, &trans);
    check_against_naive("masked", &msg, &trans, 0);
    // Without outputs that are -inf the broadcast logsumexp's gradient is defined: compare.
    let trans = Tensor::new(vec![-0.1, ninf, -1.2, -0.4, -0.7, -0.8], &[3, 2, 1]).unwrap();
    let msg = Tensor::new(
        vec![-1.0, -2.0, -0.5, ninf, ninf, ninf, -0.2, -1.5, -3.0],
        &[3, 1, 3],
    )
    .unwrap();
    let (ga, gb) = tape_grads(&|x, y| x.logsumexp_add(y, 0, false), &msg, &trans);
    let (na, nb) = tape_grads(&|x, y| (x + y).logsumexp_dim(0, false), &msg, &trans);
    for (x, y) in ga.iter().zip(&na).chain(gb.iter().zip(&nb)) {
        assert!(
            (x - y).abs() <= 1e-12 * (1.0 + y.abs()),
            "masked: {x} vs {y}"
        );
    }

    // Every term -inf for some outputs: those are -inf, with a zero gradient, and no NaN.
    let dead = Tensor::new(vec![ninf, -1.0, ninf, ninf], &[2, 1, 2]).unwrap();
    let from = Tensor::new(vec![-0.3, ninf, ninf, -0.2], &[2, 2, 1]).unwrap();
    let out = dead.logsumexp_add(&from, 0, false).to_vec().unwrap();
    assert_eq!(out[0], ninf);
    assert!((out[1] - (-1.0 - 0.3)).abs() < 1e-15);
    let (ga, gb) = tape_grads(&|x, y| x.logsumexp_add(y, 0, false), &dead, &from);
    assert!(ga.iter().chain(&gb).all(|g| g.is_finite()), "{ga:?} {gb:?}");
    check_against_naive("all -inf", &dead, &from, 0);
}

#[test]
fn separately_shifted_exponentials_that_underflow_are_recomputed_exactly() {
    // a peaks at j = 0 and b at j = 1, 800 apart: exp(a - max a) exp(b - max b) underflows for
    // every j, although the true value is -800 + ln 2.
    let a = Tensor::new(vec![0.0, -800.0, 0.0, -1.0], &[2, 2]).unwrap(); // [i, j]
    let b = Tensor::new(vec![-800.0, -0.5, 0.0, -0.5], &[2, 2]).unwrap(); // [j, k]
    let out = a.log_matmul_exp(&b).to_vec().unwrap();
    assert!((out[0] - (-800.0 + 2f64.ln())).abs() < 1e-12, "{out:?}");
    let naive = (&a.unsqueeze(-1) + &b.unsqueeze(0))
        .logsumexp_dim(1, false)
        .to_vec()
        .unwrap();
    for (x, y) in out.iter().zip(&naive) {
        assert!((x - y).abs() < 1e-13 * (1.0 + y.abs()), "{x} vs {y}");
    }
    // Each of the two terms of out[0, 0] has weight 1/2.
    let tape = Tape::new();
    let (la, lb) = (tape.leaf(a.clone()), tape.leaf(b.clone()));
    let first = la
        .log_matmul_exp(&lb)
        .reshape(&[4])
        .index_by(&Tensor::scalar(0.0));
    let g = tape.backward(&first).unwrap();
    let (ga, gb) = (
        g.get(&la).unwrap().to_vec().unwrap(),
        g.get(&lb).unwrap().to_vec().unwrap(),
    );
    assert!(
        (ga[0] - 0.5).abs() < 1e-12 && (ga[1] - 0.5).abs() < 1e-12,
        "{ga:?}"
    );
    assert!(
        (gb[0] - 0.5).abs() < 1e-12 && (gb[2] - 0.5).abs() < 1e-12,
        "{gb:?}"
    );
    check_fd("underflow", &|x, y| x.log_matmul_exp(y), &a, &b);
}

#[test]
fn shape_errors_are_values_not_panics() {
    let a = Tensor::zeros(&[3, 4]);
    let e = a.logsumexp_add(&Tensor::zeros(&[2, 4]), 0, false);
    assert!(e.error().unwrap().to_string().contains("logsumexp_add"));
    let e = a.log_matmul_exp(&Tensor::zeros(&[3, 2]));
    assert!(e.error().unwrap().to_string().contains("log_matmul_exp"));
    assert!(a.logsumexp_add(&a, 2, false).error().is_some());
}
