//! Ordinary input that used to panic, abort or take quadratic memory: each is now a typed error or
//! the right value.

use pyro::handlers::{Context, PlateOpts};
use pyro::prelude::*;
use pyro::tensor::Tape;
use pyro::transforms::{biject_to, Transform};

#[test]
fn a_non_square_lower_cholesky_init_is_a_shape_error() {
    let mut store = pyro::params::ParamStore::new();
    for shape in [&[2usize, 3][..], &[3], &[]] {
        let n = shape.iter().product();
        let init = Tensor::new(vec![1.0; n], shape).unwrap();
        let e = store
            .insert("L", init, constraints::lower_cholesky())
            .unwrap_err()
            .to_string();
        assert!(e.contains("`L`") && e.contains("square"), "{e}");
    }
    let ok = Tensor::new(vec![1.0, 0.0, 0.5, 2.0], &[2, 2]).unwrap();
    store
        .insert("L", ok, constraints::lower_cholesky())
        .unwrap();
    assert!(!constraints::lower_cholesky().check(&Tensor::zeros(&[2, 3])));
}

struct PlateModel {
    size: usize,
    dim: Option<isize>,
}
impl Model for PlateModel {
    type Args<'a> = ();
    type Output = ();
    const NAME: &'static str = "plate_model";
    fn call(&self, ctx: &mut Context, _: ()) {
        let opts = PlateOpts {
            subsample_size: None,
            dim: self.dim,
        };
        ctx.plate("data", self.size, opts, |ctx, _| {
            ctx.sample("x", Normal::new(0.0, 1.0), Some(0.5.into()));
        });
    }
}

struct NoGuide;
impl pyro::infer::GuideFor<PlateModel> for NoGuide {}
impl Model for NoGuide {
    type Args<'a> = ();
    type Output = ();
    const NAME: &'static str = "no_guide";
    fn call(&self, _: &mut Context, _: ()) {}
}

fn loss(size: usize, dim: Option<isize>) -> pyro::Result<f64> {
    let mut svi = Svi::new(
        PlateModel { size, dim },
        NoGuide,
        Adam::new(AdamConfig::default()),
        TraceElbo::default(),
    );
    svi.evaluate_loss(())
}

#[test]
fn plate_dims_out_of_range_are_errors() {
    for d in [isize::MIN, isize::MIN + 1, -65, 0, 3, isize::MAX] {
        let e = loss(3, Some(d)).unwrap_err().to_string();
        assert!(
            e.contains("plate `data`") && e.contains(&d.to_string()),
            "{e}"
        );
    }
    // In range: the right value (3 observations of N(0, 1) at 0.5).
    let want = 3.0 * (0.5 * 0.25 + 0.5 * (2.0 * std::f64::consts::PI).ln());
    for d in [-1, -2, -64] {
        assert!((loss(3, Some(d)).unwrap() - want).abs() < 1e-12);
    }
}

#[test]
fn a_plate_too_large_to_allocate_is_an_error() {
    // 2^59 indices (4 EiB) cannot be allocated anywhere, whatever the overcommit policy.
    let e = loss(1 << 59, None).unwrap_err().to_string();
    assert!(
        e.contains("plate `data`") && e.contains("subsample_size"),
        "{e}"
    );
}

/// The stick-breaking map written out directly (Pyro's formulas), for comparison.
fn stick_breaking(x: &[f64]) -> Vec<f64> {
    let k = x.len() + 1;
    let mut y = Vec::with_capacity(k);
    let mut rest = 1.0;
    for (i, &xi) in x.iter().enumerate() {
        let z = 1.0 / (1.0 + (-(xi - ((k - 1 - i) as f64).ln())).exp());
        y.push(rest * z);
        rest *= 1.0 - z;
    }
    y.push(rest);
    y
}

#[test]
fn the_simplex_transform_is_linear_in_k() {
    let t = biject_to(&constraints::simplex()).unwrap();
    // Small K: the values against the direct formula, and the round trip.
    let x = Tensor::from(vec![0.3, -1.2, 2.0, 0.0]);
    let y = t.forward(&x).to_vec().unwrap();
    for (a, b) in y.iter().zip(stick_breaking(&x.to_vec().unwrap())) {
        assert!((a - b).abs() < 1e-15, "{a} vs {b}");
    }
    let back = t.inverse(&Tensor::from(y.clone())).to_vec().unwrap();
    for (a, b) in back.iter().zip(x.to_vec().unwrap()) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    // K = 200,001: a dense K x K matrix would take 320 GB; linear memory takes a few MB.
    let k = 200_000;
    let x = Tensor::from(
        (0..k)
            .map(|i| ((i % 13) as f64 - 6.0) / 3.0)
            .collect::<Vec<_>>(),
    );
    let y = t.forward(&x);
    assert_eq!(y.shape(), &[k + 1]);
    assert!((y.sum().item().unwrap() - 1.0).abs() < 1e-9);
    let jac = t.log_abs_det_jacobian(&x, &y);
    assert!(jac.item().unwrap().is_finite());
    let back = t.inverse(&y);
    assert_eq!(back.shape(), &[k]);
    // Gradients flow through the cumulative sums.
    let tape = Tape::new();
    let xl = tape.leaf(Tensor::from(vec![0.3, -1.2, 2.0]));
    let yl = t.forward(&xl);
    let w = Tensor::from(vec![1.0, 2.0, 3.0, 4.0]);
    let g = tape.backward(&(&yl * &w).sum()).unwrap();
    let g = g.get(&xl).unwrap().to_vec().unwrap();
    let base: f64 = {
        let y = stick_breaking(&[0.3, -1.2, 2.0]);
        y.iter().zip([1.0, 2.0, 3.0, 4.0]).map(|(a, b)| a * b).sum()
    };
    for (i, gi) in g.iter().enumerate() {
        let mut xp = vec![0.3, -1.2, 2.0];
        xp[i] += 1e-6;
        let yp = stick_breaking(&xp);
        let fp: f64 = yp
            .iter()
            .zip([1.0, 2.0, 3.0, 4.0])
            .map(|(a, b)| a * b)
            .sum();
        let fd = (fp - base) / 1e-6;
        assert!((gi - fd).abs() < 1e-5, "{gi} vs {fd}");
    }
}

#[test]
fn cumsum_and_its_gradient() {
    let x = Tensor::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    assert_eq!(
        x.cumsum(-1).to_vec().unwrap(),
        [1.0, 3.0, 6.0, 4.0, 9.0, 15.0]
    );
    assert_eq!(
        x.cumsum(0).to_vec().unwrap(),
        [1.0, 2.0, 3.0, 5.0, 7.0, 9.0]
    );
    assert_eq!(Tensor::zeros(&[0, 3]).cumsum(0).shape(), &[0, 3]);
    assert!(x.cumsum(2).error().is_some());
    let tape = Tape::new();
    let xl = tape.leaf(x);
    let w = Tensor::new(vec![1.0, 10.0, 100.0, 1.0, 1.0, 1.0], &[2, 3]).unwrap();
    let g = tape.backward(&(xl.cumsum(-1) * w).sum()).unwrap();
    // d/dx_j sum_k w_k cumsum_k = sum_{k >= j} w_k
    assert_eq!(
        g.get(&xl).unwrap().to_vec().unwrap(),
        [111.0, 110.0, 100.0, 3.0, 2.0, 1.0]
    );
}
