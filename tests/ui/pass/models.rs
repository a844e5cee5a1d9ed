//! Valid models and guides: loops, branches, dynamic names, parameters, several arguments,
//! sub-models, plates, factor and deterministic sites, enumeration, nested macros.

use pyro::prelude::*;

/// Docs are carried over to the generated value.
#[model]
pub fn looped(data: &[f64]) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("x_{i}"), Normal::new(&z, 1.0), obs = x);
    }
}

#[guide(model = looped)]
pub fn looped_guide(_data: &[f64]) {
    let loc = param!("loc", 0.0);
    let scale = param!("scale", 1.0, constraint = positive);
    // The same parameter read twice is one parameter.
    let again = param!("loc", 0.0);
    let _ = again;
    sample!("z", Normal::new(loc, scale));
}

// The same name in the branches of an if/else and of a match: one site on every path.
#[model]
fn branches(flag: bool, k: usize) {
    let z = if flag {
        sample!("z", Normal::new(0.0, 1.0))
    } else if k > 2 {
        sample!("z", Normal::new(1.0, 1.0))
    } else {
        sample!("z", Normal::new(2.0, 1.0))
    };
    match k {
        0 => {
            sample!("y", Normal::new(&z, 1.0), obs = 0.0);
        }
        1 => {
            sample!("y", Normal::new(&z, 2.0), obs = 0.0);
        }
        _ => {
            sample!("y", Normal::new(&z, 3.0), obs = 0.0);
        }
    }
}

#[guide(model = branches)]
fn branches_guide(flag: bool, _k: usize) {
    if flag {
        sample!("z", Normal::new(param!("a", 0.0), 1.0));
    } else {
        sample!("z", Normal::new(param!("b", 0.0), 1.0));
    }
}

// Several arguments, a return value, constraints written in every way, a param in the model.
#[model]
fn regression(xs: &[f64], ys: &[f64], noise: f64) -> Tensor {
    let w = sample!("w", Normal::new(0.0, 1.0));
    let bias = param!("bias", 0.0);
    let _p = param!("p", 0.5, constraint = interval(0.0, 1.0));
    let _q = param!("q", 3.0, constraint = greater_than(2.0));
    let c = pyro::constraints::positive();
    let _r = param!("r", 1.0, constraint = c);
    for (i, (&x, &y)) in xs.iter().zip(ys).enumerate() {
        let mean = &w * x + &bias;
        sample!(format!("y_{i}"), Normal::new(mean, noise), obs = y);
    }
    w
}

#[guide(model = regression)]
fn regression_guide(_xs: &[f64], _ys: &[f64], _noise: f64) -> Tensor {
    let loc = param!("w_loc", 0.0);
    sample!("w", Normal::new(loc, 1.0))
}

// A sub-model run with call!: the caller's sites are then checked at run time.
#[model]
fn prior(scale: f64) -> Tensor {
    sample!("z", Normal::new(0.0, scale))
}

#[model]
fn with_prior(x: f64) {
    let z = call!(prior, 1.0);
    sample!("x", Normal::new(z, 1.0), obs = x);
}

#[guide(model = with_prior)]
fn with_prior_guide(_x: f64) {
    sample!("z", Normal::new(param!("loc", 0.0), 1.0));
}

// Plates (vectorised, subsampled, sequential), factor, deterministic, enumeration, the site
// macros inside other macros and written with a path.
#[model]
fn plated(data: &[f64]) {
    let z = sample!("z", Normal::new(0.0, 1.0));
    let b = sample!("b", Bernoulli::new(0.5), enumerate);
    let n = data.len();
    let total = plate!("data", n, subsample_size = 2, dim = -1, |idx| {
        let x: Vec<f64> = idx.iter().map(|&i| data[i]).collect();
        sample!("x", Normal::new(&z + Tensor::zeros(&[idx.len()]), 1.0), obs = x);
        idx.len()
    });
    plate!("outer", n, move || {
        let _ = total;
    });
    plate!("seq", n, for i {
        if i == 0 {
            continue;
        }
        pyro::sample!(format!("s_{i}"), Normal::new(&b, 1.0), obs = data[i]);
    });
    factor!("f", -(&z * &z));
    let d = deterministic!("d", &z * 2.0);
    let v = vec![deterministic!("e", &d + 1.0)];
    println!("{:?}", v.len());
}

#[guide(model = plated)]
fn plated_guide(_data: &[f64]) {
    sample!("z", Normal::new(0.0, 1.0));
}

// A model without arguments; user code may use any name, the hidden context's included.
#[model]
fn nothing() -> f64 {
    let __pyro_ctx = 1.0;
    __pyro_ctx
}

fn main() {
    // Models and guides as local items.
    #[model]
    fn local(x: f64) {
        let z = sample!("z", Normal::new(0.0, 1.0));
        sample!("x", Normal::new(z, 1.0), obs = x);
    }
    #[guide(model = local)]
    fn local_guide(_x: f64) {
        sample!("z", Normal::new(0.0, 1.0));
    }
    let _ = Svi::new(local, local_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
    let _ = Svi::new(looped, looped_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
    let _ = Svi::new(branches, branches_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
    let _ = Svi::new(regression, regression_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
    let _ = Svi::new(with_prior, with_prior_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
    let _ = Svi::new(plated, plated_guide, Adam::new(AdamConfig::default()), TraceElbo::default());
    let mut ctx = Context::new(0);
    assert_eq!(nothing.call(&mut ctx, ()), 1.0);
    let _: Tensor = regression.call(&mut ctx, (&[1.0][..], &[2.0][..], 1.0));
    let copy = looped;
    let _ = (copy, format!("{copy:?}"), <prior as Default>::default());
}
